"""Video input for dataset preparation: probe a file and decode it into timed frames.

First step of ``video.mp4 --prepare--> dataset/``. ffmpeg (system or imageio-ffmpeg's) does all
the decoding, so every container and codec it knows works, and it applies the rotation metadata
of phone videos itself (autorotate) and squares non-square pixels. No ffprobe is needed: what we
need to know comes from ffmpeg's own log, including each decoded frame's timestamp from the
``showinfo`` filter, which is what makes sampling exact for variable-frame-rate videos and lets
OpenPose JSON files (one per decoded frame) be matched to the sampled frames. An image
sequence (`offline.prepare.sequence`) goes through the same functions as one timed stream.
"""

from __future__ import annotations

import collections
import logging
import math
import queue
import re
import subprocess
import threading
from collections.abc import Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from livedance.errors import LivedanceError
from livedance.ffmpeg import ffmpeg_exe
from offline.prepare.sequence import ImageSequence

VideoInput = Path | ImageSequence
"""A video file or an image sequence."""

log = logging.getLogger(__name__)

# Square the pixels of anamorphic video (a no-op for the usual SAR 1:1) so that every later
# coordinate is in display pixels.
_SQUARE_PIXELS = "scale=w='if(eq(sar,1),iw,round(iw*sar/2)*2)':h=ih,setsar=1"
_SHOWINFO = re.compile(r"\bn:\s*(\d+)\s+pts:\s*(-?\d+)\s+pts_time:(-?[\d.e+-]+).*?\bs:(\d+)x(\d+)")
_FRAME_RATE = re.compile(r"config in time_base: \S+, frame_rate: (\d+)/(\d+)")
_DURATION = re.compile(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)")
_VIDEO_STREAM = re.compile(r"Stream #\d+:\d+.*?: Video: (\w+)")
_STREAM_FPS = re.compile(r"Video: .*?, ([\d.]+) fps")
_ROTATION = re.compile(r"rotation of (-?[\d.]+) degrees", re.IGNORECASE)
_INPUT_FORMAT = re.compile(r"Input #0, ([\w,]+), from")
_IMAGE_FORMATS = ("image2", "_pipe")


@dataclass(frozen=True)
class VideoInfo:
    """What dataset preparation needs to know about a video.

    Attributes:
        path: the file.
        width_px, height_px: size of the displayed frame (after rotation, square pixels).
        fps: nominal frame rate of the video stream (None when ffmpeg does not know it).
        duration_s: container duration (None when unknown).
        rotation_deg: rotation from the file's display matrix (0 when none).
        codec: ffmpeg's name for the video codec.
    """

    path: Path
    width_px: int
    height_px: int
    fps: float | None
    duration_s: float | None
    rotation_deg: float
    codec: str

    def to_dict(self) -> dict[str, object]:
        """Plain dict for the manifest."""
        return {
            "path": str(self.path),
            "width_px": self.width_px,
            "height_px": self.height_px,
            "fps": self.fps,
            "duration_s": self.duration_s,
            "rotation_deg": self.rotation_deg,
            "codec": self.codec,
        }


@dataclass(frozen=True)
class DecodedFrame:
    """One decoded video frame.

    Attributes:
        source_index: position of the frame in decoding order (0-based), as OpenPose numbers it.
        time_s: presentation time relative to the first frame.
        image: ``(h, w, 3)`` uint8 in the pixel format asked for (rgb24 or bgr24).
    """

    source_index: int
    time_s: float
    image: npt.NDArray[np.uint8]


