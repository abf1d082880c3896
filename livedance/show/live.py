"""The live show: line-in beats -> choreography extended beat by beat -> window and/or recorder.

DESIGN.md live path: `LineIn` (input callback -> ring -> analysis thread -> `BeatTracker` ->
`BeatClock`) is the master clock; each frame this loop asks the beat clock for the beats
predicted within the next period and appends one interval per new beat to the choreographer
(features: RMS and centroid of the last interval the tracker measured), so a move starts ON the
predicted beat rather than when the beat was detected. When the music stops the clock goes idle,
no more intervals are added, and the choreographer's idle pose (standing, breathing) takes over.
Device loss is shown on the HUD; the line-in reconnects by itself. A `RepeatMemory` hears each
beat's chroma from the ring and, when the music repeats earlier bars, makes the choreographer
dance the actions of one lag earlier again. With ``record`` the input is copied to a WAV as it
arrives (`InputAudioTap`) and muxed into the video at the end, time 0 = the first frame.
"""

from __future__ import annotations

import logging
import queue
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from livedance.audio.inputclock import LATE_BLOCK_S
from livedance.audio.linein import LineIn
from livedance.audio.repeats import RepeatMemory
from livedance.choreo import Choreographer
from livedance.render import FrameRenderer
from livedance.show.audiotap import InputAudioTap
from livedance.show.hud import HudInfo
from livedance.show.pipeline import RenderAhead, beat_slot
from livedance.show.recorder import VideoRecorder
from livedance.show.showlink import ShowLink
from livedance.songplan import BeatInterval

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LiveOptions:
    """How to run a live show (the `live` command's options)."""

    fps: float = 30.0
    duration_s: float | None = None
    headless: bool = False
    fullscreen: bool = False
    record: Path | None = None
    hud: bool = True
    title: str = "livedance live"
    repeats: bool = True


@dataclass(frozen=True)
class LiveStats:
    """What a live show did.

    ``frames_late`` counts every display slot not shown: ``frames_skipped`` of them the renderer
    never rendered because it is slower than the frame rate (the video thins out on purpose),
    the rest were rendered but arrived after their moment.
    """

    frames_shown: int
    frames_late: int
    beats_heard: int
    moves_added: int
    duration_s: float
    moves_repeated: int = 0
    frames_skipped: int = 0
    beat_frames_shown: int = 0
    """Moves whose first frame (the slot at or after the beat) was shown."""
    beat_frames: int = 0
    """Moves that started within the show."""


class _MinuteLog:
    """Logs, once a minute of show time, what that minute showed: the soak's drift figures.

    Frames shown, slots skipped by the renderer and frames late, the mean render time of the
    minute's frames and the beats heard.
    """

    def __init__(self, ahead: RenderAhead, line: LineIn) -> None:
        self.ahead, self.line = ahead, line
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
        skipped, beats = ahead.slots_skipped, self.line.beats_seen
        rendered, render_s = ahead.frames_rendered, ahead.render_s_total
        mean_ms = 1e3 * (render_s - self.render_s0) / max(1, rendered - self.rendered0)
        log.info(
            "live minute %d: %d frames shown, %d skipped, %d late, render %.1f ms, "
            "%d beats heard",
            self.minute + 1, self.shown, skipped - self.skipped0, self.late, mean_ms,
            beats - self.beats0,
        )  # fmt: skip
        self.minute += 1
        self.shown = self.late = 0
        self.skipped0, self.beats0 = skipped, beats
        self.rendered0, self.render_s0 = rendered, render_s


class _ShowTime:
    """The input clock as show time (0 at the first frame), for the render-ahead worker."""

    def __init__(self, line: LineIn, t0_s: float) -> None:
        self.line, self.t0_s = line, t0_s

    def now(self) -> float:
        return self.line.now() - self.t0_s


def extend_from_clock(
    choreographer: Choreographer,
    line: LineIn,
    now_s: float,
    features: tuple[float, float],
    memory: RepeatMemory | None = None,
) -> int:
    """Append an interval for each beat the clock predicts within the next period.

    Args:
        choreographer: the live choreography.
        line: the line-in whose beat clock predicts the beats.
        now_s: the frame's input time.
        features: RMS dB and centroid Hz of the last measured interval.
        memory: hears every new beat; while the music repeats, the beat repeats an earlier move.

    Returns:
        How many intervals were added.
    """
    clock = line.clock
    if clock.is_idle:
        if memory is not None:
            memory.reset()
        return 0
    period_s = clock.period_s
    n = choreographer.n_moves
    last_s = choreographer.move(n - 1).start_s if n else -1e9
    added = 0
    for beat_s in clock.beats_between(now_s - period_s, now_s + period_s):
        if beat_s > last_s + 0.5 * period_s:
            source_s = memory.on_beat(beat_s, line.captured_s()) if memory is not None else None
            if source_s is not None:
                choreographer.repeat_from(source_s)
            choreographer.add_interval(
                BeatInterval(beat_s, beat_s + period_s, features[0], features[1])
            )
            last_s = beat_s
            added += 1
    return added


