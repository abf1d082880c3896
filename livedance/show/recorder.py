"""The recorder: frames piped into ffmpeg as H.264, the song's audio muxed in.

Writes into a temporary file beside the target and renames it into place when ffmpeg finishes,
so an interrupted show still leaves a valid, playable file and never a half-written one under the
requested name.
"""

from __future__ import annotations

import contextlib
import logging
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import numpy.typing as npt

from livedance.audio.io import Audio, write_wav
from livedance.errors import LivedanceError
from livedance.ffmpeg import ffmpeg_exe

log = logging.getLogger(__name__)


class VideoRecorder:
    """Writes BGR frames at a constant ``fps`` to ``path`` (mp4), with ``audio`` muxed in.

    Args:
        path: output file (its folder must exist and be writable).
        fps: frames per second of the file.
        width_px, height_px: frame size.
        audio: the sound to mux (trimmed to the video's length); None for a silent video.
    """

    def __init__(
        self, path: str | Path, fps: float, width_px: int, height_px: int, audio: Audio | None
    ) -> None:
        self.path = Path(path)
        if not self.path.parent.is_dir():
            raise LivedanceError(
                f"cannot record to {self.path}: folder {self.path.parent} does not exist"
            )
        self.fps = fps
        self.size = (int(width_px), int(height_px))
        self.frames_written = 0
        self._last: npt.NDArray[np.uint8] | None = None
        self._tmpdir = tempfile.TemporaryDirectory(prefix="livedance-rec-")
        self._partial = self.path.with_name(
            f".{self.path.stem}.partial{self.path.suffix or '.mp4'}"
        )
        try:
            self._partial.touch()
        except OSError as exc:
            raise LivedanceError(f"cannot record to {self.path}: {exc.strerror}") from None
        cmd = [
            ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
            "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{width_px}x{height_px}",
            "-r", f"{fps}", "-i", "-",
        ]  # fmt: skip
        if audio is not None:
            wav = Path(self._tmpdir.name) / "audio.wav"
            write_wav(wav, audio)
            cmd += [
                "-i",
                str(wav),
                "-map",
                "0:v",
                "-map",
                "1:a",
                "-c:a",
                "aac",
                "-b:a",
                "192k",
                "-shortest",
            ]
        cmd += [
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p",
            "-movflags", "+faststart", "-f", "mp4", str(self._partial),
        ]  # fmt: skip
        try:
            # its own session: a Ctrl-C in the terminal reaches livedance, which then finishes
            # the file, and not ffmpeg, which would cut it short under our feet
            self._proc = subprocess.Popen(
                cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
            )
        except OSError as exc:
            raise LivedanceError(f"cannot start ffmpeg to record {self.path}: {exc}") from None

    def write(self, frame: npt.NDArray[np.uint8]) -> None:
        """Append one frame (BGR, the recorder's size)."""
        if frame.shape[1::-1] != self.size:
            raise ValueError(f"frame is {frame.shape[1::-1]}, recorder expects {self.size}")
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write(np.ascontiguousarray(frame).tobytes())
        except BrokenPipeError:
            raise LivedanceError(
                f"ffmpeg stopped while recording {self.path}: {self._stderr()}"
            ) from None
        self.frames_written += 1
        self._last = frame

    def write_slot(self, slot: int, frame: npt.NDArray[np.uint8]) -> None:
        """Write ``frame`` as display slot ``slot`` (frame number) of the recording.

        Slots skipped since the last frame written (the renderer could not make them) repeat
        that frame, or this one at the start, so the video keeps the show's timeline.
        """
        filler = self._last if self._last is not None else frame
        while self.frames_written < slot:
            self.write(filler)
        self.write(frame)

    def pad_to(self, n_slots: int) -> None:
        """Repeat the last frame up to ``n_slots`` frames (slots skipped at the very end)."""
        while self._last is not None and self.frames_written < n_slots:
            self.write(self._last)

    def close(self, audio_wav: Path | None = None) -> Path:
        """Finish the file and move it into place; returns its path.

        Args:
            audio_wav: sound known only at the end (the live show's input), muxed in from time 0
                of the first frame; use it on a recorder made with ``audio=None``.
        """
        assert self._proc.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            self._proc.stdin.close()
        code = self._proc.wait()
        if code != 0:
            self._tmpdir.cleanup()
            raise LivedanceError(f"ffmpeg failed to write {self.path}: {self._stderr()}")
        try:
            if audio_wav is not None:
                self._mux(audio_wav)
        finally:
            self._tmpdir.cleanup()
        try:
            self._partial.replace(self.path)
        except OSError as exc:
            raise LivedanceError(f"cannot write {self.path}: {exc}") from None
        log.info("recorded %d frames to %s", self.frames_written, self.path)
        return self.path

    def abort(self) -> None:
        """Stop ffmpeg and leave no file behind (the show never started)."""
        with contextlib.suppress(OSError):
            if self._proc.stdin is not None:
                self._proc.stdin.close()
        self._proc.kill()
        self._proc.wait()
        self._tmpdir.cleanup()
        self._partial.unlink(missing_ok=True)

    def _mux(self, audio_wav: Path) -> None:
        """Replace the partial file by one with ``audio_wav`` as its sound (video copied)."""
        muxed = self._partial.with_name(f".{self.path.stem}.muxed{self._partial.suffix}")
        cmd = [
            ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
            "-i", str(self._partial), "-i", str(audio_wav), "-map", "0:v", "-map", "1:a",
            "-c:v", "copy", "-c:a", "aac", "-b:a", "192k", "-movflags", "+faststart",
            "-f", "mp4", str(muxed),
        ]  # fmt: skip
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            muxed.unlink(missing_ok=True)
            lines = done.stderr.strip().splitlines() or ["no message"]
            raise LivedanceError(f"ffmpeg could not add the sound to {self.path}: {lines[-1]}")
        muxed.replace(self._partial)

    def _stderr(self) -> str:
        err = self._proc.stderr.read().decode(errors="replace") if self._proc.stderr else ""
        return err.strip().splitlines()[-1] if err.strip() else "no message"
