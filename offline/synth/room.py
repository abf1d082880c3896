"""The empty room the synthetic person dances in: a lit plaster wall, a skirting board, a floor
of wooden boards in perspective.

Part of ``livedance synth`` (DESIGN.md's OFFLINE ``--synth--> dataset/`` step): drawn once per
dataset and copied under every frame, like the still camera and fixed room of a real
recording, so a generator (or a room plate) can learn it. The texture (plaster grain, board
tints, grain and joints) is seeded by the room's colours, so the same `Appearance` always
gives the same room.
"""

from __future__ import annotations

import cv2
import numpy as np

from offline.synth.appearance import Appearance
from offline.synth.shading import Image, shade


def background(appearance: Appearance, width_px: int, height_px: int, floor_y: float) -> Image:
    """The empty room, lit from the upper left, brightest behind the dancer.

    Args:
        appearance: colours.
        width_px, height_px: frame size.
        floor_y: where the feet stand, 0..1 of the height; the horizon is above it.

    Returns:
        BGR image ``(h, w, 3)``.
    """
    h, w = height_px, width_px
    rng = np.random.default_rng([*appearance.wall, *appearance.floor, 0x200])
    horizon = round(h * max(0.35, floor_y - 0.22))
    image = np.empty((h, w, 3), np.float32)
    image[:horizon] = _wall(appearance, w, horizon, rng)
    image[horizon:] = _floor(appearance, w, h, horizon, rng)
    _skirting(image, appearance, horizon)
    # One soft key light from the upper left falls off over the whole room.
    xx = (np.arange(w, dtype=np.float32) - 0.42 * w) / (0.75 * w)
    yy = (np.arange(h, dtype=np.float32) - 0.3 * h) / (0.8 * h)
    image *= (0.78 + 0.3 * np.exp(-(xx[None, :] ** 2 + yy[:, None] ** 2)))[..., None]
    return np.clip(image, 0, 255).astype(np.uint8)


def _wall(look: Appearance, w: int, horizon: int, rng: np.random.Generator) -> np.ndarray:
    """Plaster: a vertical gradient with a fine, blurred grain and faint large blotches."""
    t = np.linspace(0.0, 1.0, horizon, dtype=np.float32)[:, None, None]
    top = np.array(shade(look.wall, 1.1), np.float32)
    low = np.array(shade(look.wall, 0.9), np.float32)
    wall = top + (low - top) * t
    grain = cv2.GaussianBlur(rng.normal(0.0, 1.0, (horizon, w)).astype(np.float32), (0, 0), 0.8)
    blotch = cv2.resize(rng.normal(0.0, 1.0, (6, 8)).astype(np.float32), (w, horizon),
                        interpolation=cv2.INTER_CUBIC)  # fmt: skip
    return wall * (1.0 + 0.025 * grain + 0.02 * blotch)[..., None]


def _floor(look: Appearance, w: int, h: int, horizon: int, rng: np.random.Generator):
    """Boards running away from the camera: each its own tint, grain along it, staggered end
    joints, and darker seams; farther boards darker, the near floor catching the light."""
    rows = h - horizon
    y = np.arange(rows, dtype=np.float32)[:, None] + 0.5
    # Board width in pixels grows linearly from the horizon down (a floor in perspective).
    width_px = w * (0.05 + 0.13 * y / max(rows, 1))
    x = (np.arange(w, dtype=np.float32)[None, :] - w / 2) / width_px
    depth = 1.0 / width_px * w  # along the boards, growing with distance
    board = np.floor(x).astype(np.int64)
    n_tints = 64
    tint = rng.uniform(0.86, 1.1, n_tints).astype(np.float32)
    phase = rng.uniform(0.0, 1.0, n_tints).astype(np.float32)
    index = board % n_tints
    along = depth * 0.9 + phase[index] * 9.0
    # Grain: sixteen streaks across each board, each its own noise along the board.
    streaks = cv2.GaussianBlur(rng.normal(0.0, 1.0, (n_tints * 16, 1024)).astype(np.float32),
                               (0, 0), sigmaX=3.0, sigmaY=0.01)  # fmt: skip
    streaks /= streaks.std() + 1e-6
    streak = index * 16 + np.floor((x - board) * 16).astype(np.int64)
    grain = 0.045 * streaks[streak, (along * 40.0).astype(np.int64) % 1024]
    shade_px = tint[index] * (1.0 + grain)
    seam = np.abs(x - np.round(x)) * width_px  # pixels from the nearest long seam
    fade = np.clip(width_px / 24.0, 0.0, 1.0)  # far seams would only alias: let them fade
    shade_px *= 1.0 - 0.35 * fade * np.clip(1.0 - seam, 0.0, 1.0)
    # End joints every 9 depth units, staggered by the board's phase; their distance in
    # pixels is the distance in depth over how fast depth changes per row.
    rate = 0.9 * w * (w * 0.13 / max(rows, 1)) / (width_px * width_px)
    joint_px = np.abs(((along / 9.0 + 0.5) % 1.0 - 0.5) * 9.0) / rate
    shade_px *= 1.0 - 0.3 * fade * np.clip(1.0 - joint_px, 0.0, 1.0)
    far = np.array(shade(look.floor, 0.8), np.float32)
    near = np.array(shade(look.floor, 1.08), np.float32)
    ramp = (y / max(rows, 1))[..., None]
    return (far + (near - far) * ramp) * shade_px[..., None]


def _skirting(image: np.ndarray, look: Appearance, horizon: int) -> None:
    """A painted skirting board along the foot of the wall, lit on its top edge, with a
    contact shadow where it meets the floor."""
    h = image.shape[0]
    board_px = max(2, round(h * 0.03))
    top = max(horizon - board_px, 0)
    paint = np.array(shade(look.wall, 1.25), np.float32)
    fall = np.linspace(1.0, 0.85, horizon - top, dtype=np.float32)
    image[top:horizon] = paint * fall[:, None, None]
    image[top] = np.array(shade(look.wall, 1.4), np.float32)
    if top > 0:
        image[top - 1] *= 0.8
    shadow = min(max(1, h // 64), h - horizon)
    contact = np.linspace(0.6, 0.9, shadow, dtype=np.float32)
    image[horizon : horizon + shadow] *= contact[:, None, None]
