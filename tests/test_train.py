"""pix2pixHD training, resume, DDP and ONNX export on a tiny synthetic dataset (offline/pix2pixhd)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from livedance.body import Body  # noqa: E402
from livedance.skeleton import render_sticks  # noqa: E402
from offline.prepare.crop import CropBox  # noqa: E402
from offline.prepare.manifest import (  # noqa: E402
    FILE_PATTERN,
    FRAMES_DIR,
    INDEX_NAME,
    MANIFEST_NAME,
    STICKS_DIR,
    Manifest,
    Split,
    index_csv,
    split_rows,
)
from offline.weights import weights_installed  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SIZE = 32


def make_dataset(root: Path, n_frames: int = 10, size: int = SIZE) -> Path:
    """A prepared-dataset folder: random poses drawn by the runtime renderer, and 'real' frames
    that are a deterministic function of the stick (a coloured, blurred person on grey)."""
    rng = np.random.default_rng(0)
    poses = np.concatenate(
        [rng.uniform(0.2, 0.8, (n_frames, 18, 2)), np.ones((n_frames, 18, 1))], axis=2
    ).astype(np.float32)
    sticks = render_sticks(poses, size, size)
    (root / FRAMES_DIR).mkdir(parents=True)
    (root / STICKS_DIR).mkdir()
    for i, stick in enumerate(sticks):
        frame = cv2.GaussianBlur(cv2.dilate(stick, np.ones((3, 3), np.uint8)), (5, 5), 0)
        frame = np.clip(frame.astype(np.int32) // 2 + 90, 0, 255).astype(np.uint8)
        cv2.imwrite(str(root / FRAMES_DIR / FILE_PATTERN.format(sample=i)), frame)
        cv2.imwrite(str(root / STICKS_DIR / FILE_PATTERN.format(sample=i)), stick)
    fps = 10.0
    time_s = np.arange(n_frames) / fps
    labels, test_start_s = split_rows(time_s, n_frames / fps, 0.2, 0.0)
    index = np.arange(n_frames)
    (root / INDEX_NAME).write_text(index_csv(index, time_s, index, labels))
    manifest = Manifest(
        source={"path": "synthetic"},
        pose_source="synthetic",
        fps=fps,
        size=(size, size),
        crop=CropBox(0, 0, size, size),
        n_samples=n_frames,
        n_frames=n_frames,
        detection_rate=1.0,
        split=Split(
            0.2, 0.0, test_start_s, int((labels == "train").sum()), int((labels == "test").sum()), 0
        ),
        body=Body(),
        person_height=None,
        settings={},
        livedance_version="test",
    )
    (root / MANIFEST_NAME).write_text(json.dumps(manifest.to_dict()))
    np.save(root / "keypoints.npy", poses)
    return root


TINY = ["--ngf", "4", "--ndf", "4", "--n-downsample", "2", "--n-blocks", "1", "--no-progress"]


def train_cli(data: Path, out: Path, *extra: str) -> int:
    """`livedance train` in this process (fast; no interpreter start-up)."""
    from livedance.cli import main

    return main(["train", str(data), "--out", str(out), *TINY, *extra])


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_dataset(tmp_path_factory.mktemp("p2p") / "data")


def test_networks_follow_the_contract_layout() -> None:
    from offline.pix2pixhd.networks import (
        GeneratorConfig,
        MultiscaleDiscriminator,
        build_generator,
    )

    x = torch.rand(2, 3, 32, 48) * 2 - 1
    for local in (False, True):
        net = build_generator(GeneratorConfig(4, 2, 1, local_enhancer=local))
        y = net(x)
        assert y.shape == x.shape and y.abs().max() <= 1.0
    outputs = MultiscaleDiscriminator(ndf=4, num_d=3)(torch.cat([x, x], 1))
    assert len(outputs) == 3 and all(len(o) == 5 for o in outputs)  # n_layers 3 + first + score
    assert outputs[0][-1].shape[-1] > outputs[1][-1].shape[-1] > outputs[2][-1].shape[-1]


def test_background_plate_starts_from_the_frames_background_and_exports(
    data: Path, tmp_path: Path
) -> None:
    import onnxruntime as ort

    from livedance.neural.contract import ModelContract
    from offline.pix2pixhd.data import PairDataset, background_plate

    plate = background_plate(PairDataset(data, "train"))
    assert plate.shape == (1, 3, SIZE, SIZE)
    grey = 90 / 127.5 - 1  # the synthetic frames' background (the person is drawn over it)
    assert float((plate - grey).abs().median()) < 0.01

    assert train_cli(data, tmp_path / "run", "--background-plate", "--jitter", "2",
                     "--iterations", "2", "--no-vgg") == 0  # fmt: skip
    from livedance.cli import main

    model = tmp_path / "plate.onnx"
    assert main(["export", str(tmp_path / "run"), "-o", str(model)]) == 0
    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    contract = ModelContract.from_metadata(session.get_modelmeta().custom_metadata_map)
    assert contract.generator["background_plate"] is True
    out = session.run(["frame"], {"stick": -np.ones((2, 3, SIZE, SIZE), np.float32)})[0]
    assert out.shape == (2, 3, SIZE, SIZE) and np.abs(out).max() <= 1.0


def test_a_plate_model_tells_the_show_its_room(data: Path, tmp_path: Path) -> None:
    """The room a plate generator paints over is exported as a second output, so the video
    outputs' matte knows it exactly (issue 19: models with a plate already know the mask)."""
    import torch

    from livedance.cli import main
    from livedance.neural.contract import output_to_frames
    from livedance.neural.generator import NeuralRenderer
    from livedance.render import ScaledRenderer
    from livedance.show.videoout import background_of

    for plate in (True, False):
        run = tmp_path / f"run-{plate}"
        extra = ["--background-plate"] if plate else []
        assert train_cli(data, run, *extra, "--iterations", "1", "--no-vgg") == 0
        model = tmp_path / f"model-{plate}.onnx"
        assert main(["export", str(run), "-o", str(model)]) == 0
        renderer = NeuralRenderer(model)
        if not plate:
            assert renderer.room_plate is None
            assert background_of(renderer)().room is None
            continue
        trained = torch.load(run / "checkpoints" / "latest.pt", weights_only=False)
        want = output_to_frames(trained["net_g"]["plate"].numpy())[0]
        assert renderer.room_plate is not None and renderer.room_plate.shape == (SIZE, SIZE, 3)
        assert np.abs(renderer.room_plate.astype(int) - want).max() <= 1
        shown = background_of(ScaledRenderer(renderer, 2 * SIZE))()
        assert shown.room is not None and shown.room.shape == (2 * SIZE, 2 * SIZE, 3)
        assert not shown.drawn_on_black


