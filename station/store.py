"""The station's SQLite database: patients, targets, sessions, sets, reps and their series.

One file holds everything the station keeps. Open it with :func:`open_store`
(or :class:`Store`); each thread opens its own :class:`Store`, since a
connection stays in the thread that made it.

The file
--------
- WAL journal, so the dashboard reads while the station writes; foreign keys
  enforced; a busy timeout, so two writers wait for each other rather than
  fail; ``synchronous = FULL``, so a committed rep survives a power cut.
- Every write is its own transaction and commits before the method returns.
  A rep is committed the moment :meth:`Store.add_rep` is called, so a power
  cut loses at most the rep in progress.
- ``PRAGMA application_id`` marks the file as a Wall Hinge store and
  ``PRAGMA user_version`` holds its schema version.

Migrations
----------
:data:`MIGRATIONS` is the ordered list of schema steps; step *n* (1-based)
takes a database from version *n - 1* to *n*. Opening a store applies the
missing steps, each in its own transaction together with the new
``user_version``, and checks the foreign keys before committing, so a step
either applies whole or not at all and data is never lost. A database from a
newer version of the station is refused with :class:`StoreError`. Released
steps are never edited: a change is a new step at the end (the tests keep a
checksum of each released step).

Conventions
-----------
- Times of day (``created``, ``started``, ``ended``, ``recorded``) are UTC,
  ISO 8601 text with milliseconds, ``2026-05-09T07:35:25.120Z``: they sort as
  text and SQLite's date functions read them.
- Rep times (``start_s``, ``bottom_s``, ``end_s``, series ``t_s``) are seconds
  from the session source's first frame, as ``wallhinge analyze`` reports.
- Distances are millimetres, angles degrees, durations seconds; the units are
  in the names.
- Rows come back as plain dicts (JSON-ready except for series arrays), with
  flags as bools; a missing row is ``None`` from a ``get_`` method.
- A rep's per-frame series are float32 blobs, little-endian, NaN where a
  measure was not available (see :func:`encode_series`).

Errors
------
:class:`StoreError` when the file cannot be used (not a store, from a newer
version, busy, damaged); :class:`NotFoundError` for a patient, session or
set that does not exist; :class:`ConflictError` for a duplicate (patient
code, username, rep number) or a state clash (ending a session twice);
``ValueError`` for bad argument values, naming the argument.
"""

from __future__ import annotations

import datetime as _dt
import json
import numbers
import os
import sqlite3
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import numpy as np

from station.errors import WallHingeError
from station.faults import FAULT_NAMES, Thresholds
from station.patient_targets import TARGET_DEFAULTS, check_target, patient_limits

__all__ = [
    "APPLICATION_ID", "MIGRATIONS", "PAGE_SIZE", "SCHEMA_VERSION", "SERIES_NAMES", "UNCHANGED",
    "ConflictError", "NotFoundError", "Store", "StoreError",
    "backup", "decode_series", "encode_series", "open_store", "restore", "series_to_list",
    "thresholds_from_targets",
]


class StoreError(WallHingeError, RuntimeError):
    """The station's database cannot be used; the message says why and what to do."""


class NotFoundError(StoreError, LookupError):
    """A patient, session, set or rep that an operation names does not exist."""


class ConflictError(StoreError, ValueError):
    """A duplicate (patient code, username, rep number) or a clash with a row's state."""


#: ``PRAGMA application_id`` of a Wall Hinge store: "WHNG".
APPLICATION_ID = 0x57484E47

#: Page size of a new store (bytes); an existing file keeps its own.
PAGE_SIZE = 8192

#: The per-frame series a rep may carry, in storage order.
SERIES_NAMES = ("t_s", "wall_gap_mm", "trunk_angle_deg", "knee_flexion_deg")

_THRESHOLD_NAMES = tuple(item.name for item in fields(Thresholds))
_NOW_SQL = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"

# Released steps are never edited; add a new step at the end instead. A step
# that rebuilds a table must say so in a comment and be preceded by a step
# runner change that turns foreign keys off around it (SQLite's 12-step recipe).
MIGRATIONS: tuple[str, ...] = (
    # 1: the first schema.
    f"""
    PRAGMA application_id = {APPLICATION_ID};

    CREATE TABLE clinicians (
        id            INTEGER PRIMARY KEY,
        username      TEXT NOT NULL COLLATE NOCASE UNIQUE CHECK (length(username) > 0),
        password_hash TEXT NOT NULL CHECK (length(password_hash) > 0),
        created       TEXT NOT NULL DEFAULT ({_NOW_SQL})
    );

    CREATE TABLE patients (
        id           INTEGER PRIMARY KEY,
        code         TEXT NOT NULL COLLATE NOCASE UNIQUE CHECK (length(code) > 0),
        display_name TEXT NOT NULL,
        created      TEXT NOT NULL DEFAULT ({_NOW_SQL}),
        archived     INTEGER NOT NULL DEFAULT 0 CHECK (archived IN (0, 1))
    );

    -- One row per patient once targets are set; NULL threshold = the default
    -- of station.faults.Thresholds.
    CREATE TABLE targets (
        patient_id             INTEGER PRIMARY KEY REFERENCES patients (id) ON DELETE CASCADE,
        standoff_mm            REAL NOT NULL DEFAULT 100 CHECK (standoff_mm > 0),
        target_trunk_angle_deg REAL CHECK (target_trunk_angle_deg > 0),
        reps_per_set           INTEGER NOT NULL DEFAULT 12 CHECK (reps_per_set >= 1),
        sets                   INTEGER NOT NULL DEFAULT 3 CHECK (sets >= 1),
        touch_tolerance_mm     REAL CHECK (touch_tolerance_mm > 0),
        max_knee_flexion_deg   REAL CHECK (max_knee_flexion_deg > 0),
        max_spine_flexion_deg  REAL CHECK (max_spine_flexion_deg > 0),
        min_descent_s          REAL CHECK (min_descent_s > 0),
        upright_angle_deg      REAL CHECK (upright_angle_deg > 0),
        updated                TEXT NOT NULL DEFAULT ({_NOW_SQL})
    );

    CREATE TABLE calibrations (
        id               INTEGER PRIMARY KEY,
        created          TEXT NOT NULL,
        source           TEXT NOT NULL,
        frames_used      INTEGER,
        floor_rms_mm     REAL,
        wall_rms_mm      REAL,
        floor_share      REAL,
        wall_share       REAL,
        planes_angle_deg REAL,
        document         TEXT NOT NULL
    );
    CREATE INDEX calibrations_by_created ON calibrations (created);

    CREATE TABLE sessions (
        id             INTEGER PRIMARY KEY,
        patient_id     INTEGER REFERENCES patients (id),
        calibration_id INTEGER REFERENCES calibrations (id),
        started        TEXT NOT NULL,
        ended          TEXT,
        interrupted    INTEGER NOT NULL DEFAULT 0 CHECK (interrupted IN (0, 1)),
        source         TEXT NOT NULL,
        notes          TEXT
    );
    CREATE INDEX sessions_by_patient ON sessions (patient_id, started);
    CREATE INDEX sessions_by_started ON sessions (started);
    CREATE INDEX sessions_by_calibration ON sessions (calibration_id);
    CREATE INDEX sessions_open ON sessions (id) WHERE ended IS NULL;

    CREATE TABLE sets (
        id         INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        number     INTEGER NOT NULL CHECK (number >= 1),
        started    TEXT NOT NULL,
        ended      TEXT,
        UNIQUE (session_id, number)
    );

    -- A NULL measure was not measured in the rep (e.g. the knees hidden).
    CREATE TABLE reps (
        id                     INTEGER PRIMARY KEY,
        set_id                 INTEGER NOT NULL REFERENCES sets (id) ON DELETE CASCADE,
        index_in_set           INTEGER NOT NULL CHECK (index_in_set >= 1),
        start_s                REAL NOT NULL,
        bottom_s               REAL NOT NULL,
        end_s                  REAL NOT NULL,
        min_wall_gap_mm        REAL,
        touched                INTEGER NOT NULL CHECK (touched IN (0, 1)),
        peak_trunk_angle_deg   REAL NOT NULL,
        peak_knee_flexion_deg  REAL,
        peak_spine_flexion_deg REAL,
        return_trunk_angle_deg REAL,
        descent_s              REAL NOT NULL,
        hold_s                 REAL NOT NULL,
        ascent_s               REAL NOT NULL,
        score                  NUMERIC NOT NULL CHECK (score BETWEEN 0 AND 100),
        good                   INTEGER NOT NULL CHECK (good IN (0, 1)),
        lost_points            TEXT,
        recorded               TEXT NOT NULL,
        UNIQUE (set_id, index_in_set)
    );

    CREATE TABLE rep_faults (
        rep_id INTEGER NOT NULL REFERENCES reps (id) ON DELETE CASCADE,
        fault  TEXT NOT NULL,
        PRIMARY KEY (rep_id, fault)
    ) WITHOUT ROWID;
    CREATE INDEX rep_faults_by_fault ON rep_faults (fault, rep_id);

    CREATE TABLE rep_series (
        rep_id           INTEGER PRIMARY KEY REFERENCES reps (id) ON DELETE CASCADE,
        frames           INTEGER NOT NULL CHECK (frames >= 0),
        t_s              BLOB NOT NULL CHECK (length(t_s) = 4 * frames),
        wall_gap_mm      BLOB NOT NULL CHECK (length(wall_gap_mm) = 4 * frames),
        trunk_angle_deg  BLOB NOT NULL CHECK (length(trunk_angle_deg) = 4 * frames),
        knee_flexion_deg BLOB NOT NULL CHECK (length(knee_flexion_deg) = 4 * frames)
    );
    """,
    # 2: each rep keeps the limits it was judged with (JSON of
    # station.patient_targets.limits_record); NULL for reps stored before.
    """
    ALTER TABLE reps ADD COLUMN limits TEXT;
    """,
    # 3: roles (an admin manages accounts and kiosks, a clinician sees patients; the first account
    # becomes the admin) and a session epoch per account: log-out raises it, which ends every copy
    # of that account's session cookie.
    """
    ALTER TABLE clinicians ADD COLUMN role TEXT NOT NULL DEFAULT 'clinician'
        CHECK (role IN ('admin', 'clinician'));
    ALTER TABLE clinicians ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0 CHECK (session_epoch >= 0);
    UPDATE clinicians SET role = 'admin' WHERE id = (SELECT min(id) FROM clinicians);
    """,
)

