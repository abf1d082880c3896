"""ONNX Runtime set-up: which device the generator can really use, and session options.

Part of the "frame renderer (ONNX generator)" box of DESIGN.md, split from `generator` so the
probing rules live in one place: ONNX Runtime GPU builds list CUDA and TensorRT even on a machine
without a GPU, so a device is only asked for when a GPU and its libraries are really there.
"""

from __future__ import annotations

import ctypes.util
import glob
import os
from pathlib import Path
from typing import Any

from livedance.errors import LivedanceError

DEVICES = ("auto", "cpu", "cuda", "tensorrt")
_PROVIDER = {
    "tensorrt": "TensorrtExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "cpu": "CPUExecutionProvider",
}


def import_onnxruntime() -> Any:
    """ONNX Runtime, or a clear error saying how to install it."""
    try:
        import onnxruntime
    except ImportError:
        raise LivedanceError(
            "the neural renderer needs ONNX Runtime: pip install 'livedance[neural]' "
            "(or use --stick)"
        ) from None
    return onnxruntime


def gpu_visible() -> bool:
    """Whether an NVIDIA GPU and its driver are visible to this process."""
    if os.environ.get("CUDA_VISIBLE_DEVICES", None) in ("", "-1"):
        return False
    return bool(glob.glob("/dev/nvidia[0-9]*")) or Path("/proc/driver/nvidia/gpus").is_dir()


def _library_present(name: str) -> bool:
    """Whether a shared library can be found by the loader or in the pip `nvidia-*` wheels."""
    if ctypes.util.find_library(name):
        return True
    try:
        import nvidia  # the [cuda,cudnn] extras' wheels
    except ImportError:
        return False
    roots = [str(p) for p in getattr(nvidia, "__path__", [])]
    return any(glob.glob(os.path.join(root, "*", "lib", f"lib{name}.so*")) for root in roots)


def usable_devices() -> tuple[str, ...]:
    """The devices this machine can really run on, best first (always ends with ``"cpu"``).

    ONNX Runtime GPU builds list CUDA and TensorRT even without a GPU, and asking for them then
    prints an alarming error before falling back; so probe for a GPU and the libraries first.
    """
    ort = import_onnxruntime()
    available = set(ort.get_available_providers())
    found: list[str] = []
    cuda_ok = (
        _PROVIDER["cuda"] in available
        and gpu_visible()
        and _library_present("cudart")
        and _library_present("cudnn")
    )
    if cuda_ok:
        if _PROVIDER["tensorrt"] in available and _library_present("nvinfer"):
            found.append("tensorrt")
        found.append("cuda")
    found.append("cpu")
    return tuple(found)


def choose_providers(device: str = "auto") -> list[str]:
    """ONNX Runtime providers for ``device`` (``auto``: the best usable one), CPU always last.

    Raises:
        LivedanceError: ``device`` names a GPU this machine cannot use.
    """
    if device not in DEVICES:
        raise LivedanceError(f"unknown device {device!r}: choose from {', '.join(DEVICES)}")
    usable = usable_devices()
    if device == "auto":
        chosen = usable[0]
    elif device in usable:
        chosen = device
    else:
        reason = "no NVIDIA GPU is visible" if not gpu_visible() else "its libraries are missing"
        raise LivedanceError(
            f"--device {device}: not usable here ({reason}); use --device cpu or auto"
        )
    order = ("tensorrt", "cuda", "cpu")
    return [_PROVIDER[d] for d in order[order.index(chosen) :] if d == "cpu" or d in usable]


def session_options(threads: int | None = None, *, profile_prefix: str | None = None) -> Any:
    """Session options tuned for a small CPU: all graph optimisations, one op at a time.

    Args:
        threads: intra-op threads (default: every core this process may use).
        profile_prefix: when given, ONNX Runtime writes a JSON profile with this file prefix.
    """
    ort = import_onnxruntime()
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    # A convolution chain has no parallel branches: inter-op threads would only compete for the
    # same cores as the intra-op pool.
    opts.inter_op_num_threads = 1
    opts.intra_op_num_threads = threads or len(os.sched_getaffinity(0))
    opts.enable_cpu_mem_arena = True
    opts.enable_mem_pattern = True  # same shapes every frame: plan buffers once
    opts.log_severity_level = 3
    if profile_prefix is not None:
        opts.enable_profiling = True
        opts.profile_file_prefix = profile_prefix
    return opts
