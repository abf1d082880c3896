"""The choreographer: one basic action per beat interval, blended, repeated when the music repeats.

The "choreographer" box of DESIGN.md and the paper's Section V-D. `Choreographer.add_interval`
is the one code path: offline it is fed every beat interval of the song plan in order; live it is
fed each predicted interval as the beat clock advances. For every interval it picks an action from
the music's loudness, beat interval and spectral centroid (plus a seeded random draw), or, when the
song plan says this section repeats an earlier one, the action danced one lag earlier. `pose_at`
is pure: the action time-warped onto its interval, blended linearly from the previous action's
last pose over the start of the interval.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from livedance.actions import ACTIONS, Action, action_by_name
from livedance.body import DEFAULT_BODY, REST, Angles, Body, forward_kinematics
from livedance.pose import Pose, lerp_poses
from livedance.songplan import BeatInterval, SongPlan

ARMS_TAGS = frozenset({"arms", "clap", "head"})
LEGS_TAGS = frozenset({"legs", "step", "hips", "jump"})
BIG_TAGS = frozenset({"turn", "jump", "full_body"})


@dataclass(frozen=True)
class Move:
    """One entry of the choreography timeline.

    Attributes:
        start_s, end_s: the beat interval the action fills.
        action: name of the action.
        intensity: how far the action swings away from rest (about 0.5..1.15).
        reason: ``"music"`` (chosen from the features), ``"repeat"`` (reused because the music
            repeats), or ``"forced"`` (asked for by the operator).
    """

    start_s: float
    end_s: float
    action: str
    intensity: float
    reason: str = "music"


DOWNBEAT_ACCENT = 1.15
"""A move on a bar's first beat swings this much wider: the big accent lands on the one."""

MAX_ACCENTED = 1.25
"""The widest an accented move swings (the loudest unaccented one: 1.15)."""


@dataclass(frozen=True)
class ChoiceWeights:
    """How strongly each musical feature steers the choice of action."""

    energy: float = 2.5
    brightness: float = 0.8
    tempo: float = 0.8
    recent: float = 0.6
    mirror: float = 0.7
    temperature: float = 0.35


