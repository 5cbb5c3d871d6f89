"""Spine flexion from a camera that looks down along the back (``wall-above``): pure numpy.

The side camera sees the back edge-on, where the arms and the stick hide it
(``docs/back-view.md``). A camera on the drill wall above the drill spot looks
down along the back instead, and once the patient hinges, the back faces it.
This module reads the back's sagittal profile from that camera's depth frames:

1. **Points** (:class:`AboveView`): the depth pixels nearer than the empty
   scene and inside the column of air over the drill spot become room
   points (the calibration's pose). Both tests are one integer comparison
   per pixel against depth limits computed once per camera.
2. **The back's profile** (:func:`back_turn`): two strips either side of the
   body's midline (3-8 cm out: clear of the spine's groove, of a stick held
   along the spine and of the arms) give the back's skin in the sagittal
   plane. Around the hip joint (half the stature up, lower when a squat drops
   the buttocks' rear under that; a little in front of the rearmost point
   there), the skin is cut into radial bins from the sacrum to
   the upper back; per bin and strip the rear quantile of the angle about the
   hip is the back's outline there. Of the two strips the front one is kept: a
   hand behind the back is on one side only.
3. **Its turn**: a parabola fitted to that outline, in its own axis (a bin
   2 cm behind it is something on the back, a hand or a stick's end, and is
   dropped; one in front of it is a hollow of the back itself and is kept,
   unless it is further in front than a hollow is deep: the forearms or a
   kettlebell in front of the chest),
   turns by the back's curvature; the angle between its tangents at the ends
   of the back's own length (0.30 of stature, centred on the outline's middle,
   whatever bins the frame shows) is the reading, in degrees, positive when
   the back rounds.
4. **Against standing** (:class:`AboveBaseline`): spine flexion is the turn
   minus the patient's own turn standing still at the start of the set, so a
   kyphotic senior's rounded upper back is their baseline, not a fault. The
   stature that scales the bins is the head's top in those same still frames.
   A still moment whose readings disagree (too few, spread too far, or a
   turn no back has: over 45 degrees) gives the set no baseline; the next
   one is tried, and until one is steady the back is not checked.
5. **From the first hinge**: standing, the camera sees the back nearly
   edge-on from above (the top of each bulge only), and the parabola through
   those reads a straight back's turn a few degrees off the hinged one, body
   by body. So once the set's first hinge has taken the back's line
   ``HINGED_LEAN_DEG`` past its standing lean, the turn of the frames read in
   that band, where the back faces the camera, becomes the baseline, at most
   ``MAX_VIEW_SHIFT_DEG`` from the standing one (a first rep that rounds from
   its start would carry its rounding into it).

What is left of the drift (slim bodies read low at the bottom of a deep
hinge) is in the errors ``benchmarks/bench_spine_above.py`` prints, with what
it reaches and misses (``docs/back-view.md``). With the hands on the hips it
judges reps well enough to be switched on (``station.setup.BACK_CHECK_VALIDATED``);
the other drill variants are not.

The constants are in the body's own proportions (shares of stature, Winter's
tables) or in metres of skin; they were chosen on the simulator's tuning
seeds only (the benchmark keeps check sets apart), and the reading is
sensitive to them: the hip at 0.52 of stature is the simulator's body.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from station.geometry import Intrinsics, Pose, pixel_rays
from station.slices import slice_quantile
from station.spine import BackReading, SpineBaseline, median_since

# The column of air over the drill spot where the patient is (room metres):
# across the wall either side of the spot, above the shins, in front of the
# wall. Below it is the floor, behind it the drill wall.
COLUMN_HALF_WIDTH_M = 0.5
COLUMN_BOTTOM_M = 0.4
COLUMN_TOP_M = 2.3
COLUMN_WALL_CLEARANCE_M = 0.01
COLUMN_DEPTH_M = 1.3
# What "nearer than the empty scene" takes: the D400's noise, RMS metres per
# square metre of depth (2% at 2 m), times this many sigmas.
STEREO_NOISE_PER_M2 = 0.01
BACKGROUND_SIGMAS = 3.0
# The strips beside the midline that show the back's skin (metres out from it).
STRIP_INNER_M = 0.03
STRIP_OUTER_M = 0.08
# The hip joint, about which the outline is read: at this share of stature up
# (Winter: 0.53 standing), and this share of stature in front of the rearmost
# point of the body at that height (the buttocks).
HIP_SHARE_OF_STATURE = 0.52
HIP_DEPTH_SHARE = 0.07
HIP_BAND_SHARE = 0.04  # half-height of the band that finds the rearmost point
# When the knees bend far (a squat), the hips drop under that height: the
# buttocks' rear, the rearmost skin in the strips below the mid-back, then
# places them. Hinged, the pelvis tips forward and the buttocks' rear rides
# about 0.01 of stature above the hip joint (the simulator's body; its rear
# under the bulge's equator is seen too steeply to give depth, which lifts
# what is seen of it a little more).
BUTTOCKS_TOP_SHARE = 0.62  # under the mid-back (T12 stands at about 0.69)
BUTTOCKS_REAR_PERCENTILE = 2.0
BUTTOCKS_SKIN_M = 0.01
MIN_BUTTOCKS_POINTS = 20
HIP_UNDER_BUTTOCKS_SHARE = 0.01
# Radial bins about the hip joint, shares of stature: from the sacrum's skin
# (0.06) to the upper back short of the neck (0.30).
BIN_SHARE = 0.02
TURN_SPAN = (0.06, 0.30)
REAR_QUANTILE = 0.2  # of the angle about the hip: near the back's skin, short of noise
MIN_BIN_POINTS = 5
# The back's skin about the hip, from straight back (-90 degrees: the
# buttocks) round to past horizontal forward in a deep hinge; a point further
# round, behind and below the hip, is a leg or a flying pixel.
BELOW_HIP_RAD = np.radians(100.0)
MIN_BINS = 6  # radial bins with an outline, of the 12
# The outline's length from the sacrum's bin to the upper back's, share of
# stature, when the whole back faces the camera (0.30-0.31 hinged in the
# tuning seeds): the length the turn is read over in every frame.
TURN_LENGTH_SHARE = 0.30
MIN_SPAN_SHARE = 0.5  # the outline must cover this share of the span's length
OFF_OUTLINE_M = 0.02  # a bin this far behind the back's parabola (m) is something on the back
# A back's hollows lie less than this share of stature in front of its parabola: 0.032 at the most, 0.02 in
# 99% of frames, over 28 simulated bodies (1.5-1.9 m, slim to heavy, 0-35 degrees of kyphosis, hands on the
# hips, hinged 0-55 degrees, with and without sensor noise). The crossed forearms seen over the shoulders
# stand up to 0.07 in front of the first fit, which leans toward them. A bin further in front than this is
# not the back; 0.03, 0.04 and 0.05 read the benchmark's tune and check sets alike.
HOLLOW_SHARE = 0.04
# The head's top in the strips (clear of a stick's top on the midline), and
# how it stands to the stature: the strips' top is a little over it with hair
# and noise (1.00-1.04 in the simulator's tuning seeds).
HEAD_TOP_QUANTILE = 99.5
# A standing turn beyond this (degrees) is not a back seen edge-on but
# something in front of it (crossed forearms under a steep view): the set
# gets no baseline. The tuning seeds' standing turns span -17 to +21.
MAX_STANDING_TURN_DEG = 45.0
# Standing, the back is edge-on from above and a still second's readings can
# disagree: their median is then no baseline. In the tuning seeds (arms
# crossed, good-set 1) one still second read 8.5 degrees between quartiles
# and its median sat 5.6 degrees off the set's; steady still seconds read
# 0.9-6.3 degrees between quartiles (both variants). A still moment whose
# readings spread more than this between their quartiles (degrees) is
# refused, and the next one tried.
MAX_STANDING_SPREAD_DEG = 7.5
# A still moment with fewer readings than this, or in which the back is read
# in under this share of its frames, is no steady reading either (check2's
# rounded-back 17 with the arms crossed read 2-12 of 30, spread over 50
# degrees; in the tuning seeds the fewest was 12 of 30, kyphosis 5 under its
# hump, whose next still moment read 16).
MIN_STANDING_READINGS = 3
MIN_STANDING_READ_SHARE = 0.5
# The camera above sees the standing back nearly edge-on (the tops of its bulges) and the hinged back face-on,
# so a straight back's turn moves as the patient hinges, body by body (tuning seeds, good reps, against the
# standing turn: kyphotic seniors +2 to +6 degrees by 30-40 degrees of hip flexion, a slim upright body -2 by 20
# and -8 by 45; at the bottom of a rep that is flexion error). The set's first hinge, once the back has turned
# this far (degrees, its line about the hip against the standing one) toward the camera, shows the back
# face-on while it is still nearly straight: the median turn of its frames in this band (at least
# ``MIN_HINGED_READINGS`` of them) becomes the baseline. The band starts where the edge-on view has ended for
# every tuning body and ends well before the bottom of the shallowest rep.
HINGED_LEAN_DEG = (10.0, 25.0)
MIN_HINGED_READINGS = 3
# How far that hinged baseline may move the standing one (degrees). A first rep that rounds from its start
# carries its early rounding into the hinged frames; this bounds what it can hide. The tuning seeds' hinged
# baselines sat -2 to +6 degrees from their standing ones. Measured since (bench_spine_above's first-tune and
# first-check, rounded-every-rep): a first rep rounding from its start put its band +7.7 to +20.7 over standing,
# so such a set reads the full 6 degrees low (5 of 20 rounded reps missed on first-tune, 0 of 20 on first-check);
# good first reps' bands reach +10.8 (check2), so the band's turn alone cannot tell the two apart
# (docs/back-view.md, "A back that rounds from the first rep").
MAX_VIEW_SHIFT_DEG = 6.0
# How long the readings are kept for that (s): the still second and a slow descent (up to 2.4 s) to the band's end.
HINGE_HISTORY_S = 4.0
HEAD_TOP_SHARE = 1.015
MIN_STATURE_M, MAX_STATURE_M = 1.2, 2.1


class AboveView:
    """One camera's per-frame points in the column over the drill spot; the rays are computed once.

    Parameters
    ----------
    intrinsics : Intrinsics
        Of the depth stream.
    camera_pose : Pose
        Camera to room (metres): from the calibration; in the simulator, the
        camera's true pose.
    depth_unit_m : float
        Metres per depth unit.
    background_m : ndarray (H, W) or None
        The empty scene's depth (metres, 0 unknown), as the calibration keeps
        it: a pixel must be nearer than it by three sigmas of the camera's
        noise there (at least ``min_step_m``) to count, so the drill wall
        below the camera and the floor never do, whatever the pose's error.
    min_step_m : float
        How much nearer than the background a body is at least (metres).
    spot_x_m : float
        Where the drill spot is along the wall.
    """

    def __init__(self, intrinsics: Intrinsics, camera_pose: Pose, depth_unit_m: float,
                 background_m: np.ndarray | None = None, min_step_m: float = 0.04, spot_x_m: float = 0.0):
        self.intrinsics = intrinsics
        self.camera_pose = camera_pose
        self.depth_unit_m = float(depth_unit_m)
        rays = (pixel_rays(intrinsics) @ camera_pose.rotation.T).reshape(-1, 3)
        low = np.array([spot_x_m - COLUMN_HALF_WIDTH_M, COLUMN_BOTTOM_M, COLUMN_WALL_CLEARANCE_M])
        high = np.array([spot_x_m + COLUMN_HALF_WIDTH_M, COLUMN_TOP_M, COLUMN_DEPTH_M])
        origin = np.asarray(camera_pose.translation, float)
        # Slab test: the Z-depths between which each pixel's ray is inside the
        # column (rays have Z = 1, so a ray's parameter is the pixel's Z-depth).
        with np.errstate(divide="ignore", invalid="ignore"):
            t0 = (low - origin) / rays
            t1 = (high - origin) / rays
        parallel = rays == 0.0
        outside = parallel & ((origin < low) | (origin > high))
        near = np.max(np.where(parallel, -np.inf, np.minimum(t0, t1)), axis=1)
        far = np.min(np.where(parallel, np.inf, np.maximum(t0, t1)), axis=1)
        far = np.where(outside.any(axis=1), -np.inf, far)
        near = np.maximum(near, 0.0)
        # In depth units, so a frame is cut with integer comparisons before any point is made.
        unit = self.depth_unit_m
        self._near_units = np.clip(np.ceil(near / unit), 1, 65535).astype(np.uint16).reshape(
            intrinsics.height, intrinsics.width)
        far = np.where(far > near, far, 0.0).reshape(intrinsics.height, intrinsics.width)
        if background_m is not None:
            background_m = np.asarray(background_m, float)
            if background_m.shape != far.shape:
                raise ValueError(f"the background is {background_m.shape[1::-1]}, the stream "
                                 f"{intrinsics.width}x{intrinsics.height}")
            # A D400's depth noise grows with the square of depth (2% RMS at 2 m in its
            # coarse modes): three of its sigmas, and never less than ``min_step_m``.
            step = np.maximum(min_step_m, BACKGROUND_SIGMAS * STEREO_NOISE_PER_M2 * background_m ** 2)
            far = np.where(background_m > 0, np.minimum(far, background_m - step), far)
        self._far_units = np.clip(np.floor(far / unit), 0, 65535).astype(np.uint16)
        self._rays = rays.astype(np.float32)
        self._origin = origin.astype(np.float32)

    def points(self, depth: np.ndarray) -> np.ndarray:
        """Room points (N, 3), metres, of a depth frame (H, W uint16) inside the column over the spot."""
        depth = np.asarray(depth)
        expected = (self.intrinsics.height, self.intrinsics.width)
        if depth.shape != expected:
            raise ValueError(f"depth frame is {depth.shape[1::-1]}, the back camera's stream is "
                             f"{expected[1]}x{expected[0]}")
        inside = (depth >= self._near_units) & (depth <= self._far_units)
        pixels = np.flatnonzero(inside)
        z = depth.reshape(-1)[pixels].astype(np.float32) * np.float32(self.depth_unit_m)
        return self._origin + self._rays[pixels] * z[:, None]


def stature_from_head_top(points: np.ndarray) -> float | None:
    """The standing patient's stature (m) from the top of the strips beside the midline, or None."""
    if len(points) < 50:
        return None
    midline = float(np.median(points[:, 0]))
    off = np.abs(points[:, 0] - midline)
    strips = (off > STRIP_INNER_M) & (off < STRIP_OUTER_M)
    if np.count_nonzero(strips) < 50:
        return None
    return float(np.percentile(points[strips, 1], HEAD_TOP_QUANTILE)) / HEAD_TOP_SHARE


