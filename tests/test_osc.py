"""OSC control over real UDP loopback sockets: python-osc clients steer the show, python-osc
servers receive its beats. Every socket binds port 0 (a free ephemeral port) on 127.0.0.1."""

from __future__ import annotations

import argparse
import itertools
import logging
import random
import socket
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_bundle_builder import OscBundleBuilder
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.osc_server import BlockingOSCUDPServer
from pythonosc.udp_client import SimpleUDPClient

from livedance.actions import ACTIONS
from livedance.clock import MonotonicClock
from livedance.control import (
    INPUT_ADDRESSES,
    Blackout,
    Command,
    ForceAction,
    Freeze,
    LoadModel,
    MarkOne,
    Nudge,
    OscControl,
    OscOut,
    ReleaseTempo,
    Requests,
    ScaleTempo,
    SetIntensity,
    SetTempo,
    ShowControls,
    ShowHud,
    Tap,
    add_osc_arguments,
    address_table_markdown,
    apply_commands,
    open_osc,
    parse_host_port,
    tap_tempo_bpm,
)
from livedance.control.inbox import CommandInbox
from livedance.control.logs import RateLimitedLog
from livedance.errors import LivedanceError

LOOPBACK = "127.0.0.1"
ACTION_NAMES = frozenset(a.name for a in ACTIONS)


class ManualClock:
    """A show clock the test moves by hand (a paused, jumping or faster-than-real-time clock)."""

    def __init__(self, t_s: float = 0.0) -> None:
        self.t_s = t_s

    def now(self) -> float:
        return self.t_s


@pytest.fixture
def control() -> Iterator[OscControl]:
    with OscControl(0, LOOPBACK, clock=ManualClock(12.5), action_names=ACTION_NAMES) as c:
        yield c


@pytest.fixture
def client(control: OscControl) -> Iterator[SimpleUDPClient]:
    c = SimpleUDPClient(LOOPBACK, control.port)
    yield c
    c.close()


def poll_until(
    control: OscControl, done: Callable[[list[Command]], bool], timeout_s: float = 10.0
) -> list[Command]:
    """Poll like a show does (every few ms) until ``done(everything polled)`` or the timeout."""
    got: list[Command] = []
    deadline = time.monotonic() + timeout_s
    while not done(got):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out; polled {got}")
        got += control.poll()
        time.sleep(0.002)
    return got


def raw_socket() -> socket.socket:
    return socket.socket(socket.AF_INET, socket.SOCK_DGRAM)


# --- commands in -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "value", "expected"),
    [
        ("/livedance/tempo", 128.0, SetTempo(128.0)),
        ("/livedance/tempo", 96, SetTempo(96.0)),  # an int is a fine tempo
        ("/livedance/tempo/release", None, ReleaseTempo()),
        ("/livedance/tempo/double", None, ScaleTempo(2.0)),
        ("/livedance/tempo/half", 1, ScaleTempo(0.5)),
        ("/livedance/one", None, MarkOne(12.5)),
        ("/livedance/tap", None, Tap(12.5)),  # stamped with the control's clock on arrival
        ("/livedance/tap", 1, Tap(12.5)),
        ("/livedance/nudge", -0.25, Nudge(-0.25)),
        ("/livedance/action", "clap", ForceAction("clap")),
        ("/livedance/intensity", 0.5, SetIntensity(0.5)),
        ("/livedance/blackout", 1, Blackout(True)),
        ("/livedance/blackout", 0, Blackout(False)),
        ("/livedance/blackout", 1.0, Blackout(True)),  # TouchOSC buttons send floats
        ("/livedance/freeze", True, Freeze(True)),  # OSC T
        ("/livedance/hud", 0, ShowHud(False)),
        ("/livedance/model", "models/alice.onnx", LoadModel("models/alice.onnx")),
    ],
)
def test_each_address_becomes_its_typed_command(
    control: OscControl, client: SimpleUDPClient, address: str, value: Any, expected: Command
) -> None:
    client.send_message(address, value)
    assert poll_until(control, lambda got: bool(got)) == [expected]
    assert control.stats.accepted == 1


