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
