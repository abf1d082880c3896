"""The beat benchmark's songs, written as multi-instrument General MIDI scores.

Each song is a short arrangement in one style (four-on-the-floor, swung, syncopated, drum-less,
3/4, slow, fast, tempo changes): drums on channel 10, bass, harmony and a melody, with the
velocity and timing spread a human player has (timing jitter of a few milliseconds around the
grid). The beat truth is the MIDI's own quarter-note grid under its tempo map, so it is exact by
construction; `render.py` turns a `Score` into a .mid, renders it with fluidsynth and reads the
beat times back out of the .mid.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import numpy as np

# General MIDI programs (0-based) and drum keys used below.
PIANO, EPIANO, CLAV, VIBES, ORGAN, ACCORDION = 0, 4, 7, 11, 16, 21
NYLON, STEEL, CLEAN_GTR, OVERDRIVE, DISTORTION = 24, 25, 27, 29, 30
AC_BASS, FINGER_BASS, PICK_BASS, SLAP_BASS, SYNTH_BASS = 32, 33, 34, 36, 38
CELLO, STRINGS, SLOW_STRINGS, TRUMPET, TUBA, BRASS = 42, 48, 49, 56, 58, 61
TENOR_SAX, FLUTE, SQUARE_LEAD, SAW_LEAD, WARM_PAD = 66, 73, 80, 81, 89
KICK, SIDESTICK, SNARE, CLAP, CLOSED_HAT, PEDAL_HAT, OPEN_HAT = 36, 37, 38, 39, 42, 44, 46
LOW_TOM, CRASH, RIDE, TAMBOURINE, COWBELL, SHAKER, CLAVES = 45, 49, 51, 54, 56, 70, 75

_MAJOR = (0, 2, 4, 5, 7, 9, 11)
_MINOR = (0, 2, 3, 5, 7, 8, 10)
_VELOCITY = {"X": 118, "x": 100, "o": 80, "g": 42}


@dataclass(frozen=True)
class Note:
    """One note: start and length in beats (quarter notes), MIDI pitch and velocity."""

    beat: float
    length: float
    pitch: int
    velocity: int


@dataclass
class Part:
    """One instrument: GM program (None on the drum channel), channel volume (the mix), notes."""

    name: str
    program: int | None
    volume: int = 100
    notes: list[Note] = field(default_factory=list)


@dataclass
class Score:
    """A song: parts, tempo map and metre.

    Attributes:
        name: file stem, ``style-variant``.
        style: the style it scores for in the benchmark table.
        tempo_map: (beat, bpm) changes; a ramp is written as one change per beat.
        beats_per_bar: 4 or 3 (the beat is always the quarter note).
        n_bars: length in bars.
        parts: the instruments.
    """

    name: str
    style: str
    tempo_map: list[tuple[float, float]]
    beats_per_bar: int
    n_bars: int
    parts: list[Part] = field(default_factory=list)

    @property
    def n_beats(self) -> int:
        return self.beats_per_bar * self.n_bars


class Writer:
    """Helpers that fill a Score's parts bar by bar, with a seeded human feel."""

    def __init__(self, score: Score, seed: int, tonic: int, minor: bool = False) -> None:
        self.score = score
        self.rng = np.random.default_rng(seed)
        self.tonic = tonic
        self.scale = _MINOR if minor else _MAJOR
        self._parts: dict[str, Part] = {}

    def part(self, name: str, program: int | None, volume: int = 100) -> Part:
        """Add an instrument; ``volume`` (MIDI CC 7, 0..127) sets its level in the mix."""
        if name not in self._parts:
            self._parts[name] = Part(name, program, volume)
            self.score.parts.append(self._parts[name])
        return self._parts[name]

    def note(self, part: str, beat: float, length: float, pitch: int, velocity: int) -> None:
        """Add a note with a little velocity spread (timing jitter is added when written)."""
        vel = int(np.clip(velocity + self.rng.normal(0, 6), 1, 127))
        self._parts[part].notes.append(Note(beat, length, int(pitch), vel))

    def pitch(self, degree: int, octave: int = 0) -> int:
        """Scale degree (0-based, may exceed 6) to a MIDI pitch around the tonic."""
        return self.tonic + 12 * (octave + degree // 7) + self.scale[degree % 7]

    def triad(self, degree: int, octave: int = 0) -> list[int]:
        return [self.pitch(degree + k, octave) for k in (0, 2, 4)]

    def drums(self, bar: int, patterns: dict[int, str], *, swing: bool = False) -> None:
        """Drum hits from step strings (one character per step, steps spread evenly over a bar).

        ``X x o g`` are accented, normal, soft and ghost hits; anything else is a rest. With
        ``swing``, a 2-steps-per-beat pattern plays its off-beat eighths on the last triplet.
        """
        bpb = self.score.beats_per_bar
        for key, steps in patterns.items():
            per_beat = len(steps) / bpb
            for i, ch in enumerate(steps):
                if ch not in _VELOCITY:
                    continue
                offset = i / per_beat
                if swing and per_beat == 2 and i % 2 == 1:
                    offset = i // 2 + 2 / 3
                self.note("drums", bar * bpb + offset, 0.25, key, _VELOCITY[ch])

    def rhythm(
        self, part: str, bar: int, steps: str, pitches: list[int], *, swing: bool = False,
        legato: float = 0.9,
    ) -> None:  # fmt: skip
        """Play the chord ``pitches`` on the hits of a step string; '-' extends the last note."""
        bpb = self.score.beats_per_bar
        per_beat = len(steps) / bpb

        def pos(i: int) -> float:
            if swing and per_beat == 2 and i % 2 == 1:
                return i // 2 + 2 / 3
            return i / per_beat

        for i, ch in enumerate(steps):
            if ch not in _VELOCITY:
                continue
            j = i + 1
            while j < len(steps) and steps[j] == "-":
                j += 1
            end = pos(j) if j < len(steps) else bpb
            for p in pitches:
                self.note(part, bar * bpb + pos(i), (end - pos(i)) * legato, p, _VELOCITY[ch])

    def melody(self, part: str, bar: int, degrees: list[int | None], octave: int, vel: int,
               *, swing: bool = False) -> None:  # fmt: skip
        """Scale degrees on an even grid over the bar (None rests)."""
        per_beat = len(degrees) / self.score.beats_per_bar
        for i, d in enumerate(degrees):
            if d is None:
                continue
            offset = i / per_beat
            if swing and per_beat == 2 and i % 2 == 1:
                offset = i // 2 + 2 / 3
            self.note(part, bar * self.score.beats_per_bar + offset, 0.9 / per_beat,
                      self.pitch(d, octave), vel)  # fmt: skip

    def random_phrase(self, n: int, rest_p: float = 0.25, span: int = 8) -> list[int | None]:
        """A stepwise melody of ``n`` notes with rests (seeded)."""
        out: list[int | None] = []
        d = int(self.rng.integers(2, 6))
        for _ in range(n):
            d = int(np.clip(d + self.rng.choice([-2, -1, -1, 0, 1, 1, 2]), 0, span))
            out.append(None if self.rng.random() < rest_p else d)
        return out


def four_floor(bpm: float = 124.0, seed: int = 11, tag: str = "") -> Score:
    """House at 124 BPM: kick on every beat, clap on 2 and 4, off-beat bass; a 4-bar breakdown."""
    s = Score("four_floor-house" + tag, "four-on-the-floor", [(0, bpm)], 4, 24)
    w = Writer(s, seed, tonic=45, minor=True)
    w.part("drums", None, 120), w.part("bass", SYNTH_BASS, 95), w.part("stabs", EPIANO, 85)
    w.part("pad", WARM_PAD, 60), w.part("lead", SQUARE_LEAD, 80)
    prog = [0, 5, 3, 4]
    hook = [w.random_phrase(8, 0.4) for _ in range(2)]
    for bar in range(s.n_bars):
        deg = prog[bar % 4]
        breakdown = 12 <= bar < 16
        w.rhythm("pad", bar, "x---", w.triad(deg, 0))
        if breakdown:
            continue
        w.drums(bar, {KICK: "X...X...X...X...", CLAP: "....x.......x...",
                      CLOSED_HAT: "g.g.g.g.g.g.g.g.", OPEN_HAT: "..o...o...o...o."})  # fmt: skip
        if bar >= 4:
            w.rhythm("bass", bar, "..o-..o-..o-..og", [w.pitch(deg, -1)], legato=0.6)
            w.rhythm("stabs", bar, "...o..o....o.o..", w.triad(deg, 1), legato=0.5)
        if bar >= 8:
            w.melody("lead", bar, hook[bar % 2], 2, 80)
    return s


def swing_jazz(bpm: float = 140.0, seed: int = 12, tag: str = "") -> Score:
    """Medium swing at 140 BPM: ride pattern, hi-hat on 2 and 4, walking bass, comping, sax."""
    s = Score("swung-jazz" + tag, "swung", [(0, bpm)], 4, 24)
    w = Writer(s, seed, tonic=46)
    w.part("drums", None, 110), w.part("bass", AC_BASS, 110), w.part("piano", PIANO, 90)
    w.part("sax", TENOR_SAX, 85)
    prog = [1, 4, 0, 0, 3, 6, 2, 5]
    for bar in range(s.n_bars):
        deg = prog[bar % 8]
        w.drums(bar, {RIDE: "o.xoo.xo", PEDAL_HAT: "..o...o.", KICK: "g...g..."}, swing=True)
        walk = [deg, deg + 2, deg + 4, deg + 5 if bar % 2 else deg + 3]
        for i, d in enumerate(walk):
            w.note("bass", bar * 4 + i, 0.9, w.pitch(d, -1), 92 if i % 2 == 0 else 80)
        comp = ["o..o-...", ".o..o...", "o.....o.", "..o...o-"][int(w.rng.integers(0, 4))]
        chord = [w.pitch(deg, 0), w.pitch(deg + 2, 0), w.pitch(deg + 4, 0), w.pitch(deg + 6, 0)]
        w.rhythm("piano", bar, comp, chord, swing=True, legato=0.6)
        if bar >= 4:
            w.melody("sax", bar, w.random_phrase(8, 0.35, 10), 1, 88, swing=True)
    return s


def shuffle_blues(bpm: float = 96.0, seed: int = 13, tag: str = "") -> Score:
    """Blues shuffle at 96 BPM: triplet-swung hats and boogie bass, guitar riff, organ."""
    s = Score("swung-shuffle" + tag, "swung", [(0, bpm)], 4, 16)
    w = Writer(s, seed, tonic=40)
    w.part("drums", None, 115), w.part("bass", FINGER_BASS, 100), w.part("guitar", OVERDRIVE, 80)
    w.part("organ", ORGAN, 60)
    blues = [0, 0, 0, 0, 3, 3, 0, 0, 4, 3, 0, 4]
    for bar in range(s.n_bars):
        deg = blues[bar % 12]
        w.drums(bar, {KICK: "x...o...", SNARE: "..x...x.", CLOSED_HAT: "xoxoxoxo"}, swing=True)
        root = w.pitch(deg, -1)
        for i, off in enumerate([0, 4, 7, 9, 10, 9, 7, 4]):
            beat = i // 2 + (2 / 3 if i % 2 else 0.0)
            w.note("bass", bar * 4 + beat, 0.3, root + off, 90 if i % 2 == 0 else 70)
        gtr = w.pitch(deg, 0)
        w.rhythm("guitar", bar, "xoxoxoxo", [gtr, gtr + 7], swing=True, legato=0.5)
        w.rhythm("organ", bar, "o-------", [gtr + 12, gtr + 16, gtr + 19])
    return s


def funk(bpm: float = 104.0, seed: int = 14, tag: str = "") -> Score:
    """Syncopated funk at 104 BPM: off-beat kicks, ghost notes, slap bass, clav and brass hits."""
    s = Score("syncopated-funk" + tag, "syncopated", [(0, bpm)], 4, 20)
    w = Writer(s, seed, tonic=43, minor=True)
    w.part("drums", None, 115), w.part("bass", SLAP_BASS, 100), w.part("clav", CLAV, 85)
    w.part("brass", BRASS, 80)
    for bar in range(s.n_bars):
        deg = [0, 0, 3, 4][bar % 4]
        w.drums(bar, {KICK: "x.....x..x......", SNARE: "....x..g.g..x..g",
                      CLOSED_HAT: "xoooxoooxoooxooo"})  # fmt: skip
        r = w.pitch(deg, -1)
        w.rhythm("bass", bar, "x..o..x..o.x..o.", [r], legato=0.5)
        w.rhythm("bass", bar, ".......o.......o", [r + 12], legato=0.4)
        w.rhythm("clav", bar, ".o.o..o..o.o.o..", w.triad(deg, 1), legato=0.4)
        if bar % 2 == 1:
            w.rhythm("brass", bar, "..............x-", w.triad(deg + 1, 1), legato=0.8)
    return s


def hiphop(bpm: float = 92.0, seed: int = 15, tag: str = "") -> Score:
    """Syncopated hip-hop at 92 BPM: broken kick, pushed chords, a 2-bar drop to pad only."""
    s = Score("syncopated-hiphop" + tag, "syncopated", [(0, bpm)], 4, 18)
    w = Writer(s, seed, tonic=41, minor=True)
    w.part("drums", None, 120), w.part("bass", FINGER_BASS, 100), w.part("keys", EPIANO, 85)
    w.part("pad", SLOW_STRINGS, 60), w.part("lead", VIBES, 80)
    for bar in range(s.n_bars):
        deg = [0, 5, 2, 6][bar % 4]
        w.rhythm("pad", bar, "x---", w.triad(deg, 0))
        if 10 <= bar < 12:
            continue
        w.drums(bar, {KICK: "x.......o.x....o", SNARE: "....x.......x...",
                      CLOSED_HAT: "x.o.x.o.x.o.xoo."})  # fmt: skip
        r = w.pitch(deg, -1)
        w.rhythm("bass", bar, "x-.....-o.x-...o", [r], legato=0.8)
        w.rhythm("keys", bar, "...o-.....o-...o", w.triad(deg, 1), legato=0.8)
        if bar >= 4:
            w.melody("lead", bar, w.random_phrase(8, 0.5), 2, 70)
    return s


def piano_ballad(bpm: float = 96.0, seed: int = 16, tag: str = "") -> Score:
    """Drum-less piano at 96 BPM: left-hand bass and broken chords, right-hand melody, strings."""
    s = Score("drumless-piano" + tag, "drum-less", [(0, bpm)], 4, 16)
    w = Writer(s, seed, tonic=48)
    w.part("piano", PIANO, 110), w.part("strings", STRINGS, 60)
    prog = [0, 4, 5, 3]
    for bar in range(s.n_bars):
        deg = prog[bar % 4]
        tri = w.triad(deg, -1)
        w.note("piano", bar * 4, 1.9, w.pitch(deg, -1), 88)
        w.note("piano", bar * 4 + 2, 1.9, w.pitch(deg + 4, -1), 76)
        for i, p in enumerate([tri[0], tri[1], tri[2], tri[1]] * 2):
            w.note("piano", bar * 4 + i * 0.5, 0.45, p + 12, 62 if i % 2 else 72)
        w.melody("piano", bar, w.random_phrase(4, 0.2, 9), 1, 84)
        w.rhythm("strings", bar, "o---", w.triad(deg, 0), legato=1.0)
    return s


def folk_guitar(bpm: float = 84.0, seed: int = 17, tag: str = "") -> Score:
    """Drum-less folk at 84 BPM: a syncopated sixteenth-note strum on steel guitar, cello, flute."""
    s = Score("drumless-folk" + tag, "drum-less", [(0, bpm)], 4, 14)
    w = Writer(s, seed, tonic=43)
    w.part("guitar", STEEL, 110), w.part("cello", CELLO, 80), w.part("flute", FLUTE, 75)
    for bar in range(s.n_bars):
        deg = [0, 3, 4, 0][bar % 4]
        chord = [w.pitch(deg, 0), w.pitch(deg + 4, 0), w.pitch(deg, 1), w.pitch(deg + 2, 1),
                 w.pitch(deg + 4, 1)]  # fmt: skip
        w.rhythm("guitar", bar, "x.o.go.ox.o.go.o", chord, legato=0.9)
        w.note("cello", bar * 4, 1.8, w.pitch(deg, 0), 84)
        w.note("cello", bar * 4 + 2, 1.8, w.pitch(deg + 4, 0), 74)
        if bar >= 2:
            w.melody("flute", bar, w.random_phrase(8, 0.3, 9), 2, 80)
    return s


def waltz(bpm: float = 144.0, seed: int = 18, tag: str = "") -> Score:
    """3/4 at 144 BPM: oom-pah-pah (bass on 1, chords on 2 and 3), accordion tune, light kit."""
    s = Score("three_four-waltz" + tag, "3/4", [(0, bpm)], 3, 30)
    w = Writer(s, seed, tonic=50)
    w.part("drums", None, 90), w.part("bass", TUBA, 95), w.part("chords", PIANO, 95)
    w.part("accordion", ACCORDION, 75)
    prog = [0, 0, 4, 4, 4, 4, 0, 0, 3, 3, 0, 0, 4, 4, 0, 0]
    for bar in range(s.n_bars):
        deg = prog[bar % 16]
        w.drums(bar, {KICK: "x.....", SIDESTICK: "..o.o.", CLOSED_HAT: "g.g.g."})
        w.note("bass", bar * 3, 0.9, w.pitch(deg if bar % 2 == 0 else deg + 4, -1), 96)
        w.rhythm("chords", bar, ".oo", w.triad(deg, 0), legato=0.6)
        if bar >= 2:
            w.melody("accordion", bar, w.random_phrase(3, 0.2, 9), 1, 84)
    return s


def slow_ballad(bpm: float = 66.0, seed: int = 19, tag: str = "") -> Score:
    """Slow at 66 BPM: side-stick on 2 and 4, eighth-note hats, electric piano, bass, strings."""
    s = Score("slow-ballad" + tag, "slow", [(0, bpm)], 4, 12)
    w = Writer(s, seed, tonic=44)
    w.part("drums", None, 105), w.part("bass", FINGER_BASS, 95), w.part("keys", EPIANO, 90)
    w.part("strings", SLOW_STRINGS, 55), w.part("lead", NYLON, 90)
    prog = [0, 5, 3, 4]
    for bar in range(s.n_bars):
        deg = prog[bar % 4]
        if bar >= 2:
            w.drums(bar, {KICK: "x.....o.x.......", SIDESTICK: "....x.......x...",
                          CLOSED_HAT: "o.g.o.g.o.g.o.g."})  # fmt: skip
        w.rhythm("bass", bar, "x-----o-x-------", [w.pitch(deg, -1)])
        w.rhythm("keys", bar, "o---o---o---o---", w.triad(deg, 0), legato=0.95)
        w.rhythm("strings", bar, "o-------o-------", w.triad(deg, 1), legato=1.0)
        w.melody("lead", bar, w.random_phrase(8, 0.4), 1, 78)
    return s


def punk(bpm: float = 176.0, seed: int = 20, tag: str = "") -> Score:
    """Fast at 176 BPM: kick on 1 and 3, snare on 2 and 4, eighth-note power chords and bass."""
    s = Score("fast-punk" + tag, "fast", [(0, bpm)], 4, 30)
    w = Writer(s, seed, tonic=40)
    w.part("drums", None, 125), w.part("bass", PICK_BASS, 95), w.part("guitar", DISTORTION, 75)
    w.part("lead", SAW_LEAD, 70)
    prog = [0, 4, 5, 3]
    for bar in range(s.n_bars):
        deg = prog[(bar // 2) % 4]
        crash = "x......." if bar % 8 == 0 else "........"
        w.drums(bar, {KICK: "x...x...", SNARE: "..x...x.", CLOSED_HAT: "oooooooo", CRASH: crash})
        r = w.pitch(deg, -1)
        w.rhythm("bass", bar, "xoxoxoxo", [r], legato=0.7)
        w.rhythm("guitar", bar, "xoxoxoxo", [r + 12, r + 19, r + 24], legato=0.7)
        if bar >= 8:
            w.melody("lead", bar, w.random_phrase(4, 0.2), 1, 76)
    return s


def _pop_bar(w: Writer, bar: int, deg: int) -> None:
    w.drums(bar, {KICK: "x...x.o.", SNARE: "..x...x.", CLOSED_HAT: "oxoxoxox"})
    w.rhythm("bass", bar, "x.xox.xo", [w.pitch(deg, -1)], legato=0.8)
    w.rhythm("piano", bar, "o.o.o.o.", w.triad(deg, 0), legato=0.8)


def tempo_step(bpm: float = 98.0, bpm_after: float = 128.0, seed: int = 21, tag: str = "") -> Score:
    """A pop groove that jumps from 98 to 128 BPM half way (a DJ-style tempo change)."""
    s = Score("tempo_change-step" + tag, "tempo changes", [(0, bpm), (48, bpm_after)], 4, 24)
    w = Writer(s, seed, tonic=45)
    w.part("drums", None, 115), w.part("bass", FINGER_BASS, 100), w.part("piano", PIANO, 85)
    w.part("lead", TRUMPET, 75)
    for bar in range(s.n_bars):
        deg = [0, 4, 5, 3][bar % 4]
        _pop_bar(w, bar, deg)
        if bar % 4 in (2, 3):
            w.melody("lead", bar, w.random_phrase(8, 0.4), 1, 80)
    return s


def tempo_ramp(bpm: float = 84.0, bpm_end: float = 132.0, seed: int = 22, tag: str = "") -> Score:
    """A rock groove accelerating from 84 to 132 BPM over 16 bars, then steady."""
    n_bars, ramp_bars = 22, 16
    tempo_map = [(b, bpm + (bpm_end - bpm) * b / (4 * ramp_bars)) for b in range(4 * ramp_bars + 1)]
    s = Score("tempo_change-ramp" + tag, "tempo changes", tempo_map, 4, n_bars)
    w = Writer(s, seed, tonic=42)
    w.part("drums", None, 115), w.part("bass", PICK_BASS, 100), w.part("piano", OVERDRIVE, 70)
    for bar in range(s.n_bars):
        _pop_bar(w, bar, [0, 3, 4, 3][bar % 4])
    return s


SONGS: tuple[Callable[[], Score], ...] = (
    four_floor, swing_jazz, shuffle_blues, funk, hiphop, piano_ballad, folk_guitar, waltz,
    slow_ballad, punk, tempo_step, tempo_ramp,
)  # fmt: skip
"""The benchmark set, in table order. Never tune on it: tune on `DEV_SONGS`."""

DEV_SONGS: tuple[Callable[[], Score], ...] = (
    partial(four_floor, bpm=128.0, seed=111, tag="-dev"),
    partial(swing_jazz, bpm=120.0, seed=112, tag="-dev"),
    partial(shuffle_blues, bpm=84.0, seed=113, tag="-dev"),
    partial(funk, bpm=96.0, seed=114, tag="-dev"),
    partial(hiphop, bpm=86.0, seed=115, tag="-dev"),
    partial(piano_ballad, bpm=80.0, seed=116, tag="-dev"),
    partial(folk_guitar, bpm=100.0, seed=117, tag="-dev"),
    partial(waltz, bpm=168.0, seed=118, tag="-dev"),
    partial(slow_ballad, bpm=72.0, seed=119, tag="-dev"),
    partial(punk, bpm=164.0, seed=120, tag="-dev"),
    partial(tempo_step, bpm=120.0, bpm_after=92.0, seed=121, tag="-dev"),
    partial(tempo_ramp, bpm=140.0, bpm_end=100.0, seed=122, tag="-dev"),
)
"""The same styles at other tempi and seeds: the set the tracker's parameters are tuned on."""
