"""What `play`, `live` and `render` share on the command line: options, and setting a show up.

The options of the renderer (``--model``, ``--stick``, ...), of the show (``--fps``, ``--size``,
``--record``, ...), of the tempo range (``--tempo``, ``--min-bpm``, ``--max-bpm``) and of OSC;
and from them, the renderer, the song plan (the one place the live runtime reaches into the
offline analysis), the operator and the outputs handed to `livedance.show.loop.run_show`.
"""

from __future__ import annotations

import argparse
import logging
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

from livedance.audio.io import Audio
from livedance.audio.temporange import PRESETS, TempoRange, tempo_range
from livedance.cli.args import float_above, float_in, int_in
from livedance.clock import Clock
from livedance.control.options import offset_ms
from livedance.errors import LivedanceError
from livedance.songplan import SongPlan

log = logging.getLogger(__name__)

DEFAULT_DEADBAND_PX = 1.0

TIER_TIMING_S = 1.0
"""How long ``--quality auto`` times the renderer at the start of a show."""

TIER_BUDGET_SHARE = 0.8
"""``--quality auto`` warps when the renderer's p90 frame time is over this share of a frame."""


# --------------------------------------------------------------------------------- options
def add_renderer_options(p: argparse.ArgumentParser) -> None:
    """--model, --dancer, --stick, --device, --blend, --deadband, --size."""
    p.add_argument(
        "--model",
        type=Path,
        metavar="PATH.onnx",
        help="generator exported by `livedance export` (default: models/default.onnx when "
        "present, else stick figures)",
    )
    p.add_argument(
        "--dancer",
        metavar="NAME",
        help="a dancer made by `livedance dancer ... --name NAME` (`livedance dancer --list`"
        " shows them)",
    )
    p.add_argument(
        "--stick", action="store_true", help="draw stick figures even when a model is available"
    )
    p.add_argument(
        "--device",
        choices=("auto", "cpu", "cuda", "tensorrt"),
        default="auto",
        help="where the generator runs (default auto: TensorRT, then CUDA, then CPU, whichever "
        "this machine can really use)",
    )
    p.add_argument(
        "--blend",
        type=float_in(0.0, 0.9, low_open=False),
        default=0.0,
        metavar="W",
        help="temporal smoothing of generator frames: each frame keeps weight W (0..0.9) of the "
        "previous one; hides flicker, smears fast moves (default 0: off)",
    )
    p.add_argument(
        "--deadband",
        type=float_in(0.0, 1000.0, low_open=False),
        default=DEFAULT_DEADBAND_PX,
        metavar="PX",
        help="hold keypoints that moved less than PX pixels, so a held pose does not flicker "
        f"(default {DEFAULT_DEADBAND_PX:g}; 0 turns it off)",
    )
    p.add_argument(
        "--size",
        type=int_in(32, 4096),
        default=None,
        metavar="N",
        help="frame size in pixels, square (default 256, or the model's own size; a model's frames "
        "are scaled to it)",
    )


def add_show_options(p: argparse.ArgumentParser, *, window: bool = True) -> None:
    """--fps, --duration, --seed, and (``window``) --fullscreen, --headless, --no-hud, --record."""
    p.add_argument(
        "--fps", type=float_in(0.0, 240.0), default=30.0, help="frames per second (default 30)"
    )
    p.add_argument("--duration", type=float_above(0), metavar="S", help="stop after S seconds")
    p.add_argument(
        "--seed", type=int, default=0, help="seed of the choreography's random choices (default 0)"
    )
    if not window:
        return
    p.add_argument("--fullscreen", action="store_true", help="start fullscreen (f toggles)")
    p.add_argument(
        "--screen",
        type=int_in(0, 15),
        default=None,
        metavar="N",
        help="fullscreen on monitor N (0: the first; a projector is usually 1), the picture "
        "letterboxed to its shape",
    )
    p.add_argument(
        "--headless",
        action="store_true",
        help="no window (and for `play` no sound): render every frame (use with --record)",
    )
    p.add_argument("--no-hud", action="store_true", help="start with the HUD hidden (h toggles)")
    p.add_argument(
        "--quality",
        choices=("auto", "best", "warp"),
        default="auto",
        help="auto (default): a slot the renderer does not make shows the latest generated "
        "frame warped to its pose, and the renderer is timed on this machine for about a second "
        "at start (the log and HUD say whether it keeps up); best: only generated frames (a "
        "slow generator's missed slots hold the last frame); warp: as auto, without the timing",
    )
    p.add_argument(
        "--output",
        action="append",
        default=None,
        metavar="KIND:TARGET",
        help="also send the frames (without HUD) to other software; repeatable: "
        "shm:NAME (shared-memory ring), pipe:PATH (raw frames into a named pipe), "
        "v4l2:/dev/videoN (virtual camera); options ,alpha=matte|key|none ,key=RRGGBB "
        ",header=1 ,entries=N (see README: Video out)",
    )
    p.add_argument(
        "--av-offset",
        type=offset_ms,
        default=0.0,
        metavar="MS",
        help="shift the picture against the sound by MS milliseconds: negative shows each move "
        "earlier, to make up for a projector's delay (e.g. -80); OSC /livedance/offset trims "
        "it during the show (default 0)",
    )


