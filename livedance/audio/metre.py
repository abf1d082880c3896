"""Metre from what plays: the drum roles of the recent novelty fix the metrical level.

Part of the "beat tracker (aubio)" box of DESIGN.md's live data flow, used by the pulse estimator
(`livedance.audio.tempo`) between the novelty front end (`livedance.audio.novelty`) and the beat
clock. The comb filter bank finds a tempo family (a tempo and its doublings and halvings); which
member is the beat is a question of metre, not of which onset is loudest. A snare or a clap that
lands at one place every other beat (the backbeat on 2 and 4, or on 3 of a half-time bar of two
beats) marks the level: the snare's own period spans two beats. Styles whose kick and hi-hats
suggest half or double that (UK garage's skipping kick, drum and bass's two-step break under a
half-speed bass, footwork's triplet kick, a slow ballad's sixteenth-note piano) all put the snare
there.

Also here: the fold of a novelty at a period (the weighted mean novelty per phase bin) that the
estimator's tempo refinement and phase use as well.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

FOLD_BINS = 48
"""Phase bins of a fold."""

SNARE_SINGLE_MAX = 0.45
"""The snare's fold at two beats has one place: its highest value more than 1/8 of the period
from its peak is at most this (of the peak, above the floor)."""

SNARE_PAIR_MIN = 0.78
"""...and at four beats two places half a period apart: the partner is at least this."""

SNARE_CONTRAST_MIN = 1.0
"""The snare fold's peak above its floor, over its mean: a real backbeat, not busy chords."""


BAR_SNARE_WEIGHT = 1.0
"""How much a snare on a beat counts against it being the bar's first (the backbeat is 2 and 4)."""


_SMOOTHING = np.array([0.25, 0.5, 1.0, 0.5, 0.25]) / 2.5
"""The fold's circular smoothing kernel (over 1/16 of a period)."""


def fold_profiles(x: FloatArray, weights: FloatArray, periods_frames: FloatArray) -> FloatArray:
    """Weighted mean of ``x`` per phase bin (bin 0: the newest sample's phase), for several
    periods at once, circularly smoothed over 1/16 of a period.

    Args:
        x: the novelty, oldest first.
        weights: per sample (recency).
        periods_frames: the periods, in samples of ``x``.

    Returns:
        Shape ``(len(periods_frames), FOLD_BINS)``.
    """
    n, m = len(x), len(periods_frames)
    # in place where it can be: called ~100 times a second of audio by the tracker
    ago = np.arange(n - 1, -1, -1, dtype=np.float64)[None, :] / periods_frames[:, None]
    ago -= np.floor(ago)  # the fraction of a period (ago % 1.0 bit for bit, ago being >= 0)
    ago *= FOLD_BINS
    np.floor(ago, out=ago)
    bins = ago.astype(np.intp)
    bins[bins == FOLD_BINS] = 0
    bins += (np.arange(m) * FOLD_BINS)[:, None]
    flat = bins.ravel()
    mass = np.bincount(flat, weights=np.tile(weights * x, m), minlength=m * FOLD_BINS)
    norm = np.bincount(flat, weights=np.tile(weights, m), minlength=m * FOLD_BINS)
    profile = (mass / np.maximum(norm, 1e-12)).reshape(m, FOLD_BINS)
    padded = np.concatenate([profile[:, -2:], profile, profile[:, :2]], axis=1)
    smoothed = _SMOOTHING[0] * padded[:, :FOLD_BINS]
    for k in range(1, len(_SMOOTHING)):
        smoothed += _SMOOTHING[k] * padded[:, k : k + FOLD_BINS]
    return smoothed


def fold_profile(x: FloatArray, weights: FloatArray, period_frames: float) -> FloatArray:
    """`fold_profiles` at one period: shape ``(FOLD_BINS,)``."""
    return fold_profiles(x, weights, np.array([period_frames]))[0]


