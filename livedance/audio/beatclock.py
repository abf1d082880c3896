"""The beat clock: a phase-locked loop that predicts the next beats, so accents land ON the beat.

The "beat clock" of DESIGN.md's live data flow, between the beat tracker and the choreographer.
The tracker (`livedance.audio.beats.BeatTracker`) steers it with pulse estimates
(`livedance.audio.tempo.PulseEstimate`); the show asks it where the beats are: `next_beat_s`,
`phase`, `bpm`, `confidence`, `state`. Because it runs ahead of the audio, a frame drawn for the
next beat can be rendered before that beat happens, not a detection delay after it.

States:
- ``idle``: no beat (nothing heard yet, or the music stopped): the dancer stands and breathes.
- ``tracking``: locked to the audio.
- ``coasting``: the audio still sounds but shows no clear pulse (a breakdown, a held chord); the
  clock keeps the last tempo for up to ``coast_s`` with falling confidence, then goes idle.
- ``manual``: the operator holds the tempo (`set_tempo`, a tap's `align`): it ends on `release`,
  after ``hold_s``, or when the music stops. While it holds, the audio corrects the phase only
  when it agrees with that tempo within `MANUAL_TOLERANCE`, so the beats come at the tempo the
  clock says.

A tempo is never an error once the show runs: one outside the clock's `TempoRange` is folded into
it by octaves (or clamped) with a log line.

All times are seconds on the input's timeline (the show's master clock). Every read goes through
one immutable snapshot, swapped whole on each change, so a render thread may read while another
writes; every change holds one lock, because the analysis thread steers the clock while the show
thread applies the operator's commands.
"""

from __future__ import annotations

import logging
import math
import threading
from dataclasses import dataclass, replace
from typing import Literal

from livedance.audio.tempo import PulseEstimate
from livedance.audio.temporange import DEFAULT_TEMPO, TempoRange

log = logging.getLogger(__name__)

State = Literal["idle", "tracking", "coasting", "manual"]

MIN_STRENGTH = 0.08
"""Pulse clarity below which an estimate does not steer the clock."""

LOCK_STRENGTH = 0.15
"""Pulse clarity an idle clock needs to start beating."""

CONSENSUS_S = 1.0
"""Recent estimates within this many seconds vote on a lock or a re-lock."""

MIN_VOTES = 8
"""Estimates needed for a vote (at ~20 estimates/s, about 0.4 s of them)."""

LATE_BEAT_S = 0.05
"""A beat that came due longer ago than this (after a jump of the grid) is not handed out."""

TEMPO_TOLERANCE = 0.04
"""Relative tempo difference within which an estimate counts as the same tempo."""

MANUAL_TOLERANCE = 0.015
"""While the operator holds a tempo, the audio corrects the phase only within this relative
tempo difference (a wider one would make the beats come at the audio's tempo, not the held one)."""

HOLD_S = 30.0
"""How long a tempo the operator set holds before the audio steers again (None: until release)."""


@dataclass(frozen=True)
class ClockSnapshot:
    """Everything a reader needs, swapped atomically.

    Attributes:
        state: see the module docstring.
        period_s: beat period (the last known one while idle).
        anchor_s: the time of one beat; beats are at ``anchor_s + k * period_s``.
        last_beat_s: the last beat handed out by `BeatClock.beats_until`, if any.
        confidence: 0..1, how sure the clock is of its beats.
    """

    state: State
    period_s: float
    anchor_s: float
    last_beat_s: float | None
    confidence: float


