"""Dataset preparation: a synthesized video with known poses -> the dataset a trainer reads.

The synthetic video is a figure drawn from known poses (livedance's own forward kinematics) on
a textured background, with coloured markers on three joints, a smaller second person for part
of the time and a few frames with nobody; its OpenPose JSON files are written from the same
poses, so the whole pipeline runs without MediaPipe and every output can be checked exactly.
The real video (``../shared/data/video/taichi2.mp4``) checks BlazePose when both are present.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import SHARED, run_cli

from livedance.body import Angles, Body, forward_kinematics
from livedance.errors import LivedanceError
from livedance.ffmpeg import ffmpeg_exe
from livedance.pose import KP
from livedance.skeleton import render_stick
from offline.prepare import (
    OneEuroParams,
    PrepareOptions,
    load_manifest,
    parse_crop,
    parse_size,
    prepare_dataset,
    read_index,
)
from offline.prepare import detect as detect_module
from offline.prepare.crop import CropBox
from offline.prepare.smoothing import smooth_keypoints
from offline.prepare.sources import BlazePoseSource, OpenPoseJsonSource, write_openpose_json
from offline.prepare.tracking import select_person
from offline.prepare.video import DecodedFrame, FrameSampler, iter_frames, probe_video

SRC_W, SRC_H, SRC_FPS, N_SRC = 320, 240, 30, 90
FPS = 15.0  # sample i is source frame 2 i
BLANK = range(40, 48)  # source frames with nobody: samples 20..23
DISTRACTOR = range(10, 70)  # source frames with a second, smaller person
BODY = Body(aspect=SRC_W / SRC_H, center_x=0.42, floor_y=0.9)
SMALL_BODY = Body(
    **{**BODY.to_dict(), **{k: v * 0.5 for k, v in BODY.to_dict().items() if k not in
       ("center_x", "floor_y", "aspect")}, "center_x": 0.88, "floor_y": 0.6}
)  # fmt: skip
MARKERS_BGR = {"nose": (0, 0, 255), "r_wrist": (0, 255, 0), "l_ankle": (255, 0, 0)}
OPTIONS = PrepareOptions(fps=FPS, size=(128, 128), guard_s=0.2, progress=False, contact_pairs=6)
TAICHI = SHARED / "data/video/taichi2.mp4"


def _angles(k: int) -> Angles:
    phase = 2 * math.pi * k / N_SRC
    return Angles(
        root_dx=0.12 * math.sin(phase),
        r_shoulder=0.4 + 1.2 * (0.5 + 0.5 * math.sin(3 * phase)),
        r_elbow=0.3,
        l_shoulder=0.3 + 0.8 * (0.5 + 0.5 * math.cos(2 * phase)),
        l_hip=0.06 + 0.35 * (0.5 + 0.5 * math.sin(2 * phase)),
    )


def _pixels(pose: np.ndarray) -> np.ndarray:
    """Keypoints as integer pixel indices (OpenPose's convention: pixel i's centre is i)."""
    return np.round(pose[:, :2] * [SRC_W, SRC_H] - 0.5).astype(int)


def _background() -> np.ndarray:
    rng = np.random.default_rng(7)
    tiles = rng.integers(60, 200, (SRC_H // 8 + 1, SRC_W // 8 + 1, 3), dtype=np.uint8)
    return np.kron(tiles, np.ones((8, 8, 1), np.uint8))[:SRC_H, :SRC_W].copy()


def _draw_person(img: np.ndarray, pix: np.ndarray, scale: float, markers: bool) -> None:
    t = max(2, round(9 * scale))
    skin, cloth = (140, 170, 215), (70, 60, 50)
    torso = pix[[KP["r_shoulder"], KP["l_shoulder"], KP["l_hip"], KP["r_hip"]]]
    cv2.fillConvexPoly(img, torso.astype(np.int32), cloth)
    for a, b in (("r_shoulder", "r_elbow"), ("r_elbow", "r_wrist"), ("l_shoulder", "l_elbow"),
                 ("l_elbow", "l_wrist"), ("r_hip", "r_knee"), ("r_knee", "r_ankle"),
                 ("l_hip", "l_knee"), ("l_knee", "l_ankle"), ("neck", "nose")):  # fmt: skip
        cv2.line(img, tuple(pix[KP[a]]), tuple(pix[KP[b]]), cloth if "hip" in a else skin, t)
    cv2.circle(img, tuple(pix[KP["nose"]]), max(3, round(14 * scale)), skin, -1)
    if markers:
        for name, colour in MARKERS_BGR.items():
            cv2.circle(img, tuple(pix[KP[name]]), 5, colour, -1)


def _main_pose(k: int) -> np.ndarray:
    return forward_kinematics(_angles(k), BODY)


def _synth_frames() -> tuple[list[np.ndarray], list[list[np.ndarray]]]:
    """Frames (BGR) and, per frame, the people in OpenPose pixels (main person first)."""
    background = _background()
    frames, people = [], []
    for k in range(N_SRC):
        img = background.copy()
        here = []
        if k in DISTRACTOR:
            small = forward_kinematics(_angles(k + 30), SMALL_BODY)
            _draw_person(img, _pixels(small), 0.5, markers=False)
            here.append(np.concatenate([_pixels(small), small[:, 2:]], axis=1))
        if k not in BLANK:
            main = _main_pose(k)
            _draw_person(img, _pixels(main), 1.0, markers=True)
            here.insert(0, np.concatenate([_pixels(main), main[:, 2:]], axis=1))
        frames.append(img)
        people.append(here)
    return frames, people


def _encode(frames: list[np.ndarray], path: Path, *extra: str) -> None:
    h, w = frames[0].shape[:2]
    cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo"]
    cmd += ["-pix_fmt", "bgr24", "-s", f"{w}x{h}", "-r", str(SRC_FPS), "-i", "-", *extra, str(path)]
    subprocess.run(cmd, input=np.stack(frames).tobytes(), check=True)


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The synthetic video, its OpenPose JSON folder, and its frames and poses."""
    root = tmp_path_factory.mktemp("synth")
    frames, people = _synth_frames()
    video = root / "dancer.mp4"
    _encode(frames, video, "-c:v", "libx264", "-crf", "8", "-pix_fmt", "yuv420p")
    keypoints = root / "openpose"
    keypoints.mkdir()
    for k, here in enumerate(people):
        write_openpose_json(keypoints / f"dancer_{k:012d}_keypoints.json", np.array(here))
    return {"root": root, "video": video, "keypoints": keypoints, "frames": frames}


