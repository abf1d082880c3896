"""Training data for the learned beat activation: new songs from the beat-set generator.

OFFLINE, feeding `offline.beatnet.train`. The beat-set generator (`benchmarks/beatset`) writes
multi-instrument General MIDI songs in the first set's styles and the sixteen dance styles, with
exact beat truth; here it writes NEW versions of them (other seeds, tempi drawn at random around
each style's range, other instrumentations and keys), renders them with fluidsynth, and runs each
through the live tracker's own front end (`livedance.audio.novelty.NoveltyFrontEnd`, hop by hop,
as on stage), so the model is trained on exactly the features it sees live. Per song it keeps
the features (log mel bands and their rise per hop) and the beat and downbeat frames.

Seeds start at `SEED0`, far from the benchmark sets' (the midi set 11-22, dev 111-122,
styles-dev 500-661, styles-unseen 900-1061, jitter seeds below 4000): nothing here is a
benchmark song.
"""

from __future__ import annotations

import hashlib
import logging
import sys
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import numpy.typing as npt

from livedance.audio.beats import DEFAULT_HOP, DEFAULT_WIN, NOVELTY_LATENCY_S
from livedance.audio.io import load_audio
from livedance.audio.novelty import NoveltyFrontEnd

_BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
if str(_BENCH) not in sys.path:  # the generator lives with the benchmarks
    sys.path.insert(0, str(_BENCH))
from beatset import songs as first_set  # noqa: E402
from beatset.render import DEFAULT_SOUNDFONT, beat_times_from_midi, render, write_midi  # noqa: E402
from beatset.styles import STYLES  # noqa: E402

log = logging.getLogger(__name__)

DEFAULT_DATA_DIR = Path("/tmp/livedance-beatnet")
FIRST_SET_INDEX0 = 1000
"""`make_example`'s index (its timing-jitter seed) of the first extra first-set song."""
SEED0 = 20000
"""First seed of the generated songs (see the module docstring)."""

FIRST_SET_SEED0 = 30000
"""First seed of the extra songs in the first set's styles (`first_set_makers`)."""

COMPOSED_SEED0 = 40000
"""First seed of the songs of the project's own synthesizer (its tests use seeds below 100)."""

STYLE_BPM: dict[str, tuple[float, float]] = {
    "reggaeton": (86, 102), "dancehall": (90, 108), "afrobeats": (98, 118),
    "trap": (126, 152), "UK garage": (128, 140), "bossa nova": (120, 150),
    "samba": (90, 108), "funk": (94, 118), "disco": (110, 128), "swing": (156, 200),
    "6/8": (54, 80), "3/4": (92, 156), "ballad": (58, 78), "techno": (122, 142),
    "drum and bass": (162, 178), "footwork": (152, 164),
}  # fmt: skip
"""Tempo range drawn from per style (the styles' own ranges, a little wider)."""

FIRST_SET_BPM = {
    first_set.four_floor: (115, 132), first_set.swing_jazz: (110, 170),
    first_set.shuffle_blues: (78, 104), first_set.funk: (90, 112),
    first_set.hiphop: (80, 100), first_set.piano_ballad: (72, 104),
    first_set.folk_guitar: (76, 108), first_set.waltz: (120, 176),
    first_set.slow_ballad: (60, 80), first_set.punk: (150, 190),
}  # fmt: skip
"""The first set's styles (tempo changes left out) and their tempo ranges."""

FIRST_SET_EXTRA_BPM = {
    **FIRST_SET_BPM,
    first_set.hiphop: (72, 102), first_set.piano_ballad: (66, 108),
    first_set.slow_ballad: (56, 84),
}  # fmt: skip
"""The first set's styles for `first_set_makers`: the slow ones reach lower, where a network
trained mostly on dance styles took a hip-hop beat's off-beat eighths for beats (dev: 86 BPM
followed at 172)."""


