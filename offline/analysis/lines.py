"""Horizontal line segments of the time-lag matrix: every repeat in the song, with its lag.

A line at lag ``l`` from time ``x1`` to ``x2`` says: the music of ``x1..x2`` was already played
``l`` earlier. pychorus keeps only the strongest such line (a chorus start); here every line is
kept, measured in beats (frames are beat-synchronous, so lags are whole beats) and its ends
refined beat by beat on the raw similarity, so boundaries are exact to the beat.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.ndimage

from offline.analysis import selfsim

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]

MIN_LINE_BEATS = 14
"""Shortest repeat that counts as a section repeat: four 4/4 bars, less a beat at either end
where neighbouring sections blur it. Shorter repeats are riffs and phrases inside a section;
on the synthesized benchmark songs every such line was a false one (same chords, other tune)."""

MIN_LINE_S = 4.0
"""... and in seconds, so a fast song's two-bar riff does not count either."""

EXTEND_MIN_SIMILARITY = 0.8
"""Raw similarity a beat needs to extend a line (a note-for-note repeat measures 0.85-1)."""

MIN_STRENGTH = 0.12
"""Weakest mean emphasised similarity along a line (repeats measure 0.15 to 0.35)."""


@dataclass(frozen=True)
class RepeatLine:
    """Beats ``start_beat..end_beat`` (end exclusive) repeat the beats ``lag_beats`` earlier.

    Attributes:
        start_beat, end_beat: target span as indices into the beat list (end exclusive).
        lag_beats: how many beats earlier the source span starts.
        shift: semitones the repeat is transposed by (0..11, up).
        strength: mean of the emphasised time-lag matrix along the line.
        similarity: mean raw similarity ``f`` along the line.
    """

    start_beat: int
    end_beat: int
    lag_beats: int
    shift: int
    strength: float
    similarity: float

    @property
    def length_beats(self) -> int:
        return self.end_beat - self.start_beat

    @property
    def source(self) -> tuple[int, int]:
        """The earlier span the line repeats, as ``(start_beat, end_beat)``."""
        return self.start_beat - self.lag_beats, self.end_beat - self.lag_beats


@dataclass(frozen=True)
class LagAnalysis:
    """The matrices of one shift, kept for the figure and for refinement."""

    shift: int
    lag_matrix: FloatArray
    emphasized: FloatArray


def analyze_lags(chroma: FloatArray, *, per_beat: int, shift: int) -> LagAnalysis:
    """Time-lag matrix of ``chroma`` against itself transposed by ``shift``, and its denoised form.

    Args:
        chroma: beat-synchronous ``(12, n)`` chroma.
        per_beat: frames per beat.
        shift: semitones.

    Returns:
        The raw and emphasised time-lag matrices.
    """
    time_time = selfsim.time_time_matrix(chroma, shift=shift)
    lag_matrix = selfsim.time_lag_matrix(time_time)
    emphasized = selfsim.emphasize_lines(
        lag_matrix, time_time, width=2 * per_beat, smooth=per_beat / 2
    )
    return LagAnalysis(shift=shift, lag_matrix=lag_matrix, emphasized=emphasized)


def row_scores(emphasized: FloatArray, *, per_beat: int, min_frames: int) -> FloatArray:
    """For each whole-beat lag, the best mean of the emphasised matrix over ``min_frames``.

    Args:
        emphasized: emphasised time-lag matrix.
        per_beat: frames per beat.
        min_frames: window length in frames.

    Returns:
        Score per lag in beats (index = lag in beats; 0 where the lag is too short to hold a line).
    """
    n = emphasized.shape[0]
    n_beats = n // per_beat
    scores = np.zeros(n_beats + 1)
    for lag_beats in range(1, n_beats + 1):
        lag = lag_beats * per_beat
        if lag < min_frames or n - lag < min_frames:
            continue
        profile = emphasized[lag - 1 : min(n, lag + 2)].max(axis=0)
        scores[lag_beats] = scipy.ndimage.uniform_filter1d(
            profile, min_frames, mode="constant"
        ).max()
    return scores