@pytest.fixture(scope="module")
def dataset(synth: dict, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic video prepared once through the real CLI."""
    out = tmp_path_factory.mktemp("ds") / "dancer"
    result = run_cli(
        "prepare", str(synth["video"]), str(out), "--keypoints", str(synth["keypoints"]),
        "--fps", str(FPS), "--size", "128", "--guard", "0.2", "--no-progress",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "pairs" in result.stdout and "contact_sheet.png" in result.stdout
    return out


def _crop_of(dataset: Path) -> CropBox:
    return load_manifest(dataset).crop


# -- the dataset a trainer reads -------------------------------------------------------------


def test_layout_counts_and_split(dataset: Path) -> None:
    m = load_manifest(dataset)
    rows = read_index(dataset)
    kp = np.load(dataset / "keypoints.npy")
    n_blank = len([s for s in range(45) if 2 * s in BLANK])
    assert m.n_samples == 45 and m.n_skipped == n_blank == 4
    assert m.detection_rate == pytest.approx(41 / 45)
    assert kp.shape == (41, 18, 3) and kp.dtype == np.float32 and len(rows) == 41
    assert m.pose_source == "openpose-json" and m.fps == FPS and m.size == (128, 128)
    for row in rows:
        assert int(row["source_frame"]) == 2 * int(row["sample"])  # nearest frame in time
        for key in ("frame", "stick"):
            img = cv2.imread(str(dataset / row[key]))
            assert img is not None and img.shape == (128, 128, 3)
    assert len(list((dataset / "frames").iterdir())) == 41  # no temporaries left behind
    sheet = cv2.imread(str(dataset / "contact_sheet.png"))
    assert sheet is not None and sheet.shape[1] > 3 * 128
    # Split by time: the last 10% is test, a guard gap before it, training before that.
    times = {label: [float(r["time_s"]) for r in rows if r["split"] == label] for label in
             ("train", "guard", "test")}  # fmt: skip
    assert max(times["train"]) < m.split.test_start_s - 0.2 <= min(times["guard"])
    assert min(times["test"]) >= m.split.test_start_s == pytest.approx(2.7, abs=1e-3)
    assert (m.split.n_train, m.split.n_guard, m.split.n_test) == (34, 3, 4)
    doc = json.loads((dataset / "manifest.json").read_text())
    assert doc["counts"]["skipped_no_person"] == 4 and doc["body"]["aspect"] == 1.0


def test_one_crop_for_the_whole_video(dataset: Path, synth: dict) -> None:
    """Every output frame is its source frame cut by the manifest's one crop."""
    crop = _crop_of(dataset)
    assert crop.inside(SRC_W, SRC_H)
    for row in read_index(dataset)[::5]:
        src = synth["frames"][int(row["source_frame"])]
        out = cv2.imread(str(dataset / row["frame"])).astype(np.float32)

        def err(box: CropBox, src: np.ndarray = src, out: np.ndarray = out) -> float:
            cut = src[box.y_px : box.y_px + box.height_px, box.x_px : box.x_px + box.width_px]
            ref = cv2.resize(cut, (128, 128), interpolation=cv2.INTER_AREA).astype(np.float32)
            return float(np.abs(ref - out).mean())

        shifted = CropBox(crop.x_px + 6, crop.y_px, crop.width_px, crop.height_px)
        assert err(crop) < 8 < err(shifted), (err(crop), err(shifted))


def test_keypoints_land_on_the_markers(dataset: Path) -> None:
    """Keypoints carried through smoothing and the crop sit on the joints in the real frames."""
    kp = np.load(dataset / "keypoints.npy")
    errors = []
    for r, row in enumerate(read_index(dataset)):
        img = cv2.imread(str(dataset / row["frame"])).astype(np.int32)
        for name, colour in MARKERS_BGR.items():
            mask = np.abs(img - np.array(colour)).sum(axis=2) < 100
            ys, xs = np.nonzero(mask)
            assert len(xs) > 3, (row, name)
            centre = np.array([xs.mean() + 0.5, ys.mean() + 0.5])  # pixel centres
            errors.append(np.hypot(*(kp[r, KP[name], :2] * 128 - centre)))
    assert np.median(errors) < 0.6 and np.max(errors) < 1.5, (np.median(errors), np.max(errors))


def test_sticks_are_the_runtime_renderer(dataset: Path) -> None:
    kp = np.load(dataset / "keypoints.npy")
    for r, row in enumerate(read_index(dataset)):
        stick = cv2.imread(str(dataset / row["stick"]))
        assert np.array_equal(stick, render_stick(kp[r], 128, 128))


def test_body_measured_in_crop_units(dataset: Path) -> None:
    """Bone lengths equal the known Body's, rescaled from the source frame to the crop."""
    m = load_manifest(dataset)
    scale = SRC_H / m.crop.height_px  # source frame heights -> crop heights
    for name in ("upper_arm", "forearm", "thigh", "shin", "torso", "head"):
        assert getattr(m.body, name) == pytest.approx(getattr(BODY, name) * scale, rel=0.04), name
    assert m.body.aspect == 1.0
    floor = (BODY.floor_y * SRC_H - m.crop.y_px) / m.crop.height_px
    assert m.body.floor_y == pytest.approx(floor, abs=0.01)
    hips_x = np.mean([(_main_pose(k)[KP["r_hip"], 0] + _main_pose(k)[KP["l_hip"], 0]) / 2 *
                      SRC_W for k in range(0, N_SRC, 2)])  # fmt: skip
    assert m.body.center_x == pytest.approx((hips_x - m.crop.x_px) / m.crop.width_px, abs=0.02)


# -- resuming, settings, errors --------------------------------------------------------------


class _Crash(Exception):
    pass


def test_resume_after_a_crash_gives_the_same_dataset(
    synth: dict, dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "resumed"
    options = PrepareOptions(**{**OPTIONS.__dict__, "keypoints_dir": synth["keypoints"]})
    monkeypatch.setattr(detect_module, "CHUNK_SAMPLES", 10)

    class CrashingSource(OpenPoseJsonSource):
        calls = 0

        def people(self, frame: DecodedFrame, size: tuple[int, int]) -> np.ndarray:
            CrashingSource.calls += 1
            if CrashingSource.calls > 25:
                raise _Crash
            return super().people(frame, size)

    with pytest.raises(_Crash):
        prepare_dataset(synth["video"], out, options, make_source=lambda: CrashingSource(
            synth["keypoints"]))  # fmt: skip
    assert not (out / "manifest.json").exists()
    report = prepare_dataset(synth["video"], out, options)
    assert report.detected_now == 45 - 20  # two chunks of 10 were saved before the crash
    # Lose some frames and leave a half-written one, as a kill during pass 2 would.
    for name in ("000030.png", "000031.png"):
        (out / "frames" / name).unlink()
    (out / "frames" / ".000030.png.tmp-123").write_bytes(b"\x89PNG half")
    (out / ".prepare" / "state.json").write_text(json.dumps({"settings": report.manifest.settings}))
    again = prepare_dataset(synth["video"], out, options)
    assert again.detected_now == 0 and again.written_now == 2
    assert not list((out / "frames").glob(".*"))
    assert prepare_dataset(synth["video"], out, options).up_to_date
    assert np.array_equal(np.load(out / "keypoints.npy"), np.load(dataset / "keypoints.npy"))
    for name in ("000030.png", "000002.png"):
        a = cv2.imread(str(out / "frames" / name))
        assert np.array_equal(a, cv2.imread(str(dataset / "frames" / name)))


def test_other_settings_are_refused_then_overwritten(dataset: Path, synth: dict) -> None:
    args = ["prepare", str(synth["video"]), str(dataset), "--keypoints", str(synth["keypoints"])]
    args += ["--fps", str(FPS), "--guard", "0.2", "--no-progress"]
    result = run_cli(*args, "--size", "96")
    assert result.returncode == 1
    assert "other settings" in result.stderr and "size" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    same = run_cli(*args, "--size", "128")
    assert same.returncode == 0 and "already complete" in same.stdout


def test_overwrite_reuses_detections(synth: dict, tmp_path: Path) -> None:
    options = PrepareOptions(**{**OPTIONS.__dict__, "keypoints_dir": synth["keypoints"]})
    first = prepare_dataset(synth["video"], tmp_path / "ds", options)
    bigger = PrepareOptions(**{**options.__dict__, "size": (160, 96), "overwrite": True})
    second = prepare_dataset(synth["video"], tmp_path / "ds", bigger)
    assert first.detected_now == 45 and second.detected_now == 0
    img = cv2.imread(str(tmp_path / "ds" / "frames" / "000000.png"))
    assert img.shape == (96, 160, 3)
    crop = second.manifest.crop
    assert crop.width_px / crop.height_px == pytest.approx(160 / 96, abs=0.02)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "absent.mp4", "no such video"),
        (lambda d: _write(d / "notes.mp4", b"just some text, not a video\n"), "not a video"),
        (
            lambda d: _write(d / "still.png", cv2.imencode(".png", _background())[1].tobytes()),
            "still image",
        ),
    ],
)
def test_not_a_video_is_one_clear_line(tmp_path: Path, make, message: str) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("prepare", str(make(tmp_path)), str(tmp_path / "out"), "--no-progress")
    assert result.returncode == 1 and message in result.stderr
    assert result.stderr.startswith("livedance: error:") and "Traceback" not in result.stderr


