"""`livedance play`: play a song and show the dancer, synchronised to the playback clock."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

DEFAULT_DEADBAND_PX = 1.0


def register(sub: Any) -> None:
    p = sub.add_parser(
        "play",
        help="play a song and show the dancer on the beat",
        description=(
            "Play SONG (wav, flac, ogg, mp3, ...) through the sound card and show the dancer in a "
            "window, on the beat of the playback clock. Keys: q/Esc quit, h HUD, f fullscreen. "
            "Without a screen or sound card, use --headless --record OUT.mp4."
        ),
    )
    p.add_argument("song", nargs="?", help="audio file to dance to")
    p.add_argument(
        "--demo", action="store_true", help="dance to the built-in synthesized demo song"
    )
    add_renderer_options(p)
    from livedance.control.options import add_osc_arguments

    add_osc_arguments(p.add_argument_group("OSC control (see README: OSC addresses)"))
    p.add_argument("--fullscreen", action="store_true", help="start fullscreen (f toggles)")
    p.add_argument(
        "--headless",
        action="store_true",
        help="no window and no sound: render as fast as possible (use with --record)",
    )
    p.add_argument(
        "--record",
        type=Path,
        metavar="OUT.mp4",
        help="also write the show to a video with the song's audio",
    )
    p.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")
    p.add_argument("--fps", type=float, default=30.0, help="frames per second (default 30)")
    p.add_argument(
        "--size",
        type=int,
        default=None,
        help="frame size in pixels, square (default 256, or the model's own size; a model's frames "
        "are scaled to it)",
    )
    p.add_argument(
        "--seed", type=int, default=0, help="seed of the choreography's random choices (default 0)"
    )
    p.add_argument(
        "--mute", action="store_true", help="window without sound (clock from the system timer)"
    )
    p.add_argument(
        "--audio-device",
        metavar="DEV",
        help="output device index or name (see `livedance devices`)",
    )
    p.add_argument("--no-hud", action="store_true", help="start with the HUD hidden (h toggles)")
    p.add_argument(
        "--tracker",
        choices=("plan", "causal"),
        default="plan",
        help="beats from the song plan (offline analysis, cached; default) or the live causal "
        "tracker (aubio onsets, our tempo and phase model) run over the file",
    )
    p.add_argument(
        "--no-cache", action="store_true", help="re-analyse the song even if a cached plan exists"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from livedance.choreo import choreograph
    from livedance.errors import LivedanceError
    from livedance.show.engine import ShowOptions, run_show
    from livedance.songs import prepare_song

    if args.fps <= 0 or args.fps > 240:
        raise LivedanceError(f"--fps must be between 0 and 240, got {args.fps}", exit_code=2)
    if args.size is not None and not 32 <= args.size <= 4096:
        raise LivedanceError(
            f"--size must be between 32 and 4096 pixels, got {args.size}", exit_code=2
        )
    if args.duration is not None and args.duration <= 0:
        raise LivedanceError(f"--duration must be positive, got {args.duration}", exit_code=2)
    if args.headless and not args.record:
        log.warning("--headless without --record renders frames nobody sees (a dry run)")
    if not args.headless:
        from livedance.show.window import check_display

        check_display()  # fail before spending time on analysis
    renderer, body = renderer_from_args(args)  # refuse a bad model before the analysis
    song = prepare_song(
        args.song, demo=args.demo, tracker=args.tracker, use_cache=not args.no_cache
    )
    choreographer = choreograph(song.intervals, plan=song.plan, seed=args.seed, body=body)
    device: int | str | None = args.audio_device
    if isinstance(device, str) and device.isdigit():
        device = int(device)
    renderer = switchable(args, renderer, choreographer)
    link = open_show_link(args, choreographer, hud=not args.no_hud, renderer=renderer)
    options = ShowOptions(
        fps=args.fps,
        duration_s=args.duration,
        headless=args.headless,
        fullscreen=args.fullscreen,
        record=args.record,
        mute=args.mute,
        audio_device=device,
        hud=not args.no_hud,
        title=f"livedance - {song.name}",
        link=link,
    )
    try:
        stats = run_show(song.audio, choreographer, renderer, options)
    finally:
        link.close()
    summary = (
        f"{song.name}: {song.tempo_bpm:.1f} bpm, {len(song.intervals)} beats, "
        f"{stats.frames_shown} frames"
    )
    if stats.frames_dropped:
        summary += f", {stats.frames_dropped} dropped"
    if args.record:
        summary += f", recorded {stats.frames_recorded} frames to {args.record}"
    print(summary)
    return 0


def add_renderer_options(p: argparse.ArgumentParser) -> None:
    """--model, --stick, --device, --blend, --deadband: shared by `play` and `render`."""
    p.add_argument(
        "--model",
        type=Path,
        metavar="PATH.onnx",
        help="generator exported by `livedance export` (default: models/default.onnx when "
        "present, else stick figures)",
    )
    p.add_argument(
        "--stick", action="store_true", help="draw stick figures even when a model is available"
    )
    p.add_argument(
        "--device",
        choices=("auto", "cpu", "cuda", "tensorrt"),
        default="auto",
        help="where the generator runs (default auto: TensorRT, then CUDA, then CPU, whichever "
        "this machine can really use)",
    )
    p.add_argument(
        "--blend",
        type=float,
        default=0.0,
        metavar="W",
        help="temporal smoothing of generator frames: each frame keeps weight W (0..0.9) of the "
        "previous one; hides flicker, smears fast moves (default 0: off)",
    )
    p.add_argument(
        "--deadband",
        type=float,
        default=DEFAULT_DEADBAND_PX,
        metavar="PX",
        help="hold keypoints that moved less than PX pixels, so a held pose does not flicker "
        f"(default {DEFAULT_DEADBAND_PX}; 0 turns it off)",
    )


def renderer_from_args(args: argparse.Namespace) -> tuple[Any, Any]:
    """The renderer and the Body the choreography must use, from the renderer options."""
    from livedance.errors import LivedanceError
    from livedance.neural.generator import choose_renderer

    if not 0.0 <= args.blend <= 0.9:
        raise LivedanceError(f"--blend must be between 0 and 0.9, got {args.blend}", exit_code=2)
    if args.deadband < 0:
        raise LivedanceError(f"--deadband must be 0 or more, got {args.deadband}", exit_code=2)
    return choose_renderer(
        args.model,
        stick=args.stick,
        size_px=args.size,
        device=args.device,
        temporal_blend=args.blend,
        deadband_px=args.deadband,
    )


def switchable(args: argparse.Namespace, renderer: Any, choreographer: Any) -> Any:
    """``renderer`` made replaceable by OSC ``/livedance/model`` (onto the choreographer's Body)."""
    from livedance.neural.switch import SwitchableRenderer

    def use_body(body: Any) -> None:
        choreographer.body = body

    return SwitchableRenderer(
        renderer,
        on_body=use_body,
        device=args.device,
        temporal_blend=args.blend,
        deadband_px=args.deadband,
    )


def open_show_link(
    args: argparse.Namespace, choreographer: Any, *, hud: bool, renderer: Any = None
) -> Any:
    """The show's OSC control and beat output from the ``--osc-*`` options (`ShowLink`).

    With a `SwitchableRenderer`, ``/livedance/model`` switches it.
    """
    from livedance.control.options import open_osc
    from livedance.show.showlink import ShowLink, SwitchableClock

    clock = SwitchableClock()
    names = [a.name for a in choreographer.actions]
    control, out = open_osc(args, clock=clock, action_names=names)
    if control is not None:
        log.info("OSC control on %s:%d", args.osc_host, control.port)
        print(f"OSC control on {args.osc_host}:{control.port}", flush=True)
    switcher = getattr(renderer, "switch", None)
    link = ShowLink(
        choreographer, control=control, out=out, clock=clock, hud=hud, model_switcher=switcher
    )
    if switcher is not None:  # the outcome of a switch replaces "loading model ..." on the HUD
        renderer.notify = lambda notice: setattr(link, "notice", notice)
    return link