def test_every_documented_address_is_understood() -> None:
    table = address_table_markdown()
    for spec in INPUT_ADDRESSES:
        assert f"`{spec.address}`" in table
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    missing = [spec.address for spec in INPUT_ADDRESSES if f"| `{spec.address}` |" not in readme]
    assert not missing, f"README's OSC table lacks {missing}"


def test_bad_messages_are_logged_and_ignored_and_the_server_keeps_going(
    control: OscControl, client: SimpleUDPClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="livedance.control")
    bad_messages: list[tuple[str, Any]] = [
        ("/livedance/tempo", "fast"),
        ("/livedance/tempo", 0.0),
        ("/livedance/tempo", 10000.0),
        ("/livedance/tempo", float("nan")),
        ("/livedance/tempo", [120.0, 4]),
        ("/livedance/intensity", 5.0),
        ("/livedance/intensity", True),
        ("/livedance/blackout", 2),
        ("/livedance/action", "moonwalk"),
        ("/livedance/action", 3),
        ("/livedance/model", ""),
        ("/livedance/nudge", None),
        ("/livedance/explode", 1),
        ("/somebody/else", 1.0),
    ]
    for address, value in bad_messages:
        client.send_message(address, value)
    rng = random.Random(0)
    garbage = [
        b"",
        b"\x00\x01garbage",
        b"/livedance/tempo\x00\x00\x00\x00,f\x00\x00",  # the float is missing
        b"/livedance/tempo\x00\x00\x00\x00f\x00\x00\x00",  # no comma before the type tags
        b"#bundle\x00\xff\xff",
        *(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200))) for _ in range(40)),
    ]
    with raw_socket() as sock:
        for datagram in garbage:
            sock.sendto(datagram, (LOOPBACK, control.port))
    client.send_message("/livedance/tap", 0)  # a button's release: valid, asks for nothing
    client.send_message("/livedance/intensity", 0.25)

    # The server handles datagrams in order: once the last one is in, all the bad ones were seen.
    assert poll_until(control, lambda got: bool(got)) == [SetIntensity(0.25)]
    stats = control.stats
    assert stats.refused == len(bad_messages) + len(garbage)
    assert stats.datagrams == len(bad_messages) + len(garbage) + 2
    text = caplog.text
    assert "bpm must be a number, got str 'fast'" in text
    assert "bpm must be in 30..300, got 10000" in text
    assert "intensity must be in 0..1, got 5" in text
    assert "unknown action 'moonwalk'" in text
    assert "ignored OSC /livedance/explode" in text and "unknown address" in text
    assert "malformed OSC datagram" in text
    # Rate-limited: 40 garbage datagrams in a burst do not make 40 log lines.
    assert text.count("malformed OSC datagram") <= 10

    client.send_message("/livedance/freeze", 1)
    assert poll_until(control, lambda got: bool(got)) == [Freeze(True)]


def test_a_bundle_dated_in_the_future_acts_now(
    control: OscControl, client: SimpleUDPClient
) -> None:
    # python-osc's own dispatcher would sleep the server thread until the time tag.
    bundle = OscBundleBuilder(int(time.time()) + 3600)
    for address, value in (("/livedance/tempo", 140.0), ("/livedance/action", "floss")):
        message = OscMessageBuilder(address)
        message.add_arg(value)
        bundle.add_content(message.build())
    client.send(bundle.build())
    got = poll_until(control, lambda got: len(got) >= 2, timeout_s=5.0)
    assert got == [SetTempo(140.0), ForceAction("floss")]


