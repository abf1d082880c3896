"""Installed dancers: generators made by ``livedance dancer``, found by name at show time.

DESIGN.md data flow: `offline.dancer` (prepare -> train -> export -> evaluate) installs
``<home>/dancers/NAME/model.onnx``; ``play``/``live``/``render --dancer NAME`` resolve the name
here to that model (no torch, no network: a file lookup). ``<home>`` is ``$LIVEDANCE_HOME`` when
set, else the per-user data folder (``~/.local/share/livedance`` on Linux).

A dancer's folder holds ``model.onnx`` (present only once the dancer is complete),
``dancer.json`` (its source, settings, progress and quality table), ``report/`` (table and
sample grid) and ``work/`` (the dataset and training run, kept so a re-run resumes).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from livedance.errors import LivedanceError

HOME_ENV = "LIVEDANCE_HOME"
MODEL_NAME = "model.onnx"
INFO_NAME = "dancer.json"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def livedance_home() -> Path:
    """``$LIVEDANCE_HOME``, else the per-user data folder of livedance."""
    home = os.environ.get(HOME_ENV)
    if home:
        return Path(home).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("livedance"))


def dancers_dir() -> Path:
    """The folder that holds one folder per dancer."""
    return livedance_home() / "dancers"


def check_name(name: str) -> str:
    """``name`` if it can name a dancer (letters, digits, ``.``, ``_``, ``-``; at most 64).

    Raises:
        LivedanceError: any other name (it becomes a folder name).
    """
    if not _NAME.fullmatch(name):
        raise LivedanceError(
            f"dancer name {name!r}: use letters, digits, '.', '_' or '-' (at most 64,"
            " starting with a letter or digit)",
            exit_code=2,
        )
    return name


def dancer_dir(name: str) -> Path:
    """The folder of dancer ``name`` (which may not exist yet)."""
    return dancers_dir() / check_name(name)


def dancer_info(name: str) -> dict[str, Any]:
    """The dancer's ``dancer.json`` (empty when absent or unreadable)."""
    try:
        return json.loads((dancer_dir(name) / INFO_NAME).read_text())
    except (OSError, ValueError):
        return {}


def list_dancers() -> list[str]:
    """Names of the complete dancers (those with a model), sorted."""
    root = dancers_dir()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / MODEL_NAME).is_file())


def dancer_model(name: str) -> Path:
    """The model of dancer ``name``, for ``--dancer NAME``.

    Raises:
        LivedanceError: no complete dancer of that name (the message lists those there are).
    """
    path = dancer_dir(name) / MODEL_NAME
    if path.is_file():
        return path
    there = list_dancers()
    known = f"installed: {', '.join(there)}" if there else f"none installed in {dancers_dir()}"
    unfinished = (dancer_dir(name) / INFO_NAME).is_file()
    state = " (not finished: re-run its `livedance dancer` command)" if unfinished else ""
    raise LivedanceError(
        f"no dancer named {name!r}{state}; {known}. Make one with `livedance dancer VIDEO"
        f" --minutes M --name {name}`"
    )
