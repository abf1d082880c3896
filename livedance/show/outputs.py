"""Where a show goes: the window, the recording, the OSC beat output (and outputs still to come).

The show loop (`livedance.show.loop`) hands every output the same things in the same order: a
`tick` each pass of the loop with the show time (for outputs that run ahead of the picture, such
as OSC beats), and each frame once it is final (blackout and freeze applied) with whether it was
on time and the HUD to draw, if the HUD is on. An output that shows or records frames decides
what to do with a late one; `close` ends it at the show's last slot.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from livedance.control.osc_out import OscOut
from livedance.show.audiotap import InputAudioTap
from livedance.show.hud import HudInfo
from livedance.show.recorder import VideoRecorder
from livedance.show.timeline import Timeline
from livedance.show.window import KeyEvent, Window

log = logging.getLogger(__name__)


ANNOUNCE_LOOKAHEAD_S = 0.5
"""Beats are handed to the OSC scheduler this far ahead of the clock."""

ANNOUNCE_LATE_S = 0.05
"""A beat already this far past when its move appears is not announced (never sent late)."""


@dataclass(frozen=True)
class ShowFrame:
    """One display slot's final frame.

    Attributes:
        slot: display slot (shown at ``slot / fps`` s of show time).
        image: BGR frame as the audience sees it (blackout and freeze applied), without HUD;
            read-only (outputs may keep it for another thread: draw on a copy).
        on_time: shown at its moment (False: rendered, but its moment had passed).
        pose: the pose in the image (held in freeze; None in blackout or when unknown), for
            outputs that cut the dancer out of the frame (`livedance.show.matte`).
    """

    slot: int
    image: npt.NDArray[np.uint8]
    on_time: bool
    pose: npt.NDArray[np.float32] | None = None


class Output:
    """An output of the show; each method does nothing unless the output needs it."""

    def tick(self, now_s: float) -> None:
        """A pass of the show loop at show time ``now_s``."""

    def frame(self, frame: ShowFrame, hud: HudInfo | None) -> KeyEvent | None:
        """A final frame (``hud``: the HUD to draw over it, None when hidden).

        Returns:
            A key the operator pressed, if the output has a keyboard.
        """
        return None

    def close(self, end_slot: int, *, stopped_early: bool) -> None:
        """The show ended after slot ``end_slot - 1`` (early: stopped by the operator)."""

    def abort(self) -> None:
        """The show never started (something else failed): release what was opened."""
        self.close(0, stopped_early=True)


class WindowOutput(Output):
    """The stage window: on-time frames with the HUD; keys q/Esc, space, h, f.

    Args:
        window: the open window.
    """

    def __init__(self, window: Window) -> None:
        self.window = window

    def frame(self, frame: ShowFrame, hud: HudInfo | None) -> KeyEvent | None:
        if not frame.on_time:  # its moment has passed: showing it would lag
            return None
        image = frame.image
        if hud is not None:
            from livedance.show.hud import draw_hud

            image = draw_hud(image.copy(), hud)
        return self.window.show_and_keys(image)

    def close(self, end_slot: int, *, stopped_early: bool) -> None:
        self.window.close()


class RecorderOutput(Output):
    """The show into a video file: every rendered frame at its slot, the sound muxed in at the end.

    Slots never rendered repeat the frame before (the file keeps the show's timeline); the file
    holds exactly the show's slots.

    Args:
        recorder: the open recorder (with the song's audio already, for a file).
        tap: the line-in copied as the sound (live), or None.
        fps: display frame rate.
    """

    def __init__(
        self, recorder: VideoRecorder, *, tap: InputAudioTap | None = None, fps: float = 30.0
    ) -> None:
        self.recorder, self.tap, self.fps = recorder, tap, float(fps)

    @property
    def path(self) -> Path:
        return self.recorder.path

    @property
    def frames_written(self) -> int:
        return self.recorder.frames_written

    def frame(self, frame: ShowFrame, hud: HudInfo | None) -> KeyEvent | None:
        self.recorder.write_slot(frame.slot, frame.image)
        if self.tap is not None:
            self.tap.pull(self.tap.start_s + (frame.slot + 1) / self.fps)
        return None

    def close(self, end_slot: int, *, stopped_early: bool) -> None:
        recorder, tap = self.recorder, self.tap
        try:
            recorder.pad_to(end_slot)
            wav = tap.finish(recorder.frames_written / self.fps) if tap is not None else None
            recorder.close(wav)
        finally:
            if tap is not None:
                tap.cleanup()

    def abort(self) -> None:
        self.recorder.abort()
        if self.tap is not None:
            self.tap.cleanup()


class BeatOutput(Output):
    """OSC ``/livedance/beat`` and ``/livedance/action``, each sent AT its beat on the show clock.

    Each pass of the loop hands the moves starting within the next ``lookahead_s`` to the
    `OscOut` scheduler thread; when the operator moves beats already handed over (a nudge, a tap,
    a forced action), the schedule starts again from now. Each message goes out at its beat plus
    the operator's OSC offset (``--osc-offset``, ``/livedance/offset/osc``; negative: earlier, for
    a desk that flashes late); when the offset changes, the schedule starts again from now too.

    Args:
        out: the OSC output (its clock is the show clock).
        timeline: the dance whose move starts are the beats.
        lookahead_s: how far ahead of their send time beats are scheduled.
        offset_s: the OSC offset now, in seconds (read every pass; None: 0).
    """

    def __init__(
        self,
        out: OscOut,
        timeline: Timeline,
        *,
        lookahead_s: float = ANNOUNCE_LOOKAHEAD_S,
        offset_s: Callable[[], float] | None = None,
    ) -> None:
        self.out, self.timeline = out, timeline
        self.lookahead_s = float(lookahead_s)
        self.offset_s = offset_s or (lambda: 0.0)
        self._offset_now_s = self.offset_s()
        self.unannounced = 0
        """Moves that appeared after their beat had passed (never sent late)."""
        self._until_s = -1e9
        self._revision = timeline.revision
        self._last_action: str | None = None
        self._action_index = {a.name: i for i, a in enumerate(timeline.choreographer.actions)}

    def tick(self, now_s: float) -> None:
        timeline = self.timeline
        offset_s = self.offset_s()
        if timeline.revision != self._revision or offset_s != self._offset_now_s:
            # start again from the beats whose send time is still to come, and that were not
            # sent already under the old offset
            sent_until_s = now_s - self._offset_now_s
            self._revision, self._offset_now_s = timeline.revision, offset_s
            self.out.clear()
            self._until_s = max(now_s - offset_s, sent_until_s)
        # beats are looked up by their time in the dance; each is sent at that time + offset
        for a in timeline.announcements(self._until_s, now_s - offset_s + self.lookahead_s):
            send_s = a.at_s + offset_s
            if send_s >= now_s - ANNOUNCE_LATE_S:
                self.out.beat(a.index, a.bpm, a.confidence, at_s=send_s)
                if a.action != self._last_action:
                    self.out.action(a.action, self._action_index.get(a.action, -1), at_s=send_s)
            else:
                self.unannounced += 1
            self._last_action = a.action
            self._until_s = a.at_s

    def close(self, end_slot: int, *, stopped_early: bool) -> None:
        self.out.close()
        st = self.out.stats
        log.info(
            "OSC out: %d sent, %d beats dropped as more than %.0f ms late, %d errors, "
            "max lateness %.1f ms, %d beats not announced (their move came after them)",
            st.sent, st.late_dropped, self.out.max_late_s * 1e3, st.errors,
            st.max_lateness_s * 1e3, self.unannounced,
        )  # fmt: skip
