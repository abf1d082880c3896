"""Alpha for video outputs: the dancer on a transparent background, or on a key colour.

The "window / recorder" end of DESIGN.md's data flow, for outputs that go to a video mixer
(Resolume, TouchDesigner, OBS), which lays the dancer over other visuals. Stick figures are drawn
on black, so the frame is its own matte (its lit pixels). A generator paints the room it was
trained in, so its matte comes from the stick and the frame: the body around the pose (the stick
figure drawn thick: limbs, a filled torso, the head, soft edges, sized from the pose's own torso so
it fits near and far dancers alike), tightened by the frame with `PlateMatte`: inside the body
matte only what differs from the room stays opaque, and the body's core (thin limbs, the torso)
always does. A model with a background plate paints its person over a room it carries as a
second output, so that room is known exactly from the first frame; for other models it is
learnt, pixel by pixel, from the frames where the body matte leaves it clear. With neither, a
plain background is the fallback (``alpha=none``).
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
EDGE = 0.05
"""Soft edge (about a Gaussian blur's sigma), as a fraction of the torso's length."""
CORE_WIDTH = 0.12
"""The body's core (always opaque): limbs this thick, as a fraction of the torso's length."""
CORE_HEAD = 0.25
"""The core's head radius, as a fraction of the torso's length."""
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
    b, g, r = cv2.split(frame)
    lit = cv2.max(cv2.max(b, g), r)
    return np.asarray(cv2.multiply(lit, STICK_GAIN), np.uint8)  # saturates at 255


def body_matte(pose: Pose, width_px: int, height_px: int) -> Image:
    """The body's matte around a pose: thick limbs, a filled torso and the head, soft edges.

    Args:
        pose: ``(18, 3)`` keypoints normalised to the frame.
        width_px, height_px: the frame's size.

    Returns:
        ``(h, w)`` uint8 alpha, 255 opaque; all 0 when the pose has no torso.
    """
    return _figure(pose, width_px, height_px, LIMB_WIDTH, HEAD_RADIUS, EDGE)


def core_matte(pose: Pose, width_px: int, height_px: int) -> Image:
    """Where the dancer surely is: thin limbs along the bones, the torso, the middle of the head.

    The frame cannot take these pixels out of the matte even where they match the room: a shirt
    the colour of the wall, or a plate that learnt the shirt where its person always stood.
    Same arguments and result as `body_matte`, hard-edged.
    """
    return _figure(pose, width_px, height_px, CORE_WIDTH, CORE_HEAD, 0.0)


def _figure(
    pose: Pose, width_px: int, height_px: int, limb: float, head_radius: float, edge: float
) -> Image:
    """Limbs, a filled torso and the head drawn around a pose, sized by its torso's length."""
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
    limb_px = max(1, round(limb * torso_px))
    for a, b in LIMBS:
        if present[a] and present[b]:
            cv2.line(matte, tuple(pts[a]), tuple(pts[b]), 255, limb_px, cv2.LINE_8)
    corners = [k for k in (_RSHOULDER, _LSHOULDER, _LHIP, _RHIP) if present[k]]
    if len(corners) >= 3:
        cv2.fillConvexPoly(matte, cv2.convexHull(pts[corners]), 255)
    head = _NOSE if present[_NOSE] else _NECK
    cv2.circle(matte, tuple(pts[head]), max(1, round(head_radius * torso_px)), 255, -1)
    k = 2 * round(2.5 * edge * torso_px) + 1  # a stack blur as wide as a Gaussian of `edge`
    if k >= 3:
        return np.asarray(cv2.stackBlur(matte, (k, k)), np.uint8)  # cost independent of k
    return matte


def rgba(frame: Image, alpha: Image) -> Image:
    """A BGR frame and its matte as one RGBA image (straight alpha)."""
    b, g, r = cv2.split(frame)
    return np.asarray(cv2.merge((r, g, b, alpha)), np.uint8)


def keyed(frame: Image, alpha: Image, key_rgb: tuple[int, int, int]) -> Image:
    """A BGR frame laid over a key colour through its matte, as RGB (for chroma keyers)."""
    weight = alpha.astype(np.float32) * np.float32(1 / 255)
    key = np.empty_like(frame)
    key[...] = key_rgb[::-1]
    bgr = cv2.blendLinear(frame, key, weight, 1.0 - weight)
    return np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), np.uint8)


