"""Song analysis benchmark: accuracy on synthesized and on arranged real songs, speed, pychorus.

Three kinds of songs:
- synthesized (chord progressions on the project's drum kit), three sets drawn from seeds;
- arranged from real recordings (`realset.arrange`: segments of ``shared/data/music``, the tai chi
  video's soundtrack and the demo song in known forms): a tuning part, a dev part (the first
  held-out part, tuned on since) and an unseen part drawn from a seed, never tuned on, reported
  apart;
- the real recordings themselves, for speed: decode and analysis timed apart in one run.

Run:  python benchmarks/bench_analysis.py [--music ../shared/data/music] [--out benchmarks/results]
      [--sets synth,arranged,real] [--parts tuning,dev,unseen]
pychorus (the paper's published implementation; one chorus start per song) is compared when it
imports, e.g. run with a throwaway venv:
  python -m venv /tmp/chorus --system-site-packages
  /tmp/chorus/bin/pip install --no-deps pychorus
  /tmp/chorus/bin/python benchmarks/bench_analysis.py
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

import mir_eval
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
# the tree this script is in, before an installed livedance of another checkout
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))
from realset.arrange import DEV as ARRANGED_DEV
from realset.arrange import TUNING as ARRANGED_TUNING
from realset.arrange import UNSEEN as ARRANGED_UNSEEN
from realset.arrange import build_all, default_cache

from livedance.audio.composer import compose_song
from livedance.audio.io import content_sha256, load_audio
from livedance.measure import machine
from livedance.songplan import Section
from offline.analysis import ANALYSIS_VERSION, analyze_audio

REPEAT_TOLERANCE_S = 1.0
"""An arranged song's true repeat counts as found when a repeat section starts within this of
it, with a lag within this of the lag to one of the label's earlier occurrences."""

SR = 22050


TUNING = (2024, 100, ("ABACB", "AABAB", "ABABCB", "ABCAB", "ABCD"))
"""The set the section finder was developed on: (rng seed, first song seed, forms)."""

HELD_OUT = (7, 300, ("ABACB", "AABAB", "ABABCB", "ABCAB", "ABCBA"))
"""Drawn the same way once the tuning set reached 28/30; two later fixes were found on it."""

FRESH = (11, 500, ("ABACB", "AABAB", "ABABCB", "ABCAB", "ABCBA"))
"""Drawn last and scored once, after all tuning: the honest figure."""


ARRANGED_PARTS = {"tuning": ARRANGED_TUNING, "dev": ARRANGED_DEV, "unseen": ARRANGED_UNSEEN}
"""The parts of the arranged set; only ``unseen`` was never tuned on."""


def _cases(n: int, spec: tuple[int, int, tuple[str, ...]] = TUNING) -> list[dict]:
    rng_seed, first_seed, forms = spec
    rng = np.random.default_rng(rng_seed)
    cases = []
    for i in range(n):
        bpm = float(rng.uniform(70, 180))
        case: dict = {"bpm": round(bpm, 1), "form": forms[i % len(forms)], "seed": first_seed + i}
        if i % 3 == 1:
            case["bpm_end"] = round(bpm * float(rng.choice([0.85, 1.15])), 1)
        if i % 4 == 2 and case["form"] != "ABCD":
            case["key_shift"] = {len(case["form"]) - 1: 2}
        cases.append(case)
    return cases


def _pychorus(y: np.ndarray, duration_s: float, clip_s: float) -> tuple[float | None, float]:
    import librosa
    from pychorus import find_chorus

    started = time.perf_counter()
    chroma = librosa.feature.chroma_stft(S=np.abs(librosa.stft(y, n_fft=2**14)) ** 2, sr=SR)
    start = find_chorus(chroma, SR, duration_s, clip_s)
    return start, time.perf_counter() - started


def _have_pychorus() -> bool:
    try:
        import pychorus  # noqa: F401
    except Exception:
        return False
    return True


