"""Sample grids of a training run: one row per pair, columns stick | generated | real.

Written by `offline.pix2pixhd.train` (`preview_batch` once, `save_preview` every
``sample_every`` iterations) into ``RUN_DIR/samples/`` so a user can watch the model learn.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn

from livedance.neural.contract import output_to_frames
from offline.pix2pixhd.checkpoint import atomic_write
from offline.pix2pixhd.data import PairDataset


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


def preview_batch(dataset: PairDataset, device: torch.device) -> tuple[torch.Tensor, ...]:
    """Up to 4 fixed training pairs spread over the dataset, for the sample grids."""
    n = min(4, len(dataset))
    picks = [round(i * (len(dataset) - 1) / max(1, n - 1)) for i in range(n)]
    sticks, reals = zip(*(dataset[i] for i in picks), strict=True)
    return torch.stack(sticks).to(device), torch.stack(reals).to(device)


def save_preview(
    net_g: nn.Module, preview: tuple[torch.Tensor, ...], out_dir: Path, it: int
) -> None:
    stick, real = preview
    was_training = net_g.training
    net_g.eval()
    with torch.no_grad():
        fake = net_g(stick)
    net_g.train(was_training)
    save_sample_grid(out_dir / "samples" / f"iter_{it:07d}.png", stick, fake, real)
