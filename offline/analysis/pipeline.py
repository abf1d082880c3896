"""Song analysis end to end: audio in, song plan out (``song.wav --analyze--> song plan``).

Decodes, resamples to 22050 Hz mono, tracks beats (and bars, always), measures each beat
interval, finds every repeated section in the chroma time-lag matrices of all 12 transpositions,
places the other boundaries at peaks of a Foote novelty curve, and assembles the `SongPlan`.
`analyze_file` caches plans by the audio's content hash and the analysis version.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import librosa
import numpy as np
import numpy.typing as npt
import platformdirs

from livedance.audio.io import SILENCE_DBFS, Audio, content_sha256, load_audio, peak_dbfs
from livedance.errors import LivedanceError
from livedance.songplan import AudioIdentity, SongPlan
from offline.analysis import beats, features, sections, structure

log = logging.getLogger(__name__)

ANALYSIS_VERSION = "18"
"""Bumped whenever a code change alters plans: cached plans of another version are recomputed."""

ANALYSIS_SR = 22050
"""Analysis sample rate in Hz."""

HOP_SAMPLES = beats.HOP_SAMPLES

FloatArray = npt.NDArray[np.float64]


@dataclass
class SongAnalysis:
    """A plan and the intermediate results that explain it (what ``--plot`` draws).

    Attributes:
        plan: the song plan.
        y: mono samples at ``sr``.
        sr: analysis sample rate.
        grid: the tracked beats.
        structure: the sections' analysis (structure grid, matrices, lines, novelty).
        section_shifts: semitones each section is transposed by against the one it repeats.
    """

    plan: SongPlan
    y: npt.NDArray[np.float32]
    sr: int
    grid: beats.BeatGrid
    structure: structure.Structure = field(
        default_factory=lambda: structure.Structure(sections=[], structure_beats_s=np.zeros(0))
    )
    section_shifts: list[int] = field(default_factory=list)


def analyze_audio(audio: Audio, *, sha256: str, key_shifts: bool = True) -> SongPlan:
    """Analyse decoded audio into a song plan.

    Args:
        audio: the song, any sample rate and channel count.
        sha256: content hash of the file it came from (the plan's identity).
        key_shifts: also look for repeats transposed by 1..11 semitones.

    Returns:
        The plan (``source == "librosa"``). Silent or pulse-less audio gets a steady 120 BPM grid,
        a logged warning and the warning text in ``plan.extra["warnings"]``.
    """
    return analyze_song(audio, sha256=sha256, key_shifts=key_shifts).plan


def analyze_song(audio: Audio, *, sha256: str, key_shifts: bool = True) -> SongAnalysis:
    """`analyze_audio`, keeping the intermediate results for inspection and plotting.

    Args:
        audio: the song.
        sha256: content hash of its file.
        key_shifts: also look for transposed repeats.

    Returns:
        The analysis, ``.plan`` being the song plan.
    """
    started = time.perf_counter()
    if len(audio.samples) == 0:
        raise LivedanceError("the audio holds no samples")
    sr = ANALYSIS_SR
    mono = audio.mono()  # once: the resampling and the live tracker both read it
    y = librosa.resample(mono, orig_sr=audio.sample_rate, target_sr=sr).astype(np.float32)
    warnings: list[str] = []
    song_feats: Future[structure.SongFeatures] | None = None
    if peak_dbfs(mono) < SILENCE_DBFS:  # the mono mix is all the analysis hears
        grid = beats.default_grid(audio.duration_s)
        warnings.append(
            f"the audio is silent (peak {audio.peak_dbfs():.0f} dBFS): using a steady"
            f" {beats.DEFAULT_BPM:.0f} BPM beat grid"
        )
    else:
        with ThreadPoolExecutor(max_workers=1) as pool:
            # the structure's features need no beats: their FFTs (which let go of the GIL) run
            # on a second core while the live tracker's pass, the longest part, runs here
            song_feats = pool.submit(structure.song_features, y, sr=sr)
            # the plan follows the live stage: its tracker on the audio at the rate a show plays
            guide = beats.live_beats(mono, sr=audio.sample_rate)
        grid = beats.track_beats(y, sr=sr, guide=guide)
        if grid.is_default:
            warnings.append(
                f"no clear beat in the audio (pulse clarity {grid.pulse_clarity:.2f}): using a"
                f" steady {beats.DEFAULT_BPM:.0f} BPM beat grid"
            )
    for message in warnings:
        log.warning("%s", message)
    intervals = features.beat_intervals(y, grid.beat_times_s, sr=sr)
    result = SongAnalysis(plan=None, y=y, sr=sr, grid=grid)  # type: ignore[arg-type]
    downbeats = grid.downbeat_times_s
    beat_sections = [sections.BeatSection(0, len(grid.beat_times_s) - 1, "A")]
    if not grid.is_default and song_feats is not None:
        feats = song_feats.result()
        # the dancer's bars: on the plan's beats, whatever grid the structure is analysed on
        _, likeliest = structure.bar_phase(
            feats.chroma, grid.beat_times_s, frame_rate_hz=feats.frame_rate_hz
        )
        downbeats = grid.beat_times_s[likeliest::4].copy()
        found = structure.find_structure(feats, grid.beat_times_s, key_shifts=key_shifts)
        beat_sections = found.sections
        result.structure = found
    elapsed_s = time.perf_counter() - started
    result.plan = SongPlan(
        audio=AudioIdentity(
            sha256=sha256,
            duration_s=round(audio.duration_s, 6),
            sample_rate=audio.sample_rate,
            channels=audio.channels,
        ),
        tempo_bpm=round(grid.tempo_bpm, 2),
        beat_times_s=tuple(round(float(t), 4) for t in grid.beat_times_s),
        intervals=intervals,
        sections=sections.to_sections(beat_sections, grid.beat_times_s),
        downbeat_times_s=tuple(round(float(t), 4) for t in downbeats),
        source="librosa",
        extra={
            "analysis_version": ANALYSIS_VERSION,
            "warnings": warnings,
            "default_grid": grid.is_default,
            "tempo_varies": grid.tempo_varies,
            "pulse_clarity": round(grid.pulse_clarity, 3),
            "section_key_shifts": [s.shift for s in beat_sections],
            "repeat_lines": len(result.structure.kept_lines),
            "lines_without_repeat": [n for n in result.structure.line_notes if n is not None],
            "analysis_s": round(elapsed_s, 3),
        },
    )
    result.section_shifts = [s.shift for s in beat_sections]
    log.info(
        "analysed %.1f s of audio in %.2f s: %.1f BPM, %d beats, %d sections",
        audio.duration_s, elapsed_s, grid.tempo_bpm, len(grid.beat_times_s),
        len(beat_sections),
    )  # fmt: skip
    return result


def analyze_file(
    path: str | Path, *, use_cache: bool = True, cache_dir: str | Path | None = None
) -> SongPlan:
    """Analyse an audio file, or return its cached plan.

    Plans are cached as ``<cache_dir>/<sha256>.json`` (default ``cache_dir``:
    ``platformdirs.user_cache_dir("livedance")/plans``); a cached plan from another analysis
    version, or an unreadable one, is recomputed.

    Args:
        path: wav, flac, ogg, mp3 or anything ffmpeg decodes.
        use_cache: read and write the cache (False recomputes and leaves the cache alone).
        cache_dir: folder of cached plans.

    Returns:
        The song plan.

    Raises:
        LivedanceError: the file is missing, not audio, corrupt or empty.
    """
    p = Path(path)
    if not p.is_file():
        load_audio(p)  # raises the clear error for a missing path or a folder
    sha256 = content_sha256(p)
    folder = Path(cache_dir) if cache_dir else plan_cache_dir()
    cached = folder / f"{sha256}.json"
    if use_cache and cached.is_file():
        try:
            plan = SongPlan.load(cached)
        except LivedanceError as exc:
            log.warning("ignoring the cached plan %s: %s", cached, exc)
        else:
            if plan.extra.get("analysis_version") == ANALYSIS_VERSION:
                log.info("song plan from the cache: %s", cached)
                return plan
            log.info("cached plan %s is from another analysis version; recomputing", cached)
    plan = analyze_audio(load_audio(p), sha256=sha256)
    if use_cache:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            plan.save(cached)
        except OSError as exc:
            log.warning("cannot cache the song plan in %s: %s", folder, exc)
    return plan


def plan_cache_dir() -> Path:
    """Default folder of cached song plans."""
    return Path(platformdirs.user_cache_dir("livedance")) / "plans"
