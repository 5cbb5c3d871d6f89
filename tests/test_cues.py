"""The cue rules (station/cues.py), shown by the kiosk and spoken by the station: one cue at a time, the right one, never chattering."""

import pytest

from station.faults import FAULT_NAMES
from station.scoring import FAULT_POINTS
from station.cues import CUE_FOR_FAULT, FAULT_PRIORITY, PRAISE, CueCaller, CueCoach


def test_every_fault_has_plain_words_and_a_place_in_the_order():
    assert set(CUE_FOR_FAULT) == set(FAULT_PRIORITY) == set(FAULT_NAMES)
    assert len(FAULT_PRIORITY) == len(set(FAULT_PRIORITY))
    for words in CUE_FOR_FAULT.values():
        assert 1 <= len(words.split()) <= 4 and words[0].isupper() and not words.endswith(".")
    # The order follows what each fault costs: the ones that load the spine and the knees first.
    costs = [FAULT_POINTS[name] for name in FAULT_PRIORITY]
    assert costs == sorted(costs, reverse=True)


@pytest.mark.parametrize("faults, expected", [
    (["too_fast", "rounded_back"], "Keep your back long"),
    (["no_touch", "squat"], "Soft knees"),
    (["incomplete_return", "no_touch"], "Push your hips back"),
    (["incomplete_return", "too_fast"], "Slowly"),
    (["incomplete_return"], "Stand tall"),
])
def test_the_most_important_fault_gets_the_cue(faults, expected):
    cue = CueCoach().after_rep(faults, 0.0)
    assert (cue.text, cue.kind) == (expected, "fix")
    assert cue.fault == CueCoach.fault_to_fix(faults)


def test_a_good_rep_gets_praise_that_fades_sooner_than_a_correction():
    coach = CueCoach(praise_hold_s=4.0, fix_hold_s=12.0)
    praise = coach.after_rep([], 0.0, judged=True)
    assert praise.kind == "praise" and praise.text == PRAISE[0]
    assert coach.current(3.9) == praise and coach.current(4.0) is None
    fix = coach.after_rep(["squat"], 10.0)
    assert coach.current(21.9) == fix and coach.current(22.0) is None


def test_a_rep_neither_good_nor_faulted_gets_no_praise_and_no_phrase():
    # Short of the target angle, or its bottom out of sight: nothing to praise, nothing to correct.
    coach = CueCoach()
    assert coach.after_rep([], 0.0, good=False) is None and coach.current(0.0) is None
    caller = CueCaller()
    event = {"type": "rep", "rep": {"faults": [], "peak_trunk_angle_deg": None}, "good": False}
    assert caller.phrase(event, 0.0) is None and caller.coach.current(0.0) is None
    assert coach.after_rep([], 1.0, good=True, judged=True).kind == "praise"


def test_a_good_rep_is_praised_only_when_every_fault_was_judged_on_it():
    # Its back, its touch or its knees not checked (one camera, hands on the hips; buttocks hidden at the bottom;
    # the legs out of view): praise would vouch for what was not measured, so the rep gets no cue and only its
    # count is said.
    judged = {"faults": [], "peak_trunk_angle_deg": 40.0, "min_wall_gap_mm": 3.0, "peak_spine_flexion_deg": 8.0,
              "peak_knee_flexion_deg": 12.0}
    for unchecked in ("peak_spine_flexion_deg", "min_wall_gap_mm", "peak_knee_flexion_deg"):
        caller = CueCaller()
        event = {"type": "rep", "rep": dict(judged, **{unchecked: None}), "good": True}
        assert caller.phrase(event, 0.0) == "1" and caller.coach.current(0.0) is None
    caller = CueCaller()
    assert caller.phrase({"type": "rep", "rep": judged, "good": True}, 0.0) == "1"
    assert caller.coach.current(0.0).kind == "praise"
    assert CueCoach().after_rep([], 0.0, good=True) is None  # nobody said it was judged whole


def test_a_new_cue_waits_for_the_cooldown():
    coach = CueCoach(cooldown_s=4.0)
    first = coach.after_rep(["squat"], 0.0)
    assert coach.after_rep(["too_fast"], 3.0) is None  # too soon: the first cue stays
    assert coach.current(3.0) == first
    second = coach.after_rep(["too_fast"], 6.0)
    assert second.text == "Slowly" and second.id == first.id + 1
    assert coach.after_rep([], 8.0, judged=True) is None  # praise waits too
    assert coach.after_rep([], 10.5, judged=True).kind == "praise"


def test_a_fault_that_keeps_coming_back_keeps_its_cue_up_quietly_and_is_said_again_only_after_a_while():
    coach = CueCoach(cooldown_s=4.0, repeat_s=20.0, fix_hold_s=12.0)
    announced = [coach.after_rep(["squat"], t) for t in range(0, 60, 6)]  # a squat every 6 s for a minute
    said = [(t, cue.text) for t, cue in zip(range(0, 60, 6), announced) if cue is not None]
    assert said == [(0, "Soft knees"), (24, "Soft knees"), (48, "Soft knees")]
    for t in range(60):  # and it never left the screen in between
        assert coach.current(t) is not None and coach.current(t).text == "Soft knees"


def test_cues_never_chatter_whatever_the_reps_do():
    """However the faults fall, two announcements are at least the cooldown apart."""
    import random
    rng = random.Random(7)
    coach = CueCoach(cooldown_s=4.0)
    t, times = 0.0, []
    for _ in range(400):
        t += rng.uniform(0.8, 9.0)
        faults = rng.sample(FAULT_NAMES, rng.choice([0, 0, 1, 1, 2]))
        if coach.after_rep(faults, t) is not None:
            times.append(t)
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert len(times) > 50 and min(gaps) >= 4.0


def test_reset_forgets_the_last_participant_s_cues():
    coach = CueCoach()
    coach.after_rep(["squat"], 0.0)
    coach.reset()
    assert coach.current(1.0) is None
    assert coach.after_rep(["squat"], 1.0).id == 1


@pytest.mark.parametrize("settings", [{"cooldown_s": 0}, {"repeat_s": -1}, {"fix_hold_s": True},
                                      {"praise_hold_s": "4"}, {"cooldown_s": 10, "repeat_s": 5}])
def test_bad_settings_are_refused_by_name(settings):
    with pytest.raises(ValueError, match=next(iter(settings)) if len(settings) == 1 else "repeat_s"):
        CueCoach(**settings)