def test_no_person_and_unwritable_folder(synth: dict, tmp_path: Path) -> None:
    empty = tmp_path / "nobody"
    empty.mkdir()
    for k in range(N_SRC):
        write_openpose_json(empty / f"dancer_{k:012d}_keypoints.json", np.zeros((0, 18, 3)))
    options = PrepareOptions(**{**OPTIONS.__dict__, "keypoints_dir": empty})
    with pytest.raises(LivedanceError, match="no person found"):
        prepare_dataset(synth["video"], tmp_path / "out", options)
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    with pytest.raises(LivedanceError, match="cannot write to the output folder"):
        prepare_dataset(synth["video"], blocker / "out", options)
    stranger = tmp_path / "holiday_photos"
    stranger.mkdir()
    (stranger / "beach.jpg").write_bytes(b"jpg")
    with pytest.raises(LivedanceError, match="not empty"):
        prepare_dataset(synth["video"], stranger, options)


# -- video input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("suffix", "codec"),
    [(".mov", ["-c:v", "libx264", "-pix_fmt", "yuv420p"]), (".avi", ["-c:v", "mjpeg", "-q:v", "3"]),
     (".mkv", ["-c:v", "ffv1"]), (".webm", ["-c:v", "libvpx-vp9", "-deadline", "realtime"])],
)  # fmt: skip
def test_common_containers_decode_every_frame(tmp_path: Path, suffix: str, codec: list) -> None:
    frames = [_background()] * 12
    path = tmp_path / f"clip{suffix}"
    _encode(frames, path, *codec)
    info = probe_video(path)
    assert (info.width_px, info.height_px) == (SRC_W, SRC_H)
    assert info.fps == pytest.approx(SRC_FPS, rel=1e-3)
    decoded = list(iter_frames(path))
    assert [f.source_index for f in decoded] == list(range(12))
    assert decoded[3].time_s == pytest.approx(3 / SRC_FPS, abs=1e-3)


