"""MIDI clock out: the show's beats as MIDI clock for drum machines, sequencers and DJ software.

An output of the show loop (`livedance.show.outputs.Output`): it sends start on the first beat,
then 24 clock pulses between each two of the show's beats, each AT its time on the show clock
from a scheduler thread (as the OSC beats are), and stop when the show ends. The pulses follow
the dance's beats, so a tap, a nudge or a MIDI clock in moves them too.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from typing import Any

from livedance.clock import Clock
from livedance.control.midi import PPQN
from livedance.show.hud import HudInfo
from livedance.show.outputs import KeyEvent, Output, ShowFrame
from livedance.show.timeline import Timeline


def pulse_times(beats_s: list[float]) -> list[float]:
    """The 24 pulse times of each interval between consecutive beats (the last beat's own
    pulses wait for the beat after it)."""
    out: list[float] = []
    for a, b in itertools.pairwise(beats_s):
        out += [a + (b - a) * k / PPQN for k in range(PPQN)]
    return out


class MidiClockOut(Output):
    """The show's beats as MIDI clock: start on the first beat, 24 pulses a beat, stop at the end.

    Args:
        port: an open mido output port.
        timeline: the dance whose move starts are the beats.
        clock: the show clock the pulses are timed on.
        lookahead_s: how far ahead beats are scheduled.
    """

    def __init__(
        self, port: Any, timeline: Timeline, clock: Clock, *, lookahead_s: float = 1.5
    ) -> None:
        import mido

        self.port, self.timeline, self.clock = port, timeline, clock
        self.lookahead_s = float(lookahead_s)
        self._mido = mido
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, str]] = []
        self._seq = itertools.count()
        self._closed = False
        self._started = False
        self._beats: list[float] = []
        self._revision = timeline.revision
        self.sent = 0
        self._thread = threading.Thread(target=self._run, name="livedance-midi-clock", daemon=True)
        self._thread.start()

    def tick(self, now_s: float) -> None:
        timeline = self.timeline
        if timeline.revision != self._revision:  # the beats moved: plan again from now
            self._revision = timeline.revision
            with self._cond:
                self._heap = [e for e in self._heap if e[2] != "clock"]
                heapq.heapify(self._heap)
            self._beats = [t for t in self._beats if t <= now_s][-1:]
        after = self._beats[-1] if self._beats else now_s - 1e-3
        new = [a.at_s for a in timeline.announcements(after, now_s + self.lookahead_s)]
        if not new:
            return
        if not self._started:
            self._schedule(new[0], "start")
            self._started = True
        pulses = pulse_times([*self._beats[-1:], *new])
        for t in pulses:
            if t >= now_s:
                self._schedule(t, "clock")
        self._beats = (self._beats + new)[-2:]

    def frame(self, frame: ShowFrame, hud: HudInfo | None) -> KeyEvent | None:
        return None

    def close(self, end_slot: int, *, stopped_early: bool) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join()
        if self._started:
            self.port.send(self._mido.Message("stop"))
        self.port.close()

    def _schedule(self, t_s: float, kind: str) -> None:
        with self._cond:
            heapq.heappush(self._heap, (t_s, next(self._seq), kind))
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._closed:
                    if self._heap:
                        wait_s = self._heap[0][0] - self.clock.now()
                        if wait_s <= 0:
                            break
                        self._cond.wait(min(wait_s, 0.01))
                    else:
                        self._cond.wait()
                if self._closed:
                    return
                _, _, kind = heapq.heappop(self._heap)
            self.port.send(self._mido.Message(kind))
            self.sent += 1
