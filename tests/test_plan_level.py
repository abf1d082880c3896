"""The song plan's metrical level against the live stage's (`offline.analysis.beats`): the plan
doubles a live tempo only where the live stage held the double too or the tempo prior prefers it."""

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


@pytest.mark.parametrize(("bpm", "planned_bpm"), [(91.0, 91.0), (68.0, 136.0)])
def test_busy_offbeats_double_the_live_tempo_only_where_the_double_is_likelier(
    bpm: float, planned_bpm: float
) -> None:
    """A live stage that held 91 BPM throughout keeps it (the plan once danced a 91 BPM
    dancehall riddim at 182); one that held 68 BPM is doubled to 136 (Choice, real drum and
    bass, where librosa reads 136)."""
    env, live_beats_s = _beats_and_offbeats(bpm)
    frames, _ = _guided_track(env, live_beats_s, sr=SR)
    got_bpm = 60.0 * FRAME_RATE_HZ / float(np.median(np.diff(frames)))
    assert abs(got_bpm - planned_bpm) / planned_bpm < 0.03, got_bpm