def bench_synth(
    n: int, with_pychorus: bool, spec: tuple[int, int, tuple[str, ...]] = TUNING
) -> list[dict]:
    rows = []
    for case in _cases(n, spec):
        song = compose_song(sr=SR, bars_per_section=4, **case)
        started = time.perf_counter()
        plan = analyze_audio(song.audio, sha256="synth")
        elapsed = time.perf_counter() - started
        f_beat = mir_eval.beat.f_measure(
            mir_eval.beat.trim_beats(song.beat_times_s),
            mir_eval.beat.trim_beats(np.asarray(plan.beat_times_s)),
        )
        ref = np.array([[a, b] for a, b, _ in song.sections])
        est = np.array([[s.start_s, s.end_s] for s in plan.sections])
        _, _, f_bound = mir_eval.segment.detection(ref, est, window=0.5, trim=True)
        ref_labels = [lab for _, _, lab in song.sections]
        est_labels = [s.label for s in plan.sections]
        est_i, est_l = mir_eval.util.adjust_intervals(est, est_labels, t_min=0.0, t_max=ref[-1, 1])
        ref_i, ref_l = mir_eval.util.adjust_intervals(ref, ref_labels, t_min=0.0, t_max=ref[-1, 1])
        _, _, f_pair = mir_eval.segment.pairwise(ref_i, ref_l, est_i, est_l)
        first: dict[str, float] = {}
        truth = []
        for a, _, lab in song.sections:
            if lab in first:
                truth.append((a, a - first[lab]))
            else:
                first[lab] = a
        found = sum(
            any(abs(s.start_s - a) <= 0.5 and s.repeats is not None
                and abs((s.lag_s or 0) - lag) <= 0.5 for s in plan.sections)
            for a, lag in truth
        )  # fmt: skip
        row = {
            "case": {k: v for k, v in case.items() if k != "key_shift"}
            | ({"key_shift": 2} if "key_shift" in case else {}),
            "beat_f": round(f_beat, 3),
            "boundary_f_0.5s": round(f_bound, 3),
            "pairwise_f": round(f_pair, 3),
            "repeats_found": f"{found}/{len(truth)}",
            "layout": "".join(est_labels),
            "analysis_s": round(elapsed, 3),
        }
        if with_pychorus and truth:
            clip = 0.8 * (song.sections[0][1] - song.sections[0][0])
            start, t = _pychorus(song.audio.mono(), song.audio.duration_s, clip)
            repeated = [a for a, _ in truth]
            row["pychorus_start_s"] = None if start is None else round(start, 2)
            row["pychorus_hit"] = start is not None and min(abs(start - a) for a in repeated) <= 0.5
            row["pychorus_s"] = round(t, 3)
        rows.append(row)
        print(json.dumps(row))
    return rows


