"""From repeat lines to the song's section list: bounds, labels and what repeats what.

Every repeat line says "beats x1..x2 play again what beats x1-lag..x2-lag played". The ends of
the lines (both where the repeat is and where its original is) are the section boundaries; a
repeated stretch as long as two to four sections that do not repeat is cut into that many (in
A B C A B the repeats only say that "A B" returns, C's length says where A ends). The segments
between boundaries are joined into groups by the lines that map one onto another, and each group
gets a letter in order of first appearance (A, B, A, C, B ...). A later member of a group repeats
the first one, at the lag between their starts.
"""

from __future__ import annotations

import itertools
import logging
from collections import deque
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from livedance.songplan import Section
from offline.analysis.lines import RepeatLine

log = logging.getLogger(__name__)

BOUNDARY_TOLERANCE_BEATS = 2
"""Line ends this close together mark the same boundary."""


IMPLIED_TOLERANCE = 0.125
"""A line within this fraction of a kept line's length of its spans counts as implied by it."""


@dataclass(frozen=True)
class BeatSection:
    """A section in beat indices, with the key shift of a repeat relative to its original."""

    start_beat: int
    end_beat: int
    label: str
    repeats: int | None = None
    shift: int = 0


def select_lines(lines: list[RepeatLine]) -> list[RepeatLine]:
    """Keep the lines that say something new about the form, strongest first.

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
        if any(_duplicate(line, other) or _implied(line, other) for other in kept):
            continue
        kept.append(line)
    return kept


def build_sections(
    lines: list[RepeatLine], *, n_beats: int, min_section_beats: int
) -> list[BeatSection]:
    """Section list over beats ``0..n_beats`` from the kept repeat lines.

    Args:
        lines: kept lines (see `select_lines`).
        n_beats: number of beat intervals (sections cover beat 0 to beat ``n_beats``).
        min_section_beats: sections shorter than this are merged into a neighbour.

    Returns:
        Sections in time order; a repeat points at the first section of its group.
    """
    bounds = _boundaries(lines, n_beats=n_beats, min_section_beats=min_section_beats)
    spans = list(itertools.pairwise(bounds))
    edges: dict[int, list[tuple[int, int]]] = {i: [] for i in range(len(spans))}
    for line in lines:
        for j, (s0, s1) in enumerate(spans):
            overlap = min(s1, line.end_beat) - max(s0, line.start_beat)
            if overlap < 0.75 * (s1 - s0):
                continue
            for i, (r0, r1) in enumerate(spans):
                if (
                    i != j
                    and abs(r0 - (s0 - line.lag_beats)) <= BOUNDARY_TOLERANCE_BEATS
                    and abs(r1 - (s1 - line.lag_beats)) <= BOUNDARY_TOLERANCE_BEATS
                ):
                    # Traversing an edge adds its value to the key: j is i up ``shift``.
                    edges[i].append((j, line.shift))
                    edges[j].append((i, -line.shift))
    return _label(spans, edges)


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
            lag_s = round(start_s - float(beat_times_s[beat_sections[s.repeats].start_beat]), 3)
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


def _boundaries(lines: list[RepeatLine], *, n_beats: int, min_section_beats: int) -> list[int]:
    """Beat indices of section boundaries: clustered line ends, short sections merged away,
    long repeated stretches cut into the song's section length."""
    votes: dict[int, float] = {}
    for line in lines:
        # Where a line stops with the song, the last beat or two may be missing from the beats:
        # its original's end is a weak vote, for other lines to overrule.
        open_end = 0.5 if line.end_beat >= n_beats else 1.0
        ends = (line.start_beat, line.end_beat, line.source[0], line.source[1])
        for b, vote in zip(ends, (1.0, 1.0, 1.0, open_end), strict=True):
            votes[b] = votes.get(b, 0.0) + vote * line.strength
    # Cluster nearby ends; each cluster's boundary is its most voted beat.
    clusters: list[list[int]] = []
    for b in sorted(votes):
        if clusters and b - clusters[-1][-1] <= BOUNDARY_TOLERANCE_BEATS:
            clusters[-1].append(b)
        else:
            clusters.append([b])
    weight = {max(c, key=lambda b: votes[b]): sum(votes[b] for b in c) for c in clusters}
    weight[0] = weight[n_beats] = float("inf")
    _mirror(weight, lines, n_beats=n_beats)
    bounds = _merge_short(weight, n_beats=n_beats, min_section_beats=min_section_beats)
    cuts = _unit_cuts(bounds, lines, min_section_beats=min_section_beats)
    if not cuts:
        return bounds
    weight = {b: weight[b] for b in bounds} | {b: 0.5 for b in cuts}
    _mirror(weight, lines, n_beats=n_beats)
    return _merge_short(weight, n_beats=n_beats, min_section_beats=min_section_beats)


