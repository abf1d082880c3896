"""`livedance analyze`: beats, tempo and repeated sections of a song (the song plan), cached.

A thin layer over `offline.analysis`: prints a short summary, optionally writes the plan JSON and
a figure. librosa is imported only when the command runs.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser(
        "analyze",
        help="find the beats, tempo and repeated sections of a song (its song plan)",
        description=(
            "Analyse a song (wav, flac, ogg, mp3, any rate, mono or stereo): tempo and beats"
            " (librosa's dynamic-programming tracker), loudness and brightness per beat, and"
            " every repeated section from the chroma time-lag matrix (also key-shifted"
            " repeats). Prints a summary; plans are cached by the audio's content hash."
        ),
        epilog="Example: livedance analyze song.ogg --json plan.json --plot plan.png",
    )
    p.add_argument("song", type=Path, help="audio file to analyse")
    p.add_argument("--json", type=Path, metavar="OUT", help="write the song plan JSON here")
    p.add_argument(
        "--plot",
        type=Path,
        metavar="OUT.png",
        help="draw waveform + beats, time-lag matrix before/after denoising, sections",
    )
    p.add_argument(
        "--no-cache", action="store_true", help="recompute, ignoring and not writing the cache"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from livedance.audio.io import content_sha256, load_audio
    from livedance.errors import LivedanceError
    from offline.analysis import analyze_file, analyze_song

    started = time.perf_counter()
    if sys.stderr.isatty():
        print(f"analysing {args.song} ...", file=sys.stderr, flush=True)
    if args.plot:
        # The figure needs the matrices, which the cache does not keep.
        analysis = analyze_song(load_audio(args.song), sha256=content_sha256(args.song))
        plan = analysis.plan
        if not args.no_cache:
            analyze_file(args.song)  # refresh the cache only if it is missing or stale
    else:
        analysis = None
        plan = analyze_file(args.song, use_cache=not args.no_cache)
    print(summary(plan))
    if args.json:
        try:
            plan.save(args.json)
        except OSError as exc:
            raise LivedanceError(f"{args.json}: cannot write the song plan ({exc})") from None
        print(f"song plan written to {args.json}")
    if args.plot and analysis is not None:
        from offline.analysis.plot import plot_analysis

        plot_analysis(analysis, args.plot, title=args.song.name)
        print(f"figure written to {args.plot}")
    if sys.stderr.isatty():
        print(f"done in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return 0


def summary(plan: Any) -> str:
    """A few lines a person reads: tempo, beats and the section layout.

    Args:
        plan: a `SongPlan`.

    Returns:
        The text, without a trailing newline.
    """
    lines = [
        f"duration {_clock(plan.audio.duration_s)}  tempo {plan.tempo_bpm:.1f} BPM"
        f"  beats {len(plan.beat_times_s)}  bars {len(plan.downbeat_times_s) or '?'}",
    ]
    for warning in plan.extra.get("warnings", []):
        lines.append(f"warning: {warning}")
    shifts = plan.extra.get("section_key_shifts", [])
    seen: dict[str, int] = {}
    parts = []
    for i, s in enumerate(plan.sections):
        count = seen.get(s.label, 0)
        seen[s.label] = count + 1
        text = f"{s.label}{chr(39) * count} {_clock(s.start_s)}-{_clock(s.end_s)}"
        if s.repeats is not None:
            shift = ((shifts[i] + 6) % 12) - 6 if i < len(shifts) else 0
            key = f", {shift:+d} semitones" if shift else ""
            text += f" (repeats {plan.sections[s.repeats].label}, lag {s.lag_s:.0f} s{key})"
        parts.append(text)
    lines.append("sections " + (" | ".join(parts) if parts else "none"))
    return "\n".join(lines)


def _clock(t_s: float) -> str:
    return f"{int(t_s // 60)}:{int(t_s % 60):02d}"
