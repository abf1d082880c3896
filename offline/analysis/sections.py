"""From repeat lines and a novelty curve to the song's section list: bounds, labels, repeats.

Every repeat line says "beats x1..x2 play again what beats x1-lag..x2-lag played". First the
lines that say something about the form are chosen (`select_lines`: no duplicates, no grooves
looping inside a section; `unmarked_lines`: no phrases repeated where the music does not change).
`boundaries.place_boundaries` turns their ends and the novelty curve into section boundaries.
The segments between boundaries are joined into groups by the lines that map one onto another,
and each group gets a letter in order of first appearance (A, B, A, C, B ...). A later member
of a group repeats the first one, at the lines' lag. `line_outcomes` says, for a line that made
no repeat, why.
"""

from __future__ import annotations

import itertools
import logging
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from livedance.songplan import Section
from offline.analysis.boundaries import (
    BOUNDARY_TOLERANCE_BEATS,
    IMPLIED_TOLERANCE,
    NOVELTY_AGREEMENT,
    NOVELTY_PEAK,
    novelty_peaks,
    place_boundaries,
)
from offline.analysis.lines import RepeatLine

log = logging.getLogger(__name__)

ADJACENT = 0.75
"""A line at least this fraction of its lag long runs on from its source (x x, not x ... x)."""

LINE_SUPPORT = 0.5
"""A section repeats through a line covering more than this share of it, when both its bounds
lie ``lag`` after those of another section: a repeat's line fades in late where the music before
its two copies differs (a quarter of a verse, seen), and the bounds say the rest."""

LOOP_OVERLAP = 0.8
"""A line whose lag is under this fraction of its length overlaps its source: a loop."""


@dataclass(frozen=True)
class BeatSection:
    """A section in beat indices, with the key shift of a repeat relative to its original and
    its lag, in beats and once measured in seconds (None: the difference of the two starts)."""

    start_beat: int
    end_beat: int
    label: str
    repeats: int | None = None
    shift: int = 0
    lag_beats: int | None = None
    lag_s: float | None = None


def select_lines(lines: list[RepeatLine]) -> list[RepeatLine]:
    """Keep the lines that say something new about the form, strongest first.

    A riff looping within one section (a recording's four-bar groove, played over and over) is
    not a section repeat (`_loops`).

    A line is dropped when it duplicates a kept one (same lag within a beat, overlapping) or when
    its span and its source both lie inside the two spans of one kept line: a phrase repeating
    inside a section, or across two occurrences of a section already linked.

    Args:
        lines: candidate lines, strongest first.

    Returns:
        The kept lines, in the same order.
    """
    kept: list[RepeatLine] = []
    for line in lines:
        if _loops(line, lines):
            continue
        if any(_duplicate(line, other) or _implied(line, other) for other in kept):
            continue
        kept.append(line)
    return kept


