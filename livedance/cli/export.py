"""``livedance export RUN_DIR -o model.onnx``: the trained generator as ONNX for the live runtime.

A thin layer over `offline.pix2pixhd.export` (torch and onnx are imported when the command runs).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    """Add the ``export`` subcommand to the CLI's subparsers."""
    p = sub.add_parser(
        "export",
        help="export a trained generator to ONNX (with its contract; parity-checked)",
        description=(
            "Write the generator of a `livedance train` run as ONNX (opset 17, dynamic batch,"
            " input 'stick' / output 'frame' (n, 3, h, w) RGB in [-1, 1]) with the model contract"
            " (size, skeleton, the dataset's Body, training summary) in its metadata. It is then"
            " run with onnxruntime on real stick figures of the run's dataset and compared with"
            " torch: the export fails if the max abs difference is 1e-3 or more. --fp16 and"
            " --int8 also write MODEL.fp16.onnx / MODEL.int8.onnx and report their speed and"
            " difference from fp32."
        ),
        epilog="example:\n  livedance export runs/a -o model.onnx --int8",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="folder of a livedance train run")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="ONNX", help="model file")
    p.add_argument(
        "--checkpoint", type=Path, metavar="PT", help="default RUN_DIR/checkpoints/latest.pt"
    )
    p.add_argument("--fp16", action="store_true", help="also write an fp16 model (GPU)")
    p.add_argument("--int8", action="store_true", help="also write a static int8 model (CPU)")
    p.add_argument("--json", type=Path, metavar="OUT", help="write the report as JSON")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from offline.pix2pixhd.export import export_onnx

    report = export_onnx(
        args.run_dir, args.output, checkpoint=args.checkpoint, fp16=args.fp16, int8=args.int8
    )
    doc = report.to_dict()
    if args.json:
        args.json.write_text(json.dumps(doc, indent=2) + "\n")
    print(
        f"wrote {report.path}: parity max |onnx - torch| = {report.parity_max_abs:.2e}"
        f" (mean {report.parity_mean_abs:.2e}, {report.n_parity_inputs} dataset sticks),"
        f" {report.fp32_ms_per_frame:.1f} ms/frame on CPU"
    )
    for name, v in report.variants.items():
        print(
            f"  {name}: {v['path']}: max |diff vs fp32| = {v['max_abs_vs_fp32']:.3g},"
            f" mean {v['mean_abs_vs_fp32']:.3g}, {v['ms_per_frame_cpu']:.1f} ms/frame on CPU"
        )
    return 0
