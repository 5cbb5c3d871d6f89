"""A station's delivery of its sessions to the clinic's database: exactly once, whenever the server can be reached.

A station in a clinic still writes every rep to its own SQLite file first
(so feedback and storage never wait on the network); that file is its
outbox. :meth:`Deliverer.deliver_once` copies what the server does not have
yet and marks it delivered in the station's file:

- A session is known on the server by (station name, its id on the
  station), unique there; a set by (session, number); a rep by (set, index
  in set), both unique already. Every row goes in with ``INSERT ... ON
  CONFLICT DO NOTHING``, so a delivery that is repeated (the station lost
  the server's answer, or was killed between the server's commit and its
  own) adds nothing: nothing lost, nothing doubled.
- What can still change on the station (a session's end, patient and notes,
  a set's end and the spans its patient was hidden, a rep's return angle) is written over on every delivery of
  that session; a session is complete once it was delivered after it ended.
- A patient is matched on the server by code (case-blind), and made there
  if missing; the station's calibrations stay on the station.
- Back from the server come the clinic's patients (code, name, archived)
  and their targets where the server's are newer, so a patient added or a
  target changed on the clinic's dashboard reaches every station; only
  what differs is written.
- Each attempt records the station's state in ``stations`` on both sides:
  last contact, the last rep recorded, the last rep delivered and how many
  wait, so the dashboard shows a station that is behind.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass

from station.store.codec import REP_COLUMNS, SERIES_NAMES, encode_series, timestamp
from station.errors import StoreError
from station.store.records import sql
from station.store.repository import Store, open_store

__all__ = ["DELIVERY_INTERVAL_S", "Deliverer", "Delivery", "station_states"]

log = logging.getLogger(__name__)

#: How often a station tries to deliver (s).
DELIVERY_INTERVAL_S = 5.0



@dataclass(frozen=True)
class Delivery:
    """What one delivery attempt did: sessions and reps sent, reps still waiting, and the error if it failed."""

    sessions: int
    reps: int
    waiting: int
    error: str | None = None
    patients: int = 0  # patients made or changed on the station from the clinic's database

    @property
    def ok(self) -> bool:
        return self.error is None


class Deliverer:
    """Delivers one station's outbox (its SQLite file) to the clinic's database.

    Parameters
    ----------
    outbox : str or Path
        The station's own database file.
    server : str
        The clinic database's URL (``postgresql+psycopg://...``).
    station : str
        The station's name, unique in the clinic (e.g. ``wall-1``).
    """

    def __init__(self, outbox, server: str, station: str):
        if not isinstance(station, str) or not station.strip():
            raise ValueError(f"a station needs a name to deliver under, not {station!r}")
        self.outbox, self.server, self.station = outbox, server, station.strip()

    def deliver_once(self) -> Delivery:
        """Send every session the server lacks or has out of date; never raises for an unreachable server."""
        with open_store(self.outbox) as local:
            pending = _pending_sessions(local)
            try:
                with open_store(self.server) as server:
                    sent = sum(self._deliver_session(local, server, session_id) for session_id in pending)
                    pulled = _pull_patients(local, server)
                    state = _local_state(local)
                    _record_state(server, self.station, state, contact=True)
            except StoreError as error:
                state = _local_state(local)
                _record_state(local, self.station, state, contact=False)
                log.warning("delivery to the clinic database failed: %s", error)
                return Delivery(0, 0, state["waiting_reps"], str(error))
            _record_state(local, self.station, state, contact=True)
        return Delivery(len(pending), sent, state["waiting_reps"], patients=pulled)

    def run(self, stop: threading.Event, interval_s: float = DELIVERY_INTERVAL_S) -> None:
        """Deliver every ``interval_s`` until ``stop`` is set (for a thread or the ``deliver`` command)."""
        while not stop.is_set():
            try:
                self.deliver_once()
            except StoreError as error:  # the station's own file: say so and try again
                log.error("delivery stopped for now: %s", error)
            stop.wait(interval_s)

    def _deliver_session(self, local: Store, server: Store, session_id: int) -> int:
        """Copy one session to the server in one transaction, then mark it delivered here; the new reps' count."""
        session = local.get_session(session_id)
        sets = local.session_sets(session_id)
        reps = local.session_reps(session_id, with_series=True)
        with server._write() as db:  # noqa: SLF001 - the outbox is part of the store
            patient_id = _server_patient(db, session)
            server_id = _server_session(db, session, patient_id, self.station)
            set_ids = {}
            for set_ in sets:
                changing = {"ended": set_["ended"], "hidden": json.dumps(set_["hidden_spans"], ensure_ascii=False)
                            if set_["hidden_spans"] else None}
                db.execute(sql("INSERT INTO sets (session_id, number, started) VALUES (:s, :n, :started)"
                               " ON CONFLICT (session_id, number) DO NOTHING"),
                           {"s": server_id, "n": set_["number"], "started": set_["started"]})
                set_ids[set_["id"]] = db.execute(sql("UPDATE sets SET ended = :ended, hidden_spans = :hidden"
                                                     " WHERE session_id = :s AND number = :n RETURNING id"),
                                                 {**changing, "s": server_id, "n": set_["number"]}).scalar_one()
            added = sum(_server_rep(db, set_ids[rep["set_id"]], rep) for rep in reps)
        last = max((rep["recorded"] for rep in reps), default=None)
        with local._write() as db:  # noqa: SLF001
            db.execute(sql("INSERT INTO deliveries (session_id, server_session_id, reps, last_recorded, complete,"
                           " delivered) VALUES (:id, :server, :reps, :last, :complete, :now)"
                           " ON CONFLICT (session_id) DO UPDATE SET server_session_id = excluded.server_session_id,"
                           " reps = excluded.reps, last_recorded = excluded.last_recorded,"
                           " complete = excluded.complete, delivered = excluded.delivered"),
                       {"id": session_id, "server": server_id, "reps": len(reps), "last": last,
                        "complete": int(session["ended"] is not None), "now": timestamp(None, "now")})
        return added


