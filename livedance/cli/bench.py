"""`livedance bench`: measure this machine. `bench render`: can the generator keep up at 30 fps?

A thin layer over `livedance.measure.render`; `benchmarks/bench_render.py` calls the same
`run_render_bench` and writes `benchmarks/results/render.json` and `.md`.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from livedance.cli.args import int_at_least

log = logging.getLogger(__name__)


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
    from livedance.measure.render import markdown_table, run_render_bench, write_results

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
