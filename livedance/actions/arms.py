"""Arm moves: claps, points, waves, pumps, circles.

Trajectories over one beat (phase 0..1) for the basic dance actions that the arms lead; the legs
and torso add a small groove so the whole body moves. Sides are the dancer's own (their right is
image-left while they face the camera); see `livedance.body` for the angle conventions.
"""

from __future__ import annotations

import math

from livedance.actions.base import Action
from livedance.actions.geometry import (
    HAND_ON_HIP,
    TAU,
    arc,
    bump,
    ease,
    late,
    planted,
    plie,
    pulse,
    reach,
    sided,
    skew,
)
from livedance.body import Angles

# The clap, on the beat: each wrist 0.085 in from its shoulder (the midline is 0.088 in) and
# 0.07 below it, in front of the chest.
_CLAP_SH, _CLAP_EL = reach(-0.085, -0.07)
# Arm circles: each wrist circles this centre (out from and below its shoulder), starting and
# ending at the bottom, near where the hanging hand already is.
_CIRCLE_R = 0.09
_CIRCLE_OUT, _CIRCLE_UP = 0.13, -0.125


def _clap(phase: float) -> Angles:
    # Clap on the beat; between claps the arms swing open wide to the sides, going out high and
    # coming back low, so each wrist traces a loop; the knees dip while the hands are apart.
    open_ = arc(phase, 0.42)
    unfold = arc(phase, 0.52)
    sh = _CLAP_SH + (0.95 - _CLAP_SH) * open_
    el = _CLAP_EL + (0.25 - _CLAP_EL) * unfold
    dip = arc(phase, 0.55)
    return Angles(
        r_shoulder=sh,
        r_elbow=el,
        l_shoulder=sh,
        l_elbow=el,
        **plie(0.25 * dip),
        head_tilt=0.08 * skew(phase),
    )


def _disco_point_right(phase: float) -> Angles:
    # Saturday-night point: the straight right arm swings up to point high and away at
    # mid-beat, the head and torso following it, the left hand on its hip, and swings back
    # down. The hips swing out under the point, late, so they are still moving while the arm
    # turns at the top.
    up = arc(phase, 0.5)
    hips = pulse(phase, 0.6, 0.8)
    hold = bump(phase)
    return Angles(
        root_dx=0.035 * hips,
        pelvis=-0.1 * hips,
        lean=-0.1 * up,
        head_tilt=-0.22 * up,
        r_shoulder=0.2 + 2.05 * up,
        r_elbow=0.1 - 0.1 * up,
        l_shoulder=0.2 + (HAND_ON_HIP[0] - 0.2) * hold,
        l_elbow=0.1 + (HAND_ON_HIP[1] - 0.1) * hold,
        r_hip=0.06 + 0.08 * up + planted(0.035 * hips),
        r_knee=-0.03 - 0.3 * arc(phase, 0.7),
        l_hip=0.06 - planted(0.035 * hips),
        l_knee=-0.03 - 0.3 * up,
    )


def _arm_wave_right(phase: float) -> Angles:
    # A wave rolls across both arms towards the right hand: the left arm lifts first, then the
    # right one higher; in each, elbow and wrist trail the shoulder up and down like a wing,
    # and the body leans along with the wave.
    first = arc(phase, 0.4)
    second = arc(phase, 0.58)
    return Angles(
        lean=0.06 * first - 0.1 * second,
        head_tilt=0.12 * first - 0.15 * second,
        l_shoulder=0.2 + 1.1 * first,
        l_elbow=0.1 - 0.7 * skew(late(phase, -0.08)),
        r_shoulder=0.2 + 1.3 * second,
        r_elbow=0.1 - 0.7 * skew(late(phase, 0.08)),
        r_hip=0.06 + 0.08 * second,
        l_hip=0.06 + 0.08 * first,
        l_knee=-0.03 - 0.2 * second,
        r_knee=-0.03 - 0.2 * first,
    )


