"""The clinician's pages through Flask's test client: content, forms, exports, refusals."""

import csv
import datetime as dt
import io
import json
import re
import sqlite3

import pytest
from markupsafe import escape

from station.faults import (BOTTOM_NOT_SEEN, BOTTOM_NOT_SEEN_BADGE, BOTTOM_NOT_SEEN_WHY, KNEE_NOT_CHECKED_WHY,
                            NO_FAULT_SEEN, NOT_SCORED, NOT_SCORED_WHY, TOUCH_NOT_CHECKED_WHY)
from station.hidden_spans import PATIENT_HIDDEN_BADGE
from station.measure import HEAD_ABOVE_PICTURE, PATIENT_HIDDEN
from station.setup import BACK_HIDDEN_BY_SETUP
from support import add_rep_with_bottom_not_seen, add_set_of_reps, make_rep


# Six good reps of ten, its spaces narrow and unbreakable (web.filters.out_of): written out, so that a
# template showing the figure some other way fails here.
SIX_OF_TEN = "6\u202f/\u202f10"

def text(response):
    return response.get_data(as_text=True)


# -- patients ---------------------------------------------------------------------------

def test_patients_page_lists_searches_and_shows_recent_sessions(logged_in, sample):
    page = text(logged_in.get("/"))
    assert "Margaret B." in page and "WH-0042" in page
    assert "Tom &lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
    assert "Recent sessions" in page and "Guest" in page
    found = text(logged_in.get("/?q=0042"))
    assert "Margaret B." in found and "WH-0007" not in found
    nothing = text(logged_in.get("/?q=zzz"))
    assert "No patient matches" in nothing


def test_archived_patients_are_hidden_unless_asked_for(logged_in, sample, store):
    store.update_patient(sample["other"], archived=True)
    assert "WH-0007" not in text(logged_in.get("/"))
    assert "WH-0007" in text(logged_in.get("/?archived=1"))


def test_who_is_due_to_progress(logged_in, store):
    patient = store.add_patient(code="WH-0100", display_name="Dora K.")
    store.set_targets(patient, reps_per_set=2, sets=2)
    page = text(logged_in.get("/"))
    assert "Dora K." not in page.split("Due to progress")[1].split("Recent sessions")[0]
    started = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=1)
    session = store.start_session(source="camera 1", patient_id=patient, started=started)
    for _ in range(2):
        set_id = store.start_set(session, started=started)
        for index in (1, 2):
            rep, series = make_rep(index, 5.0 * index, (50, 5, 10, 3, 1.5, 2))
            store.add_rep(set_id, rep, series=series)
    due = text(logged_in.get("/")).split("Due to progress")[1].split("Recent sessions")[0]
    assert "Dora K." in due and "2 sets of 2" in due
    patient_page = text(logged_in.get(f"/patients/{patient}"))
    assert "Due to progress." in patient_page
    assert logged_in.get("/api/patients/due").get_json()["patients"][0]["code"] == "WH-0100"
    # Progressing them (new targets) takes them off the list.
    store.set_targets(patient, standoff_mm=200)
    with sqlite3.connect(store.path) as db:
        db.execute("UPDATE targets SET updated = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+1 hour')")
    assert "Dora K." not in text(logged_in.get("/")).split("Due to progress")[1].split("Recent sessions")[0]


def test_adding_a_patient(logged_in, store):
    response = logged_in.post("/patients", data={"code": " WH-0200 ", "display_name": "Eve R."})
    assert response.status_code == 302
    patient = store.get_patient_by_code("WH-0200")
    assert patient["display_name"] == "Eve R." and response.headers["Location"] == f"/patients/{patient['id']}"


@pytest.mark.parametrize("form, message", [
    ({"code": "", "display_name": "Eve R."}, "Code: enter 1 to 32 characters."),
    ({"code": "WH-0042", "display_name": "Eve R."}, "Code: WH-0042 is another patient&#39;s code."),
    ({"code": "wh-0042", "display_name": "Eve R."}, "is another patient"),
    ({"code": "X" * 33, "display_name": "Eve R."}, "Code: at most 32 characters"),
    ({"code": "WH-0300", "display_name": "  "}, "Display name: enter 1 to 80 characters."),
    ({"code": "WH-0300"}, "Display name: missing."),
    ({"code": "WH\x01", "display_name": "Eve"}, "no control characters"),
])
def test_a_bad_new_patient_is_refused_with_a_message(logged_in, sample, store, form, message):
    response = logged_in.post("/patients", data=form)
    assert response.status_code == 400 and message in text(response)
    assert len(store.list_patients(include_archived=True)) == 2


# -- a patient --------------------------------------------------------------------------

def test_patient_page_has_the_progress_charts_and_sessions(logged_in, sample):
    page = text(logged_in.get(f"/patients/{sample['patient']}"))
    for heading in ("Good reps", "Wall touched", "Peak trunk lean", "Knee bend", "Score", "Faults by kind"):
        assert f"<h3>{heading}</h3>" in page
    assert page.count('<svg class="chart"') == 6
    assert "squat limit 40°" in page  # the knee chart's reference line
    # A good rep is "no fault seen", never "no fault": the back was not looked at by one camera.
    assert "Share of reps with no fault seen at a bottom that was seen" in page
    assert "where the back was not checked, a rounded back was not looked for" in page
    assert page.count('href="/sessions/') == 3
    assert "Targets" in page and 'name="standoff_mm"' in page and 'value="100"' in page


def test_patient_page_periods(logged_in, sample):
    recent = text(logged_in.get(f"/patients/{sample['patient']}?range=90"))
    assert "No sessions in this period yet" in recent or "(0 in this period)" in recent or "in this period" in recent
    everything = text(logged_in.get(f"/patients/{sample['patient']}?range=nonsense"))
    assert everything.count('href="/sessions/') == 3


