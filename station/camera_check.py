"""Has the camera moved since it was calibrated? :func:`camera_moved` checks one live frame.

The floor and wall planes are refitted on the frame's points at the pixels
that saw them in calibration and compared with the calibration's; what is
compared with is worked out once per calibration and kept while it lives.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np

from station.calibration import MIN_FIT_POINTS, inverse_depth_residuals, noise_coefficient, room_frame
from station.calibration_model import Calibration
from station.geometry import (fit_inverse_depth_plane, inverse_depth_planes, pixel_rays,
                              planes_from_inverse_depth, planes_through_points)

__all__ = ["MOVED_ANGLE_DEG", "MOVED_OFFSET_M", "camera_moved"]

# What counts as moved. One frame's refit strays by under 0.4 degrees and
# 5 mm in the simulator (a D435 at 424x240, people in view); a turn of 2
# degrees or a move of 3 cm must be reported.
MOVED_ANGLE_DEG = 1.0
MOVED_OFFSET_M = 0.015
_CHECK_POINTS = 6000  # reference pixels per plane
_CHECK_HYPOTHESES = 48
_CHECK_BAND_SIGMAS = 3.0
_CHECK_MIN_SUPPORT = 0.15  # share of a plane's reference pixels a refit needs
_CHECK_ROUNDS = 2
_CHECK_EDGE_MARGIN_DEG = 3.0
_CHECK_REGION_SHARE = 0.9  # of a reference pixel's surroundings must be on its plane

# What camera_moved compares with, per calibration (computed on its first check).
_REFERENCES: "weakref.WeakKeyDictionary[Calibration, _Reference]" = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class _Reference:
    """What :func:`camera_moved` compares a frame with, computed once per calibration."""

    floor_pixels: np.ndarray  # (P,) flat indices
    wall_pixels: np.ndarray
    floor_rays: np.ndarray  # (P, 3)
    wall_rays: np.ndarray
    k: float
    axes: np.ndarray  # (3, 3) rows: room x, y, z in camera coordinates


def _reference(calibration: Calibration) -> _Reference:
    rays = pixel_rays(calibration.intrinsics).reshape(-1, 3)
    depth = calibration.background_m.reshape(-1).astype(np.float64)
    known = depth > 0
    with np.errstate(divide="ignore"):
        inverse_depth = np.where(known, 1.0 / depth, 0.0)
    k = noise_coefficient(calibration.background_m, calibration.background_noise_m)
    axes = calibration.camera_pose.rotation  # rows: room axes in camera coordinates
    offsets = calibration.camera_pose.translation
    rng = np.random.default_rng(0)

    shape = calibration.background_m.shape
    # Keep clear of the plane's edges by the turn to be detected and more: a
    # turned camera would otherwise see another surface at the edge pixels,
    # close enough in depth to the plane (at the corner) to bias the refit.
    margin = int(np.ceil(calibration.intrinsics.fx * np.tan(np.radians(_CHECK_EDGE_MARGIN_DEG))))

    def pick(axis: int) -> np.ndarray:
        # Pixels whose background lies within two single-frame sigmas of the
        # plane, well inside its region: a few holes (dropouts, noise) are
        # no edge.
        q = inverse_depth_planes(axes[axis], offsets[axis])
        near = known & (np.abs(inverse_depth - rays @ q) < 2.0 * k)
        pixels = np.flatnonzero(_eroded(near.reshape(shape), margin, share=_CHECK_REGION_SHARE))
        if pixels.size > _CHECK_POINTS:
            pixels = np.sort(rng.choice(pixels, _CHECK_POINTS, replace=False))
        return pixels

    floor_pixels, wall_pixels = pick(1), pick(2)
    return _Reference(floor_pixels, wall_pixels, rays[floor_pixels], rays[wall_pixels], k, axes)


def _eroded(mask: np.ndarray, radius: int, *, share: float = 1.0) -> np.ndarray:
    """``mask`` without the pixels near its edges: a square erosion by ``radius``.

    With ``share`` below 1, a pixel survives when that share of the pixels
    within ``radius`` are set, so scattered holes do not count as edges.
    The image border does not count as outside: a surface running out of
    view does not end there. Separable: a pixel survives a pass along an axis
    when enough pixels within ``radius`` along it are set, which a running
    count answers at once.
    """
    for axis in (0, 1):
        padded = np.pad(mask, [(radius, radius) if a == axis else (0, 0) for a in (0, 1)], constant_values=True)
        counts = np.cumsum(padded, axis=axis, dtype=np.int32)
        counts = np.concatenate([np.zeros_like(np.take(counts, [0], axis=axis)), counts], axis=axis)
        window = 2 * radius + 1
        upper = np.take(counts, np.arange(window, counts.shape[axis]), axis=axis)
        lower = np.take(counts, np.arange(0, counts.shape[axis] - window), axis=axis)
        mask = (upper - lower) >= int(np.ceil(share * window))
    return mask


def camera_moved(calibration: Calibration, depth: np.ndarray, *, floor_only: bool = False,
                 camera: str = "the camera", remedy: str = "recalibrate with wallhinge calibrate") -> str | None:
    """Whether the camera has moved since it was calibrated.

    The floor and wall planes are refitted on the frame's points at the
    pixels that saw them in calibration (RANSAC seeded with the calibrated
    planes, so people in front of them are outliers) and compared with the
    calibration: the turn of the room axes they define, and how far each
    surface now lies from its calibrated plane where it is seen.

    A camera turned by ``MOVED_ANGLE_DEG`` (about any axis), or moved so that
    the floor or the wall is ``MOVED_OFFSET_M`` nearer or farther where it is
    seen, is reported. A slide along the wall at the same height and distance
    changes neither plane and none of the measures (they do not depend on
    x), so it is not.

    ``floor_only``: the camera sees the floor but not the drill wall (the
    camera above the spot, an :class:`~station.above_calibration.AboveCalibration`,
    which has the fields read here): its tilt and height are checked, a turn
    about the vertical is not seen. ``camera`` and ``remedy`` word the message.

    Parameters
    ----------
    calibration : Calibration or AboveCalibration
    depth : ndarray, shape (H, W), unsigned integer
        One depth frame in the calibration's depth units, 0 = no data.

    Returns
    -------
    str or None
        None when the camera is where it was calibrated, or when too little of
        the floor or wall is in view to tell (someone right in front of the
        camera); otherwise a one-line message for the user.
    """
    movement = _movement(calibration, depth, floor_only=floor_only)
    if movement is None:
        return None
    turn, floor_shift, wall_shift = movement
    findings = [f"it has turned {turn:.1f} degrees"] if turn >= MOVED_ANGLE_DEG else []
    for name, shift in (("floor", floor_shift), ("wall", wall_shift))[:1 if floor_only else 2]:
        if abs(shift) >= MOVED_OFFSET_M:
            findings.append(f"the {name} is {abs(shift) * 100:.0f} cm {'nearer' if shift > 0 else 'farther'} "
                            "than it was")
    if not findings:
        return None
    return f"{camera} has moved since calibration: {', '.join(findings)}; {remedy}"


def _movement(calibration: Calibration, depth: np.ndarray, *,
              floor_only: bool = False) -> tuple[float, float, float] | None:
    """How the floor and wall in a frame differ from the calibrated ones, or None if unseen.

    Returns
    -------
    turn : float
        Angle of the rotation from the calibrated room axes to the refitted
        ones, degrees.
    floor_shift, wall_shift : float
        How far the refitted surface lies from the calibrated plane where it
        is seen (at the centroid of its inliers), metres, positive nearer the
        camera. Not the change of the camera's distance to the plane: that is
        extrapolated to the foot of the camera, far from where the floor is
        seen, and a tenth of a degree of noise in the floor's tilt moves it
        by a centimetre.
    """
    depth = np.asarray(depth)
    shape = (calibration.intrinsics.height, calibration.intrinsics.width)
    if depth.shape != shape:
        raise ValueError(f"depth frame is {depth.shape}, the calibration's stream {shape}")
    if depth.dtype.kind != "u":
        raise ValueError(f"depth frame must hold unsigned integer depth units, not {depth.dtype}")
    reference = _reference_of(calibration)
    flat = depth.reshape(-1)
    translation = calibration.camera_pose.translation
    axes = reference.axes
    # Fixed seeds: the same frame always gets the same answer.
    floor = _refit(flat[reference.floor_pixels], reference.floor_rays, calibration.depth_unit_m,
                   inverse_depth_planes(axes[1], translation[1]), reference.k, np.random.default_rng(0))
    if floor_only:
        if floor is None:
            return None
        floor_normal, _, floor_seen = floor
        # The turn of the floor's normal: the camera's tilt and roll (a turn about the vertical leaves it be).
        turn = float(np.degrees(np.arccos(np.clip(abs(axes[1] @ floor_normal), -1.0, 1.0))))
        return turn, float(axes[1] @ floor_seen + translation[1]), 0.0
    wall = _refit(flat[reference.wall_pixels], reference.wall_rays, calibration.depth_unit_m,
                  inverse_depth_planes(axes[2], translation[2]), reference.k, np.random.default_rng(1))
    if floor is None or wall is None:
        return None
    (floor_normal, floor_offset, floor_seen), (wall_normal, wall_offset, wall_seen) = floor, wall
    new_axes, _ = room_frame(floor_normal, floor_offset, wall_normal, wall_offset)
    # The angle of the rotation taking the calibrated room axes to the new ones.
    cosine = (np.trace(new_axes @ axes.T) - 1.0) / 2.0
    turn = float(np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0))))
    return turn, float(axes[1] @ floor_seen + translation[1]), float(axes[2] @ wall_seen + translation[2])


def _refit(units, rays, depth_unit_m, q, k, rng):
    """A plane refitted on one frame, seeded with the calibrated ``q``; None if too little is seen.

    Returns (normal, offset, centroid of the inlier points in camera coordinates).
    """
    seen = units > 0
    needed = max(MIN_FIT_POINTS, int(_CHECK_MIN_SUPPORT * len(units)))
    if np.count_nonzero(seen) < needed:
        return None
    rays = rays[seen]
    inverse_depth = 1.0 / (units[seen] * depth_unit_m)
    rays_t = np.ascontiguousarray(rays.T)
    points = rays / inverse_depth[:, np.newaxis]
    triples = rng.integers(0, len(points), (_CHECK_HYPOTHESES, 3))
    candidates = inverse_depth_planes(*planes_through_points(*(points[triples[:, i]] for i in range(3))))
    candidates = np.vstack([q, candidates[np.all(np.isfinite(candidates), axis=1)]])
    inside = np.abs(inverse_depth_residuals(candidates, rays_t, inverse_depth)) < _CHECK_BAND_SIGMAS * k
    best = int(np.argmax(np.count_nonzero(inside, axis=1)))
    q, inliers = candidates[best], inside[best]
    for _ in range(_CHECK_ROUNDS):
        if np.count_nonzero(inliers) < needed:
            return None
        q = fit_inverse_depth_plane(rays[inliers], inverse_depth[inliers])
        inliers = np.abs(inverse_depth_residuals(q[np.newaxis], rays_t, inverse_depth)[0]) < _CHECK_BAND_SIGMAS * k
    normal, offset = planes_from_inverse_depth(q)
    return normal, float(offset), np.mean(points[inliers], axis=0)


def _reference_of(calibration: Calibration) -> _Reference:
    reference = _REFERENCES.get(calibration)
    if reference is None:
        reference = _REFERENCES[calibration] = _reference(calibration)
    return reference
