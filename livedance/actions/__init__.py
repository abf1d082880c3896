"""The basic dance actions: thirty joint-angle trajectories over one beat.

Each action is designed with coordinate geometry (the paper's Section V-D) as a function from
phase 0..1 of a beat interval to joint `Angles`; forward kinematics on a `Body` turns it into a
Pose, so bones keep their length on any body. The choreographer time-warps an action onto each
beat interval and scales it by an intensity.
"""

from __future__ import annotations

from livedance.actions.base import TAGS, Action
from livedance.actions.library import ACTIONS, action_by_name

__all__ = ["ACTIONS", "TAGS", "Action", "action_by_name"]
