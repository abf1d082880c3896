"""Export a trained generator to ONNX with its contract, check parity, optionally fp16 / int8.

DESIGN.md data flow: RUN_DIR (checkpoint + ``run.json``) -> *export* -> ``model.onnx`` read by
`livedance.neural` at show time. The model carries a `ModelContract` in ``metadata_props`` (size,
value range, skeleton, the Body of the dataset, generator numbers, training summary). Parity
with torch is checked on real stick figures from the dataset (test split when it has one).
"""

from __future__ import annotations

import contextlib
import logging
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from livedance.body import Body
from livedance.errors import LivedanceError
from livedance.neural.contract import INPUT_NAME, OUTPUT_NAME, PLATE_NAME, ModelContract
from offline.pix2pixhd.checkpoint import load_generator

log = logging.getLogger(__name__)
OPSET = 17
PARITY_TOLERANCE = 1e-3


@dataclass
class ExportReport:
    """What `export_onnx` wrote and measured.

    Attributes:
        path: the fp32 model.
        parity_max_abs: max |onnxruntime - torch| over the parity inputs (fp32 model).
        parity_mean_abs: mean of the same.
        n_parity_inputs: stick figures used.
        variants: ``fp16``/``int8`` -> {path, max_abs_vs_fp32, mean_abs_vs_fp32, ms_per_frame}.
        fp32_ms_per_frame: onnxruntime CPU time for one frame (batch 1).
    """

    path: Path
    parity_max_abs: float
    parity_mean_abs: float
    n_parity_inputs: int
    fp32_ms_per_frame: float
    variants: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly view."""
        return {
            "path": str(self.path),
            "parity_max_abs": self.parity_max_abs,
            "parity_mean_abs": self.parity_mean_abs,
            "n_parity_inputs": self.n_parity_inputs,
            "fp32_ms_per_frame": round(self.fp32_ms_per_frame, 3),
            "variants": self.variants,
        }


def parity_inputs(run: dict, n: int = 8) -> np.ndarray:
    """Up to ``n`` real model inputs ``(n, 3, h, w)``: sticks of the run's dataset (test split
    first, else train).

    Raises:
        LivedanceError: the dataset is gone (parity must use real inputs).
    """
    from offline.pix2pixhd.data import PairDataset

    size = (run["size"]["width"], run["size"]["height"])
    root = Path(run["dataset"])
    for split in ("test", "train"):
        try:
            data = PairDataset(root, split, size=size, cache=False)
        except LivedanceError as exc:
            last = exc
            continue
        picks = np.linspace(0, len(data) - 1, min(n, len(data))).round().astype(int)
        return np.stack([data[int(i)][0].numpy() for i in dict.fromkeys(picks)])
    raise LivedanceError(f"parity check needs the run's dataset: {last}")


def _session(path: Path) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _run(session: Any, x: np.ndarray) -> np.ndarray:
    dtype = np.float16 if session.get_inputs()[0].type == "tensor(float16)" else np.float32
    return np.asarray(session.run([OUTPUT_NAME], {INPUT_NAME: x.astype(dtype)})[0], np.float32)


def _ms_per_frame(session: Any, x: np.ndarray, repeats: int = 5) -> float:
    one = x[:1]
    _run(session, one)
    t0 = time.perf_counter()
    for _ in range(repeats):
        _run(session, one)
    return (time.perf_counter() - t0) * 1000.0 / repeats


def export_onnx(
    run_dir: Path,
    out_path: Path,
    *,
    checkpoint: Path | None = None,
    fp16: bool = False,
    int8: bool = False,
) -> ExportReport:
    """Write ``out_path`` (fp32), check parity, and optionally ``*.fp16.onnx`` / ``*.int8.onnx``.

    Args:
        run_dir: a `livedance train` run folder.
        out_path: the ONNX file to write.
        checkpoint: a checkpoint other than ``checkpoints/latest.pt``.
        fp16: also write an fp16 model (for GPUs; onnxconverter-common).
        int8: also write a statically quantised int8 model (for CPUs), calibrated on dataset sticks.

    Returns:
        the measurements.

    Raises:
        LivedanceError: bad run folder, parity above `PARITY_TOLERANCE`, a missing optional package.
    """

    net, run = load_generator(run_dir, checkpoint)
    x = parity_inputs(run)
    contract = ModelContract(
        width_px=run["size"]["width"],
        height_px=run["size"]["height"],
        body=Body.from_dict(run["body"]),
        generator=run["generator"],
        training={
            k: run.get(k)
            for k in (
                "iteration",
                "train_time_s",
                "n_train_frames",
                "batch_size",
                "world_size",
                "dataset_source",
                "final_losses",
                "vgg_loss",
                "budget",
            )
        },
    )
    try:
        out_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = out_path.with_name(f".{out_path.name}.tmp")
        write_onnx(net, torch.from_numpy(x[:1]), tmp, contract)
        tmp.replace(out_path)
    except OSError as exc:
        raise LivedanceError(f"cannot write {out_path} ({exc.strerror or exc})") from None
    with torch.no_grad():
        want = net(torch.from_numpy(x)).numpy()
    session = _session(out_path)
    reference = _run(session, x)
    diff = np.abs(reference - want)
    report = ExportReport(
        out_path, float(diff.max()), float(diff.mean()), len(x), _ms_per_frame(session, x)
    )
    if report.parity_max_abs >= PARITY_TOLERANCE:
        raise LivedanceError(
            f"ONNX parity failed: max |onnx - torch| = {report.parity_max_abs:.2e} "
            f">= {PARITY_TOLERANCE:g} ({out_path})"
        )
    if fp16:
        report.variants["fp16"] = _variant(out_path, ".fp16.onnx", _to_fp16, x, reference)
    if int8:
        report.variants["int8"] = _variant(
            out_path, ".int8.onnx", lambda src, dst: _to_int8(src, dst, x), x, reference
        )
    return report


def write_onnx(net: torch.nn.Module, example: torch.Tensor, path: Path, contract: Any) -> None:
    """Export generator ``net`` to ``path`` (opset `OPSET`, dynamic batch) with ``contract``.

    Args:
        net: the generator, in eval mode.
        example: one input ``(1, 3, h, w)`` of the size the contract promises.
        path: the ``.onnx`` file to write.
        contract: the `ModelContract` stored in ``metadata_props``.
    """
    import onnx

    with warnings.catch_warnings():  # the legacy exporter's notes on Slice and InstanceNorm
        warnings.simplefilter("ignore")
        torch.onnx.export(
            net,
            (example,),
            str(path),
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            opset_version=OPSET,
            dynamo=False,
            dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
        )
    model = onnx.load(str(path))
    if getattr(net, "plate", None) is not None:
        _output_the_plate(model)
    _set_metadata(model, contract.to_metadata())
    onnx.save(model, str(path))


def _output_the_plate(model: Any) -> None:
    """Make a plate generator's background a second output, `PLATE_NAME` ``(1, 3, h, w)``.

    The room the generator paints the person over is a weight (the initializer ``plate``); as an
    output, the show reads it once when it loads the model and knows the room exactly, so a video
    output's matte needs no learning (`livedance.show.matte.PlateMatte`).
    """
    import onnx
    from onnx import helper

    plate = next((i for i in model.graph.initializer if i.name == "plate"), None)
    if plate is None:
        raise LivedanceError("the exported plate generator has no initializer named 'plate'")
    weight = "plate_weight"  # the output takes the name the weight had
    plate.name = weight
    for node in model.graph.node:
        node.input[:] = [weight if name == "plate" else name for name in node.input]
    model.graph.node.append(helper.make_node("Identity", [weight], [PLATE_NAME], "plate_out"))
    model.graph.output.append(
        helper.make_tensor_value_info(PLATE_NAME, onnx.TensorProto.FLOAT, list(plate.dims))
    )


def _set_metadata(model: Any, metadata: dict[str, str]) -> None:
    keep = [p for p in model.metadata_props if p.key not in metadata]
    del model.metadata_props[:]
    model.metadata_props.extend(keep)
    for key, value in metadata.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value


def _variant(src: Path, suffix: str, convert: Any, x: np.ndarray, ref: np.ndarray) -> dict:
    dst = src.with_name(src.name.removesuffix(".onnx") + suffix)
    convert(src, dst)
    session = _session(dst)
    diff = np.abs(_run(session, x) - ref)
    return {
        "path": str(dst),
        "max_abs_vs_fp32": float(diff.max()),
        "mean_abs_vs_fp32": float(diff.mean()),
        "ms_per_frame_cpu": round(_ms_per_frame(session, x), 3),
    }


def _to_fp16(src: Path, dst: Path) -> None:
    import onnx

    try:
        from onnxconverter_common import float16
    except ImportError:
        raise LivedanceError(
            "--fp16 needs onnxconverter-common (pip install onnxconverter-common)"
        ) from None
    model = onnx.load(str(src))
    metadata = {p.key: p.value for p in model.metadata_props}
    with warnings.catch_warnings():  # notes on every weight below fp16's smallest normal
        warnings.simplefilter("ignore")
        half = float16.convert_float_to_float16(model, keep_io_types=False)
    _set_metadata(half, metadata)
    onnx.save(half, str(dst))


def _to_int8(src: Path, dst: Path, calibration: np.ndarray) -> None:
    """Static QDQ int8 (per-channel weights), calibrated on the dataset's sticks."""
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.items = iter(
                [{INPUT_NAME: calibration[i : i + 1]} for i in range(len(calibration))]
            )

        def get_next(self) -> dict | None:
            return next(self.items, None)

    with _quiet_root_logger():  # its advice about pre-processing, per layer
        quantize_static(
            str(src),
            str(dst),
            Reader(),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
        )
    model = onnx.load(str(dst))
    _set_metadata(model, {p.key: p.value for p in onnx.load(str(src)).metadata_props})
    onnx.save(model, str(dst))


@contextlib.contextmanager
def _quiet_root_logger() -> Any:
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)
