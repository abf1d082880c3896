"""Coordinate geometry for the dance actions: ease curves over one beat, arm reach, L/R pairs.

Every curve maps a phase 0..1 of the beat to a weight that is 0 with zero slope at both ends
(so an action starts and ends at rest, loops seamlessly and is slowest on the beat) and is C1
inside; `ease` and `late` warp the phase itself, keeping the beat where it is.
Joints driven by curves that peak at different phases trace loops instead of going out and back
along one path, so the body keeps moving through the middle of the beat and its only stillness
is on the beat, where the Beat Alignment Score looks for it.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from livedance.actions.base import Action
from livedance.body import DEFAULT_BODY, REST, Angles

TAU = 2.0 * math.pi

_SKEW_PEAK = 1.5 * math.sin(TAU / 3.0)  # max of sin(x) - sin(2x) / 2, at x = tau / 3


def bump(phase: float) -> float:
    """Raised cosine: 0 on the beat, 1 at mid-beat."""
    return 0.5 - 0.5 * math.cos(TAU * phase)


def arc(phase: float, peak: float = 0.5) -> float:
    """A `bump` whose maximum (1) is moved to ``peak`` (0 < peak < 1), still C1."""
    if phase <= peak:
        return bump(0.5 * phase / peak)
    return bump(0.5 + 0.5 * (phase - peak) / (1.0 - peak))


def pulse(phase: float, center: float, width: float) -> float:
    """Raised-cosine bump of height 1 at ``center``, zero outside ``center +- width / 2``."""
    x = (phase - center) / (0.5 * width)
    if abs(x) >= 1.0:
        return 0.0
    return 0.5 + 0.5 * math.cos(math.pi * x)


def skew(phase: float) -> float:
    """One smooth swing each way: up to +1 at phase 1/3, back through 0 at 1/2, -1 at 2/3.

    Unlike a sine it leaves and reaches the beat with zero slope, so a sway built on it is
    still on the beat and fastest as it crosses the middle.
    """
    x = TAU * phase
    return (math.sin(x) - 0.5 * math.sin(2.0 * x)) / _SKEW_PEAK


def ease(phase: float) -> float:
    """Phase 0..1 -> 0..1, with zero speed on the beat and the fastest at mid-beat."""
    return phase - math.sin(TAU * phase) / TAU


def late(phase: float, by: float) -> float:
    """Warp the phase so a curve happens ``by`` later mid-beat (earlier if negative).

    The beat itself stays put: 0 -> 0, 1 -> 1, monotone for ``|by| < 1 / pi``.
    """
    return phase - by * math.sin(math.pi * phase)


def wobble(phase: float, cycles: int, shift: float = 0.0) -> float:
    """``cycles`` oscillations (-1..1) inside a `bump` envelope: shimmies and shakes.

    ``shift`` offsets the oscillation by a fraction of its cycle (0.25: a quarter cycle
    later), for a second joint shaking in quadrature with the first.
    """
    return math.sin(TAU * (cycles * phase - shift)) * bump(phase)


def reach(
    out: float, up: float, *, elbow_out: bool = True, near: float = 0.0
) -> tuple[float, float]:
    """Shoulder and elbow angles that put a wrist at a point, on the default body's arm.

    Args:
        out: wrist offset from its shoulder away from the body's midline, frame heights.
        up: wrist offset from its shoulder upwards, frame heights.
        elbow_out: bend with the elbow outside the shoulder-wrist line (else inside).
        near: of the equivalent elbow angles (2 pi apart) return the one nearest this, so a
            path of targets gives a continuous angle.

    Returns:
        ``(shoulder, elbow)`` in the conventions of `livedance.body` (either side).
    """
    upper, fore = DEFAULT_BODY.upper_arm, DEFAULT_BODY.forearm
    dist = min(max(math.hypot(out, up), abs(upper - fore) + 1e-6), upper + fore - 1e-6)
    toward = math.atan2(out, -up)  # angle of the shoulder->wrist line from hanging down
    inner = math.acos((upper * upper + dist * dist - fore * fore) / (2.0 * upper * dist))
    shoulder = toward + inner if elbow_out else toward - inner
    elbow_out_x = out - upper * math.sin(shoulder)
    elbow_up_y = up + upper * math.cos(shoulder)
    elbow = math.atan2(elbow_out_x, -elbow_up_y) - shoulder
    elbow += TAU * round((near - elbow) / TAU)
    return shoulder, elbow


HAND_ON_HIP = reach(-0.015, -0.2)
"""``(shoulder, elbow)`` with the hand on the hip and the elbow out."""


def planted(shift: float) -> float:
    """Hip angle that keeps the feet in place while the hips move ``shift`` sideways.

    Add it to ``r_hip`` and subtract it from ``l_hip`` when ``root_dx`` is ``shift``: each
    leg leans back under the moved hips instead of sliding its foot along the floor.
    """
    return shift / (DEFAULT_BODY.thigh + DEFAULT_BODY.shin)


def plie(bend: float) -> dict[str, float]:
    """Both knees bend by ``bend`` (radians at the hip) with the feet kept under the body.

    The thighs tilt forward by ``bend`` and the shins back by twice that, so the shins stay as
    upright as at rest and the body sinks straight down. Spread it into `Angles`:
    ``Angles(r_shoulder=..., **plie(0.3 * dip))``.
    """
    hip = REST.r_hip + bend
    knee = REST.r_knee - 2.0 * bend
    return {"r_hip": hip, "l_hip": hip, "r_knee": knee, "l_knee": knee}


Trajectory = Callable[[float], Angles]


def sided(name: str, tags: set[str], energy: float, right: Trajectory) -> tuple[Action, Action]:
    """A move and its mirror image: ``NAME_left`` and ``NAME_right``.

    ``right`` is the move done with (or towards) the dancer's own right, which is image-left
    while they face the camera; the left variant is its mirror, so the two match exactly.
    """

    def left(phase: float) -> Angles:
        return right(phase).mirrored()

    return (
        Action(f"{name}_left", frozenset(tags), energy, left),
        Action(f"{name}_right", frozenset(tags), energy, right),
    )
