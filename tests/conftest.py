"""Shared fixtures: synthesized songs on disk, a virtual screen, the CLI as a subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from livedance.audio.io import write_wav
from livedance.audio.synth import synth_song

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def short_song(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 10 s synthesized song at 120 BPM (A B), 44.1 kHz mono wav."""
    path = tmp_path_factory.mktemp("songs") / "short.wav"
    write_wav(path, synth_song(bpm=120, form="AB", bars_per_section=2, seed=1).audio)
    return path


def run_cli(
    *args: str, timeout: float = 300, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `python -m livedance ARGS` as a user would, capturing its output."""
    return subprocess.run(
        [sys.executable, "-m", "livedance", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )


@pytest.fixture(scope="session")
def xvfb_display() -> Iterator[str]:
    """A real X server (Xvfb) for window tests; yields its DISPLAY."""
    if not shutil.which("Xvfb"):
        pytest.skip("Xvfb not installed (run tests/setup-system.sh)")
    display = f":{90 + os.getpid() % 9}"
    proc = subprocess.Popen(
        ["Xvfb", display, "-screen", "0", "640x480x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    lock = Path(f"/tmp/.X11-unix/X{display[1:]}")
    for _ in range(100):
        if lock.exists() or proc.poll() is not None:
            break
        time.sleep(0.05)
    if proc.poll() is not None:
        pytest.skip(f"Xvfb could not start on {display}")
    yield display
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="session")
def pulse_sink() -> Iterator[str]:
    """A real PulseAudio server with a null sink (no sound card needed); yields the sink name.

    Playback into the sink is real audio I/O through PortAudio's ALSA `pulse` device; its
    monitor source is a line-in that hears what was played.
    """
    if not shutil.which("pulseaudio") or not shutil.which("pactl"):
        pytest.skip("PulseAudio not installed (run tests/setup-system.sh)")
    started = subprocess.run(
        ["pulseaudio", "-D", "--exit-idle-time=-1", "--disallow-exit", "-n",
         "--load=module-native-protocol-unix", "--load=module-null-sink sink_name=livedance_test"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    ready = False
    for _ in range(50):
        if subprocess.run(["pactl", "info"], capture_output=True, check=False).returncode == 0:
            ready = True
            break
        time.sleep(0.1)
    if not ready:
        pytest.skip(f"PulseAudio could not start: {started.stderr.strip()[-200:]}")
    subprocess.run(["pactl", "set-default-sink", "livedance_test"], check=False)
    subprocess.run(["pactl", "set-default-source", "livedance_test.monitor"], check=False)
    yield "livedance_test"
    subprocess.run(["pulseaudio", "--kill"], check=False)
