"""Reps from the stream of per-frame measures: one state machine, online.

The live station and ``wallhinge analyze`` feed the same :class:`RepDetector`
one frame at a time, so what the clinic sees live equals what an analysis of
the recording says. Each call returns the events that frame caused, the
moment it causes them: the patient arriving or leaving, the buttocks
touching the wall, a rep ending.

How a rep is found (trunk angle relative to the patient's own standing
posture). Each measure first goes through a short running median
(:data:`SMOOTHING_FRAMES`): three frames for the wall gap, so a touch is
reported one frame after it is seen; for the trunk angle, whose
measurement can flip by a few degrees from frame to frame as the arms join
or leave the trunk's outline, and for spine flexion, the frames of the last
:data:`TRUNK_SMOOTHING_S` (5 at 15 fps, 9 at 30 fps), so it spans the same
stretch of movement whatever the frame rate.

- *Standing baseline*: the median trunk angle over the patient's first still
  moment at the spot (``baseline_s`` with trunk angle and place along the
  wall steady), then following only slow drift. No rep starts before there
  is one, so walking in and turning round never count. A first still moment
  that is a rep's held bottom (at the wall, :data:`HELD_BOTTOM_DEG` past the
  readings just before it) gives the baseline from those readings instead.
- *Start*: the trunk leans ``enter_deg`` past the lowest it was since the last
  rep, or past the standing baseline if that is higher (hysteresis: a sway or
  a weight shift never gets that far). The rep's start is looked up
  afterwards: the last frame the trunk was still at that level, i.e. when the
  descent began. The lean must get there continuously: a jump faster than a
  body can move (``max_rate_deg_s``) is a measurement losing the trunk, as
  when someone turns round, not a rep. A tall body at the beginners'
  stand-off (heels 10-15 cm from the wall) reaches the wall after 4-6 degrees
  of lean, under ``enter_deg``: the hips reaching the wall (the gap falling
  ``touch_drop_mm`` from where it rested to within the touch tolerance) with
  ``touch_enter_deg`` of lean starts the rep too, and the hips leaving the
  wall again start its way up (such a rep may lean too little past standing
  to come back ``ascent_deg`` from its deepest). A squat done upright (the
  knees bending ``squat_enter_deg`` past the least they were since the last
  rep while the trunk leans under ``enter_deg``) starts a rep too; until it
  leans ``enter_deg``, its start, bottom and way up follow the knee (its
  way up: the knee half way back).
- *Touch*: the wall gap comes within the touch tolerance: reported at once.
- *Bottom and hold*: the frames whose lean is within ``bottom_band_deg`` of
  the rep's deepest (and, for a rep that touched, whose gap is at the wall)
  are the hold; the last ends it. A descent slows into the bottom, so the
  band's first frame comes early; the bottom is where the lean is 90% of the
  way down, plus the last tenth's share of a smooth movement
  (:data:`FINAL_TENTH_SHARE`). The way up mirrors it: the band's last frame
  comes late, and the hold ends where the lean is still within the first
  tenth of the way back up, less that tenth's share of the way up seen. A
  moment nine tenths of the way down that the reading only flickered to
  (:data:`MIN_DEEP_STRETCH_S`) is neither. The start is also looked up in
  the wall gap (the hips starting back), as a shallow hinge from a short
  stand-off moves the hips far more than the trunk; a deeper hinge's start
  is then held to what its own shape says (:func:`_descent_start`).
- *End*: the trunk comes back within the upright threshold (a full return),
  or it stops coming back for ``stall_s``, or it starts down again into the
  next rep (both an incomplete return, ending where it came back to).
- *Return*: after a full return the rep is told at once (``RepDone``), but the
  trunk goes on coming up past the threshold: it is followed until it makes
  no new low for :data:`SETTLE_S` (at most :data:`SETTLE_MAX_S`, or until the
  next rep starts or the patient leaves), and ``RepReturned`` then says how
  close to standing it came back, and the rep's end: the first frame within
  ``start_band_deg`` of that level (the start's rule, mirrored), so the
  ascent holds its last degrees; the rep in ``reps`` is updated with them.
- *Cut*: a rep on its way up when the frames stop (the end of the session or
  the recording, a lost camera) counts with what was measured; its return
  was not seen, so it is None and never an incomplete return.
- A rep shorter than ``min_rep_s``, or one that neither leans ``enter_deg``
  past standing nor started at the wall, is noise; ``RepStarted`` is only
  announced once it has done one or the other. A rep in progress when the
  patient is out of sight for longer than ``max_absent_s`` counts if it was
  already on its way up (its return as it was when last seen), and is
  otherwise dropped, never guessed. A shorter
  gap (someone walking between the camera and the patient) neither loses
  nor splits a rep. A patient still there but out of sight (someone in
  front of them) for longer than ``max_absent_s`` next to the rep's deepest
  readings (from the rep's start, so a rep first seen on its way up after
  its descent was hidden is one), or with its deepest reading within
  ``UNSEEN_BORDER_S`` after it (the readings catching up with a body held
  at a bottom nobody saw), or someone in front of their hips at every one of those
  readings (no wall gap read there), leaves its bottom unseen: the rep
  counts, but its peak trunk angle, closest gap, peak knee and back are
  None, its bottom-bound faults (no touch, squat, rounded back, too fast)
  are not judged, and it has no score (None; an incomplete return still
  lists its lost points).

Times are seconds on the frame clock; lengths mm; angles degrees.
"""

from __future__ import annotations

import itertools
import statistics
from collections import Counter, deque
from dataclasses import dataclass, field, replace
from typing import NamedTuple

import numpy as np

from station.config import require_positive_numbers, settings_from_table
from station.faults import BACK_NOT_READ, BOTTOM_NOT_SEEN_WHY, Thresholds, rep_faults
from station.scoring import score_rep
from station.spine import SpineBaseline


