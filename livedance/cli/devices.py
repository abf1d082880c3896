"""`livedance devices`: list the audio inputs and outputs PortAudio can see."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser(
        "devices",
        help="list audio input and output devices",
        description="List the audio devices (index, name, channels, default sample rate).",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from livedance.audio.device import import_sounddevice

    sd = import_sounddevice()
    devices = sd.query_devices()
    if len(devices) == 0:
        print("no audio devices found (no sound card, or no audio server running)")
        return 1
    default_in, default_out = sd.default.device
    print(f"{'#':>3}  {'in':>3} {'out':>3}  {'rate':>6}  name")
    for i, d in enumerate(devices):
        mark = ("<" if i == default_in else " ") + (">" if i == default_out else " ")
        print(
            f"{i:>3}{mark}{d['max_input_channels']:>3} {d['max_output_channels']:>3}  "
            f"{d['default_samplerate']:>6.0f}  {d['name']}"
        )
    print("< default input, > default output")
    return 0
