"""From a song to its dance: the audio, its beats (a song plan, or the live stage) and the moves.

`play` and `render` go through here. The file is decoded and checked; the beats come either from
the song plan (made offline by `offline.analysis`: the CLI analyses the song and hands the plan
in, so the live runtime never imports the offline half) or, with no plan, from the live beat
tracker and the beats-to-moves stage run over the whole file hop by hop
(`livedance.show.stage.dance_causally`), exactly as `live` would dance it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from livedance.audio.composer import demo_song
from livedance.audio.io import Audio, load_audio
from livedance.audio.temporange import DEFAULT_TEMPO, TempoRange
from livedance.body import DEFAULT_BODY, Body
from livedance.choreo import Choreographer, choreograph
from livedance.errors import LivedanceError
from livedance.songplan import SongPlan

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SongDance:
    """A song's whole dance, laid out before it plays.

    Attributes:
        choreographer: the moves.
        tempo_bpm: the song's tempo.
        source: where the beats came from.
    """

    choreographer: Choreographer
    tempo_bpm: float
    source: str

    @property
    def beats(self) -> int:
        return self.choreographer.n_moves


def open_audio(song: str | Path | None, *, demo: bool = False) -> tuple[Audio, str]:
    """Decode ``song`` (or synthesize the demo song); its audio and a name for messages.

    Raises:
        LivedanceError: no song given, or a missing, empty or corrupt file.
    """
    if demo:
        return demo_song().audio, "demo song"
    if song is None:
        raise LivedanceError("give a SONG file to play, or --demo for the built-in demo song")
    audio = load_audio(song)
    if audio.is_silent():
        log.warning("%s: the audio is silent (peak %.0f dBFS)", Path(song).name, audio.peak_dbfs())
    return audio, Path(song).name


def dance_song(
    audio: Audio,
    name: str,
    *,
    plan: SongPlan | None,
    seed: int = 0,
    body: Body = DEFAULT_BODY,
    tempo: TempoRange = DEFAULT_TEMPO,
) -> SongDance:
    """The dance of a whole song: from its plan, or from the live stage run over the file.

    Args:
        audio: the song.
        name: its name, for messages.
        plan: the song plan (beats, features, repeated sections); None: the live tracker and
            stage decide, causally, as on stage.
        seed: seed of the choreography's random choices.
        body: the Body the moves are built on.
        tempo: the tempo range the live tracker follows (without a plan).

    Raises:
        LivedanceError: the song is too short for two beats.
    """
    if plan is not None:
        warnings = plan.extra.get("warnings") if isinstance(plan.extra, dict) else None
        if warnings:
            log.warning("%s: %s", name, "; ".join(map(str, warnings)))
        dance = SongDance(
            choreograph(plan.intervals, plan=plan, seed=seed, body=body),
            plan.tempo_bpm,
            "song plan",
        )
    else:
        from livedance.show.stage import dance_causally

        causal = dance_causally(audio.mono(), audio.sample_rate, tempo=tempo, seed=seed, body=body)
        dance = SongDance(causal.choreographer, causal.track.bpm, "live tracker (causal)")
        if dance.beats == 0:
            log.warning("%s: the live tracker heard no beat: the dancer idles", name)
    if audio.duration_s < 2 * 60.0 / max(dance.tempo_bpm, 1e-3, tempo.min_bpm):
        raise LivedanceError(
            f"{name}: too short to dance to: fewer than two beats in {audio.duration_s:.1f} s"
        )
    return dance
