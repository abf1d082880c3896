"""The live master clock: input time read smoothly off the computer's clock.

DESIGN.md live path: a live show's master clock is the input timeline (sample ``n`` of the line-in
is at ``n / sample_rate`` s). The newest captured sample is a poor clock to read directly: it
moves in steps of a block, and when the audio callback is held up (a busy CPU, the sound server
scheduling late) it stands still, then jumps when the held-back blocks arrive at once. Frames and
OSC beats timed by it would stall and then come late, and a beat more than a tenth of a second
late is dropped rather than sent.

`InputClock` maps the computer's monotonic clock onto the input timeline instead, like the
delay-locked loops of JACK and PortAudio's stream time: the offset between the two is the largest
seen over the last one to two seconds of blocks (the blocks that arrived without delay), so it
follows a sound card whose clock runs a little slower or faster than the computer's, and samples
lost to an overflow. Between blocks, and through a held-up callback, the clock keeps running; it
never runs more than ``max_lead_s`` past the newest sample, and never goes backwards. When the
line-in declares its device lost (`InputClock.lost`), the clock runs on with the computer's clock
until blocks come again, so the show keeps its time through an outage; the line-in fills the
missing stretch of the input timeline with silence before it reopens the device.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

WINDOW_S = 1.0
"""The offset is the largest over this window and the one before it (a held-up callback shorter
than that does not move it; lost samples or drift move it within two windows)."""

RESYNC_S = 0.5
"""A block this much later than the offset says means samples were lost (a device came back):
the offset starts again from it."""

LATE_BLOCK_S = 0.02
"""A block arriving this much after its time counts in `InputClock.blocks_late`."""


class InputClock:
    """Input time in seconds as a smooth, monotonic function of the computer's clock.

    The audio callback calls `block` after each block; any thread may call `now`. The callback
    side takes no lock: it swaps one immutable tuple.

    Args:
        sample_rate: Hz of the input timeline.
        max_lead_s: how far past the newest captured sample the clock may run.
        wall: the computer's monotonic clock, seconds (tests pass a fake).
    """

    def __init__(
        self,
        sample_rate: int,
        *,
        max_lead_s: float = 0.25,
        wall: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.sample_rate = int(sample_rate)
        self.max_lead_s = float(max_lead_s)
        self._wall = wall
        # (offset of input time over wall time, newest sample's time)
        self._state: tuple[float, float] | None = None
        self._window_start_s = 0.0
        self._window_best_s = self._previous_best_s = -math.inf
        self._lock = threading.Lock()
        self._last_now_s = 0.0
        self._lost = False
        self.max_block_late_s = 0.0
        """The latest any block arrived, after the first (seconds)."""
        self.blocks_late = 0
        """Blocks that arrived more than `LATE_BLOCK_S` after their time."""

    def block(self, captured_samples: int) -> None:
        """A block arrived: ``captured_samples`` samples have been captured in all."""
        wall_s = self._wall()
        self._lost = False
        captured_s = captured_samples / self.sample_rate
        offset_s = captured_s - wall_s
        if self._state is None or self._state[0] - offset_s >= RESYNC_S:
            self._window_start_s = wall_s  # the first block, or one after a lost device
            self._window_best_s = self._previous_best_s = offset_s
        elif wall_s - self._window_start_s >= WINDOW_S:
            self._window_start_s = wall_s
            self._previous_best_s, self._window_best_s = self._window_best_s, offset_s
        else:
            self._window_best_s = max(self._window_best_s, offset_s)
        best_s = max(self._previous_best_s, self._window_best_s)
        late_s = best_s - offset_s
        if late_s > LATE_BLOCK_S:
            self.blocks_late += 1
        self.max_block_late_s = max(self.max_block_late_s, late_s)
        self._state = (best_s, captured_s)

    def lost(self) -> None:
        """The device is gone: run on with the computer's clock until the next block."""
        self._lost = True

    def now(self) -> float:
        """Input time now: seconds on the input timeline (0 until the first block)."""
        state = self._state
        if state is None:
            return 0.0
        offset_s, captured_s = state
        t_s = self._wall() + offset_s
        if not self._lost:
            t_s = min(t_s, captured_s + self.max_lead_s)
        with self._lock:  # monotonic across the threads that read it
            t_s = max(t_s, captured_s, self._last_now_s)
            self._last_now_s = t_s
        return t_s
