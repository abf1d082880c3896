"""Songs arranged from real recordings, with their sections, repeats and lags exactly known.

The benchmark songs of `benchmarks/bench_analysis.py` for song structure (the ``song.wav
--analyze--> song plan`` step), in three parts: ``TUNING`` (tune freely), ``DEV`` (the first
held-out part, looked at once its figures were in: now tuned on too) and ``UNSEEN`` (drawn from a
seed by `draw_arrangements`, never tuned on, reported apart). Tuning and dev each hold five songs
written by hand and two batches drawn like the unseen part (every form, other seeds, other
transpositions), so what is tuned on varies as much as what is not; tuning also holds four
batches of back-to-back repeats (A A B A, A A, choruses played twice in a row) with fades
from 30 ms to 1.5 s and some songs fading out.

The synthesized benchmark songs are chord progressions on the project's own drum kit; real music
is denser, its sections are not built from four-bar chord loops, and its timbre changes. These
songs cut segments out of the real recordings in ``shared/data/music`` and out of the demo song,
and arrange them in forms (A B A C B, A B C A B, A A B A, a verse-chorus form whose last chorus is
transposed, A B C D with no repeats, an intro and an outro around A B A). Each label is one segment of one recording, so every
occurrence of a label is the same audio (transposed with librosa's pitch shift where the form
says so), and no two labels of a song come from the same recording (a recording's own repeats
would otherwise make two labels sound alike). Segments start on a beat of their recording and
last a whole number of its beats, 8 to 32 s, with 30 ms fades at both ends.

Nothing here is committed: the songs are generated deterministically into a cache folder from
the recordings, read by path, with the truth written beside each as JSON.

Run:  python benchmarks/realset/arrange.py [--music ../shared/data/music] [--cache DIR]
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

import librosa
import numpy as np
import numpy.typing as npt
import platformdirs

from livedance.audio.composer import demo_song
from livedance.audio.io import Audio, load_audio, write_wav
from livedance.errors import LivedanceError

log = logging.getLogger(__name__)

SR = 44100
"""Sample rate of the arranged songs (that of the recordings)."""

FADE_S = 0.03
"""Fade in and out at both ends of every segment."""

GENERATOR_VERSION = "2"
"""Bumped when the arranging changes, so cached songs are rebuilt."""

SOURCES = {
    "fishin": "Karissa_Hobbs_-_Lets_Go_Fishin.ogg",
    "vibe": "Kevin_MacLeod_-_Vibe_Ace.ogg",
    "dnb": "admiralbob77_-_Choice_-_Drum-bass.ogg",
    "demo": "",  # livedance.audio.composer.demo_song
    # the soundtrack of the tai chi video: a recording none of the tuned parts use
    "taichi": "../video/taichi2.mp4",
}


@dataclass(frozen=True)
class Part:
    """One label's segment: ``length_s`` (rounded to whole beats) of ``source`` from ``start_s``
    (moved to the nearest beat)."""

    source: str
    start_s: float
    length_s: float


@dataclass(frozen=True)
class Arrangement:
    """A song to build: its form (one letter per section), each letter's part, the
    semitones by which some occurrences (index into the form) are transposed, the fade in and
    out at both ends of every segment, and the song's own fade-out (over its last seconds)."""

    name: str
    form: str
    parts: dict[str, Part]
    shifts: dict[int, int] = field(default_factory=dict)
    fade_s: float = FADE_S
    fade_out_s: float = 0.0


