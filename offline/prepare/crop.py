"""One fixed crop for the whole video, and keypoints carried into it.

Fifth step of ``video.mp4 --prepare--> dataset/``. The crop frames the person's motion
envelope over the whole video (every place any confident joint reached, plus room for the top
of the head and the feet), with the output's aspect ratio. It is the same for every frame: a
per-frame crop would follow the person and make them float, and the runtime places the dancer
where the model learned a person stands (`livedance.body.Body`). ffmpeg cuts and scales the
frames; keypoints go through the same affine map, so they stay on the limbs exactly.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from livedance.errors import LivedanceError

log = logging.getLogger(__name__)

# Room around the joints' envelope, in person heights: joints stop at the eyes/ears and ankles,
# the person goes on to the top of the head and the soles.
HEAD_ROOM = 0.14
FOOT_ROOM = 0.12
SIDE_ROOM = 0.08
ENVELOPE_PERCENTILE = 0.5  # ignore the 0.5% most extreme boxes on each side (stray detections)


@dataclass(frozen=True)
class CropBox:
    """A rectangle of the source video in display pixels; it may reach past the frame's edges,
    which are then padded with black.

    Attributes:
        x_px, y_px: top-left corner.
        width_px, height_px: size.
    """

    x_px: int
    y_px: int
    width_px: int
    height_px: int

    def to_dict(self) -> dict[str, int]:
        return {"x": self.x_px, "y": self.y_px, "width": self.width_px, "height": self.height_px}

    @classmethod
    def from_dict(cls, data: dict[str, int]) -> CropBox:
        return cls(int(data["x"]), int(data["y"]), int(data["width"]), int(data["height"]))

    def spec(self) -> str:
        """The ``--crop`` argument that gives this box."""
        return f"{self.x_px},{self.y_px},{self.width_px},{self.height_px}"

    def inside(self, frame_w: int, frame_h: int) -> bool:
        """Whether the box lies entirely within a frame of this size."""
        return (
            self.x_px >= 0
            and self.y_px >= 0
            and self.x_px + self.width_px <= frame_w
            and self.y_px + self.height_px <= frame_h
        )

    def transform(self, keypoints_px: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Map ``(..., 18, 3)`` keypoints from source pixels to the Pose contract of the crop.

        Missing joints (confidence 0) stay all-zero.
        """
        kp = np.asarray(keypoints_px, np.float32)
        out = np.empty_like(kp)
        out[..., 0] = (kp[..., 0] - self.x_px) / self.width_px
        out[..., 1] = (kp[..., 1] - self.y_px) / self.height_px
        out[..., 2] = kp[..., 2]
        out[kp[..., 2] <= 0] = 0.0
        return out

    def ffmpeg_filters(self, frame_w: int, frame_h: int, out_size: tuple[int, int]) -> list[str]:
        """ffmpeg filters that cut this box from a ``frame_w x frame_h`` frame and scale it."""
        pad_l, pad_t = max(0, -self.x_px), max(0, -self.y_px)
        pad_r = max(0, self.x_px + self.width_px - frame_w)
        pad_b = max(0, self.y_px + self.height_px - frame_h)
        filters = []
        if pad_l or pad_t or pad_r or pad_b:
            filters.append(
                f"pad=w={frame_w + pad_l + pad_r}:h={frame_h + pad_t + pad_b}"
                f":x={pad_l}:y={pad_t}:color=black"
            )
        x, y = self.x_px + pad_l, self.y_px + pad_t
        filters.append(f"crop=w={self.width_px}:h={self.height_px}:x={x}:y={y}:exact=1")
        w, h = out_size
        if (w, h) != (self.width_px, self.height_px):
            filters.append(f"scale=w={w}:h={h}:flags=lanczos+accurate_rnd+full_chroma_int")
        return filters


def parse_size(text: str) -> tuple[int, int]:
    """``"256"`` -> (256, 256); ``"512x256"`` -> (512, 256) as (width, height).

    Raises:
        ValueError: not a size, or smaller than 32 or larger than 4096 pixels.
    """
    match = re.fullmatch(r"\s*(\d+)\s*(?:[xX]\s*(\d+)\s*)?", text)
    if not match:
        raise ValueError(f"size {text!r} is neither N nor WxH")
    w = int(match.group(1))
    h = int(match.group(2)) if match.group(2) else w
    if not (32 <= w <= 4096 and 32 <= h <= 4096):
        raise ValueError(f"size {w}x{h} is outside 32..4096 pixels")
    return w, h


