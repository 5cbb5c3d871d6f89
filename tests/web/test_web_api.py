"""The JSON API: the same data as the pages, refusals as 4xx JSON with a message."""

import math

import pytest


def test_me_gives_the_clinician_and_a_csrf_token(logged_in):
    body = logged_in.get("/api/me").get_json()
    assert body["clinician"]["username"] == "anna" and len(body["csrf_token"]) > 20


def test_patients_list_and_search(logged_in, sample, store):
    patients = logged_in.get("/api/patients").get_json()["patients"]
    assert [p["code"] for p in patients] == ["WH-0042", "WH-0007"]
    assert set(patients[0]) >= {"id", "code", "display_name", "archived", "last_session", "sessions"}
    assert patients[0]["sessions"] == 3
    found = logged_in.get("/api/patients?q=tom").get_json()["patients"]
    assert [p["code"] for p in found] == ["WH-0007"]
    store.update_patient(sample["other"], archived=True)
    assert len(logged_in.get("/api/patients").get_json()["patients"]) == 1
    assert len(logged_in.get("/api/patients?archived=1").get_json()["patients"]) == 2


def test_a_bad_flag_is_refused(logged_in, sample):
    response = logged_in.get("/api/patients?archived=perhaps")
    assert response.status_code == 400
    assert response.get_json() == {"error": "archived must be 1 or 0, not 'perhaps'", "field": "archived"}


def test_one_patient(logged_in, sample):
    body = logged_in.get(f"/api/patients/{sample['patient']}").get_json()
    assert body["patient"]["code"] == "WH-0042" and body["sessions"] == 3
    assert body["targets"]["standoff_mm"] == 100 and body["progress"]["due"] is False
    missing = logged_in.get("/api/patients/999")
    assert missing.status_code == 404 and missing.get_json() == {"error": "there is no patient 999"}


def test_a_patients_sessions_with_summaries(logged_in, sample):
    sessions = logged_in.get(f"/api/patients/{sample['patient']}/sessions").get_json()["sessions"]
    assert [s["session_id"] for s in sessions] == sample["sessions"]
    last = sessions[-1]
    assert last["reps"] == 10 and last["good_reps"] == 6 and last["good_rate"] == pytest.approx(0.6)
    assert last["fault_counts"] == {"squat": 2, "rounded_back": 1, "no_touch": 1, "too_fast": 1,
                                    "incomplete_return": 1}
    since = logged_in.get(f"/api/patients/{sample['patient']}/sessions?since=2026-03-01T00:00:00Z").get_json()
    assert [s["session_id"] for s in since["sessions"]] == [sample["session"]]


@pytest.mark.parametrize("since, message", [
    ("yesterday", "since must be an ISO 8601 time"),
    ("2026-03-01T00:00:00", "since must carry a time zone"),
])
def test_a_bad_since_is_refused(logged_in, sample, since, message):
    response = logged_in.get(f"/api/patients/{sample['patient']}/sessions?since={since}")
    assert response.status_code == 400 and message in response.get_json()["error"]


def test_targets_get_put_and_patch(logged_in, sample, store):
    url = f"/api/patients/{sample['patient']}/targets"
    body = logged_in.get(url).get_json()
    assert body["targets"]["reps_per_set"] == 12 and body["thresholds"]["touch_tolerance_mm"] == 20
    full = {"standoff_mm": 200, "target_trunk_angle_deg": 45, "reps_per_set": 10, "sets": 3,
            "touch_tolerance_mm": None, "max_knee_flexion_deg": 35, "max_spine_flexion_deg": None,
            "min_descent_s": 1.2, "upright_angle_deg": None}
    response = logged_in.put(url, json=full)
    assert response.status_code == 200
    assert response.get_json()["targets"]["max_knee_flexion_deg"] == 35
    assert response.get_json()["thresholds"]["max_knee_flexion_deg"] == 35
    assert response.get_json()["thresholds"]["touch_tolerance_mm"] == 20  # the default
    patched = logged_in.patch(url, json={"sets": 4}).get_json()["targets"]
    assert patched["sets"] == 4 and patched["standoff_mm"] == 200
    assert store.get_targets(sample["patient"])["sets"] == 4