def _mirror(weight: dict[int, float], lines: list[RepeatLine], *, n_beats: int) -> None:
    """Add, in place, the images of boundaries through the lines: a boundary inside a repeated
    span is a boundary inside its original too (and back)."""
    for _ in range(3):
        added = False
        for line in lines:
            for b in list(weight):
                target = (line.start_beat, line.end_beat)
                for span, move in ((line.source, line.lag_beats), (target, -line.lag_beats)):
                    image = b + move
                    if (
                        span[0] < b < span[1]
                        and 0 < image < n_beats
                        and all(abs(image - other) > BOUNDARY_TOLERANCE_BEATS for other in weight)
                    ):
                        weight[image] = 0.5 * weight[b] if weight[b] != float("inf") else 1.0
                        added = True
        if not added:
            break


def _merge_short(weight: dict[int, float], *, n_beats: int, min_section_beats: int) -> list[int]:
    """Sorted boundaries, dropping the weaker end of any section shorter than the minimum."""
    bounds = sorted(b for b in weight if 0 <= b <= n_beats)
    while len(bounds) > 2:
        lengths = np.diff(bounds)
        k = int(np.argmin(lengths))
        if lengths[k] >= min_section_beats:
            break
        # Drop the weaker end of the shortest section (never the song's own ends).
        weaker = k if weight[bounds[k]] < weight[bounds[k + 1]] else k + 1
        del bounds[weaker]
    return bounds


def _unit_cuts(bounds: list[int], lines: list[RepeatLine], *, min_section_beats: int) -> list[int]:
    """Where to cut repeated stretches that are whole multiples of a section's length.

    Repeats only mark where a repeated stretch starts and ends: in A B C A B, "A B" comes back
    as one piece, and nothing in the repeats says where A ends. Sections of a song run in equal
    lengths (4, 8, 16 bars), so a repeated stretch two, three or four times as long as a section
    that does not repeat (here C, bounded by the repeats around it) is cut into that many equal
    sections; of several such lengths the longest wins. Only sections of at least four bars
    serve as the unit.
    """
    spans = list(itertools.pairwise(bounds))
    covered = [any(_covers(line, s0, s1) for line in lines) for s0, s1 in spans]
    units = {
        s1 - s0
        for (s0, s1), repeated in zip(spans, covered, strict=True)
        if not repeated and s1 - s0 >= max(16, min_section_beats)
    }
    cuts = []
    for (s0, s1), repeated in zip(spans, covered, strict=True):
        n = s1 - s0
        # a stretch that runs to the song's end may lack its last beat or two
        tol = max(BOUNDARY_TOLERANCE_BEATS, round(IMPLIED_TOLERANCE * n))
        fits = [u for u in units if 2 <= round(n / u) <= 4 and abs(n - round(n / u) * u) <= tol]
        if repeated and fits:
            k = round(n / max(fits))
            cuts.extend(s0 + round(i * n / k) for i in range(1, k))
    return cuts


def _covers(line: RepeatLine, s0: int, s1: int) -> bool:
    """Whether the line's span or its source covers most of ``s0..s1``."""
    return any(
        min(s1, b) - max(s0, a) >= 0.75 * (s1 - s0)
        for a, b in ((line.start_beat, line.end_beat), line.source)
    )


def _label(
    spans: list[tuple[int, int]], edges: dict[int, list[tuple[int, int]]]
) -> list[BeatSection]:
    """Letters by connected group in order of first appearance; repeats point at the first."""
    group_of: dict[int, int] = {}
    shift_of: dict[int, int] = {}
    letters: list[str] = []
    for first in range(len(spans)):
        if first in group_of:
            continue
        group = len(letters)
        letters.append(_letter(group))
        group_of[first], shift_of[first] = group, 0
        queue = deque([first])
        while queue:
            i = queue.popleft()
            for j, shift in edges[i]:
                if j not in group_of:
                    group_of[j], shift_of[j] = group, (shift_of[i] + shift) % 12
                    queue.append(j)
    firsts: dict[int, int] = {}
    out = []
    for i, (s0, s1) in enumerate(spans):
        group = group_of[i]
        original = firsts.setdefault(group, i)
        out.append(
            BeatSection(
                start_beat=s0,
                end_beat=s1,
                label=letters[group],
                repeats=None if original == i else original,
                shift=(shift_of[i] - shift_of[original]) % 12,
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
