"""From repeat lines and a novelty curve to the song's section list: bounds, labels, repeats.

Every repeat line says "beats x1..x2 play again what beats x1-lag..x2-lag played". The ends of
the lines (both where the repeat is and where its original is) are the section boundaries. Where
no line covers the music (a song without repeats, a section that never returns), the peaks of a
Foote novelty curve are. A boundary inside a repeated stretch needs evidence of its own, a line
end or a strong novelty peak: in A B C A B, "A B" comes back as one piece, and only the change of
music where A ends (or, failing a curve, C's length) cuts it. The segments between boundaries
are joined into groups by the lines that map one onto another, and each group gets a letter in
order of first appearance (A, B, A, C, B ...). A later member of a group repeats the first one,
at the lag between their starts. `line_outcomes` says, for a line that made no repeat, why.
"""

from __future__ import annotations

import itertools
import logging
from collections import deque
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.ndimage

from livedance.songplan import Section
from offline.analysis.lines import RepeatLine

log = logging.getLogger(__name__)

BOUNDARY_TOLERANCE_BEATS = 2
"""Line ends this close together mark the same boundary."""


IMPLIED_TOLERANCE = 0.125
"""A line within this fraction of a kept line's length of its spans counts as implied by it."""

NOVELTY_FLOOR = 0.1
"""Novelty peaks below this (of the song's highest) are not considered at all."""

NOVELTY_PEAK = 0.3
"""A novelty peak this high places a boundary where no repeat line covers the music."""

NOVELTY_INSIDE = 0.8
"""... and this high cuts a repeated stretch (a line end is the other evidence there)."""

NOVELTY_AGREEMENT = 0.5
"""Share of line ends that need a novelty peak near them for the novelty to place boundaries
in a song with repeats (synthesized songs 0-0.3, songs arranged from recordings 0.7-1)."""

NOVELTY_WEIGHT = 0.1
"""A novelty boundary's weight against a line end's (a line's strength, 0.12-0.4): when two
boundaries are too close, the line end stays."""

CALM = 0.5
"""Novelty under this fraction of its median, around a beat, says the music runs on there."""

ADJACENT = 0.75
"""A line at least this fraction of its lag long runs on from its source (x x, not x ... x)."""

LOOP_OVERLAP = 0.8
"""A line whose lag is under this fraction of its length overlaps its source: a loop."""

