"""The generator's quality/speed frontier (issue 15): each configuration trained on the same budget.

For each configuration of the efficient generator family (`offline.pix2pixhd.networks`) this
trains on a prepared dataset for the same CPU budget (``train --minutes M --budget-clock cpu``,
one torch thread per training, ``--jobs`` trainings at once), exports it (parity checked),
scores it on the dataset's time-split test frames with ``livedance evaluate``'s code (LPIPS alex,
SSIM, MS-SSIM, PSNR; the nearest-neighbour baseline once), and at the end, one model after the
other with nothing else of ours running, times ONNX Runtime per frame (p50/p99, batch 1, all
cores, as the show runs it; interleaved rounds, plus CPU ms on one thread, see
`frontier_timing`) at the data's size and at 256x256 (a random-weight export of the same
architecture: time does not depend on the weights). Then it writes
``frontier.json``, ``frontier.md`` (table + the command) and ``frontier.png`` (LPIPS and SSIM
against p99 ms at 256 px). The work folder holds the runs, models and sample grids (frames of
the video: keep them out of the repository); configurations whose results are there are
skipped, and a killed training resumes its budget.

A configuration is written
``BLOCK NGF/NDOWN/NBLOCKS[+add|+cat][+ps|+resize][+half][+plate][+k3][+nn][+nns][+lp][+novgg]``,
BLOCK ``res`` (pix2pixHD), ``dws`` (depthwise-separable) or ``inv`` (inverted residual); ``+half``
renders at half size with a learned upsampler, ``+plate`` paints the person over a background
plate, ``+k3`` makes the full-size output layer 3x3 instead of 7x7 (at 7x7 it is about half the
CPU time of a small generator), ``+nn`` gives the generator the training frame of the nearest
stick as well (a bank of `RETRIEVAL_FRAMES` in the model, `offline.pix2pixhd.retrieval`),
``+nns`` with that frame's own stick beside it (the bank keeps the sticks at render size).
The last two change the training, not the model: ``+lp`` adds LPIPS over VGG16 x `LPIPS_WEIGHT`
(``+lpN``: x N) to the generator loss (``train --lpips-loss``; a perceptual loss, not the table's LPIPS, which
is over AlexNet), ``+novgg`` leaves out pix2pixHD's VGG feature loss (``train --no-vgg``).
``STUDENT<TEACHER`` trains STUDENT with ``train --teacher`` on
TEACHER's run in the work folder (distillation; the teacher's inference counts in the student's
CPU budget). ``--time-only`` times candidates at 256 px before anything is trained, to choose a
set that spans the speeds.

Usage:
    nice -n 5 python benchmarks/bench_frontier.py --data /tmp/taichi1_ds --cpu-minutes 3 \
        --work /tmp/frontier --jobs 2
    python benchmarks/bench_frontier.py --time-only --configs res16/3/6,inv16/3/6+half
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]  # this tree's packages, then the report

from frontier_report import write_report  # noqa: E402
from frontier_timing import time_models  # noqa: E402

from livedance.measure.machine import describe  # noqa: E402
from offline.pix2pixhd.networks import GeneratorConfig  # noqa: E402

log = logging.getLogger("bench_frontier")

DEFAULT_CONFIGS = (
    "res16/3/6",  # today's default dancer
    "res64/4/9",  # pix2pixHD's paper width
    "res16/3/6+half",  # today's default rendered at half size
    "inv16/3/4+half+resize",
    "dws16/3/6+add+ps",
    "inv32/3/6+half+add",
    "res8/3/3+half",  # the smallest
    "res32/2/3",  # wide but shallow
)
"""The frontier's configurations, chosen from ``--time-only`` timings and GFLOP to span 0.5 to 109
GFLOP per 256 px frame, eight so that a 3 CPU-minute budget fits an hour on a shared 2-core
machine (the first one also scores the nearest-neighbour baseline)."""

BLOCK_NAMES = {"res": "residual", "dws": "dwsep", "inv": "inverted"}
SPEC = re.compile(
    r"^(res|dws|inv)(\d+)/(\d+)/(\d+)((?:\+(?:add|cat|ps|resize|half|plate|k3|nn|nns|lp\d*|novgg))*)$"
)
RETRIEVAL_FRAMES = 1024
"""Bank size of ``+nn`` (`offline.pix2pixhd.retrieval`): 48 MB of uint8 frames at 128 px."""
LPIPS_WEIGHT = 30.0
"""Weight of ``+lp``'s LPIPS-VGG term: about the VGG feature loss's size (x10) on the frames of a
trained ``+nn`` model (LPIPS-VGG 0.30 where the feature loss is 10.5)."""
TIMING_SIZE_PX = 256


def split_teacher(spec: str) -> tuple[str, str | None]:
    """``STUDENT<TEACHER`` -> (student, teacher): the student is trained with ``--teacher``, the
    teacher configuration's run in the same work folder (trained before it)."""
    student, _, teacher = spec.partition("<")
    return student.strip(), (teacher.strip() or None)


