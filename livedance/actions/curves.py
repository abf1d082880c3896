"""Ease curves over one beat: the building blocks of the dance actions' joint trajectories.

Every curve maps a phase 0..1 of the beat to a weight, is 0 with zero slope at both ends (so an
action starts and ends at rest, loops seamlessly and is slowest on the beat) and is C1 inside.
Joints driven by curves that peak at different phases trace loops instead of going out and back
along one path, so the body keeps moving through the middle of the beat and its only stillness
is on the beat, where the Beat Alignment Score looks for it.
"""

from __future__ import annotations

import math

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


def wobble(phase: float, cycles: int) -> float:
    """``cycles`` full oscillations (-1..1) inside a `bump` envelope: shimmies and shakes."""
    return math.sin(TAU * cycles * phase) * bump(phase)
