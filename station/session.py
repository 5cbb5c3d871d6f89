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
- **session-store** (:mod:`station.session_storage`) owns the store's connection (opened in that thread) and
  commits each rep, with its series, the moment the camera thread hands it
  over. Its queue is unbounded but small: a few items per rep. A failing
  write (disk full, database busy) is retried every second, in order, and
  never holds up the camera thread; reps are never dropped.
- **session-live** (:mod:`station.live_worker`) publishes to the dashboard (any object with
  ``publish(dict)``; by default a null publisher). Events (patient, touch,
  rep, set, lights) go on an append-only deque that never blocks; per-frame
  snapshots go on a bounded queue with ``put_nowait`` and are dropped when
  it is full, so a stalled browser costs snapshots, never frames or reps.
  If the publisher also has ``commands()`` (``web.live.LiveFeed``), its
  start, pause, end and assign commands are taken here and forwarded.
- With ``station.speech`` on, the station's voice (:class:`station.voice.CueVoice`)
  hears each event on the session-live thread and hands its cue to espeak-ng's
  own thread, so nothing waits for a voice, with or without the dashboard.
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

Two cameras
-----------
With a camera above the drill spot (``[setup] back_camera_serial``, or a
replayed recording with its ``NAME.above.db3``), the source is a tolerant
:class:`~station.camera_pair.SourcePair`: each side frame comes with the
camera above's frame taken with it (or None). :class:`~station.back_phase.BackPhase`
calibrates the camera above (saved file or its own opening) and puts each
measured frame's spine flexion into its measures the way ``wallhinge
analyze`` does (:func:`station.frame_step.step`), before the rep detector
has the frame: the detector judges the back by it (``rounded_back``) while
:attr:`~station.back_phase.BackPhase.checked` (a validated set-up, the
camera above reading). The frame snapshots say whether the back is checked
and why not. A camera above that is missing, lost,
moved or cut short never stops the side camera: the back is "not checked",
with the reason, logged once.

Sets and participants
---------------------
When a set starts, pauses and ends, which rep counts, and whose limits judge
it: :mod:`station.set_rules`, a state machine the camera thread feeds with the
rep detector's events and the commands, and which acts through the camera
thread (lamps, store work, live events).