def _fist_pump_right(phase: float) -> Angles:
    # The right fist comes up with the elbow bent, forearm upright above the shoulder, and
    # pumps; a little hop before the pump and a knee dip after it keep the body moving while
    # the arm turns at the top.
    lift = arc(phase, 0.5)
    bend = arc(phase, 0.45)
    dip = arc(phase, 0.62)
    return Angles(
        root_dy=0.015 * arc(phase, 0.38),
        lean=0.06 * lift,
        head_tilt=-0.15 * arc(phase, 0.4),
        r_shoulder=0.2 + 1.5 * lift,
        r_elbow=0.1 + 1.1 * bend,
        l_shoulder=0.2 + 0.3 * lift,
        l_elbow=0.1 - 1.3 * bump(phase),
        **plie(0.3 * dip),
    )


def _raise_the_roof(phase: float) -> Angles:
    # Both arms up into goalposts, palms pushing the ceiling, and back down; the knees pump
    # twice, once on the way up and once on the way down.
    lift = arc(phase, 0.45)
    push = pulse(phase, 0.55, 0.44)
    dip = bump(2.0 * phase)
    sh = 0.2 + 1.2 * lift + 0.35 * push
    el = 0.1 + 1.15 * lift - 0.35 * push
    return Angles(
        r_shoulder=sh,
        r_elbow=el,
        l_shoulder=sh,
        l_elbow=el,
        head_tilt=0.1 * skew(phase),
        **plie(0.3 * dip),
    )


def _arm_circles(phase: float) -> Angles:
    # Each hand draws a circle beside the body, out, up to the chest and in, and down home:
    # the wrist path is laid out in coordinates and the arm follows it by inverse kinematics.
    # The knees bounce twice, keeping the body moving while the eased circle starts and ends.
    turn = TAU * ease(phase)
    out = _CIRCLE_OUT + _CIRCLE_R * math.sin(turn)
    up = _CIRCLE_UP - _CIRCLE_R * math.cos(turn)
    sh, el = reach(out, up)
    dip = bump(2.0 * phase)
    return Angles(
        r_shoulder=sh,
        r_elbow=el,
        l_shoulder=sh,
        l_elbow=el,
        head_tilt=0.08 * skew(phase),
        **plie(0.25 * dip),
    )


def _floss(phase: float) -> Angles:
    # Straight arms swing together to one side while the hips swing to the other, then back;
    # the hips lag the arms a little and the knees bounce twice.
    swing = skew(phase)
    hips = skew(late(phase, 0.1))
    return Angles(
        root_dx=-0.05 * hips,
        lean=0.06 * swing,
        pelvis=0.08 * hips,
        r_shoulder=0.2 - 0.65 * swing,
        r_elbow=0.1 - 0.1 * swing,
        l_shoulder=0.2 + 0.65 * swing,
        l_elbow=0.1 + 0.1 * swing,
        r_hip=0.06 + planted(-0.05 * hips) + 0.15 * bump(2 * phase),
        l_hip=0.06 - planted(-0.05 * hips) + 0.15 * bump(2 * phase),
        r_knee=-0.03 - 0.3 * bump(2 * phase),
        l_knee=-0.03 - 0.3 * bump(2 * phase),
    )


ARM_ACTIONS: tuple[Action, ...] = (
    Action("clap", frozenset({"arms", "clap"}), 0.4, _clap),
    *sided("disco_point", {"arms", "hips"}, 0.55, _disco_point_right),
    *sided("arm_wave", {"arms"}, 0.3, _arm_wave_right),
    *sided("fist_pump", {"arms"}, 0.7, _fist_pump_right),
    Action("raise_the_roof", frozenset({"arms"}), 0.65, _raise_the_roof),
    Action("arm_circles", frozenset({"arms"}), 0.5, _arm_circles),
    Action("floss", frozenset({"arms", "hips"}), 0.6, _floss),
)
"""Ten arm-led actions."""
