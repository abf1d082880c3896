"""Song analysis on synthesized songs with known truth, real files, bad input and the CLI."""

from __future__ import annotations

import functools
import itertools
import json
from pathlib import Path

import mir_eval
import numpy as np
import pytest

from livedance.audio.composer import ComposedSong, compose_song
from livedance.audio.io import Audio, write_wav
from livedance.cli import main
from livedance.errors import LivedanceError
from livedance.songplan import SongPlan
from offline.analysis import ANALYSIS_VERSION, analyze_audio, analyze_file

SR = 22050
MUSIC = Path(__file__).resolve().parents[2] / "shared" / "data" / "music"


@functools.cache
def _song(**kwargs: object) -> ComposedSong:
    if "key_shift" in kwargs:  # a tuple of pairs here, so the case can be a cache key
        kwargs["key_shift"] = dict(kwargs["key_shift"])  # type: ignore[call-overload]
    return compose_song(sr=SR, bars_per_section=4, **kwargs)  # type: ignore[arg-type]


@functools.cache
def _plan(**kwargs: object) -> SongPlan:
    return analyze_audio(_song(**kwargs).audio, sha256="synth")


def _true_repeats(song: ComposedSong) -> list[tuple[float, float]]:
    """(start, lag to the first section with the same label) of every true repeat."""
    first: dict[str, float] = {}
    out = []
    for start, _, label in song.sections:
        if label in first:
            out.append((start, start - first[label]))
        else:
            first[label] = start
    return out


BEAT_CASES = [
    {"bpm": 70.0, "form": "ABACB", "seed": 2},
    {"bpm": 178.0, "form": "ABACB", "seed": 3},
    {"bpm": 100.0, "bpm_end": 125.0, "form": "AABAB", "seed": 11},
    {"bpm": 140.0, "bpm_end": 110.0, "form": "ABACB", "seed": 5},
    {"bpm": 112.0, "form": "ABACB", "seed": 8, "drums": False},
    # fast rock whose kicks alone read as a 90 BPM pulse (snares half way between): half time
    {"bpm": 179.5, "form": "ABCAB", "seed": 103},
]


@pytest.mark.parametrize("case", BEAT_CASES, ids=lambda c: f"{c['bpm']:.0f}bpm-{c.get('bpm_end')}")
def test_beats_match_the_truth(case: dict) -> None:
    song, plan = _song(**case), _plan(**case)
    f = mir_eval.beat.f_measure(
        mir_eval.beat.trim_beats(song.beat_times_s),
        mir_eval.beat.trim_beats(np.asarray(plan.beat_times_s)),
    )
    assert f >= 0.95, f"beat F-measure {f:.3f}"
    # on the beat, not a frame of the onset envelope late (15-22 ms before the plan took the
    # live tracker's phase): the dancer lands on the accent (the learned guide lags the
    # 100-125 BPM ramp a little more than the handcrafted one: 13.3 ms, against under 12)
    est = np.asarray(plan.beat_times_s)
    d = np.abs(est[:, None] - song.beat_times_s[None, :]).min(axis=1)
    assert np.median(d[d <= 0.07]) < 0.015, f"median phase error {np.median(d[d <= 0.07]):.4f} s"
    assert plan.source == "librosa"
    true_bpm = float(np.median(60.0 / np.diff(song.beat_times_s)))
    assert abs(plan.tempo_bpm - true_bpm) / true_bpm < 0.08


SECTION_CASES = [
    {"bpm": 172.0, "form": "ABACB", "seed": 12},
    {"bpm": 100.0, "bpm_end": 125.0, "form": "AABAB", "seed": 11},
    {"bpm": 110.0, "form": "ABACB", "seed": 3, "key_shift": ((4, 2),)},
    # A B returning as one piece (nothing but C's length says where A ends), a slow song, and a
    # tempo ramp under A B A B C B (drawn like the benchmark's held-out songs)
    {"bpm": 103.0, "form": "ABCAB", "seed": 303},
    {"bpm": 70.6, "form": "ABACB", "seed": 305},
    {"bpm": 157.7, "bpm_end": 134.0, "form": "ABABCB", "seed": 307},
    {"bpm": 179.5, "form": "ABCAB", "seed": 103},
]


