"""The live events: what the station tells the dashboard and the kiosk as it happens.

Each event is a frozen dataclass with one serialisation, :meth:`LiveEvent.as_dict`:
``{"type": TYPE, field: value, ...}``, the dict a publisher (``web.live.LiveFeed``)
sends on as JSON. :data:`EVENT_FIELDS` lists every type and the fields it carries;
the web's readers (``web/kiosk/view.py`` and ``web/static/live.js``) are tested
against it, so a field renamed here is a field renamed there. The feed adds
``seq`` and ``time`` (:data:`STAMPED_FIELDS`) to each event it sends.

Times are session seconds (``t_s``), gaps millimetres, angles degrees.
Fields listed in a class's ``OMIT_WHEN_NONE`` are left out while None: said only
when they apply (a trouble's ``reason``, a journal's path).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import ClassVar

__all__ = ["COMMANDS", "EVENT_FIELDS", "STAMPED_FIELDS", "CommandEvent", "FrameEvent", "KioskRosterEvent", "LightsEvent",
           "LiveEvent", "PatientEvent", "RepEvent", "RepIgnoredEvent", "RepSavedEvent", "RepStartedEvent",
           "SessionEvent", "SetCompleteEvent", "StationEvent", "StorageEvent", "TouchedEvent"]

#: The commands a clinician can send the station (``web.live.LiveFeed.command``, taken by the session), and the
#: fields each takes besides who asked.
COMMANDS = {"start": ("patient_id",), "pause": (), "end": (), "assign": ("patient_id",)}

#: Added by the live feed to every event it sends: its number in this process, and UTC ISO 8601.
STAMPED_FIELDS = ("seq", "time")


@dataclass(frozen=True)
class LiveEvent:
    """Base of the live events: a ``TYPE`` and the fields of the subclass."""

    TYPE: ClassVar[str] = ""
    OMIT_WHEN_NONE: ClassVar[tuple[str, ...]] = ()

    def as_dict(self) -> dict:
        """The event as the feed sends it: ``{"type": TYPE, ...fields}``."""
        out = {"type": self.TYPE}
        for item in fields(self):
            value = getattr(self, item.name)
            if value is None and item.name in self.OMIT_WHEN_NONE:
                continue
            out[item.name] = value
        return out


@dataclass(frozen=True)
class StationEvent(LiveEvent):
    """The station's own state: ``getting_ready``, ``ready`` or ``trouble`` (with its ``reason``)."""

    TYPE: ClassVar[str] = "station"
    OMIT_WHEN_NONE: ClassVar[tuple[str, ...]] = ("reason",)
    state: str
    reason: str | None = None


@dataclass(frozen=True)
class StorageEvent(LiveEvent):
    """The database: ``failing`` (retrying), ``ok`` (again), ``journal`` (reps kept in a file) or ``lost``."""

    TYPE: ClassVar[str] = "storage"
    OMIT_WHEN_NONE: ClassVar[tuple[str, ...]] = ("reason", "journal", "reps")
    state: str
    message: str
    reason: str | None = None
    journal: str | None = None
    reps: int | None = None


@dataclass(frozen=True)
class SessionEvent(LiveEvent):
    """What the session is doing (``idle``, ``running``, ``paused``, ``ended``), with the set's counts and targets."""

    TYPE: ClassVar[str] = "session"
    state: str
    session_id: int | None
    patient_id: int | None
    set_number: int | None
    reps_in_set: int
    good_reps_in_set: int
    reps_per_set: int
    sets: int
    touch_tolerance_mm: float
    completed_sets: int
    source: str


@dataclass(frozen=True)
class PatientEvent(LiveEvent):
    """A patient arrived at the drill spot (``present``) or left it."""

    TYPE: ClassVar[str] = "patient"
    present: bool
    t_s: float


@dataclass(frozen=True)
class RepStartedEvent(LiveEvent):
    """A rep began; ``counted`` if a running set counts it."""

    TYPE: ClassVar[str] = "rep_started"
    t_s: float
    counted: bool


@dataclass(frozen=True)
class TouchedEvent(LiveEvent):
    """The buttocks reached the wall (``wall_gap_mm`` within the tolerance); ``counted`` as for the rep."""

    TYPE: ClassVar[str] = "touched"
    t_s: float
    wall_gap_mm: float
    counted: bool


