"""Retrieval conditioning: the generator refines the training frame whose stick is nearest.

Sits inside the generator of `offline.pix2pixhd.networks` (DESIGN.md data flow: prepared dataset
-> *train* -> export -> ONNX runtime). On one person filmed in one place, the training frame of
the nearest pose is already a good answer (the nearest-neighbour baseline of ``livedance
evaluate``); a small generator that starts from it only has to move limbs and fix edges instead
of painting a person from nothing. The bank of frames and their stick keys are buffers of the
model, so the exported ONNX is still stick in, frame out: the lookup (a distance, ``ArgMin``,
``Gather``) is in the graph, and the live runtime needs nothing new. With a background plate the
generator starts as a copy of the nearest frame and learns where to paint over it and where to
show the plate instead (`over_nearest`).
With ``retrieval_stick`` the bank also keeps each frame's own stick and the generator sees it
beside the target stick, so it knows which of the retrieved frame's limbs to move (without it,
limbs where the two poses differ stay as ghosts).

The key of a stick figure is its image average-pooled to `KEY_SIDE_PX` a side (limb colours and
where they are), compared by squared distance. In training the frame's own neighbours in time
are left out of the lookup (`exclusion_mask`), as the time-split test frames have no
neighbour that close: otherwise the generator would learn to copy the bank.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import Dataset

from offline.pix2pixhd.data import PairDataset, to_tensor

KEY_SIDE_PX = 16
EXCLUDE_ROWS = 15
"""Training rows either side of a frame that its lookup skips (5 s at the 2.997 fps of
`livedance prepare`'s default): about as far as the test split's frames are from any training
frame they resemble."""


def stick_keys(stick: torch.Tensor) -> torch.Tensor:
    """``(n, 3, h, w)`` sticks in [-1, 1] -> ``(n, 3 * KEY_SIDE_PX**2)`` lookup keys in [0, 1]."""
    h = stick.shape[-2]
    pooled = F.avg_pool2d((stick + 1.0) * 0.5, h // KEY_SIDE_PX)
    return pooled.flatten(1)


class FrameBank(nn.Module):
    """``n_frames`` training frames at ``size`` (uint8) and the keys of their sticks.

    `forward` returns, for each stick, the bank frame of the nearest key as ``(n, 3, h, w)``
    in [-1, 1]. Filled once from the dataset by `fill` (the buffers travel in checkpoints).

    With ``stick_size`` the bank also holds each frame's own stick at that size, for `sticks`:
    beside the target stick, it tells the generator where the retrieved frame's limbs are.

    Args:
        n_frames: frames in the bank.
        size: ``(width, height)`` the frames are stored at (the generator's render size).
        key_size: ``(width, height)`` of the sticks keys are made from.
        stick_size: ``(width, height)`` to keep the frames' sticks at (None: not kept).
    """

    def __init__(
        self,
        n_frames: int,
        size: tuple[int, int],
        key_size: tuple[int, int],
        stick_size: tuple[int, int] | None = None,
    ) -> None:
        super().__init__()
        cell = key_size[1] // KEY_SIDE_PX
        if cell == 0 or key_size[1] % KEY_SIDE_PX or key_size[0] % cell:
            raise ValueError(f"retrieval needs a frame height divisible by {KEY_SIDE_PX}")
        n_key = 3 * KEY_SIDE_PX * (key_size[0] // cell)
        self.register_buffer("keys", torch.zeros(n_frames, n_key))
        self.register_buffer("key_norms", torch.zeros(n_frames))
        frames = torch.zeros(n_frames, 3, size[1], size[0], dtype=torch.uint8)
        self.register_buffer("frames", frames)
        self.register_buffer("rows", torch.zeros(n_frames, dtype=torch.int64))
        self.stick_size = stick_size
        if stick_size is not None:
            sticks = torch.zeros(n_frames, 3, stick_size[1], stick_size[0], dtype=torch.uint8)
            self.register_buffer("sticks", sticks)

    def fill(self, sticks: torch.Tensor, frames_rgb: np.ndarray, rows: np.ndarray) -> None:
        """Store ``sticks`` ``(k, 3, h, w)`` in [-1, 1] as keys, ``frames_rgb`` ``(k, h', w', 3)``
        uint8 at the bank's size, and the training ``rows`` they come from."""
        keys = stick_keys(sticks)
        self.keys.copy_(keys)
        self.key_norms.copy_((keys * keys).sum(1))
        self.frames.copy_(torch.from_numpy(np.ascontiguousarray(frames_rgb)).permute(0, 3, 1, 2))
        self.rows.copy_(torch.from_numpy(rows.astype(np.int64)))
        if self.stick_size is not None:
            small = F.interpolate(sticks, (self.stick_size[1], self.stick_size[0]), mode="area")
            self.sticks.copy_(((small + 1.0) * 127.5).round().clamp(0, 255).to(torch.uint8))

    def exclusion_mask(self, rows: torch.Tensor) -> torch.Tensor:
        """``(n, n_frames)`` True where a bank frame is within `EXCLUDE_ROWS` of ``rows`` (within
        a quarter of the rows on a dataset too short for that, so that frames remain)."""
        window = min(EXCLUDE_ROWS, int(self.rows.max()) // 4)
        return (self.rows[None, :] - rows[:, None]).abs() <= window

    def nearest(self, stick: torch.Tensor, exclude: torch.Tensor | None = None) -> torch.Tensor:
        """``(n,)`` bank index of the nearest key to each stick (``exclude``: True to skip)."""
        key = stick_keys(stick)
        # |k - b|^2 without |k|^2 (the same for every bank frame)
        distance = self.key_norms[None, :] - 2.0 * key @ self.keys.t()
        if exclude is not None:
            distance = distance.masked_fill(exclude, float("inf"))
        return torch.argmin(distance, dim=1)

    def forward(self, stick: torch.Tensor, exclude: torch.Tensor | None = None) -> torch.Tensor:
        return self.frame(self.nearest(stick, exclude))

    def frame(self, index: torch.Tensor) -> torch.Tensor:
        """Bank frames ``(n, 3, h, w)`` in [-1, 1] of ``index``."""
        return _signed(self.frames[index])

    def stick(self, index: torch.Tensor) -> torch.Tensor:
        """The bank frames' own sticks ``(n, 3, h', w')`` in [-1, 1] at ``stick_size``."""
        return _signed(self.sticks[index])


def _signed(images: torch.Tensor) -> torch.Tensor:
    """uint8 images as float in [-1, 1] (the generator's range)."""
    return images.float() * (2.0 / 255.0) - 1.0


def fill_from_dataset(bank: FrameBank, dataset: PairDataset) -> None:
    """Fill ``bank`` with training frames spread evenly over ``dataset`` (time order), each at
    the bank's size, and their sticks' keys."""
    n_frames, height, width = bank.frames.shape[0], bank.frames.shape[2], bank.frames.shape[3]
    rows = np.linspace(0, len(dataset) - 1, n_frames).round().astype(np.int64)
    sticks, frames = zip(*(dataset.images(int(i)) for i in rows), strict=True)
    small = [cv2.resize(f, (width, height), interpolation=cv2.INTER_AREA) for f in frames]
    with torch.no_grad():
        bank.fill(to_tensor(np.stack(sticks)), np.stack(small)[..., ::-1], rows)


class IndexedPairs(Dataset):
    """`PairDataset` items with their row: ``(stick, frame, row)``, for `FrameBank`'s exclusion
    of a training frame's neighbours in time."""

    def __init__(self, pairs: PairDataset) -> None:
        self.pairs = pairs

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, key: int | tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor, int]:
        index = key[0] if isinstance(key, tuple) else key
        stick, frame = self.pairs[key]
        return stick, frame, index


def over_nearest(out: torch.Tensor, nearest: torch.Tensor, plate: torch.Tensor) -> torch.Tensor:
    """Paint a head's colour ``out[:, :3]`` with alpha ``out[:, 3]`` over the nearest frame, shown
    where ``out[:, 4]`` keeps it and the plate (the empty room) elsewhere.

    The logits are offset so that an untrained head gives mostly the nearest frame (alpha 0.12,
    nearest 0.88): training starts from the nearest-neighbour answer instead of grey.
    """
    alpha = torch.sigmoid(out[:, 3:4] - 2.0)
    keep = torch.sigmoid(out[:, 4:5] + 2.0)
    base = keep * nearest + (1.0 - keep) * plate
    return alpha * torch.tanh(out[:, :3]) + (1.0 - alpha) * base
