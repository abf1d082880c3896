"""Song analysis end to end: audio in, song plan out (``song.wav --analyze--> song plan``).

Decodes, resamples to 22050 Hz mono, tracks beats (and bars, always), measures each beat
interval, finds every repeated section in the chroma time-lag matrices of all 12 transpositions,
places the other boundaries at peaks of a Foote novelty curve, and assembles the `SongPlan`.
`analyze_file` caches plans by the audio's content hash and the analysis version.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import librosa
import numpy as np
import numpy.typing as npt
import platformdirs

from livedance.audio.io import Audio, content_sha256, load_audio
from livedance.errors import LivedanceError
from livedance.songplan import AudioIdentity, SongPlan
from offline.analysis import beats, features, lines, sections, selfsim

log = logging.getLogger(__name__)

ANALYSIS_VERSION = "10"
"""Bumped whenever a code change alters plans: cached plans of another version are recomputed."""

ANALYSIS_SR = 22050
"""Analysis sample rate in Hz."""

N_FFT = 4096
"""STFT size for chroma and centroid (5.4 Hz bins at 22050 Hz: enough to tell bass notes)."""

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
        per_beat: chroma frames per beat.
        frame_times_s: start time of each chroma frame.
        lag_analyses: time-lag matrices by shift (only shift 0 when there are too few beats).
        lines: every repeat line found; ``kept_lines`` those that shaped the sections.
        section_shifts: semitones each section is transposed by against the one it repeats.
        grid_times_s: the frame grid the lines' beat indices refer to (`selfsim.frame_grid`).
        novelty: Foote novelty per grid beat (peak 1).
        line_notes: per kept line, None when it made a repeated section, else why not.
    """

    plan: SongPlan
    y: npt.NDArray[np.float32]
    sr: int
    grid: beats.BeatGrid
    per_beat: int = 1
    frame_times_s: FloatArray = field(default_factory=lambda: np.zeros(0))
    lag_analyses: list[lines.LagAnalysis] = field(default_factory=list)
    lines: list[lines.RepeatLine] = field(default_factory=list)
    kept_lines: list[lines.RepeatLine] = field(default_factory=list)
    section_shifts: list[int] = field(default_factory=list)
    grid_times_s: FloatArray = field(default_factory=lambda: np.zeros(0))
    novelty: FloatArray = field(default_factory=lambda: np.zeros(0))
    line_notes: list[str | None] = field(default_factory=list)


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
    y = librosa.resample(audio.mono(), orig_sr=audio.sample_rate, target_sr=sr).astype(np.float32)
    warnings: list[str] = []
    if audio.is_silent():
        grid = beats.default_grid(audio.duration_s)
        warnings.append(
            f"the audio is silent (peak {audio.peak_dbfs():.0f} dBFS): using a steady"
            f" {beats.DEFAULT_BPM:.0f} BPM beat grid"
        )
    else:
        # the plan follows the live stage: its tracker on the audio at the rate a show plays
        guide = beats.live_beats(audio.mono(), sr=audio.sample_rate)
        grid = beats.track_beats(y, sr=sr, guide=guide)
        if grid.is_default:
            warnings.append(
                f"no clear beat in the audio (pulse clarity {grid.pulse_clarity:.2f}): using a"
                f" steady {beats.DEFAULT_BPM:.0f} BPM beat grid"
            )
    for message in warnings:
        log.warning("%s", message)
    power = np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP_SAMPLES)) ** 2
    intervals = features.beat_intervals(y, grid.beat_times_s, sr=sr)
    result = SongAnalysis(plan=None, y=y, sr=sr, grid=grid)  # type: ignore[arg-type]
    downbeats = grid.downbeat_times_s
    beat_sections = [sections.BeatSection(0, len(grid.beat_times_s) - 1, "A")]
    if not grid.is_default:
        chroma = librosa.feature.chroma_stft(
            S=power, sr=sr, n_fft=N_FFT, hop_length=HOP_SAMPLES, tuning=0.0
        )
        phase, likeliest = _bar_phase(chroma, grid.beat_times_s, sr=sr)
        # an unclear bar phase still gives bars (the likeliest phase); only the line ends do
        # not snap to them
        downbeats = grid.beat_times_s[likeliest::4].copy()
        timbre = librosa.feature.mfcc(
            S=librosa.power_to_db(librosa.feature.melspectrogram(S=power, sr=sr, n_mels=64)),
            n_mfcc=14,
        )[1:]
        beat_sections = _find_sections(
            result, chroma, timbre, bar_phase=phase, key_shifts=key_shifts
        )
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
            "repeat_lines": len(result.kept_lines),
            "lines_without_repeat": [n for n in result.line_notes if n is not None],
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


