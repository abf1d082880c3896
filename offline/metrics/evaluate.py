"""``livedance evaluate``: the quality table of a generator (and a baseline), or of two folders.

The OFFLINE ``model --evaluate-> quality table`` step of DESIGN.md:

- `evaluate_model`: runs an exported ONNX generator (onnxruntime, the same contract helpers as the
  live runtime) on the stick figures of a prepared dataset's held-out ``test`` split, and scores
  the generated frames against the real ones; the nearest-neighbour baseline (the training frame
  whose pose is closest, `offline.metrics.keypoints.nearest_poses`) is scored on the same frames.
- `evaluate_folders`: scores any two folders of same-named images (keypoint MSE then compares the
  poses re-detected on both).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from livedance.errors import LivedanceError
from offline.metrics.keypoints import PoseRedetector, nearest_poses, to_pixels
from offline.metrics.table import FrameScorer

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
BATCH_FRAMES = 8


@dataclass
class EvaluationResult:
    """What an evaluation measured.

    Attributes:
        columns: method name -> summary (`offline.metrics.table.summarize`).
        per_frame: method name -> metric -> per-frame values (NaN = not measured).
        info: what was evaluated (paths, split, sizes, timings).
        grid: a sample grid image (BGR), or None.
    """

    columns: dict[str, dict[str, Any]]
    per_frame: dict[str, dict[str, list[float]]]
    info: dict[str, Any] = field(default_factory=dict)
    grid: npt.NDArray[np.uint8] | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON-friendly document (NaN and inf become null)."""

        def clean(values: list[float]) -> list[float | None]:
            return [v if np.isfinite(v) else None for v in values]

        return {
            "table": self.columns,
            "per_frame": {
                m: {k: clean(v) for k, v in d.items()} for m, d in self.per_frame.items()
            },
            **self.info,
        }


