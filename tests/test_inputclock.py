"""The live master clock keeps time when the sound card's blocks arrive late or in bursts.

A fake wall clock drives `InputClock` so each case is exact (a real sound card's burst cannot be
made to order); the line-in tests run it on a real PulseAudio input.
"""

from __future__ import annotations

import itertools
import time

import pytest

from livedance.audio.inputclock import InputClock

SR = 48000
BLOCK = 480  # 10 ms


class Wall:
    def __init__(self) -> None:
        self.t_s = 100.0  # the computer's clock has its own origin

    def __call__(self) -> float:
        return self.t_s


def steady(clock: InputClock, wall: Wall, samples: int, blocks: int, rate: float = 1.0) -> int:
    """Blocks on time: one every BLOCK samples of audio (``rate``: audio seconds per wall second)."""
    for _ in range(blocks):
        wall.t_s += BLOCK / SR / rate
        samples += BLOCK
        clock.block(samples)
    return samples


def test_between_blocks_the_clock_moves_with_the_wall_not_in_steps() -> None:
    wall = Wall()
    clock = InputClock(SR, wall=wall)
    samples = steady(clock, wall, 0, 100)
    captured_s = samples / SR
    assert clock.now() == pytest.approx(captured_s, abs=1e-6)
    wall.t_s += 0.004  # 4 ms after the last block: the captured-sample clock would still say 1.0
    assert clock.now() == pytest.approx(captured_s + 0.004, abs=1e-6)


def test_a_stalled_callback_does_not_stall_or_jump_the_clock() -> None:
    wall = Wall()
    clock = InputClock(SR, wall=wall)
    samples = steady(clock, wall, 0, 100)
    start_wall, start_s = wall.t_s, clock.now()
    readings = []
    for _ in range(15):  # the callback thread is starved for 150 ms
        wall.t_s += 0.01
        readings.append(clock.now())
    for _ in range(15):  # then the 15 blocks held back arrive at once
        samples += BLOCK
        clock.block(samples)
        readings.append(clock.now())
    samples = steady(clock, wall, samples, 1)
    readings.append(clock.now())
    # the clock kept running at wall speed through the stall and did not jump at the burst
    assert readings[14] == pytest.approx(start_s + 0.15, abs=1e-6)
    steps = [b - a for a, b in itertools.pairwise(readings)]
    assert min(steps) >= 0.0
    assert max(steps) <= 0.0101
    assert clock.now() == pytest.approx(start_s + (wall.t_s - start_wall), abs=1e-6)
    # the burst's first block was due 10 ms into the stall, its twelfth 30 ms before its end
    assert clock.max_block_late_s == pytest.approx(0.14, abs=1e-3)
    assert 12 <= clock.blocks_late <= 13  # more than 20 ms late (the 13th is 20 ms, on the line)


def test_a_lost_device_stops_the_clock_soon_after_the_last_sample() -> None:
    wall = Wall()
    clock = InputClock(SR, wall=wall, max_lead_s=0.25)
    samples = steady(clock, wall, 0, 100)
    captured_s = samples / SR
    wall.t_s += 5.0  # unplugged: no samples for 5 s
    assert clock.now() == pytest.approx(captured_s + 0.25)
    stopped = clock.now()
    # the device returns; its samples continue the input timeline, 5 s of wall time later
    wall.t_s += BLOCK / SR
    samples += BLOCK
    clock.block(samples)
    assert clock.now() >= stopped  # never backwards
    samples = steady(clock, wall, samples, 100)
    assert clock.now() == pytest.approx(samples / SR, abs=1e-6)  # follows the new blocks


@pytest.mark.parametrize("ppm", [-300.0, 0.0, 300.0])
def test_a_sound_card_clock_a_little_off_the_computers_is_followed(ppm: float) -> None:
    wall = Wall()
    clock = InputClock(SR, wall=wall)
    rate = 1.0 + ppm * 1e-6
    samples = 0
    worst_s = 0.0
    for i in range(6000):  # a minute, with every fourth block 8 ms late (scheduling jitter)
        wall.t_s += BLOCK / SR / rate
        late_s = 0.008 if i % 4 == 3 else 0.0
        wall.t_s += late_s
        samples += BLOCK
        clock.block(samples)
        worst_s = max(worst_s, abs(clock.now() - samples / SR - late_s))
        wall.t_s -= late_s
    assert worst_s < 0.001


class CapturedSamples:
    """The clock `live` had before `InputClock`: the time of the newest captured sample."""

    def __init__(self) -> None:
        self.samples = 0

    def block(self, captured_samples: int) -> None:
        self.samples = captured_samples

    def now(self) -> float:
        return self.samples / SR


@pytest.mark.parametrize("clock_kind", ["input clock", "captured samples"])
def test_an_osc_beat_due_while_the_audio_callback_is_held_up_goes_out_on_time(
    clock_kind: str,
) -> None:
    """Real time, real UDP: input blocks every 10 ms, then none for 300 ms and a burst (as the
    sound server delivered them in the soak). A beat due 50 ms into that stall is sent on time by
    the input clock; the captured-sample clock stands still and then jumps 300 ms, so the OSC
    scheduler finds the beat 250 ms late and drops it (a late flash is worse than none)."""
    from livedance.clock import MonotonicClock
    from livedance.control.osc_out import OscOut
    from tests.test_osc import Receiver

    clock = InputClock(SR) if clock_kind == "input clock" else CapturedSamples()
    samples = 0
    clock.block(samples)
    with Receiver(MonotonicClock()) as rx:
        rx.clock.start()
        out = OscOut("127.0.0.1", rx.port, clock=clock)
        try:
            start = time.perf_counter()
            stall_at_s, stall_s = 0.5, 0.3
            due_s = stall_at_s + 0.05
            out.beat(0, 120.0, 1.0, at_s=due_s)
            while (t_s := time.perf_counter() - start) < 1.2:
                if not stall_at_s <= t_s < stall_at_s + stall_s:  # then the held-back blocks
                    while samples < int(t_s * SR) - BLOCK:
                        samples += BLOCK
                        clock.block(samples)
                time.sleep(0.002)
        finally:
            out.close()
    beats = rx.messages("/livedance/beat")
    if clock_kind == "captured samples":
        assert beats == [] and out.stats.late_dropped == 1
        return
    assert len(beats) == 1 and out.stats.late_dropped == 0
    assert abs(beats[0][0] - due_s) < 0.05  # on the receiver's clock, started with the blocks


def test_samples_lost_to_an_overflow_are_caught_up_within_two_windows() -> None:
    wall = Wall()
    clock = InputClock(SR, wall=wall)
    samples = steady(clock, wall, 0, 100)
    wall.t_s += 0.1  # PortAudio dropped 100 ms of input: the timeline is 100 ms short from here
    readings = [clock.now()]
    for _ in range(250):
        samples = steady(clock, wall, samples, 1)
        readings.append(clock.now())
    assert min(b - a for a, b in itertools.pairwise(readings)) >= 0.0  # held, never backwards
    assert clock.now() == pytest.approx(samples / SR, abs=1e-6)
