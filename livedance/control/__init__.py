"""Operator control of a show over OSC: typed commands in, beats and actions out.

See `livedance.control.osc` (input), `livedance.control.osc_out` (output),
`livedance.control.state` (what the show does with the commands).
"""

from livedance.control.commands import (
    INPUT_ADDRESSES,
    Blackout,
    Command,
    CommandError,
    ForceAction,
    Freeze,
    LoadModel,
    MarkOne,
    Nudge,
    ReleaseTempo,
    ScaleTempo,
    SetBeatOffset,
    SetIntensity,
    SetPictureOffset,
    SetTempo,
    ShowHud,
    Tap,
    address_table_markdown,
    parse_message,
)
from livedance.control.options import add_osc_arguments, open_osc
from livedance.control.osc import OscControl, OscControlStats
from livedance.control.osc_out import OscOut, OscOutStats, parse_host_port
from livedance.control.state import (
    Requests,
    ShowControls,
    apply_command,
    apply_commands,
    tap_tempo_bpm,
)

__all__ = [
    "INPUT_ADDRESSES",
    "Blackout",
    "Command",
    "CommandError",
    "ForceAction",
    "Freeze",
    "LoadModel",
    "MarkOne",
    "Nudge",
    "OscControl",
    "OscControlStats",
    "OscOut",
    "OscOutStats",
    "ReleaseTempo",
    "Requests",
    "ScaleTempo",
    "SetBeatOffset",
    "SetIntensity",
    "SetPictureOffset",
    "SetTempo",
    "ShowControls",
    "ShowHud",
    "Tap",
    "add_osc_arguments",
    "address_table_markdown",
    "apply_command",
    "apply_commands",
    "open_osc",
    "parse_host_port",
    "parse_message",
    "tap_tempo_bpm",
]
