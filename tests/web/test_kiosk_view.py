"""What the kiosk shows (web/kiosk/view.py), from the event dicts the session loop publishes."""

import json

import pytest

from station.feedback import _LAMPS
from web.kiosk.view import BLOCKED_WORDS, LIGHT_LEGEND, LIGHT_WORDS, KioskView, kiosk_name

NAMES = {3: "Margaret B.", 4: "Tom W."}


def session(state, number, reps=0, good=0, per_set=12, **extra):
    """A ``session`` event as station/session.py's _publish_session makes it."""
    return {"type": "session", "state": state, "session_id": 1, "set_number": number, "reps_in_set": reps,
            "good_reps_in_set": good, "reps_per_set": per_set, "completed_sets": 0, "source": "camera 123", **extra}


def rep(index, faults=(), touched=True):
    """A ``rep`` event as _rep_done makes it: Rep.as_dict() and ``good``."""
    return {"type": "rep", "session_id": 1, "set_number": 1, "good": not faults,
            "rep": {"index": index, "start_s": 1.0, "bottom_s": 2.5, "end_s": 5.0,
                    "min_wall_gap_mm": 4.0 if touched else 60.0, "touched": touched, "peak_trunk_angle_deg": 50.0,
                    "peak_knee_flexion_deg": 12.0,
                    "peak_spine_flexion_deg": 3.0, "descent_s": 1.5, "hold_s": 0.4, "ascent_s": 1.6,
                    "return_trunk_angle_deg": 2.0, "faults": list(faults), "score": 100 - 20 * len(faults),
                    "lost_points": [{"fault": name, "points": 20, "why": "secret clinical words"} for name in faults]}}


GLOW = {"pattern": "patient_detected", "colour": "green", "blinking": False,
        "lamps": {"red": 0, "amber": 0, "green": 0.25}}


def frame(gap, trunk, present=True, lights=None):
    """A ``frame`` snapshot as _snapshot makes it (analyze.frame_record and the lamps)."""
    return {"type": "frame", "t_s": 1.0, "phase": "measuring", "trouble": None, "present": present,
            "confidence": 0.9, "wall_gap_mm": gap, "trunk_angle_deg": trunk, "knee_flexion_deg": 8.0,
            "spine_flexion_deg": 1.0, "lights": lights or GLOW}


class Feed:
    """Plays events into a KioskView at given times and keeps what it says."""

    def __init__(self, **options):
        self.view = KioskView(names=NAMES.get, **options)
        self.messages = []

    def play(self, t, *events):
        for event in events:
            self.messages += self.view.apply(event["type"], event, t)
        return self

    def last(self, name):
        return next(payload for kind, payload in reversed(self.messages) if kind == name)

    def said(self):
        return [payload["text"] for kind, payload in self.messages if kind == "say"]


def test_kiosk_names_are_a_first_name_and_an_initial():
    assert kiosk_name("Margaret Brown") == "Margaret B."
    assert kiosk_name("Margaret B.") == "Margaret B."
    assert kiosk_name("Anne-Marie de la Cruz") == "Anne-Marie C."
    assert kiosk_name("Walter") == "Walter"
    assert kiosk_name("  ") == ""


def test_every_lamp_pattern_has_words_and_a_line_in_the_legend():
    assert set(_LAMPS) <= set(LIGHT_WORDS)
    assert set(_LAMPS) | {"touched"} == {row[0] for row in LIGHT_LEGEND}
    for word, icon in LIGHT_WORDS.values():
        assert word and icon  # never colour alone


def test_idle_until_someone_comes_then_live_with_the_count_and_progress():
    feed = Feed().play(0.0, {"type": "station", "state": "ready"}, session("idle", None))
    assert feed.last("view")["mode"] == "idle"
    feed.play(1.0, {"type": "patient", "present": True, "t_s": 1.0}, session("running", 1))
    view = feed.last("view")
    assert view["mode"] == "live" and (view["count_text"], view["set_text"]) == ("Good reps: 0 of 12", "Set 1 of 3")
    feed.play(6.0, rep(1), session("running", 1, reps=1, good=1))
    feed.play(12.0, rep(2, ["squat"]), session("running", 1, reps=2, good=1))
    feed.play(18.0, rep(3), session("running", 1, reps=3, good=2))
    assert feed.last("view")["count_text"] == "Good reps: 2 of 12"
    assert feed.said() == ["1", "Soft knees", "2"]


