"""MIDI: clock in as a beat source, clock out from the show's beats, notes and CCs onto the OSC
commands, MIDI-learn.

This machine has no ALSA sequencer (/dev/snd/seq is absent), so no rtmidi port, virtual or not,
can open here: the clock and mapping logic run on real mido messages, and the ports are mido's
MIDI over TCP (real sockets, real MIDI bytes; a separate process sends in one test). The rtmidi
path is only tested for its one-line refusal."""

from __future__ import annotations

import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mido
import mido.sockets
import pytest
from conftest import run_cli

from livedance.choreo import choreograph
from livedance.control.commands import Blackout, ForceAction, SetIntensity, SetTempo, Tap
from livedance.control.midi import PPQN, MidiClockIn, MidiControl, TcpMidiIn, clock_commands
from livedance.control.midimap import (
    MidiMap,
    learn,
    load_midi_map,
    save_midi_map,
    with_binding,
)
from livedance.errors import LivedanceError
from livedance.show.midiclock import MidiClockOut, pulse_times
from livedance.show.operator import Operator
from livedance.show.timeline import PlannedTimeline
from livedance.songplan import BeatInterval

REPO = Path(__file__).resolve().parents[1]


class ManualClock:
    def __init__(self, t_s: float = 0.0) -> None:
        self.t_s = t_s

    def now(self) -> float:
        return self.t_s


