"""Contact sheet of the dance actions: every action drawn at a row of phases over its beat.

A way to look at the whole library at once with the same stick renderer that draws the
generator's inputs: one row per action, its name, tags and energy at the left, then its pose at
phases 0, 1/n, ... of the beat over a faint floor line.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from livedance.actions.base import Action
from livedance.body import DEFAULT_BODY, Body
from livedance.errors import LivedanceError
from livedance.skeleton import Image, render_stick

_FONT = cv2.FONT_HERSHEY_SIMPLEX
_TEXT = (235, 235, 235)
_DIM = (150, 150, 150)
_FAINT = (60, 60, 60)
_ENERGY = (60, 170, 255)


def label_width_px(cell_px: int) -> int:
    """Width of the label column at the left of the sheet: two cells' heights."""
    return 2 * cell_px


def contact_sheet(
    actions: Sequence[Action],
    *,
    phases: int = 8,
    cell_px: int = 160,
    body: Body = DEFAULT_BODY,
    intensity: float = 1.0,
) -> Image:
    """Draw the contact sheet as an image.

    Args:
        actions: the actions, one row each, top to bottom.
        phases: poses per row, at phases ``i / phases`` (the next beat starts where it ends).
        cell_px: height of one pose cell; its width follows ``body.aspect``.
        body: the proportions the actions are drawn on.
        intensity: how big the moves are (1 = as designed).

    Returns:
        BGR image of ``len(actions) * cell_px`` by
        ``label_width_px(cell_px) + phases * round(cell_px * body.aspect)`` pixels.
    """
    if phases < 1 or cell_px < 16 or not actions:
        raise ValueError("a contact sheet needs actions, phases >= 1 and cells of 16 px or more")
    cell_w = round(cell_px * body.aspect)
    label_w = label_width_px(cell_px)
    sheet = np.zeros((len(actions) * cell_px, label_w + phases * cell_w, 3), np.uint8)
    floor = np.zeros((cell_px, cell_w, 3), np.uint8)
    floor_y = round(body.floor_y * cell_px)
    cv2.line(floor, (0, floor_y), (cell_w - 1, floor_y), _FAINT, 1, cv2.LINE_AA)
    cell = np.zeros_like(floor)
    small = _fit_scale("0.875", cell_w // 3, cell_px / 400)
    for row, action in enumerate(actions):
        y0 = row * cell_px
        _draw_label(sheet[y0 : y0 + cell_px, :label_w], action)
        for col in range(phases):
            phase = col / phases
            render_stick(action.pose(phase, intensity, body), cell_w, cell_px, out=cell)
            np.copyto(cell, floor, where=~cell.any(axis=2, keepdims=True))
            cv2.putText(cell, f"{phase:.3g}", (3, 3 + _text_h(small)), _FONT, small, _DIM, 1)
            x0 = label_w + col * cell_w
            sheet[y0 : y0 + cell_px, x0 : x0 + cell_w] = cell
        if row:
            cv2.line(sheet, (0, y0), (sheet.shape[1] - 1, y0), _FAINT, 1)
    return sheet


def draw_contact_sheet(
    actions: Sequence[Action],
    path: str | Path,
    *,
    phases: int = 8,
    cell_px: int = 160,
    body: Body = DEFAULT_BODY,
) -> tuple[int, int]:
    """Draw the contact sheet (see `contact_sheet`) and write it as a PNG.

    Returns:
        ``(width, height)`` of the written image in pixels.

    Raises:
        LivedanceError: the path is not a ``.png`` or cannot be written.
    """
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise LivedanceError(f"the contact sheet is a PNG; give a path ending in .png, not {path}")
    sheet = contact_sheet(actions, phases=phases, cell_px=cell_px, body=body)
    ok, encoded = cv2.imencode(".png", sheet)
    if not ok:
        raise LivedanceError(f"cannot encode a {sheet.shape[1]}x{sheet.shape[0]} PNG")
    try:
        path.write_bytes(encoded.tobytes())
    except OSError as exc:
        raise LivedanceError(f"cannot write {path}: {exc.strerror or exc}") from None
    return sheet.shape[1], sheet.shape[0]


def _draw_label(area: Image, action: Action) -> None:
    h, w = area.shape[:2]
    margin = max(2, w // 40)
    room = w - 2 * margin
    big = _fit_scale(action.name, room, h / 260)
    tags = ", ".join(sorted(action.tags))
    small = _fit_scale(tags, room, h / 360)
    y = margin + _text_h(big) + h // 10
    cv2.putText(area, action.name, (margin, y), _FONT, big, _TEXT, 1, cv2.LINE_AA)
    y += _text_h(small) + h // 8
    cv2.putText(area, tags, (margin, y), _FONT, small, _DIM, 1, cv2.LINE_AA)
    y += _text_h(small) + h // 8
    energy = f"energy {action.energy:.2f}"
    cv2.putText(area, energy, (margin, y), _FONT, small, _DIM, 1, cv2.LINE_AA)
    bar_y = y + h // 12
    bar_h = max(2, h // 30)
    cv2.rectangle(area, (margin, bar_y), (margin + room, bar_y + bar_h), _FAINT, -1)
    filled = margin + round(room * action.energy)
    cv2.rectangle(area, (margin, bar_y), (filled, bar_y + bar_h), _ENERGY, -1)


def _fit_scale(text: str, width_px: int, scale: float) -> float:
    """The largest font scale up to ``scale`` at which ``text`` fits in ``width_px``."""
    (text_w, _), _ = cv2.getTextSize(text, _FONT, scale, 1)
    return scale if text_w <= width_px else max(0.2, scale * width_px / text_w)


def _text_h(scale: float) -> int:
    (_, text_h), _ = cv2.getTextSize("Ag", _FONT, scale, 1)
    return int(text_h)