def test_the_cue_follows_the_last_rep_and_fades():
    feed = Feed().play(0.0, session("running", 1), rep(1, ["no_touch"], touched=False))
    cue = feed.last("view")["cue"]
    assert cue["text"] == "Push your hips back" and cue["kind"] == "fix"
    assert feed.view.tick(11.9) == []
    faded = feed.view.tick(12.0)
    assert faded[0][1]["cue"] is None


def test_a_good_rep_is_praised_only_when_its_back_and_touch_were_checked():
    # One camera with the hands on the hips: the back is never seen. The rep counts (the count and the
    # green lamp say so) but the screen shows no praise, which would vouch for a back nobody measured.
    unchecked_back = rep(1)
    unchecked_back["rep"]["peak_spine_flexion_deg"] = None
    feed = Feed().play(0.0, session("running", 1), unchecked_back, session("running", 1, reps=1, good=1))
    view = feed.last("view")
    assert view["cue"] is None and view["count_text"] == "Good reps: 1 of 12" and feed.said() == ["1"]
    feed.play(6.0, rep(2), session("running", 1, reps=2, good=2))  # back and touch checked: praised
    assert feed.last("view")["cue"]["kind"] == "praise" and feed.said() == ["1", "2"]


def test_the_wall_bar_fills_as_the_hips_near_the_wall_and_lights_on_a_touch():
    feed = Feed().play(0.0, session("running", 1))
    for t in range(20):  # standing: the person's own standing gap is learnt
        feed.play(t * 0.1, frame(200.0, 2.0))
    assert feed.last("frame")["fill"] == pytest.approx(0.0, abs=0.05)
    feed.play(2.1, frame(110.0, 30.0))
    half = feed.last("frame")
    assert 0.4 < half["fill"] < 0.6 and not half["touching"] and half["lean"] == "Hinging" and half["gap_mm"] == 110
    feed.play(2.5, {"type": "touched", "t_s": 2.5, "wall_gap_mm": 15.0, "counted": True}, frame(15.0, 48.0))
    touch = feed.last("frame")
    assert touch["fill"] == 1.0 and touch["touching"] and touch["lean"] == "Hinged" and touch["trunk_deg"] == 48
    feed.play(4.4, frame(12.0, 50.0))  # held at the wall past the flash: still the rep's touch
    assert feed.last("frame")["touching"] and feed.last("frame")["at_wall"]
    feed.play(4.5, frame(40.0, 45.0))
    assert not feed.last("frame")["touching"]
    # A touch event lights the bar for a moment even between snapshots.
    feed.play(5.0, {"type": "touched", "t_s": 5.0, "wall_gap_mm": 3.1, "counted": True}, frame(40.0, 45.0))
    assert feed.last("frame")["touching"] and feed.last("frame")["fill"] < 1.0
    feed.play(6.6, frame(60.0, 40.0))
    assert not feed.last("frame")["touching"]
    feed.play(7.0, frame(None, None, present=False))
    assert feed.last("frame") == {"present": False, "fill": None, "touching": False, "at_wall": False, "gap_mm": None,
                                  "trunk_deg": None, "lean": None, "blocked": None, "back": None}


def test_standing_against_the_wall_is_at_the_wall_not_a_touch():
    # A patient who stands with their buttocks on the wall reads a gap within the tolerance on every
    # frame; no rep began, so no touch was counted (the station sounded no pip): the kiosk must not
    # tell them they touched the wall, only that they are at it.
    feed = Feed().play(0.0, session("running", 1), {"type": "patient", "present": True})
    for t in range(30):
        feed.play(t * 0.1, frame(8.0, 3.0))
    standing = feed.last("frame")
    assert standing["at_wall"] and standing["fill"] == 1.0 and not standing["touching"]
    feed.play(3.1, {"type": "touched", "t_s": 3.1, "wall_gap_mm": 8.0, "counted": False}, frame(8.0, 3.0))
    assert not feed.last("frame")["touching"]  # a touch no set counts sounds no pip either