def test_a_missing_patient_is_404(logged_in, sample):
    response = logged_in.get("/patients/999")
    assert response.status_code == 404 and "no patient 999" in text(response)


def test_targets_are_saved_from_the_form(logged_in, sample, store):
    form = {"standoff_mm": "200", "target_trunk_angle_deg": "45", "reps_per_set": "10", "sets": "3",
            "touch_tolerance_mm": "25", "max_knee_flexion_deg": "", "max_spine_flexion_deg": "20",
            "min_descent_s": "1,2", "upright_angle_deg": ""}
    response = logged_in.post(f"/patients/{sample['patient']}/targets", data=form)
    assert response.status_code == 302
    targets = store.get_targets(sample["patient"])
    assert (targets["standoff_mm"], targets["target_trunk_angle_deg"], targets["reps_per_set"], targets["sets"],
            targets["touch_tolerance_mm"], targets["max_knee_flexion_deg"], targets["min_descent_s"]) == \
        (200, 45, 10, 3, 25, None, 1.2)
    page = text(logged_in.get(f"/patients/{sample['patient']}"))
    assert "target 45°" in page  # the trunk chart's reference line


@pytest.mark.parametrize("field, value, message", [
    ("standoff_mm", "", "Heels to wall: enter a number from 1 to 600 mm."),
    ("standoff_mm", "700", "Heels to wall: must be from 1 to 600 mm, not 700."),
    ("standoff_mm", "ten", "Heels to wall: &#39;ten&#39; is not a number."),
    ("standoff_mm", "nan", "Heels to wall: must be from 1 to 600 mm, not nan."),
    ("target_trunk_angle_deg", "5", "Target trunk lean: must be from 10 to 90 °, not 5."),
    ("reps_per_set", "12.5", "Good reps per set: must be a whole number, not 12.5."),
    ("sets", "0", "Sets: must be from 1 to 50 sets, not 0."),
    ("touch_tolerance_mm", "-3", "Touch within: must be from 1 to 200 mm, not -3."),
    ("max_spine_flexion_deg", "150", "Back rounding limit: must be from 1 to 90 °, not 150."),
    ("min_descent_s", "inf", "Shortest allowed descent: must be from 0.1 to 10 s, not inf."),
])
def test_a_bad_target_is_refused_with_a_message_and_nothing_changes(logged_in, sample, store, field, value, message):
    before = store.get_targets(sample["patient"])
    form = {"standoff_mm": "250", "target_trunk_angle_deg": "40", "reps_per_set": "10", "sets": "2",
            "touch_tolerance_mm": "", "max_knee_flexion_deg": "", "max_spine_flexion_deg": "",
            "min_descent_s": "", "upright_angle_deg": "", field: value}
    response = logged_in.post(f"/patients/{sample['patient']}/targets", data=form)
    page = text(response)
    assert response.status_code == 400 and message in page
    assert f'id="t-{field}" name="{field}"' in page and 'aria-invalid="true"' in page
    assert f'value="{value}"' in page  # what was typed is kept for correcting
    assert store.get_targets(sample["patient"]) == before


def test_a_missing_required_target_is_refused(logged_in, sample, store):
    before = store.get_targets(sample["patient"])
    response = logged_in.post(f"/patients/{sample['patient']}/targets", data={"standoff_mm": "200"})
    assert response.status_code == 400 and "Good reps per set: missing." in text(response)
    assert store.get_targets(sample["patient"]) == before


def test_editing_a_patient(logged_in, sample, store):
    response = logged_in.post(f"/patients/{sample['patient']}",
                              data={"code": "WH-0043", "display_name": "Margaret B.", "archived": "1"})
    assert response.status_code == 302
    assert store.get_patient(sample["patient"])["code"] == "WH-0043"
    assert store.get_patient(sample["patient"])["archived"] is True
    logged_in.post(f"/patients/{sample['patient']}", data={"code": "WH-0043", "display_name": "Margaret B."})
    assert store.get_patient(sample["patient"])["archived"] is False  # an unticked box un-archives


@pytest.mark.parametrize("form, message", [
    ({"code": "WH-0007", "display_name": "Margaret B."}, "is another patient"),
    ({"code": "", "display_name": "Margaret B."}, "Code: enter 1 to 32 characters."),
    ({"code": "WH-0042", "display_name": "Margaret B.", "archived": "maybe"}, "archived must be true or false"),
])
def test_a_bad_patient_edit_is_refused(logged_in, sample, store, form, message):
    before = store.get_patient(sample["patient"])
    response = logged_in.post(f"/patients/{sample['patient']}", data=form)
    assert response.status_code == 400 and message in text(response)
    assert store.get_patient(sample["patient"]) == before


def test_forms_for_a_missing_patient_are_404(logged_in, sample):
    assert logged_in.post("/patients/999/targets", data={"standoff_mm": "200"}).status_code == 404
    assert logged_in.post("/patients/999", data={"code": "A", "display_name": "B"}).status_code == 404


# -- a session --------------------------------------------------------------------------

def test_session_page_shows_sets_reps_badges_scores_and_why(logged_in, sample):
    page = text(logged_in.get(f"/sessions/{sample['session']}"))
    assert "Set 1" in page and "Set 2" in page
    assert SIX_OF_TEN in page  # good reps of all reps
    # Fault badges carry words, not only colour.
    for words in ("No fault", "No touch", "Squat", "Too fast", "Rounded back", "Incomplete return"):
        assert f">{words}</span>" in page
    assert "−25 squat: knees bent to 48 degrees (limit 40)" in page
    assert "−20 no touch: closest to the wall 35 mm (touch within 20 mm)" in page
    assert page.count('<svg class="spark"') == 20  # gap and trunk curves for each of the 10 reps
    assert page.count(f'href="/sessions/{sample["session"]}/reps/') == 10
    assert "Why reps lost points" in page and "Squat</span> in 2 reps, −50 points" in page