@pytest.mark.parametrize("method, body, message, field", [
    ("put", {"standoff_mm": 200}, "Target trunk lean: missing.", "target_trunk_angle_deg"),
    ("patch", {"standoff_mm": 900}, "Heels to wall: must be from 1 to 600 mm, not 900.", "standoff_mm"),
    ("patch", {"standoff_mm": "200"}, "standoff_mm must be a number, not '200'", "standoff_mm"),
    ("patch", {"standoff_mm": True}, "standoff_mm must be a number, not True", "standoff_mm"),
    ("patch", {"standoff_mm": None}, "standoff_mm may not be null", "standoff_mm"),
    ("patch", {"sets": 2.5}, "Sets: must be a whole number, not 2.5.", "sets"),
    ("patch", {"stand_off": 200}, "unknown target 'stand_off'", "stand_off"),
    ("patch", {"target_trunk_angle_deg": 95}, "Target trunk lean: must be from 10 to 90", "target_trunk_angle_deg"),
    ("patch", [1, 2], "send a JSON object of targets", None),
])
def test_bad_targets_are_refused_and_change_nothing(logged_in, sample, store, method, body, message, field):
    before = store.get_targets(sample["patient"])
    response = getattr(logged_in, method)(f"/api/patients/{sample['patient']}/targets", json=body)
    assert response.status_code == 400
    answer = response.get_json()
    assert message in answer["error"] and answer.get("field") == field
    assert store.get_targets(sample["patient"]) == before


def test_targets_must_be_json(logged_in, sample, store):
    before = store.get_targets(sample["patient"])
    response = logged_in.put(f"/api/patients/{sample['patient']}/targets", data="standoff_mm=200")
    assert response.status_code == 400 and "JSON object" in response.get_json()["error"]
    broken = logged_in.put(f"/api/patients/{sample['patient']}/targets", data="{not json",
                           content_type="application/json")
    assert broken.status_code == 400 and "error" in broken.get_json()
    assert store.get_targets(sample["patient"]) == before


def test_targets_of_a_missing_patient_are_404(logged_in, sample):
    assert logged_in.get("/api/patients/999/targets").status_code == 404
    assert logged_in.patch("/api/patients/999/targets", json={"sets": 2}).status_code == 404


def test_a_session_with_sets_and_overview(logged_in, sample):
    body = logged_in.get(f"/api/sessions/{sample['session']}").get_json()
    assert body["session"]["patient_code"] == "WH-0042"
    assert [s["good_reps"] for s in body["sets"]] == [3, 3]
    assert body["overview"]["reps"] == 10 and body["overview"]["fault_counts"]["squat"] == 2
    assert body["overview"]["lost_points"][0] == {"fault": "squat", "reps": 2, "points": 50}
    assert logged_in.get("/api/sessions/999").status_code == 404


def test_a_sessions_reps_with_and_without_series(logged_in, sample):
    plain = logged_in.get(f"/api/sessions/{sample['session']}/reps").get_json()
    assert len(plain["reps"]) == 10 and "series" not in plain["reps"][0]
    fourth = plain["reps"][3]
    assert fourth["faults"] == ["squat"] and fourth["score"] == 75
    assert fourth["lost_points"] == [{"fault": "squat", "points": 25, "why": "knees bent to 48 degrees (limit 40)"}]
    assert fourth["back_checked"] is True and fourth["limits"]["max_knee_flexion_deg"] == 40
    full = logged_in.get(f"/api/sessions/{sample['session']}/reps?series=1").get_json()
    series = full["reps"][1]["series"]
    assert set(series) == {"t_s", "wall_gap_mm", "trunk_angle_deg", "knee_flexion_deg"}
    assert len(series["t_s"]) == len(series["wall_gap_mm"]) > 50
    assert series["wall_gap_mm"][3] is None  # NaN in the store is null in JSON
    assert all(value is None or math.isfinite(value) for value in series["wall_gap_mm"])
    guest = logged_in.get(f"/api/sessions/{sample['guest']}/reps?series=true").get_json()
    assert guest["reps"][0]["series"] is None
    assert logged_in.get(f"/api/sessions/{sample['session']}/reps?series=2").status_code == 400
    assert logged_in.get("/api/sessions/999/reps").status_code == 404


def test_calibration_and_live_state(logged_in, sample, app):
    body = logged_in.get("/api/calibration").get_json()
    assert body["latest"]["wall_rms_mm"] == 1.9 and "document" not in body["latest"] and len(body["history"]) == 2
    app.extensions["wallhinge_live"].publish({"type": "session", "state": "running", "session_id": 7})
    state = logged_in.get("/api/live").get_json()
    assert state["session"]["state"] == "running" and state["seq"] == 1


def test_wrong_methods_are_refused_as_json(logged_in, sample):
    response = logged_in.delete(f"/api/patients/{sample['patient']}/targets")
    assert response.status_code == 405 and "error" in response.get_json()


def test_a_rep_whose_back_was_not_measured_says_so(logged_in, store):
    from support import make_rep
    session = store.start_session(source="camera 1")
    rep, _ = make_rep(1, 5.0, (50, 4, 12, None, 1.5, 1))
    store.add_rep(store.start_set(session), rep)
    [only] = logged_in.get(f"/api/sessions/{session}/reps").get_json()["reps"]
    assert only["back_checked"] is False and only["peak_spine_flexion_deg"] is None and only["faults"] == []
