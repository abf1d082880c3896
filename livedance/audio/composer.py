"""Songs composed and rendered with known truth: the embedded demo song and the test songs.

(Named apart from `offline.synth` and ``livedance synth``, which make synthetic training data.)

A song is a form like ``"ABACB"`` of sections, each a number of 4/4 bars. Every label gets its own
chord progression, bass line, melody and drum pattern (drawn from the seed), so a repeated label
sounds the same again, optionally transposed (a key-shifted repeat). Different labels get
different progressions, none a rotation of another (as a verse and a chorus differ in harmony),
until a form has more labels than there are progressions; ``shared_harmony`` instead gives every
label the same chords, leaving only melody, bass and drums to tell sections apart.

Drums, bass, chords and a plucked lead are rendered on a beat grid that may ramp in tempo; the
true beats, downbeats and section bounds come back with the audio, so tests can score analysis
against them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from livedance.audio.io import Audio

_MAJOR = (0, 2, 4, 5, 7, 9, 11)
_PROGRESSIONS = (
    (0, 5, 3, 4),  # I vi IV V
    (5, 3, 0, 4),  # vi IV I V
    (0, 3, 4, 3),  # I IV V IV
    (1, 4, 0, 0),  # ii V I I
    (0, 4, 1, 5),  # I V ii vi
    (3, 0, 4, 4),  # IV I V V
    (0, 2, 3, 4),  # I iii IV V
    (5, 4, 3, 4),  # vi V IV V
)
"""Scale degrees of the four bars' chords; no progression is a rotation of another."""


@dataclass(frozen=True)
class ComposedSong:
    """A synthesized song and its truth (times in seconds)."""

    audio: Audio
    beat_times_s: npt.NDArray[np.float64]
    downbeat_times_s: npt.NDArray[np.float64]
    sections: tuple[tuple[float, float, str], ...]
    progressions: dict[str, tuple[int, ...]] = field(default_factory=dict)
    """Each section letter's four bars of chords (scale degrees)."""


