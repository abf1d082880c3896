"""The ONNX generator at run time: poses -> stick figures -> trained generator -> realistic frames.

The "frame renderer (ONNX generator)" box of DESIGN.md. `NeuralRenderer` fits the same
`FrameRenderer` protocol as the stick renderer: it draws each pose with
`livedance.skeleton.render_sticks` (the very function training used), feeds the sticks to an
ONNX Runtime session, and turns the output back into BGR frames. The model's `ModelContract`
(ONNX metadata_props) is read and checked before anything runs; a model that does not fit is
refused with one clear line. No torch here: ONNX Runtime only.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from livedance.body import DEFAULT_BODY, Body
from livedance.errors import LivedanceError
from livedance.neural.contract import (
    INPUT_NAME,
    OUTPUT_NAME,
    PLATE_NAME,
    ModelContract,
    ModelMismatchError,
    output_to_frames,
    sticks_to_input,
)
from livedance.neural.runtime import choose_providers, import_onnxruntime, session_options
from livedance.skeleton import render_sticks

log = logging.getLogger(__name__)


def open_session(
    path: str | Path,
    *,
    device: str = "auto",
    threads: int | None = None,
    warmup: bool = True,
    profile_prefix: str | None = None,
) -> tuple[Any, ModelContract]:
    """Open an ONNX generator and check it fits this runtime.

    Args:
        path: the ``.onnx`` file.
        device: ``auto``, ``cpu``, ``cuda`` or ``tensorrt``.
        threads: intra-op threads (default: all cores).
        warmup: run one frame so the first show frame is not the slow one.
        profile_prefix: enable ONNX Runtime profiling with this prefix.

    Returns:
        The inference session and the model's contract.

    Raises:
        ModelMismatchError: missing, corrupt, not a livedance model, or the wrong tensors.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelMismatchError(f"model {path} does not exist")
    ort = import_onnxruntime()
    providers = choose_providers(device)
    try:
        session = ort.InferenceSession(
            str(path), sess_options=session_options(threads, profile_prefix=profile_prefix),
            providers=providers,
        )  # fmt: skip
    except Exception as exc:  # ORT raises its own exception types for corrupt files
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelMismatchError(f"{path} is not a readable ONNX model ({first[:160]})") from None
    contract = ModelContract.from_metadata(
        session.get_modelmeta().custom_metadata_map, source=str(path)
    )
    _check_tensors(session, contract, str(path))
    log.info(
        "generator %s: %dx%d on %s",
        path.name, contract.width_px, contract.height_px, session.get_providers()[0],
    )  # fmt: skip
    if warmup:
        batch = fixed_batch(session) or 1
        zeros = np.zeros((batch, 3, contract.height_px, contract.width_px), np.float32)
        session.run([OUTPUT_NAME], {INPUT_NAME: zeros})
    return session, contract


def _check_tensors(session: Any, contract: ModelContract, source: str) -> None:
    inputs, outputs = session.get_inputs(), session.get_outputs()
    if len(inputs) != 1 or inputs[0].name != INPUT_NAME:
        names = [i.name for i in inputs]
        raise ModelMismatchError(
            f"{source} takes inputs {names}; expected one named {INPUT_NAME!r}"
        )
    if OUTPUT_NAME not in [o.name for o in outputs]:
        raise ModelMismatchError(f"{source} has no output named {OUTPUT_NAME!r}")
    want = (3, contract.height_px, contract.width_px)
    for what, shape in (("input", inputs[0].shape), ("output", _output(session).shape)):
        fixed = tuple(shape[1:])
        if len(shape) != 4 or any(
            isinstance(d, int) and d != w for d, w in zip(fixed, want, strict=True)
        ):
            raise ModelMismatchError(
                f"{source} has {what} shape {list(shape)}; its metadata promises "
                f"[batch, 3, {contract.height_px}, {contract.width_px}]"
            )


def _output(session: Any) -> Any:
    return next(o for o in session.get_outputs() if o.name == OUTPUT_NAME)