def test_the_light_mirrors_the_lamps_in_words_and_places():
    lights = {"pattern": "fault_rep", "colour": "red", "blinking": True, "lamps": {"red": 0.0, "amber": 0, "green": 0},
              "sound": True, "note": "A4", "tone_hz": 440.0, "muted": False, "reason": None}
    view = Feed().play(0.0, {"type": "lights", "pattern": "rep_done", "lights": lights}).last("view")
    # No tip on the screen: the light never points to one.
    assert view["lights"] == {"pattern": "fault_rep", "word": "Not quite", "icon": "!", "blinking": True,
                              "in_turn": False, "lamps": {"red": True, "amber": False, "green": False}}
    with_tip = Feed().play(0.0, session("running", 1), rep(1, ["squat"]),
                           {"type": "lights", "pattern": "rep_done", "lights": lights}).last("view")
    assert with_tip["cue"]["kind"] == "fix" and with_tip["lights"]["word"] == "See the tip"
    everything = {"pattern": "set_complete", "colour": "all", "blinking": True, "lamps": {}}
    view = Feed().play(0.0, {"type": "lights", "lights": everything}).last("view")
    assert view["lights"]["lamps"] == {"red": True, "amber": True, "green": True}
    rounded = {"pattern": "rounded_back_rep", "colour": "red+amber", "blinking": True, "lamps": {}}
    view = Feed().play(0.0, {"type": "lights", "lights": rounded}).last("view")
    # Red and amber flash in turn, as the station's lamps do.
    assert view["lights"] == {"pattern": "rounded_back_rep", "word": "Keep your back long", "icon": "!",
                              "blinking": True, "in_turn": True, "lamps": {"red": True, "amber": True, "green": False}}


def test_a_completed_set_gets_a_summary_that_celebrates_then_the_screen_goes_idle():
    feed = Feed(summary_s=30.0).play(0.0, {"type": "command", "command": "assign", "patient_id": 3, "by": "kiosk"},
                                      session("running", 1, per_set=3))
    for k in range(3):
        feed.play(6.0 * (k + 1), rep(k + 1), session("running", 1, reps=k + 1, good=k + 1, per_set=3))
    feed.play(18.1, {"type": "set_complete", "set_number": 1, "good_reps": 3, "completed_sets": 1,
                     "ready_to_progress": False}, session("idle", 1, reps=3, good=3, per_set=3))
    view = feed.last("view")
    assert view["mode"] == "summary"
    assert view["summary"] == {"title": "Set complete!", "greeting": "Well done, Margaret!",
                               "lines": ["3 good reps", "Back long on every rep", "Soft knees on every rep"],
                               "next": None}
    assert feed.said()[-1] == "Set complete. Well done!"
    assert feed.view.tick(48.2)[0][1]["mode"] == "idle"


def test_a_set_that_ends_early_still_finds_something_good():
    feed = Feed().play(0.0, session("running", 1))
    feed.play(6.0, rep(1, ["squat", "too_fast"]), rep(2, ["squat"]), rep(3, ["no_touch"], touched=False))
    feed.play(20.0, session("idle", 1, reps=3, good=0))
    summary = feed.last("view")["summary"]
    assert summary["title"] == "Set done!" and summary["greeting"] == "Well done!"
    assert summary["lines"] == ["Back long on every rep", "Stood tall after every rep", "Touched the wall 2 times"]


def test_ready_to_progress_is_said_on_the_card():
    feed = Feed().play(0.0, session("running", 3), rep(1))
    feed.play(6.0, {"type": "set_complete", "set_number": 3, "good_reps": 12, "ready_to_progress": True})
    assert feed.last("view")["summary"]["next"] == "Ready for the next step: ask your coach"


