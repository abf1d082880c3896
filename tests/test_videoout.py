"""Video out to other software, end to end: the real show loop writes frames into a shared-memory
ring and a named pipe, and a separate receiver process (livedance's own receiver, and ffmpeg, as a
VJ tool would) reads them; the pixels and the alpha are compared with what the show made.

Not run here: a v4l2loopback virtual camera (this machine has no /dev/video* and no module to
load); only its refusal, one line, is tested."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import run_cli

from livedance.choreo import choreograph
from livedance.clock import FrameClock, MonotonicClock
from livedance.errors import LivedanceError
from livedance.render import StickRenderer
from livedance.show import matte
from livedance.show.hud import HudInfo
from livedance.show.loop import ShowOptions, run_show
from livedance.show.operator import Operator
from livedance.show.outputs import KeyEvent, Output, ShowFrame
from livedance.show.timeline import PlannedTimeline
from livedance.show.videoout import Background, FrameConverter, open_video_output, parse_output
from livedance.songplan import BeatInterval

REPO = Path(__file__).resolve().parents[1]


class Collect(Output):
    def __init__(self) -> None:
        self.frames: dict[int, ShowFrame] = {}

    def frame(self, frame: ShowFrame, hud: HudInfo | None) -> KeyEvent | None:
        self.frames[frame.slot] = frame
        return None


def _timeline(seconds: float = 4.0) -> PlannedTimeline:
    n = int(seconds / 0.5)
    intervals = [BeatInterval(0.5 * i, 0.5 * (i + 1), -15.0, 1500.0) for i in range(n)]
    return PlannedTimeline(choreograph(intervals, seed=2))


def _receiver(source: str, out: Path, *extra: str) -> subprocess.Popen[bytes]:
    """The receiver process; for a pipe, returned once it has the pipe open, so a show on a
    loaded machine cannot end before its reader starts."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    receiver = subprocess.Popen(
        [sys.executable, "-m", "livedance.show.receive", source, "--save", str(out),
         "--timeout", "60", *extra],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    kind, _, target = source.partition(":")
    deadline = time.monotonic() + 60
    while kind == "pipe" and time.monotonic() < deadline and receiver.poll() is None:
        fds = Path(f"/proc/{receiver.pid}/fd")
        with contextlib.suppress(OSError):
            if any(os.path.realpath(fd) == os.path.realpath(target) for fd in fds.iterdir()):
                break
        time.sleep(0.05)
    return receiver


def _show(outputs: list[Output], seconds: float, *, realtime: bool, operator=None):  # type: ignore[no-untyped-def]
    timeline = _timeline()
    operator = operator or Operator(timeline)
    clock = MonotonicClock() if realtime else FrameClock(30)
    return run_show(
        timeline, clock, StickRenderer(64), outputs, operator,
        ShowOptions(fps=30, duration_s=seconds), start=getattr(clock, "start", None),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("shm", "expected KIND:TARGET"),
        ("ndi:livedance", "unknown kind 'ndi'"),
        ("shm:a/b", "has no '/'"),
        ("pipe:/tmp/x,alpha=green", "alpha must be matte, key or none"),
        ("pipe:/tmp/x,key=green", "key must be a colour RRGGBB"),
        ("pipe:/tmp/x,colour=1", "unknown option 'colour=1'"),
        ("shm:x,entries=1", "entries must be 2..64"),
        ("v4l2:/dev/video9,alpha=matte", "has no alpha"),
    ],
)
def test_bad_output_specs_are_one_line(text: str, why: str) -> None:
    with pytest.raises(LivedanceError) as err:
        parse_output(text)
    assert why in str(err.value) and "\n" not in str(err.value)
    assert err.value.exit_code == 2


def test_output_specs_parse() -> None:
    spec = parse_output("pipe:/tmp/ld.rgba,alpha=key,key=FF00ff,header=1")
    assert (spec.kind, spec.target, spec.alpha, spec.key_rgb, spec.header, spec.channels) == (
        "pipe", "/tmp/ld.rgba", "key", (255, 0, 255), True, 3,
    )  # fmt: skip
    assert parse_output("shm:livedance").alpha == "matte" and parse_output("shm:x").channels == 4
    assert parse_output("v4l2:/dev/video10").alpha == "none"


