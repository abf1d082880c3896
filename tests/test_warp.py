"""Frames between generated frames: the latest one warped to the slot's pose (show/warp.py)."""

from __future__ import annotations

import argparse
import time

import numpy as np

from livedance.actions import action_by_name
from livedance.body import DEFAULT_BODY
from livedance.cli.showsetup import render_tier
from livedance.show.warp import warp_frame
from livedance.skeleton import render_sticks


def _overlap(a: np.ndarray, b: np.ndarray) -> float:
    ma, mb = a.max(axis=2) > 40, b.max(axis=2) > 40
    return float((ma & mb).sum() / max(1, (ma | mb).sum()))


def test_a_warped_frame_takes_the_new_pose_and_leaves_the_room_alone() -> None:
    action = action_by_name("fist_pump_left")
    before, after = action.pose(0.2, 1.0, DEFAULT_BODY), action.pose(0.3, 1.0, DEFAULT_BODY)
    frame_before, frame_after = render_sticks(np.stack([before, after]), 256)
    warped = warp_frame(frame_before, before, after)
    # the figure moves to where the new pose draws it
    assert _overlap(warped, frame_after) > _overlap(frame_before, frame_after) + 0.1, (
        _overlap(warped, frame_after),
        _overlap(frame_before, frame_after),
    )
    # far from the figure nothing moves (a wall at the frame's edge)
    room = frame_before.copy()
    room[:, :20] = 200
    assert np.array_equal(warp_frame(room, before, after)[:, :15], room[:, :15])
    # no joint in common: nothing to follow, the frame is held
    missing = before.copy()
    missing[:, 2] = 0
    assert np.array_equal(warp_frame(frame_before, missing, after), frame_before)


class _Renderer:
    name = "fake"

    def __init__(self, frame_s: float) -> None:
        self.frame_s = frame_s

    def render(self, poses: np.ndarray) -> np.ndarray:
        time.sleep(self.frame_s)
        return np.zeros((len(poses), 8, 8, 3), np.uint8)


def test_auto_quality_times_the_renderer_and_says_whether_it_keeps_up() -> None:
    args = argparse.Namespace(quality="auto", fps=30.0, headless=False)
    warp, why = render_tier(args, _Renderer(0.06), DEFAULT_BODY)
    assert warp and "too slow" in why and "p90" in why
    warp, why = render_tier(args, _Renderer(0.0), DEFAULT_BODY)
    assert warp and "keeps up" in why
    assert render_tier(argparse.Namespace(quality="warp", fps=30.0), _Renderer(0.0), None)[0]
    assert not render_tier(argparse.Namespace(quality="best", fps=30.0), _Renderer(0.06), None)[0]
    headless = argparse.Namespace(quality="warp", fps=30.0, headless=True)
    assert not render_tier(headless, _Renderer(0.06), None)[0]
