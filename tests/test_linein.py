"""Line-in through a real PulseAudio null sink: the causal tracker locks onto a click track."""

from __future__ import annotations

import itertools
import re
import socket
import subprocess
import threading
import time
import wave
from pathlib import Path

import numpy as np
import pytest
from pythonosc.udp_client import SimpleUDPClient

from livedance.audio.linein import LineIn, RingBuffer
from livedance.errors import LivedanceError
from livedance.ffmpeg import ffmpeg_exe, stream_durations_s

SR = 44100
BPM = 120.0


def test_ring_buffer_wraps_mixes_to_mono_and_counts_overruns() -> None:
    ring = RingBuffer(10)
    block = np.stack([np.arange(6, dtype=np.float32), np.arange(6, dtype=np.float32) + 2], axis=1)
    ring.write_mono(block)
    out = np.zeros(4, np.float32)
    assert ring.read_into(out) and out.tolist() == [1, 2, 3, 4]
    ring.write_mono(block)  # wraps around the end
    out6 = np.zeros(6, np.float32)
    assert ring.read_into(out6) and out6.tolist() == [5, 6, 1, 2, 3, 4]
    assert not ring.read_into(out)
    for _ in range(3):
        ring.write_mono(block)
    assert ring.read_into(out) and ring.overruns == 1


def test_ring_peek_reads_without_consuming_and_refuses_overwritten_samples() -> None:
    ring = RingBuffer(8)
    ring.write_mono(np.arange(10, dtype=np.float32)[:, None])  # 0, 1 fell out of the ring
    out = np.zeros(3, np.float32)
    assert ring.peek(6, out) and out.tolist() == [6, 7, 8]
    assert ring.peek(2, out) and out.tolist() == [2, 3, 4] and ring.read == 0
    assert not ring.peek(1, out) and not ring.peek(8, out)


def test_the_input_tap_writes_the_input_from_the_first_frame_padded_to_the_video(
    tmp_path: Path,
) -> None:
    import soundfile as sf

    from livedance.show.audiotap import InputAudioTap

    sr, block = 8000, 80
    ring = RingBuffer(4000)
    signal = np.sin(np.arange(3 * sr) * 0.01).astype(np.float32)
    ring.write_mono(signal[:block, None])
    tap = InputAudioTap(ring, sr, 0.005, lambda: ring.written / sr)  # first frame at sample 40
    for i in range(1, 100):  # 99 blocks of 10 ms: ten "frames" of 0.1 s, one block at a time
        ring.write_mono(signal[i * block : (i + 1) * block, None])
        if i % 10 == 0:
            tap.pull(0.005 + i / 100)
    # The show stalls for 1.1 s (from the last pull at 0.905 s): all before 1.5 s left the ring.
    ring.write_mono(signal[100 * block : 200 * block, None])
    tap.pull(2.0)
    wav = tap.finish(2.5, wait_s=0.0)  # the input stops at 2.0 s: the rest is silence
    written, rate = sf.read(str(wav), dtype="float32")
    tap.cleanup()
    assert rate == sr and len(written) == int(2.5 * sr)
    lost = slice(int(0.905 * sr) - 40, int(1.5 * sr) - 40)  # in samples of the recording
    assert tap.lost_samples == lost.stop - lost.start
    kept = np.ones(len(written), bool)
    kept[lost] = False
    kept[int(1.995 * sr) :] = False
    assert np.allclose(written[kept], signal[40 : 40 + len(written)][kept], atol=1e-4)
    assert not written[lost].any() and not written[int(1.995 * sr) :].any()


def _click_track(path: Path, seconds: float) -> None:
    n = int(seconds * SR)
    x = np.zeros(n, np.float32)
    click = (np.sin(2 * np.pi * 1000 * np.arange(441) / SR) * np.exp(-np.arange(441) / 80)).astype(
        np.float32
    )
    for t in np.arange(0.5, seconds - 0.1, 60 / BPM):
        i = int(t * SR)
        x[i : i + 441] += 0.8 * click
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes((x * 32767).astype(np.int16).tobytes())


