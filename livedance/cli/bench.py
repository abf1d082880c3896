"""`livedance bench`: measure this machine. `bench render`: can the generator keep up at 30 fps?

A thin layer over `livedance.neural.bench`; `benchmarks/bench_render.py` calls the same
`run_render_bench` and writes `benchmarks/results/render.json` and `.md`.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import tempfile
from pathlib import Path
from typing import Any

from livedance.cli.args import int_at_least
from livedance.machine import cpu_model

log = logging.getLogger(__name__)

WIDTHS = (
    ("real-time width ngf16/3/6", 16, 3, 6),
    ("ngf32/3/6", 32, 3, 6),
    ("paper width ngf64/4/9", 64, 4, 9),
)
"""Comparison generators (ngf, downsamplings, residual blocks), exported with random weights."""


def register(sub: Any) -> None:
    p = sub.add_parser(
        "bench",
        help="measure this machine (bench render: generator and live-loop speed)",
        description="Benchmarks of this machine. See `livedance bench render --help`.",
    )
    bench_sub = p.add_subparsers(dest="bench", metavar="WHAT", required=True)
    r = bench_sub.add_parser(
        "render",
        help="generator frame time, live-loop fps, where the CPU time goes, flicker",
        description=(
            "Time the generator (median and p99 per frame, ratio to the 33.3 ms budget of 30 fps), "
            "the whole live loop (pose -> stick -> generator -> display buffer) and batched "
            "offline rendering; profile the op types that take the time; measure flicker on a "
            "held pose with and without the deadband and blend. Besides the given model (default "
            "models/default.onnx), random-weight generators of the paper's width (ngf 64, 4 "
            "downsamplings, 9 blocks) and real-time widths are timed (needs torch)."
        ),
    )
    r.add_argument("--model", type=Path, metavar="PATH.onnx", help="generator to time")
    r.add_argument("--json", type=Path, metavar="OUT.json", help="write the results here")
    r.add_argument(
        "--size",
        type=int_at_least(32),
        default=256,
        help="frame size of the comparison generators (default 256)",
    )
    r.add_argument(
        "--frames", type=int_at_least(5), default=60, help="frames timed per model (default 60)"
    )
    r.add_argument(
        "--no-widths",
        action="store_true",
        help="time only the given model (no comparison generators, no torch needed)",
    )
    r.add_argument(
        "--device",
        choices=("auto", "cpu", "cuda", "tensorrt"),
        default="auto",
        help="where the generators run (default auto: the best this machine can really use)",
    )
    r.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    results = run_render_bench(
        model=args.model,
        size_px=args.size,
        n_frames=args.frames,
        widths=not args.no_widths,
        device=args.device,
    )
    if args.json:
        write_results(results, args.json)
    print(markdown_table(results))
    return 0


def run_render_bench(
    *,
    model: Path | None,
    size_px: int = 256,
    n_frames: int = 60,
    widths: bool = True,
    device: str = "auto",
) -> dict[str, Any]:
    """Time the given (or default) model and the comparison widths.

    Args:
        model: a generator; None: models/default.onnx when present.
        size_px: frame size of the comparison generators.
        n_frames: frames timed per model (the slow paper width gets at most 8).
        widths: also build and time the comparison generators (torch).
        device: ONNX Runtime device.

    Returns:
        A JSON-friendly dict of every measurement.
    """
    from livedance.errors import LivedanceError
    from livedance.neural import bench
    from livedance.neural.generator import DEFAULT_MODEL, NeuralRenderer

    if model is None and DEFAULT_MODEL.is_file():
        model = DEFAULT_MODEL
    entries: list[tuple[str, Path, dict[str, Any]]] = []
    if model is not None:
        entries.append((f"model {model.name}", model, {}))
    with tempfile.TemporaryDirectory(prefix="livedance-bench-") as tmp:
        if widths:
            try:
                from offline.timing_models import export_timing_model
            except ImportError as exc:
                raise LivedanceError(
                    f"comparison generators need torch ({exc}); use --no-widths"
                ) from None
            for label, ngf, n_down, n_blocks in WIDTHS:
                path = Path(tmp) / f"ngf{ngf}_{n_down}_{n_blocks}.onnx"
                log.info("exporting %s", label)
                export_timing_model(
                    path, ngf=ngf, n_downsample=n_down, n_blocks=n_blocks, size_px=size_px
                )
                arch = {"ngf": ngf, "n_downsample": n_down, "n_blocks": n_blocks}
                entries.append((label, path, arch))
        if not entries:
            raise LivedanceError("nothing to time: give --model or drop --no-widths")
        rows = []
        for label, path, arch in entries:
            renderer = NeuralRenderer(path, device=device)
            slow = "ngf64" in label or (arch.get("ngf", 0) >= 64)
            frames = min(n_frames, 8) if slow else n_frames
            log.info("timing %s (%d frames)", label, frames)
            rows.append(
                {
                    "label": label,
                    "size_px": renderer.width_px,
                    "provider": renderer.provider,
                    "architecture": arch or renderer.contract.generator,
                    "gflop_per_frame": bench.generator_gflop(path),
                    "generator": bench.time_generator(renderer, frames),
                    "loop": bench.time_loop(renderer, frames),
                    "batched": bench.time_batched(renderer, max(16, frames)),
                    "profile": bench.profile_op_types(path, n_frames=3 if slow else 10),
                }
            )
        flicker_path = entries[0][1]
        flicker = {"model": entries[0][0], "scores": bench.flicker_study(flicker_path)}
    return {
        "benchmark": "render",
        "machine": {
            "cpu": cpu_model(),
            "cores": len(os.sched_getaffinity(0)),
            "python": platform.python_version(),
        },
        "budget_ms": round(bench.BUDGET_MS, 2),
        "models": rows,
        "flicker": flicker,
    }


def write_results(results: dict[str, Any], json_path: Path) -> None:
    """Write the JSON results and a Markdown table beside them (same name, ``.md``)."""
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(results, indent=2) + "\n")
    json_path.with_suffix(".md").write_text(markdown_table(results) + "\n")
    log.info("wrote %s", json_path)


def markdown_table(results: dict[str, Any]) -> str:
    """The results as Markdown: a timing table, the op profile, the flicker table."""
    lines = [
        f"Render benchmark on {results['machine']['cpu']} ({results['machine']['cores']} cores); "
        f"budget {results['budget_ms']} ms per frame (30 fps).",
        "",
        "| generator | size | GFLOP/frame | generator median / p99 ms | whole loop median / "
        "p99 ms | loop p99 x budget | loop fps | batched fps | top op types (share of time) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    budget_ms = float(results["budget_ms"])
    for row in results["models"]:
        g, loop = row["generator"], row["loop"]
        ops = ", ".join(f"{p['op']} {p['share']:.0%}" for p in row["profile"][:4])
        lines.append(
            f"| {row['label']} | {row['size_px']} | {row.get('gflop_per_frame')} | "
            f"{g['median_ms']} / {g['p99_ms']} | {loop['median_ms']} / {loop['p99_ms']} | "
            f"{loop['p99_ms'] / budget_ms:.2f} | {loop['fps']} | {row['batched']['fps']} | {ops} |"
        )
    flicker = results["flicker"]
    scenes = list(next(iter(flicker["scores"].values())))
    lines += [
        "",
        f"Flicker on a held pose ({flicker['model']}): mean |frame difference|, 0..255 levels.",
        "",
        "| reduction | " + " | ".join(scenes) + " |",
        "| --- |" + " --- |" * len(scenes),
    ]
    for name, scores in flicker["scores"].items():
        lines.append(f"| {name} | " + " | ".join(str(scores[s]) for s in scenes) + " |")
    return "\n".join(lines)
