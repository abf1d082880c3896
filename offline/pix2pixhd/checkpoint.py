"""Crash-safe checkpoints of a pix2pixHD run (tensors and plain containers only).

Used by `offline.pix2pixhd.train` and `offline.pix2pixhd.export`. A checkpoint appears under
its final name only when complete (temporary file in the same folder, fsync, `os.replace`,
fsync of the folder), so a SIGKILL at any moment leaves the previous checkpoint intact.
Loading uses ``torch.load(weights_only=True)``: no arbitrary unpickling.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from livedance.errors import LivedanceError
from offline.pix2pixhd.networks import GeneratorConfig, build_generator

CHECKPOINT_DIR = "checkpoints"
LATEST_NAME = "latest.pt"
RUN_JSON = "run.json"


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every filesystem lets a folder be opened
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write(path: Path, write: Any) -> None:
    """Call ``write(file_object)`` on a temporary file, then move it onto ``path`` atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    umask = os.umask(0)
    os.umask(umask)
    try:
        os.fchmod(fd, 0o666 & ~umask)  # mkstemp's 0600 would hide the file from other users
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write ``state`` (tensors, numbers, strings, lists, dicts) atomically to ``path``."""
    atomic_write(path, lambda f: torch.save(state, f))


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Read a checkpoint onto the CPU with ``weights_only=True``.

    Raises:
        LivedanceError: missing or unreadable (one line).
    """
    if not path.is_file():
        raise LivedanceError(f"no checkpoint at {path}")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise LivedanceError(
            f"{path}: unreadable checkpoint ({type(exc).__name__}: {exc})"
        ) from None


def write_json(path: Path, doc: Any) -> None:
    """Atomic JSON write (indent 2)."""
    data = (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode()
    atomic_write(path, lambda f: f.write(data))


def read_run(run_dir: Path) -> dict[str, Any]:
    """``RUN_DIR/run.json`` (Body, generator numbers, training summary).

    Raises:
        LivedanceError: not a training run folder.
    """
    path = run_dir / RUN_JSON
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise LivedanceError(f"{run_dir} is not a training run (no {RUN_JSON})") from None
    except (OSError, ValueError) as exc:
        raise LivedanceError(f"{path}: unreadable ({exc})") from None


def load_generator(run_dir: Path, checkpoint: Path | None = None) -> tuple[torch.nn.Module, dict]:
    """The trained generator (eval mode, CPU) and ``run.json`` of a run folder.

    Raises:
        LivedanceError: not a run folder, or no/unreadable checkpoint.
    """
    run = read_run(run_dir)
    state = load_checkpoint(checkpoint or run_dir / CHECKPOINT_DIR / LATEST_NAME)
    config = GeneratorConfig.from_dict(state["generator_config"])
    size = (int(state["size"][0]), int(state["size"][1]))
    net = build_generator(config, size)
    net.load_state_dict(state["net_g"])
    run["generator"] = config.to_dict()
    run["iteration"] = int(state["iteration"])
    run["size"] = {"width": size[0], "height": size[1]}
    return net.eval(), run
