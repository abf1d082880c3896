"""Tempo and beat phase from the recent novelty: the estimator that steers the live beat clock.

Second box of the "beat tracker (aubio)" in DESIGN.md's live data flow, between the novelty front
end (`livedance.audio.novelty`) and the beat clock (`livedance.audio.beatclock`). It keeps the
last few seconds of novelty and, when asked, estimates the pulse from them alone (causal):

1. **Tempo family**: the autocorrelation of the recent novelty, weighted towards the newest
   samples, summed over every multiple of a candidate period up to a few seconds (a comb filter
   bank, so tresillo-like periodicities of syncopated music lose to the beat), plus the
   periodicity of its half and quarter tempo (bar and half-bar structure support the beat they
   divide into), times a broad log-normal tempo prior; octaves fold into the allowed range.
2. **Metrical level** (which member of the family): where a snare or clap repeats every other
   beat of one member (the backbeat, `livedance.audio.metre.backbeat_bpm`), that member; else,
   from the slowest level at or above 60 BPM,
   the tempo doubles while the novelty half way between its beats is strong against the novelty
   on them and the doubled tempo's own off-beats are weak (kick and snare alternating on a fast
   backbeat), not when the off-beats are merely busy (strummed patterns, eighth-note hi-hats).
3. **Period and phase**: the period refined to the one that folds the novelty sharpest, then the
   recent novelty folded at it, newest weighted most; the fold's peak is the beat. Where the
   kick band (`livedance.audio.novelty`, the lowest band) lands at one place of the beat, over
   several seconds, its fold is added: in dembow the syncopated snare is louder than the kick,
   but the kick is the beat.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.ndimage

from livedance.audio.metre import (
    FOLD_BINS,
    backbeat_bpm,
    bar_place,
    circular_distance,
    fold_profile,
    fold_profiles,
    opposite_ratio,
    peak_ago,
    scaled,
)

FloatArray = npt.NDArray[np.float64]

PRIOR_BPM = 110.0
"""Centre of the log-normal tempo prior (where listeners tap most often)."""

PRIOR_OCTAVES = 1.0
"""Standard deviation of the tempo prior, in octaves (broad: the range limits do the rest)."""

MIN_HISTORY_S = 3.0
"""Seconds of novelty needed before the first estimate (shorter ones mistake syncopations)."""

MIN_HISTORY_KNOWN_S = 2.0
"""The same when the clock knows a tempo already (music resuming after a break)."""

CONTINUITY_BONUS = 0.25
"""Salience bonus of tempi within 5 % of the one the clock follows (keeps close calls steady)."""

GRID_PER_OCTAVE = 48
"""Tempo candidates per octave of the comb filter bank (refined afterwards)."""

COMB_SPAN_S = 4.0
"""Autocorrelation lags up to this are summed in the comb filter bank."""

SLOWEST_START_BPM = 60.0
"""The metrical level search starts at the slowest level of the tempo family at or above this
(slower beats are rare; a lower `min_bpm` still admits them when nothing faster fits)."""

DOUBLE_EVIDENCE = 0.3
"""Evidence (see `PulseEstimator._metrical_level`) above which the tempo doubles."""

FAST_OFFBEAT_WEIGHT = 0.5
"""How much strong off-beats of the doubled tempo count against doubling."""

DOUBLE_HYSTERESIS = 0.06
"""Extra evidence needed to leave the metrical level the clock is on (less to move onto it)."""

LEVEL_HALF_LIFE_FACTOR = 2.0
"""The metrical level is judged over a longer memory than the phase (it changes rarely)."""

PHASE_BASS_WEIGHT = 2.0
"""How much the bass-band fold (kick, bass) counts in the phase, against the whole novelty's
fold (each scaled to its peak): syncopated snares and claps are louder than the kick in dembow,
but the kick and the bass land on the beat."""

BASS_RUNNER_UP_MAX, BASS_RUNNER_UP_SPAN = 0.68, 0.06
"""The bass fold counts fully in the phase when its highest value away from its peak (more than
1/8 of a beat off, above its floor) is at most 0.5 of the peak, and not at all from 0.7."""

RUNNER_UP_SMOOTHING = 0.01
"""Smoothing of the bass fold's runner-up per estimate (every 50 ms: a time constant of 5 s)."""