def test_losses() -> None:
    from offline.pix2pixhd.losses import (
        VGGLoss,
        build_vgg16_features,
        feature_matching_loss,
        lsgan_loss,
    )

    ones = [[torch.zeros(1, 2, 4, 4), torch.ones(1, 1, 4, 4)]]
    assert float(lsgan_loss(ones, True)) == 0.0 and float(lsgan_loss(ones, False)) == 1.0
    assert float(feature_matching_loss(ones, ones)) == 0.0
    torch.manual_seed(0)
    weights = {f"features.{k}": v.numpy() for k, v in build_vgg16_features().state_dict().items()}
    vgg = VGGLoss(weights)
    a, b = torch.rand(1, 3, 32, 32) * 2 - 1, torch.rand(1, 3, 32, 32) * 2 - 1
    assert float(vgg(a, a)) == 0.0 and float(vgg(a, b)) > 0.0
    assert torch.equal(vgg.features[0].weight, torch.as_tensor(weights["features.0.weight"]))
    assert not any(p.requires_grad for p in vgg.parameters())
    assert len(vgg.features) == 26  # the feature loss alone stops at relu5_1, as before


def _person_image(size_px: int, shift_px: int = 0) -> torch.Tensor:
    """A blurred stick person on grey, ``(1, 3, s, s)`` in [-1, 1], moved ``shift_px`` right."""
    pose = np.concatenate([np.random.default_rng(3).uniform(0.3, 0.7, (1, 18, 2)),
                           np.ones((1, 18, 1))], axis=2).astype(np.float32)  # fmt: skip
    stick = render_sticks(pose, size_px, size_px)[0]
    image = cv2.GaussianBlur(cv2.dilate(stick, np.ones((5, 5), np.uint8)), (7, 7), 0) // 2 + 90
    image = np.roll(image, shift_px, axis=1)
    return torch.from_numpy(image.transpose(2, 0, 1)[None].astype(np.float32) / 127.5 - 1.0)


