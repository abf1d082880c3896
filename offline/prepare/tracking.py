"""Follow one person through a video: the largest consistent one when several are in view.

Third step of ``video.mp4 --prepare--> dataset/``. Detections of every sampled frame are linked
into tracks (a detection continues the track whose last box is nearest, relative to the box
size, and of similar height); the track with the largest summed height (big and present for
long) is the person of the dataset. Frames where that track has no detection count as frames
with no person, so a passer-by never becomes the model's dancer for a few frames.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from livedance.pose import N_KEYPOINTS

log = logging.getLogger(__name__)

MIN_JOINTS = 5
"""A detection with fewer confident joints than this is not a person."""


@dataclass
class _Track:
    box: npt.NDArray[np.float64]  # x0, y0, x1, y1 of its last detection
    last_sample: int
    members: dict[int, int] = field(default_factory=dict)  # sample -> detection index
    score: float = 0.0


def person_box(pose: npt.NDArray[np.float32], min_confidence: float) -> npt.NDArray | None:
    """Bounding box ``(x0, y0, x1, y1)`` of a pose's confident joints; None if too few."""
    ok = pose[:, 2] > min_confidence
    if int(ok.sum()) < MIN_JOINTS:
        return None
    xy = pose[ok, :2].astype(np.float64)
    return np.concatenate([xy.min(axis=0), xy.max(axis=0)])


def select_person(
    people: Sequence[npt.NDArray[np.float32]],
    *,
    min_confidence: float,
    max_jump: float = 0.6,
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.bool_]]:
    """Pick the largest consistent person across all sampled frames.

    Args:
        people: for each sample, ``(m, 18, 3)`` detections in pixels (m may be 0).
        min_confidence: joints at or below this confidence do not count towards a box.
        max_jump: largest move of the box centre between two detections of one track, in
            units of the box height (frames missed in between allow proportionally more).

    Returns:
        ``(poses, found)``: ``(n, 18, 3)`` float32 poses of the chosen person (zeros where
        absent) and the ``(n,)`` mask of samples where the person was found.
    """
    n = len(people)
    tracks: list[_Track] = []
    for sample, dets in enumerate(people):
        boxes = [(k, person_box(d, min_confidence)) for k, d in enumerate(dets)]
        candidates = [(k, b) for k, b in boxes if b is not None]
        pairs = []
        for t_index, track in enumerate(tracks):
            gap = sample - track.last_sample
            for c_index, (_, box) in enumerate(candidates):
                cost = _link_cost(track.box, box, gap, max_jump)
                if cost is not None:
                    pairs.append((cost, t_index, c_index))
        used_tracks: set[int] = set()
        used_candidates: set[int] = set()
        for _, t_index, c_index in sorted(pairs):
            if t_index in used_tracks or c_index in used_candidates:
                continue
            used_tracks.add(t_index)
            used_candidates.add(c_index)
            _extend(tracks[t_index], sample, *candidates[c_index])
        for c_index, candidate in enumerate(candidates):
            if c_index not in used_candidates:
                track = _Track(box=candidate[1], last_sample=sample)
                _extend(track, sample, *candidate)
                tracks.append(track)

    poses = np.zeros((n, N_KEYPOINTS, 3), np.float32)
    found = np.zeros(n, bool)
    if not tracks:
        return poses, found
    best = max(tracks, key=lambda t: t.score)
    if len(tracks) > 1:
        log.info(
            "%d people tracks; following the largest (in %d of %d frames)",
            len(tracks),
            len(best.members),
            n,
        )
    for sample, k in best.members.items():
        poses[sample] = people[sample][k]
        found[sample] = True
    return poses, found


def _extend(track: _Track, sample: int, det_index: int, box: npt.NDArray) -> None:
    track.members[sample] = det_index
    track.box = box
    track.last_sample = sample
    track.score += float(box[3] - box[1])


def _link_cost(a: npt.NDArray, b: npt.NDArray, gap: int, max_jump: float) -> float | None:
    """Centre distance in box heights, or None when b cannot continue a's track."""
    h_a, h_b = a[3] - a[1], b[3] - b[1]
    height = max(h_a, h_b, 1e-6)
    if min(h_a, h_b) < 0.5 * height:
        return None
    centre_a = 0.5 * (a[:2] + a[2:])
    centre_b = 0.5 * (b[:2] + b[2:])
    distance = float(np.hypot(*(centre_a - centre_b))) / height
    if distance > max_jump * max(1, gap) ** 0.5:
        return None
    return distance
