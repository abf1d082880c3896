"""Randomly initialised generators exported to ONNX, for timing only (`livedance bench render`).

How fast a generator runs depends on its architecture numbers (ngf, downsamplings, residual
blocks) and the frame size, not on its weights, so the benchmark builds the paper's width and the
real-time widths without training anything. The models carry a livedance contract (default Body)
so they run through exactly the runtime path a trained model takes. The architecture is the
project's own (`offline.pix2pixhd.networks`), so timings describe what `livedance train` makes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def export_timing_model(
    path: str | Path,
    *,
    ngf: int = 16,
    n_downsample: int = 3,
    n_blocks: int = 6,
    size_px: int = 256,
    config: Any = None,
) -> Path:
    """Export a random-weight generator with a livedance contract to ``path``.

    Args:
        path: the ``.onnx`` file to write.
        ngf, n_downsample, n_blocks: the architecture numbers of a pix2pixHD global generator.
        size_px: square frame size the contract promises.
        config: a whole `offline.pix2pixhd.networks.GeneratorConfig` instead of the three numbers
            (any block, upsampling, skips, render scale, background plate).

    Returns:
        ``path``.
    """
    import torch

    from livedance.body import DEFAULT_BODY
    from livedance.neural.contract import ModelContract
    from offline.pix2pixhd.export import write_onnx
    from offline.pix2pixhd.networks import GeneratorConfig
    from offline.pix2pixhd.networks import build_generator as build

    path = Path(path)
    if config is None:
        config = GeneratorConfig(ngf=ngf, n_downsample=n_downsample, n_blocks=n_blocks)
    torch.manual_seed(0)
    net = build(config, (size_px, size_px)).eval()
    contract = ModelContract(
        width_px=size_px,
        height_px=size_px,
        body=DEFAULT_BODY,
        generator=config.to_dict(),
        training={"note": "random weights, for timing only"},
    )
    with torch.no_grad():
        write_onnx(net, torch.zeros(1, 3, size_px, size_px), path, contract)
    return path