def bench_arranged(songs: list) -> list[dict]:
    """Score songs arranged from real recordings against their truth."""
    rows = []
    for song in songs:
        truth = song.truth
        started = time.perf_counter()
        audio = load_audio(song.wav)
        decoded, cpu = time.perf_counter(), time.process_time()
        plan = analyze_audio(audio, sha256=song.name)
        elapsed, cpu = time.perf_counter() - decoded, time.process_time() - cpu
        ref = np.array([[s["start_s"], s["end_s"]] for s in truth["sections"]])
        ref_labels = [s["label"] for s in truth["sections"]]
        est = np.array([[s.start_s, s.end_s] for s in plan.sections])
        est_labels = [s.label for s in plan.sections]
        end = float(ref[-1, 1])
        est_i, est_l = mir_eval.util.adjust_intervals(est, est_labels, t_min=0.0, t_max=end)
        ref_i, ref_l = mir_eval.util.adjust_intervals(ref, ref_labels, t_min=0.0, t_max=end)
        _, _, f_05 = mir_eval.segment.detection(ref, est, window=0.5, trim=True)
        _, _, f_3 = mir_eval.segment.detection(ref, est, window=3.0, trim=True)
        _, _, f_pair = mir_eval.segment.pairwise(ref_i, ref_l, est_i, est_l)
        true_repeats = [s for s in truth["sections"] if s["repeats"] is not None]
        found_repeats = [s for s in plan.sections if s.repeats is not None]

        def match(t: dict, s: Section) -> bool:
            return abs(s.start_s - t["start_s"]) <= REPEAT_TOLERANCE_S and any(
                abs((s.lag_s or 0.0) - lag) <= REPEAT_TOLERANCE_S for lag in t["lags_s"]
            )

        found = sum(any(match(t, s) for s in found_repeats) for t in true_repeats)
        false = sum(not any(match(t, s) for t in true_repeats) for s in found_repeats)
        row = {
            "song": song.name,
            "form": " ".join(truth["form"]),
            "truth": " ".join(f"{s['label']}@{s['start_s']:.1f}" for s in truth["sections"]),
            "found": " ".join(
                f"{s.label}{chr(39) if s.repeats is not None else ''}@{s.start_s:.1f}"
                for s in plan.sections
            ),
            "boundary_f_0.5s": round(f_05, 3),
            "boundary_f_3s": round(f_3, 3),
            "pairwise_f": round(f_pair, 3),
            "repeats_found": f"{found}/{len(true_repeats)}",
            "false_repeats": false,
            "bars": len(plan.downbeat_times_s),
            "duration_s": round(audio.duration_s, 1),
            "decode_s": round(decoded - started, 3),
            "analysis_s": round(elapsed, 3),
            "analysis_cpu_s": round(cpu, 3),
            "analysis_cpu_percent_of_duration": round(100 * cpu / audio.duration_s, 2),
        }
        rows.append(row)
        print(json.dumps(row))
    return rows


def bench_real(folder: Path, with_pychorus: bool) -> list[dict]:
    """Speed on the real recordings: decode and analysis timed apart, in one run.

    A short synthesized song is analysed first, so that one-off costs of the process (imports,
    librosa's caches and compiled kernels) are reported on their own, not in the first song.
    """
    started = time.perf_counter()
    analyze_audio(compose_song(sr=SR, bars_per_section=2, form="AB", seed=1).audio, sha256="warm")
    rows = [{"song": "(warm-up: a 16 s synthesized song)",
             "analysis_s": round(time.perf_counter() - started, 3)}]  # fmt: skip
    print(json.dumps(rows[0]))
    for path in sorted(folder.glob("*.ogg")):
        started = time.perf_counter()
        audio = load_audio(path)
        decoded, cpu = time.perf_counter(), time.process_time()
        plan = analyze_audio(audio, sha256=content_sha256(path))
        elapsed, cpu = time.perf_counter() - decoded, time.process_time() - cpu
        row = {
            "song": path.name,
            "duration_s": round(audio.duration_s, 1),
            "tempo_bpm": plan.tempo_bpm,
            "sections": " ".join(
                s.label + ("'" if s.repeats is not None else "") for s in plan.sections
            ),
            "bars": len(plan.downbeat_times_s),
            "decode_s": round(decoded - started, 3),
            "analysis_s": round(elapsed, 3),
            "analysis_percent_of_duration": round(100 * elapsed / audio.duration_s, 2),
            # CPU time of this process (all its threads): what the analysis costs whatever else
            # the machine runs
            "analysis_cpu_s": round(cpu, 3),
            "analysis_cpu_percent_of_duration": round(100 * cpu / audio.duration_s, 2),
        }
        if with_pychorus:
            import librosa

            y = librosa.resample(audio.mono(), orig_sr=audio.sample_rate, target_sr=SR)
            start, t = _pychorus(y, audio.duration_s, min(15.0, audio.duration_s / 4))
            row["pychorus_start_s"] = None if start is None else round(start, 2)
            row["pychorus_s"] = round(t, 2)
        rows.append(row)
        print(json.dumps(row))
    return rows


