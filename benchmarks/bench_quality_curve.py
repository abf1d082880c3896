"""How quality grows with training time: Table I metrics of every kept checkpoint of one run.

Each checkpoint (``livedance train --keep-every IT`` keeps them as ``checkpoints/it_NNNNNN.pt``)
is exported to ONNX and scored on the held-out test split, like ``livedance evaluate``; the
nearest-neighbour baseline is scored once, as the line to beat. Writes a JSON results file and a
plot (metric against training minutes) so a user can see what more training time buys.

Usage:
    livedance train /tmp/taichi --out /tmp/runs/taichi --keep-every 1000
    python benchmarks/bench_quality_curve.py --run /tmp/runs/taichi --data /tmp/taichi \
        --out benchmarks/results/quality_curve.json --plot benchmarks/results/quality_curve.png
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from offline.metrics.evaluate import evaluate_model
from offline.pix2pixhd.checkpoint import load_checkpoint
from offline.pix2pixhd.export import export_onnx

METRICS = ("mse", "keypoint_mse", "psnr_db", "ssim", "ms_ssim", "lpips", "keypoint_miss_rate")


def score_checkpoints(
    run_dir: Path, data_dir: Path, checkpoints: list[Path], limit: int | None
) -> dict:
    """Export and score each checkpoint; the baseline once. Returns the results document."""
    points = []
    baseline: dict | None = None
    with tempfile.TemporaryDirectory() as tmp:
        for i, path in enumerate(checkpoints):
            state = load_checkpoint(path)
            model = Path(tmp) / f"{path.stem}.onnx"
            export_onnx(run_dir, model, checkpoint=path)
            result = evaluate_model(
                model, data_dir, limit=limit, baseline=i == 0, grid_frames=0, progress=False
            )
            if i == 0:
                baseline = result.columns.get("nearest neighbour")
            row = {
                "checkpoint": path.name,
                "iteration": int(state["iteration"]),
                "train_minutes": round(float(state["elapsed_s"]) / 60.0, 2),
                **{k: result.columns["model"].get(k) for k in METRICS},
            }
            points.append(row)
            print(json.dumps(row), flush=True)
    points.sort(key=lambda r: r["iteration"])
    return {"run": str(run_dir), "dataset": str(data_dir), "points": points, "baseline": baseline}


def plot(doc: dict, out: Path) -> None:
    """SSIM, MS-SSIM, LPIPS and keypoint MSE against training minutes, baseline dashed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = (("ssim", "SSIM (higher is better)"), ("ms_ssim", "MS-SSIM (higher is better)"),
              ("lpips", "LPIPS (lower is better)"), ("keypoint_mse", "keypoint MSE px² (lower)"))  # fmt: skip
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 3.2))
    minutes = [p["train_minutes"] for p in doc["points"]]
    for ax, (key, title) in zip(axes, panels, strict=True):
        ax.plot(minutes, [p[key] for p in doc["points"]], "o-", label="generator")
        if doc["baseline"] and doc["baseline"].get(key) is not None:
            ax.axhline(doc["baseline"][key], ls="--", c="gray", label="nearest neighbour")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("training minutes (this CPU)")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, required=True, help="livedance train run folder")
    parser.add_argument("--data", type=Path, required=True, help="its prepared dataset")
    parser.add_argument(
        "--checkpoints", nargs="*", type=Path, help="default: RUN/checkpoints/it_*.pt"
    )
    parser.add_argument("--limit", type=int, help="first N test frames only")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/quality_curve.json"))
    parser.add_argument("--plot", type=Path, help="PNG of the curves")
    args = parser.parse_args(argv)
    checkpoints = args.checkpoints or sorted((args.run / "checkpoints").glob("it_*.pt"))
    if not checkpoints:
        print(f"error: no kept checkpoints in {args.run}/checkpoints", file=sys.stderr)
        return 1
    doc = score_checkpoints(args.run, args.data, checkpoints, args.limit)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=2) + "\n")
    if args.plot is not None:
        plot(doc, args.plot)
    print(f"wrote {args.out}" + (f" and {args.plot}" if args.plot else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
