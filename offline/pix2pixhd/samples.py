"""Sample grids of a training run: one row per pair, columns stick | generated | real.

Written by `offline.pix2pixhd.train` into ``RUN_DIR/samples/`` so a user can watch the model learn.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch

from livedance.neural.contract import output_to_frames
from offline.pix2pixhd.checkpoint import atomic_write


def save_sample_grid(
    path: Path, stick: torch.Tensor, fake: torch.Tensor, real: torch.Tensor
) -> None:
    """Write a PNG grid (rows = pairs; columns stick | generated | real) atomically.

    Args:
        path: output ``.png``.
        stick, fake, real: ``(n, 3, h, w)`` RGB in [-1, 1] (the model contract).
    """
    columns = [output_to_frames(t.detach().float().cpu().numpy()) for t in (stick, fake, real)]
    rows = [np.concatenate([c[i] for c in columns], axis=1) for i in range(len(columns[0]))]
    ok, data = cv2.imencode(".png", np.concatenate(rows, axis=0))
    if not ok:
        raise RuntimeError("PNG encoding failed")
    atomic_write(path, lambda f: f.write(data.tobytes()))
