"""Building blocks of the pix2pixHD generators: normalisation, residual blocks, down/upsampling.

Sits under `offline.pix2pixhd.networks` in the offline training path (DESIGN.md: prepared dataset
-> *train* -> export -> ONNX runtime). Every layer here exports to ONNX ops that ONNX Runtime's
CPU provider runs: depthwise convolutions are ``Conv`` with ``group = channels``, pixel shuffle
is ``DepthToSpace``, nearest upsampling is ``Resize``.

Block kinds (``GeneratorConfig.block``):

- ``residual``: pix2pixHD's two full 3x3 convolutions plus the identity;
- ``dwsep``: the same with depthwise-separable convolutions (depthwise 3x3, then pointwise 1x1),
  about 8x fewer multiply-adds at 128 channels;
- ``inverted``: MobileNetV2's inverted residual (1x1 expand, depthwise 3x3, 1x1 project).

Upsampling kinds (``GeneratorConfig.upsample``):

- ``transpose``: pix2pixHD's strided transposed 3x3 convolution;
- ``pixelshuffle``: a 3x3 convolution to 4x the channels, then pixel shuffle (sub-pixel conv);
- ``resize``: nearest 2x resize, then a 3x3 convolution (no checkerboard by construction).
"""

from __future__ import annotations

import torch
from torch import nn

BLOCKS = ("residual", "dwsep", "inverted")
UPSAMPLES = ("transpose", "pixelshuffle", "resize")
SKIPS = ("none", "add", "concat")


def norm(channels: int) -> nn.Module:
    """The generators' normalisation: instance norm without affine parameters (pix2pixHD)."""
    return nn.InstanceNorm2d(channels, affine=False)


class ResidualBlock(nn.Module):
    """Two reflection-padded 3x3 convolutions with instance norm, plus the identity."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3),
            norm(channels),
            nn.ReLU(True),
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3),
            norm(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def _separable(c_in: int, c_out: int) -> list[nn.Module]:
    """Reflection-padded depthwise 3x3 then pointwise 1x1 (a separable 3x3 convolution)."""
    return [
        nn.ReflectionPad2d(1),
        nn.Conv2d(c_in, c_in, 3, groups=c_in),
        nn.Conv2d(c_in, c_out, 1),
    ]


class SeparableResidualBlock(nn.Module):
    """`ResidualBlock` with both 3x3 convolutions depthwise-separable."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            *_separable(channels, channels),
            norm(channels),
            nn.ReLU(True),
            *_separable(channels, channels),
            norm(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class InvertedResidualBlock(nn.Module):
    """MobileNetV2's block: 1x1 expand (x ``expand``), depthwise 3x3, linear 1x1 project, + x."""

    def __init__(self, channels: int, expand: int) -> None:
        super().__init__()
        hidden = channels * expand
        self.body = nn.Sequential(
            nn.Conv2d(channels, hidden, 1),
            norm(hidden),
            nn.ReLU(True),
            nn.ReflectionPad2d(1),
            nn.Conv2d(hidden, hidden, 3, groups=hidden),
            norm(hidden),
            nn.ReLU(True),
            nn.Conv2d(hidden, channels, 1),
            norm(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def make_block(kind: str, channels: int, expand: int = 4) -> nn.Module:
    """One bottleneck block of ``kind`` (see `BLOCKS`) at ``channels``."""
    if kind == "residual":
        return ResidualBlock(channels)
    if kind == "dwsep":
        return SeparableResidualBlock(channels)
    if kind == "inverted":
        return InvertedResidualBlock(channels, expand)
    raise ValueError(f"unknown block {kind!r}; expected one of {', '.join(BLOCKS)}")


def down(c_in: int, c_out: int) -> list[nn.Module]:
    """A strided 3x3 convolution halving the size, instance norm, ReLU."""
    return [nn.Conv2d(c_in, c_out, 3, stride=2, padding=1), norm(c_out), nn.ReLU(True)]


def up(c_in: int, c_out: int, kind: str = "transpose") -> list[nn.Module]:
    """Double the size from ``c_in`` to ``c_out`` channels by ``kind`` (see `UPSAMPLES`)."""
    layers: list[nn.Module]
    if kind == "transpose":
        layers = [nn.ConvTranspose2d(c_in, c_out, 3, stride=2, padding=1, output_padding=1)]
    elif kind == "pixelshuffle":
        layers = [nn.Conv2d(c_in, c_out * 4, 3, padding=1), nn.PixelShuffle(2)]
    elif kind == "resize":
        layers = [
            nn.Upsample(scale_factor=2.0, mode="nearest"),
            nn.ReflectionPad2d(1),
            nn.Conv2d(c_in, c_out, 3),
        ]
    else:
        raise ValueError(f"unknown upsampling {kind!r}; expected one of {', '.join(UPSAMPLES)}")
    return [*layers, norm(c_out), nn.ReLU(True)]


def stem(c_out: int, c_in: int = 3) -> list[nn.Module]:
    """pix2pixHD's first layer: reflection-padded 7x7 convolution from RGB, norm, ReLU."""
    return [nn.ReflectionPad2d(3), nn.Conv2d(c_in, c_out, 7), norm(c_out), nn.ReLU(True)]


HEAD_KERNELS = (7, 3)


def head(c_in: int, c_out: int = 3, kernel: int = 7) -> list[nn.Module]:
    """pix2pixHD's output layer without its activation: a reflection-padded 7x7 convolution.

    ``kernel`` 3 is the light head: at full frame size with few output channels the 7x7
    convolution is the slowest layer of a small generator (about half its CPU time).
    """
    return [nn.ReflectionPad2d(kernel // 2), nn.Conv2d(c_in, c_out, kernel)]
