"""``livedance synth``: a synthetic dataset a trainer reads exactly like a prepared one.

A small real dataset (40 pairs at 128 px) is written once and checked as the trainer and a
user see it: its layout through `offline.pix2pixhd.data.PairDataset`, the manifest and its
time-block split, sticks identical to the runtime renderer's, a painted person where the
keypoints are, the same bytes for the same seed, resuming without rework, and clear errors.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import run_cli

from livedance.body import DEFAULT_BODY, Angles, forward_kinematics
from livedance.errors import LivedanceError
from livedance.pose import KP
from livedance.skeleton import render_stick
from offline.prepare.manifest import load_manifest, read_index
from offline.synth import Appearance, background, draw_person, render_person, synth_dataset

N_FRAMES = 40
SIZE = 128


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("synth") / "ds"
    synth_dataset(root, n_frames=N_FRAMES, size=(SIZE, SIZE), seed=3, progress=False)
    return root


def _png(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert image is not None, path
    return image


def test_trainer_reads_the_dataset(dataset: Path) -> None:
    from offline.pix2pixhd.data import PairDataset

    train = PairDataset(dataset, "train")
    test = PairDataset(dataset, "test")
    assert len(train) + len(test) + load_manifest(dataset).split.n_guard == N_FRAMES
    stick, frame = train[0]
    assert stick.shape == frame.shape == (3, SIZE, SIZE)
    assert -1.0 <= float(frame.min()) < float(frame.max()) <= 1.0
    assert float(stick.max()) > -1.0  # a stick figure is drawn, not a black image


def test_layout_and_manifest(dataset: Path) -> None:
    for name in ("manifest.json", "index.csv", "keypoints.npy", "contact_sheet.png"):
        assert (dataset / name).is_file(), name
    assert len(list((dataset / "frames").glob("*.png"))) == N_FRAMES
    assert len(list((dataset / "sticks").glob("*.png"))) == N_FRAMES
    doc = json.loads((dataset / "manifest.json").read_text())
    assert doc["pose_source"] == "synth"
    assert doc["counts"]["frames"] == N_FRAMES
    assert doc["size"] == {"width": SIZE, "height": SIZE}
    assert doc["split"]["by"] == "time"
    m = load_manifest(dataset)
    assert m.split.n_train + m.split.n_test + m.split.n_guard == N_FRAMES
    assert m.split.n_test >= 1 and m.detection_rate == 1.0
    # The measured Body is the one the poses were danced on (up to the sampled variation).
    for name in ("torso", "upper_arm", "thigh", "shin"):
        assert getattr(m.body, name) == pytest.approx(getattr(DEFAULT_BODY, name), rel=0.1)
    assert np.load(dataset / "keypoints.npy").shape == (N_FRAMES, 18, 3)
    sheet = _png(dataset / "contact_sheet.png")
    assert sheet.shape[0] > SIZE and sheet.std() > 10


def test_split_is_time_blocks(dataset: Path) -> None:
    rows = read_index(dataset)
    labels = [r["split"] for r in rows]
    times = [float(r["time_s"]) for r in rows]
    assert times == sorted(times)
    order = {"train": 0, "guard": 1, "test": 2}
    assert [order[x] for x in labels] == sorted(order[x] for x in labels)
    m = load_manifest(dataset)
    test_times = [t for t, x in zip(times, labels, strict=True) if x == "test"]
    other_times = [t for t, x in zip(times, labels, strict=True) if x != "test"]
    assert min(test_times) >= m.split.test_start_s - 1e-6
    assert max(other_times) < m.split.test_start_s + 1e-6
    guard_times = [t for t, x in zip(times, labels, strict=True) if x == "guard"]
    assert min(guard_times) >= m.split.test_start_s - m.split.guard_s - 1e-6
    assert m.split.test_start_s == pytest.approx(0.9 * N_FRAMES / m.fps)


def test_sticks_are_the_runtime_renderers(dataset: Path) -> None:
    keypoints = np.load(dataset / "keypoints.npy")
    for row in read_index(dataset)[:: N_FRAMES // 8]:
        r = int(row["row"])
        expected = render_stick(keypoints[r], SIZE, SIZE)
        np.testing.assert_array_equal(_png(dataset / row["stick"]), expected)


def test_person_is_painted_over_the_keypoints(dataset: Path) -> None:
    keypoints = np.load(dataset / "keypoints.npy")
    m = load_manifest(dataset)
    room = background(Appearance.from_seed(3), SIZE, SIZE, DEFAULT_BODY.floor_y)
    for row in read_index(dataset)[::5]:
        r = int(row["row"])
        frame = _png(dataset / row["frame"]).astype(int)
        kp = keypoints[r, :, :2] * SIZE
        hips = (kp[KP["r_hip"]] + kp[KP["l_hip"]]) / 2
        belly = (hips + kp[KP["neck"]]) / 2
        for point in (hips, belly, kp[KP["nose"]]):
            x, y = np.round(point).astype(int)
            assert np.abs(frame[y, x] - room[y, x]).sum() > 30, (r, point)
        # ... and the room is left alone away from the person: the top-left corner.
        assert np.abs(frame[:6, :6] - room[:6, :6]).max() <= 2
    assert m.size == (SIZE, SIZE)


def test_same_seed_same_dataset_other_seed_other(dataset: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    synth_dataset(again, n_frames=N_FRAMES, size=(SIZE, SIZE), seed=3, progress=False)
    np.testing.assert_array_equal(
        np.load(again / "keypoints.npy"), np.load(dataset / "keypoints.npy")
    )
    for name in ("frames/000007.png", "sticks/000031.png", "index.csv"):
        assert (again / name).read_bytes() == (dataset / name).read_bytes(), name
    other = tmp_path / "other"
    synth_dataset(other, n_frames=8, size=(SIZE, SIZE), seed=4, progress=False)
    assert not np.array_equal(
        np.load(other / "keypoints.npy"), np.load(again / "keypoints.npy")[:8]
    )
    assert Appearance.from_seed(3) != Appearance.from_seed(4)


def test_resumes_without_rework(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    first = synth_dataset(root, n_frames=12, size=(64, 64), progress=False)
    assert first.written_now == 12 and not first.up_to_date
    done = synth_dataset(root, n_frames=12, size=(64, 64), progress=False)
    assert done.up_to_date and done.written_now == 0
    # An interrupted run: two frames and a stick never got written.
    kept = root / "frames" / "000000.png"
    mtime = kept.stat().st_mtime_ns
    for name in ("frames/000003.png", "frames/000010.png", "sticks/000005.png"):
        (root / name).unlink()
    resumed = synth_dataset(root, n_frames=12, size=(64, 64), progress=False)
    assert resumed.written_now == 3 and not resumed.up_to_date
    assert kept.stat().st_mtime_ns == mtime
    assert (root / "frames/000003.png").is_file() and (root / "sticks/000005.png").is_file()
    with pytest.raises(LivedanceError, match="other settings"):
        synth_dataset(root, n_frames=13, size=(64, 64), progress=False)
    assert synth_dataset(root, n_frames=13, size=(64, 64), overwrite=True).written_now == 13


def test_bad_output_folder(tmp_path: Path) -> None:
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    with pytest.raises(LivedanceError, match="cannot write"):
        synth_dataset(a_file / "ds", n_frames=4, size=(64, 64), progress=False)
    strangers = tmp_path / "strangers"
    strangers.mkdir()
    (strangers / "notes.txt").write_text("mine")
    with pytest.raises(LivedanceError, match="not empty"):
        synth_dataset(strangers, n_frames=4, size=(64, 64), progress=False)
    result = run_cli("synth", str(strangers), "--frames", "4", "--no-progress", timeout=60)
    assert result.returncode != 0
    assert "not empty" in result.stderr and "Traceback" not in result.stderr


def test_cli_writes_a_dataset(tmp_path: Path) -> None:
    out = tmp_path / "cli"
    result = run_cli("synth", str(out), "--frames", "6", "--size", "64", "--no-progress")
    assert result.returncode == 0, result.stderr
    assert "6 pairs" in result.stdout
    assert load_manifest(out).n_frames == 6


def test_missing_joints_are_left_out() -> None:
    appearance = Appearance.from_seed(0)
    room = background(appearance, 96, 96, 0.9)
    nothing = np.full((18, 2), np.nan)
    np.testing.assert_array_equal(draw_person(room.copy(), nothing, appearance), room)
    pose = forward_kinematics(Angles(), DEFAULT_BODY)
    full = render_person(pose, room, appearance)
    no_arm = pose.copy()
    no_arm[[KP["l_elbow"], KP["l_wrist"]], 2] = 0.0
    partial = render_person(no_arm, room, appearance)
    wrist = np.round(pose[KP["l_wrist"], :2] * 96).astype(int)
    x, y = wrist
    assert not np.array_equal(full[y, x], room[y, x])  # the hand is painted ...
    np.testing.assert_array_equal(partial[y, x], room[y, x])  # ... and gone with its joints


# -- what the drawn person looks like -----------------------------------------------------------

_LOOK = replace(Appearance.from_seed(0), skin=(150, 190, 235), hair=(25, 25, 30),
                wall=(200, 205, 210), long_sleeves=True)  # fmt: skip


def _draw(angles: Angles, look: Appearance = _LOOK, size: int = 256) -> np.ndarray:
    room = background(look, size, size, DEFAULT_BODY.floor_y)
    return render_person(forward_kinematics(angles, DEFAULT_BODY), room, look)


def _is_skin(pixel: np.ndarray, skin: tuple[int, int, int]) -> bool:
    """A lit or shaded version of ``skin``: a multiple of it, within a few levels."""
    s = np.asarray(skin, float)
    k = float(pixel @ s / (s @ s))
    return 0.3 < k < 1.3 and float(np.abs(pixel - k * s).max()) < 22


def test_hands_reach_past_the_wrist_along_the_forearm() -> None:
    pose = forward_kinematics(Angles(r_shoulder=1.2, l_shoulder=0.6, l_elbow=0.8), DEFAULT_BODY)
    image = render_person(pose, background(_LOOK, 256, 256, 0.9), _LOOK)
    xy = pose[:, :2] * 256
    unit = np.linalg.norm(xy[KP["neck"]] - (xy[KP["r_hip"]] + xy[KP["l_hip"]]) / 2)
    for side in ("r", "l"):
        wrist, elbow = xy[KP[f"{side}_wrist"]], xy[KP[f"{side}_elbow"]]
        along = (wrist - elbow) / np.linalg.norm(wrist - elbow)
        # Palm and fingers: skin a fifth of a torso past the wrist, where a ball hand ended.
        for reach in (0.08, 0.2):
            x, y = np.round(wrist + along * reach * unit).astype(int)
            assert _is_skin(image[y, x].astype(float), _LOOK.skin), (side, reach, image[y, x])
        # ... and not off to the side of the forearm's line at that distance.
        square = np.array([-along[1], along[0]])
        x, y = np.round(wrist + along * 0.2 * unit + square * 0.3 * unit).astype(int)
        assert not _is_skin(image[y, x].astype(float), _LOOK.skin), side


def _is_hair(pixel: np.ndarray) -> bool:
    return float(pixel.max()) < 120 and not _is_skin(pixel, _LOOK.skin)


def _centroid_x(image: np.ndarray, box: tuple[slice, slice], hair: bool) -> float:
    """Mean x of the hair (or else the skin) pixels in ``image[box]``."""
    crop = image[box].astype(float)
    found = [
        x
        for y in range(crop.shape[0])
        for x in range(crop.shape[1])
        if (_is_hair(crop[y, x]) if hair else _is_skin(crop[y, x], _LOOK.skin))
    ]
    assert len(found) > 10
    return float(np.mean(found))


def test_face_turns_with_the_pose() -> None:
    front, right, left = (_draw(Angles(yaw=y)) for y in (0.0, 1.4, -1.4))
    nose = forward_kinematics(Angles(), DEFAULT_BODY)[KP["nose"], :2] * 256
    x, y = np.round(nose).astype(int)
    head = (slice(y - 25, y + 18), slice(x - 25, x + 26))
    assert not np.array_equal(front[head], right[head])
    offset = {}
    for name, image in (("front", front), ("right", right), ("left", left)):
        offset[name] = _centroid_x(image, head, False) - _centroid_x(image, head, True)
    # Turned in profile the face moves to the side it looks to and the hair to the back of
    # the head, against where they are seen from the front (which the light makes a little
    # lopsided).
    assert offset["right"] > offset["front"] + 4
    assert offset["left"] < offset["front"] - 4
    # Turned left and turned right are mirror images of each other, near enough.
    mirrored = np.abs(right[head].astype(int) - left[head][:, ::-1].astype(int)).mean()
    assert mirrored < np.abs(right[head].astype(int) - front[head].astype(int)).mean()


def test_drawing_is_deterministic_and_per_person() -> None:
    angles = Angles(r_shoulder=1.0, l_elbow=1.5, r_knee=0.6, yaw=0.4)
    np.testing.assert_array_equal(_draw(angles), _draw(angles))
    other = Appearance.from_seed(5)
    assert not np.array_equal(_draw(angles, other), _draw(angles))
    np.testing.assert_array_equal(background(other, 64, 64, 0.9), background(other, 64, 64, 0.9))


def test_room_is_the_same_in_every_frame_away_from_the_person(dataset: Path) -> None:
    keypoints = np.load(dataset / "keypoints.npy")
    room = background(Appearance.from_seed(3), SIZE, SIZE, DEFAULT_BODY.floor_y)
    assert room.std() > 10  # a lit, textured room, not a flat fill
    outside_seen = 0
    for row in read_index(dataset):
        r = int(row["row"])
        frame = _png(dataset / row["frame"])
        xy = keypoints[r, :, :2] * SIZE
        unit = np.linalg.norm(xy[KP["neck"]] - (xy[KP["r_hip"]] + xy[KP["l_hip"]]) / 2)
        # The person, hands, hair and floor shadow all lie within 0.7 torso of a keypoint.
        margin = 0.7 * unit
        x0, y0 = np.floor(xy.min(axis=0) - margin).astype(int)
        x1, y1 = np.ceil(xy.max(axis=0) + margin).astype(int)
        away = np.ones((SIZE, SIZE), bool)
        away[max(y0, 0) : max(y1, 0), max(x0, 0) : max(x1, 0)] = False
        np.testing.assert_array_equal(frame[away], room[away])
        outside_seen += int(away.sum())
    assert outside_seen > N_FRAMES * SIZE * 4  # the check covered real area in every frame