def add_control_options(p: argparse.ArgumentParser) -> None:
    """OSC, MIDI, Ableton Link and ``--setup``: how a running show is steered (play and live)."""
    from livedance.cli.setupfile import add_setup_option
    from livedance.control.options import (
        add_link_arguments,
        add_midi_arguments,
        add_osc_arguments,
    )

    add_osc_arguments(p.add_argument_group("OSC control (see README: OSC addresses)"))
    add_midi_arguments(p.add_argument_group("MIDI (see README: MIDI)"))
    add_link_arguments(p.add_argument_group("Ableton Link"))
    add_setup_option(p)


def add_tempo_options(p: argparse.ArgumentParser) -> None:
    """--tempo PRESET, --min-bpm, --max-bpm: the tempo range the live tracker follows."""
    p.add_argument(
        "--tempo",
        choices=tuple(PRESETS),
        default=None,
        metavar="PRESET",
        help="tempo range by genre: "
        + ", ".join(f"{k} {v.describe()}" for k, v in PRESETS.items()),
    )
    p.add_argument(
        "--min-bpm", type=float_above(0), default=None, help="slowest tempo (overrides --tempo)"
    )
    p.add_argument(
        "--max-bpm", type=float_above(0), default=None, help="fastest tempo (overrides --tempo)"
    )


def add_activation_option(p: argparse.ArgumentParser) -> None:
    """--beat-activation: what the live tracker folds (`livedance.audio.activation`)."""
    p.add_argument(
        "--beat-activation",
        choices=("auto", "learned", "handcrafted"),
        default="handcrafted",
        help="the live tracker's onset signal: the learned beat network (models/beatnet.onnx), "
        "the handcrafted spectral flux (default), or auto (learned when the model is there)",
    )


def tempo_from_args(args: argparse.Namespace) -> TempoRange:
    """The tempo range the options ask for (one line, exit 2, when they make none)."""
    try:
        return tempo_range(args.tempo, min_bpm=args.min_bpm, max_bpm=args.max_bpm)
    except ValueError as exc:
        raise LivedanceError(
            f"--min-bpm/--max-bpm: {exc}".replace("tempo range must satisfy", "need"), exit_code=2
        ) from None


# --------------------------------------------------------------------------------- renderer
def renderer_from_args(args: argparse.Namespace) -> tuple[Any, Any]:
    """The renderer and the Body the choreography must use, from the renderer options."""
    from livedance.neural.generator import choose_renderer

    model = args.model
    if getattr(args, "dancer", None) is not None:
        from livedance.dancers import dancer_model

        if model is not None or args.stick:
            raise LivedanceError("--dancer, --model and --stick exclude each other: choose one")
        model = dancer_model(args.dancer)
    return choose_renderer(
        model,
        stick=args.stick,
        size_px=args.size,
        device=args.device,
        temporal_blend=args.blend,
        deadband_px=args.deadband,
    )


def render_tier(args: argparse.Namespace, renderer: Any, body: Any) -> tuple[bool, str]:
    """Whether the show warps frames between generated ones (``--quality``), and why.

    ``auto`` warps: a slot the renderer does not make shows the latest generated frame warped to
    its pose (a renderer that keeps up misses none, and a machine that slows down mid-show is
    covered). It also times the renderer on this machine for about a second (after its warm-up)
    and says whether it keeps up: its p90 frame time against `TIER_BUDGET_SHARE` of a frame.
    ``best`` never warps (missed slots hold the last frame). A headless render makes every slot.
    """
    if getattr(args, "headless", False):
        return False, "headless: every slot is rendered"
    if args.quality != "auto":
        return args.quality == "warp", f"--quality {args.quality}"
    import time

    from livedance.choreo import idle_pose
    from livedance.measure.machine import cpu_flags

    times_ms: list[float] = []
    start = time.perf_counter()
    while time.perf_counter() - start < TIER_TIMING_S and len(times_ms) < 60:
        pose = idle_pose(len(times_ms) * 0.1, body)[None]
        t0 = time.perf_counter()
        renderer.render(pose)
        times_ms.append((time.perf_counter() - t0) * 1e3)
    p90 = float(sorted(times_ms)[int(0.9 * (len(times_ms) - 1))])
    budget_ms = 1e3 / args.fps
    slow = p90 > TIER_BUDGET_SHARE * budget_ms
    why = (
        f"{renderer.name}: p90 {p90:.1f} ms a frame over {len(times_ms)} frames against "
        f"{budget_ms:.1f} ms at {args.fps:g} fps (cpu {cpu_flags()}): "
        + (
            "too slow for every slot: the slots it misses are warped"
            if slow
            else "keeps up; a slot it misses is warped"
        )
    )
    return True, why