def _pending_sessions(local: Store) -> list[int]:
    """This station's sessions that the server lacks or that changed since (open ones are re-sent)."""
    rows = local._all("SELECT s.id FROM sessions s LEFT JOIN deliveries d ON d.session_id = s.id"  # noqa: SLF001
                      " WHERE s.station IS NULL AND (d.complete IS NULL OR d.complete = 0) ORDER BY s.id")
    return [row.id for row in rows]


def _server_patient(db, session: dict) -> int | None:
    if session["patient_code"] is None:
        return None
    db.execute(sql("INSERT INTO patients (code, display_name, created) VALUES (:code, :name, :now)"
                   " ON CONFLICT DO NOTHING"),
               {"code": session["patient_code"], "name": session["patient_name"], "now": timestamp(None, "now")})
    return db.execute(sql("SELECT id FROM patients WHERE lower(code) = lower(:code)"),
                      {"code": session["patient_code"]}).scalar_one()


def _server_session(db, session: dict, patient_id: int | None, station: str) -> int:
    keys = {"station": station, "origin": session["id"]}
    db.execute(sql("INSERT INTO sessions (started, source, station, station_session_id)"
                   " VALUES (:started, :source, :station, :origin)"
                   " ON CONFLICT (station, station_session_id) DO NOTHING"),
               {**keys, "started": session["started"], "source": session["source"]})
    return db.execute(sql("UPDATE sessions SET patient_id = :patient, ended = :ended, interrupted = :interrupted,"
                          " notes = :notes WHERE station = :station AND station_session_id = :origin RETURNING id"),
                      {**keys, "patient": patient_id, "ended": session["ended"],
                       "interrupted": int(session["interrupted"]), "notes": session["notes"]}).scalar_one()


