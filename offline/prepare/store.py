"""The output folder of dataset preparation: atomic writes, progress state, resuming.

Every file appears under its final name only once complete (written to a temporary name in
the same folder, then renamed), so an interrupted run never leaves a half-written frame. A
small state folder (``.prepare/``) remembers the settings and the pose detections done so far,
in chunks; re-running continues where it stopped, and a run with different settings is refused
(or, with ``overwrite``, starts over, reusing the detections when they still apply).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from livedance.errors import LivedanceError
from offline.prepare.manifest import (
    CONTACT_SHEET_NAME,
    FILE_PATTERN,
    FRAMES_DIR,
    INDEX_NAME,
    KEYPOINTS_NAME,
    MANIFEST_NAME,
    STICKS_DIR,
)

log = logging.getLogger(__name__)

WORK_DIR = ".prepare"
STATE_NAME = "state.json"
DETECT_NAME = "detect.json"
CHUNK_PATTERN = "poses_{chunk:05d}.npz"
_TMP_MARK = ".tmp-"
_OUTPUTS = (MANIFEST_NAME, INDEX_NAME, KEYPOINTS_NAME, CONTACT_SHEET_NAME, FRAMES_DIR, STICKS_DIR)


def file_fingerprint(path: Path) -> dict[str, Any]:
    """Identity of a file's content that is cheap for big videos: size + hash of its ends."""
    size = path.stat().st_size
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        digest.update(f.read(1 << 20))
        if size > 2 << 20:
            f.seek(-(1 << 20), os.SEEK_END)
            digest.update(f.read())
    return {"bytes": size, "sha256_ends": digest.hexdigest()[:32]}


class DatasetDir:
    """One dataset folder being written.

    Args:
        root: the output folder (created if missing).
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.work = root / WORK_DIR
        self.frames = root / FRAMES_DIR
        self.sticks = root / STICKS_DIR

    def open(self, settings: dict[str, Any], *, overwrite: bool) -> None:
        """Make the folder ready for a run with ``settings``.

        Raises:
            LivedanceError: the folder cannot be written, holds other files, or holds a dataset
                prepared with other settings (and ``overwrite`` is False).
        """
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe = self.root / f".write-test{_TMP_MARK}{os.getpid()}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise LivedanceError(
                f"cannot write to the output folder {self.root}: {exc.strerror or exc}"
            ) from exc
        old = self._read_json(self.work / STATE_NAME)
        if old is None and (self.root / MANIFEST_NAME).exists():
            old = (self._read_json(self.root / MANIFEST_NAME) or {}).get("settings")
        if old is None:
            strangers = [p.name for p in self.root.iterdir() if not p.name.startswith(".")]
            if strangers:
                raise LivedanceError(
                    f"{self.root} is not empty and holds no livedance dataset"
                    f" ({', '.join(sorted(strangers)[:3])}...); give a new or empty folder"
                )
        else:
            old_settings = old.get("settings", old)
            changed = _differences(old_settings, settings)
            if changed and not overwrite:
                raise LivedanceError(
                    f"{self.root} holds a dataset prepared with other settings ({changed});"
                    " use another folder, or --overwrite to start it over"
                )
            if changed:
                log.info("overwriting %s (%s)", self.root, changed)
                self.clear()
        self.work.mkdir(exist_ok=True)
        self.frames.mkdir(exist_ok=True)
        self.sticks.mkdir(exist_ok=True)
        self._remove_temporaries()
        state = self._read_json(self.work / STATE_NAME)
        if state is None or state.get("settings") != settings:
            self.write_json(self.work / STATE_NAME, {"settings": settings})

    def clear(self) -> None:
        """Delete the dataset's outputs (never other files); detections stay for `detections`."""
        for name in _OUTPUTS:
            path = self.root / name
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
        (self.work / STATE_NAME).unlink(missing_ok=True)

    # -- paths -------------------------------------------------------------------------------

    def frame_path(self, sample: int) -> Path:
        return self.frames / FILE_PATTERN.format(sample=sample)

    def stick_path(self, sample: int) -> Path:
        return self.sticks / FILE_PATTERN.format(sample=sample)

    def existing(self, folder: Path) -> set[int]:
        """Sample numbers whose finished PNG is in ``folder``."""
        out = set()
        for p in folder.glob("*.png"):
            with contextlib.suppress(ValueError):
                out.add(int(p.stem))
        return out

    # -- atomic writes -----------------------------------------------------------------------

    def write_bytes(self, path: Path, data: bytes) -> None:
        """Write ``data`` so that ``path`` is either absent or complete."""
        tmp = path.with_name(f".{path.name}{_TMP_MARK}{os.getpid()}")
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)

    def write_png(self, path: Path, image: npt.NDArray[np.uint8]) -> None:
        """Write a BGR image as PNG, atomically."""
        ok, buf = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, 1])
        if not ok:
            raise LivedanceError(f"could not encode {path.name} as PNG")
        self.write_bytes(path, buf.tobytes())

    def write_json(self, path: Path, doc: Any) -> None:
        self.write_bytes(path, (json.dumps(doc, indent=2) + "\n").encode())

    def write_npy(self, path: Path, array: npt.NDArray) -> None:
        buf = io.BytesIO()
        np.save(buf, array)
        self.write_bytes(path, buf.getvalue())

    # -- pose detections, in resumable chunks ------------------------------------------------

    def detections(self, key: dict[str, Any]) -> tuple[list[dict[str, npt.NDArray]], bool]:
        """Chunks of detections already made with ``key`` (others are deleted), and whether the
        whole video was done."""
        state = self._read_json(self.work / DETECT_NAME)
        if state is None or state.get("key") != key:
            for old in self.work.glob("poses_*.npz"):
                old.unlink()
            self.write_json(self.work / DETECT_NAME, {"key": key, "complete": False})
            return [], False
        chunks = []
        for i in range(10**6):
            path = self.work / CHUNK_PATTERN.format(chunk=i)
            if not path.exists():
                break
            with np.load(path) as data:
                chunks.append({k: data[k] for k in data.files})
        return chunks, bool(state.get("complete")) and len(chunks) == state.get("n_chunks")

    def save_chunk(self, index: int, arrays: dict[str, npt.NDArray]) -> None:
        buf = io.BytesIO()
        np.savez(buf, **arrays)  # type: ignore[arg-type]
        self.write_bytes(self.work / CHUNK_PATTERN.format(chunk=index), buf.getvalue())

    def finish_detections(self, key: dict[str, Any], n_chunks: int) -> None:
        self.write_json(
            self.work / DETECT_NAME, {"key": key, "complete": True, "n_chunks": n_chunks}
        )

    # -- helpers -----------------------------------------------------------------------------

    def _remove_temporaries(self) -> None:
        for folder in (self.root, self.work, self.frames, self.sticks):
            for p in folder.glob(f".*{_TMP_MARK}*"):
                p.unlink(missing_ok=True)

    @staticmethod
    def _read_json(path: Path) -> dict[str, Any] | None:
        try:
            doc = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            return None
        return doc if isinstance(doc, dict) else None


def _differences(old: dict[str, Any], new: dict[str, Any]) -> str:
    """``"fps: 25 -> 10, size: ..."`` for the settings that differ; empty when none."""
    out = []
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            out.append(f"{key}: {_short(old.get(key))} -> {_short(new.get(key))}")
    return ", ".join(out)


def _short(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else value
    return text if len(text) <= 60 else text[:57] + "..."
