"""Figures the pages and the API share: a session's overview and a patient's progress, from the store."""

from __future__ import annotations

import math
from statistics import fmean

from station.faults import FAULT_NAMES, back_checked, back_notes, bottom_seen, knee_checked, touch_checked
from station.store import SERIES_NAMES, Store, series_to_list, thresholds_from_targets

__all__ = ["patient_progress", "rep_json", "session_overview"]


def _mean(values) -> float | None:
    known = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    return fmean(known) if known else None


def session_overview(reps: list[dict]) -> dict:
    """Counts and means of a session's reps, every figure traceable to the reps listed with it."""
    count = len(reps)
    fault_counts = dict.fromkeys(FAULT_NAMES, 0)
    lost = {}
    for rep in reps:
        for name in rep["faults"]:
            fault_counts[name] = fault_counts.get(name, 0) + 1
        for item in rep.get("lost_points") or ():
            if isinstance(item, dict) and "fault" in item:
                entry = lost.setdefault(item["fault"], {"fault": item["fault"], "reps": 0, "points": 0})
                entry["reps"] += 1
                entry["points"] += item.get("points") or 0
    # A rep whose buttocks were never read at the wall has no closest gap: its
    # touch was not checked, so it counts neither way.
    touches_checked = sum(1 for rep in reps if touch_checked(rep))
    touched = sum(1 for rep in reps if rep["touched"])
    # A rep whose bottom was not seen (someone in front of the patient) has no peak trunk: the mean is of the others.
    trunk_seen = sum(1 for rep in reps if bottom_seen(rep))
    # Nor a score (station.scoring): the mean score is of the scored reps, None when there is none.
    scored = sum(1 for rep in reps if rep["score"] is not None)
    return {
        "reps": count,
        "good_reps": sum(1 for rep in reps if rep["good"]),
        "touched": touched,
        "touch_not_checked": count - touches_checked,
        "good_rate": None if not count else sum(1 for rep in reps if rep["good"]) / count,
        "touch_rate": None if not touches_checked else touched / touches_checked,
        "mean_score": _mean(rep["score"] for rep in reps),
        "not_scored": count - scored,
        "trunk_not_seen": count - trunk_seen,
        "mean_peak_trunk_angle_deg": _mean(rep["peak_trunk_angle_deg"] for rep in reps),
        "mean_peak_knee_flexion_deg": _mean(rep["peak_knee_flexion_deg"] for rep in reps),
        # Seen at the bottom, yet no knee bend read (the legs out of view): the mean is of the others too.
        "knee_not_checked": sum(1 for rep in reps if bottom_seen(rep) and not knee_checked(rep)),
        "fault_counts": fault_counts,
        "lost_points": sorted(lost.values(), key=lambda entry: -entry["points"]),
        "back_notes": back_notes(reps),  # why the back was not checked, with the reps each reason covers
    }


def progress_status(store: Store, targets: dict, latest: dict | None) -> dict | None:
    """Whether the latest session met the targets (see :func:`web.queries.due_to_progress`), or None."""
    if latest is None:
        return None
    sets = store.session_sets(latest["session_id"])
    full = sum(1 for item in sets if item["good_reps"] >= targets["reps_per_set"])
    fresh = targets["updated"] is None or latest["started"] >= targets["updated"]
    return {"session_id": latest["session_id"], "started": latest["started"], "full_sets": full,
            "sets_target": targets["sets"], "reps_per_set": targets["reps_per_set"],
            "due": fresh and full >= targets["sets"], "targets_changed_since": not fresh}


def patient_progress(store: Store, patient_id: int, *, since=None) -> dict:
    """A patient's targets, thresholds, per-session summaries and progress status."""
    targets = store.get_targets(patient_id)
    summaries = store.session_summaries(patient_id, since=since)
    latest = summaries[-1] if summaries else None
    return {"targets": targets, "thresholds": thresholds_from_targets(targets), "summaries": summaries,
            "progress": progress_status(store, targets, latest)}


def rep_json(rep: dict, *, with_series: bool = False) -> dict:
    """A rep from ``Store.session_reps`` as JSON-ready (series as lists, None where not measured)."""
    result = {key: value for key, value in rep.items() if key != "series"}
    # Said outright, so no reader takes a missing rounded_back for a back that was fine.
    result["back_checked"] = back_checked(rep)
    if with_series:
        series = rep.get("series")
        result["series"] = None if series is None else {name: series_to_list(series[name]) for name in SERIES_NAMES}
    return result
