"""Show clocks: the one master time the frames of a show are scheduled against.

DESIGN.md: the audio playback position for files, the input stream time for line-in. A clock is
passed into the show, so tests and headless renders give it a frame clock and run the real engine.
The bottom layer of livedance: audio, control and show all read time through this protocol.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Time in seconds; ``now()`` never goes backwards."""

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
    """Time set frame by frame by the show itself (headless renders and recordings)."""

    def __init__(self, fps: float) -> None:
        self.fps = float(fps)
        self.frame = 0

    def now(self) -> float:
        return self.frame / self.fps

    def advance(self, to_frame: int | None = None) -> None:
        """Move to the next frame, or to ``to_frame``."""
        self.frame = self.frame + 1 if to_frame is None else max(self.frame, int(to_frame))


class OffsetClock:
    """Another clock read from an origin: ``now() = source.now() - origin_s``.

    A live show's time starts at 0 on its first frame while the input timeline has run since the
    device opened.
    """

    def __init__(self, source: Clock, origin_s: float) -> None:
        self.source, self.origin_s = source, float(origin_s)

    def now(self) -> float:
        return self.source.now() - self.origin_s