def test_rotation_metadata_is_respected(tmp_path: Path) -> None:
    display = _background()[:, :200]  # 240 tall, 200 wide as the viewer should see it
    stored = np.ascontiguousarray(np.rot90(display, -1))
    plain = tmp_path / "plain.mp4"
    _encode([stored] * 3, plain, "-c:v", "libx264", "-qp", "0", "-pix_fmt", "yuv444p")
    rotated = tmp_path / "rotated.mp4"
    for tag in (["-metadata:s:v:0", "rotate=90"], ["-display_rotation:v:0", "90"]):
        inputs = [*tag[-2:], "-i", str(plain)] if tag[0].startswith("-display") else [
            "-i", str(plain), *tag]  # fmt: skip
        cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *inputs, "-c", "copy"]
        subprocess.run([*cmd, str(rotated)], check=False)
        if rotated.exists() and probe_video(rotated).rotation_deg:
            break
    else:
        pytest.skip("this ffmpeg cannot write rotation metadata")
    info = probe_video(rotated)
    assert (info.width_px, info.height_px) == (200, 240)
    frame = next(iter(iter_frames(rotated, pix_fmt="bgr24"))).image
    assert np.abs(frame.astype(int) - display).mean() < 3


# -- parts -----------------------------------------------------------------------------------


