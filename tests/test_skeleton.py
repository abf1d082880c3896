"""The stick renderer: OpenPose colours and limbs, anti-aliasing, thickness that scales."""

from __future__ import annotations

import numpy as np

from livedance.body import REST, forward_kinematics
from livedance.pose import COLORS_RGB, KP, LIMBS, check_pose, empty_pose, lerp_poses, mirror_pose
from livedance.skeleton import render_stick, stick_thickness_px


def _arm_pose() -> np.ndarray:
    """Neck in the middle, the right arm stretched horizontally to the left."""
    pose = empty_pose()
    for name, xy in {
        "neck": (0.5, 0.3),
        "r_shoulder": (0.4, 0.3),
        "r_elbow": (0.25, 0.3),
        "r_wrist": (0.1, 0.3),
    }.items():
        pose[KP[name]] = (*xy, 1.0)
    return pose


def _bgr(limb_index: int) -> tuple[int, int, int]:
    r, g, b = COLORS_RGB[limb_index]
    return (b, g, r)


def test_limbs_use_openpose_colours_on_black() -> None:
    img = render_stick(_arm_pose(), 256)
    assert img.shape == (256, 256, 3) and img.dtype == np.uint8
    forearm = LIMBS.index((3, 4))
    mid = img[int(0.3 * 256), int(0.175 * 256)]
    assert tuple(int(v) for v in mid) == _bgr(forearm)
    assert img[10, 10].sum() == 0 and img[250, 250].sum() == 0  # black background


def test_edges_are_antialiased() -> None:
    img = render_stick(_arm_pose(), 256)
    column = img[:, int(0.175 * 256), 1].astype(int)  # green channel across the forearm
    partial = column[(column > 0) & (column < 255)]
    assert len(partial) >= 2, "anti-aliased edges have intermediate intensities"


def _drawn_rows(img: np.ndarray, x: int) -> int:
    return int((img[:, x].sum(axis=1) > 0).sum())


def test_thickness_scales_with_size() -> None:
    small = render_stick(_arm_pose(), 256)
    large = render_stick(_arm_pose(), 512)
    t_small = _drawn_rows(small, int(0.175 * 256))
    t_large = _drawn_rows(large, int(0.175 * 512))
    assert stick_thickness_px(512) == 2 * stick_thickness_px(256)
    assert 1.6 < t_large / t_small < 2.4


def test_missing_keypoints_are_not_drawn() -> None:
    pose = _arm_pose()
    pose[KP["r_wrist"], 2] = 0.0
    img = render_stick(pose, 256)
    assert img[int(0.3 * 256), int(0.12 * 256)].sum() == 0


def test_non_square_frames_and_full_figure() -> None:
    img = render_stick(forward_kinematics(REST), 320, 180)
    assert img.shape == (180, 320, 3)
    assert (img.sum(axis=2) > 0).mean() > 0.01


def test_pose_contract_helpers() -> None:
    pose = forward_kinematics(REST)
    assert check_pose(pose[:, :2]).shape == (18, 3)
    mirrored = mirror_pose(pose)
    assert np.allclose(mirror_pose(mirrored), pose, atol=1e-6)
    assert np.allclose(mirrored[KP["r_wrist"], 0], 1 - pose[KP["l_wrist"], 0], atol=1e-6)
    half = lerp_poses(pose, mirrored, 0.5)
    assert np.allclose(half[:, :2], (pose[:, :2] + mirrored[:, :2]) / 2, atol=1e-6)
