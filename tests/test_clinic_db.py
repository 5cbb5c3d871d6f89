"""Several stations on one clinic database: the store on a real PostgreSQL, the outbox and its delivery."""

import datetime as dt
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy

from station.measure import HEAD_ABOVE_PICTURE
from station.setup import BACK_HIDDEN_BY_SETUP
from station.store import StoreError, open_store, schema
from station.store.outbox import Deliverer, station_states

UTC = dt.timezone.utc
REP = {"index": 1, "start_s": 4.1, "bottom_s": 6.0, "end_s": 8.2, "min_wall_gap_mm": 6.0, "touched": True,
       "peak_trunk_angle_deg": 52.3, "peak_knee_flexion_deg": 18.0, "descent_s": 1.9, "hold_s": 0.4,
       "ascent_s": 1.8, "faults": [], "score": 94}
SERIES = {"t_s": [0.0, 0.1, 0.2], "wall_gap_mm": [80.0, None, 5.0], "trunk_angle_deg": [5.0, 30.0, 52.3],
          "knee_flexion_deg": [10.0, 12.0, 18.0]}


def at(day, hour=9, minute=0, second=0):
    return dt.datetime(2026, 3, day, hour, minute, second, tzinfo=UTC)


def rep(index, **changes):
    return {**REP, "index": index, **changes}


def fill(store, *, code="P-001", sessions=2):
    """A patient with sessions of two sets of three reps (faults, series, a return angle, a last rep whose
    bottom was not seen, so without a score, a first set whose patient was hidden for a while, a view note and a
    back note); the session ids."""
    patient = store.get_patient_by_code(code) or {"id": store.add_patient(code=code, display_name="Edna W")}
    ids = []
    for day in range(1, sessions + 1):
        session = store.start_session(source="camera 1", patient_id=patient["id"], started=at(day))
        for number in (1, 2):
            set_id = store.start_set(session, started=at(day, 9, number))
            for index in (1, 2, 3):
                faults = ["squat"] if index == 2 else []
                hidden = {"peak_trunk_angle_deg": None, "peak_knee_flexion_deg": None, "min_wall_gap_mm": None,
                          "touched": False, "score": None} if (number, index) == (2, 3) else {}
                # One rep whose bottom the camera saw with the patient's head above the picture.
                noted = {"view_note": HEAD_ABOVE_PICTURE} if (number, index) == (1, 3) else {}
                # And one that says why its back was not checked (one side camera).
                noted = {"back_note": BACK_HIDDEN_BY_SETUP} if (number, index) == (2, 1) else noted
                store.add_rep(set_id, {**rep(index, faults=faults, score=80 if faults else 94, good=not faults),
                                       **hidden, **noted},
                              series=SERIES, recorded=at(day, 9, number, 10 * index))
            store.set_rep_return(set_id, 1, 2.5)
            if number == 1:  # someone stood in front of the patient for a while
                store.add_hidden_span(set_id, 14.5, 19.0, "someone in front of the patient")
            store.end_set(set_id, ended=at(day, 9, number, 40))
        store.end_session(session, ended=at(day, 9, 30))
        ids.append(session)
    return ids


def comparable(value):
    """A store result without what differs between databases by nature (ids, the moment a row was made)."""
    if isinstance(value, list):
        return [comparable(item) for item in value]
    if isinstance(value, dict):
        return {key: comparable(item) for key, item in value.items()
                if key not in ("id", "set_id", "patient_id", "session_id", "created", "updated", "series")}
    return value


# -- the schema -----------------------------------------------------------------------

def test_the_sqlite_steps_and_the_core_tables_describe_one_schema(tmp_path):
    open_store(tmp_path / "station.db").close()
    engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'station.db'}")
    inspector = sqlalchemy.inspect(engine)
    migrated = {name: {column["name"] for column in inspector.get_columns(name)} for name in inspector.get_table_names()}
    described = {table.name: {column.name for column in table.columns} for table in schema.METADATA.sorted_tables}
    assert migrated == described
    # Which columns may be NULL, too (SQLite reports its primary keys as nullable: they are left out).
    nullable = {(table, column["name"]): column["nullable"] for table in migrated
                for column in inspector.get_columns(table) if not column["primary_key"]}
    assert nullable == {(table.name, column.name): column.nullable for table in schema.METADATA.sorted_tables
                        for column in table.columns if not column.primary_key}
    assert nullable[("reps", "peak_trunk_angle_deg")]  # step 5: a rep whose bottom was not seen
    assert nullable[("reps", "score")]  # step 6: nor is it scored
    engine.dispose()
    with sqlite3.connect(tmp_path / "station.db") as db:
        indexes = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {index.name for table in schema.METADATA.sorted_tables for index in table.indexes} <= indexes


