"""The live beat tracker and its beat clock: lock, prediction, recovery, tap tempo, idle.

Songs are synthesized with known beats (`livedance.audio.synth`) and fed hop by hop, as on stage.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from conftest import run_cli

from livedance.audio.beatclock import BeatClock
from livedance.audio.beats import BeatEvent, BeatTracker, track_beats
from livedance.audio.io import write_wav
from livedance.audio.synth import synth_song
from livedance.audio.tempo import PulseEstimate

SR = 44100
TOLERANCE_S = 0.07  # mir_eval's F-measure window


def _song(bpm: float, seed: int, bars: int = 4) -> tuple[npt.NDArray[np.float32], np.ndarray]:
    song = synth_song(bpm=bpm, form="AB", bars_per_section=bars, seed=seed)
    return song.audio.mono(), song.beat_times_s


def _run(
    tracker: BeatTracker,
    mono: npt.NDArray[np.float32],
    on_hop: object = None,
) -> list[BeatEvent]:
    """Feed ``mono`` hop by hop; ``on_hop(now_s)`` is called after each hop."""
    hop = tracker.hop_samples
    events = []
    for i in range(len(mono) // hop):
        event = tracker.process(mono[i * hop : (i + 1) * hop])
        if event is not None:
            events.append(event)
        if callable(on_hop):
            on_hop(tracker.time_s)
    return events


def _errors_s(beats_s: list[float], truth_s: np.ndarray) -> np.ndarray:
    """Distance of each beat to the nearest true beat."""
    beats = np.asarray(beats_s)
    return np.abs(beats[:, None] - truth_s[None, :]).min(axis=1)


@pytest.mark.parametrize(("bpm", "seed"), [(96, 21), (124, 22), (150, 23)])
def test_locks_on_the_beat_within_four_seconds(bpm: float, seed: int) -> None:
    mono, truth = _song(bpm, seed)
    events = _run(BeatTracker(SR), mono)
    assert events, "no beat at all"
    assert events[0].time_s - truth[0] < 4.0, f"first beat only at {events[0].time_s:.1f} s"
    during = [e.time_s for e in events if e.time_s <= truth[-1] + 0.1]
    errors = _errors_s(during, truth)
    assert np.all(errors < TOLERANCE_S), f"off-beat beats: {np.round(errors, 3)}"
    assert events[-1].time_s < truth[-1] + 2.0, "the dancer stops soon after the music"
    # every true beat from the lock to the end of the music gets one
    covered = truth[(truth >= events[0].time_s) & (truth <= truth[-1] - 0.1)]
    assert len(during) >= len(covered) - 1
    assert abs(np.median([e.bpm for e in events[4:]]) - bpm) / bpm < 0.02


def test_beats_are_handed_out_when_they_happen_not_a_delay_later() -> None:
    mono, truth = _song(110, 24)
    events = _run(BeatTracker(SR), mono)
    delay = np.array([e.declared_s - e.time_s for e in events])
    assert np.all(delay >= 0), "a beat is never handed out before its time"
    assert np.all(delay <= 256 / SR + 1e-9), "each beat is handed out in the hop it falls in"
    times = np.array([e.time_s for e in events])
    nearest = truth[np.abs(times[:, None] - truth[None, :]).argmin(axis=1)]
    errors = times - nearest
    assert abs(float(np.median(errors))) < 0.02


def test_clock_predicts_the_next_beat_ahead_of_time() -> None:
    mono, truth = _song(118, 25)
    tracker = BeatTracker(SR)
    lead_s = 0.15  # a renderer drawing 150 ms ahead
    queries = list(truth[truth > 6.0] - lead_s)
    predictions: list[tuple[float, float]] = []

    def ask(now_s: float) -> None:
        while queries and queries[0] <= now_s:
            predicted = tracker.clock.next_beat_s(now_s)
            assert predicted is not None
            predictions.append((queries.pop(0) + lead_s, predicted))

    _run(tracker, mono, ask)
    error = np.array([p - t for t, p in predictions])
    assert len(error) > 20
    assert np.median(np.abs(error)) < 0.015
    assert np.max(np.abs(error)) < 0.04
    assert tracker.clock.phase(truth[-3] + 0.001) < 0.05 or tracker.clock.phase(truth[-3]) > 0.95


def test_goes_idle_in_silence_and_recovers_after_a_four_second_break() -> None:
    first, truth_a = _song(112, 26)
    second, truth_b = _song(112, 27)
    gap = np.zeros(int(4.0 * SR), np.float32)  # digital silence: aubio's own tracker stalls
    mono = np.concatenate([first, gap, second])
    offset_s = (len(first) + len(gap)) / SR
    end_a_s = truth_a[-1] + 0.6  # the last notes ring a little
    idle_seen: list[bool] = []

    def watch(now_s: float) -> None:
        if end_a_s + 1.5 < now_s < offset_s:
            idle_seen.append(tracker.clock.is_idle)
            assert tracker.clock.next_beat_s(now_s) is None

    tracker = BeatTracker(SR)
    events = _run(tracker, mono, watch)
    times = np.array([e.time_s for e in events])
    assert idle_seen and all(idle_seen), "the clock must idle while the music is silent"
    assert not np.any((times > end_a_s + 1.5) & (times < offset_s)), "no beats in silence"
    after = times[times >= offset_s]
    assert len(after) > 0 and after[0] - offset_s < 4.0, "re-lock within 4 s of the music"
    truth_after = truth_b + offset_s
    errors = _errors_s(list(after), truth_after)
    assert np.mean(errors < TOLERANCE_S) >= 0.95


def test_follows_a_sudden_tempo_change() -> None:
    slow, truth_a = _song(100, 28)
    fast, truth_b = _song(132, 29, bars=6)
    cut = int((truth_a[-1] - 0.02) * SR)  # a hard cut on the last beat, like a DJ
    mono = np.concatenate([slow[:cut], fast])
    offset_s = cut / SR
    events = _run(BeatTracker(SR), mono)
    late = [e for e in events if offset_s + 6.0 < e.time_s <= offset_s + truth_b[-1]]
    assert len(late) > 8
    assert all(abs(e.bpm - 132) < 3 for e in late), [round(e.bpm, 1) for e in late]
    errors = _errors_s([e.time_s for e in late], truth_b + offset_s)
    assert np.all(errors < TOLERANCE_S)


def test_tempo_range_limits_are_respected() -> None:
    mono, _ = _song(128, 30)
    track = BeatTracker(SR, max_bpm=100.0).process_signal(mono)
    assert track.beats
    assert all(b.bpm <= 100.0 for b in track.beats)
    assert track.bpm == pytest.approx(64.0, rel=0.02)  # the half-time level, not some other
    track = BeatTracker(SR, min_bpm=150.0, max_bpm=300.0).process_signal(mono)
    assert all(b.bpm >= 150.0 for b in track.beats)
    assert track.bpm == pytest.approx(256.0, rel=0.02)
    with pytest.raises(ValueError, match="tempo range"):
        BeatTracker(SR, min_bpm=120.0, max_bpm=90.0)


def test_tap_tempo_sets_the_clock() -> None:
    clock = BeatClock()
    assert clock.is_idle and clock.next_beat_s(0.0) is None
    for t in (10.0, 10.5, 11.02, 11.48, 12.0):  # sloppy taps at 120 BPM
        clock.tap(t)
    assert clock.state == "manual"
    assert clock.bpm == pytest.approx(120.0, rel=0.01)
    assert clock.next_beat_s(12.1) == pytest.approx(12.5, abs=0.02)
    assert clock.beats_between(12.1, 13.6) == pytest.approx([12.5, 13.0, 13.5], abs=0.02)
    clock.stop(12.2)
    assert not clock.is_idle, "silence does not stop a tempo the operator set"
    clock.tap(20.0)  # a new series after a pause restarts the count
    assert clock.bpm == pytest.approx(120.0, rel=0.01)
    clock.tap(20.25)  # 240 BPM: outside the clock's range, ignored
    assert clock.bpm == pytest.approx(120.0, rel=0.01)
    clock.set_tempo(90.0, beat_s=30.0)
    assert clock.next_beat_s(30.1) == pytest.approx(30.0 + 60 / 90)
    with pytest.raises(ValueError, match="outside"):
        clock.set_tempo(400.0)


def test_nudge_shifts_the_grid_and_release_hands_back_to_the_audio() -> None:
    clock = BeatClock()
    clock.set_tempo(120.0, beat_s=0.0)
    clock.nudge(0.5)  # the dancer was on the off-beat
    assert clock.next_beat_s(0.1) == pytest.approx(0.25)
    assert clock.phase(0.25) == pytest.approx(0.0, abs=1e-9)
    assert clock.phase(0.5) == pytest.approx(0.5)
    clock.release()
    assert clock.state == "tracking"
    # audio that disagrees for long enough takes over once released
    for i in range(60):
        now = 1.0 + 0.05 * i
        beat = 0.4 * np.floor(now / 0.4)
        clock.update(PulseEstimate(time_s=now, period_s=0.4, beat_s=beat, strength=0.6), now)
    assert clock.bpm == pytest.approx(150.0, rel=0.02)
    assert clock.next_beat_s(4.01) == pytest.approx(4.4)


def test_manual_tempo_keeps_its_tempo_against_disagreeing_audio() -> None:
    clock = BeatClock()
    clock.set_tempo(100.0, beat_s=0.0)
    for i in range(80):
        now = 1.0 + 0.05 * i
        clock.update(PulseEstimate(time_s=now, period_s=0.4, beat_s=now, strength=0.6), now)
    assert clock.bpm == pytest.approx(100.0)
    assert clock.state == "manual"


def test_cli_prints_the_causal_beats_as_the_tracker_declares_them(tmp_path: Path) -> None:
    song = synth_song(bpm=120, form="AB", bars_per_section=2, seed=31)
    wav = tmp_path / "song.wav"
    write_wav(wav, song.audio)
    out = tmp_path / "beats.json"
    proc = run_cli("beats", str(wav), "--causal", "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    printed = [float(line) for line in proc.stdout.split()]
    data = json.loads(out.read_text())
    assert printed == pytest.approx([b["time_s"] for b in data["beats"]], abs=1e-3)
    assert all(b["declared_s"] >= b["time_s"] for b in data["beats"])
    # the same file processed in one call gives the same beats
    expected = track_beats(song.audio.mono(), SR).beat_times_s
    assert printed == pytest.approx(list(expected), abs=1e-3)
    assert float(proc.stderr.split(" bpm")[0].split()[-1]) == pytest.approx(120.0, rel=0.02)


def test_cli_refuses_bad_input_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio at all")
    proc = run_cli("beats", str(bad), "--causal")
    assert proc.returncode != 0
    assert proc.stderr.strip().count("\n") == 0 and "livedance: error:" in proc.stderr
    proc = run_cli("beats", str(bad), "--causal", "--min-bpm", "150", "--max-bpm", "100")
    assert proc.returncode == 2 and "min" in proc.stderr
