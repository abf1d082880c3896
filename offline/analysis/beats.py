"""Beats, tempo and bars of a whole song: the beat grid the song plan hands to the choreographer.

The paper's beat detection: librosa's dynamic-programming tracker (Ellis 2007) over an onset
strength envelope, guided by the live tracker. The live tracker (`livedance.audio.beats`, run over
the whole file exactly as on stage) gets tempo, metrical level and beat phase right where the
plain DP does not (syncopation, drum-less and 3/4 songs, measured on the MIDI beat set), but it
only declares beats after it locks and never revises them. So its beats become a guide: the DP
runs with the live tracker's local tempo curve as its tempo and with a pulse at each live beat
added to the onset envelope, and keeps the DP's own strengths (the whole song from the first
beat, beats placed on the strongest onsets near the guide, one consistent path). The plan and the
live clock are one stage: the metrical level is the one the live tracker holds longest (checked
only for clear double or half time, `_guided_track`), and the guide runs on the audio at its own
rate with the kick's say in the phase, as a show plays it (`analyze_song`): the live
tracker's kick role places dembow's beat on the kick, where the DP alone and the old 22.05 kHz
guide without the kick followed the louder syncopated snare. Where the live clock drifted or
re-locked (a breakdown with no drums), the guide is first checked against what the plan hears
(`offline.analysis.beatphase`), and the beats before the live tracker locked are placed from
the locked part, backwards.

When the live tracker finds too few beats, the plain DP path is used, with three things on top of
the plain call, each measured on synthesized songs:

- the onset envelope averages librosa's mel spectral flux with a band-normalised multi-band flux,
  so the bass carries as much weight as the cymbals (drum-less songs are otherwise tracked on the
  off-beat);
- the tempo may drift or change: a smoothed local tempo curve is tried beside the global tempo and
  kept when its beats land on stronger onsets;
- the metrical level is checked (tracking eighth notes of a slow song, or half notes of a fast one)
  from how strong the onsets half way between beats are.

Silence and audio without a pulse give a steady default grid instead, with a warning.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import librosa
import numpy as np
import numpy.typing as npt
import scipy.ndimage

from offline.analysis.beatphase import (
    phase_before_lock,
    phase_from_guide,
    phase_from_onsets,
    subframe,
)

log = logging.getLogger(__name__)

HOP_SAMPLES = 512
"""Onset envelope hop at the analysis rate (23 ms at 22050 Hz)."""

DEFAULT_BPM = 120.0
"""Tempo of the steady grid used when the audio has no pulse."""

GUIDE_WEIGHT = 1.0
"""Height of the live tracker's beat pulses on the onset envelope (its 99th percentile is 1)."""

GUIDE_WIDTH_FRAMES = 1.5
"""Standard deviation of each guide pulse, in onset frames (35 ms)."""

MIN_GUIDE_BEATS = 8
"""Fewer live beats than this: no guide, the plain DP path."""

BACKBEAT_SHARE = 0.5
"""The live stage's level stands (no half- or double-time check here) when the snare's backbeat
decided at least this share of its estimates."""

HELD_SHARE = 0.15
"""The share of the song the live stage must have followed a level for the plan to halve to it."""

PEAK_LAG_FRAMES = 4
"""How far after a beat placed on an attack its onset-envelope peak may come (93 ms)."""

MIN_PULSE_CLARITY = 1.25
"""Onset strength at the beats over its overall mean below which a song counts as beatless."""

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class BeatGrid:
    """Tracked beats.

    Attributes:
        tempo_bpm: the song's overall tempo (60 / median beat period).
        beat_times_s: beat times in seconds, increasing.
        downbeat_times_s: bar starts (4/4 assumed), empty when the bar phase is unclear.
        pulse_clarity: onset strength at the beats over its mean (about 1 for noise).
        tempo_varies: whether a time-varying tempo curve was used.
        is_default: True when the audio had no pulse and the grid is the steady default.
    """

    tempo_bpm: float
    beat_times_s: FloatArray
    downbeat_times_s: FloatArray
    pulse_clarity: float
    tempo_varies: bool
    is_default: bool = False


