"""Per-frame scoring and the quality table (the paper's Table I) for ``livedance evaluate``.

Part of the OFFLINE ``model --evaluate-> quality table`` step of DESIGN.md: a `FrameScorer` takes
batches of (generated, real) BGR frames, keeps every per-frame number, and `summarize` /
`format_table` turn them into the table's means, one column per method (model, baseline).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from offline.metrics.image import (
    MS_SSIM_MIN_SIDE_PX,
    PSNR_CAP_DB,
    mse,
    psnr_from_mse,
    ssim,
    ssim_and_ms_ssim,
)
from offline.metrics.keypoints import PoseRedetector, keypoint_sq_errors

METRICS = ("mse", "keypoint_mse", "psnr_db", "ssim", "ms_ssim", "lpips")
LABELS = {
    "mse": ("MSE", "lower"),
    "keypoint_mse": ("keypoint MSE (px^2)", "lower"),
    "psnr_db": ("PSNR (dB)", "higher"),
    "ssim": ("SSIM", "higher"),
    "ms_ssim": ("MS-SSIM", "higher"),
    "lpips": ("LPIPS (alex)", "lower"),
}
# The paper's Table I, on its own 14-minute dataset, for reference in the printed table.
PAPER_TABLE_I = {
    "mse": 11.95,
    "keypoint_mse": 7.5,
    "psnr_db": 37.36,
    "ssim": 0.864,
    "ms_ssim": 0.887,
    "lpips": 0.0168,
}


class FrameScorer:
    """Accumulates the Table I metrics of one method, frame by frame, in time order.

    Args:
        width_px, height_px: frame size.
        lpips_model: an `offline.metrics.lpips.LpipsAlex`, or None to skip LPIPS.
        keypoints: re-detect the pose on each frame (MediaPipe) for keypoint MSE.
    """

    def __init__(
        self, width_px: int, height_px: int, *, lpips_model: Any = None, keypoints: bool = True
    ) -> None:
        self.size = (width_px, height_px)
        self._lpips = lpips_model
        self._redetector = PoseRedetector(width_px, height_px) if keypoints else None
        self.values: dict[str, list[float]] = {name: [] for name in METRICS}
        self.misses = 0

    def add(
        self,
        pred_bgr: npt.NDArray[np.uint8],
        target_bgr: npt.NDArray[np.uint8],
        reference_px: npt.NDArray[np.floating] | None = None,
    ) -> None:
        """Score a batch of frames.

        Args:
            pred_bgr: ``(n, h, w, 3)`` uint8 generated (or baseline) frames.
            target_bgr: ``(n, h, w, 3)`` uint8 real frames.
            reference_px: ``(n, 18, 3)`` the poses the frames should show, in pixels (needed
                when keypoints are scored).
        """
        for p, t in zip(pred_bgr, target_bgr, strict=True):
            err = mse(p, t)
            self.values["mse"].append(err)
            self.values["psnr_db"].append(psnr_from_mse(err))
            if min(p.shape[:2]) >= MS_SSIM_MIN_SIDE_PX:
                s, ms = ssim_and_ms_ssim(p, t)
            else:
                s, ms = ssim(p, t), math.nan
            self.values["ssim"].append(s)
            self.values["ms_ssim"].append(ms)
        if self._lpips is not None:
            from offline.metrics.lpips import lpips_distances

            self.values["lpips"] += lpips_distances(self._lpips, pred_bgr, target_bgr).tolist()
        else:
            self.values["lpips"] += [math.nan] * len(pred_bgr)
        if self._redetector is None or reference_px is None:
            self.values["keypoint_mse"] += [math.nan] * len(pred_bgr)
            return
        for frame, ref in zip(pred_bgr, reference_px, strict=True):
            detected = self._redetector.detect(frame, len(self.values["keypoint_mse"]))
            self.misses += detected is None
            self.values["keypoint_mse"].append(
                keypoint_sq_errors(
                    ref, detected, min_detected_confidence=self._redetector.min_confidence
                )
            )

    def close(self) -> None:
        """Release the pose detector."""
        if self._redetector is not None:
            self._redetector.close()

    def summary(self) -> dict[str, Any]:
        """Means over frames (PSNR capped at `PSNR_CAP_DB`; NaN entries ignored) and counts."""
        return summarize(self.values, misses=self.misses if self._redetector else None)


def summarize(values: dict[str, list[float]], *, misses: int | None = None) -> dict[str, Any]:
    """Turn per-frame values into the table's means.

    Args:
        values: metric name -> per-frame values (NaN = not measured for that frame).
        misses: frames where the pose re-detection found nobody (None: keypoints not scored).

    Returns:
        ``{metric: mean or None, "n_frames": n, "keypoint_miss_rate": r or None}``.
    """
    out: dict[str, Any] = {}
    n = len(values["mse"])
    for name in METRICS:
        arr = np.asarray(values[name], np.float64)
        if name == "psnr_db":
            arr = np.minimum(arr, PSNR_CAP_DB)
        finite = arr[np.isfinite(arr)]
        out[name] = float(finite.mean()) if len(finite) else None
    out["n_frames"] = n
    out["keypoint_miss_rate"] = (misses / n if n else None) if misses is not None else None
    return out


def format_table(columns: dict[str, dict[str, Any]], *, paper: bool = True) -> str:
    """The quality table as aligned text, one column per method.

    Args:
        columns: method name -> `summarize` output.
        paper: add the paper's own Table I numbers as the last column.

    Returns:
        the table (no trailing newline).
    """
    names = list(columns)
    header = ["metric", *names] + (["paper (Table I)"] if paper else [])
    rows = [header]
    for metric in METRICS:
        label, better = LABELS[metric]
        row = [f"{label} [{better}]"]
        for name in names:
            value = columns[name].get(metric)
            row.append("n/a" if value is None else _fmt(metric, value))
        if paper:
            row.append(_fmt(metric, PAPER_TABLE_I[metric]))
        rows.append(row)
    misses = [columns[n].get("keypoint_miss_rate") for n in names]
    if any(m is not None for m in misses):
        row = ["pose not re-detected"] + ["n/a" if m is None else f"{100 * m:.1f}%" for m in misses]
        rows.append(row + (["-"] if paper else []))
    counts = [str(columns[n]["n_frames"]) for n in names]
    rows.append(["frames", *counts] + (["-"] if paper else []))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(_align(r, widths)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _align(row: list[str], widths: list[int]) -> list[str]:
    """First column left-aligned, the numbers right-aligned."""
    cells = zip(row[1:], widths[1:], strict=True)
    return [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in cells]


def _fmt(metric: str, value: float) -> str:
    if metric in ("ssim", "ms_ssim", "lpips"):
        return f"{value:.4f}"
    return f"{value:.2f}"
