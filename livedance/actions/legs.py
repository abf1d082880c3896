"""Leg moves: steps, kicks, the grapevine, marching, squats and bounces.

Trajectories over one beat (phase 0..1) for the basic dance actions that the legs lead; arms
swing along so the whole body dances. Feet are grounded by forward kinematics, so bending the
knees drops the hips. Sides are the dancer's own (their right is image-left while they face the
camera); see `livedance.body` for the angle conventions.
"""

from __future__ import annotations

from livedance.actions.base import Action
from livedance.actions.geometry import arc, bump, planted, plie, pulse, sided, skew
from livedance.body import Angles


def _step_touch_right(phase: float) -> Angles:
    # Step out to the right and shift the weight over it, the left foot closing in to tap,
    # then back; the arms swing towards the step.
    out = arc(phase, 0.42)
    tap = arc(phase, 0.58)
    shift = -0.06 * arc(phase, 0.5)
    return Angles(
        root_dx=shift,
        lean=-0.06 * out,
        head_tilt=-0.1 * tap,
        r_shoulder=0.2 + 0.75 * out,
        r_elbow=0.1 + 0.9 * tap,
        l_shoulder=0.2 - 0.45 * out,
        l_elbow=0.1 - 1.1 * tap,
        r_hip=0.06 + 0.42 * out + planted(shift),
        r_knee=-0.03 - 0.15 * tap,
        l_hip=0.06 - 0.1 * tap,
        l_knee=-0.03 - 0.45 * tap,
    )


def _side_kick_right(phase: float) -> Angles:
    # Chamber the right knee, kick out to the side with the leg straight at mid-beat,
    # chamber again and step down; the torso leans away and the arms open for balance.
    kick = arc(phase, 0.5)
    chamber = pulse(phase, 0.27, 0.54) + pulse(phase, 0.73, 0.54)
    return Angles(
        root_dx=0.03 * bump(phase),
        lean=0.3 * arc(phase, 0.55),
        head_tilt=-0.15 * kick,
        r_shoulder=0.2 + 1.1 * arc(phase, 0.45),
        r_elbow=0.1 + 0.6 * arc(phase, 0.6),
        l_shoulder=0.2 + 0.8 * arc(phase, 0.55),
        l_elbow=0.1 + 0.7 * arc(phase, 0.4),
        r_hip=0.06 + 0.9 * kick,
        r_knee=-0.03 - 1.0 * chamber,
        l_hip=0.06 - 0.04 * kick,
        l_knee=-0.03 - 0.25 * bump(phase),
    )


def _grapevine_right(phase: float) -> Angles:
    # Travel right: the right foot steps out, the left crosses behind it, then the feet
    # uncross and come home; arms open wide with the travel.
    travel = -0.09 * arc(phase, 0.5)
    step = arc(phase, 0.35)
    cross = arc(phase, 0.62)
    arms = arc(phase, 0.45)
    return Angles(
        root_dx=travel,
        lean=0.05 * skew(phase),
        head_tilt=-0.1 * step + 0.08 * cross,
        r_shoulder=0.2 + 1.0 * arms,
        r_elbow=0.1 + 0.9 * arc(phase, 0.6),
        l_shoulder=0.2 + 1.0 * arms,
        l_elbow=0.1 + 0.9 * arc(phase, 0.6),
        r_hip=0.06 + 0.4 * step - 0.15 * cross,
        r_knee=-0.03 - 0.2 * cross,
        l_hip=0.06 - 0.62 * cross + 0.1 * step,
        l_knee=-0.03 - 0.25 * step,
    )


def _march(phase: float) -> Angles:
    # Right knee up, then left knee up; each foot lifts by the hip and comes down by the knee,
    # so it draws a loop and the step never freezes at the top. The arms swing opposite with
    # bent elbows.
    right_hip = pulse(phase, 0.25, 0.5)
    right_knee = pulse(phase, 0.3, 0.56)
    left_hip = pulse(phase, 0.69, 0.5)
    left_knee = pulse(phase, 0.72, 0.56)
    return Angles(
        lean=0.05 * (left_hip - right_hip),
        r_hip=0.06 + 0.6 * right_hip,
        r_knee=-0.03 - 1.3 * right_knee,
        l_hip=0.06 + 0.6 * left_hip,
        l_knee=-0.03 - 1.3 * left_knee,
        r_shoulder=0.2 + 0.25 * left_knee - 0.05 * right_knee,
        r_elbow=0.1 - 1.9 * left_hip - 0.3 * right_hip,
        l_shoulder=0.2 + 0.25 * right_knee - 0.05 * left_knee,
        l_elbow=0.1 - 1.9 * right_hip - 0.3 * left_hip,
    )


def _squat(phase: float) -> Angles:
    # Sink into a deep turned-out squat, arms reaching out in front to balance, and rise.
    sink = arc(phase, 0.52)
    arms = arc(phase, 0.42)
    return Angles(
        **plie(0.85 * sink),
        r_shoulder=0.2 + 1.1 * arms,
        l_shoulder=0.2 + 1.1 * arms,
        r_elbow=0.1 - 1.2 * arc(phase, 0.6),
        l_elbow=0.1 - 1.2 * arc(phase, 0.6),
        head_tilt=0.06 * skew(phase),
    )


def _bounce(phase: float) -> Angles:
    # Knees bounce down and up, elbows bent, fists swinging loose with it.
    dip = arc(phase, 0.5)
    swing = skew(phase)
    return Angles(
        **plie(0.45 * dip),
        r_shoulder=0.2 + 0.25 * dip + 0.2 * swing,
        l_shoulder=0.2 + 0.25 * dip - 0.2 * swing,
        r_elbow=0.1 - 1.4 * arc(phase, 0.4),
        l_elbow=0.1 - 1.4 * arc(phase, 0.6),
        head_tilt=0.1 * swing,
    )


LEG_ACTIONS: tuple[Action, ...] = (
    *sided("step_touch", {"legs", "step"}, 0.3, _step_touch_right),
    *sided("side_kick", {"legs"}, 0.75, _side_kick_right),
    *sided("grapevine", {"legs", "step"}, 0.5, _grapevine_right),
    Action("march", frozenset({"legs", "step"}), 0.45, _march),
    Action("squat", frozenset({"legs"}), 0.4, _squat),
    Action("bounce", frozenset({"legs"}), 0.2, _bounce),
)
"""Nine leg-led actions."""