#: What an account may be: ``admin`` manages accounts and kiosks, ``clinician`` sees patients.
ROLES = ("admin", "clinician")

#: The schema version this code writes: the number of migration steps.
SCHEMA_VERSION = len(MIGRATIONS)


class _Unchanged:
    """Marker for a keyword left out of an update: keep the stored value."""

    def __repr__(self):
        return "UNCHANGED"


#: Default of update arguments: leave the stored value as it is.
UNCHANGED: Any = _Unchanged()


# -- opening and migrating --------------------------------------------------------

def open_store(path, *, busy_timeout_s: float = 5.0, read_only: bool = False) -> "Store":
    """Open (creating or upgrading if need be) the station's database at ``path``.

    Parameters
    ----------
    path : str or Path
        The database file; created with the current schema if missing.
    busy_timeout_s : float
        How long a write waits for another connection's write to finish (s).
    read_only : bool
        Open an existing store for reading only (e.g. on a file or disk that
        became read-only): no migration, and every write raises StoreError.

    Raises
    ------
    StoreError
        The file is not a Wall Hinge store, is from a newer version of the
        station, is damaged, or its folder does not exist.
    """
    return Store(path, busy_timeout_s=busy_timeout_s, read_only=read_only)


def _open_failure(path, error: sqlite3.Error) -> str:
    """Why the store could not be opened, blaming another program only when the database says it is busy."""
    text = str(error)
    if "locked" in text or "busy" in text:
        return f"cannot open the store {path}: {text} (another program may be holding it; try again)"
    if "readonly" in text or "read-only" in text or "unable to open" in text:
        return (f"cannot open the store {path} for writing: {text} (the file, its folder or the disk is "
                "read-only or full)")
    return f"cannot open the store {path}: {text}"


def is_read_only_failure(error: StoreError) -> bool:
    """Whether opening failed because the store cannot be written (so it may still be read)."""
    return "for writing" in str(error)


def _statements(script: str) -> Iterator[str]:
    """The complete SQL statements of a script, in order (triggers kept whole)."""
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n\t;"):
                yield pending.strip()
            pending = ""
    if pending.strip(" \n\t;"):
        raise ValueError(f"incomplete SQL statement in migration: {pending.strip()[:60]!r}")


def _migrate(connection: sqlite3.Connection, path: Path) -> None:
    """Apply the missing :data:`MIGRATIONS` steps, each in its own transaction."""
    steps = MIGRATIONS  # read at call time, so tests may add steps
    for version, script in enumerate(steps, start=1):
        connection.execute("BEGIN IMMEDIATE")
        try:
            # Read again inside the write lock: another process may have
            # migrated while this one waited.
            current = connection.execute("PRAGMA user_version").fetchone()[0]
            if current < version:
                for statement in _statements(script):
                    connection.execute(statement)
                connection.execute(f"PRAGMA user_version = {version}")
                broken = connection.execute("PRAGMA foreign_key_check").fetchone()
                if broken is not None:
                    raise StoreError(f"upgrading {path} to schema version {version} would break a reference "
                                     f"in table {broken[0]}; nothing was changed. Report this with a backup")
            connection.execute("COMMIT")
        except sqlite3.Error as error:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise StoreError(f"upgrading {path} to schema version {version} failed ({error}); "
                             "nothing was changed. Report this with a backup") from error
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise


def _check_identity(connection: sqlite3.Connection, path, *, hint: str = "check the path, or restore a backup") -> int:
    """The schema version of an open database, or StoreError if it is not ours to use.

    ``path`` names the file in messages (e.g. "backup /media/usb/station.db").
    """
    try:
        application_id = connection.execute("PRAGMA application_id").fetchone()[0]
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        tables = connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    except sqlite3.OperationalError as error:
        raise StoreError(_open_failure(path, error)) from None
    except sqlite3.DatabaseError as error:
        raise StoreError(f"{path} is not a Wall Hinge store database ({error}): {hint}") from None
    if application_id not in (0, APPLICATION_ID) or (application_id == 0 and (version or tables)):
        raise StoreError(f"{path} is an SQLite database but not a Wall Hinge store: check the path")
    known = len(MIGRATIONS)  # read at call time, so tests may add steps
    if version > known:
        raise StoreError(f"{path} was written by a newer version of the station (schema version {version}; "
                         f"this one knows up to {known}): update the station software")
    return version


# -- time stamps and values -------------------------------------------------------

