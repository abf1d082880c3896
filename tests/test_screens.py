"""``--screen N``: the monitors of a real X display (Xvfb with Xinerama, two heads), the window
fullscreen on the chosen one with the picture letterboxed to its shape (checked on a screenshot).

Xvfb's Xinerama lays both heads at 0,0 (a 320x240 and a 640x480 one), so a window's move to a
second monitor beside the first cannot be seen here; the monitor lookup, the fullscreen size and
the letterbox are."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from livedance.show.window import letterbox_borders

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def two_heads() -> Iterator[str]:
    if not shutil.which("Xvfb"):
        pytest.skip("Xvfb not installed (run tests/setup-system.sh)")
    display = f":{60 + os.getpid() % 9}"
    proc = subprocess.Popen(
        ["Xvfb", display, "+xinerama", "-screen", "0", "320x240x24", "-screen", "1",
         "640x480x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    for _ in range(100):
        if Path(f"/tmp/.X11-unix/X{display[1:]}").exists() or proc.poll() is not None:
            break
        time.sleep(0.05)
    if proc.poll() is not None:
        pytest.skip("Xvfb could not start")
    yield display
    proc.terminate()
    proc.wait(timeout=10)


def test_letterbox_borders_keep_the_shape() -> None:
    top, bottom, left, right = letterbox_borders(256, 256, 640, 480)
    assert (top, bottom) == (0, 0) and left + right + 256 == round(256 * 640 / 480)
    top, bottom, left, right = letterbox_borders(256, 256, 480, 640)
    assert (left, right) == (0, 0) and 256 + top + bottom == round(256 * 640 / 480)
    assert letterbox_borders(300, 200, 1920, 1280) == (0, 0, 0, 0)


def test_the_monitors_of_the_display(two_heads: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from livedance.errors import LivedanceError
    from livedance.show.screens import Monitor, monitor, monitors

    monkeypatch.setenv("DISPLAY", two_heads)
    assert monitors() == [Monitor(0, 0, 320, 240), Monitor(0, 0, 640, 480)]
    assert monitor(1) == Monitor(0, 0, 640, 480)
    with pytest.raises(LivedanceError) as err:
        monitor(2)
    assert "this display has 0: 320x240+0+0, 1: 640x480+0+0" in str(err.value)


def test_screen_1_shows_the_dancer_fullscreen_letterboxed(two_heads: str, tmp_path: Path) -> None:
    if not shutil.which("xwd") or not shutil.which("convert"):
        pytest.skip("xwd / ImageMagick not installed (run tests/setup-system.sh)")
    import cv2

    from livedance.audio.composer import compose_song
    from livedance.audio.io import write_wav

    song = tmp_path / "song.wav"
    write_wav(song, compose_song(bpm=120, form="AB", bars_per_section=2, seed=1).audio)
    env = {**os.environ, "DISPLAY": two_heads, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "livedance", "play", str(song), "--mute", "--stick", "--size",
         "256", "--screen", "1", "--no-hud", "--duration", "9", "--no-osc"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    lit_xs: list[int] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(1.0)
        xwd = subprocess.run(["xwd", "-root", "-silent", "-display", two_heads],
                             capture_output=True, check=True).stdout  # fmt: skip
        shot = tmp_path / "shot.png"
        subprocess.run(["convert", "xwd:-", str(shot)], input=xwd, check=True)
        image = cv2.imread(str(shot))
        ys, xs = np.nonzero(image.sum(axis=2) > 60)
        if len(xs) > 500:
            lit_xs = list(xs)
            lit_height = ys.max() - ys.min()
            break
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert lit_xs, "the dancer never appeared"
    # the 256 px frame fills the 480 px height: the dancer is taller than the frame itself,
    # and inside the 480 px wide picture between the 80 px black bars
    assert lit_height > 256
    assert min(lit_xs) >= 80 and max(lit_xs) < 560


def test_a_screen_that_is_not_there_is_one_line(two_heads: str) -> None:
    env = {**os.environ, "DISPLAY": two_heads, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-m", "livedance", "play", "--demo", "--mute", "--stick", "--screen",
         "3", "--no-osc"],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 2
    assert (
        proc.stderr.strip()
        .splitlines()[-1]
        .endswith("--screen 3: no such monitor (this display has 0: 320x240+0+0, 1: 640x480+0+0)")
    )
