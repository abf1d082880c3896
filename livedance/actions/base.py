"""The Action contract: a named joint-angle trajectory over one beat."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from livedance.body import DEFAULT_BODY, REST, Angles, Body, forward_kinematics
from livedance.pose import Pose

TAGS = frozenset(
    {"arms", "legs", "full_body", "turn", "jump", "step", "clap", "head", "hips", "torso"}
)
"""Tags an action may carry (what moves, what kind of move)."""


@dataclass(frozen=True)
class Action:
    """One basic dance action.

    Attributes:
        name: unique, lower_snake_case; symmetric variants end in ``_left`` / ``_right``.
        tags: subset of `TAGS`.
        energy: 0 (calm) .. 1 (explosive); the choreographer matches it to the music's loudness.
        trajectory: phase 0..1 -> joint angles at full intensity.
    """

    name: str
    tags: frozenset[str]
    energy: float
    trajectory: Callable[[float], Angles]

    def angles(self, phase: float, intensity: float = 1.0) -> Angles:
        """Joint angles at ``phase``; ``intensity`` scales the move away from standing at rest."""
        return REST.toward(self.trajectory(min(max(phase, 0.0), 1.0)), intensity)

    def pose(self, phase: float, intensity: float = 1.0, body: Body = DEFAULT_BODY) -> Pose:
        """The Pose at ``phase`` of the beat on ``body``."""
        return forward_kinematics(self.angles(phase, intensity), body)
