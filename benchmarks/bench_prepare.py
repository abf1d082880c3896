"""Speed and detection rate of ``livedance prepare`` on a real video.

Runs the real pipeline (BlazePose through MediaPipe, ffmpeg decoding twice, PNG writing,
contact sheet, Body) into a temporary folder and reports frames per second overall and per
stage, and the share of sampled frames where the person was found. A second run on the finished
folder measures the resume check. Nothing derived from the video is kept: only the numbers.

Usage:
    python benchmarks/bench_prepare.py ../shared/data/video/taichi2.mp4 \
        --out benchmarks/results/prepare.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from livedance import __version__
from livedance.ffmpeg import ffmpeg_exe
from livedance.measure.machine import cpu_model
from offline.prepare import PrepareOptions, parse_size, prepare_dataset

REPO = Path(__file__).resolve().parents[1]
DEFAULT_VIDEO = REPO.parent / "shared/data/video/taichi2.mp4"


def _versions() -> dict[str, str]:
    import cv2
    import numpy

    out = {"livedance": __version__, "numpy": numpy.__version__, "opencv": cv2.__version__}
    try:
        import mediapipe

        out["mediapipe"] = mediapipe.__version__
    except ImportError:
        out["mediapipe"] = "absent"
    first = subprocess.run([ffmpeg_exe(), "-version"], capture_output=True, text=True).stdout
    out["ffmpeg"] = first.splitlines()[0] if first else "?"
    return out


def bench(video: Path, fps: float, size: tuple[int, int]) -> dict:
    """Prepare ``video`` into a temporary folder; returns the measurements."""
    with tempfile.TemporaryDirectory(prefix="bench_prepare_") as tmp:
        out = Path(tmp) / "dataset"
        options = PrepareOptions(fps=fps, size=size, progress=False)
        load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
        t0 = time.perf_counter()
        report = prepare_dataset(video, out, options)
        wall_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        again = prepare_dataset(video, out, options)
        resume_s = time.perf_counter() - t1
        assert again.up_to_date
        size_bytes = sum(p.stat().st_size for p in out.rglob("*.png"))
    m = report.manifest
    s = report.seconds
    return {
        "video": video.name,
        "video_size": f"{m.source['width_px']}x{m.source['height_px']}",
        "video_fps": m.source["fps"],
        "video_duration_s": m.source["duration_s"],
        "sample_fps": m.fps,
        "output_size": f"{size[0]}x{size[1]}",
        "samples": m.n_samples,
        "frames": m.n_frames,
        "detection_rate": round(m.detection_rate, 4),
        "crop": m.crop.spec(),
        "wall_s": round(wall_s, 2),
        "fps_overall": round(m.n_samples / wall_s, 1),
        "realtime_factor": round(m.source["duration_s"] / wall_s, 2),
        "stage_s": {k: round(v, 2) for k, v in s.items()},
        "fps_detect": round(m.n_samples / s["detect"], 1),
        "fps_frames": round(m.n_frames / s["frames"], 1),
        "resume_check_s": round(resume_s, 3),
        "png_mb": round(size_bytes / 1e6, 1),
        "load_avg_before": load_before,
    }


def markdown(result: dict) -> str:
    r = result
    lines = [
        "# `livedance prepare` benchmark",
        "",
        f"Command: `{r['command']}`",
        f"Machine: {r['machine']['cpu']}, {r['machine']['cores']} cores; {r['versions']}",
        "",
        "| video | sampled | output | frames/s overall | detect frames/s | write frames/s |"
        " x real time | detection rate |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        f"| {r['video']} ({r['video_size']}, {r['video_fps']:.2f} fps, {r['video_duration_s']} s)"
        f" | {r['samples']} at {r['sample_fps']:g} fps | {r['output_size']} |"
        f" {r['fps_overall']} | {r['fps_detect']} | {r['fps_frames']} |"
        f" {r['realtime_factor']} | {r['detection_rate']} |",
        "",
        f"Stages (s): {r['stage_s']}; re-running on the finished folder: {r['resume_check_s']} s.",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video", type=Path, nargs="?", default=DEFAULT_VIDEO)
    parser.add_argument("--fps", type=float, default=25.0)
    parser.add_argument("--size", type=parse_size, default=(256, 256))
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks/results/prepare.json")
    args = parser.parse_args()
    if not args.video.exists():
        print(f"{args.video} not found", file=sys.stderr)
        return 2
    result = bench(args.video, args.fps, args.size)
    result["command"] = " ".join(["python", *sys.argv])
    result["machine"] = {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
    }
    result["versions"] = _versions()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    args.out.with_suffix(".md").write_text(markdown(result))
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
