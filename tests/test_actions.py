"""The thirty basic dance actions: what a viewer of the dancing figure would notice.

Limbs that stretch, poses that jump when an action repeats, a figure leaving the frame, two
actions that look the same, a left move that is not the mirror of its right, a clap whose hands
never meet, motion that freezes mid-beat instead of on it; and the `livedance actions` command
that lists and draws them.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from livedance.actions import ACTIONS, TAGS, action_by_name
from livedance.actions.sheet import label_width_px
from livedance.body import DEFAULT_BODY, REST, Body, bone_lengths, forward_kinematics
from livedance.cli import main
from livedance.pose import KP, mirror_pose

PHASES = np.linspace(0.0, 1.0, 41)
INTENSITIES = (0.5, 1.0, 1.2)
OTHER_BODY = Body(
    head=0.07,
    torso=0.22,
    shoulder_half=0.075,
    hip_half=0.045,
    upper_arm=0.12,
    forearm=0.105,
    thigh=0.16,
    shin=0.15,
    center_x=0.42,
    floor_y=0.86,
    aspect=16 / 9,
)
NAMES = [a.name for a in ACTIONS]


def trajectory(action, phases=PHASES, intensity=1.0, body=DEFAULT_BODY):
    return np.stack([action.pose(float(p), intensity, body) for p in phases])


def test_thirty_actions_with_unique_names_valid_tags_and_spread_energies():
    assert len(ACTIONS) == 30
    assert len(set(NAMES)) == 30
    for action in ACTIONS:
        assert re.fullmatch(r"[a-z]+(_[a-z]+)*", action.name), action.name
        assert action.tags and action.tags <= TAGS, (action.name, action.tags)
        assert 0.0 <= action.energy <= 1.0
    energies = [a.energy for a in ACTIONS]
    assert min(energies) < 0.3 and max(energies) > 0.8
    # spread over the range, not bunched at the two ends
    assert len({round(e, 1) for e in energies}) >= 8


def test_action_by_name_finds_every_action_and_lists_the_names_when_unknown():
    for action in ACTIONS:
        assert action_by_name(action.name) is action
    with pytest.raises(KeyError, match=r"clap.*twist"):
        action_by_name("moonwalk")


def test_every_side_has_its_mirror():
    sided = [n for n in NAMES if n.endswith(("_left", "_right"))]
    for name in sided:
        stem, _, side = name.rpartition("_")
        assert f"{stem}_{'right' if side == 'left' else 'left'}" in NAMES


@pytest.mark.parametrize("body", [DEFAULT_BODY, OTHER_BODY], ids=["default", "other"])
def test_bones_keep_their_length_at_every_phase_and_intensity(body):
    expected = {f"{a}-{b}": getattr(body, field) for field, a, b in Body.BONES}
    for action in ACTIONS:
        for intensity in INTENSITIES:
            for pose in trajectory(action, intensity=intensity, body=body):
                lengths = bone_lengths(pose, body)
                for bone, length in expected.items():
                    assert lengths[bone] == pytest.approx(length, abs=1e-5), (action.name, bone)


@pytest.mark.parametrize("body", [DEFAULT_BODY, OTHER_BODY], ids=["default", "other"])
def test_actions_loop_seamlessly(body):
    # Repeated on consecutive beats an action must not jump: phase 1 is phase 0.
    for action in ACTIONS:
        for intensity in INTENSITIES:
            start = action.pose(0.0, intensity, body)
            end = action.pose(1.0, intensity, body)
            np.testing.assert_allclose(start, end, atol=1e-6, err_msg=action.name)


def test_every_beat_starts_near_the_standing_stance():
    # Consecutive actions blend from one's end pose to the next one's start: keep that short.
    # Only the clap (hands together on the beat) and the tuck jump (landing in a crouch on the
    # beat) start away from plain standing, and not by much on average.
    standing = forward_kinematics(REST)
    for action in ACTIONS:
        offset = np.linalg.norm(action.pose(0.0)[:, :2] - standing[:, :2], axis=1).mean()
        assert offset < 0.04, (action.name, offset)


def test_the_figure_stays_in_frame():
    phases = np.linspace(0.0, 1.0, 121)
    for action in ACTIONS:
        for intensity in INTENSITIES:
            poses = trajectory(action, phases, intensity)
            visible = poses[:, :, 2] > 0
            xy = poses[:, :, :2][visible]
            assert xy.min() >= 0.02 and xy.max() <= 0.98, (action.name, intensity)


def test_motion_is_continuous():
    # At 120 BPM a sample every 1/60 beat is a 120 fps display. No keypoint moves further than
    # 0.1 frame heights (less than a forearm) between samples, and halving the sampling step
    # halves the largest move, which a jump anywhere in the beat would not.
    coarse, fine = np.linspace(0.0, 1.0, 61), np.linspace(0.0, 1.0, 121)
    for action in ACTIONS:
        steps = {}
        for name, phases in (("coarse", coarse), ("fine", fine)):
            xy = trajectory(action, phases, 1.2)[:, :, :2]
            steps[name] = np.linalg.norm(np.diff(xy, axis=0), axis=2).max()
        assert steps["coarse"] < 0.1, (action.name, steps)
        assert steps["fine"] < 0.6 * steps["coarse"], (action.name, steps)


def test_no_limb_moves_faster_than_a_dancer_can_at_120_bpm():
    # At 120 BPM a 30 fps frame is 1/15 of a beat. The choreographer keeps every keypoint
    # under 0.12 frame heights per frame (about 9 m/s for a 1.7 m dancer filling 0.7 of the
    # frame, beyond any real hand); actions must allow that up to intensity 1.1.
    phases = np.linspace(0.0, 1.0, 61)
    for action in ACTIONS:
        xy = trajectory(action, phases, 1.1)[:, :, :2]
        per_frame = np.abs(xy[4:] - xy[:-4]).max()
        assert per_frame < 0.12, (action.name, per_frame)


def test_the_body_is_stillest_on_the_beat_and_never_freezes_mid_beat():
    # The Beat Alignment Score finds kinematic beats at minima of the body's speed: the one
    # stop should be on the beat (phase 0/1). Mid-beat the body keeps moving at no less than
    # a tenth of its top speed: turning points of one joint are covered by others.
    phases = np.linspace(0.0, 1.0, 241)
    for action in ACTIONS:
        xy = trajectory(action, phases)[:, :, :2]
        speed = np.linalg.norm(np.diff(xy, axis=0), axis=2).mean(axis=1)
        stillest = phases[speed.argmin()]
        assert min(stillest, 1.0 - stillest) <= 0.03, (action.name, stillest)
        middle = speed[(phases[:-1] >= 0.1) & (phases[:-1] <= 0.9)]
        assert middle.min() > 0.1 * speed.max(), (action.name, middle.min() / speed.max())


def test_actions_are_visibly_different_from_each_other():
    # Mean distance between the two figures' keypoints over the beat, in frame heights. Both
    # start and end at nearly the same stance, so the moving limbs differ by much more than
    # the mean: 0.015 is 4 px on a 256 px frame averaged over all 18 keypoints and the whole
    # beat, about the stick renderer's limb thickness (6 px).
    trajectories = {a.name: trajectory(a)[:, :, :2] for a in ACTIONS}
    for a, b in itertools.combinations(NAMES, 2):
        distance = np.linalg.norm(trajectories[a] - trajectories[b], axis=2).mean()
        assert distance > 0.015, (a, b, distance)


def test_left_and_right_variants_are_mirror_images():
    pairs = [(n, n[: -len("_left")] + "_right") for n in NAMES if n.endswith("_left")]
    assert len(pairs) >= 5
    for left_name, right_name in pairs:
        left, right = action_by_name(left_name), action_by_name(right_name)
        for intensity in INTENSITIES:
            for phase in PHASES:
                mirrored = mirror_pose(left.pose(float(phase), intensity))
                pose = right.pose(float(phase), intensity)
                np.testing.assert_array_equal(mirrored[:, 2], pose[:, 2])
                visible = pose[:, 2] > 0
                np.testing.assert_allclose(
                    mirrored[visible, :2], pose[visible, :2], atol=1e-5, err_msg=right_name
                )


def test_the_clap_hands_meet_on_the_beat_and_open_between():
    clap = action_by_name("clap")
    gaps = [
        np.linalg.norm(pose[KP["r_wrist"], :2] - pose[KP["l_wrist"], :2])
        for pose in trajectory(clap)
    ]
    assert gaps[0] < 0.03
    assert max(gaps) > 0.3


def test_arms_never_cross_the_face():
    # Distance from the nose to each arm bone stays above the head's half-width (ear offset).
    def segment_distance(p, a, b):
        ab = b - a
        t = np.clip(np.dot(p - a, ab) / np.dot(ab, ab), 0.0, 1.0)
        return np.linalg.norm(p - (a + t * ab))

    bones = [("r_shoulder", "r_elbow"), ("r_elbow", "r_wrist")]
    bones += [("l_shoulder", "l_elbow"), ("l_elbow", "l_wrist")]
    for action in ACTIONS:
        for intensity in (1.0, 1.2):
            for pose in trajectory(action, intensity=intensity):
                nose = pose[KP["nose"], :2]
                for a, b in bones:
                    d = segment_distance(nose, pose[KP[a], :2], pose[KP[b], :2])
                    assert d > DEFAULT_BODY.ear_dx + 0.01, (action.name, a, b, d)


def test_cli_lists_every_action_with_tags_and_energy(capsys):
    assert main(["actions"]) == 0
    out = capsys.readouterr().out
    for action in ACTIONS:
        line = next(row for row in out.splitlines() if row.split()[0] == action.name)
        assert f"{action.energy:.2f}" in line
        assert all(tag in line for tag in action.tags)


def test_cli_writes_a_contact_sheet_with_every_action_drawn(tmp_path: Path, capsys):
    path = tmp_path / "sheet.png"
    cell, phases = 64, 5
    assert (
        main(["actions", "--sheet", str(path), "--phases", str(phases), "--cell", str(cell)]) == 0
    )
    assert str(path) in capsys.readouterr().out
    image = cv2.imread(str(path))
    assert image is not None
    label = label_width_px(cell)
    assert image.shape == (30 * cell, label + phases * cell, 3)
    for row in range(30):
        band = image[row * cell + 1 : (row + 1) * cell]
        assert band[:, :label].max() > 100, f"row {row} has no label"
        for col in range(phases):
            drawn = band[:, label + col * cell : label + (col + 1) * cell]
            # the stick figure's saturated colours, not just the faint floor line
            assert (drawn.max(axis=2) > 200).sum() > 50, f"row {row}, phase {col} is empty"


def test_cli_sheet_default_size(tmp_path: Path):
    path = tmp_path / "default.png"
    assert main(["actions", "--sheet", str(path)]) == 0
    image = cv2.imread(str(path))
    assert image.shape == (30 * 160, label_width_px(160) + 8 * 160, 3)


@pytest.mark.parametrize("name", ["missing-dir/sheet.png", "sheet.jpg"])
def test_cli_unwritable_sheet_is_one_error_line(tmp_path: Path, capsys, name):
    path = tmp_path / name
    assert main(["actions", "--sheet", str(path)]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("livedance: error:"), err
    assert str(path) in err[0]
    assert not path.exists()


def test_cli_help_explains_the_options(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["actions", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "--sheet" in out and "--phases" in out and "--cell" in out