def test_sampler_takes_the_nearest_frame_once() -> None:
    sampler = FrameSampler(25.0)
    img = np.zeros((1, 1, 3), np.uint8)
    picked = []
    for k in range(31):  # one second at 30 fps
        picked += sampler.push(DecodedFrame(k, k / 30, img))
    picked += sampler.flush(1 / 30)
    assert [s for s, _ in picked] == list(range(26))
    assert all(abs(f.time_s - s / 25) <= 0.5 / 30 + 1e-9 for s, f in picked)
    slow = FrameSampler(25.0)  # a 10 fps video sampled at 25: frames are never repeated
    used = [f.source_index for k in range(10) for _, f in slow.push(DecodedFrame(k, k / 10, img))]
    assert used == list(range(9))


def test_a_frame_after_a_gap_takes_the_sample_of_its_own_time() -> None:
    """Frames at 0..0.2 s, none until 1.0 s: the frame at 1.0 s is sample 10 (1.0 s at 10 fps),
    not the first free sample after the gap's midpoint (6, at 0.6 s)."""
    sampler = FrameSampler(10.0)
    img = np.zeros((1, 1, 3), np.uint8)
    times = [0.0, 0.1, 0.2, 1.0, 1.1, 1.2]
    picked = [p for k, t in enumerate(times) for p in sampler.push(DecodedFrame(k, t, img))]
    picked += sampler.flush(0.1)
    assert [(s, f.source_index) for s, f in picked] == [(0, 0), (1, 1), (2, 2), (10, 3), (11, 4),
                                                        (12, 5)]  # fmt: skip


