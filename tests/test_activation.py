"""The learned beat activation: the real ONNX network on a real song, the fallback, the CLI flag."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from conftest import run_cli

from livedance.audio import activation as act
from livedance.audio.beats import DEFAULT_HOP, DEFAULT_WIN, NOVELTY_LATENCY_S, BeatTracker
from livedance.audio.composer import compose_song
from livedance.audio.novelty import NoveltyFrontEnd
from livedance.errors import LivedanceError

MODEL = act.default_model_path()
needs_model = pytest.mark.skipif(MODEL is None, reason="models/beatnet.onnx not built")


@needs_model
def test_the_network_peaks_on_the_beats_of_a_song_it_never_heard() -> None:
    """Fed hop by hop, the activation is high on the composed song's beats and low half way
    between them (its off-beat hi-hats and bass notes are onsets too), and its downbeat output
    is higher on the bars' first beats than on the other beats."""
    song = compose_song(bpm=112, form="AB", bars_per_section=4, seed=7)
    mono, sr = song.audio.mono(), song.audio.sample_rate
    front_end = NoveltyFrontEnd(sr, DEFAULT_HOP, DEFAULT_WIN)
    network = act.BeatActivation(MODEL)
    out = []
    for i in range(len(mono) // DEFAULT_HOP):
        front_end.process(np.ascontiguousarray(mono[i * DEFAULT_HOP : (i + 1) * DEFAULT_HOP]))
        out.append(network.process(front_end.features))
    beat, downbeat = np.array(out).T
    rate = sr / DEFAULT_HOP

    def near(times_s: np.ndarray, curve: np.ndarray) -> np.ndarray:
        frames = np.round((times_s + NOVELTY_LATENCY_S) * rate).astype(int) - 1
        frames = frames[(times_s > 3.0) & (frames + 3 < len(curve))]
        return np.array([curve[f - 3 : f + 4].max() for f in frames])

    beats = song.beat_times_s
    on, off = near(beats, beat), near(beats[:-1] + np.diff(beats) / 2, beat)
    assert np.median(on) > 0.5, np.median(on)
    assert np.median(off) < 0.5 * np.median(on), (np.median(on), np.median(off))
    firsts = np.isin(beats, song.downbeat_times_s)
    assert near(beats[firsts], downbeat).mean() > 2 * near(beats[~firsts], downbeat).mean()


def test_a_missing_model_falls_back_to_the_handcrafted_novelty_with_one_log_line(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(act, "default_model_path", lambda: None)
    with caplog.at_level(logging.INFO, logger="livedance.audio.activation"):
        tracker = BeatTracker(44100, activation="auto")
    assert tracker.activation is None
    assert len(caplog.records) == 1 and "handcrafted" in caplog.records[0].getMessage()
    song = compose_song(bpm=120, form="AB", bars_per_section=2, seed=1)
    track = tracker.process_signal(song.audio.mono())
    assert abs(track.bpm - 120) < 3, track.bpm
    with pytest.raises(LivedanceError, match="no model"):
        BeatTracker(44100, activation="learned")


def test_handcrafted_never_loads_the_model() -> None:
    assert BeatTracker(44100, activation="handcrafted").activation is None


@needs_model
def test_the_cli_flag_selects_the_path(short_song: Path) -> None:
    for flag, source in (("learned", "learned activation"), ("handcrafted", "handcrafted")):
        done = run_cli("beats", "--causal", "--beat-activation", flag, str(short_song))
        assert done.returncode == 0, done.stderr
        assert source in done.stderr, done.stderr
        assert len(done.stdout.split()) >= 12


def test_the_cli_says_in_one_line_when_the_learned_model_is_missing(
    short_song: Path, tmp_path: Path
) -> None:
    done = run_cli(
        "beats", "--causal", "--beat-activation", "learned", str(short_song),
        env={"LIVEDANCE_BEATNET": str(tmp_path / "none.onnx")},
    )  # fmt: skip
    assert done.returncode != 0
    assert done.stderr.strip().count("\n") == 0 and "no model" in done.stderr, done.stderr


@needs_model
def test_a_whole_block_of_hops_gives_the_activation_of_hop_by_hop() -> None:
    """The streaming network fed a song's hops in blocks (what the song plan's pass does) gives
    the activation it gives fed one hop at a time (what the stage does), state carried across."""
    song = compose_song(bpm=97, form="AB", bars_per_section=2, seed=3)
    mono, sr = song.audio.mono(), song.audio.sample_rate
    n = len(mono) // DEFAULT_HOP
    block = NoveltyFrontEnd(sr, DEFAULT_HOP, DEFAULT_WIN).process_block(
        mono[: n * DEFAULT_HOP].reshape(n, DEFAULT_HOP)
    )
    network = act.BeatActivation(MODEL)
    hop_by_hop = np.array([network.process(block.features[:, i]) for i in range(n)]).T
    network.reset()
    blocks = [network.process_block(block.features[:, i : i + 700]) for i in range(0, n, 700)]
    whole = np.concatenate(blocks, axis=1)
    assert hop_by_hop.shape == whole.shape == (2, n)
    assert np.abs(whole - hop_by_hop).max() < 1e-4
    assert hop_by_hop[0].max() > 0.5  # a song's beats, not a silent network


@needs_model
def test_a_file_fed_whole_gives_the_beats_of_one_fed_hop_by_hop() -> None:
    """`process_signal` (the front end ahead, the network by block) declares the beats, tempi and
    intervals that `process` declares hop by hop on stage."""
    song = compose_song(bpm=128, form="AB", bars_per_section=4, seed=5)
    mono, sr = song.audio.mono(), song.audio.sample_rate
    whole = BeatTracker(sr, activation="learned").process_signal(mono)
    tracker = BeatTracker(sr, activation="learned")
    hop = tracker.hop_samples
    padded = np.zeros(-(-len(mono) // hop) * hop, np.float32)
    padded[: len(mono)] = mono
    events = [tracker.process(h) for h in padded.reshape(-1, hop)]
    live = [e for e in events if e is not None]
    assert len(whole.beats) == len(live) > 20
    for a, b in zip(whole.beats, live, strict=True):
        assert abs(a.time_s - b.time_s) < 1e-6 and abs(a.bpm - b.bpm) < 1e-4
        assert (a.interval is None) == (b.interval is None)
        if a.interval is not None and b.interval is not None:
            assert abs(a.interval.rms_db - b.interval.rms_db) < 1e-6
            assert abs(a.interval.centroid_hz - b.interval.centroid_hz) < 1e-3
