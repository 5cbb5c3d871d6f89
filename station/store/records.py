"""The store's sessions, sets and reps, and the summaries the dashboard draws from them.

A mixin of :class:`station.store.Store`: it uses the store's transactions
(``_write``, ``_read``) and small query helpers. Each session records the
station it came from (``station``: None for a session recorded on this
database's own station, the station's name for one delivered to a clinic
server) and its id there (``station_session_id``).
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
from typing import Mapping

from sqlalchemy import TextClause, text
from sqlalchemy.exc import IntegrityError

from station.faults import FAULT_NAMES
from station.patient_targets import TARGET_DEFAULTS
from station.store.codec import (REP_COLUMNS, SERIES_NAMES, UNCHANGED, as_dict, count, decode_series, fault_order,
                                 local_date, number, rep_values, series_blobs, text_value, timestamp)
from station.store.engine import constraint_broken
from station.errors import ConflictError, NotFoundError

__all__ = ["SessionRecords", "sql"]

_SESSION_COLUMNS = ("s.id, s.patient_id, s.calibration_id, s.started, s.ended, s.interrupted, s.source, s.notes, "
                    "s.station, s.station_session_id, p.code AS patient_code, p.display_name AS patient_name")
_SET_COUNT = "(SELECT count(*) FROM sets WHERE session_id = s.id)"
_REP_COUNT = "(SELECT count(*) FROM sets JOIN reps ON reps.set_id = sets.id WHERE sets.session_id = s.id)"
# Whether a set of the session has a span in which its patient was hidden (add_hidden_span).
_PATIENT_HIDDEN = "EXISTS (SELECT 1 FROM sets WHERE session_id = s.id AND hidden_spans IS NOT NULL)"
_INSERT_REP = (f"INSERT INTO reps (set_id, {', '.join(REP_COLUMNS)})"
               f" VALUES (:set_id, {', '.join(':' + name for name in REP_COLUMNS)})")
_INSERT_SERIES = (f"INSERT INTO rep_series (rep_id, frames, {', '.join(SERIES_NAMES)})"
                  f" VALUES (:rep_id, :frames, {', '.join(':' + name for name in SERIES_NAMES)})")


@functools.lru_cache(maxsize=512)
def sql(statement: str) -> TextClause:
    """The parsed form of one of the store's SQL statements (named ``:parameters``), made once."""
    return text(statement)