REFINE_SPAN, REFINE_STEPS = 0.02, 17
"""The period is refined over +-2 % in this many steps (then interpolated)."""


@dataclass(frozen=True)
class PulseEstimate:
    """What the recent audio says about the beat.

    Attributes:
        time_s: input time the estimate was made at (only samples up to it were used).
        period_s: beat period.
        beat_s: time of the most recent beat at or before ``time_s`` (the fold's peak).
        strength: pulse clarity, 0 (no periodicity) .. 1 (a perfect click track).
    """

    time_s: float
    period_s: float
    beat_s: float
    strength: float

    @property
    def bpm(self) -> float:
        return 60.0 / self.period_s


@dataclass(frozen=True)
class _CombLayout:
    """Where the comb reads the autocorrelation for one window length (`_periodicity`).

    Attributes:
        shape: (tempos, multiples) of the comb's lag table.
        max_lag: the longest lag read, in frames.
        groups: per half width of the lag's tolerance: the flat table cells and the lags
            (frames) read there.
        count: lags per tempo within ``max_lag``.
        overlap: the recency weights summed over the overlap at each lag.
    """

    shape: tuple[int, int]
    max_lag: int
    groups: tuple[tuple[int, npt.NDArray[np.int64], npt.NDArray[np.int64]], ...]
    count: npt.NDArray[np.int64]
    overlap: FloatArray


