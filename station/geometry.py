"""Camera geometry shared by the measurement and the simulator: pure numpy.

Conventions
-----------
Camera frame: RealSense's, +x right, +y down, +z forward along the optical
axis, in metres. Depth pixels hold Z-depth (the z coordinate), not range.

Room frame (``../shared/domain.md``): x along the drill wall, y up with the
floor at y = 0, z out of the drill wall into the room with the wall surface at
z = 0, in metres.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Intrinsics:
    """Pinhole intrinsics of a depth stream (no distortion: D400 depth has none).

    Attributes
    ----------
    width, height : int
        Image size in pixels.
    fx, fy : float
        Focal lengths in pixels.
    ppx, ppy : float
        Principal point in pixels (column, row).
    """

    width: int
    height: int
    fx: float
    fy: float
    ppx: float
    ppy: float

    @classmethod
    def from_fov(cls, width: int, height: int, hfov_deg: float) -> "Intrinsics":
        """Square-pixel intrinsics with the principal point at the centre."""
        fx = (width / 2.0) / np.tan(np.radians(hfov_deg) / 2.0)
        return cls(width, height, float(fx), float(fx), (width - 1) / 2.0, (height - 1) / 2.0)

    def scaled(self, factor: float) -> "Intrinsics":
        """Intrinsics of the same camera at ``factor`` times the resolution."""
        return Intrinsics(
            int(round(self.width * factor)),
            int(round(self.height * factor)),
            self.fx * factor,
            self.fy * factor,
            (self.ppx + 0.5) * factor - 0.5,
            (self.ppy + 0.5) * factor - 0.5,
        )


def pixel_rays(intrinsics: Intrinsics) -> np.ndarray:
    """Camera-frame ray of every pixel, scaled so its z component is 1.

    Multiplying by a Z-depth image (metres) gives the camera-frame points, so
    this is computed once per stream and reused for every frame.

    Returns
    -------
    ndarray, shape (height, width, 3), float64
    """
    cols = (np.arange(intrinsics.width) - intrinsics.ppx) / intrinsics.fx
    rows = (np.arange(intrinsics.height) - intrinsics.ppy) / intrinsics.fy
    rays = np.empty((intrinsics.height, intrinsics.width, 3))
    rays[..., 0] = cols[np.newaxis, :]
    rays[..., 1] = rows[:, np.newaxis]
    rays[..., 2] = 1.0
    return rays


def project(points_camera: np.ndarray, intrinsics: Intrinsics) -> np.ndarray:
    """Pixel coordinates (column, row) of camera-frame points, shape (..., 2)."""
    z = points_camera[..., 2]
    u = points_camera[..., 0] / z * intrinsics.fx + intrinsics.ppx
    v = points_camera[..., 1] / z * intrinsics.fy + intrinsics.ppy
    return np.stack([u, v], axis=-1)


def rotation_x(angle_rad: float) -> np.ndarray:
    """Rotation matrix about +x by ``angle_rad`` (right-handed)."""
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def rotation_y(angle_rad: float) -> np.ndarray:
    """Rotation matrix about +y by ``angle_rad`` (right-handed)."""
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def rotation_z(angle_rad: float) -> np.ndarray:
    """Rotation matrix about +z by ``angle_rad`` (right-handed)."""
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


@dataclass(frozen=True)
class Pose:
    """A rigid transform taking points of one frame into another.

    ``to_parent(p) = rotation @ p + translation``. For the camera pose in the
    room, ``rotation``'s columns are the camera's x, y, z axes in room
    coordinates and ``translation`` is the camera centre in the room (metres).
    """

    rotation: np.ndarray
    translation: np.ndarray

    def apply(self, points: np.ndarray) -> np.ndarray:
        """Transform points of shape (..., 3) into the parent frame."""
        return points @ self.rotation.T + self.translation

    def inverse(self) -> "Pose":
        rotation_t = self.rotation.T
        return Pose(rotation_t, -rotation_t @ self.translation)

    def as_matrix(self) -> np.ndarray:
        """The 4x4 homogeneous matrix."""
        matrix = np.eye(4)
        matrix[:3, :3] = self.rotation
        matrix[:3, 3] = self.translation
        return matrix

    @classmethod
    def from_matrix(cls, matrix) -> "Pose":
        matrix = np.asarray(matrix, dtype=float)
        if matrix.shape != (4, 4):
            raise ValueError(f"a pose matrix is 4x4, not {matrix.shape}")
        return cls(matrix[:3, :3].copy(), matrix[:3, 3].copy())