def test_a_clinic_database_is_made_whole_once_and_refuses_other_tables(clinic_url):
    with open_store(clinic_url) as first, open_store(clinic_url) as second:
        assert first.schema_version == second.schema_version == schema.SCHEMA_VERSION
    engine = sqlalchemy.create_engine(clinic_url, poolclass=sqlalchemy.pool.NullPool)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE wallhinge_schema")
    with pytest.raises(StoreError, match="holds other tables and is not a Wall Hinge clinic database"):
        open_store(clinic_url)
    engine.dispose()


def test_an_unreachable_server_is_a_one_line_store_error():
    with pytest.raises(StoreError, match="cannot reach the clinic database postgresql.*127.0.0.1:9"):
        open_store("postgresql+psycopg://wallhinge:secret@127.0.0.1:9/wallhinge")


def test_a_url_for_another_database_is_refused():
    with pytest.raises(StoreError, match="SQLite file or a PostgreSQL database"):
        open_store("mysql://user@localhost/wallhinge")


# -- one interface, two databases ---------------------------------------------------------

def test_postgresql_answers_as_sqlite_does(tmp_path, clinic_url):
    answers = []
    for where in (tmp_path / "station.db", clinic_url):
        with open_store(where) as store:
            store.add_clinician("Ann", password_hash="h1", role="admin")
            with pytest.raises(Exception, match="username 'ANN' is taken"):
                store.add_clinician("ANN", password_hash="h2")
            sessions = fill(store)
            other = store.add_patient(code="p-002", display_name="bob K")
            with pytest.raises(Exception, match="code 'P-002' is taken"):
                store.add_patient(code="P-002", display_name="Again")
            store.set_targets(other, reps_per_set=10, touch_tolerance_mm=25)
            patient = store.get_patient_by_code("p-001")["id"]
            answers.append(comparable([
                store.get_clinician("ann"), store.list_clinicians(), store.list_patients(),
                store.search_patients("ED"), store.search_patients("%"), store.get_targets(other),
                store.get_session(sessions[0]), store.session_sets(sessions[0]),
                store.session_reps(sessions[1]), store.session_summaries(patient, since=at(2)),
                store.recent_activity(limit=5),
            ]))
            assert [rep["peak_trunk_angle_deg"] for rep in store.session_reps(sessions[1])].count(None) == 1
            series = store.session_reps(sessions[0], with_series=True)[0]["series"]
            assert series["wall_gap_mm"][1] != series["wall_gap_mm"][1]  # NaN kept
    sqlite_answers, postgresql_answers = answers
    for sqlite_answer, postgresql_answer in zip(sqlite_answers, postgresql_answers):
        assert postgresql_answer == sqlite_answer


def test_a_duplicate_rep_is_a_conflict_on_postgresql_too(clinic_url):
    from station.store import ConflictError, NotFoundError
    with open_store(clinic_url) as store:
        session = store.start_session(source="camera 1")
        set_id = store.start_set(session)
        store.add_rep(set_id, rep(1))
        with pytest.raises(ConflictError, match="already has a rep 1"):
            store.add_rep(set_id, rep(1))
        with pytest.raises(NotFoundError, match="set 999 does not exist"):
            store.add_rep(999, rep(1))


# -- the outbox and its delivery ------------------------------------------------------------

def server_counts(url):
    """(sessions, sets, reps, rep faults, rep series) on the server, and reps per (station, session, set, index)."""
    engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
    with engine.connect() as connection:
        counts = tuple(connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar()
                       for table in ("sessions", "sets", "reps", "rep_faults", "rep_series"))
        keys = connection.exec_driver_sql(
            "SELECT s.station, s.station_session_id, st.number, r.index_in_set, count(*) FROM reps r"
            " JOIN sets st ON st.id = r.set_id JOIN sessions s ON s.id = st.session_id"
            " GROUP BY 1, 2, 3, 4").fetchall()
    engine.dispose()
    return counts, keys