def test_a_flood_never_stalls_poll_and_the_server_answers_afterwards(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="livedance.control")
    n_flood = 20_000
    variety: list[bytes] = []
    for i in range(50):
        for address, value in (
            ("/livedance/intensity", i / 50),
            ("/livedance/nudge", 0.01),
            ("/livedance/tap", None),
            ("/livedance/action", ACTIONS[i % len(ACTIONS)].name),
            ("/livedance/nope", i),
        ):
            message = OscMessageBuilder(address)
            if value is not None:
                message.add_arg(value)
            variety.append(message.build().dgram)
    variety.append(b"garbage")
    with OscControl(0, LOOPBACK, action_names=ACTION_NAMES) as control:
        capacity = control.capacity

        def flood() -> None:
            with raw_socket() as sock:
                for i in range(n_flood):
                    sock.sendto(variety[i % len(variety)], (LOOPBACK, control.port))

        sender = threading.Thread(target=flood)
        poll_ms: list[float] = []
        sizes: list[int] = []
        sender.start()
        while sender.is_alive() or len(poll_ms) < 100:  # a 200 fps show loop, during and after
            t0 = time.perf_counter()
            commands = control.poll()
            poll_ms.append((time.perf_counter() - t0) * 1e3)
            sizes.append(len(commands))
            time.sleep(0.005)
        sender.join()

        # The answer after the flood: a desk repeats until it sees the effect (UDP may drop).
        client = SimpleUDPClient(LOOPBACK, control.port)
        t_sent = time.monotonic()
        got: list[Command] = []
        while LoadModel("after-flood") not in got:
            assert time.monotonic() - t_sent < 10.0, "server did not answer after the flood"
            client.send_message("/livedance/model", "after-flood")
            time.sleep(0.05)
            got += control.poll()
        client.close()
        stats = control.stats

    assert stats.datagrams > 0 and stats.refused > 0 and stats.coalesced > 0
    assert max(sizes) <= capacity, "the inbox is bounded"
    assert statistics.median(poll_ms) < 2.0, f"poll took {statistics.median(poll_ms):.2f} ms"
    # Generous: a shared 2-core machine can preempt any thread; the point is poll never waits
    # for the flood to be handled (that took far longer than this).
    assert max(poll_ms) < 100.0, f"slowest poll {max(poll_ms):.1f} ms"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_busy_port_is_one_clear_line() -> None:
    with raw_socket() as busy:
        busy.bind((LOOPBACK, 0))
        port = busy.getsockname()[1]
        with pytest.raises(LivedanceError) as excinfo:
            OscControl(port, LOOPBACK)
    message = str(excinfo.value)
    assert "\n" not in message
    assert f"{LOOPBACK}:{port} is already in use" in message and "--osc-port" in message


def test_a_busy_default_port_plays_on_without_osc_but_an_explicit_one_fails(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    parser = argparse.ArgumentParser()
    add_osc_arguments(parser)
    clock = MonotonicClock()
    with raw_socket() as busy:
        busy.bind((LOOPBACK, 0))
        port = busy.getsockname()[1]
        monkeypatch.setattr("livedance.control.options.DEFAULT_PORT", port)
        control, out = open_osc(parser.parse_args([]), clock=clock)
        assert control is None and out is None
        assert "playing without OSC input" in caplog.text
        with pytest.raises(LivedanceError, match="already in use"):
            open_osc(parser.parse_args(["--osc-port", str(port)]), clock=clock)
    with pytest.raises(LivedanceError, match="expected HOST:PORT"):
        open_osc(parser.parse_args(["--osc-port", "0", "--osc-out", "9001"]), clock=clock)
    control, out = open_osc(
        parser.parse_args(["--osc-port", "0", "--osc-out", "127.0.0.1:9"]), clock=clock
    )
    assert control is not None and out is not None and control.port > 0
    control.close()
    out.close()


# --- beats and actions out -----------------------------------------------------------------


class Receiver:
    """A python-osc server (as a lighting desk would run) recording what arrives and when."""

    def __init__(self, clock: Any) -> None:
        self.clock = clock
        self.received: list[tuple[float, str, tuple[Any, ...]]] = []
        dispatcher = Dispatcher()
        dispatcher.set_default_handler(self._on_message)
        self.server = BlockingOSCUDPServer((LOOPBACK, 0), dispatcher)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}
        )

    def _on_message(self, address: str, *args: Any) -> None:
        self.received.append((self.clock.now(), address, args))

    def messages(self, address: str) -> list[tuple[float, tuple[Any, ...]]]:
        return [(t, args) for t, a, args in list(self.received) if a == address]

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.thread.join()
        self.server.server_close()