class Choreographer:
    """Builds a choreography timeline interval by interval and evaluates poses on it.

    Args:
        actions: the action library to choose from.
        body: the Body poses are built on (from the model's metadata when there is one).
        seed: seeds the random part of the choice; same seed and input give the same dance.
        plan: the song plan, whose repeated sections make the dance repeat.
        blend_fraction: part of each interval spent blending from the previous action.
        weights: feature weights of the choice.
    """

    def __init__(
        self,
        actions: Sequence[Action] = ACTIONS,
        *,
        body: Body = DEFAULT_BODY,
        seed: int = 0,
        plan: SongPlan | None = None,
        blend_fraction: float = 0.3,
        weights: ChoiceWeights = ChoiceWeights(),
    ) -> None:
        if len(actions) < 2:
            raise ValueError("the choreographer needs at least two actions")
        self.actions = tuple(actions)
        self._by_name = {a.name: a for a in self.actions}
        self.body = body
        self.plan = plan
        self.blend_fraction = float(blend_fraction)
        self.weights = weights
        self._rng = np.random.default_rng(seed)
        self._moves: list[Move] = []
        self._starts: list[float] = []
        self._loud_mean_db = -20.0
        self._loud_var_db2 = 36.0
        self._forced: str | None = None
        self._repeat_source_s: float | None = None

    @property
    def moves(self) -> tuple[Move, ...]:
        return tuple(self._moves)

    @property
    def n_moves(self) -> int:
        return len(self._moves)

    def move(self, index: int) -> Move:
        """The move at ``index`` of the timeline (per-frame readers: no copy of the timeline)."""
        return self._moves[index]

    def index_after(self, t_s: float) -> int:
        """Index of the first move that starts after ``t_s``."""
        return bisect.bisect_right(self._starts, t_s)

    def starts_between(self, t0_s: float, t1_s: float) -> list[float]:
        """Start times of the moves that start in ``[t0_s, t1_s)`` (the beats: the accents)."""
        lo = bisect.bisect_left(self._starts, t0_s)
        hi = bisect.bisect_left(self._starts, t1_s)
        return list(self._starts[lo:hi])

    def force_next(self, action_name: str) -> None:
        """Make the next interval dance ``action_name`` (an operator's request)."""
        if action_name not in self._by_name:
            raise KeyError(f"unknown action {action_name!r}")
        self._forced = action_name

    def force_at(self, t_s: float, action_name: str) -> None:
        """Dance ``action_name`` on the first beat after ``t_s`` (operator request, any show).

        With a timeline already laid out past ``t_s`` (a song plan) that move is replaced;
        otherwise the next `add_interval` dances it (`force_next`).
        """
        if action_name not in self._by_name:
            raise KeyError(f"unknown action {action_name!r}")
        i = bisect.bisect_right(self._starts, t_s)
        if i < len(self._moves):
            old = self._moves[i]
            self._moves[i] = Move(old.start_s, old.end_s, action_name, old.intensity, "forced")
        else:
            self._forced = action_name

    def repeat_from(self, source_s: float) -> None:
        """Make the next interval dance again the move that started at ``source_s``.

        The live show's repeat memory calls this when the music repeats what played one lag
        earlier (the song plan's sections do the same offline). An operator's forced action wins;
        a source with no move starting within half a beat of it is ignored.
        """
        self._repeat_source_s = float(source_s)

    def add_interval(self, interval: BeatInterval) -> Move:
        """Choose the action for the next beat interval and append it to the timeline."""
        if self._moves and interval.start_s < self._moves[-1].start_s:
            raise ValueError("beat intervals must be added in time order")
        loudness = self._update_loudness(interval.rms_db)
        intensity = float(np.clip(0.7 + 0.35 * loudness, 0.5, 1.15))
        if self._starts_a_bar(interval):
            intensity = min(MAX_ACCENTED, intensity * DOWNBEAT_ACCENT)
        move = None
        if self._forced is not None:
            move = Move(interval.start_s, interval.end_s, self._forced, intensity, "forced")
            self._forced = None
        if move is None and self._repeat_source_s is not None:
            move = self._move_again(interval, self._repeat_source_s)
        self._repeat_source_s = None
        if move is None:
            move = self._repeat_of_earlier(interval)
        if move is None:
            action = self._choose(interval, loudness)
            move = Move(interval.start_s, interval.end_s, action.name, intensity, "music")
        self._moves.append(move)
        self._starts.append(move.start_s)
        return move

    def _starts_a_bar(self, interval: BeatInterval) -> bool:
        """The interval starts on a bar's first beat: said by the live stage, or a downbeat of
        the song plan within 35 ms."""
        if interval.downbeat:
            return True
        downbeats = self.plan.downbeat_times_s if self.plan is not None else ()
        i = bisect.bisect_left(downbeats, interval.start_s - 0.035)
        return i < len(downbeats) and abs(downbeats[i] - interval.start_s) <= 0.035

    def pose_at(self, t_s: float) -> Pose:
        """The pose at song time ``t_s`` (idle before the first and after the last beat)."""
        i = bisect.bisect_right(self._starts, t_s) - 1
        if i < 0:
            return idle_pose(t_s, self.body)
        move = self._moves[i]
        if t_s >= move.end_s:
            last = self._end_pose(move)
            fade = min(1.0, (t_s - move.end_s) / 0.5)
            return lerp_poses(last, idle_pose(t_s, self.body), _smoothstep(fade))
        span = max(1e-6, move.end_s - move.start_s)
        phase = (t_s - move.start_s) / span
        pose = self._by_name_or_library(move.action).pose(phase, move.intensity, self.body)
        if phase < self.blend_fraction:
            before = (
                self._end_pose(self._moves[i - 1]) if i > 0 else idle_pose(move.start_s, self.body)
            )
            pose = lerp_poses(before, pose, _smoothstep(phase / self.blend_fraction))
        return pose

    def move_at(self, t_s: float) -> Move | None:
        """The move whose interval contains ``t_s``."""
        i = bisect.bisect_right(self._starts, t_s) - 1
        if i < 0 or t_s >= self._moves[i].end_s:
            return None
        return self._moves[i]

    def _end_pose(self, move: Move) -> Pose:
        return self._by_name_or_library(move.action).pose(1.0, move.intensity, self.body)

    def _by_name_or_library(self, name: str) -> Action:
        return self._by_name.get(name) or action_by_name(name)

    def _update_loudness(self, rms_db: float) -> float:
        """Loudness of this interval relative to the music so far, about -1 (quiet) .. 1 (loud)."""
        z = (rms_db - self._loud_mean_db) / math.sqrt(self._loud_var_db2)
        alpha = 0.05
        delta = rms_db - self._loud_mean_db
        self._loud_mean_db += alpha * delta
        self._loud_var_db2 = max(4.0, (1 - alpha) * (self._loud_var_db2 + alpha * delta * delta))
        absolute = (rms_db + 30.0) / 20.0  # -30 dBFS quiet .. -10 dBFS loud
        return float(np.clip(0.7 * z / 1.5 + 0.3 * absolute, -1.0, 1.0))

    def _repeat_of_earlier(self, interval: BeatInterval) -> Move | None:
        if self.plan is None:
            return None
        section = self.plan.section_at(interval.start_s + 1e-3)
        if section is None or section.repeats is None or section.lag_s is None:
            return None
        return self._move_again(interval, interval.start_s - section.lag_s)

    def _move_again(self, interval: BeatInterval, source_t: float) -> Move | None:
        """The move that started nearest ``source_t`` (within half a beat), on ``interval``."""
        j = bisect.bisect_right(self._starts, source_t + 1e-3) - 1
        if j < 0:
            return None
        # Nearest earlier start to the lagged time, within half a beat.
        candidates = [k for k in (j, j + 1) if 0 <= k < len(self._moves)]
        k = min(candidates, key=lambda k: abs(self._starts[k] - source_t))
        if abs(self._starts[k] - source_t) > 0.5 * max(interval.interval_s, 1e-3):
            return None
        src = self._moves[k]
        return Move(interval.start_s, interval.end_s, src.action, src.intensity, "repeat")

    def _choose(self, interval: BeatInterval, loudness: float) -> Action:
        w = self.weights
        target_energy = float(np.clip(0.5 + 0.45 * loudness, 0.05, 0.95))
        brightness = float(
            np.clip(
                (math.log2(max(interval.centroid_hz, 1.0)) - math.log2(800)) / math.log2(5), 0, 1
            )
        )
        # Short intervals (fast music) cannot fit big moves; long ones (slow music) invite them.
        slowness = float(np.clip((interval.interval_s - 0.35) / 0.35, 0.0, 1.0))
        previous = self._moves[-1].action if self._moves else None
        recent = [m.action for m in self._moves[-4:]]
        scores = np.empty(len(self.actions))
        for i, action in enumerate(self.actions):
            s = -w.energy * abs(action.energy - target_energy)
            if action.tags & ARMS_TAGS:
                s += w.brightness * brightness
            if action.tags & LEGS_TAGS:
                s += w.brightness * (1.0 - brightness)
            if action.tags & BIG_TAGS:
                s += w.tempo * (slowness - 0.5)
            s -= w.recent * recent.count(action.name)
            if previous is not None and _mirror_name(previous) == action.name:
                s += w.mirror
            scores[i] = s
        if previous is not None and previous in self._by_name:
            scores[self.actions.index(self._by_name[previous])] = -np.inf
        gumbel = -np.log(-np.log(self._rng.uniform(1e-12, 1.0, len(scores))))
        return self.actions[int(np.argmax(scores / w.temperature + gumbel))]