@dataclass(frozen=True)
class Example:
    """One rendered song's features and targets (hop rate of the live tracker).

    Attributes:
        name: the song's file stem.
        features: ``(frames, 2 * N_BANDS)`` float32, the front end's log bands and their rise.
        beat_frames: frames on which a beat lands (where the live estimator expects it).
        downbeat_frames: the bar's first beats among them.
    """

    name: str
    features: npt.NDArray[np.float32]
    beat_frames: npt.NDArray[np.int64]
    downbeat_frames: npt.NDArray[np.int64]


def song_makers(n_songs: int, seed: int = SEED0) -> list[partial]:
    """``n_songs`` new song makers, cycling through the styles (dance styles twice as often as
    the first set's), each at a random tempo of its range, with a new seed and instrumentation."""
    rng = np.random.default_rng(seed)
    pool: list[tuple[object, tuple[float, float], bool]] = [
        (maker, STYLE_BPM[name], True) for name, maker in STYLES.items()
    ] * 2 + [(maker, bpm, False) for maker, bpm in FIRST_SET_BPM.items()]
    makers = []
    for i in range(n_songs):
        maker, (lo, hi), has_variant = pool[i % len(pool)]
        bpm = float(np.round(rng.uniform(lo, hi), 1))
        kwargs = {"bpm": bpm, "seed": seed + i, "tag": f"-train{i}"}
        if has_variant:
            kwargs["variant"] = int(rng.integers(0, 4))
        makers.append(partial(maker, **kwargs))
    return makers


def first_set_makers(n_songs: int, seed: int = FIRST_SET_SEED0) -> list[partial]:
    """``n_songs`` more songs in the first set's styles, tempo changes included (a step or a
    ramp between two tempi drawn from 76..150 BPM), each with a new seed and tempo."""
    rng = np.random.default_rng(seed)
    pool: list[object] = [*FIRST_SET_EXTRA_BPM, first_set.tempo_step, first_set.tempo_ramp]
    makers = []
    for i in range(n_songs):
        maker = pool[i % len(pool)]
        kwargs: dict[str, object] = {"seed": seed + i, "tag": f"-extra{i}"}
        if maker is first_set.tempo_step:
            kwargs["bpm_after"] = float(np.round(rng.uniform(76, 150), 1))
        elif maker is first_set.tempo_ramp:
            kwargs["bpm_end"] = float(np.round(rng.uniform(76, 150), 1))
        lo, hi = FIRST_SET_EXTRA_BPM.get(maker, (76, 150))  # type: ignore[call-overload]
        kwargs["bpm"] = float(np.round(rng.uniform(lo, hi), 1))
        makers.append(partial(maker, **kwargs))  # type: ignore[arg-type]
    return makers


def front_end_features(mono: npt.NDArray[np.float32], sample_rate: int) -> npt.NDArray[np.float32]:
    """The live front end's log bands and their rise, hop by hop: ``(frames, 2 * N_BANDS)``."""
    front_end = NoveltyFrontEnd(sample_rate, DEFAULT_HOP, DEFAULT_WIN)
    n = len(mono) // DEFAULT_HOP
    out = np.empty((n, 2 * len(front_end.bands)), np.float32)
    for i in range(n):
        front_end.process(np.ascontiguousarray(mono[i * DEFAULT_HOP : (i + 1) * DEFAULT_HOP]))
        out[i] = front_end.features
    return out


def beat_frame(times_s: npt.NDArray[np.float64], frame_rate_hz: float) -> npt.NDArray[np.int64]:
    """The hop on which the live estimator places a beat at ``times_s``: value ``i`` is stamped
    ``(i + 1) / frame_rate_hz`` and the estimator takes `NOVELTY_LATENCY_S` off its peaks."""
    return np.round((times_s + NOVELTY_LATENCY_S) * frame_rate_hz).astype(np.int64) - 1


