"""Accounts: first-run setup, log-in and log-out, cookies, CSRF, the secret key, password changes."""

import os
import stat
from pathlib import Path

import pytest

from station.store import open_store
from support import PASSWORD, SECRET, USERNAME, log_in, make_app


def _csrf_token(client, path):
    import re
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


# -- first run ------------------------------------------------------------------------

def _token(app):
    from web.auth import setup_token
    return setup_token(app.instance_path)


def test_first_run_sends_everyone_to_setup_and_makes_one_account(app, client, store):
    assert client.get("/").headers["Location"].startswith("/auth/login")
    assert client.get("/auth/login").headers["Location"] == "/auth/setup"
    page = client.get("/auth/setup")
    assert page.status_code == 200 and b"There is no account yet" in page.data and b"default password" in page.data
    token_file = Path(app.instance_path) / "setup_token"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    response = client.post("/auth/setup", data={"username": "anna", "password": PASSWORD, "confirm": PASSWORD,
                                                "token": _token(app)})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/").status_code == 200  # logged in straight away
    account = store.get_clinician("anna")
    assert account["password_hash"].startswith("$argon2id$") and PASSWORD not in account["password_hash"]
    assert account["role"] == "admin" and not token_file.exists()  # the token worked once


@pytest.mark.parametrize("token", [None, "", "a guess at the token"])
def test_setup_needs_the_installer_s_token(app, client, store, token, caplog):
    _token(app)
    form = {"username": "mallory", "password": PASSWORD, "confirm": PASSWORD}
    if token is not None:
        form["token"] = token
    response = client.post("/auth/setup", data=form)
    assert response.status_code == 403 and b"set-up token is wrong" in response.data
    assert store.list_clinicians() == []
    assert any("first-run set-up refused" in record.getMessage() for record in caplog.records)


def test_wallhinge_setup_token_prints_the_token_until_there_is_an_account(tmp_path, capsys):
    from wallhinge.cli import main
    from web.auth import setup_token
    assert main(["setup-token", "--set", f"station.data_dir={tmp_path}"]) == 0
    printed = capsys.readouterr().out
    token = setup_token(tmp_path / "instance")
    assert token in printed and "/auth/setup" in printed
    with open_store(tmp_path / "station.db") as store:
        store.add_clinician("anna", password_hash="h", role="admin")
    assert main(["setup-token", "--set", f"station.data_dir={tmp_path}"]) == 0
    assert "set up already" in capsys.readouterr().out


def test_setup_is_gone_once_an_account_exists(client, account, store):
    assert client.get("/auth/setup").headers["Location"] == "/auth/login"
    response = client.post("/auth/setup", data={"username": "mallory", "password": "x" * 20, "confirm": "x" * 20})
    assert response.status_code == 302
    assert [a["username"] for a in store.list_clinicians()] == ["anna"]


@pytest.mark.parametrize("form, message", [
    ({"username": "", "password": PASSWORD, "confirm": PASSWORD}, b"A username is 1 to 64"),
    ({"username": "a b", "password": PASSWORD, "confirm": PASSWORD}, b"A username is 1 to 64"),
    ({"username": "anna", "password": "short", "confirm": "short"}, b"at least 10 characters"),
    ({"username": "anna", "password": PASSWORD, "confirm": PASSWORD + "!"}, b"The two passwords differ"),
    ({"username": "annabelle1", "password": "annabelle1", "confirm": "annabelle1"}, b"must not be the username"),
    ({"username": "anna", "password": "x" * 1025, "confirm": "x" * 1025}, b"at most 1024"),
])
def test_setup_refuses_bad_accounts_and_makes_none(app, client, store, form, message):
    response = client.post("/auth/setup", data={**form, "token": _token(app)})
    assert response.status_code == 400 and message in response.data
    assert store.list_clinicians() == []


# -- log-in and log-out ---------------------------------------------------------------

