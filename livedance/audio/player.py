"""The file player: plays a song through sounddevice and is the show's master clock.

The audio callback copies the next block of samples out and notes which sample reaches the DAC
when; it allocates nothing, takes no locks and does no I/O. `now()` turns that note into the song
position heard right now.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import numpy as np
import numpy.typing as npt

from livedance.audio.device import NO_AUDIO_HINT, import_sounddevice
from livedance.audio.io import Audio
from livedance.errors import LivedanceError

log = logging.getLogger(__name__)


class AudioPlayer:
    """Plays ``audio`` on an output device; ``now()`` is the playback position in seconds.

    Args:
        audio: what to play (any channel count; more than two is mixed down to stereo).
        device: sounddevice output device index or name (None: the system default).
        blocksize: frames per callback (0 lets PortAudio choose).
    """

    def __init__(self, audio: Audio, device: int | str | None = None, blocksize: int = 512) -> None:
        self._sd = import_sounddevice()
        samples = audio.samples
        if samples.shape[1] > 2:
            samples = np.repeat(samples.mean(axis=1, keepdims=True), 2, axis=1)
        self._samples: npt.NDArray[np.float32] = np.ascontiguousarray(samples, dtype=np.float32)
        self.sample_rate = audio.sample_rate
        self._device = device
        self._blocksize = blocksize
        self._pos = 0  # next frame the callback hands out
        self._anchor: tuple[int, float] = (0, 0.0)  # (frame, stream time it reaches the DAC)
        self._last_now = 0.0
        self._now_lock = threading.Lock()  # now() is read by the render, OSC and show threads
        self._done = threading.Event()
        self._stream: Any = None

    def start(self) -> None:
        """Open the device and start playing (raises LivedanceError if there is no device)."""
        sd = self._sd
        try:
            out = sd.query_devices(self._device, "output")
        except (ValueError, sd.PortAudioError) as exc:
            raise LivedanceError(f"no audio output device ({exc}); {NO_AUDIO_HINT}") from None
        try:
            self._stream = sd.OutputStream(
                samplerate=self.sample_rate,
                channels=self._samples.shape[1],
                dtype="float32",
                device=self._device,
                blocksize=self._blocksize,
                callback=self._callback,
                finished_callback=self._done.set,
            )
            self._stream.start()
        except sd.PortAudioError as exc:
            raise LivedanceError(
                f"cannot play on audio device {out['name']!r} ({exc}); {NO_AUDIO_HINT}"
            ) from None
        log.info("playing on %s at %d Hz", out["name"], self.sample_rate)

    def _callback(self, outdata: Any, frames: int, time_info: Any, status: Any) -> None:
        start = self._pos
        chunk = self._samples[start : start + frames]
        n = len(chunk)
        outdata[:n] = chunk
        if n < frames:
            outdata[n:] = 0
        dac = time_info.outputBufferDacTime or time_info.currentTime
        self._anchor = (start, dac)
        self._pos = start + n
        if n < frames:
            raise self._sd.CallbackStop

    def now(self) -> float:
        """Song position being heard now, in seconds (monotonic)."""
        stream = self._stream
        if stream is None:
            return 0.0
        frame, dac_time = self._anchor  # one tuple, swapped whole by the callback
        t = frame / self.sample_rate
        if dac_time:
            t += stream.time - dac_time
        with self._now_lock:
            t = min(max(t, self._last_now), len(self._samples) / self.sample_rate)
            self._last_now = t
        return t

    @property
    def finished(self) -> bool:
        return self._done.is_set()

    def stop(self) -> None:
        if self._stream is not None:
            self._stream.abort()
            self._stream.close()
            self._stream = None
