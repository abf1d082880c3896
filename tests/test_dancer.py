"""``livedance dancer``: one command from a video to an installed dancer that shows find by name.

Runs the real pipeline (prepare with OpenPose JSON files, a few seconds of training, ONNX export,
evaluation) on the synthetic video of test_prepare, killed during training and run again.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")

from test_prepare import N_SRC, SRC_FPS, _encode, _synth_frames
from test_train import FakeClock

from livedance.cli import main
from offline.prepare.sources import write_openpose_json

FAST = ["--fps", "15", "--size", "64", "--ngf", "4", "--n-blocks", "1", "--no-vgg"]
FAST += ["--no-lpips", "--no-keypoints", "--no-progress"]


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The synthetic dancer video (3 s at 30 fps) and its OpenPose JSON files."""
    root = tmp_path_factory.mktemp("dancer_src")
    frames, people = _synth_frames()
    path = root / "synth dancer.mp4"
    _encode(frames, path, "-c:v", "libx264", "-crf", "12", "-pix_fmt", "yuv420p")
    keypoints = root / "openpose"
    keypoints.mkdir()
    for k, here in enumerate(people):
        write_openpose_json(keypoints / f"dancer_{k:012d}_keypoints.json", np.array(here))
    assert len(frames) == N_SRC and SRC_FPS == 30
    return path, keypoints


def test_dancer_survives_a_kill_and_installs_a_model_shows_find(
    video: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from livedance.cli.showsetup import renderer_from_args
    from offline import dancer
    from offline.pix2pixhd import schedule
    from offline.pix2pixhd.checkpoint import load_checkpoint

    monkeypatch.setenv("LIVEDANCE_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(dancer, "CHECKPOINT_EVERY_S", 0.0)  # a checkpoint every iteration
    path, keypoints = video
    args = ["dancer", str(path), "--minutes", "0.1", "--keypoints", str(keypoints), *FAST]
    folder = tmp_path / "home" / "dancers" / "synth-dancer"  # the name comes from the file

    # killed during training, 3 s into its 6 s budget (the budget clock is a fake one)
    monkeypatch.setitem(schedule.CLOCKS, "wall", FakeClock(kill_after=4))
    assert main(args) == 130
    assert (folder / "work/dataset/manifest.json").is_file()
    killed_at = load_checkpoint(folder / "work/run/checkpoints/latest.pt")
    assert killed_at["iteration"] >= 1 and killed_at["budget_used_s"] < 6.0
    assert not (folder / "model.onnx").exists()  # installed only when complete

    # the same command again: prepare is done, training continues its budget, then the rest
    monkeypatch.setitem(schedule.CLOCKS, "wall", FakeClock(start_s=500.0))
    capsys.readouterr()
    assert main(args) == 0
    out = capsys.readouterr().out
    run = json.loads((folder / "work/run/run.json").read_text())
    assert 6.0 <= run["budget"]["used_s"] < 7.0 and run["iteration"] > killed_at["iteration"]
    rows = [int(r.split(",")[0]) for r in (folder / "work/run/log.csv").read_text().split()[1:]]
    assert rows == list(range(1, run["iteration"] + 1))  # continued, not restarted
    assert "nearest neighbour" in out and "SSIM" in out  # Table I beside the baseline
    grid = folder / "report" / "grid.png"
    assert f"sample grid (stick | generated | nearest | real): {grid}" in out and grid.is_file()
    assert f"model: {folder / 'model.onnx'}" in out
    info = json.loads((folder / "dancer.json").read_text())
    assert info["complete"] and info["size"] == 64 and set(info["seconds"]) >= {"train"}

    import onnxruntime as ort

    from livedance.neural.contract import ModelContract

    session = ort.InferenceSession(str(folder / "model.onnx"), providers=["CPUExecutionProvider"])
    contract = ModelContract.from_metadata(session.get_modelmeta().custom_metadata_map)
    assert contract.training["budget"]["minutes"] == 0.1  # the model says how it was trained

    # play/live/render --dancer NAME find it; --list shows it
    renderer_args = argparse.Namespace(
        model=None, dancer="synth-dancer", stick=False, size=None, device="cpu", blend=0.0,
        deadband=0.0,
    )  # fmt: skip
    renderer, _ = renderer_from_args(renderer_args)
    assert renderer.width_px == 64 and renderer.path == folder / "model.onnx"
    assert main(["dancer", "--list"]) == 0
    assert "synth-dancer" in capsys.readouterr().out

    # a third run has nothing left to do
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "export" in out and out.count("up to date") >= 2

    # the name is taken by this dancer: another source or setting needs --overwrite
    assert main([*args[: -len(FAST)], *FAST[:-1], "--fps", "10"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is taken" in err[0] and "--overwrite" in err[0]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["dancer", "{tmp}/absent.mp4", "--minutes", "1"], "no such video file or image folder"),
        (["dancer", "{tmp}", "--minutes", "1"], "no images"),
        (["dancer", "{tmp}/x.mp4"], "--minutes"),
        (["dancer", "{tmp}/x.mp4", "--minutes", "1", "--name", "../up"], "dancer name"),
        (["play", "song.wav", "--headless", "--dancer", "nobody"], "no dancer named 'nobody'"),
    ],
)
def test_dancer_errors_are_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    monkeypatch.setenv("LIVEDANCE_HOME", str(tmp_path / "home"))
    (tmp_path / "x.mp4").write_bytes(b"")
    try:
        code = main([a.replace("{tmp}", str(tmp_path)) for a in argv])
    except SystemExit as exc:  # argparse refuses a bad name before the command runs
        code = int(exc.code or 0)
    assert code != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert message in err[-1] and "Traceback" not in "\n".join(err)
