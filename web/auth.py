"""Clinician accounts: first-run setup, log-in, log-out, more accounts, password change.

Passwords are hashed with argon2id (argon2-cffi's ``PasswordHasher``, the
profile named by ``PASSWORD_HASHER``); the store keeps only the hash. There
is no default account and no default password: the first account is made on
the setup page, which works only while there is no account at all.

The log-in lives in Flask's signed session cookie (HttpOnly, SameSite=Lax,
Secure when configured or when the request came over HTTPS): the username, a
keyed fingerprint of the account's password hash, so changing a password logs
out every other device, and the account's session epoch, which log-out
raises in the store, so a copied cookie stops working the moment its owner
logs out.

Roles: an ``admin`` manages the accounts and the kiosks (passes handed out
and turned off); a ``clinician`` sees and works with patients. The first
account, made on the set-up page, is the admin.

First run: the set-up page asks for a one-time token kept in the instance
folder (``setup_token``, mode 0600; :func:`setup_token` makes it, and
``wallhinge setup-token`` prints it, as the installer does), so whoever
reaches a new station first cannot make the first account. The token is
deleted once the account exists.

Log-in floods: each password check runs argon2id (64 MiB and every core for
a moment, on the CPU the frame loop needs), so log-in attempts are limited
per client address, per account name and for all clients together with
Flask-Limiter (in memory: one station, one process; ``LOGIN_LIMIT_PER_CLIENT``,
``LOGIN_LIMIT_PER_ACCOUNT``, ``LOGIN_LIMIT_ALL``, answering 429), every
failure is logged with the client's address, and at most
``LOGIN_HASHES_AT_ONCE`` argon2 computations run at a time with as many
waiting: a request that would wait behind them, or longer than
``LOGIN_HASH_WAIT_S``, gets 429 too.
Unknown usernames take the same path (a dummy hash), so they are bounded
the same way and take as long as known ones.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import re
import secrets
import threading
from pathlib import Path
from urllib.parse import urlsplit

import argon2
import click
from flask.cli import with_appcontext
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import (Blueprint, Flask, abort, current_app, flash, g, jsonify, redirect, render_template, request,
                   session, url_for)
from flask_limiter import Limiter
from werkzeug.exceptions import TooManyRequests

from station.store import ConflictError, Store, StoreError, open_store
from web.db import get_store

__all__ = ["admin_required", "bp", "check_password_rules", "create_account", "hash_password", "login_required",
           "setup_token"]

bp = Blueprint("auth", __name__, url_prefix="/auth")

USERNAME_RULE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
MIN_PASSWORD, MAX_PASSWORD = 10, 1024

_setup_lock = threading.Lock()  # two first-run forms sent at once make one account


# -- hashing ----------------------------------------------------------------------

def _hasher(app: Flask | None = None) -> argon2.PasswordHasher:
    app = app or current_app
    hasher = app.extensions.get("wallhinge_hasher")
    if hasher is None:
        name = app.config["PASSWORD_HASHER"]
        profile = getattr(argon2.profiles, str(name), None)
        if not isinstance(profile, argon2.Parameters):
            raise ValueError(f"PASSWORD_HASHER {name!r} is not an argon2.profiles name, e.g. RFC_9106_LOW_MEMORY")
        hasher = app.extensions["wallhinge_hasher"] = argon2.PasswordHasher.from_parameters(profile)
    return hasher


class _HashSlots:
    """At most ``LOGIN_HASHES_AT_ONCE`` argon2 computations at a time, as many waiting, 429 beyond.

    A request waits at most ``LOGIN_HASH_WAIT_S`` for its turn; when as many
    are waiting already it gets 429 at once, so a flood never parks the
    server's threads here (the pages need them).
    """

    BUSY = "The station is busy checking other log-ins: try again in a moment."

    def __init__(self, at_once: int, wait_s: float):
        if isinstance(at_once, bool) or not isinstance(at_once, int) or at_once < 1:
            raise ValueError(f"LOGIN_HASHES_AT_ONCE must be a whole number of at least 1, not {at_once!r}")
        self._slots = threading.BoundedSemaphore(at_once)
        self._queue = threading.BoundedSemaphore(2 * at_once)  # running plus waiting
        self._wait_s = float(wait_s)

    def __enter__(self):
        if not self._queue.acquire(blocking=False):
            raise TooManyRequests(self.BUSY)
        if not self._slots.acquire(timeout=self._wait_s):
            self._queue.release()
            raise TooManyRequests(self.BUSY)
        return self

    def __exit__(self, *exc_info):
        self._slots.release()
        self._queue.release()


def _slots(app: Flask) -> _HashSlots:
    slots = app.extensions.get("wallhinge_hash_slots")
    if slots is None:
        slots = app.extensions["wallhinge_hash_slots"] = _HashSlots(app.config["LOGIN_HASHES_AT_ONCE"],
                                                                     app.config["LOGIN_HASH_WAIT_S"])
    return slots


def hash_password(password: str, *, app: Flask | None = None) -> str:
    """The argon2id hash string of a password, with the app's ``PASSWORD_HASHER`` profile."""
    app = app or current_app
    with _slots(app):
        return _hasher(app).hash(password)


