"""The set and participant rules of a live session: a state machine over the rep detector's events and commands.

:class:`SetRules` decides when a set starts, pauses, resumes and ends, which
rep counts in which set, when a set is complete, who the participant is
and whose limits judge the reps, which lamp the station rests on, and what
the live feed and the store are told. It does no I/O and starts no thread:
everything it decides goes out through an :class:`Effects` object (the
camera loop's, which calls the lamps, queues store work and publishes; a
test's, which records), so the rules can be tested on hand-built event
streams, as the rep detector is.

Sets
----
A set starts when a patient arrives and no set is running, when a patient
at the spot begins a rep and no set is running (after a completed or ended
set), or with a start command (a short press of the button). ``start_pause``
pauses and resumes it (reps while paused are not counted: no sound, not
stored); ``end`` ends it, and so does the patient leaving. When the set's
good reps reach ``targets.reps_per_set`` the set is complete: fanfare and
the set ends.

Participants
------------
Until the dashboard or the kiosk says who is at the wall (``assign``, or
``start`` with a patient), the session is a guest's. Before any set, an
assignment names the session's patient; after sets, it ends the session and
opens a new one for the next participant, so each patient's sets stay
theirs. Once the store has sent a participant's targets (``targets``), their
limits judge the reps.
"""

from __future__ import annotations

import datetime as _dt
import logging
from dataclasses import dataclass
from typing import Protocol

from station.events import (LiveEvent, PatientEvent, RepEvent, RepIgnoredEvent, RepStartedEvent, SessionEvent,
                            SetCompleteEvent, TouchedEvent)
from station.hidden_spans import HiddenSpan, HiddenSpans
from station.patient_targets import limits_record, patient_limits, patient_targets
from station.reps import PatientArrived, PatientLeft, RepDetector, RepDone, RepReturned, RepStarted, Touched
from station.scoring import SetProgress, is_good_rep

__all__ = ["Effects", "SetRules"]

log = logging.getLogger("station.session")

_REP_FLOATS = ("start_s", "bottom_s", "end_s", "min_wall_gap_mm", "peak_trunk_angle_deg", "peak_knee_flexion_deg",
               "peak_spine_flexion_deg", "descent_s", "hold_s", "ascent_s", "return_trunk_angle_deg")


class Effects(Protocol):
    """Where the rules' decisions go (the camera loop in the station; a recorder in the tests)."""

    source: str  #: the camera or recording, for session events

    def session_id(self) -> int | None:
        """The store's current session, None before it has one."""

    def now(self) -> _dt.datetime:
        """The wall-clock time (UTC) the store records."""

    def lamp(self, name: str, *args) -> None:
        """Call the feedback's ``name`` (``touched``, ``rep_done``, ``set_complete``...) now."""

    def base_lamp(self, name: str) -> None:
        """The lamps the station rests on (``ready``, ``patient_detected``, ``paused``), unless trouble shows."""

    def publish(self, event: LiveEvent) -> None:
        """An event for the live feed."""

    def store(self, kind: str, **fields) -> None:
        """Work for the store (``start_set``, ``add_rep``, ``switch_session``...), queued."""

    def status(self, text: str) -> None:
        """A one-line status for systemd."""

    def new_session(self, patient_id: int | None, event: SessionEvent) -> None:
        """End the store's session and open one for the next participant; publish ``event`` with its id."""


@dataclass
class _Set:
    number: int
    state: str = "running"  # running, paused, ended
    reps: int = 0
    good_reps: int = 0


