"""The show loop: one loop for every show, a song or line-in, in a window or into a file.

DESIGN.md's "choreographer -> frame renderer -> window / recorder", scheduled on the master clock.
`run_show` takes

- a timeline (`livedance.show.timeline`): the dance in show time, which it keeps extended
  (nothing to do for a planned song; the beats-to-moves stage for line-in);
- a clock in show time (0 at the first frame): the audio player's position for a song, the input
  timeline for line-in, the system timer with ``--mute``, or a `FrameClock` that the loop itself
  sets to each frame for a headless render (then nothing is dropped or late);
- the renderer, and the operator (OSC commands and keys: `livedance.show.operator`);
- a list of outputs (`livedance.show.outputs`: window, recorder, OSC beats).

Each frame is rendered ahead of its display slot on a worker thread (`RenderAhead`), waits for
its moment on the clock, goes through the operator's blackout and freeze, and is handed to every
output with the HUD; a frame whose moment has passed by more than one frame is late (shown to no
window, still recorded), and slots the renderer could not make are skipped, never the frame of a
beat. The operator's picture offset (``--av-offset``) shifts the dance against the show clock:
the frame of slot ``k`` shows the dance at ``k / fps - offset``, so a negative offset shows each
move earlier, for a projector that shows frames late; the HUD and the beat frames move with it.
The audio never waits for video. Ctrl-C (and SIGTERM, see the CLI) end the show as the
operator's quit does: every output is closed properly, so a recording is a playable file.
"""

from __future__ import annotations

import logging
import math
import queue
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tqdm import tqdm

from livedance.clock import Clock, FrameClock
from livedance.pose import Pose
from livedance.render import FrameRenderer
from livedance.show.hud import HudInfo
from livedance.show.operator import Operator
from livedance.show.outputs import Output, ShowFrame
from livedance.show.render_ahead import RenderAhead, RenderedFrame, beat_slot
from livedance.show.timeline import Timeline
from livedance.show.warp import warp_frame

log = logging.getLogger(__name__)

MAX_WARP_S = 0.1
"""The furthest (show time) a generated frame is warped ahead of the pose it was drawn for."""

LATE_FRAMES = 1.0
"""A frame is late once its slot is over: the clock has passed it by this many frame periods."""


@dataclass(frozen=True)
class ShowOptions:
    """How to run a show.

    Attributes:
        fps: display frames per second.
        duration_s: the show's length (None: until stopped; a live show).
        progress: a progress bar (headless renders).
        queue_frames: rendered frames that may wait for display.
        warp: a display slot the renderer did not make shows the latest rendered frame warped
            to the slot's pose (`livedance.show.warp`) instead of holding it.
    """

    fps: float = 30.0
    duration_s: float | None = None
    progress: bool = False
    queue_frames: int = 3
    warp: bool = False


@dataclass(frozen=True)
class ShowStats:
    """What a show did.

    ``frames_late`` counts every display slot not shown: ``slots_skipped`` of them the renderer
    never rendered because it is slower than the frame rate (the video thins out on purpose), the
    rest were rendered but came after their moment.
    """

    slots: int
    frames_shown: int
    frames_late: int
    slots_skipped: int
    beat_frames: int
    """Moves that started within the show (after its first frame)."""
    beat_frames_shown: int
    """Of those, the moves whose first frame (the slot at or after the beat) was shown."""
    duration_s: float
    stopped_early: bool
    render_fps: float
    latency_ms: float
    frames_warped: int = 0
    """Of the frames shown, those warped from the latest rendered frame (``warp``)."""

    def summary(self) -> str:
        """One line for the log: what was shown, what was late, whether every beat was hit."""
        stopped = ", stopped early" if self.stopped_early else ""
        return (
            f"{self.slots} slots in {self.duration_s:.1f} s{stopped}: {self.frames_shown} shown, "
            f"{self.frames_late} late ({self.slots_skipped} skipped by the renderer"
            + (f", {self.frames_warped} shown warped" if self.frames_warped else "")
            + "); "
            f"{self.beat_frames_shown}/{self.beat_frames} beat frames shown; "
            f"render {self.render_fps:.0f} fps, render to display {self.latency_ms:.0f} ms"
        )


