"""`livedance midi ports | learn`: list MIDI ports; bind a controller's pad or fader by moving it.

``livedance midi learn /livedance/intensity --midi-in "nanoKONTROL2" --map map.toml`` waits for
the first note or CC from the port, binds it to the address (replacing what that control did
before) and saves the mapping file that ``--midi-map`` reads.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from pathlib import Path
from typing import Any

from livedance.errors import LivedanceError


def register(sub: Any) -> None:
    p = sub.add_parser("midi", help="MIDI ports, and MIDI-learn for the mapping file")
    actions = p.add_subparsers(dest="midi_command", metavar="ACTION", required=True)
    ports = actions.add_parser("ports", help="list the MIDI input and output ports")
    ports.set_defaults(func=run_ports)
    learn = actions.add_parser(
        "learn",
        help="bind the next note or CC from --midi-in to an OSC address, saved in --map",
        description="Move a pad, key or fader on the controller: it is bound to ADDRESS.",
    )
    learn.add_argument("address", help="an OSC input address, e.g. /livedance/blackout")
    learn.add_argument("--midi-in", required=True, metavar="PORT", help="the controller's port")
    learn.add_argument("--map", required=True, type=Path, metavar="MAP.toml",
                       help="the mapping file to add to (made if missing)")  # fmt: skip
    learn.add_argument("--value", help="what a note sends (an action name, or a number)")
    learn.add_argument("--timeout", type=float, default=60.0, help="give up after S seconds")
    learn.set_defaults(func=run_learn)


def run_ports(args: argparse.Namespace) -> int:
    import mido

    try:
        inputs, outputs = mido.get_input_names(), mido.get_output_names()
    except (ImportError, OSError, SystemError) as exc:
        text = " ".join(str(exc).split())
        raise LivedanceError(f"no MIDI ports on this machine: {text}") from None
    print("inputs: " + (", ".join(inputs) or "none"))
    print("outputs: " + (", ".join(outputs) or "none"))
    return 0


def run_learn(args: argparse.Namespace) -> int:
    from livedance.control.commands import INPUT_ADDRESSES
    from livedance.control.midi import open_port
    from livedance.control.midimap import learn, load_midi_map, save_midi_map, with_binding

    if args.address not in {s.address for s in INPUT_ADDRESSES}:
        raise LivedanceError(f"{args.address!r} is not an OSC input address", exit_code=2)
    bindings = load_midi_map(args.map).bindings if args.map.exists() else []
    value: str | float | None = args.value
    if value is not None:
        with contextlib.suppress(ValueError):  # a number for f addresses, else a name
            value = float(value)
    port = open_port(args.midi_in, output=False)
    print(f"move a control on {args.midi_in} for {args.address} ...", flush=True)
    deadline = time.monotonic() + args.timeout
    try:
        while time.monotonic() < deadline:
            for message in port.iter_pending():
                try:
                    binding = learn(message, args.address, value=value)
                except ValueError as exc:
                    raise LivedanceError(
                        f"cannot bind {args.address}: {exc}", exit_code=2
                    ) from None
                if binding is not None:
                    save_midi_map(args.map, with_binding(bindings, binding))
                    where = f" channel {binding.channel}" if binding.channel else ""
                    print(f"{binding.kind} {binding.number}{where} -> {args.address} ({args.map})")
                    return 0
            time.sleep(0.005)
    finally:
        port.close()
    raise LivedanceError(f"no note or CC from {args.midi_in} in {args.timeout:g} s")
