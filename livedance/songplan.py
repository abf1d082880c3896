"""The song plan: what the choreographer knows about a song before it plays.

Produced offline by song analysis (`offline.analysis`) or, until a plan exists, by the live beat
tracker run over the whole file; consumed by the choreographer. Serialised as versioned JSON
(schema in README), cached by the audio's content hash.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from livedance.errors import LivedanceError

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class AudioIdentity:
    """Which audio a plan belongs to."""

    sha256: str
    duration_s: float
    sample_rate: int
    channels: int = 1


@dataclass(frozen=True)
class BeatInterval:
    """One beat interval and the music's features over it (what chooses the action)."""

    start_s: float
    end_s: float
    rms_db: float
    centroid_hz: float
    downbeat: bool = False
    """The interval starts a bar (live: counted from the operator's "this is the one")."""

    @property
    def interval_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True)
class Section:
    """A stretch of the song; when it repeats an earlier section, which one and how far back.

    Attributes:
        start_s, end_s: bounds, snapped to beats.
        label: letter of its kind (``A``, ``B``, ...); repeats share the letter.
        repeats: index (into the plan's sections) of the earlier section this one repeats.
        lag_s: time from that earlier occurrence to this one.
    """

    start_s: float
    end_s: float
    label: str
    repeats: int | None = None
    lag_s: float | None = None


@dataclass(frozen=True)
class SongPlan:
    """Beats, per-beat features and repeated sections of one song."""

    audio: AudioIdentity
    tempo_bpm: float
    beat_times_s: tuple[float, ...]
    intervals: tuple[BeatInterval, ...]
    sections: tuple[Section, ...] = ()
    downbeat_times_s: tuple[float, ...] = ()
    source: str = "unknown"
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def to_json(self) -> dict[str, Any]:
        """The plan as a JSON-ready dict with ``schema_version``."""
        return {
            "schema_version": SCHEMA_VERSION,
            "source": self.source,
            "audio": vars(self.audio),
            "tempo_bpm": self.tempo_bpm,
            "beat_times_s": list(self.beat_times_s),
            "downbeat_times_s": list(self.downbeat_times_s),
            # a plan's bars are its downbeat_times_s; `downbeat` is the live stage's
            "intervals": [
                {k: v for k, v in vars(i).items() if k != "downbeat"} for i in self.intervals
            ],
            "sections": [vars(s) for s in self.sections],
            "extra": self.extra,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SongPlan:
        """Parse a plan dict.

        Raises:
            LivedanceError: an unknown schema, missing fields, or contents no analysis makes
                (beats out of order or outside the song, intervals that are not beats).
        """
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            raise LivedanceError(
                f"song plan schema {version!r} is not supported"
                f" (this livedance reads {SCHEMA_VERSION})"
            )
        try:
            plan = cls(
                audio=AudioIdentity(**data["audio"]),
                tempo_bpm=float(data["tempo_bpm"]),
                beat_times_s=tuple(float(t) for t in data["beat_times_s"]),
                intervals=tuple(BeatInterval(**i) for i in data["intervals"]),
                sections=tuple(Section(**s) for s in data.get("sections", [])),
                downbeat_times_s=tuple(float(t) for t in data.get("downbeat_times_s", [])),
                source=str(data.get("source", "unknown")),
                extra=dict(data.get("extra", {})),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise LivedanceError(f"song plan is malformed: {exc}") from None
        problem = plan.problem()
        if problem is not None:
            raise LivedanceError(f"song plan is malformed: {problem}")
        return plan

    def problem(self) -> str | None:
        """What makes this plan impossible, or None: the checks a plan read from disk must pass."""
        end_s = self.audio.duration_s + 1.0  # beats are rounded; a grid may end just past
        beats = self.beat_times_s
        if not math.isfinite(self.tempo_bpm) or self.tempo_bpm <= 0:
            return f"tempo {self.tempo_bpm} is not a tempo"
        for name, times in (("beat", beats), ("downbeat", self.downbeat_times_s)):
            if any(not (math.isfinite(t) and 0.0 <= t <= end_s) for t in times):
                return f"a {name} time lies outside the song (0..{self.audio.duration_s:.1f} s)"
            if any(b <= a for a, b in itertools.pairwise(times)):
                return f"{name} times are not in increasing order"
        for i in self.intervals:
            if not (0.0 <= i.start_s < i.end_s <= end_s):
                return f"beat interval {i.start_s}..{i.end_s} s is not a stretch of the song"
        if any(b.start_s < a.start_s for a, b in itertools.pairwise(self.intervals)):
            return "beat intervals are not in time order"
        for sec in self.sections:
            if not (0.0 <= sec.start_s < sec.end_s <= end_s):
                return f"section {sec.label} at {sec.start_s}..{sec.end_s} s is outside the song"
            if sec.repeats is not None and not 0 <= sec.repeats < len(self.sections):
                return f"section {sec.label} repeats section {sec.repeats}, which does not exist"
        return None

    def save(self, path: Path) -> None:
        """Write the plan atomically (a crash never leaves half a file)."""
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=1))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> SongPlan:
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise LivedanceError(f"{path}: no such song plan") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise LivedanceError(f"{path}: not a song plan JSON ({exc})") from None
        return cls.from_json(data)

    def section_at(self, t_s: float) -> Section | None:
        """The section containing time ``t_s``, if any."""
        for section in self.sections:
            if section.start_s <= t_s < section.end_s:
                return section
        return None