def test_a_guest_session_without_series(logged_in, sample):
    page = text(logged_in.get(f"/sessions/{sample['guest']}"))
    assert "Guest" in page and "no frames" in page and "In progress" in page
    rep = text(logged_in.get(f"/sessions/{sample['guest']}/reps/{sample['guest_rep']}"))
    assert "nothing to replay" in rep and "No per-frame curves" in rep


def test_assigning_a_session_to_a_patient(logged_in, sample, store):
    response = logged_in.post(f"/sessions/{sample['guest']}/patient", data={"code": "wh-0007"})
    assert response.status_code == 302 and store.get_session(sample["guest"])["patient_id"] == sample["other"]
    logged_in.post(f"/sessions/{sample['guest']}/patient", data={"code": ""})
    assert store.get_session(sample["guest"])["patient_id"] is None


def test_assigning_to_an_unknown_code_is_refused(logged_in, sample, store):
    response = logged_in.post(f"/sessions/{sample['guest']}/patient", data={"code": "WH-9999"})
    assert response.status_code == 400 and "No patient has the code WH-9999." in text(response)
    assert store.get_session(sample["guest"])["patient_id"] is None


def test_a_missing_session_or_rep_is_404(logged_in, sample):
    for path in ("/sessions/999", "/sessions/999/reps.csv", "/sessions/999/report", "/sessions/999/reps/1",
                 f"/sessions/{sample['session']}/reps/999",
                 f"/sessions/{sample['guest']}/reps/{sample['rep']}"):  # a rep of another session
        assert logged_in.get(path).status_code == 404, path
    assert logged_in.post("/sessions/999/patient", data={"code": ""}).status_code == 404


# -- a rep ------------------------------------------------------------------------------

def test_rep_page_has_figures_curves_and_a_replay_drawn_from_the_series(logged_in, sample, store):
    page = text(logged_in.get(f"/sessions/{sample['session']}/reps/{sample['rep']}"))
    assert "Set 1, rep 4" in page and ">Squat</span>" in page and "−25 points: knees bent to 48 degrees" in page
    assert page.count('<svg class="chart"') == 3  # wall gap, trunk angle and knee flexion over the rep
    assert "touch within 20 mm" in page and "squat limit 40°" in page
    data_block = re.search(r'<script type="application/json" id="replay-data">(.*?)</script>', page, re.S)
    data = json.loads(data_block.group(1))
    series = store.rep_series(sample["rep"])
    assert len(data["frames"]) == len(series["t_s"])
    assert data["frames"][0]["t"] == 0.0 and data["standoff_mm"] == 100
    assert [frame["trunk"] for frame in data["frames"]] == [round(float(v), 1) for v in series["trunk_angle_deg"]]
    assert '<svg id="replay"' in page and "replay.js" in page
    assert "◂ Previous rep" in page and "Next rep ▸" in page
    assert "<img" not in page  # no picture of anyone


def test_a_rep_with_missing_gaps_replays_with_them_flagged(logged_in, sample, store):
    second = store.session_reps(sample["session"])[1]  # rep 2 has two frames without a wall gap
    page = text(logged_in.get(f"/sessions/{sample['session']}/reps/{second['id']}"))
    data = json.loads(re.search(r'id="replay-data">(.*?)</script>', page, re.S).group(1))
    flags = [frame["measured"]["gap"] for frame in data["frames"]]
    assert flags[3] is False and flags[4] is False and flags.count(False) == 2
    assert data["frames"][3]["gap"] == data["frames"][2]["gap"]  # held from the last measured frame


# -- exports ----------------------------------------------------------------------------

def test_reps_csv(logged_in, sample, store):
    response = logged_in.get(f"/sessions/{sample['session']}/reps.csv")
    assert response.mimetype == "text/csv"
    assert re.match(r'attachment; filename="session-\d+-\d{4}-\d{2}-\d{2}-reps.csv"',
                    response.headers["Content-Disposition"])
    rows = list(csv.DictReader(io.StringIO(text(response))))
    assert len(rows) == 10
    first, fourth = rows[0], rows[3]
    assert first["set_number"] == "1" and first["index"] == "1" and first["faults"] == "" and first["good"] == "1"
    assert fourth["faults"] == "squat" and fourth["score"] == "75" and fourth["peak_knee_flexion_deg"] == "48"
    assert fourth["lost_points"] == "squat -25: knees bent to 48 degrees (limit 40)"
    assert rows[-3]["faults"] == "squat rounded_back incomplete_return"


def test_csv_cells_cannot_become_spreadsheet_formulas(logged_in, store):
    patient = store.add_patient(code="WH-1", display_name="X")
    session = store.start_session(source="camera 1", patient_id=patient)
    set_id = store.start_set(session)
    rep, _ = make_rep(1, 5.0, (50, 40, 10, 3, 1.5, 2))
    rep["lost_points"] = [{"fault": "=HYPERLINK(\"http://evil\")", "points": 20, "why": "x"}]
    rep["start_s"] = -1.5  # a negative number stays a number
    store.add_rep(set_id, rep)
    rows = list(csv.reader(io.StringIO(text(logged_in.get(f"/sessions/{session}/reps.csv")))))
    header, row = rows
    assert row[header.index("start_s")] == "-1.5"
    assert row[header.index("lost_points")].startswith("'=HYPERLINK")
    csv_text = text(logged_in.get(f"/sessions/{session}/reps.csv"))
    assert ",=HYPERLINK" not in csv_text and "\"=HYPERLINK" not in csv_text