def test_log_in_sets_a_safe_cookie_and_log_out_clears_it(client, account):
    response = log_in(client)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("wallhinge_session=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie
    assert client.get("/").status_code == 200
    assert client.post("/auth/logout").headers["Location"] == "/auth/login"
    assert client.get("/").status_code == 302


def test_the_cookie_is_secure_when_served_over_https(tmp_path):
    app = make_app(tmp_path, SESSION_COOKIE_SECURE=True)
    with open_store(app.config["DATABASE"]) as store:
        from web.auth import create_account
        create_account(store, USERNAME, PASSWORD, app=app)
    response = log_in(app.test_client())
    assert "Secure" in response.headers["Set-Cookie"]


def test_log_out_is_not_a_get(logged_in):
    assert logged_in.get("/auth/logout").status_code == 405
    assert logged_in.get("/").status_code == 200


@pytest.mark.parametrize("form, status, message", [
    ({"username": USERNAME, "password": "wrong password"}, 401, b"Wrong username or password"),
    ({"username": "nobody", "password": PASSWORD}, 401, b"Wrong username or password"),
    ({"username": USERNAME, "password": ""}, 400, b"Enter your username and password"),
    ({}, 400, b"Enter your username and password"),
])
def test_a_failed_log_in_says_so_and_logs_nobody_in(client, account, form, status, message):
    response = client.post("/auth/login", data=form)
    assert response.status_code == status and message in response.data
    assert client.get("/").status_code == 302


def test_usernames_are_not_case_sensitive(client, account):
    assert log_in(client, username="ANNA").status_code == 302


@pytest.mark.parametrize("target, expected", [
    ("/patients/1?range=90", "/patients/1?range=90"),
    ("https://evil.example/", "/"),
    ("//evil.example/", "/"),
    ("/\\evil.example", "/"),
    ("javascript:alert(1)", "/"),
])
def test_log_in_goes_back_only_to_this_site(client, account, target, expected):
    response = client.post("/auth/login", data={"username": USERNAME, "password": PASSWORD, "next": target})
    assert response.headers["Location"] == expected


def test_a_page_asked_for_before_log_in_is_shown_after(client, account):
    asked = client.get("/calibration?x=1")
    assert asked.headers["Location"] == "/auth/login?next=/calibration?x%3D1"
    form = client.get(asked.headers["Location"]).get_data(as_text=True)
    assert 'name="next" value="/calibration?x=1"' in form
    response = client.post("/auth/login", data={"username": USERNAME, "password": PASSWORD, "next": "/calibration?x=1"})
    assert response.headers["Location"] == "/calibration?x=1"


def test_a_session_cookie_is_replaced_at_log_in(app, client, account):
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    log_in(client)
    with client.session_transaction() as session:
        assert "planted" not in session and session["clinician"] == USERNAME


def test_an_old_hash_is_upgraded_at_log_in(tmp_path, store):
    weak = make_app(tmp_path, PASSWORD_HASHER="CHEAPEST")
    from web.auth import create_account
    create_account(store, USERNAME, PASSWORD, app=weak)
    old = store.get_clinician(USERNAME)["password_hash"]
    stronger = make_app(tmp_path, PASSWORD_HASHER="RFC_9106_LOW_MEMORY")
    assert log_in(stronger.test_client()).status_code == 302
    new = store.get_clinician(USERNAME)["password_hash"]
    assert new != old and "m=65536" in new


def test_an_unknown_hasher_profile_is_refused_at_start(tmp_path):
    with pytest.raises(ValueError, match="PASSWORD_HASHER 'FASTEST_PLEASE' is not an argon2.profiles name"):
        make_app(tmp_path, PASSWORD_HASHER="FASTEST_PLEASE")


# -- CSRF -----------------------------------------------------------------------------

@pytest.fixture
def csrf_app(tmp_path):
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True)
    with open_store(app.config["DATABASE"]) as store:
        from web.auth import create_account
        create_account(store, USERNAME, PASSWORD, app=app)
        patient = store.add_patient(code="WH-1", display_name="Ada L.")
    return app, patient


