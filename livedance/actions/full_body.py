"""Whole-body moves: turns, jumps, sways, twists, rolls, shimmies and bobs.

Trajectories over one beat (phase 0..1) for the basic dance actions that move the torso, the
hips or the whole body. Sides are the dancer's own (their right is image-left while they face
the camera); see `livedance.body` for the angle conventions.
"""

from __future__ import annotations

import math

from livedance.actions.base import Action
from livedance.actions.geometry import (
    HAND_ON_HIP,
    arc,
    bump,
    late,
    planted,
    plie,
    pulse,
    sided,
    skew,
    wobble,
)
from livedance.body import Angles


def _turn_right(phase: float) -> Angles:
    # Half a turn to the right on bent knees, showing the back at mid-beat, and back round,
    # drifting towards the turn. The arms fold in front of the chest for the spin (raised
    # arms would sweep across the picture as the body turns side-on) and open a little, the
    # right one higher, with the back to the camera. A half turn and back (not a full turn)
    # keeps the first and last pose equal at any intensity, since intensity scales the yaw.
    spin = arc(phase, 0.46)
    fold = arc(phase, 0.5)
    open_ = pulse(phase, 0.56, 0.4)
    knees = pulse(phase, 0.18, 0.36) + pulse(phase, 0.82, 0.36)
    return Angles(
        yaw=-math.pi * spin,
        root_dx=-0.05 * arc(phase, 0.6),
        lean=-0.08 * open_,
        head_tilt=-0.12 * open_,
        r_shoulder=0.2 + 0.7 * open_,
        r_elbow=0.1 - 1.9 * fold + 0.9 * open_,
        l_shoulder=0.2 + 0.35 * open_,
        l_elbow=0.1 - 1.9 * fold + 0.4 * open_,
        **plie(0.25 * knees),
    )


def _hip_sway_right(phase: float) -> Angles:
    # Hands on the hips, push the hips out to the right: the right hip rises, the left knee
    # gives, the shoulders lean the other way; the feet stay put.
    push = arc(phase, 0.5)
    shift = -0.085 * push
    hands = arc(phase, 0.4)
    return Angles(
        root_dx=shift,
        pelvis=0.28 * push,
        lean=0.18 * arc(phase, 0.6),
        head_tilt=0.15 * arc(phase, 0.65),
        r_shoulder=0.2 + (HAND_ON_HIP[0] - 0.2) * hands,
        l_shoulder=0.2 + (HAND_ON_HIP[0] - 0.2) * hands,
        r_elbow=0.1 + (HAND_ON_HIP[1] - 0.1) * arc(phase, 0.45),
        l_elbow=0.1 + (HAND_ON_HIP[1] - 0.1) * arc(phase, 0.45),
        r_hip=0.06 + planted(shift),
        l_hip=0.06 - planted(shift) + 0.2 * push,
        l_knee=-0.03 - 0.45 * push,
    )


def _jumping_jack(phase: float) -> Angles:
    # Jump, land on the beat: in the air at mid-beat with the legs apart and the straight arms
    # swung up above the shoulders (a full overhead swing would be faster than a person can
    # move in one beat at 120 BPM). The arms top out before the legs, so the body is never
    # still in the air.
    air = arc(phase, 0.58)
    arms = arc(phase, 0.43)
    return Angles(
        root_dy=0.04 * air,
        r_hip=0.06 + 0.3 * air,
        l_hip=0.06 + 0.3 * air,
        r_knee=-0.03 - 0.15 * pulse(phase, 0.15, 0.3) - 0.15 * pulse(phase, 0.85, 0.3),
        l_knee=-0.03 - 0.15 * pulse(phase, 0.15, 0.3) - 0.15 * pulse(phase, 0.85, 0.3),
        r_shoulder=0.2 + 1.6 * arms,
        l_shoulder=0.2 + 1.6 * arms,
        r_elbow=0.1 + 0.3 * arc(phase, 0.6),
        l_elbow=0.1 + 0.3 * arc(phase, 0.6),
    )


def _tuck_jump(phase: float) -> Angles:
    # Spring from a crouch on the beat, tuck the knees up in the air with the fists pumping
    # up, and land back in the crouch on the next beat.
    crouch = pulse(phase, 0.0, 0.6) + pulse(phase, 1.0, 0.6)
    air = pulse(phase, 0.5, 0.6)
    tuck = pulse(phase, 0.55, 0.4)
    return Angles(
        root_dy=0.07 * air,
        r_hip=0.06 + 0.35 * crouch + 0.55 * tuck,
        l_hip=0.06 + 0.35 * crouch + 0.55 * tuck,
        r_knee=-0.03 - 0.7 * crouch - 1.3 * tuck,
        l_knee=-0.03 - 0.7 * crouch - 1.3 * tuck,
        lean=0.03 * skew(phase),
        r_shoulder=0.2 - 0.1 * crouch + 1.1 * arc(phase, 0.45),
        l_shoulder=0.2 - 0.1 * crouch + 1.1 * arc(phase, 0.45),
        r_elbow=0.1 - 0.3 * crouch + 1.0 * arc(phase, 0.55),
        l_elbow=0.1 - 0.3 * crouch + 1.0 * arc(phase, 0.55),
    )


