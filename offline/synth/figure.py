"""Draw a procedural person for a COCO-18 pose: the "real frame" of a synthetic training pair.

Part of ``livedance synth`` (the OFFLINE ``--synth--> dataset/`` alternative to ``prepare`` in
DESIGN.md's data flow): where ``prepare`` cuts real video frames, this paints a clothed figure
(hair, face hints, shirt, trousers, shoes, shading) over a wall-and-floor background with
OpenCV, anti-aliased, so a generator can be trained with no video at all. One `Appearance` per
dataset: the generator learns one person.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from livedance.pose import KP

BGR = tuple[int, int, int]
Image = npt.NDArray[np.uint8]
_SHIFT = 4  # sub-pixel bits for OpenCV drawing
_ONE = 1 << _SHIFT

_SKINS: tuple[BGR, ...] = ((170, 200, 240), (140, 180, 225), (110, 150, 200), (80, 110, 160))
_HAIRS: tuple[BGR, ...] = ((30, 30, 35), (25, 50, 90), (60, 110, 170), (40, 40, 60))
_SHIRTS: tuple[BGR, ...] = (
    (60, 60, 200), (180, 110, 40), (60, 160, 60), (40, 170, 230), (150, 60, 140), (235, 235, 235),
)  # fmt: skip
_TROUSERS: tuple[BGR, ...] = ((110, 70, 40), (50, 50, 55), (140, 150, 160), (60, 80, 100))
_SHOES: tuple[BGR, ...] = ((30, 30, 30), (235, 235, 235), (40, 40, 120))
_WALLS: tuple[BGR, ...] = ((200, 205, 210), (170, 190, 205), (205, 195, 180), (185, 200, 190))
_FLOORS: tuple[BGR, ...] = ((90, 110, 140), (120, 120, 120), (70, 90, 110))


@dataclass(frozen=True)
class Appearance:
    """The colours of one synthetic person and their room (BGR).

    Attributes:
        skin, hair, shirt, trousers, shoes: the person.
        wall, floor: the background.
        long_sleeves: sleeves down to the wrists, or a T-shirt that shows the forearms.
    """

    skin: BGR
    hair: BGR
    shirt: BGR
    trousers: BGR
    shoes: BGR
    wall: BGR
    floor: BGR
    long_sleeves: bool

    @classmethod
    def from_seed(cls, seed: int) -> Appearance:
        """A deterministic appearance for ``seed``; the shirt always stands out from the wall."""
        rng = np.random.default_rng([seed, 0x5EED])

        def pick(options: tuple[BGR, ...]) -> BGR:
            return options[int(rng.integers(len(options)))]

        wall = pick(_WALLS)
        shirt = pick(_SHIRTS)
        while sum(abs(a - b) for a, b in zip(shirt, wall, strict=True)) < 120:
            shirt = pick(_SHIRTS)
        return cls(
            skin=pick(_SKINS),
            hair=pick(_HAIRS),
            shirt=shirt,
            trousers=pick(_TROUSERS),
            shoes=pick(_SHOES),
            wall=wall,
            floor=pick(_FLOORS),
            long_sleeves=bool(rng.integers(2)),
        )


def shade(color: BGR, factor: float) -> BGR:
    """Return ``color`` darker (factor < 1) or lighter (> 1), clipped to 0..255."""
    if factor <= 1.0:
        return tuple(int(c * factor) for c in color)  # type: ignore[return-value]
    return tuple(int(c + (255 - c) * (factor - 1.0)) for c in color)  # type: ignore[return-value]


def draw_person(
    image: Image, keypoints_px: npt.NDArray[np.float64], appearance: Appearance
) -> Image:
    """Paint one person over ``image`` (in place) for a COCO-18 pose in pixels.

    Missing joints are NaN; every part whose joints are missing is left out. Parts are drawn
    back to front: the far arm and leg (judged from where the face looks) behind the torso,
    the near ones in front; seen from behind (no face) both arms go behind the torso.

    Args:
        image: BGR frame, normally from `background`.
        keypoints_px: ``(18, 2)`` x, y in pixels, NaN where missing.
        appearance: colours.

    Returns:
        ``image``.
    """
    kp = np.asarray(keypoints_px, np.float64)
    ok = np.isfinite(kp).all(axis=1)
    unit = _torso_px(kp, ok, image.shape[0])
    far = _far_side(kp, ok)
    _shadow(image, kp, ok, unit)
    sides = ("l", "r") if far == "l" else ("r", "l")
    # Seen from behind (ears but no face) the arms are in front of the body, hidden by it;
    # turned, the far arm is; square on, both arms are in front of the torso.
    from_behind = not ok[KP["nose"]] and (ok[KP["r_ear"]] or ok[KP["l_ear"]])
    if from_behind:
        behind, in_front = sides, ()
    elif far is None:
        behind, in_front = (), sides
    else:
        behind, in_front = sides[:1], sides[1:]
    for side in behind:
        _arm(image, kp, ok, side, unit, appearance)
    for side in sides:
        _leg(image, kp, ok, side, unit, appearance)
    _pelvis(image, kp, ok, unit, appearance)
    _torso(image, kp, ok, unit, appearance)
    _head(image, kp, ok, unit, appearance)
    for side in in_front:
        _arm(image, kp, ok, side, unit, appearance)
    return image


# -- parts ------------------------------------------------------------------------------------


def _arm(image: Image, kp: np.ndarray, ok: np.ndarray, side: str, unit: float, a: Appearance):
    sh, el, wr = KP[f"{side}_shoulder"], KP[f"{side}_elbow"], KP[f"{side}_wrist"]
    if ok[sh] and ok[el]:
        _limb(image, kp[sh], kp[el], 0.11 * unit, 0.075 * unit, a.shirt)
    if ok[el] and ok[wr]:
        color = a.shirt if a.long_sleeves else a.skin
        _limb(image, kp[el], kp[wr], 0.07 * unit, 0.05 * unit, color)
    if ok[wr]:
        hand = kp[wr] + (kp[wr] - kp[el]) * 0.18 if ok[el] else kp[wr]
        _ball(image, hand, 0.065 * unit, a.skin)


def _leg(image: Image, kp: np.ndarray, ok: np.ndarray, side: str, unit: float, a: Appearance):
    hp, kn, an = KP[f"{side}_hip"], KP[f"{side}_knee"], KP[f"{side}_ankle"]
    if ok[hp] and ok[kn]:
        _limb(image, kp[hp], kp[kn], 0.17 * unit, 0.115 * unit, a.trousers)
    if ok[kn] and ok[an]:
        _limb(image, kp[kn], kp[an], 0.115 * unit, 0.085 * unit, a.trousers)
    if ok[an]:
        _shoe(image, kp, ok, an, unit, a)


def _shoe(image: Image, kp: np.ndarray, ok: np.ndarray, ankle: int, unit: float, a: Appearance):
    """A shoe under the ankle pointing where the face looks (outwards when facing us)."""
    turn = _turn(kp, ok)
    mid_x = np.nanmean([kp[KP["r_ankle"], 0], kp[KP["l_ankle"], 0]])
    outward = float(np.sign(kp[ankle, 0] - mid_x)) if np.isfinite(mid_x) else 0.0
    toe_dx = (0.06 * outward * (1 - abs(turn)) + 0.12 * turn) * unit
    center = kp[ankle] + np.array([toe_dx, 0.06 * unit])
    axes = (0.13 * unit + abs(toe_dx) * 0.5, 0.06 * unit)
    _ellipse(image, center, axes, 0.0, a.shoes)
    sole = center + np.array([0.0, 0.035 * unit])
    _ellipse(image, sole, (axes[0] * 0.95, 0.02 * unit), 0.0, shade(a.shoes, 0.6))


def _pelvis(image: Image, kp: np.ndarray, ok: np.ndarray, unit: float, a: Appearance):
    rh, lh, rk, lk = KP["r_hip"], KP["l_hip"], KP["r_knee"], KP["l_knee"]
    if not (ok[rh] and ok[lh]):
        return
    out = _across(kp[rh], kp[lh], _up(kp, ok)) * 0.08 * unit
    up = _up(kp, ok) * 0.12 * unit
    low_r = kp[rh] + (kp[rk] - kp[rh]) * 0.3 if ok[rk] else kp[rh] - up
    low_l = kp[lh] + (kp[lk] - kp[lh]) * 0.3 if ok[lk] else kp[lh] - up
    crotch = (kp[rh] + kp[lh]) / 2 - up * 1.2
    poly = [kp[rh] - out + up, kp[lh] + out + up, low_l + out * 0.5, crotch, low_r - out * 0.5]
    _poly(image, poly, a.trousers)


def _torso(image: Image, kp: np.ndarray, ok: np.ndarray, unit: float, a: Appearance):
    rs, ls, rh, lh = KP["r_shoulder"], KP["l_shoulder"], KP["r_hip"], KP["l_hip"]
    if not (ok[rs] and ok[ls]):
        return
    up = _up(kp, ok)
    span = float(np.linalg.norm(kp[ls] - kp[rs]))
    side = _across(kp[rs], kp[ls], up)
    # Narrow shoulders mean the body is turned: keep some depth so it never becomes a line.
    depth = max(0.0, 0.35 * unit - span) * 0.5
    sh_out = side * (0.07 * unit + depth)
    if ok[rh] and ok[lh]:
        hip_r, hip_l = kp[rh], kp[lh]
    else:
        mid = (kp[rs] + kp[ls]) / 2 - up * unit
        hip_r, hip_l = mid - side * 0.25 * span, mid + side * 0.25 * span
    hip_span = max(np.linalg.norm(hip_l - hip_r), 1e-6)
    hip_out = side * (0.06 * unit + max(0.0, 0.3 * unit - hip_span) * 0.5)
    hem = -up * 0.08 * unit
    poly = [
        kp[rs] - sh_out + up * 0.02 * unit,
        kp[rs] - sh_out * 0.3 + up * 0.08 * unit,
        kp[ls] + sh_out * 0.3 + up * 0.08 * unit,
        kp[ls] + sh_out + up * 0.02 * unit,
        (kp[ls] + hip_l) / 2 + hip_out * 1.3,
        hip_l + hip_out + hem,
        hip_r - hip_out + hem,
        (kp[rs] + hip_r) / 2 - hip_out * 1.3,
    ]
    _poly(image, poly, shade(a.shirt, 0.7))
    center = np.mean(poly, axis=0)
    _poly(image, [center + (p - center) * 0.88 for p in poly], a.shirt)
    _poly(image, [center + (p - center) * 0.55 + up * 0.05 * unit for p in poly],
          shade(a.shirt, 1.06))  # fmt: skip
    hem_line = [hip_r - hip_out + hem, hip_l + hip_out + hem]
    cv2.line(image, _pt(hem_line[0]), _pt(hem_line[1]), shade(a.shirt, 0.55),
             max(1, round(0.025 * unit)), cv2.LINE_AA, _SHIFT)  # fmt: skip


def _head(image: Image, kp: np.ndarray, ok: np.ndarray, unit: float, a: Appearance):
    neck, nose = KP["neck"], KP["nose"]
    face = [KP[n] for n in ("nose", "r_eye", "l_eye", "r_ear", "l_ear")]
    visible = [k for k in face if ok[k]]
    if not ok[neck] or not visible:
        return
    up = _up(kp, ok)
    anchor = np.mean(kp[visible], axis=0)
    center = anchor + up * 0.04 * unit
    head_up = center - kp[neck]
    head_up /= max(np.linalg.norm(head_up), 1e-6)
    roll_deg = math.degrees(math.atan2(head_up[0], -head_up[1]))
    _limb(image, kp[neck], center, 0.085 * unit, 0.075 * unit, a.skin)
    if ok[KP["r_shoulder"]] and ok[KP["l_shoulder"]]:  # the collar sits over the neck's base
        _ellipse(image, kp[neck] + up * 0.02 * unit, (0.12 * unit, 0.045 * unit),
                 roll_deg, shade(a.shirt, 0.8))  # fmt: skip
    axes = (0.175 * unit, 0.215 * unit)
    back = not ok[nose]
    turn = _turn(kp, ok)
    if back:
        _ellipse(image, center, axes, roll_deg, a.hair)
        return
    _ellipse(image, center, axes, roll_deg, shade(a.skin, 0.85))
    _ellipse(image, center, (axes[0] * 0.85, axes[1] * 0.9), roll_deg, a.skin)
    # Hair: the top half of a slightly larger ellipse, pushed to the back of a turned head.
    hair_center = center + head_up * 0.04 * unit + np.array([-turn * 0.05 * unit, 0.0])
    cv2.ellipse(image, _pt(hair_center), _axes(axes[0] * 1.12, axes[1] * 1.08),
                roll_deg, 180 - 25 * turn, 360 - 25 * turn + 15 * abs(turn), a.hair, -1,
                cv2.LINE_AA, _SHIFT)  # fmt: skip
    for eye in (KP["r_eye"], KP["l_eye"]):
        if ok[eye]:
            _ball(image, kp[eye] - head_up * 0.01 * unit, max(0.022 * unit, 0.7), (40, 30, 30))
    mouth = kp[nose] - head_up * 0.07 * unit
    half = np.array([head_up[1], -head_up[0]]) * 0.035 * unit
    cv2.line(image, _pt(mouth - half), _pt(mouth + half), shade(a.skin, 0.6),
             max(1, round(0.015 * unit)), cv2.LINE_AA, _SHIFT)  # fmt: skip


def _shadow(image: Image, kp: np.ndarray, ok: np.ndarray, unit: float) -> None:
    ankles = [kp[k] for k in (KP["r_ankle"], KP["l_ankle"]) if ok[k]]
    if not ankles:
        return
    feet = np.array(ankles)
    center = np.array([feet[:, 0].mean(), feet[:, 1].max() + 0.1 * unit])
    half_w = (np.ptp(feet[:, 0]) / 2 + 0.3 * unit) if len(feet) > 1 else 0.3 * unit
    x0, x1 = int(center[0] - half_w - 2), int(center[0] + half_w + 3)
    y0, y1 = int(center[1] - 0.06 * unit - 2), int(center[1] + 0.06 * unit + 3)
    x0, y0 = max(x0, 0), max(y0, 0)
    x1, y1 = min(x1, image.shape[1]), min(y1, image.shape[0])
    if x1 <= x0 or y1 <= y0:
        return
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.ellipse(mask, _pt(center - (x0, y0)), _axes(half_w, 0.06 * unit), 0, 0, 360, 255, -1,
                cv2.LINE_AA, _SHIFT)  # fmt: skip
    mask = cv2.GaussianBlur(mask, (0, 0), max(1.0, 0.03 * unit))
    patch = image[y0:y1, x0:x1].astype(np.float32)
    patch *= 1.0 - 0.45 * (mask[..., None] / 255.0)
    image[y0:y1, x0:x1] = patch.astype(np.uint8)


# -- geometry helpers -------------------------------------------------------------------------


def _torso_px(kp: np.ndarray, ok: np.ndarray, height_px: int) -> float:
    """Neck to hip midpoint in pixels: the scale every part is sized by."""
    hips = [kp[k] for k in (KP["r_hip"], KP["l_hip"]) if ok[k]]
    if ok[KP["neck"]] and hips:
        return max(float(np.linalg.norm(kp[KP["neck"]] - np.mean(hips, axis=0))), 4.0)
    return 0.25 * height_px


def _up(kp: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Unit vector from the hips to the neck (image coordinates, so usually y < 0)."""
    hips = [kp[k] for k in (KP["r_hip"], KP["l_hip"]) if ok[k]]
    if ok[KP["neck"]] and hips:
        v = kp[KP["neck"]] - np.mean(hips, axis=0)
        n = np.linalg.norm(v)
        if n > 1e-6:
            return v / n
    return np.array([0.0, -1.0])


