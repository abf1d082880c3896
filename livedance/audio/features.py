"""Per-beat features: the loudness and brightness of the music between two beats.

What picks the action for a beat (paper section V-D), defined once for the song plan
(`offline.analysis.features`, every interval of a song) and for the live stage
(`livedance.show.stage`, each interval read back from the line-in as it closes): the RMS of the
samples in dBFS and the spectral centroid of their summed power spectrum.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

SILENCE_FLOOR_DB = -120.0
"""RMS of digital silence, instead of minus infinity (JSON has no infinity)."""

FRAME_SAMPLES_AT_44K = 2048
"""Analysis frame of the power spectrum at 44.1 kHz (scaled with the sample rate)."""

MAX_CENTROID_HZ = 11025.0
"""The centroid is taken below this frequency, so the song plan (analysed at 22.05 kHz) and the
line-in (44.1 or 48 kHz) measure the same brightness."""


def interval_features(samples: npt.NDArray[np.float32], sample_rate: int) -> tuple[float, float]:
    """Loudness and brightness of one stretch of music.

    Args:
        samples: mono samples of the stretch (a beat interval).
        sample_rate: Hz.

    Returns:
        ``(rms_db, centroid_hz)``: ``20 log10(rms)`` (0 dB = a full-scale square wave), floored
        at `SILENCE_FLOOR_DB`; and the centroid of the stretch's summed power spectrum
        (Hann-windowed frames, half overlapping) below `MAX_CENTROID_HZ`, 0 for silence.
    """
    x = np.asarray(samples, dtype=np.float64)
    if len(x) == 0:
        return SILENCE_FLOOR_DB, 0.0
    rms = float(np.sqrt(np.mean(x * x)))
    rms_db = 20.0 * np.log10(rms) if rms > 10 ** (SILENCE_FLOOR_DB / 20) else SILENCE_FLOOR_DB
    n = int(2 ** round(np.log2(FRAME_SAMPLES_AT_44K * sample_rate / 44100)))
    if len(x) < n:
        x = np.pad(x, (0, n - len(x)))
    hop = n // 2
    starts = np.arange(0, len(x) - n + 1, hop)
    frames = x[starts[:, None] + np.arange(n)] * np.hanning(n)
    freqs_hz = np.fft.rfftfreq(n, 1.0 / sample_rate)
    band = freqs_hz <= MAX_CENTROID_HZ
    freqs_hz = freqs_hz[band]
    power = (np.abs(np.fft.rfft(frames, axis=1)[:, band]) ** 2).sum(axis=0)
    total = float(power.sum())
    centroid = float((freqs_hz * power).sum() / total) if total > 1e-12 else 0.0
    return float(rms_db), centroid
