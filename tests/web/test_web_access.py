"""Every route refuses a request without a logged-in clinician, except log-in, setup and static files."""

import re
import sqlite3

import pytest

from support import log_in

OPEN_ENDPOINTS = {"auth.login", "auth.setup", "static"}
# The kiosk's own routes have their own, limited access (a kiosk pass or the station's own screen):
# tests/web/test_kiosk_access.py checks them, and that a pass reaches nothing here.
KIOSK_ENDPOINTS = {"kiosk.page", "kiosk.ping", "kiosk.roster", "kiosk.up", "kiosk.events"}
JSON_ENDPOINTS_OUTSIDE_API = {"live.events", "live.command"}


def _routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in OPEN_ENDPOINTS or rule.endpoint in KIOSK_ENDPOINTS:
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", "1", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, path


def test_every_route_is_known(app):
    """A new route must be added to these tests' thinking: list them all."""
    endpoints = {endpoint for endpoint, _, _ in _routes(app)}
    assert endpoints == {
        "auth.logout", "auth.clinicians", "auth.password",
        "dashboard.patients", "dashboard.add_patient", "dashboard.patient", "dashboard.edit_patient",
        "dashboard.set_targets", "dashboard.session", "dashboard.assign_patient", "dashboard.rep",
        "dashboard.reps_csv", "dashboard.report", "dashboard.fhir", "dashboard.calibration",
        "api.me", "api.patients", "api.due", "api.patient", "api.patient_sessions", "api.targets",
        "api.session", "api.session_reps", "api.session_fhir", "api.stations", "api.calibration", "api.live",
        "live.page", "live.events", "live.command",
        "kiosk.setup", "kiosk.save_roster", "kiosk.speech", "kiosk.enable", "kiosk.revoke",
    }


def test_pages_redirect_to_log_in_and_scripts_get_401(app, client, account, sample, store):
    before = store.get_targets(sample["patient"])
    for endpoint, method, path in _routes(app):
        response = client.open(path, method=method, data={"code": "X", "display_name": "Y", "command": "end"})
        where = f"{method} {path} ({endpoint})"
        if endpoint == "auth.logout":
            assert response.status_code == 302, where  # logging out needs no log-in
            continue
        if endpoint.startswith("api.") or endpoint in JSON_ENDPOINTS_OUTSIDE_API:
            assert response.status_code == 401, where
            assert "log in" in response.get_json()["error"], where
        else:
            assert response.status_code == 302, where
            assert response.headers["Location"].startswith("/auth/login?next="), where
    # Nothing was changed by any of them.
    assert store.get_targets(sample["patient"]) == before
    assert [p["code"] for p in store.list_patients()] == ["WH-0042", "WH-0007"]
    assert store.list_clinicians()[0]["username"] == "anna" and len(store.list_clinicians()) == 1
    assert app.extensions["wallhinge_live"].commands() == []


def test_the_same_routes_answer_once_logged_in(app, client, account, sample):
    log_in(client)
    paths = ["/", f"/patients/{sample['patient']}", f"/sessions/{sample['session']}",
             f"/sessions/{sample['session']}/reps/{sample['rep']}", f"/sessions/{sample['session']}/reps.csv",
             f"/sessions/{sample['session']}/report", f"/sessions/{sample['session']}/fhir.json", "/calibration", "/live/", "/auth/clinicians", "/auth/password",
             "/api/me", "/api/patients", "/api/patients/due", f"/api/patients/{sample['patient']}",
             f"/api/patients/{sample['patient']}/sessions", f"/api/patients/{sample['patient']}/targets",
             f"/api/sessions/{sample['session']}", f"/api/sessions/{sample['session']}/reps",
             f"/api/sessions/{sample['session']}/fhir", "/api/stations", "/api/calibration", "/api/live"]
    for path in paths:
        assert client.get(path).status_code == 200, path


@pytest.mark.parametrize("path", ["/auth/login", "/static/style.css"])
def test_log_in_and_static_files_need_no_log_in(client, account, path):
    with client.get(path) as response:
        assert response.status_code == 200


def test_an_unknown_address_is_404_for_pages_and_json_for_the_api(client, account):
    log_in(client)
    page = client.get("/nowhere")
    assert page.status_code == 404 and b"nothing at this address" in page.data
    api = client.get("/api/nowhere")
    assert api.status_code == 404 and "error" in api.get_json()


def test_a_stale_cookie_after_the_account_vanished_logs_out(app, client, account, store):
    log_in(client)
    with sqlite3.connect(store.path) as db:
        db.execute("DELETE FROM clinicians")  # the account is gone (e.g. a restored backup without it)
    store.add_clinician("someone", password_hash="$argon2id$x")
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login")
