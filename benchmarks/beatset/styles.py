"""The wider beat set: the dance styles a DJ plays, beyond the first MIDI set's twelve songs.

Sixteen styles whose beat is not where the loudest onset is, or whose tempo is easy to halve or
double: dembow reggaeton, dancehall, afrobeats, half-time trap, UK garage 2-step, bossa nova,
samba, disco, techno, drum and bass, footwork, 6/8, a slow ballad, plus the first set's funk,
swing and 3/4 written again with other parts. Each is a function ``(bpm, seed, tag, variant)``:
``variant`` picks one of two instrumentations, so a style comes in several tempi, seeds and sounds.

The truth is the notated beat (the quarter note; in 6/8 the dotted quarter, two a bar), the tempo
a dancer of the style counts. Where a style is as often counted at half or double that (trap, drum
and bass), AMLt in the benchmark shows it.

Two sets, never mixed:

- `STYLE_DEV`: two versions of each style, the set trackers may be tuned on.
- `STYLE_UNSEEN`: two other versions of each (other tempi, seeds and instrumentation), never tuned
  on; the benchmark reports it apart.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from beatset.songs import (
    AC_BASS,
    BRASS,
    CELLO,
    CLAP,
    CLAV,
    CLEAN_GTR,
    CLOSED_HAT,
    COWBELL,
    EPIANO,
    FINGER_BASS,
    FLUTE,
    KICK,
    LOW_TOM,
    NYLON,
    OPEN_HAT,
    ORGAN,
    PIANO,
    RIDE,
    SAW_LEAD,
    SHAKER,
    SIDESTICK,
    SLAP_BASS,
    SLOW_STRINGS,
    SNARE,
    SQUARE_LEAD,
    STEEL,
    STRINGS,
    SYNTH_BASS,
    TAMBOURINE,
    TENOR_SAX,
    TRUMPET,
    VIBES,
    WARM_PAD,
    Score,
    Writer,
)

CONGA_HI, CONGA_LO, AGOGO, WHISTLE = 63, 64, 67, 71
MARIMBA, KALIMBA, STEEL_DRUMS, SYNTH_BRASS, POLY_PAD, SITAR = 12, 108, 114, 62, 90, 104
"""General MIDI drum keys and programs (0-based) the first set does not use."""


def _instr(variant: int, a: int, b: int) -> int:
    return a if variant % 2 == 0 else b


def reggaeton(bpm: float = 96.0, seed: int = 31, tag: str = "", variant: int = 0) -> Score:
    """Dembow at 90-100 BPM: kick on every beat, the 3-3-2 snare on the "a" of 1 and the "and"
    of 2 (louder than the kick: the accent a tracker must not lock on), sub bass, a pad."""
    s = Score("reggaeton-dembow" + tag, "reggaeton", [(0, bpm)], 4, 20)
    w = Writer(s, seed, tonic=44 + variant, minor=True)
    w.part("drums", None, 124), w.part("bass", SYNTH_BASS, 100)
    (
        w.part("keys", _instr(variant, POLY_PAD, PIANO), 70),
        w.part("lead", _instr(variant, SQUARE_LEAD, NYLON), 80),
    )
    prog = [0, 5, 2, 6] if variant % 2 == 0 else [0, 3, 4, 4]
    hook = [w.random_phrase(8, 0.45) for _ in range(2)]
    for bar in range(s.n_bars):
        deg = prog[bar % 4]
        w.rhythm("keys", bar, "o-------o-------", w.triad(deg, 0), legato=0.95)
        if bar < 2:
            continue
        w.drums(bar, {KICK: "x...x...x...x...", SNARE: "...X..X....X..X.",
                      CLOSED_HAT: "g.o.g.o.g.o.g.o.", CLAP: "...o..o....o..o."})  # fmt: skip
        w.rhythm("bass", bar, "x..x..x.x..x..x.", [w.pitch(deg, -1)], legato=0.7)
        if bar >= 6:
            w.melody("lead", bar, hook[bar % 2], 1, 82)
    return s


def dancehall(bpm: float = 100.0, seed: int = 32, tag: str = "", variant: int = 0) -> Score:
    """Modern dancehall at 95-105 BPM: tresillo kick (3-3-2), clap on 2 and 4, off-beat skank."""
    s = Score("dancehall-riddim" + tag, "dancehall", [(0, bpm)], 4, 20)
    w = Writer(s, seed, tonic=43 + variant, minor=True)
    w.part("drums", None, 122), w.part("bass", _instr(variant, SYNTH_BASS, FINGER_BASS), 100)
    (
        w.part("skank", _instr(variant, ORGAN, CLEAN_GTR), 75),
        w.part("lead", _instr(variant, STEEL_DRUMS, SAW_LEAD), 78),
    )
    prog = [0, 6, 5, 6]
    for bar in range(s.n_bars):
        deg = prog[bar % 4]
        w.drums(bar, {KICK: "X..x..x.X..x..x.", CLAP: "....x.......x...",
                      CLOSED_HAT: "..o...o...o...o.", TAMBOURINE: "g.g.g.g.g.g.g.g."})  # fmt: skip
        w.rhythm("bass", bar, "x..x..x...x.x...", [w.pitch(deg, -1)], legato=0.8)
        w.rhythm("skank", bar, "..o...o...o...o.", w.triad(deg, 1), legato=0.4)
        if bar >= 4 and bar % 4 < 2:
            w.melody("lead", bar, w.random_phrase(8, 0.4), 2, 76)
    return s


def afrobeats(bpm: float = 108.0, seed: int = 33, tag: str = "", variant: int = 0) -> Score:
    """Afrobeats at 100-115 BPM: kick on 1 and the "and" of 2, 3-3-2 rim, sixteenth shakers,
    congas, a log-drum bass off the beat, picked guitar."""
    s = Score("afrobeats-groove" + tag, "afrobeats", [(0, bpm)], 4, 20)
    w = Writer(s, seed, tonic=45 + variant, minor=variant % 2 == 1)
    w.part("drums", None, 118), w.part("bass", _instr(variant, MARIMBA, SYNTH_BASS), 100)
    w.part("guitar", _instr(variant, CLEAN_GTR, KALIMBA), 80), w.part("pad", WARM_PAD, 55)
    prog = [0, 3, 4, 3]
    riff = w.random_phrase(16, 0.35, 7)
    for bar in range(s.n_bars):
        deg = prog[bar % 4]
        w.rhythm("pad", bar, "o-------o-------", w.triad(deg, 0))
        w.drums(bar, {KICK: "x.....x...x.....", SIDESTICK: "...x..x....x..x.",
                      SHAKER: "gogogogogogogogo", CONGA_HI: "..o..o.o..o..o.o",
                      CONGA_LO: "o.......o..o...."})  # fmt: skip
        w.rhythm("bass", bar, "..x...x.o..x..o.", [w.pitch(deg, -1)], legato=0.6)
        if bar >= 2:
            w.melody("guitar", bar, riff, 1, 74)
    return s


def trap(bpm: float = 140.0, seed: int = 34, tag: str = "", variant: int = 0) -> Score:
    """Half-time trap notated at 130-150 BPM: snare on beat 3 only, 808 on the kicks, hi-hats in
    eighths with sixteenth and triplet rolls, a dark bell melody."""
    s = Score("trap-halftime" + tag, "trap", [(0, bpm)], 4, 16)
    w = Writer(s, seed, tonic=41 + variant, minor=True)
    w.part("drums", None, 124), w.part("bass", SYNTH_BASS, 110)
    w.part("bell", _instr(variant, VIBES, SQUARE_LEAD), 80), w.part("pad", SLOW_STRINGS, 50)
    prog = [0, 0, 5, 4]
    for bar in range(s.n_bars):
        deg = prog[bar % 4]
        w.rhythm("pad", bar, "o---------------", w.triad(deg, 0))
        kick = "x......x..x....." if bar % 2 == 0 else "x.........x..x.."
        hats = "x.x.x.x.x.xxx.x." if bar % 2 == 0 else "x.x.x.x.xxxxx.x."
        w.drums(bar, {KICK: kick, SNARE: "........X.......", CLAP: "........x.......",
                      CLOSED_HAT: hats})  # fmt: skip
        w.rhythm("bass", bar, kick, [w.pitch(deg, -2)], legato=0.9)  # the 808 follows the kick
        w.melody("bell", bar, w.random_phrase(8, 0.5), 2, 72)
    return s


def uk_garage(bpm: float = 134.0, seed: int = 35, tag: str = "", variant: int = 0) -> Score:
    """UK garage 2-step at 130-138 BPM: a kick that skips beats 2 and 4, snare on 2 and 4,
    shuffled sixteenth hats, chopped organ chords, a bouncing bass."""
    s = Score("ukg-2step" + tag, "UK garage", [(0, bpm)], 4, 20)
    w = Writer(s, seed, tonic=46 + variant, minor=True)
    w.part("drums", None, 120), w.part("bass", _instr(variant, SYNTH_BASS, FINGER_BASS), 100)
    (
        w.part("chords", _instr(variant, ORGAN, EPIANO), 75),
        w.part("vox", _instr(variant, FLUTE, VIBES), 70),
    )
    prog = [0, 5, 3, 4]
    for bar in range(s.n_bars):
        deg = prog[bar % 4]
        w.drums(bar, {KICK: "x.........x.....", SNARE: "....x.......x...",
                      CLOSED_HAT: "..o.g.o...o.g.o.", SHAKER: "g.g.g.g.g.g.g.g."}, swing=False)  # fmt: skip
        w.rhythm("bass", bar, "x.....x...x..o..", [w.pitch(deg, -1)], legato=0.5)
        w.rhythm("chords", bar, "..o..o.....o.o..", w.triad(deg, 1), legato=0.3)
        if bar >= 4:
            w.melody("vox", bar, w.random_phrase(8, 0.5), 2, 70)
    return s


def bossa_nova(bpm: float = 140.0, seed: int = 36, tag: str = "", variant: int = 0) -> Score:
    """Bossa nova at 125-150 BPM: surdo-like kick on 1 and 3 with pickups, the bossa clave on the
    rim, syncopated nylon-guitar comping, root-fifth bass, a soft flute or sax."""
    s = Score("bossa-nova" + tag, "bossa nova", [(0, bpm)], 4, 20)
    w = Writer(s, seed, tonic=43 + variant)
    w.part("drums", None, 100), w.part("bass", AC_BASS, 100)
    w.part("guitar", NYLON, 95), w.part("lead", _instr(variant, FLUTE, TENOR_SAX), 78)
    prog = [1, 4, 0, 5, 1, 4, 0, 0]
    clave = "x..x..x...x..x.." if variant % 2 == 0 else "x..x...x..x..x.."
    for bar in range(s.n_bars):
        deg = prog[bar % 8]
        w.drums(bar, {KICK: "x..ox..ox..ox..o", SIDESTICK: clave, SHAKER: "gogogogogogogogo"})
        r = w.pitch(deg, -1)
        w.note("bass", bar * 4, 1.4, r, 88), w.note("bass", bar * 4 + 1.5, 0.4, r + 7, 74)
        w.note("bass", bar * 4 + 2, 1.4, r + 7, 84), w.note("bass", bar * 4 + 3.5, 0.4, r, 74)
        chord = [w.pitch(deg, 0), w.pitch(deg + 2, 0), w.pitch(deg + 4, 0), w.pitch(deg + 6, 0)]
        w.rhythm("guitar", bar, "x..o..o...o..o..", chord, legato=0.6)
        if bar >= 4:
            w.melody("lead", bar, w.random_phrase(8, 0.35, 9), 1, 76)
    return s


def samba(bpm: float = 100.0, seed: int = 37, tag: str = "", variant: int = 0) -> Score:
    """Samba at 95-105 BPM (the quarter of a fast 2/4): the surdo's strong beat on 2, tamborim
    and agogo syncopations, sixteenth shakers, cavaquinho-like comping, brass hits."""
    s = Score("samba-batucada" + tag, "samba", [(0, bpm)], 4, 20)
    w = Writer(s, seed, tonic=48 + variant)
    w.part("drums", None, 122), w.part("bass", _instr(variant, AC_BASS, SLAP_BASS), 95)
    (
        w.part("cavaco", _instr(variant, STEEL, CLEAN_GTR), 80),
        w.part("brass", _instr(variant, BRASS, TRUMPET), 75),
    )
    prog = [0, 5, 1, 4]
    for bar in range(s.n_bars):
        deg = prog[bar % 4]
        w.drums(bar, {LOW_TOM: "o...X...o...X...", KICK: "....x.......x...",
                      TAMBOURINE: "x.xx.x.xx.xx.x.x", AGOGO: "x.x..x.x.x.x..x.",
                      SHAKER: "gogogogogogogogo", WHISTLE: "x..............." if bar % 8 == 0
                      else "................"})  # fmt: skip
        r = w.pitch(deg, -1)
        w.rhythm("bass", bar, "o..xo..xo..xo..x", [r], legato=0.5)
        w.rhythm("cavaco", bar, "x.xx.x.xx.xx.x.x", w.triad(deg, 1), legato=0.3)
        if bar % 4 == 3:
            w.rhythm("brass", bar, "..........x.x.x-", w.triad(deg + 1, 1), legato=0.7)
    return s


def disco(bpm: float = 120.0, seed: int = 38, tag: str = "", variant: int = 0) -> Score:
    """Disco at 112-126 BPM: four-on-the-floor, open hat on the off-beats, octave-jumping bass,
    strings and brass, funky guitar sixteenths."""
    s = Score("disco-hustle" + tag, "disco", [(0, bpm)], 4, 20)
    w = Writer(s, seed, tonic=45 + variant)
    w.part("drums", None, 118), w.part("bass", _instr(variant, FINGER_BASS, SLAP_BASS), 100)
    w.part("guitar", CLEAN_GTR, 70), w.part("strings", _instr(variant, STRINGS, SYNTH_BRASS), 70)
    prog = [0, 5, 1, 4]
    for bar in range(s.n_bars):
        deg = prog[bar % 4]
        w.drums(bar, {KICK: "x...x...x...x...", SNARE: "....x.......x...",
                      OPEN_HAT: "..o...o...o...o.", CLOSED_HAT: "g.g.g.g.g.g.g.g."})  # fmt: skip
        r = w.pitch(deg, -1)
        for i in range(8):
            w.note("bass", bar * 4 + i / 2, 0.4, r + (12 if i % 2 else 0), 90)
        w.rhythm(
            "guitar", bar, "gxgxgxgxgxgxgxgx", [w.pitch(deg, 1), w.pitch(deg + 2, 1)], legato=0.3
        )
        w.rhythm("strings", bar, "o-------o---o---", w.triad(deg, 1), legato=0.95)
    return s


def techno(bpm: float = 130.0, seed: int = 39, tag: str = "", variant: int = 0) -> Score:
    """Techno at 125-140 BPM: four-on-the-floor kick, off-beat open hat, rumbling sixteenth bass,
    a clap on 2 and 4 after the intro, a repeated minor stab; an 8-bar breakdown without kick."""
    s = Score("techno-warehouse" + tag, "techno", [(0, bpm)], 4, 24)
    w = Writer(s, seed, tonic=40 + variant, minor=True)
    w.part("drums", None, 124), w.part("bass", SYNTH_BASS, 95)
    w.part("stab", _instr(variant, SAW_LEAD, ORGAN), 70), w.part("pad", WARM_PAD, 55)
    for bar in range(s.n_bars):
        breakdown = 12 <= bar < 16
        w.rhythm("pad", bar, "o---------------", w.triad(0, 0))
        if breakdown:
            w.rhythm("stab", bar, "x..x..x.........", w.triad(0, 1), legato=0.3)
            continue
        w.drums(bar, {KICK: "X...X...X...X...", OPEN_HAT: "..o...o...o...o.",
                      CLAP: "....x.......x..." if bar >= 4 else "................",
                      RIDE: "g.g.g.g.g.g.g.g."})  # fmt: skip
        w.rhythm("bass", bar, ".ooo.ooo.ooo.ooo", [w.pitch(0, -1)], legato=0.5)
        w.rhythm("stab", bar, "...x.....x....x.", w.triad(0, 1), legato=0.3)
    return s


def drum_and_bass(bpm: float = 174.0, seed: int = 40, tag: str = "", variant: int = 0) -> Score:
    """Drum and bass at 165-178 BPM: the two-step break (kick on 1 and the "and" of 3, snare on 2
    and 4), ghost snares, ride, a long reese bass at half speed, a pad."""
    s = Score("dnb-twostep" + tag, "drum and bass", [(0, bpm)], 4, 24)
    w = Writer(s, seed, tonic=41 + variant, minor=True)
    w.part("drums", None, 124), w.part("bass", _instr(variant, SYNTH_BASS, SAW_LEAD), 90)
    w.part("pad", _instr(variant, WARM_PAD, SLOW_STRINGS), 60), w.part("keys", EPIANO, 70)
    prog = [0, 5, 3, 4]
    for bar in range(s.n_bars):
        deg = prog[(bar // 2) % 4]
        w.rhythm("pad", bar, "o---------------", w.triad(deg, 0))
        w.drums(bar, {KICK: "x.........x.....", SNARE: "....X..g.g..X..g",
                      RIDE: "o.o.o.o.o.o.o.o.", CLOSED_HAT: "..g...g...g...g."})  # fmt: skip
        w.rhythm("bass", bar, "x-------x-----x-", [w.pitch(deg, -2)], legato=0.95)
        if bar % 2 == 1:
            w.melody("keys", bar, w.random_phrase(8, 0.5), 1, 68)
    return s


def footwork(bpm: float = 160.0, seed: int = 41, tag: str = "", variant: int = 0) -> Score:
    """Footwork at 155-162 BPM: the triplet-feel kick (3-3-3-3-4), a clap on 2 and 4, sparse
    toms, chopped vocal-like stabs off the grid."""
    s = Score("footwork-juke" + tag, "footwork", [(0, bpm)], 4, 24)
    w = Writer(s, seed, tonic=44 + variant, minor=True)
    w.part("drums", None, 124), w.part("bass", SYNTH_BASS, 100)
    w.part("chop", _instr(variant, SITAR, VIBES), 75), w.part("pad", POLY_PAD, 50)
    for bar in range(s.n_bars):
        deg = [0, 0, 5, 6][bar % 4]
        w.rhythm("pad", bar, "o-------o-------", w.triad(deg, 0))
        w.drums(bar, {KICK: "x..x..x..x..x...", CLAP: "....x.......x...",
                      CLOSED_HAT: "..g...g...g...g.", LOW_TOM: "......o......o.."})  # fmt: skip
        w.rhythm("bass", bar, "x..x..x..x..x...", [w.pitch(deg, -2)], legato=0.5)
        w.rhythm("chop", bar, ".x...x.x...x.x..", [w.pitch(deg + 2, 1)], legato=0.3)
    return s


def six_eight(bpm: float = 66.0, seed: int = 42, tag: str = "", variant: int = 0) -> Score:
    """6/8 at 56-76 dotted-quarter beats: two beats a bar, each of three eighths; kick on 1,
    snare or rim on 4 (the second beat), eighth-note arpeggios that invite counting in threes."""
    s = Score("six_eight-ballad" + tag, "6/8", [(0, bpm)], 2, 24)
    w = Writer(s, seed, tonic=45 + variant, minor=variant % 2 == 1)
    w.part("drums", None, 105), w.part("bass", FINGER_BASS, 95)
    (
        w.part("keys", _instr(variant, PIANO, CLEAN_GTR), 95),
        w.part("lead", _instr(variant, STRINGS, TRUMPET), 70),
    )
    prog = [0, 5, 3, 4]
    for bar in range(s.n_bars):
        deg = prog[(bar // 2) % 4]
        if bar >= 2:
            w.drums(bar, {KICK: "x.....", SNARE if variant % 2 else SIDESTICK: "...x..",
                          CLOSED_HAT: "ogoogo"})  # fmt: skip
        w.note("bass", bar * 2, 0.9, w.pitch(deg, -1), 88)
        w.note("bass", bar * 2 + 1, 0.9, w.pitch(deg + 4, -1), 76)
        tri = w.triad(deg, 0)
        w.melody("keys", bar, [deg, deg + 2, deg + 4, deg + 7, deg + 4, deg + 2], 0, 70)
        w.rhythm("keys", bar, "o..o..", tri, legato=0.9)
        if bar >= 4 and bar % 2 == 0:
            w.melody("lead", bar, w.random_phrase(6, 0.3), 1, 76)
    return s


def ballad(bpm: float = 68.0, seed: int = 43, tag: str = "", variant: int = 0) -> Score:
    """A slow ballad at 60-76 BPM: piano in flowing eighths and sixteenths (which invite double
    time), soft kick on 1, snare on 3 of a half-time feel only in the second half, strings."""
    s = Score("ballad-slow" + tag, "ballad", [(0, bpm)], 4, 12)
    w = Writer(s, seed, tonic=47 + variant)
    w.part("drums", None, 100), w.part("bass", _instr(variant, AC_BASS, FINGER_BASS), 90)
    w.part("piano", _instr(variant, PIANO, EPIANO), 105), w.part("strings", SLOW_STRINGS, 60)
    prog = [0, 4, 5, 3]
    for bar in range(s.n_bars):
        deg = prog[bar % 4]
        tri = w.triad(deg, 0)
        w.note("bass", bar * 4, 3.8, w.pitch(deg, -1), 84)
        arp = [tri[0] - 12, tri[1], tri[2], tri[1] + 12]
        for i in range(16 if variant % 2 else 8):
            step = 0.25 if variant % 2 else 0.5
            w.note("piano", bar * 4 + i * step, step * 0.9, arp[i % 4], 58 if i % 2 else 68)
        w.melody("piano", bar, w.random_phrase(4, 0.3, 9), 1, 80)
        w.rhythm("strings", bar, "o---", w.triad(deg, 1), legato=1.0)
        if bar >= s.n_bars // 2:
            w.drums(bar, {KICK: "x.......x.......", SNARE: "....x.......x...",
                          RIDE: "g.g.g.g.g.g.g.g."})  # fmt: skip
    return s


def latin_funk(bpm: float = 110.0, seed: int = 44, tag: str = "", variant: int = 0) -> Score:
    """Funk written again: a syncopated kick on the "a" of beats, ghost-note snare, cowbell,
    slap bass on the sixteenths around the beat, clavinet and brass stabs."""
    s = Score("funk-latin" + tag, "funk", [(0, bpm)], 4, 20)
    w = Writer(s, seed, tonic=42 + variant, minor=True)
    w.part("drums", None, 118), w.part("bass", SLAP_BASS, 100)
    w.part("clav", _instr(variant, CLAV, EPIANO), 85), w.part("brass", BRASS, 80)
    for bar in range(s.n_bars):
        deg = [0, 3, 0, 4][bar % 4]
        w.drums(bar, {KICK: "x..x..x...x..x..", SNARE: "..g.x..g.g.gx..g",
                      COWBELL: "x.x.x.x.x.x.x.x.", CLOSED_HAT: "oooooooooooooooo"})  # fmt: skip
        r = w.pitch(deg, -1)
        w.rhythm("bass", bar, "x.ox..x.o.x.xo.o", [r], legato=0.4)
        w.rhythm("clav", bar, "..x..x.x..x..x.x", w.triad(deg, 1), legato=0.35)
        if bar % 4 == 3:
            w.rhythm("brass", bar, "x..x..x.........", w.triad(deg, 1), legato=0.6)
    return s


def swing_big(bpm: float = 180.0, seed: int = 45, tag: str = "", variant: int = 0) -> Score:
    """Up-tempo swing at 160-200 BPM: ride with the skip note, feathered kick, walking bass, brass
    shout chords on the upbeats."""
    s = Score("swing-uptempo" + tag, "swing", [(0, bpm)], 4, 24)
    w = Writer(s, seed, tonic=46 + variant)
    w.part("drums", None, 110), w.part("bass", AC_BASS, 110)
    w.part("horns", _instr(variant, BRASS, TENOR_SAX), 80), w.part("piano", PIANO, 75)
    prog = [0, 5, 1, 4]
    for bar in range(s.n_bars):
        deg = prog[bar % 4]
        w.drums(bar, {RIDE: "o.xoo.xo", CLOSED_HAT: "..x...x.", KICK: "g.g.g.g."}, swing=True)
        for i, d in enumerate([deg, deg + 1, deg + 2, deg + 4]):
            w.note("bass", bar * 4 + i, 0.9, w.pitch(d, -1), 90)
        if bar % 2 == 1:
            w.rhythm("horns", bar, ".x...x..", w.triad(deg, 1), swing=True, legato=0.5)
        w.rhythm("piano", bar, "..o...o.", w.triad(deg, 0), swing=True, legato=0.4)
    return s


def waltz_strings(bpm: float = 120.0, seed: int = 46, tag: str = "", variant: int = 0) -> Score:
    """3/4 written again: a string waltz without drums, the bass on 1, chords on 2 and 3."""
    s = Score("three_four-strings" + tag, "3/4", [(0, bpm)], 3, 24)
    w = Writer(s, seed, tonic=48 + variant)
    w.part("bass", _instr(variant, CELLO, AC_BASS), 100)
    (
        w.part("chords", _instr(variant, STRINGS, ORGAN), 85),
        w.part("lead", _instr(variant, FLUTE, VIBES), 80),
    )
    prog = [0, 4, 4, 0, 3, 0, 4, 0]
    for bar in range(s.n_bars):
        deg = prog[bar % 8]
        w.note("bass", bar * 3, 0.9, w.pitch(deg, -1), 96)
        w.rhythm("chords", bar, ".oo", w.triad(deg, 0), legato=0.6)
        if bar >= 2:
            w.melody("lead", bar, w.random_phrase(3, 0.2, 9), 1, 84)
    return s


STYLES: dict[str, Callable[..., Score]] = {
    "reggaeton": reggaeton,
    "dancehall": dancehall,
    "afrobeats": afrobeats,
    "trap": trap,
    "UK garage": uk_garage,
    "bossa nova": bossa_nova,
    "samba": samba,
    "funk": latin_funk,
    "disco": disco,
    "swing": swing_big,
    "6/8": six_eight,
    "3/4": waltz_strings,
    "ballad": ballad,
    "techno": techno,
    "drum and bass": drum_and_bass,
    "footwork": footwork,
}
"""The sixteen styles, in table order."""

_DEV_VERSIONS = {
    "reggaeton": [(92.0, 0), (98.0, 1)], "dancehall": [(96.0, 0), (104.0, 1)],
    "afrobeats": [(102.0, 0), (112.0, 1)], "trap": [(136.0, 0), (146.0, 1)],
    "UK garage": [(132.0, 0), (136.0, 1)], "bossa nova": [(128.0, 0), (146.0, 1)],
    "samba": [(96.0, 0), (104.0, 1)], "funk": [(100.0, 0), (114.0, 1)],
    "disco": [(114.0, 0), (124.0, 1)], "swing": [(168.0, 0), (196.0, 1)],
    "6/8": [(58.0, 0), (72.0, 1)], "3/4": [(108.0, 0), (150.0, 1)],
    "ballad": [(62.0, 0), (74.0, 1)], "techno": [(126.0, 0), (138.0, 1)],
    "drum and bass": [(168.0, 0), (176.0, 1)], "footwork": [(156.0, 0), (162.0, 1)],
}  # fmt: skip
_UNSEEN_VERSIONS = {
    "reggaeton": [(95.0, 1), (90.0, 2)], "dancehall": [(99.0, 1), (94.0, 2)],
    "afrobeats": [(106.0, 1), (115.0, 2)], "trap": [(140.0, 1), (130.0, 2)],
    "UK garage": [(130.0, 1), (138.0, 2)], "bossa nova": [(136.0, 1), (124.0, 2)],
    "samba": [(100.0, 1), (92.0, 2)], "funk": [(106.0, 1), (96.0, 2)],
    "disco": [(118.0, 1), (126.0, 2)], "swing": [(176.0, 1), (160.0, 2)],
    "6/8": [(64.0, 1), (76.0, 2)], "3/4": [(132.0, 1), (96.0, 2)],
    "ballad": [(70.0, 1), (60.0, 2)], "techno": [(132.0, 1), (128.0, 2)],
    "drum and bass": [(172.0, 1), (165.0, 2)], "footwork": [(160.0, 1), (158.0, 2)],
}  # fmt: skip


def _versions(table: dict[str, list[tuple[float, int]]], seed0: int, tag: str) -> tuple:
    out = []
    for i, (style, versions) in enumerate(table.items()):
        for j, (bpm, variant) in enumerate(versions):
            out.append(partial(STYLES[style], bpm=bpm, seed=seed0 + 10 * i + j,
                               tag=f"-{tag}{j}", variant=variant))  # fmt: skip
    return tuple(out)


STYLE_DEV: tuple[Callable[[], Score], ...] = _versions(_DEV_VERSIONS, 500, "dev")
"""Two versions of each style to tune on."""

STYLE_UNSEEN: tuple[Callable[[], Score], ...] = _versions(_UNSEEN_VERSIONS, 900, "unseen")
"""Two other versions of each style (other tempi, seeds, instrumentation): never tuned on."""
