"""The bounded hand-over of operator commands from the OSC thread to the show loop.

The OSC server thread `put`s commands as they arrive; the show loop `drain`s them once per frame
without waiting. Whatever the network does, the inbox never holds more than one pending command
of each kind plus `max_taps` taps: a newer setting replaces an older one of the same kind (the
show only ever acts on the latest fader position or switch state), nudges add up, and when taps
overflow the oldest is dropped and counted. So a flood costs the show loop one short lock and a
short list per frame, never a backlog.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import get_args

from livedance.control.commands import MAX_NUDGE_BEATS, Command, Nudge, Tap


@dataclass(frozen=True)
class InboxStats:
    """What the inbox did with the commands put into it.

    Attributes:
        put: commands put in.
        drained: commands handed to the show.
        coalesced: commands merged into a newer one of the same kind (no information lost that
            the show would act on).
        dropped: taps dropped because too many were pending.
    """

    put: int
    drained: int
    coalesced: int
    dropped: int


class CommandInbox:
    """Thread-safe, bounded, coalescing command buffer.

    Args:
        max_taps: most taps kept between two drains (tap tempo needs only the last few).
    """

    def __init__(self, max_taps: int = 16) -> None:
        if max_taps < 1:
            raise ValueError("max_taps must be at least 1")
        self.max_taps = max_taps
        self._lock = threading.Lock()
        # Keyed by command kind (taps by sequence number); insertion order = order of arrival
        # of the latest command of each kind.
        self._pending: dict[object, Command] = {}
        self._tap_keys: deque[int] = deque()
        self._seq = 0
        self._put = self._drained = self._coalesced = self._dropped = 0

    @property
    def capacity(self) -> int:
        """Most commands one `drain` can return."""
        return len(get_args(Command)) - 1 + self.max_taps  # one slot per kind but Tap

    def put(self, command: Command) -> None:
        """Add a command (called from the OSC thread; never blocks for long).

        Args:
            command: the validated command.
        """
        with self._lock:
            self._put += 1
            if isinstance(command, Tap):
                self._seq += 1
                self._pending[("tap", self._seq)] = command
                self._tap_keys.append(self._seq)
                if len(self._tap_keys) > self.max_taps:
                    del self._pending[("tap", self._tap_keys.popleft())]
                    self._dropped += 1
                return
            kind = type(command)
            previous = self._pending.pop(kind, None)
            if previous is not None:
                self._coalesced += 1
                if isinstance(previous, Nudge) and isinstance(command, Nudge):
                    total = previous.beats + command.beats
                    command = Nudge(max(-MAX_NUDGE_BEATS, min(MAX_NUDGE_BEATS, total)))
            self._pending[kind] = command

    def drain(self) -> list[Command]:
        """Take every pending command, oldest first (called by the show once per frame).

        Returns:
            At most `capacity` commands; empty when nothing arrived since the last drain.
        """
        with self._lock:
            if not self._pending:
                return []
            commands = list(self._pending.values())
            self._pending.clear()
            self._tap_keys.clear()
            self._drained += len(commands)
            return commands

    def __len__(self) -> int:
        with self._lock:
            return len(self._pending)

    @property
    def stats(self) -> InboxStats:
        """Counters since the inbox was made."""
        with self._lock:
            return InboxStats(self._put, self._drained, self._coalesced, self._dropped)