def record_live(store, *, session, set_number, reps, day, start=1):
    """A set as the station records it mid-session: reps committed one by one."""
    set_id = store.start_set(session, number=set_number, started=at(day, 10, set_number))
    for index in range(start, start + reps):
        store.add_rep(set_id, rep(index, faults=["too_fast"] if index % 3 == 0 else []), series=SERIES,
                      recorded=at(day, 10, set_number, index))
    return set_id


def test_two_stations_deliver_through_a_network_cut_nothing_lost_nothing_doubled(tmp_path, postgres_server,
                                                                                  clinic_url):
    outboxes = {name: tmp_path / f"{name}.db" for name in ("wall-1", "wall-2")}
    deliverers = {name: Deliverer(path, clinic_url, name) for name, path in outboxes.items()}
    stores = {name: open_store(path) for name, path in outboxes.items()}
    try:
        sessions = {}
        for day, (name, store) in enumerate(stores.items(), start=1):
            patient = store.add_patient(code="P-001", display_name="Edna W")  # the same patient at both stations
            sessions[name] = store.start_session(source=f"camera {name}", patient_id=patient, started=at(day))
            record_live(store, session=sessions[name], set_number=1, reps=4, day=day)
        for deliverer in deliverers.values():
            assert deliverer.deliver_once().ok
        assert server_counts(clinic_url)[0][:3] == (2, 2, 8)

        postgres_server.stop()  # the network is cut mid-session: the stations keep recording into their outboxes
        try:
            for day, (name, store) in enumerate(stores.items(), start=1):
                record_live(store, session=sessions[name], set_number=2, reps=5, day=day)
                store.set_rep_return(store.session_sets(sessions[name])[0]["id"], 4, 1.5, end_s=8.6, ascent_s=2.2)
                store.end_session(sessions[name], ended=at(day, 10, 30))
            for name, deliverer in deliverers.items():
                failed = deliverer.deliver_once()
                assert not failed.ok and failed.waiting == 5 and "cannot reach the clinic database" in failed.error
                [state] = station_states(stores[name])
                assert state["behind"] and state["waiting_reps"] == 5
        finally:
            postgres_server.start()

        for deliverer in deliverers.values():
            delivered = deliverer.deliver_once()
            assert delivered.ok and delivered.reps == 5 and delivered.waiting == 0
            assert deliverer.deliver_once().sessions == 0  # complete: nothing more to send
        counts, keys = server_counts(clinic_url)
        assert counts == (2, 4, 18, 4, 18)
        assert {key[-1] for key in keys} == {1} and len(keys) == 18  # every rep once, by station/session/set/index
        with open_store(clinic_url) as server:
            [patient] = server.list_patients()
            assert patient["code"] == "P-001" and patient["sessions"] == 2
            stations = {state["name"]: state for state in station_states(server)}
            assert set(stations) == {"wall-1", "wall-2"} and not any(s["behind"] for s in stations.values())
            recent = server.recent_activity()
            assert sorted(session["station"] for session in recent) == ["wall-1", "wall-2"]
            for session in recent:
                assert session["ended"] is not None and session["reps"] == 9
                [first_set, _] = server.session_sets(session["id"])
                fourth = [r for r in server.session_reps(session["id"]) if r["set_id"] == first_set["id"]][3]
                # A change made during the cut arrived: the return and the end and ascent learnt with it.
                assert (fourth["return_trunk_angle_deg"], fourth["end_s"], fourth["ascent_s"]) == (1.5, 8.6, 2.2)
    finally:
        for store in stores.values():
            store.close()


def test_a_delivery_whose_answer_was_lost_is_sent_again_without_doubling(tmp_path, clinic_url):
    outbox = tmp_path / "wall-1.db"
    with open_store(outbox) as store:
        fill(store, sessions=1)
    deliverer = Deliverer(outbox, clinic_url, "wall-1")
    assert deliverer.deliver_once().reps == 6
    with sqlite3.connect(outbox) as db:  # the station died after the server committed, before it noted so
        db.execute("DELETE FROM deliveries")
    again = deliverer.deliver_once()
    assert again.ok and again.sessions == 1 and again.reps == 0
    assert server_counts(clinic_url)[0] == (1, 2, 6, 2, 6)


