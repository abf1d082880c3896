"""The structure step of ``song.wav --analyze--> song plan``: chroma and timbre in, sections out.

Song structure is analysed on a *structure grid*, not on the plan's beats as such: the plan keeps
the metrical level the live dancer follows, which may be half the music's pulse (a 130 BPM song
danced at 65 BPM), and every length of the structure analysis counts beats (frames per beat, the
shortest repeat line, the novelty kernel, bar snapping, the shortest section). Where slow beats
have onsets half way between them about as strong as on them, the grid adds those half-way beats
(`structure_grid`). The learned live tracker's slow beats often do not show it (onsets half way
0.40-0.69 as strong, as at a slow song's pulse, issue 17), so a song whose beats are slow is also
analysed on the split grid (`split_grid`), and the split wins where it finds clearly more of the
song repeated in sections of a plausible length: a song gives about the same sections whether
its beats are at the pulse or at half of it, and the dancer's beats and bars stay as the plan
has them. On that grid: beat-synchronous chroma (`selfsim`), repeat lines in the time-lag
matrices of all 12 transpositions (`lines`), the lines that say something about the form and a
Foote novelty curve over chroma and timbre (`sections`, `boundaries`). The sections come back on
the plan's beats.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field

import librosa
import numpy as np
import numpy.typing as npt
import scipy.ndimage

from offline.analysis import beats, boundaries, lines, sections, selfsim

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]

N_FFT = 4096
"""STFT size for chroma (5.4 Hz bins at 22050 Hz: enough to tell bass notes)."""

HALF_PULSE_MID_RATIO = 0.75
"""Onset strength half way between slow beats over that at the beats above which the beats are
at half the music's pulse, and the structure grid splits them. At the level the plan's beats
were at before they followed the live tracker (the level the section finder's lengths in beats
were tuned at), the ratio over whole songs is 0.35-0.69 on the arranged real songs (tuning and
dev parts) and the synthesized ones; with every other beat dropped, 0.77-1.82."""

HALF_PULSE_MAX_BPM = 90.0
"""Only beats slower than this can be at half the music's pulse (the plan's beats of the
arranged real songs, at the level before they followed the live tracker, were at 87-177 BPM; the
synthesized songs' at 70-200 BPM)."""

MIN_SPLIT_SECTION_S = 8.0
"""Slow beats the onsets did not split are also analysed split (`find_structure`); the split
grid's sections are kept only when their median length is at least this. Synthesized songs at
70-90 BPM (tracked at their pulse) cut in two on it and covering more repeats so come out as
half sections, a median of 5.3-6.3 s; the arranged real songs at half their pulse that gain by
it, 8.2-18.6 s."""

MIN_SPLIT_GAIN = 1.2
"""...and only when they cover at least this many times the seconds of repeats that the plan's
beats give (the arranged real songs that gain by it: 1.36 times or more, one from none; a
synthesized song whose repeats the split merely re-cuts: 1.03)."""

PERIOD_SMOOTHING_BEATS = 9
"""Median filter length (beat intervals) over the periods that decide which beats are slow."""

RECORDING_KERNEL_SECTIONS = 1.5
"""Half-width of the Foote kernel, in shortest sections, in a song whose novelty is sharp (a
recording, `boundaries.SNAP_MAX_MEDIAN`): half as wide again as a section."""

MAX_REBUILDS = 3
"""Times the sections are rebuilt without the lines that made no repeat."""

PEAK_REACH_FRAMES = 2
"""An onset counts at a time when it peaks within this many onset frames (46 ms) of it."""


@dataclass(frozen=True)
class SongFeatures:
    """What the structure step reads of the audio, frame by frame.

    Attributes:
        chroma: ``(12, n)`` chroma.
        timbre: ``(13, n)`` MFCCs without the 0th (loudness).
        onset_strength: ``n`` onset strengths (spectral flux of the mel spectrogram).
        frame_rate_hz: frames per second (frame ``i`` centred at ``i / frame_rate_hz`` s).
    """

    chroma: FloatArray
    timbre: FloatArray
    onset_strength: FloatArray
    frame_rate_hz: float


