"""Logging that a flood of bad network input cannot turn into a flood of log lines.

Every refused OSC message deserves a warning, but 20,000 garbage datagrams a second must not
become 20,000 lines on the console (writing them would cost more than refusing them).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any


class RateLimitedLog:
    """Logs at most ``burst`` messages per key per ``window_s``, then how many it held back.

    Args:
        logger: where the messages go.
        burst: messages per key logged in each window.
        window_s: the window, seconds.
        clock: monotonic seconds (a test can pass a fake one).
    """

    def __init__(
        self,
        logger: logging.Logger,
        *,
        burst: int = 5,
        window_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger
        self.burst = burst
        self.window_s = window_s
        self._clock = clock
        self._lock = threading.Lock()  # the OSC output logs from two threads
        self._windows: dict[str, tuple[float, int, int]] = {}  # key -> (start, logged, held)

    def log(self, level: int, key: str, msg: str, *args: Any) -> None:
        """Log ``msg % args`` unless ``key`` has used up its burst in this window.

        Args:
            level: a `logging` level.
            key: what kind of message this is (each kind has its own budget).
            msg: the `logging` format string.
            args: its arguments.
        """
        if not self.logger.isEnabledFor(level):
            return
        with self._lock:
            now = self._clock()
            start, logged, held = self._windows.get(key, (now, 0, 0))
            summary = 0
            if now - start >= self.window_s:  # a new window: report what the last one held back
                summary, start, logged, held = held, now, 0, 0
            emit = logged < self.burst
            logged, held = (logged + 1, held) if emit else (logged, held + 1)
            self._windows[key] = (start, logged, held)
        if summary:
            self.logger.log(level, "... %d more like that (%s) held back", summary, key)
        if emit:
            self.logger.log(level, msg, *args)
