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
- ``manual``: the operator set the tempo (`tap`, `set_tempo`); the audio may still correct the
  phase when it agrees with that tempo, and silence does not stop it. `release` hands back.

All times are seconds on the input's timeline (the show's master clock). Every read goes through
one immutable snapshot, swapped whole on each update, so a render thread may read while the
analysis thread writes.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace
from typing import Literal

from livedance.audio.tempo import PulseEstimate

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
        min_bpm, max_bpm: tempo range the clock accepts (also for taps and `set_tempo`).
        coast_s: seconds the clock keeps beating without a clear pulse in the audio.
        relock_s: seconds without an estimate that agrees with the clock (tempo, and phase
            within a fifth of a beat) after which it jumps to an estimate most recent ones share.
        phase_gain: fraction of the phase error corrected per estimate (estimates come ~20/s).
        tempo_gain: fraction of the tempo error corrected per estimate.
    """

    def __init__(
        self,
        *,
        min_bpm: float = 50.0,
        max_bpm: float = 200.0,
        coast_s: float = 10.0,
        relock_s: float = 1.0,
        phase_gain: float = 0.12,
        tempo_gain: float = 0.06,
    ) -> None:
        if not 0 < min_bpm < max_bpm:
            raise ValueError(f"tempo range must satisfy 0 < min < max, got {min_bpm}..{max_bpm}")
        self.min_bpm, self.max_bpm = float(min_bpm), float(max_bpm)
        self.coast_s = float(coast_s)
        self.relock_s = float(relock_s)
        self.phase_gain = float(phase_gain)
        self.tempo_gain = float(tempo_gain)
        self._snap = ClockSnapshot("idle", 0.5, 0.0, None, 0.0)
        self._last_support_s: float | None = None  # when an estimate last agreed with the clock
        self._recent: list[tuple[float, PulseEstimate]] = []  # strong estimates, newest last
        self._taps: list[float] = []
        self._skip_logged: float | None = None  # the last skipped beat logged (debug)

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
        if estimate is None or estimate.strength < MIN_STRENGTH:
            self._lose_support(now_s)
            return
        self._recent = [(t, e) for t, e in self._recent if now_s - t < CONSENSUS_S]
        self._recent.append((now_s, estimate))
        snap = self._snap
        if snap.state == "idle":
            if estimate.strength >= LOCK_STRENGTH and self._consensus(estimate) >= 0.5:
                self._lock(estimate, now_s)
            return
        ratio = estimate.period_s / snap.period_s
        phase_error = _wrap((estimate.beat_s - snap.anchor_s) / snap.period_s)
        same_tempo = abs(math.log(ratio)) < math.log1p(TEMPO_TOLERANCE)
        if same_tempo and abs(phase_error) < 0.2:
            self._follow(estimate, phase_error, now_s)
            return
        self._lose_support(now_s)
        if snap.state == "manual" and not same_tempo:
            return  # the operator's tempo wins over a disagreeing audio
        if self._last_support_s is None:  # released: count from the first estimate
            self._last_support_s = now_s
        unsupported_s = now_s - self._last_support_s
        if unsupported_s >= self.relock_s and self._consensus(estimate) >= 0.5:
            self._lock(estimate, now_s)

    def stop(self, now_s: float) -> None:
        """The music stopped: go idle (a manual clock keeps going). The tempo is remembered."""
        snap = self._snap
        if snap.state != "manual" and snap.state != "idle":
            log.debug("beat clock idle at %.2f s (music stopped)", now_s)
            self._snap = replace(snap, state="idle", confidence=0.0)
        self._recent = []

    def beats_until(self, now_s: float) -> list[float]:
        """Beats that have come due by ``now_s`` since the last call (each handed out once).

        A beat is never handed out within half a period of the previous one, so a phase
        correction cannot produce a double beat.
        """
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
    def tap(self, t_s: float) -> None:
        """A tap on the beat (a key, a pad): two or more taps set the tempo and the phase.

        Taps more than 2 s apart start a new series; the tempo is the least-squares slope over
        the last eight taps, so a sloppy tap moves it little. A tempo outside the clock's range
        is ignored. The clock then runs in ``manual`` state until `release`.

        Args:
            t_s: when the tap happened, on the same timeline as the audio.
        """
        if self._taps and t_s - self._taps[-1] > 2.0:
            self._taps = []
        self._taps = [*self._taps[-7:], float(t_s)]
        if len(self._taps) < 2:
            return
        n = len(self._taps)
        mean_k = (n - 1) / 2
        mean_t = sum(self._taps) / n
        num = sum((k - mean_k) * (t - mean_t) for k, t in enumerate(self._taps))
        den = sum((k - mean_k) ** 2 for k in range(n))
        period = num / den
        if period <= 0 or not self.min_bpm <= 60.0 / period <= self.max_bpm:
            log.info("taps %.2f s apart are outside %g..%g bpm", period, self.min_bpm, self.max_bpm)
            return
        anchor = mean_t + (n - 1 - mean_k) * period  # the fitted time of the last tap
        self._set_manual(period, anchor)

    def set_tempo(self, bpm: float, beat_s: float | None = None) -> None:
        """Set the tempo by hand; the clock then runs in ``manual`` state until `release`.

        Args:
            bpm: the tempo.
            beat_s: the time of one beat; None keeps the phase around the latest beat.

        Raises:
            ValueError: ``bpm`` outside the clock's tempo range.
        """
        if not self.min_bpm <= bpm <= self.max_bpm:
            raise ValueError(f"tempo {bpm} bpm is outside {self.min_bpm:g}..{self.max_bpm:g}")
        snap = self._snap
        if beat_s is None:  # keep the phase around the latest beat
            pivot = snap.last_beat_s if snap.last_beat_s is not None else snap.anchor_s
            beat_s = _grid_beat_at_or_after(snap, pivot - 0.5 * snap.period_s)
        self._set_manual(60.0 / bpm, float(beat_s))

    def nudge(self, beats: float) -> None:
        """Shift the beat grid (e.g. 0.5 when the dancer is on the off-beat).

        Args:
            beats: the shift in beats, + later, - earlier (0.05 trims a slow projector).
        """
        snap = self._snap
        self._snap = replace(snap, anchor_s=snap.anchor_s + beats * snap.period_s)

    def release(self) -> None:
        """Leave manual mode: the audio steers the clock again."""
        if self._snap.state == "manual":
            self._snap = replace(self._snap, state="tracking", confidence=0.5)
            self._last_support_s = None

    # ----------------------------------------------------------------------------- internals
    def _set_manual(self, period_s: float, anchor_s: float) -> None:
        self._snap = replace(
            self._snap, state="manual", period_s=period_s, anchor_s=anchor_s, confidence=1.0
        )
        log.debug("beat clock manual: %.1f bpm", 60.0 / period_s)

    def _lock(self, estimate: PulseEstimate, now_s: float) -> None:
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
            period = min(max(period, 60.0 / self.max_bpm), 60.0 / self.min_bpm)
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
