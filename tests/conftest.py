"""Shared fixtures: synthesized songs on disk, a virtual screen, the CLI as a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from livedance.audio.composer import compose_song
from livedance.audio.io import write_wav

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def short_song(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 10 s synthesized song at 120 BPM (A B), 44.1 kHz mono wav."""
    path = tmp_path_factory.mktemp("songs") / "short.wav"
    write_wav(path, compose_song(bpm=120, form="AB", bars_per_section=2, seed=1).audio)
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


def start_pulse_null_sink(sink: str) -> str | None:
    """Start a PulseAudio daemon whose default sink is a null sink ``sink`` (its monitor the
    default source). Returns None when it is up, else the reason it is not."""
    started = subprocess.run(
        ["pulseaudio", "-D", "--exit-idle-time=-1", "--disallow-exit", "-n",
         "--load=module-native-protocol-unix", f"--load=module-null-sink sink_name={sink}"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    for _ in range(50):
        if subprocess.run(["pactl", "info"], capture_output=True, check=False).returncode == 0:
            subprocess.run(["pactl", "set-default-sink", sink], check=False)
            subprocess.run(["pactl", "set-default-source", f"{sink}.monitor"], check=False)
            return None
        time.sleep(0.1)
    return started.stderr.strip()[-200:] or "pactl info never answered"


@pytest.fixture(scope="session")
def pulse_sink() -> Iterator[str]:
    """A real PulseAudio server with a null sink (no sound card needed); yields the sink name.

    Playback into the sink is real audio I/O through PortAudio's ALSA `pulse` device; its
    monitor source is a line-in that hears what was played.
    """
    if not shutil.which("pulseaudio") or not shutil.which("pactl"):
        pytest.skip("PulseAudio not installed (run tests/setup-system.sh)")
    error = start_pulse_null_sink("livedance_test")
    if error is not None:
        pytest.skip(f"PulseAudio could not start: {error}")
    yield "livedance_test"
    subprocess.run(["pulseaudio", "--kill"], check=False)


def ffprobe_streams(path: Path) -> dict[str, dict]:
    """ffprobe's view of a media file: codec type -> stream (frames counted, duration, size)."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-count_frames", "-of", "json", "-show_entries",
         "stream=codec_type,nb_read_frames,duration,width,height", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return {s["codec_type"]: s for s in json.loads(out)["streams"]}
