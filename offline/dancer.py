"""``livedance dancer``: your own dancer from one video, in one resumable command.

The whole OFFLINE half of DESIGN.md's data flow in one call: video or image sequence ->
`offline.prepare` -> `offline.pix2pixhd.train` (a wall-time budget) -> `offline.pix2pixhd.export`
(ONNX with its contract, parity-checked) -> `offline.metrics.evaluate` (Table I beside the
nearest-neighbour baseline, sample grid) -> installed where `livedance.dancers` finds it for
``play``/``live``/``render --dancer NAME``.

Every step keeps its results in the dancer's folder (``work/dataset``, ``work/run``,
``work/model.onnx``, ``report/``), so running the same command again after a kill continues:
prepare resumes its chunks, training resumes its budget from the last checkpoint, export and
evaluation run again only when their output is missing or older than what it comes from. The
model is copied to ``NAME/model.onnx`` last: a dancer is installed only when it is complete.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from livedance.dancers import INFO_NAME, MODEL_NAME, dancer_dir
from livedance.errors import LivedanceError
from offline.pix2pixhd.checkpoint import CHECKPOINT_DIR, LATEST_NAME, atomic_write, write_json

log = logging.getLogger(__name__)

MAX_AUTO_SIZE_PX = 256
"""``size=None`` trains at the source's shorter side (a multiple of 16), at most this."""

CHECKPOINT_EVERY_S = 30.0
"""Training checkpoints at least this often (wall seconds): what a kill can cost the budget."""


@dataclass(frozen=True)
class DancerOptions:
    """Settings of one ``livedance dancer`` run.

    Attributes:
        source: a video file, a folder of images or an image pattern.
        name: the dancer's name (its folder under `livedance.dancers.dancers_dir`).
        minutes: the training budget in wall minutes (prepare, export and evaluation come on
            top; a re-run with more minutes trains on to the new budget).
        source_fps, fps, keypoints_dir: as for ``livedance prepare``.
        size: square training size in pixels (None: the source's shorter side, at most 256).
        ngf, n_blocks: generator width and residual blocks (as ``livedance train``).
        vgg: use the VGG16 perceptual loss (needs ``livedance weights install``).
        lpips, keypoint_metric: as ``livedance evaluate`` (LPIPS; keypoint MSE by re-detection).
        overwrite: replace a dancer of the same name made from something else.
        progress: progress bars on stderr.
    """

    source: Path
    name: str
    minutes: float
    source_fps: float | None = None
    fps: float = 25.0
    keypoints_dir: Path | None = None
    size: int | None = None
    ngf: int = 16
    n_blocks: int = 6
    vgg: bool = True
    lpips: bool = True
    keypoint_metric: bool = True
    overwrite: bool = False
    progress: bool = True


@dataclass(frozen=True)
class DancerReport:
    """What `make_dancer` made: the installed model, the quality table and the grid."""

    name: str
    model: Path
    table: str
    grid: Path | None
    info: dict[str, Any]


def _identity(opts: DancerOptions) -> dict[str, Any]:
    """What makes two runs the same dancer (a re-run with these resumes; others need
    ``--overwrite``). The budget is not part of it: more minutes train on."""
    return {
        "source": str(opts.source.resolve()),
        "source_fps": opts.source_fps,
        "fps": opts.fps,
        "keypoints_dir": str(opts.keypoints_dir.resolve()) if opts.keypoints_dir else None,
        "size": opts.size,
        "ngf": opts.ngf,
        "n_blocks": opts.n_blocks,
        "vgg": opts.vgg,
    }


def make_dancer(opts: DancerOptions, say: Any = print) -> DancerReport:
    """Prepare, train, export, evaluate and install one dancer (see the module docstring).

    Args:
        opts: the run's settings.
        say: where the step lines go (``print``).

    Raises:
        LivedanceError: a missing video, no person in it, a name taken by another dancer
            (without ``overwrite``), and every error of the steps.
    """
    from offline.prepare.sequence import is_image_sequence

    source = opts.source
    if not (source.exists() or is_image_sequence(source)):
        raise LivedanceError(f"{source}: no such video file or image folder")
    folder = dancer_dir(opts.name)
    info = _claim(folder, opts)
    work, report_dir = folder / "work", folder / "report"
    started = time.monotonic()
    seconds: dict[str, float] = dict(info.get("seconds", {}))

    def step(name: str, t0: float) -> None:
        seconds[name] = round(seconds.get(name, 0.0) + time.monotonic() - t0, 1)
        info.update(seconds=seconds)
        write_json(folder / INFO_NAME, info)

    t0 = time.monotonic()
    say(f"[1/4] prepare {source} -> {work / 'dataset'}")
    dataset, size = _prepare(opts, work / "dataset")
    step("prepare", t0)
    left_s = opts.minutes * 60 - _budget_used_s(work / "run")
    say(
        f"[2/4] train {opts.minutes:g} min (wall) at {size}x{size}, {max(0, left_s) / 60:.1f} min"
        f" left; ends about {time.strftime('%H:%M', time.localtime(time.time() + left_s))}"
        " (a re-run after a kill continues the budget)"
    )
    t0 = time.monotonic()
    summary = _train(opts, dataset, work / "run")
    step("train", t0)
    t0 = time.monotonic()
    model = work / MODEL_NAME
    checkpoint = work / "run" / CHECKPOINT_DIR / LATEST_NAME
    if _stale(model, checkpoint):
        from offline.pix2pixhd.export import export_onnx

        export = export_onnx(work / "run", model)
        say(f"[3/4] export {model}: parity max |onnx - torch| {export.parity_max_abs:.1e}")
        info.update(export={"parity_max_abs": export.parity_max_abs})
    else:
        say(f"[3/4] export {model}: up to date")
    step("export", t0)
    t0 = time.monotonic()
    table, grid = _evaluate(opts, model, dataset, report_dir, say)
    step("evaluate", t0)
    installed = folder / MODEL_NAME
    atomic_write(installed, lambda f: f.write(model.read_bytes()))
    info.update(
        complete=True,
        model=str(installed),
        iterations=summary.get("iteration"),
        budget=summary.get("budget"),
        size=size,
        report={"table": str(report_dir / "table.txt"), "grid": str(grid) if grid else None},
    )
    write_json(folder / INFO_NAME, info)
    log.info("dancer %s done in %.0f s", opts.name, time.monotonic() - started)
    return DancerReport(opts.name, installed, table, grid, info)


