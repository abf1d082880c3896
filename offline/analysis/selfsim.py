"""Chroma self-similarity: the time-time and time-lag matrices of the paper (section IV-B).

Chroma (12 pitch classes) is averaged over frames of about 0.2 s. Unlike the paper's fixed
0.2 s hop, the frames follow the beat: every interval of a grid as long as the beats is cut into
the same number of frames, chosen so a frame lasts about 0.2 s at the song's tempo. Where the
tempo ramps, the grid follows the beats, so a repeat lies at a constant lag in frames and stays
a horizontal line in the time-lag matrix; otherwise the grid is even, so a repeat stays a line
where the beat tracker placed the beats of its two occurrences differently (`frame_grid`).
The same module measures Foote's novelty (`foote_novelty`): where the music changes.

Similarity is the paper's ``f(v1, v2) = 1 - |v1 - v2| / sqrt(12)`` on max-normalised chroma.
``M[x, y] = f(x, y)``; ``T[x, l] = M[x, x - l]``, stored here as ``lag_matrix[l, x]`` so that an
image of it has time across and lag up. Key-shifted repeats (Goto) are found by comparing each
frame with the chroma of ``l`` frames earlier rotated by ``shift`` semitones.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import scipy.ndimage
import scipy.spatial.distance

FloatArray = npt.NDArray[np.float64]

TARGET_FRAME_S = 0.2
"""The paper's chroma frame length."""

GRID_SMOOTHING_BEATS = 9
"""Median filter length (beats) over the beat periods before looking for a ramp."""

RAMP_MIN_CHANGE = 0.05
"""Tempo change over the song above which a steady trend counts as a ramp (`tempo_ramps`)."""

RAMP_MIN_EXPLAINED = 0.7
"""Share of the beat periods' variance a straight trend must explain to be a ramp (synthesized
ramps 0.75-0.96; songs arranged from recordings at other tempos, jumping between them, at most
0.53)."""


def frames_per_beat(beat_times_s: FloatArray, *, target_frame_s: float = TARGET_FRAME_S) -> int:
    """How many frames to cut each beat into so a frame lasts about ``target_frame_s``.

    Args:
        beat_times_s: beat times in seconds (at least two).
        target_frame_s: wanted frame length in seconds.

    Returns:
        At least 1.
    """
    period_s = float(np.median(np.diff(beat_times_s)))
    return max(1, round(period_s / target_frame_s))


def beat_sync_chroma(
    chroma: FloatArray,
    *,
    frame_rate_hz: float,
    beat_times_s: FloatArray,
    per_beat: int,
    normalize: bool = True,
) -> tuple[FloatArray, FloatArray]:
    """Average fine chroma into ``per_beat`` equal frames per beat interval.

    Args:
        chroma: ``(d, n)`` chroma (or any features) at ``frame_rate_hz`` (frame ``i`` centred at
            ``i / rate``).
        frame_rate_hz: frames per second of ``chroma``.
        beat_times_s: beat times in seconds; frames cover first to last beat.
        per_beat: frames per beat interval.
        normalize: max-normalise each frame (chroma); False keeps the plain means.

    Returns:
        ``(d, (len(beats) - 1) * per_beat)`` frames, each max-normalised when asked (all-zero
        frames stay zero), and the frames' start times in seconds.
    """
    fractions = np.arange(per_beat) / per_beat
    starts = (beat_times_s[:-1, None] + np.diff(beat_times_s)[:, None] * fractions).ravel()
    edges = np.append(starts, beat_times_s[-1])
    idx = np.clip(np.round(edges * frame_rate_hz).astype(np.int64), 0, chroma.shape[1])
    n = chroma.shape[1]
    cumulative = np.concatenate([np.zeros((chroma.shape[0], 1)), np.cumsum(chroma, axis=1)], axis=1)
    lo = np.minimum(idx[:-1], n - 1)
    # A frame shorter than one fine frame takes the fine frame it starts in.
    hi = np.maximum(idx[1:], lo + 1)
    frames = (cumulative[:, hi] - cumulative[:, lo]) / (hi - lo)
    if not normalize:
        return frames, starts
    peak = frames.max(axis=0, keepdims=True)
    frames = np.divide(frames, peak, out=np.zeros_like(frames), where=peak > 1e-9)
    return frames, starts


