"""The journal of store work the station could not write (station/journal.py), on a real SQLite store."""

import datetime as dt
import json
import logging

import numpy as np
import pytest

from station.journal import journal_paths, read_journal, replay_journals, write_journal
from station.store import open_store
from tests.test_store import rep

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc)


def series(frames=5):
    t = np.arange(frames, dtype=np.float64) / 15
    gaps = np.linspace(200, 5, frames)
    gaps[2] = np.nan
    return {"t_s": t, "wall_gap_mm": gaps, "trunk_angle_deg": np.linspace(0, 50, frames, dtype=np.float32),
            "knee_flexion_deg": np.full(frames, 12.0)}


@pytest.fixture
def database(tmp_path):
    return tmp_path / "station.db"


def test_a_journal_is_written_in_once_with_its_series_and_ends(database):
    with open_store(database) as store:
        session = store.start_session(source="camera 1", started=T0)
    items = [("start_set", {"number": 1, "started": T0 + dt.timedelta(seconds=5)}),
             ("add_rep", {"number": 1, "rep": rep(1), "series": series(), "recorded": T0 + dt.timedelta(seconds=9)}),
             ("add_rep", {"number": 1, "rep": rep(2), "series": series(7), "recorded": T0 + dt.timedelta(seconds=15)}),
             ("hidden_span", {"number": 1, "start_s": 16.0, "end_s": 18.5, "reason": "someone in front of the hips"}),
             ("end_set", {"number": 1, "ended": T0 + dt.timedelta(seconds=20)}),
             ("end_session", {"ended": T0 + dt.timedelta(seconds=21)})]
    path = write_journal(database, session, items)
    assert path == journal_paths(database)[0] and path.name == "station.db.unsaved.jsonl"
    kept = path.read_bytes()
    with open_store(database) as store:
        assert replay_journals(store, database) == {"files": [str(path)], "reps": 2, "sessions": []}
        reps = store.session_reps(session, with_series=True)
        assert [r["index"] for r in reps] == [1, 2] and store.get_session(session)["ended"].startswith("2026-03-02T09:00:21")
        assert np.isnan(reps[0]["series"]["wall_gap_mm"][2]) and len(reps[1]["series"]["t_s"]) == 7
        assert store.session_sets(session)[0]["ended"] is not None
        path.write_bytes(kept)  # a start killed before it removed the journal
        assert replay_journals(store, database)["reps"] == 0 and len(store.session_reps(session)) == 2
        assert store.session_sets(session)[0]["hidden_spans"] == [
            {"start_s": 16.0, "end_s": 18.5, "reason": "someone in front of the hips"}]  # once


def test_a_rep_s_return_and_end_queued_after_it_are_written_in_with_it(database):
    # The return is learnt a moment after the rep (station.reps.RepReturned): queued behind it, it is
    # journaled and replayed with it, not lost.
    with open_store(database) as store:
        session = store.start_session(source="camera 1", started=T0)
    first = rep(1)
    items = [("start_set", {"number": 1, "started": T0}),
             ("add_rep", {"number": 1, "rep": first, "series": None, "recorded": T0}),
             ("rep_return", {"number": 1, "index": 1, "return_trunk_angle_deg": 2.5,
                             "end_s": first["end_s"] + 0.4, "ascent_s": first["ascent_s"] + 0.4})]
    path = write_journal(database, session, items)
    assert [entry["kind"] for entry in read_journal(path)][-1] == "rep_return"
    kept = path.read_bytes()
    with open_store(database) as store:
        replay_journals(store, database)
        path.write_bytes(kept)
        replay_journals(store, database)  # twice: the same
        [got] = store.session_reps(session)
        assert got["return_trunk_angle_deg"] == 2.5
        assert (got["end_s"], got["ascent_s"]) == pytest.approx((first["end_s"] + 0.4, first["ascent_s"] + 0.4))


def test_a_new_session_in_the_journal_is_made_once(database):
    items = [("switch_session", {"source": "camera 1", "calibration_document": None, "patient_id": None,
                                 "started": T0, "event": {"type": "session"}}),
             ("start_set", {"number": 1, "started": T0}),
             ("add_rep", {"number": 1, "rep": rep(1), "series": None, "recorded": T0})]
    with open_store(database) as store:
        first = store.start_session(source="camera 1", started=T0 - dt.timedelta(minutes=5))
    path = write_journal(database, first, items)
    kept = path.read_bytes()
    with open_store(database) as store:
        made = replay_journals(store, database)["sessions"]
        path.write_bytes(kept)
        assert replay_journals(store, database)["sessions"] == made  # found again, not made twice
        assert store.get_session(first)["ended"] is not None and store.get_session(made[0])["reps"] == 1
        assert len(store.recent_activity()) == 2


def test_a_cut_last_line_and_a_refused_entry_are_left_out_the_rest_written(database, caplog):
    caplog.set_level(logging.WARNING)
    with open_store(database) as store:
        session = store.start_session(source="camera 1", started=T0)
        store.end_session(session, ended=T0)
    path = write_journal(database, session, [("start_set", {"number": 1, "started": T0}),
                                             ("assign", {"patient_id": None})])
    with open(path, "a") as file:
        file.write(json.dumps({"kind": "add_rep", "fields": {}})[:20])  # the power went mid-line
    assert [entry["kind"] for entry in read_journal(path)] == ["begin", "start_set", "assign"]
    with open_store(database) as store:
        replay_journals(store, database)
    messages = " ".join(record.getMessage() for record in caplog.records)
    assert "line 4 is damaged" in messages and "start_set left out" in messages and not path.exists()
