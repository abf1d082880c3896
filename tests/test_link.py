"""Ableton Link with a second peer on this machine (a separate process, LinkPython-extern): the
show follows the session's tempo and beat, or leads it. Link's discovery (UDP multicast) works
in this sandbox: two peers find each other in about a second."""

from __future__ import annotations

import itertools
import subprocess
import sys
import time

import pytest
from conftest import run_cli

from livedance.choreo import choreograph
from livedance.clock import MonotonicClock
from livedance.control.commands import SetTempo, Tap
from livedance.show.timeline import PlannedTimeline
from livedance.songplan import BeatInterval

pytest.importorskip("link", reason="LinkPython-extern (the stage extra) not installed")

from livedance.control.link import LinkSession, wait_for_peers
from livedance.show.linklead import LinkLead

PEER = """
import sys, time, link
l = link.Link(float(sys.argv[1])); l.enabled = True
t0 = time.monotonic()
while time.monotonic() - t0 < float(sys.argv[2]):
    time.sleep(0.1)
    print(f"{l.numPeers()} {l.captureSessionState().tempo():.3f}", flush=True)
"""


def _peer(bpm: float, seconds: float) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", PEER, str(bpm), str(seconds)], stdout=subprocess.PIPE, text=True
    )


def test_the_show_follows_a_peers_tempo_and_beat() -> None:
    peer = _peer(128.0, 20.0)
    time.sleep(1.0)  # the peer's session exists first: a joining peer takes its tempo
    clock = MonotonicClock()
    clock.start()
    session = LinkSession(clock, quantum=4.0)
    try:
        assert wait_for_peers(session, 1, timeout_s=15.0), "no Link peer found"
        commands: list = []
        deadline = time.monotonic() + 15.0
        while sum(isinstance(c, Tap) for c in commands) < 4 and time.monotonic() < deadline:
            commands += session.poll()
            time.sleep(0.005)
        taps = [c.t_s for c in commands if isinstance(c, Tap)]
        tempos = [c.bpm for c in commands if isinstance(c, SetTempo)]
        assert len(taps) >= 4
        assert all(t == pytest.approx(128.0, abs=0.01) for t in tempos)
        gaps = [b - a for a, b in itertools.pairwise(taps[1:])]  # the first: the beat it joined on
        assert all(g == pytest.approx(60.0 / 128.0, abs=0.002) for g in gaps), gaps
        assert session.status == "link 1 peer 128.0 bpm"
    finally:
        session.close()
        peer.kill()
        peer.wait()


def test_the_show_leads_a_peer_onto_its_tempo() -> None:
    peer = _peer(97.0, 20.0)
    clock = MonotonicClock()
    clock.start()
    session = LinkSession(clock, quantum=4.0)
    intervals = [BeatInterval(0.5 * i, 0.5 * (i + 1), -15.0, 1500.0) for i in range(60)]
    lead = LinkLead(session, PlannedTimeline(choreograph(intervals, seed=2)))
    try:
        assert wait_for_peers(session, 1, timeout_s=15.0), "no Link peer found"
        t_end = clock.now() + 3.0
        while clock.now() < t_end:
            lead.tick(clock.now())
            time.sleep(0.01)
        assert lead.beats_led >= 4
        time.sleep(0.5)
    finally:
        session.close()
        peer.kill()
        out, _ = peer.communicate()
    _, tempo = out.strip().splitlines()[-1].split()
    assert float(tempo) == pytest.approx(120.0, abs=0.01), "the peer took the show's tempo"


def test_link_mistakes_on_the_command_line_are_one_line() -> None:
    proc = run_cli("play", "--demo", "--headless", "--stick", "--link-lead", timeout=300)
    assert proc.returncode == 2 and "--link-lead leads the session of --link" in proc.stderr
    proc = run_cli("play", "--demo", "--headless", "--link-quantum", "0", timeout=60)
    assert proc.returncode == 2 and "--link-quantum: must be from 1 to 16" in proc.stderr
