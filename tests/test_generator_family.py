"""The efficient generator family (offline/pix2pixhd/networks.py, layers.py): every option builds,
keeps the stick-in / frame-out contract, trains, exports with parity and runs in the ONNX renderer;
old checkpoints and contracts keep loading."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from offline.pix2pixhd.networks import GeneratorConfig, build_generator, size_multiple  # noqa: E402
from tests.test_train import SIZE, make_dataset, train_cli  # noqa: E402

OPTIONS = list(
    itertools.product(
        ("residual", "dwsep", "inverted"),
        ("transpose", "pixelshuffle", "resize"),
        ("none", "add", "concat"),
        (1.0, 0.5),
    )
)


@pytest.mark.parametrize("size_px", [128, 256])
def test_every_option_gives_a_frame_the_size_of_its_stick(size_px: int) -> None:
    x = torch.rand(1, 3, size_px, size_px) * 2 - 1
    # every combination at 128 px; at 256 px a set where each option value still appears
    options = OPTIONS if size_px == 128 else OPTIONS[::5]
    with torch.no_grad():
        for block, upsample, skips, scale in options:
            for plate in (False, True):
                config = GeneratorConfig(4, 3, 1, False, plate, block, upsample, skips, scale)
                assert size_px % size_multiple(config) == 0
                y = build_generator(config, (size_px, size_px)).eval()(x)
                assert y.shape == x.shape, config
                assert float(y.abs().max()) <= 1.0, config


def test_half_scale_needs_one_more_factor_of_two() -> None:
    assert size_multiple(GeneratorConfig(n_downsample=3)) == 8
    assert size_multiple(GeneratorConfig(n_downsample=3, render_scale=0.5)) == 16


def test_old_config_dicts_and_checkpoint_layouts_still_load() -> None:
    # a run.json / contract written before the family existed: five numbers only
    old = {"arch": "pix2pixhd-global", "ngf": 16, "n_downsample": 3, "n_blocks": 6,
           "local_enhancer": False}  # fmt: skip
    config = GeneratorConfig.from_dict(old)
    assert config == GeneratorConfig() and not config.efficient
    # the parameter names of today's networks (what old checkpoints hold) are unchanged
    keys = list(build_generator(config).state_dict())
    assert len(keys) == 40 and keys[0] == "model.1.weight" and keys[-1] == "model.29.bias"
    plate = build_generator(GeneratorConfig(background_plate=True), (64, 64)).state_dict()
    assert {"plate", "body.1.weight", "head.1.weight"} <= set(plate)
    new = GeneratorConfig(24, 3, 6, block="inverted", skips="add", render_scale=0.5)
    assert GeneratorConfig.from_dict(new.to_dict()) == new


def test_light_head_keeps_the_contract_and_cuts_the_full_size_work() -> None:
    # the 3x3 head: same stick-in / frame-out, a 3x3 output convolution, and a config that
    # survives the contract (an older contract without the key keeps the 7x7 head)
    light = GeneratorConfig(8, 3, 3, background_plate=True, block="inverted", upsample="resize",
                            render_scale=0.5, head_kernel=3)  # fmt: skip
    net = build_generator(light, (64, 64)).eval()
    assert net.head[1].kernel_size == (3, 3)
    with torch.no_grad():
        assert net(torch.rand(1, 3, 64, 64) * 2 - 1).shape == (1, 3, 64, 64)
    assert GeneratorConfig.from_dict(light.to_dict()) == light
    old = {k: v for k, v in light.to_dict().items() if k != "head_kernel"}
    assert GeneratorConfig.from_dict(old).head_kernel == 7
    # the light head alone makes a config efficient (pix2pixHD's own nets keep the 7x7 head)
    assert GeneratorConfig(head_kernel=3).efficient and not GeneratorConfig().efficient
    heavy = build_generator(dataclasses.replace(light, head_kernel=7), (64, 64))
    assert heavy.head[1].weight.numel() * 9 == net.head[1].weight.numel() * 49


def test_bad_combinations_are_refused() -> None:
    with pytest.raises(ValueError, match="local enhancer"):
        GeneratorConfig(local_enhancer=True, block="inverted")
    with pytest.raises(ValueError, match="render_scale"):
        GeneratorConfig(render_scale=0.25)
    with pytest.raises(ValueError, match="head_kernel"):
        GeneratorConfig(head_kernel=5)
    with pytest.raises(ValueError, match="needs retrieval"):
        GeneratorConfig(retrieval_stick=True)
    with pytest.raises(ValueError, match="upsample"):
        GeneratorConfig.from_dict({"ngf": 4, "n_downsample": 2, "n_blocks": 1, "upsample": "x"})


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_dataset(tmp_path_factory.mktemp("family") / "data")


@pytest.mark.parametrize(
    "flags, ops",
    [
        (["--block", "inverted", "--upsample", "pixelshuffle", "--skips", "add"], {"DepthToSpace"}),
        (["--block", "dwsep", "--upsample", "resize", "--skips", "concat"], {"Resize", "Concat"}),
        (["--render-scale", "0.5", "--background-plate"], {"AveragePool", "DepthToSpace"}),
        (["--block", "inverted", "--render-scale", "0.5", "--head-kernel", "3"], {"AveragePool"}),
        (["--render-scale", "0.5", "--background-plate", "--retrieval", "8"], {"ArgMin", "Gather"}),
        (["--render-scale", "0.5", "--retrieval", "8", "--retrieval-stick"], {"ArgMin", "Gather"}),
    ],
)
def test_train_export_and_render(data: Path, tmp_path: Path, flags: list[str], ops: set) -> None:
    import json

    import onnx

    from livedance.choreo import idle_pose
    from livedance.cli import main
    from livedance.neural.generator import NeuralRenderer

    run = tmp_path / "run"
    assert train_cli(data, run, *flags, "--iterations", "2", "--no-vgg") == 0
    model, report = tmp_path / "model.onnx", tmp_path / "export.json"
    assert main(["export", str(run), "-o", str(model), "--json", str(report)]) == 0
    assert json.loads(report.read_text())["parity_max_abs"] < 1e-3
    graph_ops = {node.op_type for node in onnx.load(str(model)).graph.node}
    assert ops <= graph_ops
    if "dwsep" in flags:  # depthwise convolutions are grouped Conv nodes
        groups = [a.i for n in onnx.load(str(model)).graph.node for a in n.attribute
                  if n.op_type == "Conv" and a.name == "group"]  # fmt: skip
        assert max(groups) > 1
    renderer = NeuralRenderer(model, device="cpu")
    assert GeneratorConfig.from_dict(renderer.contract.generator).efficient
    poses = np.stack([idle_pose(t, renderer.contract.body) for t in (0.0, 0.5)])
    frames = renderer.render(poses)
    assert frames.shape == (2, SIZE, SIZE, 3) and frames.dtype == np.uint8


def test_retrieval_gives_the_nearest_training_frame_but_not_its_own_in_training(
    tmp_path: Path,
) -> None:
    from offline.pix2pixhd.data import PairDataset
    from offline.pix2pixhd.retrieval import FrameBank, fill_from_dataset

    data = make_dataset(tmp_path / "data", n_frames=40)
    pairs = PairDataset(data, "train")
    bank = FrameBank(len(pairs), pairs.size, pairs.size)
    fill_from_dataset(bank, pairs)
    window = min(15, (len(pairs) - 1) // 4)
    for row in range(len(pairs)):
        stick, frame = pairs[row]
        found = bank(stick[None])[0]
        # live (no rows given): the frame of the same stick, exactly (uint8 in the bank)
        assert float((found - frame).abs().max()) < 1.0 / 127
        # training: the lookup skips the frame and its neighbours in time
        away = bank(stick[None], bank.exclusion_mask(torch.tensor([row])))[0]
        source = int(((bank.frames.float() / 127.5 - 1) - away).abs().flatten(1).sum(1).argmin())
        assert abs(int(bank.rows[source]) - row) > window
    # the retrieved frame's own stick, kept at half size: live, the same stick averaged 2x2
    half = (pairs.size[0] // 2, pairs.size[1] // 2)
    with_sticks = FrameBank(len(pairs), pairs.size, pairs.size, stick_size=half)
    fill_from_dataset(with_sticks, pairs)
    for row in (0, len(pairs) // 2):
        stick = pairs[row][0][None]
        away = with_sticks.exclusion_mask(torch.tensor([row]))
        for index in (with_sticks.nearest(stick), with_sticks.nearest(stick, away)):
            own = pairs[int(with_sticks.rows[index])][0][None]
            found = with_sticks.stick(index)
            assert float((found - torch.nn.functional.avg_pool2d(own, 2)).abs().max()) < 1 / 127
    # untrained, a plate generator with retrieval already gives about the nearest frame (it
    # starts from the nearest-neighbour answer), and keeps the stick-in / frame-out contract
    config = GeneratorConfig(4, 2, 1, background_plate=True, render_scale=0.5, retrieval=32)
    net = build_generator(config, pairs.size).eval()
    fill_from_dataset(net.bank, pairs)
    plain = build_generator(dataclasses.replace(config, retrieval=0), pairs.size).eval()
    sticks, frames = (torch.stack(t) for t in zip(*(pairs[i] for i in range(4)), strict=True))
    with torch.no_grad():
        out = net(sticks)
        assert out.shape == frames.shape
        assert float((out - frames).abs().mean()) < 0.5 * float(
            (plain(sticks) - frames).abs().mean()
        )


def test_cli_refuses_a_combination_in_one_line(data: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    code = train_cli(data, tmp_path / "run", "--local-enhancer", "--block", "dwsep")
    err = capsys.readouterr().err.strip().splitlines()
    assert code != 0 and len(err) == 1 and "local enhancer" in err[0]
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_frontier_specs_and_verdict() -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from bench_frontier import loss_options, parse_config
    from frontier_report import AVX2_RENDER_CPU_MS, _cpu_ms_render_size, verdict

    config = parse_config("inv24/3/6+cat+resize+half")
    assert (config.ngf, config.block, config.skips, config.upsample, config.render_scale) == (
        24, "inverted", "concat", "resize", 0.5
    )  # fmt: skip
    assert parse_config("res16/3/6") == GeneratorConfig()
    assert parse_config("inv16/3/4+half+plate").background_plate
    assert parse_config("inv8/3/3+half+resize+plate+k3").head_kernel == 3
    assert parse_config("inv16/3/4+half+resize+plate+nn").retrieval > 0
    # training flags leave the architecture alone and set the loss
    assert parse_config("inv16/3/4+half+nn+lp+novgg") == parse_config("inv16/3/4+half+nn")
    assert parse_config("inv16/3/4+half+nns").retrieval_stick
    assert parse_config("inv16/3/4+half+nns").retrieval == parse_config("inv16/3/4+nn").retrieval
    assert loss_options("inv16/3/4+nn") == {"vgg": True, "lpips_loss": 0.0}
    assert loss_options("inv16/3/4+nn+lp")["lpips_loss"] > 0
    assert loss_options("inv16/3/4+nn+lp100")["lpips_loss"] == 100.0
    assert loss_options("inv16/3/4+lp+novgg")["vgg"] is False
    with pytest.raises(ValueError, match="bad configuration"):
        parse_config("res16/3")
    assert parse_config("inv8/3/3+half<res16/3/6+plate") == parse_config("inv8/3/3+half")
    with pytest.raises(ValueError, match="bad configuration"):
        parse_config("inv8/3/3<res16/3")

    def doc(spec: str, lpips: float, p99_ms: float) -> dict:
        scores = {"lpips": lpips, "ssim": 0.8, "ms_ssim": 0.8}
        nn = {"lpips": 0.2, "ssim": 0.7, "ms_ssim": 0.9}
        return {"config": spec, "timing_256": {"p99_ms": p99_ms},
                "table": {"model": scores, "nearest neighbour": nn}}  # fmt: skip

    docs = [doc("res64/4/9", 0.10, 900.0), doc("a", 0.12, 30.0), doc("b", 0.11, 40.0)]
    result = verdict(docs)
    assert result["best_realtime"] == "a"  # b is better but misses 30 fps
    assert result["checks"] == {
        "lpips_at_most_0.15": True,
        "ssim_above_nearest_neighbour": True,
        "ms_ssim_above_nearest_neighbour": False,
        "lpips_within_15pct_of_paper_width": False,  # 0.12 > 1.15 * 0.10
        "holds_60fps": False,
    }
    assert verdict([doc("b", 0.11, 40.0)]) == {"best_realtime": None}
    # at the render size, on one thread, within what an AVX2-only 2-core CPU runs at 30 fps
    fast, slow = doc("c", 0.14, 60.0), doc("d", 0.13, 20.0)
    fast["timing_data_size"], slow["timing_data_size"] = (
        {"cpu_ms_1thread": 7.0},
        {"cpu_ms_1thread": 9.0},
    )
    result = verdict([fast, slow], _cpu_ms_render_size, AVX2_RENDER_CPU_MS)
    assert result["best_realtime"] == "c" and result["checks"]["lpips_at_most_0.15"]
