"""Ableton Link on this machine: do two peers find each other, and how close is each library's
beat to a reference peer's (aalink vs LinkPython-extern), measured, not assumed.

A reference peer (LinkPython-extern, 120 BPM, quantum 4) runs in its own process and logs its
beat timeline; a candidate peer in another process joins the session and, for each beat, wakes
when its library says the beat is due and stamps the moment with CLOCK_MONOTONIC (the clock every
process on the machine shares):

- LinkPython-extern: a thread sleeps until ``timeAtBeat(next beat)`` of a captured session state;
- aalink: ``await link.sync(1)`` on an asyncio loop (its own scheduler).

Phase error: the reference's beat phase at that moment, in ms (0: exactly on the beat), median
and p95 of |error| over the beats after the first 2 s. Also: how long discovery took (the first
moment the candidate saw a peer) and the candidate's CPU time.

Then the show itself (`run_show`, stick figures, a planned 120 BPM dance on the system timer, as
``play --mute --link --osc-out`` runs) follows the reference peer (which plays 120 BPM too) through
`livedance.control.link.LinkSession`; its OSC beats, received by a python-osc server, are
compared with the reference's beats the same way: the phase error a lighting desk sees.

    python benchmarks/bench_link.py [--seconds 12]
Writes benchmarks/results/link.json and link.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from livedance.measure.machine import describe

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"

COMMON = """
import json, sys, time, resource
def mono_minus(link_now_s):
    # Link's clock (CLOCK_MONOTONIC_RAW on Linux) -> CLOCK_MONOTONIC, measured here
    best = None
    for _ in range(20):
        a = time.monotonic(); l = link_now_s(); b = time.monotonic()
        if best is None or b - a < best[0]:
            best = (b - a, (a + b) / 2 - l)
    return best[1]
out, seconds = sys.argv[1], float(sys.argv[2])
"""

REFERENCE = (
    COMMON
    + """
import link
l = link.Link(120.0); l.enabled = True
clock = l.clock()
offset = mono_minus(lambda: clock.micros() / 1e6)
t0 = time.monotonic(); samples = []
while time.monotonic() - t0 < seconds:
    us = clock.micros(); s = l.captureSessionState()
    samples.append((us / 1e6 + offset, s.beatAtTime(us, 4.0), s.tempo()))
    time.sleep(0.002)
json.dump({"samples": samples, "peers": l.numPeers()}, open(out, "w"))
"""
)

LINKPYTHON = (
    COMMON
    + """
import link
l = link.Link(97.0); l.enabled = True
clock = l.clock()
offset = mono_minus(lambda: clock.micros() / 1e6)
t0 = time.monotonic(); wakes = []; found = None
while time.monotonic() - t0 < seconds:
    if found is None and l.numPeers() > 0:
        found = time.monotonic() - t0
    s = l.captureSessionState(); now = clock.micros()
    beat = s.beatAtTime(now, 4.0)
    due_us = s.timeAtBeat(float(int(beat) + 1), 4.0)
    time.sleep(max(0.0, (due_us - clock.micros()) / 1e6))
    wakes.append(time.monotonic())
cpu = resource.getrusage(resource.RUSAGE_SELF)
json.dump({"wakes": wakes, "found_s": found, "peers": l.numPeers(),
           "cpu_s": cpu.ru_utime + cpu.ru_stime}, open(out, "w"))
"""
)

AALINK = (
    COMMON
    + """
import asyncio, aalink
async def main():
    l = aalink.Link(97.0, asyncio.get_running_loop()); l.enabled = True
    t0 = time.monotonic(); wakes = []; found = None
    while time.monotonic() - t0 < seconds:
        if found is None and l.num_peers > 0:
            found = time.monotonic() - t0
        await l.sync(1)
        wakes.append(time.monotonic())
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    json.dump({"wakes": wakes, "found_s": found, "peers": l.num_peers,
               "cpu_s": cpu.ru_utime + cpu.ru_stime}, open(out, "w"))