def test_turn_taking_names_come_from_the_roster_and_a_new_participant_starts_afresh():
    feed = Feed().play(0.0, session("running", 1), rep(1, ["squat"]))
    assert feed.last("view")["participant"] is None
    feed.play(3.0, {"type": "command", "command": "assign", "patient_id": 4, "by": "kiosk"})
    view = feed.last("view")
    assert view["participant"] == "Tom W." and view["cue"] is None and view["set_text"] == "Set 1 of 3"
    feed.play(4.0, {"type": "command", "command": "assign", "patient_id": None, "by": "kiosk"})
    assert feed.last("view")["participant"] == "Guest"
    feed.play(5.0, {"type": "command", "command": "assign", "patient_id": 99, "by": "anna"})  # not on the roster
    assert feed.last("view")["participant"] is None
    feed.play(6.0, {"type": "command", "command": "start", "patient_id": None, "by": "anna"})
    assert feed.last("view")["participant"] is None  # "start as guest, assign later" leaves the choice alone


def test_a_participant_s_sets_are_counted_from_their_turn():
    feed = Feed().play(0.0, {"type": "command", "command": "assign", "patient_id": 3, "by": "kiosk"})
    for number in (4, 5):  # the station's fifth set of the day is Margaret's second
        feed.play(number * 60.0, session("running", number), rep(1), session("idle", number, reps=1, good=1))
    feed.play(400.0, session("running", 6))
    assert feed.last("view")["set_text"] == "Set 3 of 3"


def test_paused_starting_and_trouble_screens():
    feed = Feed().play(0.0, {"type": "station", "state": "getting_ready"})
    assert feed.last("view")["mode"] == "starting"
    feed.play(1.0, {"type": "station", "state": "ready"}, session("paused", 1))
    assert feed.last("view")["mode"] == "live" and feed.last("view")["paused"]
    feed.play(2.0, {"type": "station", "state": "trouble", "reason": "the camera at /dev/bus/usb/002 stopped"})
    assert feed.last("view")["mode"] == "trouble"
    assert "camera" not in json.dumps(feed.messages)


def test_a_reconnecting_kiosk_picks_up_from_the_snapshot():
    snapshot = {"seq": 40, "updated": "2026-03-02T09:00:00.000Z",
                "session": session("running", 2, reps=5, good=4, patient_name="Margaret Brown", patient_code="WH-0042"),
                "latest_rep": rep(5, ["squat"]),
                "lights": {"pattern": "patient_detected", "colour": "green", "blinking": False, "lamps": {}},
                "latest": {"station": {"type": "station", "state": "ready"}, "frame": frame(120.0, 20.0),
                           "command": {"type": "command", "command": "assign", "patient_id": 3, "by": "anna"}},
                "subscribers": 2}
    feed = Feed().play(0.0, {"type": "state", **snapshot})
    view = feed.last("view")
    assert (view["mode"], view["participant"], view["count_text"], view["set_text"]) == \
        ("live", "Margaret B.", "Good reps: 4 of 12", "Set 1 of 3")
    assert view["cue"] is None and feed.said() == []  # an old rep is not coached again
    assert feed.last("frame")["gap_mm"] == 120


def test_nothing_private_leaves_the_view():
    """Scores, reasons, patient ids, codes, full names and clinicians' usernames stay on the server."""
    feed = Feed()
    feed.play(0.0, {"type": "command", "command": "assign", "patient_id": 3, "by": "anna"},
              session("running", 1, patient_name="Margaret Brown", patient_code="WH-0042", patient_id=3),
              rep(1, ["squat"]), {"type": "rep_saved", "session_id": 1, "set_number": 1, "index": 1, "rep_id": 77},
              {"type": "station", "state": "trouble", "reason": "secret"}, frame(50.0, 30.0))
    text = json.dumps([payload for kind, payload in feed.messages if kind != "say"])
    for secret in ("Brown", "WH-0042", "anna", "secret", "score", "patient_id", "session_id", "rep_id", "75"):
        assert secret not in text, secret