def test_csrf_refuses_forms_without_the_token_and_changes_nothing(csrf_app):
    app, patient = csrf_app
    client = app.test_client()
    refused = client.post("/auth/login", data={"username": USERNAME, "password": PASSWORD})
    assert refused.status_code == 400 and b"The form expired" in refused.data
    token = _csrf_token(client, "/auth/login")
    assert client.post("/auth/login", data={"username": USERNAME, "password": PASSWORD, "csrf_token": token}
                       ).status_code == 302
    with open_store(app.config["DATABASE"]) as store:
        before = store.get_targets(patient)
        for path, form in ((f"/patients/{patient}/targets", {"standoff_mm": "300", "reps_per_set": "10", "sets": "3"}),
                           ("/patients", {"code": "WH-2", "display_name": "Bo"}),
                           (f"/patients/{patient}", {"code": "WH-9", "display_name": "Ada L."}),
                           ("/auth/logout", {})):
            response = client.post(path, data=form)
            assert response.status_code == 400, path
        assert client.post("/live/commands", json={"command": "end"}).status_code == 400
        assert client.put(f"/api/patients/{patient}/targets", json={"standoff_mm": 300}).status_code == 400
        assert "error" in client.put(f"/api/patients/{patient}/targets", json={"standoff_mm": 300}).get_json()
        assert store.get_targets(patient) == before
        assert [p["code"] for p in store.list_patients()] == ["WH-1"]
        assert app.extensions["wallhinge_live"].commands() == []
        # With the token, the same requests go through.
        token = _csrf_token(client, f"/patients/{patient}")
        response = client.post(f"/patients/{patient}/targets",
                               data={"standoff_mm": "300", "reps_per_set": "10", "sets": "3", "csrf_token": token})
        assert response.status_code == 302
        assert store.get_targets(patient)["standoff_mm"] == 300
        api_token = client.get("/api/me").get_json()["csrf_token"]
        answer = client.patch(f"/api/patients/{patient}/targets", json={"sets": 4}, headers={"X-CSRFToken": api_token})
        assert answer.status_code == 200 and answer.get_json()["targets"]["sets"] == 4
        assert client.post("/live/commands", json={"command": "end"}, headers={"X-CSRFToken": api_token}
                           ).status_code == 202


# -- the secret key -------------------------------------------------------------------

def test_without_a_secret_key_one_is_made_once_and_kept_private(tmp_path):
    from web import create_app
    instance = tmp_path / "instance"
    first = create_app({"DATABASE": str(tmp_path / "station.db")}, instance_path=instance)
    key_file = instance / "secret_key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert len(first.secret_key) == 64 and first.secret_key == key_file.read_text().strip()
    second = create_app({"DATABASE": str(tmp_path / "station.db")}, instance_path=instance)
    assert second.secret_key == first.secret_key
    assert [path.name for path in instance.iterdir()] == ["secret_key"]


def test_a_configured_secret_key_writes_nothing(tmp_path):
    from web import create_app
    app = create_app({"DATABASE": str(tmp_path / "station.db"), "SECRET_KEY": SECRET}, instance_path=tmp_path / "i")
    assert app.secret_key == SECRET and not (tmp_path / "i").exists()


def test_a_damaged_key_file_is_refused_with_what_to_do(tmp_path):
    from web import create_app
    (tmp_path / "i").mkdir()
    (tmp_path / "i" / "secret_key").write_text("short\n")
    with pytest.raises(RuntimeError, match="delete the file"):
        create_app({"DATABASE": str(tmp_path / "station.db")}, instance_path=tmp_path / "i")


def test_settings_come_from_the_environment(tmp_path, monkeypatch):
    from web import create_app
    monkeypatch.setenv("WALLHINGE_DATABASE", str(tmp_path / "elsewhere.db"))
    monkeypatch.setenv("WALLHINGE_SECRET_KEY", SECRET)
    app = create_app(instance_path=tmp_path / "i")
    assert app.config["DATABASE"] == str(tmp_path / "elsewhere.db") and app.secret_key == SECRET


# -- more accounts and passwords ------------------------------------------------------

def test_a_clinician_adds_a_colleague(logged_in, store):
    response = logged_in.post("/auth/clinicians", data={"username": "ben", "password": "another long one",
                                                         "confirm": "another long one"})
    assert response.status_code == 302
    assert [a["username"] for a in store.list_clinicians()] == ["anna", "ben"]
    page = logged_in.get("/auth/clinicians").get_data(as_text=True)
    assert "ben" in page and "$argon2" not in page


@pytest.mark.parametrize("form, message", [
    ({"username": "ANNA", "password": "another long one", "confirm": "another long one"}, b"is taken"),
    ({"username": "ben", "password": "short", "confirm": "short"}, b"at least 10"),
])
def test_a_bad_new_account_is_refused(logged_in, store, form, message):
    response = logged_in.post("/auth/clinicians", data=form)
    assert response.status_code == 400 and message in response.data
    assert len(store.list_clinicians()) == 1


