"""`livedance demo-song`: write the built-in synthesized demo song to a file."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser(
        "demo-song",
        help="write the built-in demo song (synthesized, A B A C B at 120 BPM) to a wav file",
        description="Synthesize the demo song that `play --demo` dances to and write it as wav.",
    )
    p.add_argument("out", type=Path, help="output .wav path")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from livedance.audio.composer import demo_song
    from livedance.audio.io import write_wav
    from livedance.errors import LivedanceError

    song = demo_song()
    try:
        write_wav(args.out, song.audio)
    except (OSError, RuntimeError) as exc:
        raise LivedanceError(f"cannot write {args.out}: {exc}") from None
    print(f"wrote {args.out} ({song.audio.duration_s:.1f} s, {len(song.beat_times_s)} beats)")
    return 0