def compose_song(
    *,
    bpm: float = 120.0,
    bpm_end: float | None = None,
    form: str = "ABAB",
    bars_per_section: int = 4,
    key_shift: dict[int, int] | None = None,
    sr: int = 44100,
    seed: int = 0,
    drums: bool = True,
    shared_harmony: bool = False,
) -> ComposedSong:
    """Render a song.

    Args:
        bpm: tempo at the start.
        bpm_end: tempo at the end (a linear ramp over the beats); None keeps ``bpm``.
        form: one letter per section; equal letters are the same music.
        bars_per_section: 4/4 bars in each section.
        key_shift: semitones by section index (e.g. ``{4: 2}`` plays the fifth section up a tone).
        sr: sample rate in Hz.
        seed: chooses progressions, melodies and drum patterns.
        drums: include the drum kit (False gives a drum-less song).
        shared_harmony: every section plays the same chord progression.

    Returns:
        The audio (mono) and its true beats, downbeats and sections.
    """
    rng = np.random.default_rng(seed)
    key_shift = key_shift or {}
    n_beats = len(form) * bars_per_section * 4
    bpms = np.linspace(bpm, bpm if bpm_end is None else bpm_end, n_beats + 1)
    lead_in_s = 0.5
    beats = lead_in_s + np.concatenate([[0.0], np.cumsum(60.0 / bpms[:-1])])  # n_beats + 1 edges
    total_s = beats[-1] + 1.5
    out = np.zeros(int(total_s * sr) + 1, dtype=np.float64)

    tonic = 45 + int(rng.integers(0, 7))  # A2..D#3
    order = rng.permutation(len(_PROGRESSIONS))
    parts = {
        label: _section_part(
            np.random.default_rng(seed * 1000 + ord(label)),
            drums,
            _PROGRESSIONS[order[0 if shared_harmony else i % len(order)]],
        )
        for i, label in enumerate(sorted(set(form)))
    }
    sections = []
    for s_idx, label in enumerate(form):
        part = parts[label]
        root = tonic + key_shift.get(s_idx, 0)
        b0 = s_idx * bars_per_section * 4
        sections.append((float(beats[b0]), float(beats[b0 + bars_per_section * 4]), label))
        for bar in range(bars_per_section):
            degree = part["progression"][bar % 4]
            chord = [root + _MAJOR[(degree + k) % 7] + 12 * ((degree + k) // 7) for k in (0, 2, 4)]
            bar_beat = b0 + bar * 4
            t_bar, t_next = beats[bar_beat], beats[bar_beat + 4]
            _add(out, sr, t_bar, _pad(chord, t_next - t_bar, sr), 0.10)
            for step in range(8):  # eighth notes
                beat = bar_beat + step // 2
                t = beats[beat] + (step % 2) * (beats[beat + 1] - beats[beat]) / 2
                eighth_s = (beats[beat + 1] - beats[beat]) / 2
                if part["bass"][step]:
                    _add(out, sr, t, _bass(chord[0] - 12, eighth_s * 0.9, sr), 0.30)
                note = part["melody"][bar % 2][step]
                if note >= 0:
                    pitch = root + 12 + _MAJOR[note % 7] + 12 * (note // 7)
                    _add(out, sr, t, _pluck(pitch, eighth_s * 1.5, sr), 0.14)
                if part["drums"]:
                    if part["kick"][step]:
                        _add(out, sr, t, _kick(sr), 0.55)
                    if step in (2, 6):
                        _add(out, sr, t, _snare(sr, rng), 0.30)
                    _add(out, sr, t, _hat(sr, rng), 0.06 if step % 2 else 0.09)
    out += rng.normal(0.0, 10 ** (-66 / 20), len(out))  # a noise floor: real rooms are never silent
    out *= 0.8 / max(1e-9, float(np.max(np.abs(out))))
    edges = beats[: n_beats + 1]
    return ComposedSong(
        audio=Audio(out.astype(np.float32)[:, None], sr),
        beat_times_s=edges,
        downbeat_times_s=edges[::4],
        sections=tuple(sections),
        progressions={label: part["progression"] for label, part in parts.items()},
    )


def demo_song(sr: int = 44100) -> ComposedSong:
    """The embedded demo: 40 bars (8 per section) at 120 BPM in the form A B A C B (about 82 s)."""
    return compose_song(bpm=120.0, form="ABACB", bars_per_section=8, sr=sr, seed=7, key_shift={})


def _section_part(rng: np.random.Generator, drums: bool, progression: tuple[int, ...]) -> dict:
    kick = np.zeros(8, bool)
    kick[[0, 4]] = True
    kick[rng.choice([3, 5, 7], size=int(rng.integers(0, 2)), replace=False)] = True
    melody = [
        [int(rng.integers(0, 9)) if rng.random() < 0.7 else -1 for _ in range(8)] for _ in range(2)
    ]
    return {
        "progression": progression,
        "bass": [True, False, True, rng.random() < 0.5, True, False, True, rng.random() < 0.5],
        "melody": melody,
        "kick": kick,
        "drums": drums,
    }


def _midi_hz(note: float) -> float:
    return 440.0 * 2 ** ((note - 69) / 12)


def _t(duration_s: float, sr: int) -> npt.NDArray[np.float64]:
    return np.arange(int(duration_s * sr)) / sr


def _add(
    out: npt.NDArray[np.float64], sr: int, t_s: float, sound: npt.NDArray[np.float64], gain: float
) -> None:
    i = round(t_s * sr)
    n = min(len(sound), len(out) - i)
    if n > 0:
        out[i : i + n] += gain * sound[:n]


def _kick(sr: int) -> npt.NDArray[np.float64]:
    t = _t(0.25, sr)
    freq = 50 + 90 * np.exp(-t * 30)
    return np.sin(2 * np.pi * np.cumsum(freq) / sr) * np.exp(-t * 14)


def _snare(sr: int, rng: np.random.Generator) -> npt.NDArray[np.float64]:
    t = _t(0.18, sr)
    noise = np.diff(rng.normal(size=len(t) + 1))  # first difference: brighter noise
    return (0.7 * noise + 0.5 * np.sin(2 * np.pi * 190 * t)) * np.exp(-t * 25)


def _hat(sr: int, rng: np.random.Generator) -> npt.NDArray[np.float64]:
    t = _t(0.05, sr)
    noise = np.diff(np.diff(rng.normal(size=len(t) + 2)))
    return noise * np.exp(-t * 90) * 0.5


def _bass(note: float, duration_s: float, sr: int) -> npt.NDArray[np.float64]:
    t = _t(duration_s, sr)
    f = _midi_hz(note)
    wave = sum(np.sin(2 * np.pi * f * k * t) / k for k in range(1, 5))
    return wave * np.minimum(1.0, t * 200) * np.exp(-t * 4)


def _pad(chord: list[int], duration_s: float, sr: int) -> npt.NDArray[np.float64]:
    t = _t(duration_s, sr)
    wave = sum(
        np.sin(2 * np.pi * _midi_hz(n) * t) + 0.3 * np.sin(4 * np.pi * _midi_hz(n) * t)
        for n in chord
    )
    env = np.minimum(1.0, t * 20) * np.minimum(1.0, (duration_s - t) * 20)
    return wave * env / 3


def _pluck(note: float, duration_s: float, sr: int) -> npt.NDArray[np.float64]:
    t = _t(duration_s, sr)
    f = _midi_hz(note)
    wave = (
        np.sin(2 * np.pi * f * t)
        + 0.4 * np.sin(4 * np.pi * f * t)
        + 0.2 * np.sin(6 * np.pi * f * t)
    )
    return wave * np.exp(-t * 8) * np.minimum(1.0, t * 400)