def test_the_printable_report(logged_in, sample):
    response = logged_in.get(f"/sessions/{sample['session']}/report")
    page = text(response)
    assert "session report" in page and "Margaret B. (WH-0042)" in page and "report.css" in page
    assert SIX_OF_TEN in page and page.count("<tr><td>") == 10
    assert "Squat: knees bent to 48 degrees (limit 40)" in page
    assert "printed" in page and "by anna" in page
    # Which camera measured what: the sample's reps all had their back read from above.
    assert "beside the drill spot, and the back on 10 of 10 reps by a second one above it" in page


def test_the_report_words_a_rep_without_faults_as_its_badge_does_never_good_for_what_was_not_checked(logged_in, store,
                                                                                                       sample):
    # Its rows said "good" for a rep whose back (or touch) was not measured, where the session page says
    # "No fault seen" and "Back not checked": the report now words it as the badge does.
    rows = re.findall(r"<tr><td>.*?</tr>", " ".join(text(logged_in.get(f"/sessions/{sample['session']}/report")).split()))
    clean = [row for row in rows if "no fault" in row]
    # Every fault judged there (the back read from above): "no fault" (one row goes on to its view note).
    assert len(clean) == 6 and all("<td>no fault</td>" in row or "<td>no fault; at its bottom" in row for row in clean)
    assert not any("good" in row for row in rows)
    _, session, _ = add_rep_with_bottom_not_seen(store)  # the back not measured; the second rep's bottom unseen
    rows = re.findall(r"<tr><td>.*?</tr>", " ".join(text(logged_in.get(f"/sessions/{session}/report")).split()))
    assert "<td>no fault seen; back not checked</td>" in rows[0]
    assert f"<td>{BOTTOM_NOT_SEEN_BADGE.lower()}; {TOUCH_NOT_CHECKED_WHY}; back not checked; {NOT_SCORED}" in rows[1]


def test_the_report_style_sheet_prints_on_one_page(client, account):
    with client.get("/static/report.css") as response:
        css = text(response)
    assert "@media print" in css and "@page" in css and ".no-print" in css


# -- calibration ------------------------------------------------------------------------

def test_calibration_page(logged_in, sample):
    page = text(logged_in.get("/calibration"))
    assert "Latest:" in page and "1.2 mm" in page and "1.9 mm" in page and "89.6°" in page and "42%" in page
    assert "camera 123456" in page and "Earlier calibrations" in page and "made from 30 depth frames" in page


def test_calibration_page_without_a_calibration(logged_in):
    assert "No calibration yet" in text(logged_in.get("/calibration"))


# -- what every page carries -------------------------------------------------------------

def test_pages_carry_security_headers_and_no_inline_script(logged_in, sample):
    for path in ("/", f"/patients/{sample['patient']}", f"/sessions/{sample['session']}",
                 f"/sessions/{sample['session']}/reps/{sample['rep']}", "/live/", "/calibration",
                 f"/sessions/{sample['session']}/report"):
        response = logged_in.get(path)
        policy = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "no-store"
        page = text(response)
        scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
        for attributes, _ in scripts:
            assert "src=" in attributes or 'type="application/json"' in attributes, path
        assert " style=" not in page and "onclick" not in page, path


def test_the_store_is_opened_once_per_request_and_closed_on_teardown(app, sample):
    import sqlalchemy.exc

    import web.db
    with app.test_request_context("/"):
        store = web.db.get_store()
        assert web.db.get_store() is store
        assert store.list_patients()
    with pytest.raises(sqlalchemy.exc.ResourceClosedError):
        store.list_patients()


# -- what a rep was judged with, and what was not measured ------------------------------------

def test_a_rep_shows_the_limits_it_was_judged_with_and_says_its_back_was_not_checked(logged_in, store):
    patient = store.add_patient(code="WH-0300", display_name="Ida P.")
    store.set_targets(patient, max_knee_flexion_deg=30)  # changed after the session
    session = store.start_session(source="recording /srv/demo/recordings/ida.db3", patient_id=patient)
    set_id = store.start_set(session)
    judged = {"touch_tolerance_mm": 25.0, "max_knee_flexion_deg": 50.0, "max_spine_flexion_deg": 15.0,
              "min_descent_s": 0.95, "upright_angle_deg": 10.0, "target_trunk_angle_deg": None}
    clean, series = make_rep(1, 5.0, (50, 4, 35, 0, 1.5, 1))
    clean.update(faults=[], score=100, lost_points=[], peak_spine_flexion_deg=None)  # the back not measured
    store.add_rep(set_id, {**clean, "limits": judged}, series=series)
    rep_id = store.session_reps(session)[0]["id"]

    page = text(logged_in.get(f"/sessions/{session}/reps/{rep_id}"))
    assert "squat above 50°" in page and "squat above 30°" not in page
    assert "touch within 25 mm" in page
    assert "the limits shown are those this rep was judged with" in page.lower()
    assert "Back not checked" in page and ">No fault<" not in page and "No fault seen" in page
    assert "Back rounding past standing" not in page

    session_page = text(logged_in.get(f"/sessions/{session}"))
    assert "Back not checked" in session_page and ">No fault<" not in session_page
    assert "/srv/demo" not in session_page and "replayed from a recording" in session_page

    report = text(logged_in.get(f"/sessions/{session}/report"))
    assert "back rounding ≤" not in report and "Back rounding not checked" in report
    assert "knee ≤ 50°" in report and "knee ≤ 30°" not in report
    assert "back not checked" in report and "/srv/demo" not in report

    rows = list(csv.DictReader(io.StringIO(text(logged_in.get(f"/sessions/{session}/reps.csv")))))
    assert rows[0]["back"] == "not checked" and "max_knee_flexion_deg 50" in rows[0]["limits"]



