"""Body and forward kinematics: joint angles -> a Pose with the proportions of one person.

The Body is measured from the training video (bone lengths, where the person stands, how big
they are in frame) and travels in the model's metadata. Dance actions are joint-angle
trajectories; `forward_kinematics` turns angles into keypoints on a Body, so every bone keeps its
length and the dancer stands where the trained person stood ("Everybody Dance Now"'s global pose
normalisation, done by construction).

Conventions, all in the image plane: angles in radians; a limb angle of 0 hangs straight down
along the torso; positive limb angles swing the limb *outward* (away from the body's midline,
up towards the ears at pi); positive elbow/knee angles bend the lower limb further outward.
``lean`` tilts the torso towards image-right, ``yaw`` turns the body (0 faces the camera,
positive turns the face towards image-right, pi shows the back).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, fields
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from livedance.pose import KP, Pose, empty_pose


@dataclass(frozen=True)
class Body:
    """Bone lengths and placement of one person, lengths in units of the frame height.

    Attributes:
        head: neck to nose.
        torso: neck to the midpoint of the hips.
        shoulder_half: neck to each shoulder.
        hip_half: hip midpoint to each hip joint.
        upper_arm, forearm, thigh, shin: limb bones.
        eye_dx, eye_dy: eye offset from the nose (sideways, upwards).
        ear_dx, ear_dy: ear offset from the nose (sideways, upwards).
        center_x: x of the hip midpoint when standing, normalised to the frame width.
        floor_y: y of the ankles when standing, normalised to the frame height.
        aspect: frame width / height that the Body was measured in.
    """

    head: float = 0.085
    torso: float = 0.255
    shoulder_half: float = 0.088
    hip_half: float = 0.05
    upper_arm: float = 0.135
    forearm: float = 0.12
    thigh: float = 0.18
    shin: float = 0.175
    eye_dx: float = 0.018
    eye_dy: float = 0.015
    ear_dx: float = 0.038
    ear_dy: float = 0.008
    center_x: float = 0.5
    floor_y: float = 0.9
    aspect: float = 1.0

    BONES: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("upper_arm", "r_shoulder", "r_elbow"),
        ("forearm", "r_elbow", "r_wrist"),
        ("upper_arm", "l_shoulder", "l_elbow"),
        ("forearm", "l_elbow", "l_wrist"),
        ("thigh", "r_hip", "r_knee"),
        ("shin", "r_knee", "r_ankle"),
        ("thigh", "l_hip", "l_knee"),
        ("shin", "l_knee", "l_ankle"),
    )
    """Bones whose length is invariant under every joint angle: (Body field, from, to)."""

    def to_dict(self) -> dict[str, float]:
        """Plain dict for JSON (model metadata, dataset manifest)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Body:
        """Inverse of `to_dict`; unknown keys are ignored, missing keys keep their defaults."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: float(v) for k, v in data.items() if k in names})

    @property
    def height(self) -> float:
        """Standing height from ankle to nose, in frame heights."""
        return self.shin + self.thigh + self.torso + self.head


@dataclass(frozen=True)
class Angles:
    """One moment of a dance action: joint angles and root offsets (see module conventions).

    ``root_dx`` moves the hips sideways and ``root_dy`` lifts the whole body off the floor
    (a jump), both in frame heights. ``pelvis`` tilts the hip line, ``head_tilt`` rolls the
    head on the neck.
    """

    root_dx: float = 0.0
    root_dy: float = 0.0
    lean: float = 0.0
    yaw: float = 0.0
    pelvis: float = 0.0
    head_tilt: float = 0.0
    r_shoulder: float = 0.2
    r_elbow: float = 0.1
    l_shoulder: float = 0.2
    l_elbow: float = 0.1
    r_hip: float = 0.06
    r_knee: float = -0.03
    l_hip: float = 0.06
    l_knee: float = -0.03

    def to_array(self) -> npt.NDArray[np.float64]:
        return np.array(dataclasses.astuple(self), dtype=np.float64)

    @classmethod
    def from_array(cls, values: npt.ArrayLike) -> Angles:
        return cls(*(float(v) for v in np.asarray(values, dtype=np.float64)))

    def mirrored(self) -> Angles:
        """The same move done with the other side of the body."""
        return Angles(
            root_dx=-self.root_dx,
            root_dy=self.root_dy,
            lean=-self.lean,
            yaw=-self.yaw,
            pelvis=-self.pelvis,
            head_tilt=-self.head_tilt,
            r_shoulder=self.l_shoulder,
            r_elbow=self.l_elbow,
            l_shoulder=self.r_shoulder,
            l_elbow=self.r_elbow,
            r_hip=self.l_hip,
            r_knee=self.l_knee,
            l_hip=self.r_hip,
            l_knee=self.r_knee,
        )

    def toward(self, target: Angles, weight: float) -> Angles:
        """Linear interpolation in angle space: ``self`` at 0, ``target`` at 1 (also beyond)."""
        a = self.to_array()
        return Angles.from_array(a + (target.to_array() - a) * weight)


REST = Angles()
"""Standing relaxed, facing the camera."""

DEFAULT_BODY = Body()
"""Average adult proportions standing in the middle of a square frame."""


def _rot(v: npt.NDArray[np.float64], angle: float) -> npt.NDArray[np.float64]:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([v[0] * c - v[1] * s, v[0] * s + v[1] * c])


def forward_kinematics(angles: Angles, body: Body = DEFAULT_BODY, *, ground: bool = True) -> Pose:
    """Place the 18 keypoints of ``body`` in the pose ``angles``.

    Computed in a y-up plane in frame-height units with the hip midpoint at the origin, then
    grounded (the lowest ankle stands on ``body.floor_y`` unless ``root_dy`` lifts it) and mapped
    to normalised frame coordinates.

    Args:
        angles: joint angles and root offsets.
        body: the person's proportions and placement.
        ground: keep the lowest foot on the floor (off only for tests of raw kinematics).

    Returns:
        A Pose ``(18, 3)``; face keypoints hidden by the head's turn get confidence 0.
    """
    a = angles
    facing = math.cos(a.yaw)  # 1 facing the camera, -1 showing the back
    up = np.array([math.sin(a.lean), math.cos(a.lean)])
    side = np.array([math.cos(a.lean), -math.sin(a.lean)])  # towards image-right
    xy = np.zeros((18, 2))
    conf = np.ones(18)

    hips = np.zeros(2)
    neck = hips + up * body.torso
    xy[KP["neck"]] = neck
    # The body's right side is image-left while it faces the camera; the sign flips with its back
    # to us, and limbs swing in the image plane scaled by `facing` so a turn stays continuous.
    xy[KP["r_shoulder"]] = neck - side * body.shoulder_half * facing
    xy[KP["l_shoulder"]] = neck + side * body.shoulder_half * facing
    down = -up
    for sign, sh, el, wr, a_sh, a_el in (
        (-1.0, "r_shoulder", "r_elbow", "r_wrist", a.r_shoulder, a.r_elbow),
        (1.0, "l_shoulder", "l_elbow", "l_wrist", a.l_shoulder, a.l_elbow),
    ):
        upper = _rot(down, sign * a_sh * facing)
        xy[KP[el]] = xy[KP[sh]] + upper * body.upper_arm
        xy[KP[wr]] = xy[KP[el]] + _rot(upper, sign * a_el * facing) * body.forearm

    pelvis_side = _rot(np.array([1.0, 0.0]), -a.pelvis)
    leg_down = np.array([0.0, -1.0])
    xy[KP["r_hip"]] = hips - pelvis_side * body.hip_half * facing
    xy[KP["l_hip"]] = hips + pelvis_side * body.hip_half * facing
    for sign, hp, kn, an, a_hp, a_kn in (
        (-1.0, "r_hip", "r_knee", "r_ankle", a.r_hip, a.r_knee),
        (1.0, "l_hip", "l_knee", "l_ankle", a.l_hip, a.l_knee),
    ):
        thigh = _rot(leg_down, sign * a_hp * facing)
        xy[KP[kn]] = xy[KP[hp]] + thigh * body.thigh
        xy[KP[an]] = xy[KP[kn]] + _rot(thigh, sign * a_kn * facing) * body.shin

    head_up = _rot(up, -a.head_tilt)
    head_side = np.array([head_up[1], -head_up[0]])
    nose = neck + head_up * body.head
    turn = math.sin(a.yaw)
    xy[KP["nose"]] = nose + head_side * body.eye_dx * 0.8 * turn
    for side_sign, eye, ear in ((-1.0, "r_eye", "r_ear"), (1.0, "l_eye", "l_ear")):
        xy[KP[eye]] = (
            nose
            + head_side * (side_sign * body.eye_dx * facing + body.eye_dx * turn)
            + head_up * body.eye_dy
        )
        xy[KP[ear]] = (
            nose
            + head_side * (side_sign * body.ear_dx * facing + body.ear_dx * 0.3 * turn)
            + head_up * body.ear_dy
        )
        # In profile the far eye and ear are hidden behind the head.
        if side_sign * turn < -0.7:
            conf[KP[eye]] = conf[KP[ear]] = 0.0
    if facing < -0.2:  # back to the camera: no face, only the ears
        conf[[KP["nose"], KP["r_eye"], KP["l_eye"]]] = 0.0

    if ground:
        lowest = min(xy[KP["r_ankle"], 1], xy[KP["l_ankle"], 1])
        xy[:, 1] += -lowest + a.root_dy
    xy[:, 0] += a.root_dx

    pose = empty_pose()
    pose[:, 0] = body.center_x + xy[:, 0] / body.aspect
    pose[:, 1] = body.floor_y - xy[:, 1]
    pose[:, 2] = conf
    return pose


def bone_lengths(pose: Pose, body: Body) -> dict[str, float]:
    """Length of every invariant bone of ``pose`` in frame heights, keyed ``"from-to"``."""
    scale = np.array([body.aspect, 1.0])
    out = {}
    for _, a, b in Body.BONES:
        d = (pose[KP[a], :2] - pose[KP[b], :2]) * scale
        out[f"{a}-{b}"] = float(np.hypot(d[0], d[1]))
    return out
