"""The kiosk: the station's own screen in a group class, big and live, with its own limited access.

Pages and routes
----------------
For the kiosk (kiosk access, see below):

``GET /kiosk``
    The kiosk page: idle (how to do the drill, what the lights mean, whose
    turn it is), live (the rep count, the wall bar, the lean gauge, the
    lamps, one cue), a summary card after each set.
``GET /kiosk/events``
    Server-sent events: ``hello`` (``{"boot"}``, this server's start) first,
    then ``view``, ``frame`` and ``roster`` messages that
    :class:`web.kiosk.view.KioskView` makes from the live feed. Nothing
    else of the feed reaches the kiosk.
``GET /kiosk/roster``
    The class roster as the kiosk shows it: ``{"version", "people": [{"slot",
    "name"}]}``, first names and initials only.
``POST /kiosk/up``
    ``{"slot": "<a roster slot>"}`` or ``{"slot": "guest"}``: "I'm up". It
    becomes the live feed's ``assign`` command (``by`` "kiosk"), which the
    session loop takes to store the set against that participant.
``GET /kiosk/ping``
    Open to anyone: ``{"ok": true, "boot": ..., "access": bool}``. The page
    polls it while its event stream is down and reloads once the server
    answers again, so it never navigates into a browser error page.

For clinicians (logged in), the kiosk's page in the dashboard:
``GET /kiosk/setup`` and ``POST /kiosk/setup/roster``, ``/kiosk/setup/speech``;
for admins, ``/kiosk/setup/enable`` (make this browser a kiosk) and
``/kiosk/setup/revoke`` (turn off every kiosk pass).

Kiosk access
------------
The kiosk never logs in as a clinician. A request has kiosk access when:

- it carries a valid *kiosk pass*: a cookie (``wallhinge_kiosk``, path
  ``/kiosk`` so it is never even sent to the dashboard, HttpOnly, about a
  year) signed with the app's secret key, which a logged-in clinician puts
  on a tablet with "Make this browser the kiosk" (which also logs the
  clinician out on that browser). "Turn off every kiosk" raises the pass
  generation in the kiosk settings, and every pass handed out before stops
  working;
- or it comes from the station itself (``KIOSK_TRUST_LOCALHOST``, on by
  default): a loopback address with no proxy header, i.e. the station's
  own Chromium talking to waitress directly, not a tablet through nginx.
  Behind nginx the address is the tablet's: waitress takes it from nginx's
  ``X-Forwarded-For`` (it trusts nginx on 127.0.0.1, :data:`web.serve.TRUSTED_PROXY`);
- or a clinician is logged in (a preview).

Kiosk access reaches the routes above and nothing else: every dashboard and
API route checks the clinician's log-in, which a kiosk pass is not.

Configuration (``app.config``)
------------------------------
``KIOSK_FILE``
    The kiosk's settings (:mod:`web.kiosk.settings`); default ``kiosk.json``
    beside ``DATABASE``.
``KIOSK_MAX_STREAMS``
    Kiosk screens open at once (default 3: the station's own and two
    tablets); each holds a server thread, apart from ``LIVE_MAX_STREAMS``.
``KIOSK_TRUST_LOCALHOST``
    Kiosk access for the station's own screen without a pass (default True).
``KIOSK_SPEECH``
    Speak the cues in this process with espeak-ng (:mod:`web.kiosk.speech`;
    default False). Inside ``wallhinge run`` the station speaks them itself
    (``station.speech``, :mod:`station.voice`) and this stays off.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import os
import secrets
import time

from flask import (Blueprint, Flask, current_app, flash, g, jsonify, redirect, render_template, request,
                   session, url_for)
from itsdangerous import BadSignature, URLSafeSerializer

from station.events import KioskRosterEvent
from station.store import StoreError, open_store
from web import cookie_secure
from web.auth import admin_required, login_required
from web.db import get_store
from web.kiosk.settings import MAX_ROSTER, KioskSettings
from web.kiosk.view import LIGHT_LEGEND, KioskView, kiosk_name
from web.live import FeedFull, LiveFeed
from web.live_views import event_stream_response

__all__ = ["COOKIE", "bp", "init_app", "kiosk_access", "roster_people"]

bp = Blueprint("kiosk", __name__, url_prefix="/kiosk")

#: The kiosk pass's cookie.
COOKIE = "wallhinge_kiosk"
_PASS_DAYS = 365
_PROXY_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP", "X-Forwarded-Host")
# The kiosk's event stream wakes this often without events, so a cue fades and a summary ends on time (s).
_TICK_S = 0.5


# -- the settings, the roster ----------------------------------------------------------------------

def _settings(app: Flask | None = None) -> KioskSettings:
    return (app or current_app).extensions["wallhinge_kiosk"]


def _feed() -> LiveFeed:
    return current_app.extensions["wallhinge_live"]


def roster_people(store, settings: dict) -> list[dict]:
    """The roster as the kiosk shows it: ``{"slot", "patient_id", "name"}``, by name.

    Archived or deleted patients are left out; two people who would show the
    same name get " 2", " 3" ... after it.
    """
    people = []
    for entry in settings["roster"]:
        patient = store.get_patient(entry["patient_id"])
        if patient is None or patient["archived"]:
            continue
        people.append({"slot": entry["slot"], "patient_id": patient["id"],
                       "name": kiosk_name(patient["display_name"]) or "?"})
    people.sort(key=lambda person: person["name"].casefold())
    seen: dict[str, int] = {}
    for person in people:
        key = person["name"].casefold()
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            person["name"] = f"{person['name']} {seen[key]}"
    return people


# -- access ----------------------------------------------------------------------------------------

def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="wallhinge-kiosk-pass")


def _valid_pass(token: str | None) -> bool:
    if not token:
        return False
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return False
    return isinstance(data, dict) and data.get("g") == _settings().read()["generation"]


def _from_this_machine() -> bool:
    """A loopback client that did not come through a proxy (nginx adds X-Forwarded-For)."""
    if any(name in request.headers for name in _PROXY_HEADERS):
        return False
    try:
        return ipaddress.ip_address((request.remote_addr or "").split("%")[0]).is_loopback
    except ValueError:
        return False


def kiosk_access() -> str | None:
    """Who this request is to the kiosk: "kiosk" (a pass), "station" (its own screen), "clinician", or None."""
    if _valid_pass(request.cookies.get(COOKIE)):
        return "kiosk"
    if current_app.config["KIOSK_TRUST_LOCALHOST"] and _from_this_machine():
        return "station"
    if g.get("clinician") is not None:
        return "clinician"
    return None


def kiosk_required(view=None, *, as_json: bool = False):
    """Refuse a request without kiosk access: a friendly page, or 403 JSON with ``as_json=True``."""
    def decorate(view):
        @functools.wraps(view)
        def wrapped(**kwargs):
            g.kiosk = kiosk_access()
            if g.kiosk is None:
                message = ("This screen is not a kiosk yet: an administrator turns it on in the dashboard, "
                           "on the Kiosk page (/kiosk/setup).")
                if as_json:
                    response = jsonify(error=message)
                    response.status_code = 403
                    return response
                return render_template("kiosk_locked.html", message=message), 403
            return view(**kwargs)
        return wrapped
    return decorate if view is None else decorate(view)


def _by() -> str:
    return {"kiosk": "kiosk", "station": "kiosk (station screen)"}.get(g.kiosk) or g.clinician["username"]


# -- the kiosk's routes ----------------------------------------------------------------------------

@bp.route("")
@kiosk_required
def page():
    return render_template("kiosk.html", boot=current_app.extensions["wallhinge_kiosk_boot"], legend=LIGHT_LEGEND)


@bp.route("/ping")
def ping():
    response = jsonify(ok=True, boot=current_app.extensions["wallhinge_kiosk_boot"],
                       access=kiosk_access() is not None)
    return response


@bp.route("/roster")
@kiosk_required(as_json=True)
def roster():
    settings = _settings().read()
    people = roster_people(get_store(), settings)
    return jsonify(version=settings["roster_version"],
                   people=[{"slot": person["slot"], "name": person["name"]} for person in people])


@bp.route("/up", methods=("POST",))
@kiosk_required(as_json=True)
def up():
    values = request.get_json(silent=True)
    slot = values.get("slot") if isinstance(values, dict) else None
    if not isinstance(slot, str) or not slot:
        return _refuse('send {"slot": "<a name\'s slot>"} or {"slot": "guest"}')
    if slot == "guest":
        patient_id, name = None, "Guest"
    else:
        person = next((person for person in roster_people(get_store(), _settings().read())
                       if person["slot"] == slot), None)
        if person is None:
            return _refuse("that name is no longer on the class roster: the roster has changed, tap your name again",
                           roster_changed=True)
        patient_id, name = person["patient_id"], person["name"]
    _feed().command("assign", by=_by(), patient_id=patient_id)
    current_app.logger.info("kiosk: %s is up (%s)", name, _by())
    response = jsonify(up=name)
    response.status_code = 202
    return response


def _refuse(message: str, **extra):
    response = jsonify(error=message, **extra)
    response.status_code = 400
    return response


def _names_loader(database: str, settings: KioskSettings, logger):
    def load() -> dict[int, str]:
        try:
            with open_store(database) as store:
                return {person["patient_id"]: person["name"] for person in roster_people(store, settings.read())}
        except StoreError as error:  # the kiosk goes on without names rather than without a screen
            logger.error("kiosk: the roster's names cannot be read: %s", error)
            return {}
    return load


def _stream(feed: LiveFeed, subscription, load_names, heartbeat_s: float, max_s: float, boot: str):
    # "hello" names this server's start: a page from an earlier start reloads itself (it is up, so no error page).
    yield f"retry: 2000\n\nevent: hello\ndata: {json.dumps({'boot': boot})}\n\n"
    names = load_names()
    view = KioskView(names=lambda patient_id: names.get(patient_id))
    quiet_since = time.monotonic()
    for item in feed.events(heartbeat_s=_TICK_S, max_s=max_s, subscription=subscription):
        now = time.monotonic()
        if item is None:
            messages = view.tick(now)
        else:
            _, kind, text = item
            if kind == "kiosk_roster":
                names = load_names()
            messages = view.apply(kind, json.loads(text), now)
        sent = False
        for name, payload in messages:
            if name == "say":
                continue  # the station's voice, not the page's
            yield f"event: {name}\ndata: {json.dumps(payload, separators=(',', ':'))}\n\n"
            sent = True
        if sent:
            quiet_since = now
        elif now - quiet_since >= heartbeat_s:
            yield ": still here\n\n"
            quiet_since = now


@bp.route("/events")
@kiosk_required(as_json=True)
def events():
    config = current_app.config
    try:  # counted as it subscribes, apart from the clinicians' live pages (web/live_views.py)
        subscription = _feed().subscribe(group="kiosk", limit=int(config["KIOSK_MAX_STREAMS"]))
    except FeedFull:
        response = jsonify(error=f"{config['KIOSK_MAX_STREAMS']} kiosk screens are open already")
        response.status_code = 503
        return response
    stream = _stream(_feed(), subscription, _names_loader(config["DATABASE"], _settings(), current_app.logger),
                     float(config["LIVE_HEARTBEAT_S"]),
                     float(config["LIVE_STREAM_MAX_S"]), current_app.extensions["wallhinge_kiosk_boot"])
    return event_stream_response(stream, subscription)


# -- the clinician's page --------------------------------------------------------------------------

def _setup_page(status: int = 200, **extra):
    store = get_store()
    settings = _settings().read()
    on_roster = {entry["patient_id"] for entry in settings["roster"]}
    patients = sorted(store.list_patients(), key=lambda patient: patient["display_name"].casefold())
    people = roster_people(store, settings)
    shown = [person["name"] for person in people]
    clashes = sorted({name.rsplit(" ", 1)[0] for name in shown if name[-1:].isdigit() and " " in name})
    return render_template("kiosk_setup.html", patients=patients, on_roster=on_roster, people=people,
                           settings=settings, clashes=clashes, max_roster=MAX_ROSTER, kiosk_name=kiosk_name,
                           speech_here=bool(current_app.config["KIOSK_SPEECH"]
                                            or current_app.config.get("KIOSK_STATION_SPEAKS")), **extra), status


@bp.route("/setup")
@login_required
def setup():
    return _setup_page()


@bp.route("/setup/roster", methods=("POST",))
@login_required
def save_roster():
    ids = []
    for raw in request.form.getlist("patient_id"):
        try:
            ids.append(int(raw))
        except ValueError:
            return _setup_page(400, error=f"{raw[:20]!r} is not a patient's number.")
    if len(set(ids)) > MAX_ROSTER:
        return _setup_page(400, error=f"A class roster holds at most {MAX_ROSTER} people, not {len(set(ids))}.")
    store = get_store()
    missing = [patient_id for patient_id in ids if store.get_patient(patient_id) is None]
    if missing:
        return _setup_page(400, error=f"There is no patient {missing[0]}.")
    try:
        saved = _settings().set_roster(ids)
    except ValueError as error:
        return _setup_page(400, error=f"{str(error)[0].upper()}{str(error)[1:]}.")
    except OSError as error:
        return _setup_page(503, error=f"The roster could not be saved ({error.strerror or error}).")
    _feed().publish(KioskRosterEvent(version=saved["roster_version"]).as_dict())
    count = len(saved["roster"])
    flash(f"Class roster saved: {count} {'person' if count == 1 else 'people'}. The kiosk shows it now."
          if count else "Class roster cleared: the kiosk offers Guest only.", "info")
    return redirect(url_for("kiosk.setup"))


@bp.route("/setup/speech", methods=("POST",))
@login_required
def speech():
    on = request.form.get("speech") == "on"
    _settings().set_speech(on)
    flash("Spoken cues on." if on else "Spoken cues off: the station stays quiet (the buzzer still sounds).", "info")
    return redirect(url_for("kiosk.setup"))


@bp.route("/setup/enable", methods=("POST",))
@admin_required
def enable():
    """Make this browser a kiosk: hand it a pass and log the clinician out on it."""
    token = _serializer().dumps({"g": _settings().read()["generation"], "n": secrets.token_hex(4)})
    current_app.logger.info("kiosk pass handed out by %s", g.clinician["username"])
    session.clear()
    response = redirect(url_for("kiosk.page"))
    response.set_cookie(COOKIE, token, max_age=_PASS_DAYS * 24 * 3600, path="/kiosk", httponly=True,
                        samesite="Lax", secure=cookie_secure())
    return response


@bp.route("/setup/revoke", methods=("POST",))
@admin_required
def revoke():
    _settings().new_generation()
    current_app.logger.info("every kiosk pass turned off by %s", g.clinician["username"])
    flash("Every kiosk pass is off. The station's own screen still shows the kiosk; "
          "a tablet needs \"Make this browser the kiosk\" again.", "info")
    return redirect(url_for("kiosk.setup"))


# -- wiring ----------------------------------------------------------------------------------------

def init_app(app: Flask) -> None:
    """Register the kiosk: its blueprint, its settings file, and the voice if ``KIOSK_SPEECH``."""
    app.config.setdefault("KIOSK_FILE", os.path.join(os.path.dirname(os.path.abspath(app.config["DATABASE"])),
                                                     "kiosk.json"))
    app.config.setdefault("KIOSK_TRUST_LOCALHOST", True)
    app.config.setdefault("KIOSK_MAX_STREAMS", 3)
    app.config.setdefault("KIOSK_SPEECH", False)
    app.extensions["wallhinge_kiosk"] = KioskSettings(app.config["KIOSK_FILE"])
    app.extensions["wallhinge_kiosk_boot"] = secrets.token_hex(8)
    app.register_blueprint(bp)
    if app.config["KIOSK_SPEECH"]:
        from web.kiosk import speech
        speech.start(app)