def onset_envelope(y: npt.NDArray[np.float32], *, sr: int) -> FloatArray:
    """Onset strength: mean of librosa's mel flux and a band-normalised four-band flux.

    Args:
        y: mono samples.
        sr: sample rate in Hz.

    Returns:
        Onset strength per hop of ``HOP_SAMPLES``, mean 1 (all zeros for silence).
    """
    mel_db = librosa.power_to_db(
        librosa.feature.melspectrogram(y=y, sr=sr, hop_length=HOP_SAMPLES, n_mels=128)
    )
    flux = librosa.onset.onset_strength(S=mel_db, sr=sr, hop_length=HOP_SAMPLES)
    bands = librosa.onset.onset_strength_multi(
        S=mel_db, sr=sr, hop_length=HOP_SAMPLES, channels=[0, 16, 48, 128]
    )
    bands = bands / (bands.mean(axis=1, keepdims=True) + 1e-9)
    env = flux / (flux.mean() + 1e-9) + bands.mean(axis=0)
    return np.asarray(env / (env.mean() + 1e-9), dtype=np.float64)


def track_beats(y: npt.NDArray[np.float32], *, sr: int, guide: LiveGuide | None = None) -> BeatGrid:
    """Track the beats of a whole song.

    Args:
        y: mono samples (22050 Hz is plenty).
        sr: sample rate in Hz.
        guide: what the live stage declares over the song (`live_beats` on the audio at its own
            rate, as on stage); by default the live tracker runs on ``y``.

    Returns:
        The beat grid; ``is_default`` when the audio is silent or has no clear pulse, in which
        case the grid is a steady ``DEFAULT_BPM`` one over the whole duration.
    """
    duration_s = len(y) / sr
    env = onset_envelope(y, sr=sr)
    if duration_s < 2.0 or not np.any(env > 0):
        return default_grid(duration_s)
    if guide is None:
        guide = live_beats(y, sr=sr)
    guide_s = guide.beat_times_s
    if len(guide_s) >= MIN_GUIDE_BEATS:
        # where the live clock drifted or re-locked, the plan hears better (a breakdown)
        guide_s = phase_from_onsets(guide_s, env, frame_rate_hz=sr / HOP_SAMPLES)
        frames, varies = _guided_track(
            env, guide_s, sr=sr, level_checks=guide.backbeat_share < BACKBEAT_SHARE
        )
    else:
        frames, varies = _plain_track(env, sr=sr)
    frames = _extend_start(frames, env)
    clarity = _beat_strength(env, frames)
    if len(frames) < 4 or clarity < MIN_PULSE_CLARITY:
        log.debug("pulse clarity %.2f with %d beats: no pulse", clarity, len(frames))
        return default_grid(duration_s, pulse_clarity=clarity)
    beat_times_s = (frames + subframe(env, frames)) * HOP_SAMPLES / sr
    if len(guide_s) >= MIN_GUIDE_BEATS:
        beat_times_s = phase_from_guide(beat_times_s, guide_s)
        # before the live tracker locked, the plan steps back from the locked part
        beat_times_s = phase_before_lock(beat_times_s, guide_s, env, frame_rate_hz=sr / HOP_SAMPLES)
    return BeatGrid(
        tempo_bpm=_tempo_bpm(beat_times_s),
        beat_times_s=beat_times_s,
        downbeat_times_s=np.zeros(0),
        pulse_clarity=clarity,
        tempo_varies=varies,
    )


@dataclass(frozen=True)
class LiveGuide:
    """What the live stage made of a song.

    Attributes:
        beat_times_s: the beats it declared.
        backbeat_share: the share of its tempo estimates whose metrical level the snare's role
            decided (`livedance.audio.metre.backbeat_bpm`), 0..1.
    """

    beat_times_s: FloatArray
    backbeat_share: float


def live_beats(y: npt.NDArray[np.float32], *, sr: int) -> LiveGuide:
    """The beats the live tracker declares over the whole signal, fed hop by hop as on stage."""
    from livedance.audio.beats import BeatTracker

    tracker = BeatTracker(sr)
    votes = [0, 0]  # hops whose latest estimate's level came from the backbeat, and all

    def each_hop(_: float) -> None:
        votes[0] += tracker.estimator.level_from_backbeat
        votes[1] += 1

    track = tracker.process_signal(np.ascontiguousarray(y, dtype=np.float32), on_hop=each_hop)
    return LiveGuide(np.asarray(track.beat_times_s, dtype=np.float64), votes[0] / max(1, votes[1]))


