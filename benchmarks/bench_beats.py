"""Beat-tracking accuracy on the MIDI beat set: the live tracker against aubio, librosa, song plan.

The set (`benchmarks/beatset/`) is multi-instrument General MIDI songs in several styles rendered
with fluidsynth; the truth is the MIDI's quarter-note grid. Each tracker is scored with mir_eval
(F-measure with the 70 ms window, CMLt, AMLt; the first 5 s trimmed from truth and estimate as
MIREX does). Trackers:

- ``livedance (causal)``: `livedance.audio.beats.BeatTracker` fed hop by hop exactly as on stage;
  each beat is scored at the time the tracker gave it when it declared it. Also measured: the
  declaration delay (declared time - true beat) and the beat clock's prediction error (the next
  beat `BeatClock.next_beat_s` predicts ``--lead-ms`` before each true beat, minus that beat).
- ``aubio tempo``: aubio's own tracker (``aubio.tempo("default")``), fed hop by hop.
- ``librosa (offline)``: ``librosa.beat.beat_track`` on the whole file (not causal).
- ``song plan (offline)``: ``offline.analysis.analyze_file`` when that package is importable.

The set is rendered on first use (fluidsynth, ~10-30 s) and cached in ``--set-dir``. ``--set``
chooses it: ``midi`` (the first benchmark set), ``dev`` (its tuning versions), ``styles-dev``
(sixteen dance styles, `beatset/styles.py`, to tune on) and ``styles-unseen`` (two other versions
of each style, never tuned on: report it apart). ``livedance live (stage)`` scores where the live
stage starts its moves (`dance_causally`), the beats the dancer lands on. The phase error is the
median |estimate - true| of the beats within 70 ms (how far from the accent a move lands).

Usage:
    python benchmarks/bench_beats.py [--set-dir /tmp/livedance-beatset] [--set SET] \
        [--out benchmarks/results/beats.json] [--markdown benchmarks/results/beats.md]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import aubio
import librosa
import mir_eval
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from beatset.render import DEFAULT_OUT, DEFAULT_SOUNDFONT, SETS, BeatSong, build_set

from livedance.audio.beats import DEFAULT_HOP, BeatTracker
from livedance.audio.io import load_audio
from livedance.measure.machine import describe
from livedance.show.stage import dance_causally

PUBLISHED = (
    "reported in the issue for a set built the same way (not re-measured here, BeatNet needs "
    "torch): aubio tempo 0.61, librosa 0.78, BeatNet (online particle-filtered neural net) 0.90"
)


def causal_livedance(
    path: Path, truth_s: np.ndarray, lead_s: float, activation: str = "handcrafted"
) -> dict:
    """Run the live tracker hop by hop; beats, declaration delays and prediction errors.

    ``activation``: what the tracker folds (`livedance.audio.activation`)."""
    audio = load_audio(path)
    mono, sr = audio.mono(), audio.sample_rate
    tracker = BeatTracker(sr, activation=activation)  # type: ignore[arg-type]
    hop = tracker.hop_samples
    beats, delays = [], []
    queries = list(truth_s - lead_s)  # when to ask the clock for the next beat
    q = 0
    predictions: list[tuple[float, float]] = []  # (true beat, predicted beat)
    t0 = time.perf_counter()
    for i in range(len(mono) // hop):
        event = tracker.process(mono[i * hop : (i + 1) * hop])
        now = tracker.time_s
        while q < len(queries) and queries[q] <= now:
            predicted = tracker.clock.next_beat_s(now)
            if predicted is not None:
                predictions.append((truth_s[q], predicted))
            q += 1
        if event is not None:
            beats.append(event.time_s)
            delays.append(event.declared_s)
    elapsed = time.perf_counter() - t0
    beats_a = np.array(beats)
    declared = np.array(delays)
    # declaration delay: for each declared beat matched to a true beat within 70 ms
    lag = _matched_offsets(declared, beats_a, truth_s)
    pred = np.array([p - t for t, p in predictions if t >= 5.0])
    return {
        "beats": beats_a,
        "lock_s": _lock_time(beats_a, truth_s),
        "declared_minus_true_s": lag,
        "predicted_minus_true_s": pred,
        "n_predictions": len(pred),
        "n_truth_after_5s": int(np.sum(truth_s >= 5.0)),
        "realtime_factor": audio.duration_s / elapsed,
    }


def live_stage_moves(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Where `livedance live` starts its moves (the tracker and the beats-to-moves stage fed hop
    by hop, `livedance.show.stage.dance_causally`, as ``livedance beats --causal``), and the
    moves it took for a bar's first beat (the live bar phase)."""
    audio = load_audio(path)
    dance = dance_causally(audio.mono(), audio.sample_rate, repeats=False)
    starts = np.array([m.move.start_s for m in dance.moves])
    return starts, np.array([m.move.start_s for m in dance.moves if m.downbeat])


