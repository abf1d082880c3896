"""OSC wired into a running show: real UDP loopback in (the operator), beats out at their times.

The operator (`livedance.show.operator`) applies commands to a timeline
(`livedance.show.timeline`): a planned song's phase, or a live beat clock. `BeatOutput` sends the
timeline's beats over OSC at their times.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from pythonosc.udp_client import SimpleUDPClient

from livedance.audio.beatclock import BeatClock
from livedance.audio.tempo import PulseEstimate
from livedance.audio.temporange import TempoRange
from livedance.choreo import Choreographer, choreograph
from livedance.clock import MonotonicClock
from livedance.control.osc import OscControl
from livedance.control.osc_out import OscOut
from livedance.show.operator import Operator
from livedance.show.outputs import BeatOutput
from livedance.show.stage import BeatsToMoves
from livedance.show.timeline import LiveTimeline, PlannedTimeline, Timeline
from livedance.songplan import BeatInterval
from tests.test_osc import LOOPBACK, Receiver, wait_for

BEAT_S = 0.25


def _planned(n_beats: int = 40) -> PlannedTimeline:
    intervals = [
        BeatInterval(0.3 + i * BEAT_S, 0.3 + (i + 1) * BEAT_S, -18.0, 1500.0)
        for i in range(n_beats)
    ]
    return PlannedTimeline(choreograph(intervals, seed=0))


def _operator(timeline: Timeline) -> tuple[Operator, MonotonicClock]:
    clock = MonotonicClock()
    clock.start()
    names = [a.name for a in timeline.choreographer.actions]
    control = OscControl(0, LOOPBACK, clock=clock, action_names=names).start()
    return Operator(timeline, control=control), clock


def _until(operator: Operator, clock: MonotonicClock, done: object, timeout_s: float = 2.0) -> None:
    """Run frames (apply the commands that arrived) until ``done()``."""
    wait_for(lambda: (operator.on_frame(clock.now()), done())[1], timeout_s)  # type: ignore[operator]


class _Input:
    """A line-in stand-in for the live timeline: no problem, audio captured up to the clock."""

    def __init__(self, clock: MonotonicClock) -> None:
        self.clock, self.problem, self.beats_seen = clock, None, 0

    def captured_s(self) -> float:
        return self.clock.now()


def _live(clock: MonotonicClock, bpm: float = 124.0) -> tuple[LiveTimeline, BeatClock]:
    """A live timeline on a beat clock tracking ``bpm`` (fed estimates as a tracker would)."""
    beats = BeatClock(tempo=TempoRange(60.0, 180.0))
    period = 60.0 / bpm
    for now in np.arange(0.0, 3.0, 0.05):
        beat = period * np.floor(now / period)
        beats.update(PulseEstimate(time_s=now, period_s=period, beat_s=beat, strength=0.6), now)
    stage = BeatsToMoves(Choreographer(seed=1), beats, lambda start, out: False, 44100)
    return LiveTimeline(stage, beats, _Input(clock), origin_s=0.0), beats


def test_beats_go_out_at_their_planned_times_with_the_right_count_and_spacing() -> None:
    timeline = _planned()
    clock = MonotonicClock()
    clock.start()
    with Receiver(clock) as rx:
        beats_out = BeatOutput(OscOut(LOOPBACK, rx.port, clock=clock), timeline)
        try:
            while clock.now() < 2.4:  # the last beat is at 2.3 s, the next at 2.55 s
                beats_out.tick(clock.now())
                time.sleep(1 / 60)
        finally:
            beats_out.close(0, stopped_early=False)
    beats = rx.messages("/livedance/beat")
    planned = [m.start_s for m in timeline.choreographer.moves if m.start_s <= 2.4]
    assert [args[0] for _, args in beats] == list(range(len(planned)))
    errors_ms = [abs(t - p) * 1e3 for (t, _), p in zip(beats, planned, strict=True)]
    assert np.median(errors_ms) < 10, errors_ms
    spacing_s = np.diff([t for t, _ in beats])
    assert np.allclose(spacing_s, BEAT_S, atol=0.02), spacing_s
    assert all(abs(args[1] - 60 / BEAT_S) < 1e-3 for _, args in beats)
    actions = rx.messages("/livedance/action")
    assert actions and actions[0][1][0] == timeline.choreographer.moves[0].action


def test_commands_over_udp_change_the_running_show() -> None:
    timeline = _planned()
    operator, clock = _operator(timeline)
    assert operator.control is not None
    client = SimpleUDPClient(LOOPBACK, operator.control.port)
    try:
        frame = np.full((8, 8, 3), 200, np.uint8)
        client.send_message("/livedance/blackout", 1)
        client.send_message("/livedance/intensity", 0.0)
        client.send_message("/livedance/action", "jump")  # unknown names are refused
        client.send_message("/livedance/nope", 3)  # unknown address: logged, ignored
        client.send_message("/livedance/intensity", "loud")  # malformed: logged, ignored
        _until(operator, clock, lambda: operator.blackout)
        assert not operator.present(frame).any()
        assert operator.controls.intensity == 0.0
        # intensity 0: the dancer stands at the idle pose, whatever the move
        from livedance.choreo import idle_pose

        t = 1.0
        shaped = operator.shape(timeline.pose_at(t), timeline.to_dance_s(t))
        np.testing.assert_allclose(shaped[:, :2], idle_pose(t)[:, :2], atol=1e-6)

        name = timeline.choreographer.actions[-1].name
        client.send_message("/livedance/action", name)
        client.send_message("/livedance/blackout", 0)
        client.send_message("/livedance/freeze", 1)
        _until(operator, clock, lambda: operator.controls.freeze)
        now = clock.now()
        nxt = next(m for m in timeline.choreographer.moves if m.start_s > now)
        assert nxt.action == name and nxt.reason == "forced"
        frozen = operator.present(np.ones((8, 8, 3), np.uint8))
        assert (frozen == operator.present(np.zeros((8, 8, 3), np.uint8))).all()

        before = timeline.offset_s
        client.send_message("/livedance/nudge", 0.5)
        _until(operator, clock, lambda: timeline.offset_s != before)
        assert abs((before - timeline.offset_s) - 0.5 * BEAT_S) < 1e-6
        client.send_message("/livedance/model", "/nowhere/model.onnx")
        _until(operator, clock, lambda: bool(operator.notice))
        assert "unavailable" in operator.notice
    finally:
        client._sock.close()
        operator.close()


def test_an_osc_tempo_outside_the_live_range_and_fast_taps_never_end_the_show(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """`/livedance/tempo 200` is valid OSC (30..300) but outside a 60..180 clock: it is held
    folded to 100 with a log line; three taps 0.2 s apart (300 BPM) likewise; a release hands the
    clock back to the audio."""
    clock = MonotonicClock()
    clock.start()
    timeline, beats = _live(clock)
    names = [a.name for a in timeline.choreographer.actions]
    control = OscControl(0, LOOPBACK, clock=clock, action_names=names).start()
    operator = Operator(timeline, control=control)
    client = SimpleUDPClient(LOOPBACK, control.port)
    try:
        with caplog.at_level(logging.INFO):
            client.send_message("/livedance/tempo", 200.0)
            _until(operator, clock, lambda: beats.state == "manual")
        assert beats.bpm == pytest.approx(100.0)
        assert "outside 60..180" in caplog.text and "100.0" in operator.notice
        client.send_message("/livedance/tempo/release", 1)
        _until(operator, clock, lambda: beats.state == "tracking")
        for _ in range(3):
            client.send_message("/livedance/tap", [])
            time.sleep(0.2)
        _until(operator, clock, lambda: beats.state == "manual")
        assert beats.bpm == pytest.approx(150.0, rel=0.1)  # 300 BPM taps, folded
    finally:
        client._sock.close()
        operator.close()


def test_double_and_half_over_osc_and_keys_steer_the_live_clock() -> None:
    clock = MonotonicClock()
    clock.start()
    timeline, beats = _live(clock, bpm=87.0)  # drum and bass counted at half tempo
    names = [a.name for a in timeline.choreographer.actions]
    control = OscControl(0, LOOPBACK, clock=clock, action_names=names).start()
    operator = Operator(timeline, control=control)
    client = SimpleUDPClient(LOOPBACK, control.port)
    try:
        client.send_message("/livedance/tempo/double", [])
        _until(operator, clock, lambda: beats.state == "manual")
        assert beats.bpm == pytest.approx(174.0, rel=0.01) and "174.0" in operator.notice
        operator.key("half", clock.now())
        assert beats.bpm == pytest.approx(87.0, rel=0.01)
        operator.key("double", clock.now())
        operator.key("double", clock.now())  # 348 BPM: refused, said on the HUD
        assert beats.bpm == pytest.approx(174.0, rel=0.01) and "outside" in operator.notice
        operator.key("release", clock.now())
        assert beats.state != "manual"
    finally:
        client._sock.close()
        operator.close()


def test_the_bpm_sent_out_is_the_live_clocks() -> None:
    clock = MonotonicClock()
    clock.start()
    timeline, beats = _live(clock)
    timeline.extend(clock.now() - 0.2)  # moves for the next period, added at 124 BPM
    beats.set_tempo(128.0)
    announced = timeline.announcements(-1.0, 10.0)
    assert announced and all(a.bpm == pytest.approx(128.0) for a in announced)
    assert timeline.beat_at(announced[0].at_s).bpm == pytest.approx(128.0)


def test_headless_play_with_osc_reports_its_port_and_finishes() -> None:
    with Receiver(MonotonicClock()) as rx:
        proc = subprocess.run(
            [sys.executable, "-m", "livedance", "play", "--demo", "--headless", "--duration",
             "3", "--osc-port", "0", "--osc-out", f"{LOOPBACK}:{rx.port}"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        assert "OSC control on 127.0.0.1:" in proc.stdout
        port = int(proc.stdout.split("OSC control on 127.0.0.1:")[1].split()[0])
        assert port > 0


def test_osc_model_switches_the_renderer_and_the_body_and_refuses_a_bad_model(
    tmp_path: Path,
) -> None:
    """`/livedance/model` over real UDP: a model that fits replaces the renderer (frames keep the
    show's size) and brings its Body to the choreography; one that does not is refused while the
    old renderer goes on."""
    from livedance.body import DEFAULT_BODY, Body
    from livedance.choreo import idle_pose
    from livedance.neural.switch import SwitchableRenderer
    from livedance.render import StickRenderer
    from tests.test_neural import make_model

    tall = Body.from_dict({**DEFAULT_BODY.to_dict(), "thigh": DEFAULT_BODY.thigh * 1.3})
    model = make_model(tmp_path / "tall.onnx", body=tall)
    timeline = _planned()
    dance = timeline.choreographer
    operator, clock = _operator(timeline)
    renderer = SwitchableRenderer(StickRenderer(48), on_body=lambda b: setattr(dance, "body", b))
    operator.model_switcher = renderer.switch
    renderer.notify = operator.tell
    assert operator.control is not None
    client = SimpleUDPClient(LOOPBACK, operator.control.port)
    try:
        client.send_message("/livedance/model", str(tmp_path / "missing.onnx"))
        _until(operator, clock, lambda: bool(operator.notice))
        renderer.wait(10.0)
        assert "refused" in renderer.notice and renderer.name == "stick"
        assert operator.notice == renderer.notice, "the refusal reaches the HUD line"
        assert dance.body == DEFAULT_BODY

        client.send_message("/livedance/model", str(model))
        _until(operator, clock, lambda: "tall" in operator.notice)
        renderer.wait(10.0)
        assert renderer.name != "stick" and "tall.onnx" in renderer.notice
        assert dance.body == tall
        frames = renderer.render(idle_pose(0.0)[None])
        assert frames.shape == (1, 48, 48, 3)

        client.send_message("/livedance/model", "stick")
        _until(operator, clock, lambda: "stick" in operator.notice)
        renderer.wait(10.0)
        assert renderer.name == "stick" and dance.body == DEFAULT_BODY
    finally:
        client._sock.close()
        operator.close()