class SessionRecords:
    """Sessions, sets, reps and summaries; see :class:`station.store.Store` for the connection."""

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
        values = {"patient_id": patient_id, "calibration_id": calibration_id,
                  "started": timestamp(started, "started"), "source": text_value(source, "source"),
                  "notes": text_value(notes, "notes", optional=True)}
        with self._write() as db:
            if patient_id is not None:
                self._require("patients", patient_id, "patient")
            if calibration_id is not None:
                self._require("calibrations", calibration_id, "calibration")
            return self._insert(db, "INSERT INTO sessions (patient_id, calibration_id, started, source, notes)"
                                    " VALUES (:patient_id, :calibration_id, :started, :source, :notes)", **values)

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
            changes["notes"] = text_value(notes, "notes", optional=True)
        with self._write() as db:
            self._require("sessions", session_id, "session")
            if changes.get("patient_id") is not None:
                self._require("patients", patient_id, "patient")
            if changes:
                assignments = ", ".join(f"{name} = :{name}" for name in changes)
                db.execute(sql(f"UPDATE sessions SET {assignments} WHERE id = :id"), {**changes, "id": session_id})
                # A station in a clinic sends the change too (station.store.outbox).
                db.execute(sql("UPDATE deliveries SET complete = 0 WHERE session_id = :id"), {"id": session_id})
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
        self._end("sessions", "session", session_id, ended,
                  "UPDATE sets SET ended = :ended WHERE session_id = :id AND ended IS NULL")

    def get_session(self, session_id: int) -> dict | None:
        """A session with its patient and counts, or None.

        Keys: ``id, patient_id, calibration_id, started, ended, interrupted,
        source, notes, station, station_session_id`` (None for this
        station's own), ``patient_code, patient_name`` (None for a guest),
        ``sets`` and ``reps`` (counts).
        """
        statement = (f"SELECT {_SESSION_COLUMNS}, {_SET_COUNT} AS sets, {_REP_COUNT} AS reps"
                     " FROM sessions s LEFT JOIN patients p ON p.id = s.patient_id WHERE s.id = :id")
        return as_dict(self._one(statement, id=session_id), ("interrupted",))

    def find_session(self, *, source: str, started: _dt.datetime) -> int | None:
        """The id of the session from ``source`` that started at ``started`` (to the millisecond), or None.

        For writing in the station's journal exactly once (:mod:`station.journal`).
        """
        row = self._one("SELECT id FROM sessions WHERE source = :source AND started = :started ORDER BY id LIMIT 1",
                        source=source, started=timestamp(started, "started"))
        return None if row is None else row.id

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
        started_text = timestamp(started, "started")
        if number is not None:
            number = count(number, "number")
        with self._write() as db:
            row = self._one("SELECT ended FROM sessions WHERE id = :id", id=session_id)
            if row is None:
                raise NotFoundError(f"session {session_id} does not exist")
            if row.ended is not None:
                raise ConflictError(f"session {session_id} has ended: start a new session")
            if number is None:
                number = self._one("SELECT coalesce(max(number), 0) + 1 AS next FROM sets WHERE session_id = :id",
                                   id=session_id).next
            taken = self._one("SELECT id FROM sets WHERE session_id = :id AND number = :number",
                              id=session_id, number=number)
            if taken is not None:
                raise ConflictError(f"session {session_id} already has a set {number}")
            return self._insert(db, "INSERT INTO sets (session_id, number, started) VALUES (:id, :number, :started)",
                                id=session_id, number=number, started=started_text)

    def end_set(self, set_id: int, *, ended: _dt.datetime | None = None) -> None:
        """Mark a set ended (now if ``ended`` is left out).

        Raises
        ------
        NotFoundError
            No such set.
        ConflictError
            The set has already ended.
        """
        self._end("sets", "set", set_id, ended)

    def add_hidden_span(self, set_id: int, start_s: float, end_s: float, reason: str) -> None:
        """Record that a set's patient was there but hidden from ``start_s`` to ``end_s`` (s on the session's
        clock, as the reps' times), and why (:mod:`station.hidden_spans`); a set may have several. A span
        that starts when one recorded already does is that span, and is not added again.

        Raises
        ------
        NotFoundError
            No such set.
        ValueError
            A time that is not a number, an end before the start, or no reason.
        """
        span = {"start_s": number(start_s, "start_s"), "end_s": number(end_s, "end_s"),
                "reason": text_value(reason, "reason")}
        if span["end_s"] < span["start_s"]:
            raise ValueError(f"a hidden span cannot end ({end_s} s) before it starts ({start_s} s)")
        with self._write() as db:
            row = self._one("SELECT session_id, hidden_spans FROM sets WHERE id = :id", id=set_id)
            if row is None:
                raise NotFoundError(f"set {set_id} does not exist")
            spans = json.loads(row.hidden_spans or "[]")
            if any(kept["start_s"] == span["start_s"] for kept in spans):
                return  # recorded already (a journal replayed again, station.journal)
            spans.append(span)
            db.execute(sql("UPDATE sets SET hidden_spans = :spans WHERE id = :id"),
                       {"spans": json.dumps(spans, ensure_ascii=False), "id": set_id})
            # A station in a clinic sends the change too (station.store.outbox).
            db.execute(sql("UPDATE deliveries SET complete = 0 WHERE session_id = :id"), {"id": row.session_id})

    def _end(self, table: str, what: str, row_id: int, ended: _dt.datetime | None, *first: str) -> None:
        """Stamp an open row of ``table`` (a session or a set) ended, after the statements ``first``.

        The statements take ``:ended`` and ``:id``; all run in one transaction.
        NotFoundError if there is no such row, ConflictError if it has ended.
        """
        parameters = {"ended": timestamp(ended, "ended"), "id": row_id}
        with self._write() as db:
            row = self._one(f"SELECT ended FROM {table} WHERE id = :id", id=row_id)
            if row is None:
                raise NotFoundError(f"{what} {row_id} does not exist")
            if row.ended is not None:
                raise ConflictError(f"{what} {row_id} already ended at {row.ended}")
            for statement in (*first, f"UPDATE {table} SET ended = :ended WHERE id = :id"):
                db.execute(sql(statement), parameters)

    def session_sets(self, session_id: int) -> list[dict]:
        """A session's sets in order: ``{id, session_id, number, started, ended, reps, good_reps, hidden_spans}``.

        ``hidden_spans``: when the patient was there but hidden, ``[{start_s, end_s, reason}, ...]`` (empty for
        none; :meth:`add_hidden_span`).
        """
        rows = self._all("SELECT st.id, st.session_id, st.number, st.started, st.ended, st.hidden_spans,"
                         " count(r.id) AS reps, coalesce(sum(r.good), 0) AS good_reps"
                         " FROM sets st LEFT JOIN reps r ON r.set_id = st.id"
                         " WHERE st.session_id = :id GROUP BY st.id ORDER BY st.number", id=session_id)
        return [{**as_dict(row), "hidden_spans": json.loads(row.hidden_spans or "[]")} for row in rows]

    def close_abandoned_sessions(self) -> list[int]:
        """End every session still open, as if it had ended with its last rep; return their ids.

        For a station that was killed or lost power mid-session: call it at
        start-up, before starting a session. Each open set ends at its last
        rep's time (its start if it has none), each open session at its last
        rep's time (its start if it has none), and the session is flagged
        ``interrupted``. Their reps stay as they were committed. Sessions
        delivered from other stations are theirs to close.
        """
        with self._write() as db:
            ids = [row.id for row in db.execute(sql("SELECT id FROM sessions WHERE ended IS NULL AND station IS NULL"
                                                    " ORDER BY id"))]
            for session_id in ids:
                db.execute(sql("UPDATE sets SET ended = coalesce((SELECT max(recorded) FROM reps"
                               " WHERE set_id = sets.id), started) WHERE session_id = :id AND ended IS NULL"),
                           {"id": session_id})
                db.execute(sql("UPDATE sessions SET interrupted = 1, ended = coalesce((SELECT max(r.recorded)"
                               " FROM sets st JOIN reps r ON r.set_id = st.id WHERE st.session_id = sessions.id),"
                               " started) WHERE id = :id"), {"id": session_id})
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
            measured), ``touched``, ``peak_trunk_angle_deg`` (degrees,
            None = the rep's bottom was not seen),
            ``peak_knee_flexion_deg`` (degrees, None = not measured),
            ``faults`` (names from :data:`station.faults.FAULT_NAMES`),
            ``score`` (0-100; None = not scored, the rep's bottom was not
            seen: :mod:`station.scoring`); optionally ``peak_spine_flexion_deg`` and
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
        values, faults = rep_values(rep, recorded)
        blobs = series_blobs(series) if series else None
        try:
            with self._write() as db:
                rep_id = self._insert(db, _INSERT_REP, set_id=set_id, **values)
                self._add_rep_details(db, rep_id, faults, blobs)
        except IntegrityError as error:
            broken = constraint_broken(error)
            if broken == "foreign_key":
                raise NotFoundError(f"set {set_id} does not exist") from None
            if broken == "unique":
                raise ConflictError(f"set {set_id} already has a rep {values['index_in_set']}") from None
            raise ValueError(f"the rep was refused by the store: {getattr(error, 'orig', error)}") from None
        return rep_id

    @staticmethod
    def _add_rep_details(db, rep_id: int, faults, blobs: dict | None) -> None:
        """A new rep's fault rows and its series row (if any), in the rep's transaction."""
        if faults:
            db.execute(sql("INSERT INTO rep_faults (rep_id, fault) VALUES (:rep_id, :fault)"),
                       [{"rep_id": rep_id, "fault": fault} for fault in faults])
        if blobs is not None:
            db.execute(sql(_INSERT_SERIES), {"rep_id": rep_id, **blobs})

    def set_rep_return(self, set_id: int, index: int, return_trunk_angle_deg: float, *,
                       end_s: float | None = None, ascent_s: float | None = None) -> None:
        """Record how close to standing rep ``index`` of a set came back (degrees past standing).

        The live station stores a rep the moment it ends and learns this a
        moment later, once the patient has stopped coming up (see
        :class:`station.reps.RepReturned`), with the rep's end then (``end_s``,
        s on the recording's clock) and so its ascent (``ascent_s``, s), which
        replace the ones stored; left out, those stay as they were.

        Raises
        ------
        NotFoundError
            The set has no such rep.
        """
        value = number(return_trunk_angle_deg, "return_trunk_angle_deg")
        times = {name: number(seconds, name) for name, seconds in (("end_s", end_s), ("ascent_s", ascent_s))
                 if seconds is not None}
        assignments = ", ".join(f"{name} = :{name}" for name in ("return_trunk_angle_deg", *times))
        with self._write() as db:
            changed = db.execute(sql(f"UPDATE reps SET {assignments} WHERE set_id = :set_id AND index_in_set = :index"),
                                 {"return_trunk_angle_deg": value, **times, "set_id": set_id,
                                  "index": count(index, "index")}).rowcount
            db.execute(sql("UPDATE deliveries SET complete = 0 WHERE session_id ="
                           " (SELECT session_id FROM sets WHERE id = :set_id)"), {"set_id": set_id})
        if not changed:
            raise NotFoundError(f"set {set_id} has no rep {index}")

    def session_reps(self, session_id: int, *, with_series: bool = False) -> list[dict]:
        """A session's reps in order of set and index.

        Each dict has the analyze contract's keys (``index``, ``start_s`` ...
        ``score`` (None: not scored, the rep's bottom was not seen), ``faults``
        as a list in :data:`~station.faults.FAULT_NAMES` order) and ``id``, ``set_id``, ``set_number``, ``peak_spine_flexion_deg``
        and ``return_trunk_angle_deg`` (None if not measured), ``good``,
        ``lost_points`` (as stored, None if none), ``limits`` (the limits it
        was judged with, None for a rep stored without them), ``recorded``, ``view_note`` (why its
        bottom was read off less of the patient, None if it was not or was stored before) and ``back_note``
        (why its back was not checked, None if it was or the rep was stored before). With
        ``with_series``, ``series`` is a dict of float32 arrays (NaN where not
        measured) named as :data:`SERIES_NAMES`, or None if the rep has none.
        """
        series_columns = (", rs.frames, rs.t_s, rs.wall_gap_mm, rs.trunk_angle_deg, rs.knee_flexion_deg"
                          if with_series else "")
        series_join = " LEFT JOIN rep_series rs ON rs.rep_id = r.id" if with_series else ""
        statement = ('SELECT r.id, r.set_id, st.number AS set_number, r.index_in_set AS "index", r.start_s,'
                     " r.bottom_s, r.end_s, r.min_wall_gap_mm, r.touched, r.peak_trunk_angle_deg,"
                     " r.peak_knee_flexion_deg, r.peak_spine_flexion_deg, r.return_trunk_angle_deg, r.descent_s,"
                     " r.hold_s, r.ascent_s, r.score, r.good, r.lost_points, r.limits, r.recorded, r.view_note,"
                     " r.back_note"
                     f"{series_columns} FROM sets st JOIN reps r ON r.set_id = st.id{series_join}"
                     " WHERE st.session_id = :id ORDER BY st.number, r.index_in_set")
        with self._read():
            rows = self._all(statement, id=session_id)
            faults = self._all("SELECT f.rep_id, f.fault FROM sets st JOIN reps r ON r.set_id = st.id"
                               " JOIN rep_faults f ON f.rep_id = r.id WHERE st.session_id = :id", id=session_id)
        faults_by_rep: dict[int, list[str]] = {}
        for rep_id, fault in faults:
            faults_by_rep.setdefault(rep_id, []).append(fault)
        reps = []
        for row in rows:
            rep = as_dict(row, ("touched", "good"))
            rep["faults"] = fault_order(faults_by_rep.get(rep["id"], []))
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
                        " WHERE rep_id = :id", id=rep_id)
        return None if row is None else {name: decode_series(getattr(row, name)) for name in SERIES_NAMES}

    # -- summaries

    def session_summaries(self, patient_id: int, *, since: _dt.datetime | None = None) -> list[dict]:
        """Per session of a patient, oldest first, the figures of the progress charts.

        Each dict: ``session_id``, ``started``, ``ended`` (UTC text),
        ``date`` (the start's calendar date on this computer's local clock,
        ``YYYY-MM-DD``), ``interrupted``, ``station`` (None for this station's own), ``sets``, ``reps``, ``good_reps``,
        ``good_rate`` (share 0-1 of the reps), ``touch_rate`` (share 0-1 of the
        reps whose closest gap was read: a rep whose buttocks were hidden at
        its bottom was not checked for touch; None when no rep was),
        ``mean_peak_trunk_angle_deg``, ``mean_peak_knee_flexion_deg``
        (degrees, over the reps where measured; None when none was),
        ``mean_score`` (0-100, over the scored reps: a rep whose bottom was
        not seen has none; None when no rep was), ``patient_hidden`` (whether a set
        of it has a span in which its patient was hidden, :meth:`add_hidden_span`:
        its rep count may be short), and ``fault_counts`` (reps with
        each fault, every name of :data:`~station.faults.FAULT_NAMES` present).
        Means and rates are None for a session without reps. Computed by the
        database.

        Parameters
        ----------
        since : datetime, optional
            Only sessions started at or after this aware time.
        """
        parameters = {"patient": patient_id, "since": "" if since is None else timestamp(since, "since")}
        with self._read():
            rows = self._all(
                "SELECT s.id AS session_id, s.started, s.ended, s.interrupted, s.station, count(DISTINCT st.id) AS sets,"
                " count(r.id) AS reps, coalesce(sum(r.good), 0) AS good_reps, avg(r.good * 1.0) AS good_rate,"
                " avg(CASE WHEN r.min_wall_gap_mm IS NOT NULL THEN r.touched * 1.0 END) AS touch_rate, avg(r.peak_trunk_angle_deg) AS mean_peak_trunk_angle_deg,"
                " avg(r.peak_knee_flexion_deg) AS mean_peak_knee_flexion_deg, avg(r.score) AS mean_score,"
                f" {_PATIENT_HIDDEN} AS patient_hidden"
                " FROM sessions s LEFT JOIN sets st ON st.session_id = s.id LEFT JOIN reps r ON r.set_id = st.id"
                " WHERE s.patient_id = :patient AND s.started >= :since GROUP BY s.id ORDER BY s.started, s.id",
                **parameters)
            counts = self._all(
                "SELECT st.session_id, f.fault, count(*) AS reps FROM sessions s JOIN sets st ON st.session_id = s.id"
                " JOIN reps r ON r.set_id = st.id JOIN rep_faults f ON f.rep_id = r.id"
                " WHERE s.patient_id = :patient AND s.started >= :since GROUP BY st.session_id, f.fault",
                **parameters)
        summaries = {}
        for row in rows:
            summary = as_dict(row, ("interrupted", "patient_hidden"))
            summary = {**{key: summary[key] for key in ("session_id", "started", "ended")},
                       "date": local_date(summary["started"]), **summary}
            summaries[summary["session_id"]] = {**summary, "fault_counts": dict.fromkeys(FAULT_NAMES, 0)}
        for session_id, fault, reps in counts:
            summaries[session_id]["fault_counts"][fault] = reps
        return list(summaries.values())

    def due_to_progress(self) -> list[dict]:
        """Per active patient, their latest session if it met their targets since the targets last changed.

        Met: the target number of sets (``sets``) each with the target
        number of good reps (``reps_per_set``), the defaults where a patient
        has none. Dicts ``patient_id, code, display_name, session_id,
        started, reps_per_set, sets_target, full_sets``, newest first. Walks
        sessions_by_patient for the latest session and each set's reps by
        (set_id, index_in_set): a few thousand rows for a clinic's 200 patients.
        """
        statement = (
            "SELECT * FROM (SELECT p.id AS patient_id, p.code, p.display_name, s.id AS session_id, s.started,"
            " coalesce(t.reps_per_set, :reps) AS reps_per_set, coalesce(t.sets, :sets) AS sets_target,"
            " (SELECT count(*) FROM sets st WHERE st.session_id = s.id"
            "   AND (SELECT coalesce(sum(r.good), 0) FROM reps r WHERE r.set_id = st.id)"
            "       >= coalesce(t.reps_per_set, :reps)) AS full_sets"
            " FROM patients p LEFT JOIN targets t ON t.patient_id = p.id"
            " JOIN sessions s ON s.id = (SELECT id FROM sessions WHERE patient_id = p.id ORDER BY started DESC"
            "  LIMIT 1)"
            " WHERE p.archived = 0 AND (t.updated IS NULL OR s.started >= t.updated)) latest"
            " WHERE full_sets >= sets_target ORDER BY started DESC")
        return [as_dict(row) for row in self._all(statement, reps=TARGET_DEFAULTS["reps_per_set"],
                                                   sets=TARGET_DEFAULTS["sets"])]

    def recent_activity(self, *, limit: int = 20) -> list[dict]:
        """The latest sessions across all patients and stations, newest first.

        Dicts as :meth:`get_session` (``patient_code`` and ``patient_name``
        None for a guest) plus ``good_reps`` and ``patient_hidden`` (as :meth:`session_summaries`).
        """
        statement = (f"SELECT {_SESSION_COLUMNS}, {_SET_COUNT} AS sets, {_REP_COUNT} AS reps,"
                     f" {_PATIENT_HIDDEN} AS patient_hidden,"
                     " (SELECT coalesce(sum(reps.good), 0) FROM sets JOIN reps ON reps.set_id = sets.id"
                     "  WHERE sets.session_id = s.id) AS good_reps"
                     " FROM (SELECT * FROM sessions ORDER BY started DESC, id DESC LIMIT :limit) s"
                     " LEFT JOIN patients p ON p.id = s.patient_id ORDER BY s.started DESC, s.id DESC")
        return [as_dict(row, ("interrupted", "patient_hidden"))
                for row in self._all(statement, limit=count(limit, "limit"))]
