"""The store: one open connection to the station's or the clinic's database, and its accounts, patients and targets.

A :class:`Store` is opened on a database URL or a file path (see
:mod:`station.store.engine`), creating or upgrading the schema if need be
(see :mod:`station.store.migrate`). Use one per thread, as a context manager
or with :meth:`Store.close`: an SQLite connection stays in the thread that
made it.

- Every write is its own transaction and commits before the method returns.
  A rep is committed the moment :meth:`Store.add_rep` is called, so a power
  cut loses at most the rep in progress.
- A station's file: WAL journal, so the dashboard reads while the station
  writes; foreign keys enforced; a busy timeout, so two writers wait for each
  other rather than fail; ``synchronous = FULL``, so a committed rep
  survives a power cut.
- The SQL is written once for SQLite and PostgreSQL: case-blind codes and
  user names through ``lower()``, times from Python, no SQLite-only
  functions.

Sessions, sets and reps are in :mod:`station.store.records`; a station's
delivery to the clinic server in :mod:`station.store.outbox`.
"""

from __future__ import annotations

import datetime as _dt
import json
import sqlite3
import time
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, SQLAlchemyError

from station.patient_targets import TARGET_DEFAULTS, check_target
from station.store import migrate, schema
from station.store.codec import UNCHANGED, as_dict, count, flag, number, text_value, timestamp
from station.store.engine import database_url, engine_for, is_sqlite, sqlite_path
from station.errors import ConflictError, NotFoundError, StoreError
from station.store.records import SessionRecords, sql

__all__ = ["Store", "open_store"]

_PATIENT_COLUMNS = "p.id, p.code, p.display_name, p.created, p.archived"


def open_store(where, *, busy_timeout_s: float = 5.0, read_only: bool = False) -> "Store":
    """Open (creating or upgrading if need be) the database at ``where``: a file path or a database URL.

    Parameters
    ----------
    where : str or Path
        A station's SQLite file (created with the current schema if
        missing), or a URL: ``sqlite:///PATH`` or
        ``postgresql+psycopg://USER:PASSWORD@HOST/DATABASE``.
    busy_timeout_s : float
        How long a write waits for another connection's write to finish (s).
    read_only : bool
        Open an existing SQLite store for reading only (e.g. on a file or
        disk that became read-only): no migration, and every write raises
        StoreError.

    Raises
    ------
    StoreError
        The file is not a Wall Hinge store, is from a newer version of the
        station, is damaged, or its folder does not exist; the server cannot
        be reached.
    """
    return Store(where, busy_timeout_s=busy_timeout_s, read_only=read_only)


def _journal_mode_wal(raw: sqlite3.Connection, busy_s: float) -> str:
    """Put an SQLite file in WAL mode and return the mode it is in.

    The switch needs the file to itself and SQLite does not wait for it
    (busy timeout or not): two processes or threads opening a new store
    together would fail one with "database is locked". So it is tried again
    for up to ``busy_s`` seconds; the mode, once set, stays with the file.
    """
    deadline = time.monotonic() + busy_s
    while True:
        try:
            return raw.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() >= deadline:
                raise
            time.sleep(0.02)


