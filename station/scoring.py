"""A rep's score, why it lost points, and the patient's targets.

How the score is made, so a clinician can explain it: every rep starts at
100 and each fault it shows takes off a fixed number of points
(:data:`FAULT_POINTS`), never below 0. A rep with no fault whose bottom
was seen scores 100. The faults that cost most are the ones that load the
spine or the knees instead of the hips (squat, rounded back); missing the
wall, rushing down and not standing up cost less. Each lost point comes with its reason, in the
rep's figures against the patient's threshold.

A rep whose bottom was not seen (someone stood in front of the patient
there, :mod:`station.reps`) has **no score**: the faults that are judged at
the bottom (squat, rounded back, no touch, too fast) were not, so "100"
would vouch for a clean rep nobody saw. Its lost points still list what
was judged (an incomplete return).

A *good rep* has no fault and, when the patient has a target trunk angle,
is seen to lean at least that far (within :data:`TARGET_TOLERANCE_DEG`). The sources'
cue to progress (a bigger stand-off, or a load) is 3 sets of 12 good reps;
:class:`Targets` holds each patient's numbers and :class:`SetProgress`
counts them.
"""

from __future__ import annotations

from dataclasses import dataclass

from station.config import settings_from_table
from station.faults import Thresholds
from station.patient_targets import TARGET_DEFAULTS, check_target

FAULT_POINTS = {"squat": 25, "rounded_back": 25, "no_touch": 20, "too_fast": 15, "incomplete_return": 15}

# A rep within this of the target trunk angle meets it (degrees): about
# twice the measurement's median trunk error.
TARGET_TOLERANCE_DEG = 5.0


def score_rep(*, faults, bottom_seen: bool, min_wall_gap_mm: float, peak_knee_flexion_deg: float | None,
              peak_spine_flexion_deg: float | None, descent_s: float, return_trunk_angle_deg: float,
              thresholds: Thresholds = Thresholds()) -> tuple[int | None, list[dict]]:
    """The rep's score (0-100, or None) and one ``{"fault", "points", "why"}`` per point-losing fault.

    The reasons quote the rep's own figures (mm, degrees, seconds) against
    the thresholds that named the fault. ``bottom_seen`` False (the rep's
    bottom was out of sight, so its bottom faults were not judged) gives no
    score, None, never 100; the faults that were judged still list their points.
    """
    reasons = {
        "squat": lambda: f"knees bent to {peak_knee_flexion_deg:.0f} degrees (limit {thresholds.max_knee_flexion_deg:g})",
        "rounded_back": lambda: (f"back rounded {peak_spine_flexion_deg:.0f} degrees past standing "
                                 f"(limit {thresholds.max_spine_flexion_deg:g})"),
        "no_touch": lambda: (f"closest to the wall {min_wall_gap_mm:.0f} mm "
                             f"(touch within {thresholds.touch_tolerance_mm:g} mm)"),
        "too_fast": lambda: f"down in {descent_s:.1f} s (at least {thresholds.min_descent_s:g} s)",
        "incomplete_return": lambda: (f"came back only to {return_trunk_angle_deg:.0f} degrees from standing "
                                      f"(within {thresholds.upright_angle_deg:g})"),
    }
    lost = [{"fault": fault, "points": FAULT_POINTS[fault], "why": reasons[fault]()} for fault in faults]
    if not bottom_seen:
        return None, lost
    return max(0, 100 - sum(item["points"] for item in lost)), lost


@dataclass(frozen=True)
class Targets:
    """A patient's targets, set by their clinician.

    Attributes
    ----------
    standoff_mm : float
        Heels to wall (mm): 100 for beginners, 200-300 later.
    target_trunk_angle_deg : float or None
        How far the trunk should lean at the bottom (degrees); None for no target.
    reps_per_set, sets : int
        The set the patient works towards (the sources: 3 sets of 12).
    """

    standoff_mm: float = TARGET_DEFAULTS["standoff_mm"]
    target_trunk_angle_deg: float | None = TARGET_DEFAULTS["target_trunk_angle_deg"]
    reps_per_set: int = TARGET_DEFAULTS["reps_per_set"]
    sets: int = TARGET_DEFAULTS["sets"]

    def __post_init__(self):
        for name in ("standoff_mm", "target_trunk_angle_deg", "reps_per_set", "sets"):
            value = getattr(self, name)
            check_target(name, value)
            if name in ("reps_per_set", "sets") and not isinstance(value, int):
                raise ValueError(f"{name} must be a whole number from 1 to 50, not {value!r}")

    @classmethod
    def from_dict(cls, values: dict) -> "Targets":
        """Targets from a settings table, rejecting unknown names."""
        return settings_from_table(cls, values, "targets")


def is_good_rep(rep, targets: Targets) -> bool:
    """No fault, its bottom seen, and deep enough for the patient's target trunk angle when one is set.

    A rep whose bottom was out of sight (``peak_trunk_angle_deg`` None,
    :mod:`station.reps`) had nothing of its bottom judged: it counts, but not as good.
    """
    if rep.faults or rep.peak_trunk_angle_deg is None:
        return False
    target = targets.target_trunk_angle_deg
    return target is None or rep.peak_trunk_angle_deg >= target - TARGET_TOLERANCE_DEG


class SetProgress:
    """Counts good reps against the patient's targets, set by set.

    ``add(rep)`` returns True when that rep completes the set. ``new_set()``
    starts the next one (the button, or the patient stepping away).
    """

    def __init__(self, targets: Targets):
        self.targets = targets
        self.completed_sets = 0
        self.good_reps = 0
        self.reps = 0

    def add(self, rep) -> bool:
        self.reps += 1
        if not is_good_rep(rep, self.targets):
            return False
        self.good_reps += 1
        if self.good_reps == self.targets.reps_per_set:
            self.completed_sets += 1
            return True
        return False

    def new_set(self) -> None:
        self.good_reps = 0
        self.reps = 0

    @property
    def ready_to_progress(self) -> bool:
        """The sources' cue: the target number of full sets of good reps done."""
        return self.completed_sets >= self.targets.sets
