"""The set and participant rules (station/set_rules.py) on hand-built event streams, as the rep detector is tested."""

import dataclasses
import datetime as _dt

import pytest

from station.events import PatientEvent, RepEvent, RepIgnoredEvent, SessionEvent, SetCompleteEvent, TouchedEvent
from station.patient_targets import TARGET_DEFAULTS
from station.reps import PatientArrived, PatientLeft, Rep, RepDetector, RepDone, RepReturned, RepStarted, Touched
from station.set_rules import SetRules
from station.settings import load_settings


class Recorder:
    """The rules' effects, written down: lamps, store work, published events, statuses."""

    source = "recording test.db3"

    def __init__(self):
        self.lamps, self.stored, self.published, self.statuses, self.new_sessions = [], [], [], [], []
        self.trouble = False

    def session_id(self):
        return 7

    def now(self):
        return _dt.datetime(2026, 3, 2, 9, 30, tzinfo=_dt.timezone.utc)

    def lamp(self, name, *args):
        self.lamps.append((name, *args))

    def base_lamp(self, name):
        if not self.trouble:
            self.lamps.append((name,))

    def publish(self, event):
        self.published.append(event)

    def store(self, kind, **fields):
        self.stored.append((kind, fields))

    def status(self, text):
        self.statuses.append(text)

    def new_session(self, patient_id, event):
        self.new_sessions.append((patient_id, event))

    def kinds(self):
        return [kind for kind, _ in self.stored]

    def of(self, cls):
        return [event for event in self.published if isinstance(event, cls)]


class Summary:
    def __init__(self):
        self.sets, self.reps = 0, []


def make_rep(index, faults=(), peak_trunk=45.0):
    return Rep(index=index, start_s=index * 4.0, bottom_s=index * 4.0 + 1.5, end_s=index * 4.0 + 3.0,
               min_wall_gap_mm=0.0 if "no_touch" not in faults else 80.0, touched="no_touch" not in faults,
               peak_trunk_angle_deg=peak_trunk, peak_knee_flexion_deg=10.0, peak_spine_flexion_deg=5.0,
               descent_s=1.5, hold_s=0.3, ascent_s=1.2, return_trunk_angle_deg=None, faults=tuple(faults),
               score=100 - 25 * len(faults), lost_points=())


def rep_events(index, faults=()):
    """A rep's events as the detector sends them: started, touched (unless no touch), done."""
    t = index * 4.0
    events = [RepStarted(t, index)]
    if "no_touch" not in faults:
        events.append(Touched(t + 1.5, index, 2.0))
    return events + [RepDone(t + 3.0, make_rep(index, faults))]


@pytest.fixture
def rules():
    settings = load_settings(overrides={"targets": {"reps_per_set": 3}})
    effects, summary = Recorder(), Summary()
    rules = SetRules(settings, RepDetector(settings.thresholds, settings.reps), effects, summary)
    rules.started = True
    return rules, effects, summary


def feed(rules, events):
    for event in events:
        rules.on_event(event)


def test_a_patient_arriving_starts_a_set_and_leaving_ends_it(rules):
    rules, effects, summary = rules
    feed(rules, [PatientArrived(1.0)])
    assert rules.set.number == 1 and summary.sets == 1
    assert effects.kinds() == ["start_set"] and effects.lamps[-1] == ("patient_detected",)
    feed(rules, rep_events(1) + [PatientLeft(9.0)])
    assert rules.set is None
    assert effects.kinds() == ["start_set", "add_rep", "end_set"]
    assert [event.present for event in effects.of(PatientEvent)] == [True, False]
    assert effects.of(SessionEvent)[-1].state == "idle" and effects.of(SessionEvent)[-1].reps_in_set == 1
    assert effects.lamps[-1] == ("ready",)


def test_good_reps_reaching_the_target_complete_the_set_with_a_fanfare(rules):
    rules, effects, summary = rules
    feed(rules, [PatientArrived(1.0)] + rep_events(1) + rep_events(2, ["squat"]) + rep_events(3) + rep_events(4))
    assert rules.set is None  # complete: the set ended on its third good rep
    complete = effects.of(SetCompleteEvent)
    assert len(complete) == 1 and complete[0].good_reps == 3 and complete[0].set_number == 1
    assert ("set_complete",) in effects.lamps
    assert [lamp for lamp in effects.lamps if lamp[0] == "rep_done"] == [
        ("rep_done", []), ("rep_done", ["squat"]), ("rep_done", []), ("rep_done", [])]
    assert [row["good"] for row in summary.reps] == [True, False, True, True]
    # The patient is still there: the fifth rep began a new set
    assert [row["set_number"] for row in summary.reps] == [1, 1, 1, 1]
    assert summary.sets == 1 and effects.of(RepEvent)[-1].rep["index"] == 4


