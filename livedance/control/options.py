"""The OSC options of `play` and `live`, and opening OSC input and output from them.

A thin layer for the CLI: `add_osc_arguments` adds ``--osc-port``, ``--osc-host``, ``--osc-out``
and ``--no-osc`` to a parser; `open_osc` turns the parsed options into a started `OscControl`
and an `OscOut`. When the port was not asked for explicitly and the default one is busy (another
program already speaks OSC on 9000), the show goes on without OSC input and says so, rather than
refusing to play; an explicit ``--osc-port`` that is busy is an error.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Collection
from pathlib import Path
from typing import Any

from livedance.clock import Clock
from livedance.control.commands import MAX_OFFSET_MS
from livedance.control.osc import DEFAULT_HOST, DEFAULT_PORT, OscControl
from livedance.control.osc_out import OscOut, parse_host_port
from livedance.errors import LivedanceError

log = logging.getLogger(__name__)


def offset_ms(text: str) -> float:
    """An argparse type: a delay trim in ms, ``-MAX_OFFSET_MS..MAX_OFFSET_MS`` (as over OSC)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected milliseconds, got {text!r}") from None
    if not -MAX_OFFSET_MS <= value <= MAX_OFFSET_MS:  # NaN fails too
        raise argparse.ArgumentTypeError(
            f"must be from -{MAX_OFFSET_MS:g} to {MAX_OFFSET_MS:g} ms, got {text}"
        )
    return value


def add_osc_arguments(parser: Any) -> None:
    """Add the OSC options to an argparse parser (or argument group).

    Args:
        parser: an `argparse.ArgumentParser` or argument group.
    """
    parser.add_argument(
        "--osc-port",
        type=int,
        default=None,
        metavar="PORT",
        help=f"UDP port for OSC control (default {DEFAULT_PORT}; 0 picks a free one)",
    )
    parser.add_argument(
        "--osc-host",
        default=DEFAULT_HOST,
        metavar="HOST",
        help=f"address to listen for OSC on (default {DEFAULT_HOST}: this machine only; "
        "0.0.0.0 for the whole network)",
    )
    parser.add_argument(
        "--osc-out",
        metavar="HOST:PORT",
        help="send /livedance/beat and /livedance/action to this OSC receiver",
    )
    parser.add_argument(
        "--osc-offset",
        type=offset_ms,
        default=0.0,
        metavar="MS",
        help="send the OSC beats MS milliseconds later (negative: earlier, for a lighting desk "
        "that flashes late); OSC /livedance/offset/osc trims it during the show (default 0)",
    )
    parser.add_argument("--no-osc", action="store_true", help="do not listen for OSC control")


def open_osc(
    args: argparse.Namespace,
    *,
    clock: Clock,
    action_names: Collection[str] | None = None,
) -> tuple[OscControl | None, OscOut | None]:
    """The OSC input (started) and output the options ask for.

    Args:
        args: parsed options from a parser given `add_osc_arguments`.
        clock: the show's master clock (stamps taps, times beat messages).
        action_names: names `/livedance/action` may ask for.

    Returns:
        (input or None, output or None); the caller closes both.

    Raises:
        LivedanceError: a bad ``--osc-out``, or an explicit ``--osc-port`` that cannot be bound.
    """
    out = None
    if args.osc_out:
        parse_host_port(args.osc_out)  # fail on a typo before binding anything
    control = None
    if not args.no_osc:
        port = DEFAULT_PORT if args.osc_port is None else args.osc_port
        try:
            control = OscControl(
                port, args.osc_host, clock=clock, action_names=action_names
            ).start()
        except LivedanceError as e:
            if args.osc_port is not None:
                raise
            log.warning("%s; playing without OSC input", e)
    if args.osc_out:
        try:
            out = OscOut.to(args.osc_out, clock=clock)
        except BaseException:
            if control is not None:
                control.close()
            raise
    return control, out


def add_midi_arguments(parser: Any) -> None:
    """Add the MIDI options (``--midi-in``, ``--midi-map``, ``--midi-clock``,
    ``--midi-clock-out``) to an argparse parser or group."""
    parser.add_argument(
        "--midi-in",
        metavar="PORT",
        help="MIDI input: a port name, virtual:NAME (a port other programs connect to; needs an "
        "ALSA sequencer) or tcp:HOST:PORT (mido's MIDI over TCP, listening)",
    )
    parser.add_argument(
        "--midi-map",
        type=Path,
        metavar="MAP.toml",
        help="MIDI notes and CCs onto the OSC commands (see README: MIDI); "
        "`livedance midi learn` writes one",
    )
    parser.add_argument(
        "--midi-clock",
        action="store_true",
        help="follow the MIDI clock of --midi-in (24 ppqn, start/stop/continue) as the beat",
    )
    parser.add_argument(
        "--midi-clock-out",
        metavar="PORT",
        help="send the show's beats as MIDI clock to this port (name, virtual:NAME, tcp:HOST:PORT)",
    )


def add_link_arguments(parser: Any) -> None:
    """Add the Ableton Link options (``--link``, ``--link-lead``, ``--link-quantum``,
    ``--link-start-stop``) to an argparse parser or group."""
    parser.add_argument(
        "--link",
        action="store_true",
        help="join the Ableton Link session on the network: follow its tempo and beat "
        "(or lead it with --link-lead); peers and tempo on the HUD",
    )
    parser.add_argument(
        "--link-lead",
        action="store_true",
        help="with --link: the show's beats set the session's tempo and beat",
    )
    parser.add_argument(
        "--link-quantum",
        type=_quantum,
        default=4.0,
        metavar="BEATS",
        help="beats per bar for Link's phase (default 4)",
    )
    parser.add_argument(
        "--link-start-stop",
        action="store_true",
        help="with --link: follow the session's start and stop (peers that enable it)",
    )


def _quantum(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected beats, got {text!r}") from None
    if not 1.0 <= value <= 16.0:
        raise argparse.ArgumentTypeError(f"must be from 1 to 16 beats, got {text}")
    return value