asyncio.run(main())
"""
)


def _run(candidate: str, seconds: float, tmp: Path) -> dict:
    ref_out, cand_out = tmp / "ref.json", tmp / "cand.json"
    ref = subprocess.Popen([sys.executable, "-c", REFERENCE, str(ref_out), str(seconds + 2)])
    time.sleep(0.5)
    cand = subprocess.run(
        [sys.executable, "-c", candidate, str(cand_out), str(seconds)],
        capture_output=True, text=True, timeout=seconds + 60, check=False,
    )  # fmt: skip
    ref.wait(timeout=seconds + 60)
    if cand.returncode != 0:
        return {"error": cand.stderr.strip().splitlines()[-1]}
    r, c = json.loads(ref_out.read_text()), json.loads(cand_out.read_text())
    t, beat, tempo = (np.array(x) for x in zip(*r["samples"], strict=True))
    wakes = np.array(c["wakes"])
    wakes = wakes[(wakes > t[0] + 2.0) & (wakes < t[-1])]
    ref_beat = np.interp(wakes, t, beat)
    phase = ref_beat - np.round(ref_beat)  # beats from the nearest reference beat
    error_ms = phase * 60_000.0 / np.interp(wakes, t, tempo)
    return {
        "discovered_after_s": None if c["found_s"] is None else round(c["found_s"], 2),
        "peers_at_end": c["peers"],
        "session_tempo": round(float(tempo[-1]), 2),
        "beats": len(error_ms),
        "phase_error_median_ms": round(float(np.median(np.abs(error_ms))), 2),
        "phase_error_p95_ms": round(float(np.percentile(np.abs(error_ms), 95)), 2),
        "late_mean_ms": round(float(np.mean(error_ms)), 2),
        "cpu_s": round(c["cpu_s"], 3),
    }


def _show_following(seconds: float, tmp: Path) -> dict:
    """The show following the reference peer; its OSC beats' phase against the reference's."""
    import threading

    from pythonosc.dispatcher import Dispatcher
    from pythonosc.osc_server import BlockingOSCUDPServer

    from livedance.choreo import choreograph
    from livedance.clock import MonotonicClock
    from livedance.control.link import LinkSession, wait_for_peers
    from livedance.control.osc_out import OscOut
    from livedance.render import StickRenderer
    from livedance.show.loop import ShowOptions, run_show
    from livedance.show.operator import Operator
    from livedance.show.outputs import BeatOutput
    from livedance.show.timeline import PlannedTimeline
    from livedance.songplan import BeatInterval

    ref_out = tmp / "ref-show.json"
    ref = subprocess.Popen([sys.executable, "-c", REFERENCE, str(ref_out), str(seconds + 4)])
    arrivals: list[float] = []
    dispatcher = Dispatcher()
    dispatcher.map("/livedance/beat", lambda *a: arrivals.append(time.monotonic()))
    server = BlockingOSCUDPServer(("127.0.0.1", 0), dispatcher)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    clock = MonotonicClock()
    session = LinkSession(clock, quantum=4.0)
    found = wait_for_peers(session, 1, timeout_s=10.0)
    n = int(seconds / 0.5) + 4
    intervals = [BeatInterval(0.5 * i, 0.5 * (i + 1), -15.0, 1500.0) for i in range(n)]
    timeline = PlannedTimeline(choreograph(intervals, seed=2))
    operator = Operator(timeline, inputs=[session])
    out = BeatOutput(OscOut("127.0.0.1", server.server_address[1], clock=clock), timeline)
    run_show(timeline, clock, StickRenderer(256), [out], operator,
             ShowOptions(fps=30.0, duration_s=seconds), start=clock.start)  # fmt: skip
    operator.close()
    server.shutdown()
    thread.join()
    server.server_close()
    ref.wait(timeout=seconds + 30)
    r = json.loads(ref_out.read_text())
    t, beat, tempo = (np.array(x) for x in zip(*r["samples"], strict=True))
    wakes = np.array(arrivals)
    wakes = wakes[(wakes > wakes[0] + 2.0) & (wakes < t[-1])] if len(wakes) else wakes
    ref_beat = np.interp(wakes, t, beat)
    error_ms = (ref_beat - np.round(ref_beat)) * 60_000.0 / np.interp(wakes, t, tempo)
    return {
        "peer_found": found,
        "beats": len(error_ms),
        "phase_error_median_ms": round(float(np.median(np.abs(error_ms))), 2),
        "phase_error_p95_ms": round(float(np.percentile(np.abs(error_ms), 95)), 2),
        "late_mean_ms": round(float(np.mean(error_ms)), 2),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seconds", type=float, default=12.0)
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-link-"))
    results = {"machine": describe(), "seconds": args.seconds, "candidates": {}}
    for name, code in (("LinkPython-extern 1.3.0", LINKPYTHON), ("aalink 0.2.3", AALINK)):
        results["candidates"][name] = _run(code, args.seconds, tmp)
        print(name, results["candidates"][name], flush=True)
    results["show"] = _show_following(args.seconds, tmp)
    print("show", results["show"], flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "link.json").write_text(json.dumps(results, indent=2) + "\n")
    lines = [
        "# Ableton Link: two peers on one machine",
        "",
        f"{results['machine']['cpu']} ({results['machine']['cores']} cores, shared); "
        f"`python benchmarks/bench_link.py --seconds {args.seconds:g}`. A reference peer "
        "(LinkPython-extern, 120 BPM) and a candidate peer (97 BPM at start) in two processes; "
        "phase error: the reference's beat phase when the candidate's library says a beat is due.",
        "",
        "| library | found the peer after s | session tempo | beats | |phase error| median ms "
        "| p95 ms | mean (+ late) ms | CPU s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, r in results["candidates"].items():
        if "error" in r:
            lines.append(f"| {name} | error: {r['error']} | | | | | | |")
            continue
        lines.append(
            f"| {name} | {r['discovered_after_s']} | {r['session_tempo']} | {r['beats']} | "
            f"{r['phase_error_median_ms']} | {r['phase_error_p95_ms']} | {r['late_mean_ms']} | "
            f"{r['cpu_s']} |"
        )
    sh = results["show"]
    lines += [
        "",
        "The show following the reference peer (`LinkSession`, a planned 120 BPM dance, OSC beats "
        f"to a receiver): {sh['beats']} beats, |phase error| median {sh['phase_error_median_ms']} "
        f"ms, p95 {sh['phase_error_p95_ms']} ms, mean {sh['late_mean_ms']} ms (+ late).",
    ]
    (RESULTS / "link.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
