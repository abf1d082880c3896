"""`livedance beats`: print the beat times of a song, from the song plan or the live tracker.

A thin layer over `offline.analysis.analyze_file` (the song plan, offline) and
`livedance.audio.beats.BeatTracker` (``--causal``: fed hop by hop exactly as on stage, each beat
with the time it was declared), so anyone can score the beats against their own annotations.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "beats",
        help="print the beat times of a song (song plan, or the live tracker with --causal)",
        description=(
            "Print the beat times of SONG in seconds, one per line on stdout (a summary goes to "
            "stderr). By default they come from the song plan (offline analysis, cached); with "
            "--causal from the live beat tracker, fed hop by hop exactly as on stage: every beat "
            "is the one the beat clock handed out when it came due, never revised later."
        ),
    )
    p.add_argument("song", help="audio file (wav, flac, ogg, mp3, ...)")
    p.add_argument(
        "--causal", action="store_true", help="use the live (causal) tracker instead of the plan"
    )
    p.add_argument(
        "--json",
        type=Path,
        metavar="OUT",
        help="also write the beats as JSON (with declared times, tempo, confidence for --causal)",
    )
    p.add_argument(
        "--min-bpm", type=float, default=50.0, help="slowest tempo the live tracker may follow"
    )
    p.add_argument(
        "--max-bpm", type=float, default=200.0, help="fastest tempo the live tracker may follow"
    )
    p.add_argument(
        "--no-cache", action="store_true", help="re-analyse the song even if a cached plan exists"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from livedance.errors import LivedanceError
    from livedance.songs import open_audio

    if not 0 < args.min_bpm < args.max_bpm:
        raise LivedanceError(
            f"--min-bpm and --max-bpm must satisfy 0 < min < max, got {args.min_bpm:g} and "
            f"{args.max_bpm:g}",
            exit_code=2,
        )
    audio, name = open_audio(args.song)
    result = None if args.causal else _song_plan_beats(args.song, use_cache=not args.no_cache)
    if result is None:
        result = _causal_beats(audio, args.min_bpm, args.max_bpm)
    if args.json is not None:
        payload = {"song": str(args.song), "duration_s": audio.duration_s, **result}
        try:
            tmp = args.json.with_name(args.json.name + ".tmp")
            tmp.write_text(json.dumps(payload, indent=1))
            tmp.replace(args.json)
        except OSError as exc:
            raise LivedanceError(f"cannot write {args.json}: {exc}") from None
    print(
        f"{name}: {len(result['beat_times_s'])} beats, {result['tempo_bpm']:.1f} bpm "
        f"({result['source']})",
        file=sys.stderr,
    )
    try:
        sys.stdout.write("".join(f"{t:.3f}\n" for t in result["beat_times_s"]))
        sys.stdout.flush()
    except BrokenPipeError:  # `livedance beats song | head` is fine
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - Python's advice for a closed pipe
    return 0


def _song_plan_beats(song: str, *, use_cache: bool) -> dict[str, Any] | None:
    """The song plan's beats, or None when song analysis is not installed."""
    try:
        from offline import analysis
    except ImportError as exc:
        log.warning("song analysis unavailable (%s); using the live tracker", exc)
        return None
    if not hasattr(analysis, "analyze_file"):
        log.warning("song analysis unavailable; using the live tracker")
        return None
    plan = analysis.analyze_file(song, use_cache=use_cache)
    return {
        "source": "song plan (offline analysis)",
        "tempo_bpm": plan.tempo_bpm,
        "beat_times_s": [round(t, 6) for t in plan.beat_times_s],
    }


def _causal_beats(audio: Any, min_bpm: float, max_bpm: float) -> dict[str, Any]:
    """Run the live tracker hop by hop over the file; every beat as it was declared."""
    from livedance.audio.beats import BeatTracker

    tracker = BeatTracker(audio.sample_rate, min_bpm=min_bpm, max_bpm=max_bpm)
    track = tracker.process_signal(audio.mono())
    return {
        "source": "live tracker (causal)",
        "tempo_bpm": track.bpm,
        "beat_times_s": [round(b.time_s, 6) for b in track.beats],
        "beats": [
            {
                "time_s": round(b.time_s, 6),
                "declared_s": round(b.declared_s, 6),
                "bpm": round(b.bpm, 3),
                "confidence": round(b.confidence, 3),
            }
            for b in track.beats
        ],
    }
