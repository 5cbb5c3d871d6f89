"""The score, its reasons, the patient's targets and set progress."""

import math
from types import SimpleNamespace

import pytest

from station.faults import FAULT_NAMES, Thresholds
from station.scoring import FAULT_POINTS, SetProgress, Targets, is_good_rep, score_rep

FIGURES = dict(bottom_seen=True, min_wall_gap_mm=4.0, peak_knee_flexion_deg=12.0, peak_spine_flexion_deg=None,
               descent_s=1.6, return_trunk_angle_deg=2.0)


def test_every_fault_has_a_stated_cost():
    assert set(FAULT_POINTS) == set(FAULT_NAMES)
    assert all(0 < points < 100 for points in FAULT_POINTS.values())


def test_a_rep_without_faults_scores_100_with_nothing_lost():
    assert score_rep(faults=[], **FIGURES) == (100, [])


def test_each_fault_takes_its_points_and_says_why_in_the_reps_figures():
    figures = dict(FIGURES, min_wall_gap_mm=64.0, descent_s=0.6)
    score, lost = score_rep(faults=["no_touch", "too_fast"], **figures)
    assert score == 100 - FAULT_POINTS["no_touch"] - FAULT_POINTS["too_fast"]
    assert [item["fault"] for item in lost] == ["no_touch", "too_fast"]
    assert lost[0]["why"] == "closest to the wall 64 mm (touch within 20 mm)"
    assert lost[1]["why"] == "down in 0.6 s (at least 0.95 s)"


def test_reasons_quote_the_patients_own_thresholds():
    _, lost = score_rep(faults=["squat"], thresholds=Thresholds(max_knee_flexion_deg=30.0),
                        **dict(FIGURES, peak_knee_flexion_deg=35.0))
    assert lost[0]["why"] == "knees bent to 35 degrees (limit 30)"


def test_the_score_never_goes_below_zero():
    score, lost = score_rep(faults=list(FAULT_NAMES), **dict(FIGURES, peak_spine_flexion_deg=30.0))
    assert score == max(0, 100 - sum(FAULT_POINTS.values())) and len(lost) == 5


def test_a_rep_whose_bottom_was_not_seen_has_no_score_but_lists_what_was_judged():
    # Squat, rounded back and speed are judged at the bottom (the touch too, unless seen): none was, so no 100.
    unseen = dict(FIGURES, bottom_seen=False, min_wall_gap_mm=-math.inf, peak_knee_flexion_deg=None,
                  descent_s=math.inf)
    assert score_rep(faults=[], **unseen) == (None, [])
    score, lost = score_rep(faults=["incomplete_return"], **dict(unseen, return_trunk_angle_deg=24.0))
    assert score is None
    assert lost == [{"fault": "incomplete_return", "points": FAULT_POINTS["incomplete_return"],
                     "why": "came back only to 24 degrees from standing (within 10)"}]


def rep(faults=(), trunk=60.0):
    return SimpleNamespace(faults=tuple(faults), peak_trunk_angle_deg=trunk)


def test_a_good_rep_has_no_fault_and_reaches_the_target_angle():
    targets = Targets(target_trunk_angle_deg=60.0)
    assert is_good_rep(rep(), targets)
    assert is_good_rep(rep(trunk=56.0), targets)  # within the 5-degree tolerance
    assert not is_good_rep(rep(trunk=50.0), targets)
    assert not is_good_rep(rep(["too_fast"]), targets)
    assert is_good_rep(rep(trunk=20.0), Targets())  # no target angle set


def test_a_rep_whose_bottom_was_not_seen_counts_but_is_not_good():
    hidden = rep(trunk=None)  # someone stood in front of the patient at the bottom
    assert not is_good_rep(hidden, Targets(target_trunk_angle_deg=60.0))  # not known to be deep enough
    assert not is_good_rep(hidden, Targets())  # nothing of its bottom judged: no fault, and no good rep either
    progress = SetProgress(Targets(target_trunk_angle_deg=60.0, reps_per_set=2))
    assert [progress.add(rep()), progress.add(hidden), progress.add(rep())] == [False, False, True]
    assert (progress.reps, progress.good_reps) == (3, 2)


def test_three_sets_of_twelve_good_reps_is_the_cue_to_progress():
    progress = SetProgress(Targets())
    for set_number in range(3):
        finished = [progress.add(rep()) for _ in range(11)] + [progress.add(rep(["squat"])), progress.add(rep())]
        assert finished == [False] * 12 + [True]
        assert progress.ready_to_progress == (set_number == 2)
        progress.new_set()
    assert progress.completed_sets == 3


@pytest.mark.parametrize("values, name", [
    ({"standoff_mm": 0}, "standoff_mm"), ({"standoff_mm": 900}, "standoff_mm"),
    ({"target_trunk_angle_deg": 5}, "target_trunk_angle_deg"), ({"reps_per_set": 0}, "reps_per_set"),
    ({"sets": 2.5}, "sets"), ({"reps_per_set": True}, "reps_per_set"),
])
def test_bad_targets_are_refused_by_name(values, name):
    with pytest.raises(ValueError, match=name):
        Targets(**values)


def test_targets_from_a_settings_table_refuse_unknown_names():
    assert Targets.from_dict({"reps_per_set": 10}).reps_per_set == 10
    with pytest.raises(ValueError, match="unknown setting targets.rep"):
        Targets.from_dict({"rep": 10})


def test_a_patients_limits_are_their_own_where_set_and_the_stations_elsewhere():
    from station.patient_targets import check_target, patient_limits, patient_targets

    station = Thresholds(touch_tolerance_mm=25.0)
    targets = {"standoff_mm": 200.0, "target_trunk_angle_deg": 45.0, "reps_per_set": 8, "sets": 2,
               "touch_tolerance_mm": None, "max_knee_flexion_deg": 30.0, "max_spine_flexion_deg": None,
               "min_descent_s": None, "upright_angle_deg": None}
    assert patient_limits(targets, station) == Thresholds(touch_tolerance_mm=25.0, max_knee_flexion_deg=30.0)
    assert patient_limits(None, station) == station  # a guest
    assert patient_targets(targets, Targets()) == Targets(standoff_mm=200.0, target_trunk_angle_deg=45.0,
                                                          reps_per_set=8, sets=2)
    with pytest.raises(ValueError, match="touch_tolerance_mm must be a number from 1 to 200 mm or empty, not 500"):
        check_target("touch_tolerance_mm", 500)
    with pytest.raises(ValueError, match="standoff_mm must be a number from 1 to 600 mm, not empty"):
        check_target("standoff_mm", None)
    with pytest.raises(ValueError, match="unknown target 'speed'"):
        check_target("speed", 1)