def parse_config(spec: str) -> GeneratorConfig:
    """``inv24/3/6+add+half`` -> its `GeneratorConfig` (ValueError if malformed); a taught
    configuration (``STUDENT<TEACHER``) is its student's."""
    spec, teacher = split_teacher(spec)
    if teacher is not None:
        parse_config(teacher)
    match = SPEC.match(spec)
    if not match:
        raise ValueError(
            f"bad configuration {spec!r}: expected BLOCK NGF/NDOWN/NBLOCKS[+add|+cat]"
            "[+ps|+resize][+half][+plate][+k3][+nn][+nns][+lp][+novgg], e.g. inv24/3/6+add"
        )
    block, ngf, n_down, n_blocks, extras = match.groups()
    flags = set(extras.split("+")[1:])
    return GeneratorConfig(
        ngf=int(ngf),
        n_downsample=int(n_down),
        n_blocks=int(n_blocks),
        block=BLOCK_NAMES[block],
        skips="add" if "add" in flags else "concat" if "cat" in flags else "none",
        upsample="pixelshuffle"
        if "ps" in flags
        else "resize"
        if "resize" in flags
        else "transpose",
        render_scale=0.5 if "half" in flags else 1.0,
        background_plate="plate" in flags,
        head_kernel=3 if "k3" in flags else 7,
        retrieval=RETRIEVAL_FRAMES if flags & {"nn", "nns"} else 0,
        retrieval_stick="nns" in flags,
    )


def loss_options(spec: str) -> dict[str, Any]:
    """The `TrainOptions` fields a configuration's training flags set (``+lp``, ``+novgg``)."""
    flags = split_teacher(spec)[0].split("+")[1:]
    weights = [float(f[2:] or LPIPS_WEIGHT) for f in flags if re.fullmatch(r"lp\d*", f)]
    return {"vgg": "novgg" not in flags, "lpips_loss": weights[-1] if weights else 0.0}


def slug(spec: str) -> str:
    """A folder name for a configuration."""
    return spec.replace("/", "-").replace("+", "_").replace("<", "_from_")


def timing_export(spec: str, folder: Path, size_px: int) -> Path:
    """A random-weight export of ``spec`` at ``size_px`` (for timing only)."""
    from offline.timing_models import export_timing_model

    path = folder / f"{slug(split_teacher(spec)[0])}_{size_px}.onnx"
    if not path.is_file():
        export_timing_model(path, config=parse_config(spec), size_px=size_px)
    return path


def gflop_and_params(spec: str, model_256: Path) -> dict[str, float]:
    """GFLOP per 256 px frame (convolutions) and millions of parameters."""
    from livedance.measure.render import generator_gflop
    from offline.pix2pixhd.networks import build_generator

    net = build_generator(parse_config(spec), (TIMING_SIZE_PX, TIMING_SIZE_PX))
    params = sum(p.numel() for p in net.parameters()) / 1e6
    return {"gflop_256": generator_gflop(model_256) or float("nan"), "mparams": round(params, 3)}


def time_only(specs: list[str], work: Path) -> list[dict[str, Any]]:
    """Time each candidate at 256 px before any training (to choose the frontier's set)."""
    folder = work / "timing"
    folder.mkdir(parents=True, exist_ok=True)
    paths = [timing_export(spec, folder, TIMING_SIZE_PX) for spec in specs]
    rows = []
    for spec, path, timing in zip(specs, paths, time_models(paths), strict=True):
        row = {"config": spec, **timing, **gflop_and_params(spec, path)}
        print(json.dumps(row), flush=True)
        rows.append(row)
    (work / "candidates.json").write_text(json.dumps(rows, indent=2) + "\n")
    return rows


