"""User-facing failures: what the CLI turns into one clear line on stderr and a non-zero exit.

Raise `LivedanceError` for every expected failure (missing or corrupt file, silence, no audio
device, no display, a model that does not fit); anything else reaching the CLI is a bug and keeps
its traceback.
"""

from __future__ import annotations


class LivedanceError(Exception):
    """An expected failure with a message meant for the person at the console.

    Args:
        message: one line saying what is wrong and, where possible, what to do about it.
        exit_code: process exit status the CLI uses (default 1).
    """

    def __init__(self, message: str, *, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code