def switchable(args: argparse.Namespace, renderer: Any, choreographer: Any) -> Any:
    """``renderer`` made replaceable by OSC ``/livedance/model`` (onto the choreographer's Body)."""
    from livedance.neural.switch import SwitchableRenderer

    def use_body(body: Any) -> None:
        choreographer.body = body

    return SwitchableRenderer(
        renderer,
        on_body=use_body,
        device=args.device,
        temporal_blend=args.blend,
        deadband_px=args.deadband,
    )


# --------------------------------------------------------------------------------- songs
def song_plan(audio: Audio, song: str | None, *, tracker: str, use_cache: bool) -> SongPlan | None:
    """The song plan `play` and `render` dance to (None: ``--tracker causal``, or no analysis).

    Analyses the song (cached by content) with `offline.analysis`, imported here so the live
    runtime never needs the offline half.
    """
    if tracker != "plan":
        return None
    try:
        from offline import analysis
    except ImportError as exc:  # analysis not installed: the live tracker still dances
        log.warning("song analysis unavailable (%s); using the causal beat tracker", exc)
        return None
    if song is not None:
        return analysis.analyze_file(song, use_cache=use_cache)
    import hashlib

    digest = hashlib.sha256(audio.samples.tobytes()).hexdigest()
    return analysis.analyze_audio(audio, sha256=digest)


# --------------------------------------------------------------------------------- the show
def open_operator(
    args: argparse.Namespace, timeline: Any, clock: Clock, renderer: Any
) -> tuple[Any, list[Any]]:
    """The operator (OSC control in) and the OSC beat output, from the ``--osc-*`` options.

    Returns:
        The `Operator`, and ``[BeatOutput]`` when ``--osc-out`` asks for one (else ``[]``).
    """
    from livedance.control.commands import MAX_OFFSET_MS
    from livedance.control.options import open_osc
    from livedance.show.operator import Operator
    from livedance.show.outputs import ANNOUNCE_LOOKAHEAD_S, BeatOutput

    names = [a.name for a in timeline.choreographer.actions]
    control, out = open_osc(args, clock=clock, action_names=names)
    if control is not None:
        print(f"OSC control on {args.osc_host}:{control.port}", flush=True)
    inputs: list[Any] = []
    if getattr(args, "link_lead", False) and not args.link:
        raise LivedanceError("--link-lead leads the session of --link: give both", exit_code=2)
    try:
        midi = open_midi(args, clock, names)
        if midi is not None:
            inputs.append(midi)
        if getattr(args, "link", False):
            from livedance.control.link import LinkSession

            inputs.append(
                LinkSession(clock, quantum=args.link_quantum, start_stop=args.link_start_stop)
            )
            print("Ableton Link: joined" + (" (leading)" if args.link_lead else ""), flush=True)
    except BaseException:
        for source in inputs:
            source.close()
        if control is not None:
            control.close()
        if out is not None:
            out.close()
        raise
    switcher = getattr(renderer, "switch", None)
    operator = Operator(
        timeline,
        control=control,
        inputs=inputs,
        hud=not args.no_hud,
        model_switcher=switcher,
        picture_offset_ms=getattr(args, "av_offset", 0.0),
        beat_offset_ms=args.osc_offset,
    )
    if switcher is not None:  # the outcome of a switch replaces "loading model ..." on the HUD
        renderer.notify = operator.tell
    outputs: list[Any] = []
    if getattr(args, "link", False) and args.link_lead:
        from livedance.show.linklead import LinkLead

        outputs.append(LinkLead(inputs[-1], timeline))
    if getattr(args, "midi_clock_out", None):
        from livedance.control.midi import open_port
        from livedance.show.midiclock import MidiClockOut

        try:
            outputs.append(MidiClockOut(open_port(args.midi_clock_out, output=True), timeline,
                                        clock))  # fmt: skip
        except BaseException:
            operator.close()
            if out is not None:
                out.close()
            raise
    if out is None:
        return operator, outputs
    beats = BeatOutput(
        out,
        timeline,
        lookahead_s=ANNOUNCE_LOOKAHEAD_S + MAX_OFFSET_MS / 1e3,
        offset_s=lambda: operator.beat_offset_s,
    )
    return operator, [beats, *outputs]


