"""Dataset preparation: a few minutes of video of a person -> training pairs and a Body.

The OFFLINE ``video.mp4 --prepare--> dataset/`` step of DESIGN.md. One module per concern:
`video` (decode, sample), `sources` (BlazePose, OpenPose JSON), `tracking` (the person to
follow), `smoothing` (One-Euro, zero phase), `crop` (one fixed crop), `body_stats` (the Body),
`contact_sheet`, `manifest` (what is written), `store` (atomic, resumable output), and
`pipeline`, which runs them in order. ``livedance prepare`` is a thin layer over
`prepare_dataset`.
"""

from offline.prepare.crop import CropBox, parse_crop, parse_size
from offline.prepare.manifest import Manifest, load_manifest, read_index
from offline.prepare.pipeline import PrepareOptions, PrepareReport, prepare_dataset
from offline.prepare.smoothing import OneEuroParams

__all__ = [
    "CropBox",
    "Manifest",
    "OneEuroParams",
    "PrepareOptions",
    "PrepareReport",
    "load_manifest",
    "parse_crop",
    "parse_size",
    "prepare_dataset",
    "read_index",
]
