"""Write the beat set's scores as MIDI, render them with fluidsynth, read the beat truth back.

Usage:
    python benchmarks/beatset/render.py [--set midi|dev|styles-dev|styles-unseen]
        [--out /tmp/livedance-beatset] [--soundfont SF2]

For every song of `songs.SONGS` this writes ``NAME.mid`` (with mido), renders ``NAME.wav``
(44.1 kHz stereo, fluidsynth with reverb and chorus on, as a GM player would) and
``NAME.beats.txt`` (one beat time in seconds a line: every quarter-note tick of the .mid under
its tempo map, read back from the file). Renders are cached by the .mid's content, so running it
again is instant. Needs the `fluidsynth` command and a GM soundfont
(Debian: ``apt-get install fluidsynth fluid-soundfont-gm``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import mido
import numpy as np
import soundfile as sf

if __package__ in (None, ""):  # run as a script: make `beatset` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from beatset.songs import DEV_SONGS, SONGS, Score
from beatset.styles import STYLE_DEV, STYLE_UNSEEN

log = logging.getLogger(__name__)

TICKS_PER_BEAT = 480
SAMPLE_RATE = 44100
DEFAULT_SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
DEFAULT_OUT = Path("/tmp/livedance-beatset")
TAIL_S = 2.0
"""Seconds of decay kept after the last bar line (faded out over its second half)."""
JITTER_S = 0.004
"""Standard deviation of the human timing spread of every note around its grid position."""


@dataclass(frozen=True)
class BeatSong:
    """One rendered song of the set and its truth."""

    name: str
    style: str
    audio_path: Path
    beat_times_s: np.ndarray
    bpm: float
    beats_per_bar: int = 4
    """The score's metre: every this many true beats, from the first, starts a bar."""


def write_midi(score: Score, path: Path, seed: int = 0) -> None:
    """Write ``score`` as a type-1 MIDI file: a conductor track (metre, tempo map) and one per part.

    Note times get a seeded Gaussian jitter of `JITTER_S`; the conductor track ends exactly at
    the last bar line, which is where the beat truth stops.
    """
    rng = np.random.default_rng(seed)
    mid = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    conductor = [
        (0, mido.MetaMessage("time_signature", numerator=score.beats_per_bar, denominator=4)),
        *[
            (round(beat * TICKS_PER_BEAT), mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm)))
            for beat, bpm in score.tempo_map
        ],
    ]
    end_tick = score.n_beats * TICKS_PER_BEAT
    mid.tracks.append(_track(conductor, end_tick))
    channel = 0
    for part in score.parts:
        if part.program is None:
            ch = 9
        else:
            ch, channel = channel, channel + 1 + (channel == 8)
        events: list[tuple[int, mido.Message]] = [
            (0, mido.Message("control_change", channel=ch, control=7, value=part.volume))
        ]
        if part.program is not None:
            events.append((0, mido.Message("program_change", channel=ch, program=part.program)))
        for note in part.notes:
            bpm = _bpm_at(score, note.beat)
            jitter_beats = float(np.clip(rng.normal(0, JITTER_S), -3 * JITTER_S, 3 * JITTER_S))
            start = max(0, round((note.beat + jitter_beats * bpm / 60) * TICKS_PER_BEAT))
            stop = max(start + 1, round((note.beat + note.length) * TICKS_PER_BEAT))
            events.append((start, mido.Message("note_on", channel=ch, note=note.pitch,
                                               velocity=note.velocity)))  # fmt: skip
            events.append((stop, mido.Message("note_off", channel=ch, note=note.pitch)))
        mid.tracks.append(_track(events, end_tick + 4 * TICKS_PER_BEAT))
    mid.save(str(path))


def beat_times_from_midi(path: Path) -> np.ndarray:
    """Seconds of every quarter-note tick from 0 to the conductor track's end, under its tempos."""
    mid = mido.MidiFile(str(path))
    tempos: list[tuple[int, int]] = []
    tick = 0
    for msg in mid.tracks[0]:
        tick += msg.time
        if msg.type == "set_tempo":
            tempos.append((tick, msg.tempo))
    end_tick = tick
    tempos.sort()
    times = []
    t_s, last_tick, tempo = 0.0, 0, 500000
    changes = iter([*tempos, (end_tick + 1, tempo)])
    next_change = next(changes)
    for beat_tick in range(0, end_tick, mid.ticks_per_beat):
        while next_change[0] <= beat_tick:
            t_s += mido.tick2second(next_change[0] - last_tick, mid.ticks_per_beat, tempo)
            last_tick, tempo = next_change
            next_change = next(changes)
        times.append(t_s + mido.tick2second(beat_tick - last_tick, mid.ticks_per_beat, tempo))
    return np.array(times)


