"""The back's curvature in one frame, and spine flexion against the set's standing baseline: pure numpy.

Per frame (:func:`back_curvature`): the patient's room points above the
buttocks are turned into the trunk's own frame (along the trunk from the
hips up, and straight back out of the back). In height slices along the
trunk the rearmost points are the back's outline, from the low back (L5) to
the shoulders (C7). The curvature is how far the outline turns between its
lower half (about the lumbar back) and its upper half (the thoracic): the
angle between the halves' fitted lines, in degrees, positive when the back
rounds. It is absolute: a kyphotic senior's upper back turns even standing.

A slice whose rearmost point falls well in front of the rest of the outline
shows no back (an arm, a stick or the far side of the body is all the camera
sees there); with too few slices showing back, the frame gives no curvature
and says why. That check cannot tell an elbow held out behind the body from
a back: from the side mount with the hands on the hips it reads the elbows'
outline, so the station reads the back only for set-ups that show it
(:mod:`station.setup`). The accuracy reached so far, from every placement,
is in ``docs/back-view.md``: short of its targets.

Against the set (:class:`SpineBaseline`): spine flexion is the curvature
minus the person's own curvature standing still at the start of the set
(``docs/drill.md``), so a rounded upper back at rest is no fault.
The rep detector feeds it; :func:`station.faults.rep_faults` decides
``rounded_back`` from the peak.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from station.slices import median, quantile, slice_quantile

# The hip joint stands at about half of stature (Winter: 0.53 with the
# buttocks' bulge a little lower): the trunk's landmarks below are shares of
# stature estimated from the buttocks' height.
HIP_SHARE_OF_STATURE = 0.50
# Along the trunk from the hip joint, as shares of stature (Winter): the low
# back from L5 (0.06) to T12 (0.16), the thoracic back on to C7 (0.33), short
# of the neck. The outline is split halfway.
BACK_SPAN = (0.05, 0.30)
SLICE_SHARE = 0.02  # slice height along the trunk, share of stature
# The outline: near the rearmost point of a slice, short of the flying
# pixels a D400 strews behind a silhouette.
REAR_QUANTILE = 0.9
MIN_SLICE_POINTS = 3
# A slice whose rearmost point is this far (m) in front of the outline's
# upper quartile shows no back.
HIDDEN_STEP_M = 0.03
MIN_SHOWN_SHARE = 0.6  # of the slices must show back, and 2 in each half


@dataclass(frozen=True)
class BackReading:
    """One frame's back: ``curvature_deg`` (None when not measured) and why not.

    ``lean_deg`` is the back's line from straight up toward the room, degrees,
    where the reading gives it (the camera above: :mod:`station.spine_above`).
    """

    curvature_deg: float | None
    reason: str | None = None
    lean_deg: float | None = None


def back_curvature(points: np.ndarray, hip_y_m: float, trunk_angle_deg: float | None) -> BackReading:
    """The back outline's turn between the low back and the upper back, degrees, or None with a reason.

    Parameters
    ----------
    points : ndarray (N, 3)
        The patient's room points (metres), arms and all.
    hip_y_m : float
        Height of the buttocks' rear bulge (metres), from the side profile.
    trunk_angle_deg : float or None
        The trunk's angle from vertical, + away from the wall.
    """
    if trunk_angle_deg is None:
        return BackReading(None, "trunk not measured")
    stature = hip_y_m / HIP_SHARE_OF_STATURE
    y, z = points[:, 1], points[:, 2]
    angle = np.radians(trunk_angle_deg)
    at_hips = np.abs(y - hip_y_m) < 0.03
    if np.count_nonzero(at_hips) < 10:
        return BackReading(None, "hips not in view")
    # The hip joint is inside the body: the middle of the body's depth at hip height.
    hip_z = float(median(z[at_hips]))
    dy, dz = y - hip_y_m, z - hip_z
    along = (dy * np.cos(angle) + dz * np.sin(angle)) / stature
    back = dy * np.sin(angle) - dz * np.cos(angle)  # metres, + out of the back
    low, high = BACK_SPAN
    n_slices = int(round((high - low) / SLICE_SHARE))
    slices = np.floor((along - low) / SLICE_SHARE).astype(np.intp)
    inside = (slices >= 0) & (slices < n_slices)
    rear, counts = slice_quantile(slices[inside], back[inside], REAR_QUANTILE, n_slices)
    rear = np.where(counts >= MIN_SLICE_POINTS, rear, np.nan)
    if np.count_nonzero(np.isfinite(rear)) < 4:
        return BackReading(None, "back not in view")
    # The upper quartile of the slices that show (np.nanpercentile, to the last bit, at a tenth of its cost).
    upper_quartile = quantile(rear[~np.isnan(rear)], 0.75)
    shown = np.isfinite(rear) & (rear >= upper_quartile - HIDDEN_STEP_M)
    centres_m = (low + (np.arange(n_slices) + 0.5) * SLICE_SHARE) * stature
    lower = np.arange(n_slices) < n_slices // 2
    if (np.count_nonzero(shown) < MIN_SHOWN_SHARE * n_slices
            or np.count_nonzero(shown & lower) < 2 or np.count_nonzero(shown & ~lower) < 2):
        return BackReading(None, "back hidden (arms, a stick or the view)")
    slopes = [np.degrees(np.arctan(np.polyfit(centres_m[use], rear[use], 1)[0]))
              for use in (shown & lower, shown & ~lower)]
    return BackReading(float(slopes[0] - slopes[1]))



def median_since(samples: list[tuple[float, float]], since_s: float, min_count: int = 3) -> float | None:
    """The median value of the (t_s, value) samples taken at or after ``since_s``; None with fewer than ``min_count``."""
    values = [value for t_s, value in samples if t_s >= since_s]
    return float(np.median(values)) if len(values) >= min_count else None

class SpineBaseline:
    """Spine flexion: the back's curvature against the person's own, standing still at the start of the set.

    The rep detector calls :meth:`observe` with every frame's curvature and
    :meth:`settle` when it finds the patient standing still before the first
    rep (its own standing baseline); the median curvature of that still
    moment is the baseline, kept for the set. :meth:`relative` is then spine
    flexion in degrees, None until there is a baseline or when the frame's
    back is not measured.
    """

    def __init__(self, window_s: float = 1.0):
        self.window_s = window_s
        self.baseline_deg: float | None = None
        self._recent: list[tuple[float, float]] = []  # (t_s, curvature deg)

    def observe(self, t_s: float, curvature_deg: float | None) -> None:
        """Keep the last ``window_s`` of measured curvature."""
        if curvature_deg is not None:
            self._recent.append((t_s, curvature_deg))
        while self._recent and self._recent[0][0] < t_s - self.window_s:
            self._recent.pop(0)

    def settle(self, since_s: float) -> None:
        """The patient has stood still since ``since_s``: take the curvature then as the set's baseline, once."""
        if self.baseline_deg is None:
            self.baseline_deg = median_since(self._recent, since_s)

    def relative(self, curvature_deg: float | None) -> float | None:
        """Spine flexion (degrees) of a frame's curvature, or None."""
        if curvature_deg is None or self.baseline_deg is None:
            return None
        return curvature_deg - self.baseline_deg

    def reset(self) -> None:
        """A new patient or set: no baseline yet."""
        self.baseline_deg = None
        self._recent.clear()