def test_largest_consistent_person_is_followed() -> None:
    def person(x: float, height: float) -> np.ndarray:
        pose = np.zeros((18, 3), np.float32)
        pose[:, 0] = x + np.linspace(-0.2, 0.2, 18) * height
        pose[:, 1] = 100 + np.linspace(0, 1, 18) * height
        pose[:, 2] = 0.9
        return pose

    people = []
    for k in range(40):
        here = [person(200 + k, 150)] if k not in (5, 6) else []  # the dancer, moving right
        if 10 <= k < 20:
            here.append(person(60, 60))  # a small passer-by
        if k == 30:
            here = [person(500, 400)]  # one huge stray detection instead of the dancer
        people.append(np.array(here) if here else np.zeros((0, 18, 3), np.float32))
    poses, found = select_person(people, min_confidence=0.1)
    assert found.sum() == 40 - 3 and not found[[5, 6, 30]].any()
    assert np.allclose(poses[found, 0, 0], [200 + k - 30 for k in range(40) if found[k]])


def test_smoothing_removes_jitter_without_lag() -> None:
    rng = np.random.default_rng(1)
    n, fps = 250, 25.0
    t = np.arange(n) / fps
    truth = np.zeros((n, 18, 3), np.float32)
    truth[..., 2] = 1.0
    truth[:, :, 1] = np.linspace(0, 200, 18)  # a 200 px person
    truth[:, 9:, 0] = 100 + 30 * np.sin(2 * np.pi * 2.0 * t)[:, None]  # half dances at 2 Hz
    noisy = truth.copy()
    noisy[..., :2] += rng.normal(0, 1.0, (n, 18, 2))
    noisy[100:103, 4, 2] = 0.0  # a joint lost for three frames
    smooth = smooth_keypoints(noisy, np.arange(n), fps, OneEuroParams())
    err_raw = np.abs(noisy - truth)[..., 0]
    err = np.abs(smooth - truth)[..., 0]
    assert err[:, :9].mean() < 0.7 * err_raw[:, :9].mean()  # still joints: less jitter
    assert err[:, 9:].mean() < 1.1 * err_raw[:, 9:].mean()  # moving joints: no worse
    lags = range(-3, 4)
    moving = smooth[:, 12, 0] - 100
    best = max(lags, key=lambda lag: float(np.dot(np.roll(moving, lag), truth[:, 12, 0] - 100)))
    assert best == 0
    assert np.all(smooth[100:103, 4] == 0)  # missing stays missing


def test_size_and_crop_arguments() -> None:
    assert parse_size("256") == (256, 256) and parse_size("512x256") == (512, 256)
    assert parse_crop("auto") is None and parse_crop("10,20,300,400") == CropBox(10, 20, 300, 400)
    for bad in ("big", "8", "0x0"):
        with pytest.raises(ValueError):
            parse_size(bad)
    with pytest.raises(ValueError):
        parse_crop("1,2,3")


def test_manual_crop_is_used_as_given(synth: dict, tmp_path: Path) -> None:
    box = CropBox(40, 20, 200, 200)
    options = PrepareOptions(
        **{**OPTIONS.__dict__, "keypoints_dir": synth["keypoints"], "crop": box}
    )
    m = prepare_dataset(synth["video"], tmp_path / "ds", options).manifest
    assert m.crop == box
    kp = np.load(tmp_path / "ds" / "keypoints.npy")
    nose = _pixels(_main_pose(0))[KP["nose"]] + 0.5
    assert kp[0, KP["nose"], :2] == pytest.approx((nose - [40, 20]) / 200, abs=0.01)


# -- MediaPipe -------------------------------------------------------------------------------


def test_missing_mediapipe_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "mediapipe", None)  # import mediapipe -> ImportError
    with pytest.raises(LivedanceError, match=r"pip install 'livedance\[prepare\]'"):
        BlazePoseSource()


