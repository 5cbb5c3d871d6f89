"""The wall gap from the buttocks' rear edge in the image rows through them: pure numpy.

Where the body nears the wall its depth merges with the wall's, and no
single pixel tells the two apart. Along each image row through the
buttocks, though, the body is nearer than the empty scene and the wall past
it is not: fitting where (background - depth) falls to zero, and by how big
a step (:func:`ramp_edges`), finds the body's rear edge to a fraction of a
pixel, and the body's depth there is the rear tangent point.
"""

from __future__ import annotations

import numpy as np

from station.slices import line_slope

# Half-height of the band around the buttocks whose rear edge gives the gap.
GAP_BAND_HALF_M = 0.08
# Half-height of the window of image rows whose median gap is one reading:
# the buttocks' vertical curve (radius about 0.1 m) rises under 5 mm over
# it, while the median sets aside rows a stray pixel or noise threw off.
ROW_WINDOW_HALF_M = 0.03
# What RearEdge.gap_m says when the buttocks' rear edge is hidden by someone.
HIDDEN = object()
# ... and when it does not show but nobody else is seen over it (the
# patient's own arm or load): not read, and not someone in front either.
UNREAD = object()
# Past the buttocks' rear edge an image row shows the wall: on average no
# more than this nearer than the empty scene (m), or the edge is hidden.
WALL_SIDE_MAX_M = 0.03
# Radius of the buttocks' horizontal cross-section (m) before the patient's
# own is measured (:func:`hips_radius_m`). The camera sees the body from in
# front of its side, so the rearmost point is hidden behind the silhouette
# by about r (1 - cos(view angle to the wall)): on a large body 0.08 m read
# the gap 15-27 mm high where the camera looks 35 degrees toward the wall.
BUTTOCK_RADIUS_M = 0.08
# The measured radius is held to this range (m): a child's hips to a large man's.
BUTTOCK_RADIUS_RANGE_M = (0.06, 0.25)
# Someone in front of the patient hides where the buttocks are, not only
# where they end: the rear bulge of what is in view may then be a thigh or
# the small of the back. An image row's rear outline is covered when,
# within OCCLUDER_LOOK_M past it, a pixel that is not the patient's is this
# much nearer the camera than the outline (m); the stereo shadow between a
# near person and the patient is a few pixels wide. When this share of the
# rows over the height the buttocks can be at is covered, the gap is hidden.
# (Unoccluded stress-tune recordings: at most 0.03; a clinician's arm or
# body over the hips: 0.1-0.9.)
OCCLUDER_NEARER_M = 0.15
# ... and that pixel is this much nearer than the empty scene there (m): a
# wall seen at a grazing angle can itself be nearer than the patient's
# outline just past it (stress-101: the drill wall 0.45-0.65 m nearer than the
# buttocks touching it, from a camera turned 10 degrees), while a person in
# front stands well off the wall behind them (stress-102 and -103, a clinician
# covering the hips: 0.38 m at the least, 0.6-0.9 typically).
OCCLUDER_OFF_SCENE_M = 0.1
# Where no rear edge shows in the rows through the buttocks, they are hidden by
# someone only if a row shows at least this many such pixels that are not the
# patient's: a person in front fills many, while the patient's own arm, hanging
# over the outline from a camera turned toward the wall, leaves single mixed
# pixels along its edge outside the patient's (stress-307, standing, arms at the
# sides: 12 s of false "someone in front of the hips").
OCCLUDER_MIN_PIXELS = 3
OCCLUDER_LOOK_M = 0.05
OCCLUDED_SHARE = 0.1
# A near occluder casts a stereo shadow (no depth) on the patient beside it,
# baseline * fx * (1/z_occluder - 1/z_patient) pixels wide: a clinician 0.8 m
# from the lens in front of a patient at 1.6 m leaves 6-8 pixels of the image
# measured, more than OCCLUDER_LOOK_M, so the first pixel with depth past a shadow is
# looked at too, up to this share of fx pixels (a 50 mm baseline's shadow
# for 1/z_occluder - 1/z_patient up to 2 per metre, a 95 mm one's up to 1).
STEREO_SHADOW_MAX_FX_SHARE = 0.1


