"""The room frame a calibration finds: where the camera is, and what the empty scene looks like.

:class:`Calibration` is what :func:`station.calibration.calibrate` makes,
:mod:`station.calibration_files` keeps in a file, :mod:`station.camera_check`
checks a live frame against, and :class:`station.measure.Measurer` measures with.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from station.errors import CalibrationError
from station.geometry import Intrinsics, Pose, pixel_rays

__all__ = ["Calibration", "CalibrationError"]


@dataclass(frozen=True, eq=False)
class Calibration:
    """Where the camera is in the room, and what the empty scene looks like.

    Compared by identity (``eq=False``): its fields hold arrays.

    Attributes
    ----------
    intrinsics : Intrinsics
        Of the depth stream it was made with.
    camera_pose : Pose
        Camera frame to room frame (``docs/drill.md``), metres.
    depth_unit_m : float
        Metres per depth unit of the stream.
    background_m : ndarray, shape (H, W), float32
        Per-pixel median depth of the empty scene, metres; 0 where there is
        no reliable data.
    background_noise_m : ndarray, shape (H, W), float32
        Per-pixel robust temporal standard deviation (1.4826 * MAD, the MAD
        taken as at least half a depth unit) of that depth, metres; 0 where
        unknown.
    floor_rms_mm, wall_rms_mm : float
        RMS distance of the floor (wall) inliers of the background to the
        room frame's floor (wall) plane, millimetres.
    floor_share, wall_share : float
        Share (0-1) of the reliable pixels that are floor (wall) inliers.
    planes_angle_deg : float
        Angle between the floor's and the freely fitted wall's normals,
        degrees (ideal 90), before the wall is made perpendicular.
    source : str
        Camera serial or recording path.
    created : str
        ISO 8601 UTC timestamp.
    frames_used : int
        Depth frames the background was made from.
    """

    intrinsics: Intrinsics
    camera_pose: Pose
    depth_unit_m: float
    background_m: np.ndarray
    background_noise_m: np.ndarray
    floor_rms_mm: float
    wall_rms_mm: float
    floor_share: float
    wall_share: float
    planes_angle_deg: float
    source: str
    created: str
    frames_used: int

    def rays_room(self) -> np.ndarray:
        """Room-frame direction of every pixel's ray, shape (H, W, 3), read-only.

        Scaled so that ``depth_m * ray + camera_pose.translation`` is the room
        point a pixel of Z-depth ``depth_m`` (metres) sees. Computed once per
        calibration.
        """
        return self._rays_room

    def points_room(self, depth_m: np.ndarray) -> np.ndarray:
        """Room points (metres) of a depth image in metres, shape (H, W, 3).

        Pixels with no data (depth 0, negative or not finite) give NaN.
        """
        depth_m = np.asarray(depth_m)
        shape = (self.intrinsics.height, self.intrinsics.width)
        if depth_m.shape != shape:
            raise ValueError(f"depth image is {depth_m.shape}, the calibration's stream {shape}")
        depth = depth_m.astype(np.float64)
        with np.errstate(invalid="ignore"):
            depth[~(depth > 0)] = np.nan  # also catches NaN
        depth[~np.isfinite(depth)] = np.nan
        return depth[..., np.newaxis] * self._rays_room + self.camera_pose.translation

    @functools.cached_property
    def _rays_room(self) -> np.ndarray:
        # cached_property writes the instance __dict__ directly, so it works
        # on a frozen dataclass.
        rays = np.einsum("ij,hwj->hwi", self.camera_pose.rotation, pixel_rays(self.intrinsics))
        rays.flags.writeable = False
        return rays
