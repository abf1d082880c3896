"""Frame renderer measurements: generator time, whole-loop fps, where CPU time goes, flicker.

Shared by `livedance bench render` and `benchmarks/bench_render.py` (DESIGN.md: every stage is
measured by a benchmark that writes a results file); `run_render_bench` is the whole benchmark.
Works on any exported generator; the comparison widths are random-weight exports built by
`offline.timing_models` (timing does not depend on the weights).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from livedance.choreo import idle_pose
from livedance.errors import LivedanceError
from livedance.measure.machine import describe
from livedance.neural.contract import INPUT_NAME, OUTPUT_NAME, sticks_to_input
from livedance.neural.generator import NeuralRenderer, flicker_score, open_session
from livedance.show.hud import HudInfo, draw_hud
from livedance.skeleton import render_sticks

log = logging.getLogger(__name__)

BUDGET_MS = 1000.0 / 30.0
"""One frame at 30 fps."""

WIDTHS = (
    ("real-time width ngf16/3/6", 16, 3, 6),
    ("ngf32/3/6", 32, 3, 6),
    ("paper width ngf64/4/9", 64, 4, 9),
)
"""Comparison generators (ngf, downsamplings, residual blocks), exported with random weights."""


def _poses(n_frames: int, body: Any) -> npt.NDArray[np.float32]:
    from livedance.actions import ACTIONS
    from livedance.choreo import Choreographer
    from livedance.songplan import BeatInterval

    choreo = Choreographer(ACTIONS, body=body, seed=0)
    for i in range(int(n_frames / 15) + 2):  # 120 bpm: a beat every 15 frames at 30 fps
        choreo.add_interval(BeatInterval(i * 0.5, (i + 1) * 0.5, rms_db=-12.0, centroid_hz=2000.0))
    return np.stack([choreo.pose_at(i / 30.0) for i in range(n_frames)]).astype(np.float32)


def _stats_ms(times_ms: list[float]) -> dict[str, float]:
    arr = np.asarray(times_ms)
    return {
        "median_ms": round(float(np.median(arr)), 2),
        "p99_ms": round(float(np.percentile(arr, 99)), 2),
        "mean_ms": round(float(arr.mean()), 2),
    }


def time_generator(renderer: NeuralRenderer, n_frames: int) -> dict[str, Any]:
    """Generator-only time per frame (one frame per session run, the live case)."""
    sticks = render_sticks(_poses(n_frames, renderer.contract.body), renderer.width_px)
    times_ms = []
    for i in range(n_frames):
        renderer.infer(sticks_to_input(sticks[i : i + 1]))
        times_ms.append(renderer.last_infer_ms)
    stats = _stats_ms(times_ms)
    stats["budget_ratio"] = round(stats["median_ms"] / BUDGET_MS, 2)
    stats["frames"] = n_frames
    return stats


def time_loop(renderer: NeuralRenderer, n_frames: int) -> dict[str, Any]:
    """The whole live loop per frame: pose -> stick -> generator -> display buffer with HUD."""
    poses = _poses(n_frames, renderer.contract.body)
    times_ms = []
    t_all = time.perf_counter()
    for i, pose in enumerate(poses):
        t0 = time.perf_counter()
        frame = renderer.render(pose[None])[0]
        display = np.ascontiguousarray(frame.copy())
        draw_hud(display, HudInfo(30.0, 120.0, (i % 15) / 15, "bench", i / 30, renderer.name))
        times_ms.append((time.perf_counter() - t0) * 1000.0)
    wall_s = time.perf_counter() - t_all
    stats = _stats_ms(times_ms)
    stats["fps"] = round(n_frames / wall_s, 1)
    return stats


def time_batched(renderer: NeuralRenderer, n_frames: int, batch: int = 4) -> dict[str, Any]:
    """Offline (`livedance render`) throughput: poses rendered ``batch`` at a time."""
    poses = _poses(n_frames, renderer.contract.body)
    t0 = time.perf_counter()
    for i in range(0, n_frames, batch):
        renderer.render(poses[i : i + batch])
    return {"batch": batch, "fps": round(n_frames / (time.perf_counter() - t0), 1)}


def profile_op_types(
    model_path: str | Path, n_frames: int = 5, top: int = 6
) -> list[dict[str, Any]]:
    """Run ``n_frames`` with ONNX Runtime profiling; the op types that take the most time."""
    with tempfile.TemporaryDirectory(prefix="livedance-prof-") as tmp:
        session, contract = open_session(
            model_path, device="cpu", profile_prefix=os.path.join(tmp, "ort")
        )
        x = np.zeros((1, 3, contract.height_px, contract.width_px), np.float32)
        for _ in range(n_frames):
            session.run([OUTPUT_NAME], {INPUT_NAME: x})
        events = json.loads(Path(session.end_profiling()).read_text())
    per_op: dict[str, float] = defaultdict(float)
    for event in events:
        args = event.get("args", {})
        if event.get("cat") == "Node" and event.get("name", "").endswith("_kernel_time"):
            per_op[args.get("op_name", "?")] += float(event.get("dur", 0))
    total_us = sum(per_op.values()) or 1.0
    ranked = sorted(per_op.items(), key=lambda kv: -kv[1])[:top]
    return [
        {"op": op, "share": round(us / total_us, 3), "ms_per_frame": round(us / 1000 / n_frames, 2)}
        for op, us in ranked
    ]


def flicker_study(model_path: str | Path, n_frames: int = 30, jitter_px: float = 0.3) -> dict:
    """Flicker (mean |frame difference|, 0..255) on a held pose, before and after the reductions.

    Three held poses: identical every frame; the idle sway (slow, sub-pixel); and a held pose with
    ``jitter_px`` of Gaussian keypoint noise (what a live pose source adds). Each is rendered with
    no reduction, the keypoint deadband (0.5 and 1 px), the output blend (0.5) and both.
    """
    variants = {
        "off": {},
        "deadband_0.5px": {"deadband_px": 0.5},
        "deadband_1px": {"deadband_px": 1.0},
        "blend_0.5": {"temporal_blend": 0.5},
        "deadband_1px+blend_0.5": {"deadband_px": 1.0, "temporal_blend": 0.5},
    }
    result: dict[str, dict[str, float]] = {}
    for name, kwargs in variants.items():
        renderer = NeuralRenderer(model_path, device="cpu", **kwargs)  # type: ignore[arg-type]
        body, size = renderer.contract.body, renderer.width_px
        held = idle_pose(0.0, body).astype(np.float32)
        rng = np.random.default_rng(0)
        scenes = {
            "identical": np.repeat(held[None], n_frames, axis=0),
            "idle_sway": np.stack([idle_pose(i / 30, body) for i in range(n_frames)]),
            f"jitter_{jitter_px}px": _jittered(held, n_frames, jitter_px / size, rng),
        }
        result[name] = {}
        for scene, poses in scenes.items():
            renderer.reset()
            frames = renderer.render(poses.astype(np.float32))
            result[name][scene] = round(flicker_score(frames), 3)
    return result


def _jittered(
    pose: npt.NDArray[np.float32], n: int, sigma: float, rng: np.random.Generator
) -> npt.NDArray[np.float32]:
    poses = np.repeat(pose[None], n, axis=0).copy()
    poses[:, :, :2] += rng.normal(0.0, sigma, size=(n, len(pose), 2)).astype(np.float32)
    return poses


def generator_gflop(model_path: str | Path) -> float | None:
    """Floating-point work of one frame (convolutions only, 2 x multiply-adds), in GFLOP.

    Needs the `onnx` package (the train extra); None without it.
    """
    try:
        import onnx
        from onnx import numpy_helper, shape_inference
    except ImportError:
        return None
    import onnxruntime as ort

    with tempfile.TemporaryDirectory(prefix="livedance-flop-") as tmp:
        folded = os.path.join(tmp, "folded.onnx")  # constants folded, so shapes are known
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        opts.optimized_model_filepath = folded
        ort.InferenceSession(str(model_path), opts, providers=["CPUExecutionProvider"])
        model = shape_inference.infer_shapes(onnx.load(folded))
    weights = {w.name: numpy_helper.to_array(w).shape for w in model.graph.initializer}
    shapes = {}
    for value in [*model.graph.value_info, *model.graph.input, *model.graph.output]:
        dims = [d.dim_value if d.dim_value > 0 else 1 for d in value.type.tensor_type.shape.dim]
        shapes[value.name] = dims
    macs = 0
    for node in model.graph.node:
        if node.op_type not in ("Conv", "ConvTranspose") or node.input[1] not in weights:
            continue
        w = weights[node.input[1]]
        kernel = int(np.prod(w[1:]))  # (in or out)/groups x kh x kw
        if node.op_type == "Conv" and node.output[0] in shapes:
            _, c_out, h, wd = shapes[node.output[0]]
            macs += c_out * h * wd * kernel
        elif node.op_type == "ConvTranspose" and node.input[0] in shapes:
            _, c_in, h, wd = shapes[node.input[0]]
            macs += c_in * h * wd * kernel
    return round(2 * macs / 1e9, 2)


def run_render_bench(
    *,
    model: Path | None,
    size_px: int = 256,
    n_frames: int = 60,
    widths: bool = True,
    device: str = "auto",
) -> dict[str, Any]:
    """Time the given (or default) model and the comparison widths.

    Args:
        model: a generator; None: models/default.onnx when present.
        size_px: frame size of the comparison generators.
        n_frames: frames timed per model (the slow paper width gets at most 8).
        widths: also build and time the comparison generators (torch).
        device: ONNX Runtime device.

    Returns:
        A JSON-friendly dict of every measurement.
    """
    from livedance.neural.generator import DEFAULT_MODEL

    if model is None and DEFAULT_MODEL.is_file():
        model = DEFAULT_MODEL
    entries: list[tuple[str, Path, dict[str, Any]]] = []
    if model is not None:
        entries.append((f"model {model.name}", model, {}))
    with tempfile.TemporaryDirectory(prefix="livedance-bench-") as tmp:
        if widths:
            try:
                from offline.timing_models import export_timing_model
            except ImportError as exc:
                raise LivedanceError(
                    f"comparison generators need torch ({exc}); use --no-widths"
                ) from None
            for label, ngf, n_down, n_blocks in WIDTHS:
                path = Path(tmp) / f"ngf{ngf}_{n_down}_{n_blocks}.onnx"
                log.info("exporting %s", label)
                export_timing_model(
                    path, ngf=ngf, n_downsample=n_down, n_blocks=n_blocks, size_px=size_px
                )
                arch = {"ngf": ngf, "n_downsample": n_down, "n_blocks": n_blocks}
                entries.append((label, path, arch))
        if not entries:
            raise LivedanceError("nothing to time: give --model or drop --no-widths")
        rows = []
        for label, path, arch in entries:
            renderer = NeuralRenderer(path, device=device)
            slow = "ngf64" in label or (arch.get("ngf", 0) >= 64)
            frames = min(n_frames, 8) if slow else n_frames
            log.info("timing %s (%d frames)", label, frames)
            rows.append(
                {
                    "label": label,
                    "size_px": renderer.width_px,
                    "provider": renderer.provider,
                    "architecture": arch or renderer.contract.generator,
                    "gflop_per_frame": generator_gflop(path),
                    "generator": time_generator(renderer, frames),
                    "loop": time_loop(renderer, frames),
                    "batched": time_batched(renderer, max(16, frames)),
                    "profile": profile_op_types(path, n_frames=3 if slow else 10),
                }
            )
        flicker_path = entries[0][1]
        flicker = {"model": entries[0][0], "scores": flicker_study(flicker_path)}
    return {
        "benchmark": "render",
        "machine": describe(),
        "budget_ms": round(BUDGET_MS, 2),
        "models": rows,
        "flicker": flicker,
    }


def write_results(results: dict[str, Any], json_path: Path) -> None:
    """Write the JSON results and a Markdown table beside them (same name, ``.md``)."""
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(results, indent=2) + "\n")
    json_path.with_suffix(".md").write_text(markdown_table(results) + "\n")
    log.info("wrote %s", json_path)


def markdown_table(results: dict[str, Any]) -> str:
    """The results as Markdown: a timing table, the op profile, the flicker table."""
    lines = [
        f"Render benchmark on {results['machine']['cpu']} ({results['machine']['cores']} cores, "
        f"{results['machine'].get('cpu_flags', '?')}); "
        f"budget {results['budget_ms']} ms per frame (30 fps).",
        "",
        "| generator | size | GFLOP/frame | generator median / p99 ms | whole loop median / "
        "p99 ms | loop p99 x budget | loop fps | batched fps | top op types (share of time) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    budget_ms = float(results["budget_ms"])
    for row in results["models"]:
        g, loop = row["generator"], row["loop"]
        ops = ", ".join(f"{p['op']} {p['share']:.0%}" for p in row["profile"][:4])
        lines.append(
            f"| {row['label']} | {row['size_px']} | {row.get('gflop_per_frame')} | "
            f"{g['median_ms']} / {g['p99_ms']} | {loop['median_ms']} / {loop['p99_ms']} | "
            f"{loop['p99_ms'] / budget_ms:.2f} | {loop['fps']} | {row['batched']['fps']} | {ops} |"
        )
    flicker = results["flicker"]
    scenes = list(next(iter(flicker["scores"].values())))
    lines += [
        "",
        f"Flicker on a held pose ({flicker['model']}): mean |frame difference|, 0..255 levels.",
        "",
        "| reduction | " + " | ".join(scenes) + " |",
        "| --- |" + " --- |" * len(scenes),
    ]
    for name, scores in flicker["scores"].items():
        lines.append(f"| {name} | " + " | ".join(str(scores[s]) for s in scenes) + " |")
    return "\n".join(lines)
