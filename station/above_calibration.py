"""Calibrating the camera above the drill spot, which cannot see the drill wall: the floor and the floor's edge at the wall.

The side camera's calibration (:mod:`station.calibration`) fits the floor
and the drill wall it looks along. The camera of the pair ``side+wall-above``
sits on the drill wall itself, so it sees that wall edge-on or not at all;
what it sees instead is the floor below it, from the wall's foot out into
the room. :func:`calibrate_above` takes, from about two seconds of the
empty scene:

1. **The floor** (:func:`station.calibration.fit_floor`, the same search as
   the side camera's, around straight ahead of the lens): its normal is the
   room's up and its distance the camera's height, which the spine
   measurement needs to a few tenths of a degree and a couple of
   centimetres (``docs/back-view.md``).
2. **The drill wall's foot**: looked at from above, the floor ends in a
   straight edge along the wall below the camera. Turned about the
   vertical, the direction across the wall is the one in which the most
   floor points lie within :data:`EDGE_BAND_M` of that edge: a sharp edge
   when the direction is right, a smeared one when it is turned. It gives
   the room's z (out from the wall, 0 at the edge) and with it x, along the
   wall.
3. **Along the wall** the floor says nothing: the camera is taken to be over
   the middle of the drill spot, as its bracket puts it (within 10 cm:
   ``hardware/README.md``); the spine measurement finds the body's midline
   in its points and uses x only for the column over the spot, 1 m wide.

A skirting board moves the edge out by its thickness (1-2 cm): the room's
z is then measured from the board's face. How close this comes to the
simulator's true poses is printed by ``benchmarks/bench_pair.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from station.calibration import fit_floor
from station.errors import CalibrationError
from station.geometry import Intrinsics, Pose, project

# Where "up" is looked for: against the optical axis (a camera looking down),
# within this cone; the bracket tilts it 60-80 degrees below horizontal.
FLOOR_CONE_ABOVE_DEG = 40.0
# The wall's foot is searched within this turn either side of straight out
# ahead of the lens (the bracket holds it square to the wall within a few
# degrees; its roll and aim add some), first coarsely then finely (degrees).
EDGE_SEARCH_DEG = 25.0
EDGE_COARSE_STEP_DEG = 0.5
EDGE_FINE_STEP_DEG = 0.05
# The edge is this low quantile of the floor points' distance out from the
# camera (short of a few noisy points behind it), and the band that counts
# the points along it (metres).
EDGE_QUANTILE = 0.2
EDGE_BAND_M = 0.03
# At least this many floor points must lie along the edge for it to count.
MIN_EDGE_POINTS = 200
# An edge with more than this share of its points within EDGE_BORDER_PX of
# the picture's border is the picture's edge, not the wall's foot; and the
# lens is at least MIN_LENS_OUT_M out from the wall (its bracket: 4-8 cm).
EDGE_BORDER_PX = 2
MAX_BORDER_SHARE = 0.2
MIN_LENS_OUT_M = 0.01
# The floor points nearer the wall than this (metres beyond the edge's
# first guess) are the ones the edge search looks at.
EDGE_REGION_M = 0.6


@dataclass(frozen=True, eq=False)
class AboveCalibration:
    """Where the camera above the spot is in the room, and its empty scene.

    Compared by identity (``eq=False``): its fields hold arrays.

    Attributes
    ----------
    intrinsics : Intrinsics
    camera_pose : Pose
        Camera to room (metres), the room frame of ``docs/drill.md`` with x = 0
        under the camera.
    depth_unit_m : float
    background_m : ndarray (H, W)
        The empty scene's median depth, metres (0 unknown).
    background_noise_m : ndarray (H, W)
        Its noise, metres (0 unknown), as :class:`~station.calibration_model.Calibration`
        keeps it: :func:`station.camera_check.camera_moved` reads both.
    floor_rms_mm : float
        The floor's points about its plane.
    edge_points : int
        Floor points along the wall's foot that fixed the direction across the wall.
    source : str
        The recording's path or the camera's serial.
    """

    intrinsics: Intrinsics
    camera_pose: Pose
    depth_unit_m: float
    background_m: np.ndarray
    background_noise_m: np.ndarray
    floor_rms_mm: float
    edge_points: int
    source: str


def calibrate_above(frames: Sequence[np.ndarray], intrinsics: Intrinsics, depth_unit_m: float, *,
                    source: str) -> AboveCalibration:
    """Calibrate the camera above the drill spot from depth frames (uint16) of the empty scene.

    Raises
    ------
    CalibrationError
        No floor below the camera, or no straight edge of it along the wall.
    """
    floor = fit_floor(frames, intrinsics, depth_unit_m, up_camera=(0.0, 0.0, -1.0), cone_deg=FLOOR_CONE_ABOVE_DEG)
    up = floor.normal / np.linalg.norm(floor.normal)
    out = _level(np.array([0.0, 0.0, 1.0]), up)  # straight ahead of the lens, levelled: out into the room
    if out is None:
        out = _level(np.array([0.0, -1.0, 0.0]), up)  # looking straight down: the picture's top
    across = np.cross(up, out)
    # The floor's points in the level plane, from the camera's foot: (along the first guess, out from it).
    flat = np.column_stack([floor.points @ across, floor.points @ out])
    turn, wall_s, along_edge = _wall_edge(flat)
    _refuse_picture_edge(floor.points[along_edge], intrinsics, wall_s)
    count = int(np.count_nonzero(along_edge))
    z_axis = np.cos(turn) * out + np.sin(turn) * across
    x_axis = np.cross(up, z_axis)
    rotation = np.vstack([x_axis, up, z_axis])  # rows: the room's axes in camera coordinates
    translation = np.array([0.0, floor.height_m, -wall_s])
    return AboveCalibration(intrinsics=intrinsics, camera_pose=Pose(rotation, translation),
                            depth_unit_m=float(depth_unit_m), background_m=floor.background_m,
                            background_noise_m=floor.background_noise_m,
                            floor_rms_mm=floor.rms_mm, edge_points=count, source=source)


def _level(direction: np.ndarray, up: np.ndarray) -> np.ndarray | None:
    """``direction`` made horizontal and unit, or None when it is (nearly) vertical."""
    horizontal = direction - (direction @ up) * up
    length = np.linalg.norm(horizontal)
    return None if length < 0.05 else horizontal / length


def _refuse_picture_edge(edge_points: np.ndarray, intrinsics: Intrinsics, wall_s: float) -> None:
    """Refuse an edge that is where the picture ends, not where the floor meets the wall.

    Tilted too little below horizontal (under about 65 degrees), the picture
    ends before the floor reaches the wall: the floor's edge is then the
    picture's, in front of the lens's foot or along the picture's border.
    """
    pixels = project(edge_points, intrinsics)
    margin = EDGE_BORDER_PX
    on_border = ((pixels[:, 0] < margin) | (pixels[:, 0] > intrinsics.width - 1 - margin)
                 | (pixels[:, 1] < margin) | (pixels[:, 1] > intrinsics.height - 1 - margin))
    if wall_s > -MIN_LENS_OUT_M or np.count_nonzero(on_border) > MAX_BORDER_SHARE * len(edge_points):
        raise CalibrationError("the foot of the drill wall is not in the picture of the camera above (the picture "
                               "ends before the floor meets the wall): tilt it further down, at least 65 degrees "
                               "below horizontal, and calibrate again")


def _wall_edge(flat: np.ndarray) -> tuple[float, float, np.ndarray]:
    """The turn (radians) from the first guess to the direction across the wall, the edge's distance along it (m, negative: behind the camera's foot), and which of the points lie along it.

    ``flat`` (M, 2) is each floor point's (across, out) from the camera's
    foot. For each candidate turn the points' distance out is taken; the
    edge is its low quantile, and the turn with the most points within
    :data:`EDGE_BAND_M` of it wins.
    """
    first_edge = np.quantile(flat[:, 1], EDGE_QUANTILE / 100.0)
    # Only the floor near the wall matters; the rest would slow the search.
    near_wall = flat[:, 1] < first_edge + EDGE_REGION_M
    near = flat[near_wall]
    if len(near) < MIN_EDGE_POINTS:
        raise CalibrationError("no edge of the floor along the drill wall in view: aim the camera above so the "
                               "floor at the foot of the wall below it is in the picture, and clear it")

    def best(turns: np.ndarray) -> tuple[float, float, int]:
        distances = near @ np.vstack([np.sin(turns), np.cos(turns)])  # (M, turns)
        edges = np.quantile(distances, EDGE_QUANTILE / 100.0, axis=0)
        counts = np.count_nonzero(distances < edges + EDGE_BAND_M, axis=0)
        index = int(np.argmax(counts))
        return float(turns[index]), float(edges[index]), int(counts[index])

    limit = np.radians(EDGE_SEARCH_DEG)
    turn, _, _ = best(np.arange(-limit, limit + 1e-9, np.radians(EDGE_COARSE_STEP_DEG)))
    fine = np.radians(EDGE_COARSE_STEP_DEG)
    turn, edge, count = best(turn + np.arange(-fine, fine + 1e-9, np.radians(EDGE_FINE_STEP_DEG)))
    if count < MIN_EDGE_POINTS:
        raise CalibrationError("no straight edge of the floor along the drill wall: clear the foot of the wall "
                               "below the camera above and calibrate again")
    along_edge = np.zeros(len(flat), dtype=bool)
    along_edge[near_wall] = near @ np.array([np.sin(turn), np.cos(turn)]) < edge + EDGE_BAND_M
    return turn, edge, along_edge