def test_blazepose_on_the_synthetic_figure(synth: dict, tmp_path: Path) -> None:
    """BlazePose, mapped to COCO-18, finds the drawn figure's arms where they were drawn,
    with the body's right and left the right way round."""
    pytest.importorskip("mediapipe", reason="mediapipe not installed (livedance[prepare])")
    options = PrepareOptions(**{**OPTIONS.__dict__, "test_fraction": 0.0})
    # the pinned BlazePose sees the drawn person: "no person found" is a failure, not a skip
    m = prepare_dataset(synth["video"], tmp_path / "mp", options).manifest
    assert m.pose_source.startswith("mediapipe") and m.detection_rate >= 0.6
    kp = np.load(tmp_path / "mp" / "keypoints.npy")
    origin, extent = (m.crop.x_px, m.crop.y_px), (m.crop.width_px, m.crop.height_px)
    arms = [KP[f"{s}_{j}"] for s in "rl" for j in ("shoulder", "elbow", "wrist")]
    errors, swapped = [], []
    for r, row in enumerate(read_index(tmp_path / "mp")):
        truth = _pixels(_main_pose(int(row["source_frame"]))) + 0.5
        found = kp[r, :, :2] * extent + origin
        errors += [np.hypot(*(found[j] - truth[j])) for j in arms if kp[r, j, 2] > 0]
        wrists = (KP["r_wrist"], KP["l_wrist"])
        if kp[r, wrists, 2].all():
            right = np.hypot(*(found[wrists[0]] - truth[wrists[0]]))
            swapped.append(right > np.hypot(*(found[wrists[0]] - truth[wrists[1]])))
    person_px = BODY.height * SRC_H
    assert np.median(errors) < 0.06 * person_px
    assert np.mean(swapped) < 0.2


@pytest.mark.slow
@pytest.mark.skipif(not TAICHI.exists(), reason=f"{TAICHI} not present")
def test_real_video_detection_and_anatomy(tmp_path: Path) -> None:
    pytest.importorskip("mediapipe", reason="mediapipe not installed (livedance[prepare])")
    out = tmp_path / "taichi"
    result = run_cli("prepare", str(TAICHI), str(out), "--fps", "10", "--no-progress")
    assert result.returncode == 0, result.stderr
    m = load_manifest(out)
    assert m.detection_rate >= 0.95 and m.n_samples >= 295
    kp = np.load(out / "keypoints.npy")
    ok = kp[..., 2] > 0
    mid_hip_y = (kp[:, KP["r_hip"], 1] + kp[:, KP["l_hip"], 1]) / 2
    ankle_y = np.maximum(kp[:, KP["r_ankle"], 1], kp[:, KP["l_ankle"], 1])
    upright = (
        (kp[:, KP["nose"], 1] < kp[:, KP["neck"], 1])
        & (kp[:, KP["neck"], 1] < mid_hip_y)
        & (mid_hip_y < ankle_y)
    )
    measurable = ok[:, [KP["nose"], KP["neck"], KP["r_hip"], KP["l_hip"]]].all(axis=1) & (
        ok[:, KP["r_ankle"]] | ok[:, KP["l_ankle"]]
    )
    assert upright[measurable].mean() >= 0.95 and measurable.mean() >= 0.9
    assert 0.3 < m.body.center_x < 0.7 and 0.6 < m.body.floor_y < 1.0
    assert 0.4 < (m.person_height or 0) < 0.95


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# -- image sequences -------------------------------------------------------------------------

GAP = range(60, 68)  # source frames left out of the image sequence: a gap in time


