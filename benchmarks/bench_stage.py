"""Stage outputs benchmark: each output's latency to a real receiver, and what it costs the show.

For each output of ``--output`` (shared-memory ring, named pipe with headers, keyed pipe) and for
the OSC beat output, the real show loop (`run_show`, render-ahead, on the system timer as
``play --mute`` runs) plays a 120 BPM planned dance at 256 px and 30 fps while a separate receiver
process (`python -m livedance.show.receive`, or a python-osc server for the beats) reads what
arrives, stamping it with CLOCK_MONOTONIC, the clock the show's timer runs on:

- latency: from the frame's display slot (the timer's start + slot / fps) to its arrival in the
  receiver; for OSC, from the beat's time to the message's arrival. Median and p99.
- frame rate: frames shown per second of show, with and without the output, runs interleaved
  (without, with, without, with, ...) so the machine's load falls on both alike; the drop must
  stay under 5 %. Stick figures and the default generator (when present).
- headless cost: frames per second of a headless render (every slot, as fast as the machine
  goes) with and without the output, stick figures: the output's own cost, undiluted by waiting.

    python benchmarks/bench_stage.py [--seconds 8] [--rounds 2]
Writes benchmarks/results/stage.json and stage.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from livedance.choreo import choreograph
from livedance.clock import FrameClock, MonotonicClock
from livedance.measure.machine import describe
from livedance.show.loop import ShowOptions, ShowStats, run_show
from livedance.show.operator import Operator
from livedance.show.outputs import Output
from livedance.show.timeline import PlannedTimeline
from livedance.show.videoout import background_of, open_video_output
from livedance.songplan import BeatInterval

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
SIZE, FPS = 256, 30.0

OSC_RECEIVER = """
import sys, time, json
from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_server import BlockingOSCUDPServer
got = []
d = Dispatcher()
d.map("/livedance/beat", lambda a, i, *r: got.append((i, time.monotonic_ns())))
s = BlockingOSCUDPServer(("127.0.0.1", 0), d)
print(s.server_address[1], flush=True)
s.timeout = 0.2
deadline = time.monotonic() + float(sys.argv[2])
while time.monotonic() < deadline:
    s.handle_request()
json.dump(got, open(sys.argv[1], "w"))
"""


def _timeline(seconds: float) -> PlannedTimeline:
    n = int(seconds / 0.5) + 2
    intervals = [BeatInterval(0.5 * i, 0.5 * (i + 1), -15.0, 1500.0) for i in range(n)]
    return PlannedTimeline(choreograph(intervals, seed=2))


def _renderer(kind: str) -> Any:
    from livedance.neural.generator import choose_renderer

    renderer, _ = choose_renderer(None, stick=kind == "stick", size_px=SIZE, deadband_px=1.0)
    return renderer


def _show(
    renderer: Any, outputs: list[Output], seconds: float, *, headless: bool = False
) -> tuple[ShowStats, float, float]:
    """Run one show; returns its stats, the timer's start (monotonic s) and the wall time."""
    timeline = _timeline(seconds)
    clock: Any = FrameClock(FPS) if headless else MonotonicClock()
    started: list[float] = []

    def start() -> None:
        clock.start()
        started.append(time.perf_counter())

    wall0 = time.perf_counter()
    stats = run_show(
        timeline, clock, renderer, outputs, Operator(timeline),
        ShowOptions(fps=FPS, duration_s=seconds),
        start=None if headless else start,
    )  # fmt: skip
    return stats, (started[0] if started else wall0), time.perf_counter() - wall0


def _receiver(source: str, out: Path, seconds: float) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-m", "livedance.show.receive", source, "--save", str(out),
         "--timeout", str(seconds + 30)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip


def _video_latency(spec: str, source: str, renderer: Any, seconds: float, tmp: Path) -> dict:
    saved = tmp / f"{uuid.uuid4().hex}.npz"
    out = open_video_output(spec, SIZE, SIZE, FPS, background_of(renderer))
    receiver = _receiver(source, saved, seconds)
    stats, t0, _ = _show(renderer, [out], seconds)
    receiver.wait(timeout=seconds + 60)
    got = np.load(saved)
    due_s = t0 + got["slots"] / FPS
    latency_ms = (got["received_ns"] / 1e9 - due_s) * 1e3
    return {
        "frames_received": len(latency_ms),
        "frames_shown": stats.frames_shown,
        "latency_median_ms": round(float(np.median(latency_ms)), 2),
        "latency_p99_ms": round(float(np.percentile(latency_ms, 99)), 2),
        "write_to_read_median_ms": round(
            float(np.median((got["received_ns"] - got["written_ns"]) / 1e6)), 2
        ),
    }


def _osc_latency(renderer: Any, seconds: float, tmp: Path) -> dict:
    from livedance.control.osc_out import OscOut
    from livedance.show.outputs import BeatOutput

    saved = tmp / "osc.json"
    proc = subprocess.Popen(
        [sys.executable, "-c", OSC_RECEIVER, str(saved), str(seconds + 5)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    port = int(proc.stdout.readline())
    timeline = _timeline(seconds)
    clock = MonotonicClock()
    out = OscOut("127.0.0.1", port, clock=clock)
    beats = BeatOutput(out, timeline)
    started: list[float] = []

    def start() -> None:
        clock.start()
        started.append(time.perf_counter())

    run_show(
        timeline, clock, renderer, [beats], Operator(timeline),
        ShowOptions(fps=FPS, duration_s=seconds), start=start,
    )  # fmt: skip
    proc.wait(timeout=seconds + 30)
    got = json.loads(saved.read_text())
    starts = {
        a.index: a.at_s for a in timeline.announcements(-1.0, seconds + 1.0)
    }  # beat index -> show time
    latency_ms = np.array([(ns / 1e9 - (started[0] + starts[i])) * 1e3 for i, ns in got])
    return {
        "beats_received": len(latency_ms),
        "latency_median_ms": round(float(np.median(latency_ms)), 2),
        "latency_p99_ms": round(float(np.percentile(latency_ms, 99)), 2),
    }


def _fps_drop(spec: str | None, renderer: Any, seconds: float, rounds: int) -> dict:
    """Frames shown per second without and with the output, interleaved runs."""
    base, with_out = [], []
    for _ in range(rounds):
        for target in (base, with_out):
            outputs: list[Output] = []
            drain = None
            if target is with_out and spec is not None:
                output, drain = _open_drained(spec, renderer)
                outputs.append(output)
            stats, _, _ = _show(renderer, outputs, seconds)
            if drain is not None:
                drain.wait(timeout=30)
            target.append(stats.frames_shown / stats.duration_s)
    b, w = float(np.mean(base)), float(np.mean(with_out))
    return {
        "fps_without": round(b, 2),
        "fps_with": round(w, 2),
        "drop_percent": round(100.0 * (b - w) / b, 2),
    }


def _open_drained(spec: str, renderer: Any) -> tuple[Output, subprocess.Popen[bytes] | None]:
    """The output and, for a pipe, a reader draining it (a pipe nobody reads costs less)."""
    output = open_video_output(spec, SIZE, SIZE, FPS, background_of(renderer))
    drain = None
    if spec.startswith("pipe:"):
        path = spec.split(",")[0].split(":", 1)[1]
        drain = subprocess.Popen(["cat", path], stdout=subprocess.DEVNULL)
    return output, drain


def _headless_fps(spec: str | None, renderer: Any, frames: int, rounds: int) -> float:
    rates = []
    for _ in range(rounds):
        outputs: list[Output] = []
        drain = None
        if spec is not None:
            output, drain = _open_drained(spec, renderer)
            outputs.append(output)
        stats, _, wall_s = _show(renderer, outputs, frames / FPS, headless=True)
        if drain is not None:
            drain.wait(timeout=30)
        rates.append(stats.frames_shown / wall_s)
    return round(float(np.median(rates)), 1)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seconds", type=float, default=8.0, help="length of each show (8 s)")
    p.add_argument("--rounds", type=int, default=2, help="interleaved runs per case (2)")
    p.add_argument("--no-model", action="store_true", help="stick figures only")
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-stage-"))
    fifo = tmp / "frames.fifo"
    cases = {
        "shm (RGBA, matte)": (f"shm:bench-{uuid.uuid4().hex[:6]}", "shm"),
        "pipe (RGBA, matte, header)": (f"pipe:{fifo},header=1", "pipe"),
        "pipe (RGB, key colour, header)": (f"pipe:{tmp / 'key.fifo'},alpha=key,header=1", "pipe"),
    }
    renderers = ["stick"] if args.no_model else ["stick", "model"]
    results: dict[str, Any] = {"machine": describe(), "load_average_start": os.getloadavg()[0],
                               "size_px": SIZE, "fps": FPS,
                               "seconds": args.seconds, "rounds": args.rounds, "latency": {},
                               "frame_rate": {}, "headless_fps": {}}  # fmt: skip
    for kind in renderers:
        renderer = _renderer(kind)
        name = "stick" if kind == "stick" else renderer.name
        for label, (spec, source_kind) in cases.items():
            target = spec.split(",")[0].split(":", 1)[1]
            source = f"{source_kind}:{target}"
            key = f"{label} / {name}"
            results["latency"][key] = _video_latency(spec, source, renderer, args.seconds, tmp)
            print(key, results["latency"][key], flush=True)
            results["frame_rate"][key] = _fps_drop(spec, renderer, args.seconds, args.rounds)
            print(key, results["frame_rate"][key], flush=True)
        key = f"OSC beats / {name}"
        results["latency"][key] = _osc_latency(renderer, args.seconds, tmp)
        print(key, results["latency"][key], flush=True)
    stick = _renderer("stick")
    results["headless_fps"]["none"] = _headless_fps(None, stick, 300, 3)
    for label, (spec, _) in cases.items():
        results["headless_fps"][label] = _headless_fps(spec, stick, 300, 3)
    print(results["headless_fps"], flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "stage.json").write_text(json.dumps(results, indent=2) + "\n")
    (RESULTS / "stage.md").write_text(_markdown(results))


def _markdown(r: dict[str, Any]) -> str:
    m = r["machine"]
    lines = [
        "# Stage outputs",
        "",
        f"{m['cpu']} ({m['cores']} cores, {m.get('cpu_flags', '?')}; load average "
        f"{r.get('load_average_start', float('nan')):.1f} at the start); "
        f"{r['size_px']} px, {r['fps']:g} fps, {r['seconds']:g} s shows, "
        f"`python benchmarks/bench_stage.py --seconds {r['seconds']:g} --rounds {r['rounds']}`.",
        "",
        "Latency from the display slot (or the beat, for OSC) to a receiver process, and the show's "
        "frame rate without and with the output (interleaved runs):",
        "",
        "| output / renderer | received | latency median ms | p99 ms | fps without | fps with "
        "| drop |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for key, lat in r["latency"].items():
        fr = r["frame_rate"].get(key)
        got = lat.get("frames_received", lat.get("beats_received"))
        cells = [key, str(got), str(lat["latency_median_ms"]), str(lat["latency_p99_ms"])]
        if fr is None:
            cells += ["-", "-", "-"]
        else:
            cells += [str(fr["fps_without"]), str(fr["fps_with"]), f"{fr['drop_percent']:.1f} %"]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Headless render, stick figures, frames per second (the output's own cost):", ""]
    lines += [f"- {k}: {v}" for k, v in r["headless_fps"].items()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