def _guided_track(
    env: FloatArray, guide_s: FloatArray, *, sr: int, level_checks: bool = True
) -> tuple[npt.NDArray[np.int64], bool]:
    """The DP guided by the live beats; halved or doubled when they read the wrong level.

    Double time shows as beats whose half-way points are empty (no sixteenths) while every other
    beat is much stronger (kick and snare on the real beats, hi-hats between them). Swing and 3/4
    also leave the half-way points empty, but their beats are evenly strong, so they stay.

    Half time shows as busy half-way points under a whole-song tempo (librosa's) of twice the
    beats, where the live stage held that tempo too (as for double time: the plan only takes a
    level the live stage itself held, so the two agree).
    (The plan's old check on alike beats alone is gone: it read dancehall, samba and swing
    at twice their tempo; the live stage's metre decides those.) Where the live stage's level
    came from the snare's backbeat most of the time (``level_checks`` False), it stands.

    Returns:
        Beat frames, and whether the tempo curve varies by more than 5 %.
    """
    frames, varies = _guided_dp(env, guide_s, sr=sr)
    if level_checks and len(frames) >= 16:
        f = frames.astype(np.float64)
        strength = _strength_at(env, f)
        mid = float(_strength_at(env, (f[:-1] + f[1:]) / 2).mean() / strength.mean())
        even, odd = strength[0::2].mean(), strength[1::2].mean()
        bpm = 60.0 * sr / HOP_SAMPLES / float(np.median(np.diff(f)))
        alternating = max(even, odd) > 1.6 * min(even, odd)
        if mid < 0.15 and alternating and bpm / 2 >= 60.0 and _held(guide_s, bpm / 2):
            log.debug("beats at %.1f BPM look like double time: halved", bpm)
            strong = frames[0::2] if even >= odd else frames[1::2]
            half_s = librosa.frames_to_time(strong, sr=sr, hop_length=HOP_SAMPLES)
            frames, varies = _guided_dp(env, half_s, sr=sr)
        elif mid > 0.5 and _held(guide_s, 2 * bpm) and 1.9 < _global_tempo(env, sr=sr) / bpm < 2.1:
            # half time: the whole song's tempo is twice the beats and their half-way points
            # are busy (a drum & bass break under a half-time feel): dance the full tempo, if
            # the live stage held it too (not dancehall's skank on every off-beat under a live
            # 91 BPM the stage never left, nor a 70.6 BPM ballad's eighth notes)
            log.debug("beats at %.1f BPM look like half time: doubled", bpm)
            frames, varies = _guided_dp(env, _doubled(frames, sr=sr), sr=sr)
    return frames, varies


def _held(guide_s: FloatArray, bpm: float) -> bool:
    """Whether the live stage followed ``bpm`` (within 8 %) for at least `HELD_SHARE` of the
    guide's time: the plan only picks a level the live stage itself held (a swing ride's
    alternating accents under a steady live 168 BPM are not half time)."""
    gaps = np.diff(guide_s)
    near = np.abs(np.log2(60.0 / np.maximum(gaps, 1e-9) / bpm)) < np.log2(1.08)
    return bool(gaps[near].sum() >= HELD_SHARE * gaps.sum())


def _doubled(frames: npt.NDArray[np.int64], *, sr: int) -> FloatArray:
    """Beat times in seconds with a beat added half way between each two."""
    times_s = librosa.frames_to_time(frames, sr=sr, hop_length=HOP_SAMPLES)
    return np.sort(np.concatenate([times_s, (times_s[:-1] + times_s[1:]) / 2]))


def _global_tempo(env: FloatArray, *, sr: int) -> float:
    """librosa's tempo estimate of the whole song, in BPM."""
    return float(librosa.feature.tempo(onset_envelope=env, sr=sr, hop_length=HOP_SAMPLES)[0])


def _guided_dp(
    env: FloatArray, guide_s: FloatArray, *, sr: int
) -> tuple[npt.NDArray[np.int64], bool]:
    """The DP over the onset envelope plus guide pulses, at the guide's local tempo.

    The live tracker may follow part of a song at another metrical level (a slow ballad at twice
    its tempo until it locks): the tempo curve is folded by octaves onto the level the guide
    holds longest, and the guide beats of the folded stretches add no pulses (half of them are
    off-beats), so the DP there follows the onsets at the song's tempo.
    """
    bpm = scipy.ndimage.median_filter(60.0 / np.diff(guide_s), size=5, mode="nearest")
    octaves = np.round(np.log2(_weighted_median(bpm, np.diff(guide_s)) / bpm))
    bpm = bpm * 2.0**octaves
    times_s = librosa.frames_to_time(np.arange(len(env)), sr=sr, hop_length=HOP_SAMPLES)
    curve = np.interp(times_s, (guide_s[:-1] + guide_s[1:]) / 2, bpm)
    # a guide beat counts when the intervals on both sides of it are at the song's level
    on_level = np.concatenate(
        [[octaves[0] == 0], (octaves[:-1] == 0) & (octaves[1:] == 0), [octaves[-1] == 0]]
    )
    guide_s = guide_s[on_level]
    pulse = np.zeros_like(env)
    idx = librosa.time_to_frames(guide_s, sr=sr, hop_length=HOP_SAMPLES)
    pulse[idx[(idx >= 0) & (idx < len(env))]] = 1.0
    pulse = scipy.ndimage.gaussian_filter1d(pulse, GUIDE_WIDTH_FRAMES)
    pulse /= 1.0 / (np.sqrt(2.0 * np.pi) * GUIDE_WIDTH_FRAMES)  # peaks of height 1
    guided = env / (np.percentile(env, 99) + 1e-9) + GUIDE_WEIGHT * pulse
    low, high = np.percentile(curve, [5, 95])
    frames = _trim_silent_ends(_track(guided, sr=sr, bpm=curve, trim=False), env)
    return frames, bool(high / low > 1.05)


