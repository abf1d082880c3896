"""Per-beat-interval features: what picks the dance action for each beat (paper section V-D).

For every pair of consecutive beats: the loudness (RMS in dBFS) and the brightness (spectral
centroid in Hz) of the music between them, by the one definition the live stage uses too
(`livedance.audio.features.interval_features`). The interval length comes with the beats.
"""

from __future__ import annotations

import itertools

import numpy as np
import numpy.typing as npt

from livedance.audio.features import interval_features
from livedance.songplan import BeatInterval


def beat_intervals(
    y: npt.NDArray[np.float32], beat_times_s: npt.NDArray[np.float64], *, sr: int
) -> tuple[BeatInterval, ...]:
    """RMS and spectral centroid between each pair of consecutive beats.

    Args:
        y: mono samples at ``sr``.
        beat_times_s: beat times in seconds, increasing.
        sr: sample rate in Hz.

    Returns:
        One interval per consecutive beat pair (``len(beat_times_s) - 1`` of them), with
        `interval_features` of the samples between the two beats.
    """
    out = []
    for t0, t1 in itertools.pairwise(beat_times_s):
        i0 = round(t0 * sr)
        i1 = max(round(t1 * sr), i0 + 1)
        rms_db, centroid_hz = interval_features(y[max(0, i0) : min(len(y), i1)], sr)
        out.append(
            BeatInterval(
                start_s=round(float(t0), 4),
                end_s=round(float(t1), 4),
                rms_db=round(rms_db, 2),
                centroid_hz=round(centroid_hz, 1),
            )
        )
    return tuple(out)