def probe_video(path: VideoInput) -> VideoInfo:
    """Read size, frame rate, duration and rotation of a video by decoding its first frame.

    Args:
        path: the video file.

    Returns:
        The video's `VideoInfo`.

    Raises:
        LivedanceError: the file is missing, is not a video ffmpeg can decode, or is an image.
    """
    if isinstance(path, ImageSequence):
        return VideoInfo(
            path.spec, *path.size, path.frame_rate, path.duration_s, 0.0, "image sequence"
        )
    if not path.is_file():
        raise LivedanceError(f"{path}: no such video file")
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats", "-i", str(path)]
    cmd += ["-map", "0:v:0", "-vf", f"{_SQUARE_PIXELS},showinfo", "-frames:v", "1", "-f", "null"]
    proc = subprocess.run([*cmd, "-"], capture_output=True, text=True, errors="replace")
    log_text = proc.stderr
    stream = _VIDEO_STREAM.search(log_text)
    frame = _SHOWINFO.search(log_text)
    if stream is None or frame is None:
        raise LivedanceError(f"{path} is not a video ffmpeg can read ({_last_error(log_text)})")
    input_format = _INPUT_FORMAT.search(log_text)
    if input_format and any(f in input_format.group(1) for f in _IMAGE_FORMATS):
        raise LivedanceError(f"{path} is a still image, not a video")
    fps = None
    rate = _FRAME_RATE.search(log_text)
    if rate and int(rate.group(2)) > 0 and int(rate.group(1)) > 0:
        fps = int(rate.group(1)) / int(rate.group(2))
    elif stream_fps := _STREAM_FPS.search(log_text):
        fps = float(stream_fps.group(1))
    duration = _DURATION.search(log_text)
    duration_s = None
    if duration:
        h, m, s = duration.groups()
        duration_s = int(h) * 3600 + int(m) * 60 + float(s)
    rotation = _ROTATION.search(log_text)
    rotation_deg = float(rotation.group(1)) if rotation else 0.0
    return VideoInfo(
        path=path,
        width_px=int(frame.group(4)),
        height_px=int(frame.group(5)),
        fps=fps,
        duration_s=duration_s,
        rotation_deg=rotation_deg + 0.0,  # -0.0 -> 0.0
        codec=stream.group(1),
    )


def iter_frames(
    path: VideoInput, filters: Sequence[str] = (), *, pix_fmt: str = "rgb24"
) -> Iterator[DecodedFrame]:
    """Decode every frame of a video's first video stream, in display order, with its time.

    Frames are rotated as the file says and their pixels squared before ``filters`` run; no frame
    is dropped or duplicated (``-fps_mode passthrough``), so ``source_index`` counts frames the way
    OpenPose does.

    Args:
        path: the video file.
        filters: ffmpeg video filters applied after rotation (e.g. crop, scale).
        pix_fmt: ``rgb24`` (MediaPipe's order) or ``bgr24`` (OpenCV's).

    Yields:
        `DecodedFrame` objects.

    Raises:
        LivedanceError: ffmpeg failed to decode the file.
    """
    sequence = path if isinstance(path, ImageSequence) else None
    first = [f"scale={sequence.size[0]}:{sequence.size[1]}"] if sequence else [_SQUARE_PIXELS]
    chain = ",".join([*first, *filters, "showinfo"])
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats", "-loglevel", "info"]
    with sequence.ffmpeg_input() if sequence else nullcontext(["-i", str(path)]) as source:
        yield from _decode(path, sequence, [*cmd, *source], chain, pix_fmt)