def upgrade_from(clinic_url, tmp_path, version, made_not_null=None):
    """A clinic database made by the code of ``version`` (``made_not_null`` a reps column NOT NULL there), then a
    station's session of six reps delivered to it: the engine on it, the upgrade checked done."""
    open_store(clinic_url).close()
    engine = sqlalchemy.create_engine(clinic_url, poolclass=sqlalchemy.pool.NullPool)
    with engine.begin() as connection:  # as a clinic database made by that version's code
        if made_not_null is not None:
            connection.exec_driver_sql(f"ALTER TABLE reps ALTER COLUMN {made_not_null} SET NOT NULL")
        if version < 7:
            connection.exec_driver_sql("ALTER TABLE reps DROP COLUMN view_note")  # step 7's
        if version < 8:
            connection.exec_driver_sql("ALTER TABLE sets DROP COLUMN hidden_spans")  # step 8's
        connection.exec_driver_sql("ALTER TABLE reps DROP COLUMN back_note")  # step 9's
        connection.exec_driver_sql(f"UPDATE wallhinge_schema SET version = {version}")
    outbox = tmp_path / "wall-1.db"
    with open_store(outbox) as store:
        fill(store, sessions=1)
    delivery = Deliverer(outbox, clinic_url, "wall-1").deliver_once()
    assert delivery.ok and delivery.reps == 6, delivery.error
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT version FROM wallhinge_schema").scalar() == schema.SCHEMA_VERSION
    return engine


def test_a_version_4_clinic_database_upgrades_and_takes_a_rep_without_peak_trunk(tmp_path, clinic_url):
    engine = upgrade_from(clinic_url, tmp_path, 4, "peak_trunk_angle_deg")
    with engine.connect() as connection:
        assert connection.exec_driver_sql(
            "SELECT count(*) FROM reps WHERE peak_trunk_angle_deg IS NULL").scalar() == 1
    engine.dispose()


def test_a_version_5_clinic_database_upgrades_and_takes_a_rep_without_score(tmp_path, clinic_url):
    engine = upgrade_from(clinic_url, tmp_path, 5, "score")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM reps WHERE score IS NULL").scalar() == 1
        with pytest.raises(sqlalchemy.exc.IntegrityError, match="check"):  # a score is still 0-100
            connection.exec_driver_sql("UPDATE reps SET score = 101 WHERE score IS NULL")
    with open_store(clinic_url) as server:
        (summary,) = server.session_summaries(server.get_patient_by_code("P-001")["id"])
        assert summary["mean_score"] == pytest.approx((94 + 80 + 94 + 94 + 80) / 5)  # the unscored rep skipped
    engine.dispose()


def test_a_version_6_clinic_database_upgrades_and_takes_a_rep_with_a_view_note(tmp_path, clinic_url):
    engine = upgrade_from(clinic_url, tmp_path, 6)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT view_note FROM reps WHERE view_note IS NOT NULL").scalars().all() \
            == [HEAD_ABOVE_PICTURE]
    with open_store(clinic_url) as server:
        session = server.session_summaries(server.get_patient_by_code("P-001")["id"])[0]["session_id"]
        assert [rep["view_note"] for rep in server.session_reps(session)] == [None, None, HEAD_ABOVE_PICTURE,
                                                                              None, None, None]
    engine.dispose()


def test_a_station_needs_a_name_to_deliver(tmp_path, clinic_url):
    with pytest.raises(ValueError, match="needs a name"):
        Deliverer(tmp_path / "wall.db", clinic_url, " ")


def test_patients_and_newer_targets_come_back_from_the_clinic(tmp_path, clinic_url):
    outbox = tmp_path / "wall-1.db"
    with open_store(outbox) as store:
        edna = store.add_patient(code="P-001", display_name="Edna W")
        store.set_targets(edna, reps_per_set=8)  # set on the station: newer than anything on the server
    deliverer = Deliverer(outbox, clinic_url, "wall-1")
    with open_store(clinic_url) as server:
        ron = server.add_patient(code="P-002", display_name="Ron T")
        server.set_targets(ron, standoff_mm=200, touch_tolerance_mm=25)
        server.add_patient(code="p-001", display_name="Edna Williams")
    assert deliverer.deliver_once().patients == 2
    with open_store(outbox) as store:
        ron_here = store.get_patient_by_code("P-002")
        assert ron_here["display_name"] == "Ron T"
        targets = store.get_targets(ron_here["id"])
        assert (targets["standoff_mm"], targets["touch_tolerance_mm"], targets["reps_per_set"]) == (200, 25, 12)
        edna_here = store.get_patient_by_code("P-001")
        assert edna_here["display_name"] == "Edna Williams"  # the clinic's name for her
        assert store.get_targets(edna_here["id"])["reps_per_set"] == 8  # the station's newer targets stay
    assert deliverer.deliver_once().patients == 0  # nothing differs: nothing written


