"""The choreographer: deterministic, driven by the music, repeats when the music repeats, smooth."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest

from livedance.actions import ACTIONS, action_by_name
from livedance.choreo import Choreographer, choreograph
from livedance.songplan import AudioIdentity, BeatInterval, Section, SongPlan

BEAT_S = 0.5


def _intervals(
    n: int, *, rms_db: float | list[float] = -18.0, centroid_hz: float = 1500.0
) -> list[BeatInterval]:
    levels = rms_db if isinstance(rms_db, list) else [rms_db] * n
    return [
        BeatInterval(i * BEAT_S + 1.0, (i + 1) * BEAT_S + 1.0, levels[i], centroid_hz)
        for i in range(n)
    ]


def _plan(intervals: list[BeatInterval], sections: tuple[Section, ...]) -> SongPlan:
    beats = [iv.start_s for iv in intervals] + [intervals[-1].end_s]
    return SongPlan(
        audio=AudioIdentity("0" * 64, beats[-1] + 1, 44100),
        tempo_bpm=60 / BEAT_S,
        beat_times_s=tuple(beats),
        intervals=tuple(intervals),
        sections=sections,
    )


def test_same_seed_same_dance_other_seed_other_dance() -> None:
    rng = np.random.default_rng(0)
    ivs = _intervals(64, rms_db=list(rng.uniform(-30, -8, 64)))
    a = [m.action for m in choreograph(ivs, seed=3).moves]
    b = [m.action for m in choreograph(ivs, seed=3).moves]
    c = [m.action for m in choreograph(ivs, seed=4).moves]
    assert a == b
    assert a != c
    assert len(set(a)) >= min(10, len(ACTIONS)), "a song uses many different actions"


def test_no_action_twice_in_a_row_without_repeating_music() -> None:
    moves = choreograph(_intervals(200), seed=1).moves
    assert all(m1.action != m2.action for m1, m2 in itertools.pairwise(moves))


def test_repeated_section_reuses_the_earlier_actions_beat_for_beat() -> None:
    ivs = _intervals(48)
    t = [iv.start_s for iv in ivs] + [ivs[-1].end_s]
    sections = (
        Section(t[0], t[16], "A"),
        Section(t[16], t[32], "B"),
        Section(t[32], t[48], "A", repeats=0, lag_s=t[32] - t[0]),
    )
    moves = choreograph(ivs, plan=_plan(ivs, sections), seed=5).moves
    first = [(m.action, m.intensity) for m in moves[:16]]
    again = [(m.action, m.intensity) for m in moves[32:48]]
    assert first == again
    assert all(m.reason == "repeat" for m in moves[32:48])
    assert [m.action for m in moves[16:32]] != [m.action for m in moves[:16]]


def test_loud_music_picks_more_energetic_actions_than_quiet_music() -> None:
    energy = {a.name: a.energy for a in ACTIONS}
    quiet = choreograph(_intervals(120, rms_db=-34.0), seed=2).moves
    loud = choreograph(_intervals(120, rms_db=-8.0), seed=2).moves
    mean_quiet = np.mean([energy[m.action] for m in quiet])
    mean_loud = np.mean([energy[m.action] for m in loud])
    assert mean_loud > mean_quiet + 0.15
    assert np.mean([m.intensity for m in loud]) > np.mean([m.intensity for m in quiet])


def test_actions_are_time_warped_to_their_interval() -> None:
    ivs = [BeatInterval(0.0, 0.4, -15, 1500), BeatInterval(0.4, 1.4, -15, 1500)]
    ch = choreograph(ivs, seed=0)
    for move in ch.moves:
        action = action_by_name(move.action)
        mid = (move.start_s + move.end_s) / 2  # past the blend window: the action itself
        expected = action.pose(0.5, move.intensity, ch.body)
        assert np.allclose(ch.pose_at(mid), expected, atol=1e-6)


def test_poses_are_continuous_across_transitions() -> None:
    rng = np.random.default_rng(7)
    ivs = _intervals(120, rms_db=list(rng.uniform(-30, -6, 120)), centroid_hz=2500.0)
    ch = choreograph(ivs, seed=9)
    eps = 1 / 240
    for move in ch.moves:
        before, after = ch.pose_at(move.start_s - eps), ch.pose_at(move.start_s + eps)
        step = np.abs(after[:, :2] - before[:, :2]).max()
        assert step < 0.02, f"jump of {step:.3f} frame heights entering {move.action}"
    frames = np.array([ch.pose_at(t) for t in np.arange(0.0, ivs[-1].end_s + 1.0, 1 / 30)])
    per_frame = np.abs(np.diff(frames[:, :, :2], axis=0)).max()
    assert per_frame < 0.15, f"a keypoint moved {per_frame:.3f} frame heights in one 30 fps frame"


def test_idle_before_and_after_the_music_still_breathes() -> None:
    ch = choreograph(_intervals(8), seed=0)
    a, b = ch.pose_at(0.0), ch.pose_at(0.9)
    assert 0 < np.abs(a - b).max() < 0.02
    end = ch.moves[-1].end_s
    assert np.abs(ch.pose_at(end + 2.0) - ch.pose_at(end + 3.0)).max() < 0.02


def test_operator_can_force_the_next_action() -> None:
    ch = Choreographer(seed=0)
    name = ACTIONS[-1].name
    ch.force_next(name)
    move = ch.add_interval(BeatInterval(0, 0.5, -15, 1500))
    assert move.action == name and move.reason == "forced"
    with pytest.raises(KeyError):
        ch.force_next("moonwalk_on_the_ceiling")


def test_repeat_from_dances_the_earlier_move_again_once_and_forcing_wins() -> None:
    choreographer = Choreographer(seed=5)
    intervals = _intervals(12)
    for interval in intervals[:8]:
        choreographer.add_interval(interval)
    first = choreographer.moves
    choreographer.repeat_from(intervals[2].start_s + 0.1)  # a predicted time, slightly off
    again = choreographer.add_interval(intervals[8])
    assert (again.action, again.intensity, again.reason) == (
        first[2].action,
        first[2].intensity,
        "repeat",
    )
    assert choreographer.add_interval(intervals[9]).reason == "music"  # only the next interval
    choreographer.repeat_from(intervals[3].start_s)
    choreographer.force_next("clap")
    assert choreographer.add_interval(intervals[10]).reason == "forced"
    choreographer.repeat_from(-100.0)  # nothing danced there: the music decides
    assert choreographer.add_interval(intervals[11]).reason == "music"


def test_the_song_plans_downbeats_get_the_accent() -> None:
    """The move on each bar's first beat swings wider than the rest of its bar."""
    ivs = _intervals(32)
    plan = replace(_plan(ivs, ()), downbeat_times_s=tuple(iv.start_s for iv in ivs[1::4]))
    moves = choreograph(ivs, plan=plan, seed=1).moves
    ones = [m.intensity for m in moves[1::4]]
    rest = [m.intensity for i, m in enumerate(moves) if i % 4 != 1]
    assert min(ones) > 1.1 * max(rest), (ones, rest)
    plain = choreograph(ivs, plan=_plan(ivs, ()), seed=1).moves
    assert max(m.intensity for m in plain) == max(rest)
