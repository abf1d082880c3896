"""Operator control inside a running show: OSC commands change the dance, beats go out on time.

Sits between `livedance.control` (OSC input inbox, `ShowControls`, `OscOut`) and the show engine
(`livedance.show.engine`). Once per frame the engine calls `ShowLink.on_frame`: the inbox is
drained (bounded, so a flood never stalls a frame), commands are folded into `ShowControls`,
one-off requests are acted on (force the next action, nudge or tap the beat phase), and the
beats and action changes of the next ``lookahead_s`` of the timeline are handed to the `OscOut`
scheduler thread, which sends each AT its planned beat time on the master clock -- never at
detection time. `ShowLink.pose_at` wraps the choreography (phase offset, intensity) and
`ShowLink.present` applies blackout and freeze to the frame about to be shown.
"""

from __future__ import annotations

import bisect
import logging
import threading
from dataclasses import replace
from typing import Any

import numpy as np
import numpy.typing as npt

from livedance.choreo import Choreographer, idle_pose
from livedance.control.commands import CommandError
from livedance.control.osc import OscControl
from livedance.control.osc_out import OscOut
from livedance.control.state import Requests, ShowControls, apply_commands
from livedance.pose import Pose

log = logging.getLogger(__name__)

DEFAULT_LOOKAHEAD_S = 0.5  # beats are scheduled this far ahead of the clock


class SwitchableClock:
    """A clock whose source is attached later (the engine makes its master clock itself).

    Reads 0.0 until `attach` is called; thread-safe (the OSC threads read it).
    """

    def __init__(self) -> None:
        self._source: Any = None
        self._lock = threading.Lock()

    def attach(self, source: Any) -> None:
        """Follow ``source`` (anything with ``now() -> float``) from now on."""
        with self._lock:
            self._source = source

    def now(self) -> float:
        with self._lock:
            source = self._source
        return 0.0 if source is None else float(source.now())


