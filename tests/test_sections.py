"""Section finding on real-recording shapes: cuts need a change in the music, loops are no repeats.

Lines and novelty curves are built by hand here, in the shapes the songs arranged from real
recordings showed (`benchmarks/realset/arrange.py`), so each rule is checked on its own.
"""

from __future__ import annotations

import numpy as np

from offline.analysis.boundaries import _reconcile
from offline.analysis.lines import RepeatLine
from offline.analysis.sections import (
    BeatSection,
    build_sections,
    line_outcomes,
    select_lines,
    to_sections,
    unmarked_lines,
)
from offline.analysis.structure import to_beats


def _line(start: int, end: int, lag: int, strength: float = 0.2) -> RepeatLine:
    return RepeatLine(
        start_beat=start, end_beat=end, lag_beats=lag, shift=0, strength=strength, similarity=0.95
    )


def _novelty(n_beats: int, peaks: dict[int, float], level: float = 0.0) -> np.ndarray:
    novelty = np.full(n_beats, level)
    for beat, height in peaks.items():
        novelty[beat] = height
    return novelty


def test_a_repeat_is_not_cut_at_a_neighbours_length_without_a_change_in_the_music() -> None:
    """A B A C B (36, 48, 36, 20, 48 beats, as in the dev song h1): A is close to twice C's
    length, but the novelty stays low half way through A (the music runs on), so A and A' stay
    whole."""
    lines = [_line(84, 120, 84), _line(140, 188, 104)]
    changes = _novelty(188, {36: 0.9, 84: 1.0, 120: 0.9, 140: 0.8}, level=0.3)
    changes[10:27] = changes[94:111] = 0.05  # A runs on unchanged through its middle
    found = build_sections(lines, n_beats=188, min_section_beats=14, novelty=changes)
    assert [(s.start_beat, s.label, s.repeats) for s in found] == [
        (0, "A", None), (36, "B", None), (84, "A", 0), (120, "C", None), (140, "B", 1)
    ]  # fmt: skip
    assert line_outcomes(lines, found) == [None, None]


def test_a_groove_looping_inside_a_section_is_no_repeat() -> None:
    """A four-bar riff played over and over gives a line that overlaps its own source and lines
    at twice and three times its lag over the same music; a section returning later does not."""
    returning = _line(100, 132, 80, strength=0.3)
    riff = [_line(40, 80, 16), _line(52, 80, 12), _line(50, 76, 24)]
    assert select_lines([returning, *riff]) == [returning]


def test_back_to_back_sections_made_of_a_phrase_played_twice_are_no_groove() -> None:
    """A A B A (48 beats each A, as in the tuning song t2101-3AABA): each A plays a 16-beat
    phrase twice and then a tail (a a b). The A A line's lag, 48 beats, is three times the
    phrase's, but a phrase heard twice is no groove going on for four periods: A A stays."""
    a_a = _line(48, 96, 48)
    a_returns = _line(130, 178, 82, strength=0.25)
    phrases = [_line(16, 34, 16), _line(64, 82, 16), _line(146, 164, 16)]
    kept = select_lines([a_returns, a_a, *phrases])
    assert a_a in kept and a_returns in kept


def test_a_section_playing_one_phrase_twice_is_not_cut_where_the_phrase_begins_again() -> None:
    """A B A C B (53, 43, 53, 33, 41 beats, as in the tuning song t1-ABACB): A plays a phrase
    and then plays it again (a line at lag 29 from beat 29, and its copy in A'), and a recording
    changes sound there: strong novelty peaks in both copies of A. A stays one section; a peak
    elsewhere inside a repeat still cuts it."""
    lines = [_line(96, 149, 96), _line(182, 223, 128, strength=0.15)]
    phrases = [*lines, _line(29, 54, 29, strength=0.13), _line(124, 150, 29, strength=0.13)]
    changes = _novelty(223, {53: 1.0, 96: 0.95, 149: 0.9, 182: 0.9, 30: 0.85, 126: 0.85}, 0.05)
    found = build_sections(lines, n_beats=223, min_section_beats=21, novelty=changes)
    assert [s.start_beat for s in found] == [0, 30, 53, 96, 126, 149, 182]  # cut in phrases
    found = build_sections(
        lines, n_beats=223, min_section_beats=21, novelty=changes, phrases=phrases
    )
    assert [(s.start_beat, s.label, s.repeats) for s in found] == [
        (0, "A", None), (53, "B", None), (96, "A", 0), (149, "C", None), (182, "B", 1)
    ]  # fmt: skip


def test_a_phrase_repeating_where_the_music_does_not_change_is_left_out() -> None:
    """The strongest line's ends are marked by changes in the music, so the curve is trusted:
    a line none of whose ends has a change near it repeats a phrase inside a section."""
    section_repeat = _line(60, 90, 60, strength=0.3)  # ends at 0..30 and 60..90
    phrase = _line(45, 55, 10)  # 35..45 and 45..55, inside a section from 30 to 60
    changes = _novelty(100, {30: 1.0, 60: 0.9, 90: 0.8})
    assert unmarked_lines([section_repeat, phrase], changes, min_section_beats=8) == [phrase]
    # where the strongest line is not marked (chords-only sections), no line is judged
    flat = _novelty(100, {45: 1.0})
    assert unmarked_lines([section_repeat, phrase], flat, min_section_beats=8) == []


