"""The station's SQLite store: schema and migrations, every API call, summaries, backup and restore."""

import datetime as dt
import hashlib
import json
import re
import sqlite3
import threading

import numpy as np
import pytest
import sqlalchemy.exc

from station import store as store_module
from station.errors import WallHingeError
from station.faults import FAULT_NAMES, Thresholds
from station.measure import HEAD_ABOVE_PICTURE
from station.setup import BACK_HIDDEN_BY_SETUP
from station.store import (APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION, SERIES_NAMES, ConflictError, NotFoundError,
                           Store, StoreError, backup, decode_series, encode_series, open_store, restore,
                           series_to_list, thresholds_from_targets)

UTC = dt.timezone.utc

# The domain's example rep (docs/drill.md, the analyze contract).
CONTRACT_REP = {"index": 1, "start_s": 4.1, "bottom_s": 6.0, "end_s": 8.2, "min_wall_gap_mm": 6.0, "touched": True,
                "peak_trunk_angle_deg": 52.3, "peak_knee_flexion_deg": 18.0, "descent_s": 1.9, "hold_s": 0.4,
                "ascent_s": 1.8, "faults": [], "score": 94}

# sha256 of each released migration step. A failure here means a released
# step was edited: put the change in a new step at the end instead.
RELEASED_STEPS = ["e0896289ec9d10dec566bd76c295d73ed089d34c22fa5e275894a22b38323d3f",
                  "7962185c61e65c9c62fd48fc791b5bfa606274d5f080b5577111e22bdbd114af",
                  "336bbae37183ffe3cb793abea9ebbc5b8fd1f890fd17e27436eae8e58be8d11c",
                  "f8cc265f4f4ef7fd521dfdc00b84d03447eaa44718d8af45611d633df1161050",
                  "6e20d83c4f91661c17d585936d61637f184ea8b4134826dd4396a790e1df736a",
                  "b144674e139ad6cad1386aae01de90be21a523ce97759746eac84dd6d8e246bb",
                  "b9b3f9d4f11a6873d93a1d7ab92364ddfdc176d76bd2b07073b2595d15cdd3d0",
                  "6554dc04440862b10a1247554ce4fde64397b5fef1288c95315442c67416af7b",
                  "23de28b2bff52b16d4c79bca47508c38eccc52025637565dd76bb297d0c161d1"]


def at(day, hour=9, minute=0):
    """An aware UTC time in March 2026."""
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def rep(index=1, **changes):
    return {**CONTRACT_REP, "index": index, **changes}


@pytest.fixture
def path(tmp_path):
    return tmp_path / "station.db"


@pytest.fixture
def store(path):
    with open_store(path) as opened:
        yield opened


def raw(opened):
    """The store's own sqlite3 connection, for looking under the store's API."""
    return opened._conn.connection.dbapi_connection


def scalar(path, sql):
    """One value from a fresh connection to the file."""
    db = sqlite3.connect(path)
    try:
        return db.execute(sql).fetchone()[0]
    finally:
        db.close()


# -- the file and its migrations ----------------------------------------------------

def test_a_new_store_has_the_current_schema_in_wal_mode_with_foreign_keys(store, path):
    assert store.schema_version == SCHEMA_VERSION == len(MIGRATIONS)
    assert raw(store).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert raw(store).execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert raw(store).execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert scalar(path, "PRAGMA application_id") == APPLICATION_ID
    assert scalar(path, "PRAGMA journal_mode") == "wal"  # kept in the file
    assert scalar(path, "PRAGMA page_size") == store_module.PAGE_SIZE