def test_a_rep_whose_hips_were_hidden_says_its_touch_was_not_checked(logged_in, store):
    # Someone in front of the patient hid the buttocks at the bottom: no
    # closest gap was read, so the rep neither touched nor failed to touch.
    seen, series = make_rep(1, 5.0, (50, 4, 20, None, 1.5, 1))
    hidden, hidden_series = make_rep(2, 12.0, (50, 4, 20, None, 1.5, 1))
    hidden.update(min_wall_gap_mm=None, touched=False)
    _, session, (_, hidden_id) = add_set_of_reps(store, "WH-0301", "Olga S.", ((seen, series), (hidden, hidden_series)))

    rep_page = text(logged_in.get(f"/sessions/{session}/reps/{hidden_id}"))
    assert "touch not checked" in rep_page and "did not touch" not in rep_page
    session_page = text(logged_in.get(f"/sessions/{session}"))
    assert "100%" in session_page and "1 not checked" in session_page and "50%" not in session_page
    assert session_page.count("Touch not checked") == 1  # the hidden rep's badge, not the seen one's
    report = text(logged_in.get(f"/sessions/{session}/report"))
    assert "1 not checked" in report and "50%" not in report

def test_a_rep_whose_bottom_was_not_seen_shows_no_peak_trunk_anywhere(logged_in, store):
    patient, session, hidden_id = add_rep_with_bottom_not_seen(store)
    rep_page = " ".join(text(logged_in.get(f"/sessions/{session}/reps/{hidden_id}")).split())
    assert f"Deepest trunk lean</th><td class=\"num\">{BOTTOM_NOT_SEEN}</td>" in rep_page
    assert f"{escape(BOTTOM_NOT_SEEN_WHY)}, so the target 50° was not checked" in rep_page
    assert "Good rep" not in rep_page and "deepest point of the rep" not in rep_page
    assert "Showing the deepest lean seen in the rep" in rep_page
    assert "67°" not in rep_page and "trunk 67" not in rep_page
    # When the descent ended is not known either: no time down, hold or up, and no bottom time.
    assert f'Down · hold · up</th><td class="num">{BOTTOM_NOT_SEEN}</td>' in rep_page
    assert "bottom at" not in rep_page and "down in at least" not in rep_page
    assert ">bottom</text>" not in rep_page  # nor a marker on its charts, as the rep seen has
    seen_id = next(rep["id"] for rep in store.session_reps(session) if rep["id"] != hidden_id)
    assert ">bottom</text>" in text(logged_in.get(f"/sessions/{session}/reps/{seen_id}"))

    # Nothing of its bottom was judged: no green "No fault seen" for it, "Bottom not seen" instead.
    assert f'<span class="badge neutral bottom-unseen">{BOTTOM_NOT_SEEN_BADGE}</span>' in rep_page
    assert "No fault seen" not in rep_page and 'class="badge ok"' not in rep_page
    session_page = " ".join(text(logged_in.get(f"/sessions/{session}")).split())
    assert f'<td class="num">{BOTTOM_NOT_SEEN}</td>' in session_page
    assert session_page.count(BOTTOM_NOT_SEEN_BADGE) == 1 and session_page.count('class="badge ok"') == 1
    hidden_row = session_page[session_page.index(BOTTOM_NOT_SEEN_BADGE):]
    hidden_row = hidden_row[:hidden_row.index("</tr>")]
    assert hidden_row.count(f'<td class="num">{BOTTOM_NOT_SEEN}</td>') == 2 and " s</td>" not in hidden_row  # trunk, down
    assert f"mean peak trunk lean (of the reps seen at the bottom; 1 {BOTTOM_NOT_SEEN}" in session_page
    assert ">52°<" in session_page and ">26°<" not in session_page  # the mean of the rep seen, not 0 for the other
    report = " ".join(text(logged_in.get(f"/sessions/{session}/report")).split())
    assert f'<td class="num">{BOTTOM_NOT_SEEN}</td>' in report and f"1 {BOTTOM_NOT_SEEN}" in report
    assert report.count(f'<td class="num">{BOTTOM_NOT_SEEN}</td>') == 2  # its peak trunk and its time down
    patient_page = text(logged_in.get(f"/patients/{patient}"))
    assert '<td class="num">52°</td>' in patient_page

    rows = list(csv.DictReader(io.StringIO(text(logged_in.get(f"/sessions/{session}/reps.csv")))))
    assert [(row["peak_trunk_angle_deg"], row["bottom"]) for row in rows] == [("52", "seen"), ("", BOTTOM_NOT_SEEN)]
    reps = logged_in.get(f"/api/sessions/{session}/reps").get_json()
    reps = reps["reps"] if isinstance(reps, dict) else reps
    assert [rep["peak_trunk_angle_deg"] for rep in reps] == [52.0, None]
    overview = logged_in.get(f"/api/sessions/{session}").get_json()["overview"]
    assert (overview["mean_peak_trunk_angle_deg"], overview["trunk_not_seen"]) == (52.0, 1)


def test_a_touch_that_was_not_checked_never_reads_as_not_touched_in_the_report_csv_or_fhir(logged_in, store):
    # The buttocks hidden at the bottom: no closest gap, so the touch was not judged. The CSV's touched cell said 0,
    # the FHIR export "touched: false" and the report nothing: each read as "did not touch".
    patient, session, hidden_id = add_rep_with_bottom_not_seen(store)
    rows = list(csv.DictReader(io.StringIO(text(logged_in.get(f"/sessions/{session}/reps.csv")))))
    assert [(row["touched"], row["touch"]) for row in rows] == [("1", "checked"), ("", "not checked")]
    report = " ".join(text(logged_in.get(f"/sessions/{session}/report")).split())
    assert report.count(f"; {TOUCH_NOT_CHECKED_WHY}") == 1
    bundle = logged_in.get(f"/sessions/{session}/fhir.json").get_json()
    touched = [component for entry in bundle["entry"] if entry["resource"]["resourceType"] == "Observation"
               for component in entry["resource"].get("component", ())
               if component["code"]["coding"][0]["code"] == "touched"]
    assert touched[0]["valueBoolean"] is True and "dataAbsentReason" not in touched[0]
    assert "valueBoolean" not in touched[1] and touched[1]["dataAbsentReason"]["text"] == TOUCH_NOT_CHECKED_WHY


