"""Where the song plan's beats land: the live stage's phase, checked against what is heard.

Part of the song plan's beat grid (`offline.analysis.beats`, the ``song.wav --analyze--> song
plan`` box of DESIGN.md). The guided dynamic programme decides which beats there are; this module
sets the time of each. The live tracker's beats are the most precise (2-6 ms where it is locked),
so the plan takes them (`phase_from_guide`). But the live tracker only hears the past: where the
drums stop it coasts and drifts (in the MIDI set's house breakdown, 70 ms late by the end of four
bars), and after they return it needs a few beats to re-lock (84 and 79 ms late). The plan hears
the whole song, so before the guide is used `phase_from_onsets` checks each of its beats against
the onset it marks, and spaces the beats of a stretch with nothing to hear evenly between the
heard beats on either side. And the live tracker's first beats, before it locks, wobble (the
learned guide's 30-70 ms early on the MIDI set's drum-less folk song): `phase_before_lock` places
the plan's beats before the lock from the locked part extended backwards.
"""

from __future__ import annotations

import itertools
import logging

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]

SNAP_S = 0.035
"""A plan beat this close to a live beat takes the live beat's time (`phase_from_guide`)."""

MAX_PHASE_SHIFT_S = 0.06
"""The most the plan's beats are moved onto the live tracker's phase (`phase_from_guide`)."""

MIN_AGREEING_BEATS = 8
"""Fewer plan beats than this agreeing with the live ones: the live phase is not taken."""

ONSET_REACH = 0.2
"""How far either side of a beat its onset is looked for, as a share of the beat period (short
of a sixteenth note, so a syncopated accent is not taken for the beat)."""

HEARD_SHARE = 0.25
"""A beat is heard when the onset strength near it peaks at least this share of the typical
beat's (a pad's swell in a breakdown reaches 0.02-0.12 of a kick's)."""

ONSET_TOLERANCE_S = 0.02
"""A heard beat moves onto its own onset only when that onset says it is further off than this
(about a frame of the onset envelope, 23 ms: within it the live tracker's phase is the better)."""

LAG_WINDOW_BEATS = 8
"""The usual lag is the median over this many beats either side (four bars of four): the lag
changes with the instruments (a song's last section played softer came 25 ms later), while the
live clock's re-locking lasts a few beats."""

ONSET_AGREEMENT_SHARE = 0.75
"""Beats move onto their onsets only in a song where at least this share of the heard beats'
onsets come at the usual lag (within `ONSET_TOLERANCE_S`): elsewhere the onset nearest a beat is
often another instrument's (a bossa nova's or a slow-swing's, 0.08-0.5; a house song's 0.97)."""

BRIDGE_MIN_BEATS = 4
"""Only runs of at least this many unheard beats (a bar of four) are bridged: over fewer the live
clock hardly drifts, and where it is locked its phase is the better."""

BRIDGE_TEMPO_TOLERANCE = 0.1
"""Beats across a stretch with nothing heard are re-spaced only when the heard beats either side
are this close (relative) to a whole number of the stretch's beat periods apart."""


LOCK_BEATS = 8
"""The live tracker has locked once this many of its beat intervals in a row (two bars of four)
are steady (`LOCK_JITTER_S`) at the plan's metrical level."""

LOCK_JITTER_S = 0.015
"""Steady: each interval differs from the one before it by at most this (the locked live
tracker's 2-6 ms beats; before it locks, the learned guide's intervals jump by 20-50 ms)."""

LOCK_SEARCH_BEATS = 16
"""The lock is looked for among the live tracker's first this many beats (it locks within its
first seconds); a guide never steady there is left as it is."""

LEAD_IN_REACH_S = 0.04
"""A beat before the lock moves onto an onset this close to where the locked grid puts it."""


def subframe(env: FloatArray, frames: npt.NDArray[np.int64]) -> FloatArray:
    """Where between frames each beat's onset peak is (a parabola through the peak frame and its
    neighbours; 0 where the beat frame is not a peak), in frames, -0.5..0.5."""
    k = np.clip(frames, 1, len(env) - 2)
    y0, y1, y2 = env[k - 1], env[k], env[k + 1]
    curvature = y0 - 2.0 * y1 + y2
    peak = (y1 >= y0) & (y1 >= y2) & (curvature < 0) & (k == frames)
    delta = np.where(peak, 0.5 * (y0 - y2) / np.where(curvature < 0, curvature, -1.0), 0.0)
    return np.clip(delta, -0.5, 0.5)


