"""Measure the `Body` (bone lengths, placement, scale) of the person in a prepared dataset.

Last step of ``video.mp4 --prepare--> dataset/``: the statistics the runtime needs so that the
choreography fits the model (DESIGN.md's Body contract, "Everybody Dance Now"'s global pose
normalisation). Every length is the median over the frames where both of its joints are
confident, in units of the output frame's height; placement is where the hips and the lower
ankle usually are.
"""

from __future__ import annotations

import logging
from dataclasses import fields

import numpy as np
import numpy.typing as npt

from livedance.body import DEFAULT_BODY, Body
from livedance.pose import KP

log = logging.getLogger(__name__)

# Body field -> pairs of (from, to) keypoints whose distances all measure it.
_LENGTHS: dict[str, tuple[tuple[str, str], ...]] = {
    "head": (("neck", "nose"),),
    "shoulder_half": (("neck", "r_shoulder"), ("neck", "l_shoulder")),
    "upper_arm": (("r_shoulder", "r_elbow"), ("l_shoulder", "l_elbow")),
    "forearm": (("r_elbow", "r_wrist"), ("l_elbow", "l_wrist")),
    "thigh": (("r_hip", "r_knee"), ("l_hip", "l_knee")),
    "shin": (("r_knee", "r_ankle"), ("l_knee", "l_ankle")),
}


def measure_body(keypoints: npt.NDArray[np.float32], aspect: float) -> tuple[Body, dict[str, int]]:
    """Measure a Body from poses in the Pose contract.

    Args:
        keypoints: ``(n, 18, 3)`` poses normalised to the output frame (confidence 0 = missing).
        aspect: output width / height, to turn x distances into frame heights.

    Returns:
        ``(body, support)``: the Body, and for each field the number of measurements behind it
        (0 means it kept `DEFAULT_BODY`'s value, which is logged).
    """
    kp = np.asarray(keypoints, np.float64)
    xy = kp[..., :2] * np.array([aspect, 1.0])  # frame-height units on both axes
    ok = kp[..., 2] > 0
    values: dict[str, float] = {}
    support: dict[str, int] = {}

    def put(name: str, samples: npt.NDArray[np.float64]) -> None:
        samples = samples[np.isfinite(samples)]
        support[name] = len(samples)
        if len(samples):
            values[name] = float(np.median(samples))

    for name, pairs in _LENGTHS.items():
        put(name, np.concatenate([_distances(xy, ok, a, b) for a, b in pairs]))

    both_hips = ok[:, KP["r_hip"]] & ok[:, KP["l_hip"]]
    mid_hip = 0.5 * (xy[:, KP["r_hip"]] + xy[:, KP["l_hip"]])
    neck_ok = both_hips & ok[:, KP["neck"]]
    put("torso", np.linalg.norm(xy[neck_ok, KP["neck"]] - mid_hip[neck_ok], axis=1))
    put(
        "hip_half",
        0.5 * np.linalg.norm(xy[both_hips, KP["r_hip"]] - xy[both_hips, KP["l_hip"]], axis=1),
    )

    for part in ("eye", "ear"):
        dx, dy = [], []
        for side in ("r", "l"):
            sel = ok[:, KP["nose"]] & ok[:, KP[f"{side}_{part}"]]
            offset = xy[sel, KP[f"{side}_{part}"]] - xy[sel, KP["nose"]]
            dx.append(np.abs(offset[:, 0]))
            dy.append(-offset[:, 1])  # upwards is positive
        put(f"{part}_dx", np.concatenate(dx))
        put(f"{part}_dy", np.concatenate(dy))

    put("center_x", mid_hip[both_hips, 0] / aspect)
    ankles = kp[:, [KP["r_ankle"], KP["l_ankle"]], 1]
    ankles_ok = ok[:, [KP["r_ankle"], KP["l_ankle"]]]
    lower = np.where(ankles_ok, ankles, -np.inf).max(axis=1)
    put("floor_y", lower[np.isfinite(lower)])

    values["aspect"] = float(aspect)
    support["aspect"] = len(kp)
    missing = [f.name for f in fields(Body) if f.name not in values]
    if missing:
        log.warning("too few confident joints to measure %s; using defaults", ", ".join(missing))
    body = Body(**{f.name: values.get(f.name, getattr(DEFAULT_BODY, f.name)) for f in fields(Body)})
    return body, support


def person_height(keypoints: npt.NDArray[np.float32]) -> float | None:
    """Median vertical span nose to lower ankle, in frame heights (None if never measurable)."""
    kp = np.asarray(keypoints, np.float64)
    ok = kp[..., 2] > 0
    ankles = np.where(
        ok[:, [KP["r_ankle"], KP["l_ankle"]]], kp[:, [KP["r_ankle"], KP["l_ankle"]], 1], -np.inf
    )
    lower = ankles.max(axis=1)
    sel = ok[:, KP["nose"]] & np.isfinite(lower)
    if not sel.any():
        return None
    return float(np.median(lower[sel] - kp[sel, KP["nose"], 1]))


def _distances(
    xy: npt.NDArray[np.float64], ok: npt.NDArray[np.bool_], a: str, b: str
) -> npt.NDArray[np.float64]:
    sel = ok[:, KP[a]] & ok[:, KP[b]]
    return np.linalg.norm(xy[sel, KP[a]] - xy[sel, KP[b]], axis=1)
