"""The contract an exported generator carries: what it eats, what it gives, whom it was trained on.

`export` writes a `ModelContract` into the ONNX model's ``metadata_props``; the runtime reads it
back and refuses a model that does not fit (DESIGN.md, "Frame renderer"). One place defines the
tensor layout so that training, export, evaluation and the live runtime cannot drift apart:

- input ``stick``: float32 ``(batch, 3, height, width)``, RGB, values in [-1, 1]: the stick figure
  drawn by `livedance.skeleton.render_sticks` (BGR uint8) converted by `sticks_to_input`;
- output ``frame``: float32 ``(batch, 3, height, width)``, RGB, values in [-1, 1], turned back into
  BGR uint8 frames by `output_to_frames`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from livedance.body import Body
from livedance.errors import LivedanceError

FORMAT_VERSION = 1
SKELETON = "openpose-coco18"
INPUT_NAME = "stick"
OUTPUT_NAME = "frame"
PLATE_NAME = "plate"
"""A second output of models with a background plate: the room, ``(1, 3, h, w)`` in [-1, 1]."""
VALUE_RANGE = (-1.0, 1.0)
_PREFIX = "livedance."


class ModelMismatchError(LivedanceError):
    """A model whose contract does not fit this runtime (or is not a livedance model at all)."""


@dataclass(frozen=True)
class ModelContract:
    """What a generator model promises; stored as ``livedance.*`` entries of ONNX metadata_props.

    Attributes:
        width_px, height_px: the frame size the model was trained at (input and output).
        body: bone lengths and placement of the person in the training video.
        generator: architecture numbers (ngf, n_downsample, n_blocks, ...).
        training: a short summary (dataset, iterations, time, metrics) for model cards and the HUD.
    """

    width_px: int
    height_px: int
    body: Body
    generator: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    skeleton: str = SKELETON
    value_range: tuple[float, float] = VALUE_RANGE
    format_version: int = FORMAT_VERSION

    def to_metadata(self) -> dict[str, str]:
        """The ``metadata_props`` entries (all strings, as ONNX requires)."""
        return {
            f"{_PREFIX}format_version": str(self.format_version),
            f"{_PREFIX}input_size": f"{self.width_px}x{self.height_px}",
            f"{_PREFIX}input_name": INPUT_NAME,
            f"{_PREFIX}output_name": OUTPUT_NAME,
            f"{_PREFIX}channels": "RGB",
            f"{_PREFIX}value_range": json.dumps(list(self.value_range)),
            f"{_PREFIX}skeleton": self.skeleton,
            f"{_PREFIX}body": json.dumps(self.body.to_dict(), sort_keys=True),
            f"{_PREFIX}generator": json.dumps(self.generator, sort_keys=True),
            f"{_PREFIX}training": json.dumps(self.training, sort_keys=True),
        }

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, str], *, source: str = "model") -> ModelContract:
        """Read and check a contract; raises `ModelMismatchError` with one clear line if unusable.

        Args:
            metadata: the model's metadata_props
                (``session.get_modelmeta().custom_metadata_map``).
            source: how to name the model in error messages (usually its path).
        """
        if f"{_PREFIX}format_version" not in metadata:
            raise ModelMismatchError(
                f"{source} is not a livedance generator (no livedance metadata); "
                "export one with `livedance export`"
            )
        try:
            version = int(metadata[f"{_PREFIX}format_version"])
            width_text, height_text = metadata[f"{_PREFIX}input_size"].lower().split("x")
            width_px, height_px = int(width_text), int(height_text)
            low, high = (float(v) for v in json.loads(metadata[f"{_PREFIX}value_range"]))
            skeleton = metadata[f"{_PREFIX}skeleton"]
            body = Body.from_dict(json.loads(metadata[f"{_PREFIX}body"]))
            generator = json.loads(metadata.get(f"{_PREFIX}generator", "{}"))
            training = json.loads(metadata.get(f"{_PREFIX}training", "{}"))
        except (KeyError, ValueError, TypeError) as exc:
            raise ModelMismatchError(f"{source} has broken livedance metadata ({exc})") from None
        if version > FORMAT_VERSION:
            raise ModelMismatchError(
                f"{source} uses model format {version}; this livedance reads up to "
                f"{FORMAT_VERSION}: upgrade livedance"
            )
        if skeleton != SKELETON:
            raise ModelMismatchError(
                f"{source} expects skeleton {skeleton!r}; livedance draws {SKELETON!r}"
            )
        if (low, high) != VALUE_RANGE:
            raise ModelMismatchError(f"{source} uses value range {(low, high)}, not {VALUE_RANGE}")
        if width_px < 16 or height_px < 16:
            raise ModelMismatchError(f"{source} has an unusable input size {width_px}x{height_px}")
        return cls(
            width_px=width_px,
            height_px=height_px,
            body=body,
            generator=generator,
            training=training,
            skeleton=skeleton,
            value_range=(low, high),
            format_version=version,
        )

    def summary(self) -> dict[str, Any]:
        """A JSON-friendly view (for `--json` outputs and model cards)."""
        data = asdict(self)
        data["body"] = self.body.to_dict()
        return data


def sticks_to_input(sticks_bgr: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    """BGR uint8 stick images ``(n, h, w, 3)`` -> the model input ``(n, 3, h, w)`` in [-1, 1]."""
    rgb = sticks_bgr[..., ::-1].transpose(0, 3, 1, 2)
    return (rgb.astype(np.float32) / 127.5 - 1.0).astype(np.float32)


def output_to_frames(output: npt.NDArray[np.float32]) -> npt.NDArray[np.uint8]:
    """The model output ``(n, 3, h, w)`` in [-1, 1] -> BGR uint8 frames ``(n, h, w, 3)``."""
    scaled = (np.clip(output, -1.0, 1.0) + 1.0) * 127.5
    frames = np.rint(scaled).astype(np.uint8).transpose(0, 2, 3, 1)[..., ::-1]
    return np.ascontiguousarray(frames)
