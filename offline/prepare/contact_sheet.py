"""A contact sheet of a prepared dataset: sampled pairs as frame | stick | overlay.

The at-a-glance check after ``prepare``: if the sticks do not lie on the person in the overlay
column, the pose source, the crop or the keypoint transform is wrong, and training on it would
be wasted.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

from livedance.skeleton import Image

_LABEL_PX = 22


def overlay(frame: Image, stick: Image, *, weight: float = 0.8) -> Image:
    """The stick drawn over the frame: stick pixels blended in, black ones left alone."""
    drawn = stick.max(axis=2, keepdims=True) > 0
    blend = cv2.addWeighted(stick, weight, frame, 1.0 - weight, 0.0)
    return np.where(drawn, blend, frame)


def contact_sheet(
    pairs: Sequence[tuple[Image, Image, str]], *, pairs_per_row: int = 2, max_width_px: int = 1600
) -> npt.NDArray[np.uint8]:
    """Lay out pairs as rows of ``frame | stick | overlay`` triplets with a label above each.

    Args:
        pairs: ``(frame, stick, label)`` with frame and stick the same size (BGR).
        pairs_per_row: triplets side by side in one row.
        max_width_px: the sheet is scaled down to at most this width.

    Returns:
        The sheet, BGR uint8.
    """
    if not pairs:
        return np.zeros((_LABEL_PX, 3 * _LABEL_PX, 3), np.uint8)
    h, w = pairs[0][0].shape[:2]
    cell_h = h + _LABEL_PX
    rows = (len(pairs) + pairs_per_row - 1) // pairs_per_row
    gap = max(4, w // 32)
    sheet_w = pairs_per_row * 3 * w + (pairs_per_row - 1) * gap
    sheet = np.full((rows * cell_h, sheet_w, 3), 32, np.uint8)
    for i, (frame, stick, label) in enumerate(pairs):
        r, c = divmod(i, pairs_per_row)
        y = r * cell_h
        x = c * (3 * w + gap)
        sheet[y + _LABEL_PX : y + cell_h, x : x + w] = frame
        sheet[y + _LABEL_PX : y + cell_h, x + w : x + 2 * w] = stick
        sheet[y + _LABEL_PX : y + cell_h, x + 2 * w : x + 3 * w] = overlay(frame, stick)
        cv2.putText(
            sheet, label, (x + 4, y + _LABEL_PX - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
            (230, 230, 230), 1, cv2.LINE_AA,
        )  # fmt: skip
    if sheet_w > max_width_px:
        scale = max_width_px / sheet_w
        sheet = cv2.resize(
            sheet, (max_width_px, round(sheet.shape[0] * scale)), interpolation=cv2.INTER_AREA
        )
    return sheet


def pick_rows(n_rows: int, count: int) -> list[int]:
    """``count`` row numbers spread evenly over ``0..n_rows-1`` (first and last included)."""
    if n_rows <= 0:
        return []
    if n_rows <= count:
        return list(range(n_rows))
    return sorted({round(v) for v in np.linspace(0, n_rows - 1, count)})
