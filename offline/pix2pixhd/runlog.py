"""The loss log of a training run: ``RUN_DIR/log.csv``, plus TensorBoard when it is installed.

Written by rank 0 of `offline.pix2pixhd.train`; a resumed run drops the rows a killed run wrote
after its last checkpoint, so the log always matches the weights.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

LOG_NAME = "log.csv"
LOG_COLUMNS = (
    "iteration", "time_s", "lr", "g_gan", "g_fm", "g_vgg", "g_lpips", "d_real", "d_fake",
    "g_distill",
)  # fmt: skip


class RunLog:
    """``log.csv`` (rows after the resumed iteration are dropped) and TensorBoard if installed.

    Args:
        out_dir: the run folder.
        start: iteration the run starts or resumes at.
    """

    def __init__(self, out_dir: Path, start: int) -> None:
        path = out_dir / LOG_NAME
        rows: list[list[str]] = []
        if path.exists():
            with open(path, newline="") as f:
                rows = [r for r in list(csv.reader(f))[1:] if r and int(r[0]) <= start]
        self.file = open(path, "w", newline="")  # noqa: SIM115 - open for the whole run
        self.writer = csv.writer(self.file)
        self.writer.writerow(LOG_COLUMNS)
        self.writer.writerows(rows)
        self.file.flush()
        self.tensorboard = None
        try:
            from torch.utils.tensorboard import SummaryWriter

            self.tensorboard = SummaryWriter(str(out_dir / "tensorboard"), purge_step=start + 1)
        except ImportError:
            pass

    def write(self, iteration: int, time_s: float, lr: float, losses: dict[str, float]) -> None:
        values = [losses[c] for c in LOG_COLUMNS[3:]]
        self.writer.writerow(
            [iteration, f"{time_s:.3f}", f"{lr:.3e}", *(f"{v:.6f}" for v in values)]
        )
        if self.tensorboard is not None:
            for name, value in losses.items():
                self.tensorboard.add_scalar(f"loss/{name}", value, iteration)
            self.tensorboard.add_scalar("lr", lr, iteration)

    def flush(self) -> None:
        self.file.flush()
        os.fsync(self.file.fileno())

    def close(self) -> None:
        self.file.close()
        if self.tensorboard is not None:
            self.tensorboard.close()
