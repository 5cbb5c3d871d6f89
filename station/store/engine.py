"""Where the database lives, as one database URL, and the SQLAlchemy connection to it.

The store speaks SQLite (a station's own file, the default) and PostgreSQL
(a clinic's server) through SQLAlchemy Core: the URL chooses the dialect and
the driver (Python's ``sqlite3``, psycopg 3), and the store's SQL is written
once for both. What still differs between them is kept here and in
:mod:`station.store.schema`: how a connection is set up, how a transaction
begins, how an error names the constraint it broke.

URLs
----
- ``sqlite:////var/lib/wallhinge/station.db`` (or a plain path) is a
  station's own file: WAL, foreign keys, ``synchronous = FULL``, a busy
  timeout, one connection per :class:`~station.store.Store` kept in its
  thread (no pool: a write lock is per connection).
- ``postgresql+psycopg://wallhinge:PASSWORD@clinic-server/wallhinge`` is a
  clinic's database: pooled connections checked out per store, a connect
  timeout, so a station whose network is down learns it in seconds. The
  pools are closed when the process exits (:func:`close_engines`), so the
  server sees each connection end, not a dropped socket.
"""

from __future__ import annotations

import atexit
import functools
import os
import sqlite3
import threading
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import NullPool

from station.errors import StoreError

__all__ = ["DEFAULT_DATABASE", "close_engines", "constraint_broken", "database_url", "engine_for", "is_sqlite",
           "sqlite_path"]

#: Where a station keeps its database when its settings name none: ``station.db`` in its data folder.
DEFAULT_DATABASE = "station.db"

#: How long a station waits for the clinic server to answer a connection (s).
CONNECT_TIMEOUT_S = 3

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def database_url(where: str | os.PathLike, *, base: str | os.PathLike | None = None) -> URL:
    """The SQLAlchemy URL of a database named by a URL or by a file path (relative to ``base``).

    Raises
    ------
    StoreError
        A URL for a database the store does not speak.
    """
    text = os.fspath(where)
    if "://" not in text:
        path = Path(text).expanduser()
        if base is not None and not path.is_absolute():
            path = Path(base).expanduser() / path
        return URL.create("sqlite", database=str(path))
    try:
        url = make_url(text)
    except ArgumentError:
        raise StoreError(f"{text!r} is not a database URL (e.g. postgresql+psycopg://user@host/wallhinge)") from None
    if url.get_backend_name() == "postgresql":
        return url.set(drivername="postgresql+psycopg")  # psycopg 3 is the driver the station installs
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return url.set(drivername="sqlite")
    raise StoreError(f"the store keeps its data in an SQLite file or a PostgreSQL database, not {url!r}")


def is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def sqlite_path(url: URL) -> Path | None:
    """The file of an SQLite URL, or None for a server's database."""
    return Path(url.database) if is_sqlite(url) else None


def engine_for(url: URL, *, read_only: bool = False, busy_timeout_s: float = 5.0) -> Engine:
    """The engine of a database URL: a new one per SQLite store, one shared pool per PostgreSQL URL."""
    if is_sqlite(url):
        return _sqlite_engine(Path(url.database).absolute(), read_only=read_only, busy_timeout_s=busy_timeout_s)
    key = url.render_as_string(hide_password=False)
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            # Up to 25 connections: the dashboard serves 16 threads, each with a store open per request.
            # No JIT: the dashboard's queries are short, and compiling them cost more than it saved
            # (10-30 ms on the patient list of a clinic group's year, bench_clinic_db.py).
            engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=20,
                                   connect_args={"connect_timeout": CONNECT_TIMEOUT_S, "options": "-c jit=off"})
            _engines[key] = engine
        return engine


def close_engines() -> None:
    """Close the pooled connections to every PostgreSQL database this process used (run at exit).

    A store checked out later opens a new pool; a connection in use is
    closed when it is given back.
    """
    with _engines_lock:
        engines = list(_engines.values())
        _engines.clear()
    for engine in engines:
        engine.dispose()


atexit.register(close_engines)


@functools.lru_cache(maxsize=64)
def _sqlite_engine(path: Path, *, read_only: bool, busy_timeout_s: float) -> Engine:
    """An engine on one SQLite file that opens ``sqlite3`` connections the store's way (made once per file and mode).

    ``isolation_level=None`` leaves transactions to the store, which begins
    a write with ``BEGIN IMMEDIATE`` (so two writers wait for each other
    instead of failing half-way) and a read with ``BEGIN`` (one snapshot);
    the connection stays in the thread that opened it.
    """
    modes = ("mode=ro", "immutable=1") if read_only else (None,)

    def connect():
        error = None
        for mode in modes:
            try:
                target, uri = (path, False) if mode is None else (f"{path.resolve().as_uri()}?{mode}", True)
                connection = sqlite3.connect(target, uri=uri, timeout=busy_timeout_s, isolation_level=None)
                if mode == "mode=ro":
                    connection.execute("SELECT count(*) FROM sqlite_master").fetchone()  # WAL's -shm may fail here
                return connection
            except sqlite3.Error as failed:
                error = failed
        raise error

    engine = create_engine("sqlite://", creator=connect, poolclass=NullPool)

    @event.listens_for(engine, "begin")
    def begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE" if connection.info.get("writing") else "BEGIN")

    return engine


def constraint_broken(error: BaseException) -> str | None:
    """Which kind of constraint a database error broke: ``unique``, ``foreign_key``, ``check``, ``not_null`` or None."""
    original = getattr(error, "orig", error)
    name = getattr(original, "sqlite_errorname", None)
    if name:
        return {"SQLITE_CONSTRAINT_UNIQUE": "unique", "SQLITE_CONSTRAINT_PRIMARYKEY": "unique",
                "SQLITE_CONSTRAINT_FOREIGNKEY": "foreign_key", "SQLITE_CONSTRAINT_CHECK": "check",
                "SQLITE_CONSTRAINT_NOTNULL": "not_null"}.get(name)
    state = getattr(original, "sqlstate", None)
    return {"23505": "unique", "23503": "foreign_key", "23514": "check", "23502": "not_null"}.get(state)