def run_live(
    line: LineIn,
    choreographer: Choreographer,
    renderer: FrameRenderer,
    options: LiveOptions,
    link: ShowLink | None = None,
) -> LiveStats:
    """Run the live show until ``duration_s``, the window closes, or Ctrl-C.

    Args:
        line: the started line-in (the master clock).
        choreographer: an empty choreographer to extend beat by beat.
        renderer: poses to frames.
        options: see `LiveOptions`.
        link: OSC control and beat output (its beat clock should be ``line.clock``).

    Returns:
        Counts of frames, beats and moves.
    """
    screen = None
    if not options.headless:
        from livedance.show.window import Screen, Window

        screen = Screen(
            Window(options.title, renderer.width_px, renderer.height_px, options.fullscreen),
            options.hud,
            link,
        )
    recorder = (
        VideoRecorder(options.record, options.fps, renderer.width_px, renderer.height_px, None)
        if options.record
        else None
    )
    memory = RepeatMemory(line.sample_rate, line.ring.peek) if options.repeats else None
    if link is not None:
        link.attach_clock(line)
    pose_at = link.pose_at if link is not None else choreographer.pose_at
    fps = options.fps
    t0_s = line.now()
    shown = late = added = 0
    features = (-20.0, 1500.0)
    started = time.perf_counter()
    tap = InputAudioTap(line.ring, line.sample_rate, t0_s, line.captured_s) if recorder else None
    # the worker renders the predicted choreography ahead of the input clock; the lock keeps it
    # from reading the timeline while this thread extends it or applies OSC commands
    lock = threading.Lock()

    def pose_for(show_s: float) -> npt.NDArray[np.float32]:
        with lock:
            return pose_at(t0_s + show_s)

    def beats_for(a_s: float, b_s: float) -> list[float]:  # where the moves start: the accents
        with lock:
            return [t - t0_s for t in choreographer.starts_between(t0_s + a_s, t0_s + b_s)]

    n_slots = round(options.duration_s * fps) if options.duration_s is not None else sys.maxsize
    ahead = RenderAhead(
        pose_for, renderer, _ShowTime(line, t0_s), fps, n_slots, accents=beats_for
    ).start()
    beat_frames_shown = 0  # counted as shown, not kept: a show may run for hours
    last_slot, latency_ms = -1, 0.0
    minutes = _MinuteLog(ahead, line)
    quit_early = False
    try:
        while True:
            while not line.events.empty():
                event = line.events.get_nowait()
                if event.interval is not None:
                    features = (event.interval.rms_db, event.interval.centroid_hz)
            with lock:  # keep the timeline a period ahead of the renderer
                added += extend_from_clock(choreographer, line, line.now(), features, memory)
            try:
                item = ahead.get(timeout_s=0.05)
            except queue.Empty:
                continue
            if item is None:
                break
            slot, frame = item.slot, item.frame
            t_slot = t0_s + slot / fps
            while (wait_s := t_slot - line.now()) > 0:  # shown at its moment, not before
                time.sleep(min(wait_s, 0.005))
                if time.perf_counter() - started > 2.0 + slot / fps + 5.0:
                    break  # the input stalled (device lost): keep showing, on the wall clock
            if link is not None:
                with lock:
                    link.on_frame(t_slot)
                frame = link.present(frame)
            if recorder is not None:
                recorder.write_slot(slot, frame)
            if tap is not None:
                tap.pull(t0_s + (slot + 1) / fps)
            last_slot = slot
            on_time = line.now() - t_slot <= 2.0 / fps
            minutes.frame(t_slot - t0_s, on_time)
            if not on_time:  # its moment has passed: showing it would lag
                late += 1
                continue
            latency_ms = 0.9 * latency_ms + 0.1 * (line.now() - t0_s - item.render_start_s) * 1e3
            if screen is not None:
                display = frame
                if screen.hud_on:
                    move = choreographer.move_at(t_slot)
                    status = line.problem or (link.notice if link is not None else "")
                    action = move.action if move else "idle"
                    if move is not None and move.reason == "repeat":
                        action += " (repeat)"
                    info = HudInfo(
                        fps=fps,
                        bpm=line.clock.bpm if not line.clock.is_idle else 0.0,
                        beat_phase=line.clock.phase(t_slot),
                        action=f"{action} {status}".strip(),
                        time_s=t_slot - t0_s,
                        renderer=renderer.name,
                        dropped=late + ahead.slots_skipped,
                        render_fps=ahead.render_fps,
                        latency_ms=latency_ms,
                    )
                    display = screen.with_hud(frame, info)
                key_event = screen.present(display)
                if key_event == "quit":
                    quit_early = True
                    break
                if key_event == "tap":
                    line.clock.tap(line.now())
            shown += 1
            starts = beats_for((slot - 2) / fps, (slot + 1) / fps)
            beat_frames_shown += sum(slot > 0 and beat_slot(t, fps) == slot for t in starts)
    except KeyboardInterrupt:
        quit_early = True
        log.info("live show stopped")
    finally:
        ahead.stop()
        minutes.flush()
        if recorder is not None:
            if not quit_early:  # slots skipped at the very end
                recorder.pad_to(n_slots)
            wav = tap.finish(recorder.frames_written / fps) if tap is not None else None
            try:
                recorder.close(wav)
            finally:
                if tap is not None:
                    tap.cleanup()
        if screen is not None:
            screen.close()
    # every slot is shown or counted late: up to the show's end, or to the last one reached when
    # it was stopped early (slots the renderer skipped at the very end count late too)
    end_slot = last_slot + 1 if quit_early or options.duration_s is None else n_slots
    late = max(0, end_slot - shown)
    repeated = sum(m.reason == "repeat" for m in choreographer.moves)
    skipped = min(late, ahead.slots_skipped)
    beat_slots = [beat_slot(m.start_s - t0_s, fps) for m in choreographer.moves]
    beat_slots = [s for s in beat_slots if 0 < s < end_slot]
    stats = LiveStats(
        shown, late, line.beats_seen, added, line.now() - t0_s, repeated, skipped,
        beat_frames_shown, len(beat_slots),
    )  # fmt: skip
    log.info("live show: %s", stats)
    clock = line.input_clock
    log.info(
        "audio input: %d blocks more than %.0f ms late (the latest %.0f ms), %d status flags",
        clock.blocks_late, LATE_BLOCK_S * 1e3, clock.max_block_late_s * 1e3, line.statuses,
    )  # fmt: skip
    return stats
