"""Projector and lighting-desk delay trims: ``--av-offset`` / ``/livedance/offset`` for the
picture and ``--osc-offset`` / ``/livedance/offset/osc`` for the OSC beats, over real UDP
sockets (python-osc clients in, a python-osc server as the desk) and the real show loop."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
from conftest import run_cli
from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_server import BlockingOSCUDPServer
from pythonosc.udp_client import SimpleUDPClient

from livedance.choreo import choreograph
from livedance.clock import FrameClock
from livedance.control import OscControl, OscOut, SetBeatOffset, SetPictureOffset
from livedance.control.commands import CommandError, parse_message
from livedance.render import StickRenderer
from livedance.show.hud import HudInfo, draw_hud
from livedance.show.loop import ShowOptions, run_show
from livedance.show.operator import Operator
from livedance.show.outputs import BeatOutput, KeyEvent, Output, ShowFrame
from livedance.show.timeline import PlannedTimeline
from livedance.songplan import BeatInterval

LOOPBACK = "127.0.0.1"


class ManualClock:
    def __init__(self, t_s: float = 0.0) -> None:
        self.t_s = t_s

    def now(self) -> float:
        return self.t_s


class Desk:
    """A lighting desk: a python-osc server recording (show clock, address, args)."""

    def __init__(self, clock: Any) -> None:
        self.clock = clock
        self.received: list[tuple[float, str, tuple[Any, ...]]] = []
        dispatcher = Dispatcher()
        dispatcher.set_default_handler(
            lambda address, *args: self.received.append((self.clock.now(), address, args))
        )
        self.server = BlockingOSCUDPServer((LOOPBACK, 0), dispatcher)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}
        )
        self.thread.start()

    def beats(self) -> list[tuple[float, int]]:
        return [(t, args[0]) for t, a, args in list(self.received) if a == "/livedance/beat"]

    def close(self) -> None:
        self.server.shutdown()
        self.thread.join()
        self.server.server_close()


def wait_for(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def _timeline(seconds: float = 4.0) -> PlannedTimeline:
    n = int(seconds / 0.5)
    intervals = [BeatInterval(0.5 * i, 0.5 * (i + 1), -15.0, 1500.0) for i in range(n)]
    return PlannedTimeline(choreograph(intervals, seed=2))


class Collect(Output):
    def __init__(self) -> None:
        self.frames: list[tuple[ShowFrame, HudInfo | None]] = []

    def frame(self, frame: ShowFrame, hud: HudInfo | None) -> KeyEvent | None:
        self.frames.append((frame, hud))
        return None


@pytest.fixture
def control() -> Iterator[OscControl]:
    with OscControl(0, LOOPBACK, clock=ManualClock()) as c:
        yield c


def test_offset_addresses_parse_and_refuse_what_is_out_of_range() -> None:
    assert parse_message("/livedance/offset", [-80.0]) == SetPictureOffset(-80.0)
    assert parse_message("/livedance/offset", [40]) == SetPictureOffset(40.0)
    assert parse_message("/livedance/offset/osc", [-25.5]) == SetBeatOffset(-25.5)
    for address, args in [
        ("/livedance/offset", [5000.0]),
        ("/livedance/offset", ["late"]),
        ("/livedance/offset/osc", []),
        ("/livedance/offset/osc", [float("nan")]),
    ]:
        with pytest.raises(CommandError):
            parse_message(address, args)


def test_both_offsets_sent_in_one_frame_reach_the_operator_over_udp(control: OscControl) -> None:
    operator = Operator(_timeline(), control=control, picture_offset_ms=-10.0)
    assert operator.picture_offset_s == pytest.approx(-0.01)
    client = SimpleUDPClient(LOOPBACK, control.port)
    client.send_message("/livedance/offset", -80.0)
    client.send_message("/livedance/offset/osc", 25.0)
    client.send_message("/livedance/offset", 9999.0)  # refused: the -80 stays
    wait_for(lambda: control.stats.accepted + control.stats.refused >= 3)
    operator.on_frame(0.0)
    assert operator.picture_offset_s == pytest.approx(-0.08)
    assert operator.beat_offset_s == pytest.approx(0.025)
    assert "picture -80 ms" in operator.notice and "OSC beats +25 ms" in operator.notice
    client._sock.close()


def _frames(picture_offset_ms: float, seconds: float = 2.0) -> list[tuple[ShowFrame, Any]]:
    timeline = _timeline()
    out = Collect()
    operator = Operator(timeline, picture_offset_ms=picture_offset_ms)
    run_show(
        timeline, FrameClock(30), StickRenderer(64), [out], operator,
        ShowOptions(fps=30, duration_s=seconds),
    )  # fmt: skip
    return out.frames


def test_a_negative_picture_offset_shows_each_move_earlier() -> None:
    """-100 ms at 30 fps: slot k shows what slot k + 3 shows without a trim, and the HUD's beat
    phase moves with the picture."""
    plain, early = _frames(0.0), _frames(-100.0)
    assert len(plain) == len(early) == 60
    for k in range(0, 57):
        assert np.array_equal(early[k][0].image, plain[k + 3][0].image), k
    assert not np.array_equal(early[10][0].image, plain[10][0].image), "the trim changed nothing"
    hud_early, hud_plain = early[12][1], plain[15][1]
    assert hud_early is not None and hud_plain is not None
    assert hud_early.beat_phase == pytest.approx(hud_plain.beat_phase, abs=1e-6)
    assert hud_early.picture_offset_ms == -100.0


def test_the_hud_shows_the_offsets_only_when_set() -> None:
    info = HudInfo(30.0, 120.0, 0.5, "clap", 1.0, "stick")

    def rows(i: HudInfo) -> int:
        drawn = draw_hud(np.zeros((256, 256, 3), np.uint8), i)[:-8].max(axis=2) > 0
        return int(np.flatnonzero(drawn.any(axis=1)).max())

    from dataclasses import replace

    assert rows(replace(info, picture_offset_ms=-80.0)) > rows(info) + 5
    assert rows(replace(info, beat_offset_ms=20.0)) > rows(info) + 5


def test_osc_beats_go_out_at_their_beat_plus_the_osc_offset(control: OscControl) -> None:
    """Beats at 0.5 s steps; the desk's clock is the show clock, moved by hand, so when each
    message is sent is exact. -200 ms: beat 1 (0.5 s) goes at 0.3 s, not before; then
    /livedance/offset/osc +100 (over UDP) moves beat 2 (1.0 s) to 1.1 s and resends nothing."""
    clock = ManualClock(0.0)
    timeline = _timeline()
    operator = Operator(timeline, control=control, beat_offset_ms=-200.0)
    desk = Desk(clock)
    try:
        out = OscOut(LOOPBACK, desk.port, clock=clock)
        beats = BeatOutput(out, timeline, offset_s=lambda: operator.beat_offset_s)

        def at(t_s: float) -> None:
            clock.t_s = t_s
            operator.on_frame(t_s)
            beats.tick(t_s)

        at(0.0)  # beat 0 (0.0 s) would go 200 ms late: never sent late
        at(0.29)
        time.sleep(0.15)
        assert desk.beats() == [], "sent before its time on the clock"
        at(0.30)
        wait_for(lambda: len(desk.beats()) == 1)
        assert desk.beats() == [(0.30, 1)]
        assert beats.unannounced == 1
        client = SimpleUDPClient(LOOPBACK, control.port)
        client.send_message("/livedance/offset/osc", 100.0)
        wait_for(lambda: control.stats.accepted == 1)
        at(0.55)  # past beat 1's own time: under +100 it would be due at 0.6, but it went already
        at(0.65)
        at(1.09)
        time.sleep(0.15)
        assert len(desk.beats()) == 1, "a beat was resent, or sent early"
        at(1.10)
        wait_for(lambda: len(desk.beats()) == 2)
        assert desk.beats() == [(0.30, 1), (1.10, 2)]
        beats.close(0, stopped_early=True)
        client._sock.close()
    finally:
        desk.close()


def test_an_offset_out_of_range_on_the_command_line_is_one_line() -> None:
    for option in ("--av-offset", "--osc-offset"):
        result = run_cli("play", "--demo", "--headless", option, "2000", timeout=60)
        assert result.returncode == 2
        last = result.stderr.strip().splitlines()[-1]
        assert option in last and "-1000 to 1000" in last, result.stderr
