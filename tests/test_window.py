"""A real OpenCV window under Xvfb shows the dancer (checked on a screenshot of the X screen)."""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

ARTIFACTS = Path(os.environ.get("LIVEDANCE_TEST_ARTIFACTS", "/tmp/livedance-test-artifacts"))


def _screenshot(display: str, out: Path) -> np.ndarray:
    if not shutil.which("xwd") or not shutil.which("convert"):
        pytest.skip("xwd / ImageMagick not installed (run tests/setup-system.sh)")
    xwd = subprocess.run(
        ["xwd", "-root", "-silent", "-display", display], capture_output=True, check=True
    ).stdout
    subprocess.run(["convert", "xwd:-", str(out)], input=xwd, check=True)
    import cv2

    image = cv2.imread(str(out))
    assert image is not None, f"screenshot {out} unreadable"
    return image


def _play_and_shoot(
    song: Path, display: str, shot: Path, *extra: str, env: dict[str, str] | None = None
) -> tuple[np.ndarray, subprocess.CompletedProcess[str]]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "livedance",
            "play",
            str(song),
            "--duration",
            "8",
            "--size",
            "256",
            *extra,
        ],
        env={**os.environ, "DISPLAY": display, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # the show starts right after the OSC port is printed (imports, analysis and the renderer's
    # timing before it take longer on a loaded machine): then a few seconds of dancing
    assert proc.stdout is not None
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and proc.poll() is None:
        ready, _, _ = select.select([proc.stdout], [], [], 0.5)
        if ready and "OSC control on" in proc.stdout.readline():
            break
    time.sleep(2.5)
    if proc.poll() is not None:
        out, err = proc.communicate()
        pytest.fail(f"play exited early ({proc.returncode}): {err}")
    image = _screenshot(display, shot)
    out, err = proc.communicate(timeout=60)
    return image, subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _assert_dancer_visible(image: np.ndarray) -> None:
    lit = image.sum(axis=2) > 60
    ys, xs = np.nonzero(lit)
    assert len(ys) > 500, "the window shows a figure"
    height, width = ys.max() - ys.min(), xs.max() - xs.min()
    assert height > 120 and width > 30, f"figure spans {width}x{height} px"
    # The limbs are in OpenPose colours: several distinct hues are on screen.
    hues = {tuple(int(c) // 64 for c in px) for px in image[lit][::7]}
    assert len(hues) >= 5


def test_window_shows_the_dancer_with_a_silent_clock(short_song: Path, xvfb_display: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    image, proc = _play_and_shoot(short_song, xvfb_display, ARTIFACTS / "window-mute.png", "--mute")
    assert proc.returncode == 0, proc.stderr
    _assert_dancer_visible(image)


def test_window_with_real_audio_playback(
    short_song: Path, xvfb_display: str, pulse_sink: str
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    image, proc = _play_and_shoot(
        short_song, xvfb_display, ARTIFACTS / "window-audio.png", "--audio-device", "pulse"
    )
    assert proc.returncode == 0, proc.stderr
    _assert_dancer_visible(image)
    assert "frames" in proc.stdout


def test_unknown_audio_device_is_a_clear_error(short_song: Path, xvfb_display: str) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "livedance",
            "play",
            str(short_song),
            "--audio-device",
            "no-such-card",
        ],
        env={**os.environ, "DISPLAY": xvfb_display},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "livedance devices" in proc.stderr and "--headless" in proc.stderr


def test_live_window_shows_the_dancer_and_osc_hides_the_hud(
    xvfb_display: str, pulse_sink: str, tmp_path: Path
) -> None:
    """`live` in a window on line-in: the dancer and the HUD; OSC /livedance/hud 0 hides the HUD."""
    import socket

    from pythonosc.udp_client import SimpleUDPClient

    from tests.test_linein import _click_track

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    wav = tmp_path / "click.wav"
    _click_track(wav, 16.0)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    player = subprocess.Popen(["paplay", f"--device={pulse_sink}", str(wav)])
    proc = subprocess.Popen(
        [sys.executable, "-m", "livedance", "live", "--input", "pulse", "--duration", "11",
         "--size", "256", "--osc-port", str(port)],
        env={**os.environ, "DISPLAY": xvfb_display},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        time.sleep(6)  # imports, window up, the clock locked on the clicks
        if proc.poll() is not None:
            pytest.fail(f"live exited early ({proc.returncode}): {proc.communicate()[1]}")
        with_hud = _screenshot(xvfb_display, ARTIFACTS / "live-window-hud.png")
        SimpleUDPClient("127.0.0.1", port).send_message("/livedance/hud", 0)
        time.sleep(1.0)
        without_hud = _screenshot(xvfb_display, ARTIFACTS / "live-window-no-hud.png")
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
        player.kill()
    assert proc.returncode == 0, err
    _assert_dancer_visible(without_hud)
    # The HUD's text, white outlined in black, sits in the window's top-left corner, where the
    # default model's room is a light wall: its black outlines are there only with the HUD on.
    corner = (slice(0, 50), slice(0, 95))
    dark = [int((shot[corner].max(axis=2) < 60).sum()) for shot in (with_hud, without_hud)]
    assert dark[0] > 80 and dark[1] < dark[0] / 10, dark
    assert "beats heard" in out
