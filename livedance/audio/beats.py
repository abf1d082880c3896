"""Causal beat tracking and per-beat features: one code path, hop by hop or a whole file.

The "beat tracker (aubio) + features (rms, centroid)" box of DESIGN.md, and the beat clock it
drives. Each hop of samples goes through

1. the aubio front end (`livedance.audio.novelty`): phase vocoder, mel filterbank, spectral flux;
   with the learned activation (`livedance.audio.activation`, the default when
   ``models/beatnet.onnx`` is there) a small causal network reads the front end's bands and
   gives how likely a beat and a bar's first beat land on each hop, and that is what is folded;
2. the pulse estimator (`livedance.audio.tempo`): tempo (comb filter bank over the novelty's
   autocorrelation, tempo prior, range limits), metrical level, beat phase, from the last
   seconds only;
3. the beat clock (`livedance.audio.beatclock`): a phase-locked loop that runs ahead of the
   audio, so each beat is handed out when it happens (stamped with the time the clock predicted
   for it), not a detection delay later; it idles when the music stops.

`BeatTracker.process` reports a beat when the clock reaches one, with the loudness and brightness
of the interval it closes; `BeatTracker.process_signal` feeds a whole file through that same
path hop by hop (madmom's online/offline processor idea), so what tests and benchmarks measure on
files is what runs on stage; only the front end runs a block of hops ahead there, so that the
learned activation takes the block in one inference (the same values to float rounding).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import aubio
import numpy as np
import numpy.typing as npt

from livedance.audio.activation import ActivationMode, BeatActivation, load_activation
from livedance.audio.beatclock import BeatClock
from livedance.audio.novelty import NoveltyFrontEnd
from livedance.audio.tempo import PulseEstimator
from livedance.audio.temporange import DEFAULT_TEMPO, TempoRange
from livedance.songplan import BeatInterval

log = logging.getLogger(__name__)

DEFAULT_HOP = 256
"""Samples per hop at `REFERENCE_RATE` (5.8 ms)."""
DEFAULT_WIN = 1024
"""Analysis window at `REFERENCE_RATE` (23 ms)."""
REFERENCE_RATE = 44100
"""The rate the hop, the window and the tracker's latencies are set for."""


def samples_at(sample_rate: int, samples_at_reference: int) -> int:
    """The power of two nearest ``samples_at_reference`` scaled from `REFERENCE_RATE` to
    ``sample_rate``: the same duration, so the tracker times beats alike at any rate (at 22.05
    kHz a 1024-sample window lasts twice as long, and its onsets came 12-16 ms late)."""
    return int(2 ** round(math.log2(samples_at_reference * sample_rate / REFERENCE_RATE)))


BLOCK_HOPS = 512
"""Hops the front end runs ahead in `BeatTracker.process_signal` (3 s at 44.1 kHz): one learned
activation inference per block."""

UPDATE_S = 0.05
"""How often the pulse is re-estimated and the clock steered."""

LEVEL_TIME_S = 0.05
"""Time constant of the input level that silence is judged on."""

SILENCE_DBFS = -55.0
"""Input level below which the input is silent however quiet the music was."""

SILENCE_REL_DB = 30.0
"""A level this far below the music's recent peak level is silence (the song ended)."""

MUSIC_LEVEL_RELEASE_DB_PER_S = 3.0
"""How fast the remembered peak level of the music decays (so a quiet song is not silence)."""

SILENCE_IDLE_S = 0.75
"""Silence longer than this stops the beat clock: the dancer idles."""

SILENCE_RESET_S = 3.0
"""Music returning after a silence longer than this starts a fresh tempo history."""

BEATS_PER_BAR = 4
"""The metre live: the bar phase's, and the stage's count from the operator's "this is the one"."""

BAR_MARGIN = 0.6
"""The bar phase's margin (`livedance.audio.metre.bar_place`) from which a beat is called the
bar's first (`BeatTracker.is_downbeat`)."""

NOVELTY_LATENCY_S = 0.015
"""How far the novelty peak of an onset lags the onset (analysis window); calibrated on the
synthesized test songs."""


