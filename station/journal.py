"""The journal of store work the station could not write: kept on disk, written into the store at the next start.

When the store keeps failing at the end of a session (the disk full, the
file read-only), the session's store worker gives up on the database but
not on the reps: :func:`write_journal` appends the work still queued (sets,
reps with their series, how each came back and when it ended, the ends of
sets and sessions) as JSON lines to a
journal next to the database (``station.db.unsaved.jsonl``) or, when even
that cannot be written, to the first fallback folder that takes it (the
user's runtime folder, ``/dev/shm``, the temporary folder).

At the next start :func:`replay_journals` writes every journal it finds for
that database into it and then deletes the journal. Replaying is idempotent:
a session is found again by its source and start time, a set by its number in
its session, a rep by its index in its set (the store refuses a second one),
so a start that is killed half-way through a replay and replays again writes
each rep exactly once.

A journal is a sequence of blocks, each opened by a ``{"kind": "begin",
"session_id": ...}`` line (the last session the store had written, or None)
and followed by one line per item of store work in the order it was queued:
``{"kind": "start_session" | "switch_session" | "start_set" | "add_rep" |
"rep_return" | "hidden_span" | "end_set" | "assign" | "end_session", "fields": {...}}``. Datetimes are
``{"$datetime": ISO 8601}``; arrays are lists (NaN kept as JSON's ``NaN``).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path

import numpy as np

from station.store import ConflictError, NotFoundError

__all__ = ["JOURNAL_SUFFIX", "journal_paths", "replay_journals", "write_journal"]

log = logging.getLogger(__name__)

#: What the journal next to the database adds to the database's name.
JOURNAL_SUFFIX = ".unsaved.jsonl"

#: Store work a journal keeps (the session worker's request kinds).
KINDS = ("start_session", "switch_session", "start_set", "add_rep", "rep_return", "hidden_span", "end_set", "assign",
         "end_session")


def journal_paths(database: str | os.PathLike) -> list[Path]:
    """Where a database's journal may be, the preferred place first: next to it, then the fallback folders."""
    database = Path(database).resolve()
    tag = hashlib.sha256(str(database).encode()).hexdigest()[:12]
    name = f"wallhinge-{database.stem}-{tag}{JOURNAL_SUFFIX}"
    folders = [os.environ.get("XDG_RUNTIME_DIR"), "/dev/shm", tempfile.gettempdir()]
    paths = [database.with_name(database.name + JOURNAL_SUFFIX)]
    for folder in folders:
        if folder and Path(folder).is_dir() and Path(folder) / name not in paths:
            paths.append(Path(folder) / name)
    return paths


