"""Audio in: decode any common file into float32 samples, with clear errors for bad input.

The file source of DESIGN.md's live data flow and the input of song analysis. libsndfile (via
soundfile) reads wav, flac, ogg and mp3; anything else is decoded by ffmpeg.
"""

from __future__ import annotations

import hashlib
import logging
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import soundfile as sf

from livedance.errors import LivedanceError
from livedance.ffmpeg import ffmpeg_exe

log = logging.getLogger(__name__)

SILENCE_DBFS = -60.0
"""A file whose peak is below this is treated as silent."""


def peak_dbfs(samples: npt.NDArray[np.float32]) -> float:
    """The peak of ``samples`` in dBFS (-inf when empty or all zero); max and min copy nothing."""
    if samples.size == 0:
        return float("-inf")
    peak = max(float(samples.max()), -float(samples.min()))
    return 20.0 * np.log10(peak) if peak > 0 else float("-inf")


@dataclass(frozen=True)
class Audio:
    """Decoded audio: ``samples`` float32 ``(n_frames, channels)`` in -1..1 at ``sample_rate``."""

    samples: npt.NDArray[np.float32]
    sample_rate: int
    path: Path | None = None

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate

    @property
    def channels(self) -> int:
        return int(self.samples.shape[1])

    def mono(self) -> npt.NDArray[np.float32]:
        """Channel mean, float32 ``(n_frames,)``."""
        return np.ascontiguousarray(self.samples.mean(axis=1, dtype=np.float32))

    def peak_dbfs(self) -> float:
        return peak_dbfs(self.samples)

    def is_silent(self) -> bool:
        return self.peak_dbfs() < SILENCE_DBFS

    def segment(self, duration_s: float | None) -> Audio:
        """The first ``duration_s`` seconds (all of it for None)."""
        if duration_s is None:
            return self
        n = min(len(self.samples), max(0, round(duration_s * self.sample_rate)))
        return Audio(self.samples[:n], self.sample_rate, self.path)


def load_audio(path: str | Path) -> Audio:
    """Decode an audio file at its own sample rate and channel count.

    Raises:
        LivedanceError: the file is missing, not audio, corrupt or empty.
    """
    p = Path(path)
    if not p.exists():
        raise LivedanceError(f"{p}: no such file")
    if p.is_dir():
        raise LivedanceError(f"{p}: is a folder, not an audio file")
    try:
        samples, sr = sf.read(str(p), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        log.debug("libsndfile cannot read %s (%s); trying ffmpeg", p, exc)
        samples, sr = _decode_with_ffmpeg(p)
    if samples.size == 0:
        raise LivedanceError(f"{p}: the file holds no audio samples")
    if not np.all(np.isfinite(samples)):
        raise LivedanceError(f"{p}: the audio holds invalid (NaN or infinite) samples")
    return Audio(np.ascontiguousarray(samples), int(sr), p)


def _decode_with_ffmpeg(p: Path) -> tuple[npt.NDArray[np.float32], int]:
    probe = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(p)],
        capture_output=True,
        text=True,
        check=False,
    )
    sr, channels = _stream_format(probe.stderr)
    if sr is None:
        raise LivedanceError(f"{p}: not an audio file, or a corrupt one (no audio stream found)")
    proc = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(p),
         "-vn", "-f", "f32le", "-acodec", "pcm_f32le", "-"],
        capture_output=True,
        check=False,
    )  # fmt: skip
    if proc.returncode != 0 or not proc.stdout:
        raise LivedanceError(f"{p}: corrupt audio, ffmpeg could not decode it")
    data = np.frombuffer(proc.stdout, dtype=np.float32)
    return data[: len(data) // channels * channels].reshape(-1, channels).copy(), sr


def _stream_format(ffmpeg_info: str) -> tuple[int | None, int]:
    """Sample rate and channel count of the first audio stream in ffmpeg's ``-i`` banner."""
    for line in ffmpeg_info.splitlines():
        if "Audio:" not in line:
            continue
        sr = None
        for part in line.split(","):
            part = part.strip()
            if part.endswith(" Hz"):
                sr = int(part.split()[0])
        channels = 2 if "stereo" in line else 1 if "mono" in line else 2
        for token in ("5.1", "7.1"):
            if token in line:
                channels = 6 if token == "5.1" else 8
        return sr, channels
    return None, 1


def content_sha256(path: str | Path) -> str:
    """Hash of the file's bytes: the song's identity for caches and plans."""
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_wav(path: str | Path, audio: Audio) -> None:
    """Write 16-bit PCM wav (what ffmpeg muxes and every player reads)."""
    sf.write(str(path), audio.samples, audio.sample_rate, subtype="PCM_16")
