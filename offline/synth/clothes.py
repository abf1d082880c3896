"""Cloth detail over the painted body: creases at bent joints, folds, collar, hems, soles.

Part of ``livedance synth`` (DESIGN.md's OFFLINE ``--synth--> dataset/`` step), called by
`offline.synth.body` and `offline.synth.face` after they paint a part. Each detail is a stroke
that darkens (a fold's hollow) or lightens (its ridge) the lit cloth already there, so it
follows the pose: creases gather on the inside of an elbow or knee as much as it is bent,
shirt folds run from a raised arm's armpit, trousers break in folds above the shoe.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from offline.synth.figure import Figure
from offline.synth.shading import BGR, SHIFT, Image, Part, pt, shade, smooth, strokes

_HOLLOW = 0.6  # how dark a fold's hollow gets at most
_RIDGE = 1.25  # how light its ridge


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.hypot(*v))
    return v / n if n > 1e-6 else np.array([0.0, 1.0])


def _rot(v: np.ndarray, rad: float) -> np.ndarray:
    c, s = np.cos(rad), np.sin(rad)
    return np.array([v[0] * c - v[1] * s, v[0] * s + v[1] * c])


def fold(
    image: Image, line: npt.ArrayLike, width_px: float, strength: float, on: Part | None
) -> None:
    """One fold on a part: a dark hollow with a light ridge a pixel towards the light."""
    if on is None:
        return
    line = np.asarray(line, np.float64)
    strokes(image, [line], width_px, 1.0 - (1.0 - _HOLLOW) * strength, on)
    ridge = line + np.array([-0.8, -0.9])  # towards the light
    strokes(image, [ridge], width_px * 0.7, 1.0 + (_RIDGE - 1.0) * strength, on)


def crease(
    image: Image,
    p0: np.ndarray,
    joint: np.ndarray,
    p1: np.ndarray,
    radius_px: float,
    on: Part | None,
) -> None:
    """Creases fanning from the inside of a bent joint (elbow, knee), as many and as deep as
    the bend; a straight limb keeps a faint one, as cloth and skin do."""
    a, b = _unit(joint - p0), _unit(p1 - joint)
    bend = float(np.arccos(np.clip(a @ b, -1.0, 1.0)))  # 0 straight .. pi folded
    amount = float(np.clip(bend / 1.3, 0.0, 1.0))
    inner = _unit(b - a) if bend > 0.05 else np.array([-a[1], a[0]])
    n = 1 + round(2 * amount)
    reach = radius_px * (0.45 + 0.5 * amount)
    lines = []
    for k in range(n):
        ray = _rot(inner, (k - (n - 1) / 2) * 0.45)
        start = joint + ray * radius_px * 0.9
        bow = np.array([-ray[1], ray[0]]) * reach * 0.25
        lines.append(smooth([start, start - ray * reach * 0.5 + bow, start - ray * reach], 1))
    width = max(0.8, radius_px * 0.12)
    for line in lines:
        fold(image, line, width, 0.35 + 0.65 * amount, on)


def shirt_folds(image: Image, fig: Figure, right: np.ndarray, left: np.ndarray, on: Part) -> None:
    """Folds on the shirt: from each raised arm's armpit down the side, bunching above the
    hem, and a darker hem edge over the trousers."""
    u, up = fig.unit, fig.up
    for edge, side in ((right, "r"), (left, "l")):
        if not fig.has(f"{side}_shoulder", f"{side}_elbow"):
            continue
        upper = _unit(fig.at(f"{side}_elbow") - fig.at(f"{side}_shoulder"))
        raised = float(np.clip((upper @ up + 0.3) / 1.0, 0.0, 1.0))  # 0 hanging .. 1 overhead
        if raised < 0.05:
            continue
        armpit = edge[len(edge) // 3]
        inward = _unit((right[len(right) // 2] + left[len(left) // 2]) / 2 - armpit)
        for k, length in enumerate((0.35, 0.25)):
            start = armpit + inward * (0.03 + 0.04 * k) * u
            end = start + (inward * 0.5 - up) * length * u
            fold(image, smooth([start, (start + end) / 2 + inward * 0.02 * u, end], 1),
                 max(0.8, 0.02 * u), raised, on)  # fmt: skip
    hem_r, hem_l = right[-1], left[-1]
    for f in (0.3, 0.68):
        mid = hem_r + (hem_l - hem_r) * f + up * 0.1 * u
        half = (hem_l - hem_r) * 0.14
        fold(image, smooth([mid - half, mid + up * 0.02 * u, mid + half], 2),
             max(0.8, 0.016 * u), 0.3, on)  # fmt: skip
    strokes(image, [smooth([hem_r, (hem_r + hem_l) / 2 - up * 0.015 * u, hem_l], 1)],
            max(1.0, 0.03 * u), 0.65, on)  # fmt: skip


def short_sleeve(image: Image, fig: Figure, shoulder: np.ndarray, elbow: np.ndarray) -> Part | None:
    """A T-shirt sleeve over the top half of the upper arm, open and hemmed at its end."""
    from offline.synth.body import limb  # body paints limbs and calls back here

    u = fig.unit
    end = shoulder + (elbow - shoulder) * 0.5
    sleeve = limb(image, shoulder, end, 0.09 * u, 0.082 * u, fig.look.shirt, bulge=0.04,
                  open_start=True)  # fmt: skip
    a = _unit(elbow - shoulder)
    n = np.array([-a[1], a[0]])
    if sleeve is None:
        return None
    hem = end + a * 0.06 * u
    strokes(image, [[hem - n * 0.1 * u, hem + n * 0.1 * u]], max(1.0, 0.025 * u), 0.7, sleeve)
    fold(image, [end - a * 0.12 * u + n * 0.03 * u, hem - n * 0.02 * u], max(0.8, 0.018 * u),
         0.6, sleeve)  # fmt: skip
    return sleeve


def cuff(
    image: Image,
    fig: Figure,
    elbow: np.ndarray,
    wrist: np.ndarray,
    radius_px: float,
    on: Part | None,
) -> None:
    """The seam of a long sleeve's cuff just above the wrist."""
    a = _unit(wrist - elbow)
    n = np.array([-a[1], a[0]])
    seam = wrist - a * 0.07 * fig.unit
    strokes(image, [[seam - n * radius_px * 0.95, seam + n * radius_px * 0.95]],
            max(1.0, 0.02 * fig.unit), 0.65, on)  # fmt: skip


