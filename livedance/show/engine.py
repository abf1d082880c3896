"""The show: choreography -> renderer -> window and/or recorder, scheduled on the master clock.

Two ways to run, one frame path:
- live (a window): the clock is the audio player (or a monotonic clock with ``--mute``); each
  frame is rendered ahead of its display slot on a worker thread (`show.pipeline.RenderAhead`),
  shown when the clock reaches it, and slots the renderer could not make are dropped (the audio
  never waits for video);
- headless: a frame clock steps through every slot as fast as it can render, for recordings.
A recording always holds exactly ``duration x fps`` frames: dropped slots repeat the last frame.
"""

from __future__ import annotations

import logging
import queue
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from livedance.audio.io import Audio
from livedance.choreo import Choreographer
from livedance.render import FrameRenderer
from livedance.show.clock import Clock, FrameClock, MonotonicClock
from livedance.show.hud import HudInfo
from livedance.show.pipeline import RenderAhead
from livedance.show.player import AudioPlayer
from livedance.show.recorder import VideoRecorder
from livedance.show.showlink import ShowLink
from livedance.show.window import Screen, Window

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ShowOptions:
    """How to run a show (the `play` command's options)."""

    fps: float = 30.0
    duration_s: float | None = None
    headless: bool = False
    fullscreen: bool = False
    record: Path | None = None
    mute: bool = False
    audio_device: int | str | None = None
    hud: bool = True
    title: str = "livedance"
    progress: bool = True
    link: ShowLink | None = None
    """OSC control and beat output (`livedance.show.showlink`); None: none."""


@dataclass(frozen=True)
class ShowStats:
    """What happened during a show."""

    frames_shown: int
    frames_dropped: int
    frames_recorded: int
    duration_s: float
    quit_early: bool


def run_show(
    audio: Audio, choreographer: Choreographer, renderer: FrameRenderer, options: ShowOptions
) -> ShowStats:
    """Run a show of ``audio`` danced by ``choreographer`` through ``renderer``.

    Args:
        audio: the song (played, and muxed into the recording).
        choreographer: the dance (its timeline must cover the song).
        renderer: turns poses into frames.
        options: see `ShowOptions`.

    Returns:
        Frame counts and how long the show ran.
    """
    song = audio.segment(options.duration_s)
    duration_s = song.duration_s
    recorder = (
        VideoRecorder(options.record, options.fps, renderer.width_px, renderer.height_px, song)
        if options.record
        else None
    )
    try:
        if options.headless:
            stats = _run_headless(song, choreographer, renderer, options, recorder)
        else:
            stats = _run_window(song, choreographer, renderer, options, recorder)
    except BaseException:
        if recorder is not None:
            recorder.close()  # keep what was recorded: a valid, shorter file
        raise
    if recorder is not None:
        recorder.close()
    log.info("show of %.1f s: %s", duration_s, stats)
    return stats


def _render_one(
    renderer: FrameRenderer, choreographer: Choreographer, t_s: float
) -> npt.NDArray[np.uint8]:
    return renderer.render(choreographer.pose_at(t_s)[None])[0]


def _run_headless(
    song: Audio,
    choreographer: Choreographer,
    renderer: FrameRenderer,
    options: ShowOptions,
    recorder: VideoRecorder | None,
) -> ShowStats:
    clock = FrameClock(options.fps)
    n_frames = round(song.duration_s * options.fps)
    bar = tqdm(
        total=n_frames, unit="frame", desc="render", disable=not options.progress, leave=False
    )
    for _ in range(n_frames):
        link = options.link
        if link is None:
            frame = _render_one(renderer, choreographer, clock.now())
        else:
            link.attach_clock(clock)
            link.on_frame(clock.now())
            frame = link.present(renderer.render(link.pose_at(clock.now())[None])[0])
        if recorder is not None:
            recorder.write(frame)
        clock.advance()
        bar.update()
    bar.close()
    return ShowStats(
        n_frames, 0, recorder.frames_written if recorder else 0, song.duration_s, False
    )