TUNING_HAND = (
    Arrangement("t1-ABACB", "ABACB", {"A": Part("fishin", 10.0, 20.0),
                                      "B": Part("vibe", 5.0, 16.0),
                                      "C": Part("dnb", 2.0, 12.0)}),
    Arrangement("t2-ABCAB", "ABCAB", {"A": Part("vibe", 30.0, 12.0),
                                      "B": Part("demo", 16.0, 24.0),
                                      "C": Part("fishin", 70.0, 16.0)}),
    Arrangement("t3-AABA", "AABA", {"A": Part("dnb", 0.0, 16.0),
                                    "B": Part("fishin", 40.0, 28.0)}),
    Arrangement("t4-VCVCBC", "VCVCBC", {"V": Part("fishin", 95.0, 16.0),
                                        "C": Part("vibe", 40.0, 14.0),
                                        "B": Part("demo", 48.0, 8.0)}, shifts={5: 2}),
    Arrangement("t5-ABCD", "ABCD", {"A": Part("demo", 0.0, 12.0),
                                    "B": Part("fishin", 55.0, 20.0),
                                    "C": Part("vibe", 20.0, 10.0),
                                    "D": Part("dnb", 5.0, 18.0)}),
)  # fmt: skip
"""The part the section finder was first tuned on, written by hand."""

DEV_HAND = (
    Arrangement("h1-ABACB", "ABACB", {"A": Part("vibe", 12.0, 18.0),
                                      "B": Part("fishin", 25.0, 24.0),
                                      "C": Part("demo", 50.0, 10.0)}),
    Arrangement("h2-ABCAB", "ABCAB", {"A": Part("fishin", 80.0, 14.0),
                                      "B": Part("dnb", 8.0, 16.0),
                                      "C": Part("vibe", 35.0, 20.0)}),
    Arrangement("h3-AABA", "AABA", {"A": Part("demo", 20.0, 12.0),
                                    "B": Part("vibe", 0.0, 30.0)}),
    Arrangement("h4-VCVCC", "VCVCC", {"V": Part("vibe", 25.0, 20.0),
                                      "C": Part("fishin", 110.0, 16.0)}, shifts={4: 1}),
    Arrangement("h5-ABCD", "ABCD", {"A": Part("fishin", 0.0, 24.0),
                                    "B": Part("dnb", 12.0, 10.0),
                                    "C": Part("demo", 64.0, 16.0),
                                    "D": Part("vibe", 8.0, 32.0)}),
)  # fmt: skip
"""The first held-out part, written by hand: reported once untuned (analysis version 9: 7/9
repeats, boundary F (3 s) 0.62), then looked at and tuned on: the development part."""

UNSEEN_SEED = 1717
"""Seed of the unseen part's draw (`draw_arrangements`)."""

UNSEEN_FORMS = (
    ("u1-ABACB", "ABACB", {}),
    ("u2-ABCAB", "ABCAB", {}),
    ("u3-AABA", "AABA", {}),
    ("u4-VCVCC", "VCVCC", {4: -2}),  # the last chorus a whole tone down
    ("u5-ABCD", "ABCD", {}),
    ("u6-IABAO", "IABAO", {}),  # intro, A B A, outro
    ("u7-VCVCBC", "VCVCBC", {5: 1}),  # the last chorus a semitone up
)
"""(name, form, shifts by occurrence) of the unseen part; sources, starts and lengths are drawn."""


SOURCE_DURATIONS_S = {"fishin": 133.0, "vibe": 61.4, "dnb": 25.0, "demo": 82.0, "taichi": 30.0}
"""Length of each source recording (the demo song: 40 bars at 120 BPM)."""


