"""The store's schema: the numbered migration steps of a station's SQLite file, and the same tables as SQLAlchemy Core.

Two forms, one schema
---------------------
- :data:`MIGRATIONS` is the ordered list of SQLite steps; step *n* (1-based)
  takes a station's file from version *n - 1* to *n*. Opening a store
  applies the missing steps, each in its own transaction together with the
  new ``PRAGMA user_version``, and checks the foreign keys before
  committing, so a step applies whole or not at all and no data is lost.
  Released steps are never edited (the tests keep a checksum of each).
- :data:`METADATA` holds the same tables as SQLAlchemy Core ``Table``
  objects. A clinic's PostgreSQL database is made from it in one
  transaction and stamped with :data:`SCHEMA_VERSION` in
  ``wallhinge_schema``; a test checks that both forms have the same tables,
  columns and indexes. A later step that changes the schema adds its
  PostgreSQL statements beside its SQLite script (see :data:`POSTGRESQL_STEPS`).

Why numbered steps and not Alembic: the station files in the field carry
``PRAGMA user_version`` 1-3 and upgrade in place with the released scripts;
Alembic would need a second version record in every file and batch-mode
table copies for SQLite's ``ALTER TABLE``, for a schema that changes a few
times a year.
"""

from __future__ import annotations

from sqlalchemy import (CheckConstraint, Column, Float, ForeignKey, Index, Integer, LargeBinary, MetaData,
                        PrimaryKeyConstraint, Table, Text, UniqueConstraint, func, text)

__all__ = ["APPLICATION_ID", "METADATA", "MIGRATIONS", "PAGE_SIZE", "POSTGRESQL_STEPS", "ROLES", "SCHEMA_VERSION"]

#: ``PRAGMA application_id`` of a Wall Hinge store: "WHNG".
APPLICATION_ID = 0x57484E47

