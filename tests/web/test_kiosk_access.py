"""The kiosk's own, limited access (web/kiosk/views.py): what a kiosk pass reaches, and everything it does not."""

import html
import http.client
import json
import re
import threading
import time

import pytest
from flask import request
from support import USERNAME, Serving, log_in, make_app

from web.kiosk import COOKIE

TABLET = {"REMOTE_ADDR": "192.0.2.10"}  # a tablet on the clinic's network
KIOSK_ROUTES = {"kiosk.page", "kiosk.ping", "kiosk.roster", "kiosk.up", "kiosk.events"}
SETUP_ROUTES = {"kiosk.setup", "kiosk.save_roster", "kiosk.speech", "kiosk.enable", "kiosk.revoke"}
OPEN = {"auth.login", "auth.setup", "static"}


def tablet(app, address=TABLET["REMOTE_ADDR"]):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def kiosk_pass(app) -> str:
    """A pass, as a clinician hands it to a tablet; returns the cookie's value."""
    client = tablet(app)
    log_in(client)
    response = client.post("/kiosk/setup/enable")
    assert response.status_code == 302 and response.headers["Location"] == "/kiosk"
    header = next(value for value in response.headers.getlist("Set-Cookie") if value.startswith(COOKIE + "="))
    return header.split(";")[0].split("=", 1)[1]


def with_pass(app, token):
    client = tablet(app)
    client.set_cookie(COOKIE, token, path="/kiosk")
    return client


def _routes(app):
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", "1", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, path


def test_the_kiosk_s_routes_are_these(app):
    kiosk = {endpoint for endpoint, _, _ in _routes(app) if endpoint.startswith("kiosk.")}
    assert kiosk == KIOSK_ROUTES | SETUP_ROUTES


def test_a_tablet_without_a_pass_gets_a_friendly_refusal(app, account):
    client = tablet(app)
    page = client.get("/kiosk")
    assert page.status_code == 403 and b"not the kiosk yet" in page.data and b"/kiosk/setup" in page.data
    for path in ("/kiosk/events", "/kiosk/roster"):
        response = client.get(path)
        assert response.status_code == 403 and "administrator" in response.get_json()["error"], path
    assert client.post("/kiosk/up", json={"slot": "guest"}).status_code == 403
    assert client.get("/kiosk/ping").get_json()["access"] is False
    for path in ("/kiosk/setup", "/kiosk/setup/roster", "/kiosk/setup/enable", "/kiosk/setup/revoke"):
        response = client.open(path, method="GET" if path == "/kiosk/setup" else "POST")
        assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login"), path
    assert app.extensions["wallhinge_live"].commands() == []


def test_a_clinician_makes_a_tablet_the_kiosk_and_is_logged_out_on_it(app, account):
    client = tablet(app)
    log_in(client)
    response = client.post("/kiosk/setup/enable")
    cookie = next(value for value in response.headers.getlist("Set-Cookie") if value.startswith(COOKIE + "="))
    assert "Path=/kiosk" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Max-Age=" in cookie
    assert client.get("/").status_code == 302  # the clinician is logged out on the tablet
    page = client.get("/kiosk")
    assert page.status_code == 200 and b'id="live"' in page.data
    assert client.get("/kiosk/ping").get_json()["access"] is True


def test_a_kiosk_pass_reaches_no_dashboard_or_api_route(app, account, sample, store):
    """Every route but the kiosk's refuses the pass, even sent where the browser never would send it."""
    token = kiosk_pass(app)
    before = (store.get_targets(sample["patient"]), [p["display_name"] for p in store.list_patients()])
    checked = 0
    for endpoint, method, path in _routes(app):
        if endpoint in OPEN or endpoint in KIOSK_ROUTES:
            continue
        client = tablet(app)
        response = client.open(path, method=method, headers={"Cookie": f"{COOKIE}={token}"},
                               data={"code": "X", "display_name": "Y", "command": "end", "patient_id": "1"})
        where = f"{method} {path} ({endpoint})"
        if endpoint == "auth.logout":
            assert response.status_code == 302, where
        elif endpoint.startswith("api.") or endpoint in ("live.events", "live.command"):
            assert response.status_code == 401, where
        else:
            assert response.status_code == 302, where
            assert response.headers["Location"].startswith("/auth/login"), where
        assert b"Margaret" not in response.data and b"WH-0042" not in response.data, where
        checked += 1
    assert checked > 25
    assert (store.get_targets(sample["patient"]), [p["display_name"] for p in store.list_patients()]) == before
    assert app.extensions["wallhinge_live"].commands() == []