def ms_ssim_upscaled(
    model: Path, data: Path, nearest_frames: list[str] | None
) -> dict[str, float | None]:
    """MS-SSIM of the model (and the baseline) on test frames scaled up to 176+ px (bicubic).

    MS-SSIM's five scales need 176 px a side; under that the quality table has no MS-SSIM, so
    here generated, baseline and real frames are all scaled by the same power of two first.
    """
    import cv2
    import numpy as np

    from offline.metrics.evaluate import open_generator, read_image, run_generator
    from offline.metrics.image import MS_SSIM_MIN_SIDE_PX, ms_ssim
    from offline.prepare.manifest import read_index

    test = [r for r in read_index(data) if r["split"] == "test"]
    real = [read_image(data / r["frame"]) for r in test]
    factor = 1
    while min(real[0].shape[:2]) * factor < MS_SSIM_MIN_SIDE_PX:
        factor *= 2

    def up(image: np.ndarray) -> np.ndarray:
        return cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)

    session, _ = open_generator(model)
    sticks = np.stack([read_image(data / r["stick"]) for r in test])
    generated = np.concatenate(
        [run_generator(session, sticks[i : i + 8]) for i in range(0, len(sticks), 8)]
    )
    out: dict[str, float | None] = {
        "factor": factor,
        "model": float(
            np.mean([ms_ssim(up(g), up(t)) for g, t in zip(generated, real, strict=True)])
        ),
        "nearest neighbour": None,
    }
    if nearest_frames:
        nearest = [read_image(data / name) for name in nearest_frames]
        out["nearest neighbour"] = float(
            np.mean([ms_ssim(up(n), up(t)) for n, t in zip(nearest, real, strict=True)])
        )
    return out


def worker(spec: str, args: argparse.Namespace, baseline: bool) -> int:
    """Train, export and evaluate one configuration (a subprocess of `run_all`, one thread)."""
    import cv2
    import torch

    torch.set_num_threads(1)
    from offline.metrics.evaluate import evaluate_model, label_grid
    from offline.pix2pixhd import checkpoint as ckpt
    from offline.pix2pixhd.export import export_onnx
    from offline.pix2pixhd.train import TrainOptions, train

    folder = args.work / slug(spec)
    run = folder / "run"
    teacher = split_teacher(spec)[1]
    teacher_run = args.work / slug(teacher) / "run" if teacher else None
    if teacher_run is not None and not (teacher_run / "run.json").is_file():
        print(f"bench_frontier: train the teacher {teacher} first (no {teacher_run})")
        return 1
    options = TrainOptions(
        data_dir=args.data,
        out_dir=run,
        generator=parse_config(spec),
        minutes=args.cpu_minutes,
        budget_clock="cpu",
        resume=(run / ckpt.CHECKPOINT_DIR / ckpt.LATEST_NAME).is_file(),
        seed=0,
        progress=False,
        iterations=args.iterations or 20000,
        teacher=teacher_run,
        **loss_options(spec),
    )
    if args.iterations:  # a smoke test of the benchmark itself
        options = dataclasses.replace(options, minutes=None)
    summary = train(options)
    report = export_onnx(run, folder / "model.onnx")
    result = evaluate_model(
        folder / "model.onnx", args.data, keypoints=False, baseline=baseline, progress=False
    )
    if result.grid is not None:
        labels = ["stick", "generated", *(["nearest"] if baseline else []), "real"]
        cv2.imwrite(str(folder / "grid.png"), label_grid(result.grid, labels))
    nearest = result.info["nearest_neighbour_frames"] if baseline else None
    doc = {
        "config": spec,
        "ms_ssim_upscaled": ms_ssim_upscaled(folder / "model.onnx", args.data, nearest),
        "generator": parse_config(spec).to_dict(),
        "iterations": summary.get("iteration"),
        "budget": summary.get("budget"),
        "train_time_s": summary.get("train_time_s"),
        "parity_max_abs": report.parity_max_abs,
        "table": result.columns,
        "n_test_frames": result.info["n_test_frames"],
        "size_px": result.info["size_px"],
    }
    (folder / "quality.json").write_text(json.dumps(doc, indent=2) + "\n")
    return 0