@dataclass(frozen=True)
class RepSettings:
    """How reps are told from noise. Each default has a physical reason.

    Attributes
    ----------
    enter_deg : float
        Lean past the lowest trunk angle since the last rep that starts a rep
        (degrees). Standing sway and shifting weight from foot to foot stay
        within a few degrees (no rep on the idle recordings down to 6); a
        hinge that stops 5-12 cm short of the wall may lean only 9 past standing.
    touch_enter_deg : float
        A lean this far past standing starts a rep when the hips reach the wall
        with it (degrees): a 1.97-1.99 m patient with heels 10-17 cm from the
        wall (the beginners' stand-off is 10) touches after 4-6 degrees.
    squat_enter_deg : float
        The knees bending this far past the least they were bent since the
        last rep starts a rep too (degrees, the knee's smoothed reading): a
        squat done with the trunk upright (a heavy patient with a kettlebell
        at the chest, standing near the wall: 69 degrees of knee bend at 5 of
        lean, stress-1101) leans too little to start one. A good hinge bends
        soft knees 10-20 degrees; the squat fault starts at 40.
    touch_drop_mm : float
        ... reaching the wall meaning the wall gap came within the touch
        tolerance from readings (nine in ten) at least this much further out
        1-2 s before (mm); the hips leaving
        the wall again by as much start the way up of a rep that has not
        leant ``enter_deg``. Such a body standing 3-5 cm from the wall moves
        the reading 30-40 mm (stress-116).
    start_band_deg : float
        A frame within this of the level a rep leans from is still before the
        descent (degrees); a still moment, too, ends within this of where it
        began.
    start_band_mm : float
        ... or whose wall gap is within this of its resting level (mm).
    gap_lead_s : float
        How much earlier than the trunk the hips may be seen starting back (s).
    bottom_band_deg : float
        Frames within this of the rep's deepest lean are the bottom (degrees):
        above the smoothed trunk angle's frame-to-frame noise...
    bottom_band_mm : float
        ... and, when the rep touched, within this of its closest wall gap (mm).
    ascent_deg : float
        Coming up this far from the deepest lean starts the ascent (degrees).
    stall_s : float
        On the way up, no further progress for this long ends the rep there (s).
    rise_again_deg : float
        Leaning this far again after coming part way up starts the next rep (degrees).
    min_rep_s : float
        Shorter than this from start to end is not a rep (s); the quickest
        real rep (0.5 s down, no hold, 0.6 s up) takes longer.
    max_absent_s : float
        Out of view longer than this means the patient left (s): someone
        walking past between the camera and the patient hides them for up
        to about a second. Hidden this long at a rep's bottom (the patient
        still there), the bottom was not seen.
    baseline_s : float
        Still standing this long sets the standing baseline (s): a patient
        settling at the wall stands at least this long before the first rep.
    baseline_spread_deg : float
        "Still": the trunk angle spans less than this over ``baseline_s`` (degrees)...
    baseline_spread_mm : float
        ... and the place along the wall less than this (mm): a person walking
        in moves more than that in ``baseline_s``. (Not the wall gap: its
        reading may jump by more frame to frame while the patient stands still,
        the buttocks and a stick along the back taking turns.)
    baseline_drift_deg : float
        Once set, the baseline follows still moments within this of it (degrees).
    max_rate_deg_s : float
        Faster trunk changes than this are measurement jumps, not movement
        (degrees per second): dropping 60 degrees in 0.3 s peaks near 300.
    """

    enter_deg: float = 7.0
    touch_enter_deg: float = 3.0
    squat_enter_deg: float = 30.0
    touch_drop_mm: float = 15.0
    start_band_deg: float = 1.0
    start_band_mm: float = 6.0
    gap_lead_s: float = 1.0
    bottom_band_deg: float = 2.5
    bottom_band_mm: float = 5.0
    ascent_deg: float = 8.0
    stall_s: float = 1.5
    rise_again_deg: float = 6.0
    min_rep_s: float = 0.8
    max_absent_s: float = 1.2
    baseline_s: float = 0.5
    baseline_spread_deg: float = 8.0
    baseline_spread_mm: float = 60.0
    baseline_drift_deg: float = 2.0
    max_rate_deg_s: float = 400.0

    def __post_init__(self):
        require_positive_numbers(self, "rep setting")

    @classmethod
    def from_dict(cls, values: dict) -> "RepSettings":
        return settings_from_table(cls, values, "reps")


@dataclass(frozen=True)
class Rep:
    """One rep, with the fields of the ``wallhinge analyze`` contract.

    ``series`` holds the rep's frames (t_s, wall_gap_mm, trunk_angle_deg,
    knee_flexion_deg; NaN where not measured), so every figure can be traced
    to the frames it came from.
    """

    index: int
    start_s: float
    bottom_s: float
    end_s: float
    min_wall_gap_mm: float | None
    touched: bool
    peak_trunk_angle_deg: float | None  # None: the rep's bottom was not seen (someone in front of the patient)
    peak_knee_flexion_deg: float | None
    peak_spine_flexion_deg: float | None
    descent_s: float
    hold_s: float
    ascent_s: float
    return_trunk_angle_deg: float | None  # None: cut before the patient stood back up
    faults: tuple[str, ...]
    score: int | None  # None: the rep's bottom was not seen, so its bottom faults were not judged (station.scoring)
    lost_points: tuple[dict, ...]
    # Why the rep's bottom was read off less of the patient (station.measure's view note of most of its
    # frames there: the head above the picture, which reads the trunk less well), or None.
    view_note: str | None = None
    # Why the rep's back was not checked (peak spine flexion None): the commonest back reason of its bottom's
    # frames (the set-up's, the camera above's, the back hidden), or None when it was checked.
    back_note: str | None = None
    series: dict = field(default_factory=dict, repr=False, compare=False)

    def as_dict(self) -> dict:
        """The contract's keys (and a few more), rounded for people: 0.01 s, 0.1 mm and degrees."""
        def rounded(value, digits=1):
            return None if value is None else round(float(value), digits)
        return {
            "index": self.index, "start_s": rounded(self.start_s, 2), "bottom_s": rounded(self.bottom_s, 2),
            "end_s": rounded(self.end_s, 2), "min_wall_gap_mm": rounded(self.min_wall_gap_mm),
            "touched": self.touched, "peak_trunk_angle_deg": rounded(self.peak_trunk_angle_deg),
            "peak_knee_flexion_deg": rounded(self.peak_knee_flexion_deg),
            "peak_spine_flexion_deg": rounded(self.peak_spine_flexion_deg),
            "descent_s": rounded(self.descent_s, 2), "hold_s": rounded(self.hold_s, 2),
            "ascent_s": rounded(self.ascent_s, 2), "return_trunk_angle_deg": rounded(self.return_trunk_angle_deg),
            "faults": list(self.faults), "score": self.score, "lost_points": [dict(item) for item in self.lost_points],
            "view_note": self.view_note, "back_note": self.back_note,
        }


class _FrameNotes(NamedTuple):
    """What a measured frame says of how it was read, kept for the notes of a rep's bottom."""

    t_s: float
    view_note: str | None  # why the measures read less well (station.measure's view note)
    back_reason: str | None  # why the frame has no spine flexion (None: it has one, or says nothing)


@dataclass(frozen=True)
class PatientArrived:
    t_s: float


@dataclass(frozen=True)
class PatientLeft:
    t_s: float


@dataclass(frozen=True)
class RepStarted:
    """A rep is under way: told ``t_s`` some frames into its descent, or, for a set begun before the patient
    stood still (``from_standing`` False: :data:`HELD_BOTTOM_DEG`), at its held bottom."""

    t_s: float
    index: int
    from_standing: bool = True


@dataclass(frozen=True)
class Touched:
    """The buttocks reached the wall: ``t_s`` is the frame it was seen in."""

    t_s: float
    index: int
    wall_gap_mm: float


@dataclass(frozen=True)
class RepDone:
    t_s: float
    rep: Rep


@dataclass(frozen=True)
class RepReturned:
    """After a full return: how close to standing rep ``index`` came back (degrees past the baseline).

    ``end_s`` (s, frame clock) is when the trunk got back to that level, the
    rep's end, and ``ascent_s`` (s) the time up from the hold to there: both
    later and longer than the :class:`RepDone` told, which came the moment the
    trunk was back within the upright threshold.
    """

    t_s: float
    index: int
    return_trunk_angle_deg: float
    end_s: float
    ascent_s: float


# A smooth movement (bell-shaped speed, as people move) covers its last tenth
# in about 0.26 (cosine) to 0.33 (minimum jerk) of the time it took to cover
# the first nine tenths.
FINAL_TENTH_SHARE = 0.3
# A stretch of the rep nine tenths of the way down that lasts less than this
# (s) is the reading, not the body: behind a clinician the trunk reading can
# jump 30 degrees deep for a few frames mid-descent, enough of a 0.28 s
# running median's window to carry it (stress-402), and the descent was then
# timed to that flicker (0.87 s, "too fast", for a true 1.66). A real bottom,
# even touch-and-go, spends 0.3 s or more within a tenth of its depth (a 1 s
# descent of 15 degrees, cosine-shaped: 0.4 s).
MIN_DEEP_STRETCH_S = 0.15
# A smooth movement covers its first tenth in about 0.35 (cosine) to 0.49
# (minimum jerk) of the time it takes from a tenth to nine tenths.
FIRST_TENTH_SHARE = 0.42
# The way down counts as seen throughout when no two of its readings are
# further apart than this (s): a frame dropped or two at 15 fps.
DESCENT_SEEN_MAX_GAP_S = 0.2