@dataclass(frozen=True)
class RepEvent(LiveEvent):
    """A counted rep ended: ``rep`` is ``Rep.as_dict()`` with its index in the set; ``good`` by the targets."""

    TYPE: ClassVar[str] = "rep"
    t_s: float
    session_id: int | None
    set_number: int
    rep: dict
    good: bool


@dataclass(frozen=True)
class RepIgnoredEvent(LiveEvent):
    """A rep ended that no set counts (``reason``)."""

    TYPE: ClassVar[str] = "rep_ignored"
    t_s: float
    reason: str


@dataclass(frozen=True)
class RepSavedEvent(LiveEvent):
    """The store wrote a rep (its ``rep_id``)."""

    TYPE: ClassVar[str] = "rep_saved"
    session_id: int | None
    set_number: int
    index: int
    rep_id: int


@dataclass(frozen=True)
class SetCompleteEvent(LiveEvent):
    """The set's good reps reached the target."""

    TYPE: ClassVar[str] = "set_complete"
    set_number: int
    good_reps: int
    completed_sets: int
    ready_to_progress: bool


@dataclass(frozen=True)
class LightsEvent(LiveEvent):
    """The lamps changed to ``pattern`` (a name of :data:`station.lamps.LAMP_PATTERNS`); ``lights`` is
    :meth:`station.feedback.Feedback.state`, filled in as the event is published."""

    TYPE: ClassVar[str] = "lights"
    OMIT_WHEN_NONE: ClassVar[tuple[str, ...]] = ("lights",)
    pattern: str
    lights: dict | None = None


@dataclass(frozen=True)
class FrameEvent(LiveEvent):
    """A snapshot of the frame loop (about 10 a second): its phase, the set, and the measures when measured.

    ``measures`` is :func:`station.frame_step.frame_record` (``t_s``, ``present``,
    ``confidence``, ``wall_gap_mm``, ``trunk_angle_deg``, ``knee_flexion_deg``,
    ``spine_flexion_deg``), sent as fields of the event itself; None before
    the station measures.
    """

    TYPE: ClassVar[str] = "frame"
    OMIT_WHEN_NONE: ClassVar[tuple[str, ...]] = ("lights",)
    #: The fields ``measures`` adds when present.
    MEASURE_FIELDS: ClassVar[tuple[str, ...]] = ("present", "confidence", "wall_gap_mm", "trunk_angle_deg",
                                                 "knee_flexion_deg", "spine_flexion_deg")
    t_s: float
    phase: str
    trouble: str | None
    set_number: int | None
    set_state: str | None
    reps_in_set: int
    measures: dict | None = None
    lights: dict | None = None

    def as_dict(self) -> dict:
        out = super().as_dict()
        measures = out.pop("measures")
        if measures is not None:
            out.update(measures)
        return out


@dataclass(frozen=True)
class CommandEvent(LiveEvent):
    """A clinician asked the station to ``start``, ``pause``, ``end`` or ``assign`` (published by the web)."""

    TYPE: ClassVar[str] = "command"
    OMIT_WHEN_NONE: ClassVar[tuple[str, ...]] = ()
    command: str
    by: str
    patient_id: int | None = None

    def as_dict(self) -> dict:
        out = super().as_dict()
        if "patient_id" not in COMMANDS.get(self.command, ()):
            del out["patient_id"]  # only the commands that name a patient carry one
        return out


@dataclass(frozen=True)
class KioskRosterEvent(LiveEvent):
    """The clinician changed the class roster (published by the web): kiosks fetch it again."""

    TYPE: ClassVar[str] = "kiosk_roster"
    version: int


def _fields_of(cls) -> tuple[str, ...]:
    names = tuple(item.name for item in fields(cls) if item.name != "measures")
    return names + getattr(cls, "MEASURE_FIELDS", ())


#: Every event type and the fields it carries (besides ``type`` and :data:`STAMPED_FIELDS`).
EVENT_FIELDS = {cls.TYPE: _fields_of(cls) for cls in (
    StationEvent, StorageEvent, SessionEvent, PatientEvent, RepStartedEvent, TouchedEvent, RepEvent,
    RepIgnoredEvent, RepSavedEvent, SetCompleteEvent, LightsEvent, FrameEvent, CommandEvent, KioskRosterEvent)}