def run_all(specs: list[str], args: argparse.Namespace) -> list[dict[str, Any]]:
    """Train/evaluate what is missing, ``args.jobs`` at a time; returns the quality documents."""
    todo = [s for s in specs if not (args.work / slug(s) / "quality.json").is_file()]
    running: list[tuple[str, subprocess.Popen]] = []
    failed: list[str] = []
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    while todo or running:
        while todo and len(running) < args.jobs:
            spec = todo.pop(0)
            (args.work / slug(spec)).mkdir(parents=True, exist_ok=True)
            command = [sys.executable, __file__, "--worker", spec, "--data", str(args.data),
                       "--work", str(args.work), "--cpu-minutes", str(args.cpu_minutes)]  # fmt: skip
            if args.iterations:
                command += ["--iterations", str(args.iterations)]
            if spec == specs[0]:
                command.append("--baseline")
            logfile = (args.work / slug(spec) / "worker.log").open("a")
            log.info("start %s", spec)
            running.append(
                (spec, subprocess.Popen(command, env=env, stdout=logfile, stderr=logfile))
            )
        time.sleep(2.0)
        for spec, proc in list(running):
            if proc.poll() is not None:
                running.remove((spec, proc))
                log.info("%s finished (exit %d)", spec, proc.returncode)
                if proc.returncode:
                    failed.append(spec)
    if failed:
        log.error("failed: %s (see worker.log in their folders)", ", ".join(failed))
    return [
        json.loads((args.work / slug(s) / "quality.json").read_text())
        for s in specs
        if (args.work / slug(s) / "quality.json").is_file()
    ]


def time_all(docs: list[dict[str, Any]], work: Path) -> None:
    """Add timings at the data's size (trained model) and at 256 px to each document, all
    models timed together in interleaved rounds (`frontier_timing.time_models`)."""
    folder = work / "timing"
    folder.mkdir(parents=True, exist_ok=True)
    specs = [doc["config"] for doc in docs]
    paths_256 = [timing_export(spec, folder, TIMING_SIZE_PX) for spec in specs]
    timings = time_models([work / slug(spec) / "model.onnx" for spec in specs] + paths_256)
    for k, doc in enumerate(docs):
        doc["timing_data_size"], doc["timing_256"] = timings[k], timings[len(docs) + k]
        doc.update(gflop_and_params(doc["config"], paths_256[k]))
        log.info(
            "%s: p99 %.1f ms at %d px, %.1f ms at 256 px (CPU %.1f ms on one thread)",
            doc["config"],
            doc["timing_data_size"]["p99_ms"],
            doc["size_px"][0],
            doc["timing_256"]["p99_ms"],
            doc["timing_256"]["cpu_ms_1thread"],
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="prepared dataset (with a test split)")
    parser.add_argument("--cpu-minutes", type=float, default=6.0, help="budget per config (6)")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "frontier")
    parser.add_argument("--jobs", type=int, default=2, help="trainings at once (one core each)")
    parser.add_argument("--configs", help="comma-separated configurations (default: the set)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/frontier.json")
    parser.add_argument("--time-only", action="store_true", help="time candidates, train nothing")
    parser.add_argument("--iterations", type=int, help=argparse.SUPPRESS)  # smoke tests
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--baseline", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    specs = args.configs.split(",") if args.configs else list(DEFAULT_CONFIGS)
    try:
        for spec in specs:
            parse_config(spec)
    except ValueError as exc:
        print(f"bench_frontier: {exc}", file=sys.stderr)
        return 2
    if args.worker:
        return worker(args.worker, args, args.baseline)
    if args.time_only:
        time_only(specs, args.work)
        return 0
    if args.data is None or not (args.data / "manifest.json").is_file():
        print(
            f"bench_frontier: --data must be a prepared dataset (got {args.data})", file=sys.stderr
        )
        return 2
    machine = describe()
    log.info("machine: %s (%s), %s cores", machine["cpu"], machine["cpu_flags"], machine["cores"])
    started = time.time()
    docs = run_all(specs, args)
    if not docs:
        print("bench_frontier: no configuration finished", file=sys.stderr)
        return 1
    time_all(docs, args.work)
    nice = f"nice -n {os.nice(0)} " if os.nice(0) else ""
    command = f"{nice}python benchmarks/bench_frontier.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    write_report(docs, args, machine, command, time.time() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
