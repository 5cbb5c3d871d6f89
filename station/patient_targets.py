"""A patient's targets and limits: one home for their names, defaults, ranges and checks.

A clinician sets, per patient, the targets of :class:`station.scoring.Targets`
(stand-off, target trunk lean, reps per set, sets) and the fault limits of
:class:`station.faults.Thresholds` (touch tolerance, knee bend, back rounding,
shortest descent, standing back up). The store keeps them, the dashboard's
forms and the JSON API check them, the live session judges the patient's
reps with them, and the kiosk lights the wall bar with the patient's touch
tolerance: all through :data:`TARGET_FIELDS`, :func:`check_target`,
:func:`patient_limits` and :func:`patient_targets` here.

A limit a patient has no value for (None in the store) is the station's own
(its ``[thresholds]`` settings, which default to the drill's defaults in
:class:`~station.faults.Thresholds`); so is a guest's every limit. Each rep
keeps the limits it was judged with (:func:`limits_record`), so what the
dashboard shows next to a fault is what named it.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, fields, replace
from typing import Any, Mapping

from station.faults import Thresholds

__all__ = ["LIMIT_NAMES", "TARGET_DEFAULTS", "TARGET_FIELDS", "TargetField", "check_target", "limits_record",
           "patient_limits", "patient_targets"]

#: The fault limits a patient may have, in :class:`~station.faults.Thresholds` order.
LIMIT_NAMES = tuple(item.name for item in fields(Thresholds))

_DRILL = Thresholds()


@dataclass(frozen=True)
class TargetField:
    """One target: how the forms label it and what values it may take.

    ``low``-``high`` is the allowed range in ``unit``; ``whole`` for counts;
    ``optional`` may be empty (no target, or the station's limit);
    ``default`` is the value when empty (None: no target).
    """

    name: str
    label: str
    unit: str
    low: float
    high: float
    whole: bool = False
    optional: bool = True
    default: Any = None
    step: str = "any"
    help: str = ""


#: The targets a clinician sets, in form order. The ranges hold a slip of the
#: finger (150 for 15) out; the defaults are the drill's (domain reference).
TARGET_FIELDS = (
    TargetField("standoff_mm", "Heels to wall", "mm", 1, 600, optional=False, default=100.0, step="5",
                help="100 mm for beginners, 200-300 mm later"),
    TargetField("target_trunk_angle_deg", "Target trunk lean", "°", 10, 90, step="1",
                help="Empty for no target; a good rep leans at least this far (within 5°)"),
    TargetField("reps_per_set", "Good reps per set", "reps", 1, 50, whole=True, optional=False, default=12,
                step="1"),
    TargetField("sets", "Sets", "sets", 1, 50, whole=True, optional=False, default=3, step="1"),
    TargetField("touch_tolerance_mm", "Touch within", "mm", 1, 200, default=_DRILL.touch_tolerance_mm,
                help="Closest gap that counts as touching the wall"),
    TargetField("max_knee_flexion_deg", "Knee bend limit (squat)", "°", 1, 120,
                default=_DRILL.max_knee_flexion_deg, help="More knee bend than this is a squat"),
    TargetField("max_spine_flexion_deg", "Back rounding limit", "°", 1, 90, default=_DRILL.max_spine_flexion_deg,
                help="Beyond the patient's own posture early in their first hinge. Applies only to reps "
                     "whose back was measured (two cameras, the second above the drill spot, with the hands "
                     "on the hips); other reps say \"Back not checked\""),
    TargetField("min_descent_s", "Shortest allowed descent", "s", 0.1, 10, default=_DRILL.min_descent_s,
                step="0.05", help="Going down in less time than this is too fast"),
    TargetField("upright_angle_deg", "Stand back up within", "°", 1, 45, default=_DRILL.upright_angle_deg,
                help="Of the standing posture, after each rep"),
)
_BY_NAME = {item.name: item for item in TARGET_FIELDS}

#: A patient's targets before their clinician sets any (None: no target / the station's limit).
TARGET_DEFAULTS = {item.name: (item.default if not item.optional else None) for item in TARGET_FIELDS}


def check_target(name: str, value) -> float | int | None:
    """``value`` as the target ``name`` keeps it (int for counts), or ValueError saying what is allowed.

    None is allowed for an optional target (no target / the station's limit).
    """
    field = _BY_NAME.get(name)
    if field is None:
        raise ValueError(f"unknown target {name!r}; known: {', '.join(_BY_NAME)}")
    if value is None:
        if field.optional:
            return None
        raise ValueError(f"{name} must be {_range(field)}, not empty")
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be {_range(field)}, not {value!r}")
    if not field.low <= value <= field.high or (field.whole and value != int(value)):
        raise ValueError(f"{name} must be {_range(field)}, not {value!r}")
    return int(value) if field.whole else float(value)


def _range(field: TargetField) -> str:
    kind = "a whole number" if field.whole else "a number"
    empty = " or empty" if field.optional else ""
    return f"{kind} from {field.low:g} to {field.high:g} {field.unit}{empty}"


def patient_limits(targets: Mapping | None, station: Thresholds = _DRILL) -> Thresholds:
    """The limits a patient's reps are judged with: theirs where set, the station's elsewhere.

    ``targets`` is a store's targets dict (None for a guest: the station's).
    """
    own = {name: targets[name] for name in LIMIT_NAMES if targets and targets.get(name) is not None}
    return Thresholds(**{name: getattr(station, name) for name in LIMIT_NAMES} | own)


def patient_targets(targets: Mapping | None, station):
    """The patient's :class:`~station.scoring.Targets`: the station's ``station`` with theirs put in (as they are
    for a guest). Made through the dataclass, so the targets check themselves (with :func:`check_target`)."""
    if not targets:
        return station
    return replace(station, standoff_mm=float(targets["standoff_mm"]),
                   target_trunk_angle_deg=targets["target_trunk_angle_deg"],
                   reps_per_set=int(targets["reps_per_set"]), sets=int(targets["sets"]))


def limits_record(limits: Thresholds, target_trunk_angle_deg: float | None) -> dict:
    """What a rep stores of the limits it was judged with (JSON-ready)."""
    return {**{name: float(getattr(limits, name)) for name in LIMIT_NAMES},
            "target_trunk_angle_deg": None if target_trunk_angle_deg is None else float(target_trunk_angle_deg)}