def _across(right: np.ndarray, left: np.ndarray, up: np.ndarray) -> np.ndarray:
    """Unit vector across the body from its right joint to its left one; square to ``up`` when
    the two coincide (seen in profile), pointing the way the joints are still apart."""
    square = np.array([-up[1], up[0]])  # image-right when upright
    d = left - right
    n = float(np.linalg.norm(d))
    if n >= 1.0:
        return d / n
    return square if d @ square >= 0 else -square


def _turn(kp: np.ndarray, ok: np.ndarray) -> float:
    """How far the face looks towards image-right (-1..1), from the nose against the ears."""
    nose, r_ear, l_ear = KP["nose"], KP["r_ear"], KP["l_ear"]
    if not ok[nose]:
        return 0.0
    if ok[r_ear] and ok[l_ear]:
        width = abs(kp[l_ear, 0] - kp[r_ear, 0]) + 1e-6
        return float(np.clip((kp[nose, 0] - (kp[r_ear, 0] + kp[l_ear, 0]) / 2) / width * 2, -1, 1))
    if ok[r_ear] or ok[l_ear]:
        ear = kp[r_ear] if ok[r_ear] else kp[l_ear]
        return float(np.sign(kp[nose, 0] - ear[0]))
    return 0.0


def _far_side(kp: np.ndarray, ok: np.ndarray) -> str | None:
    """Which side of the body (``"l"``/``"r"``) is away from the camera, or None when square on.

    Turning the face towards image-right turns the body's left side away (also from behind).
    """
    r_ear, l_ear = KP["r_ear"], KP["l_ear"]
    if ok[r_ear] != ok[l_ear]:  # one ear hidden behind the head: that side is far
        return "l" if ok[r_ear] else "r"
    turn = _turn(kp, ok)
    if abs(turn) < 0.15:
        return None
    return "l" if turn > 0 else "r"


