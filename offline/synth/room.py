"""The empty room the synthetic person dances in: a lit wall, a wooden floor, a horizon.

Part of ``livedance synth`` (DESIGN.md's OFFLINE ``--synth--> dataset/`` step): drawn once per
dataset and copied under every frame, like the fixed camera and room of a real recording.
"""

from __future__ import annotations

import cv2
import numpy as np

from offline.synth.figure import _SHIFT, Appearance, Image, _pt, shade


def background(appearance: Appearance, width_px: int, height_px: int, floor_y: float) -> Image:
    """The empty room: a softly lit wall, a floor from the horizon down, a skirting line.

    Args:
        appearance: colours.
        width_px, height_px: frame size.
        floor_y: where the feet stand, 0..1 of the height; the horizon is above it.

    Returns:
        BGR image ``(h, w, 3)``.
    """
    h, w = height_px, width_px
    horizon = round(h * max(0.35, floor_y - 0.22))
    t = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None]
    wall_top = np.array(shade(appearance.wall, 1.15), np.float32)
    wall_low = np.array(shade(appearance.wall, 0.85), np.float32)
    floor_far = np.array(shade(appearance.floor, 0.8), np.float32)
    floor_near = np.array(shade(appearance.floor, 1.1), np.float32)
    col = np.empty((h, 3), np.float32)
    up = t[:horizon, 0:1] / max(t[horizon, 0], 1e-6)
    col[:horizon] = wall_top + (wall_low - wall_top) * up
    down = (t[horizon:, 0:1] - t[horizon, 0]) / max(1.0 - t[horizon, 0], 1e-6)
    col[horizon:] = floor_far + (floor_near - floor_far) * down
    image = np.repeat(col[:, None, :], w, axis=1)
    # A soft spotlight on the wall behind the dancer.
    xx = (np.arange(w, dtype=np.float32) - w / 2) / (0.6 * w)
    yy = (np.arange(h, dtype=np.float32) - 0.35 * h) / (0.6 * h)
    light = np.exp(-(xx[None, :] ** 2 + yy[:, None] ** 2))[..., None]
    image[:horizon] *= 0.9 + 0.2 * light[:horizon]
    image = np.clip(image, 0, 255).astype(np.uint8)
    # Floor boards: lines converging to a vanishing point above the frame centre.
    board = shade(appearance.floor, 0.7)
    for k in range(-8, 9):
        x_near = w / 2 + k * w * 0.18
        cv2.line(image, _pt((w / 2 + k * w * 0.05, horizon)), _pt((x_near, h)), board, 1,
                 cv2.LINE_AA, _SHIFT)  # fmt: skip
    cv2.line(image, (0, horizon), (w, horizon), shade(appearance.wall, 0.55), max(1, h // 128),
             cv2.LINE_AA)  # fmt: skip
    return image
