"""Pix2pixHD networks built from a few numbers: global generator, local enhancer, multi-scale D.

Sits in the offline training path (DESIGN.md data flow: prepared dataset -> *train* -> export ->
ONNX runtime). Tensors follow `livedance.neural.contract`: input ``stick`` and output ``frame``
are ``(n, 3, h, w)`` RGB in [-1, 1].
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F


@dataclass(frozen=True)
class GeneratorConfig:
    """Architecture numbers of the generator (stored in checkpoints and the ONNX contract).

    Attributes:
        ngf: filters of the first layer (doubles at each downsampling).
        n_downsample: strided 3x3 convolutions (spatial factor 2 each).
        n_blocks: residual blocks at the bottleneck.
        local_enhancer: add pix2pixHD's local enhancer (the global net then runs at half size).
        background_plate: the generator paints the person with an alpha mask over a learned
            background image (see `PlateComposite`); for videos shot with a still camera.
    """

    ngf: int = 16
    n_downsample: int = 3
    n_blocks: int = 6
    local_enhancer: bool = False
    background_plate: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly view, with the architecture name."""
        return {"arch": "pix2pixhd-global", **asdict(self)}

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> GeneratorConfig:
        """Inverse of `to_dict` (ignores unknown keys)."""
        return cls(
            ngf=int(doc["ngf"]),
            n_downsample=int(doc["n_downsample"]),
            n_blocks=int(doc["n_blocks"]),
            local_enhancer=bool(doc.get("local_enhancer", False)),
            background_plate=bool(doc.get("background_plate", False)),
        )


def _norm(channels: int) -> nn.Module:
    return nn.InstanceNorm2d(channels, affine=False)


class ResidualBlock(nn.Module):
    """Two reflection-padded 3x3 convolutions with instance norm, plus the identity."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3),
            _norm(channels),
            nn.ReLU(True),
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3),
            _norm(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def _down(c_in: int, c_out: int) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, 3, stride=2, padding=1), _norm(c_out), nn.ReLU(True)]


def _up(c_in: int, c_out: int) -> list[nn.Module]:
    return [
        nn.ConvTranspose2d(c_in, c_out, 3, stride=2, padding=1, output_padding=1),
        _norm(c_out),
        nn.ReLU(True),
    ]


def global_trunk(ngf: int, n_downsample: int, n_blocks: int) -> list[nn.Module]:
    """Layers of the global generator up to (not including) its 7x7 output convolution."""
    layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(3, ngf, 7), _norm(ngf)]
    layers.append(nn.ReLU(True))
    for i in range(n_downsample):
        layers += _down(ngf * 2**i, ngf * 2 ** (i + 1))
    width = ngf * 2**n_downsample
    layers += [ResidualBlock(width) for _ in range(n_blocks)]
    for i in reversed(range(n_downsample)):
        layers += _up(ngf * 2 ** (i + 1), ngf * 2**i)
    return layers


def _head(ngf: int) -> list[nn.Module]:
    return [nn.ReflectionPad2d(3), nn.Conv2d(ngf, 3, 7), nn.Tanh()]


class GlobalGenerator(nn.Module):
    """pix2pixHD's global generator: 7x7 conv, downsampling, residual blocks, upsampling, tanh."""

    def __init__(self, ngf: int, n_downsample: int, n_blocks: int) -> None:
        super().__init__()
        self.model = nn.Sequential(*global_trunk(ngf, n_downsample, n_blocks), *_head(ngf))

    def forward(self, stick: torch.Tensor) -> torch.Tensor:
        return self.model(stick)


class LocalEnhancer(nn.Module):
    """pix2pixHD's local enhancer: a global generator (ngf*2) at half size feeds a full-size branch.

    The global trunk's features (without its output head) are added to the local branch's
    downsampled features, then residual blocks and one upsampling bring them back to full size.
    """

    def __init__(self, ngf: int, n_downsample: int, n_blocks: int) -> None:
        super().__init__()
        self.global_trunk = nn.Sequential(*global_trunk(ngf * 2, n_downsample, n_blocks))
        self.local_down = nn.Sequential(
            nn.ReflectionPad2d(3),
            nn.Conv2d(3, ngf, 7),
            _norm(ngf),
            nn.ReLU(True),
            *_down(ngf, ngf * 2),
        )
        self.local_up = nn.Sequential(
            *[ResidualBlock(ngf * 2) for _ in range(3)], *_up(ngf * 2, ngf), *_head(ngf)
        )

    def forward(self, stick: torch.Tensor) -> torch.Tensor:
        half = F.avg_pool2d(stick, 3, stride=2, padding=1, count_include_pad=False)
        return self.local_up(self.local_down(stick) + self.global_trunk(half))