def wait_for(condition: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_beats_arrive_at_their_predicted_times_in_order() -> None:
    clock = MonotonicClock()
    clock.start()
    bpm, n_beats = 120.0, 8
    with Receiver(clock) as receiver, OscOut(LOOPBACK, receiver.port, clock=clock) as out:
        first_s = clock.now() + 0.3
        beat_times_s = [first_s + i * 60.0 / bpm for i in range(n_beats)]
        for i, t_s in enumerate(beat_times_s):  # handed over early, as the engine does
            out.beat(i, bpm, 0.9, at_s=t_s)
            if i % 4 == 0:
                out.action(ACTIONS[i].name, i, at_s=t_s)
        wait_for(lambda: len(receiver.messages("/livedance/beat")) >= n_beats, timeout_s=15.0)
        time.sleep(0.1)  # nothing more should come
        beats = receiver.messages("/livedance/beat")
        actions = receiver.messages("/livedance/action")
        stats = out.stats

    assert [args for _, args in beats] == [(i, bpm, pytest.approx(0.9)) for i in range(n_beats)]
    arrivals_s = [t for t, _ in beats]
    lateness_ms = [(a - t) * 1e3 for a, t in zip(arrivals_s, beat_times_s, strict=True)]
    # Never early; late by no more than a loaded 2-core machine's thread wake-up.
    assert min(lateness_ms) > -1.0 and max(lateness_ms) < 40.0, lateness_ms
    spacing_s = [b - a for a, b in itertools.pairwise(arrivals_s)]
    assert all(abs(s - 0.5) < 0.04 for s in spacing_s), spacing_s
    assert [args for _, args in actions] == [(ACTIONS[0].name, 0), (ACTIONS[4].name, 4)]
    assert stats.sent == n_beats + 2 and stats.late_dropped == 0 and stats.errors == 0


def test_messages_wait_for_the_show_clock_and_late_beats_are_dropped() -> None:
    clock = ManualClock(0.0)
    with Receiver(clock) as receiver, OscOut(LOOPBACK, receiver.port, clock=clock) as out:
        out.beat(0, 100.0, 1.0, at_s=1.0)
        out.action("clap", 0, at_s=2.0)
        out.beat(1, 100.0, 1.0, at_s=2.0)
        time.sleep(0.2)
        assert receiver.received == [], "sent before its time on the clock"
        clock.t_s = 1.0
        wait_for(lambda: len(receiver.received) == 1, timeout_s=5.0)
        clock.t_s = 5.0  # the clock jumped on: the beat at 2.0 is 3 s late, the action still goes
        wait_for(lambda: out.pending == 0, timeout_s=5.0)
        wait_for(lambda: len(receiver.received) == 2, timeout_s=5.0)
        assert out.stats.late_dropped == 1
        out.beat(2, 100.0, 1.0, at_s=9.0)
        out.beat(3, 100.0, 1.0)  # no time: sent now
        wait_for(lambda: len(receiver.received) == 3, timeout_s=5.0)
        assert out.clear() == 1
    assert [(a, args) for _, a, args in receiver.received] == [
        ("/livedance/beat", (0, 100.0, 1.0)),
        ("/livedance/action", ("clap", 0)),
        ("/livedance/beat", (3, 100.0, 1.0)),
    ]


def test_the_schedule_is_bounded() -> None:
    with OscOut(LOOPBACK, 9, clock=ManualClock(), max_pending=2) as out:
        assert out.send_at(1.0, "/x") and out.send_at(2.0, "/x")
        assert not out.send_at(3.0, "/x")
        assert out.stats.overflow_dropped == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:9001", ("127.0.0.1", 9001)),
        ("localhost:7000", ("localhost", 7000)),
        (" [::1]:9001 ", ("::1", 9001)),
    ],
)
def test_host_port_parses(text: str, expected: tuple[str, int]) -> None:
    assert parse_host_port(text) == expected


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("9001", "expected HOST:PORT"),
        (":9001", "the host is missing"),
        ("desk:", "the port must be a number 1..65535, got ''"),
        ("desk:osc", "the port must be a number"),
        ("desk:70000", "the port must be a number 1..65535, got '70000'"),
        ("::1:9001", "IPv6 address in brackets"),
        ("[::1]9001", "expected [IPv6]:PORT"),
    ],
)
def test_host_port_mistakes_are_one_clear_line(text: str, why: str) -> None:
    with pytest.raises(LivedanceError) as excinfo:
        parse_host_port(text)
    assert why in str(excinfo.value) and "--osc-out" in str(excinfo.value)
    assert excinfo.value.exit_code == 2


