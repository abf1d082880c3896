"""MIDI notes and controllers onto the operator's commands, from a mapping file, with MIDI-learn.

The "OSC control" box of DESIGN.md, for a MIDI controller: each binding turns a note or a CC into
the ``(address, args)`` of one of the OSC input addresses (`INPUT_ADDRESSES`), and the OSC parser
makes the command, so a pad, a fader and an OSC message do exactly the same thing and are checked
the same way. The mapping file is TOML::

    [[binding]]
    note = 36                       # or: cc = 1
    channel = 10                    # optional, 1..16 (default: any)
    address = "/livedance/tap"

    [[binding]]
    cc = 7
    address = "/livedance/intensity"
    min = 0.0                       # a CC's 0..127 scaled onto min..max (f addresses)
    max = 1.0

    [[binding]]
    note = 40
    address = "/livedance/action"
    value = "clap"                  # the argument a note sends (s addresses, or f ones)

What a message sends depends on the address's argument: a number (``f``) gets the CC scaled, or
a note's ``value``; a switch (``i``: blackout, freeze, hud) is on while a note is held (note off:
off) or, with ``toggle = true``, flips on each press, and a CC is on from 64; a button (tap,
release) fires on a note's press or a CC crossing 64 upwards; a name (``s``) sends ``value``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Collection
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from livedance.control.commands import INPUT_ADDRESSES, Command, CommandError, parse_message
from livedance.errors import LivedanceError

ARG_KINDS = {spec.address: spec.args for spec in INPUT_ADDRESSES}
"""Address -> its OSC argument types: ``f`` number, ``i`` switch, ``(i)`` button, ``s`` name."""


@dataclass(frozen=True)
class MidiBinding:
    """One note or CC bound to an input address.

    Attributes:
        kind: ``note`` or ``cc``.
        number: the note or controller number, 0..127.
        channel: 1..16, or None for any channel.
        address: an input address (`INPUT_ADDRESSES`).
        lo, hi: a CC's range on an ``f`` address.
        value: what a note sends (``s`` addresses, or a fixed number on an ``f`` address).
        toggle: a note flips a switch instead of holding it.
    """

    kind: Literal["note", "cc"]
    number: int
    address: str
    channel: int | None = None
    lo: float = 0.0
    hi: float = 1.0
    value: str | float | None = None
    toggle: bool = False

    def matches(self, kind: str, number: int, channel: int) -> bool:
        return (
            kind == self.kind
            and number == self.number
            and (self.channel is None or self.channel == channel)
        )


class MidiMap:
    """The bindings of a mapping file, turning MIDI messages into commands.

    Args:
        bindings: in file order; the first that matches a message wins.
    """

    def __init__(self, bindings: list[MidiBinding]) -> None:
        self.bindings = list(bindings)
        self._switches: dict[str, bool] = {}
        self._cc_high: dict[tuple[int, int], bool] = {}

    def command(
        self, message: Any, t_s: float, action_names: Collection[str] | None = None
    ) -> Command | None:
        """The command a mido message asks for (None: not bound, or asks for nothing).

        Args:
            message: a `mido.Message` (note_on, note_off, control_change; others are ignored).
            t_s: when it arrived on the show clock (stamped into taps).
            action_names: the actions `/livedance/action` may name.

        Raises:
            CommandError: the binding makes a value the address refuses (a CC range beyond it).
        """
        found = _event(message)
        if found is None:
            return None
        kind, number, channel, value = found
        for b in self.bindings:
            if b.matches(kind, number, channel):
                args = self._args(b, kind, value)
                if args is None:
                    return None
                return parse_message(b.address, args, t_s=t_s, action_names=action_names)
        return None

    def _args(self, b: MidiBinding, kind: str, value: int) -> list[Any] | None:
        arg = ARG_KINDS[b.address]
        pressed = value > 0 if kind == "note" else value >= 64
        if arg == "f":
            if kind == "cc":
                return [b.lo + (b.hi - b.lo) * value / 127.0]
            return [float(b.value)] if pressed and b.value is not None else None
        if arg == "s":
            return [str(b.value)] if pressed else None
        if arg == "(i)":
            if kind == "cc":
                key = (b.number, b.channel or 0)
                was, self._cc_high[key] = self._cc_high.get(key, False), pressed
                return [1] if pressed and not was else None
            return [1] if pressed else None
        # a switch
        if kind == "note" and b.toggle:
            if not pressed:
                return None
            on = not self._switches.get(b.address, False)
            self._switches[b.address] = on
            return [int(on)]
        return [int(pressed)]


def _event(message: Any) -> tuple[str, int, int, int] | None:
    """(kind, number, channel 1..16, value) of a note or CC message; None for others."""
    t = getattr(message, "type", None)
    if t in ("note_on", "note_off"):
        velocity = message.velocity if t == "note_on" else 0
        return "note", message.note, message.channel + 1, velocity
    if t == "control_change":
        return "cc", message.control, message.channel + 1, message.value
    return None


# --------------------------------------------------------------------------------- the file
def load_midi_map(path: Path) -> MidiMap:
    """Read and check a mapping file.

    Raises:
        LivedanceError: one line naming the file, the binding and what is wrong (exit code 2).
    """
    name = str(path)
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LivedanceError(f"{name}: no such MIDI mapping file", exit_code=2) from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise LivedanceError(f"{name}: not a MIDI mapping file: {exc}", exit_code=2) from None
    unknown = set(data) - {"binding"}
    if unknown:
        raise LivedanceError(
            f"{name}: unknown table {sorted(unknown)[0]!r} (use [[binding]])", exit_code=2
        )
    rows = data.get("binding", [])
    if not isinstance(rows, list):
        raise LivedanceError(f"{name}: expected [[binding]] tables", exit_code=2)
    bindings = []
    for i, row in enumerate(rows, 1):
        try:
            bindings.append(_binding(row))
        except ValueError as exc:
            raise LivedanceError(f"{name}: binding {i}: {exc}", exit_code=2) from None
    return MidiMap(bindings)


def _binding(row: dict[str, Any]) -> MidiBinding:
    known = {"note", "cc", "channel", "address", "min", "max", "value", "toggle"}
    extra = set(row) - known
    if extra:
        raise ValueError(f"unknown key {sorted(extra)[0]!r} (known: {', '.join(sorted(known))})")
    if ("note" in row) == ("cc" in row):
        raise ValueError("give either note = N or cc = N")
    kind: Literal["note", "cc"] = "note" if "note" in row else "cc"
    number = row[kind]
    if isinstance(number, bool) or not isinstance(number, int) or not 0 <= number <= 127:
        raise ValueError(f"{kind} must be 0..127, got {number!r}")
    channel = row.get("channel")
    if channel is not None and (isinstance(channel, bool) or channel not in range(1, 17)):
        raise ValueError(f"channel must be 1..16, got {channel!r}")
    address = row.get("address")
    if address not in ARG_KINDS:
        raise ValueError(f"address must be one of livedance's OSC inputs, got {address!r}")
    for key in ("min", "max"):
        if key in row and (isinstance(row[key], bool) or not isinstance(row[key], int | float)):
            raise ValueError(f"{key} must be a number, got {row[key]!r}")
    toggle = row.get("toggle", False)
    if not isinstance(toggle, bool):
        raise ValueError(f"toggle must be true or false, got {toggle!r}")
    b = MidiBinding(
        kind, number, address, channel, float(row.get("min", 0.0)), float(row.get("max", 1.0)),
        row.get("value"), toggle,
    )  # fmt: skip
    arg = ARG_KINDS[address]
    if arg == "s" and kind == "note" and not isinstance(b.value, str):
        raise ValueError(f'{address} needs value = "..." (what the note sends)')
    if arg == "s" and kind == "cc":
        raise ValueError(f"{address} takes a name: bind a note with a value, not a CC")
    if arg == "f" and kind == "note" and not isinstance(b.value, int | float):
        raise ValueError(f"a note on {address} needs value = a number")
    try:  # the ends of the range (or the note's value) must be what the address accepts
        if arg == "f":
            for v in [b.lo, b.hi] if kind == "cc" else [b.value]:
                parse_message(address, [v])
    except CommandError as exc:
        raise ValueError(f"{address}: {exc}") from None
    return b


def learn(message: Any, address: str, *, value: str | float | None = None) -> MidiBinding | None:
    """MIDI-learn: the binding of ``address`` to the control that sent ``message``.

    Args:
        message: the first note on or CC the operator moved.
        address: the input address to bind.
        value: a note's value (``s`` addresses, or a number on an ``f`` one).

    Returns:
        The binding (for a CC on an ``f`` address, the address's whole range when it has one
        of 0..1), or None when ``message`` is not a note on or a CC.
    """
    found = _event(message)
    if found is None or (found[0] == "note" and found[3] == 0):
        return None
    kind, number, channel, _ = found
    b = MidiBinding(kind, number, address, channel, value=value)  # type: ignore[arg-type]
    _binding(_row(b))  # refuse what the file would refuse
    return b


def save_midi_map(path: Path, bindings: list[MidiBinding]) -> None:
    """Write bindings as a mapping file (what `learn` adds to)."""
    blocks = []
    for b in bindings:
        row = _row(b)
        lines = ["[[binding]]"] + [f"{k} = {_toml(v)}" for k, v in row.items()]
        blocks.append("\n".join(lines))
    Path(path).write_text("\n\n".join(blocks) + "\n", encoding="utf-8")


def with_binding(bindings: list[MidiBinding], new: MidiBinding) -> list[MidiBinding]:
    """``bindings`` with ``new`` replacing any binding of the same control."""
    same = replace(new, address="")
    kept = [b for b in bindings if replace(b, address="", lo=0.0, hi=1.0, value=None, toggle=False)
            != replace(same, lo=0.0, hi=1.0, value=None, toggle=False)]  # fmt: skip
    return [*kept, new]


def _row(b: MidiBinding) -> dict[str, Any]:
    row: dict[str, Any] = {b.kind: b.number}
    if b.channel is not None:
        row["channel"] = b.channel
    row["address"] = b.address
    if ARG_KINDS.get(b.address) == "f" and b.kind == "cc":
        row["min"], row["max"] = b.lo, b.hi
    if b.value is not None:
        row["value"] = b.value
    if b.toggle:
        row["toggle"] = True
    return row


def _toml(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(v)