def test_a_rep_whose_bottom_was_read_with_the_head_above_the_picture_says_so_beside_its_trunk(logged_in, store):
    # Its peak trunk lean was read off less of the patient (station.measure.HEAD_ABOVE_PICTURE): every screen and
    # export that shows it says so; the other rep says nothing of the kind.
    plain, _ = make_rep(1, 5.0, (52, 4, 20, None, 1.5, 1))
    noted, noted_series = make_rep(2, 12.0, (61, 4, 20, None, 1.5, 1))
    noted["view_note"] = HEAD_ABOVE_PICTURE
    _, session, (_, noted_id) = add_set_of_reps(store, "WH-0505", "Alan T.", ((plain, None), (noted, noted_series)))
    note = f"at its bottom {escape(HEAD_ABOVE_PICTURE)}"
    session_page = " ".join(text(logged_in.get(f"/sessions/{session}")).split())
    assert session_page.count(f'<span class="view-note">A{note[1:]}.</span>') == 1
    rep_page = " ".join(text(logged_in.get(f"/sessions/{session}/reps/{noted_id}")).split())
    assert f'<span class="view-note" id="rep-view-note">A{note[1:]}.</span>' in rep_page
    report = " ".join(text(logged_in.get(f"/sessions/{session}/report")).split())
    assert report.count(f"; {note}</td>") == 1
    rows = list(csv.DictReader(io.StringIO(text(logged_in.get(f"/sessions/{session}/reps.csv")))))
    assert [row["view_note"] for row in rows] == ["", HEAD_ABOVE_PICTURE]
    bundle = logged_in.get(f"/sessions/{session}/fhir.json").get_json()
    notes = [entry["resource"].get("note") for entry in bundle["entry"]
             if entry["resource"]["resourceType"] == "Observation"
             and entry["resource"]["code"]["coding"][0]["code"] == "rep"]
    assert notes == [None, [{"text": f"Rep 2: at its bottom {HEAD_ABOVE_PICTURE}."}]]


def test_a_rep_whose_knees_were_never_read_is_never_called_no_fault_anywhere(logged_in, store):
    # Its bottom seen, its back and touch checked, but no knee bend read in the whole rep (the legs out of view): its
    # squat was not judged, so it is "No fault seen" with "Knees not checked", never "No fault", on every screen
    # and export; the rep whose knees were read is "No fault".
    read, _ = make_rep(1, 5.0, (52, 4, 20, 6.0, 1.5, 1))
    legs_hidden, _ = make_rep(2, 12.0, (55, 4, 20, 6.0, 1.5, 1))
    legs_hidden["peak_knee_flexion_deg"] = None
    _, session, (_, hidden_id) = add_set_of_reps(store, "WH-0508", "Vera L.", ((read, None), (legs_hidden, None)))
    session_page = " ".join(text(logged_in.get(f"/sessions/{session}")).split())
    assert session_page.count('<span class="badge neutral knee-unchecked">Knees not checked</span>') == 1
    assert session_page.count(f'<span class="badge ok">{NO_FAULT_SEEN}</span>') == 1
    assert session_page.count('<span class="badge ok">No fault</span>') == 1
    assert "mean peak knee bend (of the reps read; 1 not checked: legs hidden)" in session_page
    rep_page = " ".join(text(logged_in.get(f"/sessions/{session}/reps/{hidden_id}")).split())
    assert f'<span id="rep-knee-note">{KNEE_NOT_CHECKED_WHY}</span>' in rep_page
    assert "Knees not checked" in rep_page and '<span class="badge ok">No fault</span>' not in rep_page
    report = " ".join(text(logged_in.get(f"/sessions/{session}/report")).split())
    assert report.count(f"no fault seen; {KNEE_NOT_CHECKED_WHY}") == 1
    rows = list(csv.DictReader(io.StringIO(text(logged_in.get(f"/sessions/{session}/reps.csv")))))
    assert [(row["knee"], row["peak_knee_flexion_deg"]) for row in rows] == [("checked", "20"), ("not checked", "")]
    bundle = logged_in.get(f"/sessions/{session}/fhir.json").get_json()
    knees = [component for entry in bundle["entry"] if entry["resource"]["resourceType"] == "Observation"
             for component in entry["resource"].get("component", ())
             if component["code"]["coding"][0]["code"] == "peak_knee_flexion_deg"]
    assert [component.get("dataAbsentReason", {}).get("text") for component in knees] == [None, KNEE_NOT_CHECKED_WHY]


