"""The song plan: what the choreographer knows about a song before it plays.

Produced offline by song analysis (`offline.analysis`) or, until a plan exists, by the live beat
tracker run over the whole file; consumed by the choreographer. Serialised as versioned JSON
(schema in README), cached by the audio's content hash.
"""

from __future__ import annotations

import json
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
            "intervals": [vars(i) for i in self.intervals],
            "sections": [vars(s) for s in self.sections],
            "extra": self.extra,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SongPlan:
        """Parse a plan dict; raises LivedanceError on an unknown schema or missing fields."""
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            raise LivedanceError(
                f"song plan schema {version!r} is not supported"
                f" (this livedance reads {SCHEMA_VERSION})"
            )
        try:
            return cls(
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
