"""What `train --background-plate` buys on a video shot with a still camera: an ablation.

`livedance synth` makes a still-camera dataset (a procedural dancer in a room, 128x128). The same
generator (ngf 16/3/6) is trained on it twice for the same number of iterations, once plain and
once with the background plate, then each is exported and scored by `livedance evaluate` on the
held-out split beside the nearest-neighbour baseline. Writes the two tables and the training
times; every step goes through the CLI a user would run.

Usage (about 16 minutes on a 2-core CPU):
    python benchmarks/bench_plate.py [--work /tmp/plate_bench] [--iterations 1500]
        [--out benchmarks/results/plate.json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from livedance.measure.machine import describe


def _cli(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "livedance", *args], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/plate_bench"))
    parser.add_argument("--iterations", type=int, default=1500)
    parser.add_argument("--frames", type=int, default=800, help="synthesized training pairs")
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "plate.json"
    )
    args = parser.parse_args()
    data = args.work / "synth128"
    _cli("synth", str(data), "--frames", str(args.frames), "--size", "128", "--seed", "3",
         "--no-progress")  # fmt: skip
    runs = {}
    for name, extra in (("plain", []), ("background plate", ["--background-plate"])):
        run = args.work / name.replace(" ", "_")
        started = time.perf_counter()
        _cli("train", str(data), "--out", str(run), "--iterations", str(args.iterations),
             "--no-progress", *extra)  # fmt: skip
        minutes = (time.perf_counter() - started) / 60
        model, report = run.with_suffix(".onnx"), run.with_suffix(".json")
        _cli("export", str(run), "-o", str(model))
        _cli("evaluate", "--model", str(model), str(data), "--json", str(report), "--no-progress")
        table = json.loads(report.read_text())["table"]
        runs[name] = {"train_minutes": round(minutes, 1), "table": table}
        print(name, json.dumps(runs[name]), flush=True)
    result = {
        "benchmark": "background plate ablation",
        "command": "python benchmarks/bench_plate.py",
        "machine": describe(),
        "dataset": f"livedance synth --frames {args.frames} --size 128 --seed 3",
        "iterations": args.iterations,
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
