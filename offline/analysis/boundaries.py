"""Where the song's sections start and end: repeat line ends, novelty peaks, cuts in repeats.

The boundary step of `sections` (repeat lines and a novelty curve in, sorted beat indices out).
The ends of the lines (both where the repeat is and where its original is) vote for boundaries.
Where no line covers the music (a song without repeats, a section that never returns), the peaks
of a Foote novelty curve place them, when the curve marks the lines' ends (it does in
recordings; in music whose sections differ only in chords and tune it does not). A boundary
inside a repeated stretch needs evidence of its own, a line end or a change in the music: in
A B C A B, "A B" comes back as one piece, and only the change where A ends cuts it (or C's
length, where the music is not calm there). Boundaries are mirrored through the lines, sections
shorter than the minimum merged away, and the cuts inside a line's two copies made to agree
(`_reconcile`). In a recording (`is_sharp`) a line end near a clear novelty peak moves onto it
(`snapping`): the peak marks the change to the beat, the line's end is blurred where the music
before or after its two copies differs.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import scipy.ndimage

from offline.analysis.lines import RepeatLine
from offline.analysis.snapping import (
    BOUNDARY_TOLERANCE_BEATS,
    NOVELTY_PEAK,
    carry_moves,
    cluster_votes,
    end_votes,
    joins,
    snap_to_peaks,
)

log = logging.getLogger(__name__)

IMPLIED_TOLERANCE = 0.125
"""A line within this fraction of a kept line's length of its spans counts as implied by it."""

NOVELTY_FLOOR = 0.1
"""Novelty peaks below this (of the song's highest) are not considered at all."""

NOVELTY_INSIDE = 0.8
"""... and this high cuts a repeated stretch (a line end is the other evidence there)."""

NOVELTY_AGREEMENT = 0.5
"""Share of line ends that need a novelty peak near them for the novelty to place boundaries
in a song with repeats (synthesized songs 0-0.3, songs arranged from recordings 0.7-1)."""

NOVELTY_WEIGHT = 0.1
"""A novelty boundary's weight against a line end's (a line's strength, 0.12-0.4): when two
boundaries are too close, the line end stays."""

SNAP_MAX_MEDIAN = 0.25
"""... in a song whose novelty is sharp: its median under this (of its highest peak). Songs
arranged from recordings measure 0.12-0.28 (tuning and dev parts), the synthesized ones, whose
sections differ in chords and tune only, 0.26-0.58; their line ends are exact to the bar, and
their peaks are changes inside sections."""

CALM = 0.5
"""Novelty under this fraction of its median, around a beat, says the music runs on there."""

NOVELTY_UNIT_CUT = 0.5
"""... and this high, near a cut at the length of a section that does not repeat, confirms it."""


def is_sharp(novelty: npt.NDArray[np.float64] | None) -> bool:
    """Whether a novelty curve is a recording's: sharp peaks where its sections change, low in
    between (median under `SNAP_MAX_MEDIAN` of its highest peak). Measured once per song, on the
    narrow kernel (`structure.find_structure`), and the answer passed on: the wide kernel a
    recording then gets is smoother, and its median would answer differently."""
    return novelty is not None and len(novelty) > 0 and float(np.median(novelty)) < SNAP_MAX_MEDIAN


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


