"""`livedance render`: a whole song danced into a video file, every frame, not in real time.

The offline twin of `play --headless --record`: the same choreography and renderers, but frames
are rendered in batches (the generator runs faster on a batch) with a progress bar, and no frame is
ever dropped. `play --record` keeps recording the live show as it happens.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from livedance.cli.args import int_at_least
from livedance.cli.showoptions import (
    add_renderer_options,
    add_show_options,
    add_tempo_options,
    tempo_from_args,
)
from livedance.cli.showsetup import renderer_from_args, song_plan

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "render",
        help="render a song's dance into a video file (every frame, with the song's audio)",
        description=(
            "Dance to SONG and write every frame to OUT.mp4 (H.264, the song's audio muxed in). "
            "Not real time: a slow generator just takes longer. Uses models/default.onnx when "
            "present, else stick figures; --model picks another generator."
        ),
    )
    p.add_argument("song", nargs="?", help="audio file to dance to")
    p.add_argument("--demo", action="store_true", help="use the built-in synthesized demo song")
    p.add_argument(
        "-o", "--output", type=Path, required=True, metavar="OUT.mp4", help="video file to write"
    )
    add_renderer_options(p)
    add_show_options(p, window=False)
    p.add_argument(
        "--batch",
        type=int_at_least(1),
        default=4,
        help="frames per generator call (default 4; a GPU gains from more, this CPU does not)",
    )
    p.add_argument(
        "--tracker",
        choices=("plan", "causal"),
        default="plan",
        help="beats from the song plan (default) or the causal live tracker run over the file",
    )
    add_tempo_options(p.add_argument_group("tempo range of --tracker causal"))
    p.add_argument(
        "--no-cache", action="store_true", help="re-analyse the song even if a cached plan exists"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from livedance.show.filerender import render_video
    from livedance.songs import dance_song, open_audio

    tempo = tempo_from_args(args)
    renderer, body = renderer_from_args(args)  # refuse a bad model before analysing the song
    audio, name = open_audio(args.song, demo=args.demo)
    plan = song_plan(audio, args.song, tracker=args.tracker, use_cache=not args.no_cache)
    dance = dance_song(audio, name, plan=plan, seed=args.seed, body=body, tempo=tempo)
    stats = render_video(
        audio.segment(args.duration),
        dance.choreographer.pose_at,
        renderer,
        args.output,
        fps=args.fps,
        batch_frames=args.batch,
    )
    print(
        f"{name}: {stats.frames} frames ({renderer.name}, {renderer.width_px}x"
        f"{renderer.height_px}) in {stats.wall_s:.1f} s ({stats.render_fps:.1f} fps) "
        f"to {args.output}"
    )
    return 0