@pytest.fixture(scope="module")
def frames_dir(synth: dict, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every 2nd frame of the synthetic video as ``img{N}.png`` (N its frame number), a few
    missing, as a folder of frames exported from a 30 fps video looks."""
    root = tmp_path_factory.mktemp("seq") / "frames"
    root.mkdir()
    for k in range(0, N_SRC, 2):
        if k not in GAP:
            cv2.imwrite(str(root / f"img{k}.png"), synth["frames"][k])
    (root / "notes.txt").write_text("not an image")
    return root


def test_image_sequence_is_timed_by_the_numbers_in_its_names(
    synth: dict, frames_dir: Path, tmp_path: Path
) -> None:
    result = run_cli(
        "prepare", str(frames_dir), str(tmp_path / "ds"), "--source-fps", str(SRC_FPS),
        "--keypoints", str(synth["keypoints"]), "--size", "128", "--guard", "0.2", "--no-progress",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    m = load_manifest(tmp_path / "ds")
    rows = read_index(tmp_path / "ds")
    numbers = [k for k in range(0, N_SRC, 2) if k not in GAP]
    assert m.n_samples == len(numbers) == 41 and m.fps == FPS  # numbers step 2 at 30 fps
    assert m.source["kind"] == "image sequence" and m.source["images"] == 41
    for row in rows:  # the frame's number, at number / 30 s: the gap stays a gap
        k = int(row["source_frame"])
        assert k in numbers and float(row["time_s"]) == pytest.approx(k / SRC_FPS, abs=1e-5)
        assert int(row["sample"]) == k // 2  # a frame after the gap too
    # the keypoints of a frame are those its number names (the OpenPose file of frame k)
    assert m.n_frames == len([k for k in numbers if k not in BLANK])
    # split by those times: the same test start as the video, whose last frame is the same
    assert m.split.test_start_s == pytest.approx(2.7, abs=1e-3)
    assert max(float(r["time_s"]) for r in rows if r["split"] == "train") < 2.5
    # a printf pattern and a glob give the same frames in the same order
    from offline.prepare.sequence import open_sequence

    whole = open_sequence(frames_dir, SRC_FPS, FPS)
    for spec in ("img%d.png", "img*.png"):
        assert open_sequence(frames_dir / spec, SRC_FPS, FPS).files == whole.files
    assert whole.frame_rate == pytest.approx(15.0) and whole.size == (SRC_W, SRC_H)
    decoded = [(f.source_index, f.time_s) for f in iter_frames(whole, pix_fmt="bgr24")]
    assert decoded == [(k, pytest.approx(k / SRC_FPS)) for k in numbers]


def test_image_sequence_without_numbers_goes_by_name_at_fps(synth: dict, tmp_path: Path) -> None:
    from offline.prepare.sequence import open_sequence

    for k, name in enumerate(("a", "b", "c")):
        cv2.imwrite(str(tmp_path / f"take_{name}.jpg"), synth["frames"][2 * k])
    seq = open_sequence(tmp_path, None, 10.0)
    assert [p.name for p in seq.files] == ["take_a.jpg", "take_b.jpg", "take_c.jpg"]
    assert seq.time_s == (0.0, 0.1, 0.2) and seq.numbers is None
    frames = list(iter_frames(seq, pix_fmt="bgr24"))
    assert len(frames) == 3 and frames[2].source_index == 2
    assert np.abs(frames[1].image.astype(int) - synth["frames"][2]).mean() < 3  # JPEG


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("empty", "no images"),
        ("unreadable", "not a readable image"),
        ("sizes", "differ in size"),
        ("twice", "two images carry the frame number 3"),
        ("video_flag", "--source-fps is for image sequences"),
    ],
)
def test_image_sequence_errors_are_one_clear_line(
    synth: dict, tmp_path: Path, case: str, message: str
) -> None:
    frames = tmp_path / "frames"
    frames.mkdir()
    image = synth["frames"][0]
    target = frames
    if case in ("unreadable", "sizes", "twice"):
        for k in range(3):
            cv2.imwrite(str(frames / f"f{k}.png"), image)
    if case == "unreadable":
        (frames / "f3.png").write_bytes(b"\x89PNG but cut short")
    elif case == "sizes":
        cv2.imwrite(str(frames / "f3.png"), image[:100, :100])
    elif case == "twice":
        cv2.imwrite(str(frames / "f3.png"), image)
        cv2.imwrite(str(frames / "g3.png"), image)
    elif case == "video_flag":
        target = synth["video"]
    options = PrepareOptions(**{**OPTIONS.__dict__, "source_fps": 30.0})
    with pytest.raises(LivedanceError, match=message) as error:
        prepare_dataset(target, tmp_path / "out", options)
    assert "\n" not in str(error.value)
    if case == "sizes":  # 1-2 px off (a frame cut one row short) is scaled, not refused
        (frames / "f3.png").unlink()
        cv2.imwrite(str(frames / "f3.png"), image[:-1])
        from offline.prepare.sequence import open_sequence

        assert open_sequence(frames, 30.0, 30.0).size == (SRC_W, SRC_H)