def open_midi(args: argparse.Namespace, clock: Clock, action_names: list[str]) -> Any:
    """The MIDI input the ``--midi-*`` options ask for (None without ``--midi-in``)."""
    midi_in, midi_map = getattr(args, "midi_in", None), getattr(args, "midi_map", None)
    if getattr(args, "midi_clock", False) and not midi_in:
        raise LivedanceError("--midi-clock follows the clock of --midi-in: give one", exit_code=2)
    if midi_map is not None and not midi_in:
        raise LivedanceError("--midi-map maps the messages of --midi-in: give one", exit_code=2)
    if not midi_in:
        return None
    from livedance.control.midi import MidiControl, open_port
    from livedance.control.midimap import load_midi_map

    mapping = load_midi_map(midi_map) if midi_map is not None else None
    port = open_port(midi_in, output=False)
    print(f"MIDI in: {midi_in}", flush=True)
    return MidiControl(
        port, clock, midi_map=mapping, follow_clock=args.midi_clock, action_names=action_names
    )


def open_show(
    args: argparse.Namespace,
    timeline: Any,
    clock: Clock,
    renderer: Any,
    *,
    title: str,
    sound: Audio | None = None,
    input_tap: Callable[[], Any] | None = None,
) -> tuple[Any, list[Any]]:
    """The operator and every output the options ask for, opened before the show starts.

    Args:
        args: the show's options (``--osc-*``, ``--record``, ``--output``, ``--headless``,
            ``--fullscreen``).
        timeline, clock, renderer: the show's.
        title: the window's title.
        sound: a song recorded as the sound of ``--record`` (play).
        input_tap: makes the `InputAudioTap` recorded as the sound (live).

    Returns:
        The `Operator`, and the outputs (OSC beats, recorder, video outs, window). If one cannot
        be opened,
        those opened already are closed and the error is raised.
    """
    from livedance.show.outputs import RecorderOutput
    from livedance.show.recorder import VideoRecorder

    operator, outputs = open_operator(args, timeline, clock, renderer)
    try:
        if args.record:
            recorder = VideoRecorder(
                args.record, args.fps, renderer.width_px, renderer.height_px, sound
            )
            tap = input_tap() if input_tap is not None else None
            outputs.append(RecorderOutput(recorder, tap=tap, fps=args.fps))
        for spec in getattr(args, "output", None) or []:
            from livedance.show.videoout import open_video_output

            def drawn_on_black() -> bool:  # stick figures: the frame is its own matte
                return bool(renderer.name == "stick")

            outputs.append(
                open_video_output(
                    spec, renderer.width_px, renderer.height_px, args.fps, drawn_on_black
                )
            )
        window = open_window(args, title, renderer)
        if window is not None:
            outputs.append(window)
    except BaseException:
        for output in outputs:
            output.abort()
        operator.close()
        raise
    return operator, outputs


def open_window(args: argparse.Namespace, title: str, renderer: Any) -> Any:
    """The stage window output (None with ``--headless``)."""
    if args.headless:
        return None
    from livedance.show.outputs import WindowOutput
    from livedance.show.window import Window

    screen = getattr(args, "screen", None)
    monitor = None
    if screen is not None:
        from livedance.show.screens import monitor as find_monitor

        monitor = find_monitor(screen)
    window = Window(title, renderer.width_px, renderer.height_px, args.fullscreen, monitor)
    return WindowOutput(window)


def stop_on_signals() -> Callable[[], None]:
    """Make SIGTERM and SIGHUP end the show as Ctrl-C does (files closed, recording playable).

    The first signal raises KeyboardInterrupt in the main thread; later ones are ignored while the
    show closes its outputs. Returns a function that puts the old handlers back.
    """
    received = False

    def handler(signum: int, frame: Any) -> None:
        nonlocal received
        if received:
            log.warning("%s: still closing the show", signal.Signals(signum).name)
            return
        received = True
        log.info("%s: stopping the show", signal.Signals(signum).name)
        raise KeyboardInterrupt

    old = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGHUP)}

    def restore() -> None:
        for s, h in old.items():
            signal.signal(s, h)

    return restore