def phase_from_guide(beat_times_s: FloatArray, guide_s: FloatArray) -> FloatArray:
    """Move the DP's beats onto the live tracker's.

    The DP places beats on onset-envelope frames (23 ms apart) whose peaks come after the attacks
    they mark; the live tracker places its beats from its own onset times, 5.8 ms apart (on the
    beat sets: the plan's matched beats a median 12-44 ms late and spread over a frame, the live
    tracker's within 2-6 ms). Where both agree on a beat (within `SNAP_S`), the plan takes the
    live beat's time; the other beats (before the live tracker locks) move by the median
    difference of those that agree, at most `MAX_PHASE_SHIFT_S`.

    Args:
        beat_times_s: the DP's beats, increasing.
        guide_s: the live tracker's beats, increasing.

    Returns:
        The moved beats (any that came to overlap another dropped).
    """
    if len(beat_times_s) == 0 or len(guide_s) < 2:
        return beat_times_s
    j = np.clip(np.searchsorted(guide_s, beat_times_s), 1, len(guide_s) - 1)
    nearest = np.where(
        np.abs(guide_s[j - 1] - beat_times_s) <= np.abs(guide_s[j] - beat_times_s),
        guide_s[j - 1],
        guide_s[j],
    )
    d = nearest - beat_times_s
    agree = np.abs(d) <= SNAP_S
    if agree.sum() < MIN_AGREEING_BEATS:
        return beat_times_s
    shift = float(np.clip(np.median(d[agree]), -MAX_PHASE_SHIFT_S, MAX_PHASE_SHIFT_S))
    log.debug("plan beats: %d take the live beat, the rest move %+.1f ms", agree.sum(), shift * 1e3)
    return _increasing(np.where(agree, nearest, beat_times_s + shift))


def phase_from_onsets(
    beat_times_s: FloatArray, env: FloatArray, *, frame_rate_hz: float
) -> FloatArray:
    """Check each beat against the onset it marks; bridge the stretches with nothing to hear.

    How late the onset envelope peaks after a beat is the same for most beats of a song (the
    attack's rise through the envelope's frames): the median is the song's usual lag, and a
    beat's onset is the envelope's highest peak within `ONSET_REACH` of a period of the beat
    plus that lag (a syncopated sixteenth's peak before the beat stays outside). The lag changes
    with the instruments, so it is a median over `LAG_WINDOW_BEATS` either side. A heard beat
    whose own peak says it is more than `ONSET_TOLERANCE_S` off moves onto it, like a
    neighbour beside it (the live clock re-locking after a break), in a song whose onsets mark
    its beats (`ONSET_AGREEMENT_SHARE`). Runs of at least `BRIDGE_MIN_BEATS` beats with
    nothing heard (a breakdown of pads) are spaced evenly between the heard beats either side:
    the music keeps its tempo through a breakdown while a causal clock drifts.

    Args:
        beat_times_s: the live stage's beats, increasing (on the attacks).
        env: the onset envelope of the song.
        frame_rate_hz: its frames per second.

    Returns:
        The beats (any that came to overlap another dropped).
    """
    if len(beat_times_s) < 4:
        return beat_times_s
    usual_lag_s = 0.0
    for _ in range(2):  # the usual lag, then each beat's onset looked for around it
        peak_s, strength, found = _onset_peaks(
            beat_times_s + usual_lag_s, env, frame_rate_hz=frame_rate_hz
        )
        heard = found & (strength >= HEARD_SHARE * float(np.median(strength)))
        if heard.sum() < 4:
            return beat_times_s
        lag_s = peak_s - beat_times_s
        usual_lag_s = float(np.median(lag_s[heard]))
    off_s = lag_s - _local_median(lag_s, heard, default=usual_lag_s)
    agreement = float(np.mean(np.abs(off_s[heard]) <= ONSET_TOLERANCE_S))
    if agreement < ONSET_AGREEMENT_SHARE:
        log.debug("live beats: %.2f of the onsets at the usual lag: none moved", agreement)
        return _increasing(_bridge(beat_times_s, heard))
    # the live clock's phase errors last beats (it drifts, it re-locks); one beat alone whose
    # window caught another instrument's onset does not move
    like = heard[1:] & heard[:-1] & (np.abs(np.diff(off_s)) <= ONSET_TOLERANCE_S)
    like_a_neighbour = np.concatenate([like, [False]]) | np.concatenate([[False], like])
    move = heard & like_a_neighbour & (np.abs(off_s) > ONSET_TOLERANCE_S)
    times_s = np.where(move, beat_times_s + off_s, beat_times_s)
    bridged = _bridge(times_s, heard)
    log.debug(
        "live beats: %d moved onto their onsets, %d of %d unheard bridged",
        move.sum(),
        np.sum(bridged != times_s),
        np.sum(~heard),
    )
    return _increasing(bridged)


