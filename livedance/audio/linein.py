"""Line-in: a sound card input feeding the causal beat tracker, for the `live` show.

DESIGN.md data flow for live input: sounddevice InputStream callback -> `RingBuffer` (preallocated,
single producer / single consumer, no allocation or locks in the callback) -> analysis thread
(`LineIn`) feeding `BeatTracker.process` hop by hop -> `BeatClock` predictions and `BeatEvent`s
(queued for the show, which extends the choreography beat by beat). The master clock of a live
show is the input timeline: `LineIn.now()` reads it off the computer's clock between blocks and
through a held-up callback (`livedance.audio.inputclock.InputClock`); `LineIn.captured_s()` is the
time of the newest sample captured. An input that goes away (unplugged, the sound server
restarting, or no block for `STALL_S`) is reopened until it returns; meanwhile the input clock runs
on, and the stretch the device was away is silence on the input timeline, so what the show
records and analyses after it stays at its time.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from typing import Any

import numpy as np
import numpy.typing as npt

from livedance.audio.beats import DEFAULT_HOP, BeatEvent, BeatTracker
from livedance.audio.device import import_sounddevice
from livedance.audio.inputclock import InputClock
from livedance.audio.temporange import DEFAULT_TEMPO, TempoRange
from livedance.errors import LivedanceError

log = logging.getLogger(__name__)

WARNING_SHOW_S = 3.0
"""How long the HUD shows an input warning (an overflow) after the last one."""

STALL_S = 1.0
"""An open input that delivers no block for this long is lost (and reopened)."""

START_S = 5.0
"""A newly opened input may take this long to deliver its first block (a sound server waking a
suspended source can take over a second) before it counts as lost."""


class RingBuffer:
    """Preallocated mono float32 ring: one writer (the audio callback), one reader.

    The writer only advances ``written``; the reader only advances ``read``; each integer store
    is atomic under the GIL, so neither side takes a lock. A reader that falls a whole ring behind
    loses the oldest samples (counted in ``overruns``, and in ``lost`` samples: always whole
    reads, so a reader that counts its reads stays on the timeline).

    Args:
        capacity: samples held (a few seconds).
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = int(capacity)
        self._data = np.zeros(self.capacity, dtype=np.float32)
        self.written = 0
        self.read = 0
        self.overruns = 0
        self.lost = 0

    def write_mono(self, block: npt.NDArray[np.float32]) -> None:
        """Append ``block`` of shape (frames, channels), mixed to mono, without allocating."""
        n = block.shape[0]
        start = self.written % self.capacity
        first = min(n, self.capacity - start)
        np.mean(block[:first], axis=1, out=self._data[start : start + first])
        if first < n:
            np.mean(block[first:], axis=1, out=self._data[: n - first])
        self.written += n

    def available(self) -> int:
        return self.written - self.read

    def skip(self, n: int) -> None:
        """``n`` samples that were never captured (the device was away): silence on the timeline.

        Called by the reader's thread while no callback writes; the reader does not read them
        (it moves on by ``n`` too, and whoever feeds an analysis from it skips them as well).
        """
        n = int(n)
        if n <= 0:
            return
        start = self.written
        for i in range(max(start, start + n - self.capacity), start + n, self.capacity):
            j = i % self.capacity
            k = min(self.capacity - j, start + n - i)
            self._data[j : j + k] = 0.0
        self.written += n
        self.read += n

    def read_into(self, out: npt.NDArray[np.float32]) -> bool:
        """Fill ``out`` with the next samples; False (nothing taken) when too few are there."""
        n = len(out)
        behind = self.written - self.read - self.capacity
        if behind > 0:  # the writer lapped the reader: skip whole reads past the lost samples
            lost = -(-behind // n) * n
            self.overruns += 1
            self.lost += lost
            self.read += lost
        if self.written - self.read < n:
            return False
        start = self.read % self.capacity
        first = min(n, self.capacity - start)
        out[:first] = self._data[start : start + first]
        out[first:] = self._data[: n - first]
        self.read += n
        return True

    def peek(self, start: int, out: npt.NDArray[np.float32]) -> bool:
        """Copy samples ``start .. start + len(out)`` (absolute indices) without consuming them.

        For readers other than the analysis thread (the show's recorder and repeat memory). False
        (``out`` undefined) when they have not all arrived, or the writer overwrote some of them
        while they were copied.
        """
        n = len(out)
        if start < 0 or start + n > self.written or start < self.written - self.capacity:
            return False
        i = start % self.capacity
        first = min(n, self.capacity - i)
        out[:first] = self._data[i : i + first]
        out[first:] = self._data[: n - first]
        return start >= self.written - self.capacity  # still intact after the copy


class LineIn:
    """An input device analysed live; the master clock of a live show.

    Args:
        device: sounddevice input index or name (None: the default input).
        sample_rate: Hz.
        channels: captured (mixed to mono for analysis).
        blocksize: frames per callback.
        latency: PortAudio latency ("low", "high" or seconds).
        tempo: the tempo range the tracker may follow.
        tracker: a ready tracker (tests); default: a new one at ``sample_rate``.
        ring_s: seconds the ring holds (benchmarks keep a whole take to compare against).
    """

    def __init__(
        self,
        device: int | str | None = None,
        *,
        sample_rate: int = 44100,
        channels: int = 1,
        blocksize: int = DEFAULT_HOP,
        latency: str | float = "low",
        tempo: TempoRange = DEFAULT_TEMPO,
        tracker: BeatTracker | None = None,
        ring_s: float = 4.0,
    ) -> None:
        self._sd = import_sounddevice()
        self.device = device
        self.sample_rate = int(sample_rate)
        self.channels = int(channels)
        self.blocksize = int(blocksize)
        self.latency = latency
        self.tracker = tracker or BeatTracker(self.sample_rate, tempo=tempo)
        self.clock = self.tracker.clock
        self.ring = RingBuffer(int(self.sample_rate * ring_s))
        self.input_clock = InputClock(self.sample_rate)
        self.events: queue.Queue[BeatEvent] = queue.Queue(maxsize=256)
        self.beats_seen = 0
        self.error: str | None = None
        self.statuses = 0
        self._last_status: Any = None
        self._statuses_seen = self._overruns_seen = 0
        self._warning: str | None = None
        self._warning_until_s = 0.0
        self._wall = time.monotonic
        self._opened_wall_s = 0.0
        self._reopened = False  # reopened after a loss, the outage not yet skipped
        self._last_block_wall_s: float | None = None  # None: no block since the input opened
        self._lost_seen = 0  # ring samples lost to overruns that the tracker skipped
        self._stream: Any = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> LineIn:
        """Open the input and start the analysis thread.

        Raises:
            LivedanceError: no such input device, or it cannot be opened.
        """
        self._open()
        self._thread = threading.Thread(target=self._analyse, name="livedance-linein", daemon=True)
        self._thread.start()
        return self

    def now(self) -> float:
        """Input time now, seconds: the live master clock (smooth; see `InputClock`)."""
        return self.input_clock.now()

    def captured_s(self) -> float:
        """Input time of the newest sample captured: audio up to here can be read."""
        return self.ring.written / self.sample_rate

    def stop(self) -> None:
        """Stop the analysis thread and close the input."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        self._close()

    def _open(self) -> None:
        sd = self._sd
        try:
            info = sd.query_devices(self.device, "input")
        except (ValueError, sd.PortAudioError) as exc:
            raise LivedanceError(
                f"no audio input device {self.device!r} ({exc}); see `livedance devices`"
            ) from None
        try:
            self._stream = sd.InputStream(
                samplerate=self.sample_rate,
                channels=self.channels,
                dtype="float32",
                device=self.device,
                blocksize=self.blocksize,
                latency=self.latency,
                callback=self._callback,
            )
            self._opened_wall_s = self._wall()
            self._last_block_wall_s = None
            self._stream.start()
        except sd.PortAudioError as exc:
            self._stream = None
            raise LivedanceError(f"cannot open audio input {info['name']!r} ({exc})") from None
        self.error = None
        log.info("listening on %s at %d Hz", info["name"], self.sample_rate)

    def _close(self) -> None:
        if self._stream is not None:
            try:
                self._stream.abort()
                self._stream.close()
            except self._sd.PortAudioError:
                pass
            self._stream = None

    @property
    def problem(self) -> str | None:
        """What is wrong with the input now, for the HUD: the device lost, or recent trouble
        (PortAudio status flags such as an overflow, or the analysis falling behind)."""
        if self.error is not None:
            return self.error
        if self._warning is not None and self._wall() < self._warning_until_s:
            return self._warning
        return None

    def _callback(self, indata: Any, frames: int, time_info: Any, status: Any) -> None:
        if status:
            self.statuses += 1  # overflow and friends: reported by the analysis thread
            self._last_status = status
        self._last_block_wall_s = self._wall()
        if self._reopened:  # the analysis thread first skips the outage on the input timeline
            return
        self.ring.write_mono(indata)
        self.input_clock.block(self.ring.written)

    def _check_status(self) -> None:
        """Report new status flags and ring overruns: on the HUD for `WARNING_SHOW_S`, and in
        the log once per spell of them (not once per block)."""
        statuses, overruns = self.statuses, self.ring.overruns
        if statuses == self._statuses_seen and overruns == self._overruns_seen:
            return
        parts = []
        if statuses != self._statuses_seen:
            parts.append(f"{self._last_status} ({statuses} so far)")
        if overruns != self._overruns_seen:
            parts.append(f"the analysis fell behind the input ({overruns} times so far)")
        self._statuses_seen, self._overruns_seen = statuses, overruns
        showing = self.problem is not None
        self._warning = "audio input: " + "; ".join(parts)
        self._warning_until_s = self._wall() + WARNING_SHOW_S
        if not showing:
            log.warning("%s", self._warning)

    def _analyse(self) -> None:
        hop = np.zeros(self.tracker.hop_samples, dtype=np.float32)
        while not self._stop.is_set():
            if self._stream is None or not self._stream.active or self._stalled():
                self._reconnect()
                continue
            if self._reopened and self._last_block_wall_s is not None:
                self._skip_outage()
            self._check_status()
            if not self.ring.read_into(hop):
                time.sleep(0.002)
                continue
            if self.ring.lost != self._lost_seen:  # keep the tracker's time on the input's
                self.tracker.skip((self.ring.lost - self._lost_seen) // len(hop))
                self._lost_seen = self.ring.lost
            event = self.tracker.process(hop)
            if event is not None:
                self.beats_seen += 1
                with contextlib.suppress(queue.Full):  # an undrained queue: newest beats matter
                    self.events.put_nowait(event)

    def _skip_outage(self) -> None:
        """The reopened device delivers: the time it was away becomes silence on the input
        timeline (the ring and the tracker skip it, in whole hops), then its blocks go in."""
        hop = self.tracker.hop_samples
        gap = round(self.input_clock.now() * self.sample_rate) - self.ring.written
        if gap > 0:
            gap = -(-gap // hop) * hop
            self.ring.skip(gap)
            self.tracker.skip(gap // hop)
        self._reopened = False

    def _stalled(self) -> bool:
        last_s = self._last_block_wall_s
        if last_s is None:
            return self._wall() - self._opened_wall_s > START_S
        return self._wall() - last_s > STALL_S

    def _reconnect(self) -> None:
        """The device went away: report it, idle the beat clock, and poll until it returns.

        Meanwhile the input clock runs on. Once the device is back, its blocks are dropped until
        the analysis thread has skipped the time it was away (`_skip_outage`).
        """
        if self.error is None:
            self.error = "audio input lost; waiting for the device"
            log.warning("%s", self.error)
            self.input_clock.lost()
            self.clock.stop(self.tracker.time_s)
        self._close()
        if self._stop.wait(1.0):
            return
        try:
            self._reopened = True
            self._open()
        except LivedanceError as exc:
            self.error = str(exc)
