"""Chroma self-similarity: the time-time and time-lag matrices of the paper (section IV-B).

Chroma (12 pitch classes) is averaged over frames of about 0.2 s. Unlike the paper's fixed
0.2 s hop, the frames are beat-synchronous: every beat interval is cut into the same number of
frames, chosen so a frame lasts about 0.2 s at the song's tempo. A repeat then lies at a constant
lag in frames even when the tempo drifts, so it stays a horizontal line in the time-lag matrix.

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
    chroma: FloatArray, *, frame_rate_hz: float, beat_times_s: FloatArray, per_beat: int
) -> tuple[FloatArray, FloatArray]:
    """Average fine chroma into ``per_beat`` equal frames per beat interval.

    Args:
        chroma: ``(12, n)`` chroma at ``frame_rate_hz`` (frame ``i`` centred at ``i / rate``).
        frame_rate_hz: frames per second of ``chroma``.
        beat_times_s: beat times in seconds; frames cover first to last beat.
        per_beat: frames per beat interval.

    Returns:
        ``(12, (len(beats) - 1) * per_beat)`` chroma, each frame max-normalised (all-zero frames
        stay zero), and the frames' start times in seconds.
    """
    fractions = np.arange(per_beat) / per_beat
    starts = (beat_times_s[:-1, None] + np.diff(beat_times_s)[:, None] * fractions).ravel()
    edges = np.append(starts, beat_times_s[-1])
    idx = np.clip(np.round(edges * frame_rate_hz).astype(np.int64), 0, chroma.shape[1])
    n = chroma.shape[1]
    cumulative = np.concatenate([np.zeros((12, 1)), np.cumsum(chroma, axis=1)], axis=1)
    lo = np.minimum(idx[:-1], n - 1)
    # A frame shorter than one fine frame takes the fine frame it starts in.
    hi = np.maximum(idx[1:], lo + 1)
    frames = (cumulative[:, hi] - cumulative[:, lo]) / (hi - lo)
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
