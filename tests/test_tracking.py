"""Following the patient on the floor plan: pure state, hand-built steps."""

import numpy as np
import pytest

from station.tracking import FEET_SLACK_M, MEMORY_S, SETTLE_S, STEP_READINGS, STILL_RADIUS_M, PatientTracker


def test_nobody_is_followed_until_seen_and_then_where_they_stand():
    tracker = PatientTracker()
    assert tracker.track is None and tracker.plausible(0.0, 5.0, 5.0)
    tracker.seen(1.0, 0.1, 0.3)
    assert (tracker.track.x_m, tracker.track.z_m, tracker.track.t_s) == (0.1, 0.3, 1.0)


def test_feet_cannot_jump_further_than_a_walk():
    tracker = PatientTracker()
    tracker.seen(0.0, 0.0, 0.3)
    assert tracker.plausible(1 / 30, FEET_SLACK_M, 0.3)
    assert not tracker.plausible(1 / 30, 0.5, 0.3)  # someone else's feet, half a metre off
    assert tracker.plausible(1.0, 0.5, 0.3)  # ... or theirs after a second's walk


def test_the_patient_is_forgotten_after_the_memory_and_kept_while_glimpsed():
    tracker = PatientTracker()
    tracker.seen(0.0, 0.0, 0.3)
    tracker.glimpsed(1.5)  # part of them seen, the feet hidden
    tracker.expire(1.5 + MEMORY_S - 0.01)
    assert tracker.track is not None and tracker.track.x_m == 0.0
    tracker.expire(1.5 + MEMORY_S + 0.01)
    assert tracker.track is None


def test_a_clock_going_back_forgets_the_patient():
    tracker = PatientTracker()
    tracker.seen(5.0, 0.0, 0.3)
    tracker.expire(1.0)
    assert tracker.track is None


def test_a_memory_must_be_positive():
    with pytest.raises(ValueError, match="memory_s"):
        PatientTracker(memory_s=0.0)


def test_someone_is_at_the_drill_once_their_feet_stay_put():
    tracker = PatientTracker()
    # Walking in along the wall at 1 m/s, then standing put.
    for step in range(10):
        tracker.seen(step / 10, -1.0 + step / 10, 0.6)
        assert not tracker.settled(step / 10)
    for step in range(10, 20):
        tracker.seen(step / 10, 0.0, 0.3 + 0.01 * (step % 2))
    assert tracker.settled(1.9) and not tracker.settled(1.0 + SETTLE_S - 0.05)


def test_stepping_off_ends_being_at_the_drill():
    tracker = PatientTracker()
    tracker.seen(0.0, 0.0, 0.3)
    tracker.seen(1.0, 0.05, 0.35)  # the shanks tilt in a rep: still put
    assert tracker.settled(1.0)
    for step in range(STEP_READINGS):  # stepping out into the room, a frame after another
        tracker.seen(1.3 + step / 30, 0.0, 0.3 + STILL_RADIUS_M + 0.05 + 0.01 * step)
    assert not tracker.settled(1.3 + (STEP_READINGS - 1) / 30)


def test_one_stray_reading_off_the_spot_is_not_a_step():
    # The ankles' middle flips 10 cm for one frame when part of them flickers
    # out of view (a kettlebell hanging past them at a hinge's bottom): a
    # settled patient stays at the drill; readings off the spot frame after
    # frame are a step.
    tracker = PatientTracker()
    for step in range(30):
        tracker.seen(step / 30, 0.0, 0.43, planted=(0.0, 0.30))
    tracker.seen(1.0, 0.0, 0.43, planted=(0.12, 0.30))
    assert tracker.settled(1.0)
    for step in range(1, 10):
        tracker.seen(1.0 + step / 30, 0.0, 0.43, planted=(0.0, 0.30))
        assert tracker.settled(1.0 + step / 30)
    for step in range(STEP_READINGS):
        tracker.seen(1.5 + step / 30, 0.0, 0.43, planted=(0.12 + 0.01 * step, 0.30))
    assert not tracker.settled(1.5 + (STEP_READINGS - 1) / 30)