def render(midi_path: Path, wav_path: Path, soundfont: Path, end_s: float) -> None:
    """Render a .mid to a 44.1 kHz wav with the fluidsynth command line.

    The render is cut ``TAIL_S`` after ``end_s`` (the last bar line) with a fade-out, as a song
    ends: without the cut, fluidsynth renders reverb tails of up to 20 s.
    """
    exe = shutil.which("fluidsynth")
    if exe is None:
        raise SystemExit("fluidsynth not found: apt-get install fluidsynth fluid-soundfont-gm")
    if not soundfont.exists():
        raise SystemExit(f"{soundfont}: no such soundfont (apt-get install fluid-soundfont-gm)")
    tmp = wav_path.with_name(wav_path.name + ".part.wav")
    subprocess.run(
        [exe, "-ni", "-q", "-g", "0.5", "-r", str(SAMPLE_RATE), "-F", str(tmp), "-T", "wav",
         str(soundfont), str(midi_path)],
        check=True, capture_output=True,
    )  # fmt: skip
    audio, sr = sf.read(str(tmp), dtype="float32", always_2d=True)
    n_end = min(len(audio), round((end_s + TAIL_S) * sr))
    audio = audio[:n_end]
    n_fade = min(n_end, round(TAIL_S / 2 * sr))
    audio[n_end - n_fade :] *= np.linspace(1.0, 0.0, n_fade, dtype=np.float32)[:, None]
    sf.write(str(wav_path), audio, sr, subtype="PCM_16")
    tmp.unlink()


SETS: dict[str, tuple[tuple, int]] = {
    "midi": (SONGS, 0),
    "dev": (DEV_SONGS, 1000),
    "styles-dev": (STYLE_DEV, 2000),
    "styles-unseen": (STYLE_UNSEEN, 3000),
}
"""The sets by name, with the seed of their timing jitter: ``midi`` (the first benchmark set, twelve
songs in eight styles), ``dev`` (its tuning versions), ``styles-dev`` (sixteen dance styles, two
versions each, for tuning) and ``styles-unseen`` (two other versions of each: never tuned on)."""


def build_set(
    out_dir: Path = DEFAULT_OUT, soundfont: Path = DEFAULT_SOUNDFONT, *, which: str = "midi"
) -> list[BeatSong]:
    """Write, render (cached) and annotate every song of a set; returns them in table order.

    Args:
        out_dir: cache folder (.mid, .wav, .beats.txt, and the set's index ``WHICH.json``).
        soundfont: General MIDI soundfont for fluidsynth.
        which: a name of `SETS`.
    """
    makers, jitter_seed = SETS[which]
    out_dir.mkdir(parents=True, exist_ok=True)
    songs = []
    for i, make in enumerate(makers):
        score = make()
        midi_path = out_dir / f"{score.name}.mid"
        write_midi(score, midi_path, seed=i + jitter_seed)
        recipe = midi_path.read_bytes() + f"{soundfont} tail {TAIL_S}".encode()
        digest = hashlib.sha256(recipe).hexdigest()[:16]
        wav_path = out_dir / f"{score.name}.wav"
        stamp = out_dir / f"{score.name}.sha"
        beats = beat_times_from_midi(midi_path)
        if not wav_path.exists() or not stamp.exists() or stamp.read_text() != digest:
            log.info("rendering %s", score.name)
            render(midi_path, wav_path, soundfont, end_s=2 * beats[-1] - beats[-2])
            stamp.write_text(digest)
        np.savetxt(out_dir / f"{score.name}.beats.txt", beats, fmt="%.6f")
        bpm = float(60.0 / np.median(np.diff(beats)))
        songs.append(BeatSong(score.name, score.style, wav_path, beats, bpm, score.beats_per_bar))
    index = [{"name": s.name, "style": s.style, "audio": s.audio_path.name,
              "beats": f"{s.name}.beats.txt", "median_bpm": round(s.bpm, 2),
              "n_beats": len(s.beat_times_s)} for s in songs]  # fmt: skip
    (out_dir / f"{which}.json").write_text(json.dumps(index, indent=1))
    return songs


def _bpm_at(score: Score, beat: float) -> float:
    bpm = score.tempo_map[0][1]
    for b, value in score.tempo_map:
        if b <= beat:
            bpm = value
    return bpm


def _track(events: list[tuple[int, mido.Message]], end_tick: int) -> mido.MidiTrack:
    track = mido.MidiTrack()
    # note_off before note_on at the same tick, so repeated notes retrigger.
    events = sorted(events, key=lambda e: (e[0], e[1].type == "note_on"))
    now = 0
    for tick, msg in events:
        track.append(msg.copy(time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=max(0, end_tick - now)))
    return track


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="cache folder for the set")
    parser.add_argument("--soundfont", type=Path, default=DEFAULT_SOUNDFONT)
    parser.add_argument("--set", choices=list(SETS), default="midi", help="which set")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for song in build_set(args.out, args.soundfont, which=args.set):
        print(f"{song.name:24s} {song.style:18s} {song.bpm:6.1f} bpm "
              f"{len(song.beat_times_s):4d} beats {song.beat_times_s[-1]:5.1f} s")  # fmt: skip


if __name__ == "__main__":
    main()
