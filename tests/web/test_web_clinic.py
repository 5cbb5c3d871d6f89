"""The dashboard in a clinic: on the clinic's PostgreSQL with every station's sessions, the FHIR export, a station behind."""

import json
import socket
from pathlib import Path

import pytest
from fhir.resources.R4B.bundle import Bundle

from station.faults import BOTTOM_NOT_SEEN_WHY, NOT_SCORED, NOT_SCORED_WHY
from station.store import open_store
from station.store.outbox import Deliverer
from support import PASSWORD, USERNAME, Serving, fill_sample, log_in, make_app, needs_chromium
from web.auth import create_account


def closed_port_url() -> str:
    """A PostgreSQL URL on loopback where nothing listens: the network cut."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"postgresql+psycopg://wallhinge@127.0.0.1:{port}/wallhinge"


@pytest.fixture
def clinic(tmp_path, clinic_url):
    """Two stations' sample sessions delivered to a clinic database; the dashboard's app on it, with two accounts."""
    for name in ("wall-1", "wall-2"):
        outbox = tmp_path / f"{name}.db"
        with open_store(outbox) as store:
            fill_sample(store)
        assert Deliverer(outbox, clinic_url, name).deliver_once().ok
    app = make_app(tmp_path, DATABASE=clinic_url)
    with open_store(clinic_url) as store:
        create_account(store, "admin", "an admin password", app=app, role="admin")
        create_account(store, USERNAME, PASSWORD, app=app)
        patient = store.get_patient_by_code("WH-0042")
        sessions = [item["session_id"] for item in store.session_summaries(patient["id"])]
    return app, patient, sessions


def test_the_dashboard_runs_on_the_clinic_database_with_the_same_accounts_and_rules(clinic):
    app, patient, sessions = clinic
    client = app.test_client()
    assert client.get("/").status_code == 302 and client.get("/api/patients").status_code == 401
    assert log_in(client).status_code == 302
    home = client.get("/").get_data(as_text=True)
    assert "wall-1" in home and "wall-2" in home and home.count("nothing was waiting at its last delivery") == 2
    page = client.get(f"/patients/{patient['id']}").get_data(as_text=True)
    assert "<th scope=\"col\">Station</th>" in page and page.count("<td>wall-1</td>") == 3
    assert page.count("<td>wall-2</td>") == 3 and len(sessions) == 6
    session = client.get(f"/sessions/{sessions[-1]}").get_data(as_text=True)
    assert "station <strong>wall-2</strong>" in session and "FHIR export" in session
    assert client.get("/auth/clinicians").status_code == 403  # a clinician manages no accounts, here as on a station
    api = client.get(f"/api/sessions/{sessions[0]}").get_json()
    assert api["session"]["station"] == "wall-1" and api["session"]["station_session_id"] == 1
    stations = client.get("/api/stations").get_json()["stations"]
    assert [(s["name"], s["behind"]) for s in stations] == [("wall-1", False), ("wall-2", False)]


def test_the_fhir_export_of_a_session_validates_and_names_the_patient_by_code_only(logged_in, store, sample):
    response = logged_in.get(f"/sessions/{sample['session']}/fhir.json")
    assert response.status_code == 200 and response.mimetype == "application/fhir+json"
    assert "attachment" in response.headers["Content-Disposition"]
    bundle = Bundle.model_validate_json(response.get_data())  # the FHIR library's own validation
    resources = [entry.resource for entry in bundle.entry]
    [patient] = [item for item in resources if item.get_resource_type() == "Patient"]
    assert patient.identifier[0].value == "WH-0042"
    assert "Margaret" not in response.get_data(as_text=True)  # the code, never the name
    observations = [item for item in resources if item.get_resource_type() == "Observation"]
    reps = [item for item in observations if item.code.coding[0].code == "rep"]
    sets = [item for item in observations if item.code.coding[0].code == "set"]
    stored = store.session_reps(sample["session"])
    assert (len(reps), len(sets)) == (len(stored), 2) == (10, 2)
    assert all(item.subject.reference == f"urn:uuid:{patient.id}" for item in observations)
    assert sum(len(item.hasMember) for item in sets) == 10
    gap = [component for component in reps[0].component if component.code.coding[0].code == "min_wall_gap_mm"][0]
    assert gap.valueQuantity.unit == "mm" and gap.valueQuantity.system == "http://unitsofmeasure.org"
    api = logged_in.get(f"/api/sessions/{sample['session']}/fhir")
    assert api.status_code == 200 and api.get_json() == json.loads(response.get_data())


def test_a_measure_not_measured_is_absent_from_the_export_not_a_number(logged_in, store):
    session = store.start_session(source="camera 1")  # a guest: no Patient, no subject
    set_id = store.start_set(session)
    store.add_rep(set_id, {"index": 1, "start_s": 1.0, "bottom_s": 2.0, "end_s": 3.0, "min_wall_gap_mm": None,
                           "touched": False, "peak_trunk_angle_deg": None, "peak_knee_flexion_deg": None,
                           "descent_s": 1.0, "hold_s": 0.0, "ascent_s": 1.0, "faults": ["no_touch"], "score": 70})
    bundle = logged_in.get(f"/api/sessions/{session}/fhir").get_json()
    Bundle.model_validate(bundle)
    assert [entry["resource"]["resourceType"] for entry in bundle["entry"]] == ["Observation", "Observation"]
    rep = bundle["entry"][0]["resource"]
    assert "subject" not in rep
    by_code = {component["code"]["coding"][0]["code"]: component for component in rep["component"]}
    assert by_code["min_wall_gap_mm"]["dataAbsentReason"]["coding"][0]["code"] == "not-performed"
    assert "valueQuantity" not in by_code["peak_knee_flexion_deg"]
    # The rep's bottom was not seen (someone in front of the patient): no peak trunk, and the reason why.
    trunk = by_code["peak_trunk_angle_deg"]
    assert "valueQuantity" not in trunk and trunk["dataAbsentReason"]["coding"][0]["code"] == "not-performed"
    assert trunk["dataAbsentReason"]["text"] == BOTTOM_NOT_SEEN_WHY
    assert by_code["peak_knee_flexion_deg"]["dataAbsentReason"]["text"] == BOTTOM_NOT_SEEN_WHY  # so its knees too
    assert by_code["fault"]["valueCodeableConcept"]["coding"][0]["code"] == "no_touch"


def test_a_rep_whose_bottom_was_not_seen_is_exported_not_scored_never_100(logged_in, store):
    session = store.start_session(source="camera 1")
    set_id = store.start_set(session)
    store.add_rep(set_id, {"index": 1, "start_s": 1.0, "bottom_s": 2.0, "end_s": 3.0, "min_wall_gap_mm": None,
                           "touched": False, "peak_trunk_angle_deg": None, "peak_knee_flexion_deg": None,
                           "descent_s": 1.0, "hold_s": 0.0, "ascent_s": 1.0, "faults": [], "score": None,
                           "good": False})
    bundle = logged_in.get(f"/api/sessions/{session}/fhir").get_json()
    Bundle.model_validate(bundle)
    rep = bundle["entry"][0]["resource"]
    by_code = {component["code"]["coding"][0]["code"]: component for component in rep["component"]}
    score = by_code["score"]
    assert "valueQuantity" not in score and score["dataAbsentReason"]["coding"][0]["code"] == "not-performed"
    assert score["dataAbsentReason"]["text"] == f"{NOT_SCORED}: {NOT_SCORED_WHY}"


def test_the_export_needs_a_log_in_and_a_session(client, logged_in, sample):
    assert logged_in.get("/sessions/999/fhir.json").status_code == 404
    assert logged_in.get("/api/sessions/999/fhir").status_code == 404
    logged_in.get("/auth/logout")
    fresh = logged_in.application.test_client()
    assert fresh.get(f"/sessions/{sample['session']}/fhir.json").status_code == 302
    assert fresh.get(f"/api/sessions/{sample['session']}/fhir").status_code == 401


def test_a_station_that_cannot_reach_the_clinic_shows_it_is_behind(app, logged_in, sample):
    single = logged_in.get("/").get_data(as_text=True)
    assert "Stations" not in single  # a station on its own has no delivery to speak of
    failed = Deliverer(app.config["DATABASE"], closed_port_url(), "wall-1").deliver_once()
    assert not failed.ok and failed.waiting == 21
    home = logged_in.get("/").get_data(as_text=True)
    assert "Behind: 21 reps not delivered" in home and "last reached the clinic database never" in home


@needs_chromium
def test_the_clinic_session_page_in_chromium(browser, clinic, shots):
    app, patient, sessions = clinic
    with Serving(app) as served:
        context = browser.new_context(viewport={"width": 1024, "height": 768}, timezone_id="Europe/London",
                                      locale="en-GB")
        page = context.new_page()
        page.goto(served.url + "/auth/login")
        page.fill("#username", USERNAME)
        page.fill("#password", PASSWORD)
        page.click("button:has-text('Log in')")
        page.wait_for_url(served.url + "/")
        page.goto(f"{served.url}/sessions/{sessions[-1]}")
        assert page.locator("text=station wall-2").count() == 1
        with page.expect_download() as download:
            page.click("text=FHIR export")
        Bundle.model_validate_json(Path(download.value.path()).read_bytes())
        page.screenshot(path=shots / "clinic-session-landscape.png")
        page.goto(f"{served.url}/patients/{patient['id']}")
        page.screenshot(path=shots / "clinic-patient-landscape.png", full_page=True)
        context.close()