def _arranged_summary(rows: list[dict]) -> dict:
    def total(i: int) -> int:
        return sum(int(r["repeats_found"].split("/")[i]) for r in rows)

    duration = sum(r["duration_s"] for r in rows)
    return {
        "songs": len(rows),
        "repeats_found": f"{total(0)}/{total(1)}",
        "false_repeats": sum(r["false_repeats"] for r in rows),
        "mean_boundary_f_0.5s": round(float(np.mean([r["boundary_f_0.5s"] for r in rows])), 3),
        "mean_boundary_f_3s": round(float(np.mean([r["boundary_f_3s"] for r in rows])), 3),
        "mean_pairwise_f": round(float(np.mean([r["pairwise_f"] for r in rows])), 3),
        "analysis_percent_of_duration": round(
            100 * sum(r["analysis_s"] for r in rows) / duration, 2
        ),
        "analysis_cpu_percent_of_duration": round(
            100 * sum(r["analysis_cpu_s"] for r in rows) / duration, 2
        ),
    }


def _summary(rows: list[dict], with_pychorus: bool) -> dict:
    def total(i: int) -> int:
        return sum(int(r["repeats_found"].split("/")[i]) for r in rows)

    out = {
        "songs": len(rows),
        "mean_beat_f": round(float(np.mean([r["beat_f"] for r in rows])), 3),
        "mean_boundary_f": round(float(np.mean([r["boundary_f_0.5s"] for r in rows])), 3),
        "mean_pairwise_f": round(float(np.mean([r["pairwise_f"] for r in rows])), 3),
        "repeats_found": f"{total(0)}/{total(1)}",
    }
    if with_pychorus:
        hits = [r["pychorus_hit"] for r in rows if "pychorus_hit" in r]
        out["pychorus_chorus_start_hits"] = f"{sum(hits)}/{len(hits)}"
    return out


def main() -> None:
    here = Path(__file__).resolve().parent
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--music", type=Path, default=here.parents[1] / "shared/data/music")
    parser.add_argument("--out", type=Path, default=here / "results")
    parser.add_argument("--synth", type=int, default=15, help="number of synthesized songs")
    parser.add_argument("--cache", type=Path, default=default_cache(), help="arranged songs")
    parser.add_argument("--sets", default="synth,arranged,real", help="which to run")
    parser.add_argument("--parts", default="tuning,dev,unseen", help="arranged parts to score")
    parser.add_argument("--name", default="analysis", help="results file stem")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    sets = set(args.sets.split(","))
    with_pychorus = _have_pychorus()
    print("pychorus:", "compared" if with_pychorus else "not importable; skipped")
    out: dict = {"analysis_version": ANALYSIS_VERSION, "machine": machine.describe(), "summary": {}}
    out["machine"]["load_average_before"] = [round(x, 2) for x in os.getloadavg()]
    if "synth" in sets:
        synth = bench_synth(args.synth, with_pychorus)
        held_out = bench_synth(args.synth, with_pychorus, HELD_OUT)
        fresh = bench_synth(args.synth, with_pychorus, FRESH)
        out["summary"] |= {
            "tuning": _summary(synth, with_pychorus),
            "held_out": _summary(held_out, with_pychorus),
            "fresh": _summary(fresh, with_pychorus),
        }
        out |= {"synth": synth, "synth_held_out": held_out, "synth_fresh": fresh}
    if "arranged" in sets and args.music.is_dir():
        for part, arrangements in ARRANGED_PARTS.items():
            if part not in args.parts.split(","):
                continue
            rows = bench_arranged(build_all(arrangements, music=args.music, cache=args.cache))
            out["summary"][f"arranged_{part}"] = _arranged_summary(rows)
            out[f"arranged_{part}"] = rows
    if "real" in sets and args.music.is_dir():
        out["real"] = bench_real(args.music, with_pychorus)
        out["machine"]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(out["summary"]))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{args.name}.json").write_text(json.dumps(out, indent=1))
    (args.out / f"{args.name}.md").write_text(_markdown(out))