def check_password_rules(username: str, password: str, confirm: str | None = None) -> str | None:
    """What is wrong with a new account's username and password, or None."""
    if not USERNAME_RULE.match(username or ""):
        return ("A username is 1 to 64 letters, digits, dots, dashes, underscores or @, "
                "starting with a letter or digit.")
    if len(password or "") < MIN_PASSWORD:
        return f"A password needs at least {MIN_PASSWORD} characters; a short sentence is easy to remember."
    if len(password) > MAX_PASSWORD:
        return f"A password may have at most {MAX_PASSWORD} characters."
    if password.casefold() == username.casefold():
        return "The password must not be the username."
    if confirm is not None and password != confirm:
        return "The two passwords differ."
    return None


def create_account(store: Store, username: str, password: str, *, app: Flask | None = None,
                   role: str = "clinician") -> int:
    """Add a clinician with a hashed password; return its id.

    For the first-run page and for tools such as the demo, which makes up a
    password and prints it.

    Raises
    ------
    ValueError
        The username or password breaks :func:`check_password_rules`.
    station.store.ConflictError
        The username is taken.
    """
    problem = check_password_rules(username, password)
    if problem:
        raise ValueError(problem)
    return store.add_clinician(username, password_hash=hash_password(password, app=app), role=role)


def _fingerprint(password_hash: str) -> str:
    key = current_app.secret_key.encode() if isinstance(current_app.secret_key, str) else current_app.secret_key
    return hmac.new(key, password_hash.encode(), hashlib.sha256).hexdigest()[:32]


# A hash to check against when the username is unknown, so both cases take as long.
_DUMMY: dict[str, str] = {}