def _find_sections(
    result: SongAnalysis,
    chroma: FloatArray,
    timbre: FloatArray,
    *,
    bar_phase: int | None,
    key_shifts: bool,
) -> list[sections.BeatSection]:
    """Time-lag matrices, lines, novelty and the section list (indices into the tracked beats);
    fills ``result``'s fields.

    Chroma frames are cut on `selfsim.frame_grid`: the beats' own spacing where the tempo ramps
    (a repeat stays a straight line), an even grid otherwise (a repeat stays a line wherever
    the tracker placed the beats of its two occurrences). Sections found on that grid are moved
    to the nearest tracked beats.
    """
    beat_times_s = result.grid.beat_times_s
    n_beats = len(beat_times_s) - 1
    result.grid_times_s = beat_times_s
    if n_beats < 2 * lines.MIN_LINE_BEATS:
        return [sections.BeatSection(0, max(1, n_beats), "A")]
    period_s = float(np.median(np.diff(beat_times_s)))
    min_beats = max(lines.MIN_LINE_BEATS, int(np.ceil(lines.MIN_LINE_S / period_s)))
    frame_rate_hz = result.sr / HOP_SAMPLES
    shifts = range(12) if key_shifts else range(1)
    grid_times_s = selfsim.frame_grid(beat_times_s)
    per_beat = selfsim.frames_per_beat(grid_times_s)
    frames, frame_times_s = selfsim.beat_sync_chroma(
        chroma, frame_rate_hz=frame_rate_hz, beat_times_s=grid_times_s, per_beat=per_beat
    )
    analyses = [lines.analyze_lags(frames, per_beat=per_beat, shift=s) for s in shifts]
    found = lines.find_lines(
        analyses, per_beat=per_beat, beat_period_s=period_s, bar_phase=bar_phase
    )
    kept = sections.select_lines(found)
    result.grid_times_s, result.per_beat, result.frame_times_s = (
        grid_times_s,
        per_beat,
        frame_times_s,
    )
    result.lag_analyses = analyses
    result.novelty = _novelty(chroma, timbre, grid_times_s, frame_rate_hz=frame_rate_hz,
                              half_width=min_beats)  # fmt: skip
    n_grid = len(grid_times_s) - 1
    unmarked = sections.unmarked_lines(kept, result.novelty, min_section_beats=min_beats)
    shaping = [line for line in kept if line not in unmarked]
    result.lines, result.kept_lines = found, shaping + unmarked
    on_grid = sections.build_sections(
        shaping, n_beats=n_grid, min_section_beats=min_beats, novelty=result.novelty
    )
    result.line_notes = sections.line_outcomes(shaping, on_grid) + [
        "no change in the music at its ends: a phrase repeating inside a section"
    ] * len(unmarked)
    for line, note in zip(result.kept_lines, result.line_notes, strict=True):
        if note is not None:
            log.info("line at lag %d beats from beat %d not a repeat: %s", line.lag_beats,
                     line.start_beat, note)  # fmt: skip
    return _to_beats(on_grid, grid_times_s, beat_times_s)


def _to_beats(
    on_grid: list[sections.BeatSection], grid_times_s: FloatArray, beat_times_s: FloatArray
) -> list[sections.BeatSection]:
    """Sections on the frame grid moved to the nearest tracked beats (``repeats`` re-indexed,
    lags measured in seconds on the grid; a section that shrinks to nothing is dropped, and so
    is any link to it)."""
    index = np.abs(grid_times_s[:, None] - beat_times_s[None, :]).argmin(axis=1)
    index[0], index[-1] = 0, len(beat_times_s) - 1
    kept: dict[int, int] = {}
    out: list[sections.BeatSection] = []
    for i, s in enumerate(on_grid):
        start, end = int(index[s.start_beat]), int(index[s.end_beat])
        if end <= start:
            continue
        kept[i] = len(out)
        repeats = None if s.repeats is None else kept.get(s.repeats)
        lag_s = None
        if repeats is not None and s.lag_beats is not None and s.start_beat >= s.lag_beats:
            # measured on the grid, where the repeat is a line: the tracked beats of the two
            # occurrences may sit differently
            lag_s = float(grid_times_s[s.start_beat] - grid_times_s[s.start_beat - s.lag_beats])
        out.append(
            dataclasses.replace(
                s,
                start_beat=start,
                end_beat=end,
                repeats=repeats,
                shift=s.shift if repeats is not None else 0,
                lag_beats=None,
                lag_s=lag_s,
            )
        )
    return out


def _novelty(
    chroma: FloatArray,
    timbre: FloatArray,
    grid_times_s: FloatArray,
    *,
    frame_rate_hz: float,
    half_width: int,
) -> FloatArray:
    """Foote novelty per grid beat over harmony (chroma) and timbre (MFCC), each standardised."""
    feats = []
    for x in (chroma, timbre):
        per_beat, _ = selfsim.beat_sync_chroma(
            x, frame_rate_hz=frame_rate_hz, beat_times_s=grid_times_s, per_beat=1, normalize=False
        )
        z = (per_beat - per_beat.mean(axis=1, keepdims=True)) / (
            per_beat.std(axis=1, keepdims=True) + 1e-9
        )
        feats.append(z / np.sqrt(len(z)))
    return selfsim.foote_novelty(np.concatenate(feats), half_width=half_width)


def _bar_phase(chroma: FloatArray, beat_times_s: FloatArray, *, sr: int) -> tuple[int | None, int]:
    """Which beat starts the bars, from where the harmony changes most (4/4).

    Returns:
        The phase when it stands out (else None), and the likeliest phase in any case.
    """
    if len(beat_times_s) < 9:
        return None, 0
    per_beat, _ = selfsim.beat_sync_chroma(
        chroma, frame_rate_hz=sr / HOP_SAMPLES, beat_times_s=beat_times_s, per_beat=1
    )
    change = np.concatenate([[0.0], np.linalg.norm(np.diff(per_beat, axis=1), axis=0)])
    likeliest = int(np.argmax([np.mean(change[p::4]) for p in range(4)]))
    return beats.bar_phase(change), likeliest
