"""The drill's faults and thresholds (docs/drill.md's table)."""

import pytest

from station.faults import FAULT_NAMES, Thresholds, rep_faults

GOOD = dict(min_wall_gap_mm=5.0, peak_knee_flexion_deg=15.0, peak_spine_flexion_deg=3.0, descent_s=1.6,
            return_trunk_angle_deg=2.0)


def test_defaults_are_the_domain_thresholds():
    assert Thresholds() == Thresholds(touch_tolerance_mm=20, max_knee_flexion_deg=40, max_spine_flexion_deg=15,
                                      min_descent_s=0.95, upright_angle_deg=10)


def test_a_good_rep_has_no_fault():
    assert rep_faults(**GOOD) == []


@pytest.mark.parametrize("field, over, under, fault", [
    ("peak_knee_flexion_deg", 40.5, 40.0, "squat"),
    ("peak_spine_flexion_deg", 15.5, 15.0, "rounded_back"),
    ("min_wall_gap_mm", 20.5, 20.0, "no_touch"),
    ("descent_s", 0.94, 0.95, "too_fast"),
    ("return_trunk_angle_deg", 10.5, 10.0, "incomplete_return"),
])
def test_each_fault_starts_just_past_its_threshold(field, over, under, fault):
    assert rep_faults(**{**GOOD, field: over}) == [fault]
    assert rep_faults(**{**GOOD, field: under}) == []


def test_thresholds_are_per_patient_and_faults_keep_the_table_order():
    lenient = Thresholds(max_knee_flexion_deg=60.0)
    assert rep_faults(**{**GOOD, "peak_knee_flexion_deg": 50.0}, thresholds=lenient) == []
    everything = dict(min_wall_gap_mm=80.0, peak_knee_flexion_deg=70.0, peak_spine_flexion_deg=30.0,
                      descent_s=0.5, return_trunk_angle_deg=25.0)
    assert rep_faults(**everything) == list(FAULT_NAMES)


def test_bad_thresholds_are_refused_by_name():
    with pytest.raises(ValueError, match="min_descent_s"):
        Thresholds(min_descent_s=0)
    with pytest.raises(ValueError, match="unknown setting thresholds.knee_max"):
        Thresholds.from_dict({"knee_max": 30})
    assert Thresholds.from_dict({"touch_tolerance_mm": 30}).touch_tolerance_mm == 30
