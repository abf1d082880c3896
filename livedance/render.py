"""Frame renderers: poses in, frames out (the "frame renderer" box of DESIGN.md).

Every renderer has ``render(poses) -> frames`` over a batch, so the show can render ahead. The
stick renderer draws the poses themselves; the ONNX generator (a later stage) turns the same
stick drawings into realistic frames and plugs in here.
"""

from __future__ import annotations

from typing import Protocol

import cv2
import numpy as np
import numpy.typing as npt

from livedance.skeleton import render_sticks


class FrameRenderer(Protocol):
    """Turns a batch of poses ``(n, 18, 3)`` into BGR frames ``(n, h, w, 3)``."""

    name: str
    width_px: int
    height_px: int

    def render(self, poses: npt.NDArray[np.float32]) -> npt.NDArray[np.uint8]: ...


class StickRenderer:
    """Draws OpenPose stick figures (the default until a generator model is given)."""

    name = "stick"

    def __init__(self, width_px: int, height_px: int | None = None) -> None:
        self.width_px = int(width_px)
        self.height_px = int(height_px or width_px)

    def render(self, poses: npt.NDArray[np.float32]) -> npt.NDArray[np.uint8]:
        return render_sticks(poses, self.width_px, self.height_px)


class ScaledRenderer:
    """Another renderer's frames scaled to a display size (a generator has a fixed size).

    Args:
        inner: the renderer whose frames are scaled.
        width_px, height_px: the output size.
    """

    def __init__(self, inner: FrameRenderer, width_px: int, height_px: int | None = None) -> None:
        self.inner = inner
        self.name = inner.name
        self.width_px = int(width_px)
        self.height_px = int(height_px or width_px)
        self._room: tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8]] | None = None
        """The inner model's room and its scaled copy (scaled once, not each time it is read)."""

    @property
    def room_plate(self) -> npt.NDArray[np.uint8] | None:
        """The inner model's room at the display size, when it has one (see `NeuralRenderer`)."""
        room = getattr(self.inner, "room_plate", None)
        if room is None:
            return None
        if self._room is None or self._room[0] is not room:
            self._room = (room, self._scale(room))
        return self._room[1]

    def render(self, poses: npt.NDArray[np.float32]) -> npt.NDArray[np.uint8]:
        return np.stack([self._scale(f) for f in self.inner.render(poses)])

    def _scale(self, frame: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        shrinking = self.width_px < frame.shape[1]
        interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
        size = (self.width_px, self.height_px)
        return np.asarray(cv2.resize(frame, size, interpolation=interpolation), np.uint8)
