"""``livedance synth OUT_DIR``: training data for the default dancer, drawn without any video.

A thin layer over `offline.synth.synth_dataset` (imported when the command runs, so
``livedance --help`` stays fast). The dataset has the layout ``livedance prepare`` writes, so
``livedance train OUT_DIR --out RUN`` trains on it unchanged.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from livedance.cli.args import int_at_least


def _size(text: str) -> tuple[int, int]:
    from offline.prepare.crop import parse_size

    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def register(sub: Any) -> None:
    """Add the ``synth`` subcommand to the CLI's subparsers."""
    p = sub.add_parser(
        "synth",
        help="draw synthetic training pairs of a procedural person (no video needed)",
        description=(
            "Dance the thirty actions of the library at random tempi and intensities (with small"
            " changes of angles, size, place and keypoint noise), paint a lit procedural person"
            " (a face that turns with the pose, hair, hands, shoes, a shirt and trousers with"
            " folds) in a still, textured room for every pose, draw its"
            " stick figure with the show's own renderer, and write frames, sticks, keypoints,"
            " index.csv, a contact sheet and manifest.json into OUT_DIR: the layout"
            " `livedance prepare` writes, so `livedance train OUT_DIR --out RUN` trains on it."
            " The seed chooses the person's looks and the dance. Re-running continues an"
            " interrupted run."
        ),
    )
    p.add_argument(
        "out_dir",
        type=Path,
        metavar="OUT_DIR",
        help="dataset folder to write (new, empty, or resumed)",
    )
    p.add_argument(
        "--frames",
        type=int_at_least(1),
        default=3000,
        metavar="N",
        help="training pairs to draw (3000: two minutes of dance at 25 fps)",
    )
    p.add_argument(
        "--size", type=_size, default=(256, 256), metavar="N|WxH", help="output size (256)"
    )
    p.add_argument(
        "--seed", type=int, default=0, help="chooses the person's looks and the dance (0)"
    )
    p.add_argument(
        "--overwrite", action="store_true", help="start over if OUT_DIR has other settings"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from offline.synth import synth_dataset

    report = synth_dataset(
        args.out_dir,
        n_frames=args.frames,
        size=args.size,
        seed=args.seed,
        overwrite=args.overwrite,
        progress=not args.no_progress,
    )
    m = report.manifest
    state = "already complete" if report.up_to_date else "done"
    rate = report.written_now / report.seconds if report.seconds > 0 else 0.0
    print(
        f"{args.out_dir}: {state}: {m.n_frames} pairs ({m.split.n_train} train, {m.split.n_test}"
        f" test) at {m.size[0]}x{m.size[1]}; {report.written_now} drawn in"
        f" {report.seconds:.1f} s ({rate:.0f} frames/s); check"
        f" {args.out_dir / 'contact_sheet.png'}"
    )
    return 0
