"""A saved show setup: the options of a show in a TOML file, set up once and reloaded at the venue.

``livedance live --setup show.toml`` reads the file and uses its values as the defaults of the
command's options, so a flag on the command line still overrides the file. Every value goes
through the same argparse types and choices as the flag it stands for, so the file and the
command line refuse the same mistakes with the same words; ``livedance setup check show.toml``
reports every mistake, one line each, and exits non-zero. Paths in the file are relative to the
file's folder.

The file's sections and keys, each the option it sets::

    [audio]    input samplerate channels blocksize latency
    [tempo]    preset min_bpm max_bpm hold_s
    [render]   model dancer stick device size fps blend deadband seed repeats
    [window]   fullscreen screen hud headless
    [osc]      enabled host port out
    [offsets]  av_ms osc_ms
    [show]     duration record outputs (a list of --output specs)
    [midi]     input mapping clock clock_out
    [link]     enabled lead quantum start_stop
"""

from __future__ import annotations

import argparse
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from livedance.errors import LivedanceError


@dataclass(frozen=True)
class Key:
    """One key of the file: the option's dest, and whether the file says the opposite of it."""

    dest: str
    negated: bool = False
    """A ``--no-X`` flag written positively in the file (``hud = false`` is ``--no-hud``)."""


SECTIONS: dict[str, dict[str, Key]] = {
    "audio": {
        "input": Key("input"),
        "samplerate": Key("samplerate"),
        "channels": Key("channels"),
        "blocksize": Key("blocksize"),
        "latency": Key("latency"),
    },
    "tempo": {
        "preset": Key("tempo"),
        "min_bpm": Key("min_bpm"),
        "max_bpm": Key("max_bpm"),
        "hold_s": Key("tempo_hold"),
    },
    "render": {
        "model": Key("model"),
        "dancer": Key("dancer"),
        "stick": Key("stick"),
        "device": Key("device"),
        "size": Key("size"),
        "fps": Key("fps"),
        "blend": Key("blend"),
        "deadband": Key("deadband"),
        "seed": Key("seed"),
        "repeats": Key("no_repeats", negated=True),
    },
    "window": {
        "fullscreen": Key("fullscreen"),
        "screen": Key("screen"),
        "hud": Key("no_hud", negated=True),
        "headless": Key("headless"),
    },
    "osc": {
        "enabled": Key("no_osc", negated=True),
        "host": Key("osc_host"),
        "port": Key("osc_port"),
        "out": Key("osc_out"),
    },
    "offsets": {"av_ms": Key("av_offset"), "osc_ms": Key("osc_offset")},
    "show": {"duration": Key("duration"), "record": Key("record"), "outputs": Key("output")},
    "midi": {
        "input": Key("midi_in"),
        "mapping": Key("midi_map"),
        "clock": Key("midi_clock"),
        "clock_out": Key("midi_clock_out"),
    },
    "link": {
        "enabled": Key("link"),
        "lead": Key("link_lead"),
        "quantum": Key("link_quantum"),
        "start_stop": Key("link_start_stop"),
    },
}


class SetupError(LivedanceError):
    """A setup file that cannot be used; ``problems`` holds every mistake, one line each."""

    def __init__(self, problems: list[str]) -> None:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(problems[0] + more, exit_code=2)
        self.problems = problems


def read_setup(path: Path, parser: argparse.ArgumentParser) -> dict[str, Any]:
    """The option values a setup file gives ``parser``'s command, checked as the flags are.

    Args:
        path: the TOML file.
        parser: the command's parser (``live``): its actions give each value's type and choices.

    Returns:
        ``{dest: value}``, ready for ``parser.set_defaults``.

    Raises:
        SetupError: the file is missing or not TOML, or any key is unknown or has a bad value;
            every problem is listed, each as one line starting with the file's name.
    """
    values, problems = parse_setup(path, parser)
    if problems:
        raise SetupError(problems)
    return values


