"""Beat tracking and per-beat features with aubio: one code path, hop by hop or a whole file.

The "beat tracker (aubio) + features (rms, centroid)" box of DESIGN.md. `BeatTracker.process`
takes one hop of samples and reports a beat when aubio declares one, together with the loudness
and brightness of the interval it closes; `BeatTracker.process_signal` feeds a whole file through
that same method (madmom's online/offline processor idea), so what tests measure on files is what
runs on stage.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import aubio
import numpy as np
import numpy.typing as npt

from livedance.songplan import BeatInterval

DEFAULT_HOP = 256
DEFAULT_WIN = 1024


@dataclass(frozen=True)
class BeatEvent:
    """A beat as declared by the tracker.

    Attributes:
        time_s: the beat's time on the input's timeline.
        declared_s: when the tracker declared it (the end of the hop that revealed it).
        bpm: the tracker's tempo estimate at that moment.
        confidence: aubio's tempo confidence.
        interval: features of the interval from the previous beat to this one (None for the first).
    """

    time_s: float
    declared_s: float
    bpm: float
    confidence: float
    interval: BeatInterval | None


@dataclass
class BeatTrack:
    """What a whole signal gave: beats, onsets, tempo and per-interval features."""

    beats: list[BeatEvent] = field(default_factory=list)
    onset_times_s: list[float] = field(default_factory=list)
    duration_s: float = 0.0

    @property
    def beat_times_s(self) -> npt.NDArray[np.float64]:
        return np.array([b.time_s for b in self.beats], dtype=np.float64)

    @property
    def intervals(self) -> list[BeatInterval]:
        return [b.interval for b in self.beats if b.interval is not None]

    @property
    def bpm(self) -> float:
        """Median tempo from the beat intervals (0 with fewer than two beats)."""
        times = self.beat_times_s
        return float(60.0 / np.median(np.diff(times))) if len(times) > 1 else 0.0


class BeatTracker:
    """aubio tempo and onset detection plus RMS/centroid features, fed one hop at a time.

    Args:
        sample_rate: of the mono input, Hz.
        hop_samples: samples per `process` call (256 at 44.1 kHz is ~5.8 ms).
        win_samples: analysis window of aubio and of the spectral centroid.
    """

    def __init__(
        self,
        sample_rate: int,
        hop_samples: int = DEFAULT_HOP,
        win_samples: int = DEFAULT_WIN,
    ) -> None:
        self.sample_rate = int(sample_rate)
        self.hop_samples = int(hop_samples)
        self.win_samples = int(win_samples)
        self._tempo = aubio.tempo("default", win_samples, hop_samples, self.sample_rate)
        self._onset = aubio.onset("default", win_samples, hop_samples, self.sample_rate)
        self._window = np.hanning(win_samples).astype(np.float32)
        self._freqs = np.fft.rfftfreq(win_samples, 1.0 / self.sample_rate)
        self._ring = np.zeros(win_samples, dtype=np.float32)
        self._hops_seen = 0
        self._last_beat_s: float | None = None
        # Sums over the current beat interval: energy, and energy-weighted centroid.
        self._sum_sq = 0.0
        self._n = 0
        self._centroid_weighted = 0.0
        self._centroid_weight = 0.0
        self.onset_times_s: list[float] = []

    @property
    def time_s(self) -> float:
        """Input time at the end of the last hop processed."""
        return self._hops_seen * self.hop_samples / self.sample_rate

    def process(self, hop: npt.NDArray[np.float32]) -> BeatEvent | None:
        """Feed one hop of mono float32 samples; returns a BeatEvent if a beat was declared."""
        if hop.shape != (self.hop_samples,):
            raise ValueError(f"expected a hop of {self.hop_samples} samples, got {hop.shape}")
        hop = np.ascontiguousarray(hop, dtype=np.float32)
        self._hops_seen += 1
        self._accumulate_features(hop)
        if self._onset(hop)[0]:
            self.onset_times_s.append(float(self._onset.get_last_s()))
        if not self._tempo(hop)[0]:
            return None
        beat_s = float(self._tempo.get_last_s())
        interval = None
        if self._last_beat_s is not None and beat_s > self._last_beat_s:
            interval = BeatInterval(
                start_s=self._last_beat_s,
                end_s=beat_s,
                rms_db=_db(self._sum_sq / max(1, self._n)),
                centroid_hz=(
                    self._centroid_weighted / self._centroid_weight
                    if self._centroid_weight > 0
                    else 0.0
                ),
            )
        self._last_beat_s = beat_s
        self._sum_sq = self._centroid_weighted = self._centroid_weight = 0.0
        self._n = 0
        return BeatEvent(
            time_s=beat_s,
            declared_s=self.time_s,
            bpm=float(self._tempo.get_bpm()),
            confidence=float(self._tempo.get_confidence()),
            interval=interval,
        )

    def process_signal(self, mono: npt.NDArray[np.float32]) -> BeatTrack:
        """Feed a whole mono signal hop by hop through `process` (zero-padded at the end)."""
        n_hops = -(-len(mono) // self.hop_samples)
        padded = np.zeros(n_hops * self.hop_samples, dtype=np.float32)
        padded[: len(mono)] = mono
        track = BeatTrack(duration_s=len(mono) / self.sample_rate)
        for i in range(n_hops):
            event = self.process(padded[i * self.hop_samples : (i + 1) * self.hop_samples])
            if event is not None:
                track.beats.append(event)
        track.onset_times_s = list(self.onset_times_s)
        return track

    def _accumulate_features(self, hop: npt.NDArray[np.float32]) -> None:
        self._ring = np.roll(self._ring, -len(hop))
        self._ring[-len(hop) :] = hop
        energy = float(np.dot(hop, hop))
        self._sum_sq += energy
        self._n += len(hop)
        if energy <= 1e-12:
            return
        magnitude = np.abs(np.fft.rfft(self._ring * self._window))
        total = float(magnitude.sum())
        if total > 0:
            self._centroid_weighted += energy * float(np.dot(self._freqs, magnitude) / total)
            self._centroid_weight += energy


def track_beats(
    mono: npt.NDArray[np.float32], sample_rate: int, hop_samples: int = DEFAULT_HOP
) -> BeatTrack:
    """Beats and features of a whole signal (the offline face of `BeatTracker`)."""
    return BeatTracker(sample_rate, hop_samples).process_signal(mono)


def _db(mean_square: float) -> float:
    return float(10.0 * np.log10(max(mean_square, 1e-12)))