def test_the_pass_is_no_log_in_even_passed_off_as_the_session_cookie(app, account, sample):
    token = kiosk_pass(app)
    client = tablet(app)
    client.set_cookie(app.config["SESSION_COOKIE_NAME"], token)
    assert client.get(f"/patients/{sample['patient']}").status_code == 302
    assert client.get("/api/patients").status_code == 401


def test_the_kiosk_shows_nothing_of_a_patient(app, account, sample):
    app.extensions["wallhinge_kiosk"].set_roster([sample["patient"]])
    client = with_pass(app, kiosk_pass(app))
    page = client.get("/kiosk").get_data(as_text=True)
    roster = client.get("/kiosk/roster").get_json()
    assert roster["people"] == [{"slot": roster["people"][0]["slot"], "name": "Margaret B."}]
    for text in (page, json.dumps(roster)):
        assert "WH-0042" not in text and "score" not in text and "anna" not in text
        assert f'"{sample["patient"]}"' not in text
    assert "/patients" not in page and "/api/" not in page and "/live" not in page  # no way into the dashboard


def test_the_station_s_own_screen_needs_no_pass_but_a_tablet_through_the_proxy_does(app, account):
    local = app.test_client()  # 127.0.0.1, as the station's Chromium talking to waitress
    assert local.get("/kiosk").status_code == 200
    assert local.get("/").status_code == 302 and local.get("/api/patients").status_code == 401
    for header in ("X-Forwarded-For", "Forwarded", "X-Real-IP"):
        proxied = local.get("/kiosk", headers={header: "192.0.2.77"})
        assert proxied.status_code == 403, header
    ipv6 = tablet(app, "::1")
    assert ipv6.get("/kiosk").status_code == 200


