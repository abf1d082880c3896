"""`livedance play` end to end: recordings with the song's audio, and clear errors for bad input."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import ffprobe_streams, run_cli

pytestmark = pytest.mark.skipif(
    not shutil.which("ffprobe"), reason="ffprobe not installed (run tests/setup-system.sh)"
)


def _assert_one_line_error(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    # Our own errors read "livedance: error: ..."; argparse's "livedance play: error: ...".
    lines = [
        line
        for line in proc.stderr.strip().splitlines()
        if line.startswith("livedance") and ": error: " in line
    ]
    assert len(lines) == 1, proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_headless_record_has_every_frame_and_the_songs_audio(
    short_song: Path, tmp_path: Path
) -> None:
    out = tmp_path / "show.mp4"
    proc = run_cli(
        "play", str(short_song), "--headless", "--record", str(out), "--fps", "24", "--size", "160"
    )
    assert proc.returncode == 0, proc.stderr
    duration = sf.info(str(short_song)).duration
    streams = ffprobe_streams(out)
    assert abs(int(streams["video"]["nb_read_frames"]) - duration * 24) <= 1
    assert (streams["video"]["width"], streams["video"]["height"]) == (160, 160)
    assert abs(float(streams["audio"]["duration"]) - duration) < 0.05
    assert not list(tmp_path.glob(".*partial*")), "no partial file left behind"


def test_duration_limits_video_and_audio(short_song: Path, tmp_path: Path) -> None:
    out = tmp_path / "short.mp4"
    proc = run_cli(
        "play",
        str(short_song),
        "--headless",
        "--record",
        str(out),
        "--duration",
        "3",
        "--seed",
        "4",
    )
    assert proc.returncode == 0, proc.stderr
    streams = ffprobe_streams(out)
    assert abs(int(streams["video"]["nb_read_frames"]) - 90) <= 1
    assert abs(float(streams["audio"]["duration"]) - 3.0) < 0.05


def test_recorded_dancer_moves_and_stays_in_frame(short_song: Path, tmp_path: Path) -> None:
    out = tmp_path / "dance.mp4"
    assert (
        run_cli(
            # sticks on black: the figure is the only thing lit (the default model paints a room)
            "play",
            str(short_song),
            "--headless",
            "--record",
            str(out),
            "--size",
            "128",
            "--stick",
        ).returncode
        == 0
    )
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(out), "-f", "rawvideo", "-pix_fmt", "gray", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    frames = np.frombuffer(raw, np.uint8).reshape(-1, 128, 128)
    lit = frames > 40
    assert lit[:, :, :].any(axis=(1, 2)).all(), "the figure is in every frame"
    assert not lit[:, :, :2].any() and not lit[:, :, -2:].any(), "nothing touches the frame's sides"
    motion = np.abs(np.diff(frames.astype(int), axis=0)).mean(axis=(1, 2))
    assert (motion > 0.05).mean() > 0.5, "the dancer moves most of the time"


@pytest.mark.parametrize(("sr", "channels"), [(22050, 1), (48000, 2), (8000, 6)])
def test_any_sample_rate_and_channel_count(tmp_path: Path, sr: int, channels: int) -> None:
    t = np.arange(int(6 * sr)) / sr
    click = (np.sin(2 * np.pi * 880 * t) * np.exp(-((t % 0.5) * 40))).astype(np.float32)
    noise = np.random.default_rng(0).normal(0, 0.003, len(t)).astype(np.float32)
    data = np.repeat((click + noise)[:, None], channels, axis=1) * 0.5
    song = tmp_path / f"click_{sr}_{channels}.flac"
    sf.write(song, data, sr)
    out = tmp_path / "out.mp4"
    proc = run_cli(
        "play", str(song), "--headless", "--record", str(out), "--fps", "10", "--size", "64"
    )
    assert proc.returncode == 0, proc.stderr
    assert abs(float(ffprobe_streams(out)["audio"]["duration"]) - 6.0) < 0.05


def test_missing_file(tmp_path: Path) -> None:
    _assert_one_line_error(
        run_cli("play", str(tmp_path / "nope.wav"), "--headless"), "no such file"
    )


def test_not_audio(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("this is not a song\n" * 50)
    _assert_one_line_error(run_cli("play", str(text), "--headless"), "notes.txt")


def test_corrupt_audio(short_song: Path, tmp_path: Path) -> None:
    bad = tmp_path / "corrupt.ogg"
    bad.write_bytes(
        b"OggS" + bytes(np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8))
    )
    _assert_one_line_error(run_cli("play", str(bad), "--headless"), "corrupt.ogg")
    truncated = tmp_path / "truncated.wav"
    truncated.write_bytes(short_song.read_bytes()[:30])
    _assert_one_line_error(run_cli("play", str(truncated), "--headless"), "truncated.wav")


def test_silence_is_danced_on_a_steady_grid_with_a_warning(tmp_path: Path) -> None:
    """As `analyze` and the README say: silent audio gets a steady beat grid and a warning."""
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros((44100 * 5, 2), np.float32), 44100)
    out = tmp_path / "silent.mp4"
    proc = run_cli("play", str(silent), "--headless", "--record", str(out), "--size", "64")
    assert proc.returncode == 0, proc.stderr
    assert "silent" in proc.stderr and "steady" in proc.stderr, proc.stderr
    assert "120.0 bpm" in proc.stdout and out.exists()


def test_shorter_than_two_beats(tmp_path: Path) -> None:
    blip = tmp_path / "blip.wav"
    t = np.arange(int(0.6 * 44100)) / 44100
    sf.write(blip, (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 44100)
    _assert_one_line_error(run_cli("play", str(blip), "--headless"), "too short")


def test_no_display_points_to_headless(short_song: Path) -> None:
    proc = run_cli("play", str(short_song), env={"DISPLAY": "", "WAYLAND_DISPLAY": ""})
    _assert_one_line_error(proc, "no display", "--headless")


def test_unwritable_record_path(short_song: Path, tmp_path: Path) -> None:
    proc = run_cli(
        "play", str(short_song), "--headless", "--record", str(tmp_path / "no" / "such" / "dir.mp4")
    )
    _assert_one_line_error(proc, "does not exist")


def test_bad_options(short_song: Path) -> None:
    _assert_one_line_error(
        run_cli("play", str(short_song), "--headless", "--fps", "0"), "--fps", "above 0"
    )
    _assert_one_line_error(run_cli("play", "--headless"), "--demo")