def unmarked_lines(
    lines: list[RepeatLine], novelty: npt.NDArray[np.float64], *, min_section_beats: int
) -> list[RepeatLine]:
    """The kept lines no change in the music marks, where the music marks the strongest one.

    In a recording a section repeat starts and ends where the music changes, and the novelty
    peaks there: when the strongest line's ends (inside the song) mostly have a peak near them,
    the curve can be trusted, and a line none of whose ends has one is a phrase or groove
    repeating inside a section (two four-bar halves of one part), not a section repeat. Where
    the strongest line's ends have no peaks (sections that differ only in chords and tune), no
    line is judged by the curve.

    Args:
        lines: kept lines, strongest first.
        novelty: Foote novelty per beat, peak 1.
        min_section_beats: shortest section.

    Returns:
        The unmarked lines, for the sections to leave out (and the plot to name).
    """
    if not lines:
        return []
    peaks = novelty_peaks(novelty, min_distance=min_section_beats // 2)
    n_beats = len(novelty)

    def marked(line: RepeatLine) -> tuple[int, int]:
        ends = [
            b
            for b in (line.start_beat, line.end_beat, *line.source)
            if BOUNDARY_TOLERANCE_BEATS < b < n_beats - 1 - BOUNDARY_TOLERANCE_BEATS
        ]
        near = sum(
            any(abs(b - p) <= BOUNDARY_TOLERANCE_BEATS and h >= NOVELTY_PEAK
                for p, h in peaks.items())
            for b in ends
        )  # fmt: skip
        return near, len(ends)

    near, total = marked(lines[0])
    if total == 0 or near < NOVELTY_AGREEMENT * total:
        return []
    return [
        line
        for line in lines[1:]
        if line.length_beats >= ADJACENT * line.lag_beats
        and (m := marked(line))[0] == 0
        and m[1] > 0
    ]


def build_sections(
    lines: list[RepeatLine],
    *,
    n_beats: int,
    min_section_beats: int,
    novelty: npt.NDArray[np.float64] | None = None,
    sharp: bool | None = None,
    phrases: Sequence[RepeatLine] = (),
) -> list[BeatSection]:
    """Section list over beats ``0..n_beats`` from the kept repeat lines and the novelty curve.

    Args:
        lines: kept lines (see `select_lines`).
        n_beats: number of beat intervals (sections cover beat 0 to beat ``n_beats``).
        min_section_beats: sections shorter than this are merged into a neighbour.
        novelty: Foote novelty per beat (``n_beats`` values, peak 1), if measured: its peaks
            are boundaries where no line says anything, and the evidence a cut inside a
            repeated stretch needs.
        sharp: whether the song's novelty is a recording's (`boundaries.is_sharp`, measured on
            the narrow kernel); None measures it on ``novelty``.
        phrases: every line found (also those ``lines`` left out): where one says a repeated
            stretch is a phrase played twice, it is not cut where the phrase begins again.

    Returns:
        Sections in time order; a repeat points at the first section of its group.
    """
    peaks = None if novelty is None else novelty_peaks(novelty, min_distance=min_section_beats // 2)
    bounds = place_boundaries(
        lines, n_beats=n_beats, min_section_beats=min_section_beats, peaks=peaks,
        novelty=novelty, sharp=sharp, phrases=phrases,
    )  # fmt: skip
    spans = list(itertools.pairwise(bounds))
    edges: dict[int, list[tuple[int, int, int]]] = {i: [] for i in range(len(spans))}
    for line in lines:
        for j, i in _line_edges(line, spans):
            # Traversing an edge adds its value to the key: j is i up ``shift``.
            edges[i].append((j, line.shift, line.lag_beats))
            edges[j].append((i, -line.shift, -line.lag_beats))
    return _label(spans, edges)


def line_outcomes(lines: list[RepeatLine], sections: list[BeatSection]) -> list[str | None]:
    """For each kept line, None when a section it covers came out as a repeat through it, else
    why not (what ``--plot`` writes beside a line that shaped nothing).

    Args:
        lines: the kept lines.
        sections: the sections built from them.

    Returns:
        One entry per line.
    """
    spans = [(s.start_beat, s.end_beat) for s in sections]
    out: list[str | None] = []
    for line in lines:
        if _line_edges(line, spans):
            out.append(None)
            continue
        inside = [
            (s0, s1) for s0, s1 in spans
            if min(s1, line.end_beat) - max(s0, line.start_beat) >= 0.75 * (s1 - s0)
        ]  # fmt: skip
        if not inside:
            out.append("no section inside it: its ends were merged away")
        else:
            out.append("its source has no section of the same bounds")
    return out


def to_sections(
    beat_sections: list[BeatSection], beat_times_s: npt.NDArray[np.float64]
) -> tuple[Section, ...]:
    """Beat-index sections to the song plan's `Section` (times in seconds, lag to the original).

    Args:
        beat_sections: from `build_sections`.
        beat_times_s: the plan's beats.

    Returns:
        The sections.
    """
    out = []
    for s in beat_sections:
        start_s = float(beat_times_s[s.start_beat])
        lag_s = None
        if s.repeats is not None:
            lag_s = s.lag_s
            if lag_s is None:
                source = beat_sections[s.repeats].start_beat
                if s.lag_beats is not None and s.start_beat - s.lag_beats >= 0:
                    source = s.start_beat - s.lag_beats
                lag_s = start_s - float(beat_times_s[source])
            lag_s = round(lag_s, 3)
        out.append(
            Section(
                start_s=round(start_s, 4),
                end_s=round(float(beat_times_s[s.end_beat]), 4),
                label=s.label,
                repeats=s.repeats,
                lag_s=lag_s,
            )
        )
    return tuple(out)


def _line_edges(line: RepeatLine, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """(j, i) for each span j the line covers whose image ``lag`` earlier is span i.

    The line must cover most of span j (`LINE_SUPPORT`); ends match within
    ``BOUNDARY_TOLERANCE_BEATS`` or an eighth of the span, whichever is more.
    """
    out = []
    for j, (s0, s1) in enumerate(spans):
        overlap = min(s1, line.end_beat) - max(s0, line.start_beat)
        if overlap <= LINE_SUPPORT * (s1 - s0):
            continue
        tol = max(BOUNDARY_TOLERANCE_BEATS, round(IMPLIED_TOLERANCE * (s1 - s0)))
        for i, (r0, r1) in enumerate(spans):
            if (
                i != j
                and abs(r0 - (s0 - line.lag_beats)) <= tol
                and abs(r1 - (s1 - line.lag_beats)) <= tol
            ):
                out.append((j, i))
                break
    return out


def _loops(line: RepeatLine, lines: list[RepeatLine]) -> bool:
    """Whether the line is part of a loop: it overlaps its own source (its lag is under
    `LOOP_OVERLAP` of its length), or another line over the same music lies at twice or three
    times the lag of one of the two that runs right on from its source (or a half or a third).
    A groove that keeps going lies at every multiple of its period; a section that returns
    after others (B in A B A B C B, at 32 and 64 beats) runs on from neither source."""
    if line.lag_beats < LOOP_OVERLAP * line.length_beats:
        return True
    for other in lines:
        overlap = min(line.end_beat, other.end_beat) - max(line.start_beat, other.start_beat)
        if other is line or overlap < 0.5 * min(line.length_beats, other.length_beats):
            continue
        short, long_ = sorted((line, other), key=lambda a: a.lag_beats)
        if short.length_beats < short.lag_beats - BOUNDARY_TOLERANCE_BEATS:
            continue  # a section returning every so often (B in A B A B C B), not a groove
        for k in (2, 3):
            # a groove at k times the period has played k + 1 periods: its line at the period
            # spans k of them (a phrase played twice, a a, inside each of A A is no groove)
            lasts = short.length_beats >= k * short.lag_beats - BOUNDARY_TOLERANCE_BEATS
            if lasts and abs(long_.lag_beats - k * short.lag_beats) <= BOUNDARY_TOLERANCE_BEATS:
                return True
    return False


def _duplicate(a: RepeatLine, b: RepeatLine) -> bool:
    if abs(a.lag_beats - b.lag_beats) > 1:
        return False
    overlap = min(a.end_beat, b.end_beat) - max(a.start_beat, b.start_beat)
    return overlap > 0.5 * min(a.length_beats, b.length_beats)


def _implied(line: RepeatLine, kept: RepeatLine) -> bool:
    """Whether ``line`` links two stretches within the spans that ``kept`` already links."""
    spans = (kept.source, (kept.start_beat, kept.end_beat))
    # a line's ends are only known to a beat or two, more so for long lines
    tol = max(BOUNDARY_TOLERANCE_BEATS, round(IMPLIED_TOLERANCE * kept.length_beats))
    return _inside(line.source, spans, tol) and _inside(
        (line.start_beat, line.end_beat), spans, tol
    )


def _inside(
    span: tuple[int, int], spans: tuple[tuple[int, int], ...], tol: int = BOUNDARY_TOLERANCE_BEATS
) -> bool:
    return any(s0 - tol <= span[0] and span[1] <= s1 + tol for s0, s1 in spans)


def _label(
    spans: list[tuple[int, int]], edges: dict[int, list[tuple[int, int, int]]]
) -> list[BeatSection]:
    """Letters by connected group in order of first appearance; repeats point at the first.

    A repeat's lag is the sum of the lines' lags on the way from the first (the music's own
    offset, exact to the beat), not the difference of the two sections' starts, which each
    boundary's own error moves.
    """
    group_of: dict[int, int] = {}
    shift_of: dict[int, int] = {}
    offset_of: dict[int, int] = {}
    letters: list[str] = []
    for first in range(len(spans)):
        if first in group_of:
            continue
        group = len(letters)
        letters.append(_letter(group))
        group_of[first], shift_of[first], offset_of[first] = group, 0, 0
        queue = deque([first])
        while queue:
            i = queue.popleft()
            for j, shift, lag in edges[i]:
                if j not in group_of:
                    group_of[j], shift_of[j] = group, (shift_of[i] + shift) % 12
                    offset_of[j] = offset_of[i] + lag
                    queue.append(j)
    firsts: dict[int, int] = {}
    out = []
    for i, (s0, s1) in enumerate(spans):
        group = group_of[i]
        original = firsts.setdefault(group, i)
        repeats = None if original == i else original
        out.append(
            BeatSection(
                start_beat=s0,
                end_beat=s1,
                label=letters[group],
                repeats=repeats,
                shift=(shift_of[i] - shift_of[original]) % 12,
                lag_beats=None if repeats is None else offset_of[i] - offset_of[original],
            )
        )
    return out


def _letter(index: int) -> str:
    """A, B, ..., Z, AA, AB, ..."""
    name = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        name = chr(ord("A") + rem) + name
    return name
