"""The clinician dashboard: a Flask app over the station's SQLite store.

Make it with :func:`create_app` and serve it with :func:`web.serve.serve`
(waitress; never Flask's development server on the station)::

    from web import create_app
    from web.serve import serve
    serve(create_app(), host="0.0.0.0", port=8080)

or ``python -m web --host 0.0.0.0 --port 8080``.

Blueprints: ``auth`` (accounts, log-in, first-run setup), ``dashboard``
(HTML pages), ``api`` (JSON under ``/api/``, see ``web/API.md``) and
``live`` (the live session page and its server-sent events). The store is
opened per request in ``g`` (:func:`web.db.get_store`) and closed on
teardown. The live feed between the session loop and the browsers is
``app.extensions["wallhinge_live"]`` (:class:`web.live.LiveFeed`).

Configuration, in order: the defaults below, ``config.py`` in the instance
folder, ``WALLHINGE_*`` environment variables (``WALLHINGE_DATABASE=/data/station.db``),
then ``test_config``:

``DATABASE``
    The store's file or database URL (default ``station.db`` in the instance
    folder; on a clinic's server ``postgresql+psycopg://...``).
``SECRET_KEY``
    Signs the session cookie. Without one, a random key is made on first
    start and kept in ``secret_key`` in the instance folder (mode 0600).
``SESSION_COOKIE_SECURE``
    True to mark the cookies Secure always (default False: the station may
    serve plain HTTP on the clinic's network). A request that came over
    HTTPS (through nginx, which waitress trusts: :mod:`web.serve`) gets
    Secure cookies either way.
``PASSWORD_HASHER``
    The argon2-cffi profile for new password hashes (default
    ``RFC_9106_LOW_MEMORY``, argon2-cffi's own default; tests use ``CHEAPEST``).
``LOGIN_LIMIT_PER_CLIENT``, ``LOGIN_LIMIT_PER_ACCOUNT``, ``LOGIN_LIMIT_ALL``
    Log-in attempts allowed per client address, per account name and for
    the whole station, in Flask-Limiter's notation (``"10 per minute;60 per
    hour"``); beyond, 429.
``LOGIN_HASHES_AT_ONCE``, ``LOGIN_HASH_WAIT_S``
    How many argon2 password checks may run at once (each takes 64 MiB and
    the CPU the frame loop needs), and how long a log-in waits for its turn
    before it gets 429 (see :mod:`web.auth`).
``LIVE_HEARTBEAT_S``, ``LIVE_STREAM_MAX_S``, ``LIVE_MAX_STREAMS``
    A comment line on a quiet event stream every this many seconds (so a
    vanished browser is noticed and its server thread freed); the longest
    a stream stays open before the browser reconnects; how many streams may
    be open at once (each holds a server thread: with ``KIOSK_MAX_STREAMS``
    it stays well below the server's ``threads``, see :mod:`web.serve`).
"""

from __future__ import annotations

import datetime as _dt
import os
import secrets
from pathlib import Path

from flask import Flask, current_app, has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFProtect
from werkzeug.routing import IntegerConverter

from station.store import DEFAULT_DATABASE
from web.live import LiveFeed

__all__ = ["create_app", "csrf"]

csrf = CSRFProtect()

_SECRET_FILE = "secret_key"