def similarity(a: FloatArray, b: FloatArray) -> FloatArray:
    """The paper's ``f`` between every frame of ``a`` and every frame of ``b``.

    Args:
        a: ``(12, n)`` chroma.
        b: ``(12, m)`` chroma.

    Returns:
        ``(n, m)`` similarities in 0..1 (1 = same notes).
    """
    dist = scipy.spatial.distance.cdist(a.T, b.T, metric="euclidean")
    return np.asarray(1.0 - dist / np.sqrt(12.0), dtype=np.float64)


def time_time_matrix(chroma: FloatArray, *, shift: int = 0) -> FloatArray:
    """``M[x, y] = f(v_x, roll(v_y, shift))``.

    Args:
        chroma: ``(12, n)`` chroma.
        shift: semitones to transpose the compared (earlier) frame by.

    Returns:
        ``(n, n)`` similarity matrix.
    """
    return similarity(chroma, np.roll(chroma, shift, axis=0))


def time_lag_matrix(time_time: FloatArray) -> FloatArray:
    """``lag_matrix[l, x] = M[x, x - l]``; zero where ``x < l``.

    Args:
        time_time: ``(n, n)`` time-time matrix.

    Returns:
        ``(n, n)`` time-lag matrix, lag on the first axis.
    """
    n = time_time.shape[0]
    x = np.arange(n)[None, :]
    lag = np.arange(n)[:, None]
    source = x - lag
    valid = source >= 0
    out = np.zeros((n, n), dtype=np.float64)
    out[valid] = time_time[np.broadcast_to(x, (n, n))[valid], source[valid]]
    return out


