"""Lit, anti-aliased paint for the procedural person: the brush every part of the figure uses.

Part of ``livedance synth`` (DESIGN.md's OFFLINE ``--synth--> dataset/`` step). A part is a
height field over a small box of the frame (a capsule for a limb, an ellipsoid for a head or a
hand, a swept outline for the torso); its normals, lit by one light from the upper left in
front, shade the part's colour from a lit side to a shadow side, and its coverage blends it
into the frame with soft edges. Folds and creases are strokes that darken or lighten what is
already painted, so they keep the shading under them. Everything is numpy over the part's box,
so a whole person costs a few milliseconds at 256 px.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

BGR = tuple[int, int, int]
Image = npt.NDArray[np.uint8]
Array = npt.NDArray[np.float32]
SHIFT = 4  # sub-pixel bits for OpenCV drawing
_ONE = 1 << SHIFT

LIGHT = np.array([-0.45, -0.55, 0.70], np.float32)
"""Direction towards the key light (x right, y down, z towards the camera): upper left, front."""
LIGHT /= np.linalg.norm(LIGHT)
_AMBIENT = 0.42  # light in the shadow side: a soft fill, so nothing goes black
_RIM = np.array([235, 225, 215], np.float32)  # BGR: the cool back light's colour
_WARM = np.array([-0.06, -0.02, 0.08], np.float32)  # BGR: skin reddens where half lit


def shade(color: BGR, factor: float) -> BGR:
    """Return ``color`` darker (factor < 1) or lighter (> 1), clipped to 0..255."""
    if factor <= 1.0:
        return tuple(int(c * factor) for c in color)  # type: ignore[return-value]
    return tuple(int(c + (255 - c) * (factor - 1.0)) for c in color)  # type: ignore[return-value]


@dataclass(frozen=True)
class Box:
    """A pixel box of the frame: the grid a part is computed on.

    Attributes:
        x0, y0, x1, y1: the box, ``x1``/``y1`` exclusive, inside the frame.
        xs, ys: pixel-centre coordinates, shaped to broadcast to ``(y1 - y0, x1 - x0)``.
    """

    x0: int
    y0: int
    x1: int
    y1: int
    xs: Array
    ys: Array

    @classmethod
    def around(cls, image: Image, points: npt.ArrayLike, margin_px: float) -> Box | None:
        """The box around ``points`` grown by ``margin_px``, clipped; None when off-frame."""
        p = np.asarray(points, np.float64).reshape(-1, 2)
        h, w = image.shape[:2]
        x0 = max(int(np.floor(p[:, 0].min() - margin_px)) - 1, 0)
        y0 = max(int(np.floor(p[:, 1].min() - margin_px)) - 1, 0)
        x1 = min(int(np.ceil(p[:, 0].max() + margin_px)) + 2, w)
        y1 = min(int(np.ceil(p[:, 1].max() + margin_px)) + 2, h)
        if x1 <= x0 or y1 <= y0:
            return None
        xs = np.arange(x0, x1, dtype=np.float32)[None, :]
        ys = np.arange(y0, y1, dtype=np.float32)[:, None]
        return cls(x0, y0, x1, y1, xs, ys)

    def view(self, image: Image) -> Image:
        return image[self.y0 : self.y1, self.x0 : self.x1]


def paint(
    image: Image,
    box: Box,
    cover: Array,
    height: Array,
    color: BGR,
    *,
    tone: Array | float = 1.0,
    gloss: float = 0.0,
    warm: float = 0.0,
) -> None:
    """Blend a lit part into ``image`` (in place).

    Besides the key light, a faint cool rim light from behind on the right picks out the
    edges turned away from the key, as in a lit studio.

    Args:
        image: BGR frame.
        box: where ``cover`` and ``height`` lie.
        cover: 0..1 coverage of each pixel.
        height: the part's surface height towards the camera, in pixels (its slopes are the
            normals that the light shades).
        color: the part's colour where it faces the light squarely.
        tone: extra brightness factor (ambient occlusion, a darker end).
        gloss: strength of a soft highlight (skin, shoes).
        warm: how much redder the half-lit band is (light scattered under skin).
    """
    if not np.any(cover > 0):
        return
    gy, gx = np.gradient(height)
    norm = 1.0 / np.sqrt(gx * gx + gy * gy + 1.0)
    lambert = (-gx * LIGHT[0] - gy * LIGHT[1] + LIGHT[2]) * norm
    np.clip(lambert, 0.0, 1.0, out=lambert)
    light = (_AMBIENT + (1.15 - _AMBIENT) * lambert) * tone
    region = box.view(image)
    lit = light[..., None] * np.asarray(color, np.float32)
    rim = np.clip(gx * norm, 0.0, 1.0) ** 3  # normals turned to image-right, edge on
    lit += (rim * 0.25)[..., None] * (_RIM - lit)
    if gloss:
        lit += (gloss * 255.0) * (lambert**12)[..., None]
    if warm:
        band = (warm * 4.0) * lambert * (1.0 - lambert)
        lit *= 1.0 + band[..., None] * _WARM
    alpha = cover[..., None]
    region[:] = np.clip(region + (lit - region) * alpha, 0, 255).astype(np.uint8)


def smooth_max(a: Array, b: Array, k: float) -> Array:
    """max(a, b) with the crease where they meet rounded over ``k`` (no seam in the light)."""
    gap = np.clip(k - np.abs(a - b), 0.0, None)
    return np.maximum(a, b) + gap * gap / (4.0 * k)


def capsule(
    box: Box,
    p0: np.ndarray,
    p1: np.ndarray,
    r0: float,
    r1: float,
    *,
    bulge: float = 0.0,
    bulge_at: tuple[float, float] = (0.0, 1.0),
    flat: float = 1.0,
    open_start: bool = False,
) -> tuple[Array, Array, Array]:
    """Coverage and height of a tapered limb from ``p0`` (radius ``r0``) to ``p1`` (``r1``).

    ``bulge`` widens it by that fraction as a smooth bump over ``bulge_at`` (a span of 0..1
    along it): a muscle. Ends are round (a joint), or with ``open_start`` the start fades in
    from ``p0`` (an arm growing out of the shoulder the torso already drew). Returns
    ``(cover, height, along)``, where ``along`` is the 0..1 position along the limb.
    """
    d = (p1 - p0).astype(np.float32)
    length = max(float(np.hypot(*d)), 1e-3)
    ax, ay = d / length
    rx = box.xs - np.float32(p0[0])
    ry = box.ys - np.float32(p0[1])
    t = (rx * ax + ry * ay) / length
    s = rx * -ay + ry * ax
    tc = np.clip(t, 0.0, 1.0)
    radius = r0 + (r1 - r0) * tc
    if bulge:
        a, b = bulge_at
        bump = np.sin(np.pi * np.clip((tc - a) / (b - a), 0.0, 1.0)) ** 2
        radius = radius * (1.0 + bulge * bump)
    along = (t - tc) * length  # beyond an end: distance past it along the axis
    dist2 = s * s + along * along
    dist = np.sqrt(dist2)
    cover = np.clip(radius - dist + 0.5, 0.0, 1.0)
    if open_start:  # fade in over the first half radius: it merges into what is under it
        cover *= np.clip((t * length + 0.1 * r0) / (0.6 * r0), 0.0, 1.0)
    height = np.sqrt(np.maximum(radius * radius - dist2, 0.0)) * flat
    return cover, height, tc


def ellipsoid(
    box: Box, center: np.ndarray, axes: tuple[float, float], angle_rad: float, depth: float = 1.0
) -> tuple[Array, Array, Array, Array]:
    """Coverage and height of an ellipsoid seen from the front; also its local ``(u, v)``.

    ``u``/``v`` are -1..1 across the ellipse along its rotated x and y axes, for placing
    features on the part. ``depth`` scales the height (below 1: flatter).
    """
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    dx = box.xs - np.float32(center[0])
    dy = box.ys - np.float32(center[1])
    u = (dx * c + dy * s) / axes[0]
    v = (-dx * s + dy * c) / axes[1]
    rho = np.sqrt(u * u + v * v)
    cover = np.clip((1.0 - rho) * min(axes) + 0.5, 0.0, 1.0)
    height = np.sqrt(np.maximum(1.0 - rho * rho, 0.0)) * (min(axes) * depth)
    return cover, height, u, v


def poly_cover(box: Box, points: npt.ArrayLike) -> Array:
    """0..1 coverage of a filled, anti-aliased polygon over ``box``."""
    mask = np.zeros((box.y1 - box.y0, box.x1 - box.x0), np.uint8)
    pts = np.asarray(points, np.float64) - (box.x0, box.y0)
    cv2.fillPoly(mask, [np.round(pts * _ONE).astype(np.int32)], 255, cv2.LINE_AA, SHIFT)
    return mask.astype(np.float32) * (1.0 / 255.0)


Part = tuple[Box, Array]
"""Where a painted part lies: its box and its 0..1 coverage there."""


def strokes(
    image: Image,
    lines: list[npt.ArrayLike],
    width_px: float,
    factor: float,
    on: Part | None = None,
) -> None:
    """Darken (``factor`` < 1) or lighten (> 1) ``image`` along anti-aliased polylines.

    A fold or crease changes the light on the cloth under it rather than painting a colour,
    so it stays right on both the lit and the shadow side. ``on`` keeps the strokes on one
    painted part (nothing spills onto the wall).
    """
    pts = [np.asarray(line, np.float64).reshape(-1, 2) for line in lines]
    if not pts:
        return
    box = on[0] if on else Box.around(image, np.concatenate(pts), width_px + 2)
    if box is None:
        return
    mask = np.zeros((box.y1 - box.y0, box.x1 - box.x0), np.uint8)
    thick = max(1, round(width_px))
    cv2.polylines(mask, [np.round((p - (box.x0, box.y0)) * _ONE).astype(np.int32) for p in pts],
                  False, 255, thick, cv2.LINE_AA, SHIFT)  # fmt: skip
    weight = mask.astype(np.float32) * (1.0 / 255.0)
    if width_px < 1.0:
        weight *= width_px
    if on is not None:
        weight *= on[1]
    region = box.view(image).astype(np.float32)
    if factor <= 1.0:
        region *= (1.0 - (1.0 - factor) * weight)[..., None]
    else:
        region += (255.0 - region) * ((factor - 1.0) * weight)[..., None]
    box.view(image)[:] = np.clip(region, 0, 255).astype(np.uint8)


def pt(p: npt.ArrayLike) -> tuple[int, int]:
    """A point in OpenCV's fixed-point sub-pixel coordinates (use with ``SHIFT``)."""
    x, y = np.asarray(p, np.float64)[:2]
    return round(x * _ONE), round(y * _ONE)


def axes_px(ax: float, ay: float) -> tuple[int, int]:
    """Ellipse half-axes in OpenCV's fixed-point sub-pixel units."""
    return max(1, round(ax * _ONE)), max(1, round(ay * _ONE))


def smooth(points: npt.ArrayLike, rounds: int = 2, closed: bool = False) -> np.ndarray:
    """Chaikin corner cutting: a polyline through ``points`` with its corners rounded."""
    p = np.asarray(points, np.float64)
    for _ in range(rounds):
        q = np.roll(p, -1, axis=0) if closed else p[1:]
        a = p if closed else p[:-1]
        cut = np.empty((2 * len(a), 2))
        cut[0::2] = 0.75 * a + 0.25 * q
        cut[1::2] = 0.25 * a + 0.75 * q
        p = cut if closed else np.vstack([p[:1], cut, p[-1:]])
    return p