#: Page size of a new SQLite store (bytes); an existing file keeps its own.
PAGE_SIZE = 8192

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
    # 4: several stations on one clinic database. A session keeps the station it came from and its id
    # there (NULL on the station itself), unique, so a delivery that is repeated adds nothing; the
    # station keeps what reached the clinic server (deliveries) and each station's delivery state
    # (stations); lower() indexes serve the case-blind look-ups of codes and user names.
    """
    ALTER TABLE sessions ADD COLUMN station TEXT CHECK (station IS NULL OR length(station) > 0);
    ALTER TABLE sessions ADD COLUMN station_session_id INTEGER;
    CREATE UNIQUE INDEX sessions_by_origin ON sessions (station, station_session_id);
    CREATE INDEX sessions_by_station ON sessions (station, started);
    CREATE INDEX patients_by_lower_code ON patients (lower(code));
    CREATE INDEX clinicians_by_lower_username ON clinicians (lower(username));
    CREATE INDEX reps_by_recorded ON reps (recorded);

    CREATE TABLE stations (
        name           TEXT PRIMARY KEY CHECK (length(name) > 0),
        last_contact   TEXT,
        last_recorded  TEXT,
        last_delivered TEXT,
        waiting_reps   INTEGER NOT NULL DEFAULT 0 CHECK (waiting_reps >= 0)
    );

    CREATE TABLE deliveries (
        session_id        INTEGER PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
        server_session_id INTEGER NOT NULL,
        reps              INTEGER NOT NULL DEFAULT 0 CHECK (reps >= 0),
        last_recorded     TEXT,
        complete          INTEGER NOT NULL DEFAULT 0 CHECK (complete IN (0, 1)),
        delivered         TEXT NOT NULL
    );
    """,
    # 5: a rep whose bottom was not seen (someone in front of the patient) has no peak trunk lean, so
    # reps.peak_trunk_angle_deg may be NULL. This step REBUILDS the reps table: SQLite cannot drop NOT
    # NULL in place (12-step recipe; the runner turns foreign keys off around it, so dropping the old
    # table leaves rep_faults and rep_series alone); the columns keep their order and constraints.
    """
    CREATE TABLE new_reps (
        id                     INTEGER PRIMARY KEY,
        set_id                 INTEGER NOT NULL REFERENCES sets (id) ON DELETE CASCADE,
        index_in_set           INTEGER NOT NULL CHECK (index_in_set >= 1),
        start_s                REAL NOT NULL,
        bottom_s               REAL NOT NULL,
        end_s                  REAL NOT NULL,
        min_wall_gap_mm        REAL,
        touched                INTEGER NOT NULL CHECK (touched IN (0, 1)),
        peak_trunk_angle_deg   REAL,
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
        limits                 TEXT,
        UNIQUE (set_id, index_in_set)
    );
    INSERT INTO new_reps (id, set_id, index_in_set, start_s, bottom_s, end_s, min_wall_gap_mm, touched,
                          peak_trunk_angle_deg, peak_knee_flexion_deg, peak_spine_flexion_deg,
                          return_trunk_angle_deg, descent_s, hold_s, ascent_s, score, good, lost_points,
                          recorded, limits)
        SELECT id, set_id, index_in_set, start_s, bottom_s, end_s, min_wall_gap_mm, touched,
               peak_trunk_angle_deg, peak_knee_flexion_deg, peak_spine_flexion_deg, return_trunk_angle_deg,
               descent_s, hold_s, ascent_s, score, good, lost_points, recorded, limits
        FROM reps;
    DROP TABLE reps;
    ALTER TABLE new_reps RENAME TO reps;
    CREATE INDEX reps_by_recorded ON reps (recorded);
    """,
    # 6: a rep whose bottom was not seen has no score (its squat, rounded back, touch and speed were not
    # judged; station.scoring), so reps.score may be NULL; a score there is still 0-100. This step REBUILDS
    # the reps table as step 5 did (12-step recipe, foreign keys off around it); the columns keep their
    # order and the other constraints.
    """
    CREATE TABLE new_reps (
        id                     INTEGER PRIMARY KEY,
        set_id                 INTEGER NOT NULL REFERENCES sets (id) ON DELETE CASCADE,
        index_in_set           INTEGER NOT NULL CHECK (index_in_set >= 1),
        start_s                REAL NOT NULL,
        bottom_s               REAL NOT NULL,
        end_s                  REAL NOT NULL,
        min_wall_gap_mm        REAL,
        touched                INTEGER NOT NULL CHECK (touched IN (0, 1)),
        peak_trunk_angle_deg   REAL,
        peak_knee_flexion_deg  REAL,
        peak_spine_flexion_deg REAL,
        return_trunk_angle_deg REAL,
        descent_s              REAL NOT NULL,
        hold_s                 REAL NOT NULL,
        ascent_s               REAL NOT NULL,
        score                  NUMERIC CHECK (score BETWEEN 0 AND 100),
        good                   INTEGER NOT NULL CHECK (good IN (0, 1)),
        lost_points            TEXT,
        recorded               TEXT NOT NULL,
        limits                 TEXT,
        UNIQUE (set_id, index_in_set)
    );
    INSERT INTO new_reps (id, set_id, index_in_set, start_s, bottom_s, end_s, min_wall_gap_mm, touched,
                          peak_trunk_angle_deg, peak_knee_flexion_deg, peak_spine_flexion_deg,
                          return_trunk_angle_deg, descent_s, hold_s, ascent_s, score, good, lost_points,
                          recorded, limits)
        SELECT id, set_id, index_in_set, start_s, bottom_s, end_s, min_wall_gap_mm, touched,
               peak_trunk_angle_deg, peak_knee_flexion_deg, peak_spine_flexion_deg, return_trunk_angle_deg,
               descent_s, hold_s, ascent_s, score, good, lost_points, recorded, limits
        FROM reps;
    DROP TABLE reps;
    ALTER TABLE new_reps RENAME TO reps;
    CREATE INDEX reps_by_recorded ON reps (recorded);
    """,
    # 7: why a rep's bottom was read off less of the patient (the view note of most of its frames there:
    # the head above the picture, which reads the trunk less well), so the screens can say it beside its
    # peak trunk lean; NULL for none and for reps stored before.
    """
    ALTER TABLE reps ADD COLUMN view_note TEXT CHECK (view_note IS NULL OR length(view_note) > 0);
    """,
    # 8: when the patient was there but hidden during a set (someone in front of them), so the screens can
    # say that reps done then may not be counted: JSON of station.hidden_spans.spans_record, NULL for none
    # and for sets stored before.
    """
    ALTER TABLE sets ADD COLUMN hidden_spans TEXT CHECK (hidden_spans IS NULL OR length(hidden_spans) > 0);
    """,
    # 9: why a rep's back was not checked (the set-up hides it, its measurement is not validated, the camera
    # above lost, the back hidden at the bottom: station.reps.Rep.back_note), so the screens can say it beside
    # "back not checked"; NULL when it was checked and for reps stored before.
    """
    ALTER TABLE reps ADD COLUMN back_note TEXT CHECK (back_note IS NULL OR length(back_note) > 0);
    """,
)