def _directional_means(m: FloatArray, width: int, axis: int) -> tuple[FloatArray, FloatArray]:
    """Means over ``width`` cells forward and backward along ``axis`` (cell included)."""
    forward = scipy.ndimage.uniform_filter1d(
        m, width, axis=axis, mode="nearest", origin=-(width // 2)
    )
    backward = scipy.ndimage.uniform_filter1d(
        m, width, axis=axis, mode="nearest", origin=(width - 1) // 2
    )
    return forward, backward


def emphasize_lines(
    lag_matrix: FloatArray, time_time: FloatArray, *, width: int, smooth: float
) -> FloatArray:
    """Goto's denoising of the time-lag matrix, then smoothing along time.

    Each cell looks at six moving averages: right and left (along time, where a repeat's line
    runs), up and down (along lag), and the two diagonals of the time-lag plane (which are the
    vertical lines of the time-time matrix). A cell on a horizontal line has its left or right
    average above all the others: only the smallest of those is subtracted, so the line stays.
    Any other cell loses the largest one, so noise, vertical and diagonal structures vanish.

    Args:
        lag_matrix: ``(n, n)`` time-lag matrix (lag first).
        time_time: the ``(n, n)`` time-time matrix it was made from.
        width: cells in each moving average.
        smooth: standard deviation, in cells, of the Gaussian smoothing along time afterwards.

    Returns:
        ``(n, n)`` emphasised matrix, >= 0, zero where ``x < l`` and for lag 0.
    """
    n = lag_matrix.shape[0]
    right, left = _directional_means(lag_matrix, width, axis=1)
    up, down = _directional_means(lag_matrix, width, axis=0)
    # The time-lag diagonals (l + i, x + i) keep the source frame x - l fixed: they are the
    # columns of the time-time matrix, averaged there and mapped back.
    later, earlier = _directional_means(time_time, width, axis=0)
    upper_right, lower_left = time_lag_matrix(later), time_lag_matrix(earlier)
    horizontal = np.maximum(right, left)
    others = np.stack([up, down, upper_right, lower_left])
    others_max, others_min = others.max(axis=0), others.min(axis=0)
    suppression = np.where(horizontal > others_max, others_min, others_max)
    emphasized = np.maximum(lag_matrix - suppression, 0.0)
    if smooth > 0:
        emphasized = scipy.ndimage.gaussian_filter1d(emphasized, smooth, axis=1, mode="nearest")
    x = np.arange(n)[None, :]
    lag = np.arange(n)[:, None]
    emphasized[x < lag] = 0.0
    emphasized[0] = 0.0
    return emphasized


def frame_grid(beat_times_s: FloatArray) -> FloatArray:
    """The grid to cut chroma frames on: the beats when the tempo ramps, else `even_grid`.

    Args:
        beat_times_s: tracked beats (at least two).

    Returns:
        As many grid times as beats, from the first beat to the last.
    """
    return beat_times_s if tempo_ramps(beat_times_s) else even_grid(beat_times_s)


def tempo_ramps(beat_times_s: FloatArray) -> bool:
    """Whether the tempo drifts steadily (by more than ``RAMP_MIN_CHANGE`` over the song, a
    straight trend explaining most of the beat periods' variance), not only jumps about.

    Args:
        beat_times_s: tracked beats.

    Returns:
        True for a ramp.
    """
    if len(beat_times_s) < 16:
        return False
    periods = scipy.ndimage.median_filter(
        np.diff(beat_times_s), size=GRID_SMOOTHING_BEATS, mode="nearest"
    )
    log_periods = np.log(periods)
    x = np.arange(len(log_periods), dtype=np.float64)
    slope, intercept = np.polyfit(x, log_periods, 1)
    residual = log_periods - (slope * x + intercept)
    total = float(np.var(log_periods))
    explained = 1.0 - float(np.var(residual)) / total if total > 0 else 0.0
    return bool(
        abs(slope) * len(x) > np.log(1.0 + RAMP_MIN_CHANGE) and explained > RAMP_MIN_EXPLAINED
    )


def even_grid(beat_times_s: FloatArray) -> FloatArray:
    """As many evenly spaced times as beats, from the first beat to the last.

    Frames on this grid are plain time frames: a repeat of the same audio lies at one lag
    wherever the tracker placed its beats (late in the song's first bars, before it settles; on
    the off-beat in one occurrence; at another tempo in the section between).

    Args:
        beat_times_s: tracked beats (at least two).

    Returns:
        The grid times in seconds.
    """
    return np.linspace(beat_times_s[0], beat_times_s[-1], len(beat_times_s))


def foote_novelty(features: FloatArray, *, half_width: int) -> FloatArray:
    """Foote's novelty: a Gaussian-tapered checkerboard kernel slid along the self-similarity.

    High where the stretch before a frame resembles itself and the stretch after it resembles
    itself, but the two do not resemble each other: a section change.

    Args:
        features: ``(d, n)`` feature frames (e.g. per-beat chroma and timbre), any scale.
        half_width: frames on each side of the kernel's centre.

    Returns:
        ``n`` values, 0 at both ends, scaled so the largest is 1 (all zeros if flat).
    """
    n = features.shape[1]
    norms = np.linalg.norm(features, axis=0, keepdims=True)
    unit = np.divide(features, norms, out=np.zeros_like(features), where=norms > 1e-9)
    ssm = unit.T @ unit
    w = max(1, min(half_width, n // 2))
    axis = np.arange(-w, w) + 0.5
    taper = np.exp(-0.5 * (axis / (0.5 * w)) ** 2)
    kernel = np.outer(taper, taper) * np.sign(axis)[:, None] * np.sign(axis)[None, :]
    # mirrored at the ends, so the song's start and end are no change
    padded = np.pad(ssm, w, mode="reflect")
    novelty = np.zeros(n)
    for i in range(n):
        novelty[i] = float(np.sum(kernel * padded[i : i + 2 * w, i : i + 2 * w]))
    novelty = np.maximum(novelty, 0.0)
    novelty[0] = novelty[-1] = 0.0
    peak = novelty.max()
    return novelty / peak if peak > 0 else novelty