def _verify(account: dict | None, password: str) -> bool:
    """Whether ``password`` is the account's; raises 429 (TooManyRequests) when the hash slots stay busy."""
    hasher = _hasher()
    with _slots(current_app._get_current_object()):
        if account is None:
            params = current_app.config["PASSWORD_HASHER"]
            dummy = _DUMMY.get(params) or _DUMMY.setdefault(params, hasher.hash("not a password of anyone"))
            try:
                hasher.verify(dummy, password)
            except VerificationError:
                pass
            return False
        try:
            return hasher.verify(account["password_hash"], password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False


def _client_address() -> str:
    """The client's address: behind nginx, the tablet's own (waitress trusts nginx's header, web/serve.py)."""
    return request.remote_addr or "unknown"


def _account_key() -> str:
    return "account:" + request.form.get("username", "").strip().casefold()[:64]


def _log_refused(limit) -> None:
    current_app.logger.warning("log-in refused, too many attempts (%s) from %s for %r", limit.limit,
                               _client_address(), request.form.get("username", "").strip()[:64])


def _was_checked(response) -> bool:
    """Whether a log-in attempt got as far as the password check (not refused with 429 first)."""
    return response.status_code != 429


def _limit_login(app: Flask) -> None:
    """Rate-limit POST /auth/login per client address and per account name (Flask-Limiter, in memory)."""
    limiter = Limiter(_client_address, storage_uri="memory://", strategy="moving-window", headers_enabled=True,
                      on_breach=_log_refused)
    limiter.init_app(app)
    message = "Too many log-in attempts: wait a few minutes, then try again."
    view = app.view_functions["auth.login"]
    view = limiter.limit(app.config["LOGIN_LIMIT_PER_CLIENT"], key_func=_client_address, methods=["POST"],
                         error_message=message, scope="login-client")(view)
    # The account's and the station's budgets count only attempts that reached the password check: a
    # flood refused for its address must not use them up and lock everyone else out.
    view = limiter.limit(app.config["LOGIN_LIMIT_PER_ACCOUNT"], key_func=_account_key, methods=["POST"],
                         error_message=message, scope="login-account", deduct_when=_was_checked)(view)
    # All clients together: a flood from many addresses (through nginx) still costs a bounded share of the CPU.
    view = limiter.limit(app.config["LOGIN_LIMIT_ALL"], key_func=lambda: "all", methods=["POST"],
                         error_message=message, scope="login-all", deduct_when=_was_checked)(view)
    app.view_functions["auth.login"] = view
    app.extensions["wallhinge_login_limiter"] = limiter


# -- the logged-in clinician --------------------------------------------------------

def _load_logged_in_clinician() -> None:
    g.clinician = None
    if request.endpoint == "static":
        return
    username = session.get("clinician")
    if not username:
        return
    account = get_store().get_clinician(username)
    if (account is None or not hmac.compare_digest(session.get("key", ""), _fingerprint(account["password_hash"]))
            or session.get("epoch") != account["session_epoch"]):
        session.clear()
        return
    g.clinician = {"id": account["id"], "username": account["username"], "role": account["role"]}


def login_required(view=None, *, json: bool = False):
    """Refuse a request without a logged-in clinician: a redirect to log-in, or 401 JSON with ``json=True``.

    Use as ``@login_required`` on pages and ``@login_required(json=True)``
    on routes that scripts call (the API, the live stream and commands).
    """
    def decorate(view):
        @functools.wraps(view)
        def wrapped(**kwargs):
            if g.get("clinician") is None:
                if json:
                    response = jsonify(error="log in first: POST the log-in form at /auth/login")
                    response.status_code = 401
                    return response
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            return view(**kwargs)
        return wrapped
    return decorate if view is None else decorate(view)


def admin_required(view):
    """Refuse a request without a logged-in admin: log-in first, then 403 for a clinician."""
    @functools.wraps(view)
    def wrapped(**kwargs):
        if g.get("clinician") is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        if g.clinician["role"] != "admin":
            abort(403, "Only an administrator manages accounts and kiosks: ask the station's administrator.")
        return view(**kwargs)
    return wrapped


def _safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def _log_in(account: dict) -> None:
    session.clear()  # a fresh session: nothing from before the log-in survives
    session["clinician"] = account["username"]
    session["key"] = _fingerprint(account["password_hash"])
    session["epoch"] = account["session_epoch"]
    session.permanent = True


# -- views --------------------------------------------------------------------------

def _has_accounts() -> bool:
    return bool(get_store().list_clinicians())


#: The first-run token's file in the instance folder.
SETUP_TOKEN_FILE = "setup_token"


def setup_token(instance_path: str | os.PathLike) -> str:
    """The first-run set-up token of an instance folder, made (mode 0600) on first use."""
    folder = Path(instance_path)
    path = folder / SETUP_TOKEN_FILE
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as file:
            file.write(secrets.token_urlsafe(12) + "\n")
    return path.read_text(encoding="ascii").strip()


def _setup_token_matches(given: str) -> bool:
    try:
        expected = setup_token(current_app.instance_path)
    except (OSError, FileExistsError):
        return False
    return bool(given) and hmac.compare_digest(given.strip().encode(), expected.encode())


@bp.route("/setup", methods=("GET", "POST"))
def setup():
    """First run: make the first account (the admin), with the installer's one-time token. Gone once any account exists."""
    if _has_accounts():
        flash("The dashboard is set up: log in.", "info")
        return redirect(url_for("auth.login"))
    token = request.values.get("token", "")
    if request.method == "GET":
        setup_token(current_app.instance_path)  # there from now on, for the installer or `wallhinge setup-token`
        return render_template("auth/setup.html", token=token)
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    if not _setup_token_matches(token):
        current_app.logger.warning("first-run set-up refused: wrong token from %s", request.remote_addr)
        return render_template("auth/setup.html", username=username, token="",
                               error="The set-up token is wrong. The installer printed it; on the station, "
                                     "`wallhinge setup-token` prints it again."), 403
    problem = check_password_rules(username, password, request.form.get("confirm", ""))
    if problem:
        return render_template("auth/setup.html", error=problem, username=username, token=token), 400
    store = get_store()
    with _setup_lock:
        if _has_accounts():
            flash("Someone else set up the dashboard a moment ago: log in.", "info")
            return redirect(url_for("auth.login"))
        create_account(store, username, password, role="admin")
    (Path(current_app.instance_path) / SETUP_TOKEN_FILE).unlink(missing_ok=True)  # one time only
    _log_in(store.get_clinician(username))
    flash(f"Welcome, {username}. Add your patients, or open the live session.", "info")
    return redirect(url_for("dashboard.patients"))


@bp.route("/login", methods=("GET", "POST"))
def login():
    if not _has_accounts():
        return redirect(url_for("auth.setup"))
    next_url = _safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("auth/login.html", next=next_url)
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    if not username or not password:
        return render_template("auth/login.html", error="Enter your username and password.", username=username,
                               next=next_url), 400
    store = get_store()
    account = store.get_clinician(username)
    if not _verify(account, password):
        current_app.logger.warning("log-in failed for %r from %s", username[:64], _client_address())
        return render_template("auth/login.html", error="Wrong username or password.", username=username,
                               next=next_url), 401
    if _hasher().check_needs_rehash(account["password_hash"]):
        store.set_clinician_password(account["username"], password_hash=hash_password(password))
        account = store.get_clinician(account["username"])
    _log_in(account)
    return redirect(next_url or url_for("dashboard.patients"))


@bp.route("/logout", methods=("POST",))
def logout():
    if g.get("clinician") is not None:
        try:  # every copy of this cookie (and the account's other log-ins) stops working now
            get_store().end_clinician_sessions(g.clinician["username"])
        except StoreError as error:
            current_app.logger.error("log-out of %s could not end the account's other sessions: %s",
                                     g.clinician["username"], error)
    session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/clinicians", methods=("GET", "POST"))
@admin_required
def clinicians():
    """The accounts, and a form to add one (for a colleague); for admins."""
    store = get_store()
    if request.method == "GET":
        return render_template("auth/clinicians.html", accounts=store.list_clinicians())
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    problem = check_password_rules(username, password, request.form.get("confirm", ""))
    if problem is None:
        try:
            create_account(store, username, password,
                           role="admin" if request.form.get("role") == "admin" else "clinician")
        except ConflictError:
            problem = f"The username {username} is taken."
    if problem:
        return render_template("auth/clinicians.html", accounts=store.list_clinicians(), error=problem,
                               username=username), 400
    flash(f"Account {username} added. Give them the password in person.", "info")
    return redirect(url_for("auth.clinicians"))


@bp.route("/password", methods=("GET", "POST"))
@login_required
def password():
    """Change one's own password (and log out every other device)."""
    if request.method == "GET":
        return render_template("auth/password.html")
    store = get_store()
    account = store.get_clinician(g.clinician["username"])
    if not _verify(account, request.form.get("current", "")):
        return render_template("auth/password.html", error="The current password is wrong."), 400
    new = request.form.get("password", "")
    problem = check_password_rules(account["username"], new, request.form.get("confirm", ""))
    if problem:
        return render_template("auth/password.html", error=problem), 400
    store.set_clinician_password(account["username"], password_hash=hash_password(new))
    _log_in(store.get_clinician(account["username"]))
    flash("Password changed. Other devices have been logged out.", "info")
    return redirect(url_for("dashboard.patients"))


# -- command line -------------------------------------------------------------------

@click.command("add-clinician")
@with_appcontext
@click.argument("username")
@click.option("--admin", is_flag=True, help="the account manages accounts and kiosks")
@click.password_option(confirmation_prompt=True)
def add_clinician_command(username: str, password: str, admin: bool) -> None:
    """Add a clinician account (the password is asked for, never taken from a file)."""
    with open_store(current_app.config["DATABASE"]) as store:
        try:
            create_account(store, username, password, role="admin" if admin else "clinician")
        except (ValueError, ConflictError) as error:
            raise click.ClickException(str(error)) from None
    click.echo(f"account {username} added")


@click.command("set-password")
@with_appcontext
@click.argument("username")
@click.password_option(confirmation_prompt=True)
def set_password_command(username: str, password: str) -> None:
    """Set a clinician's password, e.g. when they have forgotten it."""
    problem = check_password_rules(username, password)
    if problem:
        raise click.ClickException(problem)
    with open_store(current_app.config["DATABASE"]) as store:
        if store.get_clinician(username) is None:
            raise click.ClickException(f"no clinician is called {username}")
        store.set_clinician_password(username, password_hash=hash_password(password))
    click.echo(f"password of {username} changed")


def init_app(app: Flask) -> None:
    _hasher(app)  # a misspelt PASSWORD_HASHER stops the start, not the first log-in
    _slots(app)
    _limit_login(app)
    app.before_request(_load_logged_in_clinician)
    app.cli.add_command(add_clinician_command)
    app.cli.add_command(set_password_command)
