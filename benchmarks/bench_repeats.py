"""Online repeat memory benchmark: repeats recognised on synthesized songs, and the per-beat cost.

Songs come from `livedance.audio.composer.compose_song` (known form; each section's 8 bars play a
4-bar progression twice), fed through the live stage (`livedance.show.stage.BeatsToMoves`, as `livedance live` runs it,
30 times a second): each beat decided about one period ahead with the audio that has arrived by
then. A beat's music is identified by
(section letter, key shift, bar of the progression, beat of the bar); a repeat is right when the
beat it copies has the same identity.

- recall: beats whose music was heard before that were danced as a repeat, right ones only.
- precision: repeats that copy a beat with the same music.
- chord precision: repeats that copy a beat on the same chord (same harmony, which is what chroma
  hears; sections of different letters may share a progression, with another melody).
- cost: microseconds of the stage per beat (its features, the repeat memory's chroma of one beat
  and matching against all remembered bars, the choreographer's choice), median, p99 and max, with
  the history full (512 beats) at 44.1 kHz.

- real songs (``--music``, default ../shared/data/music when there): no truth, so only how many
  beats were danced as repeats, how often a repeat was recognised, and the cost. Beats from
  librosa's offline tracker stand in for the live clock's.

    python benchmarks/bench_repeats.py [--music ../shared/data/music]
Writes benchmarks/results/repeats.json and repeats.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import numpy.typing as npt

from livedance.audio.composer import compose_song
from livedance.choreo import Choreographer
from livedance.show.stage import BeatsToMoves, KnownBeats, StageMove, array_reader

SR = 44100
CASES = [
    {"form": "ABAB", "bpm": 120.0, "seed": 1},
    {"form": "ABACAB", "bpm": 96.0, "seed": 2},
    {"form": "AABCB", "bpm": 128.0, "seed": 3, "drums": False},
    {"form": "ABCAB", "bpm": 150.0, "seed": 4, "key_shift": {3: 2}},
    {"form": "ABCD", "bpm": 110.0, "seed": 5},
]
BARS = 8


def _feed(audio: npt.NDArray[np.float32], beats_s: npt.NDArray[np.float64]):  # type: ignore[no-untyped-def]
    """The live stage (`BeatsToMoves`, repeat memory included) on the song's beat grid, extended
    at 30 frames a second with only the audio heard so far, as `live` runs it.

    Returns the repeat source of each beat (None: not a repeat), the stage's cost per beat in µs
    (the frames that added a move), and the repeat memory.
    """
    moves: list[StageMove] = []
    stage = BeatsToMoves(
        Choreographer(seed=0), KnownBeats(beats_s), array_reader(audio), SR,
        on_move=moves.append,
    )  # fmt: skip
    cost_us = []
    for now_s in np.arange(0.0, float(beats_s[-1]) + 1e-6, 1 / 30):
        t = time.perf_counter_ns()
        added = stage.extend(float(now_s), captured_s=float(now_s))
        if added:
            cost_us.append((time.perf_counter_ns() - t) / 1e3 / added)
    by_beat = {round(m.move.start_s, 3): m.repeat_of_s for m in moves}
    sources = [by_beat.get(round(float(b), 3)) for b in beats_s]
    return sources, np.array(cost_us), stage.memory


def score(case: dict) -> dict:
    song = compose_song(
        bpm=case["bpm"], form=case["form"], bars_per_section=BARS, sr=SR, seed=case["seed"],
        drums=case.get("drums", True), key_shift=case.get("key_shift"),
    )  # fmt: skip
    beats_s = song.beat_times_s[:-1]
    shifts = case.get("key_shift") or {}
    identity = [
        (case["form"][k // (4 * BARS)], shifts.get(k // (4 * BARS), 0), (k // 4) % 4, k % 4)
        for k in range(len(beats_s))
    ]
    progressions = song.progressions  # the chord of each beat, as compose_song played it
    chord = [(i[1], progressions[i[0]][i[2]], i[3]) for i in identity]
    sources, cost_us, memory = _feed(song.audio.samples[:, 0], beats_s)
    repeatable = [k for k in range(len(beats_s)) if identity[k] in identity[:k]]
    right = wrong = same_chord = 0
    for k, source_s in enumerate(sources):
        if source_s is None:
            continue
        j = int(np.argmin(np.abs(beats_s - source_s)))
        same_chord += chord[j] == chord[k]
        if identity[j] == identity[k]:
            right += 1
        else:
            wrong += 1
    return {
        **{k: v for k, v in case.items() if k != "key_shift"},
        "key_shift": bool(case.get("key_shift")),
        "beats": len(beats_s),
        "repeatable_beats": len(repeatable),
        "repeats": right + wrong,
        "recall": right / max(1, len(repeatable)),
        "precision": right / max(1, right + wrong),
        "chord_precision": same_chord / max(1, right + wrong),
        "locks": memory.repeats_found,
        "cost_us_median": float(np.median(cost_us)),
    }


def cost_full_history(n_beats: int = 700) -> dict:
    """Per-beat cost with the memory full: 700 beats of a synthesized song at 120 bpm."""
    song = compose_song(bpm=120.0, form="ABCDEFGHIJKLMNOPQRSTUV", bars_per_section=8, sr=SR, seed=9)
    beats_s = song.beat_times_s[:n_beats]
    _, cost_us, _ = _feed(song.audio.samples[:, 0], beats_s)
    full = cost_us[512:]
    return {
        "beats": len(beats_s),
        "cost_us_median": float(np.median(full)),
        "cost_us_p99": float(np.percentile(full, 99)),
        "cost_us_max": float(np.max(full)),
    }


def real_songs(folder: Path) -> list[dict]:
    """Share of beats repeated and recognitions on real music (no truth)."""
    import librosa

    out = []
    for path in sorted(folder.glob("*.ogg")):
        audio, _ = librosa.load(str(path), sr=SR, mono=True)
        _, beats_s = librosa.beat.beat_track(y=audio, sr=SR, units="time")
        sources, cost_us, memory = _feed(audio.astype(np.float32), np.asarray(beats_s))
        out.append(
            {
                "song": path.stem,
                "duration_s": round(len(audio) / SR, 1),
                "beats": len(beats_s),
                "repeated_share": float(np.mean([s is not None for s in sources])),
                "locks": memory.repeats_found,
                "cost_us_median": float(np.median(cost_us)),
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--music", type=Path, default=Path("../shared/data/music"))
    args = parser.parse_args()
    rows = [score(case) for case in CASES]
    cost = cost_full_history()
    real = real_songs(args.music) if args.music.is_dir() else []
    result = {
        "machine": f"{platform.processor() or platform.machine()}, {platform.python_version()}",
        "songs": rows,
        "mean_recall": float(np.mean([r["recall"] for r in rows if r["repeatable_beats"]])),
        "mean_precision": float(np.mean([r["precision"] for r in rows if r["repeats"]])),
        "mean_chord_precision": float(
            np.mean([r["chord_precision"] for r in rows if r["repeats"]])
        ),
        "cost_full_history": cost,
        "real_songs": real,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "repeats.json").write_text(json.dumps(result, indent=2))
    lines = [
        "# Online repeat memory",
        "",
        "| form | bpm | drums | beats | repeatable | repeats | recall | precision | chord prec. |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['form']}{' (key shift)' if r['key_shift'] else ''} | {r['bpm']:.0f} | "
            f"{'yes' if r.get('drums', True) else 'no'} | {r['beats']} | {r['repeatable_beats']} | "
            f"{r['repeats']} | {r['recall']:.2f} | {r['precision']:.2f} | "
            f"{r['chord_precision']:.2f} |"
        )
    lines += [
        "",
        f"Mean recall {result['mean_recall']:.2f}, precision {result['mean_precision']:.2f}, "
        f"chord precision {result['mean_chord_precision']:.2f}.",
        f"Per-beat cost with 512 beats remembered (44.1 kHz): median {cost['cost_us_median']:.0f} µs,"
        f" p99 {cost['cost_us_p99']:.0f} µs, max {cost['cost_us_max']:.0f} µs.",
    ]
    if real:
        lines += [
            "",
            "Real songs (librosa's offline beats fed as live; no truth):",
            "",
            "| song | s | beats | danced as repeats | recognitions | µs/beat |",
            "|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {r['song']} | {r['duration_s']:.0f} | {r['beats']} | {r['repeated_share']:.0%} | "
            f"{r['locks']} | {r['cost_us_median']:.0f} |"
            for r in real
        ]
    (args.out / "repeats.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