class SetRules:
    """The set and participant rules; see the module's docs.

    Parameters
    ----------
    settings : station.settings.Settings
        The station's limits (``thresholds``), targets and rep settings, used for a guest.
    detector : RepDetector
        Whose ``thresholds`` follow the participant's limits, and whose
        last rep is settled when the next participant is up.
    effects : Effects
    summary : object with ``sets`` (int) and ``reps`` (list)
        Counts the sets started and keeps each rep handed to the store.
    """

    def __init__(self, settings, detector: RepDetector, effects: Effects, summary):
        self.settings = settings
        self._detector = detector
        self._out = effects
        self._summary = summary
        # The limits and targets the reps are judged with: the station's for a guest,
        # the participant's own once the store has sent them (see use_targets).
        self.limits = settings.thresholds
        self.targets = settings.targets
        self._progress = SetProgress(self.targets)
        self.started = False  # the store has opened the session: sets may run
        self._session_sets = 0
        self.patient_id: int | None = None
        self.present = False
        self.set: _Set | None = None
        self._rep_owner: tuple[int, _Set | None] | None = None  # (detector index, set it counts in)
        self._stored_rep: tuple | None = None  # (detector index, set number, index in set, summary row)
        self._set_needs_patient = False
        self._hiding = HiddenSpans()  # the running set's patient there but hidden (station.hidden_spans)

    # -- the detector's events

    def on_event(self, event) -> None:
        """Take one of the rep detector's events."""
        if isinstance(event, Touched):
            counts = self._counting(event.index)
            if counts:
                self._out.lamp("touched")
            self._out.publish(TouchedEvent(event.t_s, wall_gap_mm=round(float(event.wall_gap_mm), 1), counted=counts))
        elif isinstance(event, RepDone):
            self._rep_done(event)
        elif isinstance(event, RepReturned):
            self._rep_returned(event)
        elif isinstance(event, RepStarted):
            if self.set is None and self.present:
                self._start_set("a rep began")
            owner = self.set if self.set is not None and self.set.state == "running" else None
            self._rep_owner = (event.index, owner)
            self._out.publish(RepStartedEvent(event.t_s, counted=owner is not None))
        elif isinstance(event, PatientArrived):
            self.present = True
            self._set_needs_patient = False
            self._out.publish(PatientEvent(present=True, t_s=event.t_s))
            if self.set is None:
                self._start_set("the patient arrived")
            self.base_lamps()
        elif isinstance(event, PatientLeft):
            self.present = False
            self._out.publish(PatientEvent(present=False, t_s=event.t_s))
            if self.set is not None:
                self._end_set("the patient left")
            self.base_lamps()

    def _counting(self, index: int) -> bool:
        owner = self._rep_owner[1] if self._rep_owner and self._rep_owner[0] == index else None
        return owner is not None and owner.state == "running"

    def _rep_done(self, event: RepDone) -> None:
        rep = event.rep
        owner = self._rep_owner[1] if self._rep_owner and self._rep_owner[0] == rep.index else None
        self._rep_owner = None
        if owner is None or owner.state == "paused":
            self._out.publish(RepIgnoredEvent(event.t_s, reason="no set running"))
            return
        owner.reps += 1
        record = rep.as_dict()
        record.update({name: getattr(rep, name) for name in _REP_FLOATS})
        record.update(index=owner.reps, good=is_good_rep(rep, self.targets),
                      limits=limits_record(self._detector.thresholds, self.targets.target_trunk_angle_deg))
        self._out.store("add_rep", number=owner.number, rep=record, series=rep.series, recorded=self._out.now())
        self._summary.reps.append({**record, "set_number": owner.number})
        self._stored_rep = (rep.index, owner.number, owner.reps, self._summary.reps[-1])
        if rep.faults or record["good"]:
            self._out.lamp("rep_done", list(rep.faults))
        # else neither good nor faulted (short of the target, or the bottom out of sight): the lamps
        # neither praise nor correct it, and stay as they were.
        shown = rep.as_dict()
        shown["index"] = owner.reps
        self._out.publish(RepEvent(event.t_s, session_id=self._out.session_id(), set_number=owner.number, rep=shown,
                                   good=record["good"]))
        if owner is self.set:
            complete = self._progress.add(rep)
            owner.good_reps = self._progress.good_reps
            if complete:
                self._out.lamp("set_complete")
                self._out.publish(SetCompleteEvent(set_number=owner.number, good_reps=owner.good_reps,
                                                   completed_sets=self._progress.completed_sets,
                                                   ready_to_progress=self._progress.ready_to_progress))
                self._end_set("complete")
            else:
                self.publish_session(self._session_state())

    def _rep_returned(self, event: RepReturned) -> None:
        """How close to standing the last stored rep came back, and when it got there: into the store with it."""
        if self._stored_rep is None or self._stored_rep[0] != event.index:
            return  # a rep that was not stored (no set running)
        _, number, index, row = self._stored_rep
        self._stored_rep = None
        row.update(return_trunk_angle_deg=event.return_trunk_angle_deg, end_s=event.end_s, ascent_s=event.ascent_s)
        self._out.store("rep_return", number=number, index=index,
                        return_trunk_angle_deg=event.return_trunk_angle_deg, end_s=event.end_s, ascent_s=event.ascent_s)

    # -- the camera

    def after_frame(self, t: float, resumed_t: float, hidden_reason: str | None = None) -> None:
        """A measured frame at ``t`` (s), its patient hidden for ``hidden_reason`` (None: in view or not there).

        While a set runs, the spans its patient was hidden go to the store with it. After a camera loss
        (frames again since ``resumed_t``), a set whose patient has not come back within the detector's
        ``max_absent_s`` ends.
        """
        running = self.set is not None and self.set.state == "running"
        if running or self._hiding.open:
            self._store_hidden(self._hiding.update(t, hidden_reason) if running else self._hiding.close())
        if (self._set_needs_patient and not self.present and self.set is not None
                and t - resumed_t > self.settings.reps.max_absent_s):
            self._set_needs_patient = False
            self._end_set("the patient was gone when the camera came back")
            self.base_lamps()

    def camera_lost(self) -> None:
        """The camera stopped (the detector's last events taken already): nobody is seen until it is back."""
        self.present = False
        self._set_needs_patient = self.set is not None
        self._store_hidden(self._hiding.close())

    def _store_hidden(self, span: HiddenSpan | None) -> None:
        """A span the running set's patient was hidden (it ended, or the set did): into the store with the set."""
        if span is not None and self.set is not None:
            self._out.store("hidden_span", number=self.set.number, **span.as_dict())
            log.info("set %d: the patient was hidden from %.1f s to %.1f s (%s)", self.set.number, span.start_s,
                     span.end_s, span.reason)

    # -- sets

    def _start_set(self, why: str) -> None:
        self._summary.sets += 1
        self._session_sets += 1
        self.set = _Set(self._session_sets)
        self._progress.new_set()
        self._out.store("start_set", number=self.set.number, started=self._out.now())
        log.info("set %d started: %s", self.set.number, why)
        self._out.status(f"session {self._out.session_id()}: set {self.set.number} running")
        self.publish_session("running")

    def _end_set(self, why: str) -> None:
        self._store_hidden(self._hiding.close())
        ended, self.set = self.set, None
        ended.state = "ended"
        self._out.store("end_set", number=ended.number, ended=self._out.now())
        log.info("set %d ended (%s): %d reps, %d good", ended.number, why, ended.reps, ended.good_reps)
        self._out.status(f"session {self._out.session_id()}: set {ended.number} ended, {ended.reps} reps")
        self.publish_session("idle", ended=ended)

    # -- commands

    def command(self, kind: str, details: dict | None = None, *, last_t: float | None = None) -> None:
        """A command: ``start_pause`` and ``end`` (the button), ``web`` (the dashboard's or the kiosk's, in
        ``details``) or ``targets`` (the store's answer for a participant). ``last_t`` is the last frame's time."""
        if kind == "targets":
            self.use_targets(details["patient_id"], details["targets"])
            return
        if kind == "web":
            name = details.get("command")
            if name == "assign" or (name == "start" and details.get("patient_id") is not None):
                self._assign(details.get("patient_id"), last_t)
            if name == "start" and (self.set is None or self.set.state == "paused"):
                kind = "start_pause"
            elif name == "pause" and self.set is not None and self.set.state == "running":
                kind = "start_pause"
            elif name == "end":
                kind = "end"
            else:
                return
        if not self.started:
            return  # nothing to start, pause or end before the station is ready
        if kind == "end":
            if self.set is not None:
                self._end_set("ended by the button")
                self.base_lamps()
        elif kind == "start_pause":
            if self.set is None:
                self._start_set("started by the button")
            elif self.set.state == "running":
                self.set.state = "paused"
                log.info("set %d paused", self.set.number)
                self.publish_session("paused")
            else:
                self.set.state = "running"
                log.info("set %d resumed", self.set.number)
                self.publish_session("running")
            self.base_lamps()

    def use_targets(self, patient_id: int | None, targets: dict | None) -> None:
        """Judge the reps from now on with this participant's limits and targets (if they are still up)."""
        if patient_id != self.patient_id:
            return  # someone else was assigned meanwhile: their targets are on their way
        try:
            limits = patient_limits(targets, self.settings.thresholds)
            chosen = patient_targets(targets, self.settings.targets)
        except ValueError as error:  # the store checks targets, so only a damaged row gets here
            log.error("patient %s's targets cannot be used (%s): the station's are used instead", patient_id, error)
            limits, chosen = self.settings.thresholds, self.settings.targets
        self.limits, self.targets = limits, chosen
        self._detector.thresholds = limits
        self._progress.targets = chosen
        log.info("%s: touch within %g mm, knee bend up to %g°, down in at least %g s, back within %g° of standing, "
                 "%d good reps a set", "a guest, the station's limits" if patient_id is None
                 else f"patient {patient_id}'s limits", limits.touch_tolerance_mm, limits.max_knee_flexion_deg,
                 limits.min_descent_s, limits.upright_angle_deg, chosen.reps_per_set)
        self.publish_session(self._session_state())

    def _session_state(self) -> str:
        if self.set is None:
            return "idle"
        return "paused" if self.set.state == "paused" else "running"

    def _assign(self, patient_id: int | None, last_t: float | None) -> None:
        """Who is at the wall: this session's patient, or (after sets) a new session for the next one."""
        if patient_id == self.patient_id:
            return
        if not self.started or self._session_sets == 0:
            self.patient_id = patient_id
            if self.started:
                self._out.store("assign", patient_id=patient_id)
                log.info("the session's patient: %s", patient_id)
                self.publish_session("idle")
            return
        if last_t is not None:
            for event in self._detector.settle(last_t):  # the last rep's return, with its own set
                self.on_event(event)
        if self.set is not None:
            self._end_set("the next participant is up")
        self._rep_owner = None  # a rep under way belongs to nobody's set now
        self.patient_id, self._session_sets = patient_id, 0
        self._progress = SetProgress(self.targets)
        log.info("the next participant (patient %s): a new session", patient_id)
        self._out.new_session(patient_id, self.session_event("idle"))

    # -- lamps and the live feed

    def base_lamps(self) -> None:
        """The lamps for the state the station is in (the effects leave them while trouble shows)."""
        if self.set is not None and self.set.state == "paused":
            self._out.base_lamp("paused")
        elif self.set is not None and self.present:
            self._out.base_lamp("patient_detected")
        else:
            self._out.base_lamp("ready")

    def publish_session(self, state: str, *, ended: _Set | None = None) -> None:
        self._out.publish(self.session_event(state, ended=ended))

    def session_event(self, state: str, *, ended: _Set | None = None) -> SessionEvent:
        current = ended or self.set
        return SessionEvent(state=state, session_id=self._out.session_id(), patient_id=self.patient_id,
                            set_number=current.number if current else None,
                            reps_in_set=current.reps if current else 0,
                            good_reps_in_set=current.good_reps if current else 0,
                            reps_per_set=self.targets.reps_per_set, sets=self.targets.sets,
                            touch_tolerance_mm=self.limits.touch_tolerance_mm,
                            completed_sets=self._progress.completed_sets, source=self._out.source)

    # -- the end

    def finish(self) -> None:
        """The session ends (the detector's last events taken already)."""
        if self.set is not None:
            self._end_set("the session ended")
        if self.started:
            self._out.store("end_session", ended=self._out.now())
            self.publish_session("ended")
