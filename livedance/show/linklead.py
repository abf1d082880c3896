"""Leading an Ableton Link session: the show's beats become the session's.

An output of the show loop (`livedance.show.outputs.Output`) for ``--link --link-lead``: each
pass, the moves that started since the last pass are handed to the Link session
(`livedance.control.link.LinkSession.lead_beat`) with their time and tempo, so every peer's beat
and tempo follow the dance, taps and nudges included.
"""

from __future__ import annotations

from livedance.control.link import LinkSession
from livedance.show.outputs import Output
from livedance.show.timeline import Timeline


class LinkLead(Output):
    """Puts the session's beat on each of the show's beats as it passes.

    Args:
        session: the Link session (its follow mode is turned off).
        timeline: the dance whose move starts are the beats.
    """

    def __init__(self, session: LinkSession, timeline: Timeline) -> None:
        self.session, self.timeline = session, timeline
        session.following = False
        self._until_s: float | None = None
        self.beats_led = 0

    def tick(self, now_s: float) -> None:
        after = now_s - 1e-3 if self._until_s is None else self._until_s
        for a in self.timeline.announcements(after, now_s):
            if a.bpm > 0:
                self.session.lead_beat(a.index, a.at_s, a.bpm)
                self.beats_led += 1
        self._until_s = now_s