@pytest.mark.parametrize("case", SECTION_CASES, ids=lambda c: c["form"] + str(c["seed"]))
def test_every_true_repeat_is_found_with_its_lag(case: dict) -> None:
    song, plan = _song(**case), _plan(**case)
    assert plan.sections[0].start_s == plan.beat_times_s[0]
    assert plan.sections[-1].end_s == pytest.approx(plan.beat_times_s[-1], abs=1e-3)
    for start_s, lag_s in _true_repeats(song):
        found = [
            s
            for s in plan.sections
            if abs(s.start_s - start_s) <= 0.5 and s.repeats is not None
            and abs((s.lag_s or 0.0) - lag_s) <= 0.5
        ]  # fmt: skip
        assert found, f"repeat at {start_s:.2f} s (lag {lag_s:.2f} s) not found: {plan.sections}"


@pytest.mark.parametrize("case", SECTION_CASES[:2], ids=lambda c: c["form"] + str(c["seed"]))
def test_section_boundaries_within_half_a_second(case: dict) -> None:
    song, plan = _song(**case), _plan(**case)
    ref = np.array([[a, b] for a, b, _ in song.sections])
    est = np.array([[s.start_s, s.end_s] for s in plan.sections])
    precision, recall, _ = mir_eval.segment.detection(ref, est, window=0.5, trim=True)
    assert recall == 1.0 and precision == 1.0, (precision, recall, plan.sections)
    labels = "".join(s.label for s in plan.sections)
    assert labels == case["form"]


def test_key_shifted_repeat_reports_its_shift() -> None:
    case = SECTION_CASES[2]
    plan = _plan(**case)
    last = plan.sections[-1]
    index = plan.sections.index(last)
    assert last.repeats is not None
    assert plan.extra["section_key_shifts"][index] == 2


def test_a_returning_pair_of_sections_is_cut_at_the_length_of_the_one_between() -> None:
    """A B C A B of 16 beats each: one line says beats 48-80 repeat 0-32; C gives the length."""
    from offline.analysis.lines import RepeatLine
    from offline.analysis.sections import build_sections

    line = RepeatLine(start_beat=48, end_beat=80, lag_beats=48, shift=0, strength=0.2,
                      similarity=0.99)  # fmt: skip
    found = build_sections([line], n_beats=80, min_section_beats=14)
    assert [(s.start_beat, s.end_beat, s.label) for s in found] == [
        (0, 16, "A"), (16, 32, "B"), (32, 48, "C"), (48, 64, "A"), (64, 80, "B")
    ]  # fmt: skip
    assert [s.repeats for s in found] == [None, None, None, 0, 1]


def test_a_song_without_repeats_has_none() -> None:
    plan = _plan(bpm=160.0, form="ABCD", seed=9)
    assert all(s.repeats is None for s in plan.sections)


def test_beat_intervals_carry_loudness_and_brightness() -> None:
    plan = _plan(**BEAT_CASES[0])
    assert len(plan.intervals) == len(plan.beat_times_s) - 1
    for interval, (t0, t1) in zip(
        plan.intervals, itertools.pairwise(plan.beat_times_s), strict=True
    ):
        assert (interval.start_s, interval.end_s) == (t0, t1)
        assert -60.0 < interval.rms_db < 0.0
        assert 50.0 < interval.centroid_hz < SR / 2


def test_downbeats_fall_on_bars() -> None:
    song, plan = _song(**BEAT_CASES[0]), _plan(**BEAT_CASES[0])
    f = mir_eval.beat.f_measure(song.downbeat_times_s, np.asarray(plan.downbeat_times_s))
    assert f >= 0.9