def _markdown(out: dict) -> str:
    """The results as tables a person reads."""
    m = out["machine"]
    lines = [
        f"# Song analysis (analysis version {out['analysis_version']})",
        "",
        f"Machine: {m['cpu']}, {m['cores']} usable cores, flags {m['cpu_flags']}"
        + (
            f", load average {m['load_average_before']} before the run"
            if "load_average_before" in m
            else ""
        )
        + (
            f", load average {m['load_average_after']} after the speed run"
            if "load_average_after" in m
            else ""
        )
        + ".",
        "",
    ]
    summary = out["summary"]
    synth = [k for k in ("tuning", "held_out", "fresh") if k in summary]
    if synth:
        lines += [
            "## Synthesized songs (repeat start and lag within 0.5 s)",
            "",
            "| set | songs | repeats found | boundary F (0.5 s) | pairwise F | beat F |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for k in synth:
            r = summary[k]
            lines.append(
                f"| {k} | {r['songs']} | {r['repeats_found']} | {r['mean_boundary_f']} |"
                f" {r['mean_pairwise_f']} | {r['mean_beat_f']} |"
            )
        lines.append("")
    arranged = [f"arranged_{k}" for k in ARRANGED_PARTS if f"arranged_{k}" in summary]
    if arranged:
        lines += [
            "## Songs arranged from real recordings (repeat start and lag within 1 s)",
            "",
            "| part | songs | repeats found | false repeats | boundary F (0.5 s) |"
            " boundary F (3 s) | pairwise F | analysis, % of duration | CPU, % of duration |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for k in arranged:
            r = summary[k]
            lines.append(
                f"| {k.removeprefix('arranged_')} | {r['songs']} | {r['repeats_found']} |"
                f" {r['false_repeats']} | {r['mean_boundary_f_0.5s']} |"
                f" {r['mean_boundary_f_3s']} | {r['mean_pairwise_f']} |"
                f" {r['analysis_percent_of_duration']} | {r['analysis_cpu_percent_of_duration']} |"
            )
        for k in arranged:
            title = (
                "The unseen part (drawn from a seed, never tuned on)"
                if k == "arranged_unseen"
                else f"The {k.removeprefix('arranged_')} part"
            )
            lines += [
                "",
                f"### {title}",
                "",
                "| song | truth | found | repeats | false | F (0.5 s) | F (3 s) | pairwise F |",
                "| --- | --- | --- | --- | --- | --- | --- | --- |",
            ]
            for r in out[k]:
                lines.append(
                    f"| {r['song']} | {r['truth']} | {r['found']} | {r['repeats_found']} |"
                    f" {r['false_repeats']} | {r['boundary_f_0.5s']} | {r['boundary_f_3s']} |"
                    f" {r['pairwise_f']} |"
                )
        lines.append("")
    if out.get("real"):
        lines += [
            "## Speed on the real recordings (one run; decode and analysis timed apart)",
            "",
            "| song | duration (s) | decode (s) | analysis (s) | analysis, % of duration |"
            " analysis CPU (s) | CPU, % of duration | sections | bars |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for r in out["real"]:
            if "duration_s" not in r:
                lines.append(f"| {r['song']} | | | {r['analysis_s']} | | | | | |")
                continue
            lines.append(
                f"| {r['song']} | {r['duration_s']} | {r['decode_s']} | {r['analysis_s']} |"
                f" {r['analysis_percent_of_duration']} | {r['analysis_cpu_s']} |"
                f" {r['analysis_cpu_percent_of_duration']} | {r['sections']} | {r['bars']} |"
            )
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