def test_unknown_and_malformed_events_change_nothing():
    feed = Feed().play(0.0, session("idle", None))
    before = feed.view.view(0.0)
    for event in ({"type": "rep"}, {"type": "rep", "rep": None}, {"type": "session", "state": 3},
                  {"type": "frame", "present": "yes", "wall_gap_mm": "far"}, {"type": "mystery"},
                  {"type": "command", "command": "assign", "patient_id": "3"}, {"type": "__class__"}):
        feed.view.apply(event["type"], event, 0.5)
    after = feed.view.view(0.5)
    assert {key: after[key] for key in ("mode", "participant", "count")} == \
        {key: before[key] for key in ("mode", "participant", "count")}


def test_the_set_summary_counts_as_the_station_does_and_praises_only_what_it_saw():
    """5 good of 9: the card says so, and makes no "every rep" claim about reps it did not see."""
    feed = Feed().play(0.0, session("running", 1))
    for k, faults in enumerate([(), ["squat"], (), ["too_fast"], (), (), ["no_touch"], (), ["squat"]]):
        feed.play(5.0 * (k + 1), rep(k + 1, faults), session("running", 1, reps=k + 1, good=0))
    feed.play(50.0, session("idle", 1, reps=9, good=5))
    lines = feed.last("view")["summary"]["lines"]
    assert lines[0] == "5 good reps of 9" and "Soft knees on every rep" not in lines
    # A kiosk that came in mid-set (the snapshot) saw 2 of the 9 reps: counts only, no praise of unseen reps.
    late = Feed().play(0.0, {"type": "state", "session": session("running", 1, reps=7, good=4)})
    late.play(1.0, rep(8), session("running", 1, reps=8, good=5), rep(9), session("running", 1, reps=9, good=6))
    late.play(2.0, session("idle", 1, reps=9, good=6))
    assert late.last("view")["summary"]["lines"] == ["6 good reps of 9"]


def test_every_participant_s_set_gets_its_own_summary():
    """Each participant's session numbers its sets from 1: the next one's set 1 is a new set."""
    feed = Feed().play(0.0, {"type": "command", "command": "assign", "patient_id": 3, "by": "kiosk"},
                       session("running", 1), rep(1), rep(2), session("idle", 1, reps=2, good=2))
    assert feed.last("view")["summary"]["lines"][0] == "2 good reps"
    feed.play(40.0, {"type": "command", "command": "assign", "patient_id": 4, "by": "kiosk"},
              session("idle", None, session_id=2), session("running", 1, session_id=2))
    feed.play(45.0, rep(1, ["squat"]), rep(2, ["squat"]), session("idle", 1, reps=2, good=0, session_id=2))
    summary = feed.last("view")["summary"]
    assert summary is not None and summary["greeting"] == "Well done, Tom!"
    assert "Soft knees on every rep" not in summary["lines"]


def test_the_summary_never_praises_a_back_that_was_not_measured():
    feed = Feed().play(0.0, session("running", 1))
    unmeasured = [{**rep(k + 1), "rep": {**rep(k + 1)["rep"], "peak_spine_flexion_deg": None}} for k in range(3)]
    feed.play(5.0, *unmeasured, session("idle", 1, reps=3, good=3))
    lines = feed.last("view")["summary"]["lines"]
    assert "Back long on every rep" not in lines and lines[0] == "3 good reps"


def test_someone_in_front_of_the_participant_is_asked_to_step_aside_and_no_lean_is_shown():
    # The station measures nothing of the hips then, and the trunk it reads is of what is left in view.
    feed = Feed().play(0.0, session("running", 1))
    for k in range(4):
        feed.play(0.1 * k, frame(150.0, 3.0))
    assert feed.last("frame")["lean"] == "Upright" and feed.last("frame")["blocked"] is None
    feed.play(1.0, {**frame(None, 41.0), "hidden": "someone in front of the hips"})
    shown = feed.last("frame")
    assert shown["blocked"] == BLOCKED_WORDS and shown["present"]
    assert shown["lean"] is None and shown["trunk_deg"] is None and shown["fill"] is None
    assert "hips" not in json.dumps(shown)  # the station's own words stay in
    feed.play(1.1, frame(20.0, 41.0))
    assert feed.last("frame")["blocked"] is None and feed.last("frame")["lean"] == "Hinged"
    feed.play(1.2, {**frame(None, None, present=False), "hidden": None})
    assert feed.last("frame")["blocked"] is None


