"""Pix2pixHD's losses: LSGAN, discriminator feature matching, VGG16 perceptual loss.

Used by `offline.pix2pixhd.train` (DESIGN.md, "Training"). The VGG16 is ImageNet VGG16's
convolution stack with the real weights from `offline.weights.load_weights("vgg16")`.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

FEATURE_MATCHING_LAMBDA = 10.0
VGG_LAMBDA = 10.0
# pix2pixHD's weights for relu1_1, relu2_1, relu3_1, relu4_1, relu5_1
VGG_LAYER_WEIGHTS = (1.0 / 32, 1.0 / 16, 1.0 / 8, 1.0 / 4, 1.0)
# torchvision VGG16 `features` layout: 'M' is a max pool
_VGG16_CFG = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512)
_SLICE_ENDS = (2, 7, 12, 19, 26)  # exclusive indices into `features` after relu1_1 ... relu5_1
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


def lsgan_loss(outputs: list[list[torch.Tensor]], target_real: bool) -> torch.Tensor:
    """Least-squares GAN loss over every discriminator scale (last layer = patch scores)."""
    target = 1.0 if target_real else 0.0
    return sum(
        (F.mse_loss(o[-1], torch.full_like(o[-1], target)) for o in outputs),
        torch.zeros((), device=outputs[0][-1].device),
    )


def feature_matching_loss(
    fake: list[list[torch.Tensor]], real: list[list[torch.Tensor]]
) -> torch.Tensor:
    """L1 between D's intermediate features of fake and real, weighted as pix2pixHD (x lambda)."""
    n_d, n_layers = len(fake), len(fake[0]) - 1
    weight = FEATURE_MATCHING_LAMBDA * (4.0 / (n_layers + 1)) / n_d
    total = torch.zeros((), device=fake[0][0].device)
    for f_scale, r_scale in zip(fake, real, strict=True):
        for f, r in zip(f_scale[:-1], r_scale[:-1], strict=True):
            total = total + weight * F.l1_loss(f, r.detach())
    return total


def build_vgg16_features() -> nn.Sequential:
    """torchvision-compatible VGG16 ``features`` (conv 3x3 + ReLU, max pools), uninitialised."""
    layers: list[nn.Module] = []
    c_in = 3
    for item in _VGG16_CFG:
        if item == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(c_in, int(item), 3, padding=1), nn.ReLU(inplace=False)]
            c_in = int(item)
    return nn.Sequential(*layers)


class VGGLoss(nn.Module):
    """Perceptual loss: weighted L1 between VGG16 relu{1..5}_1 features of fake and real (x lambda).

    Args:
        weights: ``features.{i}.weight/bias`` arrays (OIHW), as from
            ``offline.weights.load_weights("vgg16")``; ``None`` loads them (needs
            ``livedance weights install``).
    """

    def __init__(self, weights: dict | None = None) -> None:
        super().__init__()
        if weights is None:
            from offline.weights import load_weights

            weights = load_weights("vgg16")
        features = build_vgg16_features()
        state = {
            k.removeprefix("features."): torch.as_tensor(v)
            for k, v in weights.items()
            if k.startswith("features.")
        }
        features.load_state_dict(state, strict=True)
        features = features[: _SLICE_ENDS[-1]]
        starts = (0, *_SLICE_ENDS[:-1])
        self.slices = nn.ModuleList(features[a:b] for a, b in zip(starts, _SLICE_ENDS, strict=True))
        for p in self.parameters():
            p.requires_grad_(False)
        self.eval()
        self.register_buffer("mean", torch.tensor(_IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(_IMAGENET_STD).view(1, 3, 1, 1))

    def train(self, mode: bool = True) -> VGGLoss:
        """Stays in eval mode (frozen feature extractor)."""
        return super().train(False)

    def _features(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = ((x + 1.0) / 2.0 - self.mean) / self.std
        out = []
        for s in self.slices:
            x = s(x)
            out.append(x)
        return out

    def forward(self, fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        """Both ``(n, 3, h, w)`` RGB in [-1, 1]."""
        total = torch.zeros((), device=fake.device)
        pairs = zip(self._features(fake), self._features(real), strict=True)
        for w, (f, r) in zip(VGG_LAYER_WEIGHTS, pairs, strict=True):
            total = total + w * F.l1_loss(f, r.detach())
        return VGG_LAMBDA * total
