"""Per-frame measures from one depth frame and the room's calibration: pure numpy.

The camera watches the patient from the side, so the body's sagittal profile
(height y against distance from the wall z, in the room frame) is what the
measures come from:

1. Foreground: pixels clearly nearer than the empty scene's background depth
   (per-pixel noise from the calibration sets "clearly").
2. The patient: foreground points are binned on the floor plan (x, z); the
   connected blob nearest the drill spot is the patient, so a clinician or a
   chair a little way off is a separate blob and never disturbs the numbers.
3. The profile: the patient's points in height slices give the rear and front
   contours. The buttocks are the rearmost bulge between knee and chest
   height; the wall gap is how far that bulge is from the wall plane. The
   trunk is the principal axis of the body above the hips, the thigh and
   shank those of the leg points between hips, knee and ankle.

Everything is vectorised; what does not change between frames (room rays,
thresholds, the plan grid) is computed once in :class:`Measurer`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from station.geometry import pixel_rays

# Floor-plan grid for telling people apart (metres). 3 cm cells join one
# body's pieces after one dilation, and keep two people 10 cm apart separate.
PLAN_CELL_M = 0.03
PLAN_X_RANGE_M = (-1.6, 1.6)
PLAN_Z_RANGE_M = (0.0, 2.0)
# How far from the drill spot (x = 0) a person's blob may be centred and
# still be the patient.
DRILL_ZONE_HALF_WIDTH_M = 0.6
# Height slices of the profile.
SLICE_M = 0.02


@dataclass(frozen=True)
class Measures:
    """What one frame says about the patient. Lengths in mm, angles in degrees.

    ``None`` means the frame does not show enough to measure that.
    ``spine_curvature_deg`` is the bend between the lower and upper back
    lines as seen; ``spine_flexion_deg`` is that bend minus the patient's own
    standing baseline (when one is given).
    """

    present: bool
    confidence: float
    wall_gap_mm: float | None = None
    trunk_angle_deg: float | None = None
    knee_flexion_deg: float | None = None
    spine_curvature_deg: float | None = None
    spine_flexion_deg: float | None = None
    patient_pixels: int = 0


ABSENT = Measures(present=False, confidence=0.0)


def _principal_angle_deg(y: np.ndarray, z: np.ndarray) -> float:
    """Angle from vertical of the points' principal axis in the y-z plane, + toward +z."""
    y0, z0 = y - y.mean(), z - z.mean()
    cov_yy, cov_zz, cov_yz = np.mean(y0 * y0), np.mean(z0 * z0), np.mean(y0 * z0)
    # Orientation of the major axis of the 2x2 covariance (closed form).
    angle = 0.5 * np.arctan2(2.0 * cov_yz, cov_yy - cov_zz)
    return float(np.degrees(angle))


