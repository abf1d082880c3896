"""The command-line options `play`, `live` and `render` share: renderer, show, tempo, control.

The options of the renderer (``--model``, ``--stick``, ...), of the show (``--fps``, ``--size``,
``--record``, ...), of the tempo range (``--tempo``, ``--min-bpm``, ``--max-bpm``) and of OSC.
`livedance.cli.showsetup` turns what they say into a renderer, a song plan, an operator and the
outputs of the show.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from livedance.audio.activation import ACTIVATION_MODES
from livedance.audio.temporange import PRESETS, TempoRange, tempo_range
from livedance.cli.args import float_above, float_in, int_in
from livedance.control.options import offset_ms
from livedance.errors import LivedanceError

DEFAULT_DEADBAND_PX = 1.0


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
        choices=ACTIVATION_MODES,
        default="auto",
        help="the live tracker's onset signal: the learned beat network (models/beatnet.onnx), "
        "the handcrafted spectral flux, or auto (learned when the model is there; default)",
    )


def tempo_from_args(args: argparse.Namespace) -> TempoRange:
    """The tempo range the options ask for (one line, exit 2, when they make none)."""
    try:
        return tempo_range(args.tempo, min_bpm=args.min_bpm, max_bpm=args.max_bpm)
    except ValueError as exc:
        raise LivedanceError(
            f"--min-bpm/--max-bpm: {exc}".replace("tempo range must satisfy", "need"), exit_code=2
        ) from None