def find_lines(
    analyses: list[LagAnalysis],
    *,
    per_beat: int,
    beat_period_s: float,
    min_line_beats: int = MIN_LINE_BEATS,
    min_line_s: float = MIN_LINE_S,
    bar_phase: int | None = None,
) -> list[RepeatLine]:
    """Every repeat line in the time-lag matrices of all shifts, beat-exact.

    The detection threshold comes from the untransposed matrix (shift 0): a lag's score must
    stand out from the typical lag's score by many deviations. Transposed matrices must clear a
    higher bar, since comparing under 11 transpositions gives chance more tries.

    Args:
        analyses: one per shift; the first must be shift 0.
        per_beat: frames per beat.
        beat_period_s: median beat period in seconds.
        min_line_beats: shortest line in beats.
        min_line_s: shortest line in seconds.
        bar_phase: index of the first downbeat among the beats (4/4), if known.

    Returns:
        Lines sorted by strength, strongest first.
    """
    min_beats = max(min_line_beats, int(np.ceil(min_line_s / beat_period_s)))
    min_frames = min_beats * per_beat
    base = row_scores(analyses[0].emphasized, per_beat=per_beat, min_frames=min_frames)
    valid = base[base > 0]
    if len(valid) < 3:
        return []
    median = float(np.median(valid))
    mad = float(np.median(np.abs(valid - median))) + 1e-6
    threshold = max(median + 3.0 * mad, 1.5 * median, MIN_STRENGTH)
    log.debug("line threshold %.3f (median %.3f, mad %.3f)", threshold, median, mad)
    lines: list[RepeatLine] = []
    for analysis in analyses:
        background = _background(analysis.emphasized)
        scores = (
            base
            if analysis.shift == 0
            else row_scores(analysis.emphasized, per_beat=per_beat, min_frames=min_frames)
        )
        floor = threshold * (1.0 if analysis.shift == 0 else 1.3)
        for lag_beats in np.flatnonzero(scores >= floor):
            # Sections repeat a whole number of bars later; another lag must be much stronger.
            if bar_phase is not None and lag_beats % 4 and scores[lag_beats] < 1.5 * floor:
                continue
            lines.extend(
                _lines_at_lag(analysis, int(lag_beats), per_beat=per_beat, min_beats=min_beats,
                              threshold=floor, bar_phase=bar_phase, background=background)
            )  # fmt: skip
    lines.sort(key=lambda line: line.strength * line.length_beats, reverse=True)
    return lines