def draw_arrangements(
    seed: int,
    forms: tuple[tuple[str, str, dict[int, int]], ...],
    *,
    avoid: tuple[Arrangement, ...] = (),
    durations_s: dict[str, float] | None = None,
) -> tuple[Arrangement, ...]:
    """Arrangements with each label's recording, start and length (8-32 s) drawn from ``seed``.

    Each song takes distinct recordings for its labels; a segment starts at least 4 s away from
    every segment of the same recording in ``avoid`` (the tuned parts), so the unseen part cuts
    other music wherever the recording is long enough.

    Args:
        seed: the draw's seed.
        forms: (name, form, shifts) per song.
        avoid: arrangements whose segment starts the draw keeps away from.
        durations_s: each source's length (default `SOURCE_DURATIONS_S`).

    Returns:
        One arrangement per form.
    """
    durations_s = durations_s or SOURCE_DURATIONS_S
    rng = np.random.default_rng(seed)
    used: dict[str, list[float]] = {}
    for arr in avoid:
        for part in arr.parts.values():
            used.setdefault(part.source, []).append(part.start_s)
    out = []
    for name, form, shifts in forms:
        labels = list(dict.fromkeys(form))
        sources = rng.permutation(sorted(durations_s))[: len(labels)]
        parts = {}
        for label, source in zip(labels, sources, strict=True):
            source = str(source)
            longest_s = min(32.0, durations_s[source] - 2.0)
            for _ in range(100):
                length_s = round(float(rng.uniform(8.0, longest_s)), 1)
                start_s = round(float(rng.uniform(0.0, durations_s[source] - length_s - 1.0)), 1)
                if all(abs(start_s - u) >= 4.0 for u in used.get(source, [])):
                    break
            used.setdefault(source, []).append(start_s)
            parts[label] = Part(source, start_s, length_s)
        out.append(Arrangement(name, form, parts, shifts=dict(shifts)))
    return tuple(out)


UNSEEN = draw_arrangements(UNSEEN_SEED, UNSEEN_FORMS, avoid=TUNING_HAND + DEV_HAND)
"""Drawn once after all tuning on the hand-written parts; never tuned on, reported apart. Its
draw avoids only the hand-written parts, so the drawn songs added to tuning and dev below leave it
exactly as it was."""

DRAWN_FORMS = (
    (("ABACB", {}), ("ABCAB", {}), ("AABA", {}), ("VCVCC", {4: 2}), ("ABCD", {}),
     ("IABAO", {}), ("VCVCBC", {5: -1})),
    (("ABACB", {}), ("ABCAB", {}), ("AABA", {}), ("VCVCC", {4: -1}), ("ABCD", {}),
     ("IABAO", {}), ("VCVCBC", {5: 3})),
)  # fmt: skip
"""Forms of each drawn batch of tuning and dev songs: every form of the unseen part, the last
chorus transposed by other steps (up and down, 1 to 3 semitones)."""

TUNING_SEEDS = (2101, 2102)
"""Seeds of the drawn tuning batches (one per `DRAWN_FORMS` entry); never `UNSEEN_SEED`."""

DEV_SEEDS = (2201, 2202)
"""Seeds of the drawn dev batches."""


def _drawn(prefix: str, seeds: tuple[int, ...], avoid: tuple[Arrangement, ...]) -> tuple:
    """Batches of songs drawn like the unseen part's, named ``<prefix><seed>-<n><form>``, their
    segments kept away from those of ``avoid`` (the unseen part's music stays unheard)."""
    out: tuple[Arrangement, ...] = ()
    for seed, forms in zip(seeds, DRAWN_FORMS, strict=True):
        named = tuple(
            (f"{prefix}{seed}-{i + 1}{form}", form, shifts)
            for i, (form, shifts) in enumerate(forms)
        )
        out += draw_arrangements(seed, named, avoid=avoid + out)
    return out


TUNING = TUNING_HAND + _drawn("t", TUNING_SEEDS, UNSEEN + TUNING_HAND + DEV_HAND)
"""The part the section finder may be tuned on: the hand-written songs and drawn batches."""

DEV = DEV_HAND + _drawn("h", DEV_SEEDS, UNSEEN + TUNING + DEV_HAND)
"""The development part: checked after tuning on ``TUNING``, tuned on too since."""

BACK_TO_BACK_FORMS = (
    ("AABA", {}, FADE_S, 0.0), ("AABA", {}, 1.0, 0.0), ("AAB", {}, 0.3, 0.0),
    ("IAAO", {}, FADE_S, 0.0), ("VCVCC", {4: 2}, 0.5, 0.0), ("VCVCC", {}, FADE_S, 0.0),
    ("BAA", {}, 1.5, 0.0), ("AABA", {}, FADE_S, 5.0), ("VCVCC", {}, FADE_S, 5.0),
)  # fmt: skip
"""(form, shifts, fade, fade-out) of each batch of back-to-back repeats: A A B A and A A forms
and verse-chorus forms whose last two choruses follow each other, with fades from 30 ms to 1.5 s
and some songs fading out over their last 5 s (where a beat tracker loses the last beats). The
first drawn batches held no A A B A whose second A starts more than 0.5 s off, so nothing tuned
on them looked at where a back-to-back repeat starts."""