class Measurer:
    """Measures frames for one calibration.

    Parameters
    ----------
    calibration : station.calibration.Calibration
        The room frame, intrinsics and empty-scene background.
    min_depth_step_m : float
        Smallest depth step, metres, that counts as foreground however quiet
        the background is (sensor quantisation and flying pixels).
    noise_multiple : float
        How many per-pixel noise standard deviations nearer than the
        background a pixel must be to count as foreground.
    """

    def __init__(self, calibration, *, min_depth_step_m: float = 0.04, noise_multiple: float = 4.0):
        if min_depth_step_m <= 0 or noise_multiple <= 0:
            raise ValueError("min_depth_step_m and noise_multiple must be positive")
        self.calibration = calibration
        intrinsics = calibration.intrinsics
        self.shape = (intrinsics.height, intrinsics.width)
        pose = calibration.camera_pose
        self._origin = pose.translation.astype(np.float32)
        self._rays = (pixel_rays(intrinsics) @ pose.rotation.T).astype(np.float32).reshape(-1, 3)
        background = np.asarray(calibration.background_m, np.float32).reshape(-1)
        noise = np.asarray(calibration.background_noise_m, np.float32).reshape(-1)
        # A pixel is foreground when nearer than this depth (metres); where the
        # empty scene had no data, anything valid is a candidate.
        self._foreground_below_m = np.where(background > 0,
                                            background - np.maximum(noise_multiple * noise, min_depth_step_m),
                                            np.inf).astype(np.float32)
        # Footprint of one pixel at 1 m (m^2): area = footprint * depth^2.
        self._pixel_area_at_1m = 1.0 / (intrinsics.fx * intrinsics.fy)
        self._plan_shape = (int(round((PLAN_X_RANGE_M[1] - PLAN_X_RANGE_M[0]) / PLAN_CELL_M)),
                            int(round((PLAN_Z_RANGE_M[1] - PLAN_Z_RANGE_M[0]) / PLAN_CELL_M)))

    def _check(self, depth: np.ndarray) -> None:
        if not isinstance(depth, np.ndarray) or depth.ndim != 2:
            raise ValueError("a depth frame is a 2-D array")
        if depth.shape != self.shape:
            raise ValueError(f"the frame is {depth.shape[1]}x{depth.shape[0]} but the calibration is for "
                             f"{self.shape[1]}x{self.shape[0]}: recalibrate at this resolution")

    def patient_points(self, depth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Room points (N, 3) of the patient and their flat pixel indices; empty when nobody is there."""
        self._check(depth)
        depth_m = depth.reshape(-1).astype(np.float32) * np.float32(self.calibration.depth_unit_m)
        candidates = np.flatnonzero((depth_m > 0) & (depth_m < self._foreground_below_m))
        if candidates.size == 0:
            return np.empty((0, 3), np.float32), candidates
        points = self._origin + self._rays[candidates] * depth_m[candidates, np.newaxis]
        # Above the floor and in front of the wall by more than the noise, inside the plan.
        inside = ((points[:, 1] > 0.03) & (points[:, 2] > 0.0)
                  & (points[:, 0] > PLAN_X_RANGE_M[0]) & (points[:, 0] < PLAN_X_RANGE_M[1])
                  & (points[:, 2] < PLAN_Z_RANGE_M[1]))
        points, candidates = points[inside], candidates[inside]
        if len(points) == 0:
            return points, candidates
        cells_x = ((points[:, 0] - PLAN_X_RANGE_M[0]) / PLAN_CELL_M).astype(np.intp)
        cells_z = ((points[:, 2] - PLAN_Z_RANGE_M[0]) / PLAN_CELL_M).astype(np.intp)
        counts = np.zeros(self._plan_shape, np.int32)
        np.add.at(counts, (cells_x, cells_z), 1)
        occupied = ndimage.binary_dilation(counts >= 2)
        labels, count = ndimage.label(occupied)
        if count == 0:
            return np.empty((0, 3), np.float32), np.empty(0, np.intp)
        point_labels = labels[cells_x, cells_z]
        sizes = np.bincount(point_labels, minlength=count + 1)
        centre_x = np.bincount(point_labels, weights=points[:, 0], minlength=count + 1) / np.maximum(sizes, 1)
        # The patient: the biggest blob centred within the drill zone.
        eligible = (np.abs(centre_x) < DRILL_ZONE_HALF_WIDTH_M) & (np.arange(count + 1) > 0)
        if not eligible.any():
            return np.empty((0, 3), np.float32), np.empty(0, np.intp)
        patient = int(np.argmax(np.where(eligible, sizes, -1)))
        keep = point_labels == patient
        return points[keep], candidates[keep]

    def measure(self, depth: np.ndarray, *, spine_baseline_deg: float | None = None) -> Measures:
        """The measures of one depth frame (uint16 in the calibration's depth units)."""
        points, pixels = self.patient_points(depth)
        if len(points) < 50:
            return ABSENT
        depth_m = depth.reshape(-1)[pixels].astype(np.float32) * np.float32(self.calibration.depth_unit_m)
        area_m2 = float(np.sum(depth_m * depth_m)) * self._pixel_area_at_1m
        height_m = float(np.percentile(points[:, 1], 99.5))
        # A standing or hinging adult shows at least ~0.25 m^2 of side and is
        # over a metre tall; less is a passer-by's edge or an object.
        confidence = float(np.clip(min(area_m2 / 0.35, (height_m - 0.6) / 0.6), 0.0, 1.0))
        if confidence < 0.5:
            return Measures(present=False, confidence=confidence, patient_pixels=len(points))
        profile = _profile(points[:, 1], points[:, 2])
        if profile is None:
            return Measures(present=True, confidence=confidence, patient_pixels=len(points))
        gap_mm, hip_y, rear_z = profile
        y, z = points[:, 1], points[:, 2]
        above = y > hip_y + 0.05
        trunk = _principal_angle_deg(y[above], z[above]) if np.count_nonzero(above) > 30 else None
        knee = _knee_flexion_deg(y, z, hip_y)
        curvature = _spine_curvature_deg(y[above], z[above]) if np.count_nonzero(above) > 60 else None
        flexion = None if curvature is None or spine_baseline_deg is None else curvature - spine_baseline_deg
        return Measures(present=True, confidence=confidence, wall_gap_mm=gap_mm, trunk_angle_deg=trunk,
                        knee_flexion_deg=knee, spine_curvature_deg=curvature, spine_flexion_deg=flexion,
                        patient_pixels=len(points))


def _slice_quantile(slices: np.ndarray, values: np.ndarray, q: float, n_slices: int):
    """Per-slice ``q`` quantile of ``values`` (NaN for empty slices), vectorised by sorting."""
    order = np.lexsort((values, slices))
    slices, values = slices[order], values[order]
    counts = np.bincount(slices, minlength=n_slices)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    index = starts + np.floor(q * np.maximum(counts - 1, 0)).astype(np.intp)
    result = np.full(n_slices, np.nan)
    filled = counts > 0
    result[filled] = values[index[filled]]
    return result, counts


def _profile(y: np.ndarray, z: np.ndarray):
    """Wall gap (mm), buttock height (m) and rear position (m) from the side profile, or None."""
    band = (y > 0.4) & (y < 1.3)
    if np.count_nonzero(band) < 40:
        return None
    slices = ((y[band] - 0.4) / SLICE_M).astype(np.intp)
    n_slices = int(np.ceil(0.9 / SLICE_M)) + 1
    rear, counts = _slice_quantile(slices, z[band], 0.03, n_slices)
    rear = np.where(counts >= 5, rear, np.nan)
    if np.all(np.isnan(rear)):
        return None
    # Smooth over three slices so one noisy slice does not make the bulge.
    padded = np.pad(rear, 1, constant_values=np.nan)
    smooth = np.nanmean(np.stack([padded[:-2], padded[1:-1], padded[2:]]), axis=0)
    deepest = int(np.nanargmin(smooth))
    rear_z = float(smooth[deepest])
    hip_y = 0.4 + (deepest + 0.5) * SLICE_M
    return max(0.0, rear_z * 1000.0), hip_y, rear_z


def _knee_flexion_deg(y: np.ndarray, z: np.ndarray, hip_y: float) -> float | None:
    """Angle between thigh and shank axes, from leg points split at the knee height."""
    # Standing, the knee is a little above halfway from floor to hip.
    knee_y = 0.52 * hip_y
    thigh = (y > knee_y + 0.04) & (y < hip_y - 0.06)
    shank = (y > 0.12) & (y < knee_y - 0.04)
    if np.count_nonzero(thigh) < 20 or np.count_nonzero(shank) < 20:
        return None
    # Legs are within about 70 degrees of vertical: regressing z on y is
    # stable there even for a short band, where a principal axis can flip.
    thigh_angle = np.degrees(np.arctan(np.polyfit(y[thigh], z[thigh], 1)[0]))
    shank_angle = np.degrees(np.arctan(np.polyfit(y[shank], z[shank], 1)[0]))
    return float(abs(shank_angle - thigh_angle))


def _spine_curvature_deg(y: np.ndarray, z: np.ndarray) -> float | None:
    """Bend between the lower and the upper half of the trunk's principal axis."""
    axis = np.radians(_principal_angle_deg(y, z))
    along = (y - y.mean()) * np.cos(axis) + (z - z.mean()) * np.sin(axis)
    lower, upper = along < np.median(along), along >= np.median(along)
    if np.count_nonzero(lower) < 30 or np.count_nonzero(upper) < 30:
        return None
    return _principal_angle_deg(y[upper], z[upper]) - _principal_angle_deg(y[lower], z[lower])