def create_app(test_config: dict | None = None, *, instance_path: str | os.PathLike | None = None,
               database: str | os.PathLike | None = None, station_speaks: bool | None = None) -> Flask:
    """The dashboard app; ``test_config`` overrides every other setting (see the module's docs).

    ``database`` is the station's own database (its configuration decides
    where it lives); it wins over the instance folder's and the environment's.
    ``station_speaks`` is given inside ``wallhinge run``: the station's own
    voice speaks the cues (True when ``station.speech`` is on), so the app
    starts none (``KIOSK_SPEECH`` off) and its kiosk page says which.
    """
    app = Flask(__name__, instance_relative_config=True,
                instance_path=None if instance_path is None else str(Path(instance_path).resolve()))
    app.url_map.converters["int"] = RecordId
    app.config.from_mapping(
        DATABASE=os.path.join(app.instance_path, DEFAULT_DATABASE),
        SESSION_COOKIE_NAME="wallhinge_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=False,
        PERMANENT_SESSION_LIFETIME=_dt.timedelta(hours=12),
        PASSWORD_HASHER="RFC_9106_LOW_MEMORY",
        LOGIN_LIMIT_PER_CLIENT="10 per minute;60 per hour",
        LOGIN_LIMIT_PER_ACCOUNT="10 per 5 minutes",
        LOGIN_LIMIT_ALL="30 per minute",
        LOGIN_HASHES_AT_ONCE=1,
        LOGIN_HASH_WAIT_S=1.0,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the log-in session
        LIVE_HEARTBEAT_S=15.0,
        LIVE_STREAM_MAX_S=600.0,
        LIVE_MAX_STREAMS=6,
        MAX_CONTENT_LENGTH=64 * 1024,
    )
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("WALLHINGE")
    else:
        app.config.from_mapping(test_config)
    if database is not None:
        app.config["DATABASE"] = os.fspath(database)
    if station_speaks is not None:
        if app.config.get("KIOSK_SPEECH") and not station_speaks:
            app.logger.warning("KIOSK_SPEECH no longer turns the station's voice on: set speech = true in the "
                               "[station] table of its settings")
        app.config.update(KIOSK_SPEECH=False, KIOSK_STATION_SPEAKS=bool(station_speaks))
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path))
    if app.config["DATABASE"] == os.path.join(app.instance_path, DEFAULT_DATABASE):
        os.makedirs(app.instance_path, exist_ok=True)

    app.json.sort_keys = False  # keep the store's column order in JSON
    app.session_interface = _SessionCookies()
    app.extensions["wallhinge_live"] = LiveFeed()
    csrf.init_app(app)

    from web import api, auth, dashboard, db, errors, filters, kiosk, live_views
    db.init_app(app)
    filters.init_app(app)
    errors.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(live_views.bp)
    kiosk.init_app(app)  # the group-class kiosk at /kiosk, with its own limited access (web/kiosk/views.py)
    auth.init_app(app)

    app.context_processor(_storage_alert)
    app.after_request(_security_headers)
    return app


def _storage_alert() -> dict:
    """The templates' ``station_storage()``: what the station said of its storage when it is failing (its live
    ``storage`` event), else ""."""
    def station_storage() -> str:
        storage = current_app.extensions["wallhinge_live"].state()["latest"].get("storage") or {}
        return "" if storage.get("state", "ok") == "ok" else str(storage.get("message") or "Storage is failing.")
    return {"station_storage": station_storage}


def _security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy",
                       "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                       "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; "
                       "object-src 'none'")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    if request.endpoint != "static":
        # Patient data: keep it out of shared caches and the browser's disk cache.
        headers.setdefault("Cache-Control", "no-store")
    return response


class _SessionCookies(SecureCookieSessionInterface):
    """Flask's signed cookie session, Secure whenever the request itself came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or (has_request_context() and request.is_secure)


def cookie_secure() -> bool:
    """Whether this request's cookies are marked Secure (for the app's other cookies, e.g. the kiosk pass)."""
    return current_app.session_interface.get_cookie_secure(current_app)


class RecordId(IntegerConverter):
    """``<int:...>`` in the routes: a record's id, which SQLite keeps in 64 bits; a larger one is no page (404)."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", 2 ** 63 - 1)
        super().__init__(url_map, *args, **kwargs)


def _instance_secret(folder: Path) -> str:
    """The secret key kept in the instance folder, made (mode 0600) on first use."""
    path = folder / _SECRET_FILE
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f"{_SECRET_FILE}.{secrets.token_hex(4)}.partial"
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as file:
            file.write(secrets.token_hex(32) + "\n")
        try:
            os.link(partial, path)  # atomic, and never replaces a key another process made first
        except FileExistsError:
            pass
        finally:
            partial.unlink()
    key = path.read_text(encoding="ascii").strip()
    if len(key) < 32:
        raise RuntimeError(f"the secret key in {path} is too short: delete the file to make a new one "
                           "(everyone will have to log in again)")
    return key
