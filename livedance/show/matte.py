"""Alpha for video outputs: the dancer on a transparent background, or on a key colour.

The "window / recorder" end of DESIGN.md's data flow, for outputs that go to a video mixer
(Resolume, TouchDesigner, OBS), which lays the dancer over other visuals. Stick figures are drawn
on black, so the frame is its own matte (its lit pixels). A generator paints the room it was
trained in and carries no person mask, so its matte is the body around the pose: the stick
figure drawn thick (limbs, a filled torso, the head) with soft edges, sized from the pose's own
torso so it fits near and far dancers alike. With neither, a plain background is the fallback
(``alpha=none``).
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from livedance.pose import LIMBS, Pose

Image = npt.NDArray[np.uint8]

MIN_CONFIDENCE = 0.05
LIMB_WIDTH = 0.45
"""Limb thickness, as a fraction of the torso's length (neck to mid-hip)."""
HEAD_RADIUS = 0.42
"""Head radius, as a fraction of the torso's length (about the head of a standing person)."""
EDGE = 0.12
"""Soft edge (Gaussian blur sigma), as a fraction of the torso's length."""
STICK_GAIN = 3
"""Lit pixels of a stick frame this many times their brightest channel as alpha (the
anti-aliased edges fade out)."""

_NECK, _RSHOULDER, _LSHOULDER, _RHIP, _LHIP, _NOSE = 1, 2, 5, 8, 11, 0


def stick_matte(frame: Image) -> Image:
    """The matte of a frame drawn on black (stick figures): its lit pixels.

    Args:
        frame: ``(h, w, 3)`` uint8.

    Returns:
        ``(h, w)`` uint8 alpha, 255 opaque.
    """
    lit = frame.max(axis=2)
    return np.minimum(lit.astype(np.uint16) * STICK_GAIN, 255).astype(np.uint8)


def body_matte(pose: Pose, width_px: int, height_px: int) -> Image:
    """The body's matte around a pose: thick limbs, a filled torso and the head, soft edges.

    Args:
        pose: ``(18, 3)`` keypoints normalised to the frame.
        width_px, height_px: the frame's size.

    Returns:
        ``(h, w)`` uint8 alpha, 255 opaque; all 0 when the pose has no torso.
    """
    matte = np.zeros((height_px, width_px), np.uint8)
    present = pose[:, 2] > MIN_CONFIDENCE
    xy = pose[:, :2] * np.array([width_px, height_px], np.float32)
    hips = [k for k in (_RHIP, _LHIP) if present[k]]
    if not present[_NECK] or not hips:
        return matte
    torso_px = float(np.linalg.norm(xy[_NECK] - xy[hips].mean(axis=0)))
    if torso_px < 1.0:
        return matte
    pts = np.round(xy).astype(np.int32)
    limb_px = max(1, round(LIMB_WIDTH * torso_px))
    for a, b in LIMBS:
        if present[a] and present[b]:
            cv2.line(matte, tuple(pts[a]), tuple(pts[b]), 255, limb_px, cv2.LINE_8)
    corners = [k for k in (_RSHOULDER, _LSHOULDER, _LHIP, _RHIP) if present[k]]
    if len(corners) >= 3:
        cv2.fillConvexPoly(matte, cv2.convexHull(pts[corners]), 255)
    head = _NOSE if present[_NOSE] else _NECK
    cv2.circle(matte, tuple(pts[head]), max(1, round(HEAD_RADIUS * torso_px)), 255, -1)
    sigma = EDGE * torso_px
    if sigma >= 0.5:
        return np.asarray(cv2.GaussianBlur(matte, (0, 0), sigma), np.uint8)
    return matte


def rgba(frame: Image, alpha: Image) -> Image:
    """A BGR frame and its matte as one RGBA image (straight alpha)."""
    out = np.empty((*frame.shape[:2], 4), np.uint8)
    out[..., 0] = frame[..., 2]
    out[..., 1] = frame[..., 1]
    out[..., 2] = frame[..., 0]
    out[..., 3] = alpha
    return out


def keyed(frame: Image, alpha: Image, key_rgb: tuple[int, int, int]) -> Image:
    """A BGR frame laid over a key colour through its matte, as RGB (for chroma keyers)."""
    a = alpha.astype(np.uint16)[..., None]
    key = np.array(key_rgb[::-1], np.uint16)
    bgr = (frame.astype(np.uint16) * a + key * (255 - a) + 127) // 255
    return np.ascontiguousarray(bgr[..., ::-1].astype(np.uint8))


def rgb(frame: Image) -> Image:
    """A BGR frame as RGB (the plain-background fallback)."""
    return np.ascontiguousarray(frame[..., ::-1])