def _buttocks_height(y: np.ndarray, z: np.ndarray, off: np.ndarray, strips: np.ndarray,
                     stature_m: float) -> float | None:
    """Height (m) of the buttocks' rear, the body's rearmost skin under the mid-back in the strips, or None.

    Per strip, the points within ``BUTTOCKS_SKIN_M`` of its rearmost
    (a low quantile, short of flying pixels) give their median height; of the
    two strips the one whose rear is in front counts: a hand behind the low
    back (the stick) is in one strip only.
    """
    low = strips & (y < BUTTOCKS_TOP_SHARE * stature_m)
    best = None
    for strip in (low & (off > 0), low & (off < 0)):
        if np.count_nonzero(strip) < MIN_BUTTOCKS_POINTS:
            continue
        depth = z[strip]
        rear = float(np.percentile(depth, BUTTOCKS_REAR_PERCENTILE))
        if best is None or rear > best[0]:
            best = (rear, float(np.median(y[strip][depth < rear + BUTTOCKS_SKIN_M])))
    return None if best is None else best[1]


def back_turn(points: np.ndarray, stature_m: float) -> BackReading:
    """How far the back's outline turns from the sacrum to the upper back, degrees (+ rounding), or None with a reason.

    Parameters
    ----------
    points : ndarray (N, 3)
        Room points in the column over the spot (:meth:`AboveView.points`).
    stature_m : float
        The patient's standing height (metres), which scales the outline's bins.
    """
    if not MIN_STATURE_M <= stature_m <= MAX_STATURE_M:
        return BackReading(None, "no stature")
    if len(points) < 200:
        return BackReading(None, "nobody at the spot")
    x, y, z = points[:, 0], points[:, 1], points[:, 2]
    hip_y = HIP_SHARE_OF_STATURE * stature_m
    upper = y > hip_y
    if np.count_nonzero(upper) < 100:
        return BackReading(None, "back not in view")
    midline = float(np.median(x[upper]))
    off = x - midline
    strips = (np.abs(off) > STRIP_INNER_M) & (np.abs(off) < STRIP_OUTER_M)
    # Bent knees (a squat) drop the hips well under their standing height: then
    # the buttocks' rear, seen from above, says where they are.
    buttocks_y = _buttocks_height(y, z, off, strips, stature_m)
    if buttocks_y is not None:
        hip_y = min(hip_y, buttocks_y - HIP_UNDER_BUTTOCKS_SHARE * stature_m)
    at_hips = (np.abs(y - hip_y) < HIP_BAND_SHARE * stature_m) & (np.abs(off) < STRIP_OUTER_M)
    if np.count_nonzero(at_hips) < 10:
        return BackReading(None, "hips not in view")
    hip_z = float(np.percentile(z[at_hips], 5)) + HIP_DEPTH_SHARE * stature_m
    dy, dz, side = y[strips] - hip_y, z[strips] - hip_z, off[strips] > 0
    radius = np.hypot(dy, dz) / stature_m
    angle = np.arctan2(dz, dy)  # about the hip, from straight up toward the room
    low, high = TURN_SPAN
    n_bins = int(round((high - low) / BIN_SHARE))
    bins = np.floor((radius - low) / BIN_SHARE).astype(np.intp)
    # Only above the hip's level or behind it: below it are the legs and flying pixels under the buttocks.
    in_span = (bins >= 0) & (bins < n_bins) & (angle > -BELOW_HIP_RAD)
    outlines = []
    for strip in (in_span & side, in_span & ~side):
        rear, counts = slice_quantile(bins[strip], angle[strip], REAR_QUANTILE, n_bins)
        outlines.append(np.where(counts >= MIN_BIN_POINTS, rear, np.nan))
    outline = np.fmax(*outlines)  # the front one of the two: a hand behind the back is on one side
    shown = np.isfinite(outline)
    if np.count_nonzero(shown) < MIN_BINS:
        return BackReading(None, "back not in view")
    centres = (low + (np.arange(n_bins) + 0.5) * BIN_SHARE) * stature_m
    profile = np.column_stack([centres[shown] * np.cos(outline[shown]), centres[shown] * np.sin(outline[shown])])
    middle = profile.mean(axis=0)
    along = np.linalg.svd(profile - middle, full_matrices=False)[2][0]
    if along @ middle < 0:
        along = -along  # from the hips toward the shoulders
    across = np.array([-along[1], along[0]])  # toward the room side of the back's line
    u = (profile - middle) @ along
    v = (profile - middle) @ across
    if np.ptp(u) < MIN_SPAN_SHARE * (high - low) * stature_m:
        return BackReading(None, "back hidden (arms, a stick or the view)")
    fit = np.polyfit(u, v, 2)
    # A bin off the parabola is something else, refitted without; behind it and in front of it are not alike
    # (``v`` grows toward the front of the body). Behind by more than skin does: something lying on the back (a
    # hand, a stick's end), which the rear quantile takes before the skin under it. In front: hinged, the camera
    # sees the back's own hollows (the waist between the buttocks and the ribs, the lumbar lordosis), a few cm in
    # front of the parabola through the bulges; dropped at 2 cm as a kettlebell used to be, the buttocks' and the
    # low back's bins came and went from frame to frame and the parabola through the rest, read over the back's
    # whole length, turned 20-40 degrees too far (check's rounded-back 13, a tall kyphotic senior, in every good
    # rep's bottom). So only what stands in front by more than a hollow is deep is dropped: what is held in front
    # of the chest (crossed forearms, a kettlebell), seen over the shoulders where the back is not.
    residual = v - np.polyval(fit, u)
    kept = (residual > -OFF_OUTLINE_M) & (residual < HOLLOW_SHARE * stature_m)
    if np.count_nonzero(kept) < MIN_BINS:
        return BackReading(None, "back hidden (arms, a stick or the view)")
    u, v = u[kept], v[kept]
    a, b, _ = np.polyfit(u, v, 2)
    # The turn over the back's own length (centred on the outline's middle),
    # not between the bins this frame happened to keep: standing, the low back
    # is seen edge-on and the kept bins spanned 0.28 of stature against 0.31
    # hinged, so the standing baseline was read over a shorter arc than the
    # reps; a hidden or dropped end bin did the same to single frames.
    half = 0.5 * TURN_LENGTH_SHARE * stature_m
    turn = np.arctan(2.0 * a * half + b) - np.arctan(-2.0 * a * half + b)
    lean = np.arctan2(along[1], along[0])  # the back's line about the hip, from straight up toward the room
    return BackReading(float(np.degrees(turn)), lean_deg=float(np.degrees(lean)))