def read_image(path: Path) -> npt.NDArray[np.uint8]:
    """Read a BGR uint8 image (alpha dropped, grey expanded); LivedanceError if unreadable."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise LivedanceError(f"cannot read image {path}")
    return image


def _load_lpips(enabled: bool) -> Any:
    if not enabled:
        return None
    try:
        from offline.metrics.lpips import LpipsAlex
    except ImportError as exc:
        raise LivedanceError(
            f"LPIPS needs torch ({exc}): pip install 'livedance[train]', or pass --no-lpips"
        ) from exc
    return LpipsAlex()


def evaluate_folders(
    pred_dir: Path,
    target_dir: Path,
    *,
    limit: int | None = None,
    lpips: bool = True,
    keypoints: bool = True,
    progress: bool = True,
) -> EvaluationResult:
    """Score the images of ``pred_dir`` against the same-named images of ``target_dir``.

    Args:
        pred_dir: generated images.
        target_dir: real images (same file names, same sizes).
        limit: score only the first N pairs (sorted by name).
        lpips: compute LPIPS (needs the installed weights).
        keypoints: keypoint MSE between the poses re-detected on both images (MediaPipe).
        progress: show a progress bar.

    Returns:
        an `EvaluationResult` with one column, ``pred``.

    Raises:
        LivedanceError: missing folders, no images, names that do not match, sizes that differ.
    """
    for folder in (pred_dir, target_dir):
        if not folder.is_dir():
            raise LivedanceError(f"no such folder: {folder}")
    pred = {p.name: p for p in pred_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES}
    target = {p.name: p for p in target_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES}
    if not pred:
        raise LivedanceError(f"{pred_dir} holds no images ({', '.join(IMAGE_SUFFIXES)})")
    only_pred = sorted(pred.keys() - target.keys())
    only_target = sorted(target.keys() - pred.keys())
    if only_pred or only_target:
        parts = []
        if only_pred:
            parts.append(f"{len(only_pred)} only in {pred_dir} (e.g. {only_pred[0]})")
        if only_target:
            parts.append(f"{len(only_target)} only in {target_dir} (e.g. {only_target[0]})")
        raise LivedanceError("the folders do not hold the same image names: " + "; ".join(parts))
    names = sorted(pred)[:limit] if limit else sorted(pred)
    first = read_image(pred[names[0]])
    h, w = first.shape[:2]
    scorer = FrameScorer(w, h, lpips_model=_load_lpips(lpips), keypoints=keypoints)
    ref_detector = PoseRedetector(w, h) if keypoints else None
    try:
        for start in tqdm(
            range(0, len(names), BATCH_FRAMES),
            desc="evaluate",
            unit="batch",
            disable=not progress,
            dynamic_ncols=True,
        ):
            batch = names[start : start + BATCH_FRAMES]
            p_imgs = [read_image(pred[n]) for n in batch]
            t_imgs = [read_image(target[n]) for n in batch]
            for n, p, t in zip(batch, p_imgs, t_imgs, strict=True):
                if p.shape != (h, w, 3) or t.shape != (h, w, 3):
                    raise LivedanceError(
                        f"{n}: sizes differ ({p.shape[1]}x{p.shape[0]} vs {t.shape[1]}x"
                        f"{t.shape[0]}; all images must be {w}x{h})"
                    )
            reference = None
            if ref_detector is not None:
                threshold = ref_detector.min_confidence
                reference = np.stack(
                    [
                        _reference_pose(ref_detector.detect(t, start + i), threshold)
                        for i, t in enumerate(t_imgs)
                    ]
                )
            scorer.add(np.stack(p_imgs), np.stack(t_imgs), reference)
    finally:
        scorer.close()
        if ref_detector is not None:
            ref_detector.close()
    return EvaluationResult(
        columns={"pred": scorer.summary()},
        per_frame={"pred": scorer.values},
        info={
            "pred_dir": str(pred_dir),
            "target_dir": str(target_dir),
            "names": names,
            "size_px": [w, h],
        },
    )


def _reference_pose(pose: npt.NDArray | None, min_confidence: float) -> npt.NDArray:
    """A re-detected target pose as a reference: joints at or below the threshold are missing."""
    if pose is None:
        return np.zeros((18, 3), np.float64)
    out = np.array(pose, np.float64, copy=True)
    out[out[:, 2] <= min_confidence] = 0.0
    return out


def open_generator(model_path: Path) -> tuple[Any, Any]:
    """An onnxruntime session (CPU) on a livedance generator and its checked contract.

    Raises:
        LivedanceError: missing or unreadable model, or one without the livedance contract.
    """
    import onnxruntime as ort

    from livedance.neural.contract import ModelContract

    if not model_path.is_file():
        raise LivedanceError(f"no such model: {model_path} (export one with `livedance export`)")
    options = ort.SessionOptions()
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types for bad files
        raise LivedanceError(f"{model_path} is not a usable ONNX model ({exc})") from exc
    metadata = session.get_modelmeta().custom_metadata_map
    contract = ModelContract.from_metadata(metadata, source=str(model_path))
    return session, contract


def run_generator(session: Any, sticks_bgr: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """Generate BGR uint8 frames from BGR uint8 stick figures with the contract's tensor layout."""
    from livedance.neural.contract import INPUT_NAME, OUTPUT_NAME, output_to_frames, sticks_to_input

    batch_dim = session.get_inputs()[0].shape[0]
    step = batch_dim if isinstance(batch_dim, int) and batch_dim > 0 else len(sticks_bgr)
    outs = []
    for start in range(0, len(sticks_bgr), step):
        x = sticks_to_input(sticks_bgr[start : start + step])
        outs.append(output_to_frames(session.run([OUTPUT_NAME], {INPUT_NAME: x})[0]))
    return np.concatenate(outs)


