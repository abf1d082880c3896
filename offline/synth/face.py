"""The head of the procedural person: neck, skull and jaw, ears, face, hair.

Part of ``livedance synth`` (DESIGN.md's OFFLINE ``--synth--> dataset/`` step), called by
`offline.synth.figure.draw_person`. The head turns with the nose, eyes and ears of the pose:
the face (eyes with whites and irises, brows, a shaded nose, lips) slides towards the side the
nose points to and narrows, the hair covers more of the back of the head, and with one eye
hidden the head is seen in profile, the nose standing out from its outline. Seen from behind
(no nose) only hair and ears show.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from livedance.pose import KP
from offline.synth import clothes
from offline.synth.body import limb
from offline.synth.figure import Figure
from offline.synth.shading import (
    BGR,
    SHIFT,
    Box,
    Image,
    axes_px,
    ellipsoid,
    paint,
    pt,
    shade,
    smooth,
    smooth_max,
    strokes,
)

_FACE = ("nose", "r_eye", "l_eye", "r_ear", "l_ear")
_EYE_WHITE: BGR = (225, 232, 238)
_LASH: BGR = (35, 28, 28)


def neck(image: Image, fig: Figure) -> None:
    """The neck up to the head, in the jaw's shadow at the top, and the shirt's collar."""
    visible = [KP[n] for n in _FACE if fig.ok[KP[n]]]
    if not fig.has("neck") or not visible:
        return
    base, u = fig.at("neck"), fig.unit
    top = _center(fig, visible)
    limb(image, base + fig.up * 0.04 * u, base + (top - base) * 0.8, 0.095 * u, 0.085 * u,
         fig.look.skin, dim_end=0.7, warm=1.0)  # fmt: skip
    if fig.has("r_shoulder", "l_shoulder"):
        clothes.collar(image, fig, base, fig.look.shirt)


def head(image: Image, fig: Figure) -> None:
    """Skull and jaw, ears, face and hair, turned as the face keypoints say."""
    visible = [KP[n] for n in _FACE if fig.ok[KP[n]]]
    if not fig.has("neck") or not visible:
        return
    u, look, turn = fig.unit, fig.look, fig.turn
    center = _center(fig, visible)
    head_up = center - fig.at("neck")
    head_up /= max(float(np.hypot(*head_up)), 1e-6)
    side = np.array([-head_up[1], head_up[0]])  # towards image-right when upright
    roll = float(np.arctan2(side[1], side[0]))
    back = not fig.has("nose")
    skull_c = center + head_up * 0.03 * u - side * turn * 0.03 * u
    skull = (0.18 * u, 0.21 * u)
    box = Box.around(image, [skull_c], 0.3 * u)
    if box is None:
        return
    cover, height, hu, hv = ellipsoid(box, skull_c, skull, roll, 0.9)
    turned = _Turned(skull_c, side, float(np.arcsin(np.clip(turn, -1, 1))), skull[0], turn**2)
    if not back:
        jaw_c = center - head_up * 0.1 * u + side * turn * 0.06 * u
        jaw_axes = (0.135 * u * (1 - 0.1 * abs(turn)), 0.165 * u)
        c2, h2, _, _ = ellipsoid(box, jaw_c, jaw_axes, roll, 0.9)
        cover, height = np.maximum(cover, c2), smooth_max(height, h2, 0.08 * u)
        tip = turned.place(fig.at("nose"), 0.0, 1.06)
        c3, h3, _, _ = ellipsoid(box, tip, (0.026 * u, 0.038 * u), roll, 1.0)
        cover = np.maximum(cover, c3)
        height = smooth_max(height, h3 + 0.08 * u * abs(turn), 0.03 * u)
    paint(image, box, cover, height, look.skin, gloss=0.05, warm=1.0)
    if not back:  # the face is drawn, then kept to the head (a profile's lips stop at its edge)
        bare = box.view(image).astype(np.float32)
        _face(image, fig, turned, head_up)
        painted = box.view(image).astype(np.float32)
        box.view(image)[:] = (bare + (painted - bare) * cover[..., None]).astype(np.uint8)
    _hair(image, fig, box, skull_c, skull, roll, hu, hv, back)
    for ear in ("r_ear", "l_ear"):  # short hair leaves the ears out
        if fig.has(ear):
            _ear(image, fig, ear, turned)


@dataclass(frozen=True)
class _Turned:
    """Where a face feature sits on a head turned by ``yaw``: seen from the front, at its
    keypoint; towards profile, more and more where a feature at ``azimuth`` round a head of
    ``radius_px`` would be (the pose's face keypoints bunch up in profile, a face does not)."""

    center: np.ndarray
    side: np.ndarray
    yaw: float
    radius_px: float
    weight: float

    def place(self, p: np.ndarray, azimuth: float, depth: float = 1.0) -> np.ndarray:
        model = np.sin(self.yaw + azimuth) * self.radius_px * depth
        return p + self.side * (model - (p - self.center) @ self.side) * self.weight


def _center(fig: Figure, visible: list[int]) -> np.ndarray:
    return np.mean(fig.kp[visible], axis=0) + fig.up * 0.04 * fig.unit


def _ear(image: Image, fig: Figure, name: str, turned: _Turned) -> None:
    """An ear on the side of the head: at the edge from the front, mid-head in profile."""
    from offline.synth.body import blob

    u, side = fig.unit, turned.side
    # Which side of the head the ear is on: seen from behind the right ear is on the right.
    outward = float(np.sign((fig.at(name) - turned.center) @ side)) or (
        -1.0 if name == "r_ear" else 1.0
    )
    p = fig.at(name) + side * outward * 0.035 * u * (1 - abs(fig.turn))
    p = turned.place(p, outward * np.pi / 2, 0.95)
    roll = float(np.arctan2(side[1], side[0]))
    skin = fig.look.skin
    blob(image, p, (0.03 * u, 0.05 * u), roll, shade(skin, 0.93), depth=0.5)
    inner = p + side * outward * 0.008 * u
    strokes(image, [smooth([inner - fig.up * 0.03 * u, inner + side * outward * 0.012 * u,
                            inner + fig.up * 0.03 * u], 1)], max(0.8, 0.012 * u), 0.7)  # fmt: skip


def _face(image: Image, fig: Figure, turned: _Turned, head_up: np.ndarray) -> None:
    """Eyes, brows, nose shading and lips, narrowed by the turn."""
    u, look, turn, side = fig.unit, fig.look, fig.turn, turned.side
    narrow = 1.0 - 0.45 * abs(turn)
    roll_deg = float(np.degrees(np.arctan2(side[1], side[0])))
    eyes = [turned.place(fig.at(e), a, 0.9) for e, a in (("r_eye", -0.42), ("l_eye", 0.42))
            if fig.has(e)]  # fmt: skip
    for eye in eyes:
        c = eye - head_up * 0.005 * u
        cv2.ellipse(image, pt(c), axes_px(0.034 * u * narrow, 0.0135 * u), roll_deg, 0, 360,
                    _EYE_WHITE, -1, cv2.LINE_AA, SHIFT)  # fmt: skip
        iris = c + side * turn * 0.018 * u
        cv2.circle(image, pt(iris), max(1, round(0.015 * u * (1 << SHIFT))), look.iris, -1,
                   cv2.LINE_AA, SHIFT)  # fmt: skip
        cv2.circle(image, pt(iris), max(1, round(0.007 * u * (1 << SHIFT))), (15, 12, 12), -1,
                   cv2.LINE_AA, SHIFT)  # fmt: skip
        half = side * 0.036 * u * narrow
        lid = smooth([c - half, c + head_up * 0.014 * u, c + half], 2)
        strokes(image, [lid], max(0.9, 0.013 * u), 0.45)
        brow = c + head_up * 0.07 * u
        arch = smooth([brow - half * 1.15 - head_up * 0.008 * u, brow + head_up * 0.012 * u,
                       brow + half * 1.1], 1)  # fmt: skip
        strokes(image, [arch], max(0.8, 0.018 * u), 0.4)
        low = c - head_up * 0.03 * u
        strokes(image, [[low - half * 0.8, low + half * 0.8]], 0.7, 0.88)
    nose = turned.place(fig.at("nose"), 0.0, 1.05)
    bridge = (np.mean(eyes, axis=0) if eyes else nose + head_up * 0.05 * u) - head_up * 0.02 * u
    shadow_side = side * (0.018 * u)  # the key light is on the image-left
    strokes(image, [smooth([bridge + shadow_side, nose + shadow_side * 1.2 + head_up * 0.02 * u,
                            nose + shadow_side * 0.6 - head_up * 0.02 * u], 1)],
            max(0.9, 0.02 * u), 0.85)  # fmt: skip
    strokes(image, [[nose - head_up * 0.03 * u - side * 0.02 * u * narrow,
                     nose - head_up * 0.03 * u + side * 0.02 * u * narrow]],
            max(1.0, 0.015 * u), 0.75)  # fmt: skip
    strokes(image, [[nose - side * 0.01 * u, nose - side * 0.004 * u + head_up * 0.01 * u]],
            max(1.0, 0.015 * u), 1.3)  # fmt: skip
    mouth = nose - head_up * 0.085 * u + side * turn * 0.01 * u
    half = side * 0.045 * u * narrow
    lip = tuple(int(c) for c in np.array(look.skin) * 0.75 + np.array((70, 70, 150)) * 0.25)
    cv2.ellipse(image, pt(mouth - head_up * 0.012 * u), axes_px(0.035 * u * narrow, 0.014 * u),
                roll_deg, 0, 360, lip, -1, cv2.LINE_AA, SHIFT)  # fmt: skip
    strokes(image, [smooth([mouth - half, mouth + head_up * 0.006 * u, mouth + half], 1)],
            max(1.0, 0.016 * u), 0.6)  # fmt: skip
    strokes(image, [[mouth - head_up * 0.045 * u - half * 0.5,
                     mouth - head_up * 0.045 * u + half * 0.5]], 0.9, 0.85)  # fmt: skip


def _hair(
    image: Image,
    fig: Figure,
    box: Box,
    skull_c: np.ndarray,
    skull: tuple[float, float],
    roll: float,
    hu: np.ndarray,
    hv: np.ndarray,
    back: bool,
) -> None:
    """Hair with volume over the top and back of the skull, leaving the face; strands and a
    sheen drawn over it."""
    u, turn = fig.unit, fig.turn
    c, s = np.cos(roll), np.sin(roll)
    up_local = np.array([s, -c])  # the head's up in the image
    side = np.array([c, s])
    hair_c = skull_c + up_local * 0.04 * u - side * turn * 0.02 * u
    axes = (skull[0] * 1.14, skull[1] * 1.1)
    _, height, hu2, hv2 = ellipsoid(box, hair_c, axes, roll)
    # Tufts: the outline wavers round the head instead of being a smooth helmet.
    angle = np.arctan2(hv2, hu2)
    edge = 1.0 + 0.035 * np.sin(angle * 11.0) + 0.025 * np.sin(angle * 7.0 + 1.0)
    cover = np.clip((edge - np.sqrt(hu2 * hu2 + hv2 * hv2)) * min(axes) + 0.5, 0.0, 1.0)
    if back:
        keep = np.clip((0.95 - hv2) * 6.0, 0.0, 1.0)
    else:
        # The face oval: no hair over it; it slides the way the face turns.
        fu, fv = turn * 0.42, 0.32
        oval = ((hu2 - fu) / (0.74 - 0.22 * abs(turn))) ** 2 + ((hv2 - fv) / 0.84) ** 2
        keep = np.clip((oval - 1.0) * 5.0, 0.0, 1.0)
        keep *= np.clip((0.45 - hv2 + 1.2 * np.maximum(-hu2 * np.sign(turn), 0)) * 6, 0, 1)
    cover = cover * keep
    paint(image, box, cover, height + 0.15 * u, fig.look.hair, gloss=0.12)
    # Strands: curves from the crown (pushed back by the turn) out to the hair's edge.
    crown = hair_c + up_local * skull[1] * 0.9 - side * turn * skull[0] * 0.4
    lines = []
    for k in range(9):
        ang = np.pi * (0.1 + 0.8 * k / 8)
        out = side * np.cos(ang) * skull[0] * 1.05 - up_local * np.sin(ang) * skull[1] * 0.4
        end = hair_c + out + up_local * skull[1] * 0.1
        lines.append(smooth([crown, (crown + end) / 2 + out * 0.25, end], 1))
    strokes(image, lines, max(0.8, 0.012 * u), 0.6, (box, cover))
    sheen = [smooth([hair_c + up_local * skull[1] * 0.75 - side * skull[0] * 0.6,
                     hair_c + up_local * skull[1] * 0.95 - side * skull[0] * 0.1,
                     hair_c + up_local * skull[1] * 0.8 + side * skull[0] * 0.3], 1)]  # fmt: skip
    strokes(image, sheen, max(1.0, 0.025 * u), 1.35, (box, cover))
