"""Video out to other software: the show's frames to a named pipe, a shared-memory ring or a
virtual camera, with alpha, behind ``--output KIND:TARGET[,option=value...]``.

Outputs of the show loop (`livedance.show.outputs.Output`) beside the window and the recorder:
each gets every final frame (blackout and freeze applied, never the HUD) at its display slot and
passes it on without ever making the show wait. Kinds:

- ``pipe:PATH``: raw frames into a named pipe (made if missing), from a writer thread that keeps
  only the newest frame, so a slow or absent reader drops frames instead of stalling the show.
  Without a header the stream is what ``ffmpeg -f rawvideo -pix_fmt rgba -s WxH -i PATH`` reads;
  ``header=1`` puts a 32-byte `FRAME_HEADER` (slot, write time) before each frame.
- ``shm:NAME``: a shared-memory ring (`livedance.show.shmring`), the lowest latency on one machine.
- ``v4l2:/dev/videoN``: a v4l2loopback virtual camera through pyvirtualcam (the ``stage`` extra),
  which OBS and browsers see as a webcam. RGB only (no alpha: use ``alpha=key``).

Options: ``alpha=matte`` (RGBA; the default for pipe and shm), ``alpha=key`` (RGB over the key
colour, ``key=RRGGBB``, default 00ff00), ``alpha=none`` (RGB as shown: the plain background);
``header=1`` (pipe); ``entries=N`` (shm ring length, default 4). The matte: see
`livedance.show.matte`.
"""

from __future__ import annotations

import errno
import logging
import os
import select
import stat
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np
import numpy.typing as npt

from livedance.errors import LivedanceError
from livedance.pose import Pose
from livedance.show import matte
from livedance.show.hud import HudInfo
from livedance.show.outputs import KeyEvent, Output, ShowFrame

log = logging.getLogger(__name__)

Kind = Literal["pipe", "shm", "v4l2"]
Alpha = Literal["matte", "key", "none"]
KINDS: tuple[Kind, ...] = ("pipe", "shm", "v4l2")
FRAME_HEADER = struct.Struct("<4sHHBB2xqq4x")
"""Before each frame with ``header=1``: magic ``LDVF``, width u16, height u16, channels u8,
version u8 (1), slot i64, written_ns i64 (``time.monotonic_ns()``), padding; 32 bytes."""
FRAME_MAGIC = b"LDVF"


@dataclass(frozen=True)
class OutputSpec:
    """One ``--output``, parsed.

    Attributes:
        kind: pipe, shm or v4l2.
        target: the pipe's path, the ring's name, the camera device.
        alpha: matte (RGBA), key (RGB over ``key_rgb``) or none (RGB as shown).
        key_rgb: the key colour.
        header: a `FRAME_HEADER` before each frame (pipe).
        entries: frames in the shm ring.
    """

    kind: Kind
    target: str
    alpha: Alpha = "matte"
    key_rgb: tuple[int, int, int] = (0, 255, 0)
    header: bool = False
    entries: int = 4
    text: str = field(default="", compare=False)

    @property
    def channels(self) -> int:
        return 4 if self.alpha == "matte" else 3


def parse_output(text: str) -> OutputSpec:
    """``KIND:TARGET[,option=value...]`` as written after ``--output``.

    Raises:
        LivedanceError: one line saying what is wrong (exit code 2).
    """

    def bad(why: str) -> LivedanceError:
        return LivedanceError(f"--output {text!r}: {why}", exit_code=2)

    head, *options = text.split(",")
    kind, colon, target = head.partition(":")
    if not colon or not target:
        raise bad("expected KIND:TARGET, e.g. shm:livedance or pipe:/tmp/livedance.rgba")
    if kind not in KINDS:
        raise bad(f"unknown kind {kind!r} (known: {', '.join(KINDS)})")
    values: dict[str, str] = {}
    for option in options:
        key, eq, value = option.partition("=")
        if not eq or key not in ("alpha", "key", "header", "entries"):
            raise bad(f"unknown option {option!r} (alpha=, key=, header=, entries=)")
        values[key] = value
    alpha = values.get("alpha", "none" if kind == "v4l2" else "matte")
    if alpha not in ("matte", "key", "none"):
        raise bad(f"alpha must be matte, key or none, got {alpha!r}")
    if kind == "v4l2" and alpha == "matte":
        raise bad("a v4l2 camera has no alpha: use alpha=key or alpha=none")
    key_text = values.get("key", "00ff00")
    if len(key_text) != 6 or any(c not in "0123456789abcdefABCDEF" for c in key_text):
        raise bad(f"key must be a colour RRGGBB, got {key_text!r}")
    key_rgb = (int(key_text[0:2], 16), int(key_text[2:4], 16), int(key_text[4:6], 16))
    header = values.get("header", "0")
    if header not in ("0", "1"):
        raise bad(f"header must be 0 or 1, got {header!r}")
    entries = values.get("entries", "4")
    if not entries.isdigit() or not 2 <= int(entries) <= 64:
        raise bad(f"entries must be 2..64, got {entries!r}")
    if kind == "shm" and ("/" in target or len(target) > 200):
        raise bad("a shared-memory name has no '/' (e.g. shm:livedance)")
    return OutputSpec(
        cast(Kind, kind), target, cast(Alpha, alpha), key_rgb, header == "1", int(entries), text
    )


