"""The stage window: an OpenCV window without toolbar, optionally fullscreen, with key handling."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Literal

import cv2
import numpy as np
import numpy.typing as npt

from livedance.errors import LivedanceError
from livedance.show.hud import HudInfo, draw_hud

if TYPE_CHECKING:
    from livedance.show.showlink import ShowLink

KEY_QUIT = frozenset({ord("q"), 27})  # q, Esc
KEY_HUD = ord("h")
KEY_FULLSCREEN = ord("f")
KEY_TAP = ord(" ")


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
    """

    def __init__(self, title: str, width_px: int, height_px: int, fullscreen: bool = False) -> None:
        check_display()
        self.title = title
        try:
            cv2.namedWindow(title, cv2.WINDOW_GUI_NORMAL | cv2.WINDOW_KEEPRATIO)
            cv2.resizeWindow(title, width_px, height_px)
        except cv2.error as exc:
            raise LivedanceError(f"cannot open a window: {exc.msg.strip() or exc}") from None
        self.fullscreen = False
        if fullscreen:
            self.toggle_fullscreen()

    def toggle_fullscreen(self) -> None:
        self.fullscreen = not self.fullscreen
        mode = cv2.WINDOW_FULLSCREEN if self.fullscreen else cv2.WINDOW_NORMAL
        cv2.setWindowProperty(self.title, cv2.WND_PROP_FULLSCREEN, mode)

    def show(self, frame: npt.NDArray[np.uint8], wait_ms: int = 1) -> int:
        """Show a frame and pump events for ``wait_ms``; returns the key pressed or -1."""
        cv2.imshow(self.title, frame)
        return int(cv2.waitKey(max(1, wait_ms)))

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


class Screen:
    """A show's window with its HUD and keys: what `play` and `live` share.

    ``h`` toggles the HUD (through the show link when there is one, so OSC ``/livedance/hud``
    and the key agree), ``f`` fullscreen; `present` reports quitting (q, Esc, window closed)
    and the tap key to the show loop.

    Args:
        window: the open window.
        hud: whether the HUD starts visible (ignored with a link: the link holds it).
        link: the show's OSC link, if any.
    """

    def __init__(self, window: Window, hud: bool, link: ShowLink | None = None) -> None:
        self.window, self.link, self._hud = window, link, hud

    @property
    def hud_on(self) -> bool:
        return self.link.hud if self.link is not None else self._hud

    def with_hud(self, frame: npt.NDArray[np.uint8], info: HudInfo) -> npt.NDArray[np.uint8]:
        """A copy of the frame with the HUD drawn on it (ask `hud_on` first)."""
        display = frame.copy()
        draw_hud(display, info)
        return display

    def present(self, display: npt.NDArray[np.uint8]) -> Literal["quit", "tap"] | None:
        """Show the frame and handle the keys pressed meanwhile."""
        key = self.window.show(display)
        if key in KEY_QUIT or self.window.closed:
            return "quit"
        if key == KEY_TAP:
            return "tap"
        if key == KEY_HUD:
            if self.link is not None:
                self.link.toggle_hud()
            else:
                self._hud = not self._hud
        elif key == KEY_FULLSCREEN:
            self.window.toggle_fullscreen()
        return None

    def close(self) -> None:
        self.window.close()