# Leaning in again within this long (s) of being seen coming up is still the
# same rep: a trunk reading that dips 10 degrees at the bottom while someone
# moves in front of the patient (with the hips hidden the trunk is read from
# what is left in view, and dipped for 0.7 s of a hold on tune5 stress-805:
# at 0.6 s its reps split into incomplete returns and a phantom), or a bob at
# the bottom. A patient who comes part way up and goes down into the next rep
# takes a second or more to do it (coming up, then turning round the
# movement; in the tuning sets' truth, 2.4 s or more from the moment the way
# up is seen to 6 degrees down again).
BOB_S = 1.0

# After a full return, the trunk is followed until it makes no new low for this
# long (s), or at most this long (s); see the module's docs.
SETTLE_S = 0.3
SETTLE_MAX_S = 1.5
# Readings within this of the lowest count as where the trunk settled (degrees): above the smoothed
# trunk's frame-to-frame noise.
SETTLED_BAND_DEG = 2.0

# An upright squat (RepSettings.squat_enter_deg) began at the last reading within this of the knee's level
# (degrees: the smoothed knee's noise standing), and is judged from at least this many readings since the last rep.
SQUAT_START_BAND_DEG = 5.0
MIN_SQUAT_READINGS = 10
# ... and lowers the hips at least this much (mm): 30 degrees of knee bend past soft knees lowers them
# 8-10 cm (stress-1101's squat: 17 cm at 69 degrees), a hinge with soft knees 2-4.
SQUAT_HIP_DROP_MM = 70.0

# A rep begun at the wall (RepSettings.touch_enter_deg) needs the gap's
# median over this long (s) within the touch tolerance: the hips there, not
# a reading flickering there.
AT_WALL_S = 0.2
# ... and its resting readings 1-2 s before, this percentile of them, touch_drop_mm further out.
RESTING_QUANTILE = 10.0

# The deepest reading this soon (s) after a stretch out of sight means the bottom was out of sight: the
# readings catch up with the body over the trunk's running median (TRUNK_SMOOTHING_S) and the first
# frames in view once the patient is back, so a bottom held out of sight reads deepest a few frames
# after, not at, the first reading (stress-611: 36 -> 50 degrees over 0.4 s while the body rose from 50
# to 45; stress-318's second rep 40 -> 55 over 0.33 s, 13 degrees short of its hidden bottom). A body
# back in view still going down reaches its deepest later (stress-318's first rep: 0.67 s after).
UNSEEN_BORDER_S = 0.5

# A first still moment leaning this much (degrees) past the readings just before it, followed without a
# break, is a rep's held bottom, not standing: a set begun before the patient stood still for
# ``baseline_s`` (stress-1208: first read 0.13 s before the first rep's descent, whose 0.5 s hold at 44
# degrees became "upright", and all six reps were lost). Standing sway spans under 8 degrees
# (``baseline_spread_deg``); a rep's bottom lies 15-70 past standing.
HELD_BOTTOM_DEG = 15.0
# ... and the patient stood at those earlier readings within this of their least (degrees, the smoothed
# trunk's noise standing), when there are at least this many of them; with fewer no baseline is set yet.
UPRIGHT_BAND_DEG = 2.0
MIN_UPRIGHT_READINGS = 3

# Standing frames kept for a rep's lead-in: 5 s at 90 fps covers the start lookup's reach.
LEAD_FRAMES = 450

# The measured frames whose view notes and back reasons are kept (90 fps for 20 s): a rep's bottom is among
# them when it closes.
VIEW_NOTE_FRAMES = 1800

# Standing still this long (s), the lean within ``enter_deg`` of standing and the hips' readings (the
# median of them, most frames read) within the touch tolerance: the wall gap reads at the wall before
# any hinge (:data:`GAP_AT_WALL_STANDING`). A patient touching it standing stays there the whole set (25-30 s
# on stress-401 and -416), while a stick along the back has read at the wall for 3 s of standing before a
# first rep (stress-132, the hips 9 cm out); the standing frames kept (5 s) must cover it.
STANDING_AT_WALL_S = 4.0
#: Why no rep can be told from standing, for the clinician (``RepDetector.setup_note``). It says what was
#: read, not that the hips touch: a kettlebell or a stick has read at the wall with the hips 18-21 cm out
#: (the held-out stress-901 and -903), so only the clinician, looking, can tell; the kiosk says nothing of it.
GAP_AT_WALL_STANDING = ("the wall gap reads at the wall while the patient stands, so no hinge can be told from "
                        "standing: if their hips touch the wall, move their heels out to the next mark")


def _standing_at_wall(readings, baseline_deg: float, tolerance_mm: float, lean_deg: float) -> bool:
    """Whether standing ``readings`` ((t_s, trunk degrees, wall gap mm or None, ...), oldest first) end with
    :data:`STANDING_AT_WALL_S` at the wall: the lean under ``lean_deg`` past ``baseline_deg``
    throughout, the gap read in four frames of five and its median at most ``tolerance_mm``."""
    last_s = readings[-1][0]
    if readings[0][0] > last_s - STANDING_AT_WALL_S:
        return False
    recent = [(trunk, gap) for t_s, trunk, gap, *_ in readings if t_s >= last_s - STANDING_AT_WALL_S]
    gaps = [gap for _, gap in recent if gap is not None]
    return (len(gaps) >= 0.8 * len(recent) and float(np.median(gaps)) <= tolerance_mm
            and max(trunk for trunk, _ in recent) - baseline_deg < lean_deg)

# Running-median lengths per measure (frames); see the module's docs.
SMOOTHING_FRAMES = {"gap": 3, "knee": 3, "hips": 3}
# The trunk angle's running median takes the frames of this last stretch (s):
# 5 frames at 15 fps, 9 at 30, 26 at 90. A fixed count of frames would
# smooth half as long at 30 fps as at 15, and a far or small patient's
# trunk reading jitters by 10-15 degrees frame to frame (a few points fewer
# or more above the hips tip its axis): a 5-frame median at 30 fps let that
# start and end phantom reps. A rep's descent takes 0.5 s at the quickest, so
# the median lags the body by about 0.13 s and never flattens a rep.
TRUNK_SMOOTHING_S = 0.28
# Within a rep, a smoothed lean that jumps faster than a body moves is left
# out, not taken for the trunk being lost, if the readings are back in step
# with the rep within this long (s): with someone in front of the hips the
# trunk reading can flip between two readings 15 degrees apart for a few
# frames at the bottom (stress-102 lost a whole rep to one such flip).
# Longer than this, the measurement has lost the trunk and the rep is dropped.
# Back in step means within one frame's jump of the last reading kept, and
# what the body could have moved since (JUMP_BODY_RATE_DEG_S: a quick rep
# goes down 60 degrees in half a second).
JUMP_RIDE_S = 0.5
JUMP_BODY_RATE_DEG_S = 120.0
# Frames kept for that median: 0.28 s at 90 fps, the fastest D400 depth mode.
TRUNK_SMOOTHING_MAX_FRAMES = 26
# Spine flexion's running median takes the same stretch, so a rep's frame
# pairs the trunk and the back of the same moment, and a few noisy back
# readings weigh the same at 15 fps as at 30 (three readings were a tenth of
# a second at 30 fps: a 0.13 s flicker named a rounded back).
TIMED_SMOOTHING = ("trunk", "spine")


def _median(values) -> float | None:
    """The median of the readings that are not None (np.median's value; statistics' is faster on a few dozen)."""
    present = [value for value in values if value is not None]
    return float(statistics.median(present)) if present else None


