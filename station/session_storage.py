"""The session's store worker: owns the store's connection on its own thread; the camera thread only queues work.

It commits each rep, with its series, the moment the camera thread hands
it over. Its queue is unbounded but small: a few items per rep. A failing
write (disk full, database busy) is retried every :data:`RETRY_S`, in order,
and never holds up the camera thread; reps are never dropped: what still
fails at the end is kept in a journal (:mod:`station.journal`) that the next
start writes in.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import queue
import threading
import time
from pathlib import Path
from typing import Callable

from station.events import RepSavedEvent, StorageEvent
from station.journal import replay_journals, write_journal
from station.live_worker import LiveWorker, drain
from station.store import ConflictError, NotFoundError, StoreError, open_store

__all__ = ["StoreWorker"]

log = logging.getLogger("station.session")

#: Seconds between retries of a failing write.
RETRY_S = 1.0
#: How long start-up waits for the store to open the session (s).
STORE_REPLY_S = 30.0
#: After the camera thread stops, how long failing writes are still retried (s).
STORE_DRAIN_S = 5.0


class StoreWorker:
    """Owns the store's connection on its own thread; the camera thread only puts work on its queue."""

    def __init__(self, path: Path, live: LiveWorker, on_targets: Callable[[int | None, dict | None], None] | None = None):
        self._path = path
        self._live = live
        # Called (on this thread) with a participant's targets as the store has them, when they are assigned.
        self._on_targets = on_targets or (lambda patient_id, targets: None)
        self._requests: queue.SimpleQueue = queue.SimpleQueue()
        self._opened = threading.Event()
        self._open_error: BaseException | None = None
        self._set_ids: dict[int, int] = {}
        self.session_id: int | None = None
        self.session_ids: list[int] = []
        self.abandoned: list[int] = []
        self.failures = 0
        self.reps_not_stored = 0
        self.journal: str | None = None
        self.replayed = {"files": [], "reps": 0, "sessions": []}
        self._thread = threading.Thread(target=self._run, name="session-store", daemon=True)

    def start(self) -> None:
        """Open the store (in its thread) and close sessions a killed station left open.

        Raises
        ------
        StoreError
            The store cannot be opened.
        """
        self._thread.start()
        self._opened.wait()
        if self._open_error is not None:
            self._thread.join()
            raise self._open_error

    def post(self, kind: str, **fields) -> None:
        """Queue work; never blocks."""
        self._requests.put((kind, fields, None))

    def call(self, kind: str, **fields):
        """Do work and wait for its result (start-up only); the store's error is raised here."""
        reply: queue.SimpleQueue = queue.SimpleQueue()
        self._requests.put((kind, fields, reply))
        try:
            ok, result = reply.get(timeout=STORE_REPLY_S)
        except queue.Empty:
            raise StoreError(f"the store {self._path} did not answer within {STORE_REPLY_S:g} s") from None
        if not ok:
            raise result
        return result

    def stop(self) -> None:
        """Finish the queued work (retrying failed writes for up to STORE_DRAIN_S), then close."""
        if self._thread.is_alive():
            self._requests.put(("stop", {}, None))
            self._thread.join()

    # -- the thread

    def _run(self) -> None:
        try:
            store = open_store(self._path)
        except BaseException as error:
            self._open_error = error
            self._opened.set()
            return
        try:
            try:
                self._replay_journals(store)
                self.abandoned = store.close_abandoned_sessions()
            except BaseException as error:
                self._open_error = error
                return
            finally:
                self._opened.set()
            self._serve(store)
        finally:
            store.close()

    def _replay_journals(self, store) -> None:
        """Write in what an earlier run kept in a journal; a store that still fails keeps it for next time."""
        try:
            self.replayed = replay_journals(store, self._path)
        except StoreError as error:
            log.error("the journal of an earlier run could not be written into the store yet (%s); "
                      "it is kept for the next start", error)

    def _give_up(self, pending, error: Exception) -> None:
        """The store still fails at the end: keep what it could not write in the journal, and say so."""
        lost = [(kind, fields) for kind, fields, _ in pending if kind != "stop"]
        reps = sum(1 for kind, _ in lost if kind == "add_rep")
        try:
            path = write_journal(self._path, self.session_id, lost)
        except (OSError, TypeError, ValueError) as journal_error:
            self.failures += len(lost)
            log.error("the store still fails (%s) and no journal could be written (%s): %d items lost (%s)",
                      error, journal_error, len(lost), ", ".join(kind for kind, _ in lost))
            self._live.event(StorageEvent("lost", reason=str(error), reps=reps,
                                          message=f"Storage failed: {reps} reps could not be saved anywhere ({error})."))
            return
        self.journal, self.reps_not_stored = str(path), reps
        log.error("the store still fails (%s): %d reps (%d items) not stored, kept in the journal %s; "
                  "the next start writes them in", error, reps, len(lost), path)
        self._live.event(StorageEvent("journal", reason=str(error), journal=str(path), reps=reps,
                                      message=f"Storage failed: {reps} reps not stored, kept in the journal "
                                              f"{path}; the station writes them in when it starts again."))

    def _serve(self, store) -> None:
        pending: collections.deque = collections.deque()
        failing_since: float | None = None
        drain_until: float | None = None
        while True:
            try:
                if not pending:
                    pending.append(self._requests.get())
                else:  # a write failed: retry in a second, or sooner when more work comes
                    pending.append(self._requests.get(timeout=RETRY_S))
            except queue.Empty:
                pass
            pending.extend(drain(self._requests))
            while pending:
                kind, fields, reply = pending[0]
                if kind == "stop":
                    return
                try:
                    result = self._do(store, kind, fields)
                except (ConflictError, NotFoundError, ValueError) as error:
                    pending.popleft()
                    self._refused(kind, error, reply)
                    continue
                except StoreError as error:
                    if reply is not None:  # start-up work is not retried: the caller decides
                        pending.popleft()
                        reply.put((False, error))
                        continue
                    if failing_since is None:
                        failing_since = time.monotonic()
                        log.warning("the store failed (%s); retrying every %g s, nothing is lost while the "
                                    "station runs", error, RETRY_S)
                        self._live.event(StorageEvent("failing", reason=str(error),
                                                      message="Storage is failing: the station keeps the reps and "
                                                              f"retries every {RETRY_S:g} s ({error})."))
                    if any(item[0] == "stop" for item in pending):
                        drain_until = drain_until or time.monotonic() + STORE_DRAIN_S
                        if time.monotonic() >= drain_until:
                            self._give_up(pending, error)
                            return
                    break
                pending.popleft()
                if failing_since is not None:
                    log.warning("the store works again after %.0f s", time.monotonic() - failing_since)
                    self._live.event(StorageEvent("ok", message=""))
                    failing_since = None
                if reply is not None:
                    reply.put((True, result))

    def _refused(self, kind: str, error: Exception, reply) -> None:
        self.failures += 1
        log.error("the store refused %s: %s", kind.replace("_", " "), error)
        if reply is not None:
            reply.put((False, error))

    def _do(self, store, kind: str, fields: dict):
        if kind in ("start_session", "switch_session"):
            if kind == "switch_session":
                store.end_session(self.session_id, ended=fields["started"])
            calibration_id = None
            document = fields["calibration_document"]
            if document is not None:
                latest = store.latest_calibration()
                calibration_id = (latest["id"] if latest is not None and latest["document"] == document
                                  else store.add_calibration(document))
            self.session_id = store.start_session(source=fields["source"], calibration_id=calibration_id,
                                                  patient_id=fields["patient_id"], started=fields["started"])
            self.session_ids.append(self.session_id)
            self._set_ids = {}
            self._send_targets(store, fields["patient_id"])
            if kind == "switch_session":
                self._live.event(dataclasses.replace(fields["event"], session_id=self.session_id))
            return self.session_id
        if kind == "start_set":
            self._set_ids[fields["number"]] = store.start_set(self.session_id, number=fields["number"],
                                                              started=fields["started"])
            return None
        if kind == "add_rep":
            set_id = self._set_ids.get(fields["number"])
            if set_id is None:
                raise ValueError(f"rep {fields['rep']['index']} of set {fields['number']}: the set was not stored")
            rep_id = store.add_rep(set_id, fields["rep"], series=fields["series"], recorded=fields["recorded"])
            self._live.event(RepSavedEvent(session_id=self.session_id, set_number=fields["number"],
                                           index=fields["rep"]["index"], rep_id=rep_id))
            return rep_id
        if kind == "rep_return":
            set_id = self._set_ids.get(fields["number"])
            if set_id is not None:
                store.set_rep_return(set_id, fields["index"], fields["return_trunk_angle_deg"],
                                     end_s=fields.get("end_s"), ascent_s=fields.get("ascent_s"))
            return None
        if kind == "hidden_span":
            set_id = self._set_ids.get(fields["number"])
            if set_id is not None:
                store.add_hidden_span(set_id, fields["start_s"], fields["end_s"], fields["reason"])
            return None
        if kind == "end_set":
            set_id = self._set_ids.get(fields["number"])
            if set_id is not None:
                store.end_set(set_id, ended=fields["ended"])
            return None
        if kind == "assign":
            store.update_session(self.session_id, patient_id=fields["patient_id"])
            self._send_targets(store, fields["patient_id"])
            return None
        if kind == "end_session":
            store.end_session(self.session_id, ended=fields["ended"])
            return None
        raise ValueError(f"unknown store work {kind!r}")

    def _send_targets(self, store, patient_id: int | None) -> None:
        """The participant's targets to the camera thread (None for a guest: the station's)."""
        self._on_targets(patient_id, None if patient_id is None else store.get_targets(patient_id))