def test_changing_the_password_logs_out_other_devices(app, logged_in, store):
    other = app.test_client()
    log_in(other)
    wrong = logged_in.post("/auth/password",
                           data={"current": "nope", "password": "a new password", "confirm": "a new password"})
    assert wrong.status_code == 400 and b"current password is wrong" in wrong.data
    weak = logged_in.post("/auth/password", data={"current": PASSWORD, "password": "short", "confirm": "short"})
    assert weak.status_code == 400
    assert log_in(app.test_client()).status_code == 302  # still the old password
    response = logged_in.post("/auth/password", data={"current": PASSWORD, "password": "a new password",
                                                      "confirm": "a new password"})
    assert response.status_code == 302
    assert logged_in.get("/").status_code == 200  # this device stays in
    assert other.get("/").status_code == 302  # the other is out
    assert log_in(app.test_client(), password="a new password").status_code == 302


def test_command_line_accounts(app, store):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["add-clinician", "carol"], input="a long password\na long password\n")
    assert result.exit_code == 0, result.output
    assert store.get_clinician("carol")["password_hash"].startswith("$argon2id$")
    again = runner.invoke(args=["add-clinician", "carol"], input="a long password\na long password\n")
    assert again.exit_code != 0 and "taken" in again.output
    changed = runner.invoke(args=["set-password", "carol"], input="brand new secret\nbrand new secret\n")
    assert changed.exit_code == 0
    assert log_in(app.test_client(), username="carol", password="brand new secret").status_code == 302
    missing = runner.invoke(args=["set-password", "nobody"], input="brand new secret\nbrand new secret\n")
    assert missing.exit_code != 0 and "no clinician" in missing.output
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0 and "schema version" in result.output


# -- log-in floods ----------------------------------------------------------------------

def test_log_in_attempts_are_limited_per_client_and_failures_logged(app, account, caplog):
    client = app.test_client()
    caplog.set_level("WARNING")
    statuses = [log_in(client, password=f"wrong guess {n}").status_code for n in range(12)]
    assert statuses[:10] == [401] * 10 and statuses[10:] == [429, 429]
    refused = log_in(client)  # even the right password waits: the limit is on attempts
    assert refused.status_code == 429 and "Too many log-in attempts" in refused.get_data(as_text=True)
    assert "Retry-After" in refused.headers
    assert sum("log-in failed for 'anna' from 127.0.0.1" in r.getMessage() for r in caplog.records) == 10
    assert any("log-in refused, too many attempts" in r.getMessage() for r in caplog.records)
    # Another client, for another account, is not held back by this one (nor are the pages).
    with open_store(app.config["DATABASE"]) as store:
        from web.auth import create_account
        create_account(store, "bert", PASSWORD, app=app)
    other = app.test_client()
    assert other.post("/auth/login", data={"username": "bert", "password": PASSWORD},
                      environ_base={"REMOTE_ADDR": "192.0.2.20"}).status_code == 302
    assert client.get("/auth/login").status_code == 200


def test_log_in_attempts_are_limited_per_account_from_many_addresses(app, account):
    client = app.test_client()

    def attempt(n, username=USERNAME):
        return client.post("/auth/login", data={"username": username, "password": "wrong guess"},
                           environ_base={"REMOTE_ADDR": f"192.0.2.{n}"}).status_code

    assert [attempt(n) for n in range(10)] == [401] * 10
    assert attempt(11) == 429 and attempt(12, USERNAME.upper()) == 429
    assert attempt(13, "somebody-else") == 401  # other accounts are not locked by it


def test_a_log_in_flood_runs_one_argon2_at_a_time_and_sheds_the_rest(tmp_path, account):
    """Through waitress, with the real argon2 profile: never two hashes at once, 429 past the wait."""
    import concurrent.futures
    import http.client
    import threading
    import urllib.parse

    from support import Serving

    app = make_app(tmp_path, PASSWORD_HASHER="RFC_9106_LOW_MEMORY", LOGIN_HASH_WAIT_S=0.05,
                   LOGIN_LIMIT_PER_CLIENT="1000 per minute", LOGIN_LIMIT_PER_ACCOUNT="1000 per minute",
                   LOGIN_LIMIT_ALL="1000 per minute")
    import argon2
    running, most = [0], [0]
    lock = threading.Lock()

    class CountingHasher(argon2.PasswordHasher):
        def verify(self, *args):
            with lock:
                running[0] += 1
                most[0] = max(most[0], running[0])
            try:
                return super().verify(*args)
            finally:
                with lock:
                    running[0] -= 1

    app.extensions["wallhinge_hasher"] = CountingHasher.from_parameters(argon2.profiles.RFC_9106_LOW_MEMORY)

    def attempt(n):
        body = urllib.parse.urlencode({"username": f"nobody{n}", "password": "a guess of a password"})
        connection = http.client.HTTPConnection("127.0.0.1", served.server.effective_port, timeout=30)
        try:
            connection.request("POST", "/auth/login", body, {"Content-Type": "application/x-www-form-urlencoded"})
            response = connection.getresponse()
            return response.status, response.read().decode()
        finally:
            connection.close()

    with Serving(app) as served, concurrent.futures.ThreadPoolExecutor(12) as pool:
        results = list(pool.map(attempt, range(12)))
    statuses = sorted(status for status, _ in results)
    assert most[0] == 1
    assert 401 in statuses and 429 in statuses and set(statuses) <= {401, 429}
    assert all("busy checking other log-ins" in text for status, text in results if status == 429)