def opposite_ratio(profile: FloatArray) -> float:
    """The fold half a period from its peak, relative to the peak (both above its floor)."""
    peak = int(np.argmax(profile))
    floor = float(np.min(profile))
    opposite = profile[(peak + FOLD_BINS // 2) % FOLD_BINS]
    return float((opposite - floor) / max(float(profile[peak]) - floor, 1e-12))


def peak_ago(profile: FloatArray, period_frames: float, peak: int | None = None) -> float:
    """How many frames before the newest sample the fold's (interpolated) peak lies (the peak
    at bin ``peak`` if given, else its highest)."""
    if peak is None:
        peak = int(np.argmax(profile))
    left, mid, right = profile[peak - 1], profile[peak], profile[(peak + 1) % FOLD_BINS]
    denom = left - 2 * mid + right
    offset = 0.5 * (left - right) / denom if denom < 0 else 0.0
    return float(((peak + offset + 0.5) / FOLD_BINS % 1.0) * period_frames)


def scaled(profile: FloatArray) -> FloatArray:
    """A fold profile scaled to 0 at its floor and 1 at its peak."""
    floor = float(profile.min())
    return (profile - floor) / max(float(profile.max()) - floor, 1e-12)


def circular_distance(bins: npt.NDArray[np.int64] | int, to: int) -> npt.NDArray[np.int64]:
    """Distance in bins around the fold between ``bins`` and bin ``to``."""
    return np.abs((np.asarray(bins) - to + FOLD_BINS // 2) % FOLD_BINS - FOLD_BINS // 2)


def runner_up(profile: FloatArray) -> tuple[float, int]:
    """The scaled fold's highest value more than 1/8 of the period from its peak, and where."""
    s = scaled(profile)
    far = circular_distance(np.arange(FOLD_BINS), int(np.argmax(s))) > FOLD_BINS // 8
    where = int(np.flatnonzero(far)[np.argmax(s[far])])
    return float(s[where]), where


def backbeat_bpm(
    snare: FloatArray,
    weights: FloatArray,
    frame_rate_hz: float,
    candidates_bpm: list[float],
) -> float | None:
    """The beat tempo at which the snare band lands once every two beats.

    Args:
        snare: the snare-band novelty (`livedance.audio.novelty`), oldest first.
        weights: per sample (recency, over the metre's long memory).
        frame_rate_hz: novelty samples per second.
        candidates_bpm: the tempo family's members in the allowed range.

    Returns:
        The candidate whose two-beat fold of the snare has one clear place while its four-beat
        fold has two, half a period apart (the snare repeats every two beats, no faster); None
        when no candidate shows a backbeat (no snare, or a syncopated one).
    """
    if len(candidates_bpm) == 0 or not np.any(snare > 0):
        return None
    bpms = np.asarray(sorted(candidates_bpm), dtype=np.float64)
    two_beats = frame_rate_hz * 120.0 / bpms
    profiles = fold_profiles(snare, weights, np.concatenate([two_beats, 2 * two_beats]))
    found = None
    for i, bpm in enumerate(bpms):
        single, double = profiles[i], profiles[len(bpms) + i]
        contrast = (single.max() - single.min()) / max(float(single.mean()), 1e-12)
        if contrast < SNARE_CONTRAST_MIN or runner_up(single)[0] > SNARE_SINGLE_MAX:
            continue
        partner, where = runner_up(double)
        half_way = circular_distance(where, int(np.argmax(double))) >= FOLD_BINS // 2 - 3
        if partner >= SNARE_PAIR_MIN and half_way:
            found = float(bpm)  # the slowest such tempo is the snare's own period
            break
    return found


def bar_place(
    kick: FloatArray,
    snare: FloatArray,
    weights: FloatArray,
    beat_index: float,
    period_frames: float,
    beats_per_bar: int = 4,
) -> tuple[int, float]:
    """Which of the last ``beats_per_bar`` beats began a bar, from the instruments' roles.

    The bar's first beat is where the kick lands and the backbeat's snare does not. Each beat in
    the history is scored by its kick less its snare (each relative to its mean over the beats),
    and the beats are grouped by their place in the bar. (A harmony-change novelty from the
    front end's short spectrum was tried as a third role and scored at chance on styles-dev: its
    bass pitch classes are unresolved at 23 ms.) Kick on 1 and 3 leaves two places alike: the
    margin then stays small and no downbeat is called.

    Args:
        kick, snare: the novelties of those roles (`livedance.audio.novelty`), oldest first.
        weights: per sample (recency).
        beat_index: where in the history (sample index, may be fractional) the newest beat is.
        period_frames: beat period in samples.
        beats_per_bar: metre.

    Returns:
        How many beats before the newest one the newest bar start is (0..beats_per_bar-1), and
        the margin of that place over the next likeliest (0: no idea; above ~0.5: clear).
    """
    n = len(kick)
    reach = max(1, round(0.1 * period_frames))
    centres = beat_index - period_frames * np.arange(int(beat_index / period_frames) + 1)
    centres = centres[centres >= reach]
    if len(centres) < 2 * beats_per_bar:
        return 0, 0.0
    idx = np.round(centres).astype(int)
    around = np.clip(idx[:, None] + np.arange(-reach, reach + 1)[None, :], 0, n - 1)
    k, s = kick[around].max(axis=1), snare[around].max(axis=1)
    score = k / max(float(k.mean()), 1e-9) - BAR_SNARE_WEIGHT * s / max(float(s.mean()), 1e-9)
    w = weights[idx]
    place = np.arange(len(idx)) % beats_per_bar
    # np.average's own arithmetic (weighted sum over the weights' sum), without its checks
    per_place = np.array(
        [
            np.multiply(score[place == p], w[place == p]).sum() / w[place == p].sum()
            for p in range(beats_per_bar)
        ]
    )
    order = np.argsort(per_place)[::-1]
    return int(order[0]), float(per_place[order[0]] - per_place[order[1]])