class PlateComposite(nn.Module):
    """The global generator painting a person over a still background: a * rgb + (1 - a) * plate.

    Pix2pixHD must redraw the whole frame, background included, from the stick figure alone;
    with a still camera the background is the same in every frame, and a small generator spends
    most of its capacity (and its errors) on it. Here the output head gives colour and an alpha
    mask, and the background is a learned image (a parameter of the model, started from the
    training frames' background, see `offline.pix2pixhd.data.background_plate`). The exported
    model is still stick in, frame out.
    """

    def __init__(self, ngf: int, n_downsample: int, n_blocks: int, size: tuple[int, int]) -> None:
        super().__init__()
        self.body = nn.Sequential(*global_trunk(ngf, n_downsample, n_blocks))
        self.head = nn.Sequential(nn.ReflectionPad2d(3), nn.Conv2d(ngf, 4, 7))
        self.plate = nn.Parameter(torch.zeros(1, 3, size[1], size[0]))

    def forward(self, stick: torch.Tensor) -> torch.Tensor:
        out = self.head(self.body(stick))
        alpha = torch.sigmoid(out[:, 3:4])
        return alpha * torch.tanh(out[:, :3]) + (1.0 - alpha) * self.plate


def build_generator(config: GeneratorConfig, size: tuple[int, int] | None = None) -> nn.Module:
    """The generator for ``config`` (input and output ``(n, 3, h, w)`` in [-1, 1]).

    Args:
        config: architecture numbers; h and w must be multiples of ``2**n_downsample`` (times 2
            with the local enhancer).
        size: ``(width, height)`` of the frames; needed (and fixed) with a background plate.

    Returns:
        an initialised (N(0, 0.02) convolutions) `nn.Module`.

    Raises:
        ValueError: a background plate without a size, or with the local enhancer.
    """
    net: nn.Module
    if config.background_plate:
        if size is None or config.local_enhancer:
            raise ValueError("a background plate needs the frame size and the global generator")
        net = PlateComposite(config.ngf, config.n_downsample, config.n_blocks, size)
    else:
        cls = LocalEnhancer if config.local_enhancer else GlobalGenerator
        net = cls(config.ngf, config.n_downsample, config.n_blocks)
    net.apply(_init_weights)
    return net


def size_multiple(config: GeneratorConfig) -> int:
    """Frame sides must be divisible by this for the generator's output to match its input."""
    return 2 ** (config.n_downsample + int(config.local_enhancer))


class PatchDiscriminator(nn.Module):
    """A PatchGAN with ``n_layers`` strided 4x4 convolutions; returns every layer's output."""

    def __init__(self, in_channels: int, ndf: int, n_layers: int) -> None:
        super().__init__()
        blocks: list[nn.Module] = [
            nn.Sequential(nn.Conv2d(in_channels, ndf, 4, 2, 2), nn.LeakyReLU(0.2, True))
        ]
        width = ndf
        for i in range(1, n_layers + 1):
            previous, width = width, min(ndf * 2**i, 512)
            stride = 2 if i < n_layers else 1
            blocks.append(
                nn.Sequential(
                    nn.Conv2d(previous, width, 4, stride, 2), _norm(width), nn.LeakyReLU(0.2, True)
                )
            )
        blocks.append(nn.Sequential(nn.Conv2d(width, 1, 4, 1, 2)))
        self.blocks = nn.ModuleList(blocks)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        features = []
        for block in self.blocks:
            x = block(x)
            features.append(x)
        return features


class MultiscaleDiscriminator(nn.Module):
    """``num_d`` PatchGANs on the input downsampled 1x, 2x, 4x, ... (pix2pixHD uses 3).

    The input is the stick and the frame concatenated on channels (conditional GAN).
    """

    def __init__(self, ndf: int = 64, n_layers: int = 3, num_d: int = 3, in_channels: int = 6):
        super().__init__()
        self.scales = nn.ModuleList(
            PatchDiscriminator(in_channels, ndf, n_layers) for _ in range(num_d)
        )
        self.apply(_init_weights)

    def forward(self, x: torch.Tensor) -> list[list[torch.Tensor]]:
        """Returns, per scale (finest first), the list of layer outputs (last = patch scores)."""
        outputs = []
        for i, d in enumerate(self.scales):
            if i:
                x = F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)
            outputs.append(d(x))
        return outputs


def _init_weights(module: nn.Module) -> None:
    if isinstance(module, nn.Conv2d | nn.ConvTranspose2d):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