def test_a_rep_whose_bottom_was_out_of_sight_counts_but_is_neither_praised_nor_corrected(rules):
    rules, effects, summary = rules
    unseen = dataclasses.replace(make_rep(2), min_wall_gap_mm=None, touched=False, peak_trunk_angle_deg=None,
                                 peak_knee_flexion_deg=None, peak_spine_flexion_deg=None)
    feed(rules, [PatientArrived(1.0)] + rep_events(1) + [RepStarted(8.0, 2), RepDone(11.0, unseen)])
    assert [row["good"] for row in summary.reps] == [True, False]
    assert effects.kinds().count("add_rep") == 2 and effects.of(RepEvent)[-1].good is False
    # The first rep's green; none for the second, whose lamps stay as they were.
    assert [lamp for lamp in effects.lamps if lamp[0] == "rep_done"] == [("rep_done", [])]


def test_a_rep_beginning_after_a_completed_set_starts_the_next(rules):
    rules, effects, summary = rules
    feed(rules, [PatientArrived(1.0)] + rep_events(1) + rep_events(2) + rep_events(3) + rep_events(4))
    assert [row["set_number"] for row in summary.reps] == [1, 1, 1, 2]
    assert summary.sets == 2 and rules.set.number == 2


def test_reps_while_paused_are_not_counted_nor_heard(rules):
    rules, effects, summary = rules
    feed(rules, [PatientArrived(1.0)])
    rules.command("start_pause")
    assert rules.set.state == "paused" and effects.lamps[-1] == ("paused",)
    feed(rules, rep_events(1))
    assert effects.of(TouchedEvent)[-1].counted is False and not [lamp for lamp in effects.lamps if lamp[0] == "touched"]
    assert effects.of(RepIgnoredEvent) and summary.reps == []
    rules.command("start_pause")
    feed(rules, rep_events(2))
    assert [row["index"] for row in summary.reps] == [1] and ("touched",) in effects.lamps


def test_nothing_starts_before_the_station_is_ready(rules):
    rules, effects, summary = rules
    rules.started = False
    rules.command("start_pause")
    rules.command("web", {"command": "start"})
    assert rules.set is None and effects.stored == []


def test_assigning_after_sets_opens_a_new_session_for_the_next_participant(rules):
    rules, effects, summary = rules
    rules.command("web", {"command": "assign", "patient_id": 3})
    assert rules.patient_id == 3 and effects.kinds() == ["assign"]  # before any set: this session's patient
    feed(rules, [PatientArrived(1.0)] + rep_events(1))
    rules.command("web", {"command": "assign", "patient_id": 4}, last_t=8.0)
    assert rules.set is None and rules.patient_id == 4
    assert [(patient, event.state) for patient, event in effects.new_sessions] == [(4, "idle")]
    feed(rules, rep_events(2))  # the patient is still at the spot: their first set in the new session
    assert summary.reps[-1]["set_number"] == 1


def test_a_participants_targets_judge_their_reps(rules):
    rules, effects, summary = rules
    rules.command("web", {"command": "assign", "patient_id": 3})
    rules.command("targets", {"patient_id": 3, "targets": {**TARGET_DEFAULTS, "reps_per_set": 2}})
    assert rules.targets.reps_per_set == 2 and effects.of(SessionEvent)[-1].reps_per_set == 2
    rules.command("targets", {"patient_id": 9, "targets": {**TARGET_DEFAULTS, "reps_per_set": 5}})  # someone else's: too late
    assert rules.targets.reps_per_set == 2


def test_a_rep_s_return_goes_to_the_store_with_the_rep(rules):
    rules, effects, summary = rules
    feed(rules, [PatientArrived(1.0)] + rep_events(1) + [RepReturned(8.0, 1, 2.5, 7.6, 1.9)])
    assert effects.stored[-1] == ("rep_return", {"number": 1, "index": 1, "return_trunk_angle_deg": 2.5,
                                                 "end_s": 7.6, "ascent_s": 1.9})
    assert summary.reps[-1]["return_trunk_angle_deg"] == 2.5
    assert (summary.reps[-1]["end_s"], summary.reps[-1]["ascent_s"]) == (7.6, 1.9)


def test_after_a_camera_loss_a_set_whose_patient_is_gone_ends(rules):
    rules, effects, summary = rules
    feed(rules, [PatientArrived(1.0)])
    rules.camera_lost()
    rules.after_frame(20.0, resumed_t=19.9)
    assert rules.set is not None  # not yet: the patient may still be seen
    rules.after_frame(40.0, resumed_t=19.9)
    assert rules.set is None and effects.kinds()[-1] == "end_set"


