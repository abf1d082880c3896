"""The show's timeline: the dance in show time, extended as the show goes, steered by the operator.

The show loop (`livedance.show.loop`) knows one kind of source for its dance. A `Timeline` holds
a choreographer and reads it in show time (0 at the first frame) under one lock, because the
render-ahead worker asks for poses while the show thread extends the dance and applies the
operator's requests:

- `PlannedTimeline`: a song whose beats are known before it plays (the song plan, or the live
  tracker run over the file). `extend` does nothing; a tap or a nudge shifts the dance's phase;
  a tempo cannot change (the plan fixes it).
- `LiveTimeline`: line-in. `extend` runs the beats-to-moves stage (`livedance.show.stage`) on the
  beat clock's predictions; a tap, a nudge or a tempo steer the beat clock itself.

Both report the beat for the HUD and the moves to announce over OSC in the same terms, with the
tempo the beats really come at: the plan's own for a planned song, the beat clock's live.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Protocol

from livedance.audio.beatclock import BeatClock
from livedance.choreo import Choreographer, Move
from livedance.pose import Pose
from livedance.show.stage import BeatsToMoves

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BeatInfo:
    """The beat at a moment of the show, for the HUD.

    Attributes:
        bpm: the tempo the beats come at (0 when there is no beat).
        phase: 0..1 through the beat (0 on it).
        action: the move danced, ``"idle"`` between moves, marked ``(repeat)`` when the music
            repeats.
    """

    bpm: float
    phase: float
    action: str


@dataclass(frozen=True)
class Announcement:
    """A move start to announce over OSC: the ``index``-th move, at show time ``at_s``."""

    index: int
    at_s: float
    action: str
    bpm: float
    confidence: float


class Timeline:
    """A choreographer read in show time; the base of the planned and the live timelines.

    Args:
        choreographer: the dance.
        origin_s: the choreography's time at show time 0 (a live show starts on an input
            timeline that has run since the device opened).
    """

    def __init__(self, choreographer: Choreographer, *, origin_s: float = 0.0) -> None:
        self.choreographer = choreographer
        self.origin_s = float(origin_s)
        self.offset_s = 0.0
        """The operator's shift of the dance's phase (planned songs)."""
        self.lock = threading.RLock()
        self.revision = 0
        """Counts changes to moves already planned (outputs that announced them start over)."""

    # ----------------------------------------------------------------------------- time
    def to_dance_s(self, show_s: float) -> float:
        return show_s + self.origin_s + self.offset_s

    def to_show_s(self, dance_s: float) -> float:
        return dance_s - self.origin_s - self.offset_s

    # ----------------------------------------------------------------------------- reading
    @property
    def problem(self) -> str | None:
        """What is wrong with the source now, for the HUD (a lost input)."""
        return None

    @property
    def confidence(self) -> float:
        """How sure the beats are, 0..1 (a plan's are certain)."""
        return 1.0

    @property
    def beats_heard(self) -> int | None:
        """Beats the tracker has heard (live only)."""
        return None

    def extend(self, now_s: float) -> None:
        """Keep the dance ahead of show time ``now_s`` (called once a frame)."""

    def pose_at(self, show_s: float) -> Pose:
        with self.lock:
            return self.choreographer.pose_at(self.to_dance_s(show_s))

    def accents(self, t0_s: float, t1_s: float) -> list[float]:
        """Show times of the move starts (the beats) in ``[t0_s, t1_s)``."""
        with self.lock:
            dance = self.choreographer.starts_between(self.to_dance_s(t0_s), self.to_dance_s(t1_s))
            return [self.to_show_s(t) for t in dance]

    def beat_at(self, show_s: float) -> BeatInfo:
        with self.lock:
            t = self.to_dance_s(show_s)
            move = self.choreographer.move_at(t)
            if move is None:
                return BeatInfo(0.0, 0.0, "idle")
            span_s = move.end_s - move.start_s
            phase = (t - move.start_s) / span_s if span_s > 0 else 0.0
            return BeatInfo(self._bpm(move), phase, _label(move))

    def announcements(self, after_s: float, until_s: float) -> list[Announcement]:
        """The moves starting in ``(after_s, until_s]`` of show time, in order."""
        out = []
        with self.lock:
            dance = self.choreographer
            # one before the bisection point: the offset's rounding must not skip a beat
            i = max(0, dance.index_after(self.to_dance_s(after_s)) - 1)
            while i < dance.n_moves:
                move = dance.move(i)
                at_s = self.to_show_s(move.start_s)
                if at_s > until_s:
                    break
                if at_s > after_s:
                    out.append(Announcement(i, at_s, move.action, self._bpm(move), self.confidence))
                i += 1
        return out

    def _bpm(self, move: Move) -> float:
        span_s = move.end_s - move.start_s
        return 60.0 / span_s if span_s > 0 else 0.0

    # ----------------------------------------------------------------------------- steering
    def force(self, action: str, now_s: float) -> None:
        """Dance ``action`` on the next beat after show time ``now_s``.

        Raises:
            KeyError: an action the choreographer does not know.
        """
        with self.lock:
            self.choreographer.force_at(self.to_dance_s(now_s), action)
            self.revision += 1

    def tap(self, beat_s: float, bpm: float | None) -> str:
        """The operator says a beat is at show time ``beat_s`` (with a tempo after a few taps).

        Returns:
            What was done, for the log.
        """
        raise NotImplementedError

    def nudge(self, beats: float) -> str:
        """Shift the beats by ``beats`` (+ later). Returns what was done, for the log."""
        raise NotImplementedError

    def set_tempo(self, bpm: float) -> str:
        """The operator asks for a tempo. Returns what was done, for the log."""
        raise NotImplementedError

    def release_tempo(self) -> str:
        """End a tempo the operator set. Returns what was done, for the log."""
        raise NotImplementedError

    def scale_tempo(self, factor: float) -> str:
        """Double (2) or halve (0.5) the tempo followed. Returns what was done, for the log."""
        raise NotImplementedError

    def mark_one(self, at_s: float) -> str:
        """The beat nearest show time ``at_s`` starts a bar. Returns what was done, for the log."""
        raise NotImplementedError


class PlannedTimeline(Timeline):
    """A dance laid out before the show (the whole song's moves); steering shifts its phase."""

    def tap(self, beat_s: float, bpm: float | None) -> str:
        with self.lock:
            dance = self.choreographer
            if dance.n_moves == 0:
                return "tap ignored: no beats"
            t = self.to_dance_s(beat_s)
            i = dance.index_after(t)
            near = min(
                (dance.move(j).start_s for j in (i - 1, i) if 0 <= j < dance.n_moves),
                key=lambda s: abs(s - t),
            )
            self.offset_s += near - t
            self.revision += 1
            return f"tap: beats shifted {1e3 * (t - near):+.0f} ms (offset {self.offset_s:.3f} s)"

    def nudge(self, beats: float) -> str:
        with self.lock:
            period_s = self._period_near(self.to_dance_s(0.0))
            self.offset_s -= beats * period_s
            self.revision += 1
            return f"nudged {beats:+.2f} beats (offset {self.offset_s:.3f} s)"

    def set_tempo(self, bpm: float) -> str:
        return f"tempo {bpm:.1f} bpm ignored: the song plan fixes the tempo (use `live`)"

    def release_tempo(self) -> str:
        return "tempo release ignored: the song plan fixes the tempo"

    def scale_tempo(self, factor: float) -> str:
        return f"tempo x{factor:g} ignored: the song plan fixes the tempo (use `live`)"

    def mark_one(self, at_s: float) -> str:
        return "the one ignored: the song plan has its own bars (use `live`)"

    def _period_near(self, t_s: float) -> float:
        dance = self.choreographer
        if dance.n_moves == 0:
            return 0.5
        i = min(max(dance.index_after(t_s) - 1, 0), dance.n_moves - 1)
        move = dance.move(i)
        span_s = move.end_s - move.start_s
        return span_s if span_s > 0 else 0.5


class LiveInput(Protocol):
    """What the live timeline reads of its input (`livedance.audio.linein.LineIn`)."""

    @property
    def problem(self) -> str | None: ...

    @property
    def beats_seen(self) -> int: ...

    def captured_s(self) -> float: ...


class LiveTimeline(Timeline):
    """A dance extended beat by beat from a live beat clock; steering steers the clock.

    Args:
        stage: the beats-to-moves stage (its beat source is ``clock``).
        clock: the beat clock the operator steers.
        source: the input (its problems, the beats it heard, how far it has captured).
        origin_s: input time of show time 0.
    """

    def __init__(
        self, stage: BeatsToMoves, clock: BeatClock, source: LiveInput, *, origin_s: float
    ) -> None:
        super().__init__(stage.choreographer, origin_s=origin_s)
        self.stage, self.clock, self.source = stage, clock, source

    @property
    def problem(self) -> str | None:
        return self.source.problem

    @property
    def confidence(self) -> float:
        return float(self.clock.confidence)

    @property
    def beats_heard(self) -> int | None:
        return self.source.beats_seen

    @property
    def moves_added(self) -> int:
        return self.stage.moves_added

    def extend(self, now_s: float) -> None:
        with self.lock:
            self.stage.extend(self.to_dance_s(now_s), self.source.captured_s())

    def beat_at(self, show_s: float) -> BeatInfo:
        info = super().beat_at(show_s)
        clock = self.clock
        if clock.is_idle:
            return BeatInfo(0.0, 0.0, info.action)
        return BeatInfo(clock.bpm, clock.phase(self.to_dance_s(show_s)), info.action)

    def _bpm(self, move: Move) -> float:
        return self.clock.bpm  # the tempo the beats come at, as the HUD shows it

    def tap(self, beat_s: float, bpm: float | None) -> str:
        at_s = self.to_dance_s(beat_s)
        if bpm is None:
            self.clock.align(at_s)
            return "tap: beat clock aligned"
        used = self.clock.set_tempo(bpm, at_s)
        return f"tap tempo {bpm:.1f} bpm" + ("" if used == bpm else f", holding {used:.1f}")

    def nudge(self, beats: float) -> str:
        self.clock.nudge(beats)
        return f"nudged the beat clock {beats:+.2f} beats"

    def set_tempo(self, bpm: float) -> str:
        used = self.clock.set_tempo(bpm)
        if used is None:
            return f"tempo {bpm!r} ignored"
        held = f" (outside {self.clock.tempo.describe()})" if used != bpm else ""
        hold = self.clock.hold_s
        until = "until released" if hold is None else f"for {hold:.0f} s or until released"
        return f"tempo {used:.1f} bpm held {until}{held}"

    def release_tempo(self) -> str:
        self.clock.release()
        return "tempo released: tracking the audio"

    def mark_one(self, at_s: float) -> str:
        if not self.stage.mark_one(self.to_dance_s(at_s)):
            return "the one ignored: no beat yet"
        return "the one: every fourth move from this beat gets the accent"

    def scale_tempo(self, factor: float) -> str:
        idle, was = self.clock.is_idle, self.clock.bpm
        used = self.clock.scale_tempo(factor)
        if used is None:
            return f"tempo x{factor:g} ignored: " + (
                "no tempo yet"
                if idle
                else f"{was * factor:.1f} bpm is outside "
                f"{self.clock.tempo.describe()} (see --min-bpm/--max-bpm)"
            )
        hold = self.clock.hold_s
        until = "until released" if hold is None else f"for {hold:.0f} s or until released"
        return f"tempo x{factor:g}: {used:.1f} bpm held {until}"


def _label(move: Move) -> str:
    return f"{move.action} (repeat)" if move.reason == "repeat" else move.action