Start-up and trouble
--------------------
The amber lamp flashes while the station gets ready. The calibration file
(``station.calibration``) is used when it fits: same resolution, and
:func:`~station.camera_check.camera_moved` finds the camera where it was.
Without one (missing, unreadable, another resolution) the station
calibrates from the empty scene in the first :data:`~station.frame_step.OPENING_S`
seconds, as ``wallhinge analyze`` does, and saves it (a live camera's only).
If the camera has moved since the file was made, the red lamp says so and
nothing is measured until it is back in place (checked every second, three
checks in a row); a replayed recording from elsewhere is calibrated from its
own opening instead. (:func:`~station.camera_check.camera_moved` tells moves
of a few centimetres or degrees; a much larger one leaves too little of the
planes where they were for it to tell, and it answers None, "not moved".)
A camera that stops delivering frames turns the red lamp on; the reps
already done stay stored, the camera is opened again every second, and the
session resumes when frames return (times go on from the session's start).
"""

from __future__ import annotations

import datetime as _dt
import logging
import queue
import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from station.back_phase import BackPhase
from station.calibration_phase import CalibrationPhase, existing_calibration
from station.camera import open_camera, open_recording, usb_warning
from station.camera_pair import (SourcePair, back_recording_path, open_camera_pair, open_recording_pair,
                                 require_back_recording)
from station.errors import CameraError, ConfigError, WallHingeError
from station.events import FrameEvent, LightsEvent, StationEvent
from station.feedback import Feedback, running_on_mock_pins
from station.faults import BACK_NOT_CHECKED, back_checked
from station.frame_step import OPENING_S, frame_record, step
from station.live_worker import LiveWorker, NullPublisher, Publisher
from station.malloc import release_freed_memory
from station.measure import Measurer
from station.reps import RepDetector
from station.session_storage import StoreWorker
from station.set_rules import SetRules
from station.settings import Settings
from station.setup import BACK_NOT_VALIDATED, back_check
from station.systemd_notify import Notifier
from station.voice import CueVoice, open_voice

__all__ = ["NullPublisher", "Publisher", "SessionSummary", "run_session"]

log = logging.getLogger(__name__)

#: Seconds between attempts to open a lost camera.
RETRY_S = 1.0
#: Seconds between live snapshots (about 10 Hz).
SNAPSHOT_INTERVAL_S = 0.1


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
    back_camera : str or None
        The camera above (two cameras: its serial or recording), None with one camera.
    back_frames_read : int
        Frames measured with a spine flexion read from the camera above.
    back_reason : str or None
        Why the back was not checked at the end (``station.back_phase.BackPhase.reason``).
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
    back_camera: str | None = None
    back_frames_read: int = 0
    back_reason: str | None = None

    def back_words(self) -> str:
        """What became of the reps' back, in a few words: checked (on how many, and how many rounded), or not and why.

        A rep whose back was not read (its bottom not seen: someone in front) is not counted as checked.
        """
        if self.back_reason is not None:
            return f"not checked ({self.back_reason})"
        rounded = sum(1 for rep in self.reps if "rounded_back" in rep["faults"])
        checked = sum(1 for rep in self.reps if back_checked(rep))
        on = "" if checked == len(self.reps) else f" on {checked} of {len(self.reps)}"
        return f"checked{on}, {rounded} rounded"


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


# --- the camera thread --------------------------------------------------------------------------

class _CameraLoop:
    """The camera thread: frames in, measures, reps, feedback; work out to the store and the live feed."""

    def __init__(self, settings: Settings, *, open_source: Callable[[], Iterable], label: str, replay: bool,
                 calibration, calibration_path: Path, feedback: Feedback, store: StoreWorker,
                 live: LiveWorker, commands: queue.SimpleQueue, notifier: Notifier, summary: SessionSummary,
                 back: BackPhase | None = None):
        self.settings = settings
        self._open_source = open_source
        self._label = label
        self._replay = replay
        self._calibration = CalibrationPhase(calibration, calibration_path, replay=replay)
        self._back = back  # the camera above (two cameras), or None
        self._pair: SourcePair | None = None
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
        self._measurer: Measurer | None = None
        self._detector = RepDetector(settings.thresholds, settings.reps, back_checked=settings.setup.side_reads_back)
        self._rules = SetRules(settings, self._detector, self, summary)
        # Time: session seconds = frame timestamp + offset (offset grows across camera losses)
        self._offset = 0.0
        self._last_t: float | None = None
        self._last_arrival = 0.0
        self._source_first = True
        self._resumed_t: float | None = None
        self._next_snapshot = 0.0
        self._trouble: str | None = None

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
                if getattr(info, "kind", None) == "camera" and not self._rules.started:
                    self.summary.source = self._label = f"camera {info.serial} ({info.name})"
                self._pair = source if isinstance(source, SourcePair) else None
                self._say_sync(source)
                self._source_first = True
                for item in source:
                    frame, back = item if self._pair is not None else (item, None)
                    self._on_frame(frame, back)
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

    def _say_sync(self, source) -> None:
        """Hardware sync asked for but not taken (a camera or playback without the option): one line each."""
        infos = [getattr(source, "info", None)]
        if self._pair is not None:
            infos.append(getattr(self._pair.back, "info", None))
        for info in infos:
            if note := getattr(info, "sync_note", None):
                log.warning("%s", note)

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
        if self._calibration.phase == "measuring" and self._last_t is not None:
            # No rep is guessed across the gap: one on its way up counts, as at the end of a recording.
            for event in self._detector.finish(self._last_t):
                self._rules.on_event(event)
            self._rules.camera_lost()
        if self._calibration.phase == "opening":
            self._calibration.restart_opening()
        self._show_trouble(f"camera lost: {error}")

    def _show_trouble(self, reason: str) -> None:
        if reason != self._trouble:
            self._trouble = reason
            self._notify.status(f"trouble: {reason}")
            self.lamp("trouble", reason)
            self._live.event(StationEvent("trouble", reason=reason))

    # -- frames

    def _on_frame(self, frame, back=None) -> None:
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
        if self._back is not None:  # first: its opening ends with the side's, whose frames are then measured
            pair = self._pair
            self._back.frame(t, back, source_trouble=None if pair is None else pair.back_trouble,
                             openings=None if pair is None else getattr(pair.back, "openings", None))
        if first:
            self._resumed_t = t
            self._trouble = None  # frames again; whatever is still wrong shows again below
            self._check_calibration(t, frame)
        phase = self._calibration.phase
        if phase == "opening":
            self._calibrate_from_opening(t, frame, back)  # measures the opening's frames once calibrated
        elif phase == "moved":
            if self._calibration.moved_check_due(t):
                self._check_moved(t, frame)
        elif phase == "measuring":
            measures = self._measure(t, frame, back)
        self._last_t, self._last_arrival = t, arrival
        self._drain_commands()
        if arrival >= self._next_snapshot:
            self._next_snapshot = arrival + SNAPSHOT_INTERVAL_S
            self._snapshot(t, measures)

    def _check_calibration(self, t: float, frame) -> None:
        """On a source's first frame: does the calibration fit this camera?"""
        verdict = self._calibration.first_frame(t, frame, label=self._label,
                                                may_recalibrate=self._replay and not self._rules.started)
        if verdict is None:
            self._start_measuring()
        elif verdict == "":
            self._begin_opening()
        else:
            self._show_trouble(verdict)

    def _check_moved(self, t: float, frame) -> None:
        if self._calibration.back_in_place(t, frame):
            self._start_measuring()

    def _begin_opening(self) -> None:
        self._calibration.begin_opening()
        self._measurer = None
        if self._trouble is None and self._feedback.state()["pattern"] != "getting_ready":
            self.lamp("getting_ready")
            self._live.event(StationEvent("getting_ready"))

    def _calibrate_from_opening(self, t: float, frame, back) -> None:
        try:
            opening = self._calibration.opening_frame(t, frame, self._label, back)
        except WallHingeError as error:
            if str(error) != self._trouble:
                log.warning("%s; trying again with the next %g s", error, OPENING_S)
            self._show_trouble(str(error))
            return
        if opening is None:
            return
        self.summary.calibration = f"opening of {self._label}"
        self._start_measuring()
        for ft, f, b in opening:  # as analyze does: the opening's frames are measured too
            self._measure(ft, f, b)

    def _start_measuring(self) -> None:
        calibration = self._calibration.calibration
        if self._measurer is None or self._measurer.calibration is not calibration:
            self._measurer = Measurer(calibration, back=self.settings.setup.side_reads_back)
        self._calibration.phase = "measuring"
        self._trouble = None
        if not self._rules.started:
            self.summary.session_id = self._store.call(
                "start_session", source=self.summary.source, calibration_document=self._calibration.document,
                patient_id=self._rules.patient_id, started=_now())
            self._rules.started = True
            log.info("ready: session %d, waiting for a patient", self.summary.session_id)
            self._notify.status(f"session {self.summary.session_id}: ready, waiting for a patient")
            self._live.event(StationEvent("ready"))
            self._rules.publish_session("idle")
        else:
            log.info("frames again: the session goes on")
            self._notify.status(f"session {self.summary.session_id}: frames again")
            self._live.event(StationEvent("ready"))
        self._rules.base_lamps()

    def _measure(self, t: float, frame, back=None):
        measures, events = step(self._measurer, self._detector, t, frame.depth, self._back,
                                None if back is None else back.depth,
                                judge_back=self._back is not None and self._back.checked,
                                unjudged_reason=(self._back.reason if self._back is not None else None)
                                or BACK_NOT_VALIDATED)
        if self._back is not None:
            self.summary.back_frames_read += measures.spine_flexion_deg is not None
        for event in events:
            self._rules.on_event(event)
        self._rules.after_frame(t, self._resumed_t, measures.hidden_reason)
        return measures

    # -- commands

    def _drain_commands(self) -> None:
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return
            self._rules.command(*command, last_t=self._last_t)

    # -- lights and the live feed

    # -- the rules' effects (station.set_rules.Effects), and the lamps and the live feed

    @property
    def source(self) -> str:
        return self.summary.source

    def session_id(self) -> int | None:
        return self._store.session_id

    def now(self) -> _dt.datetime:
        return _now()

    def lamp(self, name: str, *args) -> None:
        """Call the feedback's ``name`` (``rep_done``, ``trouble``...) and publish the lamp pattern it shows now."""
        getattr(self._feedback, name)(*args)
        self._live.event(LightsEvent(self._feedback.state()["pattern"]))

    def base_lamp(self, name: str) -> None:
        if self._trouble is None:  # trouble shows until it is over
            self.lamp(name)

    def publish(self, event) -> None:
        self._live.event(event)

    def store(self, kind: str, **fields) -> None:
        self._store.post(kind, **fields)

    def status(self, text: str) -> None:
        self._notify.status(text)

    def new_session(self, patient_id: int | None, event) -> None:
        self._store.post("switch_session", source=self.summary.source, calibration_document=self._calibration.document,
                         patient_id=patient_id, started=_now(), event=event)

    def _snapshot(self, t: float, measures) -> None:
        current = self._rules.set
        self._live.snapshot(FrameEvent(t_s=round(t, 3), phase=self._calibration.phase, trouble=self._trouble,
                                       set_number=current.number if current else None,
                                       set_state=current.state if current else None,
                                       reps_in_set=current.reps if current else 0,
                                       measures=None if measures is None else frame_record(t, measures,
                                                                                           self._detector.setup_note),
                                       back_checked=None if self._back is None else self._back.checked,
                                       back_reason=None if self._back is None else self._back_reason(measures)))

    def _back_reason(self, measures) -> str | None:
        """Why the back is not checked now, or (checked) why this frame has no reading."""
        if not self._back.checked:
            return self._back.reason
        return None if measures is None else measures.back_reason

    # -- the end

    def _finish(self) -> None:
        if self._back is not None:
            self.summary.back_reason = self._back.reason
        if self._calibration.phase == "measuring" and self._last_t is not None:
            for event in self._detector.finish(self._last_t):
                self._rules.on_event(event)
        self._rules.finish()


# --- wiring it together -----------------------------------------------------------------------

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
                real_time: bool = True, source: Callable[[], Iterable] | None = None,
                speech_enabled: Callable[[], bool] | None = None, back_replay=None) -> SessionSummary:
    """Run the station until it is stopped; see the module's docs.

    Parameters
    ----------
    settings : Settings
        From :func:`station.settings.load_settings`.
    replay : str or Path, optional
        Play this recording instead of the live camera; the session ends
        with it. If the camera above's recording sits beside it
        (``NAME.above.db3``), the two are replayed as the pair ``side+wall-above``.
    back_replay : str or Path, optional
        With ``replay``: the camera above's recording, named (it must exist).
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
    speech_enabled : callable, optional
        Asked before each spoken cue (``station.speech``; the kiosk's switch); always yes if None.

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
        The replayed recording cannot be read (or a pair's two are not of one
        session). A camera above that is missing, lost or cut short later
        only makes the back "not checked" (:mod:`station.back_phase`).
    """
    if max_duration_s is not None and not max_duration_s > 0:
        raise ValueError(f"max_duration_s must be a positive number of seconds, not {max_duration_s!r}")
    started = time.monotonic()
    publisher = publisher if publisher is not None else NullPublisher()
    stop_event = stop_event if stop_event is not None else threading.Event()
    station = settings.station
    summary = SessionSummary()
    open_source, label, is_replay, back = _source_opener(settings, replay, real_time, source, back_replay)
    summary.source = label
    summary.back_camera = back
    calibration = _prepare_data_folder(settings, is_replay, summary)

    feedback = _open_feedback(settings, pin_factory)
    commands, notifier, live, store, voice = _workers(station, publisher, feedback, speech_enabled)
    loop = None
    try:
        _start_workers(feedback, live, store, summary, pin_factory)
        loop = _CameraLoop(settings, open_source=open_source, label=label, replay=is_replay,
                           calibration=calibration, calibration_path=station.calibration_path,
                           feedback=feedback, store=store, live=live, commands=commands, notifier=notifier,
                           summary=summary, back=_back_phase(settings, back, is_replay))
        feedback.on_start_pause = lambda: commands.put(("start_pause",))
        feedback.on_end = lambda: commands.put(("end",))
        deadline = None if max_duration_s is None else started + max_duration_s
        with _stop_on_signals(stop_event, summary):
            _run_camera_until_stopped(loop, notifier, stop_event, deadline, summary)
    finally:
        _stop_workers(feedback, live, store, notifier, voice, summary)
        summary.elapsed_s = time.monotonic() - started
    error, loop = loop.error, None  # the loop's measurer and its per-pixel tables, freed before the trim
    release_freed_memory()
    if error is not None:
        raise error
    log.info("session %s ended (%s): %d sets, %d reps in %.0f s", summary.session_id, summary.ended_by,
             summary.sets, len(summary.reps), summary.elapsed_s)
    return summary


def _prepare_data_folder(settings: Settings, is_replay: bool, summary: SessionSummary):
    """Make the data folder; the saved calibration in it, if one can be read (else None)."""
    station = settings.station
    try:
        station.data_path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError(f"cannot make the data folder {station.data_path}: {error.strerror or error}") from None
    calibration = existing_calibration(station.calibration_path, replay=is_replay)
    if calibration is not None:
        summary.calibration = f"file {station.calibration_path}"
    return calibration


def _workers(station, publisher, feedback: Feedback, speech_enabled: Callable[[], bool] | None):
    """(commands, notifier, live, store, voice): the camera thread's queue of commands (the button's, the dashboard's,
    the store's targets) and the threads that serve it, not started yet; the voice (None with speech off) hears the
    live events."""
    commands: queue.SimpleQueue = queue.SimpleQueue()
    voice = open_voice(station, enabled=speech_enabled)
    live = LiveWorker(publisher, feedback, commands, listeners=() if voice is None else (voice.hear,))
    store = StoreWorker(station.database_path, live, on_targets=lambda patient_id, targets: commands.put(
        ("targets", {"patient_id": patient_id, "targets": targets})))
    return commands, Notifier(), live, store, voice


def _start_workers(feedback: Feedback, live: LiveWorker, store: StoreWorker, summary: SessionSummary,
                   pin_factory) -> None:
    """Amber lamp, the live feed's thread, the store (what a stopped station left is put right first)."""
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


def _run_camera_until_stopped(loop: _CameraLoop, notifier: Notifier, stop_event: threading.Event,
                              deadline: float | None, summary: SessionSummary) -> None:
    """Run the camera thread until its source ends, ``stop_event`` is set or the ``deadline`` (monotonic) passes."""
    camera = threading.Thread(target=loop.run, name="session-camera", daemon=True)
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


def _stop_workers(feedback: Feedback, live: LiveWorker, store: StoreWorker, notifier: Notifier,
                  voice: CueVoice | None, summary: SessionSummary) -> None:
    """Let the store, the live feed and the voice finish, turn the lamps off, and note what they did in ``summary``."""
    feedback.on_start_pause = None
    feedback.on_end = None
    store.stop()
    live.stop()
    if voice is not None:
        voice.close()
    notifier.close()
    feedback.close()
    summary.snapshots_dropped = live.snapshots_dropped
    summary.store_failures = store.failures
    summary.reps_not_stored, summary.journal = store.reps_not_stored, store.journal
    summary.session_ids = list(store.session_ids)
    if store.session_ids:
        summary.session_id = store.session_ids[-1]


def _source_opener(settings: Settings, replay, real_time: bool, source, back_replay=None):
    """(open, label, is_replay, back): the frame source the session reads; ``back`` names the camera above, or None.

    Two cameras, when ``[setup] back_camera_serial`` is set (live) or a
    replayed recording has its camera above's beside it or named
    (``back_replay``): ``open`` then gives a tolerant
    :class:`~station.camera_pair.SourcePair`.
    """
    setup = settings.setup
    if source is not None:  # a test's or benchmark's: a pair when it names its camera above (``back_label``)
        return source, getattr(source, "label", "the frame source"), False, getattr(source, "back_label", None)
    if replay is not None:
        path = Path(replay)
        if back_replay is not None:  # named: it must be there, said before anything starts
            require_back_recording(back_replay)
        back_path = Path(back_replay) if back_replay is not None else back_recording_path(path)
        if back_replay is None and not back_path.is_file():
            return (lambda: open_recording(path, real_time=real_time, filters=settings.filters),
                    f"recording {path}", True, None)
        return (lambda: open_recording_pair(path, back_path, tolerant=True, hardware_sync=setup.hardware_sync,
                                            real_time=real_time, filters=settings.filters),
                f"recording {path}", True, str(back_path))
    camera = settings.camera
    label = f"camera {camera.serial}" if camera.serial else "camera"
    if setup.back_camera_serial is not None:
        return (lambda: open_camera_pair(camera, setup.back_camera_serial, filters=settings.filters,
                                         hardware_sync=setup.hardware_sync, retry_s=RETRY_S),
                label, False, f"camera {setup.back_camera_serial}")
    return (lambda: open_camera(serial=camera.serial, width=camera.width, height=camera.height, fps=camera.fps,
                                filters=settings.filters, frame_timeout_s=camera.frame_timeout_s),
            label, False, None)


def _back_phase(settings: Settings, back: str | None, is_replay: bool) -> BackPhase | None:
    """The camera above's phase (two cameras), or None with one camera."""
    if back is None:
        return None
    setup = settings.setup
    # A replayed pair is the pair side+wall-above whatever the settings' placement (they may be a one-camera station's).
    placement = setup.placement if setup.two_cameras else "side+wall-above"
    checked, sentence = back_check(placement, setup.drill_variant)
    reason = None if checked else sentence.removeprefix(f"{BACK_NOT_CHECKED}: ")
    return BackPhase(settings.station.above_calibration_path, replay=is_replay, label=f"the camera above ({back})",
                     setup_reason=reason)