def make_example(maker: partial, out_dir: Path, index: int, soundfont: Path) -> Path:
    """Write, render and analyse one song (cached by the .mid's content); returns its .npz."""
    score = maker()
    midi_path = out_dir / f"{score.name}.mid"
    write_midi(score, midi_path, seed=SEED0 + 7919 * (index + 1))
    digest = hashlib.sha256(midi_path.read_bytes()).hexdigest()[:16]
    npz_path = out_dir / f"{score.name}.{digest}.npz"
    if npz_path.exists():
        return npz_path
    beats_s = beat_times_from_midi(midi_path)
    wav_path = out_dir / f"{score.name}.wav"
    render(midi_path, wav_path, soundfont, end_s=2 * beats_s[-1] - beats_s[-2])
    audio = load_audio(wav_path)
    features = front_end_features(audio.mono(), audio.sample_rate)
    frame_rate_hz = audio.sample_rate / DEFAULT_HOP
    frames = beat_frame(beats_s, frame_rate_hz)
    keep = (frames >= 0) & (frames < len(features))
    downbeats = np.zeros(len(beats_s), bool)
    downbeats[:: score.beats_per_bar] = True
    np.savez_compressed(
        npz_path,
        features=features,
        beat_frames=frames[keep],
        downbeat_frames=frames[keep & downbeats],
    )
    wav_path.unlink()  # the features are what training reads; 8 MB a song otherwise
    return npz_path


def make_composed_example(index: int, out_dir: Path) -> Path:
    """One song of the project's own synthesizer (`livedance.audio.composer`: other drum and
    instrument sounds than the soundfont's), seed ``COMPOSED_SEED0 + index``; its .npz."""
    from livedance.audio.composer import compose_song

    npz_path = out_dir / f"composed-{COMPOSED_SEED0 + index}.npz"
    if npz_path.exists():
        return npz_path
    rng = np.random.default_rng(COMPOSED_SEED0 + index)
    bpm = float(np.round(rng.uniform(64, 176), 1))
    ramp = rng.random() < 0.2
    song = compose_song(
        bpm=bpm,
        bpm_end=bpm * float(rng.uniform(0.8, 1.25)) if ramp else None,
        form=str(rng.choice(["ABAB", "AABA", "ABAC", "ABCB"])),
        bars_per_section=4,
        seed=COMPOSED_SEED0 + index,
        drums=bool(rng.random() > 0.2),
    )
    sr = song.audio.sample_rate
    features = front_end_features(song.audio.mono(), sr)
    frames = beat_frame(song.beat_times_s, sr / DEFAULT_HOP)
    down = beat_frame(song.downbeat_times_s, sr / DEFAULT_HOP)
    n = len(features)
    np.savez_compressed(
        npz_path,
        features=features,
        beat_frames=frames[(frames >= 0) & (frames < n)],
        downbeat_frames=down[(down >= 0) & (down < n)],
    )
    return npz_path


def build(
    n_songs: int,
    out_dir: Path = DEFAULT_DATA_DIR,
    soundfont: Path = DEFAULT_SOUNDFONT,
    *,
    n_first_set: int = 0,
    n_composed: int = 0,
    progress: bool = True,
) -> list[Path]:
    """Render and analyse ``n_songs`` new songs of the beat-set generator, ``n_first_set`` more
    in the first set's styles (`first_set_makers`) and ``n_composed`` of the project's
    synthesizer into ``out_dir`` (cached); their .npz files."""
    from tqdm import tqdm

    out_dir.mkdir(parents=True, exist_ok=True)
    makers = song_makers(n_songs)
    rendered = [
        make_example(maker, out_dir, i, soundfont)
        for i, maker in enumerate(tqdm(makers, desc="rendered songs", disable=not progress))
    ]
    extra = [
        make_example(maker, out_dir, FIRST_SET_INDEX0 + i, soundfont)
        for i, maker in enumerate(
            tqdm(first_set_makers(n_first_set), desc="first-set songs", disable=not progress)
        )
    ]
    composed = [
        make_composed_example(i, out_dir)
        for i in tqdm(range(n_composed), desc="composed songs", disable=not progress)
    ]
    return rendered + extra + composed


def load(path: Path) -> Example:
    """One .npz written by `make_example`."""
    with np.load(path) as z:
        return Example(
            path.name.split(".")[0], z["features"], z["beat_frames"], z["downbeat_frames"]
        )
