"""Camera geometry shared by the measurement and the simulator: pure numpy.

Conventions
-----------
Camera frame: RealSense's, +x right, +y down, +z forward along the optical
axis, in metres. Depth pixels hold Z-depth (the z coordinate), not range.

Room frame (``docs/drill.md``): x along the drill wall, y up with the
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



# -- planes --------------------------------------------------------------------
#
# A plane is a unit normal ``n`` and an offset ``d`` with ``n . p + d = 0`` for
# its points, so ``n . p + d`` is a point's signed distance (metres). Batches
# of planes are arrays: normals (K, 3) and offsets (K,).
#
# Seen from a camera at the origin, a plane is also linear in inverse depth:
# a pixel with ray ``r`` (z = 1, see :func:`pixel_rays`) sees the plane at
# Z-depth ``z`` with ``1 / z = q . r``, where ``q = -n / d``. A stereo camera
# measures disparity, which is proportional to inverse depth, with an error of
# about the same size everywhere in the image; so in this form a plane fit is
# ordinary least squares with equal weights: unbiased, where an orthogonal fit
# of the points would be tilted by their large errors along the rays.


def planes_through_points(p1: np.ndarray, p2: np.ndarray, p3: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Planes through triples of points, for RANSAC hypotheses.

    Parameters
    ----------
    p1, p2, p3 : ndarray, shape (K, 3)
        The triples, metres.

    Returns
    -------
    normals : ndarray, shape (K, 3)
        Unit normals (sign arbitrary); NaN where the points are (nearly) collinear.
    offsets : ndarray, shape (K,)
        Metres; NaN where the normal is.
    """
    return _normalised_planes(np.cross(p2 - p1, p3 - p1), p1)


def planes_containing_direction(p1: np.ndarray, p2: np.ndarray, direction: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Planes through pairs of points that are parallel to ``direction``.

    With ``direction`` the floor's normal these are vertical planes (walls),
    so a wall hypothesis needs two points instead of three.

    Parameters
    ----------
    p1, p2 : ndarray, shape (K, 3)
        The pairs, metres.
    direction : ndarray, shape (3,)
        A direction every plane contains.

    Returns
    -------
    normals, offsets : ndarray, shapes (K, 3) and (K,)
        Sign arbitrary; NaN where the pair is (nearly) along ``direction``.
    """
    return _normalised_planes(np.cross(p2 - p1, np.asarray(direction, dtype=float)), p1)


def _normalised_planes(normals: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lengths = np.linalg.norm(normals, axis=-1, keepdims=True)
    # Degenerate samples (coincident or collinear points) give a near-zero
    # cross product whose direction is noise: mark them instead of guessing.
    scale = np.maximum(np.linalg.norm(points, axis=-1, keepdims=True), 1e-9) ** 2
    degenerate = lengths < 1e-9 * scale
    with np.errstate(invalid="ignore", divide="ignore"):
        normals = np.where(degenerate, np.nan, normals / lengths)
    return normals, -np.einsum("...i,...i->...", normals, points)


def inverse_depth_planes(normals: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Planes as inverse-depth coefficients ``q = -n / d`` (1/m), shape (..., 3).

    ``q`` does not depend on the sign of ``(n, d)``. Planes through the camera
    centre (``d = 0``) have none: their ``q`` is not finite.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.asarray(normals, dtype=float) / np.asarray(offsets, dtype=float)[..., np.newaxis]


def planes_from_inverse_depth(q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit normals and offsets of inverse-depth planes ``q`` (1/m).

    The normal points toward the camera side (``d > 0``: the camera centre
    is on the positive side), so a floor's points up and a wall's into the room.
    """
    q = np.asarray(q, dtype=float)
    length = np.linalg.norm(q, axis=-1)
    return -q / length[..., np.newaxis], 1.0 / length


def fit_inverse_depth_plane(rays: np.ndarray, inverse_depth: np.ndarray, *,
                            containing: np.ndarray | None = None) -> np.ndarray:
    """Least-squares plane through pixels' inverse depths: ``q`` with ``1 / z = q . ray``.

    Parameters
    ----------
    rays : ndarray, shape (M, 3)
        Pixel rays scaled to z = 1 (:func:`pixel_rays`).
    inverse_depth : ndarray, shape (M,)
        1 / Z-depth of each pixel, 1/m.
    containing : ndarray, shape (3,), optional
        A direction the plane must contain (its normal is then perpendicular
        to it): a wall perpendicular to the floor.

    Returns
    -------
    ndarray, shape (3,)
        The plane's ``q``, 1/m (see :func:`planes_from_inverse_depth`).

    Raises
    ------
    ValueError
        Too few pixels for the fit, or rays that do not pin the plane down.
    """
    rays = np.asarray(rays, dtype=float)
    inverse_depth = np.asarray(inverse_depth, dtype=float)
    needed = 2 if containing is not None else 3
    if rays.ndim != 2 or rays.shape[1] != 3 or inverse_depth.shape != (len(rays),) or len(rays) < needed:
        raise ValueError(f"a plane fit needs at least {needed} rays of shape (M, 3) and one inverse depth each")
    # q . n_contained = 0 exactly when the normal is perpendicular to it:
    # solve in the 2-D subspace orthogonal to the contained direction.
    basis = np.eye(3) if containing is None else _orthonormal_complement(np.asarray(containing, dtype=float))
    design = rays @ basis
    coefficients, _, rank, _ = np.linalg.lstsq(design, inverse_depth, rcond=None)
    if rank < design.shape[1]:
        raise ValueError("the pixels of a plane fit lie on one line: they cannot fix a plane")
    return basis @ coefficients


def _orthonormal_complement(direction: np.ndarray) -> np.ndarray:
    """(3, 2) orthonormal basis of the plane perpendicular to ``direction``."""
    direction = direction / np.linalg.norm(direction)
    helper = np.eye(3)[np.argmin(np.abs(direction))]
    first = np.cross(direction, helper)
    first /= np.linalg.norm(first)
    return np.column_stack([first, np.cross(direction, first)])


def angle_between_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle between vectors along the last axis, degrees (0..180); accurate near 0 and 180."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    cross = np.linalg.norm(np.cross(a, b), axis=-1)
    dot = np.einsum("...i,...i->...", a, b)
    return np.degrees(np.arctan2(cross, dot))
