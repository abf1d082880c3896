"""The stage window: an OpenCV window without toolbar, optionally fullscreen on a chosen monitor
(``--screen N``: the frame letterboxed to the monitor's shape), with key handling."""

from __future__ import annotations

import os
import sys
from typing import Literal

import cv2
import numpy as np
import numpy.typing as npt

from livedance.errors import LivedanceError
from livedance.show.screens import Monitor

KEY_QUIT = frozenset({ord("q"), 27})  # q, Esc
KEY_HUD = ord("h")
KEY_FULLSCREEN = ord("f")
KeyEvent = Literal["quit", "tap", "hud", "double", "half", "release", "one"]
"""What a key pressed in the window asks of the show."""

KEY_TAP = ord(" ")
KEY_DOUBLE, KEY_HALF, KEY_RELEASE, KEY_ONE = ord("]"), ord("["), ord("r"), ord("1")


def check_display() -> None:
    """Raise a clear error when there is no screen to open a window on."""
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        raise LivedanceError(
            "no display to open a window on (DISPLAY is not set); "
            "use --headless --record OUT.mp4 to render to a file"
        )


class Window:
    """A named OpenCV window showing BGR frames.

    Args:
        title: window title (also its OpenCV name).
        width_px, height_px: initial size of the window.
        fullscreen: start fullscreen.
        monitor: the monitor to open on, fullscreen, frames letterboxed to its shape (None: where
            the window manager puts it).
    """

    def __init__(
        self,
        title: str,
        width_px: int,
        height_px: int,
        fullscreen: bool = False,
        monitor: Monitor | None = None,
    ) -> None:
        check_display()
        self.title = title
        self.monitor = monitor
        self._borders: tuple[int, int, int, int] | None = None
        try:
            cv2.namedWindow(title, cv2.WINDOW_GUI_NORMAL | cv2.WINDOW_KEEPRATIO)
            cv2.resizeWindow(title, width_px, height_px)
            if monitor is not None:
                cv2.moveWindow(title, monitor.x, monitor.y)
                cv2.resizeWindow(title, monitor.width, monitor.height)
        except cv2.error as exc:
            raise LivedanceError(f"cannot open a window: {exc.msg.strip() or exc}") from None
        self.fullscreen = False
        if fullscreen or monitor is not None:
            self.toggle_fullscreen()

    def toggle_fullscreen(self) -> None:
        self.fullscreen = not self.fullscreen
        mode = cv2.WINDOW_FULLSCREEN if self.fullscreen else cv2.WINDOW_NORMAL
        cv2.setWindowProperty(self.title, cv2.WND_PROP_FULLSCREEN, mode)

    def letterbox(self, frame: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        """``frame`` with black bars to the monitor's shape (unchanged without a monitor)."""
        if self.monitor is None:
            return frame
        if self._borders is None:
            self._borders = letterbox_borders(
                frame.shape[1], frame.shape[0], self.monitor.width, self.monitor.height
            )
        top, bottom, left, right = self._borders
        if not (top or bottom or left or right):
            return frame
        bordered = cv2.copyMakeBorder(frame, top, bottom, left, right, cv2.BORDER_CONSTANT, value=0)
        return np.asarray(bordered, np.uint8)

    def show(self, frame: npt.NDArray[np.uint8], wait_ms: int = 1) -> int:
        """Show a frame and pump events for ``wait_ms``; returns the key pressed or -1."""
        cv2.imshow(self.title, self.letterbox(frame))
        return int(cv2.waitKey(max(1, wait_ms)))

    def show_and_keys(self, frame: npt.NDArray[np.uint8]) -> KeyEvent | None:
        """Show a frame; the show's keys pressed meanwhile (``f`` is handled here).

        Returns:
            ``quit`` (q, Esc, or the window closed), ``tap`` (space), ``hud`` (h), or None.
        """
        key = self.show(frame)
        if key in KEY_QUIT or self.closed:
            return "quit"
        if key == KEY_TAP:
            return "tap"
        if key == KEY_DOUBLE:
            return "double"
        if key == KEY_HALF:
            return "half"
        if key == KEY_RELEASE:
            return "release"
        if key == KEY_ONE:
            return "one"
        if key == KEY_HUD:
            return "hud"
        if key == KEY_FULLSCREEN:
            self.toggle_fullscreen()
        return None

    @property
    def closed(self) -> bool:
        """True once the user closed the window with the window manager."""
        try:
            return cv2.getWindowProperty(self.title, cv2.WND_PROP_VISIBLE) < 1
        except cv2.error:
            return True

    def close(self) -> None:
        try:
            cv2.destroyWindow(self.title)
            cv2.waitKey(1)
        except cv2.error:
            pass


def letterbox_borders(
    width_px: int, height_px: int, to_width: int, to_height: int
) -> tuple[int, int, int, int]:
    """Black bars (top, bottom, left, right) that give a frame the shape of ``to_width`` x
    ``to_height`` without stretching it."""
    if width_px * to_height < to_width * height_px:  # narrower: bars left and right
        extra = round(height_px * to_width / to_height) - width_px
        return 0, 0, extra // 2, extra - extra // 2
    extra = round(width_px * to_height / to_width) - height_px
    return extra // 2, extra - extra // 2, 0, 0
