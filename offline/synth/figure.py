"""Draw a procedural person for a COCO-18 pose: the "real frame" of a synthetic training pair.

Part of ``livedance synth`` (the OFFLINE ``--synth--> dataset/`` alternative to ``prepare`` in
DESIGN.md's data flow): where ``prepare`` cuts real video frames, this paints a clothed, lit
person over the room (`offline.synth.room`), so a generator can be trained with no video at
all. This module reads the pose (scale, which way the body and face turn, which side is far)
and paints the parts back to front: `offline.synth.body` (torso, limbs, hands, feet),
`offline.synth.face` (neck, head, face, hair), `offline.synth.clothes` (folds, creases,
collar, hems), all with the brush of `offline.synth.shading`. One `Appearance` per dataset:
the generator learns one person.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from livedance.body import DEFAULT_BODY
from livedance.pose import KP
from offline.synth.appearance import Appearance
from offline.synth.shading import LIGHT, Box, Image

_EYE_HALF = DEFAULT_BODY.eye_dx / DEFAULT_BODY.torso  # nose to eye, facing us, in torsos
_EAR_HALF = DEFAULT_BODY.ear_dx / DEFAULT_BODY.torso
_ARM = ("shoulder", "elbow", "wrist")


@dataclass(frozen=True)
class Figure:
    """One pose read for painting.

    Attributes:
        kp: ``(18, 2)`` keypoints in pixels (NaN where missing).
        ok: ``(18,)`` which keypoints are there.
        unit: neck to hip midpoint in pixels: every part is sized by it.
        up: unit vector from the hips to the neck (image coordinates).
        turn: how far the face looks towards image-right, -1..1.
        from_behind: the person shows their back (ears but no face).
        look: the person's colours.
    """

    kp: np.ndarray
    ok: np.ndarray
    unit: float
    up: np.ndarray
    turn: float
    from_behind: bool
    look: Appearance

    def has(self, *names: str) -> bool:
        """Whether all the named keypoints are there."""
        return all(self.ok[KP[n]] for n in names)

    def at(self, name: str) -> np.ndarray:
        """The named keypoint in pixels."""
        return self.kp[KP[name]]

    @property
    def square(self) -> np.ndarray:
        """Unit vector square to `up`, towards image-right when upright."""
        return np.array([-self.up[1], self.up[0]])


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
    from offline.synth import body, face  # the parts import this module's `Figure`

    kp = np.asarray(keypoints_px, np.float64)
    ok = np.isfinite(kp).all(axis=1)
    if not ok.any():
        return image
    unit, up = _torso_px(kp, ok, image.shape[0]), _up(kp, ok)
    fig = Figure(
        kp=kp,
        ok=ok,
        unit=unit,
        up=up,
        turn=_turn(kp, ok, unit, up),
        from_behind=bool(not ok[KP["nose"]] and (ok[KP["r_ear"]] or ok[KP["l_ear"]])),
        look=appearance,
    )
    far = _far_side(kp, ok, fig.turn)
    room = image.copy()
    _shadow(image, fig)
    sides = ("l", "r") if far == "l" else ("r", "l")
    # Seen from behind (ears but no face) the arms are in front of the body, hidden by it;
    # turned, the far arm is; square on, both arms are in front of the torso.
    if fig.from_behind:
        behind, in_front = sides, ()
    elif far is None:
        behind, in_front = (), sides
    else:
        behind, in_front = sides[:1], sides[1:]
    for side in behind:
        body.arm(image, fig, side)
    for side in sides:
        body.leg(image, fig, side)
    body.pelvis(image, fig)
    body.torso(image, fig)
    face.neck(image, fig)
    before = image.copy()
    face.head(image, fig)
    _occlusion(image, room, before, fig, ("nose", "r_ear", "l_ear", "r_eye", "l_eye"))
    for side in in_front:
        before = image.copy()
        body.arm(image, fig, side)
        _occlusion(image, room, before, fig, tuple(f"{side}_{j}" for j in _ARM))
    return image


def _occlusion(image: Image, room: Image, before: Image, fig: Figure, names: tuple[str, ...]):
    """The soft shadow a part just painted (what differs from ``before``) casts on the body
    behind it (what differed from the empty ``room``), offset away from the key light.

    Only the box around the part's keypoints (``names``) is looked at.
    """
    points = [fig.at(n) for n in names if fig.has(n)]
    box = Box.around(image, points, 0.6 * fig.unit) if points else None
    if box is None:
        return
    now, was = box.view(image), box.view(before)
    part = np.any(now != was, axis=2)
    if not part.any():
        return
    behind = np.any(was != box.view(room), axis=2) & ~part
    shift = -LIGHT[:2] / LIGHT[2] * 0.09 * fig.unit  # a part sits about this far in front
    move = np.float32([[1, 0, shift[0]], [0, 1, shift[1]]])
    cast = cv2.warpAffine(part.astype(np.float32), move, part.shape[::-1])
    cast = cv2.GaussianBlur(cast, (0, 0), max(0.8, 0.04 * fig.unit)) * behind
    region = cast > 0.01
    now[region] = (now[region] * (1.0 - 0.35 * cast[region])[:, None]).astype(np.uint8)


def _shadow(image: Image, fig: Figure) -> None:
    """A soft shadow on the floor under the feet, darkest where they touch it."""
    ankles = [fig.at(n) for n in ("r_ankle", "l_ankle") if fig.has(n)]
    if not ankles:
        return
    unit = fig.unit
    feet = np.array(ankles)
    center = np.array([feet[:, 0].mean(), feet[:, 1].max() + 0.1 * unit])
    half_w = (np.ptp(feet[:, 0]) / 2 + 0.32 * unit) if len(feet) > 1 else 0.32 * unit
    pad = 0.12 * unit
    h, w = image.shape[:2]
    x0, x1 = max(int(center[0] - half_w - pad), 0), min(int(center[0] + half_w + pad) + 1, w)
    y0 = max(int(feet[:, 1].min() - pad), 0)
    y1 = min(int(center[1] + 0.1 * unit + pad) + 1, h)
    if x1 <= x0 or y1 <= y0:
        return
    mask = np.zeros((y1 - y0, x1 - x0), np.float32)
    cv2.ellipse(mask, (round(center[0] - x0), round(center[1] - y0)),
                (max(1, round(half_w)), max(1, round(0.07 * unit))), 0, 0, 360, 0.5, -1,
                cv2.LINE_AA)  # fmt: skip
    floor_px = feet[:, 1].max() + 0.1 * unit
    for foot in feet:  # contact shadows under each shoe, fainter the higher it is lifted
        lift = float(np.exp(-(floor_px - 0.1 * unit - foot[1]) / (0.25 * unit)))
        cv2.ellipse(mask, (round(foot[0] - x0), round(floor_px - y0)),
                    (max(1, round(0.16 * unit)), max(1, round(0.035 * unit))), 0, 0, 360, lift,
                    -1, cv2.LINE_AA)  # fmt: skip
    mask = cv2.GaussianBlur(mask, (0, 0), max(1.0, 0.04 * unit))
    patch = image[y0:y1, x0:x1].astype(np.float32)
    patch *= 1.0 - 0.5 * mask[..., None]
    image[y0:y1, x0:x1] = patch.astype(np.uint8)


# -- reading the pose -------------------------------------------------------------------------


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


def across(right: np.ndarray, left: np.ndarray, up: np.ndarray) -> np.ndarray:
    """Unit vector across the body from its right joint to its left one; square to ``up`` when
    the two coincide (seen in profile), pointing the way the joints are still apart."""
    square = np.array([-up[1], up[0]])  # image-right when upright
    d = left - right
    n = float(np.linalg.norm(d))
    if n >= 1.0:
        return d / n
    return square if d @ square >= 0 else -square


def _turn(kp: np.ndarray, ok: np.ndarray, unit: float, up: np.ndarray) -> float:
    """How far the face looks towards image-right: -1..1, the sine of the head's yaw.

    How far comes from how close together the eyes (and ears) are against their spacing
    facing the camera (DEFAULT_BODY's proportions to the torso); which way from the eyes and
    nose standing ahead of the ears. With one eye hidden the head is in profile, turned away
    from the hidden eye's side, as `livedance.body.forward_kinematics` hides them.
    """
    nose, r_eye, l_eye, r_ear, l_ear = (KP[n] for n in ("nose", "r_eye", "l_eye", "r_ear",
                                                       "l_ear"))  # fmt: skip
    if not ok[nose]:
        return 0.0
    if ok[r_eye] != ok[l_eye]:
        return 1.0 if ok[l_eye] else -1.0
    square = np.array([-up[1], up[0]])
    facing = []
    if ok[r_eye] and ok[l_eye]:
        facing.append(np.linalg.norm(kp[l_eye] - kp[r_eye]) / (2 * _EYE_HALF * unit))
    if ok[r_ear] and ok[l_ear]:
        facing.append(np.linalg.norm(kp[l_ear] - kp[r_ear]) / (2 * _EAR_HALF * unit))
        ears = (kp[r_ear] + kp[l_ear]) / 2
        ahead = (kp[nose] - ears) @ square
        if ok[r_eye] and ok[l_eye]:
            ahead += ((kp[r_eye] + kp[l_eye]) / 2 - ears) @ square
    else:
        ahead = 0.0
    if not facing:
        return 0.0
    size = math.sqrt(max(0.0, 1.0 - min(1.0, float(np.mean(facing))) ** 2))
    return float(math.copysign(size, ahead)) if ahead else 0.0


def _far_side(kp: np.ndarray, ok: np.ndarray, turn: float) -> str | None:
    """Which side of the body (``"l"``/``"r"``) is away from the camera, or None when square on.

    Turning the face towards image-right turns the body's left side away (also from behind).
    """
    r_ear, l_ear = KP["r_ear"], KP["l_ear"]
    if ok[r_ear] != ok[l_ear]:  # one ear hidden behind the head: that side is far
        return "l" if ok[r_ear] else "r"
    if abs(turn) < 0.15:
        return None
    return "l" if turn > 0 else "r"