def _encode(value):
    if isinstance(value, _dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot keep a {type(value).__name__} in the journal")


def _decode(value: dict):
    if len(value) == 1 and "$datetime" in value:
        return _dt.datetime.fromisoformat(value["$datetime"])
    return value


def write_journal(database: str | os.PathLike, session_id: int | None, items: list[tuple[str, dict]]) -> Path:
    """Append ``items`` (``(kind, fields)``, in order) to the database's journal; return the file written.

    Each line is written and flushed to the disk (``fsync``) before this
    returns. Tries each of :func:`journal_paths` in turn.

    Raises
    ------
    OSError
        No place took the journal (the last error).
    """
    lines = [json.dumps({"kind": "begin", "session_id": session_id,
                         "written": _dt.datetime.now(_dt.timezone.utc).isoformat()})]
    for kind, fields in items:
        if kind not in KINDS:
            continue
        kept = {name: value for name, value in fields.items() if name != "event"}  # live events are not kept
        lines.append(json.dumps({"kind": kind, "fields": kept}, default=_encode))
    text = "\n".join(lines) + "\n"
    error: OSError | None = None
    for path in journal_paths(database):
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                os.write(descriptor, text.encode())
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
            return path
        except OSError as failed:
            log.error("cannot write the journal %s: %s", path, failed.strerror or failed)
            error = failed
    raise error if error is not None else OSError("no place for the journal")


def read_journal(path: Path) -> list[dict]:
    """The journal's lines as dicts; a last line cut short (a crash while writing) is left out, with a warning."""
    entries = []
    with open(path, encoding="utf-8") as file:
        for number, line in enumerate(file, start=1):
            if not line.strip():
                continue
            try:
                entries.append(json.loads(line, object_hook=_decode))
            except json.JSONDecodeError:
                log.warning("journal %s: line %d is damaged and left out", path, number)
    return entries


def replay_journals(store, database: str | os.PathLike) -> dict:
    """Write every journal of ``database`` into ``store``, then delete it; return what was written.

    Returns ``{"files": [...], "reps": n, "sessions": [ids]}``. A journal
    whose replay fails (the store still failing) stays for the next start.

    Raises
    ------
    station.store.StoreError
        The store failed while writing (the journal is kept).
    """
    done = {"files": [], "reps": 0, "sessions": []}
    for path in journal_paths(database):
        if not path.is_file():
            continue
        reps = _replay(store, read_journal(path), done["sessions"])
        path.unlink()
        done["files"].append(str(path))
        done["reps"] += reps
        log.warning("wrote %d rep(s) from the journal %s into the store, and removed it", reps, path)
    return done


def _replay(store, entries: list[dict], sessions: list[int]) -> int:
    """Apply a journal's entries; an entry the store refuses (not a failing store) is logged and left out."""
    state = {"session_id": None, "reps": 0}
    for entry in entries:
        try:
            _apply(store, entry, state, sessions)
        except (ConflictError, NotFoundError, ValueError, KeyError, TypeError) as error:
            log.warning("journal: %s left out (%s)", entry.get("kind"), error)
    return state["reps"]


def _apply(store, entry: dict, state: dict, sessions: list[int]) -> None:
    kind, fields = entry.get("kind"), entry.get("fields", {})
    if kind == "begin":
        state["session_id"] = entry.get("session_id")
        return
    session_id = state["session_id"]
    if kind in ("start_session", "switch_session"):
        if kind == "switch_session" and session_id is not None:
            _end_session(store, session_id, fields["started"])
        state["session_id"] = _session(store, fields)
        sessions.append(state["session_id"])
        return
    if session_id is None:
        raise ValueError("no session to write it in")
    if kind == "start_set":
        _set_id(store, session_id, fields["number"], started=fields["started"])
    elif kind == "add_rep":
        set_id = _set_id(store, session_id, fields["number"], started=None)
        try:
            store.add_rep(set_id, fields["rep"], series=fields["series"], recorded=fields["recorded"])
            state["reps"] += 1
        except ConflictError:
            pass  # written by an earlier replay that was cut short
    elif kind == "rep_return":
        set_id = _set_id(store, session_id, fields["number"], started=None, create=False)
        if set_id is not None:
            store.set_rep_return(set_id, fields["index"], fields["return_trunk_angle_deg"],
                                 end_s=fields.get("end_s"), ascent_s=fields.get("ascent_s"))
    elif kind == "hidden_span":
        set_id = _set_id(store, session_id, fields["number"], started=None, create=False)
        if set_id is not None:
            store.add_hidden_span(set_id, fields["start_s"], fields["end_s"], fields["reason"])
    elif kind == "end_set":
        set_id = _set_id(store, session_id, fields["number"], started=None, create=False)
        if set_id is not None:
            _quietly(store.end_set, set_id, ended=fields["ended"])
    elif kind == "assign":
        store.update_session(session_id, patient_id=fields["patient_id"])
    elif kind == "end_session":
        _end_session(store, session_id, fields["ended"])
    else:
        raise ValueError(f"unknown entry {kind!r}")


def _quietly(method, *args, **kwargs) -> None:
    try:
        method(*args, **kwargs)
    except ConflictError:
        pass  # already ended (by an earlier replay, or by the start-up's closing of abandoned sessions)


def _end_session(store, session_id: int, ended) -> None:
    _quietly(store.end_session, session_id, ended=ended)


def _session(store, fields: dict) -> int:
    found = store.find_session(source=fields["source"], started=fields["started"])
    if found is not None:
        return found
    calibration_id = None
    document = fields.get("calibration_document")
    if document is not None:
        latest = store.latest_calibration()
        calibration_id = (latest["id"] if latest is not None and latest["document"] == document
                          else store.add_calibration(document))
    return store.start_session(source=fields["source"], calibration_id=calibration_id,
                               patient_id=fields.get("patient_id"), started=fields["started"])


def _set_id(store, session_id: int, number: int, *, started, create: bool = True) -> int | None:
    for row in store.session_sets(session_id):
        if row["number"] == number:
            return row["id"]
    if not create:
        return None
    return store.start_set(session_id, number=number, started=started)
