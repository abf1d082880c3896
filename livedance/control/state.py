"""What the operator has set: the show's control state, updated purely from commands.

The show holds one `ShowControls` and, once per frame, folds the commands drained from the OSC
inbox into it with `apply_commands`. Settings (intensity, blackout, freeze, HUD) are read every
frame; one-off requests (a tempo, a tapped beat, a nudge, a forced action, a model to load) are
taken with `ShowControls.take_requests` and acted on once. Pure functions over frozen dataclasses,
so the whole control logic, tap tempo included, is tested without sockets or threads.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from livedance.control.commands import (
    MAX_BPM,
    MAX_NUDGE_BEATS,
    MIN_BPM,
    Blackout,
    Command,
    ForceAction,
    Freeze,
    LoadModel,
    MarkOne,
    Nudge,
    ReleaseTempo,
    ScaleTempo,
    SetBeatOffset,
    SetIntensity,
    SetPictureOffset,
    SetTempo,
    ShowHud,
    Tap,
)

TAP_RESET_S = 2.0  # a pause this long starts a new tap-tempo count
TAP_MIN_TAPS = 3  # taps (two intervals) before tap tempo sets a tempo
TAP_MAX_TAPS = 8  # taps remembered: the tempo follows the last few, not the whole song
TAP_BOUNCE_S = 60.0 / MAX_BPM / 2  # taps closer than this are one press bouncing


@dataclass(frozen=True)
class Requests:
    """One-off operator requests not yet acted on.

    Attributes:
        tempo_bpm: set the beat clock to this tempo (from `/tempo` or tap tempo; latest wins).
        release_tempo: end a held tempo (a later tempo in the same frame wins over it).
        tempo_scale: double (2) or halve (0.5) the tempo followed; presses multiply.
        one_at_s: the beat nearest this clock time starts a bar ("this is the one").
        beat_at_s: a beat falls at this clock time (the latest tap): align the beat phase to it.
        nudge_beats: shift the beat phase by this many beats (nudges add up).
        action: dance this action on the next beat interval (`Choreographer.force_next`).
        model: load this generator model (off the render thread: loading takes seconds).
    """

    tempo_bpm: float | None = None
    release_tempo: bool = False
    tempo_scale: float = 1.0
    one_at_s: float | None = None
    beat_at_s: float | None = None
    nudge_beats: float = 0.0
    action: str | None = None
    model: str | None = None

    @property
    def empty(self) -> bool:
        """True when there is nothing to act on."""
        return self == Requests()


@dataclass(frozen=True)
class ShowControls:
    """The operator's settings for the show and their pending requests.

    Attributes:
        intensity: how big the dance is, 0..1 (multiplies each move's intensity).
        blackout: draw black frames instead of the dancer.
        freeze: keep showing the last frame.
        hud: draw the heads-up display.
        picture_offset_ms: the picture's trim against the sound (- earlier).
        beat_offset_ms: the OSC beat output's trim against the sound (- earlier).
        taps_s: recent tap times (tap tempo), oldest first.
        requests: what to act on once (see `take_requests`).
    """

    intensity: float = 1.0
    blackout: bool = False
    freeze: bool = False
    hud: bool = True
    picture_offset_ms: float = 0.0
    beat_offset_ms: float = 0.0
    taps_s: tuple[float, ...] = ()
    requests: Requests = field(default_factory=Requests)

    def take_requests(self) -> tuple[ShowControls, Requests]:
        """Split off the pending requests, for the show to act on them once.

        Returns:
            These controls with no pending requests, and the requests.
        """
        return replace(self, requests=Requests()), self.requests


def apply_command(state: ShowControls, command: Command) -> ShowControls:
    """The controls after one operator command.

    Args:
        state: the controls before.
        command: a validated command (see `livedance.control.commands`).

    Returns:
        The controls after; ``state`` is unchanged.
    """
    req = state.requests
    match command:
        case SetIntensity(value):
            return replace(state, intensity=value)
        case Blackout(on):
            return replace(state, blackout=on)
        case Freeze(on):
            return replace(state, freeze=on)
        case ShowHud(on):
            return replace(state, hud=on)
        case SetPictureOffset(ms):
            return replace(state, picture_offset_ms=ms)
        case SetBeatOffset(ms):
            return replace(state, beat_offset_ms=ms)
        case SetTempo(bpm):
            # A typed tempo overrides what was being tapped.
            return replace(
                state, taps_s=(), requests=replace(req, tempo_bpm=bpm, release_tempo=False)
            )
        case ScaleTempo(factor):
            scale = min(4.0, max(0.25, req.tempo_scale * factor))
            return replace(state, requests=replace(req, tempo_scale=scale, release_tempo=False))
        case MarkOne(t_s):
            return replace(state, requests=replace(req, one_at_s=t_s))
        case ReleaseTempo():
            return replace(
                state,
                taps_s=(),
                requests=replace(req, tempo_bpm=None, tempo_scale=1.0, release_tempo=True),
            )
        case Nudge(beats):
            total = max(-MAX_NUDGE_BEATS, min(MAX_NUDGE_BEATS, req.nudge_beats + beats))
            return replace(state, requests=replace(req, nudge_beats=total))
        case ForceAction(name):
            return replace(state, requests=replace(req, action=name))
        case LoadModel(path):
            return replace(state, requests=replace(req, model=path))
        case Tap(t_s):
            return _tap(state, t_s)
    raise TypeError(f"not a command: {command!r}")


def apply_commands(state: ShowControls, commands: Iterable[Command]) -> ShowControls:
    """The controls after several commands, in order (what the show does once per frame).

    Args:
        state: the controls before.
        commands: e.g. ``OscControl.poll()``.

    Returns:
        The controls after.
    """
    for command in commands:
        state = apply_command(state, command)
    return state


def tap_tempo_bpm(taps_s: Iterable[float]) -> float | None:
    """The tempo a run of taps asks for: 60 / the median interval (robust to one bad tap).

    Args:
        taps_s: tap times in seconds, in order.

    Returns:
        BPM, or None with fewer than `TAP_MIN_TAPS` taps or a tempo out of `MIN_BPM`..`MAX_BPM`.
    """
    taps = list(taps_s)
    if len(taps) < TAP_MIN_TAPS:
        return None
    interval_s = statistics.median(b - a for a, b in itertools.pairwise(taps))
    if interval_s <= 0:
        return None
    bpm = 60.0 / interval_s
    return bpm if MIN_BPM <= bpm <= MAX_BPM else None


def _tap(state: ShowControls, t_s: float) -> ShowControls:
    taps = state.taps_s
    if taps and 0 <= t_s - taps[-1] < TAP_BOUNCE_S:
        return state
    if not taps or not 0 < t_s - taps[-1] <= TAP_RESET_S:
        taps = ()  # a long pause (or a clock that jumped back) starts a new count
    taps = (*taps, t_s)[-TAP_MAX_TAPS:]
    requests = replace(state.requests, beat_at_s=t_s)
    bpm = tap_tempo_bpm(taps)
    if bpm is not None:
        requests = replace(requests, tempo_bpm=bpm)
    return replace(state, taps_s=taps, requests=requests)