def test_a_repeats_lag_is_the_lag_of_its_music_not_of_its_section_starts() -> None:
    """A B A C B whose two lines disagree by two beats on where B starts (one line's source ends
    at 36, the other's starts at 34): B' lags B by its line's 106 beats, not by 140 - 36."""
    lines = [_line(84, 120, 84), _line(140, 188, 106)]
    found = build_sections(lines, n_beats=188, min_section_beats=14)
    b_again = next(s for s in found if s.start_beat == 140)
    assert b_again.repeats is not None and b_again.lag_beats == 106
    beat_times_s = np.arange(189) * 0.5
    sections = to_sections(found, beat_times_s)
    assert sections[found.index(b_again)].lag_s == 53.0


def test_a_repeats_bounds_go_to_the_change_in_the_music_not_to_the_lines_blurred_ends() -> None:
    """Intro, A, B, A, outro (10, 24, 8, 24, 14 beats): the line of A's return fades in two
    beats late at both copies, where the music before them differs; the recording's novelty
    peaks exactly where the sections change, so A and A' start there, a lag apart."""
    line = _line(44, 66, 32)  # source 12..34; A truly starts at 10 and at 42
    changes = _novelty(80, {10: 0.8, 34: 0.9, 42: 0.7, 66: 1.0})
    found = build_sections([line], n_beats=80, min_section_beats=8, novelty=changes)
    assert [(s.start_beat, s.label, s.repeats) for s in found] == [
        (0, "A", None), (10, "B", None), (34, "C", None), (42, "B", 1), (66, "D", None)
    ]  # fmt: skip


def test_a_cut_inside_one_copy_of_a_repeat_only_is_undone_or_matched() -> None:
    """V C V C (13, 23, 13, 23 beats), the line of "V C" at lag 36: a cut 11 beats into the
    first C and one 8 beats into the second cannot both stand (the line says they are the same
    music). Without a change in the music at either's image both go; with one at the image of
    the first, the second moves there."""
    line = _line(36, 72, 36)
    changes = {13: 0.9, 36: 1.0, 49: 0.9, 72: 0.9}
    bounds = [0, 13, 24, 36, 49, 57, 72, 88]
    weight = {b: 0.2 for b in bounds} | {0: float("inf"), 88: float("inf")}
    args = dict(n_beats=88, min_section_beats=8)
    assert _reconcile(bounds, dict(weight), [line], changes, **args) == [0, 13, 36, 49, 72, 88]
    changes[60] = 0.6  # the music changes at the first cut's image too
    assert _reconcile(bounds, dict(weight), [line], changes, **args) == [
        0, 13, 24, 36, 49, 60, 72, 88
    ]  # fmt: skip


def test_a_repeat_whose_bound_came_out_early_keeps_its_lines_lag() -> None:
    """V C V at 0.5 s beats, the line of V at lag 100 beats (50 s); V' came out two beats
    early (beat 98, before its lag allows a source): its lag is still the line's 50 s, not the
    49 s between the two section starts."""
    grid = np.arange(141) * 0.5
    on_grid = [BeatSection(0, 40, "A"), BeatSection(40, 98, "B"),
               BeatSection(98, 140, "A", repeats=0, lag_beats=100)]  # fmt: skip
    moved = to_beats(on_grid, grid, grid)
    assert moved[2].repeats == 0 and moved[2].lag_s == 50.0
    assert to_sections(moved, grid)[2].lag_s == 50.0


def test_a_section_repeats_through_a_line_that_fades_in_late() -> None:
    """A B A' (16, 24, 16 beats): the line of A' starts 6 beats late, where the music before
    the two copies differs, but covers the rest of A' and both of A's bounds lie its lag earlier:
    A' repeats A."""
    line = _line(46, 56, 40)
    sections = [BeatSection(0, 16, "A"), BeatSection(16, 40, "B"), BeatSection(40, 56, "C")]
    assert line_outcomes([line], sections) == [None]


def test_where_back_to_back_copies_meet_a_peak_beside_the_join_does_not_move_it() -> None:
    """A A B A (32, 32, 24, 32 beats, as in the tuning song t2105-2AABA, whose segments fade
    out and in over a second): the line of the second A starts exactly where its source ends
    (beat 32), but the fade's edge peaks three beats before the join, higher than the join
    itself. The join stays at 32 and the second A with it (moved onto the peak, both its bounds
    came out 1.4 s early and the song's A A B A lost its second A)."""
    lines = [_line(32, 64, 32, 0.23), _line(88, 120, 88, 0.22), _line(88, 120, 56, 0.2)]
    changes = _novelty(120, {5: 0.8, 29: 0.7, 64: 0.7, 88: 1.0, 108: 0.4}, level=0.05)
    found = build_sections(lines, n_beats=120, min_section_beats=14, novelty=changes, sharp=True)
    assert [(s.start_beat, s.label, s.repeats) for s in found] == [
        (0, "A", None), (32, "A", 0), (64, "B", None), (88, "A", 0)
    ]  # fmt: skip


def test_a_copys_start_moves_with_the_peak_that_moved_its_other_copys_start() -> None:
    """A A B A (32, 32, 16, 32 beats, as in the tuning song t2106-2AABA): the lines of the last
    A start two beats late; a clear peak puts that A's start back on beat 80, and the line
    from the second A says its start lies the lag (47) before: beat 33, by the first A's end.
    Left at the line's late start (35, where the A A line starts late too), it outweighs the
    first A's end, and the second A comes out 1.4 s late."""
    lines = [_line(35, 64, 32, 0.257), _line(82, 112, 80, 0.191), _line(82, 112, 47, 0.19)]
    changes = _novelty(112, {12: 0.7, 32: 0.66, 64: 0.55, 80: 1.0}, level=0.05)
    found = build_sections(lines, n_beats=112, min_section_beats=14, novelty=changes, sharp=True)
    assert [(s.start_beat, s.label, s.repeats) for s in found] == [
        (0, "A", None), (32, "A", 0), (64, "B", None), (80, "A", 0)
    ]  # fmt: skip
