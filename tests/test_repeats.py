"""The online repeat memory on synthetic chord progressions fed beat by beat, as on stage."""

from __future__ import annotations

import re
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from livedance.audio.repeats import BeatChroma, RepeatMemory
from livedance.choreo import Choreographer
from livedance.show.stage import BeatsToMoves, KnownBeats, array_reader

SR = 22050
BPM = 120.0
PERIOD_S = 60.0 / BPM
NOTES = {"C": 0, "Db": 1, "D": 2, "Eb": 3, "E": 4, "F": 5, "Gb": 6, "G": 7, "Ab": 8}
NOTES |= {"A": 9, "Bb": 10, "B": 11}


def _triad(name: str) -> list[int]:
    minor = name.endswith("m")
    root = NOTES[name.rstrip("m")]
    return [root, root + (3 if minor else 4), root + 7]


def _progression(chords: list[str], seed: int = 0) -> npt.NDArray[np.float32]:
    """One bar (4 beats) per chord: a struck triad per beat with a bass note, decaying partials."""
    rng = np.random.default_rng(seed)
    beat = np.arange(int(PERIOD_S * SR)) / SR
    envelope = np.exp(-beat / 0.25)
    out = []
    for chord in chords:
        notes = _triad(chord)
        for _ in range(4):
            x = np.zeros_like(beat)
            for midi in [48 + notes[0]] + [60 + n for n in notes]:
                f_hz = 440.0 * 2 ** ((midi - 69) / 12)
                for h in (1, 2, 3):
                    x += np.sin(2 * np.pi * f_hz * h * beat + rng.uniform(0, 6.3)) / h
            out.append(0.1 * x * envelope)
    return np.concatenate(out).astype(np.float32)


def _feed(audio: npt.NDArray[np.float32]) -> tuple[RepeatMemory, Choreographer]:
    """The live stage at 30 frames a second, on the song's known beat grid: each beat is decided
    a period ahead with only the audio heard so far, as `live` does."""
    choreographer = Choreographer(seed=3)
    duration_s = len(audio) / SR
    beats = KnownBeats(np.arange(0.0, duration_s, PERIOD_S))
    stage = BeatsToMoves(choreographer, beats, array_reader(audio), SR)
    for now_s in np.arange(0.0, duration_s - PERIOD_S, 1 / 30):
        stage.extend(float(now_s), captured_s=float(now_s))
    assert stage.memory is not None
    return stage.memory, choreographer


VERSE = ["C", "Am", "F", "G", "Em", "Dm", "Bb", "Eb"]  # 8 bars, no two bars alike
BRIDGE = ["D", "Gm", "Ab", "E"]
OUTRO = ["Db", "Gb", "B", "Fm"]


def test_a_repeated_verse_dances_the_first_verse_again_beat_for_beat() -> None:
    audio = _progression(VERSE + BRIDGE + VERSE + OUTRO)
    memory, choreographer = _feed(audio)
    moves = choreographer.moves
    lag = 4 * (len(VERSE) + len(BRIDGE))  # beats between the two verses
    second = range(lag, lag + 4 * len(VERSE))
    repeated = [k for k, m in enumerate(moves) if m.reason == "repeat"]
    assert repeated, "the second verse was not recognised"
    # Recognised after the two compared bars, confirmed on one more beat, decided a beat ahead.
    first = repeated[0]
    assert lag <= first <= lag + 8 + 3, repeated
    for k in range(first, second[-1] + 1):
        assert moves[k].reason == "repeat", (k, repeated)
        assert moves[k].action == moves[k - lag].action
    # Nothing repeats before the second verse; letting go takes at most 3 beats of the outro.
    assert all(lag <= k <= second[-1] + 3 for k in repeated), repeated
    assert memory.repeats_found == 1


def test_music_that_never_repeats_never_triggers_a_repeat() -> None:
    fourths = ["C", "F", "Bb", "Eb", "Ab", "Db", "Gb", "B", "E", "A", "D", "G"]
    minors = [c + "m" for c in fourths]
    audio = _progression(fourths + minors)
    memory, choreographer = _feed(audio)
    assert not [m for m in choreographer.moves if m.reason == "repeat"]
    assert memory.repeats_found == 0 and memory.similarity < memory.enter_similarity


def test_chroma_names_the_notes_of_a_chord_and_silence_is_zero() -> None:
    chroma = BeatChroma(SR)
    c_major = chroma(_progression(["C"])[: int(PERIOD_S * SR)])
    assert set(np.argsort(c_major)[-3:]) == {0, 4, 7}
    assert abs(float(np.linalg.norm(c_major)) - 1.0) < 1e-5
    assert not chroma(np.zeros(SR // 2, np.float32)).any()


@pytest.mark.slow
def test_live_through_the_null_sink_dances_a_repeated_progression_again(
    pulse_sink: str, tmp_path: Path
) -> None:
    """The wiring: beat clock, ring and repeat memory on one timeline, in `livedance live`."""
    wav = tmp_path / "verses.wav"
    audio = _progression(["C", "Am", "F", "G"] * 3 + ["D"])
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes((np.clip(audio * 2, -1, 1) * 32767).astype(np.int16).tobytes())
    player = subprocess.Popen(["paplay", f"--device={pulse_sink}", str(wav)])
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "livedance", "live", "--input", "pulse", "--headless",
             "--duration", "24", "--no-osc", "--size", "64", "--fps", "10"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    finally:
        player.wait(timeout=60)
    assert proc.returncode == 0, proc.stderr
    m = re.search(r"(\d+) moves \((\d+) repeated\)", proc.stdout)
    assert m, proc.stdout
    print(proc.stdout.strip().splitlines()[-1])
    assert int(m[2]) >= 4, proc.stdout


def test_the_one_puts_the_accent_on_every_fourth_beat_from_the_operators_press() -> None:
    """Live there are no bars until the operator says "this is the one"; from then every fourth
    move swings wider (the accent), and the count is lost with the beat (silence)."""
    audio = _progression(VERSE)
    choreographer = Choreographer(seed=3)
    beats = KnownBeats(np.arange(0.0, len(audio) / SR, PERIOD_S))
    stage = BeatsToMoves(choreographer, beats, array_reader(audio), SR, repeats=False)
    for now_s in np.arange(0.0, 4.0, 1 / 30):
        stage.extend(float(now_s), captured_s=float(now_s))
    assert not any(choreographer.move(i).intensity > 1.15 for i in range(choreographer.n_moves))
    assert stage.mark_one(3.0 + 0.02)  # pressed just after the beat at 3.0 s
    for now_s in np.arange(4.0, len(audio) / SR - PERIOD_S, 1 / 30):
        stage.extend(float(now_s), captured_s=float(now_s))
    moves = [choreographer.move(i) for i in range(choreographer.n_moves)]
    after = [m for m in moves if m.start_s > 4.0 + PERIOD_S]
    ones = [m for m in after if round((m.start_s - 3.0) / PERIOD_S) % 4 == 0]
    others = [m for m in after if round((m.start_s - 3.0) / PERIOD_S) % 4 != 0]
    assert ones and others
    assert np.mean([m.intensity for m in ones]) > 1.1 * np.mean([m.intensity for m in others])
