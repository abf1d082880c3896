"""The heads-up display: what the operator needs to trust the show at a glance."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

FONT = cv2.FONT_HERSHEY_SIMPLEX


@dataclass(frozen=True)
class HudInfo:
    """Numbers shown on the HUD."""

    fps: float
    bpm: float
    beat_phase: float
    action: str
    time_s: float
    renderer: str
    dropped: int = 0
    render_fps: float | None = None
    """Frames per second the renderer manages on its own (render-ahead shows)."""
    latency_ms: float | None = None
    """Render start to display, in milliseconds."""
    notice: str = ""
    """What the operator should know now: a lost input, a tempo held, a model switched."""
    picture_offset_ms: float = 0.0
    """The picture's trim against the sound (``--av-offset``), shown when not 0."""
    beat_offset_ms: float = 0.0
    """The OSC beat output's trim (``--osc-offset``), shown when not 0."""
    status: str = ""
    """The inputs' state (Ableton Link's peers and tempo)."""


def draw_hud(frame: npt.NDArray[np.uint8], info: HudInfo) -> npt.NDArray[np.uint8]:
    """Draw the HUD onto ``frame`` in place (top-left text, beat-phase bar at the bottom).

    Lines too long for the frame wrap at spaces (a word longer than the frame is cut).
    """
    h, w = frame.shape[:2]
    scale = max(0.35, h / 700)
    texts = [
        f"{info.fps:4.1f} fps  {info.bpm:5.1f} bpm",
        info.action,
        f"{_clock(info.time_s)}  {info.renderer}  drop {info.dropped}",
    ]
    if info.render_fps is not None:
        texts.append(f"render {info.render_fps:4.1f} fps  lat {info.latency_ms or 0.0:3.0f} ms")
    if info.picture_offset_ms or info.beat_offset_ms:
        texts.append(f"offset av {info.picture_offset_ms:+.0f} osc {info.beat_offset_ms:+.0f} ms")
    if info.status:
        texts.append(info.status)
    if info.notice:
        texts.append(info.notice)
    lines = [line for text in texts for line in wrap_text(text, w - 12, scale)]
    y = int(18 * scale / 0.5)
    for line in lines:
        for color, thick in (((0, 0, 0), 3), ((255, 255, 255), 1)):
            cv2.putText(frame, line, (6, y), FONT, scale, color, thick, cv2.LINE_AA)
        y += int(16 * scale / 0.5)
    bar_h = max(3, h // 64)
    frame[h - bar_h :, :] //= 3
    filled = round(w * min(max(info.beat_phase, 0.0), 1.0))
    frame[h - bar_h :, :filled] = (0, 200, 255)
    return frame


def wrap_text(text: str, width_px: int, scale: float) -> list[str]:
    """``text`` broken into lines at most ``width_px`` wide in the HUD's font."""

    def fits(s: str) -> bool:
        return cv2.getTextSize(s, FONT, scale, 3)[0][0] <= width_px

    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if fits(candidate):
            line = candidate
            continue
        if line:
            lines.append(line)
        while not fits(word) and len(word) > 1:  # a word wider than the frame: cut it
            cut = len(word) - 1
            while cut > 1 and not fits(word[:cut]):
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        line = word
    if line or not lines:
        lines.append(line)
    return lines


def _clock(t_s: float) -> str:
    m, s = divmod(max(0.0, t_s), 60.0)
    return f"{int(m)}:{s:05.2f}"
