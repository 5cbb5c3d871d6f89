"""The simulated room: drill wall, floor, furniture and the camera's mount.

The room frame is the one of ``docs/drill.md``: x along the drill wall,
y up from the floor, z out of the wall into the room, in metres.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from station.geometry import Intrinsics, Pose, rotation_z
from station.sim.primitives import Box, Room

# The drill spot is at x = 0; the room extends well past the camera's view.
ROOM = Room(np.array([-4.0, 0.0, 0.0]), np.array([4.0, 2.7, 5.0]))

# D400 depth field of view: 87 degrees across the 16:9 modes, narrower in 4:3.
HFOV_16_9_DEG = 87.0
HFOV_4_3_DEG = 75.0


def _check_side(side: int) -> None:
    if side not in (-1, 1):
        raise ValueError("side must be -1 or +1")


def _looking(position: np.ndarray, forward: np.ndarray, roll_deg: float, side: int) -> Pose:
    """Camera-to-room pose of a lens at ``position`` looking along the unit vector ``forward``, image rows level.

    Looking straight down, the image's right runs along the wall away from ``side``.
    """
    right = np.cross(forward, [0.0, 1.0, 0.0])
    if np.linalg.norm(right) < 1e-6:
        right = np.array([float(-side), 0.0, 0.0])
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    rotation = np.column_stack([right, down, forward]) @ rotation_z(np.radians(roll_deg))
    return Pose(rotation, position)


@dataclass(frozen=True)
class CameraMount:
    """Where the camera is, in the envelope of the reference mount.

    Attributes
    ----------
    side : int
        +1: the camera is at +x of the drill spot, looking toward -x; -1: at -x, looking toward +x.
    distance_m : float
        Horizontal distance from the camera to the drill spot, 1.5-2.5 m.
    yaw_toward_wall_deg : float
        How far the camera is turned from looking along the wall toward it, 10-35.
    height_m : float
        Lens height above the floor, 0.7-1.3 m.
    pitch_deg : float
        Up (+) or down (-) tilt, -15 to +5.
    roll_deg : float
        Roll about the optical axis, within +-3.
    aim_offset_deg : float
        Extra yaw so the person is not always dead centre.
    """

    side: int = -1
    distance_m: float = 2.0
    yaw_toward_wall_deg: float = 20.0
    height_m: float = 1.0
    pitch_deg: float = -5.0
    roll_deg: float = 0.0
    aim_offset_deg: float = 0.0

    def __post_init__(self):
        _check_side(self.side)

    def pose(self, spot_z_m: float) -> Pose:
        """Camera-to-room pose for a drill spot at (0, 0, ``spot_z_m``)."""
        yaw = np.radians(self.yaw_toward_wall_deg)
        # The camera sits out in the room and looks back along the wall, turned toward it.
        position = np.array([self.side * self.distance_m * np.cos(yaw), self.height_m,
                             spot_z_m + self.distance_m * np.sin(yaw)])
        heading = np.radians(self.yaw_toward_wall_deg + self.aim_offset_deg)
        pitch = np.radians(self.pitch_deg)
        forward = np.array([-self.side * np.cos(heading) * np.cos(pitch), np.sin(pitch),
                            -np.sin(heading) * np.cos(pitch)])
        return _looking(position, forward, self.roll_deg, self.side)


@dataclass(frozen=True)
class AimedMount:
    """A camera anywhere in the room, aimed at a point over the drill spot.

    The placements beyond the reference side mount (``PLACEMENTS``): the
    drill wall above the spot, the ceiling over it. Positions are room
    metres; ``z_m`` is out from the drill wall, or from the drill spot when
    ``z_from_spot``.

    Attributes
    ----------
    side : int
        Which side people come in from and the room's furniture stands
        (as :attr:`CameraMount.side`); the camera itself is at ``x_m``.
    x_m, height_m, z_m : float
        Lens position along the wall, above the floor, out from the wall (or spot).
    z_from_spot : bool
        ``z_m`` is measured from the drill spot's line (the ankles), not the wall.
    aim_height_m, aim_z_m : float
        The point the optical axis passes through: over the drill spot at this
        height, ``aim_z_m`` out from the spot.
    roll_deg : float
        Roll about the optical axis.
    """

    side: int
    x_m: float
    height_m: float
    z_m: float
    z_from_spot: bool
    aim_height_m: float
    aim_z_m: float = 0.0
    roll_deg: float = 0.0

    def __post_init__(self):
        _check_side(self.side)

    def pose(self, spot_z_m: float) -> Pose:
        """Camera-to-room pose for a drill spot at (0, 0, ``spot_z_m``)."""
        position = np.array([self.x_m, self.height_m, self.z_m + (spot_z_m if self.z_from_spot else 0.0)])
        forward = np.array([0.0, self.aim_height_m, spot_z_m + self.aim_z_m]) - position
        return _looking(position, forward / np.linalg.norm(forward), self.roll_deg, self.side)


def d400_intrinsics(width: int, height: int, principal_offset_px=(0.0, 0.0)) -> Intrinsics:
    """Intrinsics of a D400 depth stream at this resolution, float32-exact like librealsense's."""
    hfov = HFOV_16_9_DEG if width / height > 1.5 else HFOV_4_3_DEG
    base = Intrinsics.from_fov(width, height, hfov)
    as_f32 = lambda value: float(np.float32(value))  # noqa: E731 - librealsense stores float32
    return Intrinsics(width, height, as_f32(base.fx), as_f32(base.fy),
                      as_f32(base.ppx + principal_offset_px[0]), as_f32(base.ppy + principal_offset_px[1]))


def chair(x_m: float, z_m: float) -> list[Box]:
    """A chair: seat and back, 45 cm square."""
    return [Box(np.array([x_m, 0.0, z_m]), np.array([x_m + 0.45, 0.46, z_m + 0.45])),
            Box(np.array([x_m, 0.46, z_m + 0.40]), np.array([x_m + 0.45, 0.95, z_m + 0.45]))]


def plinth(x_m: float, z_m: float) -> list[Box]:
    """A treatment table, 1.9 x 0.7 m, 70 cm high."""
    return [Box(np.array([x_m, 0.0, z_m]), np.array([x_m + 0.7, 0.70, z_m + 1.9]))]
