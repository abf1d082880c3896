"""The live recording's sound: line-in samples copied to a temporary WAV by the show loop.

DESIGN.md live path, beside the recorder: the audio callback only fills the line-in ring (as
always); once per frame the show loop copies the samples that arrived since the last frame from
the ring (`RingBuffer.peek`, which consumes nothing the beat tracker needs) into a 16-bit WAV.
Sample 0 of the WAV is the input time of the first recorded frame, and the WAV is cut or padded to
exactly the video's length, so `VideoRecorder.close` can mux it in aligned.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soundfile as sf

from livedance.audio.linein import RingBuffer

log = logging.getLogger(__name__)


class InputAudioTap:
    """Copies the line-in from ``start_s`` on into a temporary WAV, a frame's worth at a time.

    Args:
        ring: the line-in ring (its absolute sample ``n`` is input time ``n / sample_rate``).
        sample_rate: Hz.
        start_s: input time of the first recorded frame (the WAV's time 0).
        now: the input clock (`LineIn.now`), to wait for the last samples at the end.
    """

    def __init__(
        self, ring: RingBuffer, sample_rate: int, start_s: float, now: Callable[[], float]
    ) -> None:
        self.ring = ring
        self.sample_rate = int(sample_rate)
        self.start_s = float(start_s)
        self.start_sample = round(start_s * self.sample_rate)
        self._now = now
        self._cursor = self.start_sample
        self.lost_samples = 0  # fell out of the ring before they were copied (written as silence)
        self._chunk = np.zeros(max(1, ring.capacity // 4), np.float32)
        self._tmpdir = tempfile.TemporaryDirectory(prefix="livedance-linein-")
        self.path = Path(self._tmpdir.name) / "linein.wav"
        self._file = sf.SoundFile(
            str(self.path), "w", samplerate=self.sample_rate, channels=1, subtype="PCM_16"
        )

    @property
    def samples_written(self) -> int:
        return self._cursor - self.start_sample

    def pull(self, until_s: float) -> None:
        """Append the samples up to input time ``until_s`` that have arrived (call every frame)."""
        end = min(round(until_s * self.sample_rate), self.ring.written)
        while self._cursor < end:
            oldest = self.ring.written - self.ring.capacity
            if self._cursor < oldest:  # the show stalled longer than the ring holds
                gap = min(end, oldest) - self._cursor
                self._file.write(np.zeros(gap, np.float32))
                self.lost_samples += gap
                self._cursor += gap
                continue
            n = min(end - self._cursor, len(self._chunk))
            out = self._chunk[:n]
            if not self.ring.peek(self._cursor, out):
                continue  # overwritten while copied: the next pass counts it as lost
            self._file.write(out)
            self._cursor += n

    def finish(self, duration_s: float, wait_s: float = 0.3) -> Path:
        """Close the WAV at exactly ``duration_s`` (silence pads what never arrived); its path.

        Args:
            duration_s: the video's length.
            wait_s: how long to wait for the last samples to come in.
        """
        end_s = self.start_sample / self.sample_rate + duration_s
        deadline = time.perf_counter() + wait_s
        while self._now() < end_s and time.perf_counter() < deadline:
            time.sleep(0.005)
        self.pull(end_s)
        missing = round(duration_s * self.sample_rate) - self.samples_written
        if missing > 0:
            self._file.write(np.zeros(missing, np.float32))
            self._cursor += missing
        self._file.close()
        if self.lost_samples:
            log.warning(
                "recording: %.2f s of input were gone from the ring when copied (the show "
                "stalled): written as silence",
                self.lost_samples / self.sample_rate,
            )
        return self.path

    def cleanup(self) -> None:
        """Delete the temporary WAV."""
        if not self._file.closed:
            self._file.close()
        self._tmpdir.cleanup()