# -- the one setting for where the database lives --------------------------------------------

def test_the_database_setting_is_a_file_or_a_url_and_a_station_records_into_a_file(tmp_path):
    import socket as socket_module

    from station.errors import ConfigError
    from station.settings import load_settings

    default = load_settings(None).station
    assert default.database_path == Path("data") / "station.db" and default.station_name == socket_module.gethostname()
    server = load_settings(None, overrides={"station": {
        "database": "postgresql://wallhinge:secret@clinic/wallhinge"}}).station
    assert server.database_url.drivername == "postgresql+psycopg"
    with pytest.raises(ConfigError, match="records into its own file"):
        server.database_path
    with pytest.raises(ConfigError, match="station.database must be the station's own file"):
        load_settings(None, overrides={"station": {"database": "postgresql://clinic/wallhinge",
                                                   "clinic_database": "postgresql://clinic/wallhinge"}})
    with pytest.raises(ConfigError, match="an SQLite file or a PostgreSQL database"):
        load_settings(None, overrides={"station": {"clinic_database": "mysql://clinic/wallhinge"}})
    station = load_settings(None, overrides={"station": {"data_dir": str(tmp_path), "name": "wall-1",
                                                         "clinic_database": "postgresql://clinic/wallhinge"}}).station
    assert station.database_path == tmp_path / "station.db" and station.station_name == "wall-1"


def test_wallhinge_deliver_once_sends_and_says_what_waits(tmp_path, clinic_url, capsys):
    from wallhinge.cli import main

    with open_store(tmp_path / "station.db") as store:
        fill(store, sessions=1)
    settings = ["--set", f"station.data_dir={tmp_path}", "--set", "station.name=wall-1"]
    assert main(["deliver", "--once", *settings]) == 2
    assert "clinic_database is empty" in capsys.readouterr().err
    assert main(["deliver", "--once", *settings, "--set", f"station.clinic_database={clinic_url}"]) == 0
    assert "delivered 6 new reps of 1 sessions; 0 reps waiting" in capsys.readouterr().out
    assert main(["backup", str(tmp_path / "copy.db"), *settings]) == 0  # the file named by the settings
    assert f"backed up {tmp_path / 'station.db'}" in capsys.readouterr().out


def test_a_station_run_in_a_clinic_records_into_its_file_and_delivers(tmp_path, clinic_url, short_recording,
                                                                      monkeypatch, capsys):
    """``wallhinge run`` with a clinic database: the session goes into the station's file, then to the clinic."""
    from wallhinge.cli import main

    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "mock")
    monkeypatch.setenv("GPIOZERO_MOCK_PIN_CLASS", "mockpwmpin")
    settings = ["--set", f"station.data_dir={tmp_path}", "--set", "station.name=wall-1",
                "--set", f"station.clinic_database={clinic_url}", "--set", "station.muted=true"]
    from gpiozero import Device
    saved = Device.pin_factory
    try:
        assert main(["run", "--no-web", "--replay", str(short_recording[0]), "--fast", *settings]) == 0
    finally:
        if Device.pin_factory is not saved:
            Device.pin_factory.close()
        Device.pin_factory = saved
    assert f"stored in {tmp_path / 'station.db'}" in capsys.readouterr().out
    assert main(["deliver", "--once", *settings]) == 0  # whatever the run's own thread had not sent yet
    with open_store(tmp_path / "station.db") as station, open_store(clinic_url) as server:
        [here] = station.recent_activity()
        [there] = server.recent_activity()
        assert (there["station"], there["station_session_id"]) == ("wall-1", here["id"])
        assert there["reps"] == here["reps"] == 2
        assert [r["score"] for r in server.session_reps(there["id"])] == [r["score"] for r in
                                                                            station.session_reps(here["id"])]