def parse_crop(text: str) -> CropBox | None:
    """``"auto"`` -> None (the motion envelope); ``"X,Y,W,H"`` in source pixels -> a box.

    Raises:
        ValueError: not ``auto`` nor four integers with a positive size.
    """
    if text.strip().lower() == "auto":
        return None
    parts = [p.strip() for p in re.split(r"[,:]", text)]
    try:
        x, y, w, h = (int(p) for p in parts)
    except ValueError:
        raise ValueError(f"crop {text!r} is neither 'auto' nor X,Y,W,H in pixels") from None
    if w <= 0 or h <= 0:
        raise ValueError(f"crop {text!r} has no area")
    return CropBox(x, y, w, h)


def fit_aspect(box: CropBox, aspect: float) -> CropBox:
    """Grow ``box`` around its centre to the aspect ratio ``aspect`` (width / height)."""
    w, h = float(box.width_px), float(box.height_px)
    if abs(w - h * aspect) < 1.0:
        return box
    if w / h < aspect:
        w = h * aspect
    else:
        h = w / aspect
    cx, cy = box.x_px + box.width_px / 2, box.y_px + box.height_px / 2
    return _even_box(cx, cy, w, h)


def envelope_crop(
    keypoints_px: npt.NDArray[np.float32],
    frame_size: tuple[int, int],
    aspect: float,
) -> CropBox:
    """The fixed crop around a person's motion envelope.

    Args:
        keypoints_px: ``(n, 18, 3)`` keypoints in source pixels (confidence 0 = missing) of
            the frames where the person was found.
        frame_size: ``(width, height)`` of the source frames.
        aspect: output width / height.

    Returns:
        The crop: the envelope with head, foot and side room, at ``aspect``, inside the frame
        where it fits (room is given up before the crop leaves the frame; only an envelope
        larger than the frame is padded).

    Raises:
        LivedanceError: no confident joints at all.
    """
    boxes = []
    for pose in keypoints_px:
        xy = pose[pose[:, 2] > 0, :2]
        if len(xy) >= 2:
            boxes.append(np.concatenate([xy.min(axis=0), xy.max(axis=0)]))
    if not boxes:
        raise LivedanceError("no confident keypoints to place the crop")
    b = np.array(boxes, np.float64)
    p = ENVELOPE_PERCENTILE
    x0, y0 = np.percentile(b[:, 0], p), np.percentile(b[:, 1], p)
    x1, y1 = np.percentile(b[:, 2], 100 - p), np.percentile(b[:, 3], 100 - p)
    person_h = float(np.median(b[:, 3] - b[:, 1]))
    frame_w, frame_h = frame_size

    roomy = (
        x0 - SIDE_ROOM * person_h,
        y0 - HEAD_ROOM * person_h,
        x1 + SIDE_ROOM * person_h,
        y1 + FOOT_ROOM * person_h,
    )
    want_h = max(roomy[3] - roomy[1], (roomy[2] - roomy[0]) / aspect)
    need_h = max(y1 - y0, (x1 - x0) / aspect)
    fits_h = min(frame_h, frame_w / aspect)
    crop_h = min(want_h, max(fits_h, need_h))
    crop_w = crop_h * aspect
    cx = 0.5 * (roomy[0] + roomy[2])
    cy = 0.5 * (roomy[1] + roomy[3])
    box = _even_box(cx, cy, crop_w, crop_h, frame_size)
    if not box.inside(frame_w, frame_h):
        log.warning("the person's motion fills more than the frame; the crop is padded with black")
    return box


def _even_box(
    cx: float, cy: float, w: float, h: float, frame_size: tuple[int, int] | None = None
) -> CropBox:
    """Round a box to even pixels (chroma subsampling cuts cleanly there), centred on
    ``(cx, cy)``; with ``frame_size``, moved inside the frame along each axis where it fits
    (where it does not, it stays centred on the person and the overflow is padded)."""
    corner, sizes = [], []
    for axis, (centre, size) in enumerate(((cx, w), (cy, h))):
        size_px = max(2, 2 * round(size / 2))
        if frame_size is not None and size <= frame_size[axis]:
            size_px = min(size_px, frame_size[axis] // 2 * 2)
        start_px = 2 * round((centre - size_px / 2) / 2)
        if frame_size is not None and size_px <= frame_size[axis]:
            start_px = min(max(start_px, 0), (frame_size[axis] - size_px) // 2 * 2)
        corner.append(int(start_px))
        sizes.append(int(size_px))
    return CropBox(corner[0], corner[1], sizes[0], sizes[1])