def evaluate_model(
    model_path: Path,
    data_dir: Path,
    *,
    limit: int | None = None,
    lpips: bool = True,
    keypoints: bool = True,
    baseline: bool = True,
    grid_frames: int = 4,
    progress: bool = True,
) -> EvaluationResult:
    """Score a generator on the held-out ``test`` split of a prepared dataset, beside the baseline.

    Args:
        model_path: exported ONNX generator (with its livedance contract).
        data_dir: prepared dataset (``manifest.json``, ``index.csv``, ``keypoints.npy``, ...).
        limit: score only the first N test frames.
        lpips: compute LPIPS (needs the installed weights).
        keypoints: keypoint MSE (pose re-detected with MediaPipe on the generated frames).
        baseline: also score the nearest-neighbour baseline.
        grid_frames: rows of the sample grid (stick | generated | baseline | real); 0 for none.
        progress: show a progress bar.

    Returns:
        an `EvaluationResult` with columns ``model`` and (if asked) ``nearest neighbour``.

    Raises:
        LivedanceError: not a dataset, no test split, a model that does not fit.
    """
    import time

    from offline.prepare.manifest import KEYPOINTS_NAME, load_manifest, read_index

    manifest = load_manifest(data_dir)
    w, h = manifest.size
    rows = read_index(data_dir)
    test = [r for r in rows if r["split"] == "test"]
    train = [r for r in rows if r["split"] == "train"]
    if not test:
        raise LivedanceError(
            f"{data_dir} has no test split; prepare it with --test-fraction above 0"
        )
    test = test[:limit] if limit else test
    session, contract = open_generator(model_path)
    if (contract.width_px, contract.height_px) != (w, h):
        raise LivedanceError(
            f"{model_path} makes {contract.width_px}x{contract.height_px} frames but {data_dir}"
            f" holds {w}x{h}: evaluate on the dataset the model was trained on"
        )
    keypoints_all = np.load(data_dir / KEYPOINTS_NAME)
    test_px = to_pixels(keypoints_all[[int(r["row"]) for r in test]], w, h)
    nn_rows: list[dict[str, str]] = []
    if baseline:
        train_px = to_pixels(keypoints_all[[int(r["row"]) for r in train]], w, h)
        nn_index, _ = nearest_poses(test_px, train_px)
        nn_rows = [train[i] for i in nn_index]
    lpips_model = _load_lpips(lpips)
    scorers = {"model": FrameScorer(w, h, lpips_model=lpips_model, keypoints=keypoints)}
    if baseline:
        scorers["nearest neighbour"] = FrameScorer(
            w, h, lpips_model=lpips_model, keypoints=keypoints
        )
    grid_at = set(np.linspace(0, len(test) - 1, min(grid_frames, len(test))).round().astype(int))
    grid_rows: list[npt.NDArray[np.uint8]] = []
    generate_s = 0.0
    started = time.perf_counter()
    try:
        for start in tqdm(
            range(0, len(test), BATCH_FRAMES),
            desc="evaluate",
            unit="batch",
            disable=not progress,
            dynamic_ncols=True,
        ):
            batch = test[start : start + BATCH_FRAMES]
            sticks = np.stack([read_image(data_dir / r["stick"]) for r in batch])
            real = np.stack([read_image(data_dir / r["frame"]) for r in batch])
            t0 = time.perf_counter()
            generated = run_generator(session, sticks)
            generate_s += time.perf_counter() - t0
            if generated.shape != real.shape:
                raise LivedanceError(f"{model_path} made frames of shape {generated.shape[1:]}")
            reference = test_px[start : start + len(batch)]
            scorers["model"].add(generated, real, reference)
            nearest = None
            if baseline:
                chosen = nn_rows[start : start + len(batch)]
                nearest = np.stack([read_image(data_dir / r["frame"]) for r in chosen])
                scorers["nearest neighbour"].add(nearest, real, reference)
            for i in range(len(batch)):
                if start + i in grid_at:
                    cells = [sticks[i], generated[i]]
                    cells += [nearest[i]] if nearest is not None else []
                    grid_rows.append(np.concatenate([*cells, real[i]], axis=1))
    finally:
        for scorer in scorers.values():
            scorer.close()
    total_s = time.perf_counter() - started
    n = len(test)
    info = {
        "model": str(model_path),
        "dataset": str(data_dir),
        "split": "test",
        "n_test_frames": n,
        "n_train_frames": len(train),
        "size_px": [w, h],
        "frames": [r["frame"] for r in test],
        "nearest_neighbour_frames": [r["frame"] for r in nn_rows],
        "generator": contract.generator,
        "timing": {
            "total_s": round(total_s, 3),
            "per_frame_ms": round(1000 * total_s / n, 2),
            "generator_ms_per_frame": round(1000 * generate_s / n, 2),
        },
    }
    return EvaluationResult(
        columns={name: s.summary() for name, s in scorers.items()},
        per_frame={name: s.values for name, s in scorers.items()},
        info=info,
        grid=np.concatenate(grid_rows, axis=0) if grid_rows else None,
    )


def label_grid(grid: npt.NDArray[np.uint8], labels: list[str]) -> npt.NDArray[np.uint8]:
    """The sample grid with a caption strip naming its columns."""
    cell_w = grid.shape[1] // len(labels)
    strip = np.zeros((24, grid.shape[1], 3), np.uint8)
    for i, text in enumerate(labels):
        cv2.putText(
            strip,
            text,
            (i * cell_w + 6, 17),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.5,
            (255, 255, 255),
            1,
            cv2.LINE_AA,
        )
    return np.concatenate([strip, grid], axis=0)