def room_plate(session: Any, contract: ModelContract) -> npt.NDArray[np.uint8] | None:
    """The room a background-plate model paints its person over, or None for other models.

    Args:
        session: an open generator session.
        contract: its contract (the frame size).

    Returns:
        ``(h, w, 3)`` BGR uint8 from the model's `PLATE_NAME` output (read once, at load).
    """
    if PLATE_NAME not in {o.name for o in session.get_outputs()}:
        return None
    batch = fixed_batch(session) or 1
    zeros = np.zeros((batch, 3, contract.height_px, contract.width_px), np.float32)
    (plate,) = session.run([PLATE_NAME], {INPUT_NAME: zeros})
    return output_to_frames(np.asarray(plate[:1], np.float32))[0]


def fixed_batch(session: Any) -> int | None:
    """The batch size the model was exported with, or None when the batch axis is dynamic."""
    dim = session.get_inputs()[0].shape[0]
    return dim if isinstance(dim, int) and dim > 0 else None


class NeuralRenderer:
    """A `FrameRenderer` running a trained generator: poses ``(n, 18, 3)`` -> BGR frames.

    Args:
        model_path: the exported ``.onnx`` generator (with its livedance contract).
        device: ``auto`` (best usable), ``cpu``, ``cuda`` or ``tensorrt``.
        threads: ONNX Runtime intra-op threads (default: all cores).
        temporal_blend: 0 (off) .. <1: each output frame is blended with the previous one by this
            weight, an exponential moving average that hides frame-to-frame flicker at the cost
            of a little motion smear.
        deadband_px: keypoints that moved less than this many pixels since they were last drawn
            stay where they were, so sub-pixel jitter of a held pose never reaches the generator
            (0 turns it off).
        max_batch: frames per inference call when given a long batch.
    """

    name = "neural"

    def __init__(
        self,
        model_path: str | Path,
        *,
        device: str = "auto",
        threads: int | None = None,
        temporal_blend: float = 0.0,
        max_batch: int = 8,
        deadband_px: float = 0.0,
    ) -> None:
        if not 0.0 <= temporal_blend < 1.0:
            raise LivedanceError(f"temporal blend must be in [0, 1), got {temporal_blend}")
        self.path = Path(model_path)
        self.session, self.contract = open_session(self.path, device=device, threads=threads)
        self.width_px = self.contract.width_px
        self.height_px = self.contract.height_px
        self.provider = self.session.get_providers()[0]
        self.room_plate = room_plate(self.session, self.contract)
        """The room of a background-plate model (BGR, model size): the video outputs' matte."""
        self.temporal_blend = float(temporal_blend)
        self.max_batch = fixed_batch(self.session) or max(1, int(max_batch))
        self._previous: npt.NDArray[np.float32] | None = None
        self.deadband = PoseDeadband(deadband_px, self.width_px, self.height_px)
        self.last_infer_ms = 0.0

    def render(self, poses: npt.NDArray[np.float32]) -> npt.NDArray[np.uint8]:
        """Render a batch of poses ``(n, 18, 3)`` into BGR frames ``(n, h, w, 3)``."""
        sticks = render_sticks(self.deadband(poses), self.width_px, self.height_px)
        return self.render_sticks(sticks)

    def render_sticks(self, sticks_bgr: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        """Run the generator on already drawn stick images ``(n, h, w, 3)`` (BGR uint8)."""
        outputs = [self.infer(sticks_to_input(sticks_bgr[i : i + self.max_batch]))
                   for i in range(0, len(sticks_bgr), self.max_batch)]  # fmt: skip
        empty = np.zeros((0, 3, self.height_px, self.width_px), np.float32)
        out = np.concatenate(outputs) if outputs else empty
        if self.temporal_blend > 0.0:
            out = self._blend(out)
        return output_to_frames(out)

    def infer(self, batch: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """One session run on a model input batch; pads a fixed-batch model's last chunk."""
        n = len(batch)
        fixed = fixed_batch(self.session)
        if fixed is not None and n < fixed:
            batch = np.concatenate([batch, np.repeat(batch[-1:], fixed - n, axis=0)])
        t0 = time.perf_counter()
        (out,) = self.session.run([OUTPUT_NAME], {INPUT_NAME: batch})
        self.last_infer_ms = (time.perf_counter() - t0) * 1000.0
        return np.asarray(out[:n], dtype=np.float32)

    def reset(self) -> None:
        """Forget the previous frame (after a jump in time the blend must not smear across it)."""
        self._previous = None
        self.deadband.reset()

    def _blend(self, out: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        a = self.temporal_blend
        blended = np.empty_like(out)
        prev = self._previous
        for i, frame in enumerate(out):
            prev = frame if prev is None else a * prev + (1.0 - a) * frame
            blended[i] = prev
        self._previous = prev
        return blended


class PoseDeadband:
    """Holds each keypoint still until it has moved more than ``deadband_px`` pixels.

    A pose held on stage still wobbles by fractions of a pixel (breathing sway, tracker noise); the
    sub-pixel stick renderer draws every wobble and the generator amplifies it into flicker. Real
    moves travel many pixels per frame, so a deadband of about a pixel removes the wobble and
    leaves the dance alone. Stateful: feed poses in time order.
    """

    def __init__(self, deadband_px: float, width_px: int, height_px: int) -> None:
        self.deadband_px = float(deadband_px)
        self._scale = np.array([width_px, height_px], dtype=np.float32)
        self._held: npt.NDArray[np.float32] | None = None

    def __call__(self, poses: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        if self.deadband_px <= 0.0 or len(poses) == 0:
            return poses
        out = np.array(poses, dtype=np.float32, copy=True)
        for pose in out:
            if self._held is not None:
                moved_px = np.linalg.norm((pose[:, :2] - self._held[:, :2]) * self._scale, axis=1)
                still = moved_px < self.deadband_px
                pose[still, :2] = self._held[still, :2]
            self._held = pose.copy()
        return out

    def reset(self) -> None:
        self._held = None


def flicker_score(frames: Sequence[npt.NDArray[np.uint8]] | npt.NDArray[np.uint8]) -> float:
    """Temporal flicker: mean absolute difference between consecutive frames, in 0..255 levels.

    Measured on a held (still) pose, any difference is flicker: a perfect renderer scores 0.
    """
    stack = np.asarray(frames, dtype=np.float32)
    if len(stack) < 2:
        return 0.0
    return float(np.mean(np.abs(np.diff(stack, axis=0))))


def default_model_path() -> Path:
    """Where the embedded default generator is (see models/MODEL_CARD.md).

    A checkout (and an editable install) has it in the repository's ``models/``; a wheel installs
    that folder as data under ``<prefix>/share/livedance/models``. Returns the first that exists,
    else the checkout path (absent: shows fall back to stick figures).
    """
    checkout = Path(__file__).resolve().parents[2] / "models" / "default.onnx"
    installed = Path(sys.prefix) / "share" / "livedance" / "models" / "default.onnx"
    for path in (checkout, installed):
        if path.is_file():
            return path
    return checkout


DEFAULT_MODEL = default_model_path()
"""The embedded default generator, used when it is present."""


def choose_renderer(
    model: str | Path | None,
    *,
    stick: bool = False,
    size_px: int | None = None,
    device: str = "auto",
    temporal_blend: float = 0.0,
    deadband_px: float = 0.0,
    default_model: Path = DEFAULT_MODEL,
) -> tuple[Any, Body]:
    """The renderer a show asks for, and the Body its choreography must be built on.

    Args:
        model: an exported generator; None means the default model if it exists.
        stick: force stick figures even when a model is available.
        size_px: frame size for stick figures (a model fixes its own size).
        device, temporal_blend, deadband_px: see `NeuralRenderer`.
        default_model: where the embedded default model lives.

    Returns:
        ``(renderer, body)``: a `NeuralRenderer` and its model's Body, or a `StickRenderer` and
        the default Body.

    Raises:
        LivedanceError: conflicting options or a model that does not fit.
    """
    from livedance.render import ScaledRenderer, StickRenderer

    if stick and model is not None:
        raise LivedanceError("--stick and --model exclude each other: choose one renderer")
    if model is None and not stick:
        if default_model.is_file():
            model = default_model
        else:
            log.info("no generator model (%s absent): drawing stick figures", default_model)
    if model is None:
        return StickRenderer(size_px or 256), DEFAULT_BODY
    renderer = NeuralRenderer(
        model, device=device, temporal_blend=temporal_blend, deadband_px=deadband_px
    )
    body = renderer.contract.body
    if size_px is not None and size_px != renderer.width_px:
        log.info(
            "the model renders %dx%d; frames are scaled to %dx%d",
            renderer.width_px, renderer.height_px, size_px, size_px,
        )  # fmt: skip
        return ScaledRenderer(renderer, size_px), body
    return renderer, body
