"""Forward kinematics on a Body: bones keep their length, feet stay on the floor."""

from __future__ import annotations

import numpy as np

from livedance.body import REST, Angles, Body, bone_lengths, forward_kinematics
from livedance.pose import KP, mirror_pose

OTHER_BODY = Body(
    upper_arm=0.15, forearm=0.11, thigh=0.2, shin=0.19, center_x=0.4, floor_y=0.95, aspect=16 / 9
)


def _random_angles(rng: np.random.Generator) -> Angles:
    values = rng.uniform(-1, 1, len(REST.to_array())) * np.array(
        [0.05, 0.0, 0.3, 3.1, 0.3, 0.3, 3.0, 2.5, 3.0, 2.5, 1.2, 1.5, 1.2, 1.5]
    )
    return Angles.from_array(values)


def test_rest_pose_is_an_upright_person_on_the_floor() -> None:
    body = Body()
    pose = forward_kinematics(REST, body)
    y = {name: pose[KP[name], 1] for name in KP}
    assert y["nose"] < y["neck"] < y["r_hip"] < y["r_knee"] < y["r_ankle"]
    assert np.isclose(max(y["r_ankle"], y["l_ankle"]), body.floor_y)
    assert pose[KP["r_shoulder"], 0] < pose[KP["l_shoulder"], 0], "facing the camera"
    assert np.all(pose[:, 2] == 1.0)


def test_bones_keep_their_length_under_any_angles() -> None:
    rng = np.random.default_rng(0)
    for body in (Body(), OTHER_BODY):
        for _ in range(300):
            lengths = bone_lengths(forward_kinematics(_random_angles(rng), body), body)
            for field, a, b in Body.BONES:
                assert np.isclose(lengths[f"{a}-{b}"], getattr(body, field), atol=1e-5)


def test_mirrored_angles_give_the_mirrored_pose() -> None:
    rng = np.random.default_rng(1)
    for _ in range(50):
        angles = _random_angles(rng)
        a = mirror_pose(forward_kinematics(angles))
        b = forward_kinematics(angles.mirrored())
        visible = (a[:, 2] > 0) & (b[:, 2] > 0)
        assert np.allclose(a[visible, :2], b[visible, :2], atol=1e-5)


def test_jump_lifts_and_turn_hides_the_face() -> None:
    body = Body()
    jump = forward_kinematics(Angles(root_dy=0.05), body)
    assert np.isclose(jump[KP["r_ankle"], 1], body.floor_y - 0.05)
    back = forward_kinematics(Angles(yaw=np.pi), body)
    assert back[KP["nose"], 2] == 0 and back[KP["r_ear"], 2] == 1
    assert back[KP["r_shoulder"], 0] > back[KP["l_shoulder"], 0], "seen from behind, sides swap"


def test_body_round_trips_through_json_dict() -> None:
    assert Body.from_dict(OTHER_BODY.to_dict()) == OTHER_BODY
    assert Body.from_dict({"thigh": 0.3, "unknown": 1}).thigh == 0.3
