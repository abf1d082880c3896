"""Can the generator keep up at 30 fps on this machine? Writes results/render.json and render.md.

The same code as `livedance bench render` (`livedance.measure.render.run_render_bench`): generator
time per frame (median, p99, ratio to the 33.3 ms budget), whole live-loop fps, batched offline
fps and the ONNX Runtime op profile, for the given model (default models/default.onnx when
present) and random-weight generators of the paper's width (ngf 64/4/9) and real-time widths
(ngf 16/3/6, 32/3/6); plus flicker on a held pose with and without the reductions.

Usage:
    python benchmarks/bench_render.py [--model PATH.onnx] [--frames 60] [--size 256]
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from livedance.measure.render import markdown_table, run_render_bench, write_results

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--model", type=Path, help="generator to time (default models/default.onnx)"
    )
    parser.add_argument("--frames", type=int, default=60, help="frames timed per model")
    parser.add_argument("--size", type=int, default=256, help="comparison generator frame size")
    parser.add_argument(
        "--out", type=Path, default=REPO / "benchmarks/results/render.json", help="results file"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    results = run_render_bench(model=args.model, size_px=args.size, n_frames=args.frames)
    write_results(results, args.out)
    print(markdown_table(results))


if __name__ == "__main__":
    main()