@pytest.mark.slow
def test_beats_from_the_null_sink_land_within_30_ms_of_the_clicks(
    pulse_sink: str, tmp_path: Path
) -> None:
    wav = tmp_path / "click.wav"
    _click_track(wav, 9.0)
    line = LineIn("pulse", sample_rate=SR).start()
    try:
        player = subprocess.Popen(["paplay", f"--device={pulse_sink}", str(wav)])
        player.wait(timeout=30)
        time.sleep(0.3)
    finally:
        line.stop()
    ring = line.ring
    end = ring.written
    start = end - ring.capacity  # the ring holds the last 4 s: the truth on the same timeline
    data = np.roll(ring._data, -(end % ring.capacity))
    loud = np.flatnonzero(np.abs(data) > 0.2)
    assert len(loud), "nothing arrived through the null sink"
    onsets = [loud[0]] + [b for a, b in itertools.pairwise(loud) if b - a > SR // 10]
    clicks_s = (np.array(onsets) + start) / SR
    events = []
    while not line.events.empty():
        events.append(line.events.get())
    beats_s = np.array([e.time_s for e in events if clicks_s[0] - 0.1 < e.time_s < clicks_s[-1]])
    assert len(beats_s) >= len(clicks_s) - 2, (beats_s, clicks_s)
    errors_ms = [np.min(np.abs(clicks_s - b)) * 1e3 for b in beats_s]
    print(
        f"beat error ms: median {np.median(errors_ms):.1f} p90 {np.percentile(errors_ms, 90):.1f}"
    )
    assert np.median(errors_ms) < 30, errors_ms
    assert np.percentile(errors_ms, 90) < 30, errors_ms


def test_an_input_overflow_is_logged_and_shown_on_the_hud_for_a_while(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """PortAudio's status flags (overflow and friends) reach the log and the HUD, once per
    burst. The callback is called by the test with sounddevice's own flags object: an overflow
    cannot be made to order on a real device."""
    import logging

    import sounddevice as sd

    line = LineIn(None)  # not started
    wall = [0.0]
    line._wall = lambda: wall[0]
    block = np.zeros((256, 1), np.float32)
    overflow = sd.CallbackFlags()
    overflow.input_overflow = True
    line._callback(block, 256, None, sd.CallbackFlags())
    line._check_status()
    assert line.problem is None
    with caplog.at_level(logging.WARNING, logger="livedance.audio.linein"):
        for _ in range(3):
            line._callback(block, 256, None, overflow)
            line._check_status()
            wall[0] += 0.5
    assert line.problem is not None and "input overflow" in line.problem
    assert [r.getMessage() for r in caplog.records] == ["audio input: input overflow (1 so far)"]
    wall[0] += 3.0
    line._check_status()
    assert line.problem is None  # gone from the HUD once the overflows stop
    assert line.statuses == 3


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_missing_input_device_is_one_clear_error() -> None:
    with pytest.raises(LivedanceError, match="no audio input device"):
        LineIn("no such device 42").start()


@pytest.mark.slow
def test_live_headless_records_a_video_and_sends_beats_on_the_predicted_times(
    pulse_sink: str, tmp_path: Path
) -> None:
    import re
    import sys

    from livedance.clock import MonotonicClock
    from tests.test_osc import Receiver

    wav = tmp_path / "click.wav"
    _click_track(wav, 12.0)
    out = tmp_path / "live.mp4"
    osc_port = _free_udp_port()

    def operator() -> None:
        """A lighting desk mid-show: a tempo the show's range must fold (OSC allows 30..300),
        three fast taps, then the release. Each once ended the show with a traceback."""
        desk = SimpleUDPClient("127.0.0.1", osc_port)
        time.sleep(3.0)
        desk.send_message("/livedance/tempo", 200.0)
        time.sleep(0.5)
        for _ in range(3):
            desk.send_message("/livedance/tap", 1)
            time.sleep(0.1)
        time.sleep(0.5)
        desk.send_message("/livedance/tempo/release", [])

    with Receiver(MonotonicClock()) as rx:
        rx.clock.start()
        player = subprocess.Popen(["paplay", f"--device={pulse_sink}", str(wav)])
        desk = threading.Thread(target=operator, daemon=True)
        desk.start()
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "livedance", "-v", "live", "--input", "pulse",
                 "--headless", "--record", str(out), "--duration", "8",
                 "--osc-port", str(osc_port), "--osc-out", f"127.0.0.1:{rx.port}",
                 "--size", "128"],
                capture_output=True, text=True, timeout=120,
            )  # fmt: skip
        finally:
            player.wait(timeout=30)
            desk.join(timeout=10)
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert "tempo 200.0 bpm is outside" in proc.stderr, proc.stderr[-3000:]
    assert "tempo hold released" in proc.stderr, proc.stderr[-3000:]
    assert proc.returncode == 0, proc.stderr
    assert out.exists() and out.stat().st_size > 1000
    # The input is the recording's sound: as long as the 8 s of video, and the clicks are in it.
    durations_s = stream_durations_s(out)
    print(f"recording durations s: {durations_s}; {proc.stdout.strip().splitlines()[-1]}")
    assert abs(durations_s["video"] - 8.0) < 0.1, durations_s
    assert abs(durations_s["audio"] - durations_s["video"]) < 0.2, durations_s
    decoded = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(out), "-map", "0:a", "-ac", "1", "-f", "f32le", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    assert np.abs(np.frombuffer(decoded, np.float32)).max() > 0.2, "the recording is silent"
    m = re.search(
        r"live: (\d+) frames, (\d+) beats heard, (\d+) moves.*?(\d+) frames not shown", proc.stdout
    )
    assert m, proc.stdout
    # Every slot of the 8 s is shown or counted late. How many are late depends on the
    # machine's speed and load: benchmarks/bench_live.py measures that, not this test.
    assert int(m[1]) + int(m[4]) == 240 and int(m[1]) > 0, proc.stdout
    assert int(m[2]) >= 8 and int(m[3]) >= 8
    # The frame of each beat is shown: a renderer too slow for every slot skips others first
    # (test_neural checks that exactly). The first move or two may start on a beat that was
    # already past when the clock locked.
    beats_shown = re.search(r"(\d+) of (\d+) beats shown on their frame", proc.stdout)
    assert beats_shown and int(beats_shown[2]) >= 8, proc.stdout
    assert int(beats_shown[1]) >= int(beats_shown[2]) - 2, proc.stdout
    # -v logs each minute's figures (here the show's only, shorter one): the soak's drift record
    minute = re.search(r"minute 1: (\d+) frames shown, (\d+) skipped, (\d+) late", proc.stderr)
    assert minute and int(minute[1]) == int(m[1]), proc.stderr
    assert int(minute[1]) + int(minute[3]) <= 240
    # and at the end, how late the sound server delivered input, and what the OSC output did
    assert re.search(r"audio input: \d+ blocks more than 20 ms late", proc.stderr), proc.stderr
    assert re.search(r"OSC out: \d+ sent, \d+ beats dropped as more than", proc.stderr)
    beats = [t for t, _ in rx.messages("/livedance/beat")]
    assert len(beats) >= 8
    # after the release the clock follows the clicks again, and says so in the bpm it sends
    assert all(abs(bpm - BPM) < 2.0 for _, (_, bpm, _) in rx.messages("/livedance/beat")[-4:])
    spacing_s = np.diff(beats)[-6:]
    assert np.allclose(spacing_s, 60 / BPM, atol=0.03), spacing_s


