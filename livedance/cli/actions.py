"""`livedance actions`: list the basic dance actions, or draw them all on a contact sheet."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from livedance.cli.args import int_at_least


def register(sub: Any) -> None:
    p = sub.add_parser(
        "actions",
        help="list the thirty basic dance actions, or draw them on a contact sheet",
        description=(
            "List the basic dance actions the choreographer picks from, one per beat: name, "
            "tags and energy (0 calm .. 1 explosive). With --sheet, draw every action at a "
            "row of phases over its beat, with the stick renderer, into a PNG."
        ),
        epilog="example: livedance actions --sheet actions.png --phases 8 --cell 160",
    )
    p.add_argument(
        "--sheet", type=Path, metavar="PNG", help="write a contact sheet of all actions here"
    )
    p.add_argument(
        "--phases",
        type=int_at_least(1),
        default=8,
        metavar="N",
        help="poses per action on the sheet, at phases 0, 1/N, ... of the beat (default 8)",
    )
    p.add_argument(
        "--cell",
        type=int_at_least(32),
        default=160,
        metavar="PX",
        help="height of one pose on the sheet in pixels (default 160)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from livedance.actions import ACTIONS

    if args.sheet is None:
        print(format_table(ACTIONS))
        return 0
    from livedance.actions.sheet import draw_contact_sheet

    width, height = draw_contact_sheet(ACTIONS, args.sheet, phases=args.phases, cell_px=args.cell)
    print(
        f"wrote {args.sheet} ({len(ACTIONS)} actions x {args.phases} phases, {width}x{height} px)"
    )
    return 0


def format_table(actions: Any) -> str:
    """The actions as an aligned text table: name, tags, energy."""
    rows = [(a.name, ", ".join(sorted(a.tags)), f"{a.energy:.2f}") for a in actions]
    header = ("name", "tags", "energy")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(2)]
    lines = [f"{header[0]:<{widths[0]}}  {header[1]:<{widths[1]}}  {header[2]}"]
    lines += [f"{n:<{widths[0]}}  {t:<{widths[1]}}  {e:>6}" for n, t, e in rows]
    return "\n".join(lines)