def song_features(y: npt.NDArray[np.float32], *, sr: int) -> SongFeatures:
    """Chroma, timbre and onset strength of a song from one STFT (hop `beats.HOP_SAMPLES`).

    Args:
        y: mono samples.
        sr: their sample rate in Hz.

    Returns:
        The features.
    """
    hop = beats.HOP_SAMPLES
    power = np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=hop)) ** 2
    chroma = librosa.feature.chroma_stft(S=power, sr=sr, n_fft=N_FFT, hop_length=hop, tuning=0.0)
    mel_db = librosa.power_to_db(librosa.feature.melspectrogram(S=power, sr=sr, n_mels=64))
    return SongFeatures(
        chroma=chroma,
        timbre=librosa.feature.mfcc(S=mel_db, n_mfcc=14)[1:],
        onset_strength=librosa.onset.onset_strength(S=mel_db, sr=sr, hop_length=hop),
        frame_rate_hz=sr / hop,
    )


@dataclass
class Structure:
    """Sections and the intermediate results that explain them (what ``--plot`` draws).

    Attributes:
        sections: sections as indices into the plan's beats.
        structure_beats_s: the structure grid's beats (`structure_grid`).
        per_beat: chroma frames per structure beat.
        frame_times_s: start time of each chroma frame.
        grid_times_s: the frame grid the lines' beat indices refer to (`selfsim.frame_grid`).
        lag_analyses: time-lag matrices by shift.
        lines: every repeat line found; ``kept_lines`` those that shaped the sections or were
            left out, in the order of ``line_notes``.
        line_notes: per kept line, None when it made a repeated section, else why not.
        novelty: Foote novelty per grid beat (peak 1).
    """

    sections: list[sections.BeatSection]
    structure_beats_s: FloatArray
    per_beat: int = 1
    frame_times_s: FloatArray = field(default_factory=lambda: np.zeros(0))
    grid_times_s: FloatArray = field(default_factory=lambda: np.zeros(0))
    lag_analyses: list[lines.LagAnalysis] = field(default_factory=list)
    lines: list[lines.RepeatLine] = field(default_factory=list)
    kept_lines: list[lines.RepeatLine] = field(default_factory=list)
    line_notes: list[str | None] = field(default_factory=list)
    novelty: FloatArray = field(default_factory=lambda: np.zeros(0))


def structure_grid(
    beat_times_s: FloatArray, onset_strength: FloatArray, *, frame_rate_hz: float
) -> FloatArray:
    """The plan's beats, with a beat added half way between two where the music pulses there.

    Where the beats are slow (`HALF_PULSE_MAX_BPM`) and the onsets half way between them are
    about as strong as those on them (`HALF_PULSE_MID_RATIO`, over all the slow beats), the
    beats are at half the music's pulse and each slow interval is split in two; otherwise the
    plan's beats are the grid. Beats tracked at half tempo give back the grid of the full
    tempo.

    Args:
        beat_times_s: the plan's beats, increasing.
        onset_strength: onset strength per frame at ``frame_rate_hz`` (frame ``i`` at
            ``i / frame_rate_hz`` s).
        frame_rate_hz: frames per second of ``onset_strength``.

    Returns:
        The grid, holding every plan beat.
    """
    if len(beat_times_s) < 4 or len(onset_strength) == 0:
        return np.asarray(beat_times_s, dtype=np.float64)
    peaks = scipy.ndimage.maximum_filter1d(onset_strength, 2 * PEAK_REACH_FRAMES + 1)

    def strength(times_s: FloatArray) -> FloatArray:
        idx = np.clip(np.round(times_s * frame_rate_hz).astype(np.int64), 0, len(peaks) - 1)
        return np.asarray(peaks[idx], dtype=np.float64)

    mids_s, slow = _slow_intervals(beat_times_s)
    if not slow.any():
        return np.asarray(beat_times_s, dtype=np.float64)
    at_beats = strength(beat_times_s)
    ratio = strength(mids_s)[slow].mean() / (
        ((at_beats[:-1] + at_beats[1:]) / 2)[slow].mean() + 1e-9
    )
    split = slow if ratio > HALF_PULSE_MID_RATIO else np.zeros_like(slow)
    return np.sort(np.concatenate([beat_times_s, mids_s[split]]))


def split_grid(beat_times_s: FloatArray) -> FloatArray:
    """The plan's beats with a beat added half way between every two slow ones
    (`HALF_PULSE_MAX_BPM`), whatever the onsets between them."""
    mids_s, slow = _slow_intervals(beat_times_s)
    return np.sort(np.concatenate([beat_times_s, mids_s[slow]]))


