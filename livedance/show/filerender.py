"""Offline rendering: every frame of a song's dance, batched, into a video with the song's audio.

The "recorder" end of DESIGN.md's data flow without a clock: `livedance render` steps through all
``duration x fps`` slots, asks the choreography for each pose, renders them a batch at a time
(a GPU runs a batch faster than frame by frame) and pipes them into `VideoRecorder`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from livedance.audio.io import Audio
from livedance.render import FrameRenderer
from livedance.show.recorder import VideoRecorder


@dataclass(frozen=True)
class RenderStats:
    """What an offline render did."""

    frames: int
    wall_s: float

    @property
    def render_fps(self) -> float:
        return self.frames / self.wall_s if self.wall_s > 0 else 0.0


def render_video(
    audio: Audio,
    pose_at: Callable[[float], npt.NDArray[np.float32]],
    renderer: FrameRenderer,
    out_path: str | Path,
    *,
    fps: float = 30.0,
    batch_frames: int = 4,
    progress: bool = True,
) -> RenderStats:
    """Render ``round(duration x fps)`` frames of the dance and write them with ``audio``.

    Args:
        audio: the song (its length sets the number of frames; muxed into the file).
        pose_at: song time (s) -> pose ``(18, 3)``.
        renderer: poses -> BGR frames.
        out_path: the mp4 to write (replaced atomically when done).
        fps: frames per second of the video.
        batch_frames: poses per `render` call.
        progress: show a progress bar.

    Returns:
        Frame count and wall time.
    """
    n_frames = round(audio.duration_s * fps)
    recorder = VideoRecorder(out_path, fps, renderer.width_px, renderer.height_px, audio)
    t0 = time.perf_counter()
    bar = tqdm(total=n_frames, unit="frame", desc="render", disable=not progress, leave=False)
    try:
        for start in range(0, n_frames, batch_frames):
            slots = range(start, min(n_frames, start + batch_frames))
            poses = np.stack([pose_at(slot / fps) for slot in slots]).astype(np.float32)
            for frame in renderer.render(poses):
                recorder.write(frame)
            bar.update(len(slots))
    except BaseException:
        bar.close()
        recorder.close()  # a valid, shorter file rather than none
        raise
    bar.close()
    recorder.close()
    return RenderStats(n_frames, time.perf_counter() - t0)