NOVELTY_UNIT_CUT = 0.5
"""... and this high, near a cut at the length of a section that does not repeat, confirms it."""


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
) -> list[BeatSection]:
    """Section list over beats ``0..n_beats`` from the kept repeat lines and the novelty curve.

    Args:
        lines: kept lines (see `select_lines`).
        n_beats: number of beat intervals (sections cover beat 0 to beat ``n_beats``).
        min_section_beats: sections shorter than this are merged into a neighbour.
        novelty: Foote novelty per beat (``n_beats`` values, peak 1), if measured: its peaks
            are boundaries where no line says anything, and the evidence a cut inside a
            repeated stretch needs.

    Returns:
        Sections in time order; a repeat points at the first section of its group.
    """
    peaks = None if novelty is None else novelty_peaks(novelty, min_distance=min_section_beats // 2)
    bounds = _boundaries(
        lines, n_beats=n_beats, min_section_beats=min_section_beats, peaks=peaks, novelty=novelty
    )
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


def novelty_peaks(novelty: npt.NDArray[np.float64], *, min_distance: int) -> dict[int, float]:
    """Local maxima of the novelty curve at least ``NOVELTY_FLOOR`` high, ``min_distance`` apart.

    Args:
        novelty: per-beat novelty, peak 1.
        min_distance: beats; of two closer peaks the higher is kept.

    Returns:
        Beat index to height.
    """
    if len(novelty) < 3:
        return {}
    size = 2 * max(1, min_distance) + 1
    local = scipy.ndimage.maximum_filter1d(novelty, size, mode="constant")
    idx = np.flatnonzero((novelty >= local) & (novelty >= NOVELTY_FLOOR))
    return {int(i): float(novelty[i]) for i in idx if 0 < i < len(novelty)}


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
                lag_s = start_s - float(beat_times_s[beat_sections[s.repeats].start_beat])
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

    Ends match within ``BOUNDARY_TOLERANCE_BEATS`` or an eighth of the span, whichever is more.
    """
    out = []
    for j, (s0, s1) in enumerate(spans):
        overlap = min(s1, line.end_beat) - max(s0, line.start_beat)
        if overlap < 0.75 * (s1 - s0):
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
        if any(
            abs(long_.lag_beats - k * short.lag_beats) <= BOUNDARY_TOLERANCE_BEATS for k in (2, 3)
        ):
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


def _boundaries(
    lines: list[RepeatLine],
    *,
    n_beats: int,
    min_section_beats: int,
    peaks: dict[int, float] | None,
    novelty: npt.NDArray[np.float64] | None = None,
) -> list[int]:
    """Beat indices of section boundaries.

    Clustered line ends, mirrored through the lines; novelty peaks where no line covers the
    music; short sections merged away. Inside a repeated stretch a boundary needs evidence of
    its own: a line end, or a novelty peak (a long repeated stretch is cut at its strong peaks,
    or at the length of a section that does not repeat where a peak is near that cut).
    """
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
    inner = [b for b in weight if BOUNDARY_TOLERANCE_BEATS < b < n_beats - BOUNDARY_TOLERANCE_BEATS]
    if peaks is not None and not _novelty_agrees(inner, peaks):
        log.debug("the novelty peaks miss the line ends: boundaries from the lines alone")
        peaks = None
    weight[0] = weight[n_beats] = float("inf")
    spans = [s for line in lines for s in ((line.start_beat, line.end_beat), line.source)]
    for b, height in (peaks or {}).items():
        # where no line covers the music, novelty alone places boundaries
        if height >= NOVELTY_PEAK and not _strictly_inside(b, spans, min_section_beats // 2):
            _add_near(weight, b, NOVELTY_WEIGHT * height)
    _mirror(weight, lines, n_beats=n_beats)
    bounds = _merge_short(weight, n_beats=n_beats, min_section_beats=min_section_beats)
    cuts = _evident_cuts(
        bounds, lines, peaks, min_section_beats=min_section_beats, calm=_calm(novelty)
    )
    if not cuts:
        return bounds
    weight = {b: weight[b] for b in bounds}
    for b, w in cuts.items():
        _add_near(weight, b, w)
    _mirror(weight, lines, n_beats=n_beats)
    return _merge_short(weight, n_beats=n_beats, min_section_beats=min_section_beats)


def _novelty_agrees(line_ends: list[int], peaks: dict[int, float]) -> bool:
    """Whether most line ends have a novelty peak near them (or there are no line ends).

    In recordings the music changes where a repeat starts or ends, and the novelty peaks there.
    In music whose sections differ only in their chords and tune, changes inside a section (a
    new phrase half way) can outweigh those between sections, and the novelty cannot tell where
    a section ends.
    """
    if not line_ends:
        return True
    near = sum(
        any(abs(b - p) <= BOUNDARY_TOLERANCE_BEATS and h >= NOVELTY_PEAK for p, h in peaks.items())
        for b in line_ends
    )
    return near >= NOVELTY_AGREEMENT * len(line_ends)


def _strictly_inside(b: int, spans: list[tuple[int, int]], margin: int) -> bool:
    return any(s0 + margin < b < s1 - margin for s0, s1 in spans)


def _add_near(weight: dict[int, float], b: int, w: float) -> None:
    """Add boundary ``b`` unless one is already within the tolerance (which then gains ``w``)."""
    near = [o for o in weight if abs(o - b) <= BOUNDARY_TOLERANCE_BEATS]
    if near:
        o = min(near, key=lambda o: abs(o - b))
        weight[o] = weight[o] + w
    else:
        weight[b] = w


def _evident_cuts(
    bounds: list[int],
    lines: list[RepeatLine],
    peaks: dict[int, float] | None,
    *,
    min_section_beats: int,
    calm: set[int] | None = None,
) -> dict[int, float]:
    """Cuts inside repeated stretches, each backed by the music.

    A repeated stretch at least two sections long is cut at its strong novelty peaks. The unit
    cuts (a stretch two to four times as long as a section that does not repeat) are kept at a
    clear novelty peak near them. Without one they cut only where there is no (trusted) novelty
    curve, or where one line alone repeats a stretch twice the unit (A B C A B: "A B" returns
    as one piece) and the music is not ``calm`` there: a boundary inside a repeat needs a
    change in the music, not only a neighbour's length.
    """
    out: dict[int, float] = {}
    spans = list(itertools.pairwise(bounds))
    covered = [any(_covers(line, s0, s1) for line in lines) for s0, s1 in spans]
    clear = {b: h for b, h in (peaks or {}).items() if h >= NOVELTY_UNIT_CUT}
    for (s0, s1), repeated in zip(spans, covered, strict=True):
        if not repeated or s1 - s0 < 2 * min_section_beats:
            continue
        for b, height in clear.items():
            if not s0 + min_section_beats <= b <= s1 - min_section_beats:
                continue
            if height >= NOVELTY_INSIDE:
                out[b] = NOVELTY_WEIGHT * height
    reach = max(BOUNDARY_TOLERANCE_BEATS, min_section_beats // 4)
    cuts = _unit_cuts(bounds, lines, min_section_beats=min_section_beats)
    for cut in cuts:
        stretch = next((s0, s1) for s0, s1 in spans if s0 < cut < s1)
        if any(stretch[0] < o < stretch[1] for o in out):
            continue  # the novelty already cut this stretch
        near = {b: h for b, h in clear.items() if abs(b - cut) <= reach}
        if near:
            out[max(near, key=lambda b: near[b])] = 0.5
        elif peaks is None or (
            sum(stretch[0] < c < stretch[1] for c in cuts) == 1
            and sum(_covers(line, *stretch) for line in lines) == 1
            and cut not in (calm or set())
        ):
            out[cut] = 0.5
    return out


def _calm(novelty: npt.NDArray[np.float64] | None) -> set[int]:
    """Beats where the music runs on unchanged: the novelty within a beat stays under
    `CALM` times its median (a recording in the middle of a part; a synthesized song's section
    change without a new sound still measures about its median)."""
    if novelty is None or len(novelty) == 0:
        return set()
    near = scipy.ndimage.maximum_filter1d(novelty, 3)
    return {int(b) for b in np.flatnonzero(near < CALM * float(np.median(novelty)))}


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
