"""From a song argument to what the choreographer needs: audio, beat intervals, song plan.

`play` (and any offline render) go through here: the file is decoded and checked (silence, too
short), then beats come from the song plan (offline analysis, cached) or, with
``tracker="causal"``, from the live (causal) beat tracker run over the whole file.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from livedance.audio.beats import track_beats
from livedance.audio.io import Audio, load_audio
from livedance.audio.synth import demo_song
from livedance.errors import LivedanceError
from livedance.songplan import BeatInterval, SongPlan

log = logging.getLogger(__name__)

TRACKERS = ("plan", "causal")


@dataclass(frozen=True)
class Song:
    """A song ready to dance to."""

    audio: Audio
    name: str
    intervals: tuple[BeatInterval, ...]
    plan: SongPlan | None
    tempo_bpm: float


def open_audio(song: str | None, *, demo: bool = False) -> tuple[Audio, str]:
    """Decode ``song`` (or synthesize the demo song) and refuse audio nobody can dance to."""
    if demo:
        return demo_song().audio, "demo song"
    if song is None:
        raise LivedanceError("give a SONG file to play, or --demo for the built-in demo song")
    audio = load_audio(song)
    if audio.is_silent():
        raise LivedanceError(
            f"{song}: the audio is silent (peak {audio.peak_dbfs():.0f} dBFS): nothing to dance to"
        )
    return audio, Path(song).name


def prepare_song(
    song: str | None, *, demo: bool = False, tracker: str = "plan", use_cache: bool = True
) -> Song:
    """Load a song and find its beat intervals (and song plan) with the chosen tracker.

    Raises:
        LivedanceError: bad or silent audio, or fewer than two beats.
    """
    audio, name = open_audio(song, demo=demo)
    plan: SongPlan | None = None
    if tracker == "plan":
        plan = _song_plan(audio, song, use_cache)
    if plan is not None:
        intervals = plan.intervals
        tempo = plan.tempo_bpm
        warnings = plan.extra.get("warnings") if isinstance(plan.extra, dict) else None
        if warnings:
            log.warning("%s: %s", name, "; ".join(map(str, warnings)))
    else:
        track = track_beats(audio.mono(), audio.sample_rate)
        intervals = tuple(track.intervals)
        tempo = track.bpm
    if len(intervals) < 1 or audio.duration_s < 2 * 60.0 / max(tempo, 1e-3):
        raise LivedanceError(
            f"{name}: too short to dance to: fewer than two beats found in {audio.duration_s:.1f} s"
        )
    return Song(audio, name, tuple(intervals), plan, tempo)


def _song_plan(audio: Audio, song: str | None, use_cache: bool) -> SongPlan | None:
    try:
        from offline import analysis
    except ImportError as exc:  # analysis not installed: the live tracker still dances
        log.warning("song analysis unavailable (%s); using the causal beat tracker", exc)
        return None
    if song is not None:
        return analysis.analyze_file(song, use_cache=use_cache)
    digest = hashlib.sha256(audio.samples.tobytes()).hexdigest()
    return analysis.analyze_audio(audio, sha256=digest)