def trouser_folds(
    image: Image,
    fig: Figure,
    knee: np.ndarray,
    ankle: np.ndarray,
    radius_px: float,
    on: Part | None,
) -> None:
    """Trousers break above the shoe in two shallow folds across the leg, and hang in one down
    the shin."""
    a = _unit(ankle - knee)
    n = np.array([-a[1], a[0]])
    u = fig.unit
    for k, (off, sag) in enumerate(((0.06, 0.04), (0.13, -0.03))):
        mid = ankle - a * off * u
        arc = [mid - n * radius_px * 0.8, mid + a * sag * u + n * radius_px * 0.1,
               mid + n * radius_px * 0.8 - a * 0.02 * u]  # fmt: skip
        fold(image, smooth(arc, 2), max(0.8, 0.016 * u), 0.45 - 0.1 * k, on)
    fold(image, smooth([knee + a * 0.2 * u + n * 0.25 * radius_px,
                        knee + a * 0.5 * u + n * 0.3 * radius_px,
                        knee + a * 0.75 * u + n * 0.2 * radius_px], 1),
         max(0.8, 0.015 * u), 0.35, on)  # fmt: skip


def sole(
    image: Image,
    fig: Figure,
    heel: np.ndarray,
    toe: np.ndarray,
    radius_px: float,
    on: Part | None,
) -> None:
    """The sole's edge along the bottom of the shoe and a lace line over its top."""
    a = _unit(toe - heel)
    n = np.array([-a[1], a[0]])
    if n[1] < 0:  # n points down the picture: the sole is under the shoe
        n = -n
    factor = 0.55 if sum(fig.look.shoes) > 400 else 1.8  # dark shoes have light soles
    strokes(image, [[heel + n * radius_px * 0.75, toe + n * radius_px * 0.65]],
            max(1.0, 0.025 * fig.unit), factor, on)  # fmt: skip
    mid = heel + (toe - heel) * 0.55
    strokes(image, [[mid - n * radius_px * 0.5 - a * 0.02 * fig.unit,
                     mid - n * radius_px * 0.5 + a * 0.05 * fig.unit]],
            max(0.8, 0.015 * fig.unit), 1.35 if factor < 1 else 1.6, on)  # fmt: skip


def collar(image: Image, fig: Figure, neck: np.ndarray, color: BGR) -> None:
    """A crew collar: a ribbed band around the base of the neck, darker inside."""
    u, up = fig.unit, fig.up
    side = fig.square
    pts = smooth([neck - side * 0.1 * u + up * 0.05 * u, neck - up * 0.03 * u,
                  neck + side * 0.1 * u + up * 0.05 * u], 2)  # fmt: skip
    poly = [np.array([pt(p) for p in pts], np.int32)]
    cv2.polylines(image, poly, False, shade(color, 0.9), max(1, round(0.05 * u)), cv2.LINE_AA,
                  SHIFT)  # fmt: skip
    strokes(image, [pts + up * 0.025 * u], max(1.0, 0.02 * u), 0.6)
    strokes(image, [pts - up * 0.02 * u], max(0.8, 0.012 * u), 0.8)