def _lines_at_lag(
    analysis: LagAnalysis,
    lag_beats: int,
    *,
    per_beat: int,
    min_beats: int,
    threshold: float,
    bar_phase: int | None,
    background: float,
) -> list[RepeatLine]:
    """The line segments along one lag: found on the emphasised row, ends set on raw similarity."""
    n = analysis.lag_matrix.shape[0]
    lag = lag_beats * per_beat
    n_beats = n // per_beat
    rows = slice(lag - 1, min(n, lag + 2))
    emphasized = analysis.emphasized[rows].max(axis=0)[: n_beats * per_beat]
    raw = analysis.lag_matrix[rows].max(axis=0)[: n_beats * per_beat]
    beat_emph = emphasized.reshape(n_beats, per_beat).mean(axis=1)
    # The best frame of each beat: the frame that straddles a section change would otherwise
    # pull a repeat's first or last beat below the level.
    beat_raw = raw.reshape(n_beats, per_beat).max(axis=1)
    beat_raw_mean = raw.reshape(n_beats, per_beat).mean(axis=1)
    beat_emph[:lag_beats] = 0.0
    beat_raw[:lag_beats] = 0.0
    window = scipy.ndimage.uniform_filter1d(beat_emph, min_beats, mode="constant")
    out = []
    taken = np.zeros(n_beats, dtype=bool)
    for centre in np.argsort(window)[::-1]:
        if window[centre] < threshold:
            break
        if taken[centre] or centre < lag_beats:
            continue
        core = slice(max(lag_beats, centre - min_beats // 2), min(n_beats, centre + min_beats // 2))
        # Half way between the line and the matrix's background: the smoothing blurs both ends
        # alike. Chords shared by neighbouring sections still move an end by a beat or two, so
        # ends near a bar line go to it (sections start on bars).
        level = 0.5 * (float(np.median(beat_emph[core])) + background)
        start, end = _grow(beat_emph > level, int(centre), lo=lag_beats)
        if bar_phase is not None:
            start = max(lag_beats, _snap_to_bar(start, bar_phase))
            # a line that fades in the song's last beats runs to its end
            end = n_beats if end >= n_beats - 2 else min(n_beats, _snap_to_bar(end, bar_phase))
        step = 4 if bar_phase is not None else 1
        start, end = _extend_ends(
            beat_raw_mean, start, end, lo=lag_beats, reach=min_beats, step=step
        )
        start, end = _trim_partial_ends(beat_raw_mean, start, end, step=step, min_beats=min_beats)
        taken[max(0, start - min_beats // 2) : end + min_beats // 2] = True
        if end - start < min_beats:
            continue
        out.append(
            RepeatLine(
                start_beat=start,
                end_beat=end,
                lag_beats=lag_beats,
                shift=analysis.shift,
                strength=float(beat_emph[start:end].mean()),
                similarity=float(beat_raw[start:end].mean()),
            )
        )
    return out


def _extend_ends(
    beat_raw: FloatArray, start: int, end: int, *, lo: int, reach: int, step: int
) -> tuple[int, int]:
    """Grow a line by up to ``reach`` beats at each end, ``step`` beats (a bar, when bars are
    known) at a time, while those beats' mean raw similarity stays at the line's own level and
    at least ``EXTEND_MIN_SIMILARITY``.

    The denoised line fades where the music near it is sparse (a quiet first bar, few notes):
    its run ends early though the music still repeats note for note.
    """
    level = _note_for_note_level(beat_raw[start:end])
    if level is None:
        return start, end
    level = max(level, EXTEND_MIN_SIMILARITY)
    first, last = start, end
    while start - first < reach and first - step >= lo:
        if beat_raw[first - step : first].mean() < level:
            break
        first -= step
    while last - end < reach and last + step <= len(beat_raw):
        if beat_raw[last : last + step].mean() < level:
            break
        last += step
    return first, last


def _note_for_note_level(core: FloatArray) -> float | None:
    """Raw similarity below which a beat no longer repeats its counterpart note for note."""
    if len(core) == 0:
        return None
    median = float(np.median(core))
    spread = float(np.median(np.abs(core - median)))
    return median - max(0.03, 4.0 * spread)


def _trim_partial_ends(
    beat_raw: FloatArray, start: int, end: int, *, step: int, min_beats: int
) -> tuple[int, int]:
    """Drop end bars (``step`` beats) that only resemble their counterparts.

    Where two sections meet, the bar before or after a repeat often shares its chord with the
    bar before or after the original, so the emphasised line runs a bar too far. The raw
    similarity tells them apart: a repeated bar matches its original note for note (the line's
    own level), a bar with the same chord under another tune matches clearly less.
    """
    level = _note_for_note_level(beat_raw[start:end])
    if level is None:
        return start, end
    while end - start - step >= min_beats and beat_raw[start : start + step].mean() < level:
        start += step
    while end - start - step >= min_beats and beat_raw[end - step : end].mean() < level:
        end -= step
    return start, end


def _background(emphasized: FloatArray) -> float:
    """The typical emphasised value off the lines: the median over the matrix's valid cells.

    Not the median of one lag's row: a song repeated whole (A B A B) has a row that is line
    almost end to end, and half way to its own median would cut that line into pieces.
    """
    n = emphasized.shape[0]
    lag, x = np.triu_indices(n, k=1)
    return float(np.median(emphasized[lag, x]))


def _grow(
    above: npt.NDArray[np.bool_], centre: int, *, lo: int, gap: int = 2, resume: int = 1
) -> tuple[int, int]:
    """The run of ``above`` around ``centre``.

    A gap of up to ``gap`` beats is bridged when ``resume`` beats in a row follow it: a line
    dips where both its span and its source change section, yet goes on after.

    Returns:
        ``(start, end)``, end exclusive, ``start >= lo``.
    """
    n = len(above)

    def resumes(run: npt.NDArray[np.bool_]) -> bool:
        return len(run) >= resume and bool(np.all(run))

    start = centre
    while start > lo:
        if above[start - 1]:
            start -= 1
            continue
        for skip in range(1, gap + 1):
            b = start - 1 - skip
            if b - resume + 1 < lo:
                break
            if resumes(above[b - resume + 1 : b + 1]):
                start = b + 1
                break
        else:
            break
        if not above[start - 1]:
            break
    end = centre + 1
    while end < n:
        if above[end]:
            end += 1
            continue
        for skip in range(1, gap + 1):
            b = end + skip
            if b + resume > n:
                break
            if resumes(above[b : b + resume]):
                end = b
                break
        else:
            break
        if not above[end]:
            break
    while start < centre and not above[start]:
        start += 1
    while end > start + 1 and not above[end - 1]:
        end -= 1
    return start, end


def _snap_to_bar(beat: int, bar_phase: int, *, beats_per_bar: int = 4, reach: int = 2) -> int:
    """The nearest bar start within ``reach`` beats of ``beat`` (``beat`` itself if none)."""
    offset = (beat - bar_phase) % beats_per_bar
    nearest = beat - offset if offset <= beats_per_bar // 2 else beat + beats_per_bar - offset
    return nearest if abs(nearest - beat) <= reach else beat
