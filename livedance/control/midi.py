"""MIDI in and out: a controller and the DJ's MIDI clock steer the show; the show's beat as a clock.

DESIGN.md's "OSC control" arrow, for MIDI (mido; ports through python-rtmidi, the ``stage``
extra). Three parts:

- `MidiClockIn`: MIDI clock (24 pulses a beat) with start, stop, continue and song position:
  every 24th pulse after a start is a beat; the tempo is fitted over the last two beats of pulses
  (a least-squares line, so one late pulse barely moves it). As a beat source each beat becomes a
  tap with the clock's tempo, the operator's own commands, so the beat clock locks to it as to a
  tapping operator who never misses.
- `MidiControl`: an input port, read on mido's callback thread: clock messages go through
  `MidiClockIn`, notes and CCs through a `livedance.control.midimap.MidiMap` onto commands; the
  show loop polls them once a frame through the same bounded inbox as OSC.
- the clock out is an output of the show: `livedance.show.midiclock.MidiClockOut`.

Ports: an rtmidi port by name (``--midi-in NAME``; ``virtual:NAME`` makes a virtual port other
programs connect to, where the system has an ALSA sequencer), or mido's MIDI over TCP
(``tcp:HOST:PORT``: in listens, out connects), which needs no sound system.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import numpy as np

from livedance.clock import Clock
from livedance.control.commands import MAX_BPM, MIN_BPM, Command, CommandError, SetTempo, Tap
from livedance.control.inbox import CommandInbox
from livedance.control.logs import RateLimitedLog
from livedance.control.midimap import MidiMap
from livedance.errors import LivedanceError

log = logging.getLogger(__name__)

PPQN = 24
"""MIDI clock pulses per quarter note (beat)."""
FIT_PULSES = 2 * PPQN
"""Pulses the tempo is fitted over."""


@dataclass(frozen=True)
class ClockBeat:
    """A beat of the incoming MIDI clock.

    Attributes:
        index: beats since the start (or the song position).
        t_s: the pulse's arrival on the show clock.
        bpm: the clock's tempo then (None until enough pulses came).
    """

    index: int
    t_s: float
    bpm: float | None


class MidiClockIn:
    """MIDI clock, start, stop, continue and song position -> beats and tempo. Pure logic."""

    def __init__(self) -> None:
        self.running = False
        self.pulse = 0
        """Pulses since the start (the song position), while running."""
        self._times: deque[float] = deque(maxlen=FIT_PULSES + 1)

    @property
    def bpm(self) -> float | None:
        """The tempo fitted over the last pulses (None with fewer than a beat's worth)."""
        if len(self._times) < PPQN + 1:
            return None
        t = np.asarray(self._times)
        slope = np.polyfit(np.arange(len(t), dtype=np.float64), t - t[0], 1)[0]
        if slope <= 0:
            return None
        bpm = 60.0 / (PPQN * slope)
        return bpm if MIN_BPM <= bpm <= MAX_BPM else None

    def feed(self, message: Any, t_s: float) -> ClockBeat | None:
        """One message at show time ``t_s``; the beat it completes, if any.

        Clock pulses arrive whether or not the clock runs (DJ gear sends them always): they set
        the tempo; beats are counted only between a start (or continue) and a stop.
        """
        kind = getattr(message, "type", None)
        if kind == "start":
            self.running, self.pulse = True, 0
            return None
        if kind == "continue":
            self.running = True
            return None
        if kind == "stop":
            self.running = False
            return None
        if kind == "songpos":  # in sixteenths: 6 pulses each
            self.pulse = int(message.pos) * (PPQN // 4)
            return None
        if kind != "clock":
            return None
        if self._times and t_s - self._times[-1] > 1.0:  # a pause: the old pulses say nothing
            self._times.clear()
        self._times.append(t_s)
        if not self.running:
            return None
        beat = None
        if self.pulse % PPQN == 0:
            beat = ClockBeat(self.pulse // PPQN, t_s, self.bpm)
        self.pulse += 1
        return beat


def clock_commands(beat: ClockBeat) -> list[Command]:
    """What a clock beat asks of the show: its tempo, and a beat now (the operator's commands)."""
    commands: list[Command] = []
    if beat.bpm is not None:
        commands.append(SetTempo(beat.bpm))
    commands.append(Tap(beat.t_s))
    return commands


# --------------------------------------------------------------------------------- ports
def open_port(spec: str, *, output: bool) -> Any:
    """A mido port from ``NAME``, ``virtual:NAME`` or ``tcp:HOST:PORT``.

    Raises:
        LivedanceError: one line: no MIDI backend here, no such port, a bad address.
    """
    import mido

    which = "--midi-clock-out" if output else "--midi-in"
    if spec.startswith("tcp:"):
        import mido.sockets

        host, _, port_text = spec[4:].rpartition(":")
        if not host or not port_text.isdigit():
            raise LivedanceError(f"{which} {spec!r}: expected tcp:HOST:PORT", exit_code=2)
        try:
            if output:
                return mido.sockets.connect(host, int(port_text))
            return TcpMidiIn(host, int(port_text))
        except OSError as exc:
            raise LivedanceError(f"{which} {spec!r}: {exc.strerror or exc}") from None
    virtual = spec.startswith("virtual:")
    name = spec.removeprefix("virtual:")
    try:
        if output:
            return mido.open_output(name, virtual=virtual)
        return mido.open_input(name, virtual=virtual)
    except ImportError:
        raise LivedanceError(
            f"{which} {spec!r}: no MIDI backend (pip install 'livedance[stage]' for python-rtmidi)"
        ) from None
    except (OSError, SystemError) as exc:  # rtmidi: no such port, or no ALSA sequencer
        text = " ".join(str(exc).split())
        raise LivedanceError(f"{which} {spec!r}: {text}") from None


class TcpMidiIn:
    """A MIDI input over TCP (mido's protocol: raw MIDI bytes) from any number of senders.

    mido's own `PortServer` blocks in ``iter_pending`` until a message comes (mido 1.3.3: its
    ``_receive`` ignores ``block=False``), which would hang a reader that must also notice a stop;
    this one never blocks.

    Args:
        host, port: where to listen (port 0: a free one, see ``port``).
    """

    def __init__(self, host: str, port: int) -> None:
        import socket

        from mido.sockets import SocketPort

        self._socket_port = SocketPort
        self._listener = socket.create_server((host, port))
        self._listener.setblocking(False)
        self.port: int = self._listener.getsockname()[1]
        self.clients: list[Any] = []
        self.closed = False

    def iter_pending(self) -> Any:
        """The messages that arrived, without waiting."""
        while True:
            try:
                conn, (host, port) = self._listener.accept()
            except BlockingIOError:
                break
            conn.setblocking(True)
            self.clients.append(self._socket_port(host, port, conn=conn))
        for client in self.clients:
            yield from client.iter_pending()
        self.clients = [c for c in self.clients if not c.closed]

    def close(self) -> None:
        for client in self.clients:
            client.close()
        self._listener.close()
        self.closed = True


class MidiControl:
    """MIDI input for a show: controller bindings and (optionally) the clock as a beat source.

    Args:
        port: an open mido input port (or a `mido.sockets.PortServer`).
        clock: the show's clock (stamps taps and clock beats).
        midi_map: note and CC bindings (None: none).
        follow_clock: turn incoming MIDI clock beats into taps with the clock's tempo.
        action_names: the actions `/livedance/action` may name.
    """

    def __init__(
        self,
        port: Any,
        clock: Clock,
        *,
        midi_map: MidiMap | None = None,
        follow_clock: bool = False,
        action_names: Collection[str] | None = None,
    ) -> None:
        self.port, self.clock = port, clock
        self.midi_map, self.follow_clock = midi_map, follow_clock
        self.action_names = action_names
        self.clock_in = MidiClockIn()
        self.inbox = CommandInbox()
        self.received = self.refused = 0
        self._log = RateLimitedLog(log)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="livedance-midi-in", daemon=True)
        self._thread.start()

    def handle(self, message: Any, t_s: float | None = None) -> None:
        """One incoming message (called on the reader thread; tests call it directly)."""
        t_s = self.clock.now() if t_s is None else t_s
        self.received += 1
        beat = self.clock_in.feed(message, t_s)
        if beat is not None and self.follow_clock:
            for command in clock_commands(beat):
                self.inbox.put(command)
        if self.midi_map is None:
            return
        try:
            mapped = self.midi_map.command(message, t_s, self.action_names)
        except CommandError as exc:
            self.refused += 1
            self._log.log(logging.WARNING, "refused", "MIDI %s refused: %s", message, exc)
            return
        if mapped is not None:
            self.inbox.put(mapped)

    def poll(self) -> list[Command]:
        """The commands that arrived since the last poll (once per frame, never blocks)."""
        return self.inbox.drain()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2.0)
        self.port.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            got = False
            for message in self.port.iter_pending():
                self.handle(message)
                got = True
            if not got:
                self._stop.wait(0.001)
