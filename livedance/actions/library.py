"""Placeholder library (replaced by the full thirty actions)."""

from __future__ import annotations

import math

from livedance.actions.base import Action
from livedance.body import Angles


def _bounce(phase: float) -> Angles:
    d = 0.5 - 0.5 * math.cos(2 * math.pi * phase)
    return Angles(r_hip=0.06 + 0.3 * d, l_hip=0.06 + 0.3 * d, r_knee=-0.6 * d, l_knee=-0.6 * d)


def _wave(phase: float) -> Angles:
    d = 0.5 - 0.5 * math.cos(2 * math.pi * phase)
    return Angles(
        r_shoulder=0.2 + 2.0 * d, l_shoulder=0.2 + 2.0 * d, r_elbow=0.5 * d, l_elbow=0.5 * d
    )


ACTIONS: tuple[Action, ...] = (
    Action("bounce", frozenset({"legs"}), 0.3, _bounce),
    Action("arms_up", frozenset({"arms"}), 0.6, _wave),
)
_BY_NAME = {a.name: a for a in ACTIONS}


def action_by_name(name: str) -> Action:
    """Look an action up by name; raises KeyError listing the known names."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown action {name!r}; known: {', '.join(sorted(_BY_NAME))}") from None
