"""The tempo policy: one range of tempi a show follows, and what happens to a tempo outside it.

Every part that deals in tempo takes a `TempoRange`: the pulse estimator and the beat tracker
(which tempi they consider), the beat clock (which tempi it runs at, and what it makes of a tempo
the operator sets), the line-in, the command line (``--min-bpm``/``--max-bpm``, ``--tempo``
presets) and the OSC input (`ANY_TEMPO` bounds what a message may ask for at all). A tempo outside
the show's range is never an error once the show runs: it is folded by octaves into the range
(200 BPM in 60..180 is danced at 100: every other beat, still on the grid) or, when no octave
fits, clamped, and the caller logs what became of it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class TempoRange:
    """Tempi from ``min_bpm`` to ``max_bpm`` inclusive.

    Raises:
        ValueError: a range that is empty or not positive (a configuration mistake: the CLI
            checks its options before building one).
    """

    min_bpm: float = 60.0
    max_bpm: float = 180.0

    def __post_init__(self) -> None:
        lo, hi = self.min_bpm, self.max_bpm
        if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo < hi):
            raise ValueError(f"tempo range must satisfy 0 < min < max, got {lo:g}..{hi:g}")

    @property
    def min_period_s(self) -> float:
        """The shortest beat period in range (at ``max_bpm``)."""
        return 60.0 / self.max_bpm

    @property
    def max_period_s(self) -> float:
        """The longest beat period in range (at ``min_bpm``)."""
        return 60.0 / self.min_bpm

    def __contains__(self, bpm: object) -> bool:
        return isinstance(bpm, int | float) and self.min_bpm <= bpm <= self.max_bpm

    def clamp(self, bpm: float) -> float:
        """``bpm`` moved to the nearest end of the range when outside it."""
        return min(max(bpm, self.min_bpm), self.max_bpm)

    def fold(self, bpm: float) -> float:
        """``bpm`` in range: halved or doubled until it fits, else clamped.

        Args:
            bpm: any positive tempo.

        Returns:
            A tempo within the range; ``bpm`` itself when it already is.
        """
        if not (math.isfinite(bpm) and bpm > 0):
            return self.clamp(bpm) if math.isfinite(bpm) else self.max_bpm
        folded = bpm
        while folded > self.max_bpm:
            folded /= 2.0
        while folded < self.min_bpm:
            folded *= 2.0
        return folded if folded in self else self.clamp(bpm)

    def describe(self) -> str:
        return f"{self.min_bpm:g}..{self.max_bpm:g} bpm"


DEFAULT_TEMPO = TempoRange(60.0, 180.0)
"""What `live`, `beats --causal` and the live tracker follow unless told otherwise."""

ANY_TEMPO = TempoRange(30.0, 300.0)
"""What an operator may ask for at all (OSC ``/livedance/tempo``); the show then folds it into
its own range."""

PRESETS: dict[str, TempoRange] = {
    "default": DEFAULT_TEMPO,
    "ballad": TempoRange(50.0, 90.0),
    "hiphop": TempoRange(75.0, 115.0),
    "reggaeton": TempoRange(85.0, 110.0),
    "afrobeats": TempoRange(95.0, 125.0),
    "pop": TempoRange(90.0, 135.0),
    "house": TempoRange(115.0, 135.0),
    "techno": TempoRange(120.0, 155.0),
    "trance": TempoRange(125.0, 145.0),
    "footwork": TempoRange(150.0, 170.0),
    "dnb": TempoRange(155.0, 185.0),
}
"""Tempo ranges by genre (``--tempo NAME``): each less than an octave wide but ``default``, so the
tracker cannot settle at half or double the tempo the genre is danced at."""


def tempo_range(
    preset: str | None = None, *, min_bpm: float | None = None, max_bpm: float | None = None
) -> TempoRange:
    """The range a command line asks for: a preset, with either end overridden.

    Raises:
        ValueError: an unknown preset, or ends that make no range (one line, for the CLI).
    """
    if preset is not None and preset not in PRESETS:
        raise ValueError(f"unknown tempo preset {preset!r} (one of {', '.join(PRESETS)})")
    base = PRESETS[preset or "default"]
    return TempoRange(
        base.min_bpm if min_bpm is None else float(min_bpm),
        base.max_bpm if max_bpm is None else float(max_bpm),
    )
