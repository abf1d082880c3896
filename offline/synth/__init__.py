"""Synthetic training data: a procedural person dancing the action library, no video needed.

The OFFLINE ``--synth--> dataset/`` alternative to `offline.prepare` (DESIGN.md): `poses`
(the action library at random tempi, with variation), `figure` (the painted person: `body`,
`face` and `clothes`, lit by `shading`, in the colours of `appearance`), `room` (the still
background) and `pipeline`, which writes them in the layout ``prepare`` writes.
``livedance synth`` is a thin layer over `synth_dataset`.
"""

from offline.synth.appearance import Appearance
from offline.synth.figure import draw_person
from offline.synth.pipeline import SynthReport, render_person, synth_dataset
from offline.synth.poses import Variation, sample_poses
from offline.synth.room import background

__all__ = [
    "Appearance",
    "SynthReport",
    "Variation",
    "background",
    "draw_person",
    "render_person",
    "sample_poses",
    "synth_dataset",
]
