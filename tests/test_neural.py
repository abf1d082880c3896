"""The ONNX generator at run time: contract checks, real sessions, render-ahead, render, flicker.

Models are built here with `onnx.helper` (a 3x3 convolution and tanh: tiny, but a real ONNX
graph through a real ONNX Runtime session) and carry a real livedance contract.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
import soundfile as sf
from conftest import ffprobe_streams, run_cli

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from onnx import TensorProto, helper  # noqa: E402

from livedance.body import DEFAULT_BODY, Body  # noqa: E402
from livedance.choreo import idle_pose  # noqa: E402
from livedance.errors import LivedanceError  # noqa: E402
from livedance.neural.contract import ModelContract, ModelMismatchError  # noqa: E402
from livedance.neural.generator import NeuralRenderer, choose_renderer, flicker_score  # noqa: E402
from livedance.neural.runtime import choose_providers, gpu_visible  # noqa: E402
from livedance.render import StickRenderer  # noqa: E402
from livedance.show.render_ahead import RenderAhead, beat_slot  # noqa: E402

SIZE = 48


def make_model(
    path: Path,
    *,
    size_px: int = SIZE,
    graph_size_px: int | None = None,
    batch: int | str = "batch",
    metadata: dict[str, str] | None = None,
    body: Body = DEFAULT_BODY,
    input_name: str = "stick",
) -> Path:
    """A real ONNX generator: conv 3x3 (3 -> 3 channels) then tanh, with a livedance contract."""
    g = graph_size_px or size_px
    rng = np.random.default_rng(0)
    weight = helper.make_tensor(
        "w", TensorProto.FLOAT, [3, 3, 3, 3], (rng.normal(0, 0.3, 81)).astype(np.float32).tolist()
    )
    nodes = [
        helper.make_node("Conv", [input_name, "w"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("Tanh", ["c"], ["frame"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny",
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, [batch, 3, g, g])],
        [helper.make_tensor_value_info("frame", TensorProto.FLOAT, [batch, 3, g, g])],
        [weight],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    if metadata is None:
        metadata = ModelContract(size_px, size_px, body, generator={"tiny": 1}).to_metadata()
    helper.set_model_props(model, metadata)
    onnx.save(model, str(path))
    return path


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_model(tmp_path_factory.mktemp("models") / "tiny.onnx")


def _poses(n: int) -> np.ndarray:
    poses = [idle_pose(i / 30.0) for i in range(n)]
    return np.stack(poses).astype(np.float32) if poses else np.zeros((0, 18, 3), np.float32)


# --- contract and refusals ------------------------------------------------------------------


def _refusals(tmp: Path) -> dict[str, tuple[Path, str]]:
    contract = ModelContract(SIZE, SIZE, DEFAULT_BODY).to_metadata()
    corrupt = tmp / "corrupt.onnx"
    corrupt.write_bytes(b"\x08\x07garbage, not a protobuf model" * 10)
    return {
        "no metadata": (make_model(tmp / "plain.onnx", metadata={}), "not a livedance generator"),
        "skeleton": (
            make_model(
                tmp / "skel.onnx", metadata={**contract, "livedance.skeleton": "blazepose-33"}
            ),
            "blazepose-33",
        ),
        "corrupt": (corrupt, "not a readable ONNX model"),
        "shape": (make_model(tmp / "shape.onnx", graph_size_px=32), "shape"),
        "input name": (make_model(tmp / "name.onnx", input_name="image"), "'stick'"),
        "missing": (tmp / "nope.onnx", "does not exist"),
    }


def test_models_that_do_not_fit_are_refused_with_a_reason(tmp_path: Path) -> None:
    for case, (path, needle) in _refusals(tmp_path).items():
        with pytest.raises(ModelMismatchError, match=needle.replace("(", r"\(")):
            NeuralRenderer(path, device="cpu")
        assert case  # every case raised


def test_cli_refuses_a_bad_model_in_one_line(tmp_path: Path) -> None:
    refusals = _refusals(tmp_path)
    for command in ("play", "render"):
        for case in ("no metadata", "corrupt", "shape"):
            path, needle = refusals[case]
            extra = ["--headless"] if command == "play" else ["-o", str(tmp_path / "o.mp4")]
            proc = run_cli(command, "--demo", "--model", str(path), *extra)
            assert proc.returncode != 0
            assert "Traceback" not in proc.stderr, proc.stderr
            errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("livedance: error:")]
            assert len(errors) == 1 and needle in errors[0], (case, proc.stderr)


def test_stick_and_model_together_is_an_error(tiny_model: Path) -> None:
    with pytest.raises(LivedanceError, match="exclude"):
        choose_renderer(tiny_model, stick=True)


def test_no_default_model_means_sticks_with_an_info_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="livedance.neural.generator"):
        renderer, body = choose_renderer(None, size_px=96, default_model=tmp_path / "none.onnx")
    assert isinstance(renderer, StickRenderer) and renderer.width_px == 96
    assert body == DEFAULT_BODY
    assert any("stick figures" in r.getMessage() for r in caplog.records)


def test_default_model_is_used_when_present_and_brings_its_body(tmp_path: Path) -> None:
    tall = Body.from_dict({**DEFAULT_BODY.to_dict(), "thigh": DEFAULT_BODY.thigh * 1.2})
    model = make_model(tmp_path / "default.onnx", body=tall)
    renderer, body = choose_renderer(None, default_model=model)
    assert isinstance(renderer, NeuralRenderer) and body == tall
    stick, _ = choose_renderer(None, stick=True, default_model=model)
    assert isinstance(stick, StickRenderer)


def test_a_size_other_than_the_models_scales_its_frames(tmp_path: Path) -> None:
    model = make_model(tmp_path / "m.onnx")
    native, _ = choose_renderer(model)
    scaled, _ = choose_renderer(model, size_px=2 * native.width_px)
    assert (scaled.width_px, scaled.height_px) == (2 * native.width_px, 2 * native.height_px)
    frames = scaled.render(np.stack([idle_pose(0.0), idle_pose(0.5)]))
    assert frames.shape == (2, 2 * native.height_px, 2 * native.width_px, 3)
    assert frames.dtype == np.uint8 and scaled.name == native.name


@pytest.mark.skipif(gpu_visible(), reason="a GPU is visible: the CPU-only refusal does not apply")
def test_gpu_devices_are_probed_not_attempted() -> None:
    assert choose_providers("auto") == ["CPUExecutionProvider"]
    with pytest.raises(LivedanceError, match="not usable here"):
        choose_providers("cuda")


# --- the renderer ---------------------------------------------------------------------------


def test_neural_renderer_turns_poses_into_bgr_frames(tiny_model: Path) -> None:
    renderer = NeuralRenderer(tiny_model, device="cpu", max_batch=4)
    frames = renderer.render(_poses(10))  # 3 session runs, the last one short
    assert frames.shape == (10, SIZE, SIZE, 3) and frames.dtype == np.uint8
    assert frames.flags["C_CONTIGUOUS"]
    assert frames.std() > 1.0, "the generator drew something"
    assert renderer.render(_poses(0)).shape == (0, SIZE, SIZE, 3)
    one_by_one = np.concatenate([renderer.render(p[None]) for p in _poses(10)])
    np.testing.assert_array_equal(frames, one_by_one)


def test_fixed_batch_model_is_padded(tmp_path: Path) -> None:
    renderer = NeuralRenderer(make_model(tmp_path / "b4.onnx", batch=4), device="cpu")
    assert renderer.max_batch == 4
    assert renderer.render(_poses(6)).shape == (6, SIZE, SIZE, 3)


# --- flicker --------------------------------------------------------------------------------


def test_flicker_is_zero_on_an_identical_pose_and_reduced_on_a_jittered_one(
    tiny_model: Path,
) -> None:
    held = np.repeat(idle_pose(0.0)[None], 12, axis=0).astype(np.float32)
    assert flicker_score(NeuralRenderer(tiny_model, device="cpu").render(held)) == 0.0
    jittered = held.copy()
    jittered[:, :, :2] += np.random.default_rng(1).normal(0, 0.3 / SIZE, (12, 18, 2))
    raw = flicker_score(NeuralRenderer(tiny_model, device="cpu").render(jittered))
    held_still = NeuralRenderer(tiny_model, device="cpu", deadband_px=1.0).render(jittered)
    blended = NeuralRenderer(tiny_model, device="cpu", temporal_blend=0.6).render(jittered)
    assert raw > 0.0
    assert flicker_score(held_still) < 0.25 * raw
    assert flicker_score(blended) < 0.7 * raw
    # a real move (several pixels a frame) passes the deadband untouched
    moving = held.copy()
    moving[:, :, 0] += np.arange(12)[:, None] * 4.0 / SIZE
    r = NeuralRenderer(tiny_model, device="cpu", deadband_px=1.0)
    np.testing.assert_array_equal(r.render(moving), NeuralRenderer(tiny_model).render(moving))


# --- render-ahead ---------------------------------------------------------------------------


class _FakeClock:
    def __init__(self) -> None:
        self.t_s = 0.0
        self.lock = threading.Lock()

    def now(self) -> float:
        with self.lock:
            return self.t_s


class _SlowRenderer:
    """Every render takes ``cost_s`` of (fake) clock time."""

    name = "slow"
    width_px = height_px = 8

    def __init__(self, clock: _FakeClock, cost_s: float) -> None:
        self.clock, self.cost_s = clock, cost_s

    def render(self, poses: np.ndarray) -> np.ndarray:
        with self.clock.lock:
            self.clock.t_s += self.cost_s
        return np.zeros((len(poses), 8, 8, 3), np.uint8)


def _drain(ahead: RenderAhead) -> list:
    items = []
    while (item := ahead.get(timeout_s=5.0)) is not None:
        items.append(item)
    return items


def test_slow_renderer_skips_slots_it_cannot_make_in_time() -> None:
    clock = _FakeClock()
    fps, n_slots = 30.0, 90
    ahead = RenderAhead(
        lambda t: idle_pose(t), _SlowRenderer(clock, 0.1), clock, fps, n_slots, timer=clock.now
    )
    items = _drain(ahead.start())
    ahead.stop()
    slots = [i.slot for i in items]
    assert slots == sorted(set(slots)), "slots come in order, each once"
    assert ahead.slots_skipped > 0 and len(items) < n_slots / 2
    for item in items[1:]:  # every frame (once the render time is known) meets its deadline
        assert item.render_end_s <= item.slot / fps + 1e-9
    assert ahead.render_fps == pytest.approx(10.0)


def test_fast_renderer_renders_every_slot_ahead() -> None:
    clock = _FakeClock()
    ahead = RenderAhead(lambda t: idle_pose(t), _SlowRenderer(clock, 0.0), clock, 30.0, 40)
    items = _drain(ahead.start())
    ahead.stop()
    assert [i.slot for i in items] == list(range(40))
    assert ahead.slots_skipped == 0


def test_renderer_errors_reach_the_display_side() -> None:
    class Broken(_SlowRenderer):
        def render(self, poses: np.ndarray) -> np.ndarray:
            raise RuntimeError("generator exploded")

    clock = _FakeClock()
    ahead = RenderAhead(lambda t: idle_pose(t), Broken(clock, 0.0), clock, 30.0, 10).start()
    with pytest.raises(RuntimeError, match="exploded"):
        _drain(ahead)
    ahead.stop()


def test_stop_does_not_hang_on_a_full_queue() -> None:
    clock = _FakeClock()
    ahead = RenderAhead(lambda t: idle_pose(t), _SlowRenderer(clock, 0.0), clock, 30.0, 1000)
    ahead.start()
    ahead.get(timeout_s=5.0)
    ahead.stop()  # the worker is blocked on the full queue: stop must still return


# --- end to end -----------------------------------------------------------------------------

needs_ffprobe = pytest.mark.skipif(not shutil.which("ffprobe"), reason="ffprobe not installed")


@needs_ffprobe
def test_play_headless_record_with_a_model(
    short_song: Path, tiny_model: Path, tmp_path: Path
) -> None:
    out = tmp_path / "show.mp4"
    proc = run_cli(
        "play", str(short_song), "--headless", "--record", str(out), "--fps", "12",
        "--model", str(tiny_model), "--duration", "4",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    streams = ffprobe_streams(out)
    assert int(streams["video"]["nb_read_frames"]) == 48
    assert (streams["video"]["width"], streams["video"]["height"]) == (SIZE, SIZE)
    assert "audio" in streams


@needs_ffprobe
def test_render_writes_every_frame_with_the_audio(
    short_song: Path, tiny_model: Path, tmp_path: Path
) -> None:
    out = tmp_path / "render.mp4"
    proc = run_cli(
        "render", str(short_song), "-o", str(out), "--model", str(tiny_model), "--fps", "15",
        "--batch", "7",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    duration_s = sf.info(str(short_song)).duration
    streams = ffprobe_streams(out)
    assert int(streams["video"]["nb_read_frames"]) == round(duration_s * 15)
    assert (streams["video"]["width"], streams["video"]["height"]) == (SIZE, SIZE)
    assert abs(float(streams["audio"]["duration"]) - duration_s) < 0.1
    assert "neural" in proc.stdout


@needs_ffprobe
def test_render_sticks_at_the_asked_size(short_song: Path, tmp_path: Path) -> None:
    out = tmp_path / "stick.mp4"
    proc = run_cli(
        "render", str(short_song), "-o", str(out), "--stick", "--size", "96", "--duration", "2"
    )
    assert proc.returncode == 0, proc.stderr
    streams = ffprobe_streams(out)
    assert int(streams["video"]["nb_read_frames"]) == 60
    assert streams["video"]["width"] == 96


def test_bench_render_on_a_given_model(tiny_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "render.json"
    proc = run_cli(
        "bench", "render", "--model", str(tiny_model), "--no-widths", "--frames", "6",
        "--json", str(out),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    results = json.loads(out.read_text())
    (row,) = results["models"]
    assert row["generator"]["median_ms"] > 0 and row["loop"]["fps"] > 0
    assert {p["op"] for p in row["profile"]} >= {"Conv"}
    assert results["flicker"]["scores"]["off"]["identical"] == 0.0
    assert out.with_suffix(".md").read_text().startswith("Render benchmark")


@needs_ffprobe
def test_window_show_renders_ahead_and_records_every_slot(
    short_song: Path, tiny_model: Path, tmp_path: Path, xvfb_display: str
) -> None:
    out = tmp_path / "window.mp4"
    proc = run_cli(
        "-v", "play", str(short_song), "--mute", "--model", str(tiny_model), "--duration", "3",
        "--fps", "20", "--record", str(out),
        env={"DISPLAY": xvfb_display},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "beat frames shown" in proc.stderr  # the show ran and reported its numbers
    assert int(ffprobe_streams(out)["video"]["nb_read_frames"]) == 60


def test_timing_generators_export_with_a_contract(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from livedance.measure.render import generator_gflop
    from offline.timing_models import export_timing_model

    path = export_timing_model(tmp_path / "g.onnx", ngf=4, n_downsample=2, n_blocks=1, size_px=64)
    renderer = NeuralRenderer(path, device="cpu")
    generator = renderer.contract.generator  # the whole config, as a trained model's contract
    assert (generator["ngf"], generator["n_downsample"], generator["n_blocks"]) == (4, 2, 1)
    assert generator["block"] == "residual" and generator["render_scale"] == 1.0
    frames = renderer.render(_poses(2))
    assert frames.shape == (2, 64, 64, 3)
    # 7x7 3->4 and 4->3 convs at 64x64 dominate: about 2 * 64^2 * 49 * 12 * 2 flops
    assert 0.005 < generator_gflop(path) < 0.05


EMBEDDED = Path(__file__).resolve().parents[1] / "models" / "default.onnx"


@pytest.mark.skipif(not EMBEDDED.is_file(), reason="models/default.onnx is not in this checkout")
def test_play_dances_with_the_embedded_model_by_default(short_song: Path, tmp_path: Path) -> None:
    """Out of the box `play` renders the embedded generator: a painted dancer in a room, the
    figure where the sticks put it, its contract accepted."""
    out = tmp_path / "default.mp4"
    proc = run_cli(
        "-v", "play", str(short_song), "--headless", "--record", str(out), "--duration", "2"
    )
    assert proc.returncode == 0, proc.stderr
    assert "default.onnx" in proc.stderr, proc.stderr[-1500:]
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(out), "-f", "rawvideo", "-pix_fmt", "bgr24", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    size = 256  # models/MODEL_CARD.md
    frames = np.frombuffer(raw, np.uint8).reshape(-1, size, size, 3)
    assert len(frames) == 60
    # a room, not sticks on black: the wall is light, the floor brown, and the dancer's shirt
    # (saturated yellow-orange) covers the middle of the frame
    assert frames[:, 5:40, :].mean() > 150, "a lit wall at the top"
    hsv = np.stack([cv2.cvtColor(f, cv2.COLOR_BGR2HSV) for f in frames[::10]])
    shirt = (hsv[..., 1] > 120) & (hsv[..., 0] > 10) & (hsv[..., 0] < 35)
    assert shirt[:, size // 4 : 3 * size // 4, size // 4 : 3 * size // 4].mean() > 0.05


def test_slow_renderer_never_skips_the_frame_of_a_beat() -> None:
    """A renderer at 2/3 of the frame rate skips slots, but never the first slot of a beat."""
    fps, n_slots = 30.0, 300
    beats_s = np.arange(0.31, 10.0, 60 / 128)  # 128 BPM, off the frame grid

    def accents(t0: float, t1: float) -> list[float]:
        return [float(b) for b in beats_s if t0 <= b < t1]

    def beat_slots_rendered(with_accents: bool) -> tuple[set[int], list]:
        clock = _FakeClock()
        ahead = RenderAhead(
            lambda t: idle_pose(t), _SlowRenderer(clock, 0.05), clock, fps, n_slots,
            timer=clock.now, accents=accents if with_accents else None,
        )  # fmt: skip
        items = _drain(ahead.start())
        ahead.stop()
        slots = {i.slot for i in items}
        return {beat_slot(b, fps) for b in beats_s if b > 0.2} - slots, items

    missed_plain, _ = beat_slots_rendered(False)
    assert missed_plain, (
        "without accents the skipping hits some beats (else this test proves nothing)"
    )
    missed, items = beat_slots_rendered(True)
    assert not missed, f"beat frames skipped: {sorted(missed)}"
    for item in items[1:]:  # and every frame still meets its deadline
        assert item.render_end_s <= item.slot / fps + 1e-9
