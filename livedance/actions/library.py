"""The thirty basic dance actions, assembled from the arm, leg and whole-body moves.

The choreographer picks from `ACTIONS` one action per beat interval; `action_by_name` looks one
up for the CLI, OSC control and tests. Every action starts and ends each beat near the standing
pose with its slowest moment on the beat, so consecutive actions blend in a short transition.
"""

from __future__ import annotations

from livedance.actions.arms import ARM_ACTIONS
from livedance.actions.base import Action
from livedance.actions.full_body import FULL_BODY_ACTIONS
from livedance.actions.legs import LEG_ACTIONS

ACTIONS: tuple[Action, ...] = (*ARM_ACTIONS, *LEG_ACTIONS, *FULL_BODY_ACTIONS)
"""All thirty actions: arms first, then legs, then whole-body moves."""

_BY_NAME = {a.name: a for a in ACTIONS}


def action_by_name(name: str) -> Action:
    """Look an action up by name.

    Raises:
        KeyError: unknown name; the message lists the known names.
    """
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown action {name!r}; known: {', '.join(sorted(_BY_NAME))}") from None