def test_a_new_store_opened_by_several_threads_at_once_opens_in_each(tmp_path):
    """The station's run and its delivery to the clinic open a new station's file together on its first start.

    Before: one opening in 10-20 failed, "database is locked" (the switch to
    WAL, which SQLite does not wait for) or "not a Wall Hinge store" (the
    identity read in three statements while another opening committed its
    first migration step between them).
    """
    failures = []

    def open_and_close(path):
        try:
            with open_store(path) as opened:
                assert opened.schema_version == SCHEMA_VERSION
        except StoreError as error:
            failures.append(str(error))

    for attempt in range(60):
        path = tmp_path / f"station-{attempt}.db"
        threads = [threading.Thread(target=open_and_close, args=(path,)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert failures == []


def test_released_migration_steps_are_never_edited():
    released = [hashlib.sha256(step.encode()).hexdigest() for step in MIGRATIONS[:len(RELEASED_STEPS)]]
    assert released == RELEASED_STEPS, "a released migration step changed: add a new step instead"


def test_foreign_keys_are_enforced(store):
    with pytest.raises(NotFoundError, match="set 999 does not exist"):
        store.add_rep(999, rep())
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        raw(store).execute("INSERT INTO sets (session_id, number, started) VALUES (42, 1, '2026-03-01')")
    assert raw(store).execute("SELECT count(*) FROM reps").fetchone()[0] == 0


def make_version_1(path):
    """A database at schema version 1, built with step 1 alone, filled through plain SQL."""
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.executescript("BEGIN;" + MIGRATIONS[0] + """
            PRAGMA user_version = 1;
            INSERT INTO clinicians (username, password_hash) VALUES ('ann', 'scrypt$hash');
            INSERT INTO patients (id, code, display_name) VALUES (1, 'P-001', 'Edna W');
            INSERT INTO targets (patient_id, standoff_mm, max_knee_flexion_deg) VALUES (1, 200, 35);
            INSERT INTO calibrations (id, created, source, floor_rms_mm, document)
                VALUES (1, '2026-03-01T08:00:00.000Z', 'camera 1', 2.5, '{}');
            INSERT INTO sessions (id, patient_id, calibration_id, started, ended, source)
                VALUES (1, 1, 1, '2026-03-02T09:00:00.000Z', '2026-03-02T09:20:00.000Z', 'camera 1');
            INSERT INTO sets (id, session_id, number, started) VALUES (1, 1, 1, '2026-03-02T09:01:00.000Z');
            INSERT INTO reps (id, set_id, index_in_set, start_s, bottom_s, end_s, min_wall_gap_mm, touched,
                              peak_trunk_angle_deg, peak_knee_flexion_deg, descent_s, hold_s, ascent_s, score, good,
                              recorded)
                VALUES (1, 1, 1, 4.1, 6.0, 8.2, 6.0, 1, 52.3, 18.0, 1.9, 0.4, 1.8, 94, 0, '2026-03-02T09:01:08Z');
            INSERT INTO rep_faults (rep_id, fault) VALUES (1, 'too_fast');
            INSERT INTO rep_series (rep_id, frames, t_s, wall_gap_mm, trunk_angle_deg, knee_flexion_deg)
                VALUES (1, 2, x'0000000000008040', x'0000c07f00004040', x'0000000000000000', x'0000000000000000');
            COMMIT;
        """)
    finally:
        db.close()


def check_version_1_data(opened):
    assert opened.get_clinician("ann")["password_hash"] == "scrypt$hash"
    assert opened.get_patient(1)["code"] == "P-001"
    targets = opened.get_targets(1)
    assert (targets["standoff_mm"], targets["max_knee_flexion_deg"], targets["reps_per_set"]) == (200, 35, 12)
    assert opened.latest_calibration()["floor_rms_mm"] == 2.5
    [only] = opened.session_reps(1, with_series=True)
    assert (only["index"], only["score"], only["faults"], only["touched"]) == (1, 94, ["too_fast"], True)
    assert series_to_list(only["series"]["wall_gap_mm"]) == [None, 3.0]
    assert series_to_list(only["series"]["t_s"]) == [0.0, 4.0]


def test_a_version_1_database_keeps_its_data_when_the_current_code_opens_it(path):
    make_version_1(path)
    with open_store(path) as opened:
        assert opened.schema_version == SCHEMA_VERSION
        check_version_1_data(opened)
    assert scalar(path, "PRAGMA page_size") == 4096  # an existing file keeps its pages


def test_the_first_existing_account_becomes_the_admin_and_others_stay_clinicians(path):
    make_version_1(path)
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO clinicians (username, password_hash) VALUES ('bo', 'scrypt$other')")
    with open_store(path) as opened:
        assert [(a["username"], a["role"]) for a in opened.list_clinicians()] == [("ann", "admin"), ("bo", "clinician")]
        assert opened.get_clinician("ann")["session_epoch"] == 0
        assert opened.end_clinician_sessions("ann") == 1 and opened.get_clinician("ann")["session_epoch"] == 1
        with pytest.raises(NotFoundError):
            opened.end_clinician_sessions("nobody")
        with pytest.raises(ValueError, match="role must be one of admin, clinician"):
            opened.add_clinician("cy", password_hash="h", role="root")


def test_a_later_migration_step_upgrades_a_filled_database_in_place(path, monkeypatch):
    make_version_1(path)
    step = """
        ALTER TABLE patients ADD COLUMN year_of_birth INTEGER;
        CREATE INDEX patients_by_name ON patients (display_name);
        UPDATE patients SET year_of_birth = 1941;
    """
    monkeypatch.setattr(store_module.schema, "MIGRATIONS", (*MIGRATIONS, step))
    with open_store(path) as opened:
        assert opened.schema_version == len(MIGRATIONS) + 1
        check_version_1_data(opened)
        assert raw(opened).execute("SELECT year_of_birth FROM patients").fetchone()[0] == 1941
    with open_store(path) as again:  # applied once only
        assert again.schema_version == len(MIGRATIONS) + 1


def rep_tables(db):
    """Every row of the reps and the tables that refer to them, as a file holds them (to compare after an upgrade)."""
    return {table: db.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
            for table in ("reps", "rep_faults", "rep_series")}


def check_upgraded_keeping(opened, before):
    """The file is at the latest version with version 1's data, every row of ``before`` (:func:`rep_tables`), its
    foreign keys whole and the reps' index rebuilt."""
    assert opened.schema_version == SCHEMA_VERSION
    check_version_1_data(opened)
    for table, rows in before.items():
        after = raw(opened).execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
        width = len(rows[0]) if rows else 0
        assert [row[:width] for row in after] == rows, table
        assert all(value is None for row in after for value in row[width:]), table  # columns added since: NULL
    assert raw(opened).execute("PRAGMA foreign_key_check").fetchall() == []
    assert raw(opened).execute("SELECT count(*) FROM sqlite_master WHERE name = 'reps_by_recorded'").fetchone()[0]


def check_rep_rows_follow(opened, rep_id):
    """Deleting rep ``rep_id`` deletes its faults and series too: the rebuilt table's foreign keys still hold."""
    raw(opened).execute(f"DELETE FROM reps WHERE id = {rep_id}")
    assert raw(opened).execute(f"SELECT count(*) FROM rep_faults WHERE rep_id = {rep_id}").fetchone()[0] == 0
    assert raw(opened).execute(f"SELECT count(*) FROM rep_series WHERE rep_id = {rep_id}").fetchone()[0] == 0


def test_a_version_4_file_keeps_every_rep_fault_and_series_and_then_takes_a_rep_without_peak_trunk(path):
    make_version_1(path)
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.executescript("BEGIN;" + "".join(MIGRATIONS[1:4]) + """
            PRAGMA user_version = 4;
            INSERT INTO sessions (id, started, source) VALUES (2, '2026-03-03T09:00:00.000Z', 'camera 1');
            INSERT INTO sets (id, session_id, number, started) VALUES (2, 2, 1, '2026-03-03T09:01:00.000Z');
            INSERT INTO reps (id, set_id, index_in_set, start_s, bottom_s, end_s, min_wall_gap_mm, touched,
                              peak_trunk_angle_deg, descent_s, hold_s, ascent_s, score, good, recorded, limits)
                VALUES (2, 2, 1, 9.0, 10.0, 12.0, NULL, 0, 48.0, 1.0, 0.2, 1.5, 70, 0, '2026-03-02T09:01:20Z',
                        '{"touch_tolerance_mm": 15.0}');
            INSERT INTO rep_faults (rep_id, fault) VALUES (2, 'squat'), (2, 'too_fast');
            INSERT INTO rep_series (rep_id, frames, t_s, wall_gap_mm, trunk_angle_deg, knee_flexion_deg)
                VALUES (2, 1, x'00000000', x'0000c07f', x'00004040', x'00000000');
            COMMIT;
        """)
        before = rep_tables(db)
    finally:
        db.close()
    with open_store(path) as opened:
        check_upgraded_keeping(opened, before)
        opened.add_rep(2, rep(2, peak_trunk_angle_deg=None, peak_knee_flexion_deg=None, min_wall_gap_mm=None,
                              touched=False))
        assert [(r["peak_trunk_angle_deg"], r["faults"]) for r in opened.session_reps(2)] == [
            (48.0, ["squat", "too_fast"]), (None, [])]
        check_rep_rows_follow(opened, 2)


def test_a_version_5_file_keeps_every_rep_fault_and_series_and_then_takes_a_rep_without_score(path):
    # A file of the code before step 6: reps.score NOT NULL.
    make_version_1(path)
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA foreign_keys = OFF")  # as the runner has them for step 5's table rebuild
        db.executescript("BEGIN;" + "".join(MIGRATIONS[1:5]) + """
            PRAGMA user_version = 5;
            INSERT INTO sessions (id, started, source) VALUES (2, '2026-03-03T09:00:00.000Z', 'camera 1');
            INSERT INTO sets (id, session_id, number, started) VALUES (2, 2, 1, '2026-03-03T09:01:00.000Z');
            INSERT INTO reps (id, set_id, index_in_set, start_s, bottom_s, end_s, min_wall_gap_mm, touched,
                              peak_trunk_angle_deg, descent_s, hold_s, ascent_s, score, good, recorded, limits)
                VALUES (2, 2, 1, 9.0, 10.0, 12.0, NULL, 0, NULL, 1.0, 0.2, 1.5, 85, 0, '2026-03-02T09:01:20Z',
                        '{"touch_tolerance_mm": 15.0}');
            INSERT INTO rep_faults (rep_id, fault) VALUES (2, 'incomplete_return');
            INSERT INTO rep_series (rep_id, frames, t_s, wall_gap_mm, trunk_angle_deg, knee_flexion_deg)
                VALUES (2, 1, x'00000000', x'0000c07f', x'00004040', x'00000000');
            COMMIT;
        """)
        assert db.execute("SELECT \"notnull\" FROM pragma_table_info('reps') WHERE name = 'score'").fetchone() == (1,)
        before = rep_tables(db)
    finally:
        db.close()
    with open_store(path) as opened:
        check_upgraded_keeping(opened, before)
        opened.add_rep(2, rep(2, peak_trunk_angle_deg=None, peak_knee_flexion_deg=None, min_wall_gap_mm=None,
                              touched=False, score=None, good=False))
        assert [(r["score"], r["faults"]) for r in opened.session_reps(2)] == [(85, ["incomplete_return"]), (None, [])]
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):  # a score is still 0-100
            raw(opened).execute("UPDATE reps SET score = 101 WHERE id = 2")
        check_rep_rows_follow(opened, 2)


def make_version(path, version):
    """A file of the code of schema ``version`` (6 or later) with version 1's rows: its rep tables' rows."""
    make_version_1(path)
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA foreign_keys = OFF")  # as the runner has them for steps 5 and 6's table rebuilds
        db.executescript("BEGIN;" + "".join(MIGRATIONS[1:version]) + f"PRAGMA user_version = {version}; COMMIT;")
        return rep_tables(db)
    finally:
        db.close()


@pytest.mark.parametrize("version, column, note, noteless", [
    # Step 7: why a rep's bottom was read off less of the patient (its peak trunk lean reads less well).
    (6, "view_note", HEAD_ABOVE_PICTURE, {}),
    # Step 9: why a rep's back was not checked (the set-up, the camera above, the back hidden); none when read.
    (8, "back_note", BACK_HIDDEN_BY_SETUP, {"peak_spine_flexion_deg": 4.0}),
])
def test_an_older_file_takes_a_rep_that_keeps_its_note(path, version, column, note, noteless):
    before = make_version(path, version)
    with open_store(path) as opened:
        check_upgraded_keeping(opened, before)
        assert all(r[column] is None for r in opened.session_reps(1))  # reps stored before: no note
        session = opened.start_session(source="camera 1")
        set_id = opened.start_set(session)
        opened.add_rep(set_id, rep(1, **{column: note}))
        opened.add_rep(set_id, rep(2, **noteless))
        assert [r[column] for r in opened.session_reps(session)] == [note, None]
        for wrong in ("", "  ", 3):
            with pytest.raises(ValueError, match=f"{column} must be a sentence or None"):
                opened.add_rep(set_id, rep(3, **{column: wrong}))
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            raw(opened).execute(f"UPDATE reps SET {column} = '' WHERE index_in_set = 1")


def test_a_version_7_file_keeps_when_a_sets_patient_was_hidden(path):
    # Step 8: a set keeps the spans its patient was there but hidden (station.hidden_spans).
    before = make_version(path, 7)
    with open_store(path) as opened:
        check_upgraded_keeping(opened, before)
        assert all(set_["hidden_spans"] == [] for set_ in opened.session_sets(1))  # sets stored before: none
        session = opened.start_session(source="camera 1")
        set_id = opened.start_set(session)
        opened.add_hidden_span(set_id, 12.5, 20.25, "someone in front of the patient")
        opened.add_hidden_span(set_id, 31.0, 33.0, " someone in front of the hips ")
        opened.add_hidden_span(set_id, 12.5, 20.25, "someone in front of the patient")  # a journal replayed again
        assert opened.session_sets(session)[0]["hidden_spans"] == [
            {"start_s": 12.5, "end_s": 20.25, "reason": "someone in front of the patient"},
            {"start_s": 31.0, "end_s": 33.0, "reason": "someone in front of the hips"}]
        for start_s, end_s, reason, message in ((5.0, 4.0, "x", "before it starts"), (None, 4.0, "x", "start_s"),
                                                (1.0, float("nan"), "x", "end_s"), (1.0, 2.0, " ", "reason")):
            with pytest.raises(ValueError, match=message):
                opened.add_hidden_span(set_id, start_s, end_s, reason)
        with pytest.raises(NotFoundError):
            opened.add_hidden_span(999, 1.0, 2.0, "x")
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            raw(opened).execute("UPDATE sets SET hidden_spans = '' WHERE id = :id", {"id": set_id})


def test_a_step_that_rebuilds_a_table_keeps_the_rows_that_refer_to_it(path, monkeypatch):
    make_version_1(path)
    # SQLite's 12-step recipe on sets (its table as step 1 made it): with foreign
    # keys on, dropping the old table would cascade to its reps and their faults and series.
    sets_table = re.search(r"CREATE TABLE sets \(.*?\n    \);", MIGRATIONS[0], re.S).group(0)
    step = sets_table.replace("CREATE TABLE sets", "CREATE TABLE new_sets") + """
        INSERT INTO new_sets (id, session_id, number, started, ended) SELECT id, session_id, number, started, ended
            FROM sets;
        DROP TABLE sets;
        ALTER TABLE new_sets RENAME TO sets;
    """
    monkeypatch.setattr(store_module.schema, "MIGRATIONS", (*MIGRATIONS, step))
    with open_store(path) as opened:
        check_version_1_data(opened)
        assert raw(opened).execute("PRAGMA foreign_keys").fetchone()[0] == 1  # on again after the steps
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
            raw(opened).execute("INSERT INTO sets (session_id, number, started) VALUES (42, 1, '2026-03-01')")


def test_a_failing_migration_step_changes_nothing(path, monkeypatch):
    make_version_1(path)
    step = """
        CREATE TABLE half_done (id INTEGER PRIMARY KEY);
        DELETE FROM reps;
        ALTER TABLE no_such_table ADD COLUMN x;
    """
    monkeypatch.setattr(store_module.schema, "MIGRATIONS", (*MIGRATIONS, step))
    failing = len(MIGRATIONS) + 1
    with pytest.raises(StoreError, match=f"upgrading .* to schema version {failing} failed .*nothing was changed"):
        open_store(path)
    assert scalar(path, "PRAGMA user_version") == failing - 1  # the steps before it stay applied
    assert scalar(path, "SELECT count(*) FROM sqlite_master WHERE name = 'half_done'") == 0
    monkeypatch.setattr(store_module.schema, "MIGRATIONS", MIGRATIONS)
    with open_store(path) as opened:
        check_version_1_data(opened)


def test_a_database_from_a_newer_version_is_refused_untouched(path):
    open_store(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="newer version of the station .* update the station software") as caught:
        open_store(path)
    assert isinstance(caught.value, WallHingeError) and isinstance(caught.value, RuntimeError)
    assert path.read_bytes() == before


def test_files_that_are_not_a_store_are_refused(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not a database at all, but long enough to have a header " * 4)
    with pytest.raises(StoreError, match="is not a Wall Hinge store database"):
        open_store(text)
    other = tmp_path / "other.sqlite"
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE t (x)")
    db.close()
    with pytest.raises(StoreError, match="an SQLite database but not a Wall Hinge store"):
        open_store(other)
    with pytest.raises(StoreError, match="does not exist"):
        open_store(tmp_path / "missing" / "station.db")


def test_a_write_waits_for_another_writer_then_says_the_store_is_busy(path):
    with open_store(path) as first, open_store(path, busy_timeout_s=0.05) as second:
        raw(first).execute("BEGIN IMMEDIATE")  # another process in the middle of a write
        with pytest.raises(StoreError, match="is busy .*try again"):
            second.add_patient(code="P-1", display_name="A")
        raw(first).execute("ROLLBACK")
        second.add_patient(code="P-1", display_name="A")
        assert first.get_patient_by_code("P-1") is not None  # WAL: the reader sees the commit


def test_a_store_stays_in_the_thread_that_opened_it(store):
    failures = []

    def elsewhere():
        try:
            store.list_patients()
        except sqlalchemy.exc.ProgrammingError as error:  # sqlite3's ProgrammingError, as SQLAlchemy passes it on
            failures.append(error)

    worker = threading.Thread(target=elsewhere)
    worker.start()
    worker.join()
    assert len(failures) == 1


# -- clinicians, patients, targets, calibrations ------------------------------------

def test_clinicians(store):
    ann = store.add_clinician("Ann", password_hash="scrypt$1")
    assert store.get_clinician("ann") == {"id": ann, "username": "Ann", "password_hash": "scrypt$1",
                                          "created": store.get_clinician("ANN")["created"], "role": "clinician",
                                          "session_epoch": 0}
    with pytest.raises(ConflictError, match="username 'ANN' is taken"):
        store.add_clinician("ANN", password_hash="x")
    store.set_clinician_password("ann", password_hash="scrypt$2")
    assert store.get_clinician("Ann")["password_hash"] == "scrypt$2"
    with pytest.raises(NotFoundError):
        store.set_clinician_password("bob", password_hash="x")
    store.add_clinician("bob", password_hash="h")
    assert [c["username"] for c in store.list_clinicians()] == ["Ann", "bob"]
    assert "password_hash" not in store.list_clinicians()[0]
    assert store.get_clinician("nobody") is None
    with pytest.raises(ValueError, match="username"):
        store.add_clinician("  ", password_hash="h")


def test_patients_add_get_update_archive(store):
    edna = store.add_patient(code="P-001", display_name="Edna W")
    assert store.get_patient(edna) == {"id": edna, "code": "P-001", "display_name": "Edna W",
                                       "created": store.get_patient(edna)["created"], "archived": False}
    assert store.get_patient_by_code("p-001")["id"] == edna
    with pytest.raises(ConflictError, match="code 'p-001' is taken"):
        store.add_patient(code="p-001", display_name="Someone")
    frank = store.add_patient(code="P-002", display_name="Frank T")
    assert store.update_patient(frank, display_name="Frank Tan")["display_name"] == "Frank Tan"
    with pytest.raises(ConflictError):
        store.update_patient(frank, code="P-001")
    store.update_patient(frank, archived=True)
    assert [p["code"] for p in store.list_patients()] == ["P-001"]
    assert [p["code"] for p in store.list_patients(include_archived=True)] == ["P-001", "P-002"]
    assert store.get_patient(999) is None
    with pytest.raises(NotFoundError):
        store.update_patient(999, display_name="x")


def test_patient_list_shows_recent_activity(store):
    edna = store.add_patient(code="P-001", display_name="Edna W")
    store.add_patient(code="P-002", display_name="Bert K")
    store.start_session(source="camera 1", patient_id=edna, started=at(2))
    store.start_session(source="camera 1", patient_id=edna, started=at(9))
    listed = {p["code"]: p for p in store.list_patients()}
    assert (listed["P-001"]["last_session"], listed["P-001"]["sessions"]) == ("2026-03-09T09:00:00.000Z", 2)
    assert (listed["P-002"]["last_session"], listed["P-002"]["sessions"]) == (None, 0)
    assert [p["code"] for p in store.list_patients()] == ["P-002", "P-001"]  # by display name
    assert len(store.list_patients(limit=1)) == 1


def test_patient_search_by_code_or_name_substring(store):
    store.add_patient(code="P-001", display_name="Edna W")
    store.add_patient(code="P-002", display_name="Bert K")
    store.add_patient(code="X_9", display_name="Ned 100%")
    assert [p["code"] for p in store.search_patients("ed")] == ["P-001", "X_9"]
    assert [p["code"] for p in store.search_patients("p-00")] == ["P-002", "P-001"]
    assert [p["code"] for p in store.search_patients("%")] == ["X_9"]  # wildcards are plain characters
    assert [p["code"] for p in store.search_patients("_")] == ["X_9"]
    assert store.search_patients("zzz") == []
    store.update_patient(store.get_patient_by_code("X_9")["id"], archived=True)
    assert [p["code"] for p in store.search_patients("ed")] == ["P-001"]
    assert [p["code"] for p in store.search_patients("ed", include_archived=True)] == ["P-001", "X_9"]


def test_targets_default_until_set_and_none_restores_a_default(store):
    edna = store.add_patient(code="P-001", display_name="Edna W")
    targets = store.get_targets(edna)
    assert targets == {"patient_id": edna, "standoff_mm": 100.0, "target_trunk_angle_deg": None, "reps_per_set": 12,
                       "sets": 3, "touch_tolerance_mm": None, "max_knee_flexion_deg": None,
                       "max_spine_flexion_deg": None, "min_descent_s": None, "upright_angle_deg": None,
                       "updated": None}
    assert thresholds_from_targets(targets) == Thresholds()
    changed = store.set_targets(edna, standoff_mm=200, target_trunk_angle_deg=45, max_knee_flexion_deg=30,
                                min_descent_s=1.5)
    assert (changed["standoff_mm"], changed["target_trunk_angle_deg"], changed["reps_per_set"]) == (200, 45, 12)
    assert changed["updated"] is not None
    assert thresholds_from_targets(changed) == Thresholds(max_knee_flexion_deg=30, min_descent_s=1.5)
    again = store.set_targets(edna, max_knee_flexion_deg=None, reps_per_set=10)
    assert (again["max_knee_flexion_deg"], again["min_descent_s"], again["reps_per_set"]) == (None, 1.5, 10)
    assert store.set_targets(edna, standoff_mm=None)["standoff_mm"] == 100


def test_bad_targets_are_refused_by_name_and_change_nothing(store):
    edna = store.add_patient(code="P-001", display_name="Edna W")
    with pytest.raises(ValueError, match="min_descent_s must be a number from 0.1 to 10 s or empty, not 0"):
        store.set_targets(edna, standoff_mm=150, min_descent_s=0)
    with pytest.raises(ValueError, match="reps_per_set must be a whole number"):
        store.set_targets(edna, reps_per_set=2.5)
    with pytest.raises(ValueError, match="target_trunk_angle_deg must be a number from 10 to 90 ° or empty"):
        store.set_targets(edna, target_trunk_angle_deg=95)
    with pytest.raises(ValueError, match="standoff_mm must be a number from 1 to 600 mm"):
        store.set_targets(edna, standoff_mm=700)
    with pytest.raises(ValueError, match="sets must be a whole number from 1 to 50"):
        store.set_targets(edna, sets=51)
    # The store holds the same ranges as the forms: a slip of the finger is refused here too.
    with pytest.raises(ValueError, match="touch_tolerance_mm must be a number from 1 to 200 mm"):
        store.set_targets(edna, touch_tolerance_mm=500)
    assert store.get_targets(edna)["updated"] is None
    with pytest.raises(NotFoundError, match="patient 999"):
        store.set_targets(999, sets=2)
    with pytest.raises(NotFoundError):
        store.get_targets(999)


def test_target_columns_are_the_fault_thresholds(store):
    columns = [row[1] for row in raw(store).execute("PRAGMA table_info(targets)")]
    assert set(Thresholds.__dataclass_fields__) <= set(columns)


def calibration_document(created="2026-03-01T08:00:00+00:00", rms=2.5):
    return json.dumps({"format": "wallhinge-calibration", "version": 1, "source": "camera 123", "created": created,
                       "frames_used": 30, "quality": {"floor_rms_mm": rms, "wall_rms_mm": 3.0, "floor_share": 0.4,
                                                      "wall_share": 0.3, "planes_angle_deg": 90.2}})


def test_calibrations_keep_the_document_and_query_its_quality(store):
    assert store.latest_calibration() is None
    first = store.add_calibration(calibration_document("2026-03-01T08:00:00+00:00", rms=2.5))
    second = store.add_calibration(calibration_document("2026-03-05T08:00:00Z", rms=1.5))
    store.add_calibration(calibration_document("2026-02-01T08:00:00+01:00", rms=9.0))  # made earlier
    latest = store.latest_calibration()
    assert (latest["id"], latest["created"], latest["floor_rms_mm"]) == (second, "2026-03-05T08:00:00.000Z", 1.5)
    assert json.loads(latest["document"])["source"] == "camera 123"
    assert store.get_calibration(first)["created"] == "2026-03-01T08:00:00.000Z"
    listed = store.list_calibrations()
    assert [c["floor_rms_mm"] for c in listed] == [1.5, 2.5, 9.0] and "document" not in listed[0]
    assert listed[2]["created"] == "2026-02-01T07:00:00.000Z"
    with pytest.raises(ValueError, match="not a calibration document"):
        store.add_calibration("{}")
    with pytest.raises(ValueError, match="not a calibration document"):
        store.add_calibration("not json")


# -- sessions, sets, reps ------------------------------------------------------------

def test_sessions_and_sets(store):
    edna = store.add_patient(code="P-001", display_name="Edna W")
    calibration = store.add_calibration(calibration_document())
    guest = store.start_session(source="camera 123", calibration_id=calibration, started=at(2))
    session = store.get_session(guest)
    assert (session["patient_id"], session["patient_code"], session["ended"], session["sets"]) == (None, None, None, 0)
    assert session["started"] == "2026-03-02T09:00:00.000Z" and session["calibration_id"] == calibration
    assert store.update_session(guest, patient_id=edna, notes="left knee sore")["patient_code"] == "P-001"
    first = store.start_set(guest, started=at(2, 9, 1))
    second = store.start_set(guest, started=at(2, 9, 5))
    store.end_set(first, ended=at(2, 9, 4))
    with pytest.raises(ConflictError, match="already ended"):
        store.end_set(first)
    with pytest.raises(ConflictError, match="already has a set 2"):
        store.start_set(guest, number=2)
    store.end_session(guest, ended=at(2, 9, 30))
    sets = store.session_sets(guest)
    assert [(s["id"], s["number"], s["ended"]) for s in sets] == [
        (first, 1, "2026-03-02T09:04:00.000Z"), (second, 2, "2026-03-02T09:30:00.000Z")]  # the open set ended too
    assert store.get_session(guest)["ended"] == "2026-03-02T09:30:00.000Z"
    with pytest.raises(ConflictError, match="already ended"):
        store.end_session(guest)
    with pytest.raises(ConflictError, match="has ended"):
        store.start_set(guest)
    with pytest.raises(NotFoundError):
        store.start_session(source="camera 123", patient_id=999)
    with pytest.raises(NotFoundError):
        store.start_set(999)
    with pytest.raises(NotFoundError):
        store.end_session(999)
    with pytest.raises(ValueError, match="time zone"):
        store.start_session(source="camera 123", started=dt.datetime(2026, 3, 2, 9))
    assert store.get_session(999) is None


def test_a_rep_round_trips_with_every_contract_field(store):
    session = store.start_session(source="recording /data/a.db3", started=at(2))
    set_id = store.start_set(session, started=at(2))
    first = store.add_rep(set_id, CONTRACT_REP, recorded=at(2, 9, 1))
    lost = [{"points": 20, "reason": "knees bent 45°"}, {"points": 10, "reason": "down in 0.6 s"}]
    second = store.add_rep(set_id, rep(2, faults=["too_fast", "squat"], score=70.5, peak_spine_flexion_deg=4.0,
                                       lost_points=lost, extra_key="ignored"))
    got = store.session_reps(session)
    assert [r["id"] for r in got] == [first, second]
    assert {key: got[0][key] for key in CONTRACT_REP} == CONTRACT_REP
    assert (got[0]["good"], got[0]["peak_spine_flexion_deg"], got[0]["lost_points"]) == (True, None, None)
    assert (got[0]["set_number"], got[0]["set_id"], got[0]["recorded"]) == (1, set_id, "2026-03-02T09:01:00.000Z")
    assert got[1]["faults"] == ["squat", "too_fast"]  # the table's order
    assert (got[1]["good"], got[1]["score"], got[1]["lost_points"]) == (False, 70.5, lost)
    assert "series" not in got[0]
    assert store.get_session(session)["reps"] == 2


def test_measures_not_measured_are_stored_as_none(store):
    set_id = store.start_set(store.start_session(source="camera 1"))
    store.add_rep(set_id, rep(1, min_wall_gap_mm=None, touched=False, peak_trunk_angle_deg=None,
                              peak_knee_flexion_deg=None, peak_spine_flexion_deg=None, return_trunk_angle_deg=3.5,
                              faults=["no_touch"], score=75))
    [got] = store.session_reps(1)
    assert (got["min_wall_gap_mm"], got["peak_trunk_angle_deg"], got["peak_knee_flexion_deg"],
            got["peak_spine_flexion_deg"]) == (None,) * 4
    assert got["return_trunk_angle_deg"] == 3.5


def test_a_rep_s_return_learnt_after_it_was_stored_updates_its_end_and_ascent(store):
    set_id = store.start_set(store.start_session(source="camera 1"))
    store.add_rep(set_id, rep(1))
    before = store.session_reps(1)[0]
    store.set_rep_return(set_id, 1, 1.5)  # without the times (an older caller): those stay
    got = store.session_reps(1)[0]
    assert (got["return_trunk_angle_deg"], got["end_s"], got["ascent_s"]) == (1.5, before["end_s"], before["ascent_s"])
    store.set_rep_return(set_id, 1, 2.0, end_s=before["end_s"] + 0.4, ascent_s=before["ascent_s"] + 0.4)
    got = store.session_reps(1)[0]
    assert got["return_trunk_angle_deg"] == 2.0
    assert (got["end_s"], got["ascent_s"]) == pytest.approx((before["end_s"] + 0.4, before["ascent_s"] + 0.4))
    with pytest.raises(ValueError, match="end_s must be a finite number"):
        store.set_rep_return(set_id, 1, 2.0, end_s=float("nan"))


def test_a_rep_without_a_score_round_trips_as_none(store):
    # The rep's bottom was not seen (station.scoring): no score, never 0 or 100; its lost points stay.
    set_id = store.start_set(store.start_session(source="camera 1"))
    lost = [{"fault": "incomplete_return", "points": 15, "why": "came back only to 24 degrees from standing"}]
    store.add_rep(set_id, rep(1, peak_trunk_angle_deg=None, peak_knee_flexion_deg=None, min_wall_gap_mm=None,
                              touched=False, faults=["incomplete_return"], score=None, good=False, lost_points=lost))
    [got] = store.session_reps(1)
    assert (got["score"], got["faults"], got["lost_points"], got["good"]) == (None, ["incomplete_return"], lost, False)
    with pytest.raises(ValueError, match="score must be 0-100 or None"):
        store.add_rep(set_id, rep(2, score=-1))


def test_a_rep_is_committed_before_add_rep_returns(store, path):
    set_id = store.start_set(store.start_session(source="camera 1"))
    store.add_rep(set_id, CONTRACT_REP)
    with open_store(path) as other:  # another connection, as after a power cut
        assert raw(other).execute("SELECT count(*) FROM reps").fetchone()[0] == 1
        assert not raw(store).in_transaction


@pytest.mark.parametrize("changes, message", [
    ({"score": 101}, "score must be 0-100"),
    ({"faults": ["slouch"]}, "unknown fault 'slouch'"),
    ({"faults": "squat"}, "faults must be a list"),
    ({"faults": ["squat", "squat"]}, "one fault twice"),
    ({"touched": "yes"}, "touched must be true or false"),
    ({"descent_s": float("nan")}, "descent_s must be a finite number"),
    ({"index": 0}, "index must be a whole number"),
    ({"bottom_s": 9.0}, "start_s <= bottom_s <= end_s"),
])
def test_bad_reps_are_refused_by_name(store, changes, message):
    set_id = store.start_set(store.start_session(source="camera 1"))
    with pytest.raises(ValueError, match=message):
        store.add_rep(set_id, rep(**changes))
    incomplete = dict(CONTRACT_REP)
    del incomplete["hold_s"]
    with pytest.raises(ValueError, match="the rep has no 'hold_s'"):
        store.add_rep(set_id, incomplete)
    assert raw(store).execute("SELECT count(*) FROM reps").fetchone()[0] == 0


def test_a_refused_rep_leaves_nothing_behind(store):
    set_id = store.start_set(store.start_session(source="camera 1"))
    store.add_rep(set_id, rep(1, faults=["squat"]))
    with pytest.raises(ConflictError, match="already has a rep 1"):
        store.add_rep(set_id, rep(1, faults=["no_touch"]), series={name: [1.0] for name in SERIES_NAMES})
    assert [row[0] for row in raw(store).execute("SELECT fault FROM rep_faults")] == ["squat"]
    assert raw(store).execute("SELECT count(*) FROM rep_series").fetchone()[0] == 0


def test_series_round_trip_none_to_nan_to_none(store):
    t = np.arange(5) / 30.0
    series = {"t_s": t, "wall_gap_mm": [120.0, None, 40.5, 6.25, None],
              "trunk_angle_deg": np.array([1.0, 20.0, np.nan, 52.3, 10.0]), "knee_flexion_deg": [5, 6, 7, 8, 9]}
    set_id = store.start_set(store.start_session(source="camera 1"))
    rep_id = store.add_rep(set_id, CONTRACT_REP, series=series)
    store.add_rep(set_id, rep(2), series={})  # no series
    got = store.session_reps(store.get_session(1)["id"], with_series=True)
    arrays = got[0]["series"]
    assert set(arrays) == set(SERIES_NAMES) and all(a.dtype == np.float32 for a in arrays.values())
    assert series_to_list(arrays["wall_gap_mm"]) == [120.0, None, 40.5, 6.25, None]
    assert series_to_list(arrays["trunk_angle_deg"]) == [1.0, 20.0, None, 52.3, 10.0]
    np.testing.assert_allclose(arrays["t_s"], t, rtol=0, atol=1e-6)
    assert got[1]["series"] is None
    assert series_to_list(store.rep_series(rep_id)["knee_flexion_deg"]) == [5.0, 6.0, 7.0, 8.0, 9.0]
    assert store.rep_series(999) is None
    blob = raw(store).execute("SELECT wall_gap_mm FROM rep_series").fetchone()[0]
    assert len(blob) == 5 * 4  # float32


def test_series_helpers():
    blob = encode_series([1.5, None, -2.0])
    assert len(blob) == 12
    decoded = decode_series(blob)
    assert decoded.dtype == np.float32 and np.isnan(decoded[1])
    assert series_to_list(decoded) == [1.5, None, -2.0]
    assert series_to_list(decode_series(encode_series([]))) == []
    assert series_to_list(np.float32([52.3]), decimals=1) == [52.3]
    with pytest.raises(ValueError, match="one-dimensional"):
        encode_series(np.zeros((2, 2)))
    with pytest.raises(StoreError, match="damaged"):
        decode_series(b"abc")


def test_series_must_be_complete_and_of_equal_length(store):
    set_id = store.start_set(store.start_session(source="camera 1"))
    with pytest.raises(ValueError, match="'knee_flexion_deg' is unknown or missing"):
        store.add_rep(set_id, CONTRACT_REP, series={"t_s": [0.0], "wall_gap_mm": [1.0], "trunk_angle_deg": [1.0]})
    with pytest.raises(ValueError, match="one value per frame each, not t_s 2, wall_gap_mm 1"):
        store.add_rep(set_id, CONTRACT_REP, series={"t_s": [0.0, 0.1], "wall_gap_mm": [1.0],
                                                    "trunk_angle_deg": [1.0], "knee_flexion_deg": [1.0]})


# -- summaries and activity ------------------------------------------------------------

def fill_two_sessions(store):
    """Edna's two sessions with hand-chosen reps, and sessions that must not count."""
    edna = store.add_patient(code="P-001", display_name="Edna W")
    bert = store.add_patient(code="P-002", display_name="Bert K")
    first = store.start_session(source="camera 1", patient_id=edna, started=at(2))
    set_1 = store.start_set(first, started=at(2, 9, 1))
    store.add_rep(set_1, rep(1, peak_trunk_angle_deg=50.0, peak_knee_flexion_deg=10.0, score=90))
    store.add_rep(set_1, rep(2, touched=False, min_wall_gap_mm=45.0, peak_trunk_angle_deg=40.0,
                             peak_knee_flexion_deg=45.0, score=60, faults=["squat", "no_touch"]))
    set_2 = store.start_set(first, started=at(2, 9, 6))
    store.add_rep(set_2, rep(1, peak_trunk_angle_deg=54.0, peak_knee_flexion_deg=14.0, score=100))
    store.add_rep(set_2, rep(2, peak_trunk_angle_deg=48.0, peak_knee_flexion_deg=20.0, score=70,
                             faults=["too_fast"]))
    store.end_session(first, ended=at(2, 9, 20))
    second = store.start_session(source="camera 1", patient_id=edna, started=at(9))
    store.start_set(second, started=at(9))  # a set without reps
    for other in (None, bert):
        session = store.start_session(source="camera 1", patient_id=other, started=at(5))
        store.add_rep(store.start_set(session), rep(1, score=10, faults=["rounded_back"]))
    return edna, first, second


def test_session_summaries_match_hand_computed_figures(store):
    edna, first, second = fill_two_sessions(store)
    summaries = store.session_summaries(edna)
    assert [s["session_id"] for s in summaries] == [first, second]
    one, two = summaries
    assert one == {
        "session_id": first, "started": "2026-03-02T09:00:00.000Z", "ended": "2026-03-02T09:20:00.000Z",
        "date": at(2).astimezone().date().isoformat(), "interrupted": False, "station": None, "sets": 2, "reps": 4, "good_reps": 2,
        "good_rate": 0.5, "touch_rate": 0.75, "mean_peak_trunk_angle_deg": 48.0,
        "mean_peak_knee_flexion_deg": 22.25, "mean_score": 80.0, "patient_hidden": False,
        "fault_counts": {"squat": 1, "rounded_back": 0, "no_touch": 1, "too_fast": 1, "incomplete_return": 0}}
    assert (two["sets"], two["reps"], two["good_reps"], two["ended"]) == (1, 0, 0, None)
    store.add_hidden_span(store.session_sets(first)[1]["id"], 20.0, 24.5, "someone in front of the patient")
    assert [s["patient_hidden"] for s in store.session_summaries(edna)] == [True, False]
    assert (two["good_rate"], two["touch_rate"], two["mean_score"], two["mean_peak_trunk_angle_deg"]) == (None,) * 4
    assert two["fault_counts"] == dict.fromkeys(FAULT_NAMES, 0)
    assert [s["session_id"] for s in store.session_summaries(edna, since=at(3))] == [second]
    assert store.session_summaries(999) == []


def test_recent_activity_across_patients_newest_first(store):
    edna, first, second = fill_two_sessions(store)
    recent = store.recent_activity(limit=3)
    assert [r["started"][:10] for r in recent] == ["2026-03-09", "2026-03-05", "2026-03-05"]
    assert recent[0]["id"] == second and recent[0]["patient_code"] == "P-001" and recent[0]["reps"] == 0
    assert {r["patient_code"] for r in recent[1:]} == {None, "P-002"}  # a guest and Bert
    assert all((r["reps"], r["good_reps"], r["sets"]) == (1, 0, 1) for r in recent[1:])
    oldest = store.recent_activity(limit=10)[-1]
    assert (oldest["id"], oldest["reps"], oldest["good_reps"]) == (first, 4, 2)
    assert not any(r["patient_hidden"] for r in store.recent_activity(limit=10))
    store.add_hidden_span(store.session_sets(first)[0]["id"], 3.0, 5.5, "someone in front of the patient")
    assert [r["patient_hidden"] for r in store.recent_activity(limit=10)] == [False, False, False, True]


def test_an_abandoned_session_is_readable_and_closed_at_its_last_rep(path):
    # The station "dies" mid-set: the store is closed without ending anything.
    with open_store(path) as station:
        edna = station.add_patient(code="P-001", display_name="Edna W")
        done = station.start_session(source="camera 1", patient_id=edna, started=at(1))
        station.end_session(done, ended=at(1, 9, 30))
        cut = station.start_session(source="camera 1", patient_id=edna, started=at(2))
        set_1 = station.start_set(cut, started=at(2, 9, 1))
        station.add_rep(set_1, rep(1), recorded=at(2, 9, 2))
        station.end_set(set_1, ended=at(2, 9, 4))
        set_2 = station.start_set(cut, started=at(2, 9, 5))
        station.add_rep(set_2, rep(1), recorded=at(2, 9, 6))
        station.add_rep(set_2, rep(2), recorded=at(2, 9, 7))
        empty = station.start_session(source="camera 1", started=at(3))
    with open_store(path) as restarted:
        assert len(restarted.session_reps(cut)) == 3  # readable while still open
        assert restarted.session_summaries(edna)[1]["reps"] == 3
        assert restarted.close_abandoned_sessions() == [cut, empty]
        session = restarted.get_session(cut)
        assert (session["ended"], session["interrupted"]) == ("2026-03-02T09:07:00.000Z", True)
        assert [s["ended"] for s in restarted.session_sets(cut)] == ["2026-03-02T09:04:00.000Z",
                                                                      "2026-03-02T09:07:00.000Z"]
        assert restarted.get_session(empty)["ended"] == "2026-03-03T09:00:00.000Z"
        untouched = restarted.get_session(done)
        assert (untouched["ended"], untouched["interrupted"]) == ("2026-03-01T09:30:00.000Z", False)
        assert restarted.close_abandoned_sessions() == []


# -- backup and restore -----------------------------------------------------------------

def test_backup_while_open_and_restore_round_trip(path, tmp_path):
    copy = tmp_path / "backups" / "station-2026-03-02.db"
    copy.parent.mkdir()
    with open_store(path) as station:
        edna = station.add_patient(code="P-001", display_name="Edna W")
        set_id = station.start_set(station.start_session(source="camera 1", patient_id=edna))
        station.add_rep(set_id, CONTRACT_REP, series={name: [1.0, None] for name in SERIES_NAMES})
        assert backup(path, copy) == copy  # online, while the station holds the store open
        station.add_patient(code="P-002", display_name="Bert K")  # after the backup
    assert not (tmp_path / "backups" / "station-2026-03-02.db-wal").exists()
    kept = restore(copy, path)
    assert kept == tmp_path / "station.db.before-restore"
    with open_store(path) as restored:
        assert [p["code"] for p in restored.list_patients()] == ["P-001"]
        [only] = restored.session_reps(1, with_series=True)
        assert series_to_list(only["series"]["wall_gap_mm"]) == [1.0, None]
    with open_store(kept) as before:
        assert len(before.list_patients()) == 2
    fresh = tmp_path / "new" / "station.db"
    fresh.parent.mkdir()
    assert restore(copy, fresh) is None
    with open_store(fresh) as opened:
        assert opened.get_patient_by_code("P-001") is not None


def test_restore_refuses_a_file_that_is_not_a_store_and_leaves_the_store_untouched(store, path, tmp_path):
    store.add_patient(code="P-001", display_name="Edna W")
    store.close()
    before = path.read_bytes()
    junk = tmp_path / "holiday.jpg"
    junk.write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 20)
    with pytest.raises(StoreError, match="backup .*holiday.jpg is not a Wall Hinge store database") as caught:
        restore(junk, path)
    assert isinstance(caught.value, WallHingeError)
    with pytest.raises(StoreError, match="does not exist"):
        restore(tmp_path / "missing.db", path)
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    with pytest.raises(StoreError, match="not a Wall Hinge store"):
        restore(empty, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.db", "holiday.jpg", "station.db"]


def test_restore_refuses_a_damaged_or_newer_backup(path, tmp_path):
    copy = tmp_path / "copy.db"
    with open_store(path) as station:
        for number in range(300):
            station.add_patient(code=f"P-{number:03d}", display_name="x" * 200)
    backup(path, copy)
    db = sqlite3.connect(copy)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(StoreError, match="newer version"):
        restore(copy, path)
    backup(path, copy)
    page = scalar(copy, "PRAGMA page_size")
    data = bytearray(copy.read_bytes())
    assert len(data) > 6 * page
    data[page * 5:page * 6] = bytes(range(256)) * (page // 256)  # scribble over a page of the patients table
    copy.write_bytes(bytes(data))
    with pytest.raises(StoreError, match="integrity check|damaged"):
        restore(copy, path)
    with open_store(path) as station:
        assert len(station.list_patients()) == 300


def test_restore_refuses_a_store_in_use(store, path, tmp_path):
    store.add_patient(code="P-001", display_name="Edna W")
    copy = backup(path, tmp_path / "copy.db")
    with pytest.raises(StoreError, match="in use: stop the station"):
        restore(copy, path)
    assert not (tmp_path / "station.db.before-restore").exists()
    assert not (tmp_path / "station.db.restoring").exists()
    assert store.get_patient_by_code("P-001") is not None


def test_backup_refuses_bad_paths(path, tmp_path):
    open_store(path).close()
    with pytest.raises(StoreError, match="another file than the store"):
        backup(path, path)
    with pytest.raises(StoreError, match="folder .* does not exist"):
        backup(path, tmp_path / "nowhere" / "copy.db")
    with pytest.raises(StoreError, match="does not exist"):
        backup(tmp_path / "missing.db", tmp_path / "copy.db")


def test_store_constructor_and_open_store_agree(path):
    with Store(path) as direct:
        direct.add_patient(code="P-1", display_name="A")
    with open_store(path) as opened:
        assert opened.get_patient_by_code("P-1")["display_name"] == "A"
    assert repr(opened) == f"Store({str(path)!r})"


def test_backup_and_restore_commands_round_trip_and_refuse_garbage(tmp_path):
    from tests.test_cli import assert_one_error_line, run

    store_path = tmp_path / "station.db"
    with open_store(store_path) as store:
        store.add_patient(code="P-001", display_name="Ada L.")
    code, out, err = run(["backup", str(tmp_path / "copy.db"), "--store", str(store_path)])
    assert code == 0 and out.startswith("backed up"), err
    with open_store(store_path) as store:
        store.add_patient(code="P-002", display_name="Bob M.")
    code, out, err = run(["restore", str(tmp_path / "copy.db"), "--store", str(store_path)])
    assert code == 0, err
    with open_store(store_path) as store:
        assert [p["code"] for p in store.list_patients()] == ["P-001"]
    (tmp_path / "garbage.db").write_text("not a database")
    code, _, err = run(["restore", str(tmp_path / "garbage.db"), "--store", str(store_path)])
    assert code == 2
    assert_one_error_line(err)


def test_a_rep_keeps_the_limits_it_was_judged_with(store):
    edna = store.add_patient(code="P-001", display_name="Edna W")
    session = store.start_session(source="camera 1", patient_id=edna)
    set_id = store.start_set(session)
    limits = {"touch_tolerance_mm": 30.0, "max_knee_flexion_deg": 35.0, "max_spine_flexion_deg": 15.0,
              "min_descent_s": 1.2, "upright_angle_deg": 8.0, "target_trunk_angle_deg": None}
    rep = {"index": 1, "start_s": 4.1, "bottom_s": 6.0, "end_s": 8.2, "min_wall_gap_mm": 25.0, "touched": True,
           "peak_trunk_angle_deg": 52.3, "peak_knee_flexion_deg": 18.0, "descent_s": 1.9, "hold_s": 0.4,
           "ascent_s": 1.8, "faults": [], "score": 100}
    store.add_rep(set_id, {**rep, "limits": limits})
    store.add_rep(set_id, {**rep, "index": 2})
    first, second = store.session_reps(session)
    assert first["limits"] == limits
    assert second["limits"] is None  # stored without them: the dashboard says so
    with pytest.raises(ValueError, match="the rep's limits have no 'upright_angle_deg'"):
        store.add_rep(set_id, {**rep, "index": 3, "limits": {k: v for k, v in limits.items()
                                                             if k != "upright_angle_deg"}})
    with pytest.raises(ValueError, match="unknown limit 'speed'"):
        store.add_rep(set_id, {**rep, "index": 3, "limits": {**limits, "speed": 1}})


def test_a_rep_whose_bottom_was_not_seen_has_no_peak_trunk_and_the_means_skip_it(store):
    patient = store.add_patient(code="P-009", display_name="Ida H")
    session = store.start_session(source="camera 1", patient_id=patient, started=at(2))
    set_id = store.start_set(session, started=at(2, 9, 1))
    store.add_rep(set_id, rep(1, peak_trunk_angle_deg=50.0))
    store.add_rep(set_id, rep(2, peak_trunk_angle_deg=None, peak_knee_flexion_deg=None, min_wall_gap_mm=None,
                              touched=False))
    hidden_only = store.start_session(source="camera 1", patient_id=patient, started=at(3))
    store.add_rep(store.start_set(hidden_only, started=at(3)), rep(1, peak_trunk_angle_deg=None))
    first, second = store.session_summaries(patient)
    assert (first["reps"], first["mean_peak_trunk_angle_deg"]) == (2, 50.0)
    assert (second["reps"], second["mean_peak_trunk_angle_deg"]) == (1, None)


def test_the_mean_score_is_of_the_scored_reps_and_none_without_one(store):
    # A rep whose bottom was not seen has no score: the mean skips it, never counting it as 0 or 100.
    patient = store.add_patient(code="P-010", display_name="Ida H")
    session = store.start_session(source="camera 1", patient_id=patient, started=at(2))
    set_id = store.start_set(session, started=at(2, 9, 1))
    store.add_rep(set_id, rep(1, score=80, faults=["no_touch"]))
    store.add_rep(set_id, rep(2, peak_trunk_angle_deg=None, score=None, good=False))
    unscored_only = store.start_session(source="camera 1", patient_id=patient, started=at(3))
    store.add_rep(store.start_set(unscored_only, started=at(3)), rep(1, peak_trunk_angle_deg=None, score=None,
                                                                     good=False))
    first, second = store.session_summaries(patient)
    assert (first["reps"], first["mean_score"]) == (2, 80.0)
    assert (second["reps"], second["mean_score"]) == (1, None)


def test_a_rep_whose_touch_was_not_checked_counts_neither_way(store):
    # A rep whose buttocks were hidden at its bottom has no closest gap: it
    # is no evidence of not touching, so the touch rate is of the reps checked.
    patient = store.add_patient(code="P-009", display_name="Ida H")
    session = store.start_session(source="camera 1", patient_id=patient, started=at(2))
    set_id = store.start_set(session, started=at(2, 9, 1))
    store.add_rep(set_id, rep(1))
    store.add_rep(set_id, rep(2, touched=False, min_wall_gap_mm=None))
    store.add_rep(set_id, rep(3, touched=False, min_wall_gap_mm=None))
    only = store.session_summaries(patient)[0]
    assert (only["reps"], only["touch_rate"]) == (3, 1.0)
