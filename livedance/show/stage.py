"""Beats to moves: the stage that turns a beat clock's predictions into the choreography, causally.

DESIGN.md live path, between the beat clock and the choreographer ("live, the timeline is extended
beat by beat from the predicted beat clock"). `BeatsToMoves.extend` is called as time goes on
(once a frame on stage); for each beat the clock predicts within the next period it appends one
beat interval to the choreographer, so a move starts ON the predicted beat rather than when the
beat was detected. The interval's loudness and brightness are those of the last beat interval
that has fully arrived (`livedance.audio.features`, the song plan's definition), read back from
the samples; a `RepeatMemory` hears each beat and, while the music repeats earlier bars, makes the
beat dance the move of one lag earlier again. When the clock idles (the music stopped), nothing is
added and the choreographer's idle pose takes over.

The stage needs a beat source and a sample reader, not a sound card: on stage they are the
line-in's beat clock and ring; `dance_causally` feeds a whole file through the same stage hop by
hop (madmom's online processor run offline), for ``play --tracker causal``, ``beats --causal``,
the tests and the benchmarks.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from livedance.audio.activation import ActivationMode
from livedance.audio.beats import BEATS_PER_BAR, BeatTrack, BeatTracker
from livedance.audio.features import interval_features
from livedance.audio.repeats import MAX_BEAT_S, RepeatMemory, SampleReader
from livedance.audio.temporange import DEFAULT_TEMPO, TempoRange
from livedance.body import DEFAULT_BODY, Body
from livedance.choreo import Choreographer, Move
from livedance.songplan import BeatInterval

log = logging.getLogger(__name__)

DEFAULT_FEATURES = (-20.0, 1500.0)
"""Loudness (dB) and brightness (Hz) of a beat before any interval has been heard."""


class BeatSource(Protocol):
    """What the stage asks of a beat clock (`livedance.audio.beatclock.BeatClock`)."""

    @property
    def is_idle(self) -> bool: ...

    @property
    def period_s(self) -> float: ...

    def beats_between(self, t0_s: float, t1_s: float) -> list[float]: ...


class BarSource(Protocol):
    """What the stage asks of a bar phase (`livedance.audio.beats.BeatTracker.is_downbeat`)."""

    def is_downbeat(self, beat_s: float) -> bool | None: ...


class KnownBeats:
    """A beat source whose beats are known in advance (a synthesized song, a beat annotation).

    For tests and benchmarks that run the stage without a tracker. ``period_s`` is the median
    interval between the beats.
    """

    def __init__(self, beats_s: npt.ArrayLike) -> None:
        self.beats_s = np.sort(np.asarray(beats_s, dtype=np.float64))
        if len(self.beats_s) < 2:
            raise ValueError("known beats need at least two beats")
        self.period_s = float(np.median(np.diff(self.beats_s)))

    @property
    def is_idle(self) -> bool:
        return False

    def beats_between(self, t0_s: float, t1_s: float) -> list[float]:
        i0, i1 = np.searchsorted(self.beats_s, [t0_s, t1_s], side="left")
        return [float(t) for t in self.beats_s[i0:i1]]


@dataclass(frozen=True)
class StageMove:
    """A move the stage added, with when it decided it (its beat may still be ahead).

    ``repeat_of_s`` is the earlier beat the repeat memory heard again here (None: no repeat);
    ``downbeat``: the stage took the move's beat for a bar's first (the operator's one, or the
    live bar phase).
    """

    move: Move
    decided_s: float
    repeat_of_s: float | None = None
    downbeat: bool = False


class BeatsToMoves:
    """Extends a choreography beat by beat from a beat source, with features and repeats.

    Args:
        choreographer: the choreography to extend (empty at the start of a show).
        beats: the beat clock whose predicted beats become moves.
        read: reads the input's samples by absolute index (sample ``n`` at ``n / sample_rate``).
        sample_rate: Hz of the input timeline.
        repeats: dance earlier moves again while the music repeats (a `RepeatMemory`).
        on_move: called with each move added (e.g. to record when it was decided).
        bars: the live bar phase: while it is clear and the operator has not said where the
            one is (`mark_one`), it marks the bar's first beats.
    """

    def __init__(
        self,
        choreographer: Choreographer,
        beats: BeatSource,
        read: SampleReader,
        sample_rate: int,
        *,
        repeats: bool = True,
        on_move: Callable[[StageMove], None] | None = None,
        bars: BarSource | None = None,
    ) -> None:
        self.choreographer = choreographer
        self.bars = bars
        self.beats = beats
        self.read = read
        self.sample_rate = int(sample_rate)
        self.memory = RepeatMemory(self.sample_rate, read) if repeats else None
        self.on_move = on_move
        self.features = DEFAULT_FEATURES
        self.moves_added = 0
        self._one_index: int | None = None  # a move on the bar's first beat ("the one")
        self._measured_until_s = -1e9  # the end of the last interval measured
        self._buffer = np.zeros(int(MAX_BEAT_S * self.sample_rate), np.float32)

    def extend(self, now_s: float, captured_s: float) -> int:
        """Append an interval for each beat predicted within the next period.

        Args:
            now_s: the show's time on the input timeline.
            captured_s: input time up to which samples can be read.

        Returns:
            How many intervals were added.
        """
        beats = self.beats
        if beats.is_idle:
            if self.memory is not None:
                self.memory.reset()
            self._one_index = None  # the bar is lost with the beat
            return 0
        self._measure(captured_s)
        period_s = beats.period_s
        choreographer = self.choreographer
        n = choreographer.n_moves
        last_s = choreographer.move(n - 1).start_s if n else -1e9
        added = 0
        for beat_s in beats.beats_between(now_s - period_s, now_s + period_s):
            if beat_s <= last_s + 0.5 * period_s:
                continue
            memory = self.memory
            source_s = memory.on_beat(beat_s, captured_s) if memory is not None else None
            if source_s is not None:
                choreographer.repeat_from(source_s)
            rms_db, centroid_hz = self.features
            one = self._one_index
            if one is not None:
                downbeat = (choreographer.n_moves - one) % BEATS_PER_BAR == 0
            else:
                downbeat = self.bars is not None and bool(self.bars.is_downbeat(beat_s))
            move = choreographer.add_interval(
                BeatInterval(beat_s, beat_s + period_s, rms_db, centroid_hz, downbeat)
            )
            if self.on_move is not None:
                self.on_move(StageMove(move, now_s, source_s, downbeat))
            last_s = beat_s
            added += 1
        self.moves_added += added
        return added

    def mark_one(self, at_s: float) -> bool:
        """The operator says the beat nearest ``at_s`` is a bar's first ("this is the one"):
        from then on every `BEATS_PER_BAR`-th move gets the accent. False with no moves yet."""
        choreographer = self.choreographer
        n = choreographer.n_moves
        if n == 0:
            return False
        starts = [choreographer.move(i).start_s for i in range(max(0, n - 8), n)]
        nearest = int(np.argmin(np.abs(np.asarray(starts) - at_s)))
        self._one_index = max(0, n - 8) + nearest
        return True

    def _measure(self, captured_s: float) -> None:
        """Take the features of the newest beat interval that has fully arrived."""
        choreographer = self.choreographer
        n = choreographer.n_moves
        # the newest interval between two moves' starts that is all in
        for i in range(n - 1, 0, -1):
            start_s, end_s = choreographer.move(i - 1).start_s, choreographer.move(i).start_s
            if end_s <= captured_s:
                break
        else:
            return
        if end_s <= self._measured_until_s:
            return
        count = min(len(self._buffer), max(0, round((end_s - start_s) * self.sample_rate)))
        out = self._buffer[:count]
        if count and self.read(round(start_s * self.sample_rate), out):
            self.features = interval_features(out, self.sample_rate)
        self._measured_until_s = end_s


def array_reader(samples: npt.NDArray[np.float32]) -> SampleReader:
    """A `SampleReader` over a whole signal held in memory (sample ``n`` at index ``n``)."""

    def read(start: int, out: npt.NDArray[np.float32]) -> bool:
        if start < 0 or start + len(out) > len(samples):
            return False
        out[:] = samples[start : start + len(out)]
        return True

    return read


@dataclass
class CausalDance:
    """A file danced as the live stage would have danced it."""

    choreographer: Choreographer
    track: BeatTrack
    """What the beat tracker declared (beats, onsets), hop by hop."""
    moves: list[StageMove]
    """Every move the stage added, with the input time it decided it at."""
    learned: bool = False
    """Whether the tracker folded the learned beat activation (else the handcrafted novelty)."""


def dance_causally(
    mono: npt.NDArray[np.float32],
    sample_rate: int,
    *,
    tempo: TempoRange = DEFAULT_TEMPO,
    seed: int = 0,
    body: Body = DEFAULT_BODY,
    repeats: bool = True,
    fps: float = 30.0,
    activation: ActivationMode = "auto",
) -> CausalDance:
    """Run a whole signal through the live tracker and the stage, hop by hop, as on stage.

    The stage is extended once per display frame (``fps``) of audio time, with only the audio up
    to then readable: what `livedance live` would dance hearing this signal on its line-in.

    Args:
        mono: the signal.
        sample_rate: Hz.
        tempo: the tempo range the tracker follows.
        seed: seed of the choreography.
        body: the Body the moves are built on.
        repeats: use the online repeat memory.
        fps: how often the stage is extended (the show's frame rate).
        activation: what the tracker folds (`livedance.audio.activation`).

    Returns:
        The choreography, the tracker's beats, and each move with when it was decided.
    """
    tracker = BeatTracker(sample_rate, tempo=tempo, activation=activation)
    choreographer = Choreographer(seed=seed, body=body)
    moves: list[StageMove] = []
    stage = BeatsToMoves(
        choreographer,
        tracker.clock,
        array_reader(np.ascontiguousarray(mono, dtype=np.float32)),
        sample_rate,
        repeats=repeats,
        on_move=moves.append,
        bars=tracker,
    )
    duration_s = len(mono) / sample_rate
    next_frame_s = 0.0

    def each_hop(now_s: float) -> None:
        nonlocal next_frame_s
        if now_s >= next_frame_s:
            stage.extend(now_s, min(now_s, duration_s))
            next_frame_s += 1.0 / fps

    track = tracker.process_signal(mono, on_hop=each_hop)
    return CausalDance(choreographer, track, moves, learned=tracker.activation is not None)
