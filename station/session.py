"""The live session: camera, measurement, reps, lights and sound, storage and the live feed.

:func:`run_session` is ``wallhinge run``: it opens the lamps and the button,
the store and the camera (or a recording played in real time), calibrates
or loads the calibration, waits for a patient, and runs sets until it is
stopped (Ctrl-C, SIGTERM, ``stop_event``, ``max_duration_s``) or the
recording ends. The measurement and the rep logic are
:func:`station.analyze.analyze_frames`'s, line for line: both call
:func:`station.frame_step.step` (the same
:class:`~station.measure.Measurer` and :class:`~station.reps.RepDetector`,
fed the same frames), so the reps stored live equal what ``wallhinge
analyze`` says of the same recording.

Threads and queues
------------------
::

    gpiozero (button) --put--> commands (SimpleQueue) --+
    live worker (dashboard commands) --put------------->+
                                                        v
    session-camera:  frames -> measure -> reps -> Feedback calls (return at once)
                        |                       \\
                        | put (never blocks)      snapshots: put_nowait, ~10 Hz,
                        v                         dropped when the bounded queue is full
    session-store:  SimpleQueue of sessions, sets and reps -> SQLite (one commit per rep)
                        |                                          |
                        +------ rep_saved events ---------+        v
                                                          +--> session-live: publisher.publish(event)

- **session-camera** reads frames, measures them, runs the rep detector and
  calls :class:`~station.feedback.Feedback` directly on each event: its
  methods write the first step of a pattern and return (the rest of the
  pattern runs on the feedback's worker threads), so a touch reaches the
  buzzer in the frame it is seen. It never waits on anything but the camera.
- **session-store** owns the store's connection (opened in that thread) and
  commits each rep, with its series, the moment the camera thread hands it
  over. Its queue is unbounded but small: a few items per rep. A failing
  write (disk full, database busy) is retried every second, in order, and
  never holds up the camera thread; reps are never dropped.
- **session-live** publishes to the dashboard (any object with
  ``publish(dict)``; by default a null publisher). Events (patient, touch,
  rep, set, lights) go on an append-only deque that never blocks; per-frame
  snapshots go on a bounded queue with ``put_nowait`` and are dropped when
  it is full, so a stalled browser costs snapshots, never frames or reps.
  If the publisher also has ``commands()`` (``web.live.LiveFeed``), its
  start, pause, end and assign commands are taken here and forwarded.
- Button callbacks run on gpiozero's threads and only put a command on a
  queue that the camera thread drains once per frame (and once a second
  while the camera is lost).
- Under systemd (``Type=notify``) the camera thread asks for ``READY=1``
  after the first depth frame, ``WATCHDOG=1`` from the frame loop and from
  the retry loop while the camera is lost (it is alive, just without
  frames), and a ``STATUS=`` line on each change; ``STOPPING=1`` when it
  stops. **session-notify** sends them (:mod:`station.systemd_notify`):
  a datagram send blocks while systemd's queue for the socket is full, so it
  is never done on the camera thread, whose requests go on a bounded queue
  with ``put_nowait``. Outside systemd there is no such thread.

Sets
----
A set starts when a patient arrives and no set is running, when a patient
at the spot begins a rep and no set is running (after a completed or ended
set), or with a short press of the button. A short press pauses and resumes
it (reps while paused are not counted: no sound, not stored); holding the
button for ``station.end_hold_s`` ends it, and so does the patient leaving.
When the set's good reps reach ``targets.reps_per_set`` the set is complete:
fanfare (:meth:`Feedback.set_complete`) and the set ends.

One ``wallhinge run`` is one session in the store until the dashboard or
the kiosk says who is at the wall (an ``assign`` command, or ``start`` with
a patient): before any set that names the session's patient; after sets, it
ends the session and opens a new one for the next participant, so each
patient's sets stay theirs in a group class.

Start-up and trouble
--------------------
The amber lamp flashes while the station gets ready. The calibration file
(``station.calibration``) is used when it fits: same resolution, and
:func:`~station.calibration.camera_moved` finds the camera where it was.
Without one (missing, unreadable, another resolution) the station
calibrates from the empty scene in the first :data:`~station.frame_step.OPENING_S`
seconds, as ``wallhinge analyze`` does, and saves it (a live camera's only).
If the camera has moved since the file was made, the red lamp says so and
nothing is measured until it is back in place (checked every second, three
checks in a row); a replayed recording from elsewhere is calibrated from its
own opening instead. (:func:`~station.calibration.camera_moved` tells moves
of a few centimetres or degrees; a much larger one leaves too little of the
planes where they were for it to tell, and it answers None, "not moved".)
A camera that stops delivering frames turns the red lamp on; the reps
already done stay stored, the camera is opened again every second, and the
session resumes when frames return (times go on from the session's start).
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as _dt
import logging
import os
import queue
import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Protocol

from station import systemd_notify
from station.calibration import CalibrationError, calibration_json, camera_moved, load_calibration, save_calibration
from station.camera import open_camera, open_recording, usb_warning
from station.errors import CameraError, ConfigError, WallHingeError
from station.events import (FrameEvent, LightsEvent, LiveEvent, PatientEvent, RepEvent, RepIgnoredEvent, RepSavedEvent,
                            RepStartedEvent, SessionEvent, SetCompleteEvent, StationEvent, StorageEvent, TouchedEvent)
from station.feedback import Feedback, running_on_mock_pins
from station.frame_step import OPENING_S, calibrate_from_opening, frame_record, step
from station.measure import Measurer
from station.patient_targets import limits_record, patient_limits, patient_targets
from station.reps import PatientArrived, PatientLeft, RepDetector, RepDone, RepReturned, RepStarted, Touched
from station.scoring import SetProgress, is_good_rep
from station.settings import Settings
from station.journal import replay_journals, write_journal
from station.store import ConflictError, NotFoundError, StoreError, open_store

__all__ = ["NullPublisher", "Publisher", "SessionSummary", "run_session"]

log = logging.getLogger(__name__)

#: Seconds between attempts to open a lost camera.
RETRY_S = 1.0
#: Seconds between live snapshots (about 10 Hz).
SNAPSHOT_INTERVAL_S = 0.1
#: Live snapshots waiting to be published before new ones are dropped.
SNAPSHOT_BACKLOG = 16
#: Live events kept for a stalled publisher before the oldest are dropped.
EVENT_BACKLOG = 1000
#: Seconds between checks of a moved camera.
MOVED_CHECK_S = 1.0
#: Checks in a row that must find a moved camera back in place before measuring resumes.
MOVED_CLEAR_CHECKS = 3
#: How often the live worker asks the publisher for dashboard commands (s).
COMMAND_POLL_S = 0.1
#: How long start-up waits for the store to open the session (s).
STORE_REPLY_S = 30.0
#: After the camera thread stops, how long failing writes are still retried (s).
STORE_DRAIN_S = 5.0
#: How often the camera thread asks for a watchdog ping (s); the notifier sends at most what systemd needs.
WATCHDOG_ASK_S = 0.25

_REP_FLOATS = ("start_s", "bottom_s", "end_s", "min_wall_gap_mm", "peak_trunk_angle_deg", "peak_knee_flexion_deg",
               "peak_spine_flexion_deg", "descent_s", "hold_s", "ascent_s", "return_trunk_angle_deg")


class Publisher(Protocol):
    """Where live events go: anything with ``publish(event: dict)`` (``web.live.LiveFeed``), each
    event as :meth:`station.events.LiveEvent.as_dict` serialises it."""

    def publish(self, event: dict) -> Any: ...


class NullPublisher:
    """Publishes nowhere: the session without a dashboard."""

    def publish(self, event: dict) -> None:
        return None


@dataclass
class SessionSummary:
    """What a session did.

    Attributes
    ----------
    session_id : int or None
        The store's (last) session; None if the station never got ready
        (stopped before calibrating).
    session_ids : list of int
        Every session it opened, in order (a new one per participant, see
        the module's docs).
    source : str
        The camera or recording.
    calibration : str or None
        Where the calibration came from: ``"file PATH"`` or ``"opening of SOURCE"``.
    ended_by : str
        ``"stop"``, ``"signal SIGTERM"`` / ``"signal SIGINT"``, ``"duration"``,
        ``"end of recording"`` or ``"end of source"``.
    frames : int
        Depth frames received.
    sets : int
        Sets started.
    reps : list of dict
        The reps handed to the store, in order: the ``wallhinge analyze``
        contract's keys at full precision, ``index`` within the set, ``good``
        and ``set_number`` (within its session).
    camera_losses : int
        Times the camera stopped delivering frames.
    snapshots_dropped : int
        Live snapshots dropped because the publisher lagged.
    store_failures : int
        Items the store refused for good or that were lost (each was logged);
        not those kept in the journal.
    reps_not_stored : int
        Reps the store could not write by the end, kept in ``journal``.
    journal : str or None
        The journal that keeps what the store could not write
        (:mod:`station.journal`); the next start writes it in.
    reps_from_journal : int
        Reps an earlier run had kept in a journal, written into the store at this start.
    elapsed_s : float
        Wall-clock seconds from start to stop.
    abandoned_sessions : list of int
        Sessions a killed station had left open, closed at start-up.
    """

    session_id: int | None = None
    session_ids: list = field(default_factory=list)
    source: str = ""
    calibration: str | None = None
    ended_by: str = ""
    frames: int = 0
    sets: int = 0
    reps: list = field(default_factory=list)
    camera_losses: int = 0
    snapshots_dropped: int = 0
    store_failures: int = 0
    reps_not_stored: int = 0
    journal: str | None = None
    reps_from_journal: int = 0
    elapsed_s: float = 0.0
    abandoned_sessions: list = field(default_factory=list)


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


# --- the live feed's worker ---------------------------------------------------------------------

class _LiveWorker:
    """Publishes events and snapshots on its own thread; the camera thread never waits for it."""

    def __init__(self, publisher, feedback: Feedback, commands: queue.SimpleQueue):
        self._publisher = publisher
        self._feedback = feedback
        self._commands = commands
        self._take_commands = getattr(publisher, "commands", None)
        if not callable(self._take_commands):
            self._take_commands = None
        self._events: collections.deque = collections.deque(maxlen=EVENT_BACKLOG)
        self._snapshots: queue.Queue = queue.Queue(maxsize=SNAPSHOT_BACKLOG)
        self._wake = threading.Event()
        self._stopping = False
        self.snapshots_dropped = 0
        self.events_dropped = 0
        self.publish_failures = 0
        self._thread = threading.Thread(target=self._run, name="session-live", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def event(self, event: LiveEvent) -> None:
        """Queue an event (never blocks; a publisher stalled for EVENT_BACKLOG events loses the oldest)."""
        if len(self._events) == EVENT_BACKLOG:
            self.events_dropped += 1
        self._events.append(event)
        self._wake.set()

    def snapshot(self, snapshot: FrameEvent) -> None:
        """Queue a snapshot, or drop it if the publisher is behind (never blocks)."""
        try:
            self._snapshots.put_nowait(snapshot)
        except queue.Full:
            self.snapshots_dropped += 1
            return
        self._wake.set()

    def stop(self, timeout_s: float = 2.0) -> None:
        """Publish what is queued, then end the thread (a publisher stuck longer than ``timeout_s`` is left)."""
        self._stopping = True
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                log.warning("the live feed did not take the last events within %g s", timeout_s)

    def _run(self) -> None:
        while True:
            if not self._stopping:
                self._wake.wait(COMMAND_POLL_S if self._take_commands else None)
                self._wake.clear()
            while True:
                try:
                    self._publish(self._events.popleft())
                except IndexError:
                    break
            while True:
                try:
                    self._publish(self._snapshots.get_nowait())
                except queue.Empty:
                    break
            if self._stopping:
                if not self._events:
                    return
                continue
            if self._take_commands is not None:
                self._forward_commands()

    def _publish(self, event: LiveEvent) -> None:
        if isinstance(event, (LightsEvent, FrameEvent)):
            event = dataclasses.replace(event, lights=self._feedback.state())
        try:
            self._publisher.publish(event.as_dict())
        except Exception:  # the dashboard's problem must never end a session: say so and go on
            self.publish_failures += 1
            if self.publish_failures <= 3:
                log.warning("the live feed refused a %r event", event.TYPE, exc_info=True)

    def _forward_commands(self) -> None:
        try:
            commands = self._take_commands()
        except Exception:
            self.publish_failures += 1
            if self.publish_failures <= 3:
                log.warning("the live feed's commands could not be read", exc_info=True)
            return
        for command in commands or ():
            self._commands.put(("web", dict(command)))


# --- systemd's notifications ----------------------------------------------------------------------

class _Notifier:
    """Sends systemd notifications on its own thread; the camera thread only queues them (never blocks)."""

    def __init__(self):
        self._queue: queue.Queue | None = None
        self._last_beat = float("-inf")
        if not os.environ.get("NOTIFY_SOCKET"):
            return  # not under systemd: every call is a no-op
        self._heartbeat = systemd_notify.Heartbeat()
        self._queue = queue.Queue(maxsize=16)
        self._thread = threading.Thread(target=self._run, name="session-notify", daemon=True)
        self._thread.start()

    def beat(self) -> None:
        """The loop is alive: a ``WATCHDOG=1`` when one is due."""
        now = time.monotonic()
        if now - self._last_beat >= WATCHDOG_ASK_S:
            self._last_beat = now
            self._put("beat")

    def ready(self, text: str) -> None:
        self._put("ready", text)

    def status(self, text: str) -> None:
        self._put("status", text)

    def stopping(self) -> None:
        self._put("stopping")

    def close(self, timeout_s: float = 1.0) -> None:
        if self._queue is not None:
            self._put("close")
            self._thread.join(timeout_s)

    def _put(self, *item) -> None:
        if self._queue is not None:
            try:
                self._queue.put_nowait(item)
            except queue.Full:
                pass  # systemd is not reading: a later ping or status says the same

    def _run(self) -> None:
        while True:
            kind, *args = self._queue.get()
            if kind == "close":
                return
            if kind == "beat":
                self._heartbeat.beat()
            elif kind == "ready":
                systemd_notify.ready(*args)
            elif kind == "status":
                systemd_notify.status(*args)
            elif kind == "stopping":
                systemd_notify.stopping()


# --- the store's worker ---------------------------------------------------------------------------

class _StoreWorker:
    """Owns the store's connection on its own thread; the camera thread only puts work on its queue."""

    def __init__(self, path: Path, live: _LiveWorker, on_targets: Callable[[int | None, dict | None], None] | None = None):
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
            while True:
                try:
                    pending.append(self._requests.get_nowait())
                except queue.Empty:
                    break
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
                store.set_rep_return(set_id, fields["index"], fields["return_trunk_angle_deg"])
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


# --- the camera thread --------------------------------------------------------------------------

@dataclass
class _Set:
    number: int
    state: str = "running"  # running, paused, ended
    reps: int = 0
    good_reps: int = 0


class _CameraLoop:
    """The camera thread: frames in, measures, reps, feedback; work out to the store and the live feed."""

    def __init__(self, settings: Settings, *, open_source: Callable[[], Iterable], label: str, replay: bool,
                 calibration, calibration_path: Path, feedback: Feedback, store: _StoreWorker,
                 live: _LiveWorker, commands: queue.SimpleQueue, notifier: _Notifier, summary: SessionSummary):
        self.settings = settings
        self._open_source = open_source
        self._label = label
        self._replay = replay
        self._calibration = calibration
        self._calibration_path = calibration_path
        self._calibration_document: str | None = None
        if calibration is not None:
            self._calibration_document = calibration_path.read_text()
        self._feedback = feedback
        self._store = store
        self._live = live
        self._commands = commands
        self.summary = summary
        self._stop = threading.Event()
        self._notify = notifier
        self._notified_ready = False
        self._source_lock = threading.Lock()
        self._source = None
        self.error: BaseException | None = None
        # Measurement
        self._phase = "starting"  # starting, opening, moved, measuring
        self._measurer: Measurer | None = None
        # The limits and targets the reps are judged with: the station's for a guest,
        # the participant's own once the store has sent them (see _use_targets).
        self._limits = settings.thresholds
        self._targets = settings.targets
        self._detector = RepDetector(self._limits, settings.reps, back_checked=settings.setup.back_checked)
        self._progress = SetProgress(self._targets)
        self._opening: list = []
        self._next_moved_check = 0.0
        self._moved_clear = 0
        # Time: session seconds = frame timestamp + offset (offset grows across camera losses)
        self._offset = 0.0
        self._last_t: float | None = None
        self._last_arrival = 0.0
        self._source_first = True
        self._resumed_t: float | None = None
        self._next_snapshot = 0.0
        # Session state
        self._session_started = False
        self._session_sets = 0
        self._patient_id: int | None = None
        self._trouble: str | None = None
        self._present = False
        self._set: _Set | None = None
        self._rep_owner: tuple[int, _Set | None] | None = None  # (detector index, set it counts in)
        self._stored_rep: tuple | None = None  # (detector index, set number, index in set, summary row)
        self._set_needs_patient = False

    # -- control from other threads

    def stop(self) -> None:
        """End the loop soon (thread-safe): the frame source is closed, which ends its iteration."""
        self._stop.set()
        with self._source_lock:
            if self._source is not None:
                self._source.close()

    # -- the thread

    def run(self) -> None:
        try:
            self._run()
        except BaseException as error:
            self.error = error
        finally:
            try:
                self._finish()
            except BaseException as error:
                self.error = self.error or error

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                source = self._open_source()
            except CameraError as error:
                self._camera_trouble(error)
                self._wait_retry()
                continue
            with self._source_lock:
                self._source = source
            try:
                if self._stop.is_set():
                    return
                info = getattr(source, "info", None)
                if warning := usb_warning(getattr(info, "usb_type", None) or ""):  # a live camera on USB 2
                    log.warning("camera: %s", warning)
                if getattr(info, "kind", None) == "camera" and not self._session_started:
                    self.summary.source = self._label = f"camera {info.serial} ({info.name})"
                self._source_first = True
                for frame in source:
                    self._on_frame(frame)
                    if self._stop.is_set():
                        return
                if not self._stop.is_set():
                    self.summary.ended_by = "end of recording" if self._replay else "end of source"
                return
            except CameraError as error:
                if self._stop.is_set():
                    return
                self._camera_lost(error)
                self._wait_retry()
            finally:
                with self._source_lock:
                    self._source = None
                source.close()

    def _wait_retry(self) -> None:
        self._notify.beat()  # alive, retrying: no reason for systemd to restart the station
        self._stop.wait(RETRY_S)
        self._notify.beat()
        self._drain_commands()

    # -- camera trouble

    def _camera_trouble(self, error: BaseException) -> None:
        reason = str(error)
        if reason != self._trouble:
            log.warning("camera: %s; trying again every %g s", reason, RETRY_S)
        self._show_trouble(reason)

    def _camera_lost(self, error: BaseException) -> None:
        self.summary.camera_losses += 1
        log.warning("camera lost: %s; the reps so far are saved; trying again every %g s", error, RETRY_S)
        if self._phase == "measuring" and self._last_t is not None:
            # No rep is guessed across the gap: one on its way up counts, as at the end of a recording.
            for event in self._detector.finish(self._last_t):
                self._on_event(event)
            self._present = False
            self._set_needs_patient = self._set is not None
        if self._phase == "opening":
            self._opening = []
        self._show_trouble(f"camera lost: {error}")

    def _show_trouble(self, reason: str) -> None:
        if reason != self._trouble:
            self._trouble = reason
            self._notify.status(f"trouble: {reason}")
            self._lamp("trouble", reason)
            self._live.event(StationEvent("trouble", reason=reason))

    # -- frames

    def _on_frame(self, frame) -> None:
        arrival = time.monotonic()
        self._notify.beat()
        if not self._notified_ready:
            self._notified_ready = True
            self._notify.ready("first depth frame: getting ready")
        first = self._source_first
        if first:
            self._source_first = False
            if self._last_t is not None:  # a new source after a loss: go on from the session's time
                self._offset = self._last_t + (arrival - self._last_arrival) - frame.timestamp_s
        t = frame.timestamp_s + self._offset
        self.summary.frames += 1
        measures = None
        if first:
            self._resumed_t = t
            self._trouble = None  # frames again; whatever is still wrong shows again below
            self._check_calibration(t, frame)
        if self._phase == "opening":
            self._calibrate_from_opening(t, frame)  # measures the opening's frames once calibrated
        elif self._phase == "moved":
            if t >= self._next_moved_check:
                self._check_moved(t, frame)
        elif self._phase == "measuring":
            measures = self._measure(t, frame)
        self._last_t, self._last_arrival = t, arrival
        self._drain_commands()
        if arrival >= self._next_snapshot:
            self._next_snapshot = arrival + SNAPSHOT_INTERVAL_S
            self._snapshot(t, measures)

    def _check_calibration(self, t: float, frame) -> None:
        """On a source's first frame: does the calibration fit this camera?"""
        calibration = self._calibration
        if calibration is None:
            self._begin_opening()
            return
        intrinsics = calibration.intrinsics
        if frame.depth.shape != (intrinsics.height, intrinsics.width):
            log.warning("the calibration is for %dx%d but the camera gives %dx%d: calibrating from the empty "
                        "scene", intrinsics.width, intrinsics.height, frame.depth.shape[1], frame.depth.shape[0])
            self._begin_opening()
            return
        moved = camera_moved(calibration, frame.depth)
        if moved is None:
            self._start_measuring()
        elif self._replay and not self._session_started:
            log.info("the calibration file does not fit %s (%s): calibrating from its opening", self._label, moved)
            self._begin_opening()
        else:
            log.warning("%s; until then nothing is measured (stop the station to recalibrate, or delete %s "
                        "to calibrate from the empty scene at the next start)", moved, self._calibration_path)
            self._phase = "moved"
            self._moved_clear = 0
            self._next_moved_check = t + MOVED_CHECK_S
            self._show_trouble(moved)

    def _check_moved(self, t: float, frame) -> None:
        self._next_moved_check = t + MOVED_CHECK_S
        if camera_moved(self._calibration, frame.depth) is not None:
            self._moved_clear = 0
            return
        # Several in a row: a turn near the threshold reads either side of it frame to frame.
        self._moved_clear += 1
        if self._moved_clear >= MOVED_CLEAR_CHECKS:
            log.info("the camera is back where it was calibrated")
            self._start_measuring()

    def _begin_opening(self) -> None:
        if self._phase != "opening":
            log.info("calibrating: keep the drill area empty for %g s", OPENING_S)
        self._calibration = None
        self._calibration_document = None
        self._measurer = None
        self._phase = "opening"
        self._opening = []
        if self._trouble is None and self._feedback.state()["pattern"] != "getting_ready":
            self._lamp("getting_ready")
            self._live.event(StationEvent("getting_ready"))

    def _calibrate_from_opening(self, t: float, frame) -> None:
        self._opening.append((t, frame))
        start = self._opening[0][0]
        if t - start < OPENING_S:
            return
        frames = [dataclasses.replace(f, timestamp_s=ft - start) for ft, f in self._opening]
        try:
            calibration = calibrate_from_opening(frames, self._label)
        except WallHingeError as error:
            if str(error) != self._trouble:
                log.warning("%s; trying again with the next %g s", error, OPENING_S)
            self._opening = []
            self._show_trouble(str(error))
            return
        self._calibration = calibration
        self.summary.calibration = f"opening of {self._label}"
        if not self._replay:
            self._save_calibration(calibration)
        else:  # not a file for the next start, but the store keeps it with the session, as the dashboard shows
            self._calibration_document = calibration_json(calibration)
        opening, self._opening = self._opening, []
        self._start_measuring()
        for ft, f in opening:  # as analyze does: the opening's frames are measured too
            self._measure(ft, f)

    def _save_calibration(self, calibration) -> None:
        try:
            save_calibration(calibration, self._calibration_path)
        except CalibrationError as error:
            log.warning("the calibration is used but not saved: %s", error)
            return
        self._calibration_document = self._calibration_path.read_text()
        log.info("saved the calibration to %s", self._calibration_path)

    def _start_measuring(self) -> None:
        if self._measurer is None or self._measurer.calibration is not self._calibration:
            self._measurer = Measurer(self._calibration, back=self.settings.setup.back_checked)
        self._phase = "measuring"
        self._trouble = None
        if not self._session_started:
            self.summary.session_id = self._store.call(
                "start_session", source=self.summary.source, calibration_document=self._calibration_document,
                patient_id=self._patient_id, started=_now())
            self._session_started = True
            log.info("ready: session %d, waiting for a patient", self.summary.session_id)
            self._notify.status(f"session {self.summary.session_id}: ready, waiting for a patient")
            self._live.event(StationEvent("ready"))
            self._publish_session("idle")
        else:
            log.info("frames again: the session goes on")
            self._notify.status(f"session {self.summary.session_id}: frames again")
            self._live.event(StationEvent("ready"))
        self._base_lamps()

    def _measure(self, t: float, frame):
        measures, events = step(self._measurer, self._detector, t, frame.depth)
        for event in events:
            self._on_event(event)
        if (self._set_needs_patient and not self._present and self._set is not None
                and t - self._resumed_t > self.settings.reps.max_absent_s):
            self._set_needs_patient = False
            self._end_set("the patient was gone when the camera came back")
            self._base_lamps()
        return measures

    # -- events

    def _on_event(self, event) -> None:
        if isinstance(event, Touched):
            counts = self._counting(event.index)
            if counts:
                self._feedback.touched()
            self._live.event(TouchedEvent(event.t_s, wall_gap_mm=round(float(event.wall_gap_mm), 1), counted=counts))
        elif isinstance(event, RepDone):
            self._rep_done(event)
        elif isinstance(event, RepReturned):
            self._rep_returned(event)
        elif isinstance(event, RepStarted):
            if self._set is None and self._present:
                self._start_set("a rep began")
            owner = self._set if self._set is not None and self._set.state == "running" else None
            self._rep_owner = (event.index, owner)
            self._live.event(RepStartedEvent(event.t_s, counted=owner is not None))
        elif isinstance(event, PatientArrived):
            self._present = True
            self._set_needs_patient = False
            self._live.event(PatientEvent(present=True, t_s=event.t_s))
            if self._set is None:
                self._start_set("the patient arrived")
            self._base_lamps()
        elif isinstance(event, PatientLeft):
            self._present = False
            self._live.event(PatientEvent(present=False, t_s=event.t_s))
            if self._set is not None:
                self._end_set("the patient left")
            self._base_lamps()

    def _counting(self, index: int) -> bool:
        owner = self._rep_owner[1] if self._rep_owner and self._rep_owner[0] == index else None
        return owner is not None and owner.state == "running"

    def _rep_done(self, event: RepDone) -> None:
        rep = event.rep
        owner = self._rep_owner[1] if self._rep_owner and self._rep_owner[0] == rep.index else None
        self._rep_owner = None
        if owner is None or owner.state == "paused":
            self._live.event(RepIgnoredEvent(event.t_s, reason="no set running"))
            return
        owner.reps += 1
        record = rep.as_dict()
        record.update({name: getattr(rep, name) for name in _REP_FLOATS})
        record.update(index=owner.reps, good=is_good_rep(rep, self._targets),
                      limits=limits_record(self._detector.thresholds, self._targets.target_trunk_angle_deg))
        self._store.post("add_rep", number=owner.number, rep=record, series=rep.series, recorded=_now())
        self.summary.reps.append({**record, "set_number": owner.number})
        self._stored_rep = (rep.index, owner.number, owner.reps, self.summary.reps[-1])
        self._lamp("rep_done", list(rep.faults))
        shown = rep.as_dict()
        shown["index"] = owner.reps
        self._live.event(RepEvent(event.t_s, session_id=self._store.session_id, set_number=owner.number, rep=shown,
                                  good=record["good"]))
        if owner is self._set:
            complete = self._progress.add(rep)
            owner.good_reps = self._progress.good_reps
            if complete:
                self._lamp("set_complete")
                self._live.event(SetCompleteEvent(set_number=owner.number, good_reps=owner.good_reps,
                                                  completed_sets=self._progress.completed_sets,
                                                  ready_to_progress=self._progress.ready_to_progress))
                self._end_set("complete")
            else:
                self._publish_session(self._session_state())

    def _rep_returned(self, event: RepReturned) -> None:
        """How close to standing the last stored rep came back: into the store with it."""
        if self._stored_rep is None or self._stored_rep[0] != event.index:
            return  # a rep that was not stored (no set running)
        _, number, index, row = self._stored_rep
        self._stored_rep = None
        row["return_trunk_angle_deg"] = event.return_trunk_angle_deg
        self._store.post("rep_return", number=number, index=index,
                         return_trunk_angle_deg=event.return_trunk_angle_deg)

    # -- sets

    def _start_set(self, why: str) -> None:
        self.summary.sets += 1
        self._session_sets += 1
        self._set = _Set(self._session_sets)
        self._progress.new_set()
        self._store.post("start_set", number=self._set.number, started=_now())
        log.info("set %d started: %s", self._set.number, why)
        self._notify.status(f"session {self._store.session_id}: set {self._set.number} running")
        self._publish_session("running")

    def _end_set(self, why: str) -> None:
        ended, self._set = self._set, None
        ended.state = "ended"
        self._store.post("end_set", number=ended.number, ended=_now())
        log.info("set %d ended (%s): %d reps, %d good", ended.number, why, ended.reps, ended.good_reps)
        self._notify.status(f"session {self._store.session_id}: set {ended.number} ended, {ended.reps} reps")
        self._publish_session("idle", ended=ended)

    def _drain_commands(self) -> None:
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return
            self._command(*command)

    def _command(self, kind: str, details: dict | None = None) -> None:
        if kind == "targets":
            self._use_targets(details["patient_id"], details["targets"])
            return
        if kind == "web":
            name = details.get("command")
            if name == "assign" or (name == "start" and details.get("patient_id") is not None):
                self._assign(details.get("patient_id"))
            if name == "start" and (self._set is None or self._set.state == "paused"):
                kind = "start_pause"
            elif name == "pause" and self._set is not None and self._set.state == "running":
                kind = "start_pause"
            elif name == "end":
                kind = "end"
            else:
                return
        if not self._session_started:
            return  # nothing to start, pause or end before the station is ready
        if kind == "end":
            if self._set is not None:
                self._end_set("ended by the button")
                self._base_lamps()
        elif kind == "start_pause":
            if self._set is None:
                self._start_set("started by the button")
            elif self._set.state == "running":
                self._set.state = "paused"
                log.info("set %d paused", self._set.number)
                self._publish_session("paused")
            else:
                self._set.state = "running"
                log.info("set %d resumed", self._set.number)
                self._publish_session("running")
            self._base_lamps()

    def _use_targets(self, patient_id: int | None, targets: dict | None) -> None:
        """Judge the reps from now on with this participant's limits and targets (if they are still up)."""
        if patient_id != self._patient_id:
            return  # someone else was assigned meanwhile: their targets are on their way
        try:
            limits = patient_limits(targets, self.settings.thresholds)
            chosen = patient_targets(targets, self.settings.targets)
        except ValueError as error:  # the store checks targets, so only a damaged row gets here
            log.error("patient %s's targets cannot be used (%s): the station's are used instead", patient_id, error)
            limits, chosen = self.settings.thresholds, self.settings.targets
        self._limits, self._targets = limits, chosen
        self._detector.thresholds = limits
        self._progress.targets = chosen
        log.info("%s: touch within %g mm, knee bend up to %g°, down in at least %g s, back within %g° of standing, "
                 "%d good reps a set", "a guest, the station's limits" if patient_id is None
                 else f"patient {patient_id}'s limits", limits.touch_tolerance_mm, limits.max_knee_flexion_deg,
                 limits.min_descent_s, limits.upright_angle_deg, chosen.reps_per_set)
        self._publish_session(self._session_state())

    def _session_state(self) -> str:
        if self._set is None:
            return "idle"
        return "paused" if self._set.state == "paused" else "running"

    def _assign(self, patient_id: int | None) -> None:
        """Who is at the wall: this session's patient, or (after sets) a new session for the next one."""
        if patient_id == self._patient_id:
            return
        if not self._session_started or self._session_sets == 0:
            self._patient_id = patient_id
            if self._session_started:
                self._store.post("assign", patient_id=patient_id)
                log.info("the session's patient: %s", patient_id)
                self._publish_session("idle")
            return
        if self._last_t is not None:
            for event in self._detector.settle(self._last_t):  # the last rep's return, with its own set
                self._on_event(event)
        if self._set is not None:
            self._end_set("the next participant is up")
        self._rep_owner = None  # a rep under way belongs to nobody's set now
        self._patient_id, self._session_sets = patient_id, 0
        self._progress = SetProgress(self._targets)
        log.info("the next participant (patient %s): a new session", patient_id)
        self._store.post("switch_session", source=self.summary.source, calibration_document=self._calibration_document,
                         patient_id=patient_id, started=_now(), event=self._session_event("idle"))

    # -- lights and the live feed

    def _lamp(self, name: str, *args) -> None:
        """Call the feedback's ``name`` (``rep_done``, ``trouble``...) and publish the lamp pattern it shows now."""
        getattr(self._feedback, name)(*args)
        self._live.event(LightsEvent(self._feedback.state()["pattern"]))

    def _base_lamps(self) -> None:
        """The lamps for the state the station is in (unless trouble shows)."""
        if self._trouble is not None:
            return
        if self._set is not None and self._set.state == "paused":
            self._lamp("paused")
        elif self._set is not None and self._present:
            self._lamp("patient_detected")
        else:
            self._lamp("ready")

    def _publish_session(self, state: str, *, ended: _Set | None = None) -> None:
        self._live.event(self._session_event(state, ended=ended))

    def _session_event(self, state: str, *, ended: _Set | None = None) -> SessionEvent:
        current = ended or self._set
        return SessionEvent(state=state, session_id=self._store.session_id, patient_id=self._patient_id,
                            set_number=current.number if current else None,
                            reps_in_set=current.reps if current else 0,
                            good_reps_in_set=current.good_reps if current else 0,
                            reps_per_set=self._targets.reps_per_set, sets=self._targets.sets,
                            touch_tolerance_mm=self._limits.touch_tolerance_mm,
                            completed_sets=self._progress.completed_sets, source=self.summary.source)

    def _snapshot(self, t: float, measures) -> None:
        self._live.snapshot(FrameEvent(t_s=round(t, 3), phase=self._phase, trouble=self._trouble,
                                       set_number=self._set.number if self._set else None,
                                       set_state=self._set.state if self._set else None,
                                       reps_in_set=self._set.reps if self._set else 0,
                                       measures=None if measures is None else frame_record(t, measures)))

    # -- the end

    def _finish(self) -> None:
        if self._phase == "measuring" and self._last_t is not None:
            for event in self._detector.finish(self._last_t):
                self._on_event(event)
        if self._set is not None:
            self._end_set("the session ended")
        if self._session_started:
            self._store.post("end_session", ended=_now())
            self._publish_session("ended")


# --- wiring it together -----------------------------------------------------------------------

def _existing_calibration(path: Path, *, replay: bool = False):
    """The calibration file if it can be read; None (and why, logged) if not.

    No file is the normal first start (and the normal replay, which calibrates
    from the recording's own opening): said plainly, not as a problem.
    """
    if not path.exists():
        if not replay:
            log.info("no saved calibration yet (%s): the station calibrates from the empty room now", path)
        return None
    try:
        return load_calibration(path)
    except CalibrationError as error:
        log.warning("%s; calibrating from the empty scene instead", error)
        return None


def _open_feedback(settings: Settings, pin_factory) -> Feedback:
    from gpiozero.exc import BadPinFactory

    try:
        return Feedback(settings.pins, muted=settings.station.muted, pin_factory=pin_factory,
                        end_hold_s=settings.station.end_hold_s)
    except BadPinFactory as error:
        raise ConfigError(f"no GPIO pin library works here ({error}): on a Raspberry Pi install python3-lgpio; "
                          "off it set GPIOZERO_PIN_FACTORY=mock and GPIOZERO_MOCK_PIN_CLASS=mockpwmpin") from None


@contextmanager
def _stop_on_signals(stop_event: threading.Event, summary: SessionSummary):
    """SIGTERM and the first Ctrl-C set ``stop_event`` (main thread only); a second Ctrl-C interrupts."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {number: signal.getsignal(number) for number in (signal.SIGTERM, signal.SIGINT)}

    def handler(number, frame):  # no logging here: the handler may interrupt a thread holding its lock
        if not stop_event.is_set():
            summary.ended_by = f"signal {signal.Signals(number).name}"
        stop_event.set()
        if number == signal.SIGINT:
            signal.signal(signal.SIGINT, previous[signal.SIGINT])

    for number in previous:
        signal.signal(number, handler)
    try:
        yield
    finally:
        for number, old in previous.items():
            signal.signal(number, old)


def run_session(settings: Settings, *, replay=None, publisher: Publisher | None = None, pin_factory=None,
                stop_event: threading.Event | None = None, max_duration_s: float | None = None,
                real_time: bool = True, source: Callable[[], Iterable] | None = None) -> SessionSummary:
    """Run the station until it is stopped; see the module's docs.

    Parameters
    ----------
    settings : Settings
        From :func:`station.settings.load_settings`.
    replay : str or Path, optional
        Play this recording instead of the live camera; the session ends
        with it.
    publisher : object with ``publish(dict)``, optional
        The live feed (``web.live.LiveFeed``); a null publisher if None.
    pin_factory : gpiozero Factory, optional
        For the lamps, buzzer and button; None lets gpiozero choose
        (``GPIOZERO_PIN_FACTORY``).
    stop_event : threading.Event, optional
        Set it to stop the session (from any thread). SIGTERM and Ctrl-C
        set it too when called from the main thread.
    max_duration_s : float, optional
        Stop after this many seconds.
    real_time : bool
        With ``replay``: pace frames by their timestamps (True, as a camera
        would deliver them) or read as fast as possible (tests).
    source : callable, optional
        Opens the frame source instead of the camera (tests, benchmarks):
        returns an iterable of :class:`~station.camera.DepthFrame` with
        ``close()``; raising or iterating into :class:`~station.errors.CameraError`
        is a lost camera, retried every second. Treated as a live camera.

    Returns
    -------
    SessionSummary

    Raises
    ------
    ConfigError
        The pins cannot be used (no PWM, no GPIO library).
    StoreError
        The store cannot be opened.
    RecordingError
        The replayed recording cannot be read.
    """
    if max_duration_s is not None and not max_duration_s > 0:
        raise ValueError(f"max_duration_s must be a positive number of seconds, not {max_duration_s!r}")
    started = time.monotonic()
    publisher = publisher if publisher is not None else NullPublisher()
    stop_event = stop_event if stop_event is not None else threading.Event()
    station = settings.station
    summary = SessionSummary()
    open_source, label, is_replay = _source_opener(settings, replay, real_time, source)
    summary.source = label
    try:
        station.data_path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError(f"cannot make the data folder {station.data_path}: {error.strerror or error}") from None
    calibration = _existing_calibration(station.calibration_path, replay=is_replay)
    if calibration is not None:
        summary.calibration = f"file {station.calibration_path}"

    feedback = _open_feedback(settings, pin_factory)
    commands: queue.SimpleQueue = queue.SimpleQueue()
    notifier = _Notifier()
    live = _LiveWorker(publisher, feedback, commands)
    store = _StoreWorker(station.database_path, live, on_targets=lambda patient_id, targets: commands.put(
        ("targets", {"patient_id": patient_id, "targets": targets})))
    loop = None
    try:
        if running_on_mock_pins(pin_factory):
            log.info("no GPIO here: the lamps, the buzzer and the button are gpiozero's simulated (mock) pins")
        feedback.getting_ready()
        live.start()
        live.event(StationEvent("getting_ready"))
        live.event(LightsEvent("getting_ready"))
        store.start()
        summary.abandoned_sessions = list(store.abandoned)
        summary.reps_from_journal = store.replayed["reps"]
        if store.abandoned:
            log.warning("closed %d session(s) a stopped station had left open: %s", len(store.abandoned),
                        ", ".join(map(str, store.abandoned)))
        loop = _CameraLoop(settings, open_source=open_source, label=label, replay=is_replay,
                           calibration=calibration, calibration_path=station.calibration_path,
                           feedback=feedback, store=store, live=live, commands=commands, notifier=notifier,
                           summary=summary)
        feedback.on_start_pause = lambda: commands.put(("start_pause",))
        feedback.on_end = lambda: commands.put(("end",))
        camera = threading.Thread(target=loop.run, name="session-camera", daemon=True)
        deadline = None if max_duration_s is None else started + max_duration_s
        with _stop_on_signals(stop_event, summary):
            camera.start()
            try:
                while camera.is_alive():
                    wait = 0.2 if deadline is None else max(0.0, min(0.2, deadline - time.monotonic()))
                    if stop_event.wait(wait):
                        summary.ended_by = summary.ended_by or "stop"
                        log.info("stopping (%s)", summary.ended_by)
                        break
                    if deadline is not None and time.monotonic() >= deadline:
                        summary.ended_by = "duration"
                        break
            finally:
                notifier.stopping()
                loop.stop()
                camera.join()
    finally:
        feedback.on_start_pause = None
        feedback.on_end = None
        store.stop()
        live.stop()
        notifier.close()
        feedback.close()
        summary.elapsed_s = time.monotonic() - started
        summary.snapshots_dropped = live.snapshots_dropped
        summary.store_failures = store.failures
        summary.reps_not_stored, summary.journal = store.reps_not_stored, store.journal
        summary.session_ids = list(store.session_ids)
        if store.session_ids:
            summary.session_id = store.session_ids[-1]
    if loop.error is not None:
        raise loop.error
    log.info("session %s ended (%s): %d sets, %d reps in %.0f s", summary.session_id, summary.ended_by,
             summary.sets, len(summary.reps), summary.elapsed_s)
    return summary


def _source_opener(settings: Settings, replay, real_time: bool, source):
    """(open, label, is_replay) for the frame source the session reads."""
    if source is not None:
        return source, getattr(source, "label", "the frame source"), False
    if replay is not None:
        path = Path(replay)
        return (lambda: open_recording(path, real_time=real_time, filters=settings.filters),
                f"recording {path}", True)
    camera = settings.camera
    label = f"camera {camera.serial}" if camera.serial else "camera"
    return (lambda: open_camera(serial=camera.serial, width=camera.width, height=camera.height, fps=camera.fps,
                                filters=settings.filters, frame_timeout_s=camera.frame_timeout_s),
            label, False)