def test_silence_gives_a_default_grid_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    silent = Audio(np.zeros((SR * 10, 2), np.float32), SR)
    plan = analyze_audio(silent, sha256="0" * 64)
    assert plan.tempo_bpm == 120.0
    assert len(plan.beat_times_s) >= 19
    assert plan.extra["warnings"] and "silent" in plan.extra["warnings"][0]
    assert any("silent" in r.message for r in caplog.records)
    assert plan.sections and plan.sections[0].repeats is None


def test_file_cache_round_trip_and_no_cache(tmp_path: Path) -> None:
    wav = tmp_path / "song.wav"
    write_wav(wav, _song(**SECTION_CASES[0]).audio)
    cache = tmp_path / "cache"
    plan = analyze_file(wav, cache_dir=cache)
    cached = list(cache.glob("*.json"))
    assert len(cached) == 1 and cached[0].stem == plan.audio.sha256
    assert plan.extra["analysis_version"] == ANALYSIS_VERSION
    again = analyze_file(wav, cache_dir=cache)
    assert again == plan
    # A plan from another analysis version is recomputed, not trusted.
    stale = json.loads(cached[0].read_text())
    stale["tempo_bpm"], stale["extra"]["analysis_version"] = 1.0, "0"
    cached[0].write_text(json.dumps(stale))
    assert analyze_file(wav, cache_dir=cache).tempo_bpm == plan.tempo_bpm
    assert analyze_file(wav, use_cache=False, cache_dir=tmp_path / "none") == plan
    assert not (tmp_path / "none").exists()
    # A damaged plan of this version (negative, unordered beats) is analysed again, not printed.
    damaged = json.loads(cached[0].read_text())
    damaged["beat_times_s"][:3] = [-1.0, 5.0, 2.0]
    cached[0].write_text(json.dumps(damaged))
    assert analyze_file(wav, cache_dir=cache) == plan
    assert json.loads(cached[0].read_text())["beat_times_s"] == list(plan.beat_times_s)


