"""The drill's faults and their thresholds, as ``docs/drill.md`` names them.

One place for both the simulator's ground truth and the station's rep
scoring, so a fault means the same thing wherever it is decided.
"""

from __future__ import annotations

from dataclasses import dataclass

from station.config import require_positive_numbers, settings_from_table

FAULT_NAMES = ("squat", "rounded_back", "no_touch", "too_fast", "incomplete_return")
#: Words for each fault, as a clinician says them (the dashboard, its reports and the live page).
FAULT_LABELS = {"squat": "Squat", "rounded_back": "Rounded back", "no_touch": "No touch",
                "too_fast": "Too fast", "incomplete_return": "Incomplete return"}
#: Shown for the peak trunk lean of a rep whose bottom was not seen (``peak_trunk_angle_deg`` None: someone
#: stood between the camera and the patient), never a number; the same in every screen and export.
BOTTOM_NOT_SEEN = "not seen"
#: Why, as a clinician reads it.
BOTTOM_NOT_SEEN_WHY = "the rep's bottom was not seen: someone was in front of the patient"
#: A rep's verdict in words: "No fault" only when every fault could be judged; otherwise "No fault
#: seen" and, for what was not measured, its own label (the dashboard, its reports and the live page).
NO_FAULT, NO_FAULT_SEEN = "No fault", "No fault seen"
#: A rep whose bottom was not seen had none of its bottom faults judged: its badge says so instead of
#: "No fault seen" (the dashboard, its reports and the live page).
BOTTOM_NOT_SEEN_BADGE = "Bottom not seen"
NOT_CHECKED_LABELS = {"touch": "Touch not checked", "back": "Back not checked", "knee": "Knees not checked"}
#: Why a rep's back was not checked when no frame of it said why (``Rep.back_note``, station.reps: its back
#: reasons are the set-up's, the camera above's, or the back hidden).
BACK_NOT_READ = "the back was not read in this rep"
#: Why a rep's touch was not checked (its closest gap not read): never "did not touch" (every screen and export).
TOUCH_NOT_CHECKED_WHY = "touch not checked: the buttocks were hidden at the bottom"
#: Why a rep's squat was not judged though its bottom was seen (no knee bend read in the whole rep: the legs hidden,
#: or below the picture): never "no squat" (every screen and export).
KNEE_NOT_CHECKED_WHY = "knees not checked: the legs were not in view, so a squat could not be judged"
#: Shown for the score of a rep whose bottom was not seen (``score`` None), and for a mean of no scored rep:
#: its squat, rounded back and speed were not judged (nor its touch, unless the hips were read at the wall beside
#: the hidden bottom; where not, "Touch not checked" says so), so a 100 would vouch for what was not seen.
#: The same in every screen and export.
NOT_SCORED = "not scored"
#: Why, as a clinician reads it.
NOT_SCORED_WHY = "the rep's bottom was not seen, so its squat, rounded back and speed were not judged"


def back_checked(rep) -> bool:
    """Whether a rep's back was measured (``Rep.as_dict()`` or a stored rep): its peak spine flexion was read."""
    return rep.get("peak_spine_flexion_deg") is not None


def touch_checked(rep) -> bool:
    """Whether a rep's touch was judged: its closest gap was read (the buttocks were in view at the bottom)."""
    return rep.get("min_wall_gap_mm") is not None


def knee_checked(rep) -> bool:
    """Whether a rep's squat was judged: its peak knee bend was read (the legs in view at some frame of it)."""
    return rep.get("peak_knee_flexion_deg") is not None


def bottom_seen(rep) -> bool:
    """Whether a rep's bottom was seen (its peak trunk lean read): else none of its bottom faults was judged."""
    return rep.get("peak_trunk_angle_deg") is not None


def every_fault_judged(rep) -> bool:
    """Whether every fault of a rep could be judged: its bottom seen, its back, its touch and its knees checked.

    Only such a rep may be called "No fault", or praised: a rep without faults that was not all seen
    is "No fault seen", and gets no praise (:mod:`station.cues`).
    """
    return bottom_seen(rep) and back_checked(rep) and touch_checked(rep) and knee_checked(rep)


