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
from livedance.audio.beats import BeatEvent, BeatTracker
from livedance.audio.io import write_wav
from livedance.audio.synth import synth_song
from livedance.audio.tempo import PulseEstimate
from livedance.audio.temporange import TempoRange

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
    # each beat is handed out in the hop it falls in (a phase correction may move the grid a
    # fraction of a millisecond back across a hop boundary after the hop was processed)
    assert np.all(delay <= 256 / SR + 1e-3), np.round(delay, 4)
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
    track = BeatTracker(SR, tempo=TempoRange(50.0, 100.0)).process_signal(mono)
    assert track.beats
    assert all(b.bpm <= 100.0 for b in track.beats)
    assert track.bpm == pytest.approx(64.0, rel=0.02)  # the half-time level, not some other
    track = BeatTracker(SR, tempo=TempoRange(150.0, 300.0)).process_signal(mono)
    assert all(b.bpm >= 150.0 for b in track.beats)
    assert track.bpm == pytest.approx(256.0, rel=0.02)
    with pytest.raises(ValueError, match="tempo range"):
        TempoRange(120.0, 90.0)


def _locked(bpm: float = 124.0, until_s: float = 3.0) -> BeatClock:
    """A clock tracking audio at ``bpm`` (beats on the grid from 0) up to ``until_s``."""
    clock = BeatClock(tempo=TempoRange(60.0, 180.0))
    _feed(clock, bpm, 0.0, until_s)
    assert clock.state == "tracking" and clock.bpm == pytest.approx(bpm, rel=0.01)
    return clock


def _feed(clock: BeatClock, bpm: float, t0_s: float, t1_s: float) -> list[float]:
    """Estimates of audio at ``bpm`` every 50 ms; the beats the clock hands out meanwhile."""
    period_s = 60.0 / bpm
    beats: list[float] = []
    for now in np.arange(t0_s, t1_s, 0.05):
        beat = period_s * np.floor(now / period_s)
        clock.update(PulseEstimate(time_s=now, period_s=period_s, beat_s=beat, strength=0.6), now)
        beats += clock.beats_until(now)
    return beats


def test_a_tempo_outside_the_range_is_folded_into_it_and_never_raises() -> None:
    """OSC allows 30..300 BPM; a clock following 60..180 holds 200 as 100 (every other beat)."""
    clock = _locked()
    assert clock.set_tempo(200.0) == pytest.approx(100.0)
    assert clock.state == "manual" and clock.bpm == pytest.approx(100.0)
    assert clock.set_tempo(400.0) == pytest.approx(100.0)
    assert clock.set_tempo(45.0) == pytest.approx(90.0)
    assert clock.set_tempo(float("nan")) is None and clock.bpm == pytest.approx(90.0)
    assert TempoRange(100.0, 150.0).fold(210.0) == pytest.approx(105.0)
    assert TempoRange(100.0, 120.0).fold(250.0) == pytest.approx(120.0)  # no octave fits: clamped


def test_a_held_tempo_ends_on_release_after_its_time_and_when_the_music_stops() -> None:
    clock = _locked()
    clock.set_tempo(100.0)  # one OSC /livedance/tempo 100 on a 124 BPM song
    _feed(clock, 124.0, 3.0, 8.0)
    assert clock.state == "manual" and clock.bpm == pytest.approx(100.0), "held meanwhile"
    clock.release()
    _feed(clock, 124.0, 8.0, 12.0)
    assert clock.state == "tracking" and clock.bpm == pytest.approx(124.0, rel=0.01)

    clock.set_tempo(100.0)
    assert clock.held_until_s == pytest.approx(12.0 - 0.05 + clock.hold_s, abs=0.06)
    _feed(clock, 124.0, 12.0, 12.0 + clock.hold_s + 3.0)
    assert clock.state == "tracking", "the hold timed out and the audio took over again"
    assert clock.bpm == pytest.approx(124.0, rel=0.01)

    clock.set_tempo(100.0)
    clock.stop(50.0)  # silence
    assert clock.is_idle, "a held tempo does not keep the dancer dancing through silence"
    assert clock.held_until_s is None


def test_held_tempo_beats_come_at_the_tempo_the_clock_says() -> None:
    """Held at 128 on 124 BPM audio (3 % apart), the beats must come at 128, as the HUD and the
    OSC output say, not drift to the audio's 124 through phase corrections."""
    clock = _locked()
    clock.set_tempo(128.0)
    beats = _feed(clock, 124.0, 3.0, 13.0)
    spacing = np.diff(beats)
    assert len(spacing) > 15
    assert np.allclose(spacing, 60.0 / 128.0, atol=1e-6), np.round(spacing, 4)
    assert clock.bpm == pytest.approx(128.0)