def test_live_with_a_missing_input_device_is_one_line_and_non_zero(tmp_path: Path) -> None:
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "livedance", "live", "--input", "no such input 42", "--headless",
         "--duration", "1", "--no-osc"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode != 0
    assert proc.stderr.strip().count("\n") == 0 and "no audio input device" in proc.stderr


@pytest.mark.slow
def test_live_keeps_running_and_reconnects_when_the_audio_server_goes_away(
    pulse_sink: str, tmp_path: Path
) -> None:
    """The input disappears mid-show (the PulseAudio daemon is killed) and comes back: the show
    keeps its frame rate, says so in the log, reopens the input and hears beats again; the
    recording's sound keeps the outage as silence, so it stays with the picture."""
    import sys

    from tests.conftest import start_pulse_null_sink

    wav = tmp_path / "click.wav"
    _click_track(wav, 8.0)
    proc = subprocess.Popen(
        [sys.executable, "-m", "livedance", "-v", "live", "--input", "pulse", "--headless",
         "--duration", "16", "--no-osc", "--no-repeats", "--size", "96",
         "--record", str(tmp_path / "outage.mp4")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        player = subprocess.Popen(["paplay", f"--device={pulse_sink}", str(wav)])
        time.sleep(5.0)
        subprocess.run(["pulseaudio", "--kill"], check=False)  # the device goes away
        player.wait(timeout=10)
        time.sleep(2.0)
        assert start_pulse_null_sink(pulse_sink) is None  # ... and comes back
        player = subprocess.Popen(["paplay", f"--device={pulse_sink}", str(wav)])
        out, err = proc.communicate(timeout=90)
        player.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err[-2000:]
    assert "audio input lost" in err, err[-2000:]
    assert err.count("listening on pulse") >= 2, "the input was reopened"
    m = re.search(r"live: (\d+) frames, (\d+) beats heard.*?(\d+) frames not shown", out)
    assert m, out
    assert int(m[1]) + int(m[3]) == 16 * 30, "the show ran its whole length"
    # the tracker locks again after the outage (before it, a slow-starting sound server may
    # leave too little of the first take to lock on)
    assert int(m[2]) >= 4, "beats were heard after the outage"
    durations_s = stream_durations_s(tmp_path / "outage.mp4")
    assert abs(durations_s["audio"] - durations_s["video"]) < 0.3, durations_s
