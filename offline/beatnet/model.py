"""The learned beat activation: a small causal TCN, and its streaming form for ONNX.

OFFLINE (torch). Trained by `offline.beatnet.train` on the features of
`offline.beatnet.data`; exported to ``models/beatnet.onnx`` for the live tracker
(`livedance.audio.activation`), where it replaces the handcrafted onset novelty.

The network: the front end's 80 features per hop, normalised, a 1x1 convolution to ``channels``,
then residual blocks of a causal dilated convolution (kernel 3, dilation doubling per block:
1, 2, ..., 256, a receptive field of 1023 hops = 5.9 s, two bars at 80 BPM) and a 1x1
convolution; two outputs per hop, beat and downbeat. Causal: the output at a hop depends on that
hop and earlier ones only, so it runs live.

`StreamingBeatNet` is the same network fed a few hops at a time: each block keeps the last
``2 * dilation`` hops of its input as state, passed in and out of the ONNX graph.
"""

from __future__ import annotations

import torch
from torch import nn

N_FEATURES = 80
"""Inputs per hop: the front end's 40 log mel bands and their 40 rises."""

DILATIONS = (1, 2, 4, 8, 16, 32, 64, 128, 256)
KERNEL = 3


class BeatNet(nn.Module):
    """Causal TCN: ``(batch, N_FEATURES, hops)`` -> logits ``(batch, 2, hops)`` (beat, downbeat).

    Args:
        channels: width of every block.
        dilations: one residual block per dilation.
        dropout: after each block's dilated convolution, while training.
    """

    def __init__(
        self, channels: int = 24, dilations: tuple[int, ...] = DILATIONS, dropout: float = 0.1
    ) -> None:
        super().__init__()
        self.dilations = tuple(dilations)
        self.register_buffer("mean", torch.zeros(N_FEATURES, 1))
        self.register_buffer("std", torch.ones(N_FEATURES, 1))
        self.inp = nn.Conv1d(N_FEATURES, channels, 1)
        self.dilated = nn.ModuleList(
            nn.Conv1d(channels, channels, KERNEL, dilation=d) for d in self.dilations
        )
        self.mix = nn.ModuleList(nn.Conv1d(channels, channels, 1) for _ in self.dilations)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Conv1d(channels, 2, 1)

    @property
    def receptive_field(self) -> int:
        """Hops the newest output depends on."""
        return 1 + (KERNEL - 1) * sum(self.dilations)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.inp((x - self.mean) / self.std)
        for d, conv, mix in zip(self.dilations, self.dilated, self.mix, strict=True):
            y = conv(nn.functional.pad(h, ((KERNEL - 1) * d, 0)))
            h = h + mix(self.drop(torch.relu(y)))
        return self.out(torch.relu(h))


class StreamingBeatNet(nn.Module):
    """`BeatNet` fed ``hops`` new hops at a time, with the blocks' past inputs as state.

    Inputs: ``features (1, N_FEATURES, hops)`` and one ``state_i (1, channels, 2 * d_i)`` per
    block (zeros at the start). Outputs: ``activation (1, 2, hops)`` (sigmoid: beat, downbeat)
    and the new states.
    """

    def __init__(self, net: BeatNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor, *states: torch.Tensor) -> tuple[torch.Tensor, ...]:
        net = self.net
        h = net.inp((x - net.mean) / net.std)
        new_states = []
        for d, conv, mix, state in zip(net.dilations, net.dilated, net.mix, states, strict=True):
            full = torch.cat([state, h], dim=2)
            new_states.append(full[:, :, full.shape[2] - (KERNEL - 1) * d :])
            h = h + mix(torch.relu(conv(full)))
        return (torch.sigmoid(net.out(torch.relu(h))), *new_states)


def export_onnx(net: BeatNet, path: str, metadata: dict[str, str]) -> None:
    """Write the streaming network as ONNX (opset 17), with ``metadata`` in its props."""
    import onnx

    net = net.eval()
    stream = StreamingBeatNet(net)
    channels = net.inp.out_channels
    x = torch.zeros(1, N_FEATURES, 4)
    states = [torch.zeros(1, channels, (KERNEL - 1) * d) for d in net.dilations]
    state_names = [f"state_{i}" for i in range(len(states))]
    torch.onnx.export(
        stream,
        (x, *states),
        path,
        input_names=["features", *state_names],
        output_names=["activation", *[f"next_{n}" for n in state_names]],
        dynamic_axes={"features": {2: "hops"}, "activation": {2: "hops"}},
        opset_version=17,
        dynamo=False,
    )
    model = onnx.load(path)
    for key, value in metadata.items():
        prop = model.metadata_props.add()
        prop.key, prop.value = key, value
    onnx.save(model, path)