def test_trouble_keeps_its_lamp(rules):
    rules, effects, summary = rules
    effects.trouble = True
    feed(rules, [PatientArrived(1.0)])
    assert effects.lamps == []


def test_the_end_closes_the_set_and_the_session(rules):
    rules, effects, summary = rules
    feed(rules, [PatientArrived(1.0)])
    rules.finish()
    assert effects.kinds() == ["start_set", "end_set", "end_session"]
    assert effects.of(SessionEvent)[-1].state == "ended"


def test_a_rep_whose_bottom_was_not_seen_is_stored_and_shown_without_a_peak_trunk_and_not_counted_good():
    from station.store.codec import rep_values
    settings = load_settings(overrides={"targets": {"reps_per_set": 2, "target_trunk_angle_deg": 40.0}})
    effects, summary = Recorder(), Summary()
    rules = SetRules(settings, RepDetector(settings.thresholds, settings.reps), effects, summary)
    rules.started = True
    hidden = make_rep(2, peak_trunk=None)
    feed(rules, [PatientArrived(1.0)] + rep_events(1) + [RepStarted(8.0, 2), RepDone(11.0, hidden)] + rep_events(3))
    assert [row["peak_trunk_angle_deg"] for row in summary.reps] == [45.0, None, 45.0]
    assert [row["good"] for row in summary.reps] == [True, False, True]  # not known to reach 40°
    stored = [fields["rep"] for kind, fields in effects.stored if kind == "add_rep"]
    assert rep_values(stored[1], None)[0]["peak_trunk_angle_deg"] is None  # the store takes it as it is
    assert [event.rep["peak_trunk_angle_deg"] for event in effects.of(RepEvent)] == [45.0, None, 45.0]
    assert [lamp for lamp in effects.lamps if lamp[0] == "rep_done"][1] == ("rep_done", [])  # no fault named
    assert len(effects.of(SetCompleteEvent)) == 1 and effects.of(SetCompleteEvent)[0].good_reps == 2


HIPS = "someone in front of the hips"


def frames(rules, start_s, end_s, hidden=None, resumed_t=0.0):
    """Frames at 30 fps from ``start_s`` up to ``end_s`` (s), each with the same hidden reason."""
    for i in range(round((end_s - start_s) * 30)):
        rules.after_frame(start_s + i / 30, resumed_t, hidden)


def test_the_patient_hidden_for_seconds_in_a_set_goes_to_the_store_with_the_set(rules):
    rules, effects, summary = rules
    feed(rules, [PatientArrived(1.0)])
    frames(rules, 1.0, 5.0)
    frames(rules, 5.0, 8.0, HIPS)  # someone stands in front of the patient for 3 s
    frames(rules, 8.0, 10.0)
    hidden = [fields for kind, fields in effects.stored if kind == "hidden_span"]
    assert hidden == [{"number": 1, "start_s": 5.0, "end_s": 7.97, "reason": HIPS}]


def test_a_set_that_ends_while_its_patient_is_hidden_keeps_the_span_and_a_short_one_is_not_noted(rules):
    rules, effects, summary = rules
    feed(rules, [PatientArrived(1.0)])
    frames(rules, 1.0, 2.0, HIPS)  # a passer-by for under a second: reps ride through it
    frames(rules, 2.0, 4.0)
    frames(rules, 4.0, 6.0, "someone in front of the patient")
    feed(rules, [PatientLeft(6.0)])
    assert [kind for kind in effects.kinds() if kind in ("hidden_span", "end_set")] == ["hidden_span", "end_set"]
    assert effects.stored[-2][1] == {"number": 1, "start_s": 4.0, "end_s": 5.97,
                                     "reason": "someone in front of the patient"}


def test_no_span_is_noted_while_no_set_runs(rules):
    rules, effects, summary = rules
    frames(rules, 0.0, 3.0, HIPS)
    rules.finish()
    assert "hidden_span" not in effects.kinds()


def test_a_pause_ends_the_span_and_hidden_frames_while_paused_are_not_noted(rules):
    # Reps while paused are not counted, so the patient hidden then hides nothing of the set.
    rules, effects, summary = rules
    feed(rules, [PatientArrived(1.0)])
    frames(rules, 1.0, 3.0, HIPS)
    rules.command("start_pause")
    frames(rules, 3.0, 6.0, HIPS)
    assert [fields for kind, fields in effects.stored if kind == "hidden_span"] == [
        {"number": 1, "start_s": 1.0, "end_s": 2.97, "reason": HIPS}]
