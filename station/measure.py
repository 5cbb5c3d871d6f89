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
   height). The trunk is the principal axis of the side profile's area
   above the buttocks, the thigh and shank the regression lines of the leg points
   above and below the knee.
4. The wall gap: along each image row through the buttocks, where the body's
   depth below the background ends (see :mod:`station.rear_edge`). This holds
   where the body touches the wall and merges with it in depth, where no
   single pixel can tell body from wall. The part of the rear the
   silhouette hides grows with the body's girth: the patient's hips are
   measured while they stand (:func:`station.rear_edge.hips_radius_m`).

Everything is vectorised; what does not change between frames (room rays,
thresholds, the plan grid) is computed once in :class:`Measurer`.
"""

from __future__ import annotations

import collections
import dataclasses
import warnings
from dataclasses import dataclass

import cc3d
import numpy as np

from station.errors import FrameError
from station.geometry import project
from station.rear_edge import BUTTOCK_RADIUS_M, HIDDEN, UNREAD, RearEdge, hips_radius_m
from station.slices import line_slope, mean
from station.slices import quantile, slice_quantile as _slice_quantile
from station.setup import BACK_HIDDEN_BY_SETUP
from station.spine import BackReading, back_curvature
from station.tracking import PATIENT_REACH_Z_M, SLAB_HALF_WIDTH_M, STILL_RADIUS_M, PatientTracker

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
# Where a person's feet must be for them to be chosen as the patient (m):
# within this of x = 0 along the wall, and nearer the wall than this (heels
# 10-30 cm from it). The calibration puts x = 0 opposite a point 2 m along
# the camera's axis, while the spot is 1.5-2.5 m away and aimed at within a
# few degrees: the spot lies within about 0.6 m of x = 0.
SPOT_HALF_WIDTH_M = 0.75
SPOT_MAX_Z_M = 0.65
# How far from x = 0 a followed patient's feet may be and still be at the
# drill (m): past it, they have walked off.
DRILL_ZONE_HALF_WIDTH_M = 0.9
# Points below this height (m) are a standing person's shanks and feet.
FEET_HEIGHT_M = 0.35
# ... and below this, their ankles and feet (m): where they stand, whatever the knees do.
ANKLES_HEIGHT_M = 0.2
# Below this share of a body's top height are its shanks and feet, whatever the arms do.
LEGS_SHARE_OF_TOP = 0.3
# Once the patient has stood put FEET_WINDOW_AFTER_S (s: turning round and
# stepping into place are over), their shanks are read within FEET_WINDOW_M
# (m; along the wall, out from it) of where they were last seen, and their
# ankles of where they stand put: a wide stance puts each foot 0.15 m either
# side of the middle and bending knees move the shanks a few centimetres out.
# Someone whose legs join the patient's in the blob (a clinician stepping in
# front of them, or standing close behind with their feet hidden) stands
# further off, and no longer drags the track onto themselves a few
# centimetres a frame. Legs seen only outside it (walking off) are followed
# as before. Stress check half: presence 97.0 -> 99.0%, reps missed with a
# second person 5 -> 2 of 50 (with STEP_READINGS in station.tracking).
FEET_WINDOW_M = (0.22, 0.15)
FEET_WINDOW_AFTER_S = 1.0
MIN_FEET_POINTS = 20
# The patient's shanks, or their ankles and feet, show when more than this
# many of their points are in view (as measured, MEASURE_WIDTH_PX wide).
MIN_LEG_POINTS = 20
# Leaning further than this (degrees from vertical) is a hinge: whoever does
# it at the drill spot is the patient (see Measurer._hinging_other).
HINGE_LEAN_DEG = 30.0
# One person's two feet stand within this of each other along the wall
# (m); feet further off are someone else's.
OWN_FEET_SPREAD_M = 0.3
# Feet are sought among points this near the wall (m): people at the drill.
FEET_MAX_Z_M = 1.0
# Bins of the feet's spread along the wall (m), and a foot's half width in bins.
FEET_BIN_M = 0.02
FEET_HALF_WIDTH_BINS = 3
MAX_PEOPLE = 6
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
# A bulge above that share is the buttocks of a deep hinge only if it is
# broad: the buttocks are round (radius 6-25 cm), so the outline 4-6 cm
# above or below their rearmost point lies within a few cm of it. A hand
# gripping a stick at the waist juts out of the back's outline in a band a
# few cm tall, with the outline 15-25 cm further out on both sides of it.
BULGE_HALF_HEIGHT_M = (0.04, 0.06)
BULGE_MAX_RECEDE_M = 0.06
# The torso, across the trunk's axis, lies within this of the back's outline
# (m); arms, a kettlebell or a stick held in front of the chest lie further
# out. Outline in slices this long along the axis (m).
TORSO_DEPTH_M = 0.22
TORSO_SLICE_M = 0.04
# At most this many points above the hips fit the axis (every n-th), where
# the side profile is too small to be binned (see below).
TORSO_MAX_POINTS = 1200
# The trunk's axis is fitted on the area of the side profile, not on its
# points: the points above the hips are binned in squares this big (m) of
# (height, distance from the wall), and each square holding at least
# TRUNK_CELL_MIN_POINTS points counts once (fewer are strays: flying pixels
# and noise between the body's edge and the background). The camera samples
# the body unevenly: a part nearer the lens or facing it gets several times
# the points per square centimetre of one further off or seen edge on, and
# which parts those are changes with the mount and with the hinge (bending
# over, the head and shoulders come toward a camera in front and turn their
# back to it). A plain principal axis leans toward the densely seen parts;
# the profile's area is the same from every mount, whatever the body or
# what it holds. On the stress tuning half the per-frame trunk went from
# 2.6 to 1.6 degrees shallow on average (bench_accuracy.py); what is left
# is mostly the head, which the fit needs (the torso alone is too stubby to
# give an axis) and which a hinging patient holds up.
TRUNK_CELL_M = 0.03
TRUNK_CELL_MIN_POINTS = 2
TRUNK_MIN_CELLS = 30
# The shank's rear outline: this quantile of distance from the wall in
# each height slice (the calf, clear of the noise).
LEG_OUTLINE_QUANTILE = 0.1
# Hysteresis of the foreground (see Measurer._foreground_points): pixels this
# many noise sigmas, and at least this much (m), nearer than the background
# join an object seeded by at least MIN_SEED_PIXELS clearly nearer pixels.
WEAK_NOISE_MULTIPLE = 2.0
WEAK_MIN_STEP_M = 0.015
MIN_SEED_PIXELS = 10
# Pixels, and plan cells, touch their 4 neighbours (see _label).
NEIGHBOURS = 4
# Frames wider than this are measured on every other pixel (px): 640x480
# and 848x480 as 320x240 and 424x240. The measures hold at 424x240, and a
# Pi keeps 30 fps in every mode.
MEASURE_WIDTH_PX = 424
# A patient already followed stays present with this much of them in view
# (see the confidence in Measurer.measure); choosing one takes 0.5.
FOLLOWED_MIN_CONFIDENCE = 0.25
# Someone stepping between the camera and the patient hides the patient,
# and their own legs then stand where the patient's were, a little nearer
# the camera: without a check the track would drift onto them. Across the
# spot the patient settled at (SPOT_LEGS_HALF_WIDTH_M either side, image
# rows at the feet, ankles and shins: SPOT_CHECK_HEIGHTS_M, m), each pixel
# is compared with the nearest it read in the first SPOT_REFERENCE_FRAMES
# frames there (the patient's own near leg and toes do not move while they
# stand put; a leg's edge flickers between the leg and what is behind it).
# While over SPOT_COVERED_SHARE of them read SPOT_COVERED_NEARER_M (m)
# nearer, the patient is there but hidden, not gone: unmeasured, for at
# most SPOT_COVERED_MAX_S (s), as a patient who steps toward the camera
# covers their old spot with their own legs and is followed after that
# long. The spot is where the patient has stood put for
# SPOT_REFERENCE_MOVE_S (s), and moves once they have stood put at another,
# uncovered, for as long. While the knees bend SPOT_KNEE_SLACK_DEG more than
# when the reference was taken, the shins lean forward over the spot (a
# squat) and it is not checked. With nobody in front 0-8% of the
# pixels read nearer (stress-100); a clinician as tall standing 10 cm in
# front, a third to two thirds (stress-103).
SPOT_CHECK_HEIGHTS_M = (0.06, 0.15, 0.25)
SPOT_COVERED_NEARER_M = 0.07
SPOT_REFERENCE_FRAMES = 5
SPOT_LEGS_HALF_WIDTH_M = 0.12
SPOT_COVERED_SHARE = 0.25
SPOT_COVERED_MAX_S = 4.0
SPOT_REFERENCE_MOVE_S = 1.0
SPOT_KNEE_SLACK_DEG = 25.0
# The patient's hips are measured while they stand (trunk under this, degrees,
# before their first hinge): hinging tips the pelvis and stretches its plan.
# The median of the last HIPS_RADIUS_READINGS such frames is their radius.
HIPS_RADIUS_MAX_TRUNK_DEG = 15.0
HIPS_RADIUS_READINGS = 60
# The patient's own side area (m^2) is read on the same standing frames (the
# median of as many). Through a hinge it stays within 0.4-1.35 times that
# (the stress tuning sets, nobody close: 99% of frames under 1.3); someone
# standing against them, face to face or at their side, joins their blob on
# the floor plan and adds a whole body (1.6-4.4 times). Past this multiple
# the frame mixes two people, and no measure of it is the patient's. The
# area is trusted from this many readings on (a second at 15 fps), and
# taken as wrong after this long (s) of frames past the multiple without a
# break (a clinician cueing face to face steps back sooner): it is then
# forgotten, so nobody is left unmeasured for good.
MERGED_AREA_MULTIPLE = 1.6
MERGED_AREA_MIN_READINGS = 15
MERGED_MAX_S = 5.0
# A break in those frames is this long (s) under the multiple: a frame or two under it, with the patient
# half hidden by someone in front again, is no break (stress-611: an own area read while the patient
# walked in half hidden made every later frame of them alone look merged, and such frames reset the
# clock, so the area was never read again and all four reps were lost).
MERGED_BREAK_S = 0.5


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
    (:class:`station.spine.SpineBaseline`). ``hidden_reason`` says when
    someone in front hides part or all of the patient
    (:data:`PATIENT_HIDDEN`, :data:`HIPS_HIDDEN`), or stands so close that
    the two cannot be told apart (:data:`PATIENT_MERGED`): the measures of
    what they hide are None. ``view_note`` says when the measures are read
    off less of the patient than they need (:data:`HEAD_ABOVE_PICTURE`).
    ``hip_height_mm`` is how high the buttocks' rearmost bulge is (mm above
    the floor; None where someone in front hides the hips): a squat lowers it
    (69 degrees of knee bend, 17 cm), a hinge with soft knees a few cm.
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
    hidden_reason: str | None = None
    view_note: str | None = None
    hip_height_mm: float | None = None


ABSENT = Measures(present=False, confidence=0.0)
# Why measures are None while the patient is there (Measures.hidden_reason).
PATIENT_HIDDEN = "someone in front of the patient"
HIPS_HIDDEN = "someone in front of the hips"
PATIENT_MERGED = "someone too close to the patient to tell apart"
# The patient reaches the picture's top edge: the head, and on a tall patient
# the shoulders, are above it, and the trunk's axis is fitted on what is left.
# Over the five stress sets (every third frame, patient measured) such frames
# read the trunk 3.7 degrees off (median; p95 12.9), the others 2.3 (p95 7.5),
# leaving out stress-116, whose 1.99 m patient the picture cuts at the chest
# (38 degrees off). A set-up matter the clinician can put right.
HEAD_ABOVE_PICTURE = ("the patient's head is above the picture, so the trunk angle reads less well: "
                      "aim the camera higher or move it back")
# A set-up whose side camera does not read the back (Measurer(back=False)): with one camera the set-up hides it;
# with two the camera above's reading replaces this (station.back_camera).
NOT_IN_VIEW = BackReading(None, BACK_HIDDEN_BY_SETUP)
# No pixels taken as the patient's (Measurer.patient_pixels).
_NO_PIXELS = np.empty(0, np.intp)


def _principal_angle_deg(y: np.ndarray, z: np.ndarray, y_mean: float | None = None,
                         z_mean: float | None = None) -> float:
    """Angle from vertical of the points' principal axis in the y-z plane, + toward +z.

    ``y_mean`` and ``z_mean`` are the points' means when the caller has them.
    """
    y0 = y - (mean(y) if y_mean is None else y_mean)
    z0 = z - (mean(z) if z_mean is None else z_mean)
    # Orientation of the major axis of the 2x2 covariance (closed form); the
    # sums of products by np.dot, a fraction of np.mean's call cost.
    cov_yy, cov_zz, cov_yz = float(np.dot(y0, y0)), float(np.dot(z0, z0)), float(np.dot(y0, z0))
    return float(np.degrees(0.5 * np.arctan2(2.0 * cov_yz, cov_yy - cov_zz)))


def _trunk_angle_deg(y: np.ndarray, z: np.ndarray, hip_y: float, rear_z: float) -> float:
    """The trunk's angle from vertical (degrees, + leaning away from the wall) from the points above the hips.

    The principal axis gives the line, up to a half turn; the trunk points
    from the hips (``hip_y`` high, ``rear_z`` from the wall at the buttocks)
    toward the body above them, which sets the half. Past horizontal (a
    stoop) the angle goes beyond 90 degrees rather than wrapping to -90.

    Arms, a held kettlebell or a stick out in front of the chest are no part
    of the trunk, yet they tip a principal axis toward them, most where the
    frame cuts off the head and shoulders: the axis is taken again (twice)
    over the torso alone, the points within :data:`TORSO_DEPTH_M` of the
    back's outline across the axis found so far. The points stand for the
    side profile's area, each occupied square of it once
    (:func:`_profile_cells`), not for how densely the camera sees it.
    """
    cells = _profile_cells(y, z)
    if cells is not None:
        y, z = cells
    else:
        # A thousand-odd points fix an axis as well as all of them (every n-th
        # point spans the trunk as they do), in a fraction of the time.
        stride = -(-len(y) // TORSO_MAX_POINTS)
        y, z = y[::stride], z[::stride]
    angle = _oriented_axis_deg(y, z, hip_y, rear_z)
    # Offsets from the hips and the turn's cosine and sine, each worked out once (the same values as each time over).
    up, out = y - hip_y, z - rear_z
    for _ in range(2):
        turn = np.radians(angle)
        cos_turn, sin_turn = np.cos(turn), np.sin(turn)
        along = up * cos_turn + out * sin_turn
        across = out * cos_turn - up * sin_turn
        slices = np.maximum(along / TORSO_SLICE_M, 0.0).astype(np.intp)
        back, _ = _slice_quantile(slices, across, 0.05, int(slices.max()) + 1)
        torso = across < back[slices] + TORSO_DEPTH_M
        if np.count_nonzero(torso) < 30:
            break
        angle = _oriented_axis_deg(y[torso], z[torso], hip_y, rear_z)
    return angle


def _profile_cells(y: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Centres (height, distance from the wall; m) of the side profile's occupied :data:`TRUNK_CELL_M` squares.

    A square is occupied with at least :data:`TRUNK_CELL_MIN_POINTS` of the
    points in it; None when fewer than :data:`TRUNK_MIN_CELLS` are (too
    little of the body to bin). The squares are fixed in the room, so a
    body standing still fills the same ones frame after frame.
    """
    rows = np.floor(y * (1.0 / TRUNK_CELL_M)).astype(np.intp)
    columns = np.floor(z * (1.0 / TRUNK_CELL_M)).astype(np.intp)
    first_row, first_column = int(rows.min()), int(columns.min())
    width = int(columns.max()) - first_column + 1
    counts = np.bincount((rows - first_row) * width + (columns - first_column))
    occupied = np.flatnonzero(counts >= TRUNK_CELL_MIN_POINTS)
    if len(occupied) < TRUNK_MIN_CELLS:
        return None
    return ((occupied // width + first_row + 0.5) * TRUNK_CELL_M,
            (occupied % width + first_column + 0.5) * TRUNK_CELL_M)


def _oriented_axis_deg(y: np.ndarray, z: np.ndarray, hip_y: float, rear_z: float) -> float:
    """The points' principal axis from vertical (degrees), the half turn pointing from the hips toward them."""
    y_mean, z_mean = float(mean(y)), float(mean(z))
    axis = _principal_angle_deg(y, z, y_mean, z_mean)
    toward = np.degrees(np.arctan2(z_mean - rear_z, y_mean - hip_y))
    # Of the axis and its reverse, the one nearer the direction from the hips to the trunk.
    return float(axis + 180.0 * np.round((toward - axis) / 180.0))


def _label(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """Connected regions of a 2-D boolean ``mask``, pixels touching their 4 neighbours: labels (0 off the mask) and how many.

    The same labels, numbered alike (in raster order of each region's first
    pixel), as ``scipy.ndimage.label`` with its default cross; cc3d's
    labelling takes under a third of its time on a 424x240 frame (about
    0.09 against 0.3 ms: the weak foreground's labelling was an eighth of a
    frame's measuring).
    """
    labels, count = cc3d.connected_components(mask, connectivity=NEIGHBOURS, return_N=True)
    return labels, int(count)


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
        full = calibration.intrinsics
        self.shape = (full.height, full.width)
        # Finer depth modes are measured on every other pixel (see MEASURE_WIDTH_PX):
        # sampling pixel 2u of the frame as pixel u halves focal length and principal point.
        stride = self._stride = max(1, int(round(full.width / MEASURE_WIDTH_PX)))
        intrinsics = self._intrinsics = dataclasses.replace(
            full, width=-(-full.width // stride), height=-(-full.height // stride),
            fx=full.fx / stride, fy=full.fy / stride, ppx=full.ppx / stride, ppy=full.ppy / stride)
        self._origin = calibration.camera_pose.translation.astype(np.float32)
        self._rays = np.ascontiguousarray(calibration.rays_room()[::stride, ::stride], np.float32).reshape(-1, 3)
        self._rays_by_axis = np.ascontiguousarray(self._rays.T)  # (3, pixels): x, y, z of each ray
        background = np.asarray(calibration.background_m, np.float32)[::stride, ::stride].reshape(-1)
        noise = np.asarray(calibration.background_noise_m, np.float32)[::stride, ::stride].reshape(-1)
        # A pixel is clearly, or a little, foreground when nearer than these
        # depths (metres; see _foreground_points); where the empty scene had
        # no data, anything valid is a candidate.
        strong_below_m = np.where(background > 0, background - np.maximum(noise_multiple * noise, min_depth_step_m),
                                  np.inf)
        weak_below_m = np.where(background > 0, background - np.maximum(WEAK_NOISE_MULTIPLE * noise, WEAK_MIN_STEP_M),
                                np.inf)
        unit = float(calibration.depth_unit_m)
        self._strong_below_units = self._threshold_units(strong_below_m, unit)
        self._weak_below_units = self._threshold_units(weak_below_m, unit)
        self._tracker = PatientTracker()
        self._clock_s = None
        self._camera_from_room = calibration.camera_pose.inverse()
        self._spot_covered_since_s = None
        self._spot_reference = None
        self._last_knee_deg = None
        self._patient_pixels = _NO_PIXELS  # the last frame's, flat indices in the measured frame
        # The followed patient's hips as measured standing (m), and the radius taken for their buttocks.
        self._hips_radii = collections.deque(maxlen=HIPS_RADIUS_READINGS)
        self._buttock_radius_m = BUTTOCK_RADIUS_M
        self._standing_areas = collections.deque(maxlen=HIPS_RADIUS_READINGS)
        self._own_area_m2 = None  # the patient's side area standing (MERGED_AREA_MULTIPLE), once read
        self._merged_since_s = None  # the first of the frames without a break past MERGED_AREA_MULTIPLE
        self._unmerged_since_s = None  # the first of the frames since then under it
        # Footprint of one pixel at 1 m (m^2): area = footprint * depth^2.
        self._pixel_area_at_1m = 1.0 / (intrinsics.fx * intrinsics.fy)
        self._rear_edge = RearEdge(self._rays, self._origin, background, intrinsics.width, intrinsics.fx,
                                   unit)
        # A pair of feet at 2.5 m shows some 20 points at 424x240, more at finer modes.
        self._min_feet_points = int(round(MIN_FEET_POINTS * intrinsics.fx * intrinsics.fy / PLAN_REFERENCE_FOCAL_PX ** 2))
        self._feet_bins = int(np.ceil((PLAN_X_RANGE_M[1] - PLAN_X_RANGE_M[0]) / FEET_BIN_M))
        self._plan_min_points = max(PLAN_MIN_POINTS, int(round(
            PLAN_MIN_POINTS * intrinsics.fx * intrinsics.fy / PLAN_REFERENCE_FOCAL_PX ** 2)))
        self._plan_shape = (int(round((PLAN_X_RANGE_M[1] - PLAN_X_RANGE_M[0]) / PLAN_CELL_M)),
                            int(round((PLAN_Z_RANGE_M[1] - PLAN_Z_RANGE_M[0]) / PLAN_CELL_M)))

    @staticmethod
    def _threshold_units(below_m: np.ndarray, unit_m: float) -> np.ndarray:
        """Depth thresholds (m, inf for none) as uint16 depth units less one, for ``depth - 1 < threshold``."""
        units = np.ceil(np.minimum(below_m, 65535 * unit_m) / unit_m)
        return (np.clip(units, 1, 65535) - 1).astype(np.uint16)

    def _check(self, depth: np.ndarray) -> None:
        if not isinstance(depth, np.ndarray) or depth.ndim != 2 or depth.dtype != np.uint16:
            raise FrameError("a depth frame is a 2-D uint16 array in the camera's depth units")
        if depth.shape != self.shape:
            raise FrameError(f"the frame is {depth.shape[1]}x{depth.shape[0]} but the calibration is for "
                             f"{self.shape[1]}x{self.shape[0]}: recalibrate at this resolution")

    @staticmethod
    def _check_has_data(depth: np.ndarray) -> None:
        """Raise FrameError for a frame with no depth at all (``depth`` as it came, before sampling).

        Called only once a frame shows nobody (a frame with no data shows no
        foreground): a pass over every pixel saved on all the others.
        """
        if not depth.any():
            raise FrameError("the frame has no depth data at all: check that nothing covers the camera")

    def patient_pixels(self) -> tuple[np.ndarray, np.ndarray]:
        """Rows and columns (of the full frame) of the pixels taken as the patient's in the last frame measured.

        Empty when nobody was taken. For checking whose body the measures
        came from against a simulator's labels (benchmarks/bench_identity.py).
        """
        rows, columns = np.divmod(self._patient_pixels, self._intrinsics.width)
        return rows * self._stride, columns * self._stride

    def reset(self) -> None:
        """Forget the patient being followed (a new recording, a new session)."""
        self._tracker.reset()
        self._clock_s = None
        self._spot_covered_since_s = None
        self._spot_reference = None
        self._last_knee_deg = None
        self._forget_body()

    def _read_standing(self, core_points: np.ndarray, hip_y: float, area_m2: float) -> None:
        """Take one standing frame's reading of the patient's hips (``core_points`` room points, ``hip_y`` m) into their
        buttock radius, and of their side area (``area_m2``) into their own area."""
        if (radius := hips_radius_m(core_points, hip_y)) is not None:
            self._hips_radii.append(radius)
            self._buttock_radius_m = float(np.median(self._hips_radii))
        self._standing_areas.append(area_m2)
        if len(self._standing_areas) >= MERGED_AREA_MIN_READINGS:
            self._own_area_m2 = float(np.median(self._standing_areas))

    def _merged(self, area_m2: float, t_s: float) -> bool:
        """Whether a frame showing ``area_m2`` (m^2) of the patient's side at ``t_s`` (s) has someone else's in it."""
        if self._own_area_m2 is None or area_m2 <= MERGED_AREA_MULTIPLE * self._own_area_m2:
            if self._unmerged_since_s is None:
                self._unmerged_since_s = t_s
            if t_s - self._unmerged_since_s >= MERGED_BREAK_S:
                self._merged_since_s = self._unmerged_since_s = None
            return False
        self._unmerged_since_s = None
        if self._merged_since_s is None:
            self._merged_since_s = t_s
        elif t_s - self._merged_since_s > MERGED_MAX_S:
            self._standing_areas.clear()  # read wrong: read afresh, where the patient has not hinged yet
            self._own_area_m2 = self._merged_since_s = None
            return False
        return True

    def _forget_body(self) -> None:
        """Forget the followed patient's hips and area: whoever is chosen next is measured afresh (the default radius
        till then)."""
        self._hips_radii.clear()
        self._buttock_radius_m = BUTTOCK_RADIUS_M
        self._standing_areas.clear()
        self._own_area_m2 = None
        self._merged_since_s = self._unmerged_since_s = None

    def _foreground_points(self, depth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Room points (N, 3) of everything nearer than the empty scene, and their flat pixel indices.

        Two thresholds (hysteresis): a pixel clearly nearer than the
        background (``noise_multiple`` sigmas) seeds an object; a pixel only
        a little nearer joins it when it touches such a seed in the image.
        Where the body nears the wall, or the sensor is noisy far away, its
        depth is within a few sigmas of the wall behind it: a single strict
        threshold would cut the buttocks off the body there, and a loose one
        alone would strew the wall's and floor's noise over the room.
        """
        flat = depth.reshape(-1)
        # 0 < depth < threshold in one unsigned comparison (0 wraps to the top).
        below = flat - np.uint16(1)
        weak = below < self._weak_below_units
        # Only the weak pixels (a few percent of the frame) are looked at
        # past the labelling: a strong pixel outside them has label 0, which
        # seeds nothing, so counting seeds among them counts every one.
        weak_pixels = np.flatnonzero(weak)
        if weak_pixels.size == 0:
            return np.empty((0, 3), np.float32), np.empty(0, np.intp)
        labels, count = _label(weak.reshape(depth.shape))
        # (Gathers by np.take: the same elements as indexing, without its set-up, which costs more here.)
        weak_labels = labels.reshape(-1).take(weak_pixels)
        strong = below.take(weak_pixels) < self._strong_below_units.take(weak_pixels)
        seeded = np.bincount(weak_labels[strong], minlength=count + 1) >= MIN_SEED_PIXELS
        seeded[0] = False
        candidates = weak_pixels[seeded.take(weak_labels)]
        if candidates.size == 0:
            return np.empty((0, 3), np.float32), candidates
        depth_m = flat[candidates].astype(np.float32)
        depth_m *= np.float32(self.calibration.depth_unit_m)
        # Each coordinate on its own contiguous array (origin + ray * depth, float32).
        x, y, z = (rays.take(candidates) for rays in self._rays_by_axis)
        for coordinate, origin in zip((x, y, z), self._origin):
            coordinate *= depth_m
            coordinate += origin
        # Above the floor and in front of the wall by more than the noise, inside the plan.
        inside = np.flatnonzero((y > 0.03) & (z > 0.0) & (x > PLAN_X_RANGE_M[0]) & (x < PLAN_X_RANGE_M[1])
                                & (z < PLAN_Z_RANGE_M[1]))
        points = np.empty((inside.size, 3), np.float32)
        for axis, coordinate in enumerate((x, y, z)):
            points[:, axis] = coordinate[inside]
        return points, candidates[inside]

    def _plan_labels(self, points: np.ndarray):
        """Connected blobs of ``points`` on the floor plan: each point's label (0: none), and how many blobs."""
        cells_x = ((points[:, 0] - PLAN_X_RANGE_M[0]) / PLAN_CELL_M).astype(np.intp)
        cells_z = ((points[:, 2] - PLAN_Z_RANGE_M[0]) / PLAN_CELL_M).astype(np.intp)
        cells = cells_x * self._plan_shape[1] + cells_z
        counts = np.bincount(cells, minlength=self._plan_shape[0] * self._plan_shape[1])
        held = counts.reshape(self._plan_shape) >= self._plan_min_points
        # One dilation by the 4-neighbour cross (ndimage.binary_dilation's
        # default), as shifts: the grid is small and the call's set-up is not.
        occupied = held.copy()
        occupied[1:] |= held[:-1]
        occupied[:-1] |= held[1:]
        occupied[:, 1:] |= held[:, :-1]
        occupied[:, :-1] |= held[:, 1:]
        labels, count = _label(occupied)
        return labels.reshape(-1)[cells], count

    def _feet(self, points: np.ndarray):
        """Where people stand along the wall: x, z (m) and point count of each pair of feet, or None.

        The feet are sought on their own, among the points low enough to be
        shanks and feet and near enough the wall to be at the drill: people
        beside each other may touch higher up, but each stands on their own
        feet. Peaks of the points' spread along the wall are feet; one
        person's two feet are one peak (the higher), someone else's stand
        more than :data:`OWN_FEET_SPREAD_M` off.
        """
        low = np.flatnonzero((points[:, 1] < FEET_HEIGHT_M) & (points[:, 2] < FEET_MAX_Z_M))
        if len(low) < self._min_feet_points:
            return None
        x, z = points[:, 0].take(low), points[:, 2].take(low)
        bins = ((x - PLAN_X_RANGE_M[0]) / FEET_BIN_M).astype(np.intp)
        counts = np.bincount(bins, minlength=self._feet_bins)[:self._feet_bins]
        # Points within a foot's width of each place along the wall.
        spread = np.convolve(counts, np.ones(2 * FEET_HALF_WIDTH_BINS + 1), mode="same")
        spread_bins = int(round(OWN_FEET_SPREAD_M / FEET_BIN_M))
        found = []
        while len(found) < MAX_PEOPLE:
            peak = int(np.argmax(spread))
            if spread[peak] < self._min_feet_points:
                break
            found.append(peak)
            spread[max(0, peak - spread_bins):peak + spread_bins + 1] = 0
        if not found:
            return None
        feet_x = PLAN_X_RANGE_M[0] + (np.array(found) + 0.5) * FEET_BIN_M
        near = np.abs(x[:, np.newaxis] - feet_x) < OWN_FEET_SPREAD_M / 2
        feet_z = (z @ near) / np.maximum(near.sum(axis=0), 1)
        return feet_x, feet_z, near.sum(axis=0)

    @staticmethod
    def _feet_at_spot(feet) -> float | None:
        """Where along the wall (x, m) the feet of the person at the drill spot are: near x = 0 and the wall."""
        x, z, _ = feet
        at_spot = (np.abs(x) < SPOT_HALF_WIDTH_M) & (z < SPOT_MAX_Z_M)
        if not at_spot.any():
            return None
        return float(x[at_spot][np.argmin(z[at_spot] + np.abs(x[at_spot]))])

    @staticmethod
    def _slab(feet_x: float, feet) -> tuple[float, float]:
        """The patient's slab along the wall (x from, to; m): SLAB_HALF_WIDTH_M either side of their feet,
        and never past halfway to someone else's feet."""
        low, high = feet_x - SLAB_HALF_WIDTH_M, feet_x + SLAB_HALF_WIDTH_M
        if feet is not None:
            others = feet[0][np.abs(feet[0] - feet_x) > OWN_FEET_SPREAD_M]
            halfway = 0.5 * (others + feet_x)
            low = max([low, *halfway[others < feet_x]])
            high = min([high, *halfway[others > feet_x]])
        return low, high

    def _sampled(self, depth: np.ndarray) -> np.ndarray:
        """The frame, checked, as measured: every other pixel of the finer modes (see MEASURE_WIDTH_PX).

        The sampled pixels are copied into an array of their own once: the
        measuring takes them flat (``reshape(-1)``) several times a frame, and
        each of those would copy a strided view afresh.
        """
        self._check(depth)
        return depth if self._stride == 1 else np.ascontiguousarray(depth[::self._stride, ::self._stride])

    def _patient_points(self, depth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Room points (N, 3) of the patient, and their flat pixel indices in the sampled frame; empty when nobody is there.

        The patient is the person who stands at the drill spot; once chosen,
        they are followed (:mod:`station.tracking`). Only what stands in
        their own slab of the room, :data:`SLAB_HALF_WIDTH_M` either side of
        their feet along the wall, can be them: a clinician beside them, even
        touching them, stands beyond it.
        """
        points, pixels = self._foreground_points(depth)
        self._frame_points, self._frame_pixels, self._frame_feet = points, pixels, None
        nobody = np.empty((0, 3), np.float32), np.empty(0, np.intp)
        if len(points) == 0:
            return nobody
        track = self._tracker.track
        feet = self._frame_feet = self._feet(points)
        if track is not None:
            feet_x = track.x_m
        elif feet is not None:
            feet_x = self._feet_at_spot(feet)
        else:
            feet_x = None
        if feet_x is None:
            return nobody
        return self._person_at(feet_x, points, pixels, feet)

    def _person_at(self, feet_x: float, points: np.ndarray, pixels: np.ndarray, feet):
        """The points (and pixels) of the person whose feet are at ``feet_x`` along the wall: in their slab, nearest the wall."""
        nobody = np.empty((0, 3), np.float32), np.empty(0, np.intp)
        low, high = self._slab(feet_x, feet)
        # (Rows are picked by index, np.take: several times faster than a boolean mask on (N, 3).)
        mine = np.flatnonzero((points[:, 0] > low) & (points[:, 0] < high) & (points[:, 2] < PATIENT_REACH_Z_M))
        if len(mine) == 0:
            return nobody
        points, pixels = points.take(mine, axis=0), pixels.take(mine)
        point_labels, count = self._plan_labels(points)
        if count == 0:
            return nobody
        sizes = np.bincount(point_labels, minlength=count + 1)
        sizes[0] = 0
        # Within the slab, the person-sized blob nearest the wall: someone
        # passing in front of the patient stands further out. (A loop over
        # the few person-sized blobs, not the points.)
        candidates = np.flatnonzero(sizes >= max(1, PERSON_SHARE * sizes.max()))
        if len(candidates) > 1:
            nearest = int(np.argmin([points[point_labels == label, 2].min() for label in candidates]))
        else:
            nearest = 0
        chosen = np.flatnonzero(point_labels == candidates[nearest])
        return points.take(chosen, axis=0), pixels.take(chosen)

    def _hinging_other(self):
        """Feet (x, z; m) of someone else at the drill spot who is leaning like a hinge, or None.

        Before the followed person has hinged, whoever else stands at the
        spot and hinges is the patient: a clinician may have stood there
        first while the patient was still stepping into place.
        """
        track, feet = self._tracker.track, self._frame_feet
        if track is None or feet is None:
            return None
        for x, z in zip(feet[0], feet[1]):
            if abs(x - track.x_m) <= OWN_FEET_SPREAD_M or abs(x) >= SPOT_HALF_WIDTH_M or z >= SPOT_MAX_Z_M:
                continue
            points, _ = self._person_at(float(x), self._frame_points, self._frame_pixels, feet)
            if len(points) < 50:
                continue
            top = quantile(points[:, 1], 0.995)
            legs = points[:, 1] < LEGS_SHARE_OF_TOP * top
            if np.count_nonzero(legs) > MIN_LEG_POINTS and abs(quantile(points[legs, 0], 0.5) - track.x_m) <= OWN_FEET_SPREAD_M:
                # The followed person's own far foot, in a wide stance, peaks on
                # its own: the body standing on it is theirs, not someone else's.
                continue
            upper = points[:, 1] > HIP_SHARE_OF_TOP[1] * top
            if np.count_nonzero(upper) > 30 and _principal_angle_deg(points[upper, 1], points[upper, 2]) > HINGE_LEAN_DEG:
                return float(x), float(z)
        return None

    def _hidden_if_covered(self, depth: np.ndarray, t_s: float, confidence: float) -> Measures | None:
        """A frame with too little of the followed patient in view: hidden (they are there) if someone in front
        covers their spot, else None (gone, or not yet chosen).

        Someone standing square between the camera and the patient leaves
        almost nothing of the patient in their slab: without this the patient
        read absent, the track was dropped after MEMORY_S, and the person in
        front was chosen and followed in their place.
        """
        if self._tracker.track is None or not self._spot_covered(depth, t_s):
            return None
        self._tracker.glimpsed(t_s)
        return Measures(present=True, confidence=confidence, hidden_reason=PATIENT_HIDDEN)

    def _spot_covered(self, depth: np.ndarray, t_s: float) -> bool:
        """Whether something nearer the camera covers the spot the followed patient stood put at, since at most SPOT_COVERED_MAX_S.

        ``depth`` is the measured (sampled) frame. Across the spot's feet,
        ankles and shins (:data:`SPOT_CHECK_HEIGHTS_M`,
        :data:`SPOT_LEGS_HALF_WIDTH_M` either side along the image row) each
        pixel is compared with the nearest it showed in the first
        :data:`SPOT_REFERENCE_FRAMES` frames at that spot (a leg's edge
        flickers between the leg and what is behind it; depth noise is 2% of
        the range): the patient's own feet, near leg and toes do not move
        while they stand put, so only someone in front reads
        :data:`SPOT_COVERED_NEARER_M` nearer. The spot is where the patient
        has stood put for :data:`SPOT_REFERENCE_MOVE_S`, and moves only once
        they have stood put at another, uncovered, for as long: someone
        stepping in front shifts where the feet seem to be first.
        """
        track = self._tracker.track
        reference = self._spot_reference
        if reference is not None:
            moved = np.hypot(track.still_x_m - reference["x"], track.still_z_m - reference["z"]) > STILL_RADIUS_M
            if moved and t_s - track.still_since_s >= SPOT_REFERENCE_MOVE_S and self._spot_covered_since_s is None:
                reference = None
        if reference is None:
            if t_s - track.still_since_s < SPOT_REFERENCE_MOVE_S:
                return False  # still stepping into place, maybe
            reference = self._spot_reference = self._spot_pixels(track.still_x_m, track.still_z_m, depth.shape)
            if reference is None:
                return False
        if reference["depth"] is not None and self._knees_moved_shins(reference):
            self._spot_covered_since_s = None
            return False
        seen = depth.reshape(-1)[reference["pixels"]].astype(np.float32)
        seen[seen == 0] = np.nan
        if reference["depth"] is None:
            reference["frames"].append(seen)
            if len(reference["frames"]) >= SPOT_REFERENCE_FRAMES:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)  # a pixel never valid
                    reference["depth"] = np.nanmin(np.stack(reference["frames"]), axis=0)
                reference["frames"] = None
            return False
        valid = np.isfinite(seen) & np.isfinite(reference["depth"])
        nearer = np.count_nonzero(valid & (seen < reference["depth"] - SPOT_COVERED_NEARER_M / self.calibration.depth_unit_m))
        if nearer < SPOT_COVERED_SHARE * max(np.count_nonzero(valid), 1) or nearer == 0:
            self._spot_covered_since_s = None
            return False
        if self._spot_covered_since_s is None:
            self._spot_covered_since_s = t_s
        return t_s - self._spot_covered_since_s <= SPOT_COVERED_MAX_S

    def _knees_moved_shins(self, reference: dict) -> bool:
        """Whether the knees bend :data:`SPOT_KNEE_SLACK_DEG` more than when the spot's reference was taken (the shins then lean forward over it)."""
        then, now = reference["knee_deg"], self._last_knee_deg
        return then is not None and now is not None and now - then > SPOT_KNEE_SLACK_DEG

    def _spot_pixels(self, x_m: float, z_m: float, shape: tuple[int, int]) -> dict | None:
        """The flat pixels across feet standing at (x, z) on the floor plan (m), for :meth:`_spot_covered`; None if behind the camera."""
        spot = np.array([[x_m, height, z_m] for height in SPOT_CHECK_HEIGHTS_M])
        camera = self._camera_from_room.apply(spot)
        if np.any(camera[:, 2] <= 0.1):
            return None
        columns, rows = np.round(project(camera, self._intrinsics)).astype(np.intp).T
        half = max(1, int(round(SPOT_LEGS_HALF_WIDTH_M * self._intrinsics.fx / float(camera[:, 2].mean()))))
        across = columns[:, np.newaxis] + np.arange(-half, half + 1)
        height, width = shape
        inside = (across >= 0) & (across < width) & (rows[:, np.newaxis] >= 0) & (rows[:, np.newaxis] < height)
        flat = (rows.clip(0, height - 1)[:, np.newaxis] * width + across.clip(0, width - 1))[inside]
        return {"x": x_m, "z": z_m, "pixels": flat, "frames": [], "depth": None, "knee_deg": self._last_knee_deg}

    def measure(self, depth: np.ndarray, t_s: float | None = None) -> Measures:
        """The measures of one depth frame (uint16 in the calibration's depth units) taken at ``t_s`` seconds.

        Frames are measured in order: the patient chosen in one is followed
        in the next (:mod:`station.tracking`). Without ``t_s``, frames are
        taken as 1/30 s apart.
        """
        if t_s is None:
            t_s = 0.0 if self._clock_s is None else self._clock_s + 1.0 / 30.0
        self._clock_s = t_s
        self._tracker.expire(t_s)
        followed = self._tracker.track is not None
        self._patient_pixels = _NO_PIXELS
        frame, depth = depth, self._sampled(depth)
        points, pixels = self._patient_points(depth)
        self._patient_pixels = pixels
        if len(points) < 50:
            self._check_has_data(frame)
            return self._hidden_if_covered(depth, t_s, 0.0) or ABSENT
        # Each coordinate once as an array of its own: the masks and statistics
        # below take a contiguous column in a third of a strided one's time.
        x, y, z = np.ascontiguousarray(points.T)
        depth_m = depth.reshape(-1)[pixels].astype(np.float32) * np.float32(self.calibration.depth_unit_m)
        area_m2 = float(np.sum(depth_m * depth_m)) * self._pixel_area_at_1m
        height_m = quantile(y, 0.995)
        # A standing or hinging adult shows at least ~0.25 m^2 of side and is
        # over a metre tall; less is a passer-by's edge or an object.
        confidence = float(np.clip(min(area_m2 / 0.35, (height_m - 0.6) / 0.6), 0.0, 1.0))
        # Choosing a patient takes a clear view of a person; keeping them,
        # only some of them in view (a clinician may hide the rest).
        if confidence < (FOLLOWED_MIN_CONFIDENCE if followed else 0.5):
            return (self._hidden_if_covered(depth, t_s, confidence)
                    or Measures(present=False, confidence=confidence, patient_pixels=len(points)))
        # The shanks and feet (LEGS_SHARE_OF_TOP), either side of the
        # body's midline whatever the arms do.
        legs = y < LEGS_SHARE_OF_TOP * height_m
        ankles = y < ANKLES_HEIGHT_M
        track = self._tracker.track
        if self._tracker.settled(t_s, FEET_WINDOW_AFTER_S):
            legs = _patients_own(legs, x, z, track.x_m, track.z_m)
            ankles = _patients_own(ankles, x, z, track.still_x_m, track.still_z_m)
        feet_seen = np.count_nonzero(legs) > MIN_LEG_POINTS
        legs_x = quantile(x[legs] if feet_seen else x, 0.5)
        if abs(legs_x) > DRILL_ZONE_HALF_WIDTH_M:
            self._tracker.reset()  # walked off the drill spot
            return Measures(present=False, confidence=confidence, patient_pixels=len(points))
        if self._tracker.track is None:
            self._spot_reference = None
            self._forget_body()
        elif self._spot_covered(depth, t_s):
            # Someone in front of the patient: what is in view is theirs.
            self._tracker.glimpsed(t_s)
            return Measures(present=True, confidence=confidence, hidden_reason=PATIENT_HIDDEN)
        if feet_seen:
            legs_z = quantile(z[legs], 0.5)
            if self._tracker.plausible(t_s, legs_x, legs_z):
                # Whether they stand put: the ankles and feet where enough of
                # them show, which stay put as the knees bend.
                planted = ((quantile(x[ankles], 0.5), quantile(z[ankles], 0.5))
                           if np.count_nonzero(ankles) > MIN_LEG_POINTS else None)
                self._tracker.seen(t_s, legs_x, legs_z, planted)
        else:
            self._tracker.glimpsed(t_s)
        if not self._tracker.settled(t_s):
            # Walking in, turning round, stepping into place, or walking off.
            return Measures(present=False, confidence=confidence, patient_pixels=len(points),
                            position_x_m=float(mean(x)))
        if self._merged(area_m2, t_s):
            # Someone against the patient: their points are in the patient's (the feet, followed apart, stay right).
            return Measures(present=True, confidence=confidence, hidden_reason=PATIENT_MERGED)
        core = np.flatnonzero(np.abs(x - legs_x) < CORE_HALF_WIDTH_M)
        core_points, core_pixels = points.take(core, axis=0), pixels.take(core)
        profile = _profile(y.take(core), z.take(core), height_m)
        if profile is None:
            return Measures(present=True, confidence=confidence, patient_pixels=len(points),
                            position_x_m=float(mean(x)))
        # The rear-edge fit sees the gap even where the body merges with the
        # wall; the profile's rear bulge is the fallback when it cannot run.
        gap_mm, hip_y = profile
        rear_z = gap_mm / 1000.0  # the rear bulge of what is in view
        hips_between = _hips_between(height_m, hip_y)
        edge_gap_m = self._rear_edge.gap_m(depth, core_points, core_pixels, hip_y,
                                           hips_between=hips_between, patient_pixels=pixels,
                                           buttock_radius_m=self._buttock_radius_m)
        hidden_reason = None
        if edge_gap_m is HIDDEN:
            gap_mm = None  # someone in front of the patient hides where the buttocks end
            hidden_reason = HIPS_HIDDEN
        elif edge_gap_m is UNREAD:
            gap_mm = None  # their own arm or load does: no rear bulge of what is in view stands in for it
        elif edge_gap_m is not None:
            gap_mm = max(0.0, edge_gap_m * 1000.0)
        above = y > hip_y
        trunk = None
        if np.count_nonzero(above) > 30:
            trunk = _trunk_angle_deg(y[above], z[above], hip_y, rear_z)
        if not self._tracker.hinged:
            if trunk is not None and trunk < HIPS_RADIUS_MAX_TRUNK_DEG:
                self._read_standing(core_points, hip_y, area_m2)
            if trunk is not None and trunk > HINGE_LEAN_DEG and self._own_area_m2 is not None:
                # The one doing the drill, theirs for good: leaning after standing at the spot. Turning round
                # there, the trunk reads 35-110 degrees for up to a second (hands on the hips: elbows out).
                self._tracker.hinged = True
            elif (other := self._hinging_other()) is not None:
                self._tracker.switch(t_s, *other)
                self._forget_body()
                return Measures(present=False, confidence=confidence)
        knee = _knee_flexion_deg(y, z, hip_y)
        if knee is not None:
            self._last_knee_deg = knee
        back = back_curvature(points, hip_y, trunk) if self._back else NOT_IN_VIEW
        # Patient pixels in the picture's top row (the pixels are indices into the measured frame, row by row).
        head_above = int(pixels.min()) < depth.shape[1]
        return Measures(present=True, confidence=confidence, wall_gap_mm=gap_mm, trunk_angle_deg=trunk,
                        knee_flexion_deg=knee, patient_pixels=len(points), position_x_m=float(mean(x)),
                        back_curvature_deg=back.curvature_deg, back_reason=back.reason, hidden_reason=hidden_reason,
                        view_note=HEAD_ABOVE_PICTURE if head_above else None,
                        hip_height_mm=None if hidden_reason else 1000.0 * hip_y)


def _patients_own(chosen: np.ndarray, x: np.ndarray, z: np.ndarray, x_m: float, z_m: float) -> np.ndarray:
    """Of ``chosen`` (a mask of room points, ``x`` along the wall and ``z`` out from it, m), those within :data:`FEET_WINDOW_M` of (x_m, z_m) on the floor plan.

    All of ``chosen`` when :data:`MIN_LEG_POINTS` or fewer are: the patient has moved away from there.
    """
    near = chosen & (np.abs(x - x_m) < FEET_WINDOW_M[0]) & (np.abs(z - z_m) < FEET_WINDOW_M[1])
    return near if np.count_nonzero(near) > MIN_LEG_POINTS else chosen


def _hips_between(top_m: float, hip_y: float) -> tuple[float, float]:
    """Lowest and highest height (m) the buttocks can be at in a body ``top_m`` high whose rear bulge is at ``hip_y``."""
    return max(0.4, HIP_SHARE_OF_TOP[0] * top_m), min(1.3, max(HIP_SHARE_OF_TOP[1] * top_m, hip_y + 0.05))


_THREE_SLICES = np.ones(3)


def _profile(y: np.ndarray, z: np.ndarray, top_m: float):
    """Rough wall gap (mm) and buttock height (m) from the side profile's rear bulge, or None.

    ``y`` and ``z`` are the body's core points (arms held out excluded);
    ``top_m`` is the body's top height, which bounds where the hips can be.
    """
    band = (y > _hips_between(top_m, 0.0)[0]) & (y < 1.3)
    if np.count_nonzero(band) < 40:
        return None
    slices = ((y[band] - 0.4) / SLICE_M).astype(np.intp)
    n_slices = int(np.ceil(0.9 / SLICE_M)) + 1
    rear, counts = _slice_quantile(slices, z[band], 0.03, n_slices)
    shown = counts >= 5
    if not shown.any():
        return None
    # Smooth over three slices so one noisy slice does not make the bulge:
    # each shown slice becomes the mean of the shown ones among it and its
    # two neighbours. (np.convolve: np.pad, np.nan_to_num and np.nanargmin
    # cost more in calls than the work on some 45 slices.)
    neighbours = np.convolve(shown.astype(np.float64), _THREE_SLICES, mode="same")
    sums = np.convolve(np.where(shown, rear, 0.0), _THREE_SLICES, mode="same")
    smooth = np.where(shown, sums / np.maximum(neighbours, 1.0), np.inf)
    heights = 0.4 + (np.arange(n_slices) + 0.5) * SLICE_M
    deepest = int(np.argmin(smooth))
    low = np.where(heights < HIP_SHARE_OF_TOP[1] * top_m, smooth, np.inf)
    lowest = int(np.argmin(low))
    if np.isfinite(low[lowest]) and (smooth[deepest] > smooth[lowest] - DEEP_HINGE_MARGIN_M
                                     or not _broad_bulge(smooth, deepest)):
        deepest = lowest
    return max(0.0, float(smooth[deepest]) * 1000.0), float(heights[deepest])


_BULGE_SIDE_SLICES = np.arange(round(BULGE_HALF_HEIGHT_M[0] / SLICE_M), round(BULGE_HALF_HEIGHT_M[1] / SLICE_M) + 1)


def _broad_bulge(smooth: np.ndarray, apex: int) -> bool:
    """Whether the smoothed rear outline ``smooth`` (m per height slice, inf where unseen) is broad at slice ``apex``.

    Broad: within :data:`BULGE_MAX_RECEDE_M` of the apex somewhere
    :data:`BULGE_HALF_HEIGHT_M` above or below it (beyond the three slices
    the smoothing spreads the apex over), as round buttocks are.
    """
    sides = np.concatenate([apex - _BULGE_SIDE_SLICES, apex + _BULGE_SIDE_SLICES])
    sides = sides[(sides >= 0) & (sides < len(smooth))]
    return bool(np.any(smooth[sides] < smooth[apex] + BULGE_MAX_RECEDE_M))


def _knee_flexion_deg(y: np.ndarray, z: np.ndarray, hip_y: float) -> float | None:
    """Angle between thigh and shank axes (degrees), from the leg points split at the knee height.

    The shank's line follows its rear outline (the calf, a low quantile of z
    in each height slice): a kettlebell held hanging in front of the legs
    reaches down past the knees and would tilt a fit through all the points
    there. The thigh is fitted through all its points.
    """
    # Standing, the knee is a little above halfway from floor to hip.
    knee_y = 0.52 * hip_y
    shank = (y > 0.12) & (y < knee_y - 0.04)
    thigh = (y > knee_y + 0.04) & (y < hip_y - 0.06)
    if np.count_nonzero(thigh) < 20 or np.count_nonzero(shank) < 20:
        return None
    n_slices = int(np.ceil(knee_y / SLICE_M)) + 1
    rear, counts = _slice_quantile((y[shank] / SLICE_M).astype(np.intp), z[shank], LEG_OUTLINE_QUANTILE, n_slices)
    outline = counts >= 3
    if np.count_nonzero(outline) < 4:
        return None
    heights = (np.arange(n_slices) + 0.5) * SLICE_M
    # Legs are within about 70 degrees of vertical: regressing z on y is
    # stable there even for a short band, where a principal axis can flip.
    thigh_angle = np.degrees(np.arctan(line_slope(y[thigh], z[thigh])))
    shank_angle = np.degrees(np.arctan(line_slope(heights[outline], rear[outline])))
    return float(abs(shank_angle - thigh_angle))