# --- what the show does with the commands (pure) ---------------------------------------


def test_the_inbox_coalesces_settings_sums_nudges_and_bounds_taps() -> None:
    inbox = CommandInbox(max_taps=4)
    for i in range(1000):
        inbox.put(SetIntensity(i / 1000))
        inbox.put(Nudge(0.001))
    for i in range(10):
        inbox.put(Tap(float(i)))
    inbox.put(Blackout(True))
    drained = inbox.drain()
    assert drained[0] == SetIntensity(0.999)
    assert isinstance(drained[1], Nudge) and drained[1].beats == pytest.approx(1.0)
    assert drained[2:] == [Tap(6.0), Tap(7.0), Tap(8.0), Tap(9.0), Blackout(True)]
    assert inbox.drain() == []
    assert inbox.stats.dropped == 6 and len(drained) <= inbox.capacity


def test_controls_follow_commands_and_requests_are_taken_once() -> None:
    controls = apply_commands(
        ShowControls(),
        [
            SetIntensity(0.3),
            Blackout(True),
            Freeze(True),
            ShowHud(False),
            Nudge(0.5),
            Nudge(-0.25),
            ForceAction("floss"),
            LoadModel("b.onnx"),
            SetTempo(128.0),
            Blackout(False),
        ],
    )
    assert (controls.intensity, controls.blackout, controls.freeze, controls.hud) == (
        0.3,
        False,
        True,
        False,
    )
    controls, requests = controls.take_requests()
    assert requests == Requests(tempo_bpm=128.0, nudge_beats=0.25, action="floss", model="b.onnx")
    assert controls.requests.empty and controls.intensity == 0.3


def test_log_floods_are_held_back_and_counted(caplog: pytest.LogCaptureFixture) -> None:
    clock = ManualClock()
    limited = RateLimitedLog(logging.getLogger("livedance.control.test"), burst=2, clock=clock.now)
    with caplog.at_level(logging.WARNING, logger="livedance.control.test"):
        for i in range(10):
            limited.log(logging.WARNING, "bad", "bad %d", i)
        limited.log(logging.WARNING, "other", "other kind")
        clock.t_s = 1.5
        limited.log(logging.WARNING, "bad", "bad again")
    assert caplog.messages == [
        "bad 0",
        "bad 1",
        "other kind",
        "... 8 more like that (bad) held back",
        "bad again",
    ]


def test_tap_tempo() -> None:
    taps = [10.0, 10.5, 11.0, 11.52, 12.0]
    controls = apply_commands(ShowControls(), [Tap(t) for t in taps[:2]])
    assert controls.requests.tempo_bpm is None  # two taps are not a tempo yet
    assert controls.requests.beat_at_s == 10.5  # but each tap marks a beat
    controls = apply_commands(controls, [Tap(t) for t in taps[2:]] + [Tap(12.01)])  # a bounce
    assert controls.requests.tempo_bpm == pytest.approx(120.0)
    assert controls.taps_s == tuple(taps)
    controls = apply_commands(controls, [Tap(20.0)])  # a long pause starts a new count
    assert controls.taps_s == (20.0,)
    assert tap_tempo_bpm([0.0, 0.1, 0.2]) is None  # 600 BPM is not a tempo