def _claim(folder: Path, opts: DancerOptions) -> dict[str, Any]:
    """The dancer's ``dancer.json`` for this run: resumed, new, or (``overwrite``) replaced."""
    identity = _identity(opts)
    path = folder / INFO_NAME
    info: dict[str, Any] = {}
    if path.is_file():
        try:
            info = json.loads(path.read_text())
        except (OSError, ValueError):
            info = {}
    taken = folder.exists() and any(folder.iterdir()) and info.get("identity") != identity
    if taken and not opts.overwrite:
        made_from = info.get("identity", {}).get("source", "something else")
        raise LivedanceError(
            f"the dancer name {opts.name!r} is taken (made from {made_from} with other"
            " settings); pass --overwrite to replace it, or pick another --name"
        )
    if taken:
        log.warning("--overwrite: removing the dancer %s (%s)", opts.name, folder)
        shutil.rmtree(folder)
        info = {}
    if info.get("identity") != identity:
        info = {"name": opts.name, "identity": identity, "complete": False}
    info.update(minutes=opts.minutes)
    folder.mkdir(parents=True, exist_ok=True)
    write_json(path, info)
    return info


def _prepare(opts: DancerOptions, out: Path) -> tuple[Path, int]:
    from offline.prepare import PrepareOptions, prepare_dataset
    from offline.prepare.sequence import is_image_sequence, open_sequence
    from offline.prepare.video import VideoInput, probe_video

    source: VideoInput = opts.source
    if is_image_sequence(opts.source):
        source = open_sequence(opts.source, opts.source_fps, opts.fps)
    info = probe_video(source)
    size = opts.size or max(
        64, min(MAX_AUTO_SIZE_PX, min(info.width_px, info.height_px) // 16 * 16)
    )
    report = prepare_dataset(
        source,
        out,
        PrepareOptions(
            fps=opts.fps,
            source_fps=opts.source_fps,
            size=(size, size),
            keypoints_dir=opts.keypoints_dir,
            progress=opts.progress,
        ),
    )
    m = report.manifest
    if m.split.n_test == 0 or m.split.n_train == 0:
        raise LivedanceError(
            f"{opts.source}: only {m.n_frames} frames with a person; too few to train and test"
        )
    return out, size


def _train(opts: DancerOptions, dataset: Path, run: Path) -> dict[str, Any]:
    from offline.pix2pixhd.networks import GeneratorConfig
    from offline.pix2pixhd.train import TrainOptions, train
    from offline.weights import weights_installed

    vgg = opts.vgg
    if vgg and not weights_installed():
        log.warning("VGG16 weights not installed (livedance weights install): training without")
        vgg = False
    options = TrainOptions(
        data_dir=dataset,
        out_dir=run,
        generator=GeneratorConfig(ngf=opts.ngf, n_blocks=opts.n_blocks),
        minutes=opts.minutes,
        resume=(run / CHECKPOINT_DIR / LATEST_NAME).is_file(),
        checkpoint_every_s=CHECKPOINT_EVERY_S,
        vgg=vgg,
        progress=opts.progress,
    )
    return train(options)


def _budget_used_s(run: Path) -> float:
    """Training budget a run already spent (0 for a new run), from its ``run.json``."""
    try:
        return float(json.loads((run / "run.json").read_text())["budget"]["used_s"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0.0


def _stale(output: Path, source: Path) -> bool:
    """True when ``output`` is missing or older than ``source``."""
    return not output.is_file() or output.stat().st_mtime < source.stat().st_mtime


def _evaluate(
    opts: DancerOptions, model: Path, dataset: Path, report_dir: Path, say: Any
) -> tuple[str, Path | None]:
    """Table I and the sample grid into ``report/`` (again only when the model is newer)."""
    table_path, grid_path = report_dir / "table.txt", report_dir / "grid.png"
    if not _stale(table_path, model):
        say(f"[4/4] evaluate: up to date ({table_path})")
        return table_path.read_text(), grid_path if grid_path.is_file() else None
    import cv2

    from offline.metrics.evaluate import evaluate_model, label_grid
    from offline.metrics.table import format_table
    from offline.weights import weights_installed

    lpips = opts.lpips and weights_installed()
    if opts.lpips and not lpips:
        log.warning("LPIPS weights not installed (livedance weights install): no LPIPS column")
    say(f"[4/4] evaluate on the test split of {dataset}")
    result = evaluate_model(
        model, dataset, lpips=lpips, keypoints=opts.keypoint_metric, progress=opts.progress
    )
    report_dir.mkdir(parents=True, exist_ok=True)
    write_json(report_dir / "evaluate.json", result.to_json())
    grid = None
    if result.grid is not None:
        image = label_grid(result.grid, ["stick", "generated", "nearest", "real"])
        ok, png = cv2.imencode(".png", image)
        if ok:
            atomic_write(grid_path, lambda f: f.write(png.tobytes()))
            grid = grid_path
    table = format_table(result.columns)
    atomic_write(table_path, lambda f: f.write((table + "\n").encode()))
    return table + "\n", grid