def _unseen_bottom(times: np.ndarray, bottom: np.ndarray, deepest: int,
                   longest_s: float) -> tuple[float, float] | None:
    """When the rep's bottom was out of sight, the stretch (s, s) without readings next to its deepest readings; else None.

    ``times`` are the rep's reading times (s); ``bottom`` the indices of its
    deepest readings (within the bottom band), ``deepest`` the index of the
    first deepest. A stretch without readings longer than ``longest_s``
    (someone in front of the patient, who is still there, at the bottom)
    next to readings among the deepest, or after which the deepest comes
    within :data:`UNSEEN_BORDER_S`, means the deepest seen is only where the
    view was lost or found again: the rep went on down out of sight. A
    shorter dropout is ridden through, the deepest reading either side of it
    standing for the bottom.
    """
    for after in np.flatnonzero(np.diff(times) > longest_s):
        lost_s, found_s = float(times[after]), float(times[after + 1])
        if np.isin((after, after + 1), bottom).any() or found_s <= times[deepest] <= found_s + UNSEEN_BORDER_S:
            return lost_s, found_s
    return None


def _deep_stretches(times: np.ndarray, deep: np.ndarray) -> np.ndarray:
    """Indices of the readings in ``deep`` (a mask over the rep's readings at ``times``, s) that belong to the bottom.

    Those in stretches lasting :data:`MIN_DEEP_STRETCH_S` or more: a bob at
    the bottom keeps both its stretches, a reading that flickered deep for a
    moment is left out. All of them when no stretch lasts that long.
    """
    shown = np.flatnonzero(deep)
    breaks = np.flatnonzero(np.diff(shown) > 1) + 1
    starts, ends = np.r_[0, breaks], np.r_[breaks, len(shown)] - 1
    lasting = times[shown[ends]] - times[shown[starts]] >= MIN_DEEP_STRETCH_S
    if not lasting.any():
        return shown
    return shown[starts[lasting][0]:ends[lasting][-1] + 1]


def _descent_start(rep: dict, t90: float, plateau: float, min_tenth_deg: float) -> float:
    """When the descent began (s): the start looked up, or later where the lean's own shape puts it.

    The start looked up is the last moment the trunk was within
    ``start_band_deg`` of its level; a patient who sways slowly a degree or
    two further before going down (stress-205: 2 degrees in 0.4 s) moves it
    early, and a quick descent then reads slow (0.71 s read 1.26, no
    ``too_fast``). The lean is a tenth of the way down at ``t10``; a smooth
    movement covers its first tenth in :data:`FIRST_TENTH_SHARE` of the time
    from there to nine tenths (``t90``, s), which puts the start at most that
    far before ``t10``. Kept as looked up for a shallow hinge, whose first
    tenth is under ``min_tenth_deg`` (twice the standing noise band: the
    crossing is then the noise's, and the hips' start, from the wall gap,
    says more), and when the way down was not seen throughout (a gap of
    over :data:`DESCENT_SEEN_MAX_GAP_S`). ``plateau`` is the hold's lean
    (degrees).
    """
    tenth = 0.1 * (plateau - rep["start_level"])
    if tenth < min_tenth_deg:
        return rep["start"]
    seen = [frame for frame in rep["lead_in"] + rep["frames"] if frame[0] <= t90]
    times = np.array([frame[0] for frame in seen])
    if len(times) < 3 or np.diff(times).max() > DESCENT_SEEN_MAX_GAP_S:
        return rep["start"]
    trunks = np.array([frame[2] for frame in seen])
    # The reading at t90 is nine tenths down, so a reading below a tenth always has one after it.
    below = np.flatnonzero(trunks < rep["start_level"] + tenth)
    if len(below) == 0:
        return rep["start"]
    t10 = float(times[below[-1] + 1])
    return max(rep["start"], t10 - FIRST_TENTH_SHARE * (t90 - t10))


