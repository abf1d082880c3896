"""Per-beat-interval features: what picks the dance action for each beat (paper section V-D).

For every pair of consecutive beats: the loudness (RMS in dBFS) and the brightness (spectral
centroid in Hz) of the music between them. The interval length comes with the beats.
"""

from __future__ import annotations

import itertools

import numpy as np
import numpy.typing as npt

from livedance.songplan import BeatInterval

SILENCE_FLOOR_DB = -120.0
"""RMS of digital silence, instead of minus infinity (JSON has no infinity)."""


def beat_intervals(
    y: npt.NDArray[np.float32],
    power_spectrum: npt.NDArray[np.float32],
    beat_times_s: npt.NDArray[np.float64],
    *,
    sr: int,
    hop_samples: int,
) -> tuple[BeatInterval, ...]:
    """RMS and spectral centroid between each pair of consecutive beats.

    Args:
        y: mono samples at ``sr``.
        power_spectrum: ``|STFT|**2`` of ``y``, shape ``(n_bins, n_frames)``, centred frames
            every ``hop_samples`` (librosa's convention).
        beat_times_s: beat times in seconds, increasing.
        sr: sample rate in Hz.
        hop_samples: STFT hop.

    Returns:
        One interval per consecutive beat pair (``len(beat_times_s) - 1`` of them). ``rms_db`` is
        ``20 log10(rms)`` of the samples (0 dB = a full-scale square wave), floored at
        ``SILENCE_FLOOR_DB``; ``centroid_hz`` is the centroid of the interval's summed power
        spectrum (0 for silence).
    """
    freqs_hz = np.linspace(0.0, sr / 2, power_spectrum.shape[0])
    out = []
    for t0, t1 in itertools.pairwise(beat_times_s):
        i0 = round(t0 * sr)
        i1 = max(round(t1 * sr), i0 + 1)
        chunk = y[max(0, i0) : min(len(y), i1)].astype(np.float64)
        rms = float(np.sqrt(np.mean(chunk**2))) if len(chunk) else 0.0
        rms_db = 20.0 * np.log10(rms) if rms > 10 ** (SILENCE_FLOOR_DB / 20) else SILENCE_FLOOR_DB
        f0 = int(np.clip(round(t0 * sr / hop_samples), 0, power_spectrum.shape[1] - 1))
        f1 = int(np.clip(round(t1 * sr / hop_samples), f0 + 1, power_spectrum.shape[1]))
        spectrum = power_spectrum[:, f0:f1].sum(axis=1, dtype=np.float64)
        total = float(spectrum.sum())
        centroid = float((freqs_hz * spectrum).sum() / total) if total > 1e-12 else 0.0
        out.append(
            BeatInterval(
                start_s=round(float(t0), 4),
                end_s=round(float(t1), 4),
                rms_db=round(float(rms_db), 2),
                centroid_hz=round(centroid, 1),
            )
        )
    return tuple(out)