def test_someone_elses_feet_pulling_the_ankles_reading_now_and_then_is_no_step():
    # A clinician facing the patient at arm's length (tune4's stress-719): their toes, 20 cm
    # along the wall from the middle of the patient's shanks, are most of what shows at
    # ankle height in the patient's slab, and drop out whenever the clinician's own feet
    # are told apart. Each drop and return flipped what the spot was measured by, and
    # the readings' 21 cm difference counted as a step: the patient was "not at the
    # drill" for 0.4 s after each, most of a set. The shanks themselves never moved.
    tracker = PatientTracker()
    for step in range(30):
        tracker.seen(step / 30, -0.64, 0.45, planted=(-0.43, 0.43))
    assert tracker.settled(29 / 30)
    for step in range(30, 118):
        planted = None if step % 7 == 0 or 60 <= step < 80 else (-0.43, 0.43)
        tracker.seen(step / 30, -0.64, 0.45, planted=planted)
        assert tracker.settled(step / 30), step
    # The shanks moving off the spot as what is measured flips is still a step.
    tracker.seen(4.0, -0.64, 0.45 + 2 * STILL_RADIUS_M + 0.05)
    assert not tracker.settled(4.0)


def test_walking_in_with_the_ankles_flickering_in_and_out_of_view_is_not_at_the_drill():
    # What the spot is measured by flips every other frame; the shanks walk on at 0.6 m/s.
    tracker = PatientTracker()
    for step in range(60):
        t, x = step / 30, -1.2 + 0.6 * step / 30
        tracker.seen(t, x, 0.45, planted=(x, 0.32) if step % 2 else None)
        if step >= 15:
            assert not tracker.settled(t), step


def test_switching_to_someone_hinging_makes_them_the_patient_at_once_and_for_good():
    tracker = PatientTracker()
    tracker.seen(0.0, -0.3, 0.3)
    tracker.switch(2.0, 0.3, 0.35)
    assert tracker.track.x_m == 0.3 and tracker.settled(2.0) and tracker.hinged
    tracker.reset()
    assert tracker.track is None and not tracker.hinged


def test_stepping_back_into_place_is_not_at_the_drill_until_the_feet_stop():
    # Walking in, then stepping back into place: the feet move 35 cm back toward
    # the wall over 1.2 s, slowing to a stop. Judged against a 20 cm radius, the
    # patient counted as at the drill with 10 cm still to go.
    tracker = PatientTracker()
    for step in range(30):
        tracker.seen(step / 30, -1.0 + step / 30, 0.65, planted=(-1.0 + step / 30, 0.65))
    steps = 36
    for step in range(steps + 1):
        t = 1.0 + step / 30
        z = 0.65 - 0.35 * np.sin(0.5 * np.pi * step / steps)
        tracker.seen(t, 0.0, z, planted=(0.0, z))
        if z - 0.30 > 0.05:
            assert not tracker.settled(t), step
    stopped = 1.0 + steps / 30
    for step in range(1, 16):
        tracker.seen(stopped + step / 30, 0.0, 0.30, planted=(0.0, 0.30))
    assert tracker.settled(stopped + 15 / 30)


def test_feet_shuffling_slowly_at_the_spot_stay_at_the_drill():
    # 12 cm of slow drift over four seconds (settling the stance): never a step.
    tracker = PatientTracker()
    for step in range(150):
        t = step / 30
        x = 0.0 if step < 30 else 0.12 * (step - 30) / 120
        tracker.seen(t, x, 0.3, planted=(x, 0.3))
        if step >= 15:
            assert tracker.settled(t), t


def test_the_ankles_going_out_of_view_and_back_is_not_a_step():
    # At a deep rep's bottom the shanks' middle stands 13 cm forward of the ankles; when the
    # ankles flicker out of view (the frame's bottom edge, someone's legs in front) the
    # spot must not move for the change of what is measured.
    tracker = PatientTracker()
    for step in range(30):
        tracker.seen(step / 30, 0.0, 0.43, planted=(0.0, 0.30))
    assert tracker.settled(29 / 30)
    for step in range(30, 90):
        planted = None if step % 3 == 0 else (0.0, 0.30)
        tracker.seen(step / 30, 0.0, 0.43, planted=planted)
        assert tracker.settled(step / 30), step
    # A real step away is still a step, whatever is measured.
    for step in range(STEP_READINGS):
        tracker.seen(3.0 + step / 30, 0.0, 0.43 + 2 * STILL_RADIUS_M + 0.05)
    assert not tracker.settled(3.0 + (STEP_READINGS - 1) / 30)