def test_every_screen_and_export_says_why_a_reps_back_was_not_checked(logged_in, store):
    # A rep keeps why its back was not checked (Rep.back_note): the session page and the report say each reason
    # once, with the reps it covers; the rep page, the CSV and the FHIR bundle say it per rep. A rep whose back
    # was read says nothing of the kind.
    hidden = "back hidden (arms, a stick or the view)"
    by_setup, _ = make_rep(1, 5.0, (52, 4, 20, None, 1.5, 1))
    by_setup["back_note"] = BACK_HIDDEN_BY_SETUP
    at_bottom, _ = make_rep(2, 12.0, (55, 4, 20, None, 1.5, 1))
    at_bottom["back_note"] = hidden
    read, _ = make_rep(3, 19.0, (50, 4, 20, 6.0, 1.5, 1))
    _, session, (setup_id, _, read_id) = add_set_of_reps(store, "WH-0507", "Iris P.",
                                                         ((by_setup, None), (at_bottom, None), (read, None)))
    notes = [f"Back not checked on 1 of 3 reps: {escape(BACK_HIDDEN_BY_SETUP)}.",
             f"Back not checked on 1 of 3 reps: {escape(hidden)}."]
    session_page = " ".join(text(logged_in.get(f"/sessions/{session}")).split())
    assert [session_page.count(f'<p class="back-note" role="note">{note}</p>') for note in notes] == [1, 1]
    report = " ".join(text(logged_in.get(f"/sessions/{session}/report")).split())
    assert [report.count(f'<p class="back-note">{note}</p>') for note in notes] == [1, 1]
    rep_page = " ".join(text(logged_in.get(f"/sessions/{session}/reps/{setup_id}")).split())
    assert (f'<td id="rep-back-note">{escape(BACK_HIDDEN_BY_SETUP)}, so rounding could not be judged</td>'
            in rep_page)
    assert "rep-back-note" not in text(logged_in.get(f"/sessions/{session}/reps/{read_id}"))
    rows = list(csv.DictReader(io.StringIO(text(logged_in.get(f"/sessions/{session}/reps.csv")))))
    assert [row["back_note"] for row in rows] == [BACK_HIDDEN_BY_SETUP, hidden, ""]
    bundle = logged_in.get(f"/sessions/{session}/fhir.json").get_json()
    spine = [component for entry in bundle["entry"] if entry["resource"]["resourceType"] == "Observation"
             for component in entry["resource"].get("component", ())
             if component["code"]["coding"][0]["code"] == "peak_spine_flexion_deg"]
    assert [component.get("dataAbsentReason", {}).get("text") for component in spine] == [
        f"back not checked: {BACK_HIDDEN_BY_SETUP}", f"back not checked: {hidden}", None]
    assert spine[2]["valueQuantity"]["value"] == 6.0


def test_a_set_whose_patient_was_hidden_for_a_while_says_so_on_every_screen_and_export(logged_in, store):
    # Reps done while someone stood in front of the patient may not have been counted: a set's count is then not
    # the whole set, and the session page, the report, the CSV, the FHIR bundle and the API say when and why.
    patient = store.add_patient(code="WH-0506", display_name="Ruth K.")
    session = store.start_session(source="camera 1", patient_id=patient)
    hidden_set, plain_set = store.start_set(session), None
    rep, series = make_rep(1, 5.0, (52, 4, 20, None, 1.5, 1))
    store.add_rep(hidden_set, rep, series=series)
    store.add_hidden_span(hidden_set, 12.3, 19.8, PATIENT_HIDDEN)
    plain_set = store.start_set(session)
    store.add_rep(plain_set, make_rep(1, 5.0, (50, 4, 20, None, 1.5, 1))[0])
    words = f"Patient hidden for 8 s (12.3–19.8 s in the recording), {PATIENT_HIDDEN}: reps done then may not be counted"
    session_page = " ".join(text(logged_in.get(f"/sessions/{session}")).split())
    assert session_page.count(f'<p class="hidden-note" role="note">{escape(words)}.</p>') == 1
    assert session_page.index("hidden-note") < session_page.index('id="set-2"')  # under set 1, not set 2
    report = " ".join(text(logged_in.get(f"/sessions/{session}/report")).split())
    assert report.count(f'<p class="hidden-note">Set 1: {escape(words)}.</p>') == 1
    rows = list(csv.DictReader(io.StringIO(text(logged_in.get(f"/sessions/{session}/reps.csv")))))
    assert [row["set_patient_hidden"] for row in rows] == [words, ""]
    bundle = logged_in.get(f"/sessions/{session}/fhir.json").get_json()
    notes = [entry["resource"].get("note") for entry in bundle["entry"]
             if entry["resource"]["resourceType"] == "Observation"
             and entry["resource"]["code"]["coding"][0]["code"] == "set"]
    assert notes == [[{"text": f"{words}."}], None]
    sets = logged_in.get(f"/api/sessions/{session}").get_json()["sets"]
    assert [item["hidden_spans"] for item in sets] == [
        [{"start_s": 12.3, "end_s": 19.8, "reason": PATIENT_HIDDEN}], []]
    assert f">{PATIENT_HIDDEN_BADGE.lower()}</span>" in text(logged_in.get("/"))  # in the recent activity
    patient_page = text(logged_in.get(f"/patients/{patient}"))
    assert patient_page.count(f">{PATIENT_HIDDEN_BADGE}</span>") == 1  # beside the session in the list
    assert [item["patient_hidden"] for item in
            logged_in.get(f"/api/patients/{patient}/sessions").get_json()["sessions"]] == [True]


