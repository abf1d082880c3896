"""Distillation from a wider teacher: ``livedance train --teacher RUN``.

The "train" step of DESIGN.md, for the small generators that hold the frame rate on a CPU. A
trained run's generator (the teacher: frozen, eval mode) paints every training stick as well,
and the student is pulled towards the teacher's frame besides the real one, by an L1 term. The
teacher's frame is a target without the real video's noise and detail the student cannot
reach, which is what lets GAN Compression (Li et al., CVPR 2020) cut pix2pix's MACs about 10x at
nearly the same quality (it also matches inner features; this matches frames only).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch.nn import functional as F

from livedance.errors import LivedanceError
from offline.pix2pixhd.checkpoint import load_generator

DEFAULT_WEIGHT = 10.0
"""The L1 distillation term's weight (the feature-matching and VGG terms' own is 10)."""


class Teacher:
    """A trained run's generator, frozen, as a target for a student's frames.

    Args:
        run_dir: the teacher's `livedance train` run folder.
        size: ``(width, height)`` of the student's frames; the teacher must paint the same.
        device: where the student trains.
        weight: the L1 term's weight.

    Raises:
        LivedanceError: not a run folder, no checkpoint, or another frame size.
    """

    def __init__(
        self, run_dir: Path, size: tuple[int, int], device: torch.device, weight: float
    ) -> None:
        net, run = load_generator(run_dir)
        painted = (int(run["size"]["width"]), int(run["size"]["height"]))
        if painted != tuple(size):
            raise LivedanceError(
                f"--teacher {run_dir} paints {painted[0]}x{painted[1]} frames; this run trains "
                f"{size[0]}x{size[1]} (train the student at the teacher's --size)"
            )
        self.net = net.to(device).requires_grad_(False)
        self.weight = float(weight)
        self.summary: dict[str, Any] = {
            "run": str(run_dir.resolve()),
            "generator": run["generator"],
            "iteration": run["iteration"],
            "weight": self.weight,
        }
        """What ``run.json`` says of the teacher."""

    def loss(self, stick: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        """The weighted L1 distance from the student's frames ``fake`` to the teacher's."""
        with torch.no_grad():
            target = self.net(stick)
        return self.weight * F.l1_loss(fake.float(), target.float())
