"""OSC input: lighting desks and VJ software steer the show over UDP.

The "OSC control" box of DESIGN.md. `OscControl` binds a UDP port (127.0.0.1 unless told
otherwise), receives on its own thread, turns each message into a typed command
(`livedance.control.commands`) and leaves it in a bounded, coalescing inbox; the show loop takes
them with `poll()` once per frame, which never waits on the network. Malformed datagrams, unknown
addresses and bad arguments are logged (rate-limited) and ignored. A flood cannot take the show's
CPU: the receiving thread handles at most ``max_messages_per_s`` datagrams a second and sleeps
otherwise, so the excess is dropped by the kernel's socket buffer instead of by the render loop.
"""

from __future__ import annotations

import errno
import logging
import socket
import threading
import time
from collections.abc import Collection
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_packet import OscPacket
from pythonosc.osc_server import BlockingOSCUDPServer

from livedance.clock import Clock, MonotonicClock
from livedance.control.commands import INPUT_ADDRESSES, Command, CommandError, parse_message
from livedance.control.inbox import CommandInbox
from livedance.control.logs import RateLimitedLog
from livedance.errors import LivedanceError

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9000
_KNOWN = frozenset(spec.address for spec in INPUT_ADDRESSES)


@dataclass(frozen=True)
class OscControlStats:
    """What the OSC input has received since it started.

    Attributes:
        datagrams: UDP datagrams handled.
        messages: OSC messages in them (a bundle holds several).
        accepted: messages that became commands.
        refused: malformed datagrams plus messages refused (unknown address, bad arguments).
        coalesced: commands merged into a newer one of the same kind before the show took them.
        dropped: taps dropped because too many were pending.
        throttled_s: time the receiver slept because datagrams came faster than its limit.
    """

    datagrams: int
    messages: int
    accepted: int
    refused: int
    coalesced: int
    dropped: int
    throttled_s: float


