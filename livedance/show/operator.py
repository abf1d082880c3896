"""The operator's hand on a running show: OSC commands and the window's keys, applied per frame.

DESIGN.md's "OSC control" arrow into the show. Once per frame the show loop calls
`Operator.on_frame`: the OSC inbox is drained (bounded, so a flood never stalls a frame), the
commands are folded into `ShowControls` (pure, `livedance.control.state`), and one-off requests
are handed to the timeline (a forced action, a tap, a nudge, a tempo and its release) or to the
renderer (another model). The picture and OSC beat offsets (``--av-offset``, ``--osc-offset``,
``/livedance/offset``) are settings the show loop and the beat output read. The window's keys
arrive here too (`Operator.key`), so a key and its OSC address do the same thing. Settings act on
every frame: `shape` scales the pose towards the idle pose by the intensity, `present` gives the
frame to show in blackout and freeze.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import numpy.typing as npt

from livedance.choreo import idle_pose
from livedance.control.commands import Command, MarkOne, ReleaseTempo, ScaleTempo, Tap
from livedance.control.osc import OscControl
from livedance.control.state import ShowControls, apply_commands
from livedance.pose import Pose
from livedance.show.timeline import Timeline

log = logging.getLogger(__name__)

NOTICE_S = 4.0
"""How long a notice (a tempo held, a model switched) stays on the HUD."""


class Operator:
    """Operator control of one show.

    Args:
        timeline: the dance the requests steer.
        control: the started OSC input, or None.
        hud: whether the HUD starts visible.
        model_switcher: called with a model path on ``/livedance/model`` (None: not supported,
            said on the HUD).
        inputs: more inputs polled with the OSC input, each with ``poll() -> list[Command]``,
            ``close()`` and, for the HUD, maybe a ``status`` line: MIDI
            (`livedance.control.midi.MidiControl`), Ableton Link
            (`livedance.control.link.LinkSession`).
        picture_offset_ms: the picture's trim against the sound at the start (``--av-offset``).
        beat_offset_ms: the OSC beat output's trim at the start (``--osc-offset``).
    """

    def __init__(
        self,
        timeline: Timeline,
        *,
        control: OscControl | None = None,
        hud: bool = True,
        model_switcher: Callable[[str], None] | None = None,
        inputs: Sequence[Any] = (),
        picture_offset_ms: float = 0.0,
        beat_offset_ms: float = 0.0,
    ) -> None:
        self.timeline = timeline
        self.control = control
        self.inputs = list(inputs)
        self.controls = ShowControls(
            hud=hud, picture_offset_ms=picture_offset_ms, beat_offset_ms=beat_offset_ms
        )
        self.model_switcher = model_switcher
        self.commands_applied = 0
        self._notice = ""
        self._notice_until = 0.0
        self._last_frame: npt.NDArray[np.uint8] | None = None

    # ----------------------------------------------------------------------------- state
    @property
    def hud(self) -> bool:
        return self.controls.hud

    @property
    def blackout(self) -> bool:
        return self.controls.blackout

    @property
    def picture_offset_s(self) -> float:
        """The picture's shift against the sound, s (negative: moves shown earlier)."""
        return self.controls.picture_offset_ms / 1e3

    @property
    def beat_offset_s(self) -> float:
        """The OSC beat output's shift against the sound, s (negative: sent earlier)."""
        return self.controls.beat_offset_ms / 1e3

    @property
    def notice(self) -> str:
        """The latest notice while it is fresh (empty after `NOTICE_S`)."""
        return self._notice if time.monotonic() < self._notice_until else ""

    @property
    def status(self) -> str:
        """The inputs' status lines for the HUD (Link peers and tempo), or empty."""
        return "  ".join(s for s in (getattr(i, "status", "") for i in self.inputs) if s)

    def tell(self, notice: str) -> None:
        """Show ``notice`` on the HUD for a while (e.g. what a model switch did)."""
        self._notice, self._notice_until = notice, time.monotonic() + NOTICE_S

    # ----------------------------------------------------------------------------- per frame
    def on_frame(self, now_s: float) -> None:
        """Drain and apply the OSC commands that arrived; act on the requests.

        Args:
            now_s: show time now (taps were stamped on the same clock).
        """
        commands = self.control.poll() if self.control is not None else []
        for source in self.inputs:
            commands += source.poll()
        if commands:
            self._apply(commands, now_s)

    def key(self, event: str, now_s: float) -> None:
        """A key of the window: ``tap`` (a beat is now), ``hud`` (toggle the HUD), ``double``,
        ``half`` or ``release`` (the tempo), ``one`` (this beat starts a bar), as their OSC
        addresses do."""
        if event == "tap":
            self._apply([Tap(now_s)], now_s)
        elif event in ("double", "half"):
            self._apply([ScaleTempo(2.0 if event == "double" else 0.5)], now_s)
        elif event == "release":
            self._apply([ReleaseTempo()], now_s)
        elif event == "one":
            self._apply([MarkOne(now_s)], now_s)
        elif event == "hud":
            self.controls = replace(self.controls, hud=not self.controls.hud)

    def shape(self, pose: Pose, dance_s: float) -> Pose:
        """``pose`` scaled towards the idle pose by the intensity (1: as danced)."""
        k = self.controls.intensity
        if k == 1.0:
            return pose
        rest = idle_pose(dance_s, self.timeline.choreographer.body)
        scaled = pose.copy()
        scaled[:, :2] = rest[:, :2] + k * (pose[:, :2] - rest[:, :2])
        return scaled

    def present(self, frame: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        """The frame to show instead of ``frame``: black in blackout, the last one in freeze."""
        if self.controls.freeze and self._last_frame is not None:
            frame = self._last_frame
        else:
            self._last_frame = frame
        if self.controls.blackout:
            return np.zeros_like(frame)
        return frame

    def close(self) -> None:
        if self.control is not None:
            self.control.close()
        for source in self.inputs:
            source.close()

    # ----------------------------------------------------------------------------- requests
    def _apply(self, commands: list[Command], now_s: float) -> None:
        before = self.controls
        self.controls = apply_commands(self.controls, commands)
        self.commands_applied += len(commands)
        after = self.controls
        if (before.picture_offset_ms, before.beat_offset_ms) != (
            after.picture_offset_ms,
            after.beat_offset_ms,
        ):
            self._said(
                f"offset: picture {after.picture_offset_ms:+.0f} ms, "
                f"OSC beats {after.beat_offset_ms:+.0f} ms"
            )
        self.controls, req = self.controls.take_requests()
        if req.empty:
            return
        timeline = self.timeline
        if req.model is not None:
            if self.model_switcher is None:
                self.tell(f"model switching unavailable ({req.model})")
                log.warning("OSC: %s", self.notice)
            else:  # the notice first: the switcher may report back before it returns
                self.tell(f"loading model {req.model}")
                self.model_switcher(req.model)
        if req.action is not None:
            try:
                timeline.force(req.action, now_s)
                log.info("operator: action %s on the next beat", req.action)
            except KeyError as e:
                log.warning("operator: cannot force action %r: %s", req.action, e)
        if req.nudge_beats:
            log.info("operator: %s", timeline.nudge(req.nudge_beats))
        if req.release_tempo:
            self._said(timeline.release_tempo())
        if req.beat_at_s is not None:
            self._said(timeline.tap(req.beat_at_s, req.tempo_bpm))
        elif req.tempo_bpm is not None:
            self._said(timeline.set_tempo(req.tempo_bpm))
        if req.tempo_scale != 1.0:
            self._said(timeline.scale_tempo(req.tempo_scale))
        if req.one_at_s is not None:
            self._said(timeline.mark_one(req.one_at_s))

    def _said(self, what: str) -> None:
        log.info("operator: %s", what)
        self.tell(what)