def parse_setup(path: Path, parser: argparse.ArgumentParser) -> tuple[dict[str, Any], list[str]]:
    """The values of a setup file that are good, and a line for each problem of the others.

    Args:
        path: the TOML file.
        parser: the command's parser (``live``): its actions give each value's type and choices.

    Returns:
        (``{dest: value}`` of the good keys, one line per problem starting with the file's name).
    """
    name = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}, [f"{name}: no such file"]
    except (OSError, UnicodeDecodeError) as exc:
        return {}, [f"{name}: cannot read it ({exc})"]
    except tomllib.TOMLDecodeError as exc:
        return {}, [f"{name}: not valid TOML: {exc}"]
    actions = {a.dest: a for a in parser._actions}
    values: dict[str, Any] = {}
    problems: list[str] = []
    for section, table in data.items():
        keys = SECTIONS.get(section)
        if keys is None:
            problems.append(f"{name}: [{section}]: unknown section (known: {', '.join(SECTIONS)})")
            continue
        if not isinstance(table, dict):
            problems.append(f"{name}: {section}: expected a [{section}] table")
            continue
        for key, value in table.items():
            where = f"{name}: [{section}] {key}"
            spec = keys.get(key)
            if spec is None:
                problems.append(f"{where}: unknown key (known: {', '.join(keys)})")
                continue
            action = actions.get(spec.dest)
            if action is None:
                problems.append(f"{where}: not an option of `{parser.prog}`")
                continue
            try:
                values[spec.dest] = _value(action, spec, value, path.parent)
            except ValueError as exc:
                problems.append(f"{where}: {exc}")
    return values, problems


def _value(action: argparse.Action, spec: Key, value: Any, base: Path) -> Any:
    """``value`` from the file as the option would hold it (ValueError: why it is refused)."""
    if action.nargs == 0:  # a flag: store_true
        if not isinstance(value, bool):
            raise ValueError(f"expected true or false, got {value!r}")
        return not value if spec.negated else value
    if isinstance(action, argparse._AppendAction):
        items = value if isinstance(value, list) else [value]
        return [_one(action, item, base) for item in items]
    return _one(action, value, base)


def _one(action: argparse.Action, value: Any, base: Path) -> Any:
    if isinstance(value, bool | dict | list):
        raise ValueError(f"expected a number or a string, got {value!r}")
    text = str(value)
    convert: Callable[[str], Any] = action.type or str  # type: ignore[assignment]
    try:
        result = convert(text)
    except (argparse.ArgumentTypeError, ValueError) as exc:
        raise ValueError(str(exc) or f"bad value {value!r}") from None
    if action.choices is not None and result not in action.choices:
        raise ValueError(f"{value!r} is not one of {', '.join(map(str, action.choices))}")
    if isinstance(result, Path) and not result.is_absolute():
        result = base / result
    return result


def apply_setup(
    parser: argparse.ArgumentParser,
    command: argparse.ArgumentParser,
    args: argparse.Namespace,
    argv: Sequence[str] | None,
) -> argparse.Namespace:
    """``args`` parsed again with the setup file's values as the command's defaults.

    Args:
        parser: the whole command line's parser.
        command: the subcommand's parser (whose defaults the file sets).
        args: the first parse (``args.setup``: the file, or None).
        argv: the command line.

    Returns:
        The options: the command line's flags, else the file's values, else the defaults.
    """
    if getattr(args, "setup", None) is None:
        return args
    command.set_defaults(**read_setup(args.setup, command))
    return parser.parse_args(None if argv is None else list(argv))


def add_setup_option(p: argparse.ArgumentParser) -> None:
    """``--setup show.toml`` on a show command."""
    p.add_argument(
        "--setup",
        type=Path,
        metavar="SHOW.toml",
        help="a saved show setup (devices, ports, model, outputs, offsets, tempo range); "
        "options on the command line override it. `livedance setup check` validates one",
    )
    p.set_defaults(setup_parser=p)
