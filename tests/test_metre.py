"""Metre from the drum roles: the backbeat fixes the tempo octave, the kick and snare the bar."""

from __future__ import annotations

import numpy as np
import pytest

from livedance.audio.beats import BeatTracker
from livedance.audio.metre import backbeat_bpm, bar_place
from livedance.choreo import Choreographer
from livedance.show.stage import BeatsToMoves, KnownBeats, array_reader

FRAME_RATE = 172.0  # novelty values per second (44.1 kHz / 256)


def _pulses(bpm: float, steps: str, seconds: float = 16.0) -> np.ndarray:
    """A novelty with a pulse at each ``x`` of a one-bar step pattern (16 steps of four beats)."""
    n = int(seconds * FRAME_RATE)
    out = np.zeros(n)
    step_s = 60.0 / bpm / 4
    t = 0.0
    i = 0
    while t * FRAME_RATE < n:
        if steps[i % len(steps)] == "x":
            out[int(t * FRAME_RATE)] = 1.0
        t += step_s
        i += 1
    return out


@pytest.mark.parametrize(
    ("bpm", "snare", "expected"),
    [
        (134.0, "....x.......x...", 134.0),  # UK garage: the backbeat on 2 and 4
        (174.0, "....x.......x...", 174.0),  # drum and bass under a half-speed bass
        (140.0, "........x.......", 70.0),  # trap's one snare a bar: the half-time feel
        (96.0, "...x..x....x..x.", None),  # dembow's 3-3-2 snare: no backbeat, no say
    ],
)
def test_the_snare_role_picks_the_tempo_octave(
    bpm: float, snare: str, expected: float | None
) -> None:
    x = _pulses(bpm, snare)
    family = [b for b in (bpm / 2, bpm, 2 * bpm) if 60.0 <= b <= 180.0]
    got = backbeat_bpm(x, np.ones(len(x)), FRAME_RATE, family)
    assert got == expected


def test_the_bar_starts_where_the_kick_lands_and_the_snare_does_not() -> None:
    bpm = 120.0
    kick = _pulses(bpm, "x.........x.....")  # a 2-step kick: one on the beat, one off it
    snare = _pulses(bpm, "....x.......x...")
    period = FRAME_RATE * 60.0 / bpm
    # the newest beat is the third of its bar: the bar began two beats before it
    newest = 14 * 4 * period + 2 * period
    k = np.zeros(int(newest) + 20)
    s = np.zeros_like(k)
    k[: len(kick)], s[: len(snare)] = kick[: len(k)], snare[: len(s)]
    k = np.resize(kick, len(k))
    s = np.resize(snare, len(s))
    place, margin = bar_place(k, s, np.ones(len(k)), newest, period)
    assert place == 2
    assert margin > 0.6


def _drums(bpm: float, pattern: dict[str, str], seconds: float, sr: int = 44100) -> np.ndarray:
    """Synthesized drums: ``kick`` (a 55 Hz thump), ``snare`` (a noise burst), ``hat`` (a short
    high click), each hit at the ``x`` of a one-bar, 16-step pattern."""
    rng = np.random.default_rng(0)
    t = np.arange(int(0.25 * sr)) / sr
    sounds = {
        "kick": np.sin(2 * np.pi * 55.0 * t) * np.exp(-t / 0.08),
        "snare": rng.normal(0, 0.5, len(t)) * np.exp(-t / 0.05),
        "hat": np.diff(rng.normal(0, 0.3, len(t) + 1)) * np.exp(-t / 0.01),
    }
    out = np.zeros(int(seconds * sr) + len(t))
    step = 60.0 / bpm / 4 * sr
    for name, steps in pattern.items():
        for i in range(int(seconds * sr / step)):
            if steps[i % 16] == "x":
                start = int(i * step)
                out[start : start + len(t)] += sounds[name]
    return (0.3 * out[: int(seconds * sr)]).astype(np.float32)


def test_a_two_step_garage_beat_is_followed_at_its_tempo_not_half() -> None:
    """Kick on 1 and the "and" of 3, snare on 2 and 4, shuffled hats: the kick alone reads as a
    67 BPM pulse; the snare's backbeat says 134."""
    bpm = 134.0
    mono = _drums(
        bpm,
        {"kick": "x.........x.....", "snare": "....x.......x...", "hat": "..x.x.x...x.x.x."},
        seconds=24.0,
    )
    track = BeatTracker(44100).process_signal(mono)
    assert abs(track.bpm - bpm) / bpm < 0.02, f"followed at {track.bpm:.1f} BPM"


class _Bars:
    """A bar phase that calls every fourth beat from ``one_s`` the one (None before ``from_s``)."""

    def __init__(self, one_s: float, period_s: float, from_s: float) -> None:
        self.one_s, self.period_s, self.from_s = one_s, period_s, from_s

    def is_downbeat(self, beat_s: float) -> bool | None:
        if beat_s < self.from_s:
            return None
        return round((beat_s - self.one_s) / self.period_s) % 4 == 0


def test_the_stage_marks_the_one_itself_until_the_operator_says_otherwise() -> None:
    period_s, sr = 0.5, 8000
    beats = KnownBeats(np.arange(0.0, 20.0, period_s))
    moves = []
    stage = BeatsToMoves(
        Choreographer(seed=0),
        beats,
        array_reader(np.zeros(21 * sr, np.float32)),
        sr,
        repeats=False,
        on_move=moves.append,
        bars=_Bars(one_s=1.0, period_s=period_s, from_s=4.0),
    )
    for now_s in np.arange(0.0, 10.0, 1 / 30):
        stage.extend(float(now_s), float(now_s))
    called = [m.move.start_s for m in moves if m.downbeat]
    assert called and called[0] >= 4.0, "no downbeat while the bar phase is unclear"
    assert all(round((t - 1.0) / period_s) % 4 == 0 for t in called)
    assert stage.mark_one(9.5)  # the operator: the beat at 9.5 s is the one
    for now_s in np.arange(10.0, 18.0, 1 / 30):
        stage.extend(float(now_s), float(now_s))
    later = [m.move.start_s for m in moves if m.downbeat and m.move.start_s > 10.5]
    assert later and all(round((t - 9.5) / period_s) % 4 == 0 for t in later)


def test_the_song_plan_follows_the_live_stage_on_a_two_step_beat() -> None:
    """The plan's beats come from the same stage as live: the same tempo octave."""
    from livedance.audio.io import Audio
    from offline.analysis import analyze_audio

    bpm = 134.0
    mono = _drums(
        bpm,
        {"kick": "x.........x.....", "snare": "....x.......x...", "hat": "..x.x.x...x.x.x."},
        seconds=24.0,
    )
    plan = analyze_audio(Audio(mono[:, None], 44100), sha256="two-step")
    assert abs(plan.tempo_bpm - bpm) / bpm < 0.02, f"plan at {plan.tempo_bpm:.1f} BPM"
