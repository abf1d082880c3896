"""Line ends onto the music's changes: the step of `boundaries` that, in a recording, moves a
repeat line's blurred ends onto the novelty peaks where its sections change.

Repeat lines (`lines`) vote for boundaries at their four ends; the votes are clustered
(`cluster_votes`), the clusters moved onto clear novelty peaks near them (`snap_to_peaks`) except
where back-to-back copies meet to the beat (`joins`), and a line's end in one copy follows the
peak that moved the same end of its other copy (`carry_moves`). `boundaries.place_boundaries`
calls them in that order and goes on from the weights they give.
"""

from __future__ import annotations

from collections.abc import Sequence

from offline.analysis.lines import RepeatLine

BOUNDARY_TOLERANCE_BEATS = 2
"""Line ends this close together mark the same boundary."""

NOVELTY_PEAK = 0.3
"""A novelty peak this high places a boundary where no repeat line covers the music."""

NOVELTY_SNAP = 0.5
"""A novelty peak this high draws a line end without a peak of its own (`snap_to_peaks`)."""

SNAP_REACH_BEATS = 8
"""... from up to this many beats (two bars) away."""


def end_votes(line: RepeatLine, *, n_beats: int) -> tuple[tuple[int, float], ...]:
    """The four beats a line votes for as boundaries, each with its vote (before the line's
    strength): its start and end, then its source's start and end (each copy's end two places
    after the other's). Where a line stops with the song, the last beat or two may be missing
    from the beats: its original's end is a weak vote, for other lines to overrule."""
    open_end = 0.5 if line.end_beat >= n_beats else 1.0
    return (
        (line.start_beat, 1.0),
        (line.end_beat, 1.0),
        (line.source[0], 1.0),
        (line.source[1], open_end),
    )


def cluster_votes(votes: dict[int, float]) -> dict[int, float]:
    """Nearby line ends clustered; each cluster's boundary is its most voted beat, weighing
    the cluster's votes."""
    clusters: list[list[int]] = []
    for b in sorted(votes):
        if clusters and b - clusters[-1][-1] <= BOUNDARY_TOLERANCE_BEATS:
            clusters[-1].append(b)
        else:
            clusters.append([b])
    return {max(c, key=lambda b: votes[b]): sum(votes[b] for b in c) for c in clusters}


def carry_moves(
    votes: dict[int, float],
    weight: dict[int, float],
    moves: dict[int, int],
    lines: Sequence[RepeatLine],
    *,
    n_beats: int,
) -> bool:
    """Move, in ``votes``, a line's end in one copy along with the novelty peak that moved the
    same end in the other copy (`snap_to_peaks`); returns whether any moved.

    The two copies of a repeat start (and end) the line's lag apart. When the music places one
    copy's start (a peak a beat or two from the line's blurred end) and nothing moves the other
    copy's, that one keeps the line's blur: A A B A's last A moved a beat onto its peak left the
    second A's start 2 beats late, and its line's vote outweighed the first A's end by 3 beats
    (1.4 s). Its vote moves to the moved end's image through the line.
    """
    rep_of = {b: rep for rep in weight for b in votes if abs(b - rep) <= BOUNDARY_TOLERANCE_BEATS}
    moved = False
    for line in lines:
        ends = end_votes(line, n_beats=n_beats)
        for i, (copy, _) in enumerate(ends):
            other, vote = ends[(i + 2) % 4]  # the same end of the other copy
            lag = line.lag_beats if i < 2 else -line.lag_beats
            rep, rep_other = rep_of.get(copy), rep_of.get(other)
            if rep is None or rep_other is None or moves.get(rep_other, rep_other) != rep_other:
                continue
            shift = moves.get(rep, rep) - rep
            image = moves.get(rep, rep) - lag
            if shift == 0 or image == other or not 0 < image < n_beats:
                continue
            w = vote * line.strength
            votes[other] -= w
            if votes[other] <= 1e-12:
                del votes[other]
            votes[image] = votes.get(image, 0.0) + w
            moved = True
    return moved


def snap_to_peaks(
    weight: dict[int, float],
    peaks: dict[int, float],
    *,
    min_section_beats: int,
    pinned: frozenset[int] | set[int] = frozenset(),
    moves: dict[int, int] | None = None,
) -> dict[int, float]:
    """Line ends moved onto a clear novelty peak within `SNAP_REACH_BEATS` when none is at the
    end itself: where a repeat's first bars resemble their original less (a transposed chorus,
    a fade), its line starts late, though the music changes on the section's first beat.

    A line end within a beat of a ``pinned`` beat (`joins`: where back-to-back copies meet,
    measured twice) stays: a peak near it is a phrase or a fade's edge inside a copy. ``moves``,
    when given, gets each line end that moved and where to."""
    out: dict[int, float] = {}
    for b, w in sorted(weight.items(), key=lambda item: -item[1]):
        old = b
        if any(abs(b - p) <= 1 for p in pinned):
            out[b] = out.get(b, 0.0) + w
            continue
        at = [
            p for p, h in peaks.items()
            if abs(b - p) <= BOUNDARY_TOLERANCE_BEATS and h >= NOVELTY_PEAK
            and all(abs(p - o) > BOUNDARY_TOLERANCE_BEATS for o in out)
            # not so far that a section of the shortest length falls under it
            and all(abs(p - o) >= min(min_section_beats, abs(b - o)) for o in weight if o != b)
        ]  # fmt: skip
        if at:
            # the peak marks the change to the beat; the line's end is blurred by a beat or two
            b = min(at, key=lambda p: abs(p - b))
        elif not any(abs(b - p) <= BOUNDARY_TOLERANCE_BEATS for p in peaks):
            near = [
                p for p, h in peaks.items()
                if abs(p - b) <= SNAP_REACH_BEATS and h >= NOVELTY_SNAP
                and all(abs(p - o) > BOUNDARY_TOLERANCE_BEATS for o in out)
                and min(abs(p - o) for o in weight) == abs(p - b)
            ]  # fmt: skip
            if near:
                b = max(near, key=lambda p: peaks[p])
        if moves is not None and b != old:
            moves[old] = b
        out[b] = out.get(b, 0.0) + w
    return out


def joins(lines: Sequence[RepeatLine]) -> set[int]:
    """Where back-to-back copies meet, told by a line both at its start and at its end.

    A line of A A (A played twice in a row) starts where the second copy starts and its source
    ends where the first one ends: two ends, measured apart (one where the line's similarity
    begins, the other where it stops), that are one beat of the music. When the two agree
    within a beat, the join is known to the beat and no novelty peak near it moves it: a peak
    a few beats off is a change inside the copy (a phrase, the edge of a fade), and moving the
    join there moves the second copy's whole span off by as much (1.4 s seen, both its
    bounds). Lines whose two ends there disagree are blurred, and the peaks may place them.

    Returns:
        The beats (the line's start) where such lines' copies meet.
    """
    return {line.start_beat for line in lines if abs(line.source[1] - line.start_beat) <= 1}