def test_bad_files_give_clear_errors(tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.ogg"
    corrupt.write_bytes(b"OggS" + bytes(range(256)) * 8)
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    for path in (corrupt, empty, tmp_path / "missing.mp3", tmp_path):
        with pytest.raises(LivedanceError):
            analyze_file(path, cache_dir=tmp_path / "cache")


def test_cli_analyze_prints_summary_and_writes_json_and_plot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("matplotlib")
    wav = tmp_path / "song.wav"
    write_wav(wav, _song(**SECTION_CASES[0]).audio)
    out, png = tmp_path / "plan.json", tmp_path / "plan.png"
    assert main(["analyze", str(wav), "--json", str(out), "--plot", str(png), "--no-cache"]) == 0
    text = capsys.readouterr().out
    assert "BPM" in text and "repeats A" in text and "bars ?" not in text
    plan = SongPlan.load(out)
    assert plan.sections and plan.audio.sample_rate == SR
    assert png.stat().st_size > 10_000


def test_cli_analyze_bad_file_is_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.flac"
    bad.write_bytes(b"not audio at all")
    assert main(["analyze", str(bad), "--no-cache"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("livedance: error:") and "\n" not in err


@pytest.mark.skipif(not MUSIC.is_dir(), reason="shared/data/music is not here")
def test_real_song_analyses_sanely() -> None:
    path = MUSIC / "admiralbob77_-_Choice_-_Drum-bass.ogg"
    plan = analyze_file(path, use_cache=False)
    # librosa's documented 136 BPM for this excerpt, or the half-time 68 the live stage follows
    # with either activation: the plan doubles only a level the live stage held (a 70.6 BPM
    # ballad with the same busy half-way points and the same librosa reading of twice its
    # tempo is truly 70.6)
    assert any(abs(plan.tempo_bpm - bpm) < 4.0 for bpm in (136.0, 68.0)), plan.tempo_bpm
    assert plan.audio.channels == 2 and plan.audio.sample_rate == 44100


def test_the_demo_song_reads_as_written() -> None:
    """The demo `play --demo` dances to: 120 BPM, A B A C B of 16 s each; both true repeats are
    found with their lags (C's two identical 8-s halves may read as C C')."""
    from livedance.audio.composer import demo_song

    song = demo_song(sr=SR)
    plan = analyze_audio(song.audio, sha256="demo")
    assert abs(plan.tempo_bpm - 120.0) < 1.0
    repeats = [(s.start_s, s.lag_s) for s in plan.sections if s.repeats is not None]
    for start_s, lag_s in ((32.5, 32.0), (64.5, 48.0)):  # A' and B'
        assert any(abs(a - start_s) <= 0.6 and abs(b - lag_s) <= 0.5 for a, b in repeats), repeats


def _novelty_with_peaks(n_beats: int, peaks: dict[int, float]) -> np.ndarray:
    novelty = np.zeros(n_beats)
    for beat, height in peaks.items():
        novelty[beat] = height
    return novelty


def test_a_cut_inside_a_repeat_needs_a_change_in_the_music() -> None:
    """A B C A B of 16 beats each, "A B" returning as one line: where the novelty has a clear
    peak near the cut at C's length, the cut goes to the peak."""
    from offline.analysis.lines import RepeatLine
    from offline.analysis.sections import build_sections, line_outcomes

    line = RepeatLine(start_beat=48, end_beat=80, lag_beats=48, shift=0, strength=0.2,
                      similarity=0.99)  # fmt: skip
    changes = _novelty_with_peaks(80, {15: 0.9, 32: 1.0, 48: 0.8, 63: 0.9})
    found = build_sections([line], n_beats=80, min_section_beats=14, novelty=changes)
    assert [(s.start_beat, s.label, s.repeats) for s in found] == [
        (0, "A", None), (15, "B", None), (32, "C", None), (48, "A", 0), (63, "B", 1)
    ]  # fmt: skip
    assert line_outcomes([line], found) == [None]


def test_a_stretch_several_lines_repeat_whole_is_not_cut_without_a_change() -> None:
    """X C X X (X 32 beats, C 16): X is twice C's length, but three lines repeat X whole and
    the novelty has no peak half way through X, so X is not cut in two."""
    from offline.analysis.lines import RepeatLine
    from offline.analysis.sections import build_sections, line_outcomes

    lines = [
        RepeatLine(start_beat=s, end_beat=s + 32, lag_beats=lag, shift=0, strength=0.2,
                   similarity=0.99)
        for s, lag in ((48, 48), (80, 80), (80, 32))
    ]  # fmt: skip
    changes = _novelty_with_peaks(112, {32: 1.0, 48: 0.9, 80: 0.8, 100: 0.3})
    found = build_sections(lines, n_beats=112, min_section_beats=14, novelty=changes)
    assert [(s.start_beat, s.end_beat, s.label) for s in found] == [
        (0, 32, "A"), (32, 48, "B"), (48, 80, "A"), (80, 112, "A")
    ]  # fmt: skip
    assert line_outcomes(lines, found) == [None, None, None]
    # without a novelty curve, C's length alone cuts (the rule for songs with no curve)
    assert len(build_sections(lines, n_beats=112, min_section_beats=14)) > 4


def test_a_weak_change_inside_a_repeat_does_not_split_it() -> None:
    """A B A C B with 20-beat sections and a phrase change 8 beats into A: A' stays whole."""
    from offline.analysis.lines import RepeatLine
    from offline.analysis.sections import build_sections, line_outcomes

    lines = [
        RepeatLine(start_beat=40, end_beat=60, lag_beats=40, shift=0, strength=0.2,
                   similarity=0.95),
        RepeatLine(start_beat=80, end_beat=100, lag_beats=60, shift=0, strength=0.2,
                   similarity=0.95),
    ]  # fmt: skip
    changes = _novelty_with_peaks(100, {8: 0.5, 20: 0.9, 40: 1.0, 48: 0.5, 60: 0.9, 80: 0.8})
    found = build_sections(lines, n_beats=100, min_section_beats=14, novelty=changes)
    assert "".join(s.label for s in found) == "ABACB"
    assert [s.repeats for s in found] == [None, None, 0, None, 1]
    assert line_outcomes(lines, found) == [None, None]


def test_a_line_that_shapes_no_section_says_why() -> None:
    from offline.analysis.lines import RepeatLine
    from offline.analysis.sections import BeatSection, line_outcomes

    line = RepeatLine(start_beat=40, end_beat=60, lag_beats=40, shift=0, strength=0.2,
                      similarity=0.95)  # fmt: skip
    one_piece = [BeatSection(0, 100, "A")]
    (why,) = line_outcomes([line], one_piece)
    assert why and "merged" in why
    misaligned = [BeatSection(0, 30, "A"), BeatSection(30, 40, "B"), BeatSection(40, 60, "C"),
                  BeatSection(60, 100, "D")]  # fmt: skip
    (why,) = line_outcomes([line], misaligned)
    assert why and "source" in why


def test_novelty_peaks_at_a_change_of_music() -> None:
    from offline.analysis.selfsim import foote_novelty

    rng = np.random.default_rng(0)
    a, b = rng.random((12, 1)), rng.random((12, 1))
    frames = np.concatenate([np.repeat(a, 40, axis=1), np.repeat(b, 30, axis=1)], axis=1)
    frames += 0.05 * rng.random(frames.shape)
    novelty = foote_novelty(frames, half_width=8)
    assert int(np.argmax(novelty)) == 40
    assert novelty[:20].max() < 0.3 and novelty[60:].max() < 0.3


def test_a_song_without_repeats_gets_sections_from_its_changes() -> None:
    case = {"bpm": 160.0, "form": "ABCD", "seed": 9}
    song, plan = _song(**case), _plan(**case)
    assert all(s.repeats is None for s in plan.sections)
    ref = np.array([[a, b] for a, b, _ in song.sections])
    est = np.array([[s.start_s, s.end_s] for s in plan.sections])
    precision, recall, _ = mir_eval.segment.detection(ref, est, window=3.0, trim=True)
    assert recall >= 2 / 3 and precision >= 2 / 3, plan.sections


def test_downbeats_are_always_filled() -> None:
    for case in SECTION_CASES:
        plan = _plan(**case)
        assert len(plan.downbeat_times_s) >= len(plan.beat_times_s) // 4 - 1


@pytest.mark.skipif(not MUSIC.is_dir(), reason="shared/data/music is not here")
def test_a_repeat_of_real_recordings_is_found_with_its_lag() -> None:
    """A B A from two real recordings (tempos differ; the beat tracker places the first
    bars' beats differently from the repeat's): A' is found, start and lag within 1 s."""
    from livedance.audio.io import load_audio

    fishin = load_audio(MUSIC / "Karissa_Hobbs_-_Lets_Go_Fishin.ogg")
    vibe = load_audio(MUSIC / "Kevin_MacLeod_-_Vibe_Ace.ogg")
    sr = fishin.sample_rate
    part_a = fishin.samples[10 * sr : 30 * sr]
    part_b = vibe.samples[5 * sr : 21 * sr]
    song = Audio(np.concatenate([part_a, part_b, part_a]), sr)
    plan = analyze_audio(song, sha256="aba")
    assert any(
        s.repeats is not None and abs(s.start_s - 36.0) <= 1.0 and abs((s.lag_s or 0) - 36.0) <= 1.0
        for s in plan.sections
    ), plan.sections
    assert len(plan.downbeat_times_s) >= len(plan.beat_times_s) // 4 - 1


@pytest.mark.skipif(not MUSIC.is_dir(), reason="shared/data/music is not here")
def test_repeats_of_real_recordings_are_found_when_the_plan_dances_at_half_the_pulse() -> None:
    """A B A C B from three real recordings, whose beats the plan follows at about 85 BPM with
    onsets half way between them too weak to call it half time (issue 17): both repeats are
    found, start and lag within 1 s (on the plan's beats alone the return of A was not)."""
    from livedance.audio.io import load_audio

    def part(name: str, start_s: int, length_s: int) -> np.ndarray:
        audio = load_audio(MUSIC / name)
        sr = audio.sample_rate
        return audio.samples[start_s * sr : (start_s + length_s) * sr]

    a = part("Karissa_Hobbs_-_Lets_Go_Fishin.ogg", 10, 20)
    b = part("Kevin_MacLeod_-_Vibe_Ace.ogg", 5, 16)
    c = part("admiralbob77_-_Choice_-_Drum-bass.ogg", 2, 12)
    plan = analyze_audio(Audio(np.concatenate([a, b, a, c, b]), 44100), sha256="abacb")
    assert plan.tempo_bpm < 90.0, plan.tempo_bpm  # the level this test is about
    for start_s, lag_s in ((36.0, 36.0), (68.0, 48.0)):
        assert any(
            s.repeats is not None
            and abs(s.start_s - start_s) <= 1.0
            and abs((s.lag_s or 0.0) - lag_s) <= 1.0
            for s in plan.sections
        ), (start_s, plan.sections)


def test_sections_move_from_the_frame_grid_to_the_beats_keeping_their_links() -> None:
    from offline.analysis.sections import BeatSection
    from offline.analysis.structure import to_beats

    beats = np.array([0.0, 0.5, 1.0, 1.5, 2.0, 2.5])
    grid = np.array([0.0, 0.52, 0.55, 1.49, 2.0, 2.5])  # B shrinks to nothing on the beats
    on_grid = [BeatSection(0, 1, "A"), BeatSection(1, 2, "B"),
               BeatSection(2, 3, "A", repeats=0), BeatSection(3, 5, "B", repeats=1, shift=2)]  # fmt: skip
    moved = to_beats(on_grid, grid, beats)
    assert [(s.start_beat, s.end_beat, s.label, s.repeats, s.shift) for s in moved] == [
        (0, 1, "A", None, 0), (1, 3, "A", 0, 0), (3, 5, "B", None, 0)
    ]  # fmt: skip


def test_sections_do_not_depend_on_the_metrical_level_of_the_beats() -> None:
    """The plan may follow a song at half its pulse (the live dancer's level): the structure
    step given every other beat finds the same sections and repeats, within a bar."""
    from offline.analysis.structure import find_structure, song_features

    song = _song(bpm=120.0, form="ABACB", seed=8)
    y = song.audio.mono()
    feats = song_features(y, sr=song.audio.sample_rate)
    beats = np.asarray(song.beat_times_s)

    def found(beat_times_s: np.ndarray) -> list[tuple[float, str, float | None]]:
        structure = find_structure(feats, beat_times_s)
        return [(float(beat_times_s[s.start_beat]), s.label, s.lag_s) for s in structure.sections]

    full, half = found(beats), found(beats[::2])
    assert sum(lag is not None for _, _, lag in full) == 2, full
    bar_s = 4 * 60.0 / 120.0
    assert [label for _, label, _ in half] == [label for _, label, _ in full], (full, half)
    for (t_full, _, lag_full), (t_half, _, lag_half) in zip(full, half, strict=True):
        assert abs(t_full - t_half) <= bar_s
        assert (lag_full is None) == (lag_half is None)
        assert lag_full is None or abs(lag_full - lag_half) <= bar_s  # type: ignore[operator]