def _slow_intervals(beat_times_s: FloatArray) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """Each beat interval's midpoint, and whether its smoothed period is slow."""
    mids_s = (beat_times_s[:-1] + beat_times_s[1:]) / 2
    periods_s = scipy.ndimage.median_filter(
        np.diff(beat_times_s), size=PERIOD_SMOOTHING_BEATS, mode="nearest"
    )
    return mids_s, periods_s > 60.0 / HALF_PULSE_MAX_BPM


def find_structure(
    feats: SongFeatures, beat_times_s: FloatArray, *, key_shifts: bool = True
) -> Structure:
    """Sections of a song from its features and the plan's beats.

    Args:
        feats: the song's chroma, timbre and onset strength (`song_features`).
        beat_times_s: the plan's beats.
        key_shifts: also look for repeats transposed by 1..11 semitones.

    Returns:
        The structure; its sections index ``beat_times_s``.
    """
    grid_s = structure_grid(beat_times_s, feats.onset_strength, frame_rate_hz=feats.frame_rate_hz)
    found = _structure_on(feats, beat_times_s, grid_s, key_shifts=key_shifts)
    if len(grid_s) > len(beat_times_s) or len(beat_times_s) < 4:
        return found
    if np.median(np.diff(beat_times_s)) <= 60.0 / HALF_PULSE_MAX_BPM:
        return found
    # slow beats the onsets did not split: the same song on the grid at twice their tempo
    on_split = _structure_on(feats, beat_times_s, split_grid(beat_times_s), key_shifts=key_shifts)
    lengths_s = [beat_times_s[s.end_beat] - beat_times_s[s.start_beat] for s in on_split.sections]
    more = _repeated_s(on_split, beat_times_s) > MIN_SPLIT_GAIN * _repeated_s(found, beat_times_s)
    return on_split if more and np.median(lengths_s) >= MIN_SPLIT_SECTION_S else found


def _repeated_s(found: Structure, beat_times_s: FloatArray) -> float:
    """Seconds of the song its repeated sections cover."""
    return float(
        sum(
            beat_times_s[s.end_beat] - beat_times_s[s.start_beat]
            for s in found.sections
            if s.repeats is not None
        )
    )


def _structure_on(
    feats: SongFeatures, beat_times_s: FloatArray, grid_beats_s: FloatArray, *, key_shifts: bool
) -> Structure:
    """`find_structure` on one structure grid."""
    chroma, frame_rate_hz = feats.chroma, feats.frame_rate_hz
    n_beats = len(grid_beats_s) - 1
    out = Structure(sections=[], structure_beats_s=grid_beats_s, grid_times_s=grid_beats_s)
    if n_beats < 2 * lines.MIN_LINE_BEATS:
        out.sections = [sections.BeatSection(0, max(1, len(beat_times_s) - 1), "A")]
        return out
    phase, _ = bar_phase(chroma, grid_beats_s, frame_rate_hz=frame_rate_hz)
    period_s = float(np.median(np.diff(grid_beats_s)))
    min_beats = max(lines.MIN_LINE_BEATS, int(np.ceil(lines.MIN_LINE_S / period_s)))
    shifts = range(12) if key_shifts else range(1)
    # Chroma frames are cut on `selfsim.frame_grid`: the beats' own spacing where the tempo
    # ramps (a repeat stays a straight line), an even grid otherwise (a repeat stays a line
    # wherever the tracker placed the beats of its two occurrences).
    grid_times_s = selfsim.frame_grid(grid_beats_s)
    per_beat = selfsim.frames_per_beat(grid_times_s)
    frames, frame_times_s = selfsim.beat_sync_chroma(
        chroma, frame_rate_hz=frame_rate_hz, beat_times_s=grid_times_s, per_beat=per_beat
    )
    analyses = [lines.analyze_lags(frames, per_beat=per_beat, shift=s) for s in shifts]
    found = lines.find_lines(analyses, per_beat=per_beat, beat_period_s=period_s, bar_phase=phase)
    kept = sections.select_lines(found)
    per_grid_beat = _novelty_features(chroma, feats.timbre, grid_times_s, frame_rate_hz)
    novelty = selfsim.foote_novelty(per_grid_beat, half_width=min_beats)
    # one decision, on the narrow kernel, for the kernel and for the boundaries
    recording = boundaries.is_sharp(novelty)
    if recording:
        # a recording: its parts change inside too, at their phrases; a wider kernel peaks
        # where the sections change
        wide = round(RECORDING_KERNEL_SECTIONS * min_beats)
        novelty = selfsim.foote_novelty(per_grid_beat, half_width=wide)
    unmarked = sections.unmarked_lines(kept, novelty, min_section_beats=min_beats)
    shaping = [line for line in kept if line not in unmarked]
    n_grid = len(grid_times_s) - 1
    on_grid = sections.build_sections(
        shaping, n_beats=n_grid, min_section_beats=min_beats, novelty=novelty,
        sharp=recording, phrases=found,
    )  # fmt: skip
    dropped: list[tuple[lines.RepeatLine, str]] = []
    for _ in range(MAX_REBUILDS):
        # A line that made no repeated section must not cut the sections either: its ends
        # are a phrase inside a section, not a section's bounds.
        outcomes = sections.line_outcomes(shaping, on_grid)
        failed = [(line, note) for line, note in zip(shaping, outcomes, strict=True) if note]
        if not failed or len(failed) == len(shaping):
            break
        dropped += [(line, f"{note} (left out)") for line, note in failed]
        shaping = [line for line, note in zip(shaping, outcomes, strict=True) if not note]
        on_grid = sections.build_sections(
            shaping, n_beats=n_grid, min_section_beats=min_beats, novelty=novelty,
            sharp=recording, phrases=found,
        )  # fmt: skip
    notes = (
        sections.line_outcomes(shaping, on_grid)
        + [note for _, note in dropped]
        + ["no change in the music at its ends: a phrase repeating inside a section"]
        * len(unmarked)
    )
    shaping = shaping + [line for line, _ in dropped]
    for line, note in zip(shaping + unmarked, notes, strict=True):
        if note is not None:
            log.info("line at lag %d beats from beat %d not a repeat: %s", line.lag_beats,
                     line.start_beat, note)  # fmt: skip
    out.sections = to_beats(on_grid, grid_times_s, beat_times_s)
    out.per_beat, out.frame_times_s, out.grid_times_s = per_beat, frame_times_s, grid_times_s
    out.lag_analyses, out.lines, out.kept_lines = analyses, found, shaping + unmarked
    out.line_notes, out.novelty = notes, novelty
    return out


