"""Where ffmpeg is: the system one if installed, else the binary the imageio-ffmpeg wheel ships."""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
from pathlib import Path

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


def stream_durations_s(path: str | Path) -> dict[str, float]:
    """Duration of the first video and audio stream of a media file, by ffprobe.

    Args:
        path: the file (e.g. a recording).

    Returns:
        ``{"video": seconds, "audio": seconds}`` for the kinds of stream the file has.

    Raises:
        LivedanceError: no ffprobe next to ffmpeg, or it cannot read the file.
    """
    exe = shutil.which("ffprobe") or str(Path(ffmpeg_exe()).with_name("ffprobe"))
    cmd = [exe, "-v", "error", "-of", "json", "-show_entries", "stream=codec_type,duration"]
    try:
        done = subprocess.run([*cmd, str(path)], capture_output=True, text=True, check=False)
    except OSError as exc:
        raise LivedanceError(f"cannot run ffprobe: {exc}") from None
    if done.returncode != 0:
        raise LivedanceError(f"ffprobe cannot read {path}: {done.stderr.strip()[-200:]}")
    out: dict[str, float] = {}
    for stream in json.loads(done.stdout).get("streams", []):
        kind = stream.get("codec_type")
        if kind in ("video", "audio") and kind not in out and "duration" in stream:
            out[kind] = float(stream["duration"])
    return out
