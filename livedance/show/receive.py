"""A receiver for the show's video outputs: check at the venue that frames arrive, and how late.

``python -m livedance.show.receive shm:NAME | pipe:PATH [--frames N] [--save OUT.npz]`` attaches
to a running show's ``--output shm:NAME`` or ``--output pipe:PATH,header=1``, reads frames as a VJ
tool would, and prints how many came and how long after their write each was read. The tests
and ``benchmarks/bench_stage.py`` run it as the real receiver process.

``--save`` keeps what was read: ``slots``, ``received_ns`` and ``written_ns`` (both
``time.monotonic_ns()``, one clock for every process on the machine) and the ``frames``.
"""

from __future__ import annotations

import argparse
import os
import select
import sys
import time
from pathlib import Path
from typing import BinaryIO

import numpy as np
import numpy.typing as npt

from livedance.errors import LivedanceError

Received = list[tuple[int, int, int, npt.NDArray[np.uint8]]]
"""(slot, received_ns, written_ns, pixels) per frame read."""


def receive_shm(name: str, frames: int, timeout_s: float) -> Received:
    """Read up to ``frames`` frames from a shared-memory ring; stops when it goes away."""
    from livedance.show.shmring import RingReader

    deadline = time.monotonic() + timeout_s
    reader = None
    while reader is None:  # the show may still be opening it
        try:
            reader = RingReader(name)
        except LivedanceError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)
    got: Received = []
    try:
        while len(got) < frames and time.monotonic() < deadline:
            frame = reader.wait(0.5)
            if frame is None:
                if not Path("/dev/shm", name).exists():
                    break  # the show ended
                continue
            got.append((frame.slot, time.monotonic_ns(), frame.written_ns, frame.pixels))
    finally:
        reader.close()
    return got


def receive_pipe(path: str, frames: int, timeout_s: float) -> Received:
    """Read up to ``frames`` frames, each with its `FRAME_HEADER`, from a named pipe."""
    from livedance.show.videoout import FRAME_HEADER, FRAME_MAGIC

    got: Received = []
    deadline = time.monotonic() + timeout_s
    try:  # a reader's open never blocks, so --timeout holds even when no show ever writes
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise LivedanceError(f"{path}: cannot open ({exc.strerror or exc})") from None
    with open(fd, "rb", buffering=0) as pipe:
        if not select.select([fd], [], [], max(0.0, deadline - time.monotonic()))[0]:
            return got  # no show wrote before the timeout
        os.set_blocking(fd, True)
        while len(got) < frames and time.monotonic() < deadline:
            head = _read_exactly(pipe, FRAME_HEADER.size)
            if head is None:
                break  # the show ended
            magic, w, h, c, _, slot, written_ns = FRAME_HEADER.unpack(head)
            if magic != FRAME_MAGIC:
                raise LivedanceError(f"{path}: not a livedance frame stream (use header=1)")
            pixels = _read_exactly(pipe, w * h * c)
            if pixels is None:
                break
            received_ns = time.monotonic_ns()
            got.append(
                (slot, received_ns, written_ns, np.frombuffer(pixels, np.uint8).reshape(h, w, c))
            )
    return got


def _read_exactly(pipe: BinaryIO, n: int) -> bytes | None:
    data = bytearray()
    while len(data) < n:
        chunk = pipe.read(n - len(data))
        if not chunk:
            return None
        data += chunk
    return bytes(data)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m livedance.show.receive", description=__doc__)
    p.add_argument("source", help="shm:NAME or pipe:PATH (the show's --output, pipe with header=1)")
    p.add_argument("--frames", type=int, default=1 << 30, help="stop after N frames")
    p.add_argument("--timeout", type=float, default=60.0, help="stop after S seconds (60)")
    p.add_argument("--save", type=Path, help="write what was read to this .npz")
    args = p.parse_args(argv)
    kind, _, target = args.source.partition(":")
    try:
        if kind == "shm":
            got = receive_shm(target, args.frames, args.timeout)
        elif kind == "pipe":
            got = receive_pipe(target, args.frames, args.timeout)
        else:
            raise LivedanceError(f"{args.source!r}: expected shm:NAME or pipe:PATH")
    except LivedanceError as exc:
        print(f"receive: error: {exc}", file=sys.stderr)
        return 2
    lat_ms = np.array([(r - w) / 1e6 for _, r, w, _ in got])
    if got:
        median, p99 = np.median(lat_ms), np.percentile(lat_ms, 99)
        print(
            f"{len(got)} frames, slots {got[0][0]}..{got[-1][0]}, "
            f"write to read median {median:.2f} ms, p99 {p99:.2f} ms"
        )
    else:
        print("0 frames")
    if args.save is not None:
        np.savez(
            args.save,
            slots=np.array([g[0] for g in got], np.int64),
            received_ns=np.array([g[1] for g in got], np.int64),
            written_ns=np.array([g[2] for g in got], np.int64),
            frames=np.array([g[3] for g in got]) if got else np.zeros((0, 1, 1, 1), np.uint8),
            pid=os.getpid(),
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
