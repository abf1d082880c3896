"""Keypoint MSE (pose re-detected on generated frames) and the nearest-pose baseline.

Part of the OFFLINE ``model --evaluate-> quality table`` step of DESIGN.md. A generated frame is
only useful if the person in it stands in the pose that was asked for: MediaPipe BlazePose (the
detector ``prepare`` uses, `offline.prepare.sources.BlazePoseSource`) is run again on the frames and
its joints are compared with the input keypoints.

Keypoint MSE of one frame: mean over the joints present in both poses (input confidence > 0,
re-detected confidence > the detector's threshold) of the squared Euclidean distance in pixels of
the frame (px^2). Frames where nobody is re-detected have no keypoint MSE; their share is reported
as the miss rate.

The baseline of Table I ("nearest neighbour"): for each test pose, the training frame whose pose
is closest (mean squared joint distance over joints present in both, in pixels).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from livedance.errors import LivedanceError

N_JOINTS = 18
MIN_SHARED_JOINTS = 4  # fewer joints in common than this and two poses are not comparable


def keypoint_sq_errors(
    reference_px: npt.NDArray[np.floating],
    detected_px: npt.NDArray[np.floating] | None,
    *,
    min_detected_confidence: float = 0.5,
) -> float:
    """Mean squared joint distance (px^2) of one frame; NaN when nothing comparable.

    Args:
        reference_px: ``(18, 3)`` input keypoints in pixels (confidence 0 = missing).
        detected_px: ``(18, 3)`` re-detected keypoints in pixels, or None if nobody was found.
        min_detected_confidence: re-detected joints at or below this count as missing.

    Returns:
        the mean over joints present in both of ``dx^2 + dy^2``, or NaN.
    """
    if detected_px is None:
        return float("nan")
    ref, det = np.asarray(reference_px, np.float64), np.asarray(detected_px, np.float64)
    both = (ref[:, 2] > 0) & (det[:, 2] > min_detected_confidence)
    if not both.any():
        return float("nan")
    return float(np.mean(np.sum((ref[both, :2] - det[both, :2]) ** 2, axis=1)))


class PoseRedetector:
    """BlazePose on a sequence of BGR frames of one size (video mode: frames in time order).

    Args:
        width_px, height_px: frame size.

    Raises:
        LivedanceError: MediaPipe is not installed.
    """

    def __init__(self, width_px: int, height_px: int) -> None:
        from offline.prepare.sources import BlazePoseSource

        self._source = BlazePoseSource(detect_max_side_px=max(width_px, height_px))
        self.min_confidence = float(BlazePoseSource.default_min_confidence)
        self._size = (width_px, height_px)

    def detect(self, frame_bgr: npt.NDArray[np.uint8], index: int = 0) -> npt.NDArray | None:
        """The ``(18, 3)`` pose in pixels of the most prominent person, or None.

        Args:
            frame_bgr: ``(h, w, 3)`` uint8 BGR image.
            index: the frame's position in the sequence (passed to the detector).
        """
        from offline.prepare.video import DecodedFrame

        rgb = np.ascontiguousarray(frame_bgr[..., ::-1])
        people = self._source.people(DecodedFrame(index, 0.0, rgb), self._size)
        return people[0] if len(people) else None

    def close(self) -> None:
        """Release the detector."""
        self._source.close()


def nearest_poses(
    query_px: npt.NDArray[np.floating],
    pool_px: npt.NDArray[np.floating],
    *,
    chunk: int = 256,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """For each query pose, the pool pose closest to it (the nearest-neighbour baseline).

    Distance: mean over joints present in both (confidence > 0) of the squared pixel distance.
    A pair sharing fewer than `MIN_SHARED_JOINTS` joints is chosen only when the query shares that
    few with every pool pose (then the one sharing most is taken and its distance is ``inf``).

    Args:
        query_px: ``(m, 18, 3)`` poses in pixels (the test split).
        pool_px: ``(n, 18, 3)`` poses in pixels (the training split).
        chunk: queries handled at once (bounds memory at ``chunk * n * 18`` floats).

    Returns:
        ``(index, distance_px2)``: ``(m,)`` pool rows and their distances.

    Raises:
        LivedanceError: the pool is empty.
    """
    pool = np.asarray(pool_px, np.float64)
    if len(pool) == 0:
        raise LivedanceError("the nearest-neighbour baseline needs training frames; none found")
    pool_xy, pool_ok = pool[None, :, :, :2], pool[None, :, :, 2] > 0
    index, distance = [], []
    queries = np.asarray(query_px, np.float64)
    for start in range(0, len(queries), chunk):
        q = queries[start : start + chunk]
        both = (q[:, None, :, 2] > 0) & pool_ok
        sq = np.sum((q[:, None, :, :2] - pool_xy) ** 2, axis=-1)
        shared = both.sum(axis=-1)
        mean_sq = np.where(both, sq, 0.0).sum(axis=-1) / np.maximum(shared, 1)
        # Too few joints in common and the distance means little: such pairs rank after every
        # comparable pair (by how many joints they share), and are chosen only when nothing else is.
        mean_sq = np.where(shared >= MIN_SHARED_JOINTS, mean_sq, 1e12 * (N_JOINTS + 1 - shared))
        best = np.argmin(mean_sq, axis=1)
        best_d = mean_sq[np.arange(len(q)), best]
        best_d[best_d >= 1e12] = np.inf
        index.append(best)
        distance.append(best_d)
    return np.concatenate(index).astype(np.int64), np.concatenate(distance)


def to_pixels(keypoints: npt.NDArray[np.floating], width_px: int, height_px: int) -> npt.NDArray:
    """Pose-contract keypoints (normalised 0..1) -> pixels; missing joints stay all-zero."""
    out = np.array(keypoints, np.float64, copy=True)
    out[..., 0] *= width_px
    out[..., 1] *= height_px
    out[out[..., 2] <= 0] = 0.0
    return out
