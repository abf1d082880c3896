"""The aubio beat tracker: one code path hop by hop or whole file, beats on time, features."""

from __future__ import annotations

import mir_eval
import numpy as np
import pytest

from livedance.audio.beats import DEFAULT_HOP, DEFAULT_WIN, BeatTracker, samples_at, track_beats
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


def test_the_live_stage_over_a_file_dances_on_the_beat_with_features_of_the_music() -> None:
    """`dance_causally`: the tracker and the beats-to-moves stage, fed as on stage, start a move
    on (nearly) every beat, and each move's loudness follows the music it was heard in."""
    from livedance.show.stage import dance_causally

    song = synth_song(bpm=110, form="AB", bars_per_section=4, seed=4)
    mono = song.audio.mono().copy()
    half = len(mono) // 2
    mono[half:] *= 0.25  # the second half 12 dB quieter
    sr = song.audio.sample_rate
    dance = dance_causally(mono, sr)
    starts = np.array([m.move.start_s for m in dance.moves])
    truth = song.beat_times_s
    f = mir_eval.beat.f_measure(mir_eval.beat.trim_beats(truth), mir_eval.beat.trim_beats(starts))
    assert f >= 0.9, f"F-measure {f:.3f} of the moves' starts"
    assert all(m.decided_s <= m.move.start_s for m in dance.moves[1:]), "decided before the beat"
    loud = [m.move.intensity for m in dance.moves if 3.0 < m.move.start_s < half / sr - 1.0]
    quiet = [m.move.intensity for m in dance.moves if m.move.start_s > half / sr + 2.5]
    assert np.median(loud) > np.median(quiet) + 0.1, (np.median(loud), np.median(quiet))


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


def test_the_tracker_times_beats_alike_at_any_sample_rate() -> None:
    """Hop and window last as long at 22.05 kHz as at 44.1 kHz (a 1024-sample window at 22.05 kHz
    lasted 46 ms and put every beat 12-16 ms late): the song plan's guide runs at 22.05 kHz."""
    assert samples_at(44100, DEFAULT_HOP) == 256 and samples_at(48000, DEFAULT_HOP) == 256
    assert samples_at(22050, DEFAULT_HOP) == 128 and samples_at(22050, DEFAULT_WIN) == 512
    song = synth_song(bpm=118.0, form="AB", bars_per_section=8, sr=44100, seed=4)
    errors = {}
    for sr in (44100, 22050):
        mono = song.audio.mono() if sr == 44100 else song.audio.mono()[::2].copy()
        beats = np.asarray(BeatTracker(sr).process_signal(mono).beat_times_s)
        d = np.abs(beats[:, None] - song.beat_times_s[None, :]).min(axis=1)
        errors[sr] = float(np.median(d[d <= 0.07]))
    assert errors[22050] < 0.008 and abs(errors[22050] - errors[44100]) < 0.004, errors