def _weighted_median(values: FloatArray, weights: FloatArray) -> float:
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cumulative, 0.5 * cumulative[-1])])


def _trim_silent_ends(frames: npt.NDArray[np.int64], env: FloatArray) -> npt.NDArray[np.int64]:
    """Drop leading and trailing beats where the music has not started or has ended.

    librosa's own trim compares with the loudest part of the song and so cuts quiet intros; this
    keeps every beat whose onset strength is at least a tenth of the typical beat's. The guided
    DP puts its beats on the live stage's, at the attacks, up to a few frames before the
    envelope's peaks: read at +-2 frames the typical beat was weak enough that the live
    tracker's beats after a song ended (its clock runs on into the silence) were kept. So the
    typical beat is the peak within a quarter period of each beat, and a beat's own strength
    the peak from 2 frames before it to `PEAK_LAG_FRAMES` after (not a ringing chord's tail).
    """
    if len(frames) == 0:
        return frames
    f = frames.astype(np.float64)
    reach = max(2, round(0.25 * float(np.median(np.diff(f))))) if len(f) > 1 else 2
    typical = float(np.median(_strength_at(env, f, before_frames=reach, after_frames=reach)))
    strength = _strength_at(env, f, after_frames=PEAK_LAG_FRAMES)
    alive = np.flatnonzero(strength >= 0.1 * typical)
    return frames[alive[0] : alive[-1] + 1] if len(alive) else frames[:0]


def _extend_start(frames: npt.NDArray[np.int64], env: FloatArray) -> npt.NDArray[np.int64]:
    """Add the beats the DP left out before its first one, while each has a real onset.

    librosa's DP (and the live guide, which only starts after it locks) can begin a beat or two
    after the music does; a song's first downbeat is often its strongest onset.
    """
    if len(frames) < 4:
        return frames
    period = float(np.median(np.diff(frames[:9])))
    typical = float(np.median(_strength_at(env, frames.astype(np.float64))))
    reach = max(1, round(0.08 * period))
    added: list[int] = []
    first = int(frames[0])
    while first - period + reach >= 0:
        centre = round(first - period)
        lo, hi = max(0, centre - reach), centre + reach + 1
        best = lo + int(np.argmax(env[lo:hi]))
        if env[best] < 0.3 * typical:
            break
        added.append(best)
        first = best
    if not added:
        return frames
    return np.concatenate([np.asarray(added[::-1], dtype=np.int64), frames])


def _plain_track(env: FloatArray, *, sr: int) -> tuple[npt.NDArray[np.int64], bool]:
    """The DP alone: global tempo, a local tempo curve when it fits better, metrical check."""
    tempo = _global_tempo(env, sr=sr)
    curve = _local_tempo_curve(env, sr=sr, tempo_bpm=tempo)
    frames = _track(env, sr=sr, bpm=tempo)
    varies = False
    if curve is not None:
        frames_curve = _track(env, sr=sr, bpm=curve)
        if _beat_strength(env, frames_curve) > 1.03 * _beat_strength(env, frames):
            frames, varies = frames_curve, True
    factor = _metrical_correction(env, frames, tempo_bpm=tempo)
    if factor != 1.0:
        log.debug("tempo %.1f BPM looks like the wrong metrical level; x%.1f", tempo, factor)
        frames = _track(env, sr=sr, bpm=(curve if varies and curve is not None else tempo) * factor)
    return frames, varies


def _tempo_bpm(beat_times_s: FloatArray) -> float:
    """The typical tempo: median beat period over spans of four beats.

    Beat frames are quantised to the onset hop (23 ms), so single periods jitter by a frame;
    four-beat spans cut that error by four (a 120 BPM song reads 120, not 117.5).
    """
    span = min(4, len(beat_times_s) - 1)
    periods_s = (beat_times_s[span:] - beat_times_s[:-span]) / span
    return float(60.0 / np.median(periods_s))


