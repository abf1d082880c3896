"""A shared-memory ring of video frames: the show writes, another program on the machine reads.

The lowest-latency way to hand frames to a VJ tool's script (a TouchDesigner Script TOP, an OBS
Python source, a Processing sketch over a small C reader) on the same machine: no copy through
the kernel, no encoder. POSIX shared memory (``/dev/shm/NAME``, Python's
`multiprocessing.shared_memory`), laid out as below, all little-endian:

    header, 64 bytes:  magic "LDRING01", width u32, height u32, channels u32, entries u32,
                       frame_bytes u64, latest u64 (frames written so far; 0: none), padding
    entry i, at 64 + i * (32 + frame_bytes):
                       seq u64 (2k - 1 while frame k is written, 2k when it is whole),
                       slot i64 (the show's display slot), written_ns u64 (CLOCK_MONOTONIC),
                       padding, then the pixels (height x width x channels, row-major)

Frame k (from 1) lives in entry ``(k - 1) % entries``. A reader takes ``latest``, copies that
entry and keeps it only if ``seq`` read before and after is the same even number, so a frame
overwritten while it was copied is never shown torn. The writer never waits for readers.
"""

from __future__ import annotations

import contextlib
import logging
import struct
import time
from dataclasses import dataclass
from multiprocessing import resource_tracker, shared_memory

import numpy as np
import numpy.typing as npt

from livedance.errors import LivedanceError

log = logging.getLogger(__name__)

MAGIC = b"LDRING01"
_HEADER = struct.Struct("<8sIIIIQQ")
HEADER_BYTES = 64
_ENTRY = struct.Struct("<QqQ")
ENTRY_HEADER_BYTES = 32
_LATEST_AT = 32  # offset of `latest` in the header


@dataclass(frozen=True)
class RingFrame:
    """One frame read from the ring.

    Attributes:
        number: the frame's number (1, 2, ...: frames written so far when it was written).
        slot: the show's display slot.
        written_ns: when the show wrote it, ``time.monotonic_ns()`` (CLOCK_MONOTONIC).
        pixels: ``(height, width, channels)`` uint8, a copy.
    """

    number: int
    slot: int
    written_ns: int
    pixels: npt.NDArray[np.uint8]


class RingWriter:
    """Creates the ring ``name`` and writes frames into it (the show's side).

    Args:
        name: the shared memory's name (``/dev/shm/NAME`` on Linux).
        width_px, height_px, channels: the frames' shape.
        entries: frames kept (a reader that falls behind skips to the newest).

    Raises:
        LivedanceError: the shared memory cannot be made.
    """

    def __init__(
        self, name: str, width_px: int, height_px: int, channels: int, *, entries: int = 4
    ) -> None:
        self.name, self.entries = name, int(entries)
        self.shape = (int(height_px), int(width_px), int(channels))
        self.frame_bytes = int(np.prod(self.shape))
        self.stride = ENTRY_HEADER_BYTES + self.frame_bytes
        size = HEADER_BYTES + self.entries * self.stride
        try:
            self.shm = shared_memory.SharedMemory(name, create=True, size=size)
        except FileExistsError:  # left by a show that crashed: a ring has one writer
            log.warning("shared memory %r existed; replacing it", name)
            _unlink(name)
            self.shm = _create(name, size)
        except OSError as exc:
            raise LivedanceError(f"--output shm:{name}: cannot create it ({exc})") from None
        buf = self.shm.buf
        assert buf is not None
        self.buf = buf
        _HEADER.pack_into(self.buf, 0, MAGIC, *self.shape[1::-1], self.shape[2], self.entries,
                          self.frame_bytes, 0)  # fmt: skip
        self.written = 0

    def write(self, slot: int, pixels: npt.NDArray[np.uint8]) -> None:
        """Write one frame (``pixels`` of the ring's shape) as the newest."""
        k = self.written + 1
        at = HEADER_BYTES + ((k - 1) % self.entries) * self.stride
        buf = self.buf
        struct.pack_into("<Q", buf, at, 2 * k - 1)
        view = np.ndarray(self.shape, np.uint8, buffer=buf, offset=at + ENTRY_HEADER_BYTES)
        view[...] = pixels
        _ENTRY.pack_into(buf, at, 2 * k, int(slot), time.monotonic_ns())
        struct.pack_into("<Q", buf, _LATEST_AT, k)
        self.written = k

    def close(self) -> None:
        """Remove the ring (readers see it vanish)."""
        del self.buf
        self.shm.close()
        with contextlib.suppress(FileNotFoundError):
            self.shm.unlink()


class RingReader:
    """Attaches to the ring ``name`` and reads its newest frames (a receiver's side).

    Raises:
        LivedanceError: no such ring, or not a livedance ring.
    """

    def __init__(self, name: str) -> None:
        try:
            self.shm = shared_memory.SharedMemory(name)
        except FileNotFoundError:
            raise LivedanceError(f"no shared-memory ring {name!r} (is the show running?)") from None
        # Python < 3.13 registers an attached segment for removal at exit: the writer owns it
        resource_tracker.unregister(self.shm._name, "shared_memory")  # type: ignore[attr-defined]
        buf = self.shm.buf
        assert buf is not None
        self.buf = buf
        magic, w, h, c, entries, frame_bytes, _ = _HEADER.unpack_from(buf, 0)
        if magic != MAGIC:
            self.close()
            raise LivedanceError(f"shared memory {name!r} is not a livedance ring")
        self.shape, self.entries, self.frame_bytes = (h, w, c), entries, frame_bytes
        self.stride = ENTRY_HEADER_BYTES + frame_bytes
        self.last = 0

    @property
    def latest(self) -> int:
        """Frames the writer has written so far."""
        return int(struct.unpack_from("<Q", self.buf, _LATEST_AT)[0])

    def read(self) -> RingFrame | None:
        """The newest frame if it is newer than the last one read, else None."""
        k = self.latest
        if k <= self.last:
            return None
        at = HEADER_BYTES + ((k - 1) % self.entries) * self.stride
        seq, slot, written_ns = _ENTRY.unpack_from(self.buf, at)
        view = np.ndarray(self.shape, np.uint8, buffer=self.buf, offset=at + ENTRY_HEADER_BYTES)
        pixels = view.copy()
        again = struct.unpack_from("<Q", self.buf, at)[0]
        if seq != 2 * k or again != seq:  # overwritten meanwhile: the next read gets a newer one
            return None
        self.last = k
        return RingFrame(k, slot, written_ns, pixels)

    def wait(self, timeout_s: float, poll_s: float = 0.0005) -> RingFrame | None:
        """The next new frame, polling every ``poll_s``; None after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while True:
            frame = self.read()
            if frame is not None or time.monotonic() > deadline:
                return frame
            time.sleep(poll_s)

    def close(self) -> None:
        del self.buf
        self.shm.close()


def _create(name: str, size: int) -> shared_memory.SharedMemory:
    try:
        return shared_memory.SharedMemory(name, create=True, size=size)
    except OSError as exc:
        raise LivedanceError(f"--output shm:{name}: cannot create it ({exc})") from None


def _unlink(name: str) -> None:
    try:
        stale = shared_memory.SharedMemory(name)
    except FileNotFoundError:
        return
    stale.close()
    stale.unlink()  # also unregisters it from the resource tracker