#: What an account may be: ``admin`` manages accounts and kiosks, ``clinician`` sees patients.
ROLES = ("admin", "clinician")

#: The schema version this code writes: the number of migration steps.
SCHEMA_VERSION = len(MIGRATIONS)

#: PostgreSQL statements of the steps after the clinic schema's first version (step 4, made whole
#: from :data:`METADATA`), by step.
POSTGRESQL_STEPS: dict[int, tuple[str, ...]] = {
    5: ("ALTER TABLE reps ALTER COLUMN peak_trunk_angle_deg DROP NOT NULL",),
    6: ("ALTER TABLE reps ALTER COLUMN score DROP NOT NULL",),  # the CHECK 0-100 stays: NULL passes it
    7: ("ALTER TABLE reps ADD COLUMN view_note TEXT CHECK (view_note IS NULL OR length(view_note) > 0)",),
    8: ("ALTER TABLE sets ADD COLUMN hidden_spans TEXT CHECK (hidden_spans IS NULL OR length(hidden_spans) > 0)",),
    9: ("ALTER TABLE reps ADD COLUMN back_note TEXT CHECK (back_note IS NULL OR length(back_note) > 0)",),
}

#: The first schema version a clinic's PostgreSQL database was made at.
POSTGRESQL_BASE_VERSION = 4


def _flag(name: str) -> Column:
    return Column(name, Integer, CheckConstraint(f"{name} IN (0, 1)"), nullable=False, server_default=text("0"))


METADATA = MetaData()

clinicians = Table(
    "clinicians", METADATA,
    Column("id", Integer, primary_key=True),
    Column("username", Text, CheckConstraint("length(username) > 0"), nullable=False),
    Column("password_hash", Text, CheckConstraint("length(password_hash) > 0"), nullable=False),
    Column("created", Text, nullable=False),
    Column("role", Text, CheckConstraint("role IN ('admin', 'clinician')"), nullable=False,
           server_default=text("'clinician'")),
    Column("session_epoch", Integer, CheckConstraint("session_epoch >= 0"), nullable=False, server_default=text("0")),
)
Index("clinicians_by_lower_username", func.lower(clinicians.c.username), unique=True)

patients = Table(
    "patients", METADATA,
    Column("id", Integer, primary_key=True),
    Column("code", Text, CheckConstraint("length(code) > 0"), nullable=False),
    Column("display_name", Text, nullable=False),
    Column("created", Text, nullable=False),
    _flag("archived"),
)
Index("patients_by_lower_code", func.lower(patients.c.code), unique=True)

targets = Table(
    "targets", METADATA,
    Column("patient_id", Integer, ForeignKey("patients.id", ondelete="CASCADE"), primary_key=True,
           autoincrement=False),
    Column("standoff_mm", Float, CheckConstraint("standoff_mm > 0"), nullable=False, server_default=text("100")),
    Column("target_trunk_angle_deg", Float, CheckConstraint("target_trunk_angle_deg > 0")),
    Column("reps_per_set", Integer, CheckConstraint("reps_per_set >= 1"), nullable=False, server_default=text("12")),
    Column("sets", Integer, CheckConstraint("sets >= 1"), nullable=False, server_default=text("3")),
    Column("touch_tolerance_mm", Float, CheckConstraint("touch_tolerance_mm > 0")),
    Column("max_knee_flexion_deg", Float, CheckConstraint("max_knee_flexion_deg > 0")),
    Column("max_spine_flexion_deg", Float, CheckConstraint("max_spine_flexion_deg > 0")),
    Column("min_descent_s", Float, CheckConstraint("min_descent_s > 0")),
    Column("upright_angle_deg", Float, CheckConstraint("upright_angle_deg > 0")),
    Column("updated", Text, nullable=False),
)

