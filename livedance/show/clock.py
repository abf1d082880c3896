"""Show clocks: the one master time the frames of a show are scheduled against.

DESIGN.md: the audio playback position for files, the input stream time for line-in. A clock is
passed into the show, so tests and headless renders give it a frame clock and run the real engine.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Song time in seconds; ``now()`` never goes backwards."""

    def now(self) -> float: ...


class MonotonicClock:
    """Wall time since `start` (for a show with the sound elsewhere: ``--mute``)."""

    def __init__(self) -> None:
        self._t0: float | None = None

    def start(self) -> None:
        self._t0 = time.perf_counter()

    def now(self) -> float:
        return 0.0 if self._t0 is None else time.perf_counter() - self._t0


class FrameClock:
    """Time advanced frame by frame by the renderer itself (headless renders and recordings)."""

    def __init__(self, fps: float) -> None:
        self.fps = float(fps)
        self.frame = 0

    def now(self) -> float:
        return self.frame / self.fps

    def advance(self) -> None:
        self.frame += 1