def choreograph(
    intervals: Sequence[BeatInterval],
    *,
    plan: SongPlan | None = None,
    seed: int = 0,
    body: Body = DEFAULT_BODY,
    actions: Sequence[Action] = ACTIONS,
) -> Choreographer:
    """The whole song's choreography: every interval fed through `Choreographer.add_interval`."""
    choreographer = Choreographer(actions, body=body, seed=seed, plan=plan)
    for interval in intervals:
        choreographer.add_interval(interval)
    return choreographer


def idle_pose(t_s: float, body: Body = DEFAULT_BODY) -> Pose:
    """Standing and breathing: a slow sway so the dancer never freezes between songs or beats."""
    breath = math.sin(2 * math.pi * t_s / 4.0)
    sway = math.sin(2 * math.pi * t_s / 8.0)
    angles = Angles(
        root_dx=0.004 * sway,
        lean=0.015 * sway,
        head_tilt=0.03 * sway,
        r_shoulder=REST.r_shoulder + 0.03 * breath,
        l_shoulder=REST.l_shoulder + 0.03 * breath,
    )
    return forward_kinematics(angles, body)


def _mirror_name(name: str) -> str | None:
    for a, b in (("_left", "_right"), ("_right", "_left")):
        if name.endswith(a):
            return name[: -len(a)] + b
    return None


def _smoothstep(x: float) -> float:
    x = min(max(x, 0.0), 1.0)
    return x * x * (3.0 - 2.0 * x)