def _timestamp(value: _dt.datetime | None, name: str) -> str:
    """UTC ISO 8601 text with milliseconds for an aware datetime, or now."""
    if value is None:
        value = _dt.datetime.now(_dt.timezone.utc)
    elif not isinstance(value, _dt.datetime):
        raise ValueError(f"{name} must be a datetime, not {value!r}")
    elif value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must carry a time zone (e.g. datetime.now(timezone.utc)), not {value!r}")
    value = value.astimezone(_dt.timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _number(value, name: str, *, positive: bool = False, optional: bool = False) -> float | None:
    if value is None and optional:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number, not {value!r}")
    if positive and value <= 0:
        raise ValueError(f"{name} must be positive, not {value!r}")
    return float(value)


def _count(value, name: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a whole number of 1 or more, not {value!r}")
    return int(value)


def _flag(value, name: str) -> int:
    if isinstance(value, (bool, np.bool_)) or (isinstance(value, numbers.Integral) and value in (0, 1)):
        return int(bool(value))
    raise ValueError(f"{name} must be true or false, not {value!r}")


def _text(value, name: str, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty text, not {value!r}")
    return value.strip()


def _row(row: sqlite3.Row | None, flags: Sequence[str] = ()) -> dict | None:
    if row is None:
        return None
    result = dict(row)
    for name in flags:
        if result.get(name) is not None:
            result[name] = bool(result[name])
    return result


# -- series -----------------------------------------------------------------------

def encode_series(values) -> bytes:
    """A per-frame series as a compact blob: little-endian float32, NaN for a missing value.

    Parameters
    ----------
    values : sequence of float or None, or 1-D array
        One value per frame in the series' unit; ``None`` or NaN where the
        measure was not available. float32 keeps about 7 significant digits
        (0.25 ms at an hour of ``t_s``).
    """
    array = np.asarray(values)
    if array.dtype == object:
        array = np.array([np.nan if value is None else value for value in array.ravel()], dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"a series must be one-dimensional, not of shape {array.shape}")
    if array.size and not np.issubdtype(array.dtype, np.number):
        raise ValueError(f"a series must hold numbers or None, not {array.dtype}")
    return array.astype("<f4").tobytes()


def decode_series(blob: bytes) -> np.ndarray:
    """The float32 array of a blob made by :func:`encode_series` (NaN for missing values)."""
    if len(blob) % 4:
        raise StoreError(f"a stored series of {len(blob)} bytes is damaged (not whole float32 values)")
    return np.frombuffer(blob, dtype="<f4").astype(np.float32)


def series_to_list(array, *, decimals: int = 3) -> list[float | None]:
    """A series as JSON-ready floats rounded to ``decimals`` places, ``None`` for NaN."""
    rounded = np.round(np.asarray(array, dtype=np.float64), decimals).tolist()
    return [None if value != value else value for value in rounded]


def thresholds_from_targets(targets: Mapping) -> Thresholds:
    """The fault :class:`~station.faults.Thresholds` a targets dict asks for (None = the drill's default)."""
    return patient_limits(targets)


# -- the store --------------------------------------------------------------------

_REP_FIELDS = ("start_s", "bottom_s", "end_s", "peak_trunk_angle_deg", "descent_s", "hold_s", "ascent_s")
_REP_MEASURES = ("min_wall_gap_mm", "peak_knee_flexion_deg")  # in the contract, None when not measured
_REP_OPTIONAL = ("peak_spine_flexion_deg", "return_trunk_angle_deg")  # may be left out
_REP_REQUIRED = ("index", "start_s", "bottom_s", "end_s", "min_wall_gap_mm", "touched", "peak_trunk_angle_deg",
                 "peak_knee_flexion_deg", "descent_s", "hold_s", "ascent_s", "faults", "score")
_PATIENT_COLUMNS = "p.id, p.code, p.display_name, p.created, p.archived"
_SESSION_COLUMNS = ("s.id, s.patient_id, s.calibration_id, s.started, s.ended, s.interrupted, s.source, s.notes, "
                    "p.code AS patient_code, p.display_name AS patient_name")


class Store:
    """An open connection to the station's database; see the module's docs.

    Use one per thread, as a context manager or with :meth:`close`.

    Parameters
    ----------
    path : str or Path
        The database file; created with the current schema if missing.
    busy_timeout_s : float
        How long a write waits for another connection's write to finish (s).

    Raises
    ------
    StoreError
        The file is not a Wall Hinge store, is from a newer version, is
        damaged, or its folder does not exist.
    """

    def __init__(self, path, *, busy_timeout_s: float = 5.0, read_only: bool = False):
        self.path = Path(path)
        self.read_only = read_only
        if not self.path.parent.is_dir():
            raise StoreError(f"cannot open the store {self.path}: folder {self.path.parent} does not exist")
        busy = _number(busy_timeout_s, "busy_timeout_s", positive=True)
        if read_only:
            self._db = self._open_read_only(busy)
            return
        try:
            self._db = sqlite3.connect(self.path, timeout=busy, isolation_level=None)
        except sqlite3.Error as error:
            raise StoreError(f"cannot open the store {self.path}: {error}") from None
        try:
            self._db.row_factory = sqlite3.Row
            if _check_identity(self._db, self.path) == 0:
                # Before WAL, which fixes it: 8 KiB pages hold five rep series
                # (about 1.5 kB each) where 4 KiB pages hold two.
                self._db.execute(f"PRAGMA page_size = {PAGE_SIZE}")
            self._db.execute("PRAGMA foreign_keys = ON")
            mode = self._db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode != "wal":
                raise StoreError(f"cannot put {self.path} in WAL mode (got {mode}): "
                                 "keep the store on a local disk")
            # FULL: every commit reaches the disk, so a committed rep survives a power cut.
            self._db.execute("PRAGMA synchronous = FULL")
            _migrate(self._db, self.path)
        except sqlite3.OperationalError as error:
            self._db.close()
            raise StoreError(_open_failure(self.path, error)) from None
        except BaseException:
            self._db.close()
            raise

    def _open_read_only(self, busy: float) -> sqlite3.Connection:
        """A read-only connection; ``immutable`` when not even WAL's shared-memory file can be made."""
        if not self.path.is_file():
            raise StoreError(f"cannot open the store {self.path}: there is no such file")
        error: sqlite3.Error | None = None
        for mode in ("mode=ro", "immutable=1"):
            try:
                db = sqlite3.connect(f"{self.path.resolve().as_uri()}?{mode}", uri=True, timeout=busy,
                                     isolation_level=None)
            except sqlite3.Error as failed:
                error = failed
                continue
            db.row_factory = sqlite3.Row
            try:
                version = _check_identity(db, self.path)
            except StoreError as failed:
                db.close()
                if not is_read_only_failure(failed):
                    raise
                error = failed  # WAL's shared-memory file cannot be made here: try immutable
                continue
            if version != len(MIGRATIONS):
                db.close()
                raise StoreError(f"the store {self.path} is at schema version {version}, not {len(MIGRATIONS)}, "
                                 "and cannot be upgraded while it is read-only")
            return db
        raise StoreError(f"cannot read the store {self.path}: {error}")

    # -- plumbing

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    def close(self) -> None:
        """Close the connection; safe to call twice."""
        self._db.close()

    @property
    def schema_version(self) -> int:
        """The file's ``PRAGMA user_version``."""
        return self._db.execute("PRAGMA user_version").fetchone()[0]

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, committed at the end of the block or rolled back on error."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            if "locked" in str(error) or "busy" in str(error):
                raise StoreError(f"the store {self.path} is busy ({error}): another program holds it; try again") \
                    from None
            raise StoreError(f"the store {self.path} cannot be written ({error}): the file, its folder or the disk "
                             "is read-only or full; nothing was written") from None
        try:
            yield self._db
            self._db.execute("COMMIT")
        except sqlite3.OperationalError as error:  # e.g. the disk is full or gone
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise StoreError(f"writing to the store {self.path} failed ({error}); nothing was written") from error
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """A read transaction, so several queries see one snapshot."""
        self._db.execute("BEGIN")
        try:
            yield self._db
        finally:
            self._db.execute("COMMIT")

    def _one(self, sql: str, parameters=()) -> sqlite3.Row | None:
        return self._db.execute(sql, parameters).fetchone()

    def _require(self, table: str, row_id, what: str) -> None:
        if self._one(f"SELECT 1 FROM {table} WHERE id = ?", (row_id,)) is None:
            raise NotFoundError(f"{what} {row_id} does not exist")

    # -- clinicians

    def add_clinician(self, username: str, *, password_hash: str, role: str = "clinician") -> int:
        """Add a clinician account and return its id.

        ``password_hash`` is the web layer's hash string; the store keeps it
        as it is. Usernames are unique regardless of case. ``role`` is one of
        :data:`ROLES`.

        Raises
        ------
        ConflictError
            The username is taken.
        """
        username = _text(username, "username")
        password_hash = _text(password_hash, "password_hash")
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        try:
            with self._write() as db:
                return db.execute("INSERT INTO clinicians (username, password_hash, role) VALUES (?, ?, ?)",
                                  (username, password_hash, role)).lastrowid
        except sqlite3.IntegrityError:
            raise ConflictError(f"the username {username!r} is taken") from None

    def get_clinician(self, username: str) -> dict | None:
        """The account ``{id, username, password_hash, created, role, session_epoch}`` for a username (any case), or None."""
        return _row(self._one("SELECT id, username, password_hash, created, role, session_epoch FROM clinicians"
                              " WHERE username = ?", (username,)))

    def end_clinician_sessions(self, username: str) -> int:
        """Raise the account's session epoch, which ends every log-in session made before; return the new epoch.

        Raises
        ------
        NotFoundError
            No such username.
        """
        with self._write() as db:
            changed = db.execute("UPDATE clinicians SET session_epoch = session_epoch + 1 WHERE username = ?",
                                 (username,)).rowcount
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
        password_hash = _text(password_hash, "password_hash")
        with self._write() as db:
            changed = db.execute("UPDATE clinicians SET password_hash = ? WHERE username = ?",
                                 (password_hash, username)).rowcount
        if not changed:
            raise NotFoundError(f"no clinician is called {username!r}")

    def list_clinicians(self) -> list[dict]:
        """Every account as ``{id, username, created, role}`` (no hashes), by username."""
        rows = self._db.execute("SELECT id, username, created, role FROM clinicians ORDER BY username").fetchall()
        return [dict(row) for row in rows]

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
        code = _text(code, "code")
        display_name = _text(display_name, "display_name")
        try:
            with self._write() as db:
                return db.execute("INSERT INTO patients (code, display_name) VALUES (?, ?)",
                                  (code, display_name)).lastrowid
        except sqlite3.IntegrityError:
            raise ConflictError(f"the patient code {code!r} is taken") from None

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
            changes["code"] = _text(code, "code")
        if display_name is not UNCHANGED:
            changes["display_name"] = _text(display_name, "display_name")
        if archived is not UNCHANGED:
            changes["archived"] = _flag(archived, "archived")
        try:
            with self._write() as db:
                self._require("patients", patient_id, "patient")
                if changes:
                    assignments = ", ".join(f"{name} = ?" for name in changes)
                    db.execute(f"UPDATE patients SET {assignments} WHERE id = ?", (*changes.values(), patient_id))
        except sqlite3.IntegrityError:
            raise ConflictError(f"the patient code {changes.get('code')!r} is taken") from None
        return self.get_patient(patient_id)

    def get_patient(self, patient_id: int) -> dict | None:
        """The patient ``{id, code, display_name, created, archived}``, or None."""
        return _row(self._one(f"SELECT {_PATIENT_COLUMNS} FROM patients p WHERE p.id = ?", (patient_id,)),
                    ("archived",))

    def get_patient_by_code(self, code: str) -> dict | None:
        """The patient with this code (any case), or None."""
        return _row(self._one(f"SELECT {_PATIENT_COLUMNS} FROM patients p WHERE p.code = ?", (code,)),
                    ("archived",))

    def _patients(self, where: str, parameters, limit: int | None) -> list[dict]:
        # The two subqueries walk sessions_by_patient: cheap however many sessions there are.
        sql = (f"SELECT {_PATIENT_COLUMNS},"
               " (SELECT max(started) FROM sessions WHERE patient_id = p.id) AS last_session,"
               " (SELECT count(*) FROM sessions WHERE patient_id = p.id) AS sessions"
               f" FROM patients p WHERE {where} ORDER BY p.display_name COLLATE NOCASE, p.code")
        if limit is not None:
            sql += " LIMIT ?"
            parameters = (*parameters, _count(limit, "limit"))
        return [_row(row, ("archived",)) for row in self._db.execute(sql, parameters)]

    def list_patients(self, *, include_archived: bool = False, limit: int | None = None) -> list[dict]:
        """Patients by display name, each with their activity.

        Each dict has ``id, code, display_name, created, archived``,
        ``last_session`` (start time of their latest session, or None) and
        ``sessions`` (how many they have had).
        """
        return self._patients("1" if include_archived else "p.archived = 0", (), limit)

    def search_patients(self, text: str, *, include_archived: bool = False, limit: int | None = 50) -> list[dict]:
        """Patients whose code or display name contains ``text`` (ASCII letters in any case).

        Same dicts as :meth:`list_patients`.
        """
        if not isinstance(text, str):
            raise ValueError(f"search text must be text, not {text!r}")
        pattern = "%" + text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where = r"(p.code LIKE ? ESCAPE '\' OR p.display_name LIKE ? ESCAPE '\')"
        if not include_archived:
            where += " AND p.archived = 0"
        return self._patients(where, (pattern, pattern), limit)

    def get_targets(self, patient_id: int) -> dict:
        """A patient's targets, with the defaults where none were set.

        Keys: ``patient_id``; ``standoff_mm`` (heels to wall, mm, default
        100); ``target_trunk_angle_deg`` (degrees, None = no target);
        ``reps_per_set`` (default 12); ``sets`` (default 3); the five
        thresholds of :class:`~station.faults.Thresholds`
        (``touch_tolerance_mm``, ``max_knee_flexion_deg``,
        ``max_spine_flexion_deg``, ``min_descent_s``, ``upright_angle_deg``;
        None = the default, see :func:`thresholds_from_targets`); ``updated``
        (None if never set).

        Raises
        ------
        NotFoundError
            No such patient.
        """
        with self._read():
            self._require("patients", patient_id, "patient")
            row = self._one("SELECT * FROM targets WHERE patient_id = ?", (patient_id,))
        if row is None:
            return {"patient_id": patient_id, **TARGET_DEFAULTS, "updated": None}
        return dict(row)

    def set_targets(self, patient_id: int, *, standoff_mm: float = UNCHANGED,
                    target_trunk_angle_deg: float | None = UNCHANGED, reps_per_set: int = UNCHANGED,
                    sets: int = UNCHANGED, touch_tolerance_mm: float | None = UNCHANGED,
                    max_knee_flexion_deg: float | None = UNCHANGED, max_spine_flexion_deg: float | None = UNCHANGED,
                    min_descent_s: float | None = UNCHANGED, upright_angle_deg: float | None = UNCHANGED) -> dict:
        """Change some of a patient's targets; return them all (as :meth:`get_targets`).

        Arguments left out keep their value; ``None`` puts a target back to
        its default. Units and ranges are those of
        :data:`station.patient_targets.TARGET_FIELDS`.

        Raises
        ------
        NotFoundError
            No such patient.
        ValueError
            A value out of range, named.
        """
        arguments = {"standoff_mm": standoff_mm, "target_trunk_angle_deg": target_trunk_angle_deg,
                     "reps_per_set": reps_per_set, "sets": sets, "touch_tolerance_mm": touch_tolerance_mm,
                     "max_knee_flexion_deg": max_knee_flexion_deg, "max_spine_flexion_deg": max_spine_flexion_deg,
                     "min_descent_s": min_descent_s, "upright_angle_deg": upright_angle_deg}
        given = {name: value for name, value in arguments.items() if value is not UNCHANGED}
        checked = {}
        for name, value in given.items():
            checked[name] = TARGET_DEFAULTS[name] if value is None else check_target(name, value)
        with self._write() as db:
            self._require("patients", patient_id, "patient")
            db.execute("INSERT INTO targets (patient_id) VALUES (?) ON CONFLICT (patient_id) DO NOTHING",
                       (patient_id,))
            assignments = "".join(f"{name} = ?, " for name in checked)
            db.execute(f"UPDATE targets SET {assignments}updated = {_NOW_SQL} WHERE patient_id = ?",
                       (*checked.values(), patient_id))
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
        try:
            parsed = json.loads(document)
            quality = parsed["quality"]
            created = _timestamp(_dt.datetime.fromisoformat(parsed["created"]), "created")
            frames_used = parsed.get("frames_used")
            if frames_used is not None:
                frames_used = _count(frames_used, "frames_used")
            values = (created, _text(parsed["source"], "source"), frames_used,
                      *(_number(quality[name], name, optional=True) for name in
                        ("floor_rms_mm", "wall_rms_mm", "floor_share", "wall_share", "planes_angle_deg")))
        except (TypeError, KeyError, json.JSONDecodeError, ValueError) as error:
            raise ValueError(f"not a calibration document ({type(error).__name__}: {error})") from None
        with self._write() as db:
            return db.execute("INSERT INTO calibrations (created, source, frames_used, floor_rms_mm, wall_rms_mm,"
                              " floor_share, wall_share, planes_angle_deg, document)"
                              " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", (*values, document)).lastrowid

    def latest_calibration(self) -> dict | None:
        """The newest calibration (by ``created``) with its ``document`` text, or None."""
        return _row(self._one("SELECT * FROM calibrations ORDER BY created DESC, id DESC LIMIT 1"))

    def get_calibration(self, calibration_id: int) -> dict | None:
        """One calibration with its ``document`` text, or None."""
        return _row(self._one("SELECT * FROM calibrations WHERE id = ?", (calibration_id,)))

    def list_calibrations(self, *, limit: int = 20) -> list[dict]:
        """The newest calibrations first, without their documents (quality figures only)."""
        rows = self._db.execute("SELECT id, created, source, frames_used, floor_rms_mm, wall_rms_mm, floor_share,"
                                " wall_share, planes_angle_deg FROM calibrations ORDER BY created DESC, id DESC"
                                " LIMIT ?", (_count(limit, "limit"),))
        return [dict(row) for row in rows]

    # -- sessions and sets

    def start_session(self, *, source: str, patient_id: int | None = None, calibration_id: int | None = None,
                      started: _dt.datetime | None = None, notes: str | None = None) -> int:
        """Open a session and return its id.

        Parameters
        ----------
        source : str
            Where the frames come from, e.g. ``"camera 123456"`` or
            ``"recording /data/session.db3"``.
        patient_id : int, optional
            None for a guest; may be set later with :meth:`update_session`.
        calibration_id : int, optional
            The calibration the measures use.
        started : datetime, optional
            Aware start time; now if left out.

        Raises
        ------
        NotFoundError
            No such patient or calibration.
        """
        values = (patient_id, calibration_id, _timestamp(started, "started"), _text(source, "source"),
                  _text(notes, "notes", optional=True))
        with self._write() as db:
            if patient_id is not None:
                self._require("patients", patient_id, "patient")
            if calibration_id is not None:
                self._require("calibrations", calibration_id, "calibration")
            return db.execute("INSERT INTO sessions (patient_id, calibration_id, started, source, notes)"
                              " VALUES (?, ?, ?, ?, ?)", values).lastrowid

    def update_session(self, session_id: int, *, patient_id: int | None = UNCHANGED,
                       notes: str | None = UNCHANGED) -> dict:
        """Assign a session's patient (None = guest) or replace its notes; return the session.

        Raises
        ------
        NotFoundError
            No such session or patient.
        """
        changes = {}
        if patient_id is not UNCHANGED:
            changes["patient_id"] = patient_id
        if notes is not UNCHANGED:
            changes["notes"] = _text(notes, "notes", optional=True)
        with self._write() as db:
            self._require("sessions", session_id, "session")
            if changes.get("patient_id") is not None:
                self._require("patients", patient_id, "patient")
            if changes:
                assignments = ", ".join(f"{name} = ?" for name in changes)
                db.execute(f"UPDATE sessions SET {assignments} WHERE id = ?", (*changes.values(), session_id))
        return self.get_session(session_id)

    def end_session(self, session_id: int, *, ended: _dt.datetime | None = None) -> None:
        """Mark a session ended (now if ``ended`` is left out), and any set still open in it.

        Raises
        ------
        NotFoundError
            No such session.
        ConflictError
            The session has already ended.
        """
        ended_text = _timestamp(ended, "ended")
        with self._write() as db:
            row = self._one("SELECT ended FROM sessions WHERE id = ?", (session_id,))
            if row is None:
                raise NotFoundError(f"session {session_id} does not exist")
            if row["ended"] is not None:
                raise ConflictError(f"session {session_id} already ended at {row['ended']}")
            db.execute("UPDATE sets SET ended = ? WHERE session_id = ? AND ended IS NULL", (ended_text, session_id))
            db.execute("UPDATE sessions SET ended = ? WHERE id = ?", (ended_text, session_id))

    def get_session(self, session_id: int) -> dict | None:
        """A session with its patient and counts, or None.

        Keys: ``id, patient_id, calibration_id, started, ended, interrupted,
        source, notes, patient_code, patient_name`` (None for a guest),
        ``sets`` and ``reps`` (counts).
        """
        sql = (f"SELECT {_SESSION_COLUMNS},"
               " (SELECT count(*) FROM sets WHERE session_id = s.id) AS sets,"
               " (SELECT count(*) FROM sets JOIN reps ON reps.set_id = sets.id WHERE sets.session_id = s.id) AS reps"
               " FROM sessions s LEFT JOIN patients p ON p.id = s.patient_id WHERE s.id = ?")
        return _row(self._one(sql, (session_id,)), ("interrupted",))

    def find_session(self, *, source: str, started: _dt.datetime) -> int | None:
        """The id of the session from ``source`` that started at ``started`` (to the millisecond), or None.

        For writing in the station's journal exactly once (:mod:`station.journal`).
        """
        row = self._one("SELECT id FROM sessions WHERE source = ? AND started = ? ORDER BY id LIMIT 1",
                        (source, _timestamp(started, "started")))
        return None if row is None else row["id"]

    def start_set(self, session_id: int, *, number: int | None = None, started: _dt.datetime | None = None) -> int:
        """Open a set in a session and return its id.

        ``number`` is the set's place in the session (1, 2, ...), the next
        one if left out; ``started`` an aware time, now if left out.

        Raises
        ------
        NotFoundError
            No such session.
        ConflictError
            The session has ended, or already has a set of that number.
        """
        started_text = _timestamp(started, "started")
        if number is not None:
            number = _count(number, "number")
        with self._write() as db:
            row = self._one("SELECT ended FROM sessions WHERE id = ?", (session_id,))
            if row is None:
                raise NotFoundError(f"session {session_id} does not exist")
            if row["ended"] is not None:
                raise ConflictError(f"session {session_id} has ended: start a new session")
            if number is None:
                number = self._one("SELECT coalesce(max(number), 0) + 1 FROM sets WHERE session_id = ?",
                                   (session_id,))[0]
            try:
                return db.execute("INSERT INTO sets (session_id, number, started) VALUES (?, ?, ?)",
                                  (session_id, number, started_text)).lastrowid
            except sqlite3.IntegrityError:
                raise ConflictError(f"session {session_id} already has a set {number}") from None

    def end_set(self, set_id: int, *, ended: _dt.datetime | None = None) -> None:
        """Mark a set ended (now if ``ended`` is left out).

        Raises
        ------
        NotFoundError
            No such set.
        ConflictError
            The set has already ended.
        """
        ended_text = _timestamp(ended, "ended")
        with self._write() as db:
            row = self._one("SELECT ended FROM sets WHERE id = ?", (set_id,))
            if row is None:
                raise NotFoundError(f"set {set_id} does not exist")
            if row["ended"] is not None:
                raise ConflictError(f"set {set_id} already ended at {row['ended']}")
            db.execute("UPDATE sets SET ended = ? WHERE id = ?", (ended_text, set_id))

    def session_sets(self, session_id: int) -> list[dict]:
        """A session's sets in order: ``{id, session_id, number, started, ended, reps, good_reps}``."""
        rows = self._db.execute("SELECT st.id, st.session_id, st.number, st.started, st.ended,"
                                " count(r.id) AS reps, coalesce(sum(r.good), 0) AS good_reps"
                                " FROM sets st LEFT JOIN reps r ON r.set_id = st.id"
                                " WHERE st.session_id = ? GROUP BY st.id ORDER BY st.number", (session_id,))
        return [dict(row) for row in rows]

    def close_abandoned_sessions(self) -> list[int]:
        """End every session still open, as if it had ended with its last rep; return their ids.

        For a station that was killed or lost power mid-session: call it at
        start-up, before starting a session. Each open set ends at its last
        rep's time (its start if it has none), each open session at its last
        rep's time (its start if it has none), and the session is flagged
        ``interrupted``. Their reps stay as they were committed.
        """
        with self._write() as db:
            ids = [row[0] for row in db.execute("SELECT id FROM sessions WHERE ended IS NULL ORDER BY id")]
            for session_id in ids:
                db.execute("UPDATE sets SET ended = coalesce((SELECT max(recorded) FROM reps WHERE set_id = sets.id),"
                           " started) WHERE session_id = ? AND ended IS NULL", (session_id,))
                db.execute("UPDATE sessions SET interrupted = 1, ended = coalesce((SELECT max(r.recorded)"
                           " FROM sets st JOIN reps r ON r.set_id = st.id WHERE st.session_id = sessions.id),"
                           " started) WHERE id = ?", (session_id,))
        return ids

    # -- reps

    def add_rep(self, set_id: int, rep: Mapping, *, series: Mapping | None = None,
                recorded: _dt.datetime | None = None) -> int:
        """Store one finished rep, committed before returning; return its id.

        Parameters
        ----------
        set_id : int
            The set the rep belongs to (it may have ended: the rep detector
            can finish a rep after the button ended the set).
        rep : mapping
            A rep of the ``wallhinge analyze`` contract: ``index`` (1-based
            in the set), ``start_s``, ``bottom_s``, ``end_s``, ``descent_s``,
            ``hold_s``, ``ascent_s`` (s), ``min_wall_gap_mm`` (mm, None = not
            measured), ``touched``, ``peak_trunk_angle_deg``,
            ``peak_knee_flexion_deg`` (degrees, None = not measured),
            ``faults`` (names from :data:`station.faults.FAULT_NAMES`),
            ``score`` (0-100); optionally ``peak_spine_flexion_deg`` and
            ``return_trunk_angle_deg`` (degrees from the standing posture;
            None or left out = not measured), ``good`` (default: no faults)
            ``lost_points`` (anything JSON can hold, e.g. the
            ``{"fault", "points", "why"}`` of :func:`station.scoring.score_rep`)
            and ``limits`` (the limits the rep was judged with, as
            :func:`station.patient_targets.limits_record` makes them).
            Other keys are ignored.
        series : mapping, optional
            The rep's per-frame series: ``t_s`` (s), ``wall_gap_mm``,
            ``trunk_angle_deg``, ``knee_flexion_deg``, equal lengths, None or
            NaN where not measured; None or empty for no series.
        recorded : datetime, optional
            When the rep ended, aware; now if left out.

        Raises
        ------
        ValueError
            A field missing or out of range, named.
        NotFoundError
            No such set.
        ConflictError
            The set already has a rep of that index.
        """
        values, faults = self._rep_values(rep, recorded)
        blobs = self._series_blobs(series) if series else None
        try:
            with self._write() as db:
                rep_id = db.execute(
                    "INSERT INTO reps (set_id, index_in_set, start_s, bottom_s, end_s, peak_trunk_angle_deg,"
                    " descent_s, hold_s, ascent_s, min_wall_gap_mm, peak_knee_flexion_deg, peak_spine_flexion_deg,"
                    " return_trunk_angle_deg, touched, score, good, lost_points, recorded, limits)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", (set_id, *values)).lastrowid
                db.executemany("INSERT INTO rep_faults (rep_id, fault) VALUES (?, ?)",
                               [(rep_id, fault) for fault in faults])
                if blobs is not None:
                    db.execute("INSERT INTO rep_series (rep_id, frames, t_s, wall_gap_mm, trunk_angle_deg,"
                               " knee_flexion_deg) VALUES (?, ?, ?, ?, ?, ?)", (rep_id, *blobs))
        except sqlite3.IntegrityError as error:
            if getattr(error, "sqlite_errorname", "") == "SQLITE_CONSTRAINT_FOREIGNKEY":
                raise NotFoundError(f"set {set_id} does not exist") from None
            if getattr(error, "sqlite_errorname", "") == "SQLITE_CONSTRAINT_UNIQUE":
                raise ConflictError(f"set {set_id} already has a rep {values[0]}") from None
            raise ValueError(f"the rep was refused by the store: {error}") from None
        return rep_id

    def set_rep_return(self, set_id: int, index: int, return_trunk_angle_deg: float) -> None:
        """Record how close to standing rep ``index`` of a set came back (degrees past standing).

        The live station stores a rep the moment it ends and learns this a
        moment later, once the patient has stopped coming up (see
        :class:`station.reps.RepReturned`).

        Raises
        ------
        NotFoundError
            The set has no such rep.
        """
        value = _number(return_trunk_angle_deg, "return_trunk_angle_deg")
        with self._write() as db:
            changed = db.execute("UPDATE reps SET return_trunk_angle_deg = ? WHERE set_id = ? AND index_in_set = ?",
                                 (value, set_id, _count(index, "index"))).rowcount
        if not changed:
            raise NotFoundError(f"set {set_id} has no rep {index}")

    @staticmethod
    def _rep_values(rep: Mapping, recorded) -> tuple[tuple, list[str]]:
        missing = [name for name in _REP_REQUIRED if name not in rep]
        if missing:
            raise ValueError(f"the rep has no {missing[0]!r}; a rep needs {', '.join(_REP_REQUIRED)}")
        index = _count(rep["index"], "index")
        numbers_ = [_number(rep[name], name) for name in _REP_FIELDS]
        if not numbers_[0] <= numbers_[1] <= numbers_[2]:
            raise ValueError(f"a rep's start_s <= bottom_s <= end_s, not {numbers_[0]}, {numbers_[1]}, {numbers_[2]}")
        faults = rep["faults"]
        if isinstance(faults, str) or not isinstance(faults, Sequence):
            raise ValueError(f"faults must be a list of fault names, not {faults!r}")
        unknown = [fault for fault in faults if fault not in FAULT_NAMES]
        if unknown:
            raise ValueError(f"unknown fault {unknown[0]!r}; known: {', '.join(FAULT_NAMES)}")
        if len(set(faults)) != len(faults):
            raise ValueError(f"faults name one fault twice: {list(faults)}")
        score = _number(rep["score"], "score")
        if not 0 <= score <= 100:
            raise ValueError(f"score must be 0-100, not {rep['score']!r}")
        score = int(score) if score == int(score) else score
        good = _flag(rep.get("good", not faults), "good")
        lost = rep.get("lost_points")
        lost_text = None if lost is None else json.dumps(lost, ensure_ascii=False)
        measures = [_number(rep.get(name), name, optional=True) for name in (*_REP_MEASURES, *_REP_OPTIONAL)]
        values = (index, *numbers_, *measures, _flag(rep["touched"], "touched"), score, good, lost_text,
                  _timestamp(recorded, "recorded"), _limits_text(rep.get("limits")))
        return values, list(faults)

    @staticmethod
    def _series_blobs(series: Mapping) -> tuple:
        names = set(series)
        if names != set(SERIES_NAMES):
            wrong = sorted(names - set(SERIES_NAMES)) or sorted(set(SERIES_NAMES) - names)
            raise ValueError(f"series {wrong[0]!r} is unknown or missing; a rep's series are "
                             f"{', '.join(SERIES_NAMES)}")
        blobs = [encode_series(series[name]) for name in SERIES_NAMES]
        if len({len(blob) for blob in blobs}) != 1:
            lengths = ", ".join(f"{name} {len(blob) // 4}" for name, blob in zip(SERIES_NAMES, blobs))
            raise ValueError(f"a rep's series must have one value per frame each, not {lengths}")
        return (len(blobs[0]) // 4, *blobs)

    def session_reps(self, session_id: int, *, with_series: bool = False) -> list[dict]:
        """A session's reps in order of set and index.

        Each dict has the analyze contract's keys (``index``, ``start_s`` ...
        ``score``, ``faults`` as a list in :data:`~station.faults.FAULT_NAMES`
        order) and ``id``, ``set_id``, ``set_number``, ``peak_spine_flexion_deg``
        and ``return_trunk_angle_deg`` (None if not measured), ``good``,
        ``lost_points`` (as stored, None if none), ``limits`` (the limits it
        was judged with, None for a rep stored without them) and ``recorded``. With
        ``with_series``, ``series`` is a dict of float32 arrays (NaN where not
        measured) named as :data:`SERIES_NAMES`, or None if the rep has none.
        """
        series_columns = (", rs.frames, rs.t_s, rs.wall_gap_mm, rs.trunk_angle_deg, rs.knee_flexion_deg"
                          if with_series else "")
        series_join = " LEFT JOIN rep_series rs ON rs.rep_id = r.id" if with_series else ""
        sql = ('SELECT r.id, r.set_id, st.number AS set_number, r.index_in_set AS "index", r.start_s, r.bottom_s,'
               " r.end_s, r.min_wall_gap_mm, r.touched, r.peak_trunk_angle_deg, r.peak_knee_flexion_deg,"
               " r.peak_spine_flexion_deg, r.return_trunk_angle_deg, r.descent_s, r.hold_s, r.ascent_s, r.score,"
               " r.good, r.lost_points, r.limits,"
               " r.recorded, (SELECT group_concat(fault) FROM rep_faults WHERE rep_id = r.id) AS faults"
               f"{series_columns} FROM sets st JOIN reps r ON r.set_id = st.id{series_join}"
               " WHERE st.session_id = ? ORDER BY st.number, r.index_in_set")
        reps = []
        for row in self._db.execute(sql, (session_id,)):
            rep = _row(row, ("touched", "good"))
            rep["faults"] = _fault_list(rep["faults"])
            rep["lost_points"] = None if rep["lost_points"] is None else json.loads(rep["lost_points"])
            rep["limits"] = None if rep["limits"] is None else json.loads(rep["limits"])
            if with_series:
                frames = rep.pop("frames")
                blobs = [rep.pop(name) for name in SERIES_NAMES]
                rep["series"] = (None if frames is None else
                                 {name: decode_series(blob) for name, blob in zip(SERIES_NAMES, blobs)})
            reps.append(rep)
        return reps

    def rep_series(self, rep_id: int) -> dict | None:
        """One rep's series as a dict of float32 arrays (see :meth:`session_reps`), or None."""
        row = self._one("SELECT t_s, wall_gap_mm, trunk_angle_deg, knee_flexion_deg FROM rep_series"
                        " WHERE rep_id = ?", (rep_id,))
        return None if row is None else {name: decode_series(row[name]) for name in SERIES_NAMES}

    # -- summaries

    def session_summaries(self, patient_id: int, *, since: _dt.datetime | None = None) -> list[dict]:
        """Per session of a patient, oldest first, the figures of the progress charts.

        Each dict: ``session_id``, ``started``, ``ended`` (UTC text),
        ``date`` (the start's calendar date on the station's local clock,
        ``YYYY-MM-DD``), ``interrupted``, ``sets``, ``reps``, ``good_reps``,
        ``good_rate`` and ``touch_rate`` (shares 0-1 of the reps),
        ``mean_peak_trunk_angle_deg``, ``mean_peak_knee_flexion_deg``
        (degrees), ``mean_score`` (0-100), and ``fault_counts`` (reps with
        each fault, every name of :data:`~station.faults.FAULT_NAMES` present).
        Means and rates are None for a session without reps. All computed
        by SQLite.

        Parameters
        ----------
        since : datetime, optional
            Only sessions started at or after this aware time.
        """
        since_text = "" if since is None else _timestamp(since, "since")
        with self._read() as db:
            rows = db.execute(
                "SELECT s.id AS session_id, s.started, s.ended, date(s.started, 'localtime') AS date,"
                " s.interrupted, count(DISTINCT st.id) AS sets, count(r.id) AS reps,"
                " coalesce(sum(r.good), 0) AS good_reps, avg(r.good) AS good_rate, avg(r.touched) AS touch_rate,"
                " avg(r.peak_trunk_angle_deg) AS mean_peak_trunk_angle_deg,"
                " avg(r.peak_knee_flexion_deg) AS mean_peak_knee_flexion_deg, avg(r.score) AS mean_score"
                " FROM sessions s LEFT JOIN sets st ON st.session_id = s.id LEFT JOIN reps r ON r.set_id = st.id"
                " WHERE s.patient_id = ? AND s.started >= ? GROUP BY s.id ORDER BY s.started, s.id",
                (patient_id, since_text)).fetchall()
            counts = db.execute(
                "SELECT st.session_id, f.fault, count(*) FROM sessions s JOIN sets st ON st.session_id = s.id"
                " JOIN reps r ON r.set_id = st.id JOIN rep_faults f ON f.rep_id = r.id"
                " WHERE s.patient_id = ? AND s.started >= ? GROUP BY st.session_id, f.fault",
                (patient_id, since_text)).fetchall()
        summaries = {row["session_id"]: {**_row(row, ("interrupted",)), "fault_counts": dict.fromkeys(FAULT_NAMES, 0)}
                     for row in rows}
        for session_id, fault, count in counts:
            summaries[session_id]["fault_counts"][fault] = count
        return list(summaries.values())

    def recent_activity(self, *, limit: int = 20) -> list[dict]:
        """The latest sessions across all patients, newest first.

        Dicts as :meth:`get_session` (``patient_code`` and ``patient_name``
        None for a guest) plus ``good_reps``.
        """
        sql = (f"SELECT {_SESSION_COLUMNS}, (SELECT count(*) FROM sets WHERE session_id = s.id) AS sets,"
               " (SELECT count(*) FROM sets JOIN reps ON reps.set_id = sets.id WHERE sets.session_id = s.id) AS reps,"
               " (SELECT coalesce(sum(reps.good), 0) FROM sets JOIN reps ON reps.set_id = sets.id"
               "  WHERE sets.session_id = s.id) AS good_reps"
               " FROM (SELECT * FROM sessions ORDER BY started DESC, id DESC LIMIT ?) s"
               " LEFT JOIN patients p ON p.id = s.patient_id ORDER BY s.started DESC, s.id DESC")
        return [_row(row, ("interrupted",)) for row in self._db.execute(sql, (_count(limit, "limit"),))]


def _limits_text(limits: Mapping | None) -> str | None:
    """A rep's limits as stored: JSON of the fault limits by name (and the target lean), or None."""
    if limits is None:
        return None
    if not isinstance(limits, Mapping):
        raise ValueError(f"limits must be a mapping of limit names to numbers, not {limits!r}")
    known = (*_THRESHOLD_NAMES, "target_trunk_angle_deg")
    unknown = sorted(set(limits) - set(known))
    if unknown:
        raise ValueError(f"unknown limit {unknown[0]!r}; known: {', '.join(known)}")
    missing = [name for name in _THRESHOLD_NAMES if name not in limits]
    if missing:
        raise ValueError(f"the rep's limits have no {missing[0]!r}")
    checked = {name: _number(limits[name], name, positive=True, optional=name == "target_trunk_angle_deg")
               for name in known if name in limits}
    return json.dumps(checked)


def _fault_list(joined: str | None) -> list[str]:
    if not joined:
        return []
    names = joined.split(",")
    return sorted(names, key=lambda name: FAULT_NAMES.index(name) if name in FAULT_NAMES else len(FAULT_NAMES))


# -- backup and restore -----------------------------------------------------------

def _inspect_file(path: Path, what: str) -> tuple[int, str]:
    """(schema version, integrity report) of a database file, or StoreError if it is not a store."""
    if not path.is_file():
        raise StoreError(f"{what} {path} does not exist")
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
    except sqlite3.Error as error:
        raise StoreError(f"cannot read {what} {path}: {error}") from None
    try:
        version = _check_identity(db, f"{what} {path}", hint="check the path")
        if version == 0:
            raise StoreError(f"{what} {path} is an empty database, not a Wall Hinge store")
        report = db.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.DatabaseError as error:
        raise StoreError(f"{what} {path} is damaged ({error}); choose another backup") from None
    finally:
        db.close()
    return version, report


def backup(store_path, dest_path) -> Path:
    """Copy the store to ``dest_path`` with SQLite's online backup, safe while the station runs.

    The copy is one self-contained file (no ``-wal``), written beside the
    destination first and moved into place when complete, replacing an older
    file of that name. Returns the destination path.

    Raises
    ------
    StoreError
        The store is not a Wall Hinge store, or the copy cannot be written.
    """
    source_path, dest = Path(store_path), Path(dest_path)
    if not source_path.is_file():
        raise StoreError(f"store {source_path} does not exist")
    if dest.exists() and dest.resolve() == source_path.resolve():
        raise StoreError("the backup must go to another file than the store itself")
    if not dest.parent.is_dir():
        raise StoreError(f"cannot write the backup {dest}: folder {dest.parent} does not exist")
    partial = dest.with_name(dest.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        source = sqlite3.connect(source_path, isolation_level=None)
        try:
            _check_identity(source, source_path)
            target = sqlite3.connect(partial, isolation_level=None)
            try:
                source.backup(target)
                target.execute("PRAGMA journal_mode = DELETE")
            finally:
                target.close()
        finally:
            source.close()
        os.replace(partial, dest)
    except (sqlite3.Error, OSError) as error:
        partial.unlink(missing_ok=True)
        raise StoreError(f"cannot back up {source_path} to {dest}: {error}") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return dest


def restore(backup_path, store_path) -> Path | None:
    """Replace the store by a backup, keeping the old store as ``store_path + '.before-restore'``.

    The backup must be a Wall Hinge store that passes SQLite's
    ``integrity_check`` with a schema version this code knows (an older one
    is upgraded on the next open); otherwise nothing is touched. Stop the
    station first: a store in use is refused. Returns the path of the
    kept old store, or None if there was none.

    Raises
    ------
    StoreError
        The backup is not a valid store, or the store is in use.
    """
    source, store = Path(backup_path), Path(store_path)
    if store.exists() and source.exists() and source.resolve() == store.resolve():
        raise StoreError("the backup and the store are the same file")
    _, report = _inspect_file(source, "backup")
    if report != "ok":
        raise StoreError(f"backup {source} fails SQLite's integrity check ({report}); choose another backup")
    if not store.parent.is_dir():
        raise StoreError(f"cannot restore to {store}: folder {store.parent} does not exist")
    incoming = store.with_name(store.name + ".restoring")
    incoming.unlink(missing_ok=True)
    try:
        reader = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
        try:
            writer = sqlite3.connect(incoming, isolation_level=None)
            try:
                reader.backup(writer)
                writer.execute("PRAGMA journal_mode = DELETE")
            finally:
                writer.close()
        finally:
            reader.close()
        kept = store.with_name(store.name + ".before-restore")
        if store.exists():
            _quiesce(store)
            for suffix in ("-wal", "-shm", ""):
                old, aside = Path(f"{store}{suffix}"), Path(f"{kept}{suffix}")
                aside.unlink(missing_ok=True)
                if old.exists():
                    os.replace(old, aside)
        else:
            kept = None
        os.replace(incoming, store)
    except (sqlite3.Error, OSError) as error:
        incoming.unlink(missing_ok=True)
        raise StoreError(f"cannot restore {source} to {store}: {error}") from None
    except BaseException:
        incoming.unlink(missing_ok=True)
        raise
    return kept


def _quiesce(store: Path) -> None:
    """Fold the WAL into the store file, or StoreError if another connection has it open.

    Leaving WAL mode needs the only connection to the file, which is the test
    that the station is not running. A damaged store that cannot be read is
    left as it is: its files are moved aside together.
    """
    try:
        db = sqlite3.connect(store, timeout=0.5, isolation_level=None)
    except sqlite3.Error:
        return
    try:
        mode = db.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
    except sqlite3.OperationalError as error:
        if "locked" in str(error) or "busy" in str(error):
            raise StoreError(f"the store {store} is in use: stop the station and the dashboard, then restore") \
                from None
        return
    except sqlite3.DatabaseError:
        return
    finally:
        db.close()
    if mode != "delete":
        raise StoreError(f"the store {store} is in use: stop the station and the dashboard, then restore")
