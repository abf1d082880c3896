"""Pass 1 of ``prepare``: the people in every sampled frame, saved in resumable chunks.

Decodes the video at a detection size (BlazePose does not need more; OpenPose JSON needs no
pixels at all), samples it at the dataset's rate and asks the pose source for the people in
each sample. Every `CHUNK_SAMPLES` samples the results go to disk, so an interrupted run loses
at most one chunk of detection work, the slow part of ``prepare``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from livedance.errors import LivedanceError
from offline.prepare.sources import PoseSource
from offline.prepare.store import DatasetDir
from offline.prepare.video import VideoInfo, VideoInput, expected_samples, iter_samples

log = logging.getLogger(__name__)

CHUNK_SAMPLES = 250  # detections saved every this many samples (what a crash can lose)

Samples = tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64], list]
"""``(sample, source_frame, time_s, people)`` of every sample, in time order."""


def detect_people(
    video: VideoInput,
    info: VideoInfo,
    fps: float,
    store: DatasetDir,
    key: dict[str, Any],
    make_source: Callable[[], PoseSource],
    *,
    progress: bool = True,
) -> tuple[Samples, int]:
    """Find the people in every sample of a video, resuming from the chunks saved before.

    Args:
        video: the video file or image sequence.
        info: its probe.
        fps: sampling rate.
        store: the dataset folder (holds the chunks).
        key: what the detections depend on; chunks saved under another key are discarded.
        make_source: builds the pose source (only called when detection is needed).
        progress: show a progress bar.

    Returns:
        ``((sample, source_frame, time_s, people), detected_now)``: per sample its number, the
        decoded frame it is, its time, and the ``(m, 18, 3)`` people in it (pixels); and how
        many samples this call ran the source on.

    Raises:
        LivedanceError: no frame could be decoded.
    """
    chunks, complete = store.detections(key)
    detected_now = 0
    if not complete:
        source = make_source()
        try:
            detected_now = _detect_rest(video, info, fps, store, source, chunks, progress)
        finally:
            source.close()
        store.finish_detections(key, len(chunks))
    sample = np.concatenate([c["sample"] for c in chunks]).astype(np.int64)
    if len(sample) == 0:
        raise LivedanceError(f"{video}: no frames could be decoded")
    source_frame = np.concatenate([c["source_frame"] for c in chunks]).astype(np.int64)
    time_s = np.concatenate([c["time_s"] for c in chunks]).astype(np.float64)
    people: list[npt.NDArray] = []
    for c in chunks:
        owner = c["people_row"]
        people += [c["people"][owner == r] for r in range(len(c["sample"]))]
    return (sample, source_frame, time_s, people), detected_now


def _detect_rest(
    video: VideoInput,
    info: VideoInfo,
    fps: float,
    store: DatasetDir,
    source: PoseSource,
    chunks: list[dict[str, npt.NDArray]],
    progress: bool,
) -> int:
    done = sum(len(c["sample"]) for c in chunks)
    side = max(info.width_px, info.height_px)
    filters = []
    if side > source.detect_max_side_px:
        scale = source.detect_max_side_px / side
        w, h = (2 * max(1, round(v * scale / 2)) for v in (info.width_px, info.height_px))
        filters.append(f"scale=w={w}:h={h}:flags=area")
    size = (info.width_px, info.height_px)
    rows: dict[str, list[Any]] = {k: [] for k in ("sample", "source_frame", "time_s", "people")}
    detected = 0
    with tqdm(
        total=expected_samples(info, fps),
        initial=done,
        desc="poses",
        unit="frame",
        disable=not progress,
        dynamic_ncols=True,
    ) as bar:
        for k, (s, frame) in enumerate(iter_samples(video, fps, filters, source_fps=info.fps)):
            if k < done:
                continue
            rows["sample"].append(s)
            rows["source_frame"].append(frame.source_index)
            rows["time_s"].append(frame.time_s)
            rows["people"].append(source.people(frame, size))
            detected += 1
            bar.update()
            if len(rows["sample"]) == CHUNK_SAMPLES:
                _save_chunk(store, chunks, rows)
        if rows["sample"] or not chunks:
            _save_chunk(store, chunks, rows)
    return detected


def _save_chunk(
    store: DatasetDir, chunks: list[dict[str, npt.NDArray]], rows: dict[str, list[Any]]
) -> None:
    people = rows["people"]
    arrays: dict[str, npt.NDArray] = {
        "sample": np.asarray(rows["sample"], np.int64),
        "source_frame": np.asarray(rows["source_frame"], np.int64),
        "time_s": np.asarray(rows["time_s"], np.float64),
        "people": (
            np.concatenate(people).astype(np.float32)
            if people
            else np.zeros((0, 18, 3), np.float32)
        ),
        "people_row": np.repeat(np.arange(len(people)), [len(p) for p in people]).astype(np.int64),
    }
    store.save_chunk(len(chunks), arrays)
    chunks.append(arrays)
    for v in rows.values():
        v.clear()