@pytest.mark.skipif(
    not weights_installed(), reason="pretrained weights not installed: `livedance weights install`"
)
def test_lpips_vgg_loss_is_zero_for_the_same_image_grows_with_a_shift_and_trains() -> None:
    from offline.pix2pixhd.losses import VGGLoss

    lpips = VGGLoss(feature_weight=0.0, lpips_weight=1.0)
    image = _person_image(64)
    near, far = _person_image(64, 2), _person_image(64, 8)
    assert float(lpips(image, image)) == 0.0
    assert 0.0 < float(lpips(near, image)) < float(lpips(far, image))
    # beside the feature loss, on the same VGG pass: each term as it is alone
    both = VGGLoss(lpips_weight=30.0)
    features, perceptual = both.terms(far, image)
    assert float(features) == pytest.approx(float(VGGLoss()(far, image)), rel=1e-5)
    assert float(perceptual) == pytest.approx(30.0 * float(lpips(far, image)), rel=1e-5)
    # it is a training loss: the gradient reaches the generated image, not the network
    fake = far.clone().requires_grad_(True)
    both(fake, image).backward()
    assert fake.grad is not None and float(fake.grad.abs().sum()) > 0.0
    assert not any(p.requires_grad for p in both.parameters())
    with pytest.raises(ValueError, match="weight"):
        VGGLoss(feature_weight=0.0)


@pytest.mark.skipif(
    not weights_installed(), reason="pretrained weights not installed: `livedance weights install`"
)
def test_train_with_lpips_loss_logs_it_and_exports_the_same_onnx_contract(
    data: Path, tmp_path: Path
) -> None:
    import onnx

    from livedance.cli import main

    flags = ["--render-scale", "0.5", "--background-plate", "--retrieval", "8"]
    signatures = []
    for name, loss in (("plain", ["--no-vgg"]), ("lpips", ["--lpips-loss", "30", "--no-vgg"])):
        run, model = tmp_path / name, tmp_path / f"{name}.onnx"
        assert train_cli(data, run, *flags, *loss, "--iterations", "2") == 0
        report = tmp_path / f"{name}.json"
        assert main(["export", str(run), "-o", str(model), "--json", str(report)]) == 0
        assert json.loads(report.read_text())["parity_max_abs"] < 1e-3
        graph = onnx.load(str(model)).graph
        signatures.append(
            [(v.name, str(v.type.tensor_type)) for v in (*graph.input, *graph.output)]
        )
    assert signatures[0] == signatures[1]
    header, *rows = (tmp_path / "lpips" / "log.csv").read_text().splitlines()
    columns = dict(zip(header.split(","), rows[-1].split(","), strict=True))
    assert float(columns["g_lpips"]) > 0.0 and float(columns["g_vgg"]) == 0.0
    assert json.loads((tmp_path / "lpips" / "run.json").read_text())["lpips_vgg_loss"] == 30.0


