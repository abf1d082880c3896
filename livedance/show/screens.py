"""The monitors of the display, for ``--screen N``: the projector's position and size.

On X11 (Linux) the monitors come from Xinerama through ctypes (libXinerama, present wherever a
desktop or Xvfb runs; no extra package); a display without Xinerama is one monitor. Elsewhere the
optional ``screeninfo`` package is used when installed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from dataclasses import dataclass

from livedance.errors import LivedanceError


@dataclass(frozen=True)
class Monitor:
    """One monitor: its top-left corner on the desktop and its size, in pixels."""

    x: int
    y: int
    width: int
    height: int

    def describe(self) -> str:
        return f"{self.width}x{self.height}+{self.x}+{self.y}"


class _ScreenInfo(ctypes.Structure):
    _fields_ = [
        ("screen_number", ctypes.c_int),
        ("x_org", ctypes.c_short),
        ("y_org", ctypes.c_short),
        ("width", ctypes.c_short),
        ("height", ctypes.c_short),
    ]


def monitors() -> list[Monitor]:
    """The display's monitors, in the order the system numbers them.

    Raises:
        LivedanceError: no display, or no way to ask it.
    """
    if sys.platform.startswith("linux"):
        return _x11_monitors()
    try:
        import screeninfo
    except ImportError:
        raise LivedanceError(
            "--screen needs the screeninfo package here: pip install screeninfo"
        ) from None
    return [Monitor(m.x, m.y, m.width, m.height) for m in screeninfo.get_monitors()]


def _x11_monitors() -> list[Monitor]:
    name = os.environ.get("DISPLAY")
    if not name:
        raise LivedanceError("--screen: no display (DISPLAY is not set)")
    xlib_path = ctypes.util.find_library("X11")
    if xlib_path is None:
        raise LivedanceError("--screen: libX11 not found")
    xlib = ctypes.CDLL(xlib_path)
    xlib.XOpenDisplay.restype = ctypes.c_void_p
    xlib.XOpenDisplay.argtypes = [ctypes.c_char_p]
    xlib.XCloseDisplay.argtypes = [ctypes.c_void_p]
    xlib.XFree.argtypes = [ctypes.c_void_p]
    display = xlib.XOpenDisplay(name.encode())
    if not display:
        raise LivedanceError(f"--screen: cannot open display {name}")
    try:
        xinerama_path = ctypes.util.find_library("Xinerama")
        if xinerama_path is not None:
            xin = ctypes.CDLL(xinerama_path)
            xin.XineramaIsActive.argtypes = [ctypes.c_void_p]
            xin.XineramaQueryScreens.restype = ctypes.POINTER(_ScreenInfo)
            xin.XineramaQueryScreens.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_int)]
            if xin.XineramaIsActive(display):
                count = ctypes.c_int(0)
                info = xin.XineramaQueryScreens(display, ctypes.byref(count))
                if info:
                    found = [
                        Monitor(info[i].x_org, info[i].y_org, info[i].width, info[i].height)
                        for i in range(count.value)
                    ]
                    xlib.XFree(info)
                    return found
        xlib.XDefaultScreen.argtypes = [ctypes.c_void_p]
        xlib.XDisplayWidth.argtypes = [ctypes.c_void_p, ctypes.c_int]
        xlib.XDisplayHeight.argtypes = [ctypes.c_void_p, ctypes.c_int]
        screen = xlib.XDefaultScreen(display)
        return [
            Monitor(0, 0, xlib.XDisplayWidth(display, screen), xlib.XDisplayHeight(display, screen))
        ]
    finally:
        xlib.XCloseDisplay(display)


def monitor(index: int) -> Monitor:
    """Monitor ``index`` (from 0), or one line naming the monitors there are."""
    found = monitors()
    if not 0 <= index < len(found):
        listed = ", ".join(f"{i}: {m.describe()}" for i, m in enumerate(found))
        raise LivedanceError(
            f"--screen {index}: no such monitor (this display has {listed})", exit_code=2
        )
    return found[index]
