"""Timing of `bench_frontier`'s generators on a CPU that others share.

Runs exported generators through the runtime's own `NeuralRenderer` (ONNX Runtime CPU, batch 1,
all cores, as the show runs them) on stick figures of real poses. On a shared machine the load
changes from minute to minute, so the models are timed in interleaved rounds (every model a few
frames per round) and all see the same load; each also gets its CPU milliseconds per frame on
one thread, which load does not change (a quiet machine's wall time is close to it divided by
the speed-up of its cores).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np

ROUNDS = 6
SECONDS_PER_MODEL = 12.0
CPU_FRAMES = 8


def stick_inputs(width_px: int, height_px: int, n: int) -> np.ndarray:
    """``n`` model inputs: the idle dance of the default Body drawn as stick figures."""
    from livedance.choreo import idle_pose
    from livedance.neural.contract import sticks_to_input
    from livedance.skeleton import render_sticks

    poses = np.stack([idle_pose(t) for t in np.linspace(0.0, 8.0, n)]).astype(np.float32)
    return sticks_to_input(render_sticks(poses, width_px, height_px))


def cpu_ms_per_frame(path: Path) -> float:
    """Median CPU ms of one frame on one ONNX Runtime thread (independent of the load)."""
    from livedance.neural.contract import INPUT_NAME, OUTPUT_NAME
    from livedance.neural.generator import open_session

    session, contract = open_session(path, device="cpu", threads=1)
    x = stick_inputs(contract.width_px, contract.height_px, CPU_FRAMES)
    times_ms = []
    for i in range(CPU_FRAMES):
        t0 = time.process_time()
        session.run([OUTPUT_NAME], {INPUT_NAME: x[i : i + 1]})
        times_ms.append((time.process_time() - t0) * 1000.0)
    return round(float(np.median(times_ms)), 2)


def time_models(paths: list[Path]) -> list[dict[str, Any]]:
    """p50/p99 wall ms per frame (interleaved rounds, all cores) and CPU ms on one thread.

    Returns:
        one dict per path: ``p50_ms``, ``p99_ms``, ``frames``, ``cpu_ms_1thread``,
        ``load_1min`` (mean over the rounds) and ``size_px``.
    """
    from livedance.neural.generator import NeuralRenderer

    renderers = [NeuralRenderer(p, device="cpu") for p in paths]
    inputs, per_round = [], []
    for r in renderers:
        x = stick_inputs(r.width_px, r.height_px, 16)
        t0 = time.perf_counter()
        for i in range(3):
            r.infer(x[i : i + 1])
        per_frame_s = (time.perf_counter() - t0) / 3
        n = int(np.clip(SECONDS_PER_MODEL / ROUNDS / max(per_frame_s, 1e-4), 8, 60))
        inputs.append(x)
        per_round.append(n)
    times_ms: list[list[float]] = [[] for _ in paths]
    loads = []
    for _ in range(ROUNDS):
        loads.append(os.getloadavg()[0])
        for k, r in enumerate(renderers):
            for i in range(per_round[k]):
                r.infer(inputs[k][i % len(inputs[k]) : i % len(inputs[k]) + 1])
                times_ms[k].append(r.last_infer_ms)
    out = []
    for k, r in enumerate(renderers):
        arr = np.asarray(times_ms[k])
        out.append(
            {
                "p50_ms": round(float(np.median(arr)), 2),
                "p99_ms": round(float(np.percentile(arr, 99)), 2),
                "frames": len(arr),
                "cpu_ms_1thread": cpu_ms_per_frame(paths[k]),
                "load_1min": round(float(np.mean(loads)), 2),
                "size_px": [r.width_px, r.height_px],
            }
        )
    return out