def test_negative_lpips_loss_is_refused_in_one_line(data: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert train_cli(data, tmp_path / "run", "--lpips-loss", "-1") != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--lpips-loss" in err[0]


def test_learning_rate_is_constant_then_linear() -> None:
    from offline.pix2pixhd.train import TrainOptions, learning_rate

    options = TrainOptions(Path("d"), Path("o"), iterations=100, lr=2e-4, decay_from=60)
    assert learning_rate(options, 0) == learning_rate(options, 59) == 2e-4
    assert learning_rate(options, 80) == pytest.approx(1e-4)
    assert learning_rate(options, 100) == 0.0


class FakeClock:
    """A budget clock that advances one second per reading and can 'kill' the run."""

    def __init__(self, start_s: float = 0.0, kill_after: int | None = None) -> None:
        self.now_s, self.reads, self.kill_after = start_s, 0, kill_after

    def __call__(self) -> float:
        self.reads += 1
        if self.kill_after is not None and self.reads > self.kill_after:
            raise KeyboardInterrupt  # the process dies here: nothing after this is saved
        self.now_s += 1.0
        return self.now_s


def test_budget_schedule_follows_the_used_fraction() -> None:
    from offline.pix2pixhd.schedule import Budget

    budget = Budget(minutes=1.0, used_s=15.0, decay_from_fraction=0.5)
    assert budget.learning_rate(2e-4, 0.0) == budget.learning_rate(2e-4, 29.9) == 2e-4
    assert budget.learning_rate(2e-4, 45.0) == pytest.approx(1e-4)
    assert budget.learning_rate(2e-4, 60.0) == budget.learning_rate(2e-4, 70.0) == 0.0
    assert budget.used_s() >= 15.0  # the resumed part counts


def test_minutes_budget_trains_until_spent_and_resumes_the_same_budget_after_a_kill(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from offline.pix2pixhd import schedule
    from offline.pix2pixhd.checkpoint import load_checkpoint

    common = ["--minutes", "0.1", "--checkpoint-every", "2", "--no-vgg"]  # 6 s of fake clock
    monkeypatch.setitem(schedule.CLOCKS, "wall", FakeClock())
    assert train_cli(data, tmp_path / "whole", *common) == 0
    whole = json.loads((tmp_path / "whole" / "run.json").read_text())
    assert whole["iterations_planned"] is None and whole["budget"]["clock"] == "wall"
    assert 6.0 <= whole["budget"]["used_s"] < 7.0
    n_whole = whole["iteration"]
    rates = [float(r.split(",")[2]) for r in (tmp_path / "whole/log.csv").read_text().split()[1:]]
    assert rates[0] == 2e-4 and rates[-1] < 1e-4  # decayed over the second half of the budget

    run = tmp_path / "killed"
    monkeypatch.setitem(schedule.CLOCKS, "wall", FakeClock(kill_after=5))
    assert train_cli(data, run, *common) != 0  # killed
    saved = load_checkpoint(run / "checkpoints/latest.pt")
    assert saved["iteration"] == 2 and 0.0 < saved["budget_used_s"] < 6.0
    monkeypatch.setitem(schedule.CLOCKS, "wall", FakeClock(start_s=1000.0))
    assert train_cli(data, run, *common, "--resume") == 0
    resumed = json.loads((run / "run.json").read_text())
    assert 6.0 <= resumed["budget"]["used_s"] < 7.0  # the same budget, not a second one
    assert saved["iteration"] < resumed["iteration"] <= n_whole  # continued, not restarted
    rows = [int(r.split(",")[0]) for r in (run / "log.csv").read_text().split()[1:]]
    assert rows == list(range(1, resumed["iteration"] + 1))
    before = (run / "checkpoints/latest.pt").read_bytes()  # a spent budget: nothing to do
    assert train_cli(data, run, *common, "--resume") == 0
    assert (run / "checkpoints/latest.pt").read_bytes() == before


def test_atomic_checkpoint_survives_a_failed_write(tmp_path: Path) -> None:
    from offline.pix2pixhd.checkpoint import atomic_write, load_checkpoint, save_checkpoint

    path = tmp_path / "latest.pt"
    save_checkpoint(path, {"iteration": 3, "w": torch.ones(2)})

    def crash(f: object) -> None:
        f.write(b"half a checkpoint")  # type: ignore[attr-defined]
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(path, crash)
    assert load_checkpoint(path)["iteration"] == 3
    assert [p.name for p in tmp_path.iterdir()] == ["latest.pt"]


def test_train_resume_export(data: Path, tmp_path: Path) -> None:
    import onnx
    import onnxruntime as ort

    from livedance.neural.contract import ModelContract
    from offline.pix2pixhd.checkpoint import load_checkpoint

    common = ["--checkpoint-every", "2", "--sample-every", "2", "--decay-from", "100"]
    common += ["--jitter", "2", "--no-vgg"]
    assert train_cli(data, tmp_path / "a", *common, "--iterations", "4", "--keep-every", "4") == 0
    run_a = tmp_path / "a"
    kept = sorted(p.name for p in (run_a / "checkpoints").glob("it_*.pt"))
    assert kept == ["it_000004.pt"]  # --keep-every: a checkpoint per 4 iterations beside latest
    assert (run_a / "samples" / "iter_0000004.png").is_file()
    grid = cv2.imread(str(run_a / "samples" / "iter_0000002.png"))
    assert grid.shape[1] == 3 * SIZE and grid.shape[0] % SIZE == 0
    log_lines = (run_a / "log.csv").read_text().splitlines()
    assert log_lines[0].startswith("iteration,") and len(log_lines) == 5
    run = json.loads((run_a / "run.json").read_text())
    assert run["iteration"] == 4 and run["body"] == Body().to_dict()

    # an interrupted run (2 iterations) resumed to 4 gives exactly the uninterrupted result
    run_b = tmp_path / "b"
    assert train_cli(data, run_b, *common, "--iterations", "2") == 0
    assert train_cli(data, run_b, *common, "--iterations", "4", "--resume") == 0
    a, b = (
        load_checkpoint(run_a / "checkpoints/latest.pt"),
        load_checkpoint(run_b / "checkpoints/latest.pt"),
    )
    assert a["iteration"] == b["iteration"] == 4
    for name in ("net_g", "net_d"):
        for key, value in a[name].items():
            assert torch.equal(value, b[name][key]), (name, key)
    losses = [line.split(",")[3:] for line in log_lines[1:]]
    resumed = [line.split(",")[3:] for line in (run_b / "log.csv").read_text().splitlines()[1:]]
    assert resumed == losses
    before = (run_b / "checkpoints/latest.pt").read_bytes()  # a finished run resumed: no-op
    assert train_cli(data, run_b, *common, "--iterations", "4", "--resume") == 0
    assert (run_b / "checkpoints/latest.pt").read_bytes() == before

    from livedance.cli import main

    model = tmp_path / "model.onnx"
    report_path = tmp_path / "export.json"
    variants = ["--int8"]
    try:
        import onnxconverter_common  # noqa: F401

        variants.append("--fp16")
    except ImportError:
        pass
    args = ["export", str(run_a), "-o", str(model), "--json", str(report_path), *variants]
    assert main(args) == 0
    report = json.loads(report_path.read_text())
    assert 0.0 <= report["parity_max_abs"] < 1e-3
    assert len(report["variants"]) == len(variants)
    for variant in report["variants"].values():
        assert 0.0 <= variant["mean_abs_vs_fp32"] <= variant["max_abs_vs_fp32"] < 1.0
        quantised = ort.InferenceSession(variant["path"], providers=["CPUExecutionProvider"])
        ModelContract.from_metadata(quantised.get_modelmeta().custom_metadata_map)
    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    contract = ModelContract.from_metadata(session.get_modelmeta().custom_metadata_map)
    assert (contract.width_px, contract.height_px) == (SIZE, SIZE)
    assert contract.body == Body() and contract.generator["ngf"] == 4
    assert contract.training["iteration"] == 4
    assert onnx.load(str(model)).opset_import[0].version >= 17
    out = session.run(["frame"], {"stick": np.zeros((3, 3, SIZE, SIZE), np.float32)})[0]
    assert out.shape == (3, 3, SIZE, SIZE)  # dynamic batch


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing", "does not exist"),
        ("not_dataset", "not a prepared dataset"),
        ("unwritable", "cannot write to the run folder"),
        ("resume_nothing", "no checkpoint"),
    ],
)
def test_clear_errors(data: Path, tmp_path: Path, case: str, message: str, capsys) -> None:  # type: ignore[no-untyped-def]
    args: list[str] = []
    target, out = data, tmp_path / "run"
    if case == "missing":
        target = tmp_path / "nowhere"
    elif case == "not_dataset":
        target = tmp_path
    elif case == "unwritable":
        (tmp_path / "file").write_text("")
        out = tmp_path / "file" / "run"
    else:
        args = ["--resume"]
    assert train_cli(target, out, "--iterations", "1", "--no-vgg", *args) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err