def _get(served, path, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", served.server.effective_port, timeout=10)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_through_waitress_a_request_forwarded_from_a_tablet_is_not_the_station(app, account):
    """nginx connects from 127.0.0.1 and names the tablet in X-Forwarded-For: that tablet is no kiosk."""
    with Serving(app) as served:
        assert _get(served, "/kiosk")[0] == 200  # the station's own Chromium, straight to waitress
        status, body = _get(served, "/kiosk", {"X-Forwarded-For": "192.0.2.77", "X-Forwarded-Proto": "https"})
        assert status == 403 and b"not a kiosk yet" in body
        status, body = _get(served, "/kiosk/ping", {"X-Forwarded-For": "192.0.2.77"})
        assert status == 200 and json.loads(body)["access"] is False
        # A forwarded request from this machine's own browser (through nginx) is no station screen either.
        assert _get(served, "/kiosk", {"X-Forwarded-For": "127.0.0.1"})[0] == 403


def test_through_waitress_the_app_sees_the_tablet_s_address_and_https(app, account):
    seen = {}

    @app.get("/_peer")
    def peer():
        seen.update(addr=request.remote_addr, scheme=request.scheme)
        return "ok"

    with Serving(app) as served:
        _get(served, "/_peer", {"X-Forwarded-For": "192.0.2.77", "X-Forwarded-Proto": "https"})
    assert seen == {"addr": "192.0.2.77", "scheme": "https"}


def test_trusting_the_station_s_screen_can_be_turned_off(tmp_path):
    app = make_app(tmp_path, KIOSK_TRUST_LOCALHOST=False)
    assert app.test_client().get("/kiosk").status_code == 403


def test_turning_every_pass_off(app, account, logged_in):
    token = kiosk_pass(app)
    assert with_pass(app, token).get("/kiosk").status_code == 200
    response = logged_in.post("/kiosk/setup/revoke", follow_redirects=True)
    assert b"Every kiosk pass is off" in response.data
    assert with_pass(app, token).get("/kiosk").status_code == 403
    assert with_pass(app, token).get("/kiosk/ping").get_json()["access"] is False
    assert app.test_client().get("/kiosk").status_code == 200  # the station's own screen keeps its kiosk
    assert with_pass(app, kiosk_pass(app)).get("/kiosk").status_code == 200  # a new pass works


def test_a_forged_or_foreign_pass_is_refused(tmp_path, app, account):
    token = kiosk_pass(app)
    other = make_app(tmp_path / "other", SECRET_KEY="t" * 64)
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert with_pass(app, forged).get("/kiosk").status_code == 403
    assert with_pass(other, token).get("/kiosk").status_code == 403


def test_a_clinician_may_preview_the_kiosk(app, logged_in):
    logged_in.environ_base.update(TABLET)
    assert logged_in.get("/kiosk").status_code == 200


# -- the roster and "I'm up" ------------------------------------------------------------------------

def test_the_clinician_sets_the_class_roster(app, logged_in, sample, store):
    feed = app.extensions["wallhinge_live"]
    page = logged_in.get("/kiosk/setup")
    assert page.status_code == 200 and b"Margaret B." in page.data and b"WH-0042" in page.data
    response = logged_in.post("/kiosk/setup/roster",
                              data={"patient_id": [str(sample["patient"]), str(sample["other"])]})
    assert response.status_code == 302
    settings = app.extensions["wallhinge_kiosk"].read()
    assert [entry["patient_id"] for entry in settings["roster"]] == [sample["patient"], sample["other"]]
    assert feed.state()["latest"]["kiosk_roster"]["version"] == settings["roster_version"] == 1
    assert "people" in logged_in.get("/kiosk/setup").get_data(as_text=True)
    # Saving again keeps each person's slot; an archived patient leaves the kiosk.
    slots = {entry["patient_id"]: entry["slot"] for entry in settings["roster"]}
    logged_in.post("/kiosk/setup/roster", data={"patient_id": [str(sample["patient"])]})
    assert app.extensions["wallhinge_kiosk"].read()["roster"] == [{"slot": slots[sample["patient"]],
                                                                    "patient_id": sample["patient"]}]
    store.update_patient(sample["patient"], archived=True)
    assert app.test_client().get("/kiosk/roster").get_json()["people"] == []


@pytest.mark.parametrize("ids, words", [(["x"], "not a patient's number"), (["999"], "no patient 999"),
                                        ([str(n) for n in range(1, 20)], "at most 16")])
def test_a_bad_roster_is_refused_and_changes_nothing(app, logged_in, sample, ids, words):
    response = logged_in.post("/kiosk/setup/roster", data={"patient_id": ids})
    assert response.status_code == 400 and words in html.unescape(response.get_data(as_text=True))
    assert app.extensions["wallhinge_kiosk"].read()["roster"] == []


def test_two_people_with_the_same_kiosk_name_are_told_apart(app, logged_in, store):
    ids = [store.add_patient(code=f"C{k}", display_name=name) for k, name in enumerate(["John Smith", "John Stone"])]
    logged_in.post("/kiosk/setup/roster", data={"patient_id": [str(i) for i in ids]})
    names = [person["name"] for person in app.test_client().get("/kiosk/roster").get_json()["people"]]
    assert names == ["John S.", "John S. 2"]
    assert "Two people would show as John S." in logged_in.get("/kiosk/setup").get_data(as_text=True)


def test_tapping_a_name_hands_the_station_over_to_them(app, account, sample):
    feed = app.extensions["wallhinge_live"]
    app.extensions["wallhinge_kiosk"].set_roster([sample["patient"], sample["other"]])
    client = with_pass(app, kiosk_pass(app))
    people = client.get("/kiosk/roster").get_json()["people"]
    margaret = next(person for person in people if person["name"] == "Margaret B.")
    response = client.post("/kiosk/up", json={"slot": margaret["slot"]})
    assert response.status_code == 202 and response.get_json() == {"up": "Margaret B."}
    guest = client.post("/kiosk/up", json={"slot": "guest"})
    assert guest.status_code == 202 and guest.get_json() == {"up": "Guest"}
    taken = feed.commands()
    assert [(c["command"], c["patient_id"], c["by"]) for c in taken] == [("assign", sample["patient"], "kiosk"),
                                                                        ("assign", None, "kiosk")]


@pytest.mark.parametrize("body", [{"slot": "nobody"}, {"slot": ""}, {"slot": 3}, {}, ["guest"], None])
def test_a_bad_or_stale_tap_is_refused_and_sends_nothing(app, body):
    client = app.test_client()
    response = client.post("/kiosk/up", json=body) if body is not None else client.post("/kiosk/up", data="guest")
    assert response.status_code == 400 and "error" in response.get_json()
    if body == {"slot": "nobody"}:
        assert response.get_json()["roster_changed"] is True
    assert app.extensions["wallhinge_live"].commands() == []


def test_the_kiosk_can_do_nothing_else(app, account, sample):
    token = kiosk_pass(app)
    client = with_pass(app, token)
    assert client.get("/kiosk/up").status_code == 405
    assert client.post("/kiosk/roster").status_code == 405
    assert client.post("/live/commands", json={"command": "end"},
                       headers={"Cookie": f"{COOKIE}={token}"}).status_code == 401
    assert client.post("/kiosk/setup/roster", data={"patient_id": [str(sample["patient"])]}).status_code == 302
    assert app.extensions["wallhinge_kiosk"].read()["roster"] == []


def test_i_m_up_needs_the_page_s_csrf_token(tmp_path):
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    assert client.post("/kiosk/up", json={"slot": "guest"}).status_code == 400
    page = client.get("/kiosk").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    assert client.post("/kiosk/up", json={"slot": "guest"}, headers={"X-CSRFToken": token}).status_code == 202


def test_the_speech_switch(app, logged_in):
    settings = app.extensions["wallhinge_kiosk"]
    assert settings.read()["speech"] is True
    logged_in.post("/kiosk/setup/speech", data={"speech": "off"})
    assert settings.read()["speech"] is False
    assert b"Turn spoken cues on" in logged_in.get("/kiosk/setup").data
    logged_in.post("/kiosk/setup/speech", data={"speech": "on"})
    assert settings.read()["speech"] is True


# -- the event stream ---------------------------------------------------------------------------------

def _messages(text):
    messages = []
    for block in text.split("\n\n"):
        if block.startswith("event:"):
            name = re.search(r"^event: (\w+)$", block, re.MULTILINE).group(1)
            messages.append((name, json.loads(re.search(r"^data: (.*)$", block, re.MULTILINE).group(1))))
    return messages


def test_the_stream_carries_only_what_the_kiosk_shows(app, account, sample):
    feed = app.extensions["wallhinge_live"]
    app.extensions["wallhinge_kiosk"].set_roster([sample["patient"]])
    feed.publish({"type": "session", "state": "running", "session_id": sample["session"], "set_number": 1,
                  "reps_in_set": 0, "good_reps_in_set": 0, "reps_per_set": 12, "patient_name": "Margaret Brown",
                  "patient_code": "WH-0042", "patient_id": sample["patient"]})

    def later():
        time.sleep(0.15)
        feed.command("assign", by=USERNAME, patient_id=sample["patient"])
        feed.publish({"type": "rep", "session_id": sample["session"], "set_number": 1, "good": False,
                      "rep": {"index": 1, "faults": ["squat"], "touched": True, "score": 75,
                              "lost_points": [{"fault": "squat", "points": 25, "why": "knees bent to 47 degrees"}]}})
        feed.publish({"type": "frame", "present": True, "wall_gap_mm": 80.0, "trunk_angle_deg": 35.0,
                      "lights": {"pattern": "fault_rep", "colour": "red", "blinking": True, "lamps": {}}})
        feed.publish({"type": "kiosk_roster", "version": 2})

    worker = threading.Thread(target=later)
    worker.start()
    with app.test_client().get("/kiosk/events") as response:
        assert response.mimetype == "text/event-stream"
        text = response.get_data(as_text=True)  # the stream ends after LIVE_STREAM_MAX_S (0.5 s in the tests)
    worker.join()
    assert text.startswith("retry: 2000\n\n")
    messages = _messages(text)
    assert messages[0] == ("hello", {"boot": app.extensions["wallhinge_kiosk_boot"]})
    assert {name for name, _ in messages} == {"hello", "view", "frame", "roster"}
    views = [payload for name, payload in messages if name == "view"]
    assert views[-1]["participant"] == "Margaret B." and views[-1]["cue"]["text"] == "Soft knees"
    for secret in ("Brown", "WH-0042", USERNAME, "score", "degrees", "patient_id", "session_id", "say"):
        assert secret not in text, secret


def test_the_stream_is_refused_when_too_many_live_pages_are_open(tmp_path):
    app = make_app(tmp_path, KIOSK_MAX_STREAMS=1)
    with app.extensions["wallhinge_live"].subscribe(group="kiosk"):
        response = app.test_client().get("/kiosk/events")
    assert response.status_code == 503 and "kiosk screens are open already" in response.get_json()["error"]
