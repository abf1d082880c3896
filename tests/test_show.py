"""The one show loop (`livedance.show.loop.run_show`): every show, planned or live, goes through it.

Real parts where they can run here: a real render-ahead thread, a real clock, the real timeline
and operator; the outputs are small recording stand-ins (the window and the recorder have tests
of their own under Xvfb and with ffmpeg).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from livedance.choreo import choreograph
from livedance.clock import FrameClock, MonotonicClock
from livedance.control.commands import Blackout
from livedance.ffmpeg import stream_durations_s
from livedance.render import StickRenderer
from livedance.show.hud import HudInfo, draw_hud, wrap_text
from livedance.show.loop import LATE_FRAMES, ShowOptions, run_show
from livedance.show.operator import Operator
from livedance.show.outputs import KeyEvent, Output, ShowFrame
from livedance.show.timeline import PlannedTimeline
from livedance.songplan import BeatInterval


class Collect(Output):
    """Keeps what the loop hands an output; can ask the operator for a blackout at a slot."""

    def __init__(self, operator: Operator | None = None, blackout_at: int | None = None) -> None:
        self.frames: list[tuple[ShowFrame, HudInfo | None]] = []
        self.ticks = 0
        self.closed: tuple[int, bool] | None = None
        self.operator, self.blackout_at = operator, blackout_at

    def tick(self, now_s: float) -> None:
        self.ticks += 1

    def frame(self, frame: ShowFrame, hud: HudInfo | None) -> KeyEvent | None:
        self.frames.append((frame, hud))
        if self.operator is not None and frame.slot == self.blackout_at:
            self.operator._apply([Blackout(True)], frame.slot / 30)
        return None

    def close(self, end_slot: int, *, stopped_early: bool) -> None:
        self.closed = (end_slot, stopped_early)


def _timeline(seconds: float = 4.0) -> PlannedTimeline:
    n = int(seconds / 0.5)
    intervals = [BeatInterval(0.5 * i, 0.5 * (i + 1), -15.0, 1500.0) for i in range(n)]
    return PlannedTimeline(choreograph(intervals, seed=2))


def test_a_headless_show_hands_every_slot_to_every_output_in_order() -> None:
    timeline = _timeline()
    operator = Operator(timeline)
    out = Collect()
    stats = run_show(
        timeline, FrameClock(30), StickRenderer(64), [out], operator,
        ShowOptions(fps=30, duration_s=2.0),
    )  # fmt: skip
    assert [f.slot for f, _ in out.frames] == list(range(60))
    assert all(f.on_time for f, _ in out.frames) and stats.frames_shown == 60
    assert stats.frames_late == 0 and out.closed == (60, False)
    assert out.ticks >= 60
    # beats at 0.5 s steps: slots 15, 30, 45 are beat frames, all shown
    assert stats.beat_frames == 3 and stats.beat_frames_shown == 3


def test_blackout_reaches_the_recording_and_hides_the_hud_in_a_real_time_show() -> None:
    """Windowed play used to record before blackout and freeze were applied, and drew the HUD
    over a blackout: in the one loop every output gets the final frame, and no HUD in blackout."""
    timeline = _timeline()
    operator = Operator(timeline, hud=True)
    out = Collect(operator, blackout_at=20)
    clock = MonotonicClock()
    clock.start()
    run_show(
        timeline, clock, StickRenderer(64), [out], operator, ShowOptions(fps=30, duration_s=1.5)
    )
    before = [(f, h) for f, h in out.frames if f.slot < 20]
    after = [(f, h) for f, h in out.frames if f.slot > 21]
    assert before and after
    assert all(f.image.any() for f, _ in before), "the dancer is drawn before the blackout"
    assert all(h is not None for f, h in before if f.on_time), "with the HUD"
    assert all(not f.image.any() for f, _ in after), "black frames go to every output"
    assert all(h is None for _, h in after), "no HUD in blackout"


def test_the_hud_carries_the_operators_notice_and_wraps_long_lines() -> None:
    timeline = _timeline()
    operator = Operator(timeline)
    operator.tell("model refused: " + "a very long reason " * 8)
    out = Collect()
    run_show(
        timeline, FrameClock(30), StickRenderer(64), [out], operator,
        ShowOptions(fps=30, duration_s=0.2),
    )  # fmt: skip
    hud = out.frames[-1][1]
    assert hud is not None and hud.notice.startswith("model refused")
    lines = wrap_text(hud.notice, 244, 0.37)
    assert len(lines) > 3 and " ".join(lines) == " ".join(hud.notice.split())
    from dataclasses import replace

    def drawn(info: HudInfo) -> np.ndarray:
        return draw_hud(np.zeros((256, 256, 3), np.uint8), info)[:-8].max(axis=2) > 0

    long, short = drawn(hud), drawn(replace(hud, notice="model refused"))
    assert not long[:, -3:].any(), "no line runs off the right edge"
    rows = np.flatnonzero(long.any(axis=1)).max() - np.flatnonzero(short.any(axis=1)).max()
    assert rows > 2 * 10, "the notice wraps over several lines"
    assert wrap_text("x" * 200, 100, 0.5)[0] != "x" * 200, "a word wider than the frame is cut"


def test_one_late_rule_for_every_show() -> None:
    """A frame is late once its slot is over (one frame period); play used one frame, live two."""
    assert LATE_FRAMES == 1.0


def test_sigterm_while_recording_leaves_a_playable_file_and_no_litter(
    short_song: Path, tmp_path: Path
) -> None:
    out = tmp_path / "show.mp4"
    litter = tmp_path / "tmp"
    litter.mkdir()
    long_song = tmp_path / "long.wav"
    import soundfile as sf

    data, sr = sf.read(short_song, dtype="float32")
    sf.write(long_song, np.concatenate([data] * 6), sr)  # 60 s: still rendering when killed
    proc = subprocess.Popen(
        [sys.executable, "-m", "livedance", "play", str(long_song), "--headless", "--stick",
         "--record", str(out), "--size", "64", "--fps", "240"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "TMPDIR": str(litter)},
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(tmp_path.glob(".show.partial.mp4")):
        time.sleep(0.1)
    time.sleep(1.0)  # rendering by now (14400 frames: many seconds even on a fast machine)
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert out.exists(), stderr
    assert not list(tmp_path.glob(".*partial*")), "no hidden partial file left"
    # ONNX Runtime (imported by every show: the learned beat activation) writes its telemetry
    # SDK's session file, a fixed name it rewrites on each import, into TMPDIR: not our litter
    left = [p for p in litter.iterdir() if p.name != ".ses"]
    assert not left, f"temporary files left: {left}"
    durations = stream_durations_s(out)
    assert 0.5 < durations["video"] < 55.0, durations
    assert abs(durations["audio"] - durations["video"]) < 0.2, durations
    assert "Traceback" not in stderr


@pytest.mark.parametrize("fps", ["0", "-3", "241"])
def test_a_frame_rate_out_of_range_says_what_is_allowed(short_song: Path, fps: str) -> None:
    from tests.conftest import run_cli

    proc = run_cli("play", str(short_song), "--headless", "--fps", fps)
    assert proc.returncode == 2
    assert "--fps: must be above 0 and at most 240" in proc.stderr, proc.stderr