@dataclass(frozen=True)
class Background:
    """What the show knows of its frames' background, for the matte (`livedance.show.matte`)."""

    drawn_on_black: bool = False
    """Stick figures: the frame is its own matte."""
    room: npt.NDArray[np.uint8] | None = None
    """A background-plate model's own room (BGR): the matte needs no learning."""


def background_of(renderer: Any) -> Callable[[], Background]:
    """The show renderer's `Background`, read as each frame is converted (a model switch
    changes it)."""

    def background() -> Background:
        return Background(renderer.name == "stick", getattr(renderer, "room_plate", None))

    return background


class FrameConverter:
    """A show frame as the pixels an output sends: RGBA with a matte, RGB keyed, or plain RGB.

    Args:
        spec: the output's alpha and key colour.
        background: the show's `Background`, read for every frame.
    """

    def __init__(self, spec: OutputSpec, background: Callable[[], Background]) -> None:
        self.spec, self.background = spec, background
        self.plate = matte.PlateMatte()

    def __call__(self, frame: ShowFrame) -> npt.NDArray[np.uint8]:
        image, spec = frame.image, self.spec
        if spec.alpha == "none":
            return matte.rgb(image)
        alpha = self.alpha(image, frame.pose)
        if spec.alpha == "key":
            return matte.keyed(image, alpha, spec.key_rgb)
        return matte.rgba(image, alpha)

    def alpha(self, image: npt.NDArray[np.uint8], pose: Pose | None) -> npt.NDArray[np.uint8]:
        background = self.background()
        if background.drawn_on_black:
            return matte.stick_matte(image)
        h, w = image.shape[:2]
        if pose is None:  # blackout: nothing to see through
            return np.zeros((h, w), np.uint8)
        return self.plate(image, pose, background.room)


class ShmOutput(Output):
    """Every on-time frame into a shared-memory ring (`livedance.show.shmring`).

    Args:
        spec: the output (``shm:NAME``).
        width_px, height_px: frame size.
        background: see `FrameConverter`.
    """

    def __init__(
        self, spec: OutputSpec, width_px: int, height_px: int, background: Callable[[], Background]
    ) -> None:
        from livedance.show.shmring import RingWriter

        self.spec = spec
        self.convert = FrameConverter(spec, background)
        self.ring = RingWriter(
            spec.target, width_px, height_px, spec.channels, entries=spec.entries
        )
        log.info("video out: shared memory %r, %dx%d, %d channels", spec.target, width_px,
                 height_px, spec.channels)  # fmt: skip

    def frame(self, frame: ShowFrame, hud: HudInfo | None) -> KeyEvent | None:
        if frame.on_time:  # a late frame would lag in the mixer as on the screen
            self.ring.write(frame.slot, self.convert(frame))
        return None

    def close(self, end_slot: int, *, stopped_early: bool) -> None:
        self.ring.close()