@dataclass(frozen=True)
class BeatEvent:
    """A beat as handed out by the tracker.

    Attributes:
        time_s: the beat's time on the input's timeline (as the beat clock predicted it).
        declared_s: when the tracker handed it out (the end of the hop that reached it).
        bpm: the beat clock's tempo at that moment.
        confidence: the beat clock's confidence, 0..1.
        interval: features of the interval from the previous beat to this one (None for the
            first beat, or the first after a silence).
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
    """Causal beat tracker with a predicting beat clock, plus RMS/centroid features, per hop.

    Args:
        sample_rate: of the mono input, Hz.
        hop_samples: samples per `process` call (default: `DEFAULT_HOP` at 44.1 kHz, 5.8 ms,
            scaled to the rate by `samples_at`).
        win_samples: analysis window of aubio's phase vocoder and of the spectral centroid
            (default: `DEFAULT_WIN` at 44.1 kHz, scaled alike).
        tempo: the tempo range the tracker may follow (and its new clock runs at).
        clock: the beat clock to steer (a new one by default); pass one to share it with the
            show.
        kick_phase: the kick band may mark the beat's phase (`livedance.audio.tempo`); the song
            plan's guide leaves it off (it mistook a folk song's bass strings for a kick).
        activation: what the pulse estimator folds: ``"learned"`` (the beat activation of
            `livedance.audio.activation`), ``"handcrafted"`` (the front end's spectral flux),
            ``"auto"`` (the default: learned when its model file is there, else handcrafted with
            one log line), or a `BeatActivation` to use.
    """

    def __init__(
        self,
        sample_rate: int,
        hop_samples: int | None = None,
        win_samples: int | None = None,
        *,
        tempo: TempoRange = DEFAULT_TEMPO,
        clock: BeatClock | None = None,
        kick_phase: bool = True,
        activation: ActivationMode | BeatActivation = "auto",
    ) -> None:
        self.sample_rate = int(sample_rate)
        self.activation = (
            activation if isinstance(activation, BeatActivation) else load_activation(activation)
        )
        self.hop_samples = int(hop_samples or samples_at(self.sample_rate, DEFAULT_HOP))
        self.win_samples = int(win_samples or samples_at(self.sample_rate, DEFAULT_WIN))
        frame_rate = self.sample_rate / self.hop_samples
        self.front_end = NoveltyFrontEnd(self.sample_rate, self.hop_samples, self.win_samples)
        self.estimator = PulseEstimator(
            frame_rate,
            min_bpm=tempo.min_bpm,
            max_bpm=tempo.max_bpm,
            latency_s=NOVELTY_LATENCY_S,
            # the learned activation already says where the beat is; its downbeat output takes
            # the kick's place in the bar phase
            kick_phase=kick_phase and self.activation is None,
            backbeat_only_faster=self.activation is not None,
        )
        self.clock = clock if clock is not None else BeatClock(tempo=tempo)
        self._onset = aubio.onset("default", self.win_samples, self.hop_samples, self.sample_rate)
        self._update_hops = max(1, round(UPDATE_S * frame_rate))
        self._level_alpha = 1.0 - np.exp(-1.0 / (LEVEL_TIME_S * frame_rate))
        self._level_ms = 0.0  # smoothed mean square of the input
        self._music_db = -120.0  # recent peak level of the input, dBFS
        self._silent_hops = 0
        self._hops_seen = 0
        self._last_beat_s: float | None = None
        # Sums over the current beat interval: energy, and energy-weighted centroid.
        self._sum_sq = 0.0
        self._n = 0
        self._centroid_weighted = 0.0
        self._centroid_weight = 0.0
        self.onsets_seen = 0
        self.last_onset_s: float | None = None  # kept one at a time: a live show runs for hours
        self._downbeat_s: float | None = None  # the newest bar start the bar phase found
        self._bar_margin = 0.0

    @property
    def time_s(self) -> float:
        """Input time at the end of the last hop processed."""
        return self._hops_seen * self.hop_samples / self.sample_rate

    def process(self, hop: npt.NDArray[np.float32]) -> BeatEvent | None:
        """Feed one hop of mono float32 samples.

        Args:
            hop: ``hop_samples`` samples, the next ones of the input.

        Returns:
            A BeatEvent when the beat clock reached a beat during this hop, else None.
        """
        if hop.shape != (self.hop_samples,):
            raise ValueError(f"expected a hop of {self.hop_samples} samples, got {hop.shape}")
        hop = np.ascontiguousarray(hop, dtype=np.float32)
        return self._track(hop, self.front_end.process(hop))

    def _track(
        self,
        hop: npt.NDArray[np.float32],
        novelty: float,
        activation: Sequence[float] | None = None,
    ) -> BeatEvent | None:
        """`process` once the front end has analysed ``hop`` (its novelty given), with the learned
        activation's (beat, downbeat) of the hop when already computed."""
        self._hops_seen += 1
        now_s = self.time_s
        energy = self._accumulate_features(hop)
        if self._onset(hop)[0]:
            self.onsets_seen += 1
            self.last_onset_s = float(self._onset.get_last_s())
        self._follow_silence(energy, now_s)
        self._push(novelty, activation)
        if self._hops_seen % self._update_hops == 0 and self._silent_hops == 0:
            self.clock.update(self.estimator.estimate(self._preferred_period()), now_s)
            self._follow_bar(now_s)
        event = None
        for beat_s in self.clock.beats_until(now_s):
            event = self._beat_event(beat_s, now_s)
        return event

    def _push(self, novelty: float, activation: Sequence[float] | None = None) -> None:
        """Hand the estimator this hop's novelties: the handcrafted ones, or the learned
        activation's beat (for tempo, level and phase) and downbeat (for the bar phase), run
        here unless given."""
        front = self.front_end
        if self.activation is None:
            self.estimator.push(
                novelty, bass=front.kick_novelty, body=front.body_novelty, snare=front.snare_novelty
            )
            return
        beat, downbeat = activation or self.activation.process(front.features)
        # the snare's backbeat may only double the activation's level (`PulseEstimator`): as
        # the level's judge it read half-time trap at half its tempo (styles-dev trap F 0.69)
        self.estimator.push(beat, bass=downbeat, body=beat, snare=front.snare_novelty)

    def is_downbeat(self, beat_s: float) -> bool | None:
        """Whether the beat at ``beat_s`` starts a bar, by the instruments' roles (the kick on it,
        no backbeat snare); None while the bar phase is unclear.

        Args:
            beat_s: a beat of the clock's grid (past or predicted).
        """
        if self._downbeat_s is None or self._bar_margin < BAR_MARGIN or self.clock.is_idle:
            return None
        beats = round((beat_s - self._downbeat_s) / self.clock.period_s)
        return beats % BEATS_PER_BAR == 0

    def _follow_bar(self, now_s: float) -> None:
        """Re-estimate the bar phase on the clock's grid (from a beat at least 0.4 period old,
        whose kick and snare have been heard whole)."""
        upcoming = self.clock.next_beat_s(now_s)
        if upcoming is None or self.clock.is_idle:
            self._downbeat_s = None
            return
        period_s = self.clock.period_s
        beat_s = upcoming - period_s
        if now_s - beat_s < 0.4 * period_s:
            beat_s -= period_s
        bar = self.estimator.bar_phase(beat_s, period_s, BEATS_PER_BAR)
        if bar is not None:
            self._downbeat_s, self._bar_margin = bar

    def skip(self, n_hops: int) -> None:
        """No input for ``n_hops`` hops (the device was away, or samples were lost): time moves on.

        The beat clock coasts over a short gap; music after a gap longer than `SILENCE_RESET_S`
        starts a fresh tempo history, as after a silence.
        """
        if n_hops <= 0:
            return
        self._hops_seen += int(n_hops)
        self._silent_hops += int(n_hops)
        self._last_beat_s = None
        self._sum_sq = self._centroid_weighted = self._centroid_weight = 0.0
        self._n = 0

    def process_signal(
        self,
        mono: npt.NDArray[np.float32],
        on_hop: Callable[[float], None] | None = None,
    ) -> BeatTrack:
        """Feed a whole mono signal hop by hop as `process` does (zero-padded at the end).

        The front end runs `BLOCK_HOPS` hops ahead and the learned activation takes them in one
        inference (the same causal network and state as hop by hop, to float rounding: about
        1e-6), then each hop goes on through the tracker in turn: the same beats as `process`,
        the network's cost a hundredth.

        Args:
            mono: the signal.
            on_hop: called with the input time after each hop (what a live show does between
                hops, e.g. `livedance.show.stage.dance_causally` extending the dance).
        """
        n_hops = -(-len(mono) // self.hop_samples)
        padded = np.zeros(n_hops * self.hop_samples, dtype=np.float32)
        padded[: len(mono)] = mono
        hops = padded.reshape(n_hops, self.hop_samples)
        track = BeatTrack(duration_s=len(mono) / self.sample_rate)
        for first in range(0, n_hops, BLOCK_HOPS):
            block = self.front_end.process_block(hops[first : first + BLOCK_HOPS])
            activations = (
                self.activation.process_block(block.features).T.tolist()
                if self.activation is not None
                else None
            )
            for i, hop in enumerate(hops[first : first + BLOCK_HOPS]):
                onsets = self.onsets_seen
                novelty = self.front_end.restore(block, i)
                event = self._track(hop, novelty, activations[i] if activations else None)
                if event is not None:
                    track.beats.append(event)
                if self.onsets_seen != onsets and self.last_onset_s is not None:
                    track.onset_times_s.append(self.last_onset_s)
                if on_hop is not None:
                    on_hop(self.time_s)
        return track

    def _preferred_period(self) -> float | None:
        """The clock's period (also the remembered one while idle), once it ever had one."""
        snap = self.clock.snapshot()
        return snap.period_s if snap.state != "idle" or snap.last_beat_s is not None else None

    def _follow_silence(self, energy: float, now_s: float) -> None:
        """Track the input level; stop the beat clock when the music stops.

        Silence is the input level falling `SILENCE_REL_DB` below the music's
        recent peak level (or below `SILENCE_DBFS`). After `SILENCE_IDLE_S` of it the clock
        goes idle; if the music comes back within `SILENCE_RESET_S` the tempo history is kept
        (a band stopping for a bar re-locks at once), else it is cleared for the next song.
        """
        self._level_ms += self._level_alpha * (energy / self.hop_samples - self._level_ms)
        level_db = 10.0 * np.log10(max(self._level_ms, 1e-12))
        hop_s = self.hop_samples / self.sample_rate
        self._music_db = max(level_db, self._music_db - MUSIC_LEVEL_RELEASE_DB_PER_S * hop_s)
        if level_db >= max(SILENCE_DBFS, self._music_db - SILENCE_REL_DB):
            if self._silent_hops * hop_s >= SILENCE_RESET_S:
                log.debug(
                    "music again at %.2f s after a long silence: tempo history cleared", now_s
                )
                self.estimator.reset()
            self._silent_hops = 0
            return
        self._silent_hops += 1
        if self._silent_hops * hop_s >= SILENCE_IDLE_S and not self.clock.is_idle:
            log.debug("silence at %.2f s: beat clock stops", now_s)
            self.clock.stop(now_s)
            self._last_beat_s = None

    def _beat_event(self, beat_s: float, now_s: float) -> BeatEvent:
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
            declared_s=now_s,
            bpm=self.clock.bpm,
            confidence=self.clock.confidence,
            interval=interval,
        )

    def _accumulate_features(self, hop: npt.NDArray[np.float32]) -> float:
        """Add the hop to the interval's loudness and brightness sums; returns its energy."""
        energy = float(np.dot(hop, hop))
        self._sum_sq += energy
        self._n += len(hop)
        if energy <= 1e-12:
            return energy
        magnitude = self.front_end.magnitude
        total = float(magnitude.sum())
        if total > 0:
            centroid = float(np.dot(self.front_end.freqs_hz, magnitude) / total)
            self._centroid_weighted += energy * centroid
            self._centroid_weight += energy
        return energy


def track_beats(
    mono: npt.NDArray[np.float32], sample_rate: int, hop_samples: int | None = None
) -> BeatTrack:
    """Beats and features of a whole signal (the offline face of `BeatTracker`)."""
    return BeatTracker(sample_rate, hop_samples).process_signal(mono)


def _db(mean_square: float) -> float:
    return float(10.0 * np.log10(max(mean_square, 1e-12)))
