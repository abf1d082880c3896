"""Train the learned beat activation and export it to ONNX: ``python -m offline.beatnet.train``.

OFFLINE. Renders new songs with the beat-set generator (`offline.beatnet.data`, cached), trains
`offline.beatnet.model.BeatNet` on random crops of them (one torch thread: the machine is
shared), keeps the weights with the lowest loss on held-out songs, and writes the streaming
network to ONNX (``models/beatnet.onnx`` by default) with its recipe in the metadata. Checks that
the ONNX graph fed a few hops at a time gives what the torch network gives on the whole song.

Usage:
    python -m offline.beatnet.train [--songs 176] [--steps 1500] [--out models/beatnet.onnx]
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from livedance.audio.novelty import FLUX_LAG_HOPS, N_BANDS, superflux_rise
from offline.beatnet.data import DEFAULT_DATA_DIR, SEED0, Example, build, load

log = logging.getLogger(__name__)

FRAME_RATE_HZ = 44100 / 256
"""Hops per second of the training features (the live tracker's hop at 44.1 kHz)."""


def targets(example: Example) -> npt.NDArray[np.float32]:
    """``(2, frames)``: beat and downbeat, 1 on the frame, 0.5 one frame either side."""
    n = len(example.features)
    out = np.zeros((2, n), np.float32)
    for row, frames in enumerate((example.beat_frames, example.downbeat_frames)):
        for offset, value in ((-1, 0.5), (1, 0.5), (0, 1.0)):
            f = frames + offset
            f = f[(f >= 0) & (f < n)]
            out[row, f] = np.maximum(out[row, f], value)
    return out


def augment(bands: npt.NDArray[np.float32], rng: np.random.Generator) -> npt.NDArray[np.float32]:
    """Another mix of the same music: the front end's log band energies ``(frames, N_BANDS)``
    with a random gain, spectral tilt and noise floor applied to the energies, and their rise
    recomputed exactly as the front end does (`livedance.audio.novelty`). The first
    ``FLUX_LAG_HOPS`` frames only serve as the rise's reference. Returns ``(frames - lag, 80)``."""
    energy = np.expm1(bands)  # LOG_GAIN * band energy
    k = np.linspace(-0.5, 0.5, bands.shape[1])
    gain = np.exp(rng.uniform(-1.5, 1.5) + rng.uniform(-2.0, 2.0) * k)
    energy = energy * gain
    if rng.random() < 0.3:
        energy = energy + rng.exponential(rng.uniform(0.0, 0.3), size=energy.shape)
    logs = np.log1p(energy).astype(np.float32)
    rise = superflux_rise(logs[FLUX_LAG_HOPS:], logs[:-FLUX_LAG_HOPS])
    return np.concatenate([logs[FLUX_LAG_HOPS:], rise], axis=1)


def sample_batch(
    examples: list[Example],
    labels: list[npt.NDArray[np.float32]],
    rng: np.random.Generator,
    batch: int,
    crop: int,
    augment_share: float = 0.0,
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Random crops of ``crop`` hops (the first crops of a song start at its beginning, so the
    network learns the cold start too); ``augment_share`` of them remixed (`augment`)."""
    xs = np.zeros((batch, examples[0].features.shape[1], crop), np.float32)
    ys = np.zeros((batch, 2, crop), np.float32)
    for b in range(batch):
        i = int(rng.integers(len(examples)))
        n = len(examples[i].features)
        start = 0 if rng.random() < 0.15 else int(rng.integers(0, max(1, n - crop)))
        seg = examples[i].features[start : start + crop]
        if start >= FLUX_LAG_HOPS and rng.random() < augment_share:
            bands = examples[i].features[start - FLUX_LAG_HOPS : start + crop, :N_BANDS]
            seg = augment(bands, rng)
        xs[b, :, : len(seg)] = seg.T
        ys[b, :, : len(seg)] = labels[i][:, start : start + crop]
    return xs, ys


def train(args: argparse.Namespace) -> None:
    import torch
    from tqdm import tqdm

    from offline.beatnet.model import BeatNet, export_onnx

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    paths = build(args.songs, args.data_dir, n_first_set=args.first_set, n_composed=args.composed)
    examples = [load(p) for p in paths]
    held = set(range(0, len(examples), args.val_every))
    train_ex = [e for i, e in enumerate(examples) if i not in held]
    val_ex = [e for i, e in enumerate(examples) if i in held]
    train_y = [targets(e) for e in train_ex]
    val_y = [targets(e) for e in val_ex]
    log.info("%d training songs, %d held out", len(train_ex), len(val_ex))

    net = BeatNet(channels=args.channels)
    feats = np.concatenate([e.features for e in train_ex])
    net.mean.copy_(torch.from_numpy(feats.mean(0)[:, None]))
    net.std.copy_(torch.from_numpy(feats.std(0)[:, None] + 1e-3))
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=args.steps)
    pos_weight = torch.tensor([[4.0], [8.0]])
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    crop = round(args.crop_s * FRAME_RATE_HZ)

    def val_loss() -> float:
        net.eval()
        with torch.no_grad():
            total = sum(
                float(loss_fn(net(torch.from_numpy(e.features.T[None])), torch.from_numpy(y[None])))
                for e, y in zip(val_ex, val_y, strict=True)
            )
        net.train()
        return total / len(val_ex)

    best, best_state, history = float("inf"), None, []
    started = time.perf_counter()
    bar = tqdm(range(args.steps), desc="steps")
    for step in bar:
        x, y = sample_batch(train_ex, train_y, rng, args.batch, crop, args.augment)
        loss = loss_fn(net(torch.from_numpy(x)), torch.from_numpy(y))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        bar.set_postfix(loss=f"{float(loss):.4f}")
        if (step + 1) % args.eval_steps == 0 or step + 1 == args.steps:
            v = val_loss()
            history.append({"step": step + 1, "train": float(loss), "val": v})
            log.info("step %d: train %.4f, held-out %.4f", step + 1, float(loss), v)
            if v < best:
                best, best_state = v, {k: t.clone() for k, t in net.state_dict().items()}
    assert best_state is not None
    net.load_state_dict(best_state)
    minutes = (time.perf_counter() - started) / 60
    args.out.parent.mkdir(parents=True, exist_ok=True)
    recipe = {
        "trained_on": f"{len(train_ex)} songs rendered by offline.beatnet.data "
        f"(seeds from {SEED0}), {sum(len(e.features) for e in train_ex)} hops",
        "command": "python -m offline.beatnet.train "
        + " ".join(f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items() if k != "out"),
        "held_out_loss": f"{best:.4f}",
        "train_minutes": f"{minutes:.1f}",
        "hop_samples_at_44100": "256",
        "outputs": "beat, downbeat (sigmoid)",
        "receptive_field_hops": str(net.receptive_field),
    }
    export_onnx(net, str(args.out), {"livedance_beatnet": json.dumps(recipe)})
    _check_streaming(net, val_ex[0], args.out)
    args.out.with_suffix(".train.json").write_text(json.dumps(history, indent=1))
    log.info("wrote %s (held-out loss %.4f, %.1f min)", args.out, best, minutes)


def _check_streaming(net: Any, example: Example, path: Path) -> None:
    """The ONNX graph fed 7 hops at a time equals the torch network on the whole song."""
    import onnxruntime as ort
    import torch

    with torch.no_grad():
        full = torch.sigmoid(net.eval()(torch.from_numpy(example.features.T[None]))).numpy()[0]
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    inputs = session.get_inputs()
    states = [np.zeros([d if isinstance(d, int) else 1 for d in i.shape], np.float32)
              for i in inputs[1:]]  # fmt: skip
    outs = []
    feats = example.features.T[None]
    for start in range(0, min(feats.shape[2], 2000), 7):
        feed = {i.name: s for i, s in zip(inputs[1:], states, strict=True)}
        result = session.run(None, {"features": feats[:, :, start : start + 7], **feed})
        outs.append(result[0][0])
        states = result[1:]
    streamed = np.concatenate(outs, axis=1)
    err = float(np.abs(streamed - full[:, : streamed.shape[1]]).max())
    log.info("streaming ONNX vs torch on %s: max |diff| %.2e", example.name, err)
    if err > 1e-3:
        raise SystemExit(f"streaming ONNX differs from the torch network by {err:.3g}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--songs", type=int, default=176, help="songs to render and train on")
    parser.add_argument(
        "--first-set",
        type=int,
        default=0,
        help="more songs in the first set's styles, tempo changes included",
    )
    parser.add_argument(
        "--composed", type=int, default=0, help="songs of the project's own synthesizer too"
    )
    parser.add_argument(
        "--augment", type=float, default=0.0, help="share of crops remixed (gain, tilt, noise)"
    )
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--crop-s", type=float, default=8.0, help="seconds per training crop")
    parser.add_argument("--channels", type=int, default=24)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--val-every", type=int, default=10, help="every n-th song is held out")
    parser.add_argument("--eval-steps", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (machine shared)")
    parser.add_argument("--out", type=Path, default=Path("models/beatnet.onnx"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    train(args)


if __name__ == "__main__":
    main()
