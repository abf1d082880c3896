"""``prepare``: a video of a person -> training pairs, keypoints, Body and a contact sheet.

The OFFLINE ``video.mp4 --prepare--> dataset/`` step of DESIGN.md (the paper's "Dataset" and
"Pose Estimation"); the video may also be an image sequence (`offline.prepare.sequence`). In two
passes over the video so that memory stays flat for any length:

1. decode at a detection size, sample at ``fps``, find the people in each sample (BlazePose or
   OpenPose JSON), saved in resumable chunks;
2. follow the largest consistent person, mark weak joints missing, smooth, fix one crop around
   the motion envelope, carry the keypoints into it, split by time;
3. decode again with ffmpeg cutting and scaling the crop, write each real frame and its stick
   figure (drawn by `livedance.skeleton.render_stick`, the runtime's own renderer);
4. measure the Body, write the contact sheet and ``manifest.json`` (last: its presence means
   the dataset is complete).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from livedance import __version__
from livedance.errors import LivedanceError
from livedance.skeleton import render_stick
from offline.prepare.body_stats import measure_body, person_height
from offline.prepare.contact_sheet import contact_sheet, pick_rows
from offline.prepare.crop import CropBox, envelope_crop, fit_aspect
from offline.prepare.detect import detect_people
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
from offline.prepare.sequence import ImageSequence, is_image_sequence, open_sequence
from offline.prepare.smoothing import OneEuroParams, mark_missing, smooth_keypoints
from offline.prepare.sources import BlazePoseSource, OpenPoseJsonSource, PoseSource
from offline.prepare.store import STATE_NAME, DatasetDir, file_fingerprint
from offline.prepare.tracking import select_person
from offline.prepare.video import VideoInfo, VideoInput, iter_samples, probe_video

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PrepareOptions:
    """Settings of one ``prepare`` run.

    Attributes:
        fps: sampling rate (paper: 25); capped at the video's own rate. Also the rate of an
            image sequence whose names carry no numbers.
        source_fps: for an image sequence: the rate its names' numbers count frames at
            (``image{N}.jpg`` is at N / source_fps seconds; None: ``fps``).
        size: output ``(width, height)`` in pixels.
        crop: fixed crop in source display pixels, or None for the motion envelope.
        keypoints_dir: OpenPose JSON folder to read poses from instead of running BlazePose.
        min_confidence: joints at or below this are missing (None: the source's default).
        smoothing: One-Euro settings.
        test_fraction: share of the video's end kept for the test split.
        guard_s: gap between train and test frames that goes to neither.
        detect_max_side_px: frames are shown to BlazePose at most this large.
        contact_pairs: pairs on the contact sheet.
        overwrite: start over when the folder holds a dataset made with other settings.
        progress: show progress bars on stderr.
    """

    fps: float = 25.0
    source_fps: float | None = None
    size: tuple[int, int] = (256, 256)
    crop: CropBox | None = None
    keypoints_dir: Path | None = None
    min_confidence: float | None = None
    smoothing: OneEuroParams = field(default_factory=OneEuroParams)
    test_fraction: float = 0.1
    guard_s: float = 1.0
    detect_max_side_px: int = 1280
    contact_pairs: int = 12
    overwrite: bool = False
    progress: bool = True


@dataclass(frozen=True)
class PrepareReport:
    """What a run did.

    Attributes:
        manifest: the dataset's manifest.
        out_dir: the dataset folder.
        seconds: wall time of each stage of this run (``detect``, ``frames``, ``total``, ...).
        detected_now: samples whose poses this run detected (0 when resumed past detection).
        written_now: frames this run wrote.
        up_to_date: the dataset was already complete; nothing was done.
    """

    manifest: Manifest
    out_dir: Path
    seconds: dict[str, float]
    detected_now: int
    written_now: int
    up_to_date: bool = False


def prepare_dataset(
    video_path: Path | ImageSequence,
    out_dir: Path,
    options: PrepareOptions | None = None,
    *,
    make_source: Callable[[], PoseSource] | None = None,
) -> PrepareReport:
    """Turn a video of a person into a training dataset (see the module docstring).

    Args:
        video_path: any video ffmpeg reads, or an image sequence: a folder of images or a
            pattern (``frames/image%d.jpg``, ``frames/*.jpg``), or one already opened.
        out_dir: the dataset folder (created; resumed when it holds this run's dataset).
        options: run settings.
        make_source: builds the pose source (default: from ``options``); for tests.

    Returns:
        A `PrepareReport`.

    Raises:
        LivedanceError: not a video, no person in it, an output folder that cannot be written
            or holds a different dataset, missing mediapipe.
    """
    opts = options or PrepareOptions()
    _check_options(opts)
    timer = _Timer()
    with timer("probe"):
        video: VideoInput = video_path
        if isinstance(video_path, ImageSequence):  # opened by the caller
            video_path = video_path.spec
        elif is_image_sequence(video_path):
            video = open_sequence(video_path, opts.source_fps, opts.fps)
        elif opts.source_fps is not None:
            raise LivedanceError("--source-fps is for image sequences (a folder or a pattern)")
        info = probe_video(video)
        fps = opts.fps
        if info.fps and fps > info.fps * 1.001:
            log.warning("%s has %.3f fps; sampling at that, not %g", video_path, info.fps, fps)
            fps = info.fps
        min_conf = _min_confidence(opts)
        if isinstance(video, ImageSequence):
            fingerprint = video.fingerprint()
            source_info = {**info.to_dict(), **video.info(), **fingerprint}
        else:
            fingerprint = file_fingerprint(video)
            source_info = {**info.to_dict(), **fingerprint}
        settings = _settings(fingerprint, opts, min_conf)
    store = DatasetDir(out_dir)
    store.open(settings, overwrite=opts.overwrite)
    if is_complete(store, settings):
        log.info("%s is already prepared; nothing to do", out_dir)
        return PrepareReport(load_manifest(out_dir), out_dir, timer.seconds, 0, 0, True)

    with timer("detect"):
        key = {
            "video": fingerprint,
            "fps": fps,
            "source": settings["pose_source"],
            "keypoints_dir": settings["keypoints_dir"],
            "detect_max_side_px": opts.detect_max_side_px,
        }
        samples, detected_now = detect_people(
            video,
            info,
            fps,
            store,
            key,
            make_source or (lambda: _default_source(opts)),
            progress=opts.progress,
        )
    with timer("select"):
        sample, source_frame, time_s, people = samples
        poses_px, found = select_person(people, min_confidence=min_conf)
        if not found.any():
            raise LivedanceError(
                f"no person found in {video} ({len(sample)} frames sampled at {fps:g} fps)"
            )
        rate = float(found.mean())
        if rate < 0.5:
            log.warning("a person was found in only %.0f%% of the frames", 100 * rate)
        kept = np.flatnonzero(found)
        kp_px = mark_missing(poses_px[kept], min_conf)
        kp_px = smooth_keypoints(kp_px, sample[kept], fps, opts.smoothing)
        aspect = opts.size[0] / opts.size[1]
        if opts.crop is None:
            crop = envelope_crop(kp_px, (info.width_px, info.height_px), aspect)
        else:
            crop = fit_aspect(opts.crop, aspect)
        keypoints = crop.transform(kp_px)
        duration_s = float(time_s[-1]) + 1.0 / fps
        labels, test_start_s = split_rows(
            time_s[kept], duration_s, opts.test_fraction, opts.guard_s
        )
        store.write_npy(out_dir / KEYPOINTS_NAME, keypoints)
        store.write_bytes(
            out_dir / INDEX_NAME,
            index_csv(sample[kept], time_s[kept], source_frame[kept], labels).encode(),
        )
    with timer("frames"):
        written = _write_pairs(
            video, info, fps, opts, store, crop, sample[kept], source_frame[kept], keypoints
        )
    with timer("sheet"):
        pairs = []
        for r in pick_rows(len(kept), opts.contact_pairs):
            s = int(sample[kept[r]])
            label = f"#{s}  {time_s[kept[r]]:.2f}s  {labels[r]}"
            pairs.append((read_png(store.frame_path(s)), read_png(store.stick_path(s)), label))
        store.write_png(out_dir / CONTACT_SHEET_NAME, contact_sheet(pairs))
        body, support = measure_body(keypoints, aspect)
    manifest = Manifest(
        source=source_info,
        pose_source=settings["pose_source"],
        fps=fps,
        size=opts.size,
        crop=crop,
        n_samples=len(sample),
        n_frames=len(kept),
        detection_rate=rate,
        split=Split(
            test_fraction=opts.test_fraction,
            guard_s=opts.guard_s,
            test_start_s=test_start_s,
            n_train=int((labels == "train").sum()),
            n_test=int((labels == "test").sum()),
            n_guard=int((labels == "guard").sum()),
        ),
        body=body,
        person_height=person_height(keypoints),
        settings=settings,
        livedance_version=__version__,
        body_support=support,
    )
    store.write_json(out_dir / MANIFEST_NAME, manifest.to_dict())
    store.write_json(store.work / STATE_NAME, {"settings": settings, "complete": True})
    timer.seconds["total"] = sum(timer.seconds.values())
    log.info(
        "%s: %d pairs from %d samples (detection rate %.3f), crop %s",
        out_dir,
        len(kept),
        len(sample),
        rate,
        crop.spec(),
    )
    return PrepareReport(manifest, out_dir, timer.seconds, detected_now, written)


def _write_pairs(
    video: VideoInput,
    info: VideoInfo,
    fps: float,
    opts: PrepareOptions,
    store: DatasetDir,
    crop: CropBox,
    sample: npt.NDArray[np.int64],
    source_frame: npt.NDArray[np.int64],
    keypoints: npt.NDArray[np.float32],
) -> int:
    """Pass 2: write the real frames (decoded again, cut and scaled by ffmpeg) and sticks that
    are not on disk yet. Returns the number of frames written."""
    w, h = opts.size
    row_of = {int(s): r for r, s in enumerate(sample)}
    have_sticks = store.existing(store.sticks)
    for s, r in row_of.items():
        if s not in have_sticks:
            store.write_png(store.stick_path(s), render_stick(keypoints[r], w, h))
    missing = set(row_of) - store.existing(store.frames)
    if not missing:
        return 0
    last = max(missing)
    filters = crop.ffmpeg_filters(info.width_px, info.height_px, opts.size)
    written = 0
    with tqdm(
        total=len(row_of),
        initial=len(row_of) - len(missing),
        desc="frames",
        unit="frame",
        disable=not opts.progress,
        dynamic_ncols=True,
    ) as bar:
        for s, frame in iter_samples(video, fps, filters, pix_fmt="bgr24", source_fps=info.fps):
            if s in missing:
                if frame.source_index != source_frame[row_of[s]]:
                    raise LivedanceError(
                        f"{video} decoded differently in the second pass (sample {s}: frame"
                        f" {frame.source_index}, not {source_frame[row_of[s]]}); re-run with"
                        " --overwrite"
                    )
                store.write_png(store.frame_path(s), frame.image)
                written += 1
                bar.update()
            if s >= last:
                break
    if written < len(missing):
        raise LivedanceError(f"{video}: only {written} of {len(missing)} frames could be decoded")
    return written


def read_png(path: Path) -> npt.NDArray[np.uint8]:
    """A dataset image as BGR uint8; LivedanceError (re-run with --overwrite) if unreadable."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise LivedanceError(f"{path} is unreadable; re-run with --overwrite")
    return image.astype(np.uint8, copy=False)


def is_complete(store: DatasetDir, settings: dict[str, Any]) -> bool:
    """True when ``store`` holds a finished dataset made with exactly ``settings``."""
    try:
        state = json.loads((store.work / STATE_NAME).read_text())
        manifest = json.loads((store.root / MANIFEST_NAME).read_text())
    except (OSError, json.JSONDecodeError):
        return False
    if not state.get("complete") or manifest.get("settings") != settings:
        return False
    n = int(manifest["counts"]["frames"])
    return len(store.existing(store.frames)) >= n and len(store.existing(store.sticks)) >= n


def _default_source(opts: PrepareOptions) -> PoseSource:
    if opts.keypoints_dir is not None:
        return OpenPoseJsonSource(opts.keypoints_dir)
    return BlazePoseSource(opts.detect_max_side_px)


def _min_confidence(opts: PrepareOptions) -> float:
    if opts.min_confidence is not None:
        return opts.min_confidence
    if opts.keypoints_dir is not None:
        return OpenPoseJsonSource.default_min_confidence
    return BlazePoseSource.default_min_confidence


def _settings(fingerprint: dict[str, Any], opts: PrepareOptions, min_conf: float) -> dict[str, Any]:
    """What defines the dataset: a re-run with other values would mix two datasets."""
    settings = {
        "video": fingerprint,  # content, not name: a renamed or moved video is the same
        "fps": opts.fps,
        "size": list(opts.size),
        "crop": opts.crop.spec() if opts.crop else "auto",
        "pose_source": "openpose-json" if opts.keypoints_dir else BlazePoseSource.name,
        "keypoints_dir": str(opts.keypoints_dir.resolve()) if opts.keypoints_dir else None,
        "min_confidence": min_conf,
        "smoothing": opts.smoothing.to_dict(),
        "test_fraction": opts.test_fraction,
        "guard_s": opts.guard_s,
        "detect_max_side_px": opts.detect_max_side_px,
    }
    if opts.source_fps is not None:
        settings["source_fps"] = opts.source_fps
    return json.loads(json.dumps(settings))  # the form it has when read back from disk


def _check_options(opts: PrepareOptions) -> None:
    if not 0 < opts.fps <= 240:
        raise LivedanceError(f"--fps {opts.fps:g} is outside 0..240")
    if opts.source_fps is not None and not 0 < opts.source_fps <= 1000:
        raise LivedanceError(f"--source-fps {opts.source_fps:g} is outside 0..1000")
    if not 0 <= opts.test_fraction < 1:
        raise LivedanceError(f"--test-fraction {opts.test_fraction:g} is outside 0..1")
    if opts.guard_s < 0:
        raise LivedanceError("--guard must not be negative")


class _Timer:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - t0
