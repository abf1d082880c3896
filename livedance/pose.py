"""The Pose contract: 18 OpenPose COCO keypoints, normalised to the output frame.

Every part of the data flow in DESIGN.md speaks this: the choreographer produces poses, the stick
renderer draws them, dataset preparation writes them, the generator is trained on their drawings.

A pose is a float32 array of shape ``(18, 3)``: x and y in 0..1 of the frame (origin top-left,
y down) and a confidence (0 = missing). A batch of poses is ``(n, 18, 3)``.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

Pose = npt.NDArray[np.float32]
"""One pose, shape ``(18, 3)``: x, y normalised to the frame, confidence."""

KEYPOINT_NAMES: Final = (
    "nose",
    "neck",
    "r_shoulder",
    "r_elbow",
    "r_wrist",
    "l_shoulder",
    "l_elbow",
    "l_wrist",
    "r_hip",
    "r_knee",
    "r_ankle",
    "l_hip",
    "l_knee",
    "l_ankle",
    "r_eye",
    "l_eye",
    "r_ear",
    "l_ear",
)
N_KEYPOINTS: Final = len(KEYPOINT_NAMES)
KP: Final = {name: i for i, name in enumerate(KEYPOINT_NAMES)}

# OpenPose's COCO limb sequence (its `limbSeq`, zero-based) in its drawing order; the two
# ear-shoulder links OpenPose computes but never draws are left out.
LIMBS: Final = (
    (1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10),
    (1, 11), (11, 12), (12, 13), (1, 0), (0, 14), (14, 16), (0, 15), (15, 17),
)  # fmt: skip

# OpenPose's 18 part colours, RGB, indexed like LIMBS for limbs and like keypoints for joints.
COLORS_RGB: Final = (
    (255, 0, 0), (255, 85, 0), (255, 170, 0), (255, 255, 0), (170, 255, 0), (85, 255, 0),
    (0, 255, 0), (0, 255, 85), (0, 255, 170), (0, 255, 255), (0, 170, 255), (0, 85, 255),
    (0, 0, 255), (85, 0, 255), (170, 0, 255), (255, 0, 255), (255, 0, 170), (255, 0, 85),
)  # fmt: skip

# Left/right partner of each keypoint, for mirroring a pose (x -> 1 - x and swap sides).
MIRROR_INDEX: Final = (0, 1, 5, 6, 7, 2, 3, 4, 11, 12, 13, 8, 9, 10, 15, 14, 17, 16)


def empty_pose() -> Pose:
    """Return a pose with every keypoint missing."""
    return np.zeros((N_KEYPOINTS, 3), dtype=np.float32)


def check_pose(pose: npt.ArrayLike) -> Pose:
    """Validate and convert to the Pose contract.

    Args:
        pose: array-like of shape ``(18, 3)`` or ``(18, 2)`` (confidence 1 is then assumed).

    Returns:
        A float32 ``(18, 3)`` array.

    Raises:
        ValueError: wrong shape or non-finite values.
    """
    arr = np.asarray(pose, dtype=np.float32)
    if arr.shape == (N_KEYPOINTS, 2):
        arr = np.concatenate([arr, np.ones((N_KEYPOINTS, 1), np.float32)], axis=1)
    if arr.shape != (N_KEYPOINTS, 3):
        raise ValueError(f"a pose is (18, 3) [x, y, confidence]; got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("a pose has non-finite values")
    return arr


def mirror_pose(pose: Pose) -> Pose:
    """Mirror a pose left-right in the frame, swapping the body's left and right keypoints."""
    out = pose[list(MIRROR_INDEX)].copy()
    out[:, 0] = np.where(out[:, 2] > 0, 1.0 - out[:, 0], 0.0)
    return out


def lerp_poses(a: Pose, b: Pose, weight: float) -> Pose:
    """Blend two poses linearly (the paper's transition), keypoint by keypoint.

    A keypoint missing in one pose takes the other pose's position, so joints that appear or
    disappear during a transition do not fly in from the frame's corner.
    """
    w = float(np.clip(weight, 0.0, 1.0))
    a_xy = np.where(a[:, 2:3] > 0, a[:, :2], b[:, :2])
    b_xy = np.where(b[:, 2:3] > 0, b[:, :2], a[:, :2])
    out = np.empty_like(a)
    out[:, :2] = (1.0 - w) * a_xy + w * b_xy
    out[:, 2] = (1.0 - w) * a[:, 2] + w * b[:, 2]
    return out
