"""OSC output: the show tells lighting desks and VJ software its beats and actions.

`OscOut` sends ``/livedance/beat (index, bpm, confidence)`` and ``/livedance/action (name,
index)`` over UDP to ``--osc-out HOST:PORT``. Because the show knows (file) or predicts (live beat
clock) its beats ahead, messages are handed over early with the time they are due on the show's
master clock, and a scheduler thread sends each one when the clock reaches it, so the lights flash
on the beat and not a render-queue later. Sending never blocks the caller and a failed send is
logged and counted, never raised.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import socket
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from pythonosc.osc_message_builder import BuildError
from pythonosc.udp_client import SimpleUDPClient

from livedance.clock import Clock
from livedance.control.logs import RateLimitedLog
from livedance.errors import LivedanceError

log = logging.getLogger(__name__)

BEAT_ADDRESS = "/livedance/beat"
ACTION_ADDRESS = "/livedance/action"

OscArg = int | float | str | bool


def parse_host_port(text: str, *, option: str = "--osc-out") -> tuple[str, int]:
    """Split ``HOST:PORT`` (or ``[IPv6]:PORT``) with one clear line for each mistake.

    Args:
        text: what the user wrote, e.g. ``"192.168.1.20:7000"``.
        option: the option's name, for the error message.

    Returns:
        (host, port).

    Raises:
        LivedanceError: not HOST:PORT, an empty host, or a port that is not 1..65535.
    """
    spec = text.strip()

    def bad(why: str) -> LivedanceError:
        return LivedanceError(f"{option} {text!r}: {why}", exit_code=2)

    if spec.startswith("["):
        host, bracket, rest = spec[1:].partition("]")
        if not bracket or not rest.startswith(":"):
            raise bad("expected [IPv6]:PORT, e.g. [::1]:9001")
        port_text = rest[1:]
    else:
        host, colon, port_text = spec.rpartition(":")
        if not colon:
            raise bad("expected HOST:PORT, e.g. 127.0.0.1:9001")
        if ":" in host:
            raise bad("write an IPv6 address in brackets, e.g. [::1]:9001")
    if not host:
        raise bad("the host is missing, e.g. 127.0.0.1:9001")
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise bad(f"the port must be a number 1..65535, got {port_text!r}")
    return host, int(port_text)


@dataclass(frozen=True)
class OscOutStats:
    """What the OSC output did.

    Attributes:
        sent: messages sent.
        late_dropped: beats not sent because the clock was already past them by more than
            ``max_late_s`` (a late flash is worse than none).
        overflow_dropped: messages refused because ``max_pending`` were already scheduled.
        errors: sends the network refused.
        max_lateness_s: largest delay between a message's due time and its send, on the clock.
    """

    sent: int
    late_dropped: int
    overflow_dropped: int
    errors: int
    max_lateness_s: float


@dataclass(order=True)
class _Scheduled:
    t_s: float
    seq: int
    address: str = field(compare=False)
    args: tuple[OscArg, ...] = field(compare=False)
    max_late_s: float | None = field(compare=False)


class OscOut:
    """Sends the show's beats and actions to one OSC receiver, each at its time on the clock.

    Args:
        host: receiver's host name or address.
        port: receiver's UDP port.
        clock: the show's master clock (any object with ``now() -> float`` seconds).
        max_late_s: a scheduled beat this late when it falls due is dropped, not sent.
        max_pending: most messages scheduled at once (schedule a few beats ahead, not a song).
        poll_s: longest the scheduler sleeps before looking at the clock again (a clock may
            pause, jump, or run faster than real time, so its future cannot be waited for
            exactly; the last wait before a due time is exact for a clock at real-time speed).

    Raises:
        LivedanceError: the host name cannot be resolved.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        clock: Clock,
        max_late_s: float = 0.1,
        max_pending: int = 4096,
        poll_s: float = 0.02,
    ) -> None:
        try:
            self._client = SimpleUDPClient(host, port)
        except socket.gaierror as e:
            raise LivedanceError(
                f"--osc-out {host}:{port}: cannot resolve {host!r} ({e.strerror})", exit_code=2
            ) from e
        self.host, self.port = host, port
        self._clock = clock
        self.max_late_s = max_late_s
        self.max_pending = max_pending
        self.poll_s = poll_s
        self._log = RateLimitedLog(log)
        self._cond = threading.Condition()
        self._heap: list[_Scheduled] = []
        self._seq = itertools.count()
        self._closed = False
        self._sent = self._late = self._overflow = self._errors = 0
        self._max_lateness_s = 0.0
        self._thread = threading.Thread(
            target=self._run, name=f"livedance-osc-out:{host}:{port}", daemon=True
        )
        self._thread.start()

    @classmethod
    def to(cls, host_port: str, *, clock: Clock, **kwargs: Any) -> OscOut:
        """An output to ``HOST:PORT`` as written on the command line (``--osc-out``).

        Args:
            host_port: e.g. ``"127.0.0.1:9001"``.
            clock: the show's master clock.
            kwargs: see `OscOut`.

        Returns:
            The running output.
        """
        host, port = parse_host_port(host_port)
        return cls(host, port, clock=clock, **kwargs)

    def beat(self, index: int, bpm: float, confidence: float, *, at_s: float | None = None) -> None:
        """Send ``/livedance/beat (index, bpm, confidence)``, now or at clock time ``at_s``.

        Args:
            index: the beat's number, from 0.
            bpm: the tempo.
            confidence: the beat tracker's confidence, 0..1.
            at_s: when the beat falls on the clock (the predicted beat time); None sends now.
        """
        args = (int(index), float(bpm), float(confidence))
        if at_s is None:
            self._send(BEAT_ADDRESS, args)
        else:
            self.send_at(at_s, BEAT_ADDRESS, args, max_late_s=self.max_late_s)

    def action(self, name: str, index: int, *, at_s: float | None = None) -> None:
        """Send ``/livedance/action (name, index)``, now or at clock time ``at_s``.

        A late action message is still sent (a desk tracking the current action must not miss
        a change), unlike a late beat.

        Args:
            name: the action's name.
            index: its number (the engine's choice; its position in the action library is
                stable across shows and suits desks that cannot match strings).
            at_s: when the action starts on the clock; None sends now.
        """
        args = (str(name), int(index))
        if at_s is None:
            self._send(ACTION_ADDRESS, args)
        else:
            self.send_at(at_s, ACTION_ADDRESS, args)

    def send_at(
        self,
        t_s: float,
        address: str,
        args: Sequence[OscArg] = (),
        *,
        max_late_s: float | None = None,
    ) -> bool:
        """Schedule a message for clock time ``t_s`` (never blocks on the network).

        Messages due at the same time go out in the order they were scheduled.

        Args:
            t_s: due time on the clock, seconds.
            address: OSC address.
            args: OSC arguments (int -> i, float -> f, str -> s, bool -> T/F).
            max_late_s: drop the message if it falls due more than this late; None: never drop.

        Returns:
            False when it was refused because ``max_pending`` messages are already scheduled.
        """
        with self._cond:
            if self._closed:
                return False
            if len(self._heap) >= self.max_pending:
                self._overflow += 1
                self._log.log(
                    logging.WARNING, "overflow", "OSC output: %d pending, dropped", len(self._heap)
                )
                return False
            item = _Scheduled(float(t_s), next(self._seq), address, tuple(args), max_late_s)
            heapq.heappush(self._heap, item)
            if self._heap[0] is item:
                self._cond.notify()  # due before what the scheduler is waiting for
        return True

    def clear(self) -> int:
        """Forget every scheduled message (the song changed or the clock jumped back).

        Returns:
            How many were forgotten.
        """
        with self._cond:
            n = len(self._heap)
            self._heap.clear()
            self._cond.notify()
        return n

    @property
    def pending(self) -> int:
        """Messages scheduled and not yet due."""
        with self._cond:
            return len(self._heap)

    @property
    def stats(self) -> OscOutStats:
        """Counters since this output was made."""
        with self._cond:
            return OscOutStats(
                self._sent, self._late, self._overflow, self._errors, self._max_lateness_s
            )

    def close(self) -> None:
        """Stop the scheduler (scheduled messages are not sent) and close the socket."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cond.notify()
        self._thread.join()
        self._client.close()

    def __enter__(self) -> OscOut:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _run(self) -> None:
        """The scheduler thread: send what is due, sleep until the next due time."""
        while True:
            with self._cond:
                due = self._wait_for_due()
                if due is None:
                    return
            for item, lateness_s in due:  # send outside the lock: scheduling never waits on I/O
                if item.max_late_s is not None and lateness_s > item.max_late_s:
                    self._count(late=1)
                    self._log.log(
                        logging.DEBUG,
                        "late",
                        "OSC %s %r dropped: %.0f ms late",
                        item.address,
                        item.args,
                        lateness_s * 1e3,
                    )
                    continue
                if self._send(item.address, item.args):
                    with self._cond:
                        self._max_lateness_s = max(self._max_lateness_s, lateness_s)

    def _wait_for_due(self) -> list[tuple[_Scheduled, float]] | None:
        """Block (lock held, released while waiting) until messages are due; None when closed."""
        while not self._closed:
            if not self._heap:
                self._cond.wait()
                continue
            now = self._clock.now()
            remaining_s = self._heap[0].t_s - now
            if remaining_s > 0:
                self._cond.wait(min(remaining_s, self.poll_s))
                continue
            due = []
            while self._heap and self._heap[0].t_s <= now:
                item = heapq.heappop(self._heap)
                due.append((item, now - item.t_s))
            return due
        return None

    def _send(self, address: str, args: Sequence[OscArg]) -> bool:
        try:
            self._client.send_message(address, list(args))
        except (OSError, BuildError) as e:
            self._count(errors=1)
            self._log.log(
                logging.WARNING,
                "send",
                "OSC output to %s:%d failed: %s",
                self.host,
                self.port,
                getattr(e, "strerror", None) or e,
            )
            return False
        self._count(sent=1)
        return True

    def _count(self, *, sent: int = 0, late: int = 0, errors: int = 0) -> None:
        with self._cond:
            self._sent += sent
            self._late += late
            self._errors += errors