def test_bad_flags_and_export_errors(tmp_path: Path) -> None:
    from conftest import run_cli

    result = run_cli("train", str(tmp_path), "--out", str(tmp_path / "r"), "--ngf", "0")
    assert result.returncode == 2 and "--ngf" in result.stderr
    result = run_cli("export", str(tmp_path), "-o", str(tmp_path / "m.onnx"))
    assert result.returncode != 0 and "not a training run" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_two_process_ddp_on_cpu(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    cmd += ["-m", "livedance", "train", str(data), "--out", str(out), *TINY]
    cmd += ["--iterations", "3", "--checkpoint-every", "2", "--device", "cpu", "--no-vgg"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    run = json.loads((out / "run.json").read_text())
    assert run["world_size"] == 2 and run["iteration"] == 3
    assert len((out / "log.csv").read_text().splitlines()) == 4  # rank 0 logs once per iteration
    assert (out / "checkpoints" / "latest.pt").is_file()


def test_a_student_learns_from_its_teacher(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`train --teacher RUN` (issue 15): the student's frames come out nearer the teacher's than
    the same student's trained without it, and the run says who taught it; a teacher of another
    frame size is refused in one line."""
    import torch

    from offline.pix2pixhd.checkpoint import load_generator
    from offline.pix2pixhd.data import PairDataset

    teacher = tmp_path / "teacher"
    assert train_cli(data, teacher, "--iterations", "20", "--no-vgg", "--ngf", "8") == 0
    students = {}
    for name, extra in (
        ("alone", []),
        ("taught", ["--teacher", str(teacher), "--teacher-weight", "100"]),
    ):
        run = tmp_path / name
        assert train_cli(data, run, "--iterations", "20", "--no-vgg", "--lr", "1e-3", *extra) == 0
        students[name] = load_generator(run)
    sticks = torch.stack([PairDataset(data, "train")[i][0] for i in range(6)])
    with torch.no_grad():
        target = load_generator(teacher)[0](sticks)
        gap = {k: float((net(sticks) - target).abs().mean()) for k, (net, _) in students.items()}
    assert gap["taught"] < 0.8 * gap["alone"], gap
    assert students["taught"][1]["teacher"]["run"] == str(teacher.resolve())
    log = (tmp_path / "taught" / "log.csv").read_text().splitlines()
    assert log[0].endswith("g_distill") and float(log[-1].split(",")[-1]) > 0

    small = make_dataset(tmp_path / "small", size=16)
    assert train_cli(small, tmp_path / "wrong", "--iterations", "1", "--no-vgg", "--teacher",
                     str(teacher)) == 1  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "paints 32x32 frames; this run trains 16x16" in err[0]
