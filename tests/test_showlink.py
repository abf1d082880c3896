"""OSC wired into a running show: real UDP loopback in, beats out at their planned times."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from pythonosc.udp_client import SimpleUDPClient

from livedance.choreo import choreograph
from livedance.control.osc import OscControl
from livedance.control.osc_out import OscOut
from livedance.show.clock import MonotonicClock
from livedance.show.showlink import ShowLink, SwitchableClock
from livedance.songplan import BeatInterval
from tests.test_osc import LOOPBACK, Receiver, wait_for

BEAT_S = 0.25


def _link(n_beats: int = 40, *, out_port: int | None = None) -> tuple[ShowLink, MonotonicClock]:
    intervals = [
        BeatInterval(0.3 + i * BEAT_S, 0.3 + (i + 1) * BEAT_S, -18.0, 1500.0)
        for i in range(n_beats)
    ]
    choreographer = choreograph(intervals, seed=0)
    clock = SwitchableClock()
    names = [a.name for a in choreographer.actions]
    control = OscControl(0, LOOPBACK, clock=clock, action_names=names).start()
    out = OscOut(LOOPBACK, out_port, clock=clock) if out_port is not None else None
    link = ShowLink(choreographer, control=control, out=out, clock=clock)
    master = MonotonicClock()
    master.start()
    link.attach_clock(master)
    return link, master


def _run_frames(link: ShowLink, clock: MonotonicClock, until_s: float, fps: float = 60.0) -> None:
    while clock.now() < until_s:
        link.on_frame(clock.now())
        time.sleep(1.0 / fps)


def test_beats_go_out_at_their_planned_times_with_the_right_count_and_spacing() -> None:
    with Receiver(MonotonicClock()) as rx:
        link, clock = _link(out_port=rx.port)
        rx.clock = clock
        try:
            _run_frames(link, clock, 2.4)  # the last beat is at 2.3 s, the next at 2.55 s
        finally:
            link.close()
    beats = rx.messages("/livedance/beat")
    planned = [m.start_s for m in link.choreographer.moves if m.start_s <= 2.4]
    assert [args[0] for _, args in beats] == list(range(len(planned)))
    errors_ms = [abs(t - p) * 1e3 for (t, _), p in zip(beats, planned, strict=True)]
    assert np.median(errors_ms) < 10, errors_ms
    spacing_s = np.diff([t for t, _ in beats])
    assert np.allclose(spacing_s, BEAT_S, atol=0.02), spacing_s
    assert all(abs(args[1] - 60 / BEAT_S) < 1e-3 for _, args in beats)
    actions = rx.messages("/livedance/action")
    assert actions and actions[0][1][0] == link.choreographer.moves[0].action


def test_commands_over_udp_change_the_running_show() -> None:
    link, clock = _link()
    assert link.control is not None
    client = SimpleUDPClient(LOOPBACK, link.control.port)
    try:
        frame = np.full((8, 8, 3), 200, np.uint8)
        client.send_message("/livedance/blackout", 1)
        client.send_message("/livedance/intensity", 0.0)
        client.send_message("/livedance/action", "jump")  # unknown names are refused
        client.send_message("/livedance/nope", 3)  # unknown address: logged, ignored
        client.send_message("/livedance/intensity", "loud")  # malformed: logged, ignored
        wait_for(lambda: (link.on_frame(clock.now()), link.controls.blackout)[1], 2.0)
        assert not link.present(frame).any()
        assert link.controls.intensity == 0.0
        # intensity 0: the dancer stands at the idle pose, whatever the move
        from livedance.choreo import idle_pose

        t = 1.0
        np.testing.assert_allclose(link.pose_at(t)[:, :2], idle_pose(t)[:, :2], atol=1e-6)

        name = link.choreographer.actions[-1].name
        client.send_message("/livedance/action", name)
        client.send_message("/livedance/blackout", 0)
        client.send_message("/livedance/freeze", 1)
        wait_for(lambda: (link.on_frame(clock.now()), link.controls.freeze)[1], 2.0)
        now = clock.now()
        nxt = next(m for m in link.choreographer.moves if m.start_s > now)
        assert nxt.action == name and nxt.reason == "forced"
        frozen = link.present(np.ones((8, 8, 3), np.uint8))
        assert (frozen == link.present(np.zeros((8, 8, 3), np.uint8))).all()

        before = link.offset_s
        client.send_message("/livedance/nudge", 0.5)
        wait_for(lambda: (link.on_frame(clock.now()), link.offset_s != before)[1], 2.0)
        assert abs((before - link.offset_s) - 0.5 * BEAT_S) < 1e-6
        client.send_message("/livedance/model", "/nowhere/model.onnx")
        wait_for(lambda: (link.on_frame(clock.now()), bool(link.notice))[1], 2.0)
        assert "unavailable" in link.notice
    finally:
        client._sock.close()
        link.close()


def test_headless_play_with_osc_reports_its_port_and_finishes() -> None:
    with Receiver(MonotonicClock()) as rx:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "livedance",
                "play",
                "--demo",
                "--headless",
                "--duration",
                "3",
                "--osc-port",
                "0",
                "--osc-out",
                f"{LOOPBACK}:{rx.port}",
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
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
    link, clock = _link()
    renderer = SwitchableRenderer(
        StickRenderer(48), on_body=lambda b: setattr(link.choreographer, "body", b)
    )
    link.model_switcher = renderer.switch
    renderer.notify = lambda notice: setattr(link, "notice", notice)
    assert link.control is not None
    client = SimpleUDPClient(LOOPBACK, link.control.port)
    try:
        client.send_message("/livedance/model", str(tmp_path / "missing.onnx"))
        wait_for(lambda: (link.on_frame(clock.now()), bool(link.notice))[1], 2.0)
        renderer.wait(10.0)
        assert "refused" in renderer.notice and renderer.name == "stick"
        assert link.notice == renderer.notice, "the refusal reaches the HUD line"
        assert link.choreographer.body == DEFAULT_BODY

        client.send_message("/livedance/model", str(model))
        wait_for(lambda: (link.on_frame(clock.now()), "tall" in link.notice)[1], 2.0)
        renderer.wait(10.0)
        assert renderer.name != "stick" and "tall.onnx" in renderer.notice
        assert link.choreographer.body == tall
        frames = renderer.render(idle_pose(0.0)[None])
        assert frames.shape == (1, 48, 48, 3)

        client.send_message("/livedance/model", "stick")
        wait_for(lambda: (link.on_frame(clock.now()), "stick" in link.notice)[1], 2.0)
        renderer.wait(10.0)
        assert renderer.name == "stick" and link.choreographer.body == DEFAULT_BODY
    finally:
        client._sock.close()
        link.close()
