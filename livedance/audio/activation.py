"""The learned beat activation: a small causal network run with ONNX Runtime, hop by hop.

An alternative first box of the "beat tracker (aubio)" in DESIGN.md's live data flow: it reads
the front end's log mel bands and their rise (`livedance.audio.novelty`) for each hop and gives
how likely a beat (and a bar's first beat) lands on that hop, 0..1. The pulse estimator
(`livedance.audio.tempo`) then folds this activation instead of the handcrafted spectral flux;
tempo, phase and the beat clock are unchanged.

The network (``models/beatnet.onnx``, trained by `offline.beatnet` on songs the beat-set
generator renders) is a causal TCN exported in streaming form: each call takes the new hops and
the blocks' state and returns the activations and the next state, so a hop costs one small
inference. `load_activation` picks the path: ``"learned"`` needs the model, ``"handcrafted"``
never uses it, ``"auto"`` uses it when the file is there and otherwise falls back, with one log
line, to the handcrafted novelty.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from livedance.errors import LivedanceError

log = logging.getLogger(__name__)

ActivationMode = Literal["auto", "learned", "handcrafted"]
ACTIVATION_MODES: tuple[ActivationMode, ...] = ("auto", "learned", "handcrafted")

MODEL_NAME = "beatnet.onnx"


MODEL_ENV = "LIVEDANCE_BEATNET"
"""An environment variable naming another network file (a retrained one, or none to test)."""


def default_model_path() -> Path | None:
    """The file `MODEL_ENV` names if set; else ``models/beatnet.onnx`` of a checkout, else of the
    installed data files; None if neither is there."""
    if os.environ.get(MODEL_ENV):
        return Path(os.environ[MODEL_ENV])
    checkout = Path(__file__).resolve().parents[2] / "models" / MODEL_NAME
    installed = Path(sys.prefix) / "share" / "livedance" / "models" / MODEL_NAME
    return next((p for p in (checkout, installed) if p.exists()), None)


class BeatActivation:
    """Streaming beat and downbeat activation of one input (keeps the network's state).

    Args:
        model_path: the streaming ONNX network (`offline.beatnet.model.export_onnx`).
    """

    def __init__(self, model_path: Path) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1  # one hop is tiny: threads cost more than they save
        options.inter_op_num_threads = 1
        self.model_path = Path(model_path)
        self._session = ort.InferenceSession(
            str(model_path), options, providers=["CPUExecutionProvider"]
        )
        inputs = self._session.get_inputs()
        if inputs[0].name != "features" or len(inputs[0].shape) != 3:
            raise LivedanceError(f"{model_path}: not a beat activation network (no 'features')")
        self.n_features = int(inputs[0].shape[1])
        self._state_names = [i.name for i in inputs[1:]]
        self._state_shapes = [tuple(int(d) for d in i.shape) for i in inputs[1:]]
        self._states: list[npt.NDArray[np.float32]] = []
        self.reset()

    def reset(self) -> None:
        """Forget the past (a new song after a long silence)."""
        self._states = [np.zeros(s, np.float32) for s in self._state_shapes]

    def process(self, features: npt.NDArray[np.float32]) -> tuple[float, float]:
        """One hop's features (``n_features``: log bands, then their rise) -> (beat, downbeat)."""
        beat, downbeat = self.process_block(features[:, None])[:, 0]
        return float(beat), float(downbeat)

    def process_block(self, features: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """``(n_features, hops)`` consecutive hops -> ``(2, hops)`` beat and downbeat."""
        feed = {"features": np.ascontiguousarray(features[None], dtype=np.float32)}
        feed.update(zip(self._state_names, self._states, strict=True))
        activation, *self._states = self._session.run(None, feed)
        return activation[0]


def load_activation(
    mode: ActivationMode = "auto", model_path: Path | None = None
) -> BeatActivation | None:
    """The learned activation for ``mode``, or None for the handcrafted novelty.

    Args:
        mode: ``"learned"`` (the model must load, else a LivedanceError), ``"handcrafted"``
            (None), ``"auto"`` (the model if its file is there, else None with one log line).
        model_path: the network (default `default_model_path`).
    """
    if mode not in ACTIVATION_MODES:
        raise ValueError(f"activation must be one of {ACTIVATION_MODES}, got {mode!r}")
    if mode == "handcrafted":
        return None
    path = model_path if model_path is not None else default_model_path()
    if path is None or not Path(path).exists():
        if mode == "learned":
            raise LivedanceError(f"learned beat activation: no model at {path or MODEL_NAME}")
        log.info("beat activation: no %s, using the handcrafted onset novelty", MODEL_NAME)
        return None
    return BeatActivation(Path(path))