# -- sessions end at log-out; roles --------------------------------------------------------

def test_a_copied_session_cookie_stops_working_at_log_out(app, account):
    owner = app.test_client()
    assert log_in(owner).status_code == 302
    cookie = owner.get_cookie("wallhinge_session").value
    thief = app.test_client()
    thief.set_cookie("wallhinge_session", cookie)
    assert thief.get("/").status_code == 200  # the copy works while its owner is logged in
    owner.post("/auth/logout")
    assert thief.get("/").status_code == 302 and thief.get("/api/patients").status_code == 401
    assert log_in(owner).status_code == 302 and owner.get("/").status_code == 200  # a new log-in works


def test_a_clinician_sees_patients_but_not_accounts_or_kiosk_passes(app, account, store):
    from web.auth import create_account
    create_account(store, "ben", PASSWORD, app=app)
    clinician = app.test_client()
    assert log_in(clinician, "ben").status_code == 302
    page = clinician.get("/").get_data(as_text=True)
    assert ">Patients<" in page and "/auth/clinicians" not in page
    refused = clinician.get("/auth/clinicians")
    assert refused.status_code == 403 and "Only an administrator" in refused.get_data(as_text=True)
    assert clinician.post("/auth/clinicians", data={"username": "eve", "password": PASSWORD,
                                                    "confirm": PASSWORD}).status_code == 403
    assert clinician.post("/kiosk/setup/enable").status_code == 403
    assert clinician.post("/kiosk/setup/revoke").status_code == 403
    assert "Make this browser the kiosk" not in clinician.get("/kiosk/setup").get_data(as_text=True)
    assert [a["username"] for a in store.list_clinicians()] == ["anna", "ben"]
    admin = app.test_client()
    log_in(admin)
    assert admin.post("/auth/clinicians", data={"username": "cara", "password": PASSWORD, "confirm": PASSWORD,
                                                "role": "admin"}).status_code == 302
    assert store.get_clinician("cara")["role"] == "admin"


def test_cookies_are_secure_when_the_request_came_over_https(app, account):
    client = app.test_client()
    response = client.post("/auth/login", data={"username": USERNAME, "password": PASSWORD},
                           base_url="https://station.local")
    assert "Secure" in response.headers["Set-Cookie"]
    plain = app.test_client().post("/auth/login", data={"username": USERNAME, "password": PASSWORD})
    assert "Secure" not in plain.headers["Set-Cookie"]


def test_log_in_attempts_of_the_whole_station_are_bounded_however_many_addresses(app, account):
    """A flood from a new address and a new name each time (as through nginx) still runs argon2 at most 30 a minute."""
    client = app.test_client()
    statuses = [client.post("/auth/login", data={"username": f"name{n}", "password": "a guess at it"},
                            environ_base={"REMOTE_ADDR": f"198.51.100.{n}"}).status_code for n in range(32)]
    assert statuses[:30] == [401] * 30 and statuses[30:] == [429, 429]


def test_a_flood_refused_for_its_address_leaves_the_station_s_budget_to_others(app, account):
    client = app.test_client()
    for n in range(40):  # one address: 10 checked, 30 refused at once
        client.post("/auth/login", data={"username": f"name{n}", "password": "a guess at it"})
    other = app.test_client()
    assert other.post("/auth/login", data={"username": USERNAME, "password": PASSWORD},
                      environ_base={"REMOTE_ADDR": "192.0.2.50"}).status_code == 302