BACK_TO_BACK_SEEDS = (2103, 2104, 2105, 2106)
"""Seeds of the tuning batches of back-to-back repeats; never `UNSEEN_SEED`."""


def _back_to_back(avoid: tuple[Arrangement, ...]) -> tuple[Arrangement, ...]:
    out: tuple[Arrangement, ...] = ()
    for seed in BACK_TO_BACK_SEEDS:
        named = tuple(
            (f"t{seed}-{i + 1}{form}", form, shifts)
            for i, (form, shifts, _, _) in enumerate(BACK_TO_BACK_FORMS)
        )
        drawn = draw_arrangements(seed, named, avoid=avoid + out)
        out += tuple(
            dataclasses.replace(arr, fade_s=fade_s, fade_out_s=fade_out_s)
            for arr, (_, _, fade_s, fade_out_s) in zip(drawn, BACK_TO_BACK_FORMS, strict=True)
        )
    return out


TUNING += _back_to_back(UNSEEN + TUNING + DEV)
"""The tuning part gains the back-to-back batches after ``DEV`` was drawn, so dev's songs stay
as they were."""


@dataclass(frozen=True)
class ArrangedSong:
    """A generated song: its wav and its truth."""

    name: str
    wav: Path
    truth: dict


def default_cache() -> Path:
    return Path(platformdirs.user_cache_dir("livedance")) / "bench-arrangements"


def build_all(
    arrangements: tuple[Arrangement, ...], *, music: Path, cache: Path
) -> list[ArrangedSong]:
    """Generate (or reuse from ``cache``) every arrangement.

    Raises:
        LivedanceError: a recording is missing.
    """
    cache.mkdir(parents=True, exist_ok=True)
    sources: dict[str, tuple[Audio, npt.NDArray[np.float64]]] = {}
    out = []
    for arr in arrangements:
        described = asdict(arr)
        for name, default in (("fade_s", FADE_S), ("fade_out_s", 0.0)):
            if described[name] == default:
                del described[name]  # songs built before fades varied keep their key
        key = hashlib.sha256(
            json.dumps([GENERATOR_VERSION, described], sort_keys=True).encode()
        ).hexdigest()[:12]
        wav, truth_path = cache / f"{arr.name}.wav", cache / f"{arr.name}.json"
        if wav.is_file() and truth_path.is_file():
            truth = json.loads(truth_path.read_text())
            if truth.get("key") == key:
                out.append(ArrangedSong(arr.name, wav, truth))
                continue
        for part in arr.parts.values():
            if part.source not in sources:
                sources[part.source] = _load_source(part.source, music)
        audio, truth = arrange(arr, sources)
        truth["key"] = key
        write_wav(wav, audio)
        truth_path.write_text(json.dumps(truth, indent=1))
        log.info("built %s (%.1f s)", wav, audio.duration_s)
        out.append(ArrangedSong(arr.name, wav, truth))
    return out


