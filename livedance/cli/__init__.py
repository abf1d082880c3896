"""The `livedance` command line: a thin layer of subcommands over the library.

Each subcommand lives in its own module here with a ``register(subparsers)`` that adds its parser
and sets ``func``; heavy modules (librosa, mediapipe, torch) are imported inside ``func`` so that
``livedance --help`` and the live show start fast. Every `LivedanceError` becomes one line on
stderr and a non-zero exit; any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from livedance import __version__
from livedance.errors import LivedanceError

SUBCOMMANDS = (
    "play",
    "live",
    "render",
    "actions",
    "analyze",
    "beats",
    "prepare",
    "synth",
    "train",
    "export",
    "evaluate",
    "dancer",
    "bench",
    "demo_song",
    "devices",
    "weights",
    "setup",
    "midi",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="livedance",
        description="Make a person dance to music, on the beat, live.",
        epilog="Run `livedance COMMAND --help` for the options of each command.",
    )
    parser.add_argument("--version", action="version", version=f"livedance {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in SUBCOMMANDS:
        importlib.import_module(f"livedance.cli.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    level = (logging.WARNING, logging.INFO, logging.DEBUG)[min(args.verbose, 2)]
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        if getattr(args, "setup_parser", None) is not None:  # --setup show.toml, flags override
            from livedance.cli.setupfile import apply_setup

            args = apply_setup(parser, args.setup_parser, args, argv)
        return int(args.func(args) or 0)
    except LivedanceError as exc:
        print(f"livedance: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("livedance: interrupted", file=sys.stderr)
        return 130


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