def _server_rep(db, set_id: int, rep: dict) -> int:
    """Insert a rep with its faults and series unless the server has it (then bring its return angle); 1 if new."""
    values = {name: rep[name if name != "index_in_set" else "index"] for name in REP_COLUMNS}
    values["touched"], values["good"] = int(values["touched"]), int(values["good"])
    for name in ("lost_points", "limits"):
        values[name] = None if values[name] is None else json.dumps(values[name], ensure_ascii=False)
    columns = ", ".join(REP_COLUMNS)
    rep_id = db.execute(sql(f"INSERT INTO reps (set_id, {columns}) VALUES (:set_id, "
                            f"{', '.join(':' + name for name in REP_COLUMNS)})"
                            " ON CONFLICT (set_id, index_in_set) DO NOTHING RETURNING id"),
                        {"set_id": set_id, **values}).scalar()
    if rep_id is None:
        # Delivered before its return was known: what the station learnt since (set_rep_return).
        if rep["return_trunk_angle_deg"] is not None:
            db.execute(sql("UPDATE reps SET return_trunk_angle_deg = :value, end_s = :end_s, ascent_s = :ascent_s"
                           " WHERE set_id = :set_id AND index_in_set = :index"),
                       {"value": rep["return_trunk_angle_deg"], "end_s": rep["end_s"], "ascent_s": rep["ascent_s"],
                        "set_id": set_id, "index": rep["index"]})
        return 0
    if rep["faults"]:
        db.execute(sql("INSERT INTO rep_faults (rep_id, fault) VALUES (:rep_id, :fault)"),
                   [{"rep_id": rep_id, "fault": fault} for fault in rep["faults"]])
    if rep.get("series") is not None:
        blobs = {name: encode_series(rep["series"][name]) for name in SERIES_NAMES}
        db.execute(sql(f"INSERT INTO rep_series (rep_id, frames, {', '.join(SERIES_NAMES)})"
                       f" VALUES (:rep_id, :frames, {', '.join(':' + name for name in SERIES_NAMES)})"),
                   {"rep_id": rep_id, "frames": len(blobs["t_s"]) // 4, **blobs})
    return 1


_TARGET_COLUMNS = ("standoff_mm", "target_trunk_angle_deg", "reps_per_set", "sets", "touch_tolerance_mm",
                   "max_knee_flexion_deg", "max_spine_flexion_deg", "min_descent_s", "upright_angle_deg", "updated")


def _patients_with_targets(store: Store) -> dict[str, dict]:
    """Every patient by lower-case code: ``code, display_name, archived`` and the targets row (None if none)."""
    rows = store._all("SELECT p.code, p.display_name, p.archived, "  # noqa: SLF001
                      + ", ".join(f"t.{name}" for name in _TARGET_COLUMNS)
                      + " FROM patients p LEFT JOIN targets t ON t.patient_id = p.id")
    return {row.code.lower(): dict(row._mapping) for row in rows}


def _pull_patients(local: Store, server: Store) -> int:
    """Bring the clinic's patients and newer targets to the station; the number of patients changed here."""
    theirs, ours = _patients_with_targets(server), _patients_with_targets(local)
    changed = 0
    with local._write() as db:  # noqa: SLF001
        for key, patient in theirs.items():
            mine = ours.get(key)
            if mine is None:
                db.execute(sql("INSERT INTO patients (code, display_name, archived, created)"
                               " VALUES (:code, :display_name, :archived, :now)"),
                           {**patient, "now": timestamp(None, "now")})
            elif (mine["display_name"], mine["archived"]) != (patient["display_name"], patient["archived"]):
                db.execute(sql("UPDATE patients SET display_name = :display_name, archived = :archived"
                               " WHERE lower(code) = lower(:code)"), patient)
            newer = patient["updated"] is not None and (mine is None or mine["updated"] is None
                                                        or patient["updated"] > mine["updated"])
            if newer:
                _copy_targets(db, patient)
            changed += mine is None or newer or (mine["display_name"], mine["archived"]) != (
                patient["display_name"], patient["archived"])
    return changed


def _copy_targets(db, patient: dict) -> None:
    values = {name: patient[name] for name in _TARGET_COLUMNS}
    db.execute(sql(f"INSERT INTO targets (patient_id, {', '.join(_TARGET_COLUMNS)})"
                   f" SELECT id, {', '.join(':' + name for name in _TARGET_COLUMNS)} FROM patients"
                   " WHERE lower(code) = lower(:code)"
                   " ON CONFLICT (patient_id) DO UPDATE SET "
                   + ", ".join(f"{name} = excluded.{name}" for name in _TARGET_COLUMNS)),
               {**values, "code": patient["code"]})


def _local_state(local: Store) -> dict:
    """The station's last recorded rep, last delivered rep and the reps still waiting, from its own file."""
    row = local._one(  # noqa: SLF001
        "SELECT (SELECT max(r.recorded) FROM reps r JOIN sets st ON st.id = r.set_id JOIN sessions s"
        "        ON s.id = st.session_id WHERE s.station IS NULL) AS last_recorded,"
        " (SELECT max(last_recorded) FROM deliveries) AS last_delivered,"
        " (SELECT count(*) FROM reps r JOIN sets st ON st.id = r.set_id JOIN sessions s ON s.id = st.session_id"
        "  WHERE s.station IS NULL) - (SELECT coalesce(sum(reps), 0) FROM deliveries) AS waiting_reps")
    return {"last_recorded": row.last_recorded, "last_delivered": row.last_delivered,
            "waiting_reps": max(0, row.waiting_reps)}


def _record_state(store: Store, station: str, state: dict, *, contact: bool) -> None:
    """Keep a station's delivery state in a database's ``stations`` table (last contact only when reached)."""
    now = timestamp(None, "now") if contact else None
    with store._write() as db:  # noqa: SLF001
        db.execute(sql("INSERT INTO stations (name, last_contact, last_recorded, last_delivered, waiting_reps)"
                       " VALUES (:name, :now, :last_recorded, :last_delivered, :waiting_reps)"
                       " ON CONFLICT (name) DO UPDATE SET last_contact = coalesce(excluded.last_contact,"
                       " stations.last_contact), last_recorded = excluded.last_recorded,"
                       " last_delivered = excluded.last_delivered, waiting_reps = excluded.waiting_reps"),
                   {"name": station, "now": now, **state})


def station_states(store: Store) -> list[dict]:
    """Every station that delivered (or tried to) as ``{name, last_contact, last_recorded, last_delivered,
    waiting_reps, behind}``, by name; ``behind`` when reps were waiting at the last word from it."""
    rows = store._all("SELECT name, last_contact, last_recorded, last_delivered, waiting_reps"  # noqa: SLF001
                      " FROM stations ORDER BY name")
    return [{**dict(row._mapping), "behind": row.waiting_reps > 0} for row in rows]
