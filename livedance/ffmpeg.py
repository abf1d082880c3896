"""Where ffmpeg is: the system one if installed, else the binary the imageio-ffmpeg wheel ships."""

from __future__ import annotations

import functools
import shutil

from livedance.errors import LivedanceError


@functools.cache
def ffmpeg_exe() -> str:
    """Path of an ffmpeg executable (raises LivedanceError if there is none at all)."""
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except (ImportError, RuntimeError) as exc:
        raise LivedanceError(
            "ffmpeg not found: install it (e.g. `apt install ffmpeg`)"
            " or `pip install imageio-ffmpeg`"
        ) from exc
