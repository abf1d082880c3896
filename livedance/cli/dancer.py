"""``livedance dancer VIDEO_OR_FRAMES --minutes M [--name N]``: your own dancer in one command.

A thin layer over `offline.dancer` (prepare -> train -> export -> evaluate -> install; torch
and mediapipe are imported when the command runs) and `livedance.dancers` (``--list``).
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

from livedance.cli.args import float_above, int_at_least, int_in
from livedance.errors import LivedanceError


def _name(text: str) -> str:
    from livedance.dancers import check_name

    try:
        return check_name(text)
    except LivedanceError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register(sub: Any) -> None:
    """Add the ``dancer`` subcommand to the CLI's subparsers."""
    p = sub.add_parser(
        "dancer",
        help="make your own dancer from a video or image sequence in one command",
        description=(
            "Prepare VIDEO_OR_FRAMES (a video file, a folder of images or a pattern such as"
            " 'frames/image%%d.jpg'), train a generator for M minutes of wall time (the"
            " training budget: preparing before it and exporting and evaluating after it come"
            " on top, and are printed as they run), export it to ONNX (parity-checked), score"
            " it on the held-out end of the video (Table I beside the nearest-neighbour"
            " baseline, and a sample grid), and install it where `livedance play/live/render"
            " --dancer NAME` find it: $LIVEDANCE_HOME/dancers/NAME/model.onnx, or the per-user"
            " data folder (~/.local/share/livedance/dancers on Linux). Everything is kept in"
            " the dancer's folder, so running the same command again after a kill continues"
            " where it stopped; with a larger --minutes it trains on."
        ),
        epilog=(
            "examples:\n"
            "  livedance dancer me.mp4 --minutes 30 --name me\n"
            "  livedance dancer frames/ --source-fps 29.97 --minutes 10 --name taichi\n"
            "  livedance play song.mp3 --dancer me\n"
            "  livedance dancer --list"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "source",
        type=Path,
        nargs="?",
        metavar="VIDEO_OR_FRAMES",
        help="video of one person, or a folder / pattern of their frames",
    )
    p.add_argument(
        "--minutes",
        type=float_above(0.0),
        metavar="M",
        help="training budget in wall-clock minutes (required to make a dancer)",
    )
    p.add_argument(
        "--name", type=_name, metavar="NAME", help="dancer name (default: from the file name)"
    )
    p.add_argument("--list", action="store_true", help="list the installed dancers and exit")
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace a dancer of this name that was made from something else",
    )
    p.add_argument(
        "--source-fps",
        type=float_above(0.0),
        metavar="F",
        help="image sequences: the frame rate the numbers in the names count at (see prepare)",
    )
    p.add_argument("--fps", type=float_above(0.0), default=25.0, help="sampling rate (25)")
    p.add_argument(
        "--size",
        type=int_in(64, 1024),
        metavar="N",
        help="square training size in pixels, a multiple of 8 (default: the source's shorter"
        " side rounded down to a multiple of 16, at most 256)",
    )
    p.add_argument(
        "--keypoints", type=Path, metavar="DIR", help="OpenPose JSON files instead of BlazePose"
    )
    p.add_argument("--ngf", type=int_at_least(1), default=16, help="generator width (16)")
    p.add_argument("--n-blocks", type=int_at_least(0), default=6, help="residual blocks (6)")
    p.add_argument("--no-vgg", action="store_true", help="train without the VGG16 loss")
    p.add_argument("--no-lpips", action="store_true", help="evaluate without LPIPS")
    p.add_argument(
        "--no-keypoints", action="store_true", help="evaluate without keypoint MSE (re-detection)"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    if args.list:
        return _list()
    if args.source is None:
        raise LivedanceError("say which video or frames to learn from (or --list)", exit_code=2)
    if args.minutes is None:
        raise LivedanceError("--minutes M: how long to train (wall-clock minutes)", exit_code=2)
    if args.size is not None and args.size % 8:
        raise LivedanceError(f"--size {args.size}: must be a multiple of 8", exit_code=2)
    from offline.dancer import DancerOptions, make_dancer

    name = args.name or _default_name(args.source)
    report = make_dancer(
        DancerOptions(
            source=args.source,
            name=name,
            minutes=args.minutes,
            source_fps=args.source_fps,
            fps=args.fps,
            keypoints_dir=args.keypoints,
            size=args.size,
            ngf=args.ngf,
            n_blocks=args.n_blocks,
            vgg=not args.no_vgg,
            lpips=not args.no_lpips,
            keypoint_metric=not args.no_keypoints,
            overwrite=args.overwrite,
            progress=not args.no_progress,
        )
    )
    budget = report.info.get("budget") or {}
    print()
    print(report.table.rstrip())
    print()
    print(
        f"dancer {name}: {report.info.get('iterations')} iterations in"
        f" {budget.get('used_s', 0) / 60:.1f} of {budget.get('minutes', args.minutes):g} min,"
        f" {report.info['size']}x{report.info['size']} px"
    )
    if report.grid is not None:
        print(f"sample grid (stick | generated | nearest | real): {report.grid}")
    print(f"table: {report.info['report']['table']}")
    print(f"model: {report.model}")
    print(f"play it: livedance play SONG --dancer {name}")
    return 0


def _default_name(source: Path) -> str:
    """A dancer name from the video's stem or the frames' folder (``taichi1``)."""
    stem = source.name if source.is_dir() else source.stem
    if "%" in stem or "*" in stem or "?" in stem:
        stem = source.parent.name
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip(".-_")[:64]
    return name or "dancer"


def _list() -> int:
    from livedance.dancers import dancer_info, dancers_dir, list_dancers

    names = list_dancers()
    if not names:
        print(f"no dancers in {dancers_dir()} yet: livedance dancer VIDEO --minutes M")
        return 0
    for name in names:
        info = dancer_info(name)
        source = info.get("identity", {}).get("source", "?")
        size = info.get("size", "?")
        print(f"{name:20s} {size}x{size} px  {info.get('iterations', '?')} it  from {source}")
    print(f"({dancers_dir()})")
    return 0
