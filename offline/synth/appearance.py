"""The looks of one synthetic person and their room: seeded colours, one person per dataset.

Part of ``livedance synth`` (DESIGN.md's OFFLINE ``--synth--> dataset/`` step): the figure
(`offline.synth.figure`) and the room (`offline.synth.room`) are painted in these colours, and
the dataset's manifest records them, so a generator learns one person in one place, as from a
real video.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from offline.synth.shading import BGR

_SKINS: tuple[BGR, ...] = ((170, 200, 240), (140, 180, 225), (110, 150, 200), (80, 110, 160))
_HAIRS: tuple[BGR, ...] = ((30, 30, 35), (25, 50, 90), (60, 110, 170), (40, 40, 60))
_SHIRTS: tuple[BGR, ...] = (
    (60, 60, 200), (180, 110, 40), (60, 160, 60), (40, 170, 230), (150, 60, 140), (235, 235, 235),
)  # fmt: skip
_TROUSERS: tuple[BGR, ...] = ((110, 70, 40), (50, 50, 55), (140, 150, 160), (60, 80, 100))
_SHOES: tuple[BGR, ...] = ((30, 30, 30), (235, 235, 235), (40, 40, 120))
_WALLS: tuple[BGR, ...] = ((200, 205, 210), (170, 190, 205), (205, 195, 180), (185, 200, 190))
_FLOORS: tuple[BGR, ...] = ((90, 110, 140), (120, 120, 120), (70, 90, 110))
_IRISES: tuple[BGR, ...] = ((40, 60, 90), (30, 40, 50), (110, 90, 50), (60, 110, 80))


@dataclass(frozen=True)
class Appearance:
    """The colours of one synthetic person and their room (BGR).

    Attributes:
        skin, hair, shirt, trousers, shoes: the person.
        wall, floor: the background.
        long_sleeves: sleeves down to the wrists, or a T-shirt that shows the forearms.
        iris: eye colour.
    """

    skin: BGR
    hair: BGR
    shirt: BGR
    trousers: BGR
    shoes: BGR
    wall: BGR
    floor: BGR
    long_sleeves: bool
    iris: BGR = _IRISES[0]

    @classmethod
    def from_seed(cls, seed: int) -> Appearance:
        """A deterministic appearance for ``seed``; the shirt always stands out from the wall."""
        rng = np.random.default_rng([seed, 0x5EED])

        def pick(options: tuple[BGR, ...]) -> BGR:
            return options[int(rng.integers(len(options)))]

        wall = pick(_WALLS)
        shirt = pick(_SHIRTS)
        while sum(abs(a - b) for a, b in zip(shirt, wall, strict=True)) < 120:
            shirt = pick(_SHIRTS)
        # Drawn in this order so that every seed keeps the colours it had before `iris`.
        skin, hair, trousers, shoes = pick(_SKINS), pick(_HAIRS), pick(_TROUSERS), pick(_SHOES)
        floor = pick(_FLOORS)
        long_sleeves = bool(rng.integers(2))
        return cls(
            skin=skin,
            hair=hair,
            shirt=shirt,
            trousers=trousers,
            shoes=shoes,
            wall=wall,
            floor=floor,
            long_sleeves=long_sleeves,
            iris=pick(_IRISES),
        )