def to_beats(
    on_grid: list[sections.BeatSection], grid_times_s: FloatArray, beat_times_s: FloatArray
) -> list[sections.BeatSection]:
    """Sections on the frame grid moved to the nearest plan beats (``repeats`` re-indexed,
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
        # at the section's start (where the tempo ramps, the lag in seconds is that of the
        # starts), or at its first beat that has a source: a section whose bound came out a
        # beat or two early starts before its lag allows
        at = s.start_beat if s.lag_beats is None else max(s.start_beat, s.lag_beats)
        if repeats is not None and s.lag_beats is not None and at < s.end_beat:
            # measured on the grid, where the repeat is a line: the tracked beats of the two
            # occurrences may sit differently
            lag_s = float(grid_times_s[at] - grid_times_s[at - s.lag_beats])
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


def bar_phase(
    chroma: FloatArray, beat_times_s: FloatArray, *, frame_rate_hz: float
) -> tuple[int | None, int]:
    """Which beat starts the bars, from where the harmony changes most (4/4).

    Returns:
        The phase when it stands out (else None), and the likeliest phase in any case.
    """
    if len(beat_times_s) < 9:
        return None, 0
    per_beat, _ = selfsim.beat_sync_chroma(
        chroma, frame_rate_hz=frame_rate_hz, beat_times_s=beat_times_s, per_beat=1
    )
    change = np.concatenate([[0.0], np.linalg.norm(np.diff(per_beat, axis=1), axis=0)])
    likeliest = int(np.argmax([np.mean(change[p::4]) for p in range(4)]))
    return beats.bar_phase(change), likeliest


def _novelty_features(
    chroma: FloatArray, timbre: FloatArray, grid_times_s: FloatArray, frame_rate_hz: float
) -> FloatArray:
    """Harmony (chroma) and timbre (MFCC) per grid beat, each standardised: what the Foote
    novelty (`selfsim.foote_novelty`) reads."""
    feats = []
    for x in (chroma, timbre):
        per_beat, _ = selfsim.beat_sync_chroma(
            x, frame_rate_hz=frame_rate_hz, beat_times_s=grid_times_s, per_beat=1, normalize=False
        )
        z = (per_beat - per_beat.mean(axis=1, keepdims=True)) / (
            per_beat.std(axis=1, keepdims=True) + 1e-9
        )
        feats.append(z / np.sqrt(len(z)))
    return np.concatenate(feats)