def test_a_rep_whose_bottom_was_not_seen_is_not_scored_anywhere_and_the_means_skip_it(logged_in, store):
    # Its squat, rounded back and speed were not judged: no "score 100" beside "No fault seen".
    patient, session, hidden_id = add_rep_with_bottom_not_seen(store)
    rep_page = " ".join(text(logged_in.get(f"/sessions/{session}/reps/{hidden_id}")).split())
    heading = re.search(r"<h1>.*?</h1>", rep_page).group(0)
    assert NOT_SCORED in heading and "100" not in heading and "—" not in heading
    assert escape(NOT_SCORED_WHY.capitalize()) in rep_page

    session_page = " ".join(text(logged_in.get(f"/sessions/{session}")).split())
    cells = re.findall(r'<td class="num score[^"]*"[^>]*>([^<]*)</td>', session_page)
    assert cells == ["100", NOT_SCORED]  # the rep seen scores 100; the other is not scored, never 100
    assert f"mean score (of the scored reps; 1 {NOT_SCORED}: bottom {BOTTOM_NOT_SEEN})" in session_page

    report = " ".join(text(logged_in.get(f"/sessions/{session}/report")).split())
    assert f'<td class="num">{NOT_SCORED}</td>' in report
    assert f"<strong>100</strong> mean score (of the scored reps; 1 {NOT_SCORED}" in report
    assert f"{NOT_SCORED}: {escape(NOT_SCORED_WHY)}" in report
    # The scoring rule under "Faults" says so too, not only that each rep starts at 100.
    assert f"each fault costs a fixed number of points; a rep whose bottom was not seen is {NOT_SCORED}." in report

    rows = list(csv.DictReader(io.StringIO(text(logged_in.get(f"/sessions/{session}/reps.csv")))))
    assert [(row["bottom"], row["score"]) for row in rows] == [("seen", "100"), (BOTTOM_NOT_SEEN, "")]
    reps = logged_in.get(f"/api/sessions/{session}/reps").get_json()["reps"]
    assert [rep["score"] for rep in reps] == [100, None]
    overview = logged_in.get(f"/api/sessions/{session}").get_json()["overview"]
    assert (overview["mean_score"], overview["not_scored"]) == (100.0, 1)

    # A later session whose only rep was not scored: its mean is not scored, and a gap in the progress chart.
    later = store.start_session(source="camera 1", patient_id=patient)
    hidden = dict(store.session_reps(session)[1], index=1, limits=None)
    store.add_rep(store.start_set(later), hidden)
    patient_page = " ".join(text(logged_in.get(f"/patients/{patient}")).split())
    # (A session without a fault found says "No fault seen", never "none": its backs were not all checked.)
    means = re.findall(rf'<td class="num">([^<]*)</td> <td class="faults">(?:<span class="badge|<span class="muted">{NO_FAULT_SEEN}<)',
                       patient_page)
    assert means == [NOT_SCORED, "100"]  # newest first
    chart = re.search(r"<svg[^>]*><title>Mean score per session</title>.*?</svg>", patient_page).group(0)
    assert chart.count("<circle") == 1 and "<polyline" not in chart  # one point, no line down to 0
    sessions = logged_in.get(f"/api/patients/{patient}/sessions").get_json()["sessions"]
    assert [item["mean_score"] for item in sessions] == [100.0, None]


def test_the_targets_form_describes_each_limit_truly(logged_in, sample):
    page = text(logged_in.get(f"/patients/{sample['patient']}"))
    assert "Slowest allowed descent" not in page and "quicker than this" not in page
    assert "Shortest allowed descent" in page and "Going down in less time than this is too fast" in page
    assert "Applies only to reps whose back was measured" in page
    # Two cameras with the hands on the hips do measure it: the form never says no station does.
    assert "does not measure the back" not in page and "with the hands on the hips" in page


def test_the_log_in_page_speaks_to_clinicians_not_developers(client, account):
    page = " ".join(text(client.get("/auth/login")).split())
    assert "flask" not in page and "set-password" not in page
    assert "ask whoever looks after the station" in page


READ_ONLY_CHECK = """
import sys
from web import create_app
app = create_app({"TESTING": True, "DATABASE": sys.argv[1], "SECRET_KEY": "s" * 64, "WTF_CSRF_ENABLED": False,
                  "PASSWORD_HASHER": "CHEAPEST"}, instance_path=sys.argv[1] + ".instance")
client = app.test_client()
print("login", client.post("/auth/login", data={"username": sys.argv[2], "password": sys.argv[3]}).status_code)
for path in ("/", "/api/patients"):
    response = client.get(path, follow_redirects=True)
    print(path, response.status_code, "Margaret" in response.get_data(as_text=True))
response = client.post("/patients", data={"code": "WH-0100", "display_name": "New P."},
                       headers={"Accept": "application/json"})
print("write", response.status_code, response.get_json()["error"])
"""


def test_a_read_only_store_still_shows_the_dashboard_and_refuses_changes_saying_why(tmp_path):
    """The database file and its folder read-only (as for the station's own user): pages read, changes say why."""
    import os
    import shutil
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    from station.store import open_store
    from support import PASSWORD, USERNAME, fill_sample, make_app
    from web.auth import create_account

    folder = Path(tempfile.mkdtemp(prefix="wallhinge-ro-"))  # outside pytest's private folder, for `nobody`
    try:
        folder.chmod(0o755)
        database = folder / "station.db"
        app = make_app(tmp_path, DATABASE=str(database))
        with open_store(database) as store:
            fill_sample(store)
            create_account(store, USERNAME, PASSWORD, app=app)
        database.chmod(0o444)
        folder.chmod(0o555)
        command = [sys.executable, "-c", READ_ONLY_CHECK, str(database), USERNAME, PASSWORD]
        if os.geteuid() == 0:  # root writes anything: run the dashboard as nobody
            command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *command]
        root = Path(__file__).resolve().parents[2]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=root,
                              env={**os.environ, "PYTHONPATH": str(root)})
        assert done.returncode == 0, done.stderr
        lines = done.stdout.splitlines()
        assert lines[:3] == ["login 302", "/ 200 True", "/api/patients 200 True"]
        assert lines[3].startswith("write 503") and "readonly" in lines[3] and "nothing was written" in lines[3]
        assert "another program" not in done.stdout + done.stderr
        assert done.stderr.count("showing it read-only") == 1
    finally:
        folder.chmod(0o755)
        shutil.rmtree(folder)


@pytest.mark.parametrize("path", ["/patients/{n}", "/sessions/{n}", "/sessions/1/reps/{n}", "/api/patients/{n}",
                                  "/api/sessions/{n}/reps"])
def test_record_ids_past_64_bits_are_not_found_not_a_crash(logged_in, path):
    for n in (2 ** 63 - 1, 2 ** 63, 10 ** 30):
        assert logged_in.get(path.format(n=n)).status_code == 404, (path, n)
