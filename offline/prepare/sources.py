"""Pose sources for dataset preparation: BlazePose on the frames, or OpenPose JSON files.

Second step of ``video.mp4 --prepare--> dataset/`` (the paper's "Pose Estimation"). A source
turns one sampled frame into the people it sees, each an ``(18, 3)`` array in the OpenPose
COCO-18 order of `livedance.pose`, with x, y in display pixels of the source video (continuous
coordinates: the top-left pixel spans 0..1) and a confidence. Choosing among several people and
smoothing happen later (`tracking`, `smoothing`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final, Protocol

import numpy as np
import numpy.typing as npt

from livedance.errors import LivedanceError
from livedance.pose import N_KEYPOINTS
from offline.prepare.video import DecodedFrame

log = logging.getLogger(__name__)

PeopleArray = npt.NDArray[np.float32]
"""People seen in one frame: ``(m, 18, 3)``, x and y in display pixels, confidence."""

MEDIAPIPE_VERSION: Final = "0.10.14"
# BlazePose's 33 landmarks -> COCO-18; -1 is the neck, the midpoint of the shoulders (11, 12).
BLAZEPOSE_TO_COCO: Final = (0, -1, 12, 14, 16, 11, 13, 15, 24, 26, 28, 23, 25, 27, 5, 2, 8, 7)
# OpenPose BODY_25 -> COCO-18 (BODY_25 adds MidHip at 8 and six foot points at the end).
BODY25_TO_COCO: Final = (0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18)
_FRAME_NUMBER = re.compile(r"(\d+)(?:_keypoints)?\.json$")


class PoseSource(Protocol):
    """Something that finds people in sampled frames.

    Attributes:
        name: recorded in the manifest (which detector made the keypoints).
        detect_max_side_px: longest side the frames should be decoded at (small when the
            source does not look at pixels).
        default_min_confidence: confidence below which a joint counts as missing.
    """

    name: str
    detect_max_side_px: int
    default_min_confidence: float

    def people(self, frame: DecodedFrame, source_size: tuple[int, int]) -> PeopleArray:
        """People in ``frame`` (decoded at any size) in pixels of ``source_size`` (w, h)."""
        ...

    def close(self) -> None:
        """Release the detector."""
        ...


class BlazePoseSource:
    """MediaPipe BlazePose (full model, bundled in the mediapipe 0.10.14 wheel), video mode.

    BlazePose follows one person from frame to frame; its own landmark smoothing is switched
    off because it is causal (lags behind motion) and `smoothing` does it without lag.

    Args:
        detect_max_side_px: frames are decoded with their longest side at most this long.
        min_detection_confidence: BlazePose's person-detector threshold.
    """

    name = f"mediapipe-{MEDIAPIPE_VERSION}-blazepose-full"
    default_min_confidence = 0.5

    def __init__(self, detect_max_side_px: int = 1280, min_detection_confidence: float = 0.5):
        self.detect_max_side_px = detect_max_side_px
        with _quiet_native_stderr():
            try:
                import mediapipe as mp
            except ImportError:
                mp = None
        if mp is None:
            raise LivedanceError(
                "pose detection needs MediaPipe: pip install 'livedance[prepare]'"
                " (or give OpenPose JSON files with --keypoints DIR)"
            )
        version = getattr(mp, "__version__", "?")
        if version != MEDIAPIPE_VERSION:
            log.warning(
                "mediapipe %s found; livedance is tested with %s, whose wheel carries the"
                " BlazePose model",
                version,
                MEDIAPIPE_VERSION,
            )
        _patch_protobuf_for_mediapipe()
        solutions = getattr(mp, "solutions", None)
        if solutions is None or not hasattr(solutions, "pose"):
            raise LivedanceError(
                f"mediapipe {version} has no BlazePose solution API:"
                f" pip install mediapipe=={MEDIAPIPE_VERSION}"
            )
        try:
            with _quiet_native_stderr(), warnings.catch_warnings():
                # protobuf >= 5 deprecates FieldDescriptor.label, which mediapipe 0.10.14 reads
                warnings.filterwarnings("ignore", "label", DeprecationWarning)
                self._pose = solutions.pose.Pose(
                    static_image_mode=False,
                    model_complexity=1,
                    smooth_landmarks=False,
                    enable_segmentation=False,
                    min_detection_confidence=min_detection_confidence,
                    min_tracking_confidence=0.5,
                )
                # Opens the graph now, so TFLite's start-up chatter falls inside this block; a
                # black frame holds nobody and leaves no tracking state behind.
                self._pose.process(np.zeros((64, 64, 3), np.uint8))
        except AttributeError as exc:  # protobuf 7 removed FieldDescriptor.label
            from google.protobuf import __version__ as protobuf_version

            raise LivedanceError(
                f"mediapipe {version} cannot run with protobuf {protobuf_version} ({exc}):"
                " pip install 'protobuf>=4.25.3,<7'"
            ) from exc

    def people(self, frame: DecodedFrame, source_size: tuple[int, int]) -> PeopleArray:
        """Run BlazePose on an RGB frame; zero or one person."""
        result = self._pose.process(np.ascontiguousarray(frame.image))
        if result.pose_landmarks is None:
            return np.zeros((0, N_KEYPOINTS, 3), np.float32)
        marks = np.array(
            [(lm.x, lm.y, lm.visibility) for lm in result.pose_landmarks.landmark], np.float32
        )
        return blazepose_to_coco(marks, source_size)[None]

    def close(self) -> None:
        self._pose.close()


def blazepose_to_coco(landmarks: npt.ArrayLike, source_size: tuple[int, int]) -> npt.NDArray:
    """Map BlazePose's 33 landmarks to COCO-18 in pixels.

    Args:
        landmarks: ``(33, 3)``: x, y normalised to the image, visibility.
        source_size: ``(width, height)`` in pixels the result is expressed in.

    Returns:
        ``(18, 3)`` float32: x, y in pixels, confidence (the visibility; the neck takes the
        lower of its two shoulders).
    """
    marks = np.asarray(landmarks, np.float32)
    index = np.array(BLAZEPOSE_TO_COCO)
    out = marks[np.where(index < 0, 0, index)].copy()
    out[1, :2] = 0.5 * (marks[11, :2] + marks[12, :2])
    out[1, 2] = min(marks[11, 2], marks[12, 2])
    out[:, 0] *= source_size[0]
    out[:, 1] *= source_size[1]
    return out


class OpenPoseJsonSource:
    """People read from OpenPose's ``--write_json`` output, one file per video frame.

    Files are matched to decoded frames by the frame number in their name
    (``<video>_000000000123_keypoints.json``), or by sorted order when names carry none.
    COCO-18 (54 values a person) and BODY_25 (75 values) are both read; coordinates are the
    pixels OpenPose saw (``--keypoint_scale 0``) or, when every value is at most 1, normalised.

    Args:
        directory: folder of ``*.json`` files.
    """

    name = "openpose-json"
    detect_max_side_px = 64  # the pixels are not looked at; decode small
    default_min_confidence = 0.1

    def __init__(self, directory: Path) -> None:
        if not directory.is_dir():
            raise LivedanceError(f"--keypoints {directory}: no such folder")
        files = sorted(directory.glob("*.json"))
        if not files:
            raise LivedanceError(f"--keypoints {directory}: no OpenPose .json files in it")
        numbers = [_FRAME_NUMBER.search(f.name) for f in files]
        if all(numbers):
            self._files = {int(m.group(1)): f for m, f in zip(numbers, files, strict=True) if m}
        else:
            self._files = dict(enumerate(files))
        self.directory = directory
        self.n_files = len(files)
        self._normalised: bool | None = None

    def people(self, frame: DecodedFrame, source_size: tuple[int, int]) -> PeopleArray:
        """Read the people of the file matching ``frame.source_index``; none if no file."""
        path = self._files.get(frame.source_index)
        if path is None:
            return np.zeros((0, N_KEYPOINTS, 3), np.float32)
        people = [read_openpose_person(p, path) for p in _people_entries(path)]
        if not people:
            return np.zeros((0, N_KEYPOINTS, 3), np.float32)
        arr = np.stack(people)
        if self._normalised is None and np.any(arr[..., 2] > 0):
            self._normalised = bool(np.all(arr[..., :2][arr[..., 2] > 0] <= 1.0))
            if self._normalised:
                log.info("%s: keypoints look normalised to 0..1", self.directory)
        if self._normalised:
            arr[..., 0] *= source_size[0]
            arr[..., 1] *= source_size[1]
        else:
            arr[..., :2] += 0.5  # OpenPose puts pixel i's centre at i; ours is at i + 0.5
        arr[arr[..., 2] <= 0] = 0.0
        return arr

    def close(self) -> None:
        pass


def read_openpose_person(person: dict[str, Any], path: Path) -> npt.NDArray[np.float32]:
    """One person of an OpenPose JSON file as COCO-18 ``(18, 3)``.

    Raises:
        LivedanceError: the keypoint list is neither COCO-18 nor BODY_25.
    """
    values = np.asarray(person.get("pose_keypoints_2d", []), np.float32)
    if values.size == 18 * 3:
        return values.reshape(18, 3)
    if values.size == 25 * 3:
        return values.reshape(25, 3)[list(BODY25_TO_COCO)]
    raise LivedanceError(
        f"{path}: pose_keypoints_2d has {values.size} values; expected 54 (COCO) or 75 (BODY_25)"
    )


def write_openpose_json(path: Path, people: npt.ArrayLike) -> None:
    """Write people ``(m, 18, 3)`` (OpenPose pixel convention) as an OpenPose COCO JSON file."""
    arr = np.asarray(people, np.float32).reshape(-1, N_KEYPOINTS, 3)
    doc = {
        "version": 1.3,
        "people": [
            {"person_id": [-1], "pose_keypoints_2d": [round(float(v), 3) for v in p.ravel()]}
            for p in arr
        ],
    }
    path.write_text(json.dumps(doc))


def _people_entries(path: Path) -> list[dict[str, Any]]:
    try:
        doc = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LivedanceError(f"{path}: not a readable OpenPose JSON file ({exc})") from exc
    people = doc.get("people") if isinstance(doc, dict) else None
    if not isinstance(people, list):
        raise LivedanceError(f"{path}: no 'people' list; not an OpenPose JSON file")
    return people


def _patch_protobuf_for_mediapipe() -> None:
    """Let mediapipe 0.10.14 read its results under protobuf 4.25 (quietly), 5 and 6.

    mediapipe 0.10.14 pins ``protobuf<5``, but a user may well have a newer protobuf that other
    packages asked for. Its only use of an API that protobuf 5 removed (and 4.25 deprecates with
    a warning on every call) is ``SymbolDatabase.GetPrototype``, which
    ``message_factory.GetMessageClass`` replaces one for one.
    """
    from google.protobuf import message_factory, symbol_database

    if hasattr(message_factory, "GetMessageClass"):

        def get_prototype(self: object, descriptor: Any) -> Any:
            return message_factory.GetMessageClass(descriptor)

        symbol_database.SymbolDatabase.GetPrototype = get_prototype


@contextlib.contextmanager
def _quiet_native_stderr() -> Iterator[None]:
    """Silence what MediaPipe's C++ side writes to fd 2 while it loads (glog lines, and the
    harmless ``MessageFactory.GetPrototype`` complaint under protobuf >= 5)."""
    os.environ.setdefault("GLOG_minloglevel", "2")
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