class PulseEstimator:
    """Keeps a sliding window of novelty and estimates tempo and phase from it on request.

    Args:
        frame_rate_hz: novelty values per second (sample rate / hop).
        min_bpm, max_bpm: the tempo range the estimate stays in.
        window_s: seconds of novelty kept and analysed.
        half_life_s: recency weighting of the analysis (older samples count less).
        latency_s: how far the novelty lags the sound (analysis window), subtracted from times.
        kick_phase: let the kick band mark the beat's phase where it lands at one place of the
            beat (`PHASE_BASS_WEIGHT`); off, the whole novelty's fold alone decides.
        backbeat_only_faster: the snare's backbeat may only double the level the novelty's own
            metre gives, never halve it (for a learned activation that knows the level: it
            keeps half-time trap at its notated tempo, where a snare on 3 reads as a backbeat
            at half of it).
    """

    def __init__(
        self,
        frame_rate_hz: float,
        *,
        min_bpm: float = 50.0,
        max_bpm: float = 200.0,
        window_s: float = 8.0,
        half_life_s: float = 2.0,
        latency_s: float = 0.0,
        kick_phase: bool = True,
        backbeat_only_faster: bool = False,
    ) -> None:
        if not 0 < min_bpm < max_bpm:
            raise ValueError(f"tempo range must satisfy 0 < min < max, got {min_bpm}..{max_bpm}")
        self.frame_rate_hz = float(frame_rate_hz)
        self.min_bpm, self.max_bpm = float(min_bpm), float(max_bpm)
        self.half_life_s = float(half_life_s)
        self.latency_s = float(latency_s)
        self.kick_weight = PHASE_BASS_WEIGHT if kick_phase else 0.0
        self.backbeat_only_faster = backbeat_only_faster
        self._size = round(window_s * frame_rate_hz)
        self._ring = np.zeros(self._size, dtype=np.float64)
        self._bass_ring = np.zeros(self._size, dtype=np.float64)
        self._body_ring = np.zeros(self._size, dtype=np.float64)
        self._snare_ring = np.zeros(self._size, dtype=np.float64)
        self._count = 0  # values pushed since the last reset
        self.level_from_backbeat = False  # the last estimate's level came from the snare's role
        self._runner_up: float | None = None  # smoothed, see `_phase`
        self._frames = 0  # values pushed ever (the time axis)
        # Tempo candidates reach an octave beyond the range on both sides: a song outside the
        # range is followed at twice or half its tempo, not at some other ratio. The grid of
        # periodicities reaches two octaves further down: bar and half-bar periodicities
        # support the beat level they divide into.
        steps = math.ceil(math.log2(self.max_bpm / self.min_bpm) * GRID_PER_OCTAVE)
        octave = np.arange(-3 * GRID_PER_OCTAVE, steps + GRID_PER_OCTAVE + 1) / GRID_PER_OCTAVE
        self._grid = self.min_bpm * 2**octave
        self._first = 2 * GRID_PER_OCTAVE  # index of the first candidate (min_bpm / 2)
        self._bpms = self._grid[self._first :]  # the candidates: min_bpm / 2 .. 2 * max_bpm
        log_dev = np.log2(self._bpms / PRIOR_BPM) / PRIOR_OCTAVES
        self._prior = np.exp(-0.5 * log_dev**2)
        self._support = [(GRID_PER_OCTAVE, 0.5), (2 * GRID_PER_OCTAVE, 0.25)]
        self._comb_full: _CombLayout | None = None  # `_comb` of a full window
        self._recency_full: tuple[FloatArray, FloatArray] | None = None  # `_recency` of one

    def push(
        self,
        novelty: float,
        *,
        bass: float | None = None,
        body: float | None = None,
        snare: float | None = None,
    ) -> None:
        """Append one novelty value (one hop).

        Args:
            novelty: the whole novelty.
            bass: its bass bands alone (kick, bass), for the phase; the whole one if None.
            body: its bands without hi-hats and cymbals, for the metrical level; the whole one
                if None.
            snare: its snare bands alone, for the metrical level (`livedance.audio.metre`);
                none (no backbeat rule) if None.
        """
        slot = self._frames % self._size
        self._ring[slot] = novelty
        self._bass_ring[slot] = novelty if bass is None else bass
        self._body_ring[slot] = novelty if body is None else body
        self._snare_ring[slot] = 0.0 if snare is None else snare
        self._frames += 1
        self._count += 1

    def reset(self) -> None:
        """Forget the history (after silence: the next music may have another tempo)."""
        self._count = 0
        self._runner_up = None

    def estimate(self, prefer_period_s: float | None = None) -> PulseEstimate | None:
        """Tempo and phase from the history; None with too little of it (`MIN_HISTORY_S`).

        Args:
            prefer_period_s: the period the clock follows (or last followed), if any;
                candidates within 5 % of it get a bonus, so the estimate does not flip between
                close calls, and an estimate comes after `MIN_HISTORY_KNOWN_S` already.

        Returns:
            The estimate at the time of the newest sample.
        """
        n = min(self._count, self._size)
        min_history_s = MIN_HISTORY_S if prefer_period_s is None else MIN_HISTORY_KNOWN_S
        if n < min_history_s * self.frame_rate_hz:
            return None
        x = self._window(n)
        weights, level_weights = self._recency(n)
        periodicity = self._periodicity(x, weights)
        strength = periodicity[self._first :]
        salience = strength.copy()
        for offset, weight in self._support:
            salience += weight * periodicity[self._first - offset : len(periodicity) - offset]
        salience *= self._prior
        if not np.any(salience > 0):
            return None
        if prefer_period_s is not None:
            ratio = np.abs(np.log2(self._bpms * prefer_period_s / 60.0))
            salience = salience * (1.0 + CONTINUITY_BONUS * (ratio < math.log2(1.05)))
        best = float(self._bpms[int(np.argmax(salience))])
        while best > self.max_bpm:
            best /= 2
        while best < self.min_bpm and best * 2 <= self.max_bpm:
            best *= 2
        x_body = self._window(n, self._body_ring)
        family = [b for b in best * 2.0 ** np.arange(-3, 4) if self.min_bpm <= b <= self.max_bpm]
        backbeat = backbeat_bpm(
            self._window(n, self._snare_ring), level_weights, self.frame_rate_hz, family
        )
        if backbeat is not None and not self.backbeat_only_faster:
            bpm = backbeat
        else:
            bpm = self._metrical_level(best, x, x_body, level_weights, prefer_period_s)
            if backbeat is not None and backbeat < 1.5 * bpm:
                backbeat = None
            bpm = backbeat or bpm
        self.level_from_backbeat = backbeat is not None
        if not self.min_bpm <= bpm <= self.max_bpm:  # a range narrower than an octave
            in_range = (self._bpms >= self.min_bpm) & (self._bpms <= self.max_bpm)
            bpm = float(self._bpms[in_range][int(np.argmax(salience[in_range]))])
        period_frames = self._refine_period(x, weights, self.frame_rate_hz * 60.0 / bpm)
        bpm = min(max(self.frame_rate_hz * 60.0 / period_frames, self.min_bpm), self.max_bpm)
        period_frames = self.frame_rate_hz * 60.0 / bpm
        phase_frames = self._phase(
            x, self._window(n, self._bass_ring), weights, level_weights, period_frames
        )
        now_s = self._frames / self.frame_rate_hz
        # phase_frames: how long ago (in frames) the newest beat was, counted from the newest
        # sample (the frame ending at `now_s`); the novelty lags the sound by `latency_s`
        beat_s = now_s - self.latency_s - phase_frames / self.frame_rate_hz
        k = int(np.argmin(np.abs(self._bpms - bpm)))
        return PulseEstimate(
            time_s=now_s, period_s=60.0 / bpm, beat_s=beat_s, strength=float(strength[k])
        )

    def _recency(self, n: int) -> tuple[FloatArray, FloatArray]:
        """Weights of the newest ``n`` values, oldest first: for the tempo and phase, and the
        longer memory of the metrical level (kept once the window is full)."""
        if self._recency_full is not None and n == self._size:
            return self._recency_full
        age_s = (n - 1 - np.arange(n)) / self.frame_rate_hz
        weights = (
            0.5 ** (age_s / self.half_life_s),
            0.5 ** (age_s / (LEVEL_HALF_LIFE_FACTOR * self.half_life_s)),
        )
        if n == self._size:
            self._recency_full = weights
        return weights

    def bar_phase(
        self, beat_s: float, period_s: float, beats_per_bar: int = 4
    ) -> tuple[float, float] | None:
        """The newest bar start at or before ``beat_s`` on the grid of beats through ``beat_s``
        every ``period_s`` (`livedance.audio.metre.bar_place`), and the margin it won by; None
        with too little history."""
        n = min(self._count, self._size)
        if n < MIN_HISTORY_S * self.frame_rate_hz:
            return None
        now_s = self._frames / self.frame_rate_hz
        beat_index = n - 1 - (now_s - self.latency_s - beat_s) * self.frame_rate_hz
        if not 0 <= beat_index < n:
            return None
        weights = self._recency(n)[1]
        place, margin = bar_place(
            self._window(n, self._bass_ring),
            self._window(n, self._snare_ring),
            weights,
            beat_index,
            period_s * self.frame_rate_hz,
            beats_per_bar,
        )
        return beat_s - place * period_s, margin

    def _window(self, n: int, ring: FloatArray | None = None) -> FloatArray:
        """The newest ``n`` values of ``ring`` (the whole novelty by default), oldest first."""
        values = self._ring if ring is None else ring
        start = (self._frames - n) % self._size
        if start + n <= self._size:
            return values[start : start + n].copy()
        return np.concatenate([values[start:], values[: start + n - self._size]])

    def _phase(
        self,
        x: FloatArray,
        x_bass: FloatArray,
        weights: FloatArray,
        long_weights: FloatArray,
        period_frames: float,
    ) -> float:
        """Frames before the newest sample of the newest beat: the peak of the whole novelty's
        fold plus `PHASE_BASS_WEIGHT` times the bass fold, each scaled to its own peak, the bass
        fold counted as far as it marks one place of the beat over the longer memory
        ``long_weights``."""
        whole = fold_profile(x, weights, period_frames)
        if self.kick_weight == 0.0:  # the kick has no say: the bass folds change nothing
            return peak_ago(whole, period_frames)
        bass = fold_profile(x_bass, weights, period_frames)
        long_bass = scaled(fold_profile(x_bass, long_weights, period_frames))
        # The kick band has a say only where it lands at one place of the beat: four on the
        # floor under a syncopated snare. A kick on several places (syncopated funk) or bass
        # notes and strings without drums leave the phase to the whole novelty.
        scaled_bass = scaled(bass)
        peak = int(np.argmax(long_bass))
        distance = circular_distance(np.arange(FOLD_BINS), peak)
        runner_up = float(long_bass[distance > FOLD_BINS // 8].max())
        # judged over a longer time still (a property of the groove), from distrust: a kick has to
        # mark the beat for a few seconds before it may move the phase
        if self._runner_up is None:
            self._runner_up = 1.0
        self._runner_up += RUNNER_UP_SMOOTHING * (runner_up - self._runner_up)
        trust = (BASS_RUNNER_UP_MAX - self._runner_up) / BASS_RUNNER_UP_SPAN
        trust = min(max(trust, 0.0), 1.0)
        profile = scaled(whole) + trust * self.kick_weight * scaled_bass
        # the bass picks the place; the whole novelty's own peak there times it (the kick band
        # rises later than the click of the kick)
        near = (int(np.argmax(profile)) + np.arange(-3, 4)) % FOLD_BINS
        return peak_ago(whole, period_frames, int(near[np.argmax(whole[near])]))

    def _periodicity(self, x: FloatArray, weights: FloatArray) -> FloatArray:
        """Comb filter bank over the autocorrelation: 0..1 per tempo of the grid."""
        # local-mean removal keeps onsets and drops slow loudness changes
        k = max(1, int(0.25 * self.frame_rate_hz))
        local = np.convolve(x, np.ones(k) / k, mode="same")
        y = np.maximum(x - local, 0.0)
        mean = np.multiply(y, weights).sum() / weights.sum()  # np.average's arithmetic
        y = (y - mean) * np.sqrt(weights)
        n = len(y)
        spec = np.fft.rfft(y, 2 * n)
        acf = np.fft.irfft(np.abs(spec) ** 2)[:n]
        comb = self._comb(n, weights)
        acf = acf / np.maximum(comb.overlap, 1e-9)
        acf = acf / max(acf[0], 1e-12)
        values = np.zeros(comb.shape)
        for width, cells, lags in comb.groups:
            # the filter only needs the lags it is read at (and ``width`` beyond)
            widened = scipy.ndimage.maximum_filter1d(
                acf[: comb.max_lag + width + 1], size=2 * width + 1, mode="nearest"
            )
            values.flat[cells] = widened[lags]
        periodicity = np.where(comb.count > 0, values.sum(axis=1) / np.maximum(comb.count, 1), 0.0)
        return np.clip(periodicity, 0.0, 1.0)

    def _comb(self, n: int, weights: FloatArray) -> _CombLayout:
        """The comb's lags for a window of ``n`` values (kept once the window is full: every
        estimate after the first seconds asks for the same one)."""
        if self._comb_full is not None and n == self._size:
            return self._comb_full
        max_lag = min(n // 2, int(COMB_SPAN_S * self.frame_rate_hz))
        periods = self.frame_rate_hz * 60.0 / self._grid
        multiples = np.arange(1, int(max_lag / periods.min()) + 1)
        lags = periods[:, None] * multiples[None, :]
        valid = lags <= max_lag
        # the best lag within +-(1 frame + 1 %) counts: forgives a slightly wrong period
        half_width = np.ceil(1.0 + 0.01 * lags).astype(int)
        groups = []
        for width in np.unique(half_width[valid]):
            cells = np.flatnonzero(valid & (half_width == width))
            groups.append((int(width), cells, np.round(lags.flat[cells]).astype(int)))
        layout = _CombLayout(
            shape=lags.shape,
            max_lag=max_lag,
            groups=tuple(groups),
            count=valid.sum(axis=1),
            overlap=np.cumsum(weights[::-1])[::-1],  # sum of weights over the overlapping part
        )
        if n == self._size:
            self._comb_full = layout
        return layout

    def _metrical_level(
        self,
        bpm: float,
        x: FloatArray,
        x_body: FloatArray,
        weights: FloatArray,
        prefer_period_s: float | None,
    ) -> float:
        """Move from ``bpm`` to the right one of its doublings and halvings within the range.

        From the slowest level at or above `SLOWEST_START_BPM`, the tempo doubles while the
        novelty half way between its beats is strong against the novelty on them (weighted by
        how much more likely the tempo prior finds the faster tempo) and the faster tempo's own
        off-beats are weak: the faster level is then a steady pulse (kick and snare alternating
        on a backbeat), not a strong beat with busy off-beats (a strummed pattern, eighth-note
        hi-hats). The faster tempo's off-beats are judged on ``x_body``, the novelty without
        hi-hats and cymbals.
        """
        slowest = max(self.min_bpm, SLOWEST_START_BPM)
        while bpm / 2 >= slowest:
            bpm /= 2
        while bpm < slowest and bpm * 2 <= self.max_bpm:
            bpm *= 2
        period = self.frame_rate_hz * 60.0 / bpm
        ratio_slow = opposite_ratio(fold_profile(x, weights, period))
        while bpm * 2 <= self.max_bpm:
            ratio_fast = opposite_ratio(fold_profile(x_body, weights, period / 2))
            preference = self._prior_at(2 * bpm) / self._prior_at(bpm)
            evidence = ratio_slow * preference - FAST_OFFBEAT_WEIGHT * ratio_fast
            threshold = DOUBLE_EVIDENCE
            if prefer_period_s is not None:  # hysteresis around the level the clock is on
                if abs(math.log2(bpm * prefer_period_s / 60.0)) < 0.07:
                    threshold += DOUBLE_HYSTERESIS
                elif abs(math.log2(2 * bpm * prefer_period_s / 60.0)) < 0.07:
                    threshold -= DOUBLE_HYSTERESIS
            if evidence < threshold:
                break
            bpm, period, ratio_slow = 2 * bpm, period / 2, ratio_fast
        return bpm

    def _refine_period(self, x: FloatArray, weights: FloatArray, period_frames: float) -> float:
        """The period within +-2 % of ``period_frames`` that folds the novelty sharpest.

        The comb's tempo grid is ~1.5 % coarse; folding several beats back at a period that
        much off would smear the fold and bias the phase by tens of milliseconds.
        """
        factors = 1.0 + np.linspace(-REFINE_SPAN, REFINE_SPAN, REFINE_STEPS)
        profiles = fold_profiles(x, weights, period_frames * factors)
        sharpness = profiles.max(axis=1) - profiles.mean(axis=1)
        best = int(np.argmax(sharpness))
        offset = 0.0
        if 0 < best < len(factors) - 1:
            left, mid, right = sharpness[best - 1 : best + 2]
            denom = left - 2 * mid + right
            offset = 0.5 * (left - right) / denom if denom < 0 else 0.0
        step = factors[1] - factors[0]
        return float(period_frames * (factors[best] + offset * step))

    def _prior_at(self, bpm: float) -> float:
        return math.exp(-0.5 * (math.log2(bpm / PRIOR_BPM) / PRIOR_OCTAVES) ** 2)