def run_show(
    timeline: Timeline,
    clock: Clock,
    renderer: FrameRenderer,
    outputs: Sequence[Output],
    operator: Operator,
    options: ShowOptions,
    *,
    start: Callable[[], None] | None = None,
    finished: Callable[[], bool] | None = None,
) -> ShowStats:
    """Run a show until its duration, the operator's quit, Ctrl-C, or ``finished()``.

    Args:
        timeline: the dance.
        clock: show time; a `FrameClock` makes a headless render (every slot, as fast as
            possible).
        renderer: poses to frames.
        outputs: where the frames and beats go; each is closed when the show ends.
        operator: OSC commands and keys.
        options: see `ShowOptions`.
        start: starts the clock (the song's playback, the timer); called once the first frame
            is rendered, so the first slot is not late for the renderer's warm-up. None: the
            clock runs already (line-in) or is the loop's own `FrameClock`.
        finished: the show's source has ended (the song played to its end).

    Returns:
        Frame, beat and timing counts.
    """
    return _Show(timeline, clock, renderer, outputs, operator, options, start, finished).run()


class _Show:
    def __init__(
        self,
        timeline: Timeline,
        clock: Clock,
        renderer: FrameRenderer,
        outputs: Sequence[Output],
        operator: Operator,
        options: ShowOptions,
        start: Callable[[], None] | None,
        finished: Callable[[], bool] | None,
    ) -> None:
        self.timeline, self.clock, self.renderer = timeline, clock, renderer
        self.outputs, self.operator, self.options = list(outputs), operator, options
        self.start, self.finished = start, finished
        self.fps = float(options.fps)
        self.realtime = not isinstance(clock, FrameClock)
        duration_s = options.duration_s
        self.n_slots = round(duration_s * self.fps) if duration_s is not None else sys.maxsize
        self.shown = self.beat_frames_shown = 0
        self.last_slot = -1
        self.stopped_early = False
        self.fps_ema = self.fps
        self.latency_ms = 0.0
        self._last_show_s: float | None = None
        self.warp = options.warp and self.realtime
        self._key: RenderedFrame | None = None  # the latest rendered frame shown
        self.warped = 0
        self._held_pose: Pose | None = None
        self.ahead = RenderAhead(
            self._pose_for,
            renderer,
            clock,
            self.fps,
            self.n_slots,
            queue_frames=options.queue_frames,
            accents=self._accents,
            drop=self.realtime,
        )
        self.minutes = _MinuteLog(self.ahead, timeline)

    def _pose_for(self, show_s: float) -> Pose:  # on the render worker's thread
        dance_at_s = show_s - self.operator.picture_offset_s
        pose = self.timeline.pose_at(dance_at_s)
        return self.operator.shape(pose, self.timeline.to_dance_s(dance_at_s))

    def _accents(self, t0_s: float, t1_s: float) -> list[float]:
        """The slots' times of the beats in ``[t0_s, t1_s)``, shifted by the picture offset."""
        offset_s = self.operator.picture_offset_s
        return [t + offset_s for t in self.timeline.accents(t0_s - offset_s, t1_s - offset_s)]

    def run(self) -> ShowStats:
        bounded = self.n_slots < sys.maxsize
        bar = tqdm(
            total=self.n_slots if bounded else None,
            unit="frame",
            desc="render",
            disable=not (self.options.progress and bounded),
            leave=False,
        )
        self.ahead.start()
        try:
            if self.start is not None:
                self.ahead.wait_ready()
                self.start()
            while not self.stopped_early:
                if self.finished is not None and self.finished():
                    break
                item = self._next_frame()
                if item is None:
                    break
                if isinstance(item, RenderedFrame):
                    if item.slot <= self.last_slot:  # its slot was shown warped meanwhile:
                        self._key = item  # the newest generated frame is what to warp from
                        continue
                    self._present(item)
                    self._key = item
                    bar.update(item.slot + 1 - bar.n)
                elif self.warp:
                    self._warp_due()
        except KeyboardInterrupt:
            self.stopped_early = True
            log.info("show stopped")
        finally:
            bar.close()
            self.ahead.stop()
            self.minutes.flush()
            stats = self._stats()
            self._close_outputs(stats)
        log.info("show: %s", stats.summary())
        return stats

    def _next_frame(self) -> RenderedFrame | bool | None:
        """One pass: extend, steer, tick the outputs, take the next rendered frame.

        Returns:
            The frame, False when none came yet, None at the end of the show.
        """
        now_s = self.clock.now()
        self.timeline.extend(now_s)
        self.operator.on_frame(now_s)
        for output in self.outputs:
            output.tick(now_s)
        timeout_s = 0.05
        if self.warp:  # back in time to warp the next slot if no frame comes for it
            timeout_s = min(timeout_s, max(0.001, (self.last_slot + 1) / self.fps - now_s))
        try:
            return self.ahead.get(timeout_s=timeout_s)
        except queue.Empty:
            return False

    def _warp_due(self) -> None:
        """No rendered frame for the slot that is due: show the latest one warped to its pose."""
        key = self._key
        slot = math.floor(self.clock.now() * self.fps + 1e-9)
        if key is None or key.pose is None or slot <= self.last_slot or slot >= self.n_slots:
            return
        t_slot = slot / self.fps
        # a generated frame stretched too far smears: past MAX_WARP_S it holds the warped pose
        target_s = min(t_slot, key.slot / self.fps + MAX_WARP_S)
        pose = self._pose_for(target_s)
        image = warp_frame(key.frame, key.pose, pose)
        now_s = self.clock.now()
        self.warped += 1
        self._present(RenderedFrame(slot, image, now_s, now_s, pose))  # the pose: for mattes

    def _present(self, item: RenderedFrame) -> None:
        slot, t_slot = item.slot, item.slot / self.fps
        if self.realtime:
            _wait_until(self.clock, t_slot)
        else:
            assert isinstance(self.clock, FrameClock)
            self.clock.advance(slot)
        now_s = self.clock.now()
        on_time = now_s - t_slot <= LATE_FRAMES / self.fps
        self.minutes.frame(t_slot, on_time)
        self.last_slot = slot
        operator = self.operator
        image = operator.present(item.frame)
        hud = self._hud(t_slot) if on_time and operator.hud and not operator.blackout else None
        frame = ShowFrame(slot, image, on_time, self._pose_shown(item.pose))
        for output in self.outputs:
            event = output.frame(frame, hud)
            if event == "quit":
                self.stopped_early = True
            elif event is not None:
                operator.key(event, now_s)
        if not on_time:
            return
        self.shown += 1
        self.latency_ms += 0.1 * ((now_s - item.render_start_s) * 1e3 - self.latency_ms)
        wall_s = time.perf_counter()
        if self._last_show_s is not None:
            self.fps_ema += 0.1 * (1.0 / max(1e-3, wall_s - self._last_show_s) - self.fps_ema)
        self._last_show_s = wall_s
        fps = self.fps
        starts = self._accents((slot - 2) / fps, (slot + 1) / fps)
        self.beat_frames_shown += sum(slot > 0 and beat_slot(t, fps) == slot for t in starts)

    def _pose_shown(self, pose: Pose | None) -> Pose | None:
        """The pose in the presented frame: held in freeze, none in blackout (as the image)."""
        controls = self.operator.controls
        if controls.freeze and self._held_pose is not None:
            pose = self._held_pose
        else:
            self._held_pose = pose
        return None if controls.blackout else pose

    def _hud(self, t_slot: float) -> HudInfo:
        operator = self.operator
        beat = self.timeline.beat_at(t_slot - operator.picture_offset_s)
        ahead = self.ahead
        return HudInfo(
            fps=self.fps_ema,
            bpm=beat.bpm,
            beat_phase=beat.phase,
            action=beat.action,
            time_s=t_slot,
            renderer=self.renderer.name,
            dropped=max(0, self.last_slot + 1 - self.shown),
            render_fps=ahead.render_fps,
            latency_ms=self.latency_ms,
            notice=self.timeline.problem or operator.notice,
            picture_offset_ms=operator.controls.picture_offset_ms,
            beat_offset_ms=operator.controls.beat_offset_ms,
            status=operator.status,
        )

    def _stats(self) -> ShowStats:
        # every slot is shown or counted late: up to the show's end, or to the last one reached
        # when it was stopped (slots the renderer skipped at the very end count late too)
        bounded = self.n_slots < sys.maxsize
        end_slot = self.n_slots if bounded and not self.stopped_early else self.last_slot + 1
        late = max(0, end_slot - self.shown)
        fps = self.fps
        beat_slots = [beat_slot(t, fps) for t in self._accents(0.0, end_slot / fps)]
        return ShowStats(
            slots=end_slot,
            frames_shown=self.shown,
            frames_late=late,
            slots_skipped=min(late, self.ahead.slots_skipped),
            beat_frames=sum(0 < s < end_slot for s in beat_slots),
            beat_frames_shown=self.beat_frames_shown,
            duration_s=end_slot / fps,
            stopped_early=self.stopped_early,
            render_fps=self.ahead.render_fps,
            latency_ms=self.latency_ms,
            frames_warped=self.warped,
        )

    def _close_outputs(self, stats: ShowStats) -> None:
        """Close every output, even when one fails (the first failure is raised after)."""
        error: BaseException | None = None
        for output in self.outputs:
            try:
                output.close(stats.slots, stopped_early=stats.stopped_early)
            except BaseException as exc:
                error = error or exc
        if error is not None:
            raise error


