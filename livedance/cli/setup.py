"""`livedance setup check SHOW.toml`: validate a saved show setup before the venue, not at it.

Reads the file as ``livedance live --setup`` does (`livedance.cli.setupfile`), then checks what
the show would refuse only when it starts: the tempo range, the latency, the model file, the
OSC receiver, the video outputs. Every problem is one line on stderr; the exit code is
2 when there is any. On success it prints the command line the file stands for.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from livedance.errors import LivedanceError


def register(sub: Any) -> None:
    p = sub.add_parser(
        "setup",
        help="check a saved show setup (livedance live --setup SHOW.toml)",
        description="Saved show setups: `check` validates one and prints what it sets.",
    )
    actions = p.add_subparsers(dest="setup_command", metavar="ACTION", required=True)
    check = actions.add_parser(
        "check",
        help="validate a show setup file: one line per problem, exit 2 if any",
        description="Validate SHOW.toml as `livedance live --setup SHOW.toml` would use it.",
    )
    check.add_argument("file", type=Path, metavar="SHOW.toml")
    check.set_defaults(func=run_check)


def live_parser() -> argparse.ArgumentParser:
    """The parser of `livedance live` (whose options a setup file sets)."""
    from livedance.cli import build_parser

    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            live: argparse.ArgumentParser = action.choices["live"]
            return live
    raise AssertionError("no live command")


def check_setup(path: Path) -> tuple[list[str], argparse.Namespace | None]:
    """Every problem of a setup file, and the options it makes when it has none.

    Returns:
        (one line per problem, the `live` options or None when the file could not be read).
    """
    from livedance.cli.setupfile import parse_setup

    live = live_parser()
    values, problems = parse_setup(path, live)
    if not values and problems:
        return problems, None
    live.set_defaults(**values)
    args = live.parse_args([])
    return problems + [f"{path}: {p}" for p in _show_problems(args)], args


def _show_problems(args: argparse.Namespace) -> list[str]:
    """What `live` would refuse at its start, each as one line."""
    from livedance.cli.showoptions import tempo_from_args
    from livedance.control.osc_out import parse_host_port

    problems: list[str] = []

    def check(what: Any) -> None:
        try:
            what()
        except LivedanceError as exc:
            problems.append(str(exc))

    check(lambda: tempo_from_args(args))
    if args.latency not in ("low", "high"):
        try:
            float(args.latency)
        except ValueError:
            problems.append(f"[audio] latency: low, high or seconds, got {args.latency!r}")
    if args.model is not None and not args.model.is_file():
        problems.append(f"[render] model: no such file {args.model}")
    if getattr(args, "dancer", None) is not None:
        from livedance.dancers import dancer_model

        check(lambda: dancer_model(args.dancer))
    if args.osc_out:
        check(lambda: parse_host_port(args.osc_out, option="[osc] out"))
    if args.record is not None and not args.record.parent.is_dir():
        problems.append(f"[show] record: no folder {args.record.parent}")
    for spec in args.output or []:
        from livedance.show.videoout import parse_output

        check(lambda spec=spec: parse_output(spec))
    if args.midi_map is not None:
        from livedance.control.midimap import load_midi_map

        check(lambda: load_midi_map(args.midi_map))
    return problems


def run_check(args: argparse.Namespace) -> int:
    problems, live_args = check_setup(args.file)
    for problem in problems:
        print(f"livedance: error: {problem}", file=sys.stderr)
    if problems:
        return 2
    assert live_args is not None
    print(f"{args.file}: ok: livedance live {' '.join(_flags(live_args))}".rstrip())
    return 0


def _flags(args: argparse.Namespace) -> list[str]:
    """The options that differ from `live`'s defaults, as flags (what the file stands for)."""
    defaults = vars(live_parser().parse_args([]))
    flags = []
    for dest, value in sorted(vars(args).items()):
        if dest in ("func", "setup_parser", "setup") or value == defaults.get(dest):
            continue
        flag = "--" + dest.replace("_", "-")
        if value is True:
            flags.append(flag)
        elif isinstance(value, list):
            flags += [f"{flag} {v}" for v in value]
        else:
            flags.append(f"{flag} {value}")
    return flags
