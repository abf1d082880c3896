"""The pix2pixHD training loop: one process, or many under ``torchrun`` (DDP).

DESIGN.md data flow: prepared dataset (`offline.prepare`) -> *train* -> checkpoints and
``run.json`` in RUN_DIR -> `offline.pix2pixhd.export` -> ONNX for the live runtime.
A run lasts ``iterations`` or a time budget (``minutes``, `offline.pix2pixhd.schedule`).
Each iteration: generator step (LSGAN + feature matching + VGG16 perceptual loss), then
discriminator step (LSGAN on real and generated). Data order and jitter depend only on
(seed, iteration), so ``resume`` continues exactly where the last checkpoint stopped.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader

from livedance.errors import LivedanceError
from offline.pix2pixhd import checkpoint as ckpt
from offline.pix2pixhd.data import BatchStream, PairDataset, background_plate
from offline.pix2pixhd.distill import DEFAULT_WEIGHT, Teacher
from offline.pix2pixhd.losses import VGG_LAMBDA, VGGLoss, feature_matching_loss, lsgan_loss
from offline.pix2pixhd.networks import (
    GeneratorConfig,
    MultiscaleDiscriminator,
    build_generator,
    size_multiple,
)
from offline.pix2pixhd.retrieval import IndexedPairs, fill_from_dataset
from offline.pix2pixhd.runlog import RunLog
from offline.pix2pixhd.samples import preview_batch, save_preview
from offline.pix2pixhd.schedule import Budget, BudgetClock, linear_decay, progress_bar

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainOptions:
    """Everything `train` needs (the CLI fills it; see ``livedance train --help``)."""

    data_dir: Path
    out_dir: Path
    size: tuple[int, int] | None = None
    generator: GeneratorConfig = field(default_factory=GeneratorConfig)
    ndf: int = 32
    num_d: int = 3
    iterations: int = 20000
    """Iterations to train; ignored when ``minutes`` is set."""
    minutes: float | None = None
    """Train for this many budget minutes (resumes included) instead of ``iterations``."""
    budget_clock: BudgetClock = "wall"
    """``wall`` or ``cpu`` (CPU seconds / torch threads: fair on a loaded machine)."""
    decay_from_fraction: float = 0.5
    """With ``minutes``: the fraction of the budget where the linear decay starts."""
    checkpoint_every_s: float = 60.0
    """Also checkpoint when this many wall seconds passed since the last checkpoint."""
    batch_size: int = 1
    lr: float = 2e-4
    decay_from: int | None = None
    device: str = "auto"
    amp: bool = False
    sample_every: int = 500
    checkpoint_every: int = 500
    keep_every: int = 0
    """Also keep ``checkpoints/it_NNNNNN.pt`` every this many iterations (0: only latest.pt)."""
    seed: int = 0
    resume: bool = False
    vgg: bool = True
    lpips_loss: float = 0.0
    """Weight of an LPIPS-VGG perceptual term in the generator loss (0: none)."""
    num_workers: int = 0
    jitter_px: int = 0
    progress: bool = True
    teacher: Path | None = None
    """A trained run whose generator the student also learns from (`offline.pix2pixhd.distill`);
    a resumed run keeps its own."""
    teacher_weight: float = DEFAULT_WEIGHT


def _distributed() -> tuple[int, int, int]:
    """``(rank, world_size, local_rank)`` from torchrun's environment (1 process without it)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    return int(os.environ.get("RANK", "0")), world, int(os.environ.get("LOCAL_RANK", "0"))


