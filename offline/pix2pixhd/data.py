"""Training pairs from a dataset written by ``livedance prepare`` (stick PNG -> real frame PNG).

Sits between `offline.prepare` (which writes ``manifest.json``, ``index.csv``, ``frames/`` and
``sticks/``) and `offline.pix2pixhd.train`, with the order the loop draws them in
(`BatchStream`). The sticks are the ones prepare drew with the runtime renderer
(`livedance.skeleton.render_sticks`), so training sees what the live show draws.
No flips: left and right limbs have different colours.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset, DistributedSampler, Sampler

from livedance.errors import LivedanceError
from livedance.neural.contract import sticks_to_input
from offline.prepare.manifest import Manifest, load_manifest, read_index


def _read_bgr(path: Path, size: tuple[int, int]) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise LivedanceError(f"{path}: missing or unreadable image")
    if (image.shape[1], image.shape[0]) != size:
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return image


def to_tensor(images_bgr: np.ndarray) -> torch.Tensor:
    """BGR uint8 ``(n, h, w, 3)`` -> ``(n, 3, h, w)`` RGB float in [-1, 1] (the model contract)."""
    return torch.from_numpy(sticks_to_input(np.ascontiguousarray(images_bgr)))


class PairDataset(Dataset):
    """(stick, frame) pairs of one split, as tensors ``(3, h, w)`` in [-1, 1].

    Args:
        root: the prepared dataset folder.
        split: ``"train"`` or ``"test"``.
        size: ``(width, height)`` to train at (default: the dataset's size).
        jitter_px: random shift of up to this many pixels, the same for stick and frame
            (reflect-padded), 0 for none.
        cache: keep decoded images in memory (small datasets).

    Raises:
        LivedanceError: not a prepared dataset, or the split is empty.
    """

    def __init__(
        self,
        root: Path,
        split: str = "train",
        size: tuple[int, int] | None = None,
        jitter_px: int = 0,
        cache: bool = True,
    ) -> None:
        if not root.is_dir():
            raise LivedanceError(f"dataset folder {root} does not exist")
        self.root = root
        self.manifest: Manifest = load_manifest(root)
        try:
            rows = read_index(root)
        except OSError as exc:
            raise LivedanceError(f"{root}: cannot read the index ({exc})") from None
        self.rows = [r for r in rows if r["split"] == split]
        if not self.rows:
            raise LivedanceError(f"{root} has no {split!r} frames")
        self.size = size or self.manifest.size
        self.jitter_px = jitter_px
        self._cache: dict[int, tuple[np.ndarray, np.ndarray]] | None = {} if cache else None

    def __len__(self) -> int:
        return len(self.rows)

    def images(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """BGR uint8 ``(stick, frame)`` at the training size."""
        if self._cache is not None and index in self._cache:
            return self._cache[index]
        row = self.rows[index]
        pair = (
            _read_bgr(self.root / row["stick"], self.size),
            _read_bgr(self.root / row["frame"], self.size),
        )
        if self._cache is not None:
            self._cache[index] = pair
        return pair

    def __getitem__(self, key: int | tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
        """``key`` is an index or ``(index, jitter_seed)``: the jitter depends only on the seed,
        so a resumed run (or any number of loader workers) sees exactly the same pairs."""
        index, jitter_seed = key if isinstance(key, tuple) else (key, 0)
        stick, frame = self.images(index)
        both = to_tensor(np.stack([stick, frame]))
        if self.jitter_px:
            rng = np.random.default_rng(jitter_seed)
            dx, dy = (int(v) for v in rng.integers(-self.jitter_px, self.jitter_px + 1, 2))
            both = _shift(both, dx, dy)
        return both[0], both[1]


def background_plate(dataset: PairDataset, max_frames: int = 240) -> torch.Tensor:
    """The still background of a dataset's frames: each pixel's median over the frames where the
    person is not there (their stick figure, widened to a body, does not cover it).

    Pixels the person covers in every frame take their median over all frames.

    Args:
        dataset: training pairs (a still camera and a fixed crop, as ``prepare`` makes).
        max_frames: frames used, spread evenly over the dataset.

    Returns:
        ``(1, 3, h, w)`` RGB in [-1, 1], the start of `PlateComposite.plate`.
    """
    picks = np.unique(np.linspace(0, len(dataset) - 1, min(max_frames, len(dataset))).astype(int))
    sticks, frames = zip(*(dataset.images(int(i)) for i in picks), strict=True)
    frames_f = np.stack(frames).astype(np.float32)
    h = frames_f.shape[1]
    reach = max(3, round(0.06 * h))  # a limb is much wider than its stick line
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1, 2 * reach + 1))
    covered = np.stack([cv2.dilate((s.max(axis=2) > 0).astype(np.uint8), kernel) for s in sticks])
    masked = np.where(covered[..., None] > 0, np.nan, frames_f)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN pixels: filled below
        plate = np.nanmedian(masked, axis=0)
    plate = np.where(np.isnan(plate), np.median(frames_f, axis=0), plate)
    return to_tensor(np.clip(plate, 0, 255).astype(np.uint8)[None])


def _shift(images: torch.Tensor, dx: int, dy: int) -> torch.Tensor:
    """Translate ``(n, 3, h, w)`` by (dx, dy) pixels with reflection at the borders."""
    if dx == 0 and dy == 0:
        return images
    p = max(abs(dx), abs(dy))
    padded = torch.nn.functional.pad(images, (p, p, p, p), mode="reflect")
    h, w = images.shape[-2:]
    return padded[..., p - dy : p - dy + h, p - dx : p - dx + w]


class BatchStream(Sampler):
    """Batches of ``(index, jitter_seed)`` for iterations ``start..stop-1`` of one rank.

    Epoch ``e`` is `DistributedSampler`'s shuffle for epoch ``e`` (seeded), cut into
    ``batch_size`` pieces; a dataset smaller than a batch repeats.
    """

    def __init__(
        self, n_items: int, batch_size: int, rank: int, world: int, seed: int, start: int, stop: int
    ) -> None:
        self.sampler = DistributedSampler(
            range(n_items), num_replicas=world, rank=rank, shuffle=True, seed=seed
        )
        self.batch_size, self.rank, self.world, self.seed = batch_size, rank, world, seed
        self.start, self.stop = start, stop
        self.per_epoch = max(1, len(self.sampler) // batch_size)

    def __len__(self) -> int:
        return max(0, self.stop - self.start)

    def __iter__(self):
        epoch, order = -1, []
        for it in range(self.start, self.stop):
            e, offset = divmod(it, self.per_epoch)
            if e != epoch:
                epoch = e
                self.sampler.set_epoch(e)
                order = list(self.sampler)
                while len(order) < self.batch_size:
                    order = order + order
            base = (self.seed * 1_000_003 + it) * self.world * self.batch_size
            picks = order[offset * self.batch_size : (offset + 1) * self.batch_size]
            yield [(i, base + self.rank * self.batch_size + k) for k, i in enumerate(picks)]
