"""The prepared dataset's description: ``manifest.json`` and the per-frame ``index.csv``.

What training, export and evaluation read back from ``dataset/`` (DESIGN.md's data flow): the
source video, sampling rate, crop and output size, counts and detection rate, the time-block
train/test split, and the measured `Body` that export copies into the model's metadata.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from livedance.body import Body
from livedance.errors import LivedanceError
from offline.prepare.crop import CropBox

FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
INDEX_NAME = "index.csv"
KEYPOINTS_NAME = "keypoints.npy"
CONTACT_SHEET_NAME = "contact_sheet.png"
FRAMES_DIR = "frames"
STICKS_DIR = "sticks"
FILE_PATTERN = "{sample:06d}.png"
INDEX_COLUMNS = ("row", "sample", "time_s", "source_frame", "split", "frame", "stick")


@dataclass(frozen=True)
class Split:
    """Train/test split by time blocks (neighbouring frames are near-duplicates, so random
    frames would leak the test set into training).

    Attributes:
        test_fraction: share of the sampled duration at the end that is the test block.
        guard_s: frames this close before the test block are in neither split.
        test_start_s: time of the first test frame.
        n_train, n_test, n_guard: frames in each part.
    """

    test_fraction: float
    guard_s: float
    test_start_s: float
    n_train: int
    n_test: int
    n_guard: int


@dataclass(frozen=True)
class Manifest:
    """``manifest.json`` of a prepared dataset (see the README for every field)."""

    source: dict[str, Any]
    pose_source: str
    fps: float
    size: tuple[int, int]
    crop: CropBox
    n_samples: int
    n_frames: int
    detection_rate: float
    split: Split
    body: Body
    person_height: float | None
    settings: dict[str, Any]
    livedance_version: str
    body_support: dict[str, int] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION

    @property
    def n_skipped(self) -> int:
        """Sampled frames with no person (not in the dataset)."""
        return self.n_samples - self.n_frames

    def to_dict(self) -> dict[str, Any]:
        """The JSON document."""
        return {
            "format_version": self.format_version,
            "livedance_version": self.livedance_version,
            "source": self.source,
            "pose_source": self.pose_source,
            "fps": self.fps,
            "size": {"width": self.size[0], "height": self.size[1]},
            "crop": self.crop.to_dict(),
            "counts": {
                "samples": self.n_samples,
                "frames": self.n_frames,
                "skipped_no_person": self.n_skipped,
                "train": self.split.n_train,
                "test": self.split.n_test,
                "guard": self.split.n_guard,
            },
            "detection_rate": round(self.detection_rate, 6),
            "split": {
                "by": "time",
                "test_fraction": self.split.test_fraction,
                "guard_s": self.split.guard_s,
                "test_start_s": round(self.split.test_start_s, 6),
            },
            "body": self.body.to_dict(),
            "body_support": self.body_support,
            "person_height": self.person_height,
            "files": {
                "frames": f"{FRAMES_DIR}/{FILE_PATTERN}",
                "sticks": f"{STICKS_DIR}/{FILE_PATTERN}",
                "keypoints": KEYPOINTS_NAME,
                "index": INDEX_NAME,
                "contact_sheet": CONTACT_SHEET_NAME,
            },
            "settings": self.settings,
        }

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Manifest:
        """Inverse of `to_dict`."""
        counts, split = doc["counts"], doc["split"]
        return cls(
            source=doc["source"],
            pose_source=doc["pose_source"],
            fps=float(doc["fps"]),
            size=(int(doc["size"]["width"]), int(doc["size"]["height"])),
            crop=CropBox.from_dict(doc["crop"]),
            n_samples=int(counts["samples"]),
            n_frames=int(counts["frames"]),
            detection_rate=float(doc["detection_rate"]),
            split=Split(
                test_fraction=float(split["test_fraction"]),
                guard_s=float(split["guard_s"]),
                test_start_s=float(split["test_start_s"]),
                n_train=int(counts["train"]),
                n_test=int(counts["test"]),
                n_guard=int(counts["guard"]),
            ),
            body=Body.from_dict(doc["body"]),
            person_height=doc.get("person_height"),
            settings=doc.get("settings", {}),
            livedance_version=doc.get("livedance_version", "?"),
            body_support=doc.get("body_support", {}),
            format_version=int(doc.get("format_version", FORMAT_VERSION)),
        )


def load_manifest(dataset_dir: Path) -> Manifest:
    """Read ``dataset_dir/manifest.json``.

    Raises:
        LivedanceError: missing, unreadable, or from a newer livedance.
    """
    path = dataset_dir / MANIFEST_NAME
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise LivedanceError(
            f"{dataset_dir} is not a prepared dataset (no {MANIFEST_NAME})"
        ) from None
    except (OSError, json.JSONDecodeError) as exc:
        raise LivedanceError(f"{path}: unreadable ({exc})") from exc
    if int(doc.get("format_version", 0)) > FORMAT_VERSION:
        raise LivedanceError(f"{path} was written by a newer livedance; upgrade it")
    return Manifest.from_dict(doc)


def split_rows(
    time_s: npt.NDArray[np.float64], duration_s: float, test_fraction: float, guard_s: float
) -> tuple[npt.NDArray[np.str_], float]:
    """Label each frame ``train``, ``test`` or ``guard`` by its time.

    Args:
        time_s: ``(n,)`` frame times, increasing.
        duration_s: sampled duration of the video (the test block is its last part).
        test_fraction: share of the duration in the test block (0 for no test set).
        guard_s: gap before the test block that belongs to neither split.

    Returns:
        ``(labels, test_start_s)``.
    """
    test_start_s = duration_s * (1.0 - test_fraction) if test_fraction > 0 else np.inf
    labels = np.where(
        time_s >= test_start_s, "test", np.where(time_s >= test_start_s - guard_s, "guard", "train")
    )
    return labels, float(min(test_start_s, duration_s))


def index_csv(
    sample: npt.NDArray[np.integer],
    time_s: npt.NDArray[np.float64],
    source_frame: npt.NDArray[np.integer],
    labels: npt.NDArray[np.str_],
) -> str:
    """The text of ``index.csv``: one line per dataset frame, rows as in ``keypoints.npy``."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(INDEX_COLUMNS)
    for row, (s, t, f, label) in enumerate(zip(sample, time_s, source_frame, labels, strict=True)):
        name = FILE_PATTERN.format(sample=int(s))
        writer.writerow(
            [row, int(s), f"{t:.6f}", int(f), label, f"{FRAMES_DIR}/{name}", f"{STICKS_DIR}/{name}"]
        )
    return buf.getvalue()


def read_index(dataset_dir: Path) -> list[dict[str, str]]:
    """Rows of ``index.csv`` as dicts keyed by `INDEX_COLUMNS`."""
    with open(dataset_dir / INDEX_NAME, newline="") as f:
        return list(csv.DictReader(f))
