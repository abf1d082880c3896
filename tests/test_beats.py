"""The aubio beat tracker: one code path hop by hop or whole file, beats on time, features."""

from __future__ import annotations

import mir_eval
import numpy as np
import pytest

from livedance.audio.beats import BeatTracker, track_beats
from livedance.audio.synth import synth_song


@pytest.mark.parametrize(("bpm", "seed"), [(100, 1), (128, 2), (90, 3)])
def test_tracks_synthesized_songs_on_the_beat(bpm: float, seed: int) -> None:
    song = synth_song(bpm=bpm, form="ABAB", bars_per_section=4, seed=seed)
    track = track_beats(song.audio.mono(), song.audio.sample_rate)
    f = mir_eval.beat.f_measure(
        mir_eval.beat.trim_beats(song.beat_times_s), mir_eval.beat.trim_beats(track.beat_times_s)
    )
    assert f >= 0.9, f"F-measure {f:.3f} at {bpm} BPM"
    assert abs(track.bpm - bpm) / bpm < 0.03


def test_live_feeding_hop_by_hop_gives_the_file_result() -> None:
    song = synth_song(bpm=110, form="AB", bars_per_section=2, seed=4)
    mono, sr = song.audio.mono(), song.audio.sample_rate
    offline = track_beats(mono, sr)
    live = BeatTracker(sr)
    events = []
    for i in range(len(mono) // live.hop_samples):
        event = live.process(mono[i * live.hop_samples : (i + 1) * live.hop_samples])
        if event is not None:
            events.append(event)
            assert event.declared_s >= event.time_s, "a live beat is declared after it happens"
    assert [e.time_s for e in events] == [b.time_s for b in offline.beats][: len(events)]
    assert len(events) >= len(offline.beats) - 1


def test_interval_features_follow_the_music() -> None:
    song = synth_song(bpm=120, form="AAAA", bars_per_section=2, seed=5)
    mono = song.audio.mono().copy()
    half = len(mono) // 2
    mono[:half] *= 0.25  # first half 12 dB quieter
    track = track_beats(mono, song.audio.sample_rate)
    t_half = half / song.audio.sample_rate
    quiet = [iv.rms_db for iv in track.intervals if iv.end_s < t_half - 0.5]
    loud = [iv.rms_db for iv in track.intervals if iv.start_s > t_half + 0.5]
    assert np.median(loud) - np.median(quiet) == pytest.approx(12.0, abs=2.0)
    assert all(100 < iv.centroid_hz < 12000 for iv in track.intervals)
    assert all(iv.end_s > iv.start_s for iv in track.intervals)


def test_rejects_a_hop_of_the_wrong_size() -> None:
    with pytest.raises(ValueError, match="hop of 256"):
        BeatTracker(44100).process(np.zeros(100, np.float32))