class RepDetector:
    """Finds reps online: ``update(t_s, measures)`` per frame, ``finish(t_s)`` at the end.

    ``measures`` is anything with ``present``, ``wall_gap_mm``,
    ``trunk_angle_deg``, ``knee_flexion_deg`` and ``spine_flexion_deg``
    (:class:`station.measure.Measures`). Both return a list of events.
    ``reps`` keeps every rep found so far.

    With ``back_checked`` (the set-up sees the back: :mod:`station.setup`),
    spine flexion is each frame's ``back_curvature_deg`` against the
    curvature of the patient's first still moment at the spot
    (:class:`station.spine.SpineBaseline`); without it, spine flexion is
    whatever ``spine_flexion_deg`` says (None: back not checked).
    """

    def __init__(self, thresholds: Thresholds = Thresholds(), settings: RepSettings = RepSettings(),
                 *, back_checked: bool = False):
        self.thresholds = thresholds
        self.settings = settings
        self._spine = SpineBaseline() if back_checked else None
        self.reps: list[Rep] = []
        self._recent = {name: deque(maxlen=length) for name, length in SMOOTHING_FRAMES.items()}
        for name in TIMED_SMOOTHING:
            self._recent[name] = deque(maxlen=TRUNK_SMOOTHING_MAX_FRAMES)
        self._times = deque(maxlen=TRUNK_SMOOTHING_MAX_FRAMES)
        # Every measured frame's (t_s, view note or None, why its back was not read or None), for the notes of a
        # rep's bottom (VIEW_NOTE_FRAMES).
        self._view_notes = deque(maxlen=VIEW_NOTE_FRAMES)
        self._present = False
        self._reps_on_arrival = 0  # len(reps) when the patient in view arrived
        self._last_seen_s = None
        self._trailing_seen = False
        self._baseline = None
        self._baseline_guessed = False  # the baseline is read from before a held bottom, not a still moment
        self._settling = None  # after a full return: {"index", "low", "low_t", "since"}
        # The last few seconds of smoothed frames while standing, (t_s, gap, trunk, knee, spine): a rep is
        # recognised some frames after it began, and its series must show it from its start.
        self._lead = deque(maxlen=LEAD_FRAMES)
        self._reset_standing()

    # -- state ------------------------------------------------------------------

    def _reset_standing(self):
        # Frames since the last rep ended, for the start lookup: (t_s, trunk deg, gap mm or None, knee deg or None,
        # hip height mm or None, place along the wall mm or None).
        self._since_rep: list[tuple] = []
        self._still: deque[tuple] = deque()  # (t_s, trunk deg, x mm)
        self._rep = None  # the rep in progress: a dict of its frames and progress

    def _forget_patient(self):
        self._present = False
        self._baseline = None
        self._baseline_guessed = False
        self._lead.clear()
        for values in self._recent.values():
            values.clear()
        self._times.clear()
        self._view_notes.clear()
        if self._spine is not None:
            self._spine.reset()
        self._reset_standing()

    @property
    def setup_note(self) -> str | None:
        """What in the set-up keeps the station from telling a rep now (:data:`GAP_AT_WALL_STANDING`), or None.

        Tall or heavy patients with their heels near the wall may touch it
        standing: their hinge is then a lean of 2-7 degrees, which standing
        sway also makes, so no rep is counted (stress-401, -416, -126: 0-1
        of their 5-6 reps). The clinician's screens say what was read
        rather than stay quiet; the note does not say the hips touch, since
        a reading at the wall is not always the hips (see the text).
        Only until the patient's first rep: one that is counted was told
        from standing, and a stick along the back can read at the wall
        while the hips stand 10-23 cm out (stress-132, -712).
        """
        if (self._rep is not None or self._baseline is None or not self._since_rep
                or len(self.reps) > self._reps_on_arrival):
            return None
        at_wall = _standing_at_wall(self._since_rep, self._baseline, self.thresholds.touch_tolerance_mm,
                                    self.settings.enter_deg)
        return GAP_AT_WALL_STANDING if at_wall else None

    # -- input ------------------------------------------------------------------

    def update(self, t_s: float, measures) -> list:
        """The events this frame causes."""
        events = []
        if not measures.present:
            if self._present and not self._trailing_seen:
                self._see_trailing(t_s, events)
            if self._present and t_s - self._last_seen_s > self.settings.max_absent_s:
                self._returned(t_s, events)
                # Lost on the way up: the rep counts with what was measured,
                # its return unseen (as when the frames stop).
                rep = self._rep
                if rep is not None and rep["ascending"]:
                    self._close(rep["return_t"], t_s, events, cut=True)
                events.append(PatientLeft(self._last_seen_s))
                self._forget_patient()
            return events
        if not self._present:
            self._present = True
            self._reps_on_arrival = len(self.reps)
            events.append(PatientArrived(t_s))
        self._last_seen_s = t_s
        self._trailing_seen = False
        spine = measures.spine_flexion_deg
        if self._spine is not None:
            curvature = getattr(measures, "back_curvature_deg", None)
            self._spine.observe(t_s, curvature)
            spine = self._spine.relative(curvature)
        smoothed = {}
        for name, value in (("gap", measures.wall_gap_mm), ("trunk", measures.trunk_angle_deg),
                            ("knee", measures.knee_flexion_deg), ("spine", spine),
                            ("hips", getattr(measures, "hip_height_mm", None))):
            self._recent[name].append(value)
        self._times.append(t_s)
        back_unread = getattr(measures, "back_reason", None) if spine is None else None
        self._view_notes.append(_FrameNotes(t_s, getattr(measures, "view_note", None), back_unread))
        window = sum(1 for seen_s in self._times if seen_s > t_s - TRUNK_SMOOTHING_S)
        for name, values in self._recent.items():
            smoothed[name] = _median(list(values)[-window:] if name in TIMED_SMOOTHING else values)
        trunk = smoothed["trunk"]
        if trunk is None:
            return events
        # A running median of the last n frames shows the body as it was at
        # the window's middle (the mean of the middle two frames' times when n
        # is even, as after a gap): rep times use that, events the frame now.
        sample_s = 0.5 * (self._times[-1 - (window - 1) // 2] + self._times[-1 - window // 2])
        self._advance(sample_s, t_s, smoothed, getattr(measures, "position_x_m", None), events)
        return events

    def _see_trailing(self, now_s, events):
        """Give the last frames before the patient went out of sight their turn as the trunk median's middle.

        The running median shows the body half a window late, so when the
        frames stop (someone steps in front, the set ends) the last half
        window of them would never be seen: at a hidden bottom, that is
        where the rep leaned deepest. The window shrinks toward the last
        frame, as it grows from the first frame after a gap.
        """
        self._trailing_seen = True
        times, trunks = list(self._times), list(self._recent["trunk"])
        if not times:
            return
        window = sum(1 for seen_s in times if seen_s > times[-1] - TRUNK_SMOOTHING_S)
        others = {name: _median(list(values)[-window:] if name in TIMED_SMOOTHING else values)
                  for name, values in self._recent.items() if name != "trunk"}
        for count in range(window - 2, 0, -2):
            trunk = _median(trunks[-count:])
            if trunk is not None:
                sample_s = 0.5 * (times[-1 - (count - 1) // 2] + times[-1 - count // 2])
                self._advance(sample_s, now_s, dict(others, trunk=trunk), None, events)

    def _advance(self, sample_s, now_s, smoothed, x_m, events):
        """Run the machine on one smoothed sample of the body at ``sample_s``; events are told at ``now_s``."""
        trunk = smoothed["trunk"]
        if self._settling is not None and self._baseline is not None:
            self._settle(sample_s, now_s, trunk - self._baseline, events)
        if self._rep is None:
            self._lead.append((sample_s, smoothed["gap"], trunk, smoothed["knee"], smoothed["spine"]))
            self._standing(sample_s, now_s, trunk, smoothed["gap"], (smoothed["knee"], smoothed["hips"]), x_m, events)
            if self._rep is not None:
                self._returned(now_s, events)  # the next rep began: the last one came back as far as it got
        if self._rep is not None:
            self._in_rep(sample_s, now_s, trunk, smoothed, events)

    def finish(self, t_s: float) -> list:
        """End of the recording or the set: a rep already on its way up counts, with its return as it was."""
        events = []
        if self._present and not self._trailing_seen:
            self._see_trailing(t_s, events)
        self._returned(t_s, events)
        rep = self._rep
        if rep is not None and rep["ascending"]:
            self._close(rep["return_t"], t_s, events, cut=True)
        self._forget_patient()
        return events

    def settle(self, t_s: float) -> list:
        """Tell now how close to standing the last rep came back, if it is still being followed.

        For the live session before it changes whose reps these are (the
        next participant): the return belongs with the rep's own set.
        """
        events = []
        self._returned(t_s, events)
        return events

    # -- the machine ------------------------------------------------------------

    def _settle(self, t_s, now_s, relative, events):
        """Follow the trunk after a full return to where it stops coming back."""
        settling = self._settling
        settling["values"].append(relative)
        settling["times"].append(t_s)
        if relative < settling["low"]:
            settling.update(low=relative, low_t=t_s)
        if t_s - settling["low_t"] >= SETTLE_S or t_s - settling["since"] >= SETTLE_MAX_S:
            self._returned(now_s, events)

    def _returned(self, now_s, events):
        """Tell how close to standing the last rep came back, and keep it in ``reps``."""
        settling, self._settling = self._settling, None
        if settling is None:
            return
        # Where the trunk settled: the median of the readings near the lowest, so one noisy low frame does
        # not pull it down (nor the start of a next rep's descent up).
        near = [value for value in settling["values"] if value <= settling["low"] + SETTLED_BAND_DEG]
        low = float(np.median(near))
        # The rep ends where the trunk got back to that level, as it starts where it left standing
        # (start_band_deg): the last degrees of coming up belong to the ascent.
        end_s = next(t for t, value in zip(settling["times"], settling["values"])
                     if value <= low + self.settings.start_band_deg)
        position = settling["index"] - 1
        rep = self.reps[position]
        ascent_s = end_s - (rep.bottom_s + rep.hold_s)
        self.reps[position] = replace(rep, return_trunk_angle_deg=low, end_s=end_s, ascent_s=ascent_s)
        events.append(RepReturned(now_s, settling["index"], low, end_s, ascent_s))

    def _standing(self, t_s, now_s, trunk, gap, legs, x_m, events):
        settings = self.settings
        self._track_baseline(t_s, trunk, x_m)
        if self._since_rep and not self._continuous([self._since_rep[-1][:2], (t_s, trunk)]):
            # The measurement lost the trunk (someone turning round): what came
            # before says nothing about where a descent could begin.
            self._since_rep.clear()
        self._since_rep.append((t_s, trunk, gap, *legs, None if x_m is None else 1000.0 * x_m))
        # Only the last few seconds matter for where a descent began.
        while self._since_rep[0][0] < t_s - 5.0:
            self._since_rep.pop(0)
        if self._baseline is None:
            return
        # The level a descent begins from: the lowest lean since the last rep,
        # but never below the standing baseline (readings from before the
        # patient had turned round, say, are not a posture to lean from).
        level = max(min(frame[1] for frame in self._since_rep), self._baseline)
        at_wall = trunk - level < settings.enter_deg
        knee_level = self._squat_from(t_s) if at_wall else None
        if knee_level is not None:
            # An upright squat: it began when the knees last were near the least they were bent.
            at_wall = False
            start = max(t for t, _, _, bend, *_ in self._since_rep
                        if bend is not None and bend <= knee_level + SQUAT_START_BAND_DEG)
        else:
            if at_wall and not (trunk - level >= settings.touch_enter_deg and self._reached_wall(t_s, gap)):
                return
            start = max(t for t, angle, *_ in self._since_rep if angle <= level + settings.start_band_deg)
            start = min(start, self._gap_start(start))
        relative = trunk - self._baseline
        lead_in = [frame for frame in self._lead if start <= frame[0] < t_s]
        self._rep = {"start": start, "start_level": level, "frames": [], "lead_in": lead_in, "peak": relative,
                     "at_wall": at_wall, "closest": gap, "ascending": False, "ascent_t": None,
                     "return": relative, "return_t": t_s, "touched": False, "announced": False,
                     "squat": knee_level is not None, "knee_level": knee_level, "knee_peak": legs[0]}

    def _reached_wall(self, t_s: float, gap: float | None) -> bool:
        """Whether the hips came to the wall from where they rested ``touch_drop_mm`` further out, 1-2 s before
        (or in the second before they were hidden, when they come back in view at the wall).

        Nine in ten readings of that second must be that far out
        (:data:`RESTING_QUANTILE`): a reading that jumps between the buttocks
        and something at the wall (a stick along the back, 0-180 mm frame
        after frame on stress-302) never rested away from it, while a stray
        low reading or two of a body standing still does not undo its rest. At the wall means the median of the readings of the
        last :data:`AT_WALL_S` within the touch tolerance, so a reading
        flickering there for a frame is not the hips.
        """
        tolerance = self.thresholds.touch_tolerance_mm
        if gap is None or gap > tolerance:
            return False
        lately = [earlier for t, _, earlier, *_ in self._since_rep if earlier is not None and t > t_s - AT_WALL_S]
        resting = [earlier for t, _, earlier, *_ in self._since_rep
                   if earlier is not None and t_s - 2.0 <= t < t_s - 1.0]
        if len(resting) < 5:
            # Hidden then (a clinician in front through the descent, 2.2 s on stress-1111, the hips seen again
            # only at the bottom): where they rested is the second before the last reading over a second ago.
            before = [(t, earlier) for t, _, earlier, *_ in self._since_rep if earlier is not None and t < t_s - 1.0]
            resting = [earlier for t, earlier in before if t > before[-1][0] - 1.0] if before else resting
        return (len(resting) >= 5 and np.median(lately) <= tolerance
                and np.percentile(resting, RESTING_QUANTILE) - gap >= self.settings.touch_drop_mm)

    def _squat_from(self, t_s: float) -> float | None:
        """The knee's level (degrees) an upright squat began from, if the knees are in one now; else None.

        The knees' median over the last :data:`AT_WALL_S` is ``squat_enter_deg``
        past the least they were bent since the last rep (its
        :data:`RESTING_QUANTILE` percentile, so a stray low reading does not
        set it), from at least :data:`MIN_SQUAT_READINGS` readings; and the
        hips' height, likewise, :data:`SQUAT_HIP_DROP_MM` under the most it
        was: bent knees that do not lower the hips are a reading thrown off
        (someone else's legs), not a squat.
        """
        recent = list(itertools.takewhile(lambda frame: frame[0] > t_s - AT_WALL_S, reversed(self._since_rep)))
        knees_lately = [frame[3] for frame in recent if frame[3] is not None]
        if not knees_lately:
            return None
        knees = [frame[3] for frame in self._since_rep if frame[3] is not None]
        # Most standing frames end here, cheaply: no median over the last readings is that far past the
        # lowest reading (the percentiles below cost several times the rest of the frame's work).
        if max(knees_lately) - min(knees) < self.settings.squat_enter_deg:
            return None
        hips = [frame[4] for frame in self._since_rep if frame[4] is not None]
        hips_lately = [frame[4] for frame in recent if frame[4] is not None]
        if min(len(knees), len(hips)) < MIN_SQUAT_READINGS or not hips_lately:
            return None
        level = float(np.percentile(knees, RESTING_QUANTILE))
        hips_up = float(np.percentile(hips, 100.0 - RESTING_QUANTILE))
        if (float(np.median(knees_lately)) - level >= self.settings.squat_enter_deg
                and hips_up - float(np.median(hips_lately)) >= SQUAT_HIP_DROP_MM):
            return level
        return None

    def _knees_back(self, rep: dict, knee: float | None) -> bool:
        """Whether an upright squat is on its way up: the knees half way back from their deepest bend, the
        lean still under ``enter_deg`` (past it, the trunk says as for any rep)."""
        if not rep["squat"] or knee is None:
            return False
        rep["knee_peak"] = knee if rep["knee_peak"] is None else max(rep["knee_peak"], knee)
        return (rep["peak"] < self.settings.enter_deg
                and knee <= rep["knee_level"] + 0.5 * (rep["knee_peak"] - rep["knee_level"]))

    def _left_wall(self, rep: dict, relative: float, gap: float | None) -> bool:
        """Whether a rep started at the wall is on its way up.

        The hips off the wall again and the lean half way back to where it
        started: a gap reading that jumps off the wall on the way down is
        not the way up. Also once it has leant ``enter_deg``: a rep that
        leans 7-9 degrees past standing never comes back ``ascent_deg``
        from its deepest while the standing reading is noisy, so it ran on
        into the next rep (tune5's stress-816: reps 2 and 3 one rep, then
        dropped as a whole at a reading that jumped).
        """
        if not rep["at_wall"] or gap is None:
            return False
        if rep["closest"] is None or gap < rep["closest"]:
            rep["closest"] = gap
        start = rep["start_level"] - self._baseline
        return (gap > self.thresholds.touch_tolerance_mm and gap - rep["closest"] >= self.settings.touch_drop_mm
                and relative <= start + 0.5 * (rep["peak"] - start))

    def _gap_start(self, trunk_start_s: float) -> float:
        """When the hips began to move back: the last frame the wall gap was still at its resting level.

        A shallow hinge moves the trunk little but the hips a lot, so this
        finds the start where the trunk's lean is still in its noise.
        """
        settings = self.settings
        resting = [gap for t, _, gap, *_ in self._since_rep
                   if gap is not None and trunk_start_s - 1.0 <= t <= trunk_start_s]
        if len(resting) < 3:
            return trunk_start_s
        level = float(np.median(resting))
        still_back = [t for t, _, gap, *_ in self._since_rep
                      if gap is not None and t >= trunk_start_s - settings.gap_lead_s and gap >= level - settings.start_band_mm]
        return min(still_back[-1], trunk_start_s) if still_back else trunk_start_s

    def _track_baseline(self, t_s, trunk, x_m):
        """The standing posture: the patient's first still moment at the spot, then only slow drift.

        Walking in (moving along the wall) and turning round (the trunk
        measurement jumping) are never still. Afterwards a still moment far
        from it is a slow descent or a patient who did not stand back up,
        neither of which may become their new "upright".
        """
        settings = self.settings
        self._still.append((t_s, trunk, None if x_m is None else 1000.0 * x_m))
        while self._still[0][0] < t_s - settings.baseline_s:
            self._still.popleft()
        angles = [frame[1] for frame in self._still]
        places = [frame[2] for frame in self._still if frame[2] is not None]
        # Still means going nowhere: a slow descent's first second sways
        # little but keeps leaning further, and must not carry the baseline.
        still = (t_s - self._still[0][0] >= 0.9 * settings.baseline_s
                 and max(angles) - min(angles) < settings.baseline_spread_deg
                 and abs(angles[-1] - angles[0]) < settings.start_band_deg
                 # the place along the wall, read in most frames, going nowhere either
                 and len(places) >= 0.8 * len(self._still)
                 and max(places) - min(places) < settings.baseline_spread_mm)
        if not still:
            return
        level = float(np.median(angles))
        if self._baseline is None:
            standing = self._standing_before(level)
            if standing != level:  # a held bottom: its back is no standing back either
                self._baseline = standing
                self._baseline_guessed = standing is not None
                return
        # A baseline from before a held bottom is a guess until the patient stands still: their first still
        # moment as upright as it or more replaces it (the readings may have begun on the way down).
        guessed = self._baseline_guessed
        if (self._baseline is None or (guessed and level < self._baseline)
                or abs(level - self._baseline) <= settings.baseline_drift_deg):
            self._baseline = level
            self._baseline_guessed = False
            if self._spine is not None and (not self.reps or guessed):
                self._spine.settle(self._still[0][0])  # the set's first standing still moment, once

    def _standing_before(self, level: float) -> float | None:
        """Where the patient stood, given their first still moment's lean ``level`` (degrees), or None if unknown.

        ``level`` itself, unless that moment is the held bottom of a rep begun
        before the patient had stood still for ``baseline_s``: its lean
        :data:`HELD_BOTTOM_DEG` past readings just before it (read without a
        break) taken at the same place along the wall (within
        ``baseline_spread_mm``), with the hips at the wall (the gap's median
        within the touch tolerance) after resting ``touch_drop_mm`` further out
        there. They stood at the median of those readings within
        :data:`UPRIGHT_BAND_DEG` of their least, given
        :data:`MIN_UPRIGHT_READINGS` of them (else None: not known yet). The
        wall and the place tell a bottom from a lean read low while stepping
        into place or turning round, where the hips stay out or the feet move.
        """
        since_s = self._still[0][0]
        places = [frame[2] for frame in self._still if frame[2] is not None]
        held_gaps = [gap for t, _, gap, *_ in self._since_rep if t >= since_s and gap is not None]
        if not places or not held_gaps:
            return level
        place = float(np.median(places))
        before = [(angle, gap) for t, angle, gap, _, _, x_mm in self._since_rep
                  if t < since_s and x_mm is not None and abs(x_mm - place) < self.settings.baseline_spread_mm]
        least = min((angle for angle, _ in before), default=level)
        if level - least < HELD_BOTTOM_DEG:
            return level
        upright = [(angle, gap) for angle, gap in before if angle <= least + UPRIGHT_BAND_DEG]
        upright_gaps = [gap for _, gap in upright if gap is not None]
        at_wall = float(np.median(held_gaps))
        if (at_wall > self.thresholds.touch_tolerance_mm or not upright_gaps
                or float(np.median(upright_gaps)) - at_wall < self.settings.touch_drop_mm):
            return level
        return float(np.median([angle for angle, _ in upright])) if len(upright) >= MIN_UPRIGHT_READINGS else None

    def _continuous(self, frames) -> bool:
        """Whether the lean got from frame to frame no faster than a body moves."""
        return all(abs(b - a) <= self.settings.max_rate_deg_s * max(tb - ta, 1e-3)
                   for (ta, a), (tb, b) in zip(frames, frames[1:]))

    def _in_rep(self, t_s, now_s, trunk, smoothed, events):
        rep, settings = self._rep, self.settings
        relative = trunk - self._baseline
        last_t, _, last_trunk, _, _ = rep["frames"][-1] if rep["frames"] else (t_s, None, trunk, None, None)
        jump = rep.get("jump")  # (when, allowed step in degrees) of the first reading out of step
        if jump is not None:
            in_step = abs(trunk - last_trunk) <= jump[1] + JUMP_BODY_RATE_DEG_S * (t_s - jump[0])
        else:
            in_step = self._continuous([(last_t, last_trunk), (t_s, trunk)])
        if not in_step:
            if rep["frames"] and t_s - last_t < JUMP_RIDE_S:
                # A reading out of step for a moment: left out (JUMP_RIDE_S).
                if jump is None:
                    rep["jump"] = (t_s, self.settings.max_rate_deg_s * max(t_s - last_t, 1e-3))
                return
            # The measurement lost the trunk (someone turning round): no rep is guessed through that.
            self._reset_standing()
            return
        rep["jump"] = None
        rep["frames"].append((t_s, smoothed["gap"], trunk, smoothed["knee"], smoothed["spine"]))
        if not rep["announced"] and (relative >= settings.enter_deg or rep["at_wall"] or rep["squat"]):
            # Past standing by the entry margin too, at the wall, or squatting: a rep, not a dip in the noise.
            rep["announced"] = True
            events.append(RepStarted(now_s, len(self.reps) + 1, from_standing=not self._baseline_guessed))
        gap = smoothed["gap"]
        knees_back = self._knees_back(rep, smoothed["knee"])
        left_wall = self._left_wall(rep, relative, gap)
        if not rep["touched"] and gap is not None and gap <= self.thresholds.touch_tolerance_mm:
            rep["touched"] = True
            events.append(Touched(now_s, len(self.reps) + 1, gap))
        if not rep["ascending"]:
            if relative > rep["peak"]:
                rep["peak"] = relative
            elif relative <= rep["peak"] - settings.ascent_deg or left_wall or knees_back:
                rep.update(ascending=True, ascent_t=t_s, **{"return": relative, "return_t": t_s})
            return
        if relative <= self.thresholds.upright_angle_deg:
            self._close(t_s, now_s, events, returned=relative)
            if self.reps and self.reps[-1].end_s == t_s:  # a rep (not noise): follow its return
                self._settling = {"index": self.reps[-1].index, "low": relative, "low_t": t_s, "since": t_s,
                                  "values": [relative], "times": [t_s]}
        elif relative < rep["return"]:
            rep.update(**{"return": relative, "return_t": t_s})
        elif relative >= rep["return"] + settings.rise_again_deg and t_s - rep["ascent_t"] < BOB_S:
            # Down again straight after coming up: the same rep's bottom (a
            # bob there, or a reading that dipped), not the next rep.
            rep["ascending"] = False
            rep["peak"] = max(rep["peak"], relative)
        elif t_s - rep["return_t"] >= settings.stall_s or relative >= rep["return"] + settings.rise_again_deg:
            # Stopped part way up, or going down again: the rep ended where it came back to.
            end = rep["return_t"]
            # The frames after that belong to what comes next (maybe the next rep).
            tail = [(t, angle, gap, knee, None, None) for t, gap, angle, knee, _ in rep["frames"] if t >= end]
            self._close(end, now_s, events)
            self._since_rep = tail
            self._lead.extend(frame for frame in rep["frames"] if frame[0] >= end)  # the next rep's lead-in

    def _close(self, end_s, now_s, events, returned=None, cut=False):
        rep = self._rep
        frames = [frame for frame in rep["frames"] if frame[0] <= end_s]
        self._rep = None
        self._since_rep = []
        self._still.clear()
        # Too short, or never leaning past standing by the entry margin nor
        # started at the wall nor by a squat (the dip before it was noise): not a rep.
        if (end_s - rep["start"] < self.settings.min_rep_s or not frames
                or (rep["peak"] < self.settings.enter_deg and not (rep["at_wall"] or rep["squat"]))):
            return
        times = np.array([frame[0] for frame in frames])
        columns = [np.array([np.nan if frame[i] is None else frame[i] for frame in frames]) for i in range(1, 5)]
        gaps, trunks, knees, spines = columns
        returned = None if cut else rep["return"] if returned is None else returned
        # An upright squat's bottom is where the knees bend most (its lean is in the noise); any other rep's
        # where the trunk leans most.
        upright_squat = rep["squat"] and rep["peak"] < self.settings.enter_deg and np.isfinite(knees).any()
        depth, depth_level = (knees, rep["knee_level"]) if upright_squat else (trunks, rep["start_level"])
        bottom = np.flatnonzero(depth >= np.nanmax(depth) - self.settings.bottom_band_deg)
        # From the rep's start: its lead-in too, so a rep first seen deep after going down out of sight
        # (someone stood in front of the patient as the descent began) has that stretch in view.
        before = np.array([frame[0] for frame in rep["lead_in"] if frame[0] < times[0]])
        unseen = _unseen_bottom(np.r_[before, times], bottom + len(before), int(np.nanargmax(depth)) + len(before),
                                self.settings.max_absent_s)
        if unseen is None and not np.isfinite(gaps[bottom]).any():
            # The buttocks hidden at every reading of the bottom: someone in
            # front of the hips, and of the lower trunk with them. The trunk
            # then reads what is left in view, not the trunk: over the five
            # stress sets 13 degrees shallow (median; p95 29) on hinged frames
            # with the hips hidden, against 3 (p95 10) with them in view, and
            # the bottom, its hold and the descent's time are found from that
            # reading. The bottom was not seen, and says so.
            unseen = (float(times[bottom[0]]), float(times[bottom[-1]]))
        # The touch is at the bottom: with the buttocks hidden there the
        # readings before and after say nothing of a touch missed, and the
        # rep's closest gap is not known. Nor is anything of the bottom when
        # the patient was out of sight there. A touch read on either side of
        # such a bottom is still a touch (the hips seen at the wall as the
        # view clears, before the way up: noise-tune's stress-1111), read as
        # any rep's closest gap is, off the smoothed readings.
        closest_seen = float(np.nanmin(gaps)) if np.isfinite(gaps).any() else None
        touch_seen = closest_seen is not None and closest_seen <= self.thresholds.touch_tolerance_mm
        min_gap = closest_seen if unseen is None or touch_seen else None
        hold_end_s = float(times[bottom[-1]])
        # A descent slows into the bottom: the band's first frame comes early
        # by the time the last degrees take. Find where the lean is 90% of the
        # way from standing to the hold's level, then add the last stretch a
        # smooth movement takes (the slowing-down mirrors the speeding-up).
        plateau = float(np.nanmedian(depth[bottom]))
        nine_tenths = depth_level + 0.9 * (plateau - depth_level)
        deep = _deep_stretches(times, depth >= nine_tenths)  # half the hold is above the plateau: found
        t90 = float(times[deep[0]])
        # (An upright squat's start was looked up in the knee already.)
        start = rep["start"] if upright_squat else _descent_start(rep, t90, plateau, 2.0 * self.settings.start_band_deg)
        bottom_s = min(t90 + FINAL_TENTH_SHARE * (t90 - start), hold_end_s)
        # The way up mirrors it: the band's last frame comes late by the time the first degrees up take.
        # The hold ends where the lean is still within a tenth of the way back from the hold's level
        # (nine tenths of the way down), less the first tenth's share of the way up seen (to the end found so far).
        last_deep_s = float(times[deep[-1]])
        hold_end_s = max(bottom_s, min(hold_end_s, last_deep_s - FINAL_TENTH_SHARE * (end_s - last_deep_s)))
        if unseen is not None:
            # Somewhere while out of sight: its middle is the best guess of the bottom's time.
            bottom_s = hold_end_s = 0.5 * (unseen[0] + unseen[1])
        touched = min_gap is not None and min_gap <= self.thresholds.touch_tolerance_mm
        if unseen is None and min_gap is not None:
            # At the bottom the gap is flat at its closest while the trunk may
            # still creep: the bottom is the later of the two, the hold's end
            # the earlier. Short of the wall the gap's noise widens the band.
            band = self.settings.bottom_band_mm if touched else 3 * self.settings.bottom_band_mm
            closest = np.flatnonzero(gaps <= min_gap + band)
            bottom_s = max(bottom_s, float(times[closest[0]]))
            hold_end_s = max(bottom_s, min(hold_end_s, float(times[closest[-1]])))
        descent_s = bottom_s - start
        peak_knee = float(np.nanmax(knees)) if unseen is None and np.isfinite(knees).any() else None
        # The back rounds most at the bottom: a rep whose back was not read
        # there (the camera above lost, the back hidden) is not judged by
        # the standing frames around it, which would say "not rounded".
        peak_spine = float(np.nanmax(spines)) if unseen is None and np.isfinite(spines[bottom]).any() else None
        peak_trunk = float(np.nanmax(trunks)) if unseen is None else None
        # A gap never measured in the whole rep (someone in front of the
        # patient hid the buttocks throughout) is no evidence of a missed
        # touch: the touch is not judged, never guessed. A bottom out of
        # sight leaves the descent's time unknown (only longer than the
        # stretch seen before it), so its speed is not judged either.
        figures = dict(min_wall_gap_mm=-np.inf if min_gap is None else min_gap,
                       descent_s=descent_s if unseen is None else np.inf,
                       return_trunk_angle_deg=-np.inf if returned is None else returned)
        faults = rep_faults(peak_knee_flexion_deg=-np.inf if peak_knee is None else peak_knee,
                            peak_spine_flexion_deg=-np.inf if peak_spine is None else peak_spine,
                            thresholds=self.thresholds, **figures)
        # No score for a rep whose bottom was not seen (station.scoring says why): never a 100 for faults not judged.
        score, lost = score_rep(faults=faults, bottom_seen=unseen is None, peak_knee_flexion_deg=peak_knee,
                                peak_spine_flexion_deg=peak_spine, thresholds=self.thresholds, **figures)
        # The series from the rep's start (the frame at or just before it): the frames before it was
        # recognised, then its own.
        shown = rep["lead_in"] + frames
        shown = shown[max(0, sum(frame[0] <= start for frame in shown) - 1):]
        series_columns = [np.array([np.nan if frame[i] is None else frame[i] for frame in shown]) for i in range(4)]
        done = Rep(index=len(self.reps) + 1, start_s=start, bottom_s=bottom_s, end_s=end_s,
                   min_wall_gap_mm=min_gap, touched=touched,
                   peak_trunk_angle_deg=peak_trunk, peak_knee_flexion_deg=peak_knee,
                   peak_spine_flexion_deg=peak_spine, descent_s=descent_s, hold_s=hold_end_s - bottom_s,
                   ascent_s=end_s - hold_end_s, return_trunk_angle_deg=returned, faults=tuple(faults),
                   score=score, lost_points=tuple(lost),
                   # (A bottom not seen at all says so instead, and shows no peak trunk to speak of.)
                   view_note=(None if unseen is not None
                              else self._bottom_note("view_note", float(times[bottom[0]]), float(times[bottom[-1]]))),
                   back_note=None if peak_spine is not None else self._back_note(times, bottom, start, end_s, unseen),
                   series=dict(zip(("t_s", "wall_gap_mm", "trunk_angle_deg", "knee_flexion_deg"), series_columns)))
        self.reps.append(done)
        events.append(RepDone(now_s, done))

    def _back_note(self, times, bottom, start_s: float, end_s: float, unseen) -> str:
        """Why a rep's back was not checked: the commonest back reason of its bottom's frames (else of its frames
        from ``start_s`` to ``end_s``, s), else that its bottom was not seen, else that the back was not read."""
        note = (self._bottom_note("back_reason", float(times[bottom[0]]), float(times[bottom[-1]]), majority=False)
                or self._bottom_note("back_reason", start_s, end_s, majority=False))
        return note or (BOTTOM_NOT_SEEN_WHY if unseen is not None else BACK_NOT_READ)

    def _bottom_note(self, which: str, first_s: float, last_s: float, *, majority: bool = True) -> str | None:
        """The commonest ``which`` (a :class:`_FrameNotes` field) of the measured frames from ``first_s`` to
        ``last_s`` (s, a rep's bottom, widened by half the trunk's smoothing either side: the frames its readings
        came from), the first seen of a tie; with ``majority`` only if at least half of those frames have one; or
        None."""
        half = 0.5 * TRUNK_SMOOTHING_S
        notes = [getattr(frame, which) for frame in self._view_notes if first_s - half <= frame.t_s <= last_s + half]
        noted = [note for note in notes if note is not None]
        if not noted or (majority and 2 * len(noted) < len(notes)):
            return None
        return Counter(noted).most_common(1)[0][0]
