"""``livedance prepare VIDEO OUT_DIR``: turn a video of a person into a training dataset.

A thin layer over `offline.prepare.prepare_dataset` (imported when the command runs, so
``livedance --help`` never loads mediapipe).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def _size(text: str) -> tuple[int, int]:
    from offline.prepare.crop import parse_size

    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _crop(text: str) -> Any:
    from offline.prepare.crop import parse_crop

    try:
        return parse_crop(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def register(sub: Any) -> None:
    """Add the ``prepare`` subcommand to the CLI's subparsers."""
    p = sub.add_parser(
        "prepare",
        help="turn a video of a person into training pairs (frames, sticks, keypoints, Body)",
        description=(
            "Sample a video (or image sequence) of one person, detect their pose in each frame"
            " (MediaPipe BlazePose, or OpenPose JSON files), cut one fixed crop around their"
            " motion, and write real frames, stick figures, keypoints, a contact sheet and"
            " manifest.json (with the measured Body) into OUT_DIR. Re-running continues an"
            " interrupted run."
        ),
    )
    p.add_argument(
        "video",
        type=Path,
        metavar="VIDEO",
        help="video of the person (mp4, mov, avi, mkv, ...), or an image sequence: a folder of"
        " images or a pattern ('frames/image%%d.jpg', 'frames/*.jpg'; quote it)",
    )
    p.add_argument(
        "out_dir",
        type=Path,
        metavar="OUT_DIR",
        help="dataset folder to write (new, empty, or resumed)",
    )
    p.add_argument(
        "--fps",
        type=float,
        default=25.0,
        help="frames sampled per second (25); also the rate of an image sequence whose names"
        " carry no numbers (then ordered by name)",
    )
    p.add_argument(
        "--source-fps",
        type=float,
        metavar="F",
        help="image sequences: the frame rate the numbers in the names count at, so"
        " image{N}.jpg is at N/F seconds and missing numbers are gaps in time (default: --fps)."
        " E.g. every 10th frame of a 29.97 fps video: --source-fps 29.97",
    )
    p.add_argument(
        "--size", type=_size, default=(256, 256), metavar="N|WxH", help="output size (256)"
    )
    p.add_argument(
        "--crop",
        type=_crop,
        default=None,
        metavar="auto|X,Y,W,H",
        help="fixed crop in video pixels (default auto: around the person's whole motion)",
    )
    p.add_argument(
        "--keypoints",
        type=Path,
        metavar="DIR",
        help="read poses from OpenPose JSON files (one per video frame) instead of BlazePose",
    )
    p.add_argument(
        "--min-confidence",
        type=float,
        metavar="C",
        help="joints at or below this confidence are missing (BlazePose 0.5, OpenPose 0.1)",
    )
    p.add_argument(
        "--test-fraction",
        type=float,
        metavar="F",
        default=0.1,
        help="share at the end of the video kept for testing (0.1)",
    )
    p.add_argument(
        "--guard", type=float, default=1.0, metavar="S", help="seconds between train and test"
    )
    p.add_argument("--no-smooth", action="store_true", help="do not smooth the keypoints")
    p.add_argument(
        "--overwrite", action="store_true", help="start over if OUT_DIR has other settings"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from offline.prepare import OneEuroParams, PrepareOptions, prepare_dataset

    options = PrepareOptions(
        fps=args.fps,
        source_fps=args.source_fps,
        size=args.size,
        crop=args.crop,
        keypoints_dir=args.keypoints,
        min_confidence=args.min_confidence,
        smoothing=OneEuroParams(enabled=not args.no_smooth),
        test_fraction=args.test_fraction,
        guard_s=args.guard,
        overwrite=args.overwrite,
        progress=not args.no_progress,
    )
    report = prepare_dataset(args.video, args.out_dir, options)
    m = report.manifest
    state = "already complete" if report.up_to_date else "done"
    print(
        f"{args.out_dir}: {state}: {m.n_frames} pairs ({m.split.n_train} train, {m.split.n_test}"
        f" test) from {m.n_samples} frames at {m.fps:g} fps; detection rate"
        f" {m.detection_rate:.3f}; crop {m.crop.spec()} -> {m.size[0]}x{m.size[1]};"
        f" check {args.out_dir / 'contact_sheet.png'}"
    )
    return 0
