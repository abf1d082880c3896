"""The song plan's metrical level against the live stage's (`offline.analysis.beats`): the plan
doubles a live tempo only where the live stage held the double too, so the two agree."""

from __future__ import annotations

import numpy as np
import pytest

from offline.analysis.beats import HOP_SAMPLES, _guided_track

SR = 22050
FRAME_RATE_HZ = SR / HOP_SAMPLES


def _beats_and_offbeats(bpm: float, duration_s: float = 40.0) -> tuple[np.ndarray, np.ndarray]:
    """An onset envelope with a hit on every beat and an almost as loud one half way between
    (dancehall's skank on every off-beat: librosa reads twice the tempo), and the beats."""
    period_s = 60.0 / bpm
    beats_s = np.arange(0.5, duration_s - 0.5, period_s)
    env = np.zeros(round(duration_s * FRAME_RATE_HZ))
    for t, height in [(b, 1.0) for b in beats_s] + [(b + period_s / 2, 0.8) for b in beats_s]:
        env[min(round(t * FRAME_RATE_HZ), len(env) - 1)] = height
    return env, beats_s


def _bpm(frames: np.ndarray) -> float:
    return 60.0 * FRAME_RATE_HZ / float(np.median(np.diff(frames)))


@pytest.mark.parametrize("bpm", [91.0, 70.6])
def test_busy_offbeats_keep_the_live_tempo_the_live_stage_never_left(bpm: float) -> None:
    """A live stage that held 91 BPM throughout keeps it in the plan (which once danced a
    91 BPM dancehall riddim at 182: librosa reads the skank as beats), as a 70.6 BPM one does."""
    env, live_beats_s = _beats_and_offbeats(bpm)
    frames, _ = _guided_track(env, live_beats_s, sr=SR)
    assert abs(_bpm(frames) - bpm) / bpm < 0.03, _bpm(frames)


def test_busy_offbeats_double_the_tempo_where_the_live_stage_held_the_double() -> None:
    """The half-time check still doubles where the live stage followed the double for a
    third of the song (a drum and bass break under a half-time feel)."""
    env, beats_s = _beats_and_offbeats(91.0)
    third = len(beats_s) // 3
    live_beats_s = np.sort(np.concatenate([beats_s, (beats_s[:third] + 30.0 / 91.0)]))
    frames, _ = _guided_track(env, live_beats_s, sr=SR)
    assert abs(_bpm(frames) - 182.0) / 182.0 < 0.03, _bpm(frames)