def default_grid(duration_s: float, *, pulse_clarity: float = 0.0) -> BeatGrid:
    """A steady ``DEFAULT_BPM`` grid over ``duration_s`` (at least two beats).

    Args:
        duration_s: length of the audio in seconds.
        pulse_clarity: the measured clarity, kept for the record.

    Returns:
        A grid flagged ``is_default``, with a downbeat every four beats.
    """
    period_s = 60.0 / DEFAULT_BPM
    n = max(2, int(duration_s / period_s) + 1)
    beats = np.arange(n) * period_s
    beats = beats[beats <= max(duration_s, period_s)]
    return BeatGrid(
        tempo_bpm=DEFAULT_BPM,
        beat_times_s=beats,
        downbeat_times_s=beats[::4].copy(),
        pulse_clarity=pulse_clarity,
        tempo_varies=False,
        is_default=True,
    )


def bar_phase(beat_change: FloatArray, *, beats_per_bar: int = 4) -> int | None:
    """Which beat (mod ``beats_per_bar``) starts a bar, from a per-beat change strength.

    Harmony (and the kick) change most on the first beat of a bar; the phase whose beats carry
    clearly more change than every other phase is the downbeat.

    Args:
        beat_change: per beat, how much the music changes at that beat (e.g. chroma distance to
            the previous beat); at least two bars long.
        beats_per_bar: metre (4 for 4/4).

    Returns:
        The phase, or None when no phase stands out by 15 %.
    """
    if len(beat_change) < 2 * beats_per_bar:
        return None
    scores = np.array(
        [np.mean(beat_change[p::beats_per_bar]) for p in range(beats_per_bar)], dtype=np.float64
    )
    order = np.argsort(scores)[::-1]
    if scores[order[0]] < 1.15 * scores[order[1]]:
        return None
    return int(order[0])


def _track(
    env: FloatArray, *, sr: int, bpm: float | FloatArray, trim: bool = True
) -> npt.NDArray[np.int64]:
    _, frames = librosa.beat.beat_track(
        onset_envelope=env, sr=sr, hop_length=HOP_SAMPLES, bpm=bpm, units="frames", trim=trim
    )
    return np.asarray(frames, dtype=np.int64)


def _local_tempo_curve(env: FloatArray, *, sr: int, tempo_bpm: float) -> FloatArray | None:
    """A smoothed local tempo per onset frame, folded to the global tempo's octave; None if flat."""
    local = librosa.feature.tempo(
        onset_envelope=env, sr=sr, hop_length=HOP_SAMPLES, aggregate=None, ac_size=6.0
    ).astype(np.float64)
    local = local * 2.0 ** np.round(np.log2(tempo_bpm / np.maximum(local, 1e-6)))
    size = max(3, int(10.0 * sr / HOP_SAMPLES))
    local = scipy.ndimage.median_filter(local, size=size, mode="nearest")
    low, high = np.percentile(local, [5, 95])
    return local if high / low > 1.05 else None


def _strength_at(
    env: FloatArray, frames: FloatArray, *, before_frames: int = 2, after_frames: int = 2
) -> FloatArray:
    """Onset strength at (possibly fractional) frames: the max from ``before_frames`` before
    to ``after_frames`` after."""
    idx = np.clip(np.round(frames).astype(np.int64), 0, len(env) - 1)
    offsets = np.arange(-before_frames, after_frames + 1)
    windows = np.clip(idx[:, None] + offsets[None, :], 0, len(env) - 1)
    return np.asarray(env[windows].max(axis=1), dtype=np.float64)


def _beat_strength(env: FloatArray, frames: npt.NDArray[np.int64]) -> float:
    if len(frames) == 0:
        return 0.0
    return float(_strength_at(env, frames.astype(np.float64)).mean() / (env.mean() + 1e-9))


def _metrical_correction(
    env: FloatArray, frames: npt.NDArray[np.int64], *, tempo_bpm: float
) -> float:
    """2 when half-way points are as strong as beats at a slow tempo, 0.5 when they are empty."""
    if len(frames) < 8:
        return 1.0
    f = frames.astype(np.float64)
    mid_ratio = float(_strength_at(env, (f[:-1] + f[1:]) / 2).mean() / _strength_at(env, f).mean())
    if mid_ratio < 0.2 and tempo_bpm / 2 >= 60.0:
        return 0.5
    if mid_ratio > 0.62 and tempo_bpm < 92.0:
        return 2.0
    return 1.0
