"""How long a pix2pixHD run trains and at what rate: iteration counts or a time budget.

Used by `offline.pix2pixhd.train` (DESIGN.md: prepared dataset -> *train* -> export). A run
either counts iterations (``--iterations``) or spends a time budget (``--minutes``). Both
follow the same learning-rate schedule, constant then linear to 0, over the fraction of
the run done: iterations done / planned, or budget used / budget. The used budget is saved
in every checkpoint, so a resumed run continues the same budget instead of starting over.

Two clocks count a budget: ``wall`` (seconds on the wall clock while training) and ``cpu``
(the process's CPU seconds divided by torch's thread count: on a shared, loaded machine a
run that waits for the CPU is not charged for it, so configurations compared by a benchmark
each get the same compute).
"""

from __future__ import annotations

import time
from typing import Any, Literal

import torch

BudgetClock = Literal["wall", "cpu"]


def _cpu_seconds() -> float:
    return time.process_time() / max(1, torch.get_num_threads())


CLOCKS = {"wall": time.monotonic, "cpu": _cpu_seconds}
"""Seconds readers for each budget clock (a test may swap one for a fake clock)."""


def linear_decay(lr: float, done: float, decay_from: float, end: float) -> float:
    """``lr`` until ``decay_from``, then linear to 0 at ``end`` (any unit: iterations, seconds).

    ``end <= decay_from`` means a constant rate.
    """
    if done < decay_from or end <= decay_from:
        return lr
    return lr * max(0.0, (end - done) / (end - decay_from))


class Budget:
    """A training time budget: ``minutes`` counted on ``clock``, ``used_s`` already spent.

    Args:
        minutes: the whole budget, resumed runs included.
        clock: ``wall`` or ``cpu`` (see the module docstring).
        used_s: budget seconds spent before this process (from the checkpoint).
        decay_from_fraction: where the learning rate starts its linear decay (0.5: half way).
    """

    def __init__(
        self,
        minutes: float,
        clock: BudgetClock = "wall",
        used_s: float = 0.0,
        decay_from_fraction: float = 0.5,
    ) -> None:
        if clock not in CLOCKS:
            raise ValueError(f"unknown budget clock {clock!r}")
        self.total_s = minutes * 60.0
        self.clock = clock
        self.decay_from_fraction = decay_from_fraction
        self._before_s = used_s
        self._read = CLOCKS[clock]
        self._t0 = self._read()

    def used_s(self, world: int = 1, device: torch.device | None = None) -> float:
        """Budget seconds spent so far; under DDP every rank gets rank 0's reading."""
        used = self._before_s + self._read() - self._t0
        if world > 1:
            shared = torch.tensor([used], dtype=torch.float64, device=device)
            torch.distributed.broadcast(shared, 0)
            used = float(shared.item())
        return used

    def learning_rate(self, lr: float, used_s: float) -> float:
        """The schedule's rate after ``used_s`` budget seconds."""
        return linear_decay(lr, used_s, self.decay_from_fraction * self.total_s, self.total_s)

    def to_dict(self, used_s: float) -> dict[str, Any]:
        """The ``budget`` entry of ``run.json``."""
        return {
            "minutes": self.total_s / 60.0,
            "clock": self.clock,
            "used_s": round(used_s, 2),
            "decay_from_fraction": self.decay_from_fraction,
        }


def progress_bar(total: float, initial: float, budget: bool) -> Any:
    """A tqdm bar over iterations, or over budget seconds with the time left as its ETA."""
    from tqdm import tqdm

    if not budget:
        return tqdm(total=total, initial=initial, desc="train", unit="it", smoothing=0.1)
    return tqdm(
        total=round(total, 1),
        initial=round(initial, 1),
        desc="train",
        unit="s",
        smoothing=0.1,
        bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total:.0f} s budget"
        " [{elapsed} run, {remaining} left{postfix}]",
    )