def pick_device(name: str, local_rank: int = 0) -> torch.device:
    """``auto`` -> CUDA when available, else CPU; ``cuda`` without a GPU is an error."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda":
        if not torch.cuda.is_available():
            raise LivedanceError("--device cuda: no CUDA GPU is visible to torch")
        return torch.device("cuda", local_rank)
    return torch.device("cpu")


def learning_rate(options: TrainOptions, iteration: int) -> float:
    """Constant until ``decay_from`` (default half way), then linear to 0 at ``iterations``."""
    decay_from = options.iterations // 2 if options.decay_from is None else options.decay_from
    return linear_decay(options.lr, iteration, decay_from, options.iterations)


def _finished(options: TrainOptions, budget: Budget | None, iteration: int, used_s: float) -> bool:
    if budget is None:
        return iteration >= options.iterations
    return used_s >= budget.total_s


def _check_out_dir(out_dir: Path) -> None:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise LivedanceError(f"cannot write to the run folder {out_dir} ({exc.strerror})") from None


def train(options: TrainOptions) -> dict[str, Any]:
    """Train (or resume) a run; returns the training summary written to ``run.json``.

    Raises:
        LivedanceError: bad dataset or run folder, a size the generator cannot take, a resume
            without a checkpoint, or CUDA asked for without a GPU.
    """
    rank, world, local_rank = _distributed()
    device = pick_device(options.device, local_rank)
    if world > 1 and not torch.distributed.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        if device.type == "cuda":
            torch.cuda.set_device(device)
        torch.distributed.init_process_group(backend=backend, init_method="env://")
    try:
        return _train(options, rank, world, device)
    finally:
        if world > 1 and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()


def _train(options: TrainOptions, rank: int, world: int, device: torch.device) -> dict[str, Any]:
    main = rank == 0
    if main:
        _check_out_dir(options.out_dir)
    latest = options.out_dir / ckpt.CHECKPOINT_DIR / ckpt.LATEST_NAME
    state = ckpt.load_checkpoint(latest) if options.resume else None
    if not options.resume and latest.exists():
        raise LivedanceError(
            f"{options.out_dir} already holds a run; pass --resume to continue it"
            " or pick another --out"
        )
    gen_config = options.generator
    size = options.size
    if state is not None:  # architecture and size come from the checkpoint
        gen_config = GeneratorConfig.from_dict(state["generator_config"])
        size = (int(state["size"][0]), int(state["size"][1]))
    jitter_px = options.jitter_px
    if gen_config.background_plate and jitter_px:
        log.info("--jitter %d ignored: a background plate needs the frames unshifted", jitter_px)
        jitter_px = 0
    dataset = PairDataset(options.data_dir, "train", size=size, jitter_px=jitter_px)
    size = dataset.size
    multiple = size_multiple(gen_config)
    if size[0] % multiple or size[1] % multiple:
        raise LivedanceError(
            f"size {size[0]}x{size[1]} is not a multiple of {multiple} "
            f"(2**n_downsample); pick --size or --n-downsample to fit"
        )
    ndf = int(state["ndf"]) if state is not None else options.ndf
    num_d = int(state["num_d"]) if state is not None else options.num_d

    torch.manual_seed(options.seed + rank)
    net_g = build_generator(gen_config, size)
    if gen_config.background_plate and state is None:
        with torch.no_grad():
            net_g.plate.copy_(background_plate(dataset))  # type: ignore[operator]
    if gen_config.retrieval and state is None:
        fill_from_dataset(net_g.bank, dataset)  # type: ignore[arg-type]
    net_g = net_g.to(device)
    net_d = MultiscaleDiscriminator(ndf=ndf, num_d=num_d).to(device)
    opt_g = torch.optim.Adam(net_g.parameters(), lr=options.lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(net_d.parameters(), lr=options.lr, betas=(0.5, 0.999))
    use_amp = options.amp and device.type == "cuda"
    scaler_g = torch.amp.GradScaler("cuda", enabled=use_amp)
    scaler_d = torch.amp.GradScaler("cuda", enabled=use_amp)
    start, elapsed_s = 0, 0.0
    if state is not None:
        net_g.load_state_dict(state["net_g"])
        net_d.load_state_dict(state["net_d"])
        opt_g.load_state_dict(state["opt_g"])
        opt_d.load_state_dict(state["opt_d"])
        if use_amp and "scaler_g" in state:
            scaler_g.load_state_dict(state["scaler_g"])
            scaler_d.load_state_dict(state["scaler_d"])
        start, elapsed_s = int(state["iteration"]), float(state["elapsed_s"])
        rng = state["rng"]
        torch.set_rng_state(rng[rank] if rank < len(rng) else rng[0])
    budget = None
    if options.minutes is not None:
        budget = Budget.resume(
            options.minutes, options.budget_clock, options.decay_from_fraction, state
        )
    used_s = budget.used_s() if budget is not None else 0.0
    if _finished(options, budget, start, used_s):
        if main:
            log.warning(
                "%s has already trained its whole budget: nothing to train", options.out_dir
            )
        return ckpt.read_run(options.out_dir)
    vgg = None
    if options.vgg or options.lpips_loss > 0.0:
        feature_weight = VGG_LAMBDA if options.vgg else 0.0
        vgg = VGGLoss(feature_weight=feature_weight, lpips_weight=options.lpips_loss).to(device)
    teacher_dir = Path(state["teacher"]) if state is not None and "teacher" in state else None
    teacher_dir = teacher_dir or options.teacher
    teacher = None
    if teacher_dir is not None:
        teacher = Teacher(teacher_dir, size, device, options.teacher_weight)
    g_train: nn.Module = net_g
    d_train: nn.Module = net_d
    if world > 1:
        ids = [device.index] if device.type == "cuda" else None
        g_train = nn.parallel.DistributedDataParallel(net_g, device_ids=ids)
        d_train = nn.parallel.DistributedDataParallel(net_d, device_ids=ids)

    stop = options.iterations if budget is None else 2**62  # a budget stops the loop itself
    stream = BatchStream(len(dataset), options.batch_size, rank, world, options.seed, start, stop)
    loader = DataLoader(
        IndexedPairs(dataset) if gen_config.retrieval else dataset,
        batch_sampler=stream,
        num_workers=options.num_workers,
        pin_memory=device.type == "cuda",
        persistent_workers=False,
    )
    logger = RunLog(options.out_dir, start) if main else None
    summary = _summary(options, dataset, gen_config, ndf, num_d, size, start, elapsed_s, world)
    if teacher is not None:
        summary["teacher"] = teacher.summary
    if budget is not None:
        summary.update(iterations_planned=None, budget=budget.to_dict(used_s))
    if main:
        ckpt.write_json(options.out_dir / ckpt.RUN_JSON, summary)
    preview = preview_batch(dataset, device)
    progress = None
    if main and options.progress:
        progress = progress_bar(
            *((budget.total_s, used_s) if budget else (options.iterations, start)), bool(budget)
        )
    autocast = torch.autocast("cuda", dtype=torch.float16) if use_amp else contextlib.nullcontext()
    parts: dict[str, Any] = {"net_g": net_g, "net_d": net_d, "opt_g": opt_g, "opt_d": opt_d}
    if use_amp:
        parts.update(scaler_g=scaler_g, scaler_d=scaler_d)
    fixed = {"generator_config": gen_config.to_dict(), "ndf": ndf, "num_d": num_d,
             "size": [size[0], size[1]]}  # fmt: skip
    if teacher_dir is not None:
        fixed["teacher"] = str(Path(teacher_dir).resolve())
    iteration, losses = start, {}
    t0 = last_save = time.perf_counter()
    for stick, real, *rows in loader:  # rows: with retrieval, to leave out time neighbours
        stick, real = stick.to(device, non_blocking=True), real.to(device, non_blocking=True)
        rows = [r.to(device) for r in rows]
        lr = (
            learning_rate(options, iteration)
            if budget is None
            else budget.learning_rate(options.lr, used_s)
        )
        for opt in (opt_g, opt_d):
            for group in opt.param_groups:
                group["lr"] = lr
        # generator step: D frozen and called without DDP (no gradient sync for D here)
        net_d.requires_grad_(False)
        with autocast:
            fake = g_train(stick, *rows)
            both = net_d(torch.cat([torch.cat([stick, fake], 1), torch.cat([stick, real], 1)]))
            pred_fake = [[f[: len(stick)] for f in scale] for scale in both]
            pred_real = [[f[len(stick) :] for f in scale] for scale in both]
            g_gan = lsgan_loss(pred_fake, True)
            g_fm = feature_matching_loss(pred_fake, pred_real)
            zero = torch.zeros((), device=device)
            g_vgg, g_lpips = vgg.terms(fake.float(), real) if vgg is not None else (zero, zero)
            g_distill = teacher.loss(stick, fake) if teacher is not None else zero
            loss_g = g_gan + g_fm + g_vgg + g_lpips + g_distill
        opt_g.zero_grad(set_to_none=True)
        scaler_g.scale(loss_g).backward()
        scaler_g.step(opt_g)
        scaler_g.update()
        # discriminator step: one DDP forward on generated and real pairs together
        net_d.requires_grad_(True)
        with autocast:
            pairs = torch.cat([torch.cat([stick, fake.detach()], 1), torch.cat([stick, real], 1)])
            out = d_train(pairs)
            d_fake = lsgan_loss([[s[-1][: len(stick)]] for s in out], False)
            d_real = lsgan_loss([[s[-1][len(stick) :]] for s in out], True)
            loss_d = 0.5 * (d_fake + d_real)
        opt_d.zero_grad(set_to_none=True)
        scaler_d.scale(loss_d).backward()
        scaler_d.step(opt_d)
        scaler_d.update()
        iteration += 1
        losses = {"g_gan": g_gan, "g_fm": g_fm, "g_vgg": g_vgg, "d_real": d_real, "d_fake": d_fake,
                  "g_distill": g_distill, "g_lpips": g_lpips}  # fmt: skip
        losses = {k: float(v.detach()) for k, v in losses.items()}
        before_s, used_s = used_s, (budget.used_s(world, device) if budget is not None else 0.0)
        last = _finished(options, budget, iteration, used_s)
        if not main:
            if last:
                break
            continue
        now_s = elapsed_s + time.perf_counter() - t0
        assert logger is not None
        logger.write(iteration, now_s, lr, losses)
        if progress is not None:
            progress.update(1 if budget is None else min(used_s, budget.total_s) - before_s)
            shown = {"it": iteration} if budget is not None else {}
            shown.update({k: f"{v:.3f}" for k, v in losses.items()})
            progress.set_postfix(shown, refresh=False)
        if iteration % options.sample_every == 0 or last:
            save_preview(net_g, preview, options.out_dir, iteration)
        due_s = time.perf_counter() - last_save >= options.checkpoint_every_s
        if iteration % options.checkpoint_every == 0 or last or due_s:
            last_save = time.perf_counter()
            logger.flush()
            summary.update(iteration=iteration, train_time_s=round(now_s, 2), final_losses=losses)
            if budget is not None:
                summary.update(budget=budget.to_dict(used_s))
            clock = (
                {} if budget is None else {"budget_used_s": used_s, "budget_clock": budget.clock}
            )
            _save(latest, iteration, now_s, parts, {**fixed, **clock})
            ckpt.write_json(options.out_dir / ckpt.RUN_JSON, summary)
            if options.keep_every and iteration % options.keep_every == 0:
                kept = latest.with_name(f"it_{iteration:06d}.pt")
                shutil.copyfile(latest, kept.with_suffix(".tmp"))
                os.replace(kept.with_suffix(".tmp"), kept)
        if last:
            break
    if progress is not None:
        progress.close()
    if logger is not None:
        logger.close()
    if world > 1:
        torch.distributed.barrier()
    return summary


def _save(
    path: Path, iteration: int, elapsed_s: float, parts: dict[str, Any], fixed: dict[str, Any]
) -> None:
    """Checkpoint the run: the ``state_dict`` of each of ``parts`` (nets, optimisers, scalers),
    ``fixed`` (architecture, size, teacher, budget), where it is, and rank 0's RNG (the loop draws
    nothing random itself: data order and jitter are keyed)."""
    state = {"format_version": 1, "iteration": iteration, "elapsed_s": elapsed_s,
             "rng": [torch.get_rng_state()], **fixed}  # fmt: skip
    state.update({name: part.state_dict() for name, part in parts.items()})
    ckpt.save_checkpoint(path, state)


def _summary(
    options: TrainOptions,
    dataset: PairDataset,
    gen_config: GeneratorConfig,
    ndf: int,
    num_d: int,
    size: tuple[int, int],
    iteration: int,
    elapsed_s: float,
    world: int,
) -> dict[str, Any]:
    """The ``run.json`` document: what export needs (Body, numbers) and a training summary."""
    return {
        "format_version": 1,
        "dataset": str(options.data_dir.resolve()),
        "dataset_source": dataset.manifest.source,
        "body": dataset.manifest.body.to_dict(),
        "size": {"width": size[0], "height": size[1]},
        "generator": gen_config.to_dict(),
        "discriminator": {"ndf": ndf, "num_d": num_d, "n_layers": 3},
        "n_train_frames": len(dataset),
        "iteration": iteration,
        "iterations_planned": options.iterations,
        "batch_size": options.batch_size,
        "world_size": world,
        "lr": options.lr,
        "vgg_loss": options.vgg,
        "lpips_vgg_loss": options.lpips_loss,
        "seed": options.seed,
        "train_time_s": round(elapsed_s, 2),
        "final_losses": {},
    }
