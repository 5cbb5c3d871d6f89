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
from typing import ClassVar, dataclass_transform

__all__ = ["COMMANDS", "EVENT_FIELDS", "STAMPED_FIELDS", "TimedEvent", "CommandEvent", "FrameEvent", "KioskRosterEvent", "LightsEvent",
           "LiveEvent", "PatientEvent", "RepEvent", "RepIgnoredEvent", "RepSavedEvent", "RepStartedEvent",
           "SessionEvent", "SetCompleteEvent", "StationEvent", "StorageEvent", "TouchedEvent"]

#: The commands a clinician can send the station (``web.live.LiveFeed.command``, taken by the session), and the
#: fields each takes besides who asked.
COMMANDS = {"start": ("patient_id",), "pause": (), "end": (), "assign": ("patient_id",)}

#: Added by the live feed to every event it sends: its number in this process, and UTC ISO 8601.
STAMPED_FIELDS = ("seq", "time")


@dataclass_transform()
class LiveEvent:
    """Base of the live events. A subclass names its type in its class line and lists its fields::

        class PatientEvent(LiveEvent, type="patient"):
            present: bool

    and becomes a frozen dataclass; ``omit_when_none=(...)`` names the fields
    left out of the serialisation while None.
    """

    TYPE: ClassVar[str] = ""
    OMIT_WHEN_NONE: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, *, type: str | None = None, omit_when_none: tuple[str, ...] = (), **kwargs):
        super().__init_subclass__(**kwargs)
        if type is not None:  # without one, a base of events (TimedEvent)
            cls.TYPE, cls.OMIT_WHEN_NONE = type, omit_when_none
        dataclass(frozen=True)(cls)

    def as_dict(self) -> dict:
        """The event as the feed sends it: ``{"type": TYPE, ...fields}``."""
        out = {"type": self.TYPE}
        for item in fields(self):
            value = getattr(self, item.name)
            if value is None and item.name in self.OMIT_WHEN_NONE:
                continue
            out[item.name] = value
        return out


class TimedEvent(LiveEvent):
    """Base of the events that happened at a moment of the session: ``t_s``, session seconds."""

    t_s: float


class StationEvent(LiveEvent, type="station", omit_when_none=("reason",)):
    """The station's own state: ``getting_ready``, ``ready`` or ``trouble`` (with its ``reason``)."""

    state: str
    reason: str | None = None


class StorageEvent(LiveEvent, type="storage", omit_when_none=("reason", "journal", "reps")):
    """The database: ``failing`` (retrying), ``ok`` (again), ``journal`` (reps kept in a file) or ``lost``."""

    state: str
    message: str
    reason: str | None = None
    journal: str | None = None
    reps: int | None = None


class SessionEvent(LiveEvent, type="session"):
    """What the session is doing (``idle``, ``running``, ``paused``, ``ended``), with the set's counts and targets."""

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


class PatientEvent(TimedEvent, type="patient"):
    """A patient arrived at the drill spot (``present``) or left it."""

    present: bool


class RepStartedEvent(TimedEvent, type="rep_started"):
    """A rep began; ``counted`` if a running set counts it."""

    counted: bool


class TouchedEvent(TimedEvent, type="touched"):
    """The buttocks reached the wall (``wall_gap_mm`` within the tolerance); ``counted`` as for the rep."""

    wall_gap_mm: float
    counted: bool


class RepEvent(TimedEvent, type="rep"):
    """A counted rep ended: ``rep`` is ``Rep.as_dict()`` with its index in the set; ``good`` by the targets."""

    set_number: int
    rep: dict
    good: bool
    session_id: int | None


class RepIgnoredEvent(TimedEvent, type="rep_ignored"):
    """A rep ended that no set counts (``reason``)."""

    reason: str


class RepSavedEvent(LiveEvent, type="rep_saved"):
    """The store wrote a rep (its ``rep_id``)."""

    session_id: int | None
    set_number: int
    index: int
    rep_id: int


class SetCompleteEvent(LiveEvent, type="set_complete"):
    """The set's good reps reached the target."""

    set_number: int
    good_reps: int
    completed_sets: int
    ready_to_progress: bool


class LightsEvent(LiveEvent, type="lights", omit_when_none=("lights",)):
    """The lamps changed to ``pattern`` (a name of :data:`station.lamps.LAMP_PATTERNS`); ``lights`` is
    :meth:`station.feedback.Feedback.state`, filled in as the event is published."""

    pattern: str
    lights: dict | None = None


class FrameEvent(TimedEvent, type="frame", omit_when_none=("lights", "back_checked", "back_reason")):
    """A snapshot of the frame loop (about 10 a second): its phase, the set, and the measures when measured.

    ``measures`` is :func:`station.frame_step.frame_record` (``t_s``, ``present``,
    ``confidence``, ``wall_gap_mm``, ``trunk_angle_deg``, ``knee_flexion_deg``,
    ``spine_flexion_deg``, ``hidden``: why measures are None while the
    patient is there, or None; ``view_note``: why they read less well, or
    None; ``setup_note``: what in the set-up keeps a rep from being told,
    or None), sent as fields of the event itself; None before the station
    measures.

    With a camera above the spot (two cameras), ``back_checked`` says whether
    the back is checked now and ``back_reason`` why not (the camera above
    lost, moved or calibrating, or the set-up's measurement not validated:
    ``station/setup.py``), or, when checked, why this frame has no reading;
    ``spine_flexion_deg`` is then the camera above's reading of the frame,
    shown by the screens only when ``back_checked``. Both left out with one camera.
    """

    #: The fields ``measures`` adds when present.
    MEASURE_FIELDS: ClassVar[tuple[str, ...]] = ("present", "confidence", "wall_gap_mm", "trunk_angle_deg",
                                                 "knee_flexion_deg", "spine_flexion_deg", "hidden", "view_note",
                                                 "setup_note")
    phase: str
    trouble: str | None
    set_number: int | None
    set_state: str | None
    reps_in_set: int
    measures: dict | None = None
    lights: dict | None = None
    back_checked: bool | None = None
    back_reason: str | None = None

    def as_dict(self) -> dict:
        out = super().as_dict()
        measures = out.pop("measures")
        if measures is not None:
            out.update(measures)
        return out


class CommandEvent(LiveEvent, type="command"):
    """A clinician asked the station to ``start``, ``pause``, ``end`` or ``assign`` (published by the web)."""

    command: str
    by: str
    patient_id: int | None = None

    def as_dict(self) -> dict:
        out = super().as_dict()
        if "patient_id" not in COMMANDS.get(self.command, ()):
            del out["patient_id"]  # only the commands that name a patient carry one
        return out


class KioskRosterEvent(LiveEvent, type="kiosk_roster"):
    """The clinician changed the class roster (published by the web): kiosks fetch it again."""

    version: int


def _fields_of(cls) -> tuple[str, ...]:
    names = tuple(item.name for item in fields(cls) if item.name != "measures")
    return names + getattr(cls, "MEASURE_FIELDS", ())


#: Every event type and the fields it carries (besides ``type`` and :data:`STAMPED_FIELDS`).
EVENT_FIELDS = {cls.TYPE: _fields_of(cls) for cls in (
    StationEvent, StorageEvent, SessionEvent, PatientEvent, RepStartedEvent, TouchedEvent, RepEvent,
    RepIgnoredEvent, RepSavedEvent, SetCompleteEvent, LightsEvent, FrameEvent, CommandEvent, KioskRosterEvent)}