def test_a_shared_memory_ring_reaches_a_receiver_process_with_the_frames_and_their_matte(
    tmp_path: Path,
) -> None:
    name = f"ld-test-{uuid.uuid4().hex[:8]}"
    out = open_video_output(f"shm:{name}", 64, 64, 30, lambda: Background(drawn_on_black=True))
    collect = Collect()
    saved = tmp_path / "got.npz"
    receiver = _receiver(f"shm:{name}", saved)
    _show([out, collect], 3.0, realtime=True)
    _, stderr = receiver.communicate(timeout=60)
    assert receiver.returncode == 0, stderr
    assert not Path("/dev/shm", name).exists(), "the ring is removed when the show ends"
    got = np.load(saved)
    slots = list(got["slots"])
    assert len(slots) >= 2 and slots == sorted(set(slots)), slots
    for slot, pixels in zip(slots, got["frames"], strict=True):
        shown = collect.frames[int(slot)].image
        assert np.array_equal(pixels[..., :3], shown[..., ::-1]), slot  # RGB of the BGR frame
        assert np.array_equal(pixels[..., 3], matte.stick_matte(shown)), slot
    assert got["frames"][..., 3].any() and not got["frames"][..., 3].all()
    assert (got["received_ns"] >= got["written_ns"]).all()