class Store(SessionRecords):
    """An open connection to the station's (or the clinic's) database; see the module's docs.

    Parameters are those of :func:`open_store`. ``path`` is the SQLite file
    (None on a server), ``url`` the database URL without its password.
    """

    def __init__(self, where, *, busy_timeout_s: float = 5.0, read_only: bool = False):
        url = database_url(where)
        self.path = sqlite_path(url)
        self.url = url.render_as_string(hide_password=True)
        self.read_only = read_only
        busy = number(busy_timeout_s, "busy_timeout_s", positive=True)
        if self.path is not None:
            self._conn = self._open_sqlite(busy)
        else:
            self._conn = self._open_server(url)
        self.dialect = self._conn.dialect.name

    def _open_sqlite(self, busy: float) -> Connection:
        if not self.path.parent.is_dir():
            raise StoreError(f"cannot open the store {self.path}: folder {self.path.parent} does not exist")
        if self.read_only and not self.path.is_file():
            raise StoreError(f"cannot open the store {self.path}: there is no such file")
        engine = engine_for(database_url(self.path), read_only=self.read_only, busy_timeout_s=busy)
        try:
            connection = engine.connect()
        except DBAPIError as error:
            raise self._sqlite_failure(error.orig) from None
        try:
            raw = connection.connection.dbapi_connection
            version = migrate.check_identity(raw, self.path)
            if self.read_only:
                if version != len(schema.MIGRATIONS):
                    raise StoreError(f"the store {self.path} is at schema version {version}, not "
                                     f"{len(schema.MIGRATIONS)}, and cannot be upgraded while it is read-only")
                return connection
            self._prepare_sqlite(raw, new=version == 0, busy_s=busy)
        except sqlite3.Error as error:
            connection.close()
            raise self._sqlite_failure(error) from None
        except BaseException:
            connection.close()
            raise
        return connection

    def _prepare_sqlite(self, raw: sqlite3.Connection, *, new: bool, busy_s: float) -> None:
        if new:
            # Before WAL, which fixes it: 8 KiB pages hold five rep series
            # (about 1.5 kB each) where 4 KiB pages hold two.
            raw.execute(f"PRAGMA page_size = {schema.PAGE_SIZE}")
        raw.execute("PRAGMA foreign_keys = ON")
        mode = _journal_mode_wal(raw, busy_s)
        if mode != "wal":
            raise StoreError(f"cannot put {self.path} in WAL mode (got {mode}): keep the store on a local disk")
        # FULL: every commit reaches the disk, so a committed rep survives a power cut.
        raw.execute("PRAGMA synchronous = FULL")
        migrate.migrate_sqlite(raw, self.path)

    def _sqlite_failure(self, error: BaseException) -> StoreError:
        if isinstance(error, sqlite3.OperationalError):
            return StoreError(migrate.open_failure(self.path, error))
        if isinstance(error, sqlite3.DatabaseError):
            return StoreError(f"{self.path} is not a Wall Hinge store database ({error}): "
                              "check the path, or restore a backup")
        return StoreError(f"cannot open the store {self.path}: {error}")

    def _open_server(self, url) -> Connection:
        if self.read_only:
            raise StoreError("read-only opening is for a station's SQLite file, not a clinic server")
        try:
            connection = engine_for(url).connect()
        except SQLAlchemyError as error:
            raise StoreError(f"cannot reach the clinic database {self.url}: {_first_line(error)}") from None
        try:
            migrate.migrate_postgresql(connection, self.url)
        except SQLAlchemyError as error:
            connection.close()
            raise StoreError(f"cannot set up the clinic database {self.url}: {_first_line(error)}") from None
        except BaseException:
            connection.close()
            raise
        return connection

    # -- plumbing

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({str(self.path if self.path is not None else self.url)!r})"

    @property
    def where(self) -> str:
        """The file or (password hidden) URL, for messages."""
        return str(self.path) if self.path is not None else self.url

    def close(self) -> None:
        """Close the connection (an SQLite file's, or give a server's back to the pool); safe to call twice."""
        self._conn.close()

    @property
    def schema_version(self) -> int:
        """The schema version: SQLite's ``PRAGMA user_version``, PostgreSQL's ``wallhinge_schema`` stamp."""
        with self._read() as db:
            if is_sqlite(db.engine.url):
                return db.exec_driver_sql("PRAGMA user_version").scalar()
            return migrate.postgresql_version(db)

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """One write transaction, committed at the end of the block or rolled back on error."""
        # A read-only store is refused by SQLite itself ("readonly database"), which says why.
        self._conn.info["writing"] = True
        try:
            transaction = self._conn.begin()
        except OperationalError as error:
            raise self._write_refused(error) from None
        finally:
            self._conn.info["writing"] = False
        try:
            yield self._conn
            transaction.commit()
        except OperationalError as error:  # e.g. the disk is full or gone, the server went away
            if transaction.is_active:
                transaction.rollback()
            raise StoreError(f"writing to the store {self.where} failed ({_first_line(error)}); nothing was written") \
                from error
        except BaseException:
            if transaction.is_active:
                transaction.rollback()
            raise

    def _write_refused(self, error: OperationalError) -> StoreError:
        message = _first_line(error)
        if "locked" in message or "busy" in message:
            return StoreError(f"the store {self.where} is busy ({message}): another program holds it; try again")
        if self.path is None:
            return StoreError(f"the clinic database {self.where} cannot be reached ({message}); nothing was written")
        return StoreError(f"the store {self.where} cannot be written ({message}): the file, its folder or the disk "
                          "is read-only or full; nothing was written")

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """A read transaction, so several queries see one snapshot (the one in progress, if any)."""
        if self._conn.in_transaction():
            yield self._conn
            return
        try:
            transaction = self._conn.begin()
        except OperationalError as error:
            raise StoreError(f"cannot read the store {self.where}: {_first_line(error)}") from None
        try:
            yield self._conn
        finally:
            if transaction.is_active:
                transaction.commit()

    def _all(self, statement: str, **parameters) -> list:
        with self._read() as db:
            return db.execute(sql(statement), parameters).fetchall()

    def _one(self, statement: str, **parameters):
        with self._read() as db:
            return db.execute(sql(statement), parameters).first()

    def _insert(self, db: Connection, statement: str, **parameters) -> int:
        """Run an ``INSERT ... RETURNING id`` and give the new row's id."""
        return db.execute(sql(statement + " RETURNING id"), parameters).scalar_one()

    @contextmanager
    def _write_unique(self, taken: str) -> Iterator[Connection]:
        """A write transaction in which a row that breaks a unique key is ConflictError(``taken``)."""
        try:
            with self._write() as db:
                yield db
        except IntegrityError:
            raise ConflictError(taken) from None

    def _require(self, table: str, row_id, what: str) -> None:
        if self._one(f"SELECT 1 FROM {table} WHERE id = :id", id=row_id) is None:
            raise NotFoundError(f"{what} {row_id} does not exist")

    # -- clinicians

    def add_clinician(self, username: str, *, password_hash: str, role: str = "clinician") -> int:
        """Add a clinician account and return its id.

        ``password_hash`` is the web layer's hash string; the store keeps it
        as it is. Usernames are unique regardless of case. ``role`` is one of
        :data:`~station.store.schema.ROLES`.

        Raises
        ------
        ConflictError
            The username is taken.
        ValueError
            An empty username or hash, or a role not in the list.
        """
        username = text_value(username, "username")
        password_hash = text_value(password_hash, "password_hash")
        if role not in schema.ROLES:
            raise ValueError(f"role must be one of {', '.join(schema.ROLES)}, not {role!r}")
        with self._write_unique(f"the username {username!r} is taken") as db:
            return self._insert(db, "INSERT INTO clinicians (username, password_hash, role, created)"
                                    " VALUES (:username, :hash, :role, :now)",
                                username=username, hash=password_hash, role=role, now=timestamp(None, "now"))

    def get_clinician(self, username: str) -> dict | None:
        """The account ``{id, username, password_hash, created, role, session_epoch}`` for a username (any case), or None."""
        return as_dict(self._one("SELECT id, username, password_hash, created, role, session_epoch FROM clinicians"
                                 " WHERE lower(username) = lower(:username)", username=username))

    def end_clinician_sessions(self, username: str) -> int:
        """Raise the account's session epoch, which ends every log-in session made before; return the new epoch.

        Raises
        ------
        NotFoundError
            No such username.
        """
        with self._write() as db:
            changed = db.execute(sql("UPDATE clinicians SET session_epoch = session_epoch + 1"
                                     " WHERE lower(username) = lower(:username)"), {"username": username}).rowcount
        if not changed:
            raise NotFoundError(f"no clinician is called {username!r}")
        return self.get_clinician(username)["session_epoch"]

    def set_clinician_password(self, username: str, *, password_hash: str) -> None:
        """Replace a clinician's password hash.

        Raises
        ------
        NotFoundError
            No such username.
        """
        password_hash = text_value(password_hash, "password_hash")
        with self._write() as db:
            changed = db.execute(sql("UPDATE clinicians SET password_hash = :hash"
                                     " WHERE lower(username) = lower(:username)"),
                                 {"hash": password_hash, "username": username}).rowcount
        if not changed:
            raise NotFoundError(f"no clinician is called {username!r}")

    def list_clinicians(self) -> list[dict]:
        """Every account as ``{id, username, created, role}`` (no hashes), by username."""
        return [as_dict(row) for row in self._all("SELECT id, username, created, role FROM clinicians"
                                                  " ORDER BY lower(username), username")]

    # -- patients and targets

    def add_patient(self, *, code: str, display_name: str) -> int:
        """Add a patient and return their id.

        Parameters
        ----------
        code : str
            The clinic's pseudonymous code, unique regardless of case.
        display_name : str
            How the dashboard shows the patient (e.g. first name and initial).

        Raises
        ------
        ConflictError
            The code is taken.
        """
        code = text_value(code, "code")
        display_name = text_value(display_name, "display_name")
        with self._write_unique(f"the patient code {code!r} is taken") as db:
            return self._insert(db, "INSERT INTO patients (code, display_name, created) VALUES (:code, :name, :now)",
                                code=code, name=display_name, now=timestamp(None, "now"))

    def update_patient(self, patient_id: int, *, code: str = UNCHANGED, display_name: str = UNCHANGED,
                       archived: bool = UNCHANGED) -> dict:
        """Change a patient's code, display name or archived flag; return the patient.

        Raises
        ------
        NotFoundError
            No such patient.
        ConflictError
            The new code is taken.
        """
        changes = {}
        if code is not UNCHANGED:
            changes["code"] = text_value(code, "code")
        if display_name is not UNCHANGED:
            changes["display_name"] = text_value(display_name, "display_name")
        if archived is not UNCHANGED:
            changes["archived"] = flag(archived, "archived")
        with self._write_unique(f"the patient code {changes.get('code')!r} is taken") as db:
            self._require("patients", patient_id, "patient")
            if changes:
                assignments = ", ".join(f"{name} = :{name}" for name in changes)
                db.execute(sql(f"UPDATE patients SET {assignments} WHERE id = :id"), {**changes, "id": patient_id})
        return self.get_patient(patient_id)

    def get_patient(self, patient_id: int) -> dict | None:
        """The patient ``{id, code, display_name, created, archived}``, or None."""
        return as_dict(self._one(f"SELECT {_PATIENT_COLUMNS} FROM patients p WHERE p.id = :id", id=patient_id),
                       ("archived",))

    def get_patient_by_code(self, code: str) -> dict | None:
        """The patient with this code (any case), or None."""
        return as_dict(self._one(f"SELECT {_PATIENT_COLUMNS} FROM patients p WHERE lower(p.code) = lower(:code)",
                                 code=code), ("archived",))

    def _patients(self, where: str, parameters: dict, limit: int | None) -> list[dict]:
        # The two subqueries walk sessions_by_patient: cheap however many sessions there are.
        statement = (f"SELECT {_PATIENT_COLUMNS},"
                     " (SELECT max(started) FROM sessions WHERE patient_id = p.id) AS last_session,"
                     " (SELECT count(*) FROM sessions WHERE patient_id = p.id) AS sessions"
                     f" FROM patients p WHERE {where} ORDER BY lower(p.display_name), p.code")
        if limit is not None:
            statement += " LIMIT :limit"
            parameters = {**parameters, "limit": count(limit, "limit")}
        return [as_dict(row, ("archived",)) for row in self._all(statement, **parameters)]

    def list_patients(self, *, include_archived: bool = False, limit: int | None = None) -> list[dict]:
        """Patients by display name, each with their activity.

        Each dict has ``id, code, display_name, created, archived``,
        ``last_session`` (start time of their latest session, or None) and
        ``sessions`` (how many they have had).
        """
        return self._patients("1 = 1" if include_archived else "p.archived = 0", {}, limit)

    def search_patients(self, text: str, *, include_archived: bool = False, limit: int | None = 50) -> list[dict]:
        """Patients whose code or display name contains ``text`` (ASCII letters in any case).

        Same dicts as :meth:`list_patients`.
        """
        if not isinstance(text, str):
            raise ValueError(f"search text must be text, not {text!r}")
        pattern = "%" + text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where = (r"(lower(p.code) LIKE lower(:pattern) ESCAPE '\'"
                 r" OR lower(p.display_name) LIKE lower(:pattern) ESCAPE '\')")
        if not include_archived:
            where += " AND p.archived = 0"
        return self._patients(where, {"pattern": pattern}, limit)

    def get_targets(self, patient_id: int) -> dict:
        """A patient's targets, with the defaults where none were set.

        Keys: ``patient_id``; ``standoff_mm`` (heels to wall, mm, default
        100); ``target_trunk_angle_deg`` (degrees, None = no target);
        ``reps_per_set`` (default 12); ``sets`` (default 3); the five
        thresholds of :class:`~station.faults.Thresholds`
        (``touch_tolerance_mm``, ``max_knee_flexion_deg``,
        ``max_spine_flexion_deg``, ``min_descent_s``, ``upright_angle_deg``;
        None = the default, see :func:`~station.store.codec.thresholds_from_targets`);
        ``updated`` (None if never set).

        Raises
        ------
        NotFoundError
            No such patient.
        """
        with self._read():
            self._require("patients", patient_id, "patient")
            row = self._one("SELECT * FROM targets WHERE patient_id = :id", id=patient_id)
        if row is None:
            return {"patient_id": patient_id, **TARGET_DEFAULTS, "updated": None}
        return as_dict(row)

    def set_targets(self, patient_id: int, **given) -> dict:
        """Change some of a patient's targets; return them all (as :meth:`get_targets`).

        Keywords are the names of :data:`station.patient_targets.TARGET_FIELDS`
        (``standoff_mm``, ``target_trunk_angle_deg``, ``reps_per_set``,
        ``sets`` and the five thresholds), in their units and ranges;
        those left out keep their value, and ``None`` puts a target back to
        its default.

        Raises
        ------
        NotFoundError
            No such patient.
        ValueError
            A value out of range, named.
        """
        unknown = sorted(set(given) - set(TARGET_DEFAULTS))
        if unknown:
            raise TypeError(f"set_targets() got an unexpected keyword argument {unknown[0]!r}")
        checked = {name: TARGET_DEFAULTS[name] if value is None else check_target(name, value)
                   for name, value in given.items() if value is not UNCHANGED}
        now = timestamp(None, "now")
        with self._write() as db:
            self._require("patients", patient_id, "patient")
            db.execute(sql("INSERT INTO targets (patient_id, updated) VALUES (:id, :now)"
                           " ON CONFLICT (patient_id) DO NOTHING"), {"id": patient_id, "now": now})
            assignments = "".join(f"{name} = :{name}, " for name in checked)
            db.execute(sql(f"UPDATE targets SET {assignments}updated = :now WHERE patient_id = :id"),
                       {**checked, "now": now, "id": patient_id})
        return self.get_targets(patient_id)

    # -- calibrations

    def add_calibration(self, document: str) -> int:
        """Keep a calibration and return its id.

        Parameters
        ----------
        document : str
            The calibration JSON as :func:`station.calibration.save_calibration`
            writes it; its ``created``, ``source``, ``frames_used`` and
            ``quality`` figures (floor and wall RMS in mm, inlier shares 0-1,
            angle between the planes in degrees) are kept as columns too.

        Raises
        ------
        ValueError
            Not such a JSON document.
        """
        names = ("floor_rms_mm", "wall_rms_mm", "floor_share", "wall_share", "planes_angle_deg")
        try:
            parsed = json.loads(document)
            quality = parsed["quality"]
            frames_used = parsed.get("frames_used")
            values = {"created": timestamp(_dt.datetime.fromisoformat(parsed["created"]), "created"),
                      "source": text_value(parsed["source"], "source"),
                      "frames_used": None if frames_used is None else count(frames_used, "frames_used"),
                      **{name: number(quality[name], name, optional=True) for name in names}}
        except (TypeError, KeyError, json.JSONDecodeError, ValueError) as error:
            raise ValueError(f"not a calibration document ({type(error).__name__}: {error})") from None
        with self._write() as db:
            return self._insert(db, "INSERT INTO calibrations (created, source, frames_used, floor_rms_mm,"
                                    " wall_rms_mm, floor_share, wall_share, planes_angle_deg, document)"
                                    " VALUES (:created, :source, :frames_used, :floor_rms_mm, :wall_rms_mm,"
                                    " :floor_share, :wall_share, :planes_angle_deg, :document)",
                                **values, document=document)

    def latest_calibration(self) -> dict | None:
        """The newest calibration (by ``created``) with its ``document`` text, or None."""
        return as_dict(self._one("SELECT * FROM calibrations ORDER BY created DESC, id DESC LIMIT 1"))

    def get_calibration(self, calibration_id: int) -> dict | None:
        """One calibration with its ``document`` text, or None."""
        return as_dict(self._one("SELECT * FROM calibrations WHERE id = :id", id=calibration_id))

    def list_calibrations(self, *, limit: int = 20) -> list[dict]:
        """The newest calibrations first, without their documents (quality figures only)."""
        rows = self._all("SELECT id, created, source, frames_used, floor_rms_mm, wall_rms_mm, floor_share,"
                         " wall_share, planes_angle_deg FROM calibrations ORDER BY created DESC, id DESC"
                         " LIMIT :limit", limit=count(limit, "limit"))
        return [as_dict(row) for row in rows]


def _first_line(error: BaseException) -> str:
    """A database error's own message, without SQLAlchemy's statement and link lines."""
    original = getattr(error, "orig", None) or error
    return str(original).strip().splitlines()[0] if str(original).strip() else type(original).__name__