class RearEdge:
    """Finds the buttocks' rear edge for one calibration's geometry.

    Parameters (all of the frame as measured, see station.measure.MEASURE_WIDTH_PX)
    ----------
    rays : ndarray (pixels, 3)
        Each pixel's ray in the room frame (metres of room per metre of depth).
    origin : ndarray (3,)
        The camera's position in the room frame (m).
    background : ndarray (pixels,)
        The empty scene's depth (m), 0 where it had none.
    width : int
        Pixels per image row.
    fx : float
        Horizontal focal length (px).
    depth_unit_m : float
        Metres per depth unit of the frames.
    """

    def __init__(self, rays: np.ndarray, origin: np.ndarray, background: np.ndarray, width: int, fx: float,
                 depth_unit_m: float):
        self._rays, self._origin, self._background = rays, origin, background
        self._width, self._fx, self._depth_unit_m = width, fx, depth_unit_m
        # Pixels searched either side of the rear edge: about 8 cm at 2 m.
        self._edge_window = max(4, int(round(0.08 * fx / 2.0)))
        # How many pixels past the outline an occluder is looked for (OCCLUDER_LOOK_M at 2 m), and the
        # offsets read past it, as far as a stereo shadow may reach (at least the look's).
        self._occluder_look_px = max(3, int(round(OCCLUDER_LOOK_M * fx / 2.0)))
        self._past_outline = np.arange(1, max(self._occluder_look_px, int(round(STEREO_SHADOW_MAX_FX_SHARE * fx))) + 1)
        # The patient's pixels of the frame at hand (reset after each use).
        self._patient_mask = np.zeros(len(background), dtype=bool)

    def gap_m(self, depth: np.ndarray, points: np.ndarray, pixels: np.ndarray, hip_y: float,
              hips_between: tuple[float, float] | None = None, patient_pixels: np.ndarray | None = None,
              buttock_radius_m: float = BUTTOCK_RADIUS_M):
        """Distance of the buttocks' rear edge from the wall, metres, from the image rows through them; None, HIDDEN when someone in front hides it, or UNREAD.

        ``points``/``pixels`` are the body's core (room points, metres, and
        flat pixel indices); ``hip_y`` the buttocks' height (m). With
        ``hips_between`` (lowest and highest height the buttocks can be at,
        m) and ``patient_pixels`` (every pixel of the patient), the gap is
        HIDDEN when someone in front covers the rear outline over that
        height, whatever the band at ``hip_y`` shows; UNREAD when no row
        shows where the body ends and nobody else is seen over it (the
        patient's own arm or load). ``buttock_radius_m``
        is the radius of the buttocks' horizontal cross-section (m), which
        sets how much of the rear the silhouette hides.

        Along each row the body is nearer than the background and the wall
        behind it is not. Fitting where (background - depth) falls to zero,
        and by how big a step, finds the body's rear edge even where the body
        nearly touches the wall and single pixels cannot tell the two apart;
        the body's depth at the edge, on the edge's ray, is the rear tangent
        point.
        """
        band = np.flatnonzero(np.abs(points[:, 1] - hip_y) < GAP_BAND_HALF_M)
        if len(band) < 20:
            return None
        band_pixels = pixels.take(band)
        rows, cols = np.divmod(band_pixels, self._width)
        z = points[:, 2].take(band)
        # Which way along a row the wall is: columns where the body is nearer the wall.
        toward_wall = -1 if line_slope(cols, z) > 0 else 1
        if hips_between is not None and patient_pixels is not None:
            if self._covered_share(depth, points, pixels, hips_between, patient_pixels,
                                   toward_wall) >= OCCLUDED_SHARE:
                return HIDDEN
        unique_rows, extreme = _row_extremes(band_pixels, self._width, toward_wall)
        window = self._edge_window
        offsets = np.arange(-window, window + 1) * toward_wall  # body side first, then wall side
        columns = extreme[:, np.newaxis] + offsets
        inside = (columns >= 0) & (columns < self._width)
        flat = unique_rows[:, np.newaxis] * self._width + np.minimum(np.maximum(columns, 0), self._width - 1)
        unit = np.float32(self._depth_unit_m)
        depth_m = depth.reshape(-1)[flat].astype(np.float32) * unit
        background = self._background[flat]
        valid = inside & (depth_m > 0) & (background > 0)
        difference = np.where(valid, background - depth_m, 0.0)
        edge, step, hidden = ramp_edges(difference, valid)
        if np.count_nonzero(np.isfinite(edge)) < 3:
            if np.count_nonzero(hidden) < 3:
                return None
            if patient_pixels is None:
                return HIDDEN
            # Hidden by someone, not by the patient's own arm or load: on a camera turned
            # toward the wall, an arm hanging at the side can stand over the buttocks' outline.
            by_someone = hidden & self._rows_show_someone_else(flat, valid & (difference > OCCLUDER_OFF_SCENE_M),
                                                               patient_pixels)
            return HIDDEN if np.count_nonzero(by_someone) >= 3 else UNREAD
        # The rear edge lies between two pixels; its ray is their rays' mean,
        # and the body there is ``step`` nearer than the wall behind it.
        rows_index = np.arange(len(edge))
        # (np.minimum and np.maximum: np.clip's and np.nan_to_num's checks cost more than the work here.)
        split = np.minimum(np.maximum(np.where(np.isnan(edge), 1.0, edge).astype(np.intp), 1), len(offsets) - 1)
        # The pixels either side of the edge (two arrays: np.stack's checks cost more than the gathers).
        before, after = flat[rows_index, split - 1], flat[rows_index, split]
        edge_rays = 0.5 * (self._rays[before] + self._rays[after])
        edge_depth = 0.5 * (self._background[before] + self._background[after]) - step
        # The last body pixel's centre lies a random fraction s of a pixel
        # inside the outline, where a surface of radius r curving away has
        # fallen back sqrt(2 r s pitch): on average the tangent point is
        # (2/3) sqrt(2 r pitch) deeper along the ray than the fit ends.
        pitch_m = np.maximum(edge_depth, 0.05) / np.float32(self._fx)
        edge_depth = edge_depth + (2.0 / 3.0) * np.sqrt(2.0 * buttock_radius_m * pitch_m)
        found = np.isfinite(edge) & (self._background[before] > 0) & (self._background[after] > 0)
        edge_y = self._origin[1] + edge_rays[:, 1] * edge_depth
        edge_z = self._origin[2] + edge_rays[:, 2] * edge_depth
        horizontal = np.hypot(edge_rays[:, 0], edge_rays[:, 2])
        hidden = buttock_radius_m * (1.0 - np.abs(edge_rays[:, 0]) / horizontal)
        row_gap = edge_z - hidden
        keep = found & np.isfinite(row_gap) & np.isfinite(edge_y)
        if np.count_nonzero(keep) < 3:
            return None
        # The closest window of rows by its median, not the closest rows: with
        # 1-2 cm of noise per row, the lowest few rows read low by the noise.
        return lowest_windowed_median(edge_y[keep].astype(np.float64), row_gap[keep].astype(np.float64),
                                       ROW_WINDOW_HALF_M)

    def _rows_show_someone_else(self, flat: np.ndarray, off_scene: np.ndarray,
                                patient_pixels: np.ndarray) -> np.ndarray:
        """Per row of ``flat`` (flat pixel indices), whether at least :data:`OCCLUDER_MIN_PIXELS` of those
        marked ``off_scene`` (nearer than the empty scene) are not among ``patient_pixels``."""
        someone_else = off_scene & self._not_the_patients(flat, patient_pixels)
        return np.count_nonzero(someone_else, axis=1) >= OCCLUDER_MIN_PIXELS

    def _not_the_patients(self, flat: np.ndarray, patient_pixels: np.ndarray) -> np.ndarray:
        """Whether each of ``flat`` (flat pixel indices, any shape) is not among ``patient_pixels``."""
        mask = self._patient_mask
        mask[patient_pixels] = True
        others = ~mask[flat]
        mask[patient_pixels] = False
        return others

    def _covered_share(self, depth: np.ndarray, points: np.ndarray, pixels: np.ndarray,
                       between: tuple[float, float], patient_pixels: np.ndarray, toward_wall: int) -> float:
        """Share of the image rows of ``points`` within ``between`` (m high) whose rear outline someone nearer covers."""
        heights = points[:, 1]
        inside = np.flatnonzero((heights > between[0]) & (heights < between[1]))
        if len(inside) == 0:
            return 0.0
        rows, extreme = _row_extremes(pixels.take(inside), self._width, toward_wall)
        columns = extreme[:, np.newaxis] + toward_wall * self._past_outline
        in_frame = (columns >= 0) & (columns < self._width)
        flat = rows[:, np.newaxis] * self._width + np.minimum(np.maximum(columns, 0), self._width - 1)
        flat_depth = depth.reshape(-1)
        outline = flat_depth[rows * self._width + extreme].astype(np.float32)
        past = flat_depth[flat].astype(np.float32)
        someone_else = self._not_the_patients(flat, patient_pixels)
        seen = in_frame & (past > 0)
        nearer = past < outline[:, np.newaxis] - np.float32(OCCLUDER_NEARER_M / self._depth_unit_m)
        # Not the room itself: nearer than the empty scene, or where the empty scene had no depth.
        scene = self._background[flat]
        off_scene = (scene == 0) | (past * np.float32(self._depth_unit_m) < scene - np.float32(OCCLUDER_OFF_SCENE_M))
        occluder = seen & someone_else & nearer & off_scene
        # Right past the outline; or the first pixel with depth past a stereo shadow (the wall, when the edge shows).
        first_seen = np.argmax(seen, axis=1)
        covered = (np.any(occluder[:, :self._occluder_look_px], axis=1)
                   | occluder[np.arange(len(rows)), first_seen])
        return float(np.count_nonzero(covered)) / len(rows)


