"""Where a camera can go: the reference side mount and the candidates that may see the back.

Issue 15's placement study (``benchmarks/bench_back_view.py``,
``docs/back-view.md``) renders the same person, reps and room from each of
these. A placement draws its mount from its own seeded generator, apart from
the scenario's draws, so every placement of one ``(scenario, seed)`` shows the
same person doing the same reps.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Callable

import numpy as np

from station.sim.scene import AimedMount, CameraMount

SIDE = "side"
# Where an installer aims a side camera: the middle of a standing person.
SIDE_AIM_HEIGHT_M = 0.9
CEILING_HEIGHT_M = 2.6  # a ceiling mount's lens in a 2.7 m room


@dataclass(frozen=True)
class Placement:
    """A named camera placement.

    ``draw(rng, side)`` gives a mount in the placement's envelope;
    ``sees_drill_wall`` says whether the empty-room calibration (floor and
    drill wall fitted in view) can run from it as it is.
    """

    name: str
    description: str
    draw: Callable[[np.random.Generator, int], object]
    sees_drill_wall: bool


def _side_high(rng: np.random.Generator, side: int) -> CameraMount:
    """The side mount raised to 1.6-2.2 m and pitched down at the middle of a standing person."""
    distance = rng.uniform(1.5, 2.5)
    height = rng.uniform(1.6, 2.2)
    aimed_pitch = np.degrees(np.arctan2(SIDE_AIM_HEIGHT_M - height, distance))
    return CameraMount(side=side, distance_m=distance, yaw_toward_wall_deg=rng.uniform(10.0, 35.0),
                       height_m=height, pitch_deg=float(aimed_pitch + rng.uniform(-4.0, 4.0)),
                       roll_deg=rng.uniform(-3.0, 3.0), aim_offset_deg=rng.uniform(-5.0, 5.0))


def _wall_above(rng: np.random.Generator, side: int) -> AimedMount:
    """On the drill wall above the spot, looking down and out at the back.

    2.3-2.5 m high: a D455 sees nothing nearer than about 0.5 m, and a tall
    person's head comes within that of a lens at 2 m.
    """
    return AimedMount(side=side, x_m=rng.uniform(-0.1, 0.1), height_m=rng.uniform(2.3, 2.5),
                      z_m=rng.uniform(0.04, 0.08), z_from_spot=False, aim_height_m=rng.uniform(0.7, 0.9),
                      aim_z_m=rng.uniform(0.0, 0.2), roll_deg=rng.uniform(-3.0, 3.0))


def _ceiling(rng: np.random.Generator, side: int) -> AimedMount:
    """On the ceiling over the drill spot (2.6 m), looking straight down give or take."""
    return AimedMount(side=side, x_m=rng.uniform(-0.15, 0.15), height_m=CEILING_HEIGHT_M,
                      z_m=rng.uniform(0.0, 0.3), z_from_spot=True, aim_height_m=0.0,
                      aim_z_m=rng.uniform(0.0, 0.3), roll_deg=rng.uniform(-3.0, 3.0))


PLACEMENTS = {p.name: p for p in (
    Placement(SIDE, "today's reference mount: side wall or pole beside the spot, 0.7-1.3 m high, "
              "1.5-2.5 m away, turned 10-35 degrees toward the drill wall", None, True),
    Placement("side-high", "the side mount raised to 1.6-2.2 m and pitched down at the standing person",
              _side_high, True),
    Placement("wall-above", "on the drill wall above the spot, 2.3-2.5 m high, looking down at the back",
              _wall_above, False),
    Placement("ceiling", "on the ceiling over the drill spot (2.6 m), looking down", _ceiling, False),
)}


#: Two-camera set-ups (named in :data:`station.setup.PLACEMENTS`): the side camera
#: for the wall gap, trunk and knee, and a second camera for the back.
#: ``wallhinge simulate`` writes both cameras' recordings of one scene
#: (:func:`station.sim.simulate.simulate` with ``back``).
PAIRS = {
    "side+wall-above": "two cameras: the side mount, and one on the drill wall above the spot for the back "
                       "(writes NAME.db3 and NAME.above.db3)",
    "side+ceiling": "two cameras: the side mount, and one on the ceiling over the spot for the back "
                    "(writes NAME.db3 and NAME.above.db3)",
}


def pair_placements(name: str) -> tuple[str, str] | None:
    """The (side, back) placements of a two-camera set-up, or None for one camera.

    Raises
    ------
    ValueError
        Not a placement at all.
    """
    if name in PAIRS:
        side, back = name.split("+")
        return side, back
    if name not in PLACEMENTS:
        known = list(PLACEMENTS) + list(PAIRS)
        raise ValueError(f"unknown placement {name!r}; known: {', '.join(known)}")
    return None


def placement_mount(name: str, side: int, seed: int):
    """The mount of placement ``name`` for a scenario drawn with ``seed`` and the people coming from ``side``.

    Raises
    ------
    ValueError
        Unknown placement, or the side placement (its mount is the scenario's own draw).
    """
    if name not in PLACEMENTS:
        raise ValueError(f"unknown placement {name!r}; known: {', '.join(PLACEMENTS)}")
    placement = PLACEMENTS[name]
    if placement.draw is None:
        raise ValueError(f"the {name} placement's mount is drawn with the scenario")
    return placement.draw(np.random.default_rng([seed, zlib.crc32(name.encode())]), side)