def _twist(phase: float) -> Angles:
    # The Twist: knees bent, the body turns one way then the other on the balls of the feet,
    # the front knee dropping in, while the bent arms swing across against the turn.
    turn = skew(phase)
    bend = bump(phase)
    return Angles(
        yaw=0.75 * turn,
        lean=-0.08 * turn,
        root_dx=0.02 * turn,
        r_hip=0.06 + 0.3 * bend - 0.1 * turn,
        l_hip=0.06 + 0.3 * bend + 0.1 * turn,
        r_knee=-0.03 - 0.6 * bend - 0.4 * turn,
        l_knee=-0.03 - 0.6 * bend + 0.4 * turn,
        r_shoulder=0.2 + 0.9 * bend - 0.5 * turn,
        l_shoulder=0.2 + 0.9 * bend + 0.5 * turn,
        r_elbow=0.1 - 1.5 * bend,
        l_elbow=0.1 - 1.5 * bend,
    )


def _sway(phase: float) -> Angles:
    # A calm side-to-side sway: hips drift right then left, the torso and head follow late,
    # the arms hang loose and swing with it.
    drift = skew(phase)
    follow = skew(late(phase, 0.08))
    return Angles(
        root_dx=-0.03 * drift,
        lean=-0.1 * follow,
        head_tilt=-0.15 * follow,
        r_hip=0.06 + planted(-0.03 * drift),
        l_hip=0.06 - planted(-0.03 * drift),
        r_knee=-0.03 - 0.2 * bump(2.0 * phase),
        l_knee=-0.03 - 0.2 * bump(2.0 * phase),
        r_shoulder=0.2 + 0.35 * follow,
        l_shoulder=0.2 - 0.35 * follow,
        r_elbow=0.1 - 0.5 * bump(phase),
        l_elbow=0.1 - 0.5 * bump(phase),
    )


def _body_roll(phase: float) -> Angles:
    # A wave rolls down the body: head, then chest, then hips, then knees, each passing the
    # move on; the arms ride along with the chest.
    head = pulse(phase, 0.3, 0.6)
    chest = pulse(phase, 0.42, 0.7)
    hips = pulse(phase, 0.56, 0.7)
    knees = pulse(phase, 0.7, 0.6)
    return Angles(
        head_tilt=0.45 * head - 0.2 * hips,
        lean=0.25 * chest - 0.12 * knees,
        root_dx=-0.06 * hips,
        pelvis=0.18 * hips,
        r_hip=0.06 + 0.4 * knees + planted(-0.06 * hips),
        l_hip=0.06 + 0.4 * knees - planted(-0.06 * hips),
        r_knee=-0.03 - 0.8 * knees,
        l_knee=-0.03 - 0.8 * knees,
        r_shoulder=0.2 + 0.6 * chest,
        l_shoulder=0.2 + 0.4 * hips,
        r_elbow=0.1 - 1.4 * chest,
        l_elbow=0.1 - 1.2 * hips,
    )


def _head_bob(phase: float) -> Angles:
    # The head nods to the beat, tipping one way then the other over a small knee bounce; the
    # shoulders answer the other way and the loose arms swing after the head.
    nod = skew(phase)
    dip = arc(phase, 0.5)
    return Angles(
        head_tilt=0.6 * nod,
        lean=-0.07 * nod,
        **plie(0.18 * dip),
        r_shoulder=0.2 - 0.3 * skew(late(phase, 0.1)),
        l_shoulder=0.2 + 0.3 * skew(late(phase, 0.1)),
        r_elbow=0.1 - 0.7 * dip,
        l_elbow=0.1 - 0.7 * dip,
    )


def _shoulder_shimmy(phase: float) -> Angles:
    # Shoulders shake against each other, forward and back (a quick small twist) and up and
    # down (a tilt) a quarter cycle apart, with the elbows bent out and the knees soft.
    held = bump(phase)
    return Angles(
        lean=0.14 * wobble(phase, 2),
        yaw=0.35 * wobble(phase, 2, 0.25),
        head_tilt=-0.1 * wobble(phase, 2),
        r_shoulder=0.2 + 0.7 * held,
        l_shoulder=0.2 + 0.7 * held,
        r_elbow=0.1 - 1.7 * held,
        l_elbow=0.1 - 1.7 * held,
        **plie(0.15 * held),
    )


FULL_BODY_ACTIONS: tuple[Action, ...] = (
    *sided("turn", {"turn", "full_body"}, 0.8, _turn_right),
    *sided("hip_sway", {"hips"}, 0.25, _hip_sway_right),
    Action("jumping_jack", frozenset({"jump", "full_body", "arms", "legs"}), 0.9, _jumping_jack),
    Action("tuck_jump", frozenset({"jump", "full_body", "legs"}), 1.0, _tuck_jump),
    Action("twist", frozenset({"hips", "legs", "torso"}), 0.55, _twist),
    Action("sway", frozenset({"full_body", "hips"}), 0.15, _sway),
    Action("body_roll", frozenset({"torso", "full_body"}), 0.35, _body_roll),
    Action("head_bob", frozenset({"head"}), 0.1, _head_bob),
    Action("shoulder_shimmy", frozenset({"torso", "arms"}), 0.35, _shoulder_shimmy),
)
"""Eleven whole-body actions."""
