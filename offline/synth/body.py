"""The clothed body of the procedural person: torso, hips, arms with hands, legs with shoes.

Part of ``livedance synth`` (DESIGN.md's OFFLINE ``--synth--> dataset/`` step), called by
`offline.synth.figure.draw_person`. The torso is an outline swept from the shoulders through
chest and waist to the hips, so it leans and twists with them; limbs are tapered capsules
with a muscle bulge; hands (palm, four fingers, thumb) and feet (shoe with heel and toe) are
extrapolated from the last bone, since COCO-18 has no keypoints for them. Everything is lit
by `offline.synth.shading`; folds and hems come from `offline.synth.clothes`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from offline.synth import clothes
from offline.synth.figure import Figure, across
from offline.synth.shading import (
    BGR,
    Box,
    Image,
    Part,
    capsule,
    ellipsoid,
    paint,
    poly_cover,
    smooth,
    smooth_max,
    strokes,
)


@dataclass(frozen=True)
class Bone:
    """One segment of a limb: a capsule from ``p0`` (radius ``r0``) to ``p1`` (``r1``),
    widened by ``bulge`` over ``bulge_at`` (see `capsule`)."""

    p0: np.ndarray
    p1: np.ndarray
    r0: float
    r1: float
    bulge: float = 0.0
    bulge_at: tuple[float, float] = (0.0, 1.0)
    open_start: bool = False


def bones(
    image: Image, chain: list[Bone], color: BGR, *, gloss: float = 0.0, warm: float = 0.0
) -> Part | None:
    """Paint bones of one material as one lit surface: no seam at the joints between them,
    only the fold the light finds where a bent joint's two halves meet."""
    points = [p for b in chain for p in (b.p0, b.p1)]
    margin = max(max(b.r0, b.r1) * (1.0 + b.bulge) for b in chain) + 1.0
    box = Box.around(image, points, margin)
    if box is None:
        return None
    cover = height = None
    for b in chain:
        c, h, _ = capsule(box, b.p0, b.p1, b.r0, b.r1, bulge=b.bulge, bulge_at=b.bulge_at,
                          open_start=b.open_start)  # fmt: skip
        if cover is None or height is None:
            cover, height = c, h
        else:
            cover = np.maximum(cover, c)
            height = smooth_max(height, h, 0.3 * min(b.r0, b.r1))
    assert cover is not None and height is not None
    paint(image, box, cover, height, color, gloss=gloss, warm=warm)
    return box, cover


def limb(
    image: Image,
    p0: np.ndarray,
    p1: np.ndarray,
    r0: float,
    r1: float,
    color: BGR,
    *,
    bulge: float = 0.0,
    bulge_at: tuple[float, float] = (0.0, 1.0),
    gloss: float = 0.0,
    dim_end: float = 1.0,
    open_start: bool = False,
    warm: float = 0.0,
) -> Part | None:
    """Paint a lit, tapered limb; ``dim_end`` darkens it towards ``p1`` (a shadowed end)."""
    box = Box.around(image, [p0, p1], max(r0, r1) * (1.0 + bulge) + 1.0)
    if box is None:
        return None
    cover, height, along = capsule(box, p0, p1, r0, r1, bulge=bulge, bulge_at=bulge_at,
                                   open_start=open_start)  # fmt: skip
    tone = 1.0 + (dim_end - 1.0) * along if dim_end != 1.0 else 1.0
    paint(image, box, cover, height, color, tone=tone, gloss=gloss, warm=warm)
    return box, cover


def blob(
    image: Image,
    center: np.ndarray,
    axes: tuple[float, float],
    angle_rad: float,
    color: BGR,
    *,
    depth: float = 1.0,
    gloss: float = 0.0,
) -> None:
    """Paint a lit ellipsoid."""
    box = Box.around(image, [center], max(axes) + 1.0)
    if box is None:
        return
    cover, height, _, _ = ellipsoid(box, center, axes, angle_rad, depth)
    paint(image, box, cover, height, color, gloss=gloss)


