"""Saved show setups: ``live --setup show.toml`` / ``play --setup`` and ``setup check``, run as a
stage technician would (the real CLI in a subprocess, real TOML files, a real recording)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ffprobe_streams, run_cli

from livedance.cli import build_parser
from livedance.cli.setup import check_setup, live_parser
from livedance.cli.setupfile import SECTIONS, SetupError, apply_setup, read_setup

GOOD = """
[audio]
input = "pulse"
samplerate = 48000
blocksize = 512
latency = 0.02

[tempo]
preset = "house"
hold_s = 0

[render]
stick = true
size = 128
fps = 25
model = "models/alice.onnx"
repeats = false

[window]
hud = false
fullscreen = true

[osc]
port = 9100
host = "0.0.0.0"
out = "192.168.1.20:7000"

[offsets]
av_ms = -80
osc_ms = -20.5
"""


@pytest.fixture
def good(tmp_path: Path) -> Path:
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "alice.onnx").write_bytes(b"not read by the check")
    path = tmp_path / "show.toml"
    path.write_text(GOOD)
    return path


def _live_args(*argv: str):  # type: ignore[no-untyped-def]
    parser = build_parser()
    args = parser.parse_args(["live", *argv])
    return apply_setup(parser, args.setup_parser, args, ["live", *argv])


def test_a_setup_sets_the_options_and_flags_override_it(good: Path) -> None:
    args = _live_args("--setup", str(good), "--fps", "50", "--osc-port", "9200")
    assert args.input == "pulse" and args.samplerate == 48000 and args.blocksize == 512
    assert args.latency == "0.02"
    assert args.tempo == "house" and args.tempo_hold == 0.0
    assert args.stick and args.size == 128 and args.no_repeats
    assert args.model == good.parent / "models" / "alice.onnx", "relative to the file's folder"
    assert args.no_hud and args.fullscreen
    assert args.osc_host == "0.0.0.0" and args.osc_out == "192.168.1.20:7000"
    assert args.av_offset == -80.0 and args.osc_offset == -20.5
    assert args.fps == 50.0 and args.osc_port == 9200, "the command line wins"
    plain = _live_args()
    assert plain.fps == 30.0 and plain.av_offset == 0.0 and not plain.stick


def test_setup_check_passes_a_good_file_and_prints_what_it_sets(good: Path) -> None:
    proc = run_cli("setup", "check", str(good), timeout=60)
    assert proc.returncode == 0, proc.stderr
    line = proc.stdout.strip()
    assert line.startswith(f"{good}: ok: livedance live ")
    for flag in ("--av-offset -80.0", "--tempo house", "--no-hud", "--osc-out 192.168.1.20:7000"):
        assert flag in line


BAD = """
[audio]
samplerate = 100
[tempo]
min_bpm = 150
max_bpm = 100
[render]
fps = 500
device = "gpu"
stik = true
stick = "yes"
model = "nope.onnx"
[osc]
out = "localhost"
[offsets]
av_ms = 5000
[lights]
x = 1
"""


def test_setup_check_lists_every_mistake_one_line_each(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(BAD)
    proc = run_cli("setup", "check", str(path), timeout=60)
    assert proc.returncode == 2 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert "Traceback" not in proc.stderr
    expected = [
        "[audio] samplerate: must be at least 8000",
        "[render] fps: must be above 0 and at most 240",
        "[render] device: 'gpu' is not one of auto",
        "[render] stik: unknown key",
        "[render] stick: expected true or false",
        "[offsets] av_ms: must be from -1000 to 1000",
        "[lights]: unknown section",
        "need 0 < min < max",
        "[render] model: no such file",
        "[osc] out 'localhost': expected HOST:PORT",
    ]
    assert len(lines) == len(expected), lines
    for want in expected:
        assert sum(want in line for line in lines) == 1, (want, lines)
    assert all(line.startswith(f"livedance: error: {path}: ") for line in lines)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("[audio\nx = 1\n", "not valid TOML: "),
        ("audio = 3\n", "expected a [audio] table"),
        ("[show]\nduration = [1, 2]\n", "expected a number or a string"),
        ('[show]\noutputs = ["shm:ok", "ndi:x"]\n', "unknown kind 'ndi'"),
    ],
)
def test_a_broken_file_is_one_line(tmp_path: Path, text: str, why: str) -> None:
    path = tmp_path / "show.toml"
    path.write_text(text)
    problems, _ = check_setup(path)
    assert len(problems) == 1 and why in problems[0], problems
    assert "\n" not in problems[0]
    proc = run_cli("setup", "check", str(path), timeout=60)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1


def test_a_missing_file_is_one_line(tmp_path: Path) -> None:
    proc = run_cli("setup", "check", str(tmp_path / "nope.toml"), timeout=60)
    assert proc.returncode == 2 and "nope.toml: no such file" in proc.stderr


def test_live_with_a_bad_setup_stops_before_opening_anything(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(BAD)
    proc = run_cli("live", "--setup", str(path), "--headless", timeout=60)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "(and 6 more)" in lines[0], lines
    with pytest.raises(SetupError):
        read_setup(path, live_parser())


def test_every_key_of_the_file_is_an_option_of_live() -> None:
    dests = {a.dest for a in live_parser()._actions}
    missing = [
        f"[{s}] {k}" for s, keys in SECTIONS.items() for k, key in keys.items()
        if key.dest not in dests
    ]  # fmt: skip
    assert not missing, missing


def test_a_play_setup_records_as_the_file_says(tmp_path: Path, short_song: Path) -> None:
    """The file sets the renderer, the show's length and the recording (relative to the file);
    ``--size`` on the command line overrides the file's."""
    setup = tmp_path / "venue" / "show.toml"
    setup.parent.mkdir()
    setup.write_text(
        '[render]\nstick = true\nsize = 64\nfps = 10\n[show]\nduration = 2\nrecord = "out.mp4"\n'
        "[window]\nheadless = true\n[osc]\nenabled = false\n[offsets]\nav_ms = -50\n"
    )
    proc = run_cli("play", str(short_song), "--setup", str(setup), "--size", "96", timeout=300)
    assert proc.returncode == 0, proc.stderr
    video = ffprobe_streams(setup.parent / "out.mp4")["video"]
    assert (video["width"], video["height"]) == (96, 96)
    assert abs(int(video["nb_read_frames"]) - 20) <= 1