class BeatClock:
    """A second-order phase-locked loop over beat estimates, with tap tempo and an idle state.

    Args:
        tempo: the tempi the clock runs at (an operator's tempo is folded into it).
        coast_s: seconds the clock keeps beating without a clear pulse in the audio.
        relock_s: seconds without an estimate that agrees with the clock (tempo, and phase
            within a fifth of a beat) after which it jumps to an estimate most recent ones share.
        phase_gain: fraction of the phase error corrected per estimate (estimates come ~20/s).
        tempo_gain: fraction of the tempo error corrected per estimate.
        hold_s: how long an operator's tempo holds (None: until `release`).
    """

    def __init__(
        self,
        *,
        tempo: TempoRange = DEFAULT_TEMPO,
        coast_s: float = 10.0,
        relock_s: float = 1.0,
        phase_gain: float = 0.12,
        tempo_gain: float = 0.06,
        hold_s: float | None = HOLD_S,
    ) -> None:
        self.tempo = tempo
        self.hold_s = hold_s
        self.coast_s = float(coast_s)
        self.relock_s = float(relock_s)
        self.phase_gain = float(phase_gain)
        self.tempo_gain = float(tempo_gain)
        self._snap = ClockSnapshot("idle", 0.5, 0.0, None, 0.0)
        self._lock = threading.RLock()  # every change: the analysis and the show thread steer it
        self._last_support_s: float | None = None  # when an estimate last agreed with the clock
        self._recent: list[tuple[float, PulseEstimate]] = []  # strong estimates, newest last
        self._skip_logged: float | None = None  # the last skipped beat logged (debug)
        self._time_s = 0.0  # the latest time the clock was told about
        self._hold_until_s: float | None = None  # when the operator's tempo ends (manual state)

    # ----------------------------------------------------------------------------- reading
    @property
    def state(self) -> State:
        return self._snap.state

    @property
    def is_idle(self) -> bool:
        """True when there is no beat to dance to (the dancer should idle and breathe)."""
        return self._snap.state == "idle"

    @property
    def bpm(self) -> float:
        """Current tempo (the last known one while idle)."""
        return 60.0 / self._snap.period_s

    @property
    def period_s(self) -> float:
        return self._snap.period_s

    @property
    def confidence(self) -> float:
        """0..1: pulse clarity of the audio the clock follows (1 for a manual tempo)."""
        return self._snap.confidence

    def snapshot(self) -> ClockSnapshot:
        """The whole clock state at once (consistent for a reader on another thread)."""
        return self._snap

    def next_beat_s(self, now_s: float) -> float | None:
        """The first beat at or after ``now_s``; None while idle.

        Args:
            now_s: the time asked about (usually the master clock's now, or a frame's time).

        Returns:
            The predicted beat time, or None.
        """
        snap = self._snap
        if snap.state == "idle":
            return None
        return _next_grid_beat(snap, now_s)

    def beats_between(self, t0_s: float, t1_s: float) -> list[float]:
        """Predicted beats in ``[t0_s, t1_s)`` (empty while idle), e.g. to plan moves ahead."""
        snap = self._snap
        if snap.state == "idle" or t1_s <= t0_s:
            return []
        out = []
        t = _next_grid_beat(snap, t0_s)
        while t < t1_s:
            out.append(t)
            t += snap.period_s
        return out

    def phase(self, now_s: float) -> float:
        """Beat phase 0..1 at ``now_s`` (0 on the beat); 0 while idle."""
        snap = self._snap
        if snap.state == "idle":
            return 0.0
        return ((now_s - snap.anchor_s) / snap.period_s) % 1.0

    # ----------------------------------------------------------------------------- steering
    def update(self, estimate: PulseEstimate | None, now_s: float) -> None:
        """Steer the clock with one estimate from the audio (None: no estimate possible yet).

        Args:
            estimate: the pulse estimator's latest view of the recent audio.
            now_s: the input time it refers to.
        """
        with self._lock:
            self._advance(now_s)
            if estimate is None or estimate.strength < MIN_STRENGTH:
                self._lose_support(now_s)
                return
            self._recent = [(t, e) for t, e in self._recent if now_s - t < CONSENSUS_S]
            self._recent.append((now_s, estimate))
            snap = self._snap
            if snap.state == "idle":
                if estimate.strength >= LOCK_STRENGTH and self._consensus(estimate) >= 0.5:
                    self._lock_on(estimate, now_s)
                return
            ratio = estimate.period_s / snap.period_s
            phase_error = _wrap((estimate.beat_s - snap.anchor_s) / snap.period_s)
            tolerance = MANUAL_TOLERANCE if snap.state == "manual" else TEMPO_TOLERANCE
            same_tempo = abs(math.log(ratio)) < math.log1p(tolerance)
            if same_tempo and abs(phase_error) < 0.2:
                self._follow(estimate, phase_error, now_s)
                return
            self._lose_support(now_s)
            if snap.state == "manual":
                return  # the operator's tempo holds until released
            if self._last_support_s is None:  # released: count from the first estimate
                self._last_support_s = now_s
            unsupported_s = now_s - self._last_support_s
            if unsupported_s >= self.relock_s and self._consensus(estimate) >= 0.5:
                self._lock_on(estimate, now_s)

    def stop(self, now_s: float) -> None:
        """The music stopped: go idle, ending a tempo the operator held. The tempo is kept."""
        with self._lock:
            self._time_s = max(self._time_s, now_s)
            snap = self._snap
            if snap.state != "idle":
                log.debug("beat clock idle at %.2f s (music stopped)", now_s)
                if snap.state == "manual":
                    log.info("tempo hold ended: the music stopped")
                self._snap = replace(snap, state="idle", confidence=0.0)
            self._hold_until_s = None
            self._recent = []

    def beats_until(self, now_s: float) -> list[float]:
        """Beats that have come due by ``now_s`` since the last call (each handed out once).

        A beat is never handed out within half a period of the previous one, so a phase
        correction cannot produce a double beat.
        """
        with self._lock:
            self._advance(now_s)
            snap = self._snap
            if snap.state == "idle":
                return []
            out: list[float] = []
            # a beat more than a hop or two late (the grid just jumped) is skipped, not sent late
            t = _next_grid_beat(snap, now_s - LATE_BEAT_S)
            if log.isEnabledFor(logging.DEBUG) and snap.last_beat_s is not None:
                missed = _next_grid_beat(snap, snap.last_beat_s)
                if missed < t and missed != self._skip_logged:
                    self._skip_logged = missed
                    log.debug(
                        "beat at %.3f s skipped at %.3f s (last %.3f s, %s, %.1f bpm)",
                        missed, now_s, snap.last_beat_s, snap.state, 60.0 / snap.period_s,
                    )  # fmt: skip
            while t <= now_s:
                out.append(t)
                t += snap.period_s
            if out:
                self._snap = replace(self._snap, last_beat_s=out[-1])
            return out

    # ----------------------------------------------------------------------------- operator
    def set_tempo(self, bpm: float, beat_s: float | None = None) -> float | None:
        """Hold a tempo the operator asked for (``manual`` state) until released or timed out.

        A tempo outside the clock's range is folded into it by octaves, or clamped, and logged;
        it never raises.

        Args:
            bpm: the tempo asked for.
            beat_s: the time of one beat; None keeps the phase around the latest beat.

        Returns:
            The tempo the clock now holds, or None when ``bpm`` is not a tempo at all.
        """
        if not (math.isfinite(bpm) and bpm > 0):
            log.warning("tempo %r ignored: not a tempo", bpm)
            return None
        used = self.tempo.fold(bpm)
        if abs(used - bpm) > 1e-9:
            log.info("tempo %.1f bpm is outside %s: holding %.1f", bpm, self.tempo.describe(), used)
        with self._lock:
            snap = self._snap
            if beat_s is None:  # keep the phase around the latest beat
                pivot = snap.last_beat_s if snap.last_beat_s is not None else snap.anchor_s
                beat_s = _grid_beat_at_or_after(snap, pivot - 0.5 * snap.period_s)
            self._hold(60.0 / used, float(beat_s))
        return used

    def scale_tempo(self, factor: float) -> float | None:
        """Double (2) or halve (0.5) the tempo and hold it, keeping the latest beat on the grid.

        Unlike `set_tempo` it does not fold into the range (that would undo it): a result
        outside the range is refused with a log line, as is a clock with no tempo yet.

        Returns:
            The tempo the clock now holds, or None when refused.
        """
        with self._lock:
            snap = self._snap
            if snap.state == "idle":
                log.info("tempo x%g ignored: no tempo yet", factor)
                return None
            bpm = 60.0 / snap.period_s * factor
            if not self.tempo.min_bpm <= bpm <= self.tempo.max_bpm:
                log.info("tempo x%g ignored: %.1f bpm is outside %s", factor, bpm,
                         self.tempo.describe())  # fmt: skip
                return None
            pivot = snap.last_beat_s if snap.last_beat_s is not None else snap.anchor_s
            self._hold(60.0 / bpm, _grid_beat_at_or_after(snap, pivot - 0.5 * snap.period_s))
            return bpm

    def align(self, beat_s: float) -> None:
        """A beat falls at ``beat_s`` (an operator's tap): shift the grid there, hold the tempo.

        Does nothing while idle (there is no tempo to align yet).
        """
        with self._lock:
            snap = self._snap
            if snap.state == "idle":
                return
            self._hold(snap.period_s, float(beat_s))

    def nudge(self, beats: float) -> None:
        """Shift the beat grid (e.g. 0.5 when the dancer is on the off-beat).

        Args:
            beats: the shift in beats, + later, - earlier (0.05 trims a slow projector).
        """
        with self._lock:
            snap = self._snap
            self._snap = replace(snap, anchor_s=snap.anchor_s + beats * snap.period_s)

    def release(self) -> None:
        """End the operator's tempo: the audio steers the clock again."""
        with self._lock:
            self._hold_until_s = None
            if self._snap.state == "manual":
                self._snap = replace(self._snap, state="tracking", confidence=0.5)
                self._last_support_s = None
                log.info("tempo hold released: tracking the audio")

    @property
    def held_until_s(self) -> float | None:
        """When the operator's tempo ends (None: not held, or held until released)."""
        return self._hold_until_s if self._snap.state == "manual" else None

    # ----------------------------------------------------------------------------- internals
    def _advance(self, now_s: float) -> None:
        """Note the time; a tempo hold whose time is up ends here."""
        self._time_s = max(self._time_s, now_s)
        until = self._hold_until_s
        if until is not None and now_s >= until and self._snap.state == "manual":
            log.info("tempo hold of %.0f s ended: tracking the audio", self.hold_s or 0.0)
            self.release()

    def _hold(self, period_s: float, anchor_s: float) -> None:
        self._snap = replace(
            self._snap, state="manual", period_s=period_s, anchor_s=anchor_s, confidence=1.0
        )
        self._hold_until_s = None if self.hold_s is None else self._time_s + self.hold_s
        log.debug("beat clock manual: %.1f bpm", 60.0 / period_s)

    def _lock_on(self, estimate: PulseEstimate, now_s: float) -> None:
        state: State = "manual" if self._snap.state == "manual" else "tracking"
        self._snap = replace(
            self._snap,
            state=state,
            period_s=estimate.period_s,
            anchor_s=estimate.beat_s,
            confidence=min(1.0, estimate.strength * 2),
        )
        self._last_support_s = now_s
        log.debug("beat clock locked: %.1f bpm at %.2f s", estimate.bpm, now_s)

    def _follow(self, estimate: PulseEstimate, phase_error: float, now_s: float) -> None:
        """The estimate agrees: pull phase and tempo towards it (a second-order loop)."""
        snap = self._snap
        period = snap.period_s
        # the grid pivots on the beat nearest to now: a tempo change must not move the beats
        # around now just because the anchor is a beat long ago
        anchor = snap.anchor_s + round((now_s - snap.anchor_s) / period) * period
        if snap.state != "manual":
            period += self.tempo_gain * (estimate.period_s - period)
            period *= 1.0 + 0.25 * self.phase_gain * phase_error
            period = min(max(period, self.tempo.min_period_s), self.tempo.max_period_s)
        anchor += self.phase_gain * phase_error * snap.period_s
        confidence = snap.confidence + 0.1 * (min(1.0, estimate.strength * 2) - snap.confidence)
        state: State = "manual" if snap.state == "manual" else "tracking"
        self._snap = replace(
            snap, state=state, period_s=period, anchor_s=anchor, confidence=confidence
        )
        self._last_support_s = now_s

    def _lose_support(self, now_s: float) -> None:
        """No agreeing estimate: coast on the last tempo, go idle after `coast_s`."""
        snap = self._snap
        if snap.state in ("idle", "manual"):
            return
        if self._last_support_s is None:
            self._last_support_s = now_s
        since = now_s - self._last_support_s
        if since > self.coast_s:
            log.debug("beat clock idle at %.2f s (no pulse for %.1f s)", now_s, since)
            self._snap = replace(snap, state="idle", confidence=0.0)
        elif since > 1.0:
            self._snap = replace(snap, state="coasting", confidence=snap.confidence * 0.98)

    def _consensus(self, estimate: PulseEstimate) -> float:
        """Fraction of the recent strong estimates that agree with ``estimate``.

        Needs `MIN_VOTES` of them (else 0), so one estimate never decides.
        """
        if len(self._recent) < MIN_VOTES:
            return 0.0
        agree = sum(_agree(estimate, other) for _, other in self._recent)
        return agree / len(self._recent)


def _agree(a: PulseEstimate, b: PulseEstimate) -> bool:
    """Same tempo (within `TEMPO_TOLERANCE`) and the same beats (within 0.15 of a beat)."""
    if abs(math.log(a.period_s / b.period_s)) >= math.log1p(TEMPO_TOLERANCE):
        return False
    return abs(_wrap((a.beat_s - b.beat_s) / b.period_s)) < 0.15


def _wrap(x: float) -> float:
    """Wrap a phase difference in beats to [-0.5, 0.5)."""
    return (x + 0.5) % 1.0 - 0.5


def _grid_beat_at_or_after(snap: ClockSnapshot, t_s: float) -> float:
    k = math.ceil((t_s - snap.anchor_s) / snap.period_s - 1e-9)
    return snap.anchor_s + k * snap.period_s


def _next_grid_beat(snap: ClockSnapshot, t_s: float) -> float:
    """The first beat of the grid at or after ``t_s`` and half a period after the last one."""
    if snap.last_beat_s is not None:
        t_s = max(t_s, snap.last_beat_s + 0.5 * snap.period_s)
    return _grid_beat_at_or_after(snap, t_s)