def rgb(frame: Image) -> Image:
    """A BGR frame as RGB (the plain-background fallback)."""
    return np.asarray(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB), np.uint8)


class PlateMatte:
    """The body matte tightened by the frame against a background plate, known or learnt.

    A pixel inside the body matte stays opaque only as far as it differs from the plate (by
    ``threshold`` levels, with a soft ramp), or lies in the body's core (`core_matte`), which
    stays opaque whatever its colour. Given the model's own room (``room``), that is the
    plate, whole, from the first frame. Otherwise each frame's pixels that the body matte leaves
    clear update a running plate of the room, and where the room was never seen (always behind
    the dancer), the body matte alone decides.

    Args:
        learn_rate: how fast the plate follows the frames (a lighting change fades in).
        threshold: colour difference, 0..255, at which a pixel is surely the dancer.
    """

    def __init__(self, learn_rate: float = 0.1, threshold: float = 30.0) -> None:
        self.learn_rate, self.threshold = float(learn_rate), float(threshold)
        self.plate: npt.NDArray[np.float32] | None = None
        self.seen: npt.NDArray[np.uint8] | None = None
        """255 where the room has been seen."""
        self._room: Image | None = None
        """The known room the plate was last made from."""

    def __call__(self, frame: Image, pose: Pose, room: Image | None = None) -> Image:
        """The matte of ``frame`` (BGR) around ``pose``, against ``room`` when it is known."""
        h, w = frame.shape[:2]
        body, core = body_matte(pose, w, h), core_matte(pose, w, h)
        pixels = frame.astype(np.float32)
        if room is not None:
            if self._room is not room or self.plate is None or self.plate.shape != frame.shape:
                self._room = room  # the same room every frame: made a plate once
                if room.shape != frame.shape:
                    room = np.asarray(cv2.resize(room, (w, h), interpolation=cv2.INTER_AREA))
                self.plate, self.seen = room.astype(np.float32), np.full((h, w), 255, np.uint8)
            return self._keep(body, core, pixels)
        self._room = None  # learning changes the plate: a known room must be made again
        if self.plate is None or self.plate.shape != pixels.shape:
            self.plate = pixels.copy()
            self.seen = np.zeros((h, w), np.uint8)
        assert self.seen is not None
        clear = np.where(body == 0, np.uint8(255), np.uint8(0))
        first = cv2.bitwise_and(clear, cv2.bitwise_not(self.seen))
        np.copyto(self.plate, pixels, where=first[..., None].astype(bool))
        cv2.accumulateWeighted(pixels, self.plate, self.learn_rate, mask=clear)
        cv2.bitwise_or(self.seen, clear, dst=self.seen)
        return self._keep(body, core, pixels)

    def _keep(self, body: Image, core: Image, pixels: npt.NDArray[np.float32]) -> Image:
        assert self.plate is not None and self.seen is not None
        b, g, r = cv2.split(cv2.absdiff(pixels, self.plate))
        diff = cv2.max(cv2.max(b, g), r)
        t = self.threshold
        differs = np.clip((diff - 0.5 * t) * (2.0 / t), 0.0, 1.0)
        keep = np.where(self.seen > 0, differs, 1.0).astype(np.float32)
        # close small holes where the dancer happens to match the room's colour
        keep = np.asarray(cv2.morphologyEx(keep, cv2.MORPH_CLOSE, _CLOSE_KERNEL), np.float32)
        keep[core > 0] = 1.0  # the core is opaque whatever its colour
        return np.asarray(body * keep + 0.5, np.float32).astype(np.uint8)


_CLOSE_KERNEL = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))
