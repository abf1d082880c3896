"""Operator commands: the typed form of the OSC messages lighting desks and VJ software send.

The "OSC control" box of DESIGN.md. An OSC message is untrusted input from the network:
`parse_message` turns ``(address, args)`` into one of the small frozen command dataclasses below
or raises `CommandError` saying why it was refused (unknown address, wrong type, out of range).
`INPUT_ADDRESSES` is the single table of what livedance listens to; the parser and the README's
address table are both written from it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from livedance.audio.temporange import ANY_TEMPO

PREFIX = "/livedance"
MIN_BPM = ANY_TEMPO.min_bpm
MAX_BPM = ANY_TEMPO.max_bpm
MAX_NUDGE_BEATS = 4.0  # one 4/4 bar either way: enough to move the downbeat anywhere
MAX_TEXT_CHARS = 1024
MAX_OFFSET_MS = 1000.0  # a projector or a desk is tens to a few hundred ms late; a second is plenty


class CommandError(ValueError):
    """An OSC message that is not a valid command (the reason is the message)."""


@dataclass(frozen=True, slots=True)
class SetTempo:
    """Set the beat clock's tempo.

    Attributes:
        bpm: beats per minute, `MIN_BPM`..`MAX_BPM`.
    """

    bpm: float


@dataclass(frozen=True, slots=True)
class ScaleTempo:
    """Double or halve the tempo the beat clock follows (the tracker counted the wrong level).

    Attributes:
        factor: 2.0 (double) or 0.5 (half).
    """

    factor: float


@dataclass(frozen=True, slots=True)
class MarkOne:
    """The operator says "this is the one": the beat nearest ``t_s`` starts a bar.

    Attributes:
        t_s: when the button was pressed, on the show's control clock.
    """

    t_s: float


@dataclass(frozen=True, slots=True)
class ReleaseTempo:
    """End a tempo set by `SetTempo` or tap tempo: the beat tracker steers again."""


@dataclass(frozen=True, slots=True)
class Tap:
    """A tap-tempo tap: the operator says "a beat is now".

    Attributes:
        t_s: when the tap arrived, on the clock `OscControl` was given (stamped on arrival, not
            when the show polls, so frame quantisation does not blur tap intervals).
    """

    t_s: float


@dataclass(frozen=True, slots=True)
class Nudge:
    """Shift the beat phase.

    Attributes:
        beats: phase shift in beats, positive = later, ``-MAX_NUDGE_BEATS..MAX_NUDGE_BEATS``.
    """

    beats: float


@dataclass(frozen=True, slots=True)
class ForceAction:
    """Dance this action on the next beat interval (`Choreographer.force_next`).

    Attributes:
        name: the action's name, e.g. ``"clap"``.
    """

    name: str


@dataclass(frozen=True, slots=True)
class SetIntensity:
    """Scale how big the dance is.

    Attributes:
        value: 0 (barely moving) .. 1 (full swing).
    """

    value: float


@dataclass(frozen=True, slots=True)
class Blackout:
    """Show black frames (on) or the dancer (off)."""

    on: bool


@dataclass(frozen=True, slots=True)
class Freeze:
    """Hold the current frame (on) or dance again (off)."""

    on: bool


@dataclass(frozen=True, slots=True)
class ShowHud:
    """Show (on) or hide (off) the heads-up display."""

    on: bool


@dataclass(frozen=True, slots=True)
class LoadModel:
    """Switch the frame renderer to another generator.

    Attributes:
        path: the model file (``.onnx``) as the operator wrote it; not checked here.
    """

    path: str


@dataclass(frozen=True, slots=True)
class SetPictureOffset:
    """Trim the picture against the sound (a projector's or a video mixer's delay).

    Attributes:
        ms: shift of the picture in milliseconds, ``-MAX_OFFSET_MS..MAX_OFFSET_MS``; negative
            shows each move earlier, to make up for a display that shows frames late.
    """

    ms: float


@dataclass(frozen=True, slots=True)
class SetBeatOffset:
    """Trim the OSC beat output against the sound (a lighting desk's delay).

    Attributes:
        ms: shift of ``/livedance/beat`` and ``/livedance/action`` in milliseconds,
            ``-MAX_OFFSET_MS..MAX_OFFSET_MS``; negative sends them earlier.
    """

    ms: float


Command = (
    SetTempo
    | ScaleTempo
    | ReleaseTempo
    | MarkOne
    | Tap
    | Nudge
    | ForceAction
    | SetIntensity
    | Blackout
    | Freeze
    | ShowHud
    | LoadModel
    | SetPictureOffset
    | SetBeatOffset
)


@dataclass(frozen=True)
class AddressSpec:
    """One input address: its OSC type tags and what it means (one row of the README table)."""

    address: str
    args: str
    meaning: str
    range: str


def _number(args: Sequence[Any], what: str, lo: float, hi: float) -> float:
    """The single numeric argument of a message, checked to lie in ``lo..hi``."""
    _expect_count(args, 1)
    value = args[0]
    # bool is an int in Python; an OSC T/F is not a number.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CommandError(f"{what} must be a number, got {_osc_type(value)} {value!r}")
    value = float(value)
    if not math.isfinite(value) or not lo <= value <= hi:
        raise CommandError(f"{what} must be in {lo:g}..{hi:g}, got {value:g}")
    return value


def _switch(args: Sequence[Any], what: str) -> bool:
    """The on/off argument of a toggle: int 0/1, OSC T/F, or float 0.0/1.0 (TouchOSC buttons)."""
    _expect_count(args, 1)
    value = args[0]
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    raise CommandError(f"{what} must be 0 or 1, got {_osc_type(value)} {value!r}")


def _text(args: Sequence[Any], what: str) -> str:
    _expect_count(args, 1)
    value = args[0]
    if not isinstance(value, str):
        raise CommandError(f"{what} must be a string, got {_osc_type(value)} {value!r}")
    value = value.strip()
    if not value or len(value) > MAX_TEXT_CHARS or not value.isprintable():
        raise CommandError(f"{what} must be 1..{MAX_TEXT_CHARS} printable characters")
    return value


def _expect_count(args: Sequence[Any], n: int) -> None:
    if len(args) != n:
        raise CommandError(f"expected {n} argument{'s' if n != 1 else ''}, got {len(args)}")


def _osc_type(value: Any) -> str:
    return type(value).__name__


def _tempo(args: Sequence[Any], t_s: float, names: Collection[str] | None) -> Command:
    return SetTempo(_number(args, "bpm", MIN_BPM, MAX_BPM))


def _release(args: Sequence[Any], t_s: float, names: Collection[str] | None) -> Command | None:
    return ReleaseTempo() if _button(args, "release") else None


def _button(args: Sequence[Any], what: str) -> bool:
    """A button: pressed (1, or no argument) is True; its release (0) is False (desks and TouchOSC
    send 1 on press and 0 on release: only the press acts)."""
    if len(args) > 1:
        raise CommandError(f"expected 0 or 1 argument, got {len(args)}")
    return not args or _switch(args, what)


def _double(args: Sequence[Any], t_s: float, names: Collection[str] | None) -> Command | None:
    return ScaleTempo(2.0) if _button(args, "double") else None


def _half(args: Sequence[Any], t_s: float, names: Collection[str] | None) -> Command | None:
    return ScaleTempo(0.5) if _button(args, "half") else None


def _one(args: Sequence[Any], t_s: float, names: Collection[str] | None) -> Command | None:
    return MarkOne(t_s) if _button(args, "one") else None


def _tap(args: Sequence[Any], t_s: float, names: Collection[str] | None) -> Command | None:
    return Tap(t_s) if _button(args, "tap") else None


def _nudge(args: Sequence[Any], t_s: float, names: Collection[str] | None) -> Command:
    return Nudge(_number(args, "nudge", -MAX_NUDGE_BEATS, MAX_NUDGE_BEATS))


def _action(args: Sequence[Any], t_s: float, names: Collection[str] | None) -> Command:
    name = _text(args, "action name")
    if names is not None and name not in names:
        raise CommandError(f"unknown action {name!r}")
    return ForceAction(name)


def _intensity(args: Sequence[Any], t_s: float, names: Collection[str] | None) -> Command:
    return SetIntensity(_number(args, "intensity", 0.0, 1.0))


def _blackout(args: Sequence[Any], t_s: float, names: Collection[str] | None) -> Command:
    return Blackout(_switch(args, "blackout"))


def _freeze(args: Sequence[Any], t_s: float, names: Collection[str] | None) -> Command:
    return Freeze(_switch(args, "freeze"))


def _hud(args: Sequence[Any], t_s: float, names: Collection[str] | None) -> Command:
    return ShowHud(_switch(args, "hud"))


def _model(args: Sequence[Any], t_s: float, names: Collection[str] | None) -> Command:
    return LoadModel(_text(args, "model path"))


def _picture_offset(args: Sequence[Any], t_s: float, names: Collection[str] | None) -> Command:
    return SetPictureOffset(_number(args, "offset (ms)", -MAX_OFFSET_MS, MAX_OFFSET_MS))


def _beat_offset(args: Sequence[Any], t_s: float, names: Collection[str] | None) -> Command:
    return SetBeatOffset(_number(args, "OSC offset (ms)", -MAX_OFFSET_MS, MAX_OFFSET_MS))


_Parser = Callable[[Sequence[Any], float, Collection[str] | None], Command | None]

_BPM_RANGE = f"{MIN_BPM:g}..{MAX_BPM:g}"
_NUDGE_RANGE = f"-{MAX_NUDGE_BEATS:g}..{MAX_NUDGE_BEATS:g}"
_OFFSET_RANGE = f"-{MAX_OFFSET_MS:g}..{MAX_OFFSET_MS:g}"
_TABLE: tuple[tuple[AddressSpec, _Parser], ...] = (
    (
        AddressSpec(
            f"{PREFIX}/tempo",
            "f",
            "hold this tempo in BPM (folded into the show's range) until released or timed out",
            _BPM_RANGE,
        ),
        _tempo,
    ),
    (
        AddressSpec(
            f"{PREFIX}/tempo/release", "(i)", "end a held tempo: track the music again", "-"
        ),
        _release,
    ),
    (
        AddressSpec(
            f"{PREFIX}/tempo/double",
            "(i)",
            "double the tempo the dancer follows (held like a set tempo); 0 (release) ignored",
            "-",
        ),
        _double,
    ),
    (
        AddressSpec(
            f"{PREFIX}/tempo/half",
            "(i)",
            "halve the tempo the dancer follows (held like a set tempo); 0 (release) ignored",
            "-",
        ),
        _half,
    ),
    (
        AddressSpec(
            f"{PREFIX}/one",
            "(i)",
            "this is the one: the beat nearest now starts a bar (its move gets the accent)",
            "-",
        ),
        _one,
    ),
    (
        AddressSpec(f"{PREFIX}/tap", "(i)", "tap tempo: a beat is now; 0 (release) ignored", "-"),
        _tap,
    ),
    (
        AddressSpec(
            f"{PREFIX}/nudge", "f", "shift the beat phase, in beats (+ later)", _NUDGE_RANGE
        ),
        _nudge,
    ),
    (
        AddressSpec(f"{PREFIX}/action", "s", "dance this action on the next beat", "action name"),
        _action,
    ),
    (AddressSpec(f"{PREFIX}/intensity", "f", "how big the dance is", "0..1"), _intensity),
    (AddressSpec(f"{PREFIX}/blackout", "i", "black frames on/off", "0, 1"), _blackout),
    (AddressSpec(f"{PREFIX}/freeze", "i", "hold the current frame on/off", "0, 1"), _freeze),
    (AddressSpec(f"{PREFIX}/hud", "i", "heads-up display on/off", "0, 1"), _hud),
    (
        AddressSpec(f"{PREFIX}/model", "s", "switch to this generator model", "path to .onnx"),
        _model,
    ),
    (
        AddressSpec(
            f"{PREFIX}/offset",
            "f",
            "picture offset in ms against the sound (as `--av-offset`; - earlier: a projector's "
            "delay)",
            _OFFSET_RANGE,
        ),
        _picture_offset,
    ),
    (
        AddressSpec(
            f"{PREFIX}/offset/osc",
            "f",
            "OSC beat output offset in ms (as `--osc-offset`; - earlier: a lighting desk's delay)",
            _OFFSET_RANGE,
        ),
        _beat_offset,
    ),
)
INPUT_ADDRESSES: tuple[AddressSpec, ...] = tuple(spec for spec, _ in _TABLE)
_PARSERS: dict[str, _Parser] = {spec.address: parse for spec, parse in _TABLE}


def parse_message(
    address: str,
    args: Sequence[Any],
    *,
    t_s: float = 0.0,
    action_names: Collection[str] | None = None,
) -> Command | None:
    """The command an OSC message asks for.

    Args:
        address: the OSC address, e.g. ``"/livedance/tempo"``.
        args: the decoded OSC arguments (python-osc types: int, float, str, bool, bytes, ...).
        t_s: arrival time of the message (stamped into `Tap`).
        action_names: the actions `/livedance/action` may name; None accepts any name.

    Returns:
        The command, or None for a message that is valid but asks for nothing (a button release
        on `/livedance/tap`).

    Raises:
        CommandError: unknown address, wrong argument count or type, or a value out of range.
    """
    parse = _PARSERS.get(address)
    if parse is None:
        raise CommandError("unknown address")
    return parse(args, t_s, action_names)


def address_table_markdown() -> str:
    """The README's table of input addresses, from the same table the parser uses.

    Returns:
        A Markdown table: address, OSC argument types, meaning, range.
    """
    rows = ["| address | args | meaning | range |", "| --- | --- | --- | --- |"]
    rows += [f"| `{s.address}` | `{s.args}` | {s.meaning} | {s.range} |" for s in INPUT_ADDRESSES]
    return "\n".join(rows)