def _pt(p: npt.ArrayLike) -> tuple[int, int]:
    x, y = np.asarray(p, np.float64)[:2]
    return round(x * _ONE), round(y * _ONE)


def _axes(ax: float, ay: float) -> tuple[int, int]:
    return max(1, round(ax * _ONE)), max(1, round(ay * _ONE))


def _poly(image: Image, points: list[np.ndarray], color: BGR) -> None:
    pts = np.round(np.asarray(points, np.float64) * _ONE).astype(np.int32)
    cv2.fillPoly(image, [pts], color, cv2.LINE_AA, _SHIFT)


def _ball(image: Image, center: np.ndarray, radius: float, color: BGR) -> None:
    cv2.circle(image, _pt(center), max(1, round(radius * _ONE)), color, -1, cv2.LINE_AA,
               _SHIFT)  # fmt: skip


def _ellipse(image: Image, center: np.ndarray, axes: tuple[float, float], angle_deg: float,
             color: BGR) -> None:  # fmt: skip
    cv2.ellipse(image, _pt(center), _axes(*axes), angle_deg, 0, 360, color, -1, cv2.LINE_AA,
                _SHIFT)  # fmt: skip


def _limb(image: Image, p0: np.ndarray, p1: np.ndarray, r0: float, r1: float, color: BGR) -> None:
    """A tapered limb (rounded ends) shaded darker at the edges, lighter along the middle."""
    _capsule(image, p0, p1, r0, r1, shade(color, 0.7))
    _capsule(image, p0, p1, r0 * 0.78, r1 * 0.78, color)
    _capsule(image, p0, p1, r0 * 0.3, r1 * 0.3, shade(color, 1.12))


def _capsule(image: Image, p0: np.ndarray, p1: np.ndarray, r0: float, r1: float, color: BGR):
    d = p1 - p0
    n = np.linalg.norm(d)
    if n > 1e-6:
        normal = np.array([-d[1], d[0]]) / n
        _poly(image, [p0 + normal * r0, p1 + normal * r1, p1 - normal * r1, p0 - normal * r0],
              color)  # fmt: skip
    _ball(image, p0, r0, color)
    _ball(image, p1, r1, color)