def _decode(
    path: VideoInput, sequence: ImageSequence | None, cmd: list[str], chain: str, pix_fmt: str
) -> Iterator[DecodedFrame]:
    cmd = [*cmd, "-map", "0:v:0", "-vf", chain, "-fps_mode", "passthrough"]
    cmd += ["-f", "rawvideo", "-pix_fmt", pix_fmt, "-"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    infos: queue.Queue[tuple[int, float, int, int] | None] = queue.Queue()
    tail: collections.deque[str] = collections.deque(maxlen=40)
    reader = threading.Thread(target=_read_showinfo, args=(proc.stderr, infos, tail), daemon=True)
    reader.start()
    first_time_s: float | None = None
    position = 0
    try:
        while (info := infos.get()) is not None:
            index, time_s, w, h = info
            data = proc.stdout.read(w * h * 3)
            if len(data) < w * h * 3:
                break
            if first_time_s is None:
                first_time_s = time_s
            image = np.frombuffer(data, dtype=np.uint8).reshape(h, w, 3)
            if sequence is not None:
                # the names' numbers and times; showinfo restarts its count when an image's size
                # changes the filter graph, so the position is counted here
                yield DecodedFrame(
                    sequence.frame_number(position), sequence.time_s[position], image
                )
            else:
                yield DecodedFrame(index, time_s - first_time_s, image)
            position += 1
        if proc.wait() != 0:
            raise LivedanceError(f"ffmpeg could not decode {path}: {_last_error(''.join(tail))}")
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stdout.close()
        reader.join(timeout=5)
        proc.stderr.close()


class FrameSampler:
    """Pick, for every sample time ``i / fps``, the decoded frame nearest to it.

    Fed frames in order, one at a time, so a long video is never held in memory. A frame is
    used at most once: when the video has fewer frames than samples (a gap, or a rate below
    ``fps``) the sample is left out rather than duplicated.

    Args:
        fps: sampling rate in frames per second.
    """

    def __init__(self, fps: float) -> None:
        self.period_s = 1.0 / fps
        self._next_sample = 0
        self._prev: DecodedFrame | None = None
        self._prev_used = False

    def push(self, frame: DecodedFrame) -> list[tuple[int, DecodedFrame]]:
        """Add the next decoded frame; returns the ``(sample index, frame)`` pairs now decided."""
        out: list[tuple[int, DecodedFrame]] = []
        if self._prev is not None:
            midpoint_s = 0.5 * (self._prev.time_s + frame.time_s)
            out = self._take_until(midpoint_s)
        self._prev, self._prev_used = frame, False
        return out

    def flush(self, frame_duration_s: float | None = None) -> list[tuple[int, DecodedFrame]]:
        """Decide the samples left after the last frame (which lasts ``frame_duration_s``)."""
        if self._prev is None:
            return []
        half_s = 0.5 * (frame_duration_s if frame_duration_s else self.period_s)
        return self._take_until(self._prev.time_s + half_s)

    def _take_until(self, end_s: float) -> list[tuple[int, DecodedFrame]]:
        """The previous frame takes the sample nearest its own time among those before
        ``end_s`` (after a gap in the video, not the first of them: that one is in the gap)."""
        assert self._prev is not None
        nearest: tuple[float, int] | None = None
        while self._next_sample * self.period_s < end_s - 1e-9:
            off_s = abs(self._next_sample * self.period_s - self._prev.time_s)
            if not self._prev_used and (nearest is None or off_s < nearest[0] - 1e-9):
                nearest = (off_s, self._next_sample)
            self._next_sample += 1
        if nearest is None:
            return []
        self._prev_used = True
        return [(nearest[1], self._prev)]


def iter_samples(
    path: VideoInput,
    fps: float,
    filters: Sequence[str] = (),
    *,
    pix_fmt: str = "rgb24",
    source_fps: float | None = None,
) -> Iterator[tuple[int, DecodedFrame]]:
    """Decode a video and yield the frames sampled at ``fps``, with their sample index.

    Args:
        path: the video file.
        fps: sampling rate; sample ``i`` is the frame nearest to ``i / fps`` seconds.
        filters: ffmpeg video filters (see `iter_frames`).
        pix_fmt: ``rgb24`` or ``bgr24``.
        source_fps: the video's frame rate, to know how long its last frame lasts.

    Yields:
        ``(sample_index, frame)`` in time order; indices increase, with gaps only where the
        video has no frame of its own for a sample.
    """
    sampler = FrameSampler(fps)
    for frame in iter_frames(path, filters, pix_fmt=pix_fmt):
        yield from sampler.push(frame)
    yield from sampler.flush(1.0 / source_fps if source_fps else None)


def expected_samples(info: VideoInfo, fps: float) -> int | None:
    """About how many samples `iter_samples` yields (for progress bars); None when unknown."""
    if info.duration_s is None:
        return None
    return max(1, math.floor(info.duration_s * fps + 0.5))


def _read_showinfo(
    stream: object, infos: queue.Queue[tuple[int, float, int, int] | None], tail: collections.deque
) -> None:
    # Runs on its own thread so ffmpeg never blocks on a full stderr pipe.
    try:
        for raw in stream:  # type: ignore[attr-defined]
            line = raw.decode("utf-8", "replace")
            match = _SHOWINFO.search(line)
            if match:
                n, _, t, w, h = match.groups()
                infos.put((int(n), float(t), int(w), int(h)))
            elif "Parsed_showinfo" not in line:
                tail.append(line)
    finally:
        infos.put(None)


def _last_error(log_text: str) -> str:
    lines = [ln.strip() for ln in log_text.splitlines() if ln.strip()]
    for line in reversed(lines):
        if any(w in line.lower() for w in ("error", "invalid", "no such", "unknown", "failed")):
            return line
    return lines[-1] if lines else "no output from ffmpeg"