class PipeOutput(Output):
    """Every on-time frame into a named pipe, from a writer thread that never blocks the show.

    The pipe is made if it does not exist. While no program reads it, frames are dropped; when
    the reader goes away the writer waits for the next one. The thread keeps only the newest
    frame: one the reader is too slow for is replaced and counted in ``dropped``. The matte is
    made on the writer thread too (learning the room plate costs a few ms a frame), so the show
    thread only hands over the frame: frames are never changed after they are shown.

    Args:
        spec: the output (``pipe:PATH``).
        width_px, height_px: frame size.
        background: see `FrameConverter`.

    Raises:
        LivedanceError: PATH exists and is not a pipe, or cannot be made.
    """

    def __init__(
        self, spec: OutputSpec, width_px: int, height_px: int, background: Callable[[], Background]
    ) -> None:
        self.spec, self.path = spec, Path(spec.target)
        self.width_px, self.height_px = width_px, height_px
        self.convert = FrameConverter(spec, background)
        try:
            if not self.path.exists():
                os.mkfifo(self.path)
            elif not stat.S_ISFIFO(self.path.stat().st_mode):
                raise LivedanceError(f"--output pipe:{self.path}: exists and is not a named pipe")
        except OSError as exc:
            raise LivedanceError(f"--output pipe:{self.path}: cannot make it ({exc})") from None
        self.sent = self.dropped = 0
        self._cond = threading.Condition()
        self._pending: ShowFrame | None = None
        self._stop = False
        self._fd: int | None = None
        self._thread = threading.Thread(target=self._run, name="livedance-pipe-out", daemon=True)
        self._thread.start()

    def frame(self, frame: ShowFrame, hud: HudInfo | None) -> KeyEvent | None:
        if not frame.on_time:
            return None
        with self._cond:
            if self._pending is not None:
                self.dropped += 1
            self._pending = frame
            self._cond.notify()
        return None

    def close(self, end_slot: int, *, stopped_early: bool) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify()
        self._thread.join()
        if self._fd is not None:
            os.close(self._fd)
        log.info("video out %s: %d frames sent, %d dropped", self.path, self.sent, self.dropped)

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._pending is None and not self._stop:
                    self._cond.wait()
                if self._stop:
                    return
                assert self._pending is not None
                frame, self._pending = self._pending, None
            if self._fd is None and not self._open():
                self.dropped += 1
                continue
            data = self.convert(frame).tobytes()
            if self.spec.header:
                c = self.spec.channels
                head = FRAME_HEADER.pack(FRAME_MAGIC, self.width_px, self.height_px, c, 1,
                                         frame.slot, time.monotonic_ns())  # fmt: skip
                data = head + data
            if self._write(data):
                self.sent += 1
            else:
                self.dropped += 1

    def _open(self) -> bool:
        """Open the pipe for writing if a reader has it open (non-blocking)."""
        try:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:
            if exc.errno != errno.ENXIO:  # ENXIO: no reader yet
                log.warning("video out %s: %s", self.path, exc)
            return False
        return True

    def _write(self, data: bytes) -> bool:
        """Write a whole frame (waiting for room, but never past a stop)."""
        view = memoryview(data)
        fd = self._fd
        assert fd is not None
        while view:
            if self._stop:
                return False
            try:
                n = os.write(fd, view)
            except BlockingIOError:
                select.select([], [fd], [], 0.05)
                continue
            except BrokenPipeError:  # the reader went away: wait for the next one
                os.close(fd)
                self._fd = None
                return False
            view = view[n:]
        return True


class V4l2Output(Output):
    """Every on-time frame to a v4l2loopback virtual camera, through pyvirtualcam.

    Args:
        spec: the output (``v4l2:/dev/videoN``).
        width_px, height_px, fps: the camera's format.
        background: see `FrameConverter` (for ``alpha=key``).

    Raises:
        LivedanceError: no such device, or pyvirtualcam is not installed.
    """

    def __init__(
        self,
        spec: OutputSpec,
        width_px: int,
        height_px: int,
        fps: float,
        background: Callable[[], Background],
    ) -> None:
        where = f"--output v4l2:{spec.target}"
        if not Path(spec.target).exists():
            raise LivedanceError(
                f"{where}: no such device (a v4l2loopback module makes one: "
                "modprobe v4l2loopback devices=1 video_nr=10 exclusive_caps=1)"
            )
        try:
            import pyvirtualcam
        except ImportError:
            raise LivedanceError(
                f"{where}: pyvirtualcam is not installed (pip install 'livedance[stage]')"
            ) from None
        self.convert = FrameConverter(spec, background)
        try:
            self.camera = pyvirtualcam.Camera(
                width_px, height_px, fps, device=spec.target, backend="v4l2loopback",
                fmt=pyvirtualcam.PixelFormat.RGB,
            )  # fmt: skip
        except RuntimeError as exc:
            raise LivedanceError(f"{where}: {exc}") from None

    def frame(self, frame: ShowFrame, hud: HudInfo | None) -> KeyEvent | None:
        if frame.on_time:
            self.camera.send(self.convert(frame))
        return None

    def close(self, end_slot: int, *, stopped_early: bool) -> None:
        self.camera.close()


def open_video_output(
    text: str, width_px: int, height_px: int, fps: float, background: Callable[[], Background]
) -> Output:
    """The output ``--output TEXT`` asks for, opened.

    Args:
        text: ``KIND:TARGET[,option=value...]``.
        width_px, height_px, fps: the show's frames.
        background: what the show knows of its frames' background (`background_of`).

    Raises:
        LivedanceError: a bad spec, or an output that cannot be opened here (one line).
    """
    spec = parse_output(text)
    if spec.kind == "shm":
        return ShmOutput(spec, width_px, height_px, background)
    if spec.kind == "pipe":
        return PipeOutput(spec, width_px, height_px, background)
    return V4l2Output(spec, width_px, height_px, fps, background)
