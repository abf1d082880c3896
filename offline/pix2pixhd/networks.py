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

from offline.pix2pixhd.layers import (
    BLOCKS,
    HEAD_KERNELS,
    SKIPS,
    UPSAMPLES,
    ResidualBlock,
    down,
    head,
    make_block,
    norm,
    stem,
    up,
)
from offline.pix2pixhd.retrieval import FrameBank, over_nearest

RENDER_SCALES = (1.0, 0.5)


@dataclass(frozen=True)
class GeneratorConfig:
    """Architecture numbers of the generator (stored in checkpoints and the ONNX contract).

    The defaults are pix2pixHD's global generator at the real-time width; a config with only the
    first five fields (an older checkpoint or contract) builds exactly the network it always did.

    Attributes:
        ngf: filters of the first layer (doubles at each downsampling).
        n_downsample: strided 3x3 convolutions (spatial factor 2 each).
        n_blocks: residual blocks at the bottleneck.
        local_enhancer: add pix2pixHD's local enhancer (the global net then runs at half size).
        background_plate: the generator paints the person with an alpha mask over a learned
            background image (see `PlateComposite`); for videos shot with a still camera.
        block: bottleneck block, ``residual`` | ``dwsep`` | ``inverted`` (see `layers`).
        upsample: ``transpose`` | ``pixelshuffle`` | ``resize`` (see `layers`).
        skips: U-Net skips from each down stage to the up stage of the same size: ``none`` |
            ``add`` | ``concat``.
        render_scale: 1.0, or 0.5 to run the whole body at half the frame size (the model
            downsamples its input itself) with a learned pixel-shuffle upsampler back to full size.
        expand: channel expansion of the ``inverted`` block.
        head_kernel: side of the full-size output convolution, 7 (pix2pixHD) or 3 (about 5x
            cheaper; the slowest layer of a small generator at 7).
        retrieval: frames in a bank of training frames; the generator also sees the one whose
            stick is nearest (`offline.pix2pixhd.retrieval`). 0: none.
        retrieval_stick: with retrieval, the generator's input also holds that frame's own
            stick, so it sees which limbs to move (the bank keeps the sticks at render size).
    """

    ngf: int = 16
    n_downsample: int = 3
    n_blocks: int = 6
    local_enhancer: bool = False
    background_plate: bool = False
    block: str = "residual"
    upsample: str = "transpose"
    skips: str = "none"
    render_scale: float = 1.0
    expand: int = 4
    head_kernel: int = 7
    retrieval: int = 0
    retrieval_stick: bool = False

    def __post_init__(self) -> None:
        for name, value, allowed in (
            ("block", self.block, BLOCKS),
            ("upsample", self.upsample, UPSAMPLES),
            ("skips", self.skips, SKIPS),
            ("render_scale", self.render_scale, RENDER_SCALES),
            ("head_kernel", self.head_kernel, HEAD_KERNELS),
        ):
            if value not in allowed:
                raise ValueError(f"{name} {value!r} is not one of {', '.join(map(str, allowed))}")
        if self.retrieval_stick and not self.retrieval:
            raise ValueError("the retrieved frame's stick needs retrieval")
        if self.local_enhancer and self.efficient:
            raise ValueError(
                "the local enhancer takes the pix2pixHD blocks only (residual, transpose,"
                " no skips, render scale 1, 7x7 head, no retrieval)"
            )

    @property
    def efficient(self) -> bool:
        """True when an option beyond pix2pixHD's is set (built by `EfficientGenerator`)."""
        return self.retrieval > 0 or (
            self.block,
            self.upsample,
            self.skips,
            self.render_scale,
            self.head_kernel,
        ) != ("residual", "transpose", "none", 1.0, 7)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly view, with the architecture name."""
        return {"arch": "pix2pixhd-global", **asdict(self)}

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> GeneratorConfig:
        """Inverse of `to_dict` (ignores unknown keys; missing new keys take their defaults)."""
        default = cls()
        return cls(
            ngf=int(doc["ngf"]),
            n_downsample=int(doc["n_downsample"]),
            n_blocks=int(doc["n_blocks"]),
            local_enhancer=bool(doc.get("local_enhancer", False)),
            background_plate=bool(doc.get("background_plate", False)),
            block=str(doc.get("block", default.block)),
            upsample=str(doc.get("upsample", default.upsample)),
            skips=str(doc.get("skips", default.skips)),
            render_scale=float(doc.get("render_scale", default.render_scale)),
            expand=int(doc.get("expand", default.expand)),
            head_kernel=int(doc.get("head_kernel", default.head_kernel)),
            retrieval=int(doc.get("retrieval", default.retrieval)),
            retrieval_stick=bool(doc.get("retrieval_stick", False)),
        )


def global_trunk(ngf: int, n_downsample: int, n_blocks: int) -> list[nn.Module]:
    """Layers of the global generator up to (not including) its 7x7 output convolution."""
    layers = stem(ngf)
    for i in range(n_downsample):
        layers += down(ngf * 2**i, ngf * 2 ** (i + 1))
    width = ngf * 2**n_downsample
    layers += [ResidualBlock(width) for _ in range(n_blocks)]
    for i in reversed(range(n_downsample)):
        layers += up(ngf * 2 ** (i + 1), ngf * 2**i)
    return layers


def _head(ngf: int) -> list[nn.Module]:
    return [*head(ngf), nn.Tanh()]


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
            *stem(ngf),
            *down(ngf, ngf * 2),
        )
        self.local_up = nn.Sequential(
            *[ResidualBlock(ngf * 2) for _ in range(3)], *up(ngf * 2, ngf), *_head(ngf)
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
        self.head = nn.Sequential(*head(ngf, 4))
        self.plate = nn.Parameter(torch.zeros(1, 3, size[1], size[0]))

    def forward(self, stick: torch.Tensor) -> torch.Tensor:
        return composite(self.head(self.body(stick)), self.plate)


def composite(rgba: torch.Tensor, plate: torch.Tensor) -> torch.Tensor:
    """A head's colour and alpha logits ``(n, 4, h, w)`` over the background ``plate``."""
    alpha = torch.sigmoid(rgba[:, 3:4])
    return alpha * torch.tanh(rgba[:, :3]) + (1.0 - alpha) * plate


