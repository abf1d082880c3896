"""`livedance play`: play a song and show the dancer, synchronised to the playback clock."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from livedance.cli.showoptions import (
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
    song_plan,
    stop_on_signals,
    switchable,
)

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "play",
        help="play a song and show the dancer on the beat",
        description=(
            "Play SONG (wav, flac, ogg, mp3, ...) through the sound card and show the dancer in a "
            "window, on the beat of the playback clock. Keys: q/Esc quit, space tap (a beat is "
            "now), h HUD, f fullscreen. Without a screen or sound card, use --headless --record "
            "OUT.mp4."
        ),
    )
    p.add_argument("song", nargs="?", help="audio file to dance to")
    p.add_argument(
        "--demo", action="store_true", help="dance to the built-in synthesized demo song"
    )
    add_renderer_options(p)
    add_show_options(p)
    p.add_argument(
        "--record",
        type=Path,
        metavar="OUT.mp4",
        help="also write the show to a video with the song's audio",
    )
    p.add_argument(
        "--mute", action="store_true", help="window without sound (clock from the system timer)"
    )
    p.add_argument(
        "--audio-device",
        metavar="DEV",
        help="output device index or name (see `livedance devices`)",
    )
    p.add_argument(
        "--tracker",
        choices=("plan", "causal"),
        default="plan",
        help="beats from the song plan (offline analysis, cached; default) or the live causal "
        "tracker and stage run over the file, exactly as `live` would dance it",
    )
    add_tempo_options(p.add_argument_group("tempo range of --tracker causal"))
    p.add_argument(
        "--no-cache", action="store_true", help="re-analyse the song even if a cached plan exists"
    )
    add_control_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from livedance.clock import Clock, FrameClock, MonotonicClock
    from livedance.show.loop import ShowOptions, run_show
    from livedance.show.timeline import PlannedTimeline
    from livedance.songs import dance_song, open_audio

    if args.headless and not args.record:
        log.warning("--headless without --record renders frames nobody sees (a dry run)")
    if not args.headless:
        from livedance.show.window import check_display

        check_display()  # fail before spending time on analysis
    tempo = tempo_from_args(args)
    renderer, body = renderer_from_args(args)  # refuse a bad model before the analysis
    audio, name = open_audio(args.song, demo=args.demo)
    plan = song_plan(audio, args.song, tracker=args.tracker, use_cache=not args.no_cache)
    dance = dance_song(audio, name, plan=plan, seed=args.seed, body=body, tempo=tempo)
    song = audio.segment(args.duration)
    warp, why = render_tier(args, renderer, body)
    log.info("render tier: %s", why)
    renderer = switchable(args, renderer, dance.choreographer)
    timeline = PlannedTimeline(dance.choreographer)
    player = None
    clock: Clock
    if args.headless:
        clock = FrameClock(args.fps)
    elif args.mute:
        clock = MonotonicClock()
    else:
        from livedance.audio.player import AudioPlayer

        player = AudioPlayer(song, _device(args.audio_device))
        clock = player
    start = player.start if player is not None else getattr(clock, "start", None)
    restore_signals = stop_on_signals()
    operator = None
    try:
        operator, outputs = open_show(
            args, timeline, clock, renderer, title=f"livedance - {name}", sound=song
        )
        operator.tell(f"render tier: {why}")
        stats = run_show(
            timeline,
            clock,
            renderer,
            outputs,
            operator,
            ShowOptions(
                fps=args.fps, duration_s=song.duration_s, progress=args.headless, warp=warp
            ),
            start=start,
            finished=(lambda: player.finished) if player is not None else None,
        )
    finally:
        restore_signals()
        if player is not None:
            player.stop()
        if operator is not None:
            operator.close()
    summary = f"{name}: {dance.tempo_bpm:.1f} bpm, {dance.beats} beats, {stats.frames_shown} frames"
    if stats.frames_late:
        summary += f", {stats.frames_late} dropped"
    if args.record:
        summary += f", recorded {stats.slots} frames to {args.record}"
    print(summary)
    return 0


def _device(text: str | None) -> int | str | None:
    return int(text) if text is not None and text.isdigit() else text
