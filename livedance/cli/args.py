"""Argument types shared by the subcommands, so every command validates and words errors alike.

Each returns a callable for argparse's ``type=``: bad values become argparse's usual one-line
usage error naming the option, never a traceback later on.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable


def int_at_least(minimum: int) -> Callable[[str], int]:
    """An integer option with a lower bound, e.g. ``type=int_at_least(1)``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


def float_above(minimum: float) -> Callable[[str], float]:
    """A finite number strictly greater than ``minimum``, e.g. ``type=float_above(0)``."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not (value > minimum and value != float("inf")):
            raise argparse.ArgumentTypeError(f"must be a number above {minimum:g}, got {text}")
        return value

    return parse


def audio_device(text: str) -> int | str:
    """A PortAudio device by index (``3``) or by (part of its) name (``pulse``)."""
    text = text.strip()
    if not text:
        raise argparse.ArgumentTypeError("expected a device index or name")
    return int(text) if text.isdigit() else text


def float_in(low: float, high: float, *, low_open: bool = True) -> Callable[[str], float]:
    """A number in ``(low, high]`` (or ``[low, high]`` with ``low_open=False``)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        above = value > low if low_open else value >= low
        if not (above and value <= high):
            if low_open:
                raise argparse.ArgumentTypeError(
                    f"must be above {low:g} and at most {high:g}, got {text}"
                )
            raise argparse.ArgumentTypeError(f"must be between {low:g} and {high:g}, got {text}")
        return value

    return parse


def int_in(low: int, high: int) -> Callable[[str], int]:
    """A whole number from ``low`` to ``high``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low} to {high}, got {value}")
        return value

    return parse
