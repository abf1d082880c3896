"""Image sequences as ``prepare`` input: a folder of frames or a pattern, timed by their numbers.

First step of ``frames/ --prepare--> dataset/``, beside `offline.prepare.video`: a sequence
is handed to ffmpeg as a concat list in which every image lasts until the next one starts, so
decoding, cropping and sampling work exactly as for a video file.

A frame's time comes from the number in its name: ``image{N}.jpg`` is frame N of a video shot
at ``source_fps``, at ``(N - first) / source_fps`` seconds. Missing numbers are gaps in time,
not shifted frames. Names without numbers are ordered by name, one every ``1 / fps`` seconds.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import logging
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from livedance.errors import LivedanceError

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
_LAST_NUMBER = re.compile(r"(\d+)(?!.*\d)")
_PRINTF = re.compile(r"%(0?)(\d*)d")
_GLOB_CHARS = ("*", "?", "[")
MAX_SIZE_OFF_PX = 2
"""Images at most this far from the common size are scaled to it; farther is an error."""


@dataclass(frozen=True)
class ImageSequence:
    """The frames of an image sequence, in time order.

    Attributes:
        spec: the folder or pattern the user gave.
        files: the images, in time order.
        numbers: the frame number in each name (None: the names carry none; position is used).
        time_s: each frame's time, 0 for the first.
        frame_rate: frames per second of the sequence itself (the source rate over the usual
            step between numbers: frames 0, 10, 20 of a 29.97 fps video give 2.997).
        size: ``(width, height)`` of the images (the few that are 1-2 px off are scaled to it).
    """

    spec: Path
    files: tuple[Path, ...]
    numbers: tuple[int, ...] | None
    time_s: tuple[float, ...]
    frame_rate: float
    size: tuple[int, int]

    def __str__(self) -> str:
        return str(self.spec)

    def frame_number(self, position: int) -> int:
        """The number of the ``position``-th frame (its name's number, or the position)."""
        return self.numbers[position] if self.numbers is not None else position

    @property
    def duration_s(self) -> float:
        """From the first frame to the end of the last one."""
        return self.time_s[-1] + 1.0 / self.frame_rate

    def fingerprint(self) -> dict[str, Any]:
        """Identity of the sequence: names, byte sizes, and a hash of the first and last image."""
        digest = hashlib.sha256()
        for path in self.files:
            digest.update(f"{path.name}:{path.stat().st_size}\n".encode())
        for path in (self.files[0], self.files[-1]):
            digest.update(path.read_bytes())
        return {"images": len(self.files), "sha256_names_ends": digest.hexdigest()[:32]}

    def info(self) -> dict[str, Any]:
        """What the manifest records about the source."""
        return {
            "path": str(self.spec),
            "kind": "image sequence",
            "images": len(self.files),
            "first_number": self.frame_number(0),
            "last_number": self.frame_number(len(self.files) - 1),
            "frame_rate": round(self.frame_rate, 6),
        }

    @contextlib.contextmanager
    def ffmpeg_input(self) -> Iterator[list[str]]:
        """ffmpeg input arguments reading the sequence as one timed stream (a concat list)."""
        fd, name = tempfile.mkstemp(prefix="livedance-seq-", suffix=".txt")
        try:
            with os.fdopen(fd, "w") as f:
                f.write("ffconcat version 1.0\n")
                ends = [*self.time_s[1:], self.duration_s]
                for path, start_s, end_s in zip(self.files, self.time_s, ends, strict=True):
                    quoted = str(path.resolve()).replace("'", "'\\''")
                    f.write(f"file '{quoted}'\nduration {end_s - start_s:.6f}\n")
            yield ["-f", "concat", "-safe", "0", "-i", name]
        finally:
            with contextlib.suppress(OSError):
                os.unlink(name)


def is_image_sequence(path: Path) -> bool:
    """True for a folder, a printf pattern (``image%d.jpg``) or a glob (``*.jpg``)."""
    return path.is_dir() or "%" in path.name or any(c in path.name for c in _GLOB_CHARS)


def open_sequence(path: Path, source_fps: float | None, fps: float) -> ImageSequence:
    """List and check an image sequence.

    Args:
        path: a folder of images, ``frames/image%d.jpg`` or ``frames/*.jpg``.
        source_fps: frame rate the numbers in the names count at (None: ``fps``).
        fps: the rate of a sequence whose names carry no numbers.

    Raises:
        LivedanceError: no images, two images with one number, an unreadable image, or
            images of different sizes.
    """
    folder = path if path.is_dir() else path.parent
    if not folder.is_dir():
        raise LivedanceError(f"{path}: no such folder")
    found = _list(path, folder)
    if not found:
        what = path if path.is_dir() else f"{folder} matching {path.name}"
        raise LivedanceError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in {what}")
    numbered = all(n is not None for n, _ in found)
    if numbered:
        found.sort(key=lambda item: (item[0], item[1].name))
        numbers = [int(n) for n, _ in found if n is not None]
        same = [a for a, b in itertools.pairwise(numbers) if a == b]
        if same:
            raise LivedanceError(f"{folder}: two images carry the frame number {same[0]}")
        rate = source_fps or fps
        time_s = [(n - numbers[0]) / rate for n in numbers]
        step = float(np.median(np.diff(numbers))) if len(numbers) > 1 else 1.0
        frame_rate = rate / step
    else:
        found.sort(key=lambda item: item[1].name)
        numbers, frame_rate = None, fps
        time_s = [k / fps for k in range(len(found))]
    files = tuple(p for _, p in found)
    return ImageSequence(
        path, files, tuple(numbers) if numbers else None, tuple(time_s), frame_rate, _size(files)
    )


def _list(path: Path, folder: Path) -> list[tuple[int | None, Path]]:
    """``(number or None, file)`` of every image the folder or pattern names."""
    if path.is_dir():
        files = [p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES]
        return [(_number(p.stem), p) for p in files if p.is_file()]
    if "%" in path.name:
        parts = _PRINTF.split(path.name)
        if len(parts) != 4:
            raise LivedanceError(f"{path}: a pattern takes one %d (or %05d)")
        head, zero, width, tail = parts
        digits = rf"\d{{{width}}}" if zero and width else r"\d+"
        regex = re.compile(rf"{re.escape(head)}({digits}){re.escape(tail)}")
        matches = ((regex.fullmatch(p.name), p) for p in folder.iterdir())
        return [(int(m.group(1)), p) for m, p in matches if m and p.is_file()]
    return [(_number(p.stem), p) for p in folder.glob(path.name) if p.is_file()]


def _number(stem: str) -> int | None:
    match = _LAST_NUMBER.search(stem)
    return int(match.group(1)) if match else None


def _size(files: tuple[Path, ...]) -> tuple[int, int]:
    """The size of most images (read from their headers); a few px off is scaled to it."""
    from PIL import Image  # matplotlib's dependency; reads headers without decoding

    sizes: dict[tuple[int, int], list[Path]] = {}
    for path in files:
        try:
            with Image.open(path) as image:
                sizes.setdefault(image.size, []).append(path)
        except (OSError, ValueError) as exc:
            raise LivedanceError(f"{path}: not a readable image ({exc})") from None
    common = max(sizes, key=lambda size: len(sizes[size]))
    for size, paths in sizes.items():
        off = max(abs(size[0] - common[0]), abs(size[1] - common[1]))
        if off > MAX_SIZE_OFF_PX:
            raise LivedanceError(
                f"the images differ in size: {sizes[common][0].name} is {common[0]}x{common[1]},"
                f" {paths[0].name} is {size[0]}x{size[1]}"
            )
        if off:
            log.warning(
                "%d image(s) are %dx%d, not %dx%d (e.g. %s): scaled to %dx%d",
                len(paths), *size, *common, paths[0].name, *common,
            )  # fmt: skip
    return common
