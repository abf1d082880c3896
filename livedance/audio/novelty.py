"""The beat tracker's front end: aubio's phase vocoder and mel filterbank give a novelty curve.

First box of the "beat tracker (aubio)" in DESIGN.md's live data flow. Each hop of samples goes
through aubio's phase vocoder (`aubio.pvoc`) and a mel filterbank (`aubio.filterbank`); the
novelty is a log-compressed spectral flux with a vibrato-suppressing maximum filter across bands
(SuperFlux, Böck & Widmer 2013), plus the same flux over the bass bands alone counted again, so
kick drums and bass notes (which mark beats far more often than hi-hats do) weigh more than
cymbals. One value per hop, computed only from samples up to that hop: it is causal.
"""

from __future__ import annotations

from dataclasses import dataclass

import aubio
import numpy as np
import numpy.typing as npt

N_BANDS = 40
"""Mel bands of the filterbank."""

FMIN_HZ, FMAX_HZ = 30.0, 16000.0
"""Frequency range of the filterbank."""

BASS_HZ = 220.0
"""Bands centred below this count twice in the novelty (kick drum, bass)."""

KICK_HZ = 120.0
"""Bands centred below this make the "kick" novelty (kick drum, sub bass: the lowest band), which
lands on the beat far more often than the snare and claps just above it."""

BODY_HZ = 2500.0
"""Bands centred below this make the "body" novelty: kick, bass, snare body, chords, without
hi-hats and cymbals (the subdivisions that must not decide the metrical level)."""

SNARE_HZ = (800.0, 4000.0)
"""Bands centred in this range make the "snare" novelty: the crack of a snare, a clap, a rim
(above the kick and the bass, below most of the hi-hats' energy)."""

LOG_GAIN = 20.0
"""Compression gain of log(1 + gain * band energy)."""

FLUX_LAG_HOPS = 2
"""The flux compares a frame with the one this many hops before (~12 ms at 44.1 kHz / 256)."""


@dataclass(frozen=True)
class FrontEndBlock:
    """What the front end gave for consecutive hops (`NoveltyFrontEnd.process_block`): per hop,
    the novelty `NoveltyFrontEnd.process` returned and the attributes it left.

    Attributes:
        novelty: ``(hops,)``.
        kick, body, snare: ``(hops,)``, the role novelties.
        bands, rise: ``(hops, N_BANDS)``.
        magnitude: ``(hops, bins)``, the magnitude spectra.
    """

    novelty: npt.NDArray[np.float64]
    kick: npt.NDArray[np.float64]
    body: npt.NDArray[np.float64]
    snare: npt.NDArray[np.float64]
    bands: npt.NDArray[np.float32]
    rise: npt.NDArray[np.float32]
    magnitude: npt.NDArray[np.float32]

    @property
    def features(self) -> npt.NDArray[np.float32]:
        """``(2 * N_BANDS, hops)``: each hop's `NoveltyFrontEnd.features`, in columns."""
        return np.ascontiguousarray(np.concatenate([self.bands, self.rise], axis=1).T)