calibrations = Table(
    "calibrations", METADATA,
    Column("id", Integer, primary_key=True),
    Column("created", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("frames_used", Integer),
    Column("floor_rms_mm", Float),
    Column("wall_rms_mm", Float),
    Column("floor_share", Float),
    Column("wall_share", Float),
    Column("planes_angle_deg", Float),
    Column("document", Text, nullable=False),
    Index("calibrations_by_created", "created"),
)

sessions = Table(
    "sessions", METADATA,
    Column("id", Integer, primary_key=True),
    Column("patient_id", Integer, ForeignKey("patients.id")),
    Column("calibration_id", Integer, ForeignKey("calibrations.id")),
    Column("started", Text, nullable=False),
    Column("ended", Text),
    _flag("interrupted"),
    Column("source", Text, nullable=False),
    Column("notes", Text),
    Column("station", Text, CheckConstraint("station IS NULL OR length(station) > 0")),
    Column("station_session_id", Integer),
    Index("sessions_by_patient", "patient_id", "started"),
    Index("sessions_by_started", "started"),
    Index("sessions_by_calibration", "calibration_id"),
    Index("sessions_by_origin", "station", "station_session_id", unique=True),
    Index("sessions_by_station", "station", "started"),
)
Index("sessions_open", sessions.c.id, postgresql_where=sessions.c.ended.is_(None),
      sqlite_where=sessions.c.ended.is_(None))

sets = Table(
    "sets", METADATA,
    Column("id", Integer, primary_key=True),
    Column("session_id", Integer, ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False),
    Column("number", Integer, CheckConstraint("number >= 1"), nullable=False),
    Column("started", Text, nullable=False),
    Column("ended", Text),
    Column("hidden_spans", Text, CheckConstraint("hidden_spans IS NULL OR length(hidden_spans) > 0")),
    UniqueConstraint("session_id", "number"),
)

reps = Table(
    "reps", METADATA,
    Column("id", Integer, primary_key=True),
    Column("set_id", Integer, ForeignKey("sets.id", ondelete="CASCADE"), nullable=False),
    Column("index_in_set", Integer, CheckConstraint("index_in_set >= 1"), nullable=False),
    *(Column(name, Float, nullable=False) for name in ("start_s", "bottom_s", "end_s")),
    Column("min_wall_gap_mm", Float),
    Column("touched", Integer, CheckConstraint("touched IN (0, 1)"), nullable=False),
    *(Column(name, Float) for name in ("peak_trunk_angle_deg", "peak_knee_flexion_deg", "peak_spine_flexion_deg",
                                       "return_trunk_angle_deg")),
    *(Column(name, Float, nullable=False) for name in ("descent_s", "hold_s", "ascent_s")),
    Column("score", Float, CheckConstraint("score BETWEEN 0 AND 100")),  # NULL: the rep's bottom was not seen
    Column("good", Integer, CheckConstraint("good IN (0, 1)"), nullable=False),
    Column("lost_points", Text),
    Column("recorded", Text, nullable=False),
    Column("limits", Text),
    Column("view_note", Text, CheckConstraint("view_note IS NULL OR length(view_note) > 0")),
    Column("back_note", Text, CheckConstraint("back_note IS NULL OR length(back_note) > 0")),
    UniqueConstraint("set_id", "index_in_set"),
    Index("reps_by_recorded", "recorded"),
)

rep_faults = Table(
    "rep_faults", METADATA,
    Column("rep_id", Integer, ForeignKey("reps.id", ondelete="CASCADE"), nullable=False),
    Column("fault", Text, nullable=False),
    PrimaryKeyConstraint("rep_id", "fault"),
    Index("rep_faults_by_fault", "fault", "rep_id"),
)

rep_series = Table(
    "rep_series", METADATA,
    Column("rep_id", Integer, ForeignKey("reps.id", ondelete="CASCADE"), primary_key=True, autoincrement=False),
    Column("frames", Integer, CheckConstraint("frames >= 0"), nullable=False),
    *(Column(name, LargeBinary, CheckConstraint(f"length({name}) = 4 * frames"), nullable=False)
      for name in ("t_s", "wall_gap_mm", "trunk_angle_deg", "knee_flexion_deg")),
)

stations = Table(
    "stations", METADATA,
    Column("name", Text, CheckConstraint("length(name) > 0"), primary_key=True),
    Column("last_contact", Text),
    Column("last_recorded", Text),
    Column("last_delivered", Text),
    Column("waiting_reps", Integer, CheckConstraint("waiting_reps >= 0"), nullable=False, server_default=text("0")),
)

deliveries = Table(
    "deliveries", METADATA,
    Column("session_id", Integer, ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True,
           autoincrement=False),
    Column("server_session_id", Integer, nullable=False),
    Column("reps", Integer, CheckConstraint("reps >= 0"), nullable=False, server_default=text("0")),
    Column("last_recorded", Text),
    Column("complete", Integer, CheckConstraint("complete IN (0, 1)"), nullable=False, server_default=text("0")),
    Column("delivered", Text, nullable=False),
)

#: The table that records a PostgreSQL database's schema version (SQLite keeps it in ``user_version``).
wallhinge_schema = Table(
    "wallhinge_schema", MetaData(),
    Column("version", Integer, nullable=False),
    Column("application_id", Integer, nullable=False),
)
