"""Calibration: the room frame from a capture of the empty scene.

Every measure is taken in the room frame of ``docs/drill.md`` (x along
the drill wall, y up with the floor at y = 0, z out of the drill wall into the
room with the wall surface at z = 0). :func:`calibrate` finds it from about
two seconds of depth frames of the empty scene:

1. Per pixel, the median depth over the frames (the background) and its
   robust temporal spread. The spread gives the camera's noise: a D400
   measures disparity, so its depth error grows with the square of the depth,
   ``sigma = k * z**2``, and ``k`` (the error of inverse depth, 1/m) depends
   on the model, the mode and the unit, so it is measured, not assumed.
   Planes are handled in inverse depth (``1 / z = q . ray``), where that
   error is the same everywhere: every band is a multiple of ``k``, and every
   fit is plain least squares, unbiased where an orthogonal fit of the points
   would be tilted by their large errors along the rays.
2. The floor: RANSAC over planes through three nearby background points,
   keeping only planes whose normal (pointing toward the camera) is within
   25 degrees of the camera's up, or of the accelerometer's when given. The
   ceiling faces down and the walls sideways, so neither can be taken for it.
3. The drill wall: RANSAC over vertical planes (perpendicular to the floor,
   so two points make one) that the camera faces obliquely. The rule: the
   angle between the wall and the camera's horizontal viewing direction is
   3 to 45 degrees and the camera looks toward it, not away. The reference
   mount turns the camera 10-35 degrees toward the drill wall (give or take
   its aim), so this excludes the far end wall (which it faces nearly
   head-on, 45-90 degrees), the room's opposite wall (which it looks away
   from) and the side faces of furniture standing square to the room; of
   what remains, the plane with the most support wins, and the drill wall
   fills far more of the view than any furniture.
4. Both planes are refined by least squares on their inliers, with a band
   that follows the fit's own residuals (a real camera's static error is
   larger than the simulator's). The foot of a wall lies within noise of the
   floor plane, and the floor by the wall within noise of the wall plane;
   each point's slope in the image (rising or level) keeps them apart. The
   room frame takes y from the floor and z from the wall fitted perpendicular
   to it; the angle between the floor and the wall fitted freely is kept as a
   quality figure.
5. The origin along x: see :func:`_camera_x`.

A calibration that cannot be trusted is refused with :class:`CalibrationError`
and a one-line message saying what is wrong and what to do.

This module is the fit. What it makes, :class:`~station.calibration_model.Calibration`,
lives in :mod:`station.calibration_model`; :func:`station.camera_check.camera_moved`
checks a live frame against it, and :mod:`station.calibration_files` keeps it
in a readable JSON file.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from station.calibration_model import Calibration
from station.errors import CalibrationError
from station.geometry import (Intrinsics, Pose, angle_between_deg, fit_inverse_depth_plane, inverse_depth_planes,
                              pixel_rays, planes_containing_direction, planes_from_inverse_depth,
                              planes_through_points)

# -- what is accepted ------------------------------------------------------------

MIN_FRAMES = 10  # fewer cannot tell noise from change, nor give a stable median
# A pixel's background is reliable when at least this share of the frames
# have depth there: D400 dropouts are a few percent, so a pixel valid less
# than half the time is at the edge of a shadow or a grazing surface.
_RELIABLE_SHARE = 0.5
# Below this share of reliable pixels the camera sees too little to calibrate.
_MIN_RELIABLE_SHARE = 0.2
# 1.4826 * MAD estimates the standard deviation of Gaussian noise.
MAD_TO_SIGMA = 1.4826

# -- plane search ----------------------------------------------------------------

# RANSAC scores hypotheses on a random subset of the reliable pixels: a few
# thousand points tell the best-supported plane as well as all of them.
_SCORING_POINTS = 4000
_FLOOR_HYPOTHESES = 384
_WALL_HYPOTHESES = 256
_HYPOTHESIS_BATCH = 64  # hypotheses scored at once: (64, 4000) arrays stay in cache
# Sample points of one hypothesis lie within this share of the image width of
# each other, so they usually fall on the same surface (the floor is only
# 10-30 % of the view: three points drawn from anywhere would rarely all be
# floor).
_SAMPLE_WINDOW_SHARE = 0.08
# Rows between a point and the one whose step to it tells a rising surface
# from a level one (share of the image height): far enough that noise does
# not swamp the step.
_STEP_ROWS_SHARE = 1.0 / 40.0
_SLOPE_SINE = np.sin(np.radians(45.0))  # steeper is rising (a wall), flatter level (the floor)
# Bands in sigmas of one frame's noise: generous on the median image and
# robust to a real camera's static error, which the median does not remove.
_RANSAC_BAND_SIGMAS = 3.0
_REFINE_BAND_SIGMAS = 3.0  # robust sigmas of the fit's own residuals
_REFINE_ROUNDS = 4
# The refinement's first band, in sigmas of the median image's noise.
_REFINE_START_SPREAD = 2.0
_REFINE_POINTS = 50000
MIN_FIT_POINTS = 50

FLOOR_CONE_DEG = 25.0  # floor normal vs the camera's (or the accelerometer's) up
# Searched only to say so when the floor is missing from that cone: walls
# are 90 degrees from up and the ceiling 180, so this still finds no other.
_STEEP_CONE_DEG = 60.0
# With an accelerometer the fitted floor must agree with its up this well;
# D435i/D455 IMUs are factory-aligned to the depth frame within a degree or so.
GRAVITY_AGREEMENT_DEG = 5.0
# An accelerometer up this far from the camera's own up is not believed: the
# reference mount keeps the camera within 15 degrees of level.
MAX_GRAVITY_TILT_DEG = 45.0
# Angle between the drill wall and the camera's horizontal viewing direction.
WALL_VIEW_DEG = (3.0, 45.0)
MAX_PLANES_SKEW_DEG = 5.0  # floor and wall normals may be this far from 90 degrees
MIN_FLOOR_SHARE = 0.03
MIN_WALL_SHARE = 0.05

# The reference mount puts the camera 1.5-2.5 m from the drill spot: the
# origin is placed opposite the middle of that range along the optical axis.
AIM_DISTANCE_M = 2.0

# -- refusing a scene with someone in it ----------------------------------------

# Where the patient will stand, in the room frame (metres): along the wall,
# height, distance from the wall. Only its part above 1 m counts: chairs and
# plinths kept beside the drill spot stay below it (and the origin along x
# is only known to a few tenths of a metre, so a chair 0.8 m from the spot
# can fall inside), while a standing person fills it with their trunk and head.
DRILL_ZONE_X_M = 1.0
DRILL_ZONE_Y_M = (1.0, 2.0)
DRILL_ZONE_Z_M = 1.2
# A point in the zone counts when it is this far in front of the wall (and
# more than _ZONE_WALL_SIGMAS noise): a person stands 10 cm or more from it.
_ZONE_WALL_CLEARANCE_M = 0.06
_ZONE_WALL_SIGMAS = 5.0
# Share of the reliable pixels in the zone that makes it occupied.
_ZONE_MAX_SHARE = 0.004
# A pixel has changed in a frame when it differs from its median by this
# many single-frame sigmas and at least _CHANGE_MIN_M; the scene has changed
# when, in some frame, this share of the reliable pixels has.
_CHANGE_SIGMAS = 5.0
_CHANGE_MIN_M = 0.08
_CHANGE_MAX_SHARE = 0.01

# -- calibrate ---------------------------------------------------------------------

def calibrate(frames: Sequence[np.ndarray], intrinsics: Intrinsics, depth_unit_m: float, *, source: str,
              gravity_camera=None, rng: np.random.Generator | int | None = None) -> Calibration:
    """Calibrate from depth frames of the empty scene.

    Parameters
    ----------
    frames : sequence of ndarray, shape (H, W), uint16
        About two seconds (15-60 frames, at least 10) of the empty scene:
        Z-depth in depth units, 0 = no data.
    intrinsics : Intrinsics
        Of the frames' stream.
    depth_unit_m : float
        Metres per depth unit.
    source : str
        Camera serial or recording path, kept in the calibration.
    gravity_camera : array_like, shape (3,), optional
        The accelerometer's reading at rest in camera coordinates (D435i,
        D455): it points up, away from the floor, so a level camera reads
        about (0, -9.8, 0). Only its direction is used. When given, the floor
        is searched around it instead of around the camera's up, so a camera
        mounted steeper than the reference envelope still calibrates; and the
        calibration is refused if the fitted floor disagrees with it by more
        than ``GRAVITY_AGREEMENT_DEG`` (a moving camera, or a reading in the
        wrong axes), never silently overridden.
    rng : numpy.random.Generator or int, optional
        RANSAC's randomness; a fixed seed by default, so the same frames give
        the same calibration.

    Returns
    -------
    Calibration

    Raises
    ------
    CalibrationError
        Too few frames, frames of the wrong shape or type, no depth data, no
        floor or no drill wall found, floor and wall not perpendicular,
        someone or something in the drill area, or movement during the
        capture.
    """
    depth_unit_m = _positive_float(depth_unit_m, "depth_unit_m")
    if not isinstance(source, str):
        raise TypeError(f"source must be a string (camera serial or recording path), not {type(source).__name__}")
    up_hint = None if gravity_camera is None else _unit_vector(gravity_camera, "gravity_camera")
    rng = _generator(rng)
    stack, background, noise, scene = _empty_scene(frames, intrinsics, depth_unit_m)
    floor = _find_floor(scene, up_hint, rng)
    wall = _find_wall(scene, floor, rng)
    rotation, translation = room_frame(floor.normal, floor.offset, wall.normal, wall.offset)
    pose = Pose(rotation, translation)

    floor_res = rotation[1] @ scene.points_t[:, floor.inliers] + translation[1]
    wall_res = rotation[2] @ scene.points_t[:, wall.inliers] + translation[2]
    _refuse_occupied_zone(scene, pose, floor.inliers | wall.inliers)
    return Calibration(
        intrinsics=intrinsics, camera_pose=pose, depth_unit_m=depth_unit_m,
        background_m=background, background_noise_m=noise,
        floor_rms_mm=float(np.sqrt(np.mean(floor_res**2)) * 1000.0),
        wall_rms_mm=float(np.sqrt(np.mean(wall_res**2)) * 1000.0),
        floor_share=float(np.count_nonzero(floor.inliers) / scene.count),
        wall_share=float(np.count_nonzero(wall.inliers) / scene.count),
        planes_angle_deg=float(wall.angle_to_floor_deg),
        source=source,
        created=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        frames_used=int(stack.shape[0]),
    )


@dataclass(frozen=True)
class FloorFit:
    """The floor alone, as a camera that cannot see the drill wall finds it (:func:`fit_floor`).

    Attributes
    ----------
    normal : ndarray (3,)
        The floor's normal in camera coordinates, pointing up (toward the camera).
    height_m : float
        The camera's height above the floor.
    points : ndarray (M, 3)
        The floor's inlier points in camera coordinates (metres).
    rms_mm : float
        Their RMS distance to the plane.
    background_m, background_noise_m : ndarray (H, W)
        The empty scene's median depth and its noise, metres (0 unknown), as
        :class:`~station.calibration_model.Calibration` keeps them.
    frames_used : int
    """

    normal: np.ndarray
    height_m: float
    points: np.ndarray
    rms_mm: float
    background_m: np.ndarray
    background_noise_m: np.ndarray
    frames_used: int


def fit_floor(frames: Sequence[np.ndarray], intrinsics: Intrinsics, depth_unit_m: float, *, up_camera,
              cone_deg: float = FLOOR_CONE_DEG, rng: np.random.Generator | int | None = None) -> FloorFit:
    """The floor in depth frames of the empty scene, searched within ``cone_deg`` of ``up_camera``.

    The same background, noise and floor search as :func:`calibrate`, for a
    camera that does not see the drill wall (the one above the drill spot,
    :mod:`station.above_calibration`): ``up_camera`` is where "up" is
    expected in camera coordinates (the mount's nominal angle, or an
    accelerometer's reading).

    Raises
    ------
    CalibrationError
        Too few frames, no depth data, movement during the capture, or no
        floor within the cone.
    """
    depth_unit_m = _positive_float(depth_unit_m, "depth_unit_m")
    axis = _unit_vector(up_camera, "up_camera")
    rng = _generator(rng)
    stack, background, noise, scene = _empty_scene(frames, intrinsics, depth_unit_m)
    floor = _search_floor(scene, axis, rng, cone_deg=cone_deg)
    if floor is None:
        raise CalibrationError(f"no floor in view within {cone_deg:.0f} degrees of where the mount puts it: "
                               "check the camera's aim and that the floor below it is clear")
    points = scene.points_t[:, floor.inliers].T
    residual = points @ floor.normal + floor.offset
    return FloorFit(normal=floor.normal, height_m=float(floor.offset), points=points,
                    rms_mm=float(np.sqrt(np.mean(residual**2)) * 1000.0), background_m=background,
                    background_noise_m=noise, frames_used=int(stack.shape[0]))


def _empty_scene(frames, intrinsics, depth_unit_m: float):
    """(frame stack, background m, its noise m, :class:`_Scene`) of the empty room's frames; refused if anything moved."""
    stack = _frame_stack(frames, intrinsics)
    median_units, reliable, background, noise = _background(stack, depth_unit_m)
    k = noise_coefficient(background, noise)
    _refuse_changes(stack, median_units, reliable, depth_unit_m, k)
    return stack, background, noise, _Scene.of(background, reliable, intrinsics, k, stack.shape[0])


def _background(stack: np.ndarray, depth_unit_m: float):
    """(median depth units, reliable mask, background m, its noise m) of the frames; refused if too little is seen."""
    median_units, mad_units, reliable = temporal_statistics(stack)
    background = (median_units * depth_unit_m).astype(np.float32)
    noise = background_noise_from_mad(mad_units, reliable, depth_unit_m)
    reliable_share = np.count_nonzero(reliable) / reliable.size
    if not reliable.any():
        raise CalibrationError("the frames hold no depth data: check that nothing covers the camera "
                               "and that the room is within its range")
    if reliable_share < _MIN_RELIABLE_SHARE:
        raise CalibrationError(f"only {reliable_share:.0%} of the view has steady depth data: clear the "
                               "camera's view and check its lens and projector are not covered")
    return median_units, reliable, background, noise


def _generator(rng) -> np.random.Generator:
    """RANSAC's randomness: a Generator as given, or one seeded (0 by default, so the same frames calibrate alike)."""
    if rng is None or isinstance(rng, (int, np.integer)):
        return np.random.default_rng(0 if rng is None else int(rng))
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy Generator or a seed, not {type(rng).__name__}")
    return rng


def _frame_stack(frames, intrinsics: Intrinsics) -> np.ndarray:
    """The frames as one (N, H, W) uint16 array, checked."""
    if not isinstance(intrinsics, Intrinsics):
        raise TypeError(f"intrinsics must be an Intrinsics, not {type(intrinsics).__name__}")
    try:
        count = len(frames)
    except TypeError:
        raise TypeError("frames must be a sequence of depth images (a list, or an (N, H, W) array)") from None
    if count < MIN_FRAMES:
        raise CalibrationError(f"calibration needs at least {MIN_FRAMES} depth frames of the empty scene, got "
                               f"{count}: record about 2 s of it")
    shape = (intrinsics.height, intrinsics.width)
    for index, frame in enumerate(frames):
        frame = np.asarray(frame)
        if frame.shape != shape:
            raise CalibrationError(f"depth frame {index} is {frame.shape}, not the stream's {shape}: "
                                   "calibrate with frames from one stream")
        if frame.dtype != np.uint16:
            raise CalibrationError(f"depth frame {index} holds {frame.dtype}, not uint16 depth units")
    return np.stack([np.asarray(frame) for frame in frames])


def _positive_float(value, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number, not {value!r}") from None
    if not np.isfinite(number) or number <= 0:
        raise ValueError(f"{name} must be above 0, not {value!r}")
    return number


def _unit_vector(value, name: str) -> np.ndarray:
    vector = np.asarray(value, dtype=float)
    if vector.shape != (3,) or not np.all(np.isfinite(vector)) or not np.linalg.norm(vector) > 0:
        raise ValueError(f"{name} must be three finite numbers, not all zero, not {value!r}")
    return vector / np.linalg.norm(vector)


# -- per-pixel statistics ------------------------------------------------------------

def temporal_statistics(stack: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-pixel median and MAD of the valid samples of a frame stack.

    Both are lower medians (an actual sample, an integer number of depth
    units), so they store exactly.

    Parameters
    ----------
    stack : ndarray, shape (N, H, W), uint16
        Depth frames, depth units; 0 = no data.

    Returns
    -------
    median : ndarray, shape (H, W), uint16
        Median of each pixel's valid samples, depth units; 0 where unreliable.
    mad : ndarray, shape (H, W), uint16
        Median absolute deviation from it, depth units; 0 where unreliable.
    reliable : ndarray, shape (H, W), bool
        Valid in at least half of the frames.
    """
    count, height, width = stack.shape
    # One row per pixel: sorting short contiguous rows is far faster than
    # sorting along the first axis.
    samples = np.ascontiguousarray(stack.reshape(count, -1).T)
    samples.sort(axis=1)
    valid = np.count_nonzero(samples, axis=1)
    reliable = valid >= max(1, int(np.ceil(_RELIABLE_SHARE * count)))
    # Zeros sort first, so the valid samples are the last `valid` of a row.
    first_valid = count - valid
    # (A pixel with no valid sample points at its last zero.)
    middle = np.minimum(first_valid + np.maximum(valid - 1, 0) // 2, count - 1)
    median = np.take_along_axis(samples, middle[:, np.newaxis], axis=1)
    deviation = np.where(samples > median, samples - median, median - samples)
    # No-data samples must sort after every real deviation.
    deviation[np.arange(count) < first_valid[:, np.newaxis]] = np.iinfo(np.uint16).max
    deviation.sort(axis=1)
    mad = np.take_along_axis(deviation, (np.maximum(valid - 1, 0) // 2)[:, np.newaxis], axis=1)
    median = np.where(reliable, median[:, 0], 0).astype(np.uint16)
    mad = np.where(reliable, mad[:, 0], 0).astype(np.uint16)
    return median.reshape(height, width), mad.reshape(height, width), reliable.reshape(height, width)


def background_noise_from_mad(mad_units: np.ndarray, reliable: np.ndarray, depth_unit_m: float) -> np.ndarray:
    """Robust temporal sigma (metres, float32) from a MAD image in depth units.

    Quantised depth can have a MAD of 0; the sigma is held at half a unit's
    worth there, so that 0 keeps meaning "unknown".
    """
    half_units = np.maximum(2 * mad_units.astype(np.uint32), 1)
    sigma = half_units * (MAD_TO_SIGMA * depth_unit_m / 2.0)
    return np.where(reliable, sigma, 0.0).astype(np.float32)


def noise_coefficient(background_m: np.ndarray, noise_m: np.ndarray) -> float:
    """The camera's ``k`` in ``sigma = k * z**2`` (1/m), from a background and its noise.

    The median over the reliable pixels of ``sigma / z**2``: a person passing
    or a few grazing pixels cannot move it.
    """
    known = (background_m > 0) & (noise_m > 0)
    if not known.any():
        raise CalibrationError("the frames hold no depth data: check that nothing covers the camera")
    z = background_m[known].astype(np.float64)
    return float(np.median(noise_m[known] / z**2))


def _refuse_changes(stack, median_units, reliable, depth_unit_m, k) -> None:
    """Refuse frames in which part of the scene moved (someone walking through)."""
    median = median_units.astype(np.float32)
    z = median * np.float32(depth_unit_m)
    limit_units = np.maximum(_CHANGE_SIGMAS * k * z**2, _CHANGE_MIN_M) / np.float32(depth_unit_m)
    changed = (np.abs(stack.astype(np.float32) - median) > limit_units) & (stack > 0) & reliable
    worst = np.count_nonzero(changed, axis=(1, 2)).max() / np.count_nonzero(reliable)
    if worst > _CHANGE_MAX_SHARE:
        raise CalibrationError(f"someone is in view: {worst:.0%} of the view changed during the capture; "
                               "calibrate with the drill area empty and nobody moving in view")


# -- planes in the background ------------------------------------------------------

@dataclass(frozen=True)
class _Scene:
    """The reliable background pixels: rays, inverse depths and what thresholds need.

    Planes are handled in inverse depth (``q`` with ``1 / z = q . ray``, see
    :mod:`station.geometry`): the D400's error there is the same everywhere,
    ``k`` (1/m) for one frame, so every band is a multiple of ``k`` and every
    fit is plain least squares. In depth that band is ``k * z**2`` wide (times
    the incidence), growing with the square of the depth as the camera's
    error does.
    """

    points_t: np.ndarray  # (3, M) metres, camera frame, as columns: numpy's (K, 3) @ (3, M)
    rays_t: np.ndarray  # (3, M) z = 1   is many times faster than (M, 3) @ (3, K)
    rays: np.ndarray  # (M, 3)
    inverse_depth: np.ndarray  # (M,) 1/m
    pixels: np.ndarray  # (M,) flat pixel index
    index_of_pixel: np.ndarray  # (H*W,) position in the arrays above, -1 if unreliable
    shape: tuple[int, int]
    steps: np.ndarray  # (M, 3) metres: to the point a few rows up the image; NaN if unknown
    k: float  # one frame's inverse-depth noise, 1/m
    median_sigma_share: float  # noise of the median image as a share of one frame's

    @classmethod
    def of(cls, background, reliable, intrinsics, k, frames) -> "_Scene":
        pixels = np.flatnonzero(reliable)
        rays = pixel_rays(intrinsics)
        all_points = rays * background[..., np.newaxis]
        all_points[~reliable] = np.nan
        rise = max(1, int(round(_STEP_ROWS_SHARE * intrinsics.height)))
        steps = np.full_like(all_points, np.nan)
        steps[rise:] = all_points[:-rise] - all_points[rise:]
        index = np.full(reliable.size, -1, dtype=np.intp)
        index[pixels] = np.arange(pixels.size)
        rays = rays.reshape(-1, 3)[pixels]
        points = all_points.reshape(-1, 3)[pixels]
        # The median of n Gaussian samples has sqrt(pi / 2) / sqrt(n) of their sigma.
        return cls(np.ascontiguousarray(points.T), np.ascontiguousarray(rays.T), rays, 1.0 / points[:, 2],
                   pixels, index, reliable.shape, steps.reshape(-1, 3)[pixels], k,
                   float(np.sqrt(np.pi / 2.0 / frames)))

    @property
    def count(self) -> int:
        return self.pixels.size

    def step_sine(self, up: np.ndarray) -> np.ndarray:
        """Sine of the slope of each point's surface along ``up``; NaN where unknown.

        Looks at the step to the point a few rows up the image: on the floor
        it runs along the floor (slope 0), on a wall up the wall (slope 1).
        The foot of a wall lies within noise of the floor plane, and the floor
        by the wall within noise of the wall plane; the slope tells them
        apart, so neither tilts the other's fit.
        """
        with np.errstate(invalid="ignore"):
            return np.abs(self.steps @ up) / np.linalg.norm(self.steps, axis=1)


@dataclass(frozen=True)
class _Plane:
    normal: np.ndarray  # (3,) toward the camera
    offset: float  # metres: the camera's distance to the plane
    inliers: np.ndarray  # (M,) bool over the scene's points
    angle_to_floor_deg: float = 90.0


def inverse_depth_residuals(q: np.ndarray, rays_t: np.ndarray, inverse_depth: np.ndarray) -> np.ndarray:
    """Measured minus plane inverse depth, 1/m, shape (K, M).

    Parameters
    ----------
    q : ndarray, shape (K, 3)
        Planes as inverse-depth coefficients, 1/m.
    rays_t : ndarray, shape (3, M)
        Pixel rays (z = 1) as columns.
    inverse_depth : ndarray, shape (M,)
        1 / Z-depth of each pixel, 1/m.
    """
    return inverse_depth - q @ rays_t


def _local_samples(scene: _Scene, allowed: np.ndarray, size: int, extra: int,
                   rng: np.random.Generator) -> np.ndarray:
    """Indices (into the scene) of up to ``size`` point tuples: 1 anchor + ``extra`` nearby.

    Tuples whose nearby pixels fall outside the image or on a pixel not
    ``allowed`` are dropped, so fewer than ``size`` may come back.
    """
    candidates = np.flatnonzero(allowed)
    if candidates.size < extra + 1:
        return np.empty((0, extra + 1), dtype=np.intp)
    height, width = scene.shape
    window = max(2, int(round(_SAMPLE_WINDOW_SHARE * width)))
    draws = 3 * size  # many nearby pixels miss; draw plenty and keep the good ones
    anchors = candidates[rng.integers(0, candidates.size, draws)]
    rows, cols = np.divmod(scene.pixels[anchors], width)
    offsets = rng.integers(-window, window + 1, (draws, extra, 2))
    near_rows = rows[:, np.newaxis] + offsets[..., 0]
    near_cols = cols[:, np.newaxis] + offsets[..., 1]
    inside = (near_rows >= 0) & (near_rows < height) & (near_cols >= 0) & (near_cols < width)
    near = np.where(inside, scene.index_of_pixel[np.where(inside, near_rows * width + near_cols, 0)], -1)
    usable = np.all(near >= 0, axis=1)
    usable[usable] = np.all(allowed[near[usable]], axis=1)
    return np.column_stack([anchors[:, np.newaxis], near])[usable][:size]


def _best_hypothesis(scene: _Scene, q: np.ndarray, scoring: np.ndarray) -> int | None:
    """Index of the hypothesis with the most inliers among the ``scoring`` points, or None."""
    if len(q) == 0:
        return None
    rays_t, inverse_depth = scene.rays_t[:, scoring], scene.inverse_depth[scoring]
    band = _RANSAC_BAND_SIGMAS * scene.k
    support = np.concatenate([
        np.count_nonzero(np.abs(inverse_depth_residuals(q[i:i + _HYPOTHESIS_BATCH], rays_t, inverse_depth)) < band,
                         axis=1)
        for i in range(0, len(q), _HYPOTHESIS_BATCH)])
    return int(np.argmax(support))


def _refine(scene: _Scene, q: np.ndarray, candidates: np.ndarray, *, containing=None):
    """Iterated least-squares refit of a plane on its inliers.

    Inliers are the ``candidates`` within ``_REFINE_BAND_SIGMAS`` robust
    sigmas of the current plane. The robust sigma comes from the residuals
    themselves (MAD), so a real camera's static errors widen the band; it
    stays between what the median of the frames can reach and the RANSAC
    band.

    Returns
    -------
    q, inliers
        The plane (1/m) and its inliers (bool over the scene's points).
    """
    # Start from the noise the median of the frames should have: the
    # RANSAC band is far wider, and fitting within it would let the foot of
    # the wall tilt the floor (and the floor the wall).
    band = _REFINE_BAND_SIGMAS * _REFINE_START_SPREAD * scene.median_sigma_share
    # The rounds work on an even subset of the points (every n-th pixel): tens
    # of thousands fix a plane as well as all of them; only the final inliers
    # are taken over every point.
    subset = np.arange(0, scene.count, max(1, scene.count // _REFINE_POINTS))
    rays, rays_t = scene.rays[subset], scene.rays_t[:, subset]
    inverse_depth, allowed = scene.inverse_depth[subset], candidates[subset]
    for _ in range(_REFINE_ROUNDS):
        residual = inverse_depth_residuals(q[np.newaxis], rays_t, inverse_depth)[0] / scene.k
        inliers = allowed & (np.abs(residual) < band)
        if np.count_nonzero(inliers) < MIN_FIT_POINTS:
            break
        spread = MAD_TO_SIGMA * np.median(np.abs(residual[inliers]))
        q = fit_inverse_depth_plane(rays[inliers], inverse_depth[inliers], containing=containing)
        # Held below the RANSAC band: residuals spread evenly over a band (a
        # slice through some other surface, not a plane) would otherwise
        # widen it every round.
        band = min(_REFINE_BAND_SIGMAS * max(spread, scene.median_sigma_share), _RANSAC_BAND_SIGMAS)
    residual = inverse_depth_residuals(q[np.newaxis], scene.rays_t, scene.inverse_depth)[0] / scene.k
    return q, candidates & (np.abs(residual) < band)


def _find_floor(scene: _Scene, up_hint, rng) -> _Plane:
    """The floor: the best-supported plane whose normal is near the up direction."""
    camera_up = np.array([0.0, -1.0, 0.0])  # RealSense +y points down
    if up_hint is not None:
        # Upside down or on its side, a camera sees the ceiling or a wall
        # where the floor should be, and a hint there would lead the search
        # to it: refuse instead.
        tilt = float(angle_between_deg(up_hint, camera_up))
        if tilt > MAX_GRAVITY_TILT_DEG:
            raise CalibrationError(f"the camera's accelerometer says it is tilted {tilt:.0f} degrees from upright, "
                                   "far outside the mount's range: check the mount, or calibrate without the "
                                   "accelerometer")
    axis = camera_up if up_hint is None else up_hint
    plane = _search_floor(scene, axis, rng)
    if up_hint is not None:
        if plane is None:
            if _search_floor(scene, camera_up, rng) is not None:
                raise CalibrationError("the camera's accelerometer does not agree with the floor in view: keep "
                                       "the camera still while calibrating, or calibrate without the accelerometer")
        else:
            disagreement = float(angle_between_deg(plane.normal, up_hint))
            if disagreement > GRAVITY_AGREEMENT_DEG:
                raise CalibrationError(f"the camera's accelerometer says up is {disagreement:.0f} degrees from the "
                                       "floor in view: keep the camera still while calibrating, or calibrate "
                                       "without the accelerometer")
    if plane is None:
        # A floor beyond the cone means a camera tilted out of the mount's
        # range, which deserves its own advice.
        steep = _search_floor(scene, axis, rng, cone_deg=_STEEP_CONE_DEG) if up_hint is None else None
        if steep is not None:
            tilt = float(angle_between_deg(steep.normal, camera_up))
            raise CalibrationError(f"the floor is {tilt:.0f} degrees from the camera's up, more than "
                                   f"{FLOOR_CONE_DEG:.0f}: mount the camera level within 15 degrees")
        raise CalibrationError("no floor in view: tilt the camera down so the floor near the wall is in view")
    return plane


def _search_floor(scene: _Scene, axis: np.ndarray, rng, *, cone_deg: float = FLOOR_CONE_DEG) -> _Plane | None:
    everywhere = np.ones(scene.count, dtype=bool)
    triples = _local_samples(scene, everywhere, _FLOOR_HYPOTHESES * 4, 2, rng)
    points = scene.points_t.T
    normals, offsets = planes_through_points(*(points[triples[:, i]] for i in range(3)))
    q = inverse_depth_planes(normals, offsets)
    usable = np.all(np.isfinite(q), axis=1)
    q = q[usable]
    usable = angle_between_deg(planes_from_inverse_depth(q)[0], axis) <= cone_deg
    q = q[usable][:_FLOOR_HYPOTHESES]
    scoring = rng.choice(scene.count, min(scene.count, _SCORING_POINTS), replace=False)
    best = _best_hypothesis(scene, q, scoring)
    if best is None:
        return None
    # Wall points, however near the floor plane, are no floor (points whose
    # slope is unknown, NaN, stay candidates).
    level = ~(scene.step_sine(planes_from_inverse_depth(q[best])[0]) > _SLOPE_SINE)
    q, inliers = _refine(scene, q[best], level)
    normal, offset = planes_from_inverse_depth(q)
    if np.count_nonzero(inliers) < MIN_FLOOR_SHARE * scene.count or angle_between_deg(normal, axis) > cone_deg:
        return None
    return _Plane(normal, float(offset), inliers)


def _wall_view_angle_deg(normals: np.ndarray, up: np.ndarray) -> np.ndarray:
    """Angle between each wall and the camera's horizontal viewing direction, degrees.

    Negative when the camera looks away from the wall (normals point toward
    the camera, so a wall it looks toward has a normal against its view).
    """
    forward = np.array([0.0, 0.0, 1.0])
    horizontal = forward - (forward @ up) * up
    horizontal /= np.linalg.norm(horizontal)
    return np.degrees(np.arcsin(np.clip(-(normals @ horizontal), -1.0, 1.0)))


def _find_wall(scene: _Scene, floor: _Plane, rng) -> _Plane:
    """The drill wall: the best-supported vertical plane the camera faces obliquely."""
    off_floor = ~floor.inliers
    pairs = _local_samples(scene, off_floor, _WALL_HYPOTHESES * 3, 1, rng)
    points = scene.points_t.T
    q = inverse_depth_planes(*planes_containing_direction(points[pairs[:, 0]], points[pairs[:, 1]], floor.normal))
    q = q[np.all(np.isfinite(q), axis=1)]
    view = _wall_view_angle_deg(planes_from_inverse_depth(q)[0], floor.normal)
    q = q[(view >= WALL_VIEW_DEG[0]) & (view <= WALL_VIEW_DEG[1])][:_WALL_HYPOTHESES]
    candidates = np.flatnonzero(off_floor)
    scoring = candidates[rng.choice(candidates.size, min(candidates.size, _SCORING_POINTS), replace=False)]
    best = _best_hypothesis(scene, q, scoring)
    missing = ("no drill wall in view: turn the camera 10-35 degrees toward the wall the person stands against, "
               "so the wall behind the drill spot fills much of the view")
    if best is None:
        raise CalibrationError(missing)
    # The floor by the wall, however near the wall plane, is no wall (points
    # whose slope is unknown, NaN, stay candidates).
    rising = ~(scene.step_sine(floor.normal) <= _SLOPE_SINE)
    q, inliers = _refine(scene, q[best], off_floor & rising, containing=floor.normal)
    normal, offset = planes_from_inverse_depth(q)
    view = float(_wall_view_angle_deg(normal, floor.normal))
    if np.count_nonzero(inliers) < MIN_WALL_SHARE * scene.count or not WALL_VIEW_DEG[0] <= view <= WALL_VIEW_DEG[1]:
        raise CalibrationError(missing)
    # The same inliers fitted freely tell how square the floor and wall are.
    free_normal, _ = planes_from_inverse_depth(fit_inverse_depth_plane(scene.rays[inliers],
                                                                       scene.inverse_depth[inliers]))
    angle = float(angle_between_deg(free_normal, floor.normal))
    if abs(angle - 90.0) > MAX_PLANES_SKEW_DEG:
        raise CalibrationError(f"the floor and the wall found are {angle:.0f} degrees apart, not 90: make sure "
                               "the drill wall and the floor near it are clear and in view, then calibrate again")
    return _Plane(normal, float(offset), inliers, angle)


# -- the room frame ------------------------------------------------------------------

def room_frame(floor_normal, floor_offset, wall_normal, wall_offset) -> tuple[np.ndarray, np.ndarray]:
    """Camera-to-room rotation and camera position from the floor and wall planes.

    Both normals are in camera coordinates and point toward the camera, the
    offsets being the camera's distances to the planes. y is the floor
    normal, z the wall normal made perpendicular to it, x = y cross z.
    """
    y = floor_normal / np.linalg.norm(floor_normal)
    z = wall_normal - (wall_normal @ y) * y
    z /= np.linalg.norm(z)
    x = np.cross(y, z)
    rotation = np.vstack([x, y, z])  # rows: room axes in camera coordinates
    return rotation, np.array([_camera_x(rotation), floor_offset, wall_offset])


def _camera_x(rotation: np.ndarray) -> float:
    """The camera's x in the room: where the origin lies along the wall.

    The origin is the point of the wall-floor corner opposite the point
    ``AIM_DISTANCE_M`` out along the camera's optical axis, measured
    horizontally: the installer aims the camera at the drill spot from
    1.5-2.5 m. (The corner point nearest the optical axis itself is badly
    conditioned: the axis runs nearly parallel to both floor and wall, so a
    degree of pitch moves that point by metres.)
    """
    forward = rotation[:, 2]  # the optical axis in room coordinates
    horizontal = np.array([forward[0], 0.0, forward[2]])
    horizontal /= np.linalg.norm(horizontal)
    return float(-AIM_DISTANCE_M * horizontal[0])


def _refuse_occupied_zone(scene: _Scene, pose: Pose, on_planes: np.ndarray) -> None:
    """Refuse a background with something standing in the drill zone."""
    room = (pose.rotation @ scene.points_t + pose.translation[:, np.newaxis]).T
    # The median image's depth noise, k * z**2 over the square root of the frames.
    sigma = scene.k * scene.median_sigma_share * scene.points_t[2] ** 2
    clear_of_wall = room[:, 2] > np.maximum(_ZONE_WALL_CLEARANCE_M, _ZONE_WALL_SIGMAS * sigma)
    in_zone = ((np.abs(room[:, 0]) < DRILL_ZONE_X_M) & (room[:, 1] > DRILL_ZONE_Y_M[0])
               & (room[:, 1] < DRILL_ZONE_Y_M[1]) & clear_of_wall & (room[:, 2] < DRILL_ZONE_Z_M) & ~on_planes)
    share = np.count_nonzero(in_zone) / scene.count
    if share > _ZONE_MAX_SHARE:
        raise CalibrationError("someone is in view: something stands in the drill area in front of the wall; "
                               "calibrate with the drill area empty")