def wait_for(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def _timeline(seconds: float = 4.0) -> PlannedTimeline:
    n = int(seconds / 0.5)
    intervals = [BeatInterval(0.5 * i, 0.5 * (i + 1), -15.0, 1500.0) for i in range(n)]
    return PlannedTimeline(choreograph(intervals, seed=2))


def _server() -> tuple[TcpMidiIn, int]:
    server = TcpMidiIn("127.0.0.1", 0)
    return server, server.port


# --- clock in -----------------------------------------------------------------------------


def test_clock_in_counts_beats_from_start_and_fits_the_tempo_through_jitter() -> None:
    rng = random.Random(3)
    clock = MidiClockIn()
    period = 60.0 / 125.0 / PPQN
    beats = []
    for i in range(PPQN * 8):  # pulses before the start give the tempo, no beats
        if i == PPQN * 2:
            clock.feed(mido.Message("start"), i * period)
        beat = clock.feed(mido.Message("clock"), i * period + rng.uniform(-0.002, 0.002))
        if beat is not None:
            beats.append(beat)
    assert [b.index for b in beats] == [0, 1, 2, 3, 4, 5]
    assert beats[0].t_s == pytest.approx(PPQN * 2 * period, abs=0.003)
    assert all(b.bpm is not None and abs(b.bpm - 125.0) < 0.5 for b in beats), beats
    assert clock_commands(beats[1]) == [SetTempo(beats[1].bpm), Tap(beats[1].t_s)]


def test_stop_continue_and_song_position() -> None:
    clock = MidiClockIn()
    t = 0.0

    def pulses(n: int) -> list[int]:
        nonlocal t
        got = []
        for _ in range(n):
            t += 0.02
            beat = clock.feed(mido.Message("clock"), t)
            if beat is not None:
                got.append(beat.index)
        return got

    clock.feed(mido.Message("start"), t)
    assert pulses(PPQN * 2) == [0, 1]
    clock.feed(mido.Message("stop"), t)
    assert pulses(PPQN) == [], "no beats while stopped"
    clock.feed(mido.Message("continue"), t)
    assert pulses(PPQN) == [2], "continues where it stopped"
    clock.feed(mido.Message("songpos", pos=16), t)  # 16 sixteenths = beat 4
    assert pulses(PPQN + 1) == [4, 5]
    assert clock.feed(mido.Message("note_on", note=1), t) is None


def test_midi_clock_from_another_process_over_tcp_becomes_beats_in_the_show() -> None:
    """A separate process (as a DJ's software would) sends start and 4 beats of clock over a real
    TCP socket; the show's MIDI input turns each beat into a tap."""
    server, port = _server()
    control = MidiControl(server, ManualClock(1.0), follow_clock=True)
    sender = subprocess.run(
        [sys.executable, "-c",
         "import mido, mido.sockets, sys, time\n"
         "p = mido.sockets.connect('127.0.0.1', int(sys.argv[1]))\n"
         "p.send(mido.Message('start'))\n"
         "for _ in range(4 * 24): p.send(mido.Message('clock'))\n"
         "p.send(mido.Message('stop')); time.sleep(0.5); p.close()\n", str(port)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert sender.returncode == 0, sender.stderr
    got: list[Any] = []
    wait_for(lambda: bool(got.extend(control.poll())) or control.received >= 98)
    got += control.poll()
    control.close()
    assert control.clock_in.pulse == 4 * PPQN and not control.clock_in.running
    taps = [c for c in got if isinstance(c, Tap)]
    assert taps and all(t.t_s == 1.0 for t in taps)  # the inbox keeps the recent taps


# --- mapping ------------------------------------------------------------------------------

MAP = """
[[binding]]
note = 36
address = "/livedance/tap"

[[binding]]
cc = 7
channel = 2
address = "/livedance/intensity"
min = 0.2
max = 1.0

[[binding]]
note = 40
address = "/livedance/action"
value = "clap"

[[binding]]
note = 41
address = "/livedance/blackout"

[[binding]]
note = 42
address = "/livedance/freeze"
toggle = true

[[binding]]
cc = 64
address = "/livedance/tempo/release"

[[binding]]
cc = 20
address = "/livedance/offset"
min = -200
max = 0
"""


def test_notes_and_ccs_become_the_osc_commands(tmp_path: Path) -> None:
    path = tmp_path / "map.toml"
    path.write_text(MAP)
    m = load_midi_map(path)

    def cmd(msg: Any) -> Any:
        return m.command(msg, 3.5)

    assert cmd(mido.Message("note_on", note=36, velocity=90)) == Tap(3.5)
    assert cmd(mido.Message("note_off", note=36)) is None
    assert cmd(mido.Message("control_change", control=7, value=127, channel=1)) == SetIntensity(1.0)
    assert cmd(mido.Message("control_change", control=7, value=0, channel=1)) == SetIntensity(0.2)
    assert cmd(mido.Message("control_change", control=7, value=127, channel=0)) is None, "channel"
    assert cmd(mido.Message("note_on", note=40, velocity=1)) == ForceAction("clap")
    assert cmd(mido.Message("note_on", note=41, velocity=100)) == Blackout(True)
    assert cmd(mido.Message("note_on", note=41, velocity=0)) == Blackout(False), "held"
    from livedance.control.commands import Freeze, ReleaseTempo, SetPictureOffset

    assert cmd(mido.Message("note_on", note=42, velocity=100)) == Freeze(True)
    assert cmd(mido.Message("note_off", note=42)) is None
    assert cmd(mido.Message("note_on", note=42, velocity=100)) == Freeze(False), "toggles"
    assert cmd(mido.Message("control_change", control=64, value=127)) == ReleaseTempo()
    assert cmd(mido.Message("control_change", control=64, value=120)) is None, "one press"
    assert cmd(mido.Message("control_change", control=64, value=0)) is None
    assert cmd(mido.Message("control_change", control=64, value=100)) == ReleaseTempo()
    assert cmd(mido.Message("control_change", control=20, value=0)) == SetPictureOffset(-200.0)
    assert cmd(mido.Message("clock")) is None


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("[[binding]]\nnote = 36\ncc = 2\naddress = '/livedance/tap'\n", "either note"),
        ("[[binding]]\nnote = 300\naddress = '/livedance/tap'\n", "note must be 0..127"),
        ("[[binding]]\nnote = 3\naddress = '/livedance/jump'\n", "one of livedance's OSC inputs"),
        ("[[binding]]\nnote = 3\nchannel = 0\naddress = '/livedance/tap'\n", "channel must be"),
        ("[[binding]]\nnote = 3\naddress = '/livedance/action'\n", "needs value"),
        ("[[binding]]\ncc = 3\naddress = '/livedance/intensity'\nmax = 5\n", "must be in 0..1"),
        ("[[binding]]\ncc = 3\naddress = '/livedance/tap'\nvelo = 1\n", "unknown key 'velo'"),
        ("[midi]\nx = 1\n", "unknown table 'midi'"),
        ("[[binding]\n", "not a MIDI mapping file"),
    ],
)
def test_bad_mapping_files_are_one_line(tmp_path: Path, text: str, why: str) -> None:
    path = tmp_path / "map.toml"
    path.write_text(text)
    with pytest.raises(LivedanceError) as err:
        load_midi_map(path)
    assert why in str(err.value) and "\n" not in str(err.value), str(err.value)
    assert str(err.value).startswith(str(path))


def test_midi_learn_binds_the_control_that_moved_and_saves_it(tmp_path: Path) -> None:
    path = tmp_path / "learned.toml"
    assert learn(mido.Message("clock"), "/livedance/tap") is None
    assert learn(mido.Message("note_on", note=5, velocity=0), "/livedance/tap") is None
    tap = learn(mido.Message("note_on", note=36, velocity=99, channel=9), "/livedance/tap")
    fader = learn(mido.Message("control_change", control=7, value=3), "/livedance/intensity")
    pad = learn(mido.Message("note_on", note=40, velocity=9), "/livedance/action", value="clap")
    assert tap is not None and fader is not None and pad is not None
    with pytest.raises(ValueError):
        learn(mido.Message("control_change", control=1, value=3), "/livedance/action")
    bindings = with_binding(with_binding(with_binding([], tap), fader), pad)
    # the same pad learned again for another address replaces its old binding
    again = learn(mido.Message("note_on", note=36, velocity=1, channel=9), "/livedance/blackout")
    assert again is not None
    bindings = with_binding(bindings, again)
    save_midi_map(path, bindings)
    m = load_midi_map(path)
    assert [b.address for b in m.bindings] == [
        "/livedance/intensity", "/livedance/action", "/livedance/blackout",
    ]  # fmt: skip
    assert m.command(mido.Message("note_on", note=36, velocity=99, channel=9), 0.0) == Blackout(
        True
    )
    assert m.command(mido.Message("note_on", note=40, velocity=9), 0.0) == ForceAction("clap")


def test_a_controller_over_tcp_steers_the_operator() -> None:
    from livedance.control.midimap import MidiBinding

    server, port = _server()
    m = MidiMap([MidiBinding("cc", 7, "/livedance/intensity")])
    timeline = _timeline()
    control = MidiControl(server, ManualClock(0.0), midi_map=m)
    operator = Operator(timeline, inputs=[control])
    client = mido.sockets.connect("127.0.0.1", port)
    client.send(mido.Message("control_change", control=7, value=64))
    wait_for(lambda: control.received == 1)
    operator.on_frame(0.0)
    assert operator.controls.intensity == pytest.approx(64 / 127)
    client.close()
    operator.close()


# --- clock out ----------------------------------------------------------------------------


def test_pulse_times_are_24_a_beat_between_beats() -> None:
    pulses = pulse_times([1.0, 1.5, 2.1])
    assert len(pulses) == 48 and pulses[0] == 1.0 and pulses[24] == 1.5
    assert pulses[1] == pytest.approx(1.0 + 0.5 / 24) and pulses[25] == pytest.approx(1.5 + 0.025)


def test_clock_out_sends_start_then_pulses_at_their_time_on_the_show_clock_then_stop() -> None:
    """Beats every 0.5 s; the show clock is moved by hand, so which pulses are due is exact."""
    server, port = _server()
    got: list[str] = []
    stop = threading.Event()

    def receive() -> None:
        while not stop.is_set():
            got.extend(m.type for m in server.iter_pending())
            time.sleep(0.002)

    reader = threading.Thread(target=receive)
    reader.start()
    try:
        clock = ManualClock(0.0)
        out = MidiClockOut(mido.sockets.connect("127.0.0.1", port), _timeline(), clock)
        out.tick(0.0)
        wait_for(lambda: len(got) == 2)  # start, and the first pulse, at 0.0
        assert got == ["start", "clock"]
        clock.t_s = 0.25  # pulses k * 0.5 / 24 <= 0.25: k = 0..12
        out.tick(0.25)
        wait_for(lambda: got.count("clock") == 13)
        time.sleep(0.1)
        assert got.count("clock") == 13, "a pulse went before its time"
        clock.t_s = 1.0
        out.tick(1.0)
        wait_for(lambda: got.count("clock") == 49)
        out.close(30, stopped_early=False)
        wait_for(lambda: got[-1:] == ["stop"])
        assert got.count("start") == 1
    finally:
        stop.set()
        reader.join()
        server.close()


def test_midi_mistakes_on_the_command_line_are_one_line(tmp_path: Path) -> None:
    cases = [
        (["--midi-clock"], "--midi-clock follows the clock of --midi-in"),
        (["--midi-in", "tcp:localhost"], "expected tcp:HOST:PORT"),
        (["--midi-in", "virtual:livedance"], "--midi-in 'virtual:livedance'"),  # no ALSA here
    ]
    for extra, why in cases:
        proc = run_cli("play", "--demo", "--headless", "--stick", "--duration", "1", *extra,
                       timeout=300)  # fmt: skip
        assert proc.returncode != 0, proc.stdout
        assert why in proc.stderr.strip().splitlines()[-1] and "Traceback" not in proc.stderr
