"""LPIPS (Zhang et al. 2018), AlexNet, v0.1 linear layers: the perceptual metric of Table I.

Part of the OFFLINE ``model --evaluate-> quality table`` step of DESIGN.md. The network is the
``lpips`` package's ``LPIPS(net="alex", version="0.1")`` rebuilt in plain torch and loaded from the
weights that ``livedance weights install`` stores (`offline.weights`): no torchvision, no download.
For each of the five ReLU outputs of AlexNet the features of both images are unit-normalised over
channels, their squared difference is weighted by the learned 1x1 linear layer and averaged over
space; the five numbers are summed. Lower is more similar; identical images give 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from offline.weights import load_weights

# The lpips package's ScalingLayer: maps [-1, 1] RGB to ImageNet-normalised input.
_SHIFT = (-0.030, -0.088, -0.188)
_SCALE = (0.458, 0.448, 0.450)
_ALEX_TAPS = (1, 4, 7, 9, 11)  # indices of the ReLUs whose outputs are compared
_EPS = 1e-10


def _alexnet_features() -> nn.Sequential:
    """torchvision's ``alexnet().features`` up to relu5 (indices match the stored weight keys)."""
    return nn.Sequential(
        nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(64, 192, kernel_size=5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(192, 384, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.Conv2d(384, 256, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.Conv2d(256, 256, kernel_size=3, padding=1),
        nn.ReLU(),
    )


class LpipsAlex(nn.Module):
    """LPIPS v0.1 over AlexNet with the real (ImageNet + LPIPS) weights, in eval mode.

    Args:
        weights_dir: where ``livedance weights install`` put the weights (default: its folder).

    Raises:
        LivedanceError: the weights are not installed (the message says how to install them).
    """

    def __init__(self, weights_dir: Path | None = None) -> None:
        super().__init__()
        self.features = _alexnet_features()
        channels = (64, 192, 384, 256, 256)
        self.lins = nn.ModuleList(nn.Conv2d(c, 1, 1, bias=False) for c in channels)
        features = load_weights("alexnet", weights_dir)
        lins = load_weights("lpips_alex_lin", weights_dir)
        self.features.load_state_dict(
            {k.removeprefix("features."): torch.from_numpy(v) for k, v in features.items()}
        )
        for i, lin in enumerate(self.lins):
            lin.weight.data.copy_(torch.from_numpy(lins[f"lin{i}.weight"]))
        self.register_buffer("shift", torch.tensor(_SHIFT).view(1, 3, 1, 1))
        self.register_buffer("scale", torch.tensor(_SCALE).view(1, 3, 1, 1))
        self.eval()
        self.requires_grad_(False)

    def _taps(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = (x - self.shift) / self.scale
        taps = []
        for i, layer in enumerate(self.features):
            x = layer(x)
            if i in _ALEX_TAPS:
                taps.append(x)
        return taps

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Distances of image pairs.

        Args:
            x, y: ``(n, 3, h, w)`` RGB in [-1, 1].

        Returns:
            ``(n,)`` LPIPS distances.
        """
        return lpips_from_features(self.lins, self._taps(x), self._taps(y))


def lpips_from_features(
    lins: Sequence[nn.Module], taps_x: Sequence[torch.Tensor], taps_y: Sequence[torch.Tensor]
) -> torch.Tensor:
    """LPIPS's head: per tap, unit-normalise the features over channels, weight their squared
    difference by the tap's 1x1 linear layer, average over space; sum over taps.

    Args:
        lins: one ``Conv2d(C, 1, 1)`` per tap.
        taps_x, taps_y: ``(n, C, h, w)`` features of both images, tap by tap.

    Returns:
        ``(n,)`` distances.
    """
    total = torch.zeros(taps_x[0].shape[0], device=taps_x[0].device)
    for lin, fx, fy in zip(lins, taps_x, taps_y, strict=True):
        nx = fx / (torch.sqrt(torch.sum(fx**2, dim=1, keepdim=True)) + _EPS)
        ny = fy / (torch.sqrt(torch.sum(fy**2, dim=1, keepdim=True)) + _EPS)
        total = total + lin((nx - ny) ** 2).mean(dim=(1, 2, 3))
    return total


def bgr_to_lpips_input(frames_bgr: npt.NDArray[np.uint8] | Sequence[npt.NDArray]) -> torch.Tensor:
    """BGR uint8 ``(n, h, w, 3)`` images -> LPIPS input ``(n, 3, h, w)`` RGB in [-1, 1]."""
    arr = np.ascontiguousarray(np.asarray(frames_bgr)[..., ::-1].transpose(0, 3, 1, 2))
    return torch.from_numpy(arr.astype(np.float32) / 127.5 - 1.0)


@torch.no_grad()
def lpips_distances(
    model: LpipsAlex,
    frames_a_bgr: npt.NDArray[np.uint8],
    frames_b_bgr: npt.NDArray[np.uint8],
    *,
    batch_size: int = 16,
) -> npt.NDArray[np.float64]:
    """LPIPS of aligned BGR uint8 image batches.

    Args:
        model: an `LpipsAlex`.
        frames_a_bgr, frames_b_bgr: ``(n, h, w, 3)`` uint8, BGR (as OpenCV reads them).
        batch_size: pairs per forward pass.

    Returns:
        ``(n,)`` distances.
    """
    if frames_a_bgr.shape != frames_b_bgr.shape:
        raise ValueError(f"shapes differ: {frames_a_bgr.shape} vs {frames_b_bgr.shape}")
    out = []
    for start in range(0, len(frames_a_bgr), batch_size):
        a = bgr_to_lpips_input(frames_a_bgr[start : start + batch_size])
        b = bgr_to_lpips_input(frames_b_bgr[start : start + batch_size])
        out.append(model(a, b).double().numpy())
    return np.concatenate(out) if out else np.zeros(0)
