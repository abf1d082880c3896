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


def build_generator(ngf: int, n_downsample: int, n_blocks: int) -> Any:
    """A pix2pixHD global generator (3 -> 3 channels, instance norm, tanh) with random weights."""
    from offline.pix2pixhd.networks import GeneratorConfig
    from offline.pix2pixhd.networks import build_generator as build

    return build(GeneratorConfig(ngf=ngf, n_downsample=n_downsample, n_blocks=n_blocks))


def export_timing_model(
    path: str | Path, *, ngf: int, n_downsample: int, n_blocks: int, size_px: int = 256
) -> Path:
    """Export a random-weight generator with a livedance contract to ``path``.

    Args:
        path: the ``.onnx`` file to write.
        ngf, n_downsample, n_blocks: the architecture numbers.
        size_px: square frame size the contract promises.

    Returns:
        ``path``.
    """
    import torch

    from livedance.body import DEFAULT_BODY
    from livedance.neural.contract import ModelContract
    from offline.pix2pixhd.export import write_onnx

    path = Path(path)
    torch.manual_seed(0)
    net = build_generator(ngf, n_downsample, n_blocks).eval()
    contract = ModelContract(
        width_px=size_px,
        height_px=size_px,
        body=DEFAULT_BODY,
        generator={"ngf": ngf, "n_downsample": n_downsample, "n_blocks": n_blocks},
        training={"note": "random weights, for timing only"},
    )
    with torch.no_grad():
        write_onnx(net, torch.zeros(1, 3, size_px, size_px), path, contract)
    return path
