"""Poses for synthetic training data: the action library danced at random tempi, with variation.

Part of ``livedance synth`` (DESIGN.md's OFFLINE ``--synth--> dataset/`` step): the runtime
choreographer only ever asks the generator for poses made by these thirty actions on one Body,
so training on them (plus small departures: other tempi and intensities, slightly different
angles, size and place, keypoint noise) covers what the show will draw.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from livedance.actions.library import ACTIONS
from livedance.body import DEFAULT_BODY, Angles, Body, forward_kinematics


@dataclass(frozen=True)
class Variation:
    """How far sampled poses depart from the plain actions.

    Attributes:
        bpm_range: tempo range; each segment dances at one tempo.
        beats_range: beats per segment (one action repeated), inclusive.
        intensity_range: scale of the move away from standing.
        angle_noise_rad: standard deviation of a per-segment offset of every joint angle.
        scale_fraction: a segment's Body is scaled by up to this much either way.
        center_x_jitter: a segment's hips stand up to this far (frame widths) off centre.
        joint_noise: standard deviation of per-frame keypoint noise, in frame heights.
    """

    bpm_range: tuple[float, float] = (80.0, 140.0)
    beats_range: tuple[int, int] = (2, 8)
    intensity_range: tuple[float, float] = (0.6, 1.15)
    angle_noise_rad: float = 0.08
    scale_fraction: float = 0.05
    center_x_jitter: float = 0.06
    joint_noise: float = 0.002


def sample_poses(
    n_frames: int,
    fps: float,
    rng: np.random.Generator,
    body: Body = DEFAULT_BODY,
    variation: Variation | None = None,
) -> tuple[npt.NDArray[np.float32], list[str]]:
    """Dance ``n_frames`` poses at ``fps``: random actions, each for a few beats.

    Args:
        n_frames: poses to make.
        fps: frame rate the dance is sampled at.
        rng: the random source (a seeded one gives the same dance).
        body: the person's proportions and placement.
        variation: departures from the plain actions (default `Variation()`).

    Returns:
        ``(poses, action_names)``: poses ``(n_frames, 18, 3)`` in the Pose contract, and the
        action each frame comes from.
    """
    var = variation or Variation()
    poses = np.zeros((n_frames, 18, 3), np.float32)
    names: list[str] = []
    n_angles = len(Angles().to_array())
    # Root offsets (dx, dy) stay as the action made them; only joint angles get an offset.
    angle_mask = np.ones(n_angles)
    angle_mask[:2] = 0.0
    frame = 0
    while frame < n_frames:
        action = ACTIONS[int(rng.integers(len(ACTIONS)))]
        beat_s = 60.0 / rng.uniform(*var.bpm_range)
        beats = int(rng.integers(var.beats_range[0], var.beats_range[1] + 1))
        intensity = rng.uniform(*var.intensity_range)
        offset = rng.normal(0.0, var.angle_noise_rad, n_angles) * angle_mask
        scale = 1.0 + rng.uniform(-var.scale_fraction, var.scale_fraction)
        seg_body = _scaled(body, scale, body.center_x + rng.uniform(-1, 1) * var.center_x_jitter)
        start_phase = rng.uniform(0.0, 1.0)
        n_seg = min(n_frames - frame, max(1, round(beats * beat_s * fps)))
        for i in range(n_seg):
            phase = (start_phase + i / (fps * beat_s)) % 1.0
            angles = Angles.from_array(action.angles(phase, intensity).to_array() + offset)
            poses[frame] = forward_kinematics(angles, seg_body)
            names.append(action.name)
            frame += 1
    seen = poses[..., 2] > 0
    noise = rng.normal(0.0, var.joint_noise, poses[..., :2].shape).astype(np.float32)
    noise[..., 0] /= body.aspect
    poses[..., :2] += noise * seen[..., None]
    return poses, names


def _scaled(body: Body, scale: float, center_x: float) -> Body:
    """``body`` uniformly bigger or smaller, feet on the same floor, hips at ``center_x``."""
    lengths = (
        "head", "torso", "shoulder_half", "hip_half", "upper_arm", "forearm", "thigh", "shin",
        "eye_dx", "eye_dy", "ear_dx", "ear_dy",
    )  # fmt: skip
    return replace(
        body, center_x=center_x, **{name: getattr(body, name) * scale for name in lengths}
    )