def arrange(
    arr: Arrangement, sources: dict[str, tuple[Audio, npt.NDArray[np.float64]]]
) -> tuple[Audio, dict]:
    """The song's samples and its truth (sections with bounds, labels, repeats, lags, shifts)."""
    segments: dict[str, npt.NDArray[np.float32]] = {}
    for label, part in arr.parts.items():
        audio, beat_times_s = sources[part.source]
        first = int(np.argmin(np.abs(beat_times_s - part.start_s)))
        period_s = float(np.median(np.diff(beat_times_s)))
        n_beats = max(1, round(part.length_s / period_s))
        # a segment drawn near the recording's end starts earlier rather than shrink
        first = max(0, min(first, len(beat_times_s) - 1 - n_beats))
        last = min(first + n_beats, len(beat_times_s) - 1)
        i0, i1 = (round(float(beat_times_s[b]) * SR) for b in (first, last))
        if not 7.5 <= (i1 - i0) / SR <= 32.5:
            raise LivedanceError(f"{arr.name}: section {label} lasts {(i1 - i0) / SR:.1f} s")
        segments[label] = _faded(audio.samples[i0:i1], arr.fade_s)
    pieces = []
    sections = []
    first_at: dict[str, int] = {}
    t = 0
    for i, label in enumerate(arr.form):
        seg = segments[label]
        shift = arr.shifts.get(i, 0)
        if shift:
            seg = _faded(
                np.stack(
                    [librosa.effects.pitch_shift(np.ascontiguousarray(seg[:, c]), sr=SR,
                                                 n_steps=shift) for c in range(seg.shape[1])],
                    axis=1,
                ).astype(np.float32), arr.fade_s
            )  # fmt: skip
        repeats = first_at.get(label)
        sections.append(
            {
                "start_s": t / SR,
                "end_s": (t + len(seg)) / SR,
                "label": label,
                "repeats": repeats,
                "lag_s": None if repeats is None else t / SR - sections[repeats]["start_s"],
                # every earlier occurrence: a repeat may point at any of them
                "lags_s": [t / SR - s["start_s"] for s in sections if s["label"] == label],
                "shift": shift,
            }
        )
        first_at.setdefault(label, i)
        pieces.append(seg)
        t += len(seg)
    samples = np.concatenate(pieces)
    if arr.fade_out_s > 0:
        n = min(round(arr.fade_out_s * SR), len(samples))
        samples[len(samples) - n :] *= np.linspace(1.0, 0.0, n, dtype=np.float32)[:, None]
    truth = {
        "name": arr.name,
        "form": arr.form,
        "duration_s": len(samples) / SR,
        "sections": sections,
        "parts": {k: asdict(v) for k, v in arr.parts.items()},
        "fade_s": arr.fade_s,
        "fade_out_s": arr.fade_out_s,
    }
    return Audio(samples, SR), truth


def _load_source(name: str, music: Path) -> tuple[Audio, npt.NDArray[np.float64]]:
    """A recording as stereo at ``SR``, and its beats (librosa's tracker, for the cut points)."""
    if name == "demo":
        mono = demo_song(sr=SR).audio.mono()
        audio = Audio(np.stack([mono, mono], axis=1), SR)
    else:
        path = music / SOURCES[name]
        if not path.is_file():
            raise LivedanceError(f"{path}: recording missing (pass --music)")
        audio = load_audio(path)
        if audio.sample_rate != SR:
            samples = librosa.resample(audio.samples.T, orig_sr=audio.sample_rate, target_sr=SR)
            audio = Audio(np.ascontiguousarray(samples.T, dtype=np.float32), SR)
        if audio.channels == 1:
            audio = Audio(np.repeat(audio.samples, 2, axis=1), SR)
    _, beat_times_s = librosa.beat.beat_track(y=audio.mono(), sr=SR, units="time")
    return audio, np.asarray(beat_times_s, dtype=np.float64)


def _faded(samples: npt.NDArray[np.float32], fade_s: float = FADE_S) -> npt.NDArray[np.float32]:
    n = min(round(fade_s * SR), len(samples) // 2)
    ramp = np.linspace(0.0, 1.0, n, dtype=np.float32)[:, None]
    out = samples.copy()
    out[:n] *= ramp
    out[len(out) - n :] *= ramp[::-1]
    return out


def main() -> None:
    here = Path(__file__).resolve().parent
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--music", type=Path, default=here.parents[2] / "shared/data/music")
    parser.add_argument("--cache", type=Path, default=default_cache())
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    for part, arrangements in (("tuning", TUNING), ("dev", DEV), ("unseen", UNSEEN)):
        for song in build_all(arrangements, music=args.music, cache=args.cache):
            print(part, song.wav, song.truth["form"], f"{song.truth['duration_s']:.1f} s")


if __name__ == "__main__":
    main()