def score_downbeats(truth_s: np.ndarray, beats_per_bar: int, called_s: np.ndarray) -> dict:
    """The live stage's called downbeats against every ``beats_per_bar``-th true beat (the
    truth starts on a bar line; the live bar phase assumes four beats a bar): precision (called
    ones within 70 ms of a true downbeat), recall and F, first 5 s trimmed."""
    ref = mir_eval.beat.trim_beats(truth_s[::beats_per_bar])
    est = mir_eval.beat.trim_beats(np.sort(called_s))
    hit = np.abs(est[:, None] - ref[None, :]).min(axis=1) <= 0.07 if len(est) and len(ref) else []
    return {
        "F": float(mir_eval.beat.f_measure(ref, est)) if len(est) else 0.0,
        "precision": float(np.mean(hit)) if len(est) else float("nan"),
        "called": len(est),
        "true": len(ref),
    }


def activation_cost_ms(path: Path, n_hops: int = 4000) -> dict[str, float]:
    """Milliseconds the learned activation (`livedance.audio.activation`) takes per hop, on
    ``n_hops`` hops of a real song's features (median and p99 of single-hop calls, as live)."""
    from livedance.audio.activation import load_activation
    from livedance.audio.novelty import NoveltyFrontEnd

    network = load_activation("learned")
    assert network is not None
    audio = load_audio(path)
    mono, sr = audio.mono(), audio.sample_rate
    front_end = NoveltyFrontEnd(sr, DEFAULT_HOP, 1024)
    costs = []
    for i in range(min(n_hops, len(mono) // DEFAULT_HOP)):
        front_end.process(np.ascontiguousarray(mono[i * DEFAULT_HOP : (i + 1) * DEFAULT_HOP]))
        features = front_end.features
        t0 = time.perf_counter()
        network.process(features)
        costs.append(time.perf_counter() - t0)
    ms = np.array(costs) * 1e3
    return {
        "median_ms": round(float(np.median(ms)), 3),
        "p99_ms": round(float(np.percentile(ms, 99)), 3),
    }


def activations(tracker_names: list[str]) -> dict[str, str]:
    """What each livedance column's tracker folded: the causal columns name theirs, the stage
    and the song plan's live guide take the default (``auto``: the learned network when its
    file is there), named with the network file and the first digits of its SHA-256."""
    import hashlib

    from livedance.audio.activation import default_model_path

    path = default_model_path()
    learned = "handcrafted (no network file)"
    if path is not None and path.exists():
        learned = f"learned ({path.name} {hashlib.sha256(path.read_bytes()).hexdigest()[:12]})"
    fixed = {"livedance (causal)": "handcrafted", "livedance learned (causal)": learned}
    default = {"livedance live (stage)": learned, "song plan (offline)": learned}
    return {n: {**fixed, **default}[n] for n in tracker_names if n in fixed or n in default}


def aubio_tempo(path: Path) -> np.ndarray:
    """aubio's own tempo tracker fed hop by hop (the beat times it reports)."""
    audio = load_audio(path)
    mono, sr = audio.mono(), audio.sample_rate
    tempo = aubio.tempo("default", 1024, DEFAULT_HOP, sr)
    beats = []
    for i in range(len(mono) // DEFAULT_HOP):
        if tempo(np.ascontiguousarray(mono[i * DEFAULT_HOP : (i + 1) * DEFAULT_HOP]))[0]:
            beats.append(tempo.get_last_s())
    return np.array(beats)


def librosa_offline(path: Path) -> np.ndarray:
    """librosa's dynamic-programming tracker with its defaults, on the whole file."""
    y, sr = librosa.load(str(path), sr=22050, mono=True)
    _, beats = librosa.beat.beat_track(y=y, sr=sr, units="time")
    return np.asarray(beats, dtype=np.float64)


def song_plan() -> Callable[[Path], np.ndarray] | None:
    """The offline song plan's beats, if `offline.analysis` can be imported."""
    try:
        from offline import analysis
    except ImportError:
        return None
    if not hasattr(analysis, "analyze_file"):  # the package is still being built
        return None

    def run(path: Path) -> np.ndarray:
        plan = analysis.analyze_file(str(path), use_cache=False)
        return np.asarray(plan.beat_times_s, dtype=np.float64)

    return run


def score(truth_s: np.ndarray, beats_s: np.ndarray) -> dict[str, float]:
    """mir_eval F-measure, CMLt and AMLt, first 5 s trimmed; and the phase error of the matched
    beats (median |estimate - true| over estimates within 70 ms of a true beat, in ms: how far
    from the accent a move lands when it lands on the beat)."""
    ref = mir_eval.beat.trim_beats(truth_s)
    est = mir_eval.beat.trim_beats(np.sort(np.asarray(beats_s, dtype=np.float64)))
    _, cmlt, _, amlt = mir_eval.beat.continuity(ref, est)
    phase_ms = float("nan")
    if len(est) and len(ref):
        d = np.abs(est[:, None] - ref[None, :]).min(axis=1)
        if (d <= 0.07).any():
            phase_ms = float(np.median(d[d <= 0.07])) * 1e3
    return {
        "F": mir_eval.beat.f_measure(ref, est), "CMLt": cmlt, "AMLt": amlt, "phase_ms": phase_ms,
    }  # fmt: skip


def _lock_time(beats: np.ndarray, truth: np.ndarray, run: int = 4) -> float:
    """Seconds from the first true beat to the first of ``run`` consecutive correct beats."""
    if len(beats) == 0:
        return float("nan")
    ok = np.abs(beats[:, None] - truth[None, :]).min(axis=1) <= 0.07
    for i in range(len(beats) - run + 1):
        if ok[i : i + run].all():
            return float(beats[i] - truth[0])
    return float("nan")


def _matched_offsets(declared: np.ndarray, beats: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """declared - true for every beat within 70 ms of a true beat after 5 s."""
    out = []
    for d, b in zip(declared, beats, strict=True):
        j = int(np.argmin(np.abs(truth - b))) if len(truth) else -1
        if j >= 0 and truth[j] >= 5.0 and abs(truth[j] - b) <= 0.07:
            out.append(d - truth[j])
    return np.array(out)


def _stats_ms(x: np.ndarray) -> dict[str, float]:
    if len(x) == 0:
        return {"median_ms": float("nan"), "p95_abs_ms": float("nan"), "n": 0}
    return {
        "median_ms": round(float(np.median(x)) * 1000, 1),
        "median_abs_ms": round(float(np.median(np.abs(x))) * 1000, 1),
        "p95_abs_ms": round(float(np.percentile(np.abs(x), 95)) * 1000, 1),
        "n": len(x),
    }


def run(songs: list[BeatSong], lead_s: float, *, quick: bool = False) -> dict:
    """Score every tracker on every song.

    Args:
        songs: the rendered set.
        lead_s: how far ahead of each true beat the beat clock is asked for the next beat.
        quick: only the live tracker's two paths (handcrafted and learned), no stage, no others.

    Returns:
        Per-song and per-style scores, timing statistics, the machine.
    """
    trackers: dict[str, Callable[[Path], np.ndarray]] = {
        "aubio tempo": aubio_tempo,
        "librosa (offline)": librosa_offline,
    }
    plan = song_plan()
    if plan is not None:
        trackers["song plan (offline)"] = plan
    if quick:
        trackers = {}
    per_song = []
    all_lag, all_pred = [], []
    rt, rt_learned = [], []
    for song in songs:
        row = {"name": song.name, "style": song.style, "bpm": round(song.bpm, 1), "scores": {}}
        live = causal_livedance(song.audio_path, song.beat_times_s, lead_s)
        row["scores"]["livedance (causal)"] = score(song.beat_times_s, live["beats"])
        learned = causal_livedance(song.audio_path, song.beat_times_s, lead_s, "learned")
        row["scores"]["livedance learned (causal)"] = score(song.beat_times_s, learned["beats"])
        row["declared_minus_true"] = _stats_ms(live["declared_minus_true_s"])
        row["predicted_minus_true"] = _stats_ms(live["predicted_minus_true_s"])
        row["prediction_coverage"] = round(live["n_predictions"] / live["n_truth_after_5s"], 3)
        row["lock_s"] = round(live["lock_s"], 2)
        all_lag.append(live["declared_minus_true_s"])
        all_pred.append(live["predicted_minus_true_s"])
        rt.append(live["realtime_factor"])
        rt_learned.append(learned["realtime_factor"])
        if not quick:
            starts, called = live_stage_moves(song.audio_path)
            row["scores"]["livedance live (stage)"] = score(song.beat_times_s, starts)
            row["downbeats"] = score_downbeats(song.beat_times_s, song.beats_per_bar, called)
        for name, fn in trackers.items():
            row["scores"][name] = score(song.beat_times_s, fn(song.audio_path))
        print(
            f"{song.name:24s} "
            + "  ".join(f"{k.split()[0]} {v['F']:.3f}" for k, v in row["scores"].items()),
            file=sys.stderr,
        )
        per_song.append(row)
    tracker_names = list(per_song[0]["scores"])
    by_style: dict[str, dict[str, dict[str, float]]] = {}
    groups: dict[str, list[dict]] = defaultdict(list)
    for row in per_song:
        groups[row["style"]].append(row)
    metrics = ("F", "CMLt", "AMLt", "phase_ms")
    for style, rows in groups.items():
        by_style[style] = {
            t: {m: float(np.nanmean([r["scores"][t][m] for r in rows])) for m in metrics}
            for t in tracker_names
        }
    mean = {
        t: {m: float(np.nanmean([r["scores"][t][m] for r in per_song])) for m in metrics}
        for t in tracker_names
    }
    worst = {t: min(by_style[st][t]["F"] for st in by_style) for t in tracker_names}
    return {
        "set": [{"name": s.name, "style": s.style, "bpm": round(s.bpm, 1)} for s in songs],
        "per_song": per_song,
        "by_style": by_style,
        "mean_over_songs": mean,
        "worst_style_F": worst,
        "median_phase_ms": {
            t: float(np.nanmedian([r["scores"][t]["phase_ms"] for r in per_song]))
            for t in tracker_names
        },
        "livedance_declared_minus_true": _stats_ms(np.concatenate(all_lag)),
        "livedance_predicted_minus_true": _stats_ms(np.concatenate(all_pred)),
        "prediction_lead_ms": round(lead_s * 1000),
        "livedance_realtime_factor_min": round(min(rt), 1),
        "livedance_learned_realtime_factor_min": round(min(rt_learned), 1),
        "learned_activation_per_hop": activation_cost_ms(songs[0].audio_path),
        "livedance_lock_s_median": round(float(np.nanmedian([r["lock_s"] for r in per_song])), 2),
        "livedance_lock_s_max": round(float(np.nanmax([r["lock_s"] for r in per_song])), 2),
        "live_downbeats": _downbeat_summary(per_song) if not quick else None,
        "activations": activations(tracker_names),
        "published": PUBLISHED,
        "machine": describe(),
    }


def _downbeat_summary(per_song: list[dict]) -> dict[str, float]:
    called = sum(r["downbeats"]["called"] for r in per_song)
    right = sum(
        r["downbeats"]["precision"] * r["downbeats"]["called"]
        for r in per_song
        if r["downbeats"]["called"]
    )
    return {
        "precision": round(right / called, 3) if called else float("nan"),
        "called": called,
        "true": sum(r["downbeats"]["true"] for r in per_song),
        "mean_F": round(float(np.mean([r["downbeats"]["F"] for r in per_song])), 3),
    }


def markdown(result: dict) -> str:
    """The per-style table and the timing lines as Markdown."""
    names = list(result["mean_over_songs"])
    head = "| style | " + " | ".join(f"{n} F / CMLt / AMLt / phase ms" for n in names) + " |"
    lines = [
        f"Set `{result.get('set_name', '?')}` on {result['machine']['cpu']} "
        f"({result['machine']['cpu_flags']}).",
        "",
        head,
        "| --- |" + " --- |" * len(names),
    ]
    rows = [*result["by_style"].items(), ("**mean (songs)**", result["mean_over_songs"])]
    for style, scores in rows:
        cells = [
            f"{scores[n]['F']:.2f} / {scores[n]['CMLt']:.2f} / {scores[n]['AMLt']:.2f} / "
            f"{scores[n]['phase_ms']:.1f}"
            for n in names
        ]
        lines.append(f"| {style} | " + " | ".join(cells) + " |")
    lines.append(
        "| **worst style F** | "
        + " | ".join(f"{result['worst_style_F'][n]:.2f}" for n in names)
        + " |"
    )
    lag, pred = result["livedance_declared_minus_true"], result["livedance_predicted_minus_true"]
    lines += [
        "",
        f"livedance (causal): declared - true beat: median {lag['median_ms']} ms, "
        f"p95 |.| {lag['p95_abs_ms']} ms (n={lag['n']}); "
        f"beat clock predicted {result['prediction_lead_ms']} ms ahead - true beat: "
        f"median {pred['median_ms']} ms, median |.| {pred['median_abs_ms']} ms, "
        f"p95 |.| {pred['p95_abs_ms']} ms (n={pred['n']}); "
        f"slowest song ran {result['livedance_realtime_factor_min']}x real time "
        f"(learned: {result['livedance_learned_realtime_factor_min']}x; its network "
        f"{result['learned_activation_per_hop']['median_ms']} ms a hop median, "
        f"{result['learned_activation_per_hop']['p99_ms']} ms p99); locked "
        f"(4 correct beats in a row) {result['livedance_lock_s_median']} s after the first beat "
        f"(median; worst {result['livedance_lock_s_max']} s).",
    ]
    lines += [
        "",
        "Activation each column folded: "
        + "; ".join(f"{name}: {what}" for name, what in result["activations"].items())
        + ".",
    ]
    if result["live_downbeats"] is None:
        return "\n".join(lines) + "\n"
    lines += [
        "",
        f"live downbeats (the stage's bar phase, four beats a bar assumed): "
        f"{result['live_downbeats']['called']} called of {result['live_downbeats']['true']} true "
        f"after 5 s, precision {result['live_downbeats']['precision']}, "
        f"mean F {result['live_downbeats']['mean_F']}.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set-dir", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--soundfont", type=Path, default=DEFAULT_SOUNDFONT)
    parser.add_argument("--out", type=Path, help="write the full results as JSON")
    parser.add_argument("--markdown", type=Path, help="write the table as Markdown")
    parser.add_argument(
        "--lead-ms", type=float, default=100.0, help="how far ahead the clock is asked (ms)"
    )
    parser.add_argument("--only", nargs="*", help="song names to run (default all)")
    parser.add_argument(
        "--quick", action="store_true", help="only the live tracker's handcrafted and learned paths"
    )
    parser.add_argument(
        "--set",
        choices=list(SETS),
        default="midi",
        help="midi: the first benchmark set; dev: its tuning versions; styles-dev: sixteen dance "
        "styles to tune on; styles-unseen: other versions of them, never tuned on",
    )
    args = parser.parse_args()
    songs = build_set(args.set_dir, args.soundfont, which=args.set)
    if args.only:
        songs = [s for s in songs if s.name in args.only]
    result = run(songs, args.lead_ms / 1000, quick=args.quick)
    result["set_name"] = args.set
    table = markdown(result)
    print(table)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1))
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(table)


if __name__ == "__main__":
    main()