#: What every screen and export says of a rep whose back was not checked (its peak spine flexion not read).
BACK_NOT_CHECKED = "back not checked"


def back_note_words(rep) -> str:
    """What every screen and export says of a rep whose back was not checked: "back not checked: why"
    (``back_note``), or "back not checked" alone for a rep stored before the station kept why."""
    note = rep.get("back_note")
    return f"{BACK_NOT_CHECKED}: {note}" if note else BACK_NOT_CHECKED


def back_notes(reps) -> list[str]:
    """Why the back was not checked in a session's reps, one sentence per reason, the commonest first:
    "Back not checked on every rep: why" or "... on 3 of 10 reps: why". Reps stored without a reason add none."""
    notes = [rep.get("back_note") for rep in reps if not back_checked(rep) and rep.get("back_note")]
    counted = sorted(((notes.count(note), note) for note in dict.fromkeys(notes)), key=lambda item: -item[0])
    covered = {count: "every rep" if count == len(reps) else f"{count} of {len(reps)} reps" for count, _ in counted}
    return [f"{BACK_NOT_CHECKED.capitalize()} on {covered[count]}: {note}" for count, note in counted]


#: Opens what every screen and export says beside a rep's peak trunk lean when its bottom was read off less
#: of the patient (``Rep.view_note``, station.reps: the head above the picture).
AT_ITS_BOTTOM = "at its bottom"


def bottom_view_words(view_note: str) -> str:
    """The words beside a rep's peak trunk lean for its view note: the same in every screen and export."""
    return f"{AT_ITS_BOTTOM} {view_note}"


@dataclass(frozen=True)
class Thresholds:
    """Per-patient fault thresholds; the defaults come from the clinical sources.

    Attributes
    ----------
    touch_tolerance_mm : float
        A rep touched the wall when its closest wall gap is at most this (mm).
    max_knee_flexion_deg : float
        Peak knee flexion above this is a squat (degrees). A good-morning
        hinge keeps the knees near 5 degrees; squats go far past 40.
    max_spine_flexion_deg : float
        Spine flexion beyond the standing baseline above this is a rounded
        back (degrees).
    min_descent_s : float
        A descent shorter than this is too fast (seconds); older adults train
        at about 1.5 s down.
    upright_angle_deg : float
        After a rep the trunk must come back within this many degrees of the
        person's standing posture, else the return is incomplete.
    """

    touch_tolerance_mm: float = 20.0
    max_knee_flexion_deg: float = 40.0
    max_spine_flexion_deg: float = 15.0
    min_descent_s: float = 0.95
    upright_angle_deg: float = 10.0

    def __post_init__(self):
        require_positive_numbers(self, "threshold")

    @classmethod
    def from_dict(cls, values: dict) -> "Thresholds":
        """Thresholds from a settings table, rejecting unknown names."""
        return settings_from_table(cls, values, "thresholds")


def rep_faults(*, min_wall_gap_mm: float, peak_knee_flexion_deg: float, peak_spine_flexion_deg: float,
               descent_s: float, return_trunk_angle_deg: float, thresholds: Thresholds = Thresholds()) -> list[str]:
    """Names of the faults a rep's figures show, in the order of :data:`FAULT_NAMES`.

    ``return_trunk_angle_deg`` is the closest the trunk came back to the
    person's standing posture after the rep (degrees from that baseline).
    """
    found = []
    if peak_knee_flexion_deg > thresholds.max_knee_flexion_deg:
        found.append("squat")
    if peak_spine_flexion_deg > thresholds.max_spine_flexion_deg:
        found.append("rounded_back")
    if min_wall_gap_mm > thresholds.touch_tolerance_mm:
        found.append("no_touch")
    if descent_s < thresholds.min_descent_s:
        found.append("too_fast")
    if return_trunk_angle_deg > thresholds.upright_angle_deg:
        found.append("incomplete_return")
    return found