def hips_radius_m(points: np.ndarray, hip_y: float) -> float | None:
    """Radius (m) of the circle that best fits the floor plan (x, z) of the body's points within :data:`GAP_BAND_HALF_M` of ``hip_y``.

    ``points`` are the body's core (room points, metres). The fit is
    algebraic (least squares on x^2 + z^2 = 2 a x + 2 b z + c), over the
    side, rear and front the camera sees of the hips; standing, it reads
    the same within about 7 mm frame after frame, and grows as the pelvis
    tips forward in a hinge. Held to :data:`BUTTOCK_RADIUS_RANGE_M`; None
    with fewer than 50 points in the band.
    """
    band = np.flatnonzero(np.abs(points[:, 1] - hip_y) < GAP_BAND_HALF_M)
    if len(band) < 50:
        return None
    x = points[:, 0].take(band).astype(np.float64)
    z = points[:, 2].take(band).astype(np.float64)
    # Centred first, so that the squares do not swamp the fit's precision.
    x -= x.mean()
    z -= z.mean()
    design = np.column_stack((x, z, np.ones_like(x)))
    (a2, b2, c), *_ = np.linalg.lstsq(design, x * x + z * z, rcond=None)
    squared = c + 0.25 * (a2 * a2 + b2 * b2)
    if not squared > 0:
        return None
    return float(np.clip(np.sqrt(squared), *BUTTOCK_RADIUS_RANGE_M))


