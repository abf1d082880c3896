"""The quality bar of issue 5: Table I of a trained generator beside the nearest-neighbour baseline.

Runs ``livedance evaluate``'s code (`offline.metrics.evaluate.evaluate_model`) on the held-out test
split of a prepared dataset and writes the table, the verdicts of the quality bar (beat the
paper's SSIM 0.864 and MS-SSIM 0.887; beat the nearest-neighbour baseline on LPIPS and keypoint
MSE) and the time per frame. Only numbers are written under ``benchmarks/results``; the sample
grid holds frames of the video, so it goes only where ``--grid`` says (keep it out of the repo).

Usage:
    livedance prepare ../shared/data/video/taichi2.mp4 /tmp/taichi --fps 25 --size 256
    python benchmarks/bench_quality.py --model run/model.onnx --data /tmp/taichi \
        --out benchmarks/results/quality.json [--grid /tmp/quality_grid.png] [--label NAME]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2

from livedance import __version__
from livedance.measure.machine import describe
from offline.metrics.evaluate import evaluate_model, label_grid
from offline.metrics.table import PAPER_TABLE_I, format_table


def verdicts(columns: dict[str, dict]) -> dict[str, bool | None]:
    """The quality bar's four checks (None where a number is missing)."""
    model, nn = columns["model"], columns.get("nearest neighbour", {})

    def less(a: float | None, b: float | None) -> bool | None:
        return None if a is None or b is None else a < b

    return {
        "ssim_beats_paper": less(PAPER_TABLE_I["ssim"], model["ssim"]),
        "ms_ssim_beats_paper": less(PAPER_TABLE_I["ms_ssim"], model["ms_ssim"]),
        "lpips_beats_nearest_neighbour": less(model["lpips"], nn.get("lpips")),
        "keypoint_mse_beats_nearest_neighbour": less(model["keypoint_mse"], nn.get("keypoint_mse")),
        # keypoint MSE is measured where a pose is found: a model must not win it by being missed
        "pose_found_about_as_often_as_baseline": less(
            model["keypoint_miss_rate"],
            None if nn.get("keypoint_miss_rate") is None else nn["keypoint_miss_rate"] + 0.05,
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="exported ONNX generator")
    parser.add_argument("--data", type=Path, required=True, help="prepared dataset folder")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/quality.json"))
    parser.add_argument("--grid", type=Path, help="sample grid PNG (outside the repo)")
    parser.add_argument("--label", default="", help="name of this run in the results")
    parser.add_argument("--limit", type=int, help="first N test frames only")
    args = parser.parse_args(argv)

    result = evaluate_model(args.model, args.data, limit=args.limit)
    table = format_table(result.columns)
    checks = verdicts(result.columns)
    doc = {
        "label": args.label,
        "model": str(args.model),
        "dataset": str(args.data),
        "table": result.columns,
        "paper_table_i": PAPER_TABLE_I,
        "quality_bar": checks,
        "timing": result.info["timing"],
        "n_test_frames": result.info["n_test_frames"],
        "n_train_frames": result.info["n_train_frames"],
        "size_px": result.info["size_px"],
        "generator": result.info["generator"],
        "machine": describe(),
        "livedance": __version__,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=2) + "\n")
    lines = [
        f"# Quality (Table I){' - ' + args.label if args.label else ''}",
        "",
        f"Model `{args.model.name}` on the test split of `{args.data.name}`"
        f" ({doc['n_test_frames']} frames, {doc['size_px'][0]}x{doc['size_px'][1]});"
        f" {doc['timing']['per_frame_ms']:.0f} ms per frame for the whole evaluation.",
        "",
        "```",
        table,
        "```",
        "",
        *[
            f"- {name}: {'yes' if ok else 'no' if ok is not None else 'n/a'}"
            for name, ok in checks.items()
        ],
    ]
    md = args.out.with_suffix(".md")
    md.write_text("\n".join(lines) + "\n")
    print(table)
    print(json.dumps(checks, indent=2))
    print(f"wrote {args.out} and {md}")
    if args.grid is not None and result.grid is not None:
        cv2.imwrite(
            str(args.grid), label_grid(result.grid, ["stick", "generated", "nearest", "real"])
        )
        print(f"wrote {args.grid}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
