"""Ableton Link: share the tempo and beat phase with the DJ's software on the local network.

DESIGN.md's "OSC control" arrow, for Link (LinkPython-extern, the ``stage`` extra; chosen over
aalink by ``benchmarks/bench_link.py``: its beat is 0.13 ms from a reference peer's, aalink's
1.1 ms, at a fifth of the CPU, and its API is synchronous, as the show's threads are).

- Follow (``--link``): once a frame `LinkSession.poll` reads the session; each new beat of it
  becomes the operator's own commands, a tap at the beat's time with the session's tempo, so the
  beat clock locks to the session as it would to a tapping operator. With start/stop sync
  (``--link-start-stop``), beats count only while the session plays.
- Lead (``--link --link-lead``): `LinkLead`, an output of the show, sets the session's tempo to
  the show's and puts the session's beat on the show's beats (quantum ``--link-quantum``).

Link's clock is the system's monotonic clock in microseconds; the show's clock is read beside it
each time, so beat times convert between the two even when the show's clock (a sound card's)
runs at its own rate.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from livedance.clock import Clock
from livedance.control.commands import MAX_BPM, MIN_BPM, Command, SetTempo, Tap
from livedance.errors import LivedanceError

log = logging.getLogger(__name__)


def _link_module() -> Any:
    try:
        import link
    except ImportError:
        raise LivedanceError(
            "--link: LinkPython-extern is not installed (pip install 'livedance[stage]')"
        ) from None
    return link


class LinkSession:
    """This show as a Link peer.

    Args:
        clock: the show's clock.
        quantum: beats per bar for phase alignment (4: a 4/4 bar).
        start_stop: follow the session's start and stop (beats only while it plays).
        bpm: the tempo proposed when this show starts a session alone.

    Raises:
        LivedanceError: LinkPython-extern is not installed.
    """

    def __init__(
        self, clock: Clock, *, quantum: float = 4.0, start_stop: bool = False, bpm: float = 120.0
    ) -> None:
        link = _link_module()
        self.clock, self.quantum, self.start_stop = clock, float(quantum), start_stop
        self.link = link.Link(float(bpm))
        self.link.startStopSyncEnabled = start_stop
        self.link.enabled = True
        self._link_clock = self.link.clock()
        self.following = True
        self.last_beat: int | None = None
        self.beats = 0

    # ----------------------------------------------------------------------------- time
    def offset_s(self) -> float:
        """Show time minus Link time (s), read side by side now."""
        a = self.clock.now()
        link_s = self._link_clock.micros() / 1e6
        b = self.clock.now()
        return (a + b) / 2 - link_s

    def link_us(self, show_s: float) -> int:
        """A show time on Link's clock (microseconds)."""
        return round((show_s - self.offset_s()) * 1e6)

    # ----------------------------------------------------------------------------- reading
    @property
    def peers(self) -> int:
        return int(self.link.numPeers())

    @property
    def tempo(self) -> float:
        return float(self.link.captureAppSessionState().tempo())

    @property
    def status(self) -> str:
        """For the HUD: peers and the session's tempo."""
        peers = self.peers
        return f"link {peers} peer{'s' if peers != 1 else ''} {self.tempo:.1f} bpm"

    def poll(self) -> list[Command]:
        """The session's new beat as a tap with its tempo (follow mode; once a frame)."""
        if not self.following:
            return []
        state = self.link.captureAppSessionState()
        now_us = self._link_clock.micros()
        if self.start_stop and not state.isPlaying():
            self.last_beat = None
            return []
        beat = state.beatAtTime(now_us, self.quantum)
        index = math.floor(beat)
        if index == self.last_beat or beat < 0:
            return []
        self.last_beat = index
        self.beats += 1
        beat_show_s = state.timeAtBeat(float(index), self.quantum) / 1e6 + self.offset_s()
        bpm = float(state.tempo())
        commands: list[Command] = []
        if MIN_BPM <= bpm <= MAX_BPM:
            commands.append(SetTempo(bpm))
        commands.append(Tap(beat_show_s))
        return commands

    # ----------------------------------------------------------------------------- leading
    def lead_beat(self, beat_index: int, at_show_s: float, bpm: float) -> None:
        """Make the show's ``beat_index``-th beat, at show time ``at_show_s``, the session's."""
        state = self.link.captureAppSessionState()
        at_us = self.link_us(at_show_s)
        if MIN_BPM <= bpm <= MAX_BPM:
            state.setTempo(float(bpm), at_us)
        state.forceBeatAtTime(float(beat_index), at_us, self.quantum)
        self.link.commitAppSessionState(state)

    def close(self) -> None:
        self.link.enabled = False


def wait_for_peers(session: LinkSession, peers: int, timeout_s: float) -> bool:
    """Wait until ``peers`` other peers are in the session (discovery takes about a second)."""
    deadline = time.monotonic() + timeout_s
    while session.peers < peers:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
