"""``livedance train DATA_DIR --out RUN_DIR``: train the pix2pixHD generator on a prepared dataset.

A thin layer over `offline.pix2pixhd.train` (torch is imported when the command runs, so
``livedance --help`` stays fast). Works the same under ``torchrun`` (DistributedDataParallel).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from livedance.cli.args import float_above, int_at_least


def _size(text: str) -> tuple[int, int]:
    try:
        if "x" in text.lower():
            w, h = (int(v) for v in text.lower().split("x"))
        else:
            w = h = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must be N or WxH, got {text!r}") from None
    if w < 16 or h < 16:
        raise argparse.ArgumentTypeError(f"size must be at least 16x16, got {text!r}")
    return w, h


def add_architecture_options(p: argparse.ArgumentParser) -> None:
    """The efficient-generator options (`offline.pix2pixhd.networks.GeneratorConfig`)."""
    g = p.add_argument_group(
        "efficient generator",
        "beyond pix2pixHD's blocks; see benchmarks/results/frontier.md for what each costs and"
        " gives",
    )
    g.add_argument(
        "--block",
        choices=("residual", "dwsep", "inverted"),
        default="residual",
        help="bottleneck block: pix2pixHD's residual (default), depthwise-separable residual,"
        " or MobileNetV2 inverted residual",
    )
    g.add_argument("--expand", type=int_at_least(1), default=4, help="inverted block expansion (4)")
    g.add_argument(
        "--upsample",
        choices=("transpose", "pixelshuffle", "resize"),
        default="transpose",
        help="transposed conv (default), conv + pixel shuffle, or nearest resize + conv",
    )
    g.add_argument(
        "--skips",
        choices=("none", "add", "concat"),
        default="none",
        help="U-Net skips from each down stage to the up stage of its size (default none)",
    )
    g.add_argument(
        "--render-scale",
        type=float,
        choices=(1.0, 0.5),
        default=1.0,
        help="0.5: run the network at half the frame size, with a learned pixel-shuffle"
        " upsampler to full size (the model still takes and gives full-size frames)",
    )
    g.add_argument(
        "--head-kernel",
        type=int,
        choices=(7, 3),
        default=7,
        help="side of the full-size output convolution: 7 (pix2pixHD) or 3, about 5x cheaper"
        " (at 7 it is about half the CPU time of a small generator)",
    )
    g.add_argument(
        "--retrieval",
        type=int_at_least(0),
        default=0,
        metavar="N",
        help="keep N training frames in the model and give the generator the one whose stick"
        " is nearest, to refine (one person in one place; 0: none, the default)",
    )
    g.add_argument(
        "--retrieval-stick",
        action="store_true",
        help="with --retrieval, also give the generator the retrieved frame's own stick (it"
        " sees which limbs differ from the target's)",
    )


def generator_config(args: argparse.Namespace) -> Any:
    """The `GeneratorConfig` of parsed train options; LivedanceError for a combination that
    cannot be built."""
    from livedance.errors import LivedanceError
    from offline.pix2pixhd.networks import GeneratorConfig

    try:
        return GeneratorConfig(
            ngf=args.ngf,
            n_downsample=args.n_downsample,
            n_blocks=args.n_blocks,
            local_enhancer=args.local_enhancer,
            background_plate=args.background_plate,
            block=args.block,
            upsample=args.upsample,
            skips=args.skips,
            render_scale=args.render_scale,
            expand=args.expand,
            head_kernel=args.head_kernel,
            retrieval=args.retrieval,
            retrieval_stick=args.retrieval_stick,
        )
    except ValueError as exc:
        raise LivedanceError(f"generator options: {exc}") from None


def register(sub: Any) -> None:
    """Add the ``train`` subcommand to the CLI's subparsers."""
    p = sub.add_parser(
        "train",
        help="train the stick figure -> frame generator (pix2pixHD) on a prepared dataset",
        description=(
            "Train pix2pixHD (global generator, 3-scale PatchGAN discriminator, LSGAN +"
            " feature matching + VGG16 perceptual loss, Adam 2e-4 constant then linear decay)"
            " on the train split of a dataset made by `livedance prepare`. RUN_DIR gets"
            " checkpoints/latest.pt (atomic, SIGKILL-safe), samples/*.png (stick | generated |"
            " real), log.csv and run.json (Body and summary, for `livedance export`). The"
            " defaults (ngf 16, 3 downsamplings, 6 blocks) give a generator that runs in real"
            " time on a 2-core CPU. The VGG loss needs `livedance weights install` (or --no-vgg)."
            " For several GPUs or machines run it under torchrun: rank 0 logs and saves."
        ),
        epilog=(
            "examples:\n"
            "  livedance train dataset/ --out runs/a\n"
            "  livedance train dataset/ --out runs/a --resume --iterations 40000\n"
            "  livedance train dataset/ --out runs/c --minutes 30\n"
            "  livedance train dataset/ --out runs/small --ngf 8 --teacher runs/a --minutes 30\n"
            "  torchrun --nproc_per_node 4 $(which livedance) train dataset/ --out runs/b"
            " --device cuda --amp"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("data_dir", type=Path, metavar="DATA_DIR", help="dataset from livedance prepare")
    p.add_argument("--out", type=Path, required=True, metavar="RUN_DIR", help="run folder")
    p.add_argument("--size", type=_size, metavar="WxH", help="train size (default: the dataset's)")
    p.add_argument("--ngf", type=int_at_least(1), default=16, help="generator width (default 16)")
    p.add_argument("--ndf", type=int_at_least(1), default=32, help="discriminator width (32)")
    p.add_argument("--n-downsample", type=int_at_least(1), default=3, help="(default 3)")
    p.add_argument("--n-blocks", type=int_at_least(0), default=6, help="residual blocks (6)")
    p.add_argument("--local-enhancer", action="store_true", help="add the 2x local enhancer")
    p.add_argument(
        "--background-plate",
        action="store_true",
        help="paint the person with an alpha mask over a learned still background (for a video"
        " shot with a still camera: the generator no longer redraws the room in every frame)",
    )
    add_architecture_options(p)
    length = p.add_mutually_exclusive_group()
    length.add_argument(
        "--iterations", type=int_at_least(1), help="iterations to train (default 20000)"
    )
    length.add_argument(
        "--minutes",
        type=float_above(0.0),
        metavar="M",
        help="train for M minutes instead of a number of iterations (it stops after the"
        " iteration that reaches M): the learning rate decays over the second half of the"
        " budget, the bar shows the time left, and --resume after a kill continues the same"
        " budget (the used part is saved in each checkpoint)",
    )
    p.add_argument(
        "--budget-clock",
        choices=("wall", "cpu"),
        default="wall",
        help="what --minutes counts: wall (default) or cpu = this process's CPU time divided by"
        " torch's thread count, so that configurations compared on a shared, loaded machine"
        " each get the same compute (waiting for the CPU is not charged)",
    )
    p.add_argument("--batch-size", type=int_at_least(1), default=1, help="per process (1)")
    p.add_argument("--lr", type=float_above(0.0), default=2e-4, help="Adam rate (2e-4)")
    p.add_argument(
        "--decay-from",
        type=int_at_least(0),
        metavar="IT",
        help="iteration where the linear decay to 0 starts (default: half way; past"
        " --iterations means a constant rate; with --minutes the decay starts half way"
        " through the budget)",
    )
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--amp", action="store_true", help="fp16 mixed precision (CUDA only)")
    p.add_argument("--sample-every", type=int_at_least(1), default=500, metavar="IT")
    p.add_argument(
        "--checkpoint-every",
        type=int_at_least(1),
        default=500,
        metavar="IT",
        help="checkpoint every IT iterations, and at least once a minute (500)",
    )
    p.add_argument(
        "--keep-every",
        type=int_at_least(0),
        default=0,
        metavar="IT",
        help="also keep checkpoints/it_NNNNNN.pt every IT iterations (a multiple of "
        "--checkpoint-every), e.g. for a quality-vs-time curve (default 0: only latest.pt)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true", help="continue RUN_DIR's latest checkpoint")
    p.add_argument("--no-vgg", action="store_true", help="skip the VGG16 perceptual loss")
    p.add_argument(
        "--lpips-loss",
        type=float,
        default=0.0,
        metavar="W",
        help="add LPIPS over VGG16 (lpips_vgg_lin weights) x W to the generator loss, on the"
        " same VGG16 pass as the feature loss; with --no-vgg it replaces it (0: none, default)",
    )
    p.add_argument("--num-workers", type=int_at_least(0), default=0, help="loader processes")
    p.add_argument(
        "--jitter",
        type=int_at_least(0),
        default=0,
        metavar="PX",
        help="random shift of each pair by up to PX pixels (default 0)",
    )
    p.add_argument(
        "--teacher",
        type=Path,
        metavar="RUN",
        help="also learn from this trained run's generator (distillation: an L1 term towards "
        "its frames; a small student from a wide teacher); same frame size",
    )
    p.add_argument(
        "--teacher-weight", type=float_above(0.0), default=10.0, metavar="W",
        help="weight of the teacher's L1 term (10)",
    )  # fmt: skip
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from livedance.errors import LivedanceError

    if args.background_plate and args.local_enhancer:
        raise LivedanceError("--background-plate works with the global generator only")
    if args.minutes is not None and args.decay_from is not None:
        raise LivedanceError("--decay-from counts iterations: it cannot be used with --minutes")
    if args.amp and args.device == "cpu":
        raise LivedanceError("--amp needs a CUDA device")
    if args.lpips_loss < 0.0:
        raise LivedanceError(f"--lpips-loss must be 0 or more (got {args.lpips_loss})")
    from offline.pix2pixhd.train import TrainOptions, train

    options = TrainOptions(
        data_dir=args.data_dir,
        out_dir=args.out,
        size=args.size,
        generator=generator_config(args),
        ndf=args.ndf,
        iterations=args.iterations if args.iterations is not None else 20000,
        minutes=args.minutes,
        budget_clock=args.budget_clock,
        batch_size=args.batch_size,
        lr=args.lr,
        decay_from=args.decay_from,
        device=args.device,
        amp=args.amp,
        sample_every=args.sample_every,
        checkpoint_every=args.checkpoint_every,
        keep_every=args.keep_every,
        seed=args.seed,
        resume=args.resume,
        vgg=not args.no_vgg,
        lpips_loss=args.lpips_loss,
        num_workers=args.num_workers,
        jitter_px=args.jitter,
        progress=not args.no_progress,
        teacher=args.teacher,
        teacher_weight=args.teacher_weight,
    )
    summary = train(options)
    if os.environ.get("RANK", "0") == "0":
        print(json.dumps({k: summary[k] for k in ("iteration", "train_time_s", "final_losses")}))
    return 0
