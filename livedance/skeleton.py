"""The one stick-figure renderer: a Pose drawn the OpenPose way.

Dataset preparation draws training inputs with it and the live runtime draws the generator's
inputs with it, so a trained model sees on stage exactly what it saw in training.
Images are BGR uint8 (OpenCV's order) on a black background.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from livedance.pose import COLORS_RGB, LIMBS, Pose

Image = npt.NDArray[np.uint8]
"""A frame: uint8, shape ``(height, width, 3)``, BGR."""

_COLORS_BGR = tuple((b, g, r) for r, g, b in COLORS_RGB)
_SHIFT = 4  # sub-pixel bits: keypoints move smoothly instead of snapping to whole pixels
_ONE = 1 << _SHIFT


def stick_thickness_px(height_px: int) -> int:
    """Limb thickness in pixels for a frame of this height (6 px at 256, 12 px at 512)."""
    return max(2, round(height_px * 6 / 256))


def render_stick(
    pose: Pose,
    width_px: int,
    height_px: int | None = None,
    *,
    min_confidence: float = 0.05,
    out: Image | None = None,
) -> Image:
    """Draw one pose as an OpenPose stick figure.

    Args:
        pose: ``(18, 3)`` keypoints normalised to the frame.
        width_px: frame width in pixels.
        height_px: frame height in pixels (default: square).
        min_confidence: keypoints at or below this confidence are treated as missing.
        out: optional preallocated ``(h, w, 3)`` uint8 image to draw into (it is cleared).

    Returns:
        The BGR image with limbs and joints drawn anti-aliased on black.
    """
    h = width_px if height_px is None else height_px
    w = width_px
    if out is None:
        out = np.zeros((h, w, 3), dtype=np.uint8)
    else:
        out[...] = 0
    thickness = stick_thickness_px(h)
    present = pose[:, 2] > min_confidence
    pts = np.round(pose[:, :2] * np.array([w, h], dtype=np.float32) * _ONE).astype(np.int64)
    for i, (a, b) in enumerate(LIMBS):
        if present[a] and present[b]:
            cv2.line(out, _pt(pts[a]), _pt(pts[b]), _COLORS_BGR[i], thickness, cv2.LINE_AA, _SHIFT)
    radius = max(1, round(thickness * 0.7)) * _ONE
    for k in np.flatnonzero(present):
        cv2.circle(out, _pt(pts[k]), radius, _COLORS_BGR[k], -1, cv2.LINE_AA, _SHIFT)
    return out


def render_sticks(
    poses: npt.NDArray[np.float32], width_px: int, height_px: int | None = None
) -> npt.NDArray[np.uint8]:
    """Draw a batch of poses ``(n, 18, 3)`` into ``(n, h, w, 3)`` BGR images."""
    h = width_px if height_px is None else height_px
    frames = np.zeros((len(poses), h, width_px, 3), dtype=np.uint8)
    for pose, frame in zip(poses, frames, strict=True):
        render_stick(pose, width_px, h, out=frame)
    return frames


def _pt(p: npt.NDArray[np.int64]) -> tuple[int, int]:
    return int(p[0]), int(p[1])