def test_a_named_pipe_feeds_ffmpeg_raw_rgba_and_a_reader_that_leaves_does_not_stop_the_show(
    tmp_path: Path,
) -> None:
    """ffmpeg (the receiver a VJ rig would put in front of a pipe) reads 20 raw RGBA frames and
    exits; the show goes on, dropping frames nobody reads, and closes cleanly."""
    fifo = tmp_path / "dancer.rgba"
    out = open_video_output(f"pipe:{fifo}", 64, 64, 30, lambda: Background(drawn_on_black=True))
    assert fifo.is_fifo()
    collect = Collect()
    raw = tmp_path / "frames.raw"
    ffmpeg = subprocess.Popen(
        ["ffmpeg", "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgba", "-s", "64x64",
         "-i", str(fifo), "-frames:v", "20", "-f", "rawvideo", "-pix_fmt", "rgba", str(raw)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    stats = _show([out, collect], 3.0, realtime=True)
    assert ffmpeg.wait(timeout=60) == 0, ffmpeg.stderr.read() if ffmpeg.stderr else ""
    assert stats.slots == 90 and not stats.stopped_early
    frames = np.fromfile(raw, np.uint8).reshape(-1, 64, 64, 4)
    assert len(frames) == 20
    expected = [
        matte.rgba(f.image, matte.stick_matte(f.image))
        for _, f in sorted(collect.frames.items())
        if f.on_time
    ]
    # each frame ffmpeg got is one the show made, in order (frames nobody read were dropped)
    i = 0
    for frame in frames:
        while i < len(expected) and not np.array_equal(frame, expected[i]):
            i += 1
        assert i < len(expected), "a frame the show never made, or out of order"
        i += 1
    assert out.sent >= 20 and out.dropped > 0  # type: ignore[attr-defined]


def test_a_pipe_with_headers_reaches_livedances_receiver_by_slot(tmp_path: Path) -> None:
    fifo = tmp_path / "dancer.rgb"
    out = open_video_output(f"pipe:{fifo},alpha=key,key=00ff00,header=1", 64, 64, 30, Background)
    collect = Collect()
    saved = tmp_path / "got.npz"
    receiver = _receiver(f"pipe:{fifo}", saved)
    _show([out, collect], 2.0, realtime=True)
    receiver.communicate(timeout=60)
    assert receiver.returncode == 0
    got = np.load(saved)
    assert len(got["slots"]) >= 2
    plate = matte.PlateMatte()  # the output's matte learns the room over the frames it sends
    alphas = {int(s): plate(collect.frames[int(s)].image, collect.frames[int(s)].pose)
              for s in got["slots"]}  # fmt: skip
    for slot, pixels in zip(got["slots"], got["frames"], strict=True):
        shown, alpha = collect.frames[int(slot)], alphas[int(slot)]
        assert pixels.shape == (64, 64, 3)
        assert np.array_equal(pixels, matte.keyed(shown.image, alpha, (0, 255, 0)))
        assert (pixels[alpha == 0] == (0, 255, 0)).all(), "the key colour around the dancer"


def test_a_receiver_whose_show_never_writes_stops_at_its_timeout(tmp_path: Path) -> None:
    """A VJ's check at the venue: with no show on the pipe, the receiver gives up after
    ``--timeout`` (it used to wait for ever in the pipe's open)."""
    fifo = tmp_path / "nobody.rgba"
    os.mkfifo(fifo)
    result = subprocess.run(
        [sys.executable, "-m", "livedance.show.receive", f"pipe:{fifo}", "--timeout", "1"],
        env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0 and result.stdout.strip() == "0 frames", result.stderr


def test_the_pipe_makes_its_matte_on_its_own_thread_not_the_shows(tmp_path: Path) -> None:
    # learning the room plate costs milliseconds a frame: on the show thread it cost the neural
    # show 6 % of its frames (benchmarks/results/stage.md)
    fifo = tmp_path / "dancer.rgba"
    out = open_video_output(f"pipe:{fifo},header=1", 64, 64, 30, Background)
    threads: set[str] = set()
    convert = out.convert  # type: ignore[attr-defined]

    def spy(frame: ShowFrame):  # type: ignore[no-untyped-def]
        threads.add(threading.current_thread().name)
        return convert(frame)

    out.convert = spy  # type: ignore[attr-defined]
    receiver = _receiver(f"pipe:{fifo}", tmp_path / "got.npz")
    _show([out], 1.5, realtime=True)
    receiver.communicate(timeout=60)
    assert receiver.returncode == 0
    assert threads == {"livedance-pipe-out"}


def test_the_body_matte_covers_the_dancer_and_nothing_far_from_it() -> None:
    timeline = _timeline()
    pose = timeline.pose_at(1.25)
    alpha = matte.body_matte(pose, 256, 256)
    sticks = StickRenderer(256).render(pose[None])[0].max(axis=2) > 0
    assert (alpha[sticks] > 0).mean() > 0.97, "the figure is inside the matte"
    assert alpha[sticks].mean() > 200
    ys, xs = np.nonzero(sticks)
    far = np.ones_like(sticks)
    far[max(0, ys.min() - 40) : ys.max() + 40, max(0, xs.min() - 40) : xs.max() + 40] = False
    assert not alpha[far].any(), "nothing far from the dancer"
    assert not matte.body_matte(np.zeros((18, 3), np.float32), 64, 64).any(), "no pose: clear"


SHIRT_BGR = (40, 170, 220)


def _person(pose: np.ndarray, size_px: int) -> tuple[np.ndarray, np.ndarray]:
    """A stand-in for a generated person, drawn here and not with the matte's own code: the
    stick figure's coloured limbs drawn a quarter of the torso thick, over a filled shirt (the
    shoulders-to-hips quadrilateral). Returns the BGR drawing on black and the shirt's mask."""
    xy = np.round(pose[:, :2] * size_px).astype(np.int32)
    torso_px = float(np.linalg.norm(xy[1] - (xy[8] + xy[11]) / 2))
    shirt = np.zeros((size_px, size_px), np.uint8)
    cv2.fillConvexPoly(shirt, cv2.convexHull(xy[[2, 5, 11, 8]]), 255)
    drawn = np.zeros((size_px, size_px, 3), np.uint8)
    drawn[shirt > 0] = SHIRT_BGR
    sticks = StickRenderer(size_px).render(pose[None])[0]
    limbs = cv2.dilate(sticks, np.ones((3, 3), np.uint8), iterations=max(1, round(torso_px / 16)))
    drawn = np.where((limbs.max(axis=2) > 0)[..., None] & (shirt == 0)[..., None], limbs, drawn)
    return drawn, shirt > 0


def _room_inside(body: np.ndarray, figure: np.ndarray) -> np.ndarray:
    """The room inside the body matte, more than 3 px from the person (nearer, the matte closes
    gaps narrower than its closing kernel on purpose)."""
    near = cv2.dilate(figure.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
    return (body > 250) & ~near


def test_the_plate_matte_learns_the_room_and_keeps_only_the_dancer() -> None:
    """A generator paints a room around the dancer: a drawn person over a fixed textured room
    stands in for it. Once the room has been seen beside the moving dancer, the matte drops the
    room inside the body matte and keeps the person."""
    rng = np.random.default_rng(0)
    room = cv2.GaussianBlur(rng.integers(40, 200, (256, 256, 3), dtype=np.uint8), (0, 0), 2)
    timeline = _timeline()
    plate = matte.PlateMatte()
    for k in range(111):
        pose = timeline.pose_at(k / 30)
        drawn, _ = _person(pose, 256)
        figure = drawn.max(axis=2) > 0
        frame = np.where(figure[..., None], drawn, room)
        alpha = plate(frame, pose)
    body = matte.body_matte(pose, 256, 256)
    room_inside = _room_inside(body, figure) & (plate.seen > 0)
    assert room_inside.sum() > 100
    assert alpha[room_inside].mean() < 0.25 * 255, "the room inside the body matte is dropped"
    assert (alpha[figure] > 200).mean() > 0.9, "the dancer stays opaque"
    assert not alpha[body == 0].any()


def test_a_known_room_makes_the_first_frame_matte_tight() -> None:
    """A background-plate model's room is known from its first frame (issue 19): the matte drops
    the room inside the body matte at once, where a learnt plate still keeps all of it."""
    rng = np.random.default_rng(1)
    room = cv2.GaussianBlur(rng.integers(40, 200, (256, 256, 3), dtype=np.uint8), (0, 0), 2)
    pose = _timeline().pose_at(0.5)
    drawn, _ = _person(pose, 256)
    figure = drawn.max(axis=2) > 0
    frame = ShowFrame(
        image=np.where(figure[..., None], drawn, room), slot=0, on_time=True, pose=pose
    )
    body = matte.body_matte(pose, 256, 256)
    room_inside = _room_inside(body, figure)
    assert room_inside.sum() > 100
    learnt = FrameConverter(parse_output("shm:x"), Background)(frame)[..., 3]
    assert learnt[room_inside].mean() > 200, "a first frame: nothing learnt yet"
    big_room = cv2.resize(room, (512, 512), interpolation=cv2.INTER_CUBIC)  # a scaled show
    for known in (room, big_room):
        alpha = FrameConverter(parse_output("shm:x"), lambda r=known: Background(room=r))(frame)
        alpha = alpha[..., 3]
        assert alpha[room_inside].mean() < 0.25 * 255, "the known room is dropped at once"
        assert (alpha[figure] > 200).mean() > 0.9, "the dancer stays opaque"
        assert not alpha[body == 0].any()


def test_a_room_that_learnt_the_shirt_leaves_no_hole_in_the_dancer() -> None:
    """A plate model's room can hold its person's shirt where that person always stood (the
    default dancer's does, at the chest and hips): the frame matches the room there, yet the
    dancer must stay opaque, not show the mixer's layer below through the chest."""
    rng = np.random.default_rng(2)
    room = cv2.GaussianBlur(rng.integers(40, 200, (256, 256, 3), dtype=np.uint8), (0, 0), 2)
    pose = _timeline().pose_at(0.5)
    drawn, shirt = _person(pose, 256)
    figure = drawn.max(axis=2) > 0
    image = np.where(figure[..., None], drawn, room)
    learnt_shirt = room.copy()
    learnt_shirt[shirt] = SHIRT_BGR  # the plate holds the shirt wherever it is
    frame = ShowFrame(image=image, slot=0, on_time=True, pose=pose)
    alpha = FrameConverter(parse_output("shm:x"), lambda: Background(room=learnt_shirt))(frame)
    assert (alpha[..., 3][shirt] > 200).mean() > 0.97, "no hole where the room learnt the shirt"
    room_inside = _room_inside(matte.body_matte(pose, 256, 256), figure)
    assert alpha[..., 3][room_inside].mean() < 0.25 * 255, "and the room around it still drops"


def test_blackout_and_freeze_reach_the_matte() -> None:
    """In blackout the matte is clear (the mixer shows what is under the dancer, not a black
    square); in freeze it holds the held frame's pose."""
    from livedance.control.commands import Blackout, Freeze

    timeline = _timeline()
    operator = Operator(timeline)
    convert = FrameConverter(parse_output("shm:x"), Background)

    class Steer(Collect):
        def frame(self, frame: ShowFrame, hud: HudInfo | None) -> KeyEvent | None:
            super().frame(frame, hud)
            if frame.slot == 10:
                operator._apply([Freeze(True)], 0.0)
            if frame.slot == 20:
                operator._apply([Freeze(False), Blackout(True)], 0.0)
            return None

    steer = Steer()
    _show([steer], 1.0, realtime=False, operator=operator)
    frozen = [steer.frames[s] for s in range(11, 20)]
    assert all(np.array_equal(f.pose, steer.frames[10].pose) for f in frozen)
    assert convert(steer.frames[15])[..., 3].any()
    assert steer.frames[25].pose is None and not convert(steer.frames[25])[..., 3].any()


def test_output_errors_on_the_command_line_are_one_line(tmp_path: Path) -> None:
    for spec, why in [
        ("ndi:x", "unknown kind 'ndi'"),
        ("v4l2:/dev/video63", "no such device"),
        (f"pipe:{tmp_path}", "exists and is not a named pipe"),
    ]:
        proc = run_cli("play", "--demo", "--headless", "--stick", "--output", spec, timeout=300)
        assert proc.returncode != 0
        lines = proc.stderr.strip().splitlines()
        assert why in lines[-1] and "Traceback" not in proc.stderr, proc.stderr


def test_warped_frames_carry_their_pose_for_the_matte() -> None:
    """With a renderer slower than the frame rate and warp on, the slots it misses are shown
    warped; each still carries the pose it shows, so a video output can cut it out."""
    import time as _time

    class Slow(StickRenderer):
        def render(self, poses: np.ndarray) -> np.ndarray:
            _time.sleep(0.1)
            return super().render(poses)

    timeline = _timeline()
    out = Collect()
    clock = MonotonicClock()
    stats = run_show(
        timeline, clock, Slow(64), [out], Operator(timeline),
        ShowOptions(fps=30, duration_s=1.5, warp=True), start=clock.start,
    )  # fmt: skip
    assert stats.frames_warped > 0
    assert all(f.pose is not None for f in out.frames.values())