def test_the_lean_gauge_waits_until_the_patient_stands_at_the_wall():
    feed = Feed().play(0.0, session("running", 1), {"type": "patient", "present": True, "t_s": 0.0})
    for k, (gap, trunk) in enumerate([(400.0, 74.0), (330.0, 20.0), (260.0, 60.0)]):
        feed.play(0.1 * k, frame(gap, trunk))  # walking in, side-on: the trunk measure means nothing yet
        walking = feed.last("frame")
        assert walking["lean"] is None and walking["trunk_deg"] is None
    for k in range(3):  # standing still at the wall, with a rounded upper back (16 degrees is their upright)
        feed.play(0.4 + 0.1 * k, frame(150.0 + k, 16.0 + 0.5 * k))
    assert (feed.last("frame")["lean"], feed.last("frame")["trunk_deg"]) == ("Hinging", 17)
    feed.play(0.8, frame(100.0, 40.0))
    assert (feed.last("frame")["lean"], feed.last("frame")["trunk_deg"]) == ("Hinged", 40)


def test_the_wall_bar_uses_the_participant_s_touch_tolerance():
    feed = Feed().play(0.0, session("running", 1, touch_tolerance_mm=35.0), {"type": "patient", "present": True})
    feed.play(0.1, frame(30.0, 40.0))
    assert feed.last("frame")["at_wall"] is True  # 30 mm is at the wall for them, not with the default 20


def test_with_two_cameras_the_kiosk_says_the_back_is_not_checked_and_keeps_the_reason_in():
    feed = Feed().play(0.0, session("running", 1))
    reason = "the back is in view from this set-up, but its measurement has not met its accuracy targets yet"
    feed.play(0.1, {**frame(120.0, 20.0), "spine_flexion_deg": 6.0, "back_checked": False, "back_reason": reason})
    assert feed.last("frame")["back"] == "Back not checked"
    assert "accuracy" not in str(feed.messages)  # the reason is for the clinician
    # Once the back is checked: the camera above's reading, in words.
    feed.play(0.2, {**frame(120.0, 20.0), "spine_flexion_deg": 6.4, "back_checked": True, "back_reason": None})
    assert feed.last("frame")["back"] == "Back bent 6° from standing tall"
    # One camera: no back line.
    feed.play(0.3, frame(120.0, 20.0))
    assert feed.last("frame")["back"] is None


def test_a_rep_whose_bottom_was_not_seen_is_counted_but_never_shown_as_a_figure_nor_praised():
    # Someone stood in front of the participant at the bottom: no peak trunk, closest gap or knee bend;
    # with a target set the station does not count it good. The kiosk shows no rep figures at all.
    feed = Feed().play(0.0, session("running", 1))
    hidden = rep(2, touched=False)
    hidden["good"] = False
    hidden["rep"].update(peak_trunk_angle_deg=None, min_wall_gap_mm=None, peak_knee_flexion_deg=None)
    feed.play(5.0, rep(1), session("running", 1, reps=1, good=1), hidden, session("running", 1, reps=2, good=1),
              rep(3), session("running", 1, reps=3, good=2))
    feed.play(20.0, session("idle", 1, reps=3, good=2))
    shown = json.dumps([payload for kind, payload in feed.messages if kind != "say"])
    assert "None" not in shown and "peak_trunk" not in shown
    assert feed.said() == ["1", "2"]  # the count after each good rep, nothing after the unseen one
    lines = feed.last("view")["summary"]["lines"]
    assert lines[0] == "2 good reps of 3" and "Soft knees on every rep" not in lines
    assert "Touched the wall every time" not in lines
    # Its descent ended at the bottom nobody saw: how fast it went down was not judged either.
    assert "Nice and slow, every time" not in lines
