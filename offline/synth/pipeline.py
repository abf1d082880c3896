"""``synth``: a training dataset for the default dancer with no video at all.

The OFFLINE ``--synth--> dataset/`` alternative to ``prepare`` in DESIGN.md: poses danced from
the action library (`offline.synth.poses`), a procedural person painted for each
(`offline.synth.figure`) as the "real" frame, and the runtime's own stick drawing
(`livedance.skeleton.render_stick`) as the input, written in exactly the layout ``prepare``
writes (`offline.prepare.manifest`, through the atomic, resumable `DatasetDir`), so
``livedance train`` reads it unchanged.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from livedance import __version__
from livedance.body import DEFAULT_BODY, Body
from livedance.errors import LivedanceError
from livedance.skeleton import render_stick
from offline.prepare.body_stats import measure_body, person_height
from offline.prepare.contact_sheet import contact_sheet, pick_rows
from offline.prepare.crop import CropBox
from offline.prepare.manifest import (
    CONTACT_SHEET_NAME,
    INDEX_NAME,
    KEYPOINTS_NAME,
    MANIFEST_NAME,
    Manifest,
    Split,
    index_csv,
    load_manifest,
    split_rows,
)
from offline.prepare.pipeline import is_complete, read_png
from offline.prepare.store import STATE_NAME, DatasetDir
from offline.synth.appearance import Appearance
from offline.synth.figure import draw_person
from offline.synth.poses import Variation, sample_poses
from offline.synth.room import background

log = logging.getLogger(__name__)

POSE_SOURCE = "synth"
SYNTH_VERSION = 2
"""Bump when the drawing or the pose sampling changes, so old datasets are not resumed into."""
_MIN_CONFIDENCE = 0.05  # as `render_stick`: joints at or below this are not drawn


@dataclass(frozen=True)
class SynthReport:
    """What a run did.

    Attributes:
        manifest: the dataset's manifest.
        out_dir: the dataset folder.
        seconds: wall time of the run.
        written_now: frames this run wrote.
        up_to_date: the dataset was already complete; nothing was done.
    """

    manifest: Manifest
    out_dir: Path
    seconds: float
    written_now: int
    up_to_date: bool = False


def synth_dataset(
    out_dir: Path,
    *,
    n_frames: int = 3000,
    size: tuple[int, int] = (256, 256),
    seed: int = 0,
    fps: float = 25.0,
    test_fraction: float = 0.1,
    guard_s: float = 1.0,
    body: Body = DEFAULT_BODY,
    contact_pairs: int = 12,
    overwrite: bool = False,
    progress: bool = True,
) -> SynthReport:
    """Write a synthetic dataset (see the module docstring) into ``out_dir``.

    Args:
        out_dir: the dataset folder (created; resumed when it holds this run's dataset).
        n_frames: training pairs to make.
        size: ``(width, height)`` in pixels.
        seed: chooses the person's looks and the dance; the same seed gives the same dataset.
        fps: frame rate of the sampled dance (sets the times the split is made by).
        test_fraction: share at the end kept for the test split.
        guard_s: gap between train and test frames that goes to neither.
        body: the person's proportions and placement.
        contact_pairs: pairs on the contact sheet.
        overwrite: start over when the folder holds a dataset made with other settings.
        progress: show a progress bar on stderr.

    Returns:
        A `SynthReport`.

    Raises:
        LivedanceError: bad settings, or an output folder that cannot be written or holds
            something else.
    """
    if n_frames < 1:
        raise LivedanceError(f"--frames must be at least 1, got {n_frames}")
    if min(size) < 32:
        raise LivedanceError(f"--size {size[0]}x{size[1]} is too small (at least 32 px)")
    if not 0 <= test_fraction < 1:
        raise LivedanceError(f"test fraction {test_fraction:g} is outside 0..1")
    t0 = time.perf_counter()
    w, h = size
    body = replace(body, aspect=w / h)
    settings = json.loads(
        json.dumps(
            {
                "generator": POSE_SOURCE,
                "synth_version": SYNTH_VERSION,
                "n_frames": n_frames,
                "size": list(size),
                "seed": seed,
                "fps": fps,
                "test_fraction": test_fraction,
                "guard_s": guard_s,
                "body": body.to_dict(),
            }
        )
    )
    store = DatasetDir(out_dir)
    store.open(settings, overwrite=overwrite)
    if is_complete(store, settings):
        log.info("%s is already complete; nothing to do", out_dir)
        return SynthReport(load_manifest(out_dir), out_dir, time.perf_counter() - t0, 0, True)

    rng = np.random.default_rng(seed)
    keypoints, _ = sample_poses(n_frames, fps, rng, body, Variation())
    sample = np.arange(n_frames, dtype=np.int64)
    time_s = sample / fps
    duration_s = n_frames / fps
    labels, test_start_s = split_rows(time_s, duration_s, test_fraction, guard_s)
    store.write_npy(out_dir / KEYPOINTS_NAME, keypoints)
    store.write_bytes(out_dir / INDEX_NAME, index_csv(sample, time_s, sample, labels).encode())

    appearance = Appearance.from_seed(seed)
    room = background(appearance, w, h, body.floor_y)
    have_frames = store.existing(store.frames)
    have_sticks = store.existing(store.sticks)
    todo = [s for s in range(n_frames) if s not in have_frames or s not in have_sticks]
    for s in tqdm(todo, desc="synth", unit="frame", disable=not progress, dynamic_ncols=True):
        if s not in have_sticks:
            store.write_png(store.stick_path(s), render_stick(keypoints[s], w, h))
        if s not in have_frames:
            store.write_png(store.frame_path(s), render_person(keypoints[s], room, appearance))

    pairs = []
    for r in pick_rows(n_frames, contact_pairs):
        label = f"#{r}  {time_s[r]:.2f}s  {labels[r]}"
        pairs.append((read_png(store.frame_path(r)), read_png(store.stick_path(r)), label))
    store.write_png(out_dir / CONTACT_SHEET_NAME, contact_sheet(pairs))
    measured, support = measure_body(keypoints, w / h)
    manifest = Manifest(
        source={"synthetic": True, "seed": seed, "appearance": _appearance_dict(appearance)},
        pose_source=POSE_SOURCE,
        fps=fps,
        size=size,
        crop=CropBox(0, 0, w, h),
        n_samples=n_frames,
        n_frames=n_frames,
        detection_rate=1.0,
        split=Split(
            test_fraction=test_fraction,
            guard_s=guard_s,
            test_start_s=test_start_s,
            n_train=int((labels == "train").sum()),
            n_test=int((labels == "test").sum()),
            n_guard=int((labels == "guard").sum()),
        ),
        body=measured,
        person_height=person_height(keypoints),
        settings=settings,
        livedance_version=__version__,
        body_support=support,
    )
    store.write_json(out_dir / MANIFEST_NAME, manifest.to_dict())
    store.write_json(store.work / STATE_NAME, {"settings": settings, "complete": True})
    seconds = time.perf_counter() - t0
    log.info("%s: %d synthetic pairs (%d written now) in %.1f s", out_dir, n_frames, len(todo),
             seconds)  # fmt: skip
    return SynthReport(manifest, out_dir, seconds, len(todo))


def render_person(pose: np.ndarray, room: np.ndarray, appearance: Appearance) -> np.ndarray:
    """The synthetic "real" frame of one pose: ``room`` with the person painted over it.

    Args:
        pose: ``(18, 3)`` in the Pose contract.
        room: the BGR background (`background`), not modified.
        appearance: the person's colours.

    Returns:
        A new BGR image the size of ``room``.
    """
    h, w = room.shape[:2]
    kp_px = pose[:, :2].astype(np.float64) * np.array([w, h])
    kp_px[pose[:, 2] <= _MIN_CONFIDENCE] = np.nan
    return draw_person(room.copy(), kp_px, appearance)


def _appearance_dict(appearance: Appearance) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(appearance).items()}
