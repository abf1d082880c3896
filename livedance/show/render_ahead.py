"""Render-ahead: frames rendered on their own thread before their display time.

The arrow "choreography -> frame renderer -> window" of DESIGN.md: the choreography is known ahead
(a file) or predicted a beat ahead (live). A worker thread asks the choreography for the pose of
each display slot ahead of the master clock, renders it and puts it on a small bounded queue; the
display side takes frames in slot order and shows each when the clock reaches its slot. When the
renderer is slower than the frame rate the worker skips slots it could not finish before their
deadline (estimated from its own recent render times) and the display side drops frames that arrive
late, so the video thins out while the audio, which runs on its own sound-card callback, never
waits. Given the show's accents (the beats, where each move starts), a slow worker never skips the
frame of a beat: when a beat's slot would pass while it renders the next slot, it renders the
beat's slot instead, so the move's key pose is shown on the beat. Without dropping (a headless
render), the worker renders every slot in order, as fast as the display side takes them.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from livedance.clock import Clock
from livedance.render import FrameRenderer

log = logging.getLogger(__name__)

PoseAt = Callable[[float], npt.NDArray[np.float32]]
RENDER_TIME_MARGIN = 0.3
"""How much longer than the smoothed render time a frame may take (for `RenderAhead`'s beat
frames: measured live, 2.0 render times ahead kept 94 % of the beats' frames, 2.3 kept 99.7 %)."""

Accents = Callable[[float, float], list[float]]
"""Show times (s) of the accents in ``[t0, t1)``: the beats, where moves start."""


def beat_slot(beat_s: float, fps: float) -> int:
    """The frame of a beat: the first display slot at or after ``beat_s``."""
    return math.ceil(beat_s * fps - 1e-9)


@dataclass(frozen=True)
class RenderedFrame:
    """One frame ready for display.

    Attributes:
        slot: display slot index (shown at ``slot / fps`` seconds of song time).
        frame: BGR uint8 image.
        render_start_s, render_end_s: clock time when rendering began and ended.
        pose: the pose drawn (for outputs that make a matte from it).
    """

    slot: int
    frame: npt.NDArray[np.uint8]
    render_start_s: float
    render_end_s: float
    pose: npt.NDArray[np.float32] | None = None
    """The pose the frame was rendered from (what a warp starts from)."""


class RenderAhead:
    """Renders display slots ahead of ``clock`` on a worker thread into a bounded queue.

    Args:
        pose_at: song time (s) -> pose ``(18, 3)``; called on the worker thread only.
        renderer: turns a batch of poses into frames.
        clock: the show's master clock (read from the worker, never waited on by audio).
        fps: display frame rate.
        n_slots: slots in the show (slot ``n_slots`` is past the end).
        queue_frames: how many rendered frames may wait for display (latency vs. slack).
        first_slot: the slot to start from.
        timer: what render times are measured with, in seconds (the wall by default: an audio
            clock moves in blocks of a few ms, too coarse for a frame's render time).
        accents: the show's beats; a slow renderer then never skips a beat's frame.
        drop: skip slots that cannot be ready in time (False: render every slot).
    """

    def __init__(
        self,
        pose_at: PoseAt,
        renderer: FrameRenderer,
        clock: Clock,
        fps: float,
        n_slots: int,
        *,
        queue_frames: int = 3,
        first_slot: int = 0,
        timer: Callable[[], float] = time.perf_counter,
        accents: Accents | None = None,
        drop: bool = True,
    ) -> None:
        self.pose_at = pose_at
        self.drop = drop
        self.accents = accents
        self.timer = timer
        self.renderer = renderer
        self.clock = clock
        self.fps = float(fps)
        self.n_slots = int(n_slots)
        self._queue: queue.Queue[RenderedFrame | None] = queue.Queue(maxsize=max(1, queue_frames))
        self._next_slot = int(first_slot)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._work, name="livedance-render", daemon=True)
        self._error: BaseException | None = None
        self.render_s_ema = 0.0
        """Smoothed time one frame takes to render, in seconds."""
        self.frames_rendered = 0
        self.render_s_total = 0.0
        """Time spent rendering, all frames together (for means over a stretch of the show)."""
        self.slots_skipped = 0
        """Slots the worker never rendered because they could not be ready in time."""

    @property
    def render_fps(self) -> float:
        """Frames per second the renderer manages (not the display rate)."""
        return 1.0 / self.render_s_ema if self.render_s_ema > 0 else 0.0

    def start(self) -> RenderAhead:
        self._thread.start()
        return self

    def wait_ready(self, timeout_s: float = 30.0) -> None:
        """Wait until the first frame is rendered (or the worker ended), at most ``timeout_s``."""
        deadline = time.perf_counter() + timeout_s
        while self._queue.empty() and self._thread.is_alive() and time.perf_counter() < deadline:
            time.sleep(0.002)

    def stop(self) -> None:
        """Stop the worker (it finishes the frame it is rendering) and wait for it."""
        self._stop.set()  # a worker blocked on a full queue sees it within 50 ms
        if self._thread.is_alive():
            self._thread.join()

    def get(self, timeout_s: float = 0.1) -> RenderedFrame | None:
        """The next rendered frame in slot order; None at the end of the show.

        Raises:
            queue.Empty: nothing arrived within ``timeout_s`` (the caller checks its clock).
            Exception: whatever the renderer raised on the worker thread.
        """
        item = self._queue.get(timeout=timeout_s)
        if item is None and self._error is not None:
            raise self._error
        return item

    def next_slot_due(self, now_s: float) -> int:
        """The earliest slot a frame started now can still be ready for (deadline-aware).

        That is the first slot at or after the moment the frame would be done; before the show's
        clock starts (0) with nothing rendered yet, slot 0.
        """
        return math.ceil((now_s + self.render_s_ema) * self.fps - 1e-9)

    def _work(self) -> None:
        try:
            while not self._stop.is_set():
                now_s = self.clock.now()
                slot = self._next_slot
                if self.drop:
                    slot = max(slot, self.next_slot_due(now_s))
                    if self.accents is not None and self.frames_rendered > 0:
                        slot = self._accent_slot(slot, self.accents, now_s)
                if self.frames_rendered > 0:  # the jump to the clock at the start is no drop
                    self.slots_skipped += slot - self._next_slot
                if slot >= self.n_slots:
                    break
                start_s, t0 = self.clock.now(), self.timer()
                pose = self.pose_at(slot / self.fps)
                frame = self.renderer.render(pose[None])[0]
                took_s = max(0.0, self.timer() - t0)
                end_s = self.clock.now()
                self.render_s_ema = (
                    took_s if self.frames_rendered == 0 else 0.8 * self.render_s_ema + 0.2 * took_s
                )
                self.frames_rendered += 1
                self.render_s_total += took_s
                self._next_slot = slot + 1
                self._put(RenderedFrame(slot, frame, start_s, end_s, pose))
        except BaseException as exc:  # handed to the display thread, which re-raises it
            log.debug("render worker failed: %r", exc)
            self._error = exc
        self._put(None)

    def _accent_slot(self, slot: int, accents: Accents, now_s: float) -> int:
        """``slot``, or the slot of a beat that rendering ``slot`` would make the worker skip.

        The frame of a beat is the first slot at or after it (`beat_slot`). After rendering
        ``slot`` the worker's next slot is the first it can still make then; a beat's slot in
        between would be skipped, so it is rendered now instead (the slots before it are skipped).
        """
        # the slot due once this frame (with the margin) is done: the next frame's earliest
        done_s = now_s + (1.0 + RENDER_TIME_MARGIN) * self.render_s_ema
        after = max(slot + 1, self.next_slot_due(done_s))
        if after <= slot + 1:  # the renderer keeps up: nothing will be skipped
            return slot
        for beat_s in accents(slot / self.fps, after / self.fps):
            frame_slot = beat_slot(beat_s, self.fps)
            if slot < frame_slot < min(after, self.n_slots):
                return frame_slot
        return slot

    def _put(self, item: RenderedFrame | None) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.05)
                return
            except queue.Full:
                continue