def _run_window(
    song: Audio,
    choreographer: Choreographer,
    renderer: FrameRenderer,
    options: ShowOptions,
    recorder: VideoRecorder | None,
) -> ShowStats:
    window = Window(options.title, renderer.width_px, renderer.height_px, options.fullscreen)
    screen = Screen(window, options.hud, options.link)
    player: AudioPlayer | None = None
    clock: Clock
    if options.mute:
        mono_clock = MonotonicClock()
        mono_clock.start()
        clock = mono_clock
    else:
        player = AudioPlayer(song, options.audio_device)
        player.start()
        clock = player
    fps = options.fps
    n_slots = round(song.duration_s * fps)
    shown = late = 0
    last_slot = -1
    fps_ema = fps
    latency_ms_ema = 0.0
    last_show = time.perf_counter()
    quit_early = False
    link = options.link
    if link is not None:
        link.attach_clock(clock)
    pose_fn = link.pose_at if link is not None else choreographer.pose_at
    ahead = RenderAhead(
        pose_fn, renderer, clock, fps, n_slots, accents=choreographer.starts_between
    ).start()
    try:
        while not (player is not None and player.finished):
            try:
                item = ahead.get(timeout_s=0.1)
            except queue.Empty:
                continue
            if item is None:
                break
            slot, frame = item.slot, item.frame
            t_slot = slot / fps
            if recorder is not None:
                recorder.write_slot(slot, frame)
            previous_slot, last_slot = last_slot, slot
            if clock.now() - t_slot > 1.0 / fps:  # its moment has passed: showing it would lag
                late += 1
                continue
            if link is not None:
                link.on_frame(clock.now())
                frame = link.present(frame)
            display = frame
            if screen.hud_on:
                move = choreographer.move_at(t_slot)
                span = (move.end_s - move.start_s) if move else 0.0
                info = HudInfo(
                    fps=fps_ema,
                    bpm=60.0 / span if span > 0 else 0.0,
                    beat_phase=(t_slot - move.start_s) / span if move and span > 0 else 0.0,
                    action=move.action if move else "idle",
                    time_s=t_slot,
                    renderer=renderer.name,
                    dropped=ahead.slots_skipped + late,
                    render_fps=ahead.render_fps,
                    latency_ms=latency_ms_ema,
                )
                display = screen.with_hud(frame, info)
            _wait_until(clock, t_slot)
            event = screen.present(display)
            latency_ms = (clock.now() - item.render_start_s) * 1000.0
            latency_ms_ema = latency_ms if shown == 0 else 0.9 * latency_ms_ema + 0.1 * latency_ms
            now = time.perf_counter()
            if previous_slot >= 0:
                fps_ema = 0.9 * fps_ema + 0.1 / max(1e-3, now - last_show)
            last_show = now
            shown += 1
            if event == "quit":
                quit_early = True
                break
    finally:
        ahead.stop()
        if player is not None:
            player.stop()
        screen.close()
    dropped = ahead.slots_skipped + late
    log.info(
        "render-ahead: %.1f render fps, %d slots skipped, %d late frames, latency %.0f ms",
        ahead.render_fps, ahead.slots_skipped, late, latency_ms_ema,
    )  # fmt: skip
    if recorder is not None and not quit_early:
        recorder.pad_to(n_slots)
    return ShowStats(
        shown, dropped, recorder.frames_written if recorder else 0, song.duration_s, quit_early
    )


def _wait_until(clock: Clock, t_s: float) -> None:
    """Sleep until the clock reaches ``t_s`` (the last millisecond is left to imshow/waitKey)."""
    while True:
        remaining = t_s - clock.now()
        if remaining <= 0.002:
            return
        time.sleep(min(remaining - 0.001, 0.02))
