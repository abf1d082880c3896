"""Switching the show's renderer mid-show: the OSC `/livedance/model s` address.

A VJ changes dancers without stopping the music: the new model loads (and is checked against its
contract) on its own thread while the old one keeps rendering; only a model that loads and fits
replaces it, and the choreography moves onto the new model's Body from the next frame. A model
that does not fit is refused with a notice on the HUD and a log line; the show goes on. Frames
keep the show's size (the recorder and window were opened for it), so a model of another size is
scaled.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt

from livedance.body import Body
from livedance.errors import LivedanceError
from livedance.render import FrameRenderer, ScaledRenderer, StickRenderer

log = logging.getLogger(__name__)

STICK = "stick"
"""The model name that switches to stick figures."""


class SwitchableRenderer:
    """The show's renderer, replaceable by another exported model while the show runs.

    Args:
        inner: the renderer the show starts with.
        on_body: called with the new model's Body when a switch lands (the choreographer's).
        device, temporal_blend, deadband_px: how new models run (see `NeuralRenderer`).
    """

    def __init__(
        self,
        inner: FrameRenderer,
        *,
        on_body: Callable[[Body], None] | None = None,
        device: str = "auto",
        temporal_blend: float = 0.0,
        deadband_px: float = 0.0,
    ) -> None:
        self._inner = inner
        self.width_px, self.height_px = inner.width_px, inner.height_px
        self.on_body = on_body
        self.device, self.temporal_blend, self.deadband_px = device, temporal_blend, deadband_px
        self.notice = ""
        """What the last switch did, for the HUD."""
        self.notify: Callable[[str], None] | None = None
        """Called with `notice` when a switch lands or is refused (the show's HUD line)."""
        self._loading: threading.Thread | None = None

    @property
    def name(self) -> str:
        return self._inner.name

    @property
    def room_plate(self) -> npt.NDArray[np.uint8] | None:
        """The current model's room when it has a background plate (see `NeuralRenderer`)."""
        return getattr(self._inner, "room_plate", None)

    def render(self, poses: npt.NDArray[np.float32]) -> npt.NDArray[np.uint8]:
        return self._inner.render(poses)

    def switch(self, model: str) -> None:
        """Load ``model`` (a path, or ``stick``) in the background and swap it in if it fits."""
        if self._loading is not None and self._loading.is_alive():
            self.notice = f"still loading a model; {model} ignored"
            log.warning("%s", self.notice)
            return
        self._loading = threading.Thread(
            target=self._load, args=(model,), name="livedance-model", daemon=True
        )
        self._loading.start()

    def wait(self, timeout_s: float | None = None) -> None:
        """Wait for a switch in progress (tests, shutdown)."""
        if self._loading is not None:
            self._loading.join(timeout_s)

    def _load(self, model: str) -> None:
        from livedance.body import DEFAULT_BODY
        from livedance.neural.generator import NeuralRenderer

        try:
            if model == STICK:
                new: FrameRenderer = StickRenderer(self.width_px, self.height_px)
                body = DEFAULT_BODY
            else:
                neural = NeuralRenderer(
                    Path(model),
                    device=self.device,
                    temporal_blend=self.temporal_blend,
                    deadband_px=self.deadband_px,
                )
                new, body = neural, neural.contract.body
        except (LivedanceError, OSError) as exc:
            self._tell(f"model refused: {exc}")
            log.warning("OSC /livedance/model: %s", self.notice)
            return
        if (new.width_px, new.height_px) != (self.width_px, self.height_px):
            new = ScaledRenderer(new, self.width_px, self.height_px)
        if self.on_body is not None:
            self.on_body(body)
        self._inner = new
        self._tell(f"model {Path(model).name}")
        log.info("switched to %s", model)

    def _tell(self, notice: str) -> None:
        self.notice = notice
        if self.notify is not None:
            self.notify(notice)
