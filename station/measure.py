"""Per-frame measures from one depth frame and the room's calibration: pure numpy.

The camera watches the patient from the side, so the body's sagittal profile
(height y against distance from the wall z, in the room frame) is what the
measures come from:

1. Foreground: pixels clearly nearer than the empty scene's background depth
   (per-pixel noise from the calibration sets "clearly").
2. The patient: foreground points are binned on the floor plan (x, z); the
   connected blob nearest the drill spot is the patient, so a clinician or a
   chair a little way off is a separate blob and never disturbs the numbers.
3. The profile: the patient's points within a pelvis' width of the legs
   (arms held out left aside) in height slices give the rear contour; the
   buttocks are its rearmost bulge at hip height (a share of the body's top
   height). The trunk is the principal axis of the body above the
   buttocks, the thigh and shank the regression lines of the leg points
   above and below the knee.
4. The wall gap: along each image row through the buttocks, where the body's
   depth below the background ends (see :func:`_ramp_edges`). This holds
   where the body touches the wall and merges with it in depth, where no
   single pixel can tell body from wall.

Everything is vectorised; what does not change between frames (room rays,
thresholds, the plan grid) is computed once in :class:`Measurer`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from station.errors import WallHingeError
from station.slices import slice_quantile as _slice_quantile
from station.spine import BackReading, back_curvature

# Floor-plan grid for telling people apart (metres). 3 cm cells join one
# body's pieces after one dilation, and keep two people 10 cm apart separate.
PLAN_CELL_M = 0.03
PLAN_X_RANGE_M = (-1.6, 1.6)
PLAN_Z_RANGE_M = (0.0, 2.0)
# A plan cell holds part of a body when this many points fall in it at a
# D400's 424x240 focal length (about 212 px), and proportionally more at
# finer modes; fewer are the stereo's flying pixels strewn along the rays
# between two people, which would otherwise bridge them into one blob.
PLAN_MIN_POINTS = 3
PLAN_REFERENCE_FOCAL_PX = 212.0
# How far from the drill spot (x = 0) a person's blob may be centred and
# still be the patient.
DRILL_ZONE_HALF_WIDTH_M = 0.6
# A blob with at least this share of the biggest blob's points may be a
# person (a patient seen past a closer clinician shows less of themselves).
PERSON_SHARE = 0.3
# Height slices of the profile.
SLICE_M = 0.02
# The buttocks are sought among points within this lateral distance (m,
# along the wall) of the legs: the pelvis is about 0.35 m across, while
# elbows of hands set on the hips, or arms held out, reach further and would
# otherwise be the rearmost bulge of an upright body.
CORE_HALF_WIDTH_M = 0.14
# Where the buttocks can be, as a share of the body's top height: the hip
# joint is at 0.53 of stature standing (Winter's tables), higher in the
# frame's top height once the trunk tips forward; the calves' bulge is
# below the lower bound. Above the upper bound the rear bulge is taken only
# when it is clearly behind everything lower (a deep hinge); upright, a
# rounded upper back or a held stick may be the rearmost by a few cm.
HIP_SHARE_OF_TOP = (0.36, 0.62)
DEEP_HINGE_MARGIN_M = 0.05
# Half-height of the band around the buttocks whose rear edge gives the gap.
GAP_BAND_HALF_M = 0.08
# Half-height of the window of image rows whose median gap is one reading:
# the buttocks' vertical curve (radius about 0.1 m) rises under 5 mm over
# it, while the median sets aside rows a stray pixel or noise threw off.
ROW_WINDOW_HALF_M = 0.03
# Typical radius of the buttocks' horizontal cross-section (m). The camera
# sees the body from in front of its side, so the rearmost point is hidden
# behind the silhouette by about r (1 - cos(view angle to the wall)).
BUTTOCK_RADIUS_M = 0.08


class FrameError(WallHingeError, ValueError):
    """A depth frame that cannot be measured at all (wrong size, no depth data)."""


@dataclass(frozen=True)
class Measures:
    """What one frame says about the patient. Lengths in mm, angles in degrees.

    ``None`` means the frame does not show enough to measure that.
    ``position_x_m`` is where the patient is along the wall (m, mean of their
    points' x), so a caller can tell standing still from walking along it.
    ``back_curvature_deg`` is the back outline's absolute turn from the low
    back to the upper back (:mod:`station.spine`), read only when the
    set-up shows the back (``Measurer(..., back=True)``); otherwise, or where
    the frame does not show it, None, with ``back_reason`` saying why.
    ``spine_flexion_deg`` is None per frame: flexion is against the set's
    standing baseline, which the rep detector keeps
    (:class:`station.spine.SpineBaseline`).
    """

    present: bool
    confidence: float
    wall_gap_mm: float | None = None
    trunk_angle_deg: float | None = None
    knee_flexion_deg: float | None = None
    spine_flexion_deg: float | None = None
    patient_pixels: int = 0
    position_x_m: float | None = None
    back_curvature_deg: float | None = None
    back_reason: str | None = None


ABSENT = Measures(present=False, confidence=0.0)
NOT_IN_VIEW = BackReading(None, "back not in view from this set-up")


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
        The room frame, intrinsics, room rays and empty-scene background.
    min_depth_step_m : float
        Smallest depth step, metres, that counts as foreground however quiet
        the background is (sensor quantisation and flying pixels).
    noise_multiple : float
        How many per-pixel noise standard deviations nearer than the
        background a pixel must be to count as foreground.
    back : bool
        Read the back's curvature: only for a set-up that shows the back
        (:mod:`station.setup`). From the side mount with the hands on the
        hips the outline it would read is the elbow's.
    """

    def __init__(self, calibration, *, min_depth_step_m: float = 0.04, noise_multiple: float = 4.0,
                 back: bool = False):
        if min_depth_step_m <= 0 or noise_multiple <= 0:
            raise ValueError("min_depth_step_m and noise_multiple must be positive")
        self.calibration = calibration
        self._back = back
        intrinsics = calibration.intrinsics
        self.shape = (intrinsics.height, intrinsics.width)
        self._origin = calibration.camera_pose.translation.astype(np.float32)
        self._rays = np.asarray(calibration.rays_room(), np.float32).reshape(-1, 3)
        background = np.asarray(calibration.background_m, np.float32).reshape(-1)
        noise = np.asarray(calibration.background_noise_m, np.float32).reshape(-1)
        # A pixel is foreground when nearer than this depth (metres); where the
        # empty scene had no data, anything valid is a candidate.
        self._foreground_below_m = np.where(background > 0,
                                            background - np.maximum(noise_multiple * noise, min_depth_step_m),
                                            np.inf).astype(np.float32)
        # Footprint of one pixel at 1 m (m^2): area = footprint * depth^2.
        self._pixel_area_at_1m = 1.0 / (intrinsics.fx * intrinsics.fy)
        self._background = background
        self._width = intrinsics.width
        # Pixels searched either side of the rear edge: about 8 cm at 2 m.
        self._edge_window = max(4, int(round(0.08 * intrinsics.fx / 2.0)))
        self._plan_min_points = max(PLAN_MIN_POINTS, int(round(
            PLAN_MIN_POINTS * intrinsics.fx * intrinsics.fy / PLAN_REFERENCE_FOCAL_PX ** 2)))
        self._plan_shape = (int(round((PLAN_X_RANGE_M[1] - PLAN_X_RANGE_M[0]) / PLAN_CELL_M)),
                            int(round((PLAN_Z_RANGE_M[1] - PLAN_Z_RANGE_M[0]) / PLAN_CELL_M)))

    def _check(self, depth: np.ndarray) -> None:
        if not isinstance(depth, np.ndarray) or depth.ndim != 2 or depth.dtype != np.uint16:
            raise FrameError("a depth frame is a 2-D uint16 array in the camera's depth units")
        if depth.shape != self.shape:
            raise FrameError(f"the frame is {depth.shape[1]}x{depth.shape[0]} but the calibration is for "
                             f"{self.shape[1]}x{self.shape[0]}: recalibrate at this resolution")
        if not depth.any():
            raise FrameError("the frame has no depth data at all: check that nothing covers the camera")

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
        counts = np.bincount(cells_x * self._plan_shape[1] + cells_z, minlength=self._plan_shape[0] * self._plan_shape[1])
        occupied = ndimage.binary_dilation(counts.reshape(self._plan_shape) >= self._plan_min_points)
        labels, count = ndimage.label(occupied)
        if count == 0:
            return np.empty((0, 3), np.float32), np.empty(0, np.intp)
        point_labels = labels[cells_x, cells_z]
        sizes = np.bincount(point_labels, minlength=count + 1)
        centre_x = np.bincount(point_labels, weights=points[:, 0], minlength=count + 1) / np.maximum(sizes, 1)
        # The patient: of the person-sized blobs centred within the drill zone,
        # the one nearest the drill wall. A spotter or the next participant
        # stands further out, and may well look bigger to the camera.
        eligible = (np.abs(centre_x) < DRILL_ZONE_HALF_WIDTH_M) & (np.arange(count + 1) > 0)
        if not eligible.any():
            return np.empty((0, 3), np.float32), np.empty(0, np.intp)
        person_sized = np.flatnonzero(eligible & (sizes >= PERSON_SHARE * sizes[eligible].max()))
        # One or two blobs at most: nearest the wall by their rearmost plan cell.
        patient = min(person_sized, key=lambda label: cells_z[point_labels == label].min())
        keep = point_labels == patient
        return points[keep], candidates[keep]

    def measure(self, depth: np.ndarray) -> Measures:
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
        # Below 0.3 of the top are the shanks and feet, either side of the
        # body's midline whatever the arms do.
        legs = points[:, 1] < 0.3 * height_m
        legs_x = float(np.median(points[legs, 0] if np.count_nonzero(legs) > 20 else points[:, 0]))
        core = np.abs(points[:, 0] - legs_x) < CORE_HALF_WIDTH_M
        core_points, core_pixels = points[core], pixels[core]
        profile = _profile(core_points[:, 1], core_points[:, 2], height_m)
        if profile is None:
            return Measures(present=True, confidence=confidence, patient_pixels=len(points),
                            position_x_m=float(points[:, 0].mean()))
        # The rear-edge fit sees the gap even where the body merges with the
        # wall; the profile's rear bulge is the fallback when it cannot run.
        gap_mm, hip_y = profile
        edge_gap_m = self._rear_edge_gap_m(depth, core_points, core_pixels, hip_y)
        if edge_gap_m is not None:
            gap_mm = max(0.0, edge_gap_m * 1000.0)
        y, z = points[:, 1], points[:, 2]
        above = y > hip_y
        trunk = _principal_angle_deg(y[above], z[above]) if np.count_nonzero(above) > 30 else None
        knee = _knee_flexion_deg(y, z, hip_y)
        back = back_curvature(points, hip_y, trunk) if self._back else NOT_IN_VIEW
        return Measures(present=True, confidence=confidence, wall_gap_mm=gap_mm, trunk_angle_deg=trunk,
                        knee_flexion_deg=knee, patient_pixels=len(points), position_x_m=float(points[:, 0].mean()),
                        back_curvature_deg=back.curvature_deg, back_reason=back.reason)

    def _rear_edge_gap_m(self, depth: np.ndarray, points: np.ndarray, pixels: np.ndarray, hip_y: float):
        """Distance of the buttocks' rear edge from the wall, metres, from the image rows through them.

        Along each row the body is nearer than the background and the wall
        behind it is not. Fitting where (background - depth) falls to zero,
        and by how big a step, finds the body's rear edge even where the body
        nearly touches the wall and single pixels cannot tell the two apart;
        the body's depth at the edge, on the edge's ray, is the rear tangent
        point.
        """
        band = np.abs(points[:, 1] - hip_y) < GAP_BAND_HALF_M
        if np.count_nonzero(band) < 20:
            return None
        rows, cols = np.divmod(pixels[band], self._width)
        z = points[band, 2]
        # Which way along a row the wall is: columns where the body is nearer the wall.
        toward_wall = -1 if np.polyfit(cols.astype(float), z, 1)[0] > 0 else 1
        unique_rows, inverse = np.unique(rows, return_inverse=True)
        extreme = np.full(len(unique_rows), -1 if toward_wall > 0 else self._width, np.intp)
        (np.maximum if toward_wall > 0 else np.minimum).at(extreme, inverse, cols)
        window = self._edge_window
        offsets = np.arange(-window, window + 1) * toward_wall  # body side first, then wall side
        columns = extreme[:, np.newaxis] + offsets
        inside = (columns >= 0) & (columns < self._width)
        flat = unique_rows[:, np.newaxis] * self._width + np.clip(columns, 0, self._width - 1)
        unit = np.float32(self.calibration.depth_unit_m)
        depth_m = depth.reshape(-1)[flat].astype(np.float32) * unit
        background = self._background[flat]
        valid = inside & (depth_m > 0) & (background > 0)
        difference = np.where(valid, background - depth_m, 0.0)
        edge, step = _ramp_edges(difference, valid)
        if np.count_nonzero(np.isfinite(edge)) < 3:
            return None
        # The rear edge lies between two pixels; its ray is their rays' mean,
        # and the body there is ``step`` nearer than the wall behind it.
        rows_index = np.arange(len(edge))
        split = np.clip(np.nan_to_num(edge, nan=1.0).astype(np.intp), 1, len(offsets) - 1)
        pair = np.stack([flat[rows_index, split - 1], flat[rows_index, split]])
        edge_rays = 0.5 * (self._rays[pair[0]] + self._rays[pair[1]])
        edge_depth = 0.5 * (self._background[pair[0]] + self._background[pair[1]]) - step
        # The last body pixel's centre lies a random fraction s of a pixel
        # inside the outline, where a surface of radius r curving away has
        # fallen back sqrt(2 r s pitch): on average the tangent point is
        # (2/3) sqrt(2 r pitch) deeper along the ray than the fit ends.
        pitch_m = np.maximum(edge_depth, 0.05) / np.float32(self.calibration.intrinsics.fx)
        edge_depth = edge_depth + (2.0 / 3.0) * np.sqrt(2.0 * BUTTOCK_RADIUS_M * pitch_m)
        found = np.isfinite(edge) & (self._background[pair[0]] > 0) & (self._background[pair[1]] > 0)
        edge_y = self._origin[1] + edge_rays[:, 1] * edge_depth
        edge_z = self._origin[2] + edge_rays[:, 2] * edge_depth
        horizontal = np.hypot(edge_rays[:, 0], edge_rays[:, 2])
        hidden = BUTTOCK_RADIUS_M * (1.0 - np.abs(edge_rays[:, 0]) / horizontal)
        row_gap = edge_z - hidden
        keep = found & np.isfinite(row_gap) & np.isfinite(edge_y)
        if np.count_nonzero(keep) < 3:
            return None
        # The closest window of rows by its median, not the closest rows: with
        # 1-2 cm of noise per row, the lowest few rows read low by the noise.
        return _lowest_windowed_median(edge_y[keep].astype(np.float64), row_gap[keep].astype(np.float64),
                                       ROW_WINDOW_HALF_M)


def _lowest_windowed_median(heights: np.ndarray, values: np.ndarray, half_m: float, min_rows: int = 3):
    """The lowest, over rows, of the median ``values`` of the rows within ``half_m`` of its height; None if no window has ``min_rows``."""
    near = np.abs(heights[:, np.newaxis] - heights[np.newaxis, :]) <= half_m
    count = near.sum(axis=1)
    ordered = np.sort(np.where(near, values[np.newaxis, :], np.inf), axis=1)
    index = np.arange(len(values))
    median = 0.5 * (ordered[index, np.maximum(count - 1, 0) // 2] + ordered[index, count // 2])
    best = float(np.where(count >= min_rows, median, np.inf).min())
    return best if np.isfinite(best) else None


def _ramp_edges(difference: np.ndarray, valid: np.ndarray):
    """Per row, where a body's depth below the background ends, and the step there.

    Each row of ``difference`` (background minus depth, metres; body side
    first, wall side last) is fitted by least squares as ``c + a * x`` over
    the body side, ``x`` being the distance to the edge in pixels, and 0 on
    the wall side. A surface curving into the wall gives a ramp (c near 0), a
    body standing clear of it a step (c > 0). Sums over every candidate edge
    come from cumulative sums, so all rows and edges are fitted at once.

    Returns
    -------
    edge : ndarray (rows,)
        Index of the first wall-side pixel, NaN where no edge was found.
    step : ndarray (rows,)
        The fitted step ``c`` (metres, at least 0).
    """
    rows, width = difference.shape
    k = np.arange(width, dtype=np.float64)
    v = valid.astype(np.float64)
    d = difference.astype(np.float64)

    def prefix(values):  # sums over k < s for s = 0..width
        return np.concatenate([np.zeros((rows, 1)), np.cumsum(values, axis=1)], axis=1)

    n, sk, skk = prefix(v), prefix(v * k), prefix(v * k * k)
    sd, sdk, sdd = prefix(v * d), prefix(v * d * k), prefix(v * d * d)
    s = np.arange(width + 1, dtype=np.float64) - 0.5  # the edge position for each split
    sx = s * n - sk  # x = s - k
    sxx = s * s * n - 2.0 * s * sk + skk
    sxd = s * sd - sdk
    with np.errstate(divide="ignore", invalid="ignore"):
        determinant = n * sxx - sx * sx
        c = (sxx * sd - sx * sxd) / determinant
        a = (n * sxd - sx * sd) / determinant
        # A negative step is no step: refit the ramp alone through zero.
        ramp_only = c < 0
        a = np.where(ramp_only, sxd / sxx, a)
        c = np.where(ramp_only, 0.0, c)
        left_sse = sdd - 2.0 * (c * sd + a * sxd) + c * c * n + 2.0 * c * a * sx + a * a * sxx
    right_sse = sdd[:, -1:] - sdd
    cost = left_sse + right_sse
    enough = (n >= 3) & ((n[:, -1:] - n) >= 2) & np.isfinite(cost)
    cost = np.where(enough, cost, np.inf)
    best = np.argmin(cost, axis=1)
    rows_index = np.arange(rows)
    found = np.isfinite(cost[rows_index, best])
    edge = np.where(found, best.astype(np.float64), np.nan)
    step = np.where(found, np.maximum(c[rows_index, best], 0.0), 0.0)
    return edge, step


def _profile(y: np.ndarray, z: np.ndarray, top_m: float):
    """Rough wall gap (mm) and buttock height (m) from the side profile's rear bulge, or None.

    ``y`` and ``z`` are the body's core points (arms held out excluded);
    ``top_m`` is the body's top height, which bounds where the hips can be.
    """
    band = (y > max(0.4, HIP_SHARE_OF_TOP[0] * top_m)) & (y < 1.3)
    if np.count_nonzero(band) < 40:
        return None
    slices = ((y[band] - 0.4) / SLICE_M).astype(np.intp)
    n_slices = int(np.ceil(0.9 / SLICE_M)) + 1
    rear, counts = _slice_quantile(slices, z[band], 0.03, n_slices)
    rear = np.where(counts >= 5, rear, np.nan)
    if np.all(np.isnan(rear)):
        return None
    # Smooth over three slices so one noisy slice does not make the bulge.
    filled = np.pad(np.isfinite(rear), 1).astype(float)
    values = np.pad(np.nan_to_num(rear), 1)
    neighbours = filled[:-2] + filled[1:-1] + filled[2:]
    with np.errstate(invalid="ignore", divide="ignore"):
        smooth = (values[:-2] + values[1:-1] + values[2:]) / neighbours
    smooth[~np.isfinite(rear)] = np.nan
    heights = 0.4 + (np.arange(n_slices) + 0.5) * SLICE_M
    deepest = int(np.nanargmin(smooth))
    low = np.where(heights < HIP_SHARE_OF_TOP[1] * top_m, smooth, np.nan)
    if not np.all(np.isnan(low)):
        lowest = int(np.nanargmin(low))
        if smooth[deepest] > smooth[lowest] - DEEP_HINGE_MARGIN_M:
            deepest = lowest
    return max(0.0, float(smooth[deepest]) * 1000.0), float(heights[deepest])


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

