"""Pix2pixHD's losses: LSGAN, discriminator feature matching, VGG16 perceptual loss (pix2pixHD's
feature L1 and, optionally, LPIPS-VGG).

Used by `offline.pix2pixhd.train` (DESIGN.md, "Training"). The VGG16 is ImageNet VGG16's
convolution stack with the real weights from `offline.weights.load_weights("vgg16")`; LPIPS's
linear layers come from ``load_weights("lpips_vgg_lin")``.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from offline.metrics.lpips import lpips_from_features

FEATURE_MATCHING_LAMBDA = 10.0
VGG_LAMBDA = 10.0
# pix2pixHD's weights for relu1_1, relu2_1, relu3_1, relu4_1, relu5_1
VGG_LAYER_WEIGHTS = (1.0 / 32, 1.0 / 16, 1.0 / 8, 1.0 / 4, 1.0)
# torchvision VGG16 `features` layout: 'M' is a max pool
_VGG16_CFG = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512)
_FEATURE_TAPS = (1, 6, 11, 18, 25)  # indices into `features` of relu1_1 ... relu5_1
_LPIPS_TAPS = (3, 8, 15, 22, 29)  # relu1_2, relu2_2, relu3_3, relu4_3, relu5_3 (the lpips package)
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


def load_vgg16_features(weights: dict | None = None) -> nn.Sequential:
    """VGG16 ``features`` with ImageNet weights, frozen.

    Args:
        weights: ``features.{i}.weight/bias`` arrays (OIHW), as from
            ``offline.weights.load_weights("vgg16")``; ``None`` loads them (needs
            ``livedance weights install``).
    """
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
    return features.requires_grad_(False).eval()


class VGGLoss(nn.Module):
    """Perceptual loss on one VGG16 pass: pix2pixHD's feature L1 and/or LPIPS-VGG (x weights).

    The feature term is the weighted L1 between VGG16 relu{1..5}_1 features of fake and real
    (pix2pixHD). The LPIPS term is LPIPS v0.1 over VGG16 (relu1_2, relu2_2, relu3_3, relu4_3,
    relu5_3, unit-normalised over channels, weighted by the learned ``lpips_vgg_lin`` layers),
    the same trunk and input scaling, so both come from one forward pass. LPIPS-VGG is a
    training loss here: the quality table scores LPIPS over AlexNet, a different network.

    Args:
        weights: ``features.{i}.weight/bias`` arrays (OIHW), as from
            ``offline.weights.load_weights("vgg16")``; ``None`` loads them (needs
            ``livedance weights install``).
        feature_weight: weight of the feature L1 (pix2pixHD's lambda 10; 0 to leave it out).
        lpips_weight: weight of LPIPS-VGG (0: not computed).
        lpips_lins: ``lin{0..4}.weight`` arrays ``(1, C, 1, 1)``, as from
            ``load_weights("lpips_vgg_lin")``; ``None`` loads them when ``lpips_weight`` > 0.
    """

    def __init__(
        self,
        weights: dict | None = None,
        *,
        feature_weight: float = VGG_LAMBDA,
        lpips_weight: float = 0.0,
        lpips_lins: dict | None = None,
    ) -> None:
        super().__init__()
        if feature_weight <= 0.0 and lpips_weight <= 0.0:
            raise ValueError("a perceptual loss needs a feature or an LPIPS weight above 0")
        self.feature_weight, self.lpips_weight = feature_weight, lpips_weight
        taps = _FEATURE_TAPS if feature_weight > 0.0 else ()
        taps += _LPIPS_TAPS if lpips_weight > 0.0 else ()
        self.features = load_vgg16_features(weights)[: max(taps) + 1]
        self.lins = nn.ModuleList()
        if lpips_weight > 0.0:
            if lpips_lins is None:
                from offline.weights import load_weights

                lpips_lins = load_weights("lpips_vgg_lin")
            for i in range(len(_LPIPS_TAPS)):
                lin = torch.as_tensor(lpips_lins[f"lin{i}.weight"])
                self.lins.append(nn.Conv2d(lin.shape[1], 1, 1, bias=False))
                self.lins[-1].weight.data.copy_(lin)
        self.requires_grad_(False)
        self.eval()
        self.register_buffer("mean", torch.tensor(_IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(_IMAGENET_STD).view(1, 3, 1, 1))

    def train(self, mode: bool = True) -> VGGLoss:
        """Stays in eval mode (frozen feature extractor)."""
        return super().train(False)

    def _taps(self, x: torch.Tensor) -> dict[int, torch.Tensor]:
        x = ((x + 1.0) / 2.0 - self.mean) / self.std
        out = {}
        for i, layer in enumerate(self.features):
            x = layer(x)
            if i in _FEATURE_TAPS or i in _LPIPS_TAPS:
                out[i] = x
        return out

    def terms(self, fake: torch.Tensor, real: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(feature term, LPIPS term)``, each already weighted (0 when its weight is 0); both
        images ``(n, 3, h, w)`` RGB in [-1, 1]."""
        f_taps, r_taps = self._taps(fake), self._taps(real)
        features = torch.zeros((), device=fake.device)
        if self.feature_weight > 0.0:
            for w, i in zip(VGG_LAYER_WEIGHTS, _FEATURE_TAPS, strict=True):
                features = features + w * F.l1_loss(f_taps[i], r_taps[i].detach())
        lpips = torch.zeros((), device=fake.device)
        if self.lpips_weight > 0.0:
            f_lpips = [f_taps[i] for i in _LPIPS_TAPS]
            r_lpips = [r_taps[i].detach() for i in _LPIPS_TAPS]
            lpips = lpips_from_features(self.lins, f_lpips, r_lpips).mean()
        return self.feature_weight * features, self.lpips_weight * lpips

    def forward(self, fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        """The weighted sum of `terms`; both ``(n, 3, h, w)`` RGB in [-1, 1]."""
        features, lpips = self.terms(fake, real)
        return features + lpips