class AboveBaseline(SpineBaseline):
    """:class:`SpineBaseline` for the camera above: it also keeps the stature standing still at the start of the set.

    Until the baseline is settled, each frame is read with the median head top
    of the last ``window_s`` as the stature (the patient stands at the start
    of the set); from then on the median head top of the still moment scales
    every frame.

    A still moment gives the standing turn only if its readings agree: the
    back read in at least half its frames (and three), spread no more than
    ``MAX_STANDING_SPREAD_DEG`` between their quartiles, turned no more than
    a back does. Otherwise the set has no baseline yet, :attr:`refusal` says
    why, and the next :meth:`settle` (the next still moment) tries again. No
    baseline is better than a wrong one: every rep read against it would be
    off by as much.
    """

    def __init__(self, window_s: float = 1.0):
        super().__init__(window_s)
        self.stature_m: float | None = None
        self.refusal: str | None = None
        self.standing_deg: float | None = None  # the still moment's turn, before the first hinge moves it
        self._tops: list[tuple[float, float]] = []
        self._frames: list[float] = []  # the last window_s's frame times, read or not
        self._leaning: deque[tuple[float, float, float]] = deque()  # (t_s, turn deg, lean deg) of HINGE_HISTORY_S
        self._hinge_from: tuple[float, float] | None = None  # (still moment's start s, its lean deg) until moved
        self.hinged_shift_deg: float | None = None  # the first hinge's turn against standing, before the bound

    def observe(self, t_s: float, curvature_deg: float | None, lean_deg: float | None = None) -> None:
        """Keep the frame's turn (degrees, None unread) and the back's lean (degrees) it was read at."""
        super().observe(t_s, curvature_deg)
        self._frames.append(t_s)
        while self._frames and self._frames[0] < t_s - self.window_s:
            self._frames.pop(0)
        if curvature_deg is not None and lean_deg is not None:
            self._leaning.append((t_s, curvature_deg, lean_deg))
        while self._leaning and self._leaning[0][0] < t_s - HINGE_HISTORY_S:
            self._leaning.popleft()
        # The first hinge is passed at the first reading past the band: only such a frame can end it (the
        # readings before it were looked at as they came, or when the still moment was taken).
        if (self._hinge_from is not None and lean_deg is not None and curvature_deg is not None
                and lean_deg - self._hinge_from[1] > HINGED_LEAN_DEG[1]):
            self._from_the_first_hinge()

    def _from_the_first_hinge(self) -> None:
        """Once the back has turned past the hinged band, its frames in the band give the baseline (bounded)."""
        if self._hinge_from is None:
            return
        since_s, standing_lean = self._hinge_from
        hinged = [(turn, lean - standing_lean) for t_s, turn, lean in self._leaning if t_s >= since_s]
        low, high = HINGED_LEAN_DEG
        if not any(lean > high for _, lean in hinged):
            return
        self._hinge_from = None
        turns = [turn for turn, lean in hinged if low <= lean <= high]
        if len(turns) >= MIN_HINGED_READINGS:
            shift = self.hinged_shift_deg = float(np.median(turns)) - self.standing_deg
            self.baseline_deg = self.standing_deg + float(np.clip(shift, -MAX_VIEW_SHIFT_DEG, MAX_VIEW_SHIFT_DEG))

    def stature_for(self, t_s: float, points: np.ndarray) -> float | None:
        """The stature to read this frame with (m): the set's once settled, else the last ``window_s``'s median head top."""
        if self.stature_m is not None:
            return self.stature_m
        top = stature_from_head_top(points)
        if top is not None:
            self._tops.append((t_s, top))
        while self._tops and self._tops[0][0] < t_s - self.window_s:
            self._tops.pop(0)
        return float(np.median([value for _, value in self._tops])) if self._tops else None

    def settle(self, since_s: float) -> None:
        """The patient has stood still since ``since_s``: the stature then, and the standing turn if its readings agree."""
        if self.baseline_deg is not None:
            return
        stature_m = median_since(self._tops, since_s)
        if stature_m is not None:
            self.stature_m = stature_m
        readings = [value for t_s, value in self._recent if t_s >= since_s]
        frames = sum(1 for t_s in self._frames if t_s >= since_s)
        if len(readings) < max(MIN_STANDING_READINGS, MIN_STANDING_READ_SHARE * frames):
            self.refusal = f"the back read in {len(readings)} of the still moment's {frames} frames, too few"
            return
        low, middle, high = np.percentile(readings, [25.0, 50.0, 75.0])
        if high - low > MAX_STANDING_SPREAD_DEG:
            self.refusal = f"the standing back read unsteadily ({high - low:.0f} degrees between quartiles)"
        elif abs(middle) > MAX_STANDING_TURN_DEG:
            self.refusal = f"what was read standing turns {middle:.0f} degrees, which no back does"
        else:
            self.baseline_deg = self.standing_deg = float(middle)
            self.refusal = None
            leans = [lean for t_s, _, lean in self._leaning if t_s >= since_s]
            if leans:
                # The still moment's lean is where the hinge is measured from; the detector announces a rep
                # some frames into its descent, so the band may already be behind: looked at at once.
                self._hinge_from = (since_s, float(np.median(leans)))
                self._from_the_first_hinge()

    def reset(self) -> None:
        super().reset()
        self.stature_m = None
        self.refusal = None
        self.standing_deg = None
        self._hinge_from = None
        self.hinged_shift_deg = None
        self._tops.clear()
        self._frames.clear()
        self._leaning.clear()
