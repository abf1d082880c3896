"""Online repeat memory: the chroma of recent bars matched to earlier bars, live.

DESIGN.md live path, between the beat clock and the choreographer: the show announces each
predicted beat (`RepeatMemory.on_beat`, the same call that adds the beat's interval to the
choreographer). As the audio of a beat interval arrives (read back from the line-in ring) the
memory turns it into one 12-bin chroma vector (numpy FFTs and a pitch-class matrix precomputed
once; no librosa on the live path). When the last ``window_bars`` bars match the bars one lag
earlier (mean cosine similarity over ``enter_similarity``, the lag a whole number of bars) and the
same lag still wins on the next beat, the memory locks onto that lag and answers each new beat
with the time of the beat one lag earlier, whose action the choreographer then dances again
(`Choreographer.repeat_from`). It lets go when the last beats stop matching at that lag.

Best effort by design: the bar phase is not known live, so lags are whole bars from any beat,
and a repeat is recognised only after ``window_bars`` bars of it have been heard.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

#: ``read(start_sample, out) -> bool``: fill ``out`` with the input samples from absolute index
#: ``start_sample`` on (the line-in timeline: sample ``n`` is at ``n / sample_rate`` s); False when
#: they are not (or no longer) there.
SampleReader = Callable[[int, npt.NDArray[np.float32]], bool]

FRAME_SAMPLES_AT_44K = 8192  # ~5 Hz bins: a semitone apart down to ~90 Hz
MIN_PITCH_HZ = 110.0
MAX_PITCH_HZ = 3520.0
MAX_BEAT_S = 1.5  # a longer "beat" is a break; its chroma is taken from its first 1.5 s


def chroma_matrix(sample_rate: int, frame_samples: int) -> npt.NDArray[np.float32]:
    """Pitch-class filterbank: (12, frame_samples // 2 + 1), row 0 = C.

    Each rfft bin between ``MIN_PITCH_HZ`` and ``MAX_PITCH_HZ`` goes to its nearest pitch class,
    weighted down the further it lies from the semitone's centre.
    """
    freqs_hz = np.fft.rfftfreq(frame_samples, 1.0 / sample_rate)
    out = np.zeros((12, len(freqs_hz)), np.float32)
    ok = (freqs_hz >= MIN_PITCH_HZ) & (freqs_hz <= MAX_PITCH_HZ)
    midi = 69.0 + 12.0 * np.log2(freqs_hz[ok] / 440.0)
    nearest = np.round(midi)
    weight = np.cos(np.pi * (midi - nearest)) ** 2  # 1 on the note, 0 half a semitone off
    out[nearest.astype(int) % 12, np.flatnonzero(ok)] = weight
    return out


class BeatChroma:
    """One normalised chroma vector per stretch of audio (a beat interval).

    Args:
        sample_rate: Hz of the samples given to `__call__`.
        silence_rms: below this RMS the stretch is silence and its chroma is all zeros.
    """

    def __init__(self, sample_rate: int, silence_rms: float = 1e-3) -> None:
        self.frame_samples = int(2 ** round(np.log2(FRAME_SAMPLES_AT_44K * sample_rate / 44100)))
        self.hop_samples = self.frame_samples // 2
        self.silence_rms = float(silence_rms)
        self._window = np.hanning(self.frame_samples).astype(np.float32)
        self._matrix = chroma_matrix(sample_rate, self.frame_samples)

    def __call__(self, samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Chroma of ``samples``: 12 values, zero mean, unit norm (all zeros for silence)."""
        if len(samples) == 0 or float(np.sqrt(np.mean(samples**2))) < self.silence_rms:
            return np.zeros(12, np.float32)
        n = self.frame_samples
        if len(samples) < n:
            samples = np.pad(samples, (0, n - len(samples)))
        starts = np.arange(0, len(samples) - n + 1, self.hop_samples)
        frames = samples[starts[:, None] + np.arange(n)] * self._window
        power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
        chroma = np.sqrt(self._matrix @ power.sum(axis=0))
        chroma -= chroma.mean()  # cosine of centred vectors: shared notes count, absent ones too
        norm = float(np.linalg.norm(chroma))
        return (chroma / norm).astype(np.float32) if norm > 1e-9 else np.zeros(12, np.float32)


class RepeatMemory:
    """Remembers the chroma of recent beats and recognises when the music repeats.

    Args:
        sample_rate: Hz of the input timeline.
        read: where the audio of a beat comes from (`SampleReader`; live: `RingBuffer.peek`).
        beats_per_bar: lags are whole bars of this many beats.
        window_bars: bars compared to find a repeat.
        max_beats: beats remembered (the longest lag is about this minus the window).
        enter_similarity: mean cosine similarity over the window that starts a repeat.
        exit_similarity: mean similarity over the last ``exit_beats`` beats below which it stops.
        exit_beats: beats looked at to let go of a repeat.
        confirm_beats: consecutive beats the same lag must win before it is used.
        switch_margin: how much better (window similarity) another lag must be to replace the
            one in use.
    """

    def __init__(
        self,
        sample_rate: int,
        read: SampleReader,
        *,
        beats_per_bar: int = 4,
        window_bars: int = 2,
        max_beats: int = 512,
        enter_similarity: float = 0.8,
        exit_similarity: float = 0.6,
        exit_beats: int = 2,
        confirm_beats: int = 2,
        switch_margin: float = 0.1,
    ) -> None:
        self.sample_rate = int(sample_rate)
        self._read = read
        self.beats_per_bar = int(beats_per_bar)
        self.window_beats = int(window_bars) * self.beats_per_bar
        self.capacity = int(max_beats)
        self.enter_similarity = float(enter_similarity)
        self.exit_similarity = float(exit_similarity)
        self.exit_beats = int(exit_beats)
        self.confirm_beats = int(confirm_beats)
        self.switch_margin = float(switch_margin)
        self._chroma_of = BeatChroma(self.sample_rate)
        self._chroma = np.zeros((self.capacity, 12), np.float32)
        self._times_s = np.zeros(self.capacity)
        self._beats = 0  # beats announced
        self._closed = 0  # beats whose chroma is known (always the oldest ones)
        self._buffer = np.zeros(int(MAX_BEAT_S * self.sample_rate), np.float32)
        self._candidate: int | None = None
        self._candidate_count = 0
        self.lag_beats: int | None = None  # the lag repeated now, None when not repeating
        self.similarity = 0.0  # similarity at the best (or locked) lag, last beat closed
        self.repeats_found = 0

    @property
    def beats(self) -> int:
        """Beats announced so far."""
        return self._beats

    def on_beat(self, beat_s: float, now_s: float) -> float | None:
        """Announce the next beat; returns the time of the beat to repeat, or None.

        Args:
            beat_s: the (predicted) start of the new beat interval, after every earlier one.
            now_s: input time now (audio up to here has arrived).

        Returns:
            The start time of the beat one lag earlier while the music repeats, else None.
        """
        self._times_s[self._beats % self.capacity] = beat_s
        self._beats += 1
        self.update(now_s)
        if self.lag_beats is None:
            return None
        source = self._beats - 1 - self.lag_beats
        if source < max(0, self._beats - self.capacity):
            return None
        return float(self._times_s[source % self.capacity])

    def update(self, now_s: float) -> None:
        """Take the chroma of every beat whose interval has fully arrived by ``now_s``."""
        while self._closed + 1 < self._beats:
            j = self._closed
            start_s = self._times_s[j % self.capacity]
            end_s = self._times_s[(j + 1) % self.capacity]
            if end_s > now_s:
                return
            n = min(len(self._buffer), max(0, round((end_s - start_s) * self.sample_rate)))
            out = self._buffer[:n]
            got = self._read(round(start_s * self.sample_rate), out)
            self._chroma[j % self.capacity] = self._chroma_of(out) if got else 0.0
            self._closed += 1
            self._follow(j)

    def reset(self) -> None:
        """Forget the current repeat (e.g. after a break)."""
        self.lag_beats = None
        self._candidate = None
        self._candidate_count = 0

    def _window_similarity(
        self, last: int, lags: npt.NDArray[np.int64], beats: int
    ) -> npt.NDArray[np.float32]:
        """Mean cosine similarity of the ``beats`` beats up to ``last`` with those ``lags`` back."""
        idx = np.arange(last - beats + 1, last + 1)
        now = self._chroma[idx % self.capacity]  # (beats, 12)
        then = self._chroma[(idx[None, :] - lags[:, None]) % self.capacity]  # (lags, beats, 12)
        return np.einsum("lbc,bc->l", then, now) / beats

    def _follow(self, last: int) -> None:
        """Update the lock after beat ``last`` was closed."""
        oldest = max(0, self._beats - self.capacity)
        if self.lag_beats is not None:
            if last - self.lag_beats - self.exit_beats + 1 < oldest:
                self.reset()
            else:
                locked = np.array([self.lag_beats])
                recent = float(self._window_similarity(last, locked, self.exit_beats)[0])
                if recent < self.exit_similarity:
                    log.info("repeat memory: lag %d beats ended (%.2f)", self.lag_beats, recent)
                    self.reset()
        max_lag = last - self.window_beats + 1 - oldest
        lags = np.arange(self.beats_per_bar, max_lag + 1, self.beats_per_bar)
        if len(lags) == 0:
            return
        sims = self._window_similarity(last, lags, self.window_beats)
        best = int(np.argmax(sims))
        self.similarity = float(sims[best])
        if self.lag_beats is not None:
            held = sims[lags == self.lag_beats]
            if len(held) and self.similarity < float(held[0]) + self.switch_margin:
                self.similarity = float(held[0])
                self._candidate, self._candidate_count = None, 0
                return  # keep the lag: no other one is clearly better
        if self.similarity < self.enter_similarity:
            self._candidate, self._candidate_count = None, 0
            return
        lag = int(lags[best])
        if lag == self._candidate:
            self._candidate_count += 1
        else:
            self._candidate, self._candidate_count = lag, 1
        if self._candidate_count >= self.confirm_beats:
            self._candidate, self._candidate_count = None, 0
            self.lag_beats = lag
            self.repeats_found += 1
            log.info("repeat memory: music repeats %d beats back (%.2f)", lag, self.similarity)
