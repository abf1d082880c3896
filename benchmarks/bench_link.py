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


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seconds", type=float, default=12.0)
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-link-"))
    results = {"machine": describe(), "seconds": args.seconds, "candidates": {}}
    for name, code in (("LinkPython-extern 1.3.0", LINKPYTHON), ("aalink 0.2.3", AALINK)):
        results["candidates"][name] = _run(code, args.seconds, tmp)
        print(name, results["candidates"][name], flush=True)
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
    (RESULTS / "link.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