def phase_before_lock(
    beat_times_s: FloatArray, guide_s: FloatArray, env: FloatArray, *, frame_rate_hz: float
) -> FloatArray:
    """Place the plan's beats before the live tracker locked from the locked part, backwards.

    The live tracker declares beats only after it has heard a few, and its first ones wobble
    (the learned guide's first six on the drum-less folk song 33-73 ms early, where the plan took
    them); before its first beat the plan has only the DP's, on envelope frames that lag the
    attacks (40-80 ms late after the shift `phase_from_guide` gives them). The plan hears the whole
    song, so it places those beats as the locked tracker would have: the lock is the first run of
    `LOCK_BEATS` steady intervals at the plan's level, and from it the beats step back one locked
    period at a time, each moved onto an onset heard within `LEAD_IN_REACH_S` of where the step
    puts it (the onset's usual lag after a locked live beat taken off), which re-anchors the next
    step (so a tempo drifting slowly into the lock is followed).

    Args:
        beat_times_s: the plan's beats, increasing (after `phase_from_guide`).
        guide_s: the live tracker's beats, increasing.
        env: the onset envelope of the song.
        frame_rate_hz: its frames per second.

    Returns:
        The beats: those after the lock's first beat as they were, that one and those before it
        stepped back from the lock down to where the plan's first beat was.
    """
    lock = _lock(beat_times_s, guide_s)
    if lock is None:
        return beat_times_s
    run_s = guide_s[lock : lock + LOCK_BEATS + 1]
    # medians, not a line fit: the run's first beat may still carry some of the wobble
    period_s = float(np.median(np.diff(run_s)))
    start_s = float(np.median(run_s - period_s * np.arange(len(run_s))))
    lag_frames = _usual_lag_frames(run_s, env, frame_rate_hz=frame_rate_hz)
    reach = max(1, round(LEAD_IN_REACH_S * frame_rate_hz))
    _, locked, _ = _peaks_within(run_s * frame_rate_hz + lag_frames, env, reach_frames=reach)
    heard = HEARD_SHARE * float(np.median(locked))
    # the lock's own beat is placed too: it may still carry some of the wobble
    kept = beat_times_s[beat_times_s > start_s + period_s / 2]
    earliest_s = beat_times_s[0] - period_s / 2
    if len(kept) == 0:
        return beat_times_s
    placed: list[float] = []
    at_s = start_s + period_s
    # a song's first beat on its first sample may step back to a few ms before it
    while at_s - period_s >= max(earliest_s, -LEAD_IN_REACH_S):
        at_s -= period_s
        peak, height, found = _peaks_within(
            np.array([at_s * frame_rate_hz + lag_frames]), env, reach_frames=reach
        )
        if found[0] and height[0] >= heard:
            at_s = (float(peak[0]) - lag_frames) / frame_rate_hz
        placed.append(max(at_s, 0.0))
    log.debug(
        "plan beats before the live lock at %.2f s: %d placed from it backwards", start_s,
        len(placed),
    )  # fmt: skip
    return _increasing(np.concatenate([np.asarray(placed[::-1], dtype=np.float64), kept]))


def _lock(beat_times_s: FloatArray, guide_s: FloatArray) -> int | None:
    """The first guide beat of `LOCK_BEATS` steady intervals in a row at the plan's level, among
    the first `LOCK_SEARCH_BEATS`; None when there is none."""
    if len(guide_s) < LOCK_BEATS + 2 or len(beat_times_s) < 2:
        return None
    gaps_s = np.diff(guide_s)
    steady = np.abs(np.diff(gaps_s)) <= LOCK_JITTER_S  # gap i+1 like gap i
    plan_gaps_s = np.diff(beat_times_s)
    for first in range(min(LOCK_SEARCH_BEATS, len(gaps_s) - LOCK_BEATS + 1)):
        if not steady[first : first + LOCK_BEATS - 1].all():
            continue
        run_s = guide_s[first : first + LOCK_BEATS + 1]
        inside = (beat_times_s[1:] > run_s[0]) & (beat_times_s[1:] <= run_s[-1])
        plan_period_s = float(np.median(plan_gaps_s[inside])) if inside.any() else np.inf
        if abs(np.log2(np.median(np.diff(run_s)) / plan_period_s)) < np.log2(1.08):
            return first
    return None


