"""Where the song plan's beats stop (`offline.analysis.beats`): the live stage keeps its clock
running after a song ends, and the plan guided by it must not dance on into the silence."""

from __future__ import annotations

import numpy as np

from offline.analysis.beats import HOP_SAMPLES, _guided_track

SR = 22050
FRAME_RATE_HZ = SR / HOP_SAMPLES
ATTACK_TO_PEAK_FRAMES = 3
"""How far the onset envelope's peak comes after the attack the live stage puts its beat on."""


def test_the_plan_stops_with_the_music_not_with_the_live_clock() -> None:
    """84 BPM for 36 s, then a fading tail where the live stage still declares beats (as the
    learned activation's guide did on the drum-less folk song of the MIDI set): the plan ends
    on the music's last beat or the one after it (where the last chord rings), not on the live
    clock's beats in the silence."""
    bpm, music_s, duration_s = 84.0, 36.0, 42.0
    period_s = 60.0 / bpm
    rng = np.random.default_rng(0)
    env = 0.02 + 0.01 * rng.random(round(duration_s * FRAME_RATE_HZ))
    played_s = np.arange(0.5, music_s, period_s)
    for t in played_s:
        peak = round(t * FRAME_RATE_HZ) + ATTACK_TO_PEAK_FRAMES
        env[peak - 2 : peak + 3] += [0.5, 1.0, 3.0, 1.0, 0.5]
    tail = np.arange(round(music_s * FRAME_RATE_HZ), len(env))
    env[tail] += 0.2 * np.exp(-(tail - tail[0]) / (3.0 * FRAME_RATE_HZ))  # the last chord rings
    live_beats_s = np.arange(played_s[0], duration_s - 0.3, period_s)

    frames, _ = _guided_track(env, live_beats_s, sr=SR)

    last_s = frames[-1] / FRAME_RATE_HZ
    assert played_s[-1] - period_s / 2 < last_s < played_s[-1] + 1.5 * period_s, last_s