class _Server(BlockingOSCUDPServer):
    """python-osc's UDP server, every datagram handed to one callback.

    python-osc's own dispatch drops unparsable datagrams silently and sleeps the server thread
    until the time tag of a bundle dated in the future; a show must log the first and never do
    the second, so the callback parses packets itself (time tags are ignored: commands act now).
    """

    def __init__(self, address: tuple[str, int], owner: OscControl) -> None:
        self._owner = owner
        super().__init__(address, Dispatcher(strict_timing=False))

    def verify_request(self, request: Any, client_address: Any) -> bool:
        return True  # the owner judges (and logs) every datagram, garbage included

    def finish_request(self, request: Any, client_address: Any) -> None:
        self._owner._on_datagram(request[0], client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A bug in our handling of one datagram must not print to stderr per datagram or stop
        # the server: log it (rate-limited) and carry on.
        self._owner._log.log(
            logging.ERROR, "bug", "error handling an OSC datagram from %s", client_address
        )
        log.debug("OSC handler error", exc_info=True)


class OscControl:
    """The OSC command input of a show.

    Binds the port when made (so a busy port fails before the show starts); `start` begins
    receiving on a background thread; `poll` hands over what arrived; `close` stops. Also a
    context manager (entering starts it).

    Args:
        port: UDP port to listen on; 0 picks a free one (see `port`).
        host: address to bind; the default accepts only this machine.
        clock: stamps taps on arrival (pass the show's master clock); default: seconds since
            this object was made.
        action_names: names `/livedance/action` may ask for; None accepts any name.
        max_taps: taps kept between two polls.
        max_messages_per_s: most datagrams handled per second (bursts of a tenth of that).

    Raises:
        LivedanceError: the port is in use, not allowed, or the host is not this machine's.
    """

    def __init__(
        self,
        port: int = DEFAULT_PORT,
        host: str = DEFAULT_HOST,
        *,
        clock: Clock | None = None,
        action_names: Collection[str] | None = None,
        max_taps: int = 16,
        max_messages_per_s: float = 4000.0,
    ) -> None:
        if not 0 <= port <= 65535:
            raise LivedanceError(f"--osc-port must be 0..65535, got {port}", exit_code=2)
        if max_messages_per_s <= 0:
            raise ValueError("max_messages_per_s must be positive")
        if clock is None:
            mono = MonotonicClock()
            mono.start()
            clock = mono
        self._clock = clock
        self._action_names = frozenset(action_names) if action_names is not None else None
        self._inbox = CommandInbox(max_taps)
        self._log = RateLimitedLog(log)
        self._rate = float(max_messages_per_s)
        self._burst = max(1.0, self._rate / 10)
        self._tokens = self._burst
        self._t_tokens = time.monotonic()
        self._throttled_s = 0.0
        self._datagrams = self._messages = self._accepted = self._refused = 0
        self._thread: threading.Thread | None = None
        self._closed = False
        self._server = _bind(host, port, self)
        self.host = host

    @property
    def port(self) -> int:
        """The UDP port actually bound (the free one chosen when asked for port 0)."""
        return int(self._server.server_address[1])

    @property
    def capacity(self) -> int:
        """Most commands one `poll` can return."""
        return self._inbox.capacity

    def start(self) -> OscControl:
        """Start receiving on a background thread.

        Returns:
            self, for ``control = OscControl(...).start()``.
        """
        if self._closed:
            raise RuntimeError("OscControl is closed")
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.1},
                name=f"livedance-osc-in:{self.port}",
                daemon=True,
            )
            self._thread.start()
            log.info("listening for OSC on %s:%d", self.host, self.port)
        return self

    def poll(self) -> list[Command]:
        """Take the commands that arrived since the last poll, oldest first; never waits.

        Returns:
            At most `capacity` commands (settings of one kind coalesce to the latest, nudges
            add up); empty when nothing arrived.
        """
        return self._inbox.drain()

    @property
    def stats(self) -> OscControlStats:
        """Counters since this input was made."""
        inbox = self._inbox.stats
        return OscControlStats(
            self._datagrams,
            self._messages,
            self._accepted,
            self._refused,
            inbox.coalesced,
            inbox.dropped,
            self._throttled_s,
        )

    def close(self) -> None:
        """Stop receiving and release the port (safe to call twice)."""
        if self._closed:
            return
        self._closed = True
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()

    def __enter__(self) -> OscControl:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _on_datagram(self, data: bytes, client: Any) -> None:
        """Handle one datagram (on the server thread)."""
        self._throttle()
        self._datagrams += 1
        try:
            packet = OscPacket(data)
            messages = [m.message for m in packet.messages]
        except Exception as e:  # any bytes can arrive; none may stop the server
            self._refused += 1
            self._log.log(
                logging.WARNING,
                "malformed",
                "ignored a malformed OSC datagram (%d bytes) from %s: %s",
                len(data),
                _peer(client),
                e,
            )
            return
        t_s = self._clock.now()
        for message in messages:
            self._messages += 1
            address = message.address
            try:
                command = parse_message(
                    address, message.params, t_s=t_s, action_names=self._action_names
                )
            except CommandError as e:
                self._refused += 1
                key = address if address in _KNOWN else "unknown address"
                self._log.log(
                    logging.WARNING,
                    key,
                    "ignored OSC %.80s %.80r from %s: %s",
                    address,
                    message.params,
                    _peer(client),
                    e,
                )
                continue
            if command is not None:
                self._accepted += 1
                self._inbox.put(command)

    def _throttle(self) -> None:
        """Token bucket: past the rate limit, sleep (the kernel buffers or drops what comes)."""
        now = time.monotonic()
        self._tokens = min(self._burst, self._tokens + (now - self._t_tokens) * self._rate)
        self._t_tokens = now
        if self._tokens < 1.0:
            # Refill a quarter of the burst per sleep: few, not thousands of, tiny sleeps.
            pause_s = (self._burst / 4 - self._tokens) / self._rate
            self._log.log(
                logging.WARNING,
                "flood",
                "OSC input above %.0f messages/s: throttling (the excess is dropped)",
                self._rate,
            )
            time.sleep(pause_s)
            after = time.monotonic()
            self._throttled_s += after - now
            self._tokens += (after - now) * self._rate
            self._t_tokens = after
        self._tokens -= 1.0


def _bind(host: str, port: int, owner: OscControl) -> _Server:
    """The bound server, or one clear line saying why the port cannot be used."""
    where = f"{host}:{port}"
    try:
        return _Server((host, port), owner)
    except socket.gaierror as e:
        raise LivedanceError(f"--osc-host {host!r} is not a known host name ({e.strerror})") from e
    except OSError as e:
        if e.errno == errno.EADDRINUSE:
            msg = (
                f"OSC port {where} is already in use (another livedance or OSC program?); "
                "choose another with --osc-port"
            )
        elif e.errno == errno.EACCES:
            msg = f"no permission to listen on OSC port {where}; use a port above 1023"
        elif e.errno == errno.EADDRNOTAVAIL:
            msg = f"--osc-host {host} is not an address of this machine"
        else:
            msg = f"cannot listen for OSC on {where}: {e.strerror or e}"
        raise LivedanceError(msg) from e


def _peer(client: Any) -> str:
    if isinstance(client, tuple) and len(client) >= 2:
        return f"{client[0]}:{client[1]}"
    return str(client)