def test_an_operator_tempo_set_while_the_analysis_thread_steers_is_not_lost() -> None:
    """The analysis thread is inside `update` (paused as it follows the estimate, the clock's
    state already read) when the show thread sets a tempo: the tempo must hold afterwards, not be
    overwritten by the stale update."""
    import threading

    clock = _locked()
    inside, go = threading.Event(), threading.Event()
    reads = []

    class SlowEstimate:
        time_s, beat_s, strength = 3.05, 3.0 - 3.0 % (60 / 124), 0.6

        @property
        def period_s(self) -> float:
            reads.append(1)
            if len(reads) == 2:  # the second read: the phase-locked loop's tempo step
                inside.set()
                go.wait(5.0)
            return 60.0 / 124.0

        @property
        def bpm(self) -> float:
            return 124.0

    analysis = threading.Thread(target=clock.update, args=(SlowEstimate(), 3.05))
    analysis.start()
    assert inside.wait(5.0)
    show = threading.Thread(target=clock.set_tempo, args=(100.0,))
    show.start()
    show.join(0.2)  # with the lock it waits for the update; without one it is already done
    go.set()
    analysis.join(5.0)
    show.join(5.0)
    assert clock.state == "manual" and clock.bpm == pytest.approx(100.0)


def test_align_and_nudge_shift_the_grid_and_release_hands_back_to_the_audio() -> None:
    clock = BeatClock()
    clock.align(5.0)
    assert clock.is_idle, "no tempo yet: a lone tap aligns nothing"
    clock.set_tempo(120.0, beat_s=0.0)
    clock.nudge(0.5)  # the dancer was on the off-beat
    assert clock.next_beat_s(0.1) == pytest.approx(0.25)
    assert clock.phase(0.25) == pytest.approx(0.0, abs=1e-9)
    assert clock.phase(0.5) == pytest.approx(0.5)
    clock.align(0.6)  # a tap: a beat is at 0.6 s
    assert clock.next_beat_s(0.55) == pytest.approx(0.6)
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


def test_cli_prints_the_beats_the_live_stage_dances_decided_before_they_fall(
    tmp_path: Path,
) -> None:
    from livedance.show.stage import dance_causally

    song = synth_song(bpm=120, form="AB", bars_per_section=2, seed=31)
    wav = tmp_path / "song.wav"
    write_wav(wav, song.audio)
    out = tmp_path / "beats.json"
    proc = run_cli("beats", str(wav), "--causal", "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    printed = [float(line) for line in proc.stdout.split()]
    data = json.loads(out.read_text())
    assert printed == pytest.approx([b["time_s"] for b in data["beats"]], abs=1e-3)
    # each beat is where the stage started a move, decided from the audio heard before it fell
    # (but perhaps the first, found while the clock locked)
    early = [b["decided_s"] <= b["time_s"] for b in data["beats"]]
    assert sum(early) >= len(early) - 1 and len(early) >= 8
    # the same stage run in-process gives the same beats, and they are the song's beats
    expected = [m.move.start_s for m in dance_causally(song.audio.mono(), SR).moves]
    assert printed == pytest.approx(expected, abs=1e-3)
    during = [t for t in printed if t <= song.beat_times_s[-1] + 0.1]  # it coasts a little after
    errors = _errors_s(during, song.beat_times_s)
    assert np.median(errors) < 0.02 and np.mean(errors < TOLERANCE_S) > 0.9, errors
    assert float(proc.stderr.split(" bpm")[0].split()[-1]) == pytest.approx(120.0, rel=0.02)


def test_cli_refuses_bad_input_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio at all")
    proc = run_cli("beats", str(bad), "--causal")
    assert proc.returncode != 0
    assert proc.stderr.strip().count("\n") == 0 and "livedance: error:" in proc.stderr
    proc = run_cli("beats", str(bad), "--causal", "--min-bpm", "150", "--max-bpm", "100")
    assert proc.returncode == 2 and "min" in proc.stderr


def test_double_and_half_tempo_keep_the_beat_and_refuse_what_the_range_cannot_hold() -> None:
    """A DJ's half/double: the tracker counts drum and bass at 87; doubled, the clock holds 174
    with the latest beat still on its grid (every old beat is a new one)."""
    clock = BeatClock(tempo=TempoRange(60.0, 180.0))
    _feed(clock, 87.0, 0.0, 3.0)
    old = clock.beats_between(3.0, 6.0)
    assert clock.scale_tempo(2.0) == pytest.approx(174.0, rel=0.01)
    assert clock.state == "manual" and clock.bpm == pytest.approx(174.0, rel=0.01)
    new = clock.beats_between(3.0, 6.0)
    assert all(np.min(np.abs(np.array(new) - b)) < 1e-6 for b in old), (old, new)
    assert len(new) == pytest.approx(2 * len(old), abs=1)
    assert clock.scale_tempo(2.0) is None and clock.bpm == pytest.approx(174.0, rel=0.01)
    assert clock.scale_tempo(0.5) == pytest.approx(87.0, rel=0.01)
    assert BeatClock().scale_tempo(2.0) is None  # idle: no tempo to double