class EfficientGenerator(nn.Module):
    """The global generator with the efficient options of `GeneratorConfig`.

    Stem, strided downsampling and a bottleneck of ``n_blocks`` blocks of kind ``block``, then
    ``upsample`` stages back up, each optionally joined (added or concatenated) with the down
    stage features of its size (U-Net skips). With ``render_scale`` 0.5 all of this runs on the
    stick average-pooled to half size, and a pixel-shuffle upsampler brings the features to full
    size, where they meet the full-size stick (sharp limb edges) in the 7x7 output layer. With
    a background plate the output layer gives colour and alpha over the learned plate. With
    retrieval the training frame of the nearest stick (`FrameBank`) joins the stick at the input
    and at the output layer; with a plate as well, the output layer paints over that frame
    where it fits and the plate where it does not (`over_nearest`).
    Stick ``(n, 3, h, w)`` in, frame ``(n, 3, h, w)`` out, whatever the options.
    """

    def __init__(self, config: GeneratorConfig, size: tuple[int, int] | None = None) -> None:
        super().__init__()
        ngf, n = config.ngf, config.n_downsample
        self.skips, self.half = config.skips, config.render_scale < 1.0
        self.bank: FrameBank | None = None
        if config.retrieval:
            if size is None:
                raise ValueError("retrieval needs the frame size")
            render = (size[0] // 2, size[1] // 2) if self.half else size
            sticks = render if config.retrieval_stick else None
            self.bank = FrameBank(config.retrieval, size, size, sticks)
        guide = 3 if self.bank is not None else 0
        stick_guide = 3 if config.retrieval_stick else 0
        self.stem = nn.Sequential(*stem(ngf, 3 + guide + stick_guide))
        self.downs = nn.ModuleList(
            nn.Sequential(*down(ngf * 2**i, ngf * 2 ** (i + 1))) for i in range(n)
        )
        width = ngf * 2**n
        self.blocks = nn.Sequential(
            *[make_block(config.block, width, config.expand) for _ in range(config.n_blocks)]
        )
        widen = 2 if config.skips == "concat" else 1
        self.ups = nn.ModuleList(
            nn.Sequential(
                *up(ngf * 2 ** (i + 1) * (widen if i + 1 < n else 1), ngf * 2**i, config.upsample)
            )
            for i in reversed(range(n))
        )
        features = ngf * widen
        self.upscale: nn.Module = nn.Identity()
        if self.half:
            full = max(8, ngf // 2)
            self.upscale = nn.Sequential(
                nn.Conv2d(features, full * 4, 3, padding=1),
                nn.PixelShuffle(2),
                norm(full),
                nn.ReLU(True),
            )
            features = full + 3 + guide  # the full-size stick (and nearest frame) join here
        self.plate: nn.Parameter | None = None
        if config.background_plate:
            if size is None:
                raise ValueError("a background plate needs the frame size")
            self.plate = nn.Parameter(torch.zeros(1, 3, size[1], size[0]))
        # colour; with a plate, alpha too; with a plate and a nearest frame, where to keep it
        out_channels = 3 if self.plate is None else 5 if self.bank is not None else 4
        self.head = nn.Sequential(*head(features, out_channels, config.head_kernel))

    def forward(self, stick: torch.Tensor, rows: torch.Tensor | None = None) -> torch.Tensor:
        """``rows``: in training with retrieval, the sticks' dataset rows (their neighbours in
        time are left out of the lookup)."""
        x = F.avg_pool2d(stick, 2) if self.half else stick
        nearest = None
        if self.bank is not None:
            exclude = None if rows is None else self.bank.exclusion_mask(rows)
            index = self.bank.nearest(stick, exclude)
            nearest = self.bank.frame(index)
            x = torch.cat([x, F.avg_pool2d(nearest, 2) if self.half else nearest], 1)
            if self.bank.stick_size is not None:
                x = torch.cat([x, self.bank.stick(index)], 1)
        levels = [self.stem(x)]
        for stage in self.downs:
            levels.append(stage(levels[-1]))
        x = self.blocks(levels.pop())
        for stage in self.ups:
            x = stage(x)
            skip = levels.pop()
            if self.skips == "add":
                x = x + skip
            elif self.skips == "concat":
                x = torch.cat([x, skip], 1)
        if self.half:
            joins = [self.upscale(x), stick]
            if nearest is not None:
                joins.append(nearest)
            x = torch.cat(joins, 1)
        out = self.head(x)
        if self.plate is None:
            return torch.tanh(out)
        return (
            composite(out, self.plate)
            if nearest is None
            else over_nearest(out, nearest, self.plate)
        )


def build_generator(config: GeneratorConfig, size: tuple[int, int] | None = None) -> nn.Module:
    """The generator for ``config`` (input and output ``(n, 3, h, w)`` in [-1, 1]).

    Args:
        config: architecture numbers; h and w must be multiples of `size_multiple`.
        size: ``(width, height)`` of the frames; needed (and fixed) with a background plate.

    Returns:
        an initialised (N(0, 0.02) convolutions) `nn.Module`.

    Raises:
        ValueError: a background plate without a size, or with the local enhancer.
    """
    net: nn.Module
    if config.efficient:
        net = EfficientGenerator(config, size)
    elif config.background_plate:
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
    return 2 ** (config.n_downsample + int(config.local_enhancer) + int(config.render_scale < 1))


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
                    nn.Conv2d(previous, width, 4, stride, 2), norm(width), nn.LeakyReLU(0.2, True)
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