def place_boundaries(
    lines: list[RepeatLine],
    *,
    n_beats: int,
    min_section_beats: int,
    peaks: dict[int, float] | None,
    novelty: npt.NDArray[np.float64] | None = None,
    sharp: bool | None = None,
    phrases: Sequence[RepeatLine] = (),
) -> list[int]:
    """Beat indices of section boundaries.

    Clustered line ends, mirrored through the lines; novelty peaks where no line covers the
    music; short sections merged away. Inside a repeated stretch a boundary needs evidence of
    its own: a line end, or a novelty peak (a long repeated stretch is cut at its strong peaks,
    or at the length of a section that does not repeat where a peak is near that cut).
    ``sharp`` says whether the song's novelty is a recording's (`is_sharp`); None measures it
    on ``novelty``. ``phrases``: every line found, the ones the form was not built from
    included; where one says a repeated stretch is a phrase played twice, the join of the two
    is no cut (`_evident_cuts`).
    """
    votes: dict[int, float] = {}
    for line in lines:
        for b, vote in end_votes(line, n_beats=n_beats):
            votes[b] = votes.get(b, 0.0) + vote * line.strength
    weight = cluster_votes(votes)
    inner = [b for b in weight if BOUNDARY_TOLERANCE_BEATS < b < n_beats - BOUNDARY_TOLERANCE_BEATS]
    if peaks is not None and not _novelty_agrees(inner, peaks):
        log.debug("the novelty peaks miss the line ends: boundaries from the lines alone")
        peaks = None

    if sharp is None:
        sharp = is_sharp(novelty)
    if peaks is not None and sharp:
        pinned = joins(lines)
        moves: dict[int, int] = {}
        snapped = snap_to_peaks(
            weight, peaks, min_section_beats=min_section_beats, pinned=pinned, moves=moves
        )
        if carry_moves(votes, weight, moves, lines, n_beats=n_beats):
            snapped = snap_to_peaks(
                cluster_votes(votes), peaks, min_section_beats=min_section_beats, pinned=pinned
            )
        weight = snapped
    weight[0] = weight[n_beats] = float("inf")
    spans = [s for line in lines for s in ((line.start_beat, line.end_beat), line.source)]
    for b, height in (peaks or {}).items():
        # where no line covers the music, novelty alone places boundaries
        if height >= NOVELTY_PEAK and not _strictly_inside(b, spans, min_section_beats // 2):
            _add_near(weight, b, NOVELTY_WEIGHT * height)
    _mirror(weight, lines, n_beats=n_beats)
    bounds = _merge_short(weight, n_beats=n_beats, min_section_beats=min_section_beats)
    cuts = _evident_cuts(
        bounds, lines, peaks, min_section_beats=min_section_beats, calm=_calm(novelty),
        sharp=sharp, phrases=phrases,
    )  # fmt: skip
    if cuts:
        weight = {b: weight[b] for b in bounds}
        for b, w in cuts.items():
            _add_near(weight, b, w)
        _mirror(weight, lines, n_beats=n_beats)
        bounds = _merge_short(weight, n_beats=n_beats, min_section_beats=min_section_beats)
    return _reconcile(
        bounds, weight, lines, peaks, n_beats=n_beats, min_section_beats=min_section_beats
    )


def _reconcile(
    bounds: list[int],
    weight: dict[int, float],
    lines: list[RepeatLine],
    peaks: dict[int, float] | None,
    *,
    n_beats: int,
    min_section_beats: int,
) -> list[int]:
    """Boundaries inside a line's two spans made to agree through it.

    A line whose four ends are boundaries says its span plays the sections of its source again,
    so a boundary inside one is a boundary at the same place inside the other. Merging short
    sections can keep a boundary while dropping its image (another boundary, from one copy only,
    stood too near the image): then neither copy matches the other and the line makes no
    repeat. The image is put back where the music changes there too (a novelty peak or another
    line's end near it), and the boundary that blocked it goes; without that evidence the lone
    boundary goes: a cut inside a repeat needs the music to change in both copies.
    """
    out = {b: weight.get(b, 0.0) for b in bounds}
    ends = {b for line in lines for b in (line.start_beat, line.end_beat, *line.source)}
    clear = {p for p, h in (peaks or {}).items() if h >= NOVELTY_PEAK}
    for _ in range(3):
        changed = False
        for line in lines:
            target = (line.start_beat, line.end_beat)
            tol = max(BOUNDARY_TOLERANCE_BEATS, round(IMPLIED_TOLERANCE * line.length_beats))
            if not all(any(abs(e - o) <= tol for o in out) for e in (*target, *line.source)):
                continue  # not a repeat of whole sections: it says nothing about their insides
            for span, other, move in (
                (line.source, target, line.lag_beats),
                (target, line.source, -line.lag_beats),
            ):
                for b in sorted(out):
                    image = b + move
                    if not span[0] + tol < b < span[1] - tol or b not in out:
                        continue
                    if any(abs(image - o) <= BOUNDARY_TOLERANCE_BEATS for o in out):
                        continue
                    blockers = [
                        o for o in out
                        if other[0] < o < other[1] and abs(o - image) < min_section_beats
                    ]  # fmt: skip
                    evident = any(
                        abs(image - e) <= BOUNDARY_TOLERANCE_BEATS for e in (*clear, *ends)
                    )
                    if evident:
                        for o in blockers:
                            del out[o]
                        out[image] = 0.5 * out[b]
                    else:
                        del out[b]
                    changed = True
        if not changed:
            break
    out[0] = out[n_beats] = float("inf")
    return _merge_short(out, n_beats=n_beats, min_section_beats=min_section_beats)


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
    return near / len(line_ends) >= NOVELTY_AGREEMENT


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
    sharp: bool = False,
    phrases: Sequence[RepeatLine] = (),
) -> dict[int, float]:
    """Cuts inside repeated stretches, each backed by the music.

    A repeated stretch at least two sections long is cut at its strong novelty peaks, except
    where one of ``phrases`` says the stretch is a phrase played twice and the peak is where
    the second time begins (`_phrase_join`: a section of a recording that plays a phrase and
    then plays it again is one section, and each copy of it changes there). The unit
    cuts (a stretch two to four times as long as a section that does not repeat) are kept at a
    clear novelty peak near them. Without one they cut only where there is no (trusted) novelty
    curve, or, in a song whose novelty is not ``sharp`` (music whose sections differ in chords
    and tune only), where one line alone repeats a stretch twice the unit (A B C A B: "A B"
    returns as one piece) and the music is not ``calm`` there: a boundary inside a repeat needs
    a change in the music, not only a neighbour's length. A recording's sharp novelty shows its
    changes; a bridge half a verse long does not cut the verse.
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
            if height >= NOVELTY_INSIDE and not any(_phrase_join(p, b, s0, s1) for p in phrases):
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
            not sharp
            and sum(stretch[0] < c < stretch[1] for c in cuts) == 1
            and sum(_covers(line, *stretch) for line in lines) == 1
            and cut not in (calm or set())
        ):
            out[cut] = 0.5
    return out


def _phrase_join(line: RepeatLine, b: int, s0: int, s1: int) -> bool:
    """Whether ``line`` plays ``s0..s1`` as one phrase twice, the second time from ``b``: its
    source starts the stretch and ends where it starts (x x), at ``b``, and it ends the stretch,
    each within what a line's blurred ends allow on a stretch that long (`IMPLIED_TOLERANCE`)."""
    tol = max(BOUNDARY_TOLERANCE_BEATS, round(IMPLIED_TOLERANCE * (s1 - s0)))
    return all(
        abs(x - y) <= tol
        for x, y in (
            (line.source[0], s0),
            (line.source[1], line.start_beat),
            (line.start_beat, b),
            (line.end_beat, s1),
        )
    )


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
