"""Speed of ``livedance synth``: how fast the procedural person is drawn, and a whole dataset.

Times `offline.synth.render_person` alone on poses danced by the action library (median and
p99 ms per frame, frames/s), then a real `synth_dataset` run into a temporary folder (drawing,
stick figures, PNG writing, contact sheet, Body), which is the frames/s ``livedance synth``
prints. The machine's CPU flags and the load average at the start go in the header: the
machine is often shared, and the numbers move with it.

Usage:
    python benchmarks/bench_synth.py --frames 300 --size 256 --out benchmarks/results/synth.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from livedance import __version__
from livedance.body import DEFAULT_BODY
from livedance.measure.machine import describe
from offline.synth import Appearance, background, render_person, sample_poses, synth_dataset


def bench_draw(n_frames: int, size_px: int, seed: int) -> dict[str, float]:
    """Time drawing ``n_frames`` people (no file writing)."""
    poses, _ = sample_poses(n_frames, 25.0, np.random.default_rng(seed), DEFAULT_BODY)
    look = Appearance.from_seed(seed)
    room = background(look, size_px, size_px, DEFAULT_BODY.floor_y)
    for pose in poses[:10]:  # warm caches and lazy imports
        render_person(pose, room, look)
    ms = np.empty(n_frames)
    for i, pose in enumerate(poses):
        t0 = time.perf_counter()
        render_person(pose, room, look)
        ms[i] = (time.perf_counter() - t0) * 1e3
    return {
        "draw_ms_median": round(float(np.median(ms)), 2),
        "draw_ms_p99": round(float(np.percentile(ms, 99)), 2),
        "draw_fps": round(1e3 / float(np.mean(ms)), 1),
    }


def bench_dataset(n_frames: int, size_px: int, seed: int) -> dict[str, float]:
    """Time a whole ``synth`` run of ``n_frames`` pairs into a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="bench_synth_") as tmp:
        report = synth_dataset(
            Path(tmp) / "ds", n_frames=n_frames, size=(size_px, size_px), seed=seed, progress=False
        )
    return {
        "dataset_s": round(report.seconds, 2),
        "dataset_fps": round(report.written_now / report.seconds, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=300, help="frames to draw (300)")
    parser.add_argument("--size", type=int, default=256, help="frame size in pixels (256)")
    parser.add_argument("--seed", type=int, default=0, help="person and dance (0)")
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    args = parser.parse_args(argv)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    result = {
        "benchmark": "synth",
        "livedance": __version__,
        "machine": describe(),
        "load_average_at_start": load,
        "frames": args.frames,
        "size": f"{args.size}x{args.size}",
        **bench_draw(args.frames, args.size, args.seed),
        **bench_dataset(args.frames, args.size, args.seed),
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
