"""`livedance live`: dance to a line-in (sound card input) with live beat prediction."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from livedance.cli.args import audio_device, float_above, int_at_least

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
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
    p.add_argument("--min-bpm", type=float_above(20), default=60.0, help="slowest tempo (60)")
    p.add_argument("--max-bpm", type=float_above(30), default=180.0, help="fastest tempo (180)")
    from livedance.cli.play import add_renderer_options

    add_renderer_options(p)
    p.add_argument(
        "--size", type=int, default=None, help="frame size (256, or the model's; scaled to it)"
    )
    p.add_argument("--fps", type=float_above(0), default=30.0, help="frames per second (30)")
    p.add_argument("--duration", type=float_above(0), metavar="S", help="stop after S seconds")
    p.add_argument("--fullscreen", action="store_true", help="start fullscreen (f toggles)")
    p.add_argument("--headless", action="store_true", help="no window (use with --record)")
    p.add_argument(
        "--record", type=Path, metavar="OUT.mp4",
        help="also write a video with the captured input as its sound (aligned to the frames)",
    )  # fmt: skip
    p.add_argument(
        "--no-repeats", action="store_true",
        help="do not reuse earlier moves when the music repeats (online repeat memory)",
    )  # fmt: skip
    p.add_argument("--no-hud", action="store_true", help="start with the HUD hidden")
    p.add_argument("--seed", type=int, default=0, help="seed of the choreography (0)")
    from livedance.control.options import add_osc_arguments

    add_osc_arguments(p.add_argument_group("OSC control (see README: OSC addresses)"))
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from livedance.audio.linein import LineIn
    from livedance.choreo import Choreographer
    from livedance.cli.play import open_show_link, renderer_from_args, switchable
    from livedance.errors import LivedanceError
    from livedance.show.live import LiveOptions, run_live

    if args.min_bpm >= args.max_bpm:
        raise LivedanceError("--min-bpm must be below --max-bpm", exit_code=2)
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
    line = LineIn(
        args.input,
        sample_rate=args.samplerate,
        channels=args.channels,
        blocksize=args.blocksize,
        latency=latency,
        min_bpm=args.min_bpm,
        max_bpm=args.max_bpm,
    ).start()
    choreographer = Choreographer(seed=args.seed, body=body)
    renderer = switchable(args, renderer, choreographer)
    link = open_show_link(args, choreographer, hud=not args.no_hud, renderer=renderer)
    link.beat_clock = line.clock
    options = LiveOptions(
        fps=args.fps,
        duration_s=args.duration,
        headless=args.headless,
        fullscreen=args.fullscreen,
        record=args.record,
        hud=not args.no_hud,
        repeats=not args.no_repeats,
    )
    try:
        stats = run_live(line, choreographer, renderer, options, link)
    finally:
        link.close()
        line.stop()
    print(
        f"live: {stats.frames_shown} frames, {stats.beats_heard} beats heard, "
        f"{stats.moves_added} moves ({stats.moves_repeated} repeated), "
        f"{stats.frames_late} frames not shown ({stats.frames_skipped} skipped by a renderer "
        f"slower than {args.fps:g} fps), {stats.beat_frames_shown} of {stats.beat_frames} beats "
        "shown on their frame" + (f", recorded to {args.record}" if args.record else "")
    )
    return 0