def shell(
    image: Image,
    right: np.ndarray,
    left: np.ndarray,
    color: BGR,
    depth: float,
    *,
    drape: float = 0.0,
    chest: float = 0.0,
) -> Part | None:
    """Paint a lit trunk between two edges (top to bottom), round across like a flattened
    cylinder whose width follows the edges.

    ``drape`` adds soft folds running down the cloth, ``chest`` a rounder upper third; both
    are shapes of the surface, so the light shades them and they move with the body.
    """
    outline = np.vstack([right, left[::-1]])
    box = Box.around(image, outline, 1.0)
    if box is None:
        return None
    cover = poly_cover(box, outline)
    top = (right[0] + left[0]) / 2
    down = (right[-1] + left[-1]) / 2 - top
    length = max(float(np.hypot(*down)), 1e-3)
    down /= length
    side = np.array([-down[1], down[0]])

    def frame(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rel = p - top
        return np.maximum.accumulate(rel @ down), rel @ side

    t_r, s_r = frame(right)
    t_l, s_l = frame(left)
    t = (box.xs - top[0]) * down[0] + (box.ys - top[1]) * down[1]
    s = (box.xs - top[0]) * side[0] + (box.ys - top[1]) * side[1]
    edge_r = np.interp(t, t_r, s_r).astype(np.float32)
    edge_l = np.interp(t, t_l, s_l).astype(np.float32)
    half = np.maximum(np.abs(edge_l - edge_r) / 2, 1.0)
    u = np.clip((s - (edge_l + edge_r) / 2) / half, -1.0, 1.0)
    height = half * np.sqrt(1.0 - u * u) * depth
    along = t / length
    if drape:
        height = height + drape * 0.08 * half * np.cos(u * 6.5 + along * 2.0) * (0.3 + along)
    if chest:
        height = height + chest * 0.12 * half * np.exp(-(((along - 0.28) / 0.16) ** 2))
    paint(image, box, cover, height.astype(np.float32), color)
    return box, cover


# -- trunk ------------------------------------------------------------------------------------


def torso(image: Image, fig: Figure) -> None:
    """The shirt over the chest and belly: shoulders, chest, waist, hips, with folds and hem."""
    if not fig.has("r_shoulder", "l_shoulder"):
        return
    u, up = fig.unit, fig.up
    rs, ls = fig.at("r_shoulder"), fig.at("l_shoulder")
    span = float(np.linalg.norm(ls - rs))
    side = across(rs, ls, up)
    depth = max(0.0, 0.35 * u - span) * 0.5  # a turned body keeps some width
    if fig.has("r_hip", "l_hip"):
        rh, lh = fig.at("r_hip"), fig.at("l_hip")
    else:
        mid = (rs + ls) / 2 - up * u
        rh, lh = mid - side * 0.25 * span, mid + side * 0.25 * span
    hip_span = float(np.linalg.norm(lh - rh))
    hip_side = across(rh, lh, up)
    hip_out = 0.07 * u + max(0.0, 0.3 * u - hip_span) * 0.5
    neck = fig.at("neck") if fig.has("neck") else (rs + ls) / 2

    def edge(sh: np.ndarray, hp: np.ndarray, sign: float) -> np.ndarray:
        out_s, out_h = side * sign, hip_side * sign
        return smooth([
            neck + out_s * 0.07 * u + up * 0.05 * u,
            sh + out_s * depth * 0.3 + up * 0.035 * u,
            sh + out_s * (0.065 * u + depth * 0.8) + up * 0.005 * u,
            sh + out_s * (0.095 * u + depth) - up * 0.06 * u,
            sh + (hp - sh) * 0.3 + out_s * (0.06 * u + depth * 0.8),
            sh + (hp - sh) * 0.62 + out_h * (0.015 * u + depth * 0.6),
            hp + out_h * hip_out,
            hp + out_h * hip_out * 1.05 - up * 0.1 * u,
        ], rounds=2)  # fmt: skip

    right, left = edge(rs, rh, -1.0), edge(ls, lh, 1.0)
    hem_mid = (right[-1] + left[-1]) / 2 - up * 0.015 * u
    part = shell(image, np.vstack([right, hem_mid]), np.vstack([left, hem_mid]), fig.look.shirt,
                 0.55, drape=1.0, chest=0.0 if fig.from_behind else 1.0)  # fmt: skip
    if part is not None:
        clothes.shirt_folds(image, fig, right, left, part)


def pelvis(image: Image, fig: Figure) -> None:
    """The trousers' seat and crotch, over the tops of the thighs."""
    if not fig.has("r_hip", "l_hip"):
        return
    u, up = fig.unit, fig.up
    rh, lh = fig.at("r_hip"), fig.at("l_hip")
    side = across(rh, lh, up)
    out = side * (0.07 * u + max(0.0, 0.3 * u - float(np.linalg.norm(lh - rh))) * 0.5)
    low_r = rh + (fig.at("r_knee") - rh) * 0.28 if fig.has("r_knee") else rh - up * 0.12 * u
    low_l = lh + (fig.at("l_knee") - lh) * 0.28 if fig.has("l_knee") else lh - up * 0.12 * u
    crotch = (rh + lh) / 2 - up * 0.13 * u
    right = np.array([rh - out + up * 0.14 * u, rh - out * 1.1, low_r - out * 0.8, crotch])
    left = np.array([lh + out + up * 0.14 * u, lh + out * 1.1, low_l + out * 0.8, crotch])
    shell(image, smooth(right, 1), smooth(left, 1), fig.look.trousers, 0.5, drape=0.6)


# -- limbs ------------------------------------------------------------------------------------


def arm(image: Image, fig: Figure, side: str) -> None:
    """Hand, forearm (skin or sleeve) and upper arm (sleeve), with creases at the elbow."""
    u, look = fig.unit, fig.look
    sh, el, wr = f"{side}_shoulder", f"{side}_elbow", f"{side}_wrist"
    if fig.has(el, wr):
        hand(image, fig, side)
    chain = []
    sleeve = look.long_sleeves
    if fig.has(el, wr):
        r = (0.085, 0.07, 0.05) if sleeve else (0.07, 0.05, 0.16)
        end = fig.at(wr)
        if sleeve:  # the cuff's round end stops at the wrist, the hand comes out of it
            end = end + (fig.at(el) - end) * min(0.5, 0.05 * u / _length(fig.at(el) - end))
        chain.append(Bone(fig.at(el), end, r[0] * u, r[1] * u, r[2], (0.0, 0.6)))
    if fig.has(sh, el):
        r = (0.09, 0.08, 0.06) if sleeve else (0.085, 0.068, 0.14)
        chain.append(Bone(fig.at(sh), fig.at(el), r[0] * u, r[1] * u, r[2], (0.1, 0.7), True))
    if not chain:
        return
    if sleeve:
        arm_part = bones(image, chain, look.shirt)
    else:
        arm_part = bones(image, chain, look.skin, gloss=0.06, warm=1.0)
    if sleeve and fig.has(el, wr):
        clothes.cuff(image, fig, fig.at(el), fig.at(wr), 0.07 * u, arm_part)
    if fig.has(sh, el, wr):
        clothes.crease(image, fig.at(sh), fig.at(el), fig.at(wr), 0.07 * u, arm_part)
    if not sleeve and fig.has(sh, el):
        clothes.short_sleeve(image, fig, fig.at(sh), fig.at(el))


def leg(image: Image, fig: Figure, side: str) -> None:
    """Shoe, shin and thigh in trousers, with creases behind the knee and folds at the hem."""
    u, look = fig.unit, fig.look
    hp, kn, an = f"{side}_hip", f"{side}_knee", f"{side}_ankle"
    if fig.has(an):
        foot(image, fig, side)
    chain = []
    if fig.has(kn, an):
        chain.append(Bone(fig.at(kn), fig.at(an), 0.12 * u, 0.105 * u, 0.07, (0.0, 0.6)))
    if fig.has(hp, kn):
        chain.append(Bone(fig.at(hp), fig.at(kn), 0.17 * u, 0.125 * u, 0.06, (0.0, 0.6)))
    if not chain:
        return
    part = bones(image, chain, look.trousers)
    if fig.has(kn, an):
        clothes.trouser_folds(image, fig, fig.at(kn), fig.at(an), 0.105 * u, part)
    if fig.has(hp, kn, an):
        clothes.crease(image, fig.at(hp), fig.at(kn), fig.at(an), 0.12 * u, part)


def _length(v: np.ndarray) -> float:
    return max(float(np.hypot(*v)), 1e-6)


# -- hands and feet ---------------------------------------------------------------------------


def hand(image: Image, fig: Figure, side: str) -> None:
    """A palm, four fingers and a thumb, on along the forearm from the wrist.

    The thumb is on the outer side of a hand held palm-forward (the right hand's thumb on
    the image-left of a downward forearm), mirrored when seen from behind.
    """
    u, skin = fig.unit, fig.look.skin
    wrist, elbow = fig.at(f"{side}_wrist"), fig.at(f"{side}_elbow")
    d = wrist - elbow
    length = float(np.hypot(*d))
    if length < 1e-3:
        return
    a = d / length
    n = np.array([-a[1], a[0]])
    thumb_side = (1.0 if side == "r" else -1.0) * (-1.0 if fig.from_behind else 1.0)
    knuckles = wrist + a * 0.16 * u
    # One surface: palm, thumb and fingers, so the light finds the clefts between them.
    chain = [Bone(wrist + a * 0.02 * u, knuckles - a * 0.02 * u, 0.05 * u, 0.06 * u)]
    base = wrist + a * 0.05 * u + n * thumb_side * 0.035 * u
    mid = base + (a * 0.55 + n * thumb_side * 0.75) * 0.06 * u
    thumb_tip = mid + (a * 0.9 + n * thumb_side * 0.3) * 0.05 * u
    chain += [Bone(base, mid, 0.024 * u, 0.02 * u), Bone(mid, thumb_tip, 0.02 * u, 0.015 * u)]
    clefts = []
    for i, offset in enumerate((-1.5, -0.5, 0.5, 1.5)):
        root = knuckles + n * offset * 0.03 * u
        spread = a + n * offset * 0.1
        spread /= np.linalg.norm(spread)
        length_f = (0.085, 0.1, 0.095, 0.075)[i if thumb_side > 0 else 3 - i] * u
        joint = root + spread * length_f * 0.55
        tip = joint + (spread * 0.9 - n * 0.03 * offset) * length_f * 0.45
        chain += [Bone(root - a * 0.02 * u, joint, 0.018 * u, 0.016 * u),
                  Bone(joint, tip, 0.016 * u, 0.013 * u)]  # fmt: skip
        if i:
            cleft = knuckles + n * (offset - 0.5) * 0.03 * u
            clefts.append([cleft - a * 0.01 * u, cleft + spread * length_f * 0.6])
    part = bones(image, chain, skin, gloss=0.05, warm=1.0)
    if part is not None:
        strokes(image, clefts, 0.8, 0.7, part)


def foot(image: Image, fig: Figure, side: str) -> None:
    """A shoe under the ankle: heel behind, toe pointing where the face looks (outwards,
    foreshortened, when the person faces us)."""
    u, look = fig.unit, fig.look
    ankle = fig.at(f"{side}_ankle")
    other = fig.at("l_ankle" if side == "r" else "r_ankle")
    mid_x = (ankle[0] + other[0]) / 2 if fig.has("r_ankle", "l_ankle") else ankle[0]
    outward = float(np.sign(ankle[0] - mid_x)) or (1.0 if side == "l" else -1.0)
    turn = fig.turn
    toe_dx = 0.16 * outward * (1 - abs(turn)) + 0.3 * turn
    toe_dy = 0.07 * (1 - abs(turn))  # toes towards the camera sit lower in the picture
    down = -fig.up if fig.up[1] < 0 else np.array([0.0, 1.0])
    heel = ankle + down * 0.075 * u - np.array([np.sign(toe_dx) * 0.04 * u, 0.0])
    toe = ankle + down * 0.085 * u + np.array([toe_dx * u, toe_dy * u])
    shoe = limb(image, heel, toe, 0.065 * u, 0.055 * u, look.shoes, gloss=0.12)
    limb(image, ankle + down * 0.03 * u, (heel + toe) / 2, 0.06 * u, 0.055 * u, look.shoes,
         gloss=0.12)  # fmt: skip
    clothes.sole(image, fig, heel, toe, 0.05 * u, shoe)