class ShowLink:
    """Operator control and OSC beat output for one show.

    Args:
        choreographer: the dance (its moves are the beat timeline).
        control: started OSC input, or None.
        out: OSC output, or None.
        clock: the clock ``control`` and ``out`` were given (attached by the engine).
        hud: whether the HUD starts visible.
        lookahead_s: how far ahead beats are scheduled on ``out``.
        model_switcher: called with a model path on ``/livedance/model``; None: not supported
            (logged, and shown on the HUD).
        beat_clock: a live show's `BeatClock`: tempo, tap and nudge steer it (else they shift
            the phase of the planned timeline).
    """

    def __init__(
        self,
        choreographer: Choreographer,
        *,
        control: OscControl | None = None,
        out: OscOut | None = None,
        clock: SwitchableClock | None = None,
        hud: bool = True,
        lookahead_s: float = DEFAULT_LOOKAHEAD_S,
        model_switcher: Any = None,
        beat_clock: Any = None,
    ) -> None:
        self.choreographer = choreographer
        self.control = control
        self.out = out
        self.clock = clock if clock is not None else SwitchableClock()
        self.controls = ShowControls(hud=hud)
        self.lookahead_s = float(lookahead_s)
        self.model_switcher = model_switcher
        self.beat_clock = beat_clock
        self.offset_s = 0.0  # added to the clock to find the choreography's time (nudge, tap)
        self.notice = ""
        self.commands_applied = 0
        self._scheduled_until_s = -1e9
        self.beats_unannounced = 0  # moves added after their beat had passed (never sent late)
        self._last_action: str | None = None
        self._last_frame: npt.NDArray[np.uint8] | None = None

    def attach_clock(self, clock: Any) -> None:
        """Give the OSC threads the engine's master clock."""
        self.clock.attach(clock)

    @property
    def hud(self) -> bool:
        return self.controls.hud

    def toggle_hud(self) -> None:
        """The window's h key."""
        self.controls = replace(self.controls, hud=not self.controls.hud)

    def pose_at(self, t_s: float) -> Pose:
        """The pose at clock time ``t_s``, shifted by the phase offset, scaled by intensity."""
        t = t_s + self.offset_s
        pose = self.choreographer.pose_at(t)
        k = self.controls.intensity
        if k == 1.0:
            return pose
        rest = idle_pose(t, self.choreographer.body)
        scaled = pose.copy()
        scaled[:, :2] = rest[:, :2] + k * (pose[:, :2] - rest[:, :2])
        return scaled

    def on_frame(self, t_s: float) -> None:
        """Per frame: drain and apply commands, act on requests, schedule beat messages.

        Args:
            t_s: the master clock now.
        """
        if self.control is not None:
            commands = self.control.poll()
            if commands:
                self.controls = apply_commands(self.controls, commands)
                self.commands_applied += len(commands)
                self._act(t_s)
        if self.out is not None:
            self._schedule(t_s)

    def present(self, frame: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        """The frame to show instead of ``frame``: black in blackout, the last one in freeze."""
        if self.controls.freeze and self._last_frame is not None:
            frame = self._last_frame
        else:
            self._last_frame = frame
        if self.controls.blackout:
            return np.zeros_like(frame)
        return frame

    def close(self) -> None:
        """Close the OSC input and output."""
        if self.control is not None:
            self.control.close()
        if self.out is not None:
            self.out.close()
            st = self.out.stats
            log.info(
                "OSC out: %d sent, %d beats dropped as more than %.0f ms late, %d errors, "
                "max lateness %.1f ms, %d beats not announced (their move came after them)",
                st.sent, st.late_dropped, self.out.max_late_s * 1e3, st.errors,
                st.max_lateness_s * 1e3, self.beats_unannounced,
            )  # fmt: skip

    def _act(self, t_s: float) -> None:
        self.controls, req = self.controls.take_requests()
        if req.empty:
            return
        if self.beat_clock is not None:
            self._steer_clock(req)
            req = replace(req, tempo_bpm=None, beat_at_s=None, nudge_beats=0.0)
        moves = self.choreographer.moves
        beat_s = _beat_period_s(self.choreographer, t_s + self.offset_s)
        if req.action is not None:
            try:
                self.choreographer.force_at(t_s + self.offset_s, req.action)
                log.info("OSC: action %s on the next beat", req.action)
                self._reschedule(t_s)
            except (KeyError, CommandError) as e:
                log.warning("OSC: cannot force action %r: %s", req.action, e)
        if req.nudge_beats:
            self.offset_s -= req.nudge_beats * beat_s
            log.info("OSC: nudged %+.2f beats (offset %.3f s)", req.nudge_beats, self.offset_s)
            self._reschedule(t_s)
        if req.beat_at_s is not None and moves:
            starts = [m.start_s for m in moves]
            t = req.beat_at_s + self.offset_s
            i = bisect.bisect_left(starts, t)
            near = min(
                (starts[j] for j in (i - 1, i) if 0 <= j < len(starts)), key=lambda s: abs(s - t)
            )
            self.offset_s += near - t
            self._reschedule(t_s)
        if req.tempo_bpm is not None:
            log.info(
                "OSC: tempo %.1f bpm ignored: the song plan fixes the tempo (use `live`)",
                req.tempo_bpm,
            )
        if req.model is not None:
            if self.model_switcher is None:
                self.notice = f"model switching unavailable ({req.model})"
                log.warning("OSC: %s", self.notice)
            else:  # the notice first: the switcher may report back before it returns
                self.notice = f"loading model {req.model}"
                self.model_switcher(req.model)

    def _steer_clock(self, req: Requests) -> None:
        clock = self.beat_clock
        if req.tempo_bpm is not None:
            clock.set_tempo(req.tempo_bpm, req.beat_at_s)
            log.info("OSC: tempo %.1f bpm", req.tempo_bpm)
        elif req.beat_at_s is not None:
            clock.tap(req.beat_at_s)
        if req.nudge_beats:
            clock.nudge(req.nudge_beats)
            log.info("OSC: nudged the beat clock %+.2f beats", req.nudge_beats)

    def _reschedule(self, t_s: float) -> None:
        if self.out is not None:
            self.out.clear()
        self._scheduled_until_s = t_s

    def _schedule(self, t_s: float) -> None:
        """Hand the beats in (scheduled_until, t_s + lookahead] to the OSC scheduler thread."""
        assert self.out is not None
        horizon_s = t_s + self.lookahead_s
        timeline = self.choreographer
        # one before the bisection point, then skip what was sent: the offset's rounding must
        # neither repeat nor skip a beat
        i = max(0, timeline.index_after(self._scheduled_until_s + self.offset_s) - 1)
        while i < timeline.n_moves:
            move = timeline.move(i)
            at_s = move.start_s - self.offset_s
            if at_s <= self._scheduled_until_s:
                i += 1
                continue
            if at_s > horizon_s:
                break
            span_s = move.end_s - move.start_s
            bpm = 60.0 / span_s if span_s > 0 else 0.0
            if at_s >= t_s - 0.05:  # a beat already well past is not announced late
                conf = 1.0 if self.beat_clock is None else float(self.beat_clock.confidence)
                self.out.beat(i, bpm, conf, at_s=at_s)
                if move.action != self._last_action:
                    self.out.action(move.action, self._action_index(move.action), at_s=at_s)
            else:
                self.beats_unannounced += 1
            self._last_action = move.action
            self._scheduled_until_s = at_s
            i += 1

    def _action_index(self, name: str) -> int:
        names = [a.name for a in self.choreographer.actions]
        return names.index(name) if name in names else -1


def _beat_period_s(choreographer: Choreographer, t_s: float) -> float:
    """The beat period at ``t_s`` (the nearest move's, before the first or after the last)."""
    moves = choreographer.moves
    if not moves:
        return 0.5
    starts = [m.start_s for m in moves]
    i = min(max(bisect.bisect_right(starts, t_s) - 1, 0), len(moves) - 1)
    span_s = moves[i].end_s - moves[i].start_s
    return span_s if span_s > 0 else 0.5
