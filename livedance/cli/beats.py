"""`livedance beats`: print the beat times of a song, from the song plan or the live stage.

A thin layer over `offline.analysis.analyze_file` (the song plan, offline) and
`livedance.show.stage.dance_causally` (``--causal``: the live tracker and the beats-to-moves
stage fed hop by hop exactly as on stage; each beat is where a move starts, with the time the
stage decided it), so anyone can score the beats the dancer lands on against their own
annotations.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from livedance.cli.showoptions import add_activation_option, add_tempo_options, tempo_from_args

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "beats",
        help="print the beat times of a song (song plan, or the live tracker with --causal)",
        description=(
            "Print the beat times of SONG in seconds, one per line on stdout (a summary goes to "
            "stderr). By default they come from the song plan (offline analysis, cached); with "
            "--causal from the live tracker and stage, fed hop by hop exactly as on stage: every "
            "beat is where `live` starts a move, decided from the audio heard until then and "
            "never revised later."
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
    group = p.add_argument_group("the live tracker (--causal)")
    add_tempo_options(group)
    add_activation_option(group)
    p.add_argument(
        "--no-cache", action="store_true", help="re-analyse the song even if a cached plan exists"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from livedance.errors import LivedanceError
    from livedance.songs import open_audio

    tempo = tempo_from_args(args)
    audio, name = open_audio(args.song)
    result = None if args.causal else _song_plan_beats(args.song, use_cache=not args.no_cache)
    if result is None:
        result = _causal_beats(audio, tempo, args.beat_activation)
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
    plan = analysis.analyze_file(song, use_cache=use_cache)
    return {
        "source": "song plan (offline analysis)",
        "tempo_bpm": plan.tempo_bpm,
        "beat_times_s": [round(t, 6) for t in plan.beat_times_s],
    }


def _causal_beats(audio: Any, tempo: Any, activation: Any) -> dict[str, Any]:
    """Run the live tracker and stage hop by hop over the file; every beat a move starts on."""
    from livedance.show.stage import dance_causally

    dance = dance_causally(audio.mono(), audio.sample_rate, tempo=tempo, activation=activation)
    path = "learned activation" if dance.learned else "handcrafted novelty"
    return {
        "source": f"live tracker and stage (causal, {path})",
        "tempo_bpm": dance.track.bpm,
        "beat_times_s": [round(m.move.start_s, 6) for m in dance.moves],
        "beats": [
            {
                "time_s": round(m.move.start_s, 6),
                "decided_s": round(m.decided_s, 6),
                "bpm": round(60.0 / (m.move.end_s - m.move.start_s), 3),
            }
            for m in dance.moves
        ],
    }