class NoveltyFrontEnd:
    """Per hop: the magnitude spectrum (aubio pvoc) and a spectral-flux novelty value.

    Args:
        sample_rate: of the mono input, Hz.
        hop_samples: samples per `process` call.
        win_samples: FFT window of the phase vocoder.
    """

    def __init__(self, sample_rate: int, hop_samples: int, win_samples: int) -> None:
        self.sample_rate = int(sample_rate)
        self.hop_samples = int(hop_samples)
        self._pvoc = aubio.pvoc(int(win_samples), int(hop_samples))
        self._filterbank = aubio.filterbank(N_BANDS, int(win_samples))
        fmax = min(FMAX_HZ, 0.45 * self.sample_rate)
        self._filterbank.set_mel_coeffs(float(self.sample_rate), FMIN_HZ, fmax)
        edges = _mel_edges_hz(FMIN_HZ, fmax, N_BANDS + 2)
        self._bass = edges[1:-1] < BASS_HZ
        self._kick = edges[1:-1] < KICK_HZ
        self._body = edges[1:-1] < BODY_HZ
        self._snare = (edges[1:-1] >= SNARE_HZ[0]) & (edges[1:-1] < SNARE_HZ[1])
        self.kick_novelty = 0.0  # the last hop's flux over the kick bands
        self.body_novelty = 0.0  # ... over the bands below `BODY_HZ` (no hi-hats)
        self.snare_novelty = 0.0  # ... over the `SNARE_HZ` bands
        # the last hop's log band energies and their rise: the learned activation's input
        self.bands: npt.NDArray[np.float32] = np.zeros(N_BANDS, np.float32)
        self.rise: npt.NDArray[np.float32] = np.zeros(N_BANDS, np.float32)
        self._history = np.zeros((FLUX_LAG_HOPS, N_BANDS), dtype=np.float32)
        self._slot = 0
        self.freqs_hz = np.fft.rfftfreq(int(win_samples), 1.0 / self.sample_rate)
        self.magnitude: npt.NDArray[np.float32] = np.zeros(len(self.freqs_hz), np.float32)

    @property
    def features(self) -> npt.NDArray[np.float32]:
        """The last hop's log bands, then their rise: the learned activation's input
        (`livedance.audio.activation`), ``2 * N_BANDS`` float32."""
        return np.concatenate([self.bands, self.rise])

    def process(self, hop: npt.NDArray[np.float32]) -> float:
        """Analyse one hop; returns its novelty (>= 0) and keeps its spectrum in `magnitude`."""
        spectrum = self._pvoc(hop)
        self.magnitude = spectrum.norm
        bands = np.log1p(LOG_GAIN * self._filterbank(spectrum))
        rise = superflux_rise(bands, self._history[self._slot])  # vs FLUX_LAG_HOPS hops ago
        self._history[self._slot] = bands
        self.bands, self.rise = bands, rise
        self._slot = (self._slot + 1) % FLUX_LAG_HOPS
        self.kick_novelty = float(rise[self._kick].sum())
        self.body_novelty = float(rise[self._body].sum())
        self.snare_novelty = float(rise[self._snare].sum())
        return float(rise.sum() + rise[self._bass].sum())

    def process_block(self, hops: npt.NDArray[np.float32]) -> FrontEndBlock:
        """Analyse ``(n, hop_samples)`` consecutive hops with `process`, keeping every hop's
        results, so a later stage can take them all at once (the learned activation runs one
        inference per block offline instead of one per hop) and `restore` them hop by hop."""
        n = len(hops)
        novelty, kick, body, snare = (np.zeros(n) for _ in range(4))
        bands = np.zeros((n, N_BANDS), np.float32)
        rise = np.zeros((n, N_BANDS), np.float32)
        magnitude = np.zeros((n, len(self.freqs_hz)), np.float32)
        for i, hop in enumerate(hops):
            novelty[i] = self.process(hop)
            kick[i], body[i], snare[i] = self.kick_novelty, self.body_novelty, self.snare_novelty
            bands[i], rise[i] = self.bands, self.rise
            magnitude[i] = self.magnitude  # aubio's buffer: the next hop overwrites it
        return FrontEndBlock(novelty, kick, body, snare, bands, rise, magnitude)

    def restore(self, block: FrontEndBlock, i: int) -> float:
        """Leave the attributes as `process` left them after hop ``i`` of ``block``; returns that
        hop's novelty. (The spectral history stays at the block's end: the next hop to
        `process` is the one after the block.)"""
        self.kick_novelty = float(block.kick[i])
        self.body_novelty = float(block.body[i])
        self.snare_novelty = float(block.snare[i])
        self.bands, self.rise, self.magnitude = block.bands[i], block.rise[i], block.magnitude[i]
        return float(block.novelty[i])


def superflux_rise(
    bands: npt.NDArray[np.float32], reference: npt.NDArray[np.float32]
) -> npt.NDArray[np.float32]:
    """How far each log band rose above an earlier frame ``reference``, taken at its maximum
    over the neighbouring bands, which suppresses vibrato (SuperFlux); 0 where it fell.

    Args:
        bands, reference: log band energies, ``(..., N_BANDS)`` (one hop, or hops in rows).
    """
    widened = reference.copy()
    np.maximum(widened[..., 1:], reference[..., :-1], out=widened[..., 1:])
    np.maximum(widened[..., :-1], reference[..., 1:], out=widened[..., :-1])
    return np.maximum(bands - widened, 0.0)


def _mel_edges_hz(fmin_hz: float, fmax_hz: float, n: int) -> npt.NDArray[np.float64]:
    """``n`` frequencies evenly spaced on the mel scale (filter edges and centres)."""

    def mel(f: float) -> float:
        return 2595.0 * np.log10(1.0 + f / 700.0)

    mels = np.linspace(mel(fmin_hz), mel(fmax_hz), n)
    return 700.0 * (10 ** (mels / 2595.0) - 1.0)
