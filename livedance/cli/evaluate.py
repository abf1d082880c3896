"""``livedance evaluate``: the paper's Table I for a generator (beside a baseline), or two folders.

A thin layer over `offline.metrics.evaluate` (imported when the command runs, so ``livedance
--help`` never loads torch or MediaPipe).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from livedance.cli.args import int_at_least
from livedance.errors import LivedanceError


def register(sub: Any) -> None:
    """Add the ``evaluate`` subcommand to the CLI's subparsers."""
    p = sub.add_parser(
        "evaluate",
        help="quality table (MSE, keypoint MSE, PSNR, SSIM, MS-SSIM, LPIPS) of a model or folders",
        description=(
            "Measure a generator the way the paper's Table I does. With --model and DATA_DIR: run"
            " the ONNX generator on the stick figures of the dataset's held-out test split and"
            " compare its frames with the real ones, beside a nearest-neighbour baseline (the"
            " training frame whose pose is closest). With --pred DIR --target DIR: compare any two"
            " folders of same-named images. Metrics: pixel MSE (0..255), keypoint MSE (pose"
            " re-detected with MediaPipe, px^2), PSNR, SSIM (Gaussian 11x11, per RGB channel),"
            " MS-SSIM (5 scales), LPIPS (AlexNet v0.1; needs `livedance weights install`)."
        ),
        epilog=(
            "examples:\n"
            "  livedance evaluate --model model.onnx dataset/ --json table.json --grid grid.png\n"
            "  livedance evaluate --pred generated/ --target real/"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "data_dir", type=Path, nargs="?", metavar="DATA_DIR", help="prepared dataset (with --model)"
    )
    p.add_argument("--model", type=Path, metavar="ONNX", help="exported generator to evaluate")
    p.add_argument("--pred", type=Path, metavar="DIR", help="folder of generated images")
    p.add_argument("--target", type=Path, metavar="DIR", help="folder of real images, same names")
    p.add_argument("--json", type=Path, metavar="OUT", help="write the table and per-frame values")
    p.add_argument(
        "--grid",
        type=Path,
        metavar="PNG",
        help="sample grid (stick | generated | nearest neighbour | real); default"
        " evaluate_grid.png beside --json when given",
    )
    p.add_argument(
        "--limit", type=int_at_least(1), metavar="N", help="score only the first N frames"
    )
    p.add_argument("--no-lpips", action="store_true", help="skip LPIPS (no weights needed)")
    p.add_argument(
        "--no-keypoints", action="store_true", help="skip keypoint MSE (no pose re-detection)"
    )
    p.add_argument("--no-baseline", action="store_true", help="skip the nearest-neighbour baseline")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    model_path: Path | None = args.model
    data_dir: Path | None = args.data_dir
    pred_dir: Path | None = args.pred
    target_dir: Path | None = args.target
    from offline.metrics.evaluate import evaluate_folders, evaluate_model, label_grid
    from offline.metrics.table import format_table

    common = {
        "limit": args.limit,
        "lpips": not args.no_lpips,
        "keypoints": not args.no_keypoints,
        "progress": not args.no_progress,
    }
    if pred_dir is not None or target_dir is not None:
        if model_path is not None or data_dir is not None:
            raise LivedanceError("give either --model MODEL DATA_DIR or --pred DIR --target DIR")
        if pred_dir is None or target_dir is None:
            raise LivedanceError("--pred and --target go together")
        result = evaluate_folders(pred_dir, target_dir, **common)
        print(format_table(result.columns, paper=False))
    elif model_path is None or data_dir is None:
        raise LivedanceError(
            "say what to evaluate: --model MODEL DATA_DIR, or --pred DIR --target DIR"
        )
    else:
        result = evaluate_model(model_path, data_dir, baseline=not args.no_baseline, **common)
        print(format_table(result.columns))
        timing = result.info["timing"]
        print(
            f"{result.info['n_test_frames']} test frames, {timing['per_frame_ms']:.0f} ms per frame"
            f" (generator {timing['generator_ms_per_frame']:.1f} ms)"
        )
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result.to_json(), indent=2) + "\n")
        print(f"wrote {args.json}")
    grid_path = args.grid
    if grid_path is None and args.json is not None:
        grid_path = args.json.with_name("evaluate_grid.png")
    if grid_path is not None and result.grid is not None:
        import cv2

        labels = ["stick", "generated"] + ([] if args.no_baseline else ["nearest"]) + ["real"]
        grid_path.parent.mkdir(parents=True, exist_ok=True)
        if not cv2.imwrite(str(grid_path), label_grid(result.grid, labels)):
            raise LivedanceError(f"cannot write {grid_path}")
        print(f"wrote {grid_path}")
    return 0