def test_a_version_7_clinic_database_upgrades_and_takes_a_set_whose_patient_was_hidden(tmp_path, clinic_url):
    engine = upgrade_from(clinic_url, tmp_path, 7)
    with open_store(clinic_url) as server:
        session = server.session_summaries(server.get_patient_by_code("P-001")["id"])[0]["session_id"]
        assert [set_["hidden_spans"] for set_ in server.session_sets(session)] == [
            [{"start_s": 14.5, "end_s": 19.0, "reason": "someone in front of the patient"}], []]
    engine.dispose()


def test_a_version_8_clinic_database_upgrades_and_takes_a_rep_that_says_why_its_back_was_not_checked(tmp_path,
                                                                                                  clinic_url):
    engine = upgrade_from(clinic_url, tmp_path, 8)
    with open_store(clinic_url) as server:
        session = server.session_summaries(server.get_patient_by_code("P-001")["id"])[0]["session_id"]
        assert [rep["back_note"] for rep in server.session_reps(session)] == [None, None, None,
                                                                              BACK_HIDDEN_BY_SETUP, None, None]
    engine.dispose()


def test_a_change_to_a_delivered_session_is_delivered_too(tmp_path, clinic_url):
    outbox = tmp_path / "wall-1.db"
    with open_store(outbox) as store:
        session = store.start_session(source="camera 1", started=at(1))  # a guest's, assigned afterwards
        store.add_rep(store.start_set(session), rep(1))
        store.end_session(session, ended=at(1, 9, 30))
    deliverer = Deliverer(outbox, clinic_url, "wall-1")
    assert deliverer.deliver_once().sessions == 1
    assert deliverer.deliver_once().sessions == 0
    with open_store(outbox) as store:
        patient = store.add_patient(code="P-007", display_name="Nell")
        store.update_session(session, patient_id=patient, notes="came with her daughter")
    assert deliverer.deliver_once().sessions == 1
    with open_store(clinic_url) as server:
        [there] = server.recent_activity()
        assert (there["patient_code"], there["notes"], there["reps"]) == ("P-007", "came with her daughter", 1)
    with open_store(outbox) as store:  # a span the station wrote late (a journal replayed at the next start)
        store.add_hidden_span(store.session_sets(session)[0]["id"], 3.0, 6.5, "someone in front of the hips")
    assert deliverer.deliver_once().sessions == 1
    with open_store(clinic_url) as server:
        [there_set] = server.session_sets(there["id"])
        assert there_set["hidden_spans"] == [{"start_s": 3.0, "end_s": 6.5, "reason": "someone in front of the hips"}]


def test_an_existing_station_file_upgrades_in_place_and_its_history_reaches_the_clinic(tmp_path, clinic_url):
    from test_store import check_version_1_data, make_version_1

    outbox = tmp_path / "station.db"
    make_version_1(outbox)  # a station's file from before this release, with a session of one rep
    assert Deliverer(outbox, clinic_url, "wall-1").deliver_once().reps == 1  # opening upgrades it in place
    with open_store(outbox) as station:
        assert station.schema_version == schema.SCHEMA_VERSION
        check_version_1_data(station)
    with open_store(clinic_url) as server:
        [session] = server.recent_activity()
        assert (session["station"], session["patient_code"], session["reps"]) == ("wall-1", "P-001", 1)
        [only] = server.session_reps(session["id"], with_series=True)
        assert (only["faults"], only["score"], only["touched"]) == (["too_fast"], 94, True)
        assert list(only["series"]["t_s"]) == [0.0, 4.0]


def test_a_process_that_used_the_clinic_database_closes_its_connections_when_it_exits(clinic_url):
    # The pool keeps idle connections to the clinic server open; a station process (run, deliver,
    # serve) that exits without closing them leaves the server a dropped socket per connection.
    import subprocess
    import sys
    child = ("from station.store import open_store\n"
             f"with open_store({clinic_url!r}) as store:\n"
             "    store.list_patients()\n")
    done = subprocess.run([sys.executable, "-W", "always::ResourceWarning", "-c", child], capture_output=True,
                          text=True, timeout=60, cwd=Path(__file__).resolve().parents[1])
    assert done.returncode == 0, done.stderr
    assert "ResourceWarning" not in done.stderr, done.stderr