class _MinuteLog:
    """Logs, once a minute of show time, what that minute showed: the soak's drift figures.

    Frames shown, slots skipped by the renderer and frames late, the mean render time of the
    minute's frames and, live, the beats heard.
    """

    def __init__(self, ahead: RenderAhead, timeline: Timeline) -> None:
        self.ahead, self.timeline = ahead, timeline
        self.minute = 0
        self.shown = self.late = 0
        self.skipped0 = self.beats0 = self.rendered0 = 0
        self.render_s0 = 0.0

    def frame(self, show_s: float, shown: bool) -> None:
        """Count one display slot at ``show_s`` (shown, or not shown in time)."""
        if show_s >= 60.0 * (self.minute + 1):
            self.flush()
        self.shown += shown
        self.late += not shown

    def flush(self) -> None:
        """Log the minute counted so far (and at the show's end, the last part of one)."""
        if self.shown + self.late == 0:
            return
        ahead = self.ahead
        skipped, beats = ahead.slots_skipped, self.timeline.beats_heard
        rendered, render_s = ahead.frames_rendered, ahead.render_s_total
        mean_ms = 1e3 * (render_s - self.render_s0) / max(1, rendered - self.rendered0)
        heard = "" if beats is None else f", {beats - self.beats0} beats heard"
        log.info(
            "minute %d: %d frames shown, %d skipped, %d late, render %.1f ms%s",
            self.minute + 1, self.shown, skipped - self.skipped0, self.late, mean_ms, heard,
        )  # fmt: skip
        self.minute += 1
        self.shown = self.late = 0
        self.skipped0, self.beats0 = skipped, beats or 0
        self.rendered0, self.render_s0 = rendered, render_s


def _wait_until(clock: Clock, t_s: float) -> None:
    """Sleep until the clock reaches ``t_s`` (the last millisecond is left to imshow/waitKey)."""
    while True:
        remaining = t_s - clock.now()
        if remaining <= 0.002:
            return
        time.sleep(min(remaining - 0.001, 0.02))
