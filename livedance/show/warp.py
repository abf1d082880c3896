"""Frames between generated frames: the last generated frame warped to a newer pose.

When the generator is slower than the display (a 2-core AVX2 machine runs the default model at
about 14 fps), the show would hold each generated frame until the next: the dancer lurches from
pose to pose between beats. Instead, every display slot without a generated frame shows the
latest one warped to the slot's pose: each keypoint and points along each limb move from where
the generated frame drew them to where the slot's pose has them, and the pixels around follow
smoothly (a Gaussian-weighted displacement field, computed on a coarse grid and applied with
`cv2.remap`); far from the body nothing moves, so the room stays still. About a millisecond at
256 px; the next generated frame replaces the approximation.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np
import numpy.typing as npt

from livedance.pose import LIMBS, Pose

GRID = 32
"""The displacement field is computed on a GRID x GRID lattice, then interpolated."""

SIGMA = 0.06
"""Reach of each control point's displacement, as a fraction of the frame."""

STAY_WEIGHT = 0.05
"""Weight of "do not move" everywhere, so pixels far from every control point stay put."""

LIMB_SAMPLES = 4
"""Control points along each limb, between its two joints."""


_LIMB_A = np.array([a for a, _ in LIMBS])
_LIMB_B = np.array([b for _, b in LIMBS])
_T = np.linspace(0.0, 1.0, LIMB_SAMPLES + 2, dtype=np.float32)[1:-1, None, None]


def _controls(
    from_pose: Pose, to_pose: Pose
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Control points at the target pose and their displacements from the source pose."""
    seen = (from_pose[:, 2] > 0) & (to_pose[:, 2] > 0)
    limbs = seen[_LIMB_A] & seen[_LIMB_B]
    a, b = _LIMB_A[limbs], _LIMB_B[limbs]
    target = np.concatenate(
        [to_pose[seen, :2], ((1 - _T) * to_pose[a, :2] + _T * to_pose[b, :2]).reshape(-1, 2)]
    )
    source = np.concatenate(
        [from_pose[seen, :2], ((1 - _T) * from_pose[a, :2] + _T * from_pose[b, :2]).reshape(-1, 2)]
    )
    return target.astype(np.float32), (target - source).astype(np.float32)


@functools.lru_cache(maxsize=4)
def _lattice_and_pixels(
    h: int, w: int
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    axis = (np.arange(GRID, dtype=np.float32) + 0.5) / GRID
    gx, gy = np.meshgrid(axis, axis)
    lattice = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)  # normalised
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return lattice, xs, ys


def warp_frame(
    frame: npt.NDArray[np.uint8], from_pose: Pose, to_pose: Pose
) -> npt.NDArray[np.uint8]:
    """``frame``, drawn for ``from_pose``, warped so its figure takes ``to_pose``.

    Poses are normalised to the frame (x, y in 0..1, confidence 0 for a missing joint), as the
    renderers draw them. A joint missing from either pose does not move anything.
    """
    points, moves = _controls(from_pose, to_pose)
    if len(points) == 0:
        return frame
    h, w = frame.shape[:2]
    lattice, xs, ys = _lattice_and_pixels(h, w)
    d2 = ((lattice[:, None, :] - points[None, :, :]) ** 2).sum(axis=2)
    weights = np.exp(-d2 / np.float32(2 * SIGMA**2))
    field = weights @ moves / (weights.sum(axis=1, keepdims=True) + STAY_WEIGHT)
    # backward map: the output pixel at x shows the source pixel at x - displacement(x)
    dx = cv2.resize(field[:, 0].reshape(GRID, GRID), (w, h), interpolation=cv2.INTER_LINEAR)
    dy = cv2.resize(field[:, 1].reshape(GRID, GRID), (w, h), interpolation=cv2.INTER_LINEAR)
    map_x = xs - dx * w
    map_y = ys - dy * h
    warped = cv2.remap(frame, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return np.asarray(warped, dtype=np.uint8)
