"""`livedance live`: dance to a line-in (sound card input) with live beat prediction."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from livedance.cli.args import audio_device, float_in, int_at_least
from livedance.cli.showoptions import (
    add_activation_option,
    add_control_options,
    add_renderer_options,
    add_show_options,
    add_tempo_options,
    tempo_from_args,
)
from livedance.cli.showsetup import (
    open_show,
    render_tier,
    renderer_from_args,
    stop_on_signals,
    switchable,
)

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    from livedance.audio.beatclock import HOLD_S

    p = sub.add_parser(
        "live",
        help="dance to a live audio input (line-in, microphone), beats predicted live",
        description=(
            "Listen to an audio input, track and predict its beats causally, and show the dancer "
            "moving on the predicted beats. When the music stops the dancer idles. Keys: q/Esc "
            "quit, space tap tempo, h HUD, f fullscreen. OSC control as in `play`."
        ),
    )
    p.add_argument(
        "--input", type=audio_device, default=None, metavar="DEV",
        help="input device index or name (default: the system default; see `livedance devices`)",
    )  # fmt: skip
    p.add_argument("--samplerate", type=int_at_least(8000), default=44100, help="Hz (44100)")
    p.add_argument("--channels", type=int_at_least(1), default=1, help="captured channels (1)")
    p.add_argument(
        "--blocksize", type=int_at_least(32), default=256, help="frames per callback (256)"
    )
    p.add_argument("--latency", default="low", help="PortAudio input latency: low, high or s")
    add_tempo_options(p)
    add_activation_option(p)
    p.add_argument(
        "--tempo-hold",
        type=float_in(0.0, 3600.0, low_open=False),
        default=HOLD_S,
        metavar="S",
        help="how long a tempo set by tap or OSC holds before the tracker takes over again "
        f"(default {HOLD_S:g} s; 0: until /livedance/tempo/release or the music stops)",
    )
    add_renderer_options(p)
    add_show_options(p)
    p.add_argument(
        "--record", type=Path, metavar="OUT.mp4",
        help="also write a video with the captured input as its sound (aligned to the frames)",
    )  # fmt: skip
    p.add_argument(
        "--no-repeats", action="store_true",
        help="do not reuse earlier moves when the music repeats (online repeat memory)",
    )  # fmt: skip
    add_control_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from livedance.audio.beatclock import BeatClock
    from livedance.audio.beats import BeatTracker
    from livedance.audio.inputclock import LATE_BLOCK_S
    from livedance.audio.linein import LineIn
    from livedance.choreo import Choreographer
    from livedance.clock import OffsetClock
    from livedance.errors import LivedanceError
    from livedance.show.audiotap import InputAudioTap
    from livedance.show.loop import ShowOptions, run_show
    from livedance.show.stage import BeatsToMoves
    from livedance.show.timeline import LiveTimeline

    tempo = tempo_from_args(args)
    if not args.headless:
        from livedance.show.window import check_display

        check_display()
    latency: str | float = args.latency
    if latency not in ("low", "high"):
        try:
            latency = float(latency)
        except ValueError:
            raise LivedanceError(
                f"--latency: low, high or seconds, got {latency!r}", exit_code=2
            ) from None
    renderer, body = renderer_from_args(args)
    warp, why = render_tier(args, renderer, body)
    log.info("render tier: %s", why)
    clock = BeatClock(tempo=tempo, hold_s=args.tempo_hold or None)
    line = LineIn(
        args.input,
        sample_rate=args.samplerate,
        channels=args.channels,
        blocksize=args.blocksize,
        latency=latency,
        tracker=BeatTracker(
            args.samplerate, tempo=tempo, clock=clock, activation=args.beat_activation
        ),
    ).start()
    restore_signals = stop_on_signals()
    operator = None
    try:
        choreographer = Choreographer(seed=args.seed, body=body)
        renderer = switchable(args, renderer, choreographer)
        origin_s = line.now()
        stage = BeatsToMoves(
            choreographer,
            line.clock,
            line.ring.peek,
            line.sample_rate,
            repeats=not args.no_repeats,
            bars=line.tracker,
        )
        timeline = LiveTimeline(stage, line.clock, line, origin_s=origin_s)
        show_clock = OffsetClock(line, origin_s)
        operator, outputs = open_show(
            args, timeline, show_clock, renderer, title="livedance live",
            input_tap=lambda: InputAudioTap(line.ring, line.sample_rate, origin_s, line.captured_s),
        )  # fmt: skip
        operator.tell(f"render tier: {why}")
        stats = run_show(
            timeline,
            show_clock,
            renderer,
            outputs,
            operator,
            ShowOptions(fps=args.fps, duration_s=args.duration, warp=warp),
        )
    finally:
        restore_signals()
        if operator is not None:
            operator.close()
        line.stop()
    repeated = sum(m.reason == "repeat" for m in choreographer.moves)
    input_clock = line.input_clock
    log.info(
        "audio input: %d blocks more than %.0f ms late (the latest %.0f ms), %d status flags",
        input_clock.blocks_late, LATE_BLOCK_S * 1e3, input_clock.max_block_late_s * 1e3,
        line.statuses,
    )  # fmt: skip
    print(
        f"live: {stats.frames_shown} frames, {line.beats_seen} beats heard, "
        f"{stage.moves_added} moves ({repeated} repeated), "
        f"{stats.frames_late} frames not shown ({stats.slots_skipped} skipped by a renderer "
        f"slower than {args.fps:g} fps), {stats.beat_frames_shown} of {stats.beat_frames} beats "
        "shown on their frame" + (f", recorded to {args.record}" if args.record else "")
    )
    return 0