def _usual_lag_frames(beats_s: FloatArray, env: FloatArray, *, frame_rate_hz: float) -> float:
    """How many frames after the locked live beats the envelope peaks on average: the peak of
    their beat-synchronous mean, from a frame before to four after (the attack's rise through
    the envelope's frames; another instrument's onsets further off do not pull it)."""
    lags = np.arange(-1.0, 4.01, 0.25)
    positions = beats_s[:, None] * frame_rate_hz + lags[None, :]
    mean = np.interp(positions, np.arange(len(env)), env).mean(axis=0)
    return float(lags[int(np.argmax(mean))])


def _onset_peaks(
    beat_times_s: FloatArray, env: FloatArray, *, frame_rate_hz: float
) -> tuple[FloatArray, FloatArray, npt.NDArray[np.bool_]]:
    """Per beat: the time of the envelope's highest peak within `ONSET_REACH` of a period (to
    a fraction of a frame), its height, and whether it is a peak inside the reach."""
    period_frames = float(np.median(np.diff(beat_times_s))) * frame_rate_hz
    reach = max(1, round(ONSET_REACH * period_frames))
    peak_frames, heights, found = _peaks_within(
        beat_times_s * frame_rate_hz, env, reach_frames=reach
    )
    return peak_frames / frame_rate_hz, heights, found


def _peaks_within(
    frames: FloatArray, env: FloatArray, *, reach_frames: int
) -> tuple[FloatArray, FloatArray, npt.NDArray[np.bool_]]:
    """Per (fractional) frame: where the envelope's highest value within ``reach_frames`` either
    side is (to a fraction of a frame), that value, and whether it is a peak inside the reach (at
    the reach's edge the envelope still rises towards an onset that belongs to something else)."""
    centre = np.round(frames).astype(np.int64)
    windows = centre[:, None] + np.arange(-reach_frames, reach_frames + 1)[None, :]
    inside = (windows >= 0) & (windows < len(env))
    values = np.where(inside, env[np.clip(windows, 0, len(env) - 1)], -np.inf)
    best = np.argmax(values, axis=1)
    found = (best > 0) & (best < 2 * reach_frames) & inside.all(axis=1)
    peak_frames = windows[np.arange(len(windows)), best]
    peak_frames = peak_frames + subframe(env, np.clip(peak_frames, 0, len(env) - 1))
    return peak_frames, values[np.arange(len(values)), best], found


def _local_median(
    values: FloatArray, valid: npt.NDArray[np.bool_], *, default: float
) -> FloatArray:
    """Per beat, the median of the valid values within `LAG_WINDOW_BEATS` either side (``default``
    where fewer than four are valid)."""
    out = np.full(len(values), default)
    for i in range(len(values)):
        lo, hi = max(0, i - LAG_WINDOW_BEATS), i + LAG_WINDOW_BEATS + 1
        near = values[lo:hi][valid[lo:hi]]
        if len(near) >= 4:
            out[i] = float(np.median(near))
    return out


def _bridge(times_s: FloatArray, heard: npt.NDArray[np.bool_]) -> FloatArray:
    """Space each run of unheard beats evenly between the heard beats either side, where those
    are a whole number of the run's periods apart (within `BRIDGE_TEMPO_TOLERANCE`)."""
    out = times_s.copy()
    anchors = np.flatnonzero(heard)
    for a, b in itertools.pairwise(anchors):
        if b - a <= BRIDGE_MIN_BEATS:
            continue
        step_s = (times_s[b] - times_s[a]) / (b - a)
        period_s = float(np.median(np.diff(times_s[a : b + 1])))
        if abs(step_s / period_s - 1.0) <= BRIDGE_TEMPO_TOLERANCE:
            out[a + 1 : b] = times_s[a] + step_s * np.arange(1, b - a)
    return out


def _increasing(times_s: FloatArray) -> FloatArray:
    """The beats at or after 0 s, without one that came within a tenth of a period of the one
    before it."""
    if len(times_s) < 2:
        return times_s[times_s >= 0.0]
    keep = (times_s >= 0.0) & np.concatenate(
        [[True], np.diff(times_s) > 0.1 * np.median(np.diff(times_s))]
    )
    return times_s[keep]