def _row_extremes(pixels: np.ndarray, width: int, toward: int) -> tuple[np.ndarray, np.ndarray]:
    """The image rows of flat pixel indices ``pixels`` (ascending), and each row's last column (``toward`` > 0) or first.

    In ascending flat order each row's pixels are one run, its columns
    ascending: the extremes are the runs' ends, with no sort. Pixels in
    another order are sorted first.
    """
    if len(pixels) > 1 and not np.all(pixels[1:] > pixels[:-1]):
        pixels = np.sort(pixels)
    rows, cols = np.divmod(pixels, width)
    starts = np.flatnonzero(np.concatenate(([True], rows[1:] != rows[:-1])))
    ends = np.append(starts[1:], len(pixels)) - 1
    return rows.take(starts), cols.take(ends if toward > 0 else starts)


def lowest_windowed_median(heights: np.ndarray, values: np.ndarray, half_m: float, min_rows: int = 3):
    """The lowest, over rows, of the median ``values`` of the rows within ``half_m`` of its height; None if no window has ``min_rows``."""
    near = np.abs(heights[:, np.newaxis] - heights[np.newaxis, :]) <= half_m
    count = near.sum(axis=1)
    ordered = np.sort(np.where(near, values[np.newaxis, :], np.inf), axis=1)
    index = np.arange(len(values))
    median = 0.5 * (ordered[index, np.maximum(count - 1, 0) // 2] + ordered[index, count // 2])
    best = float(np.where(count >= min_rows, median, np.inf).min())
    return best if np.isfinite(best) else None


def ramp_edges(difference: np.ndarray, valid: np.ndarray):
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
    hidden : ndarray (rows,) of bool
        Rows whose best edge has something nearer than the wall beyond it
        (:data:`WALL_SIDE_MAX_M`): the body's end is hidden there.
    """
    rows, width = difference.shape
    k = np.arange(width, dtype=np.float64)
    d = difference.astype(np.float64)
    # The six running sums at once: over k < s for s = 0..width of
    # v, v k, v k k, v d, v d k and v d d (v: valid as 0 or 1).
    terms = np.empty((6, rows, width))
    terms[0] = valid
    np.multiply(terms[0], k, out=terms[1])
    np.multiply(terms[1], k, out=terms[2])
    np.multiply(terms[0], d, out=terms[3])
    np.multiply(terms[3], k, out=terms[4])
    np.multiply(terms[3], d, out=terms[5])
    sums = np.zeros((6, rows, width + 1))
    np.cumsum(terms, axis=2, out=sums[:, :, 1:])
    n, sk, skk, sd, sdk, sdd = sums
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
        # Past the edge the row must show the wall: something nearer there (a
        # person in front of the patient) hides where the body really ends.
        beyond = n[:, -1] - n[rows_index, best]
        wall_side_m = (sd[:, -1] - sd[rows_index, best]) / beyond
    fitted = np.isfinite(cost[rows_index, best])
    hidden = fitted & ~(wall_side_m < WALL_SIDE_MAX_M)
    found = fitted & ~hidden
    edge = np.where(found, best.astype(np.float64), np.nan)
    step = np.where(found, np.maximum(c[rows_index, best], 0.0), 0.0)
    return edge, step, hidden
