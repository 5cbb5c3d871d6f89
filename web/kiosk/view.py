"""What the kiosk shows, worked out from the live feed's events: pure Python, no Flask, no clock.

The kiosk page only displays; every decision is made here, once, on the
server: which screen (idle, live, set summary, starting, trouble), the rep
count and set progress, how full the wall bar is, which cue to show and
what the station should say. :class:`KioskView` takes the
:class:`~web.live.LiveFeed`'s events one by one (the ``state`` snapshot
first, as a subscription gives it) with the time they arrived, and answers
with messages for the kiosk:

``("view", dict)``
    The whole screen but the per-frame parts, sent when it changes (see
    :meth:`KioskView.view` for the keys).
``("frame", dict)``
    The measures now: ``present``, ``fill`` (0..1, the wall bar),
    ``touching`` (the rep's touch was counted, the pip the station sounds
    for it, and the hips are still at the wall or the touch is a moment
    old), ``at_wall`` (the gap reads within the participant's tolerance,
    touch counted or not: someone standing at the wall has not touched it
    in a rep), ``gap_mm``, ``trunk_deg``, ``lean`` (a word), ``blocked``
    (:data:`BLOCKED_WORDS` while someone in front hides the participant, else
    None), ``back``
    (two cameras only: "Back not checked", or once the back is checked the
    camera above's reading in words; None with one camera).
``("roster", {"version"})``
    The clinician changed the class roster: the kiosk fetches it again.
``("say", {"text"})``
    A phrase for the station's voice (:mod:`web.kiosk.speech`), by the
    rules of :mod:`station.cues`; never sent to the browser.

Only what a participant should see leaves this module: first names from
the roster (through ``names``), counts, cues and the lamps. Patient ids,
codes, scores, clinicians' names and the station's trouble reasons stay in.

Events it reads (:mod:`station.events` lists their fields; ``station.session`` and ``web`` publish them):
``state`` (the snapshot), ``session`` (``state``, ``set_number``,
``reps_in_set``, ``good_reps_in_set``, ``reps_per_set``, and ``sets`` when
present), ``rep`` (``rep``: ``Rep.as_dict()``, ``good``), ``touched``,
``set_complete`` (``good_reps``, ``ready_to_progress``), ``frame``
(``present``, ``wall_gap_mm``, ``trunk_angle_deg``, ``spine_flexion_deg``,
``back_checked``, ``lights``), ``lights``,
``patient`` (``present``), ``station`` (``state``), ``command``
(``assign`` or ``start`` with ``patient_id``) and ``kiosk_roster``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from station.faults import NOT_CHECKED_LABELS, Thresholds, every_fault_judged
from station.lamps import participant_words
from station.scoring import Targets
from station.cues import SET_COMPLETE_PHRASE, CueCoach, rep_phrase

__all__ = ["BLOCKED_WORDS", "LIGHT_LEGEND", "LIGHT_WORDS", "KioskView", "kiosk_name"]

_DEFAULT_TARGETS = Targets()

#: The physical lamps' patterns (``station.lamps``) in words and a symbol, so colour is never the only sign.
LIGHT_WORDS = participant_words()

#: What the lamps and the sounds mean, for the idle screen: (key, lamps lit, the lamps, the sound, the meaning).
#: The lamps are red on top, amber in the middle, green at the bottom (station/feedback.py's table).
LIGHT_LEGEND = (
    ("ready", ("green",), "Green flashes every 2 seconds", "No sound", "Ready: step up to the wall"),
    ("patient_detected", ("green",), "Green glows", "One short beep", "We see you: start when you are ready"),
    ("touched", (), "No change", "A quick high pip", "You touched the wall"),
    ("good_rep", ("green",), "Green, steady", "A rising chime", "A good rep"),
    ("fault_rep", ("red",), "Red, flashing fast", "Two low buzzes", "Not quite: read the tip on the screen"),
    ("rounded_back_rep", ("red", "amber"), "Red, amber in turn", "Three short buzzes", "Keep your back long"),
    ("set_complete", ("red", "amber", "green"), "All three flash", "A little tune", "Set complete: well done!"),
    ("paused", ("amber",), "Amber, steady", "No sound", "Paused"),
    ("getting_ready", ("amber",), "Amber flashing", "No sound", "Getting ready: please wait"),
    ("trouble", ("red",), "Red, steady", "Two falling tones", "Please wait for your coach"),
)

# Trunk angle words for the gauge (degrees from upright).
_LEAN_WORDS = ((10.0, "Upright"), (35.0, "Hinging"), (math.inf, "Hinged"))
# The wall gap standing upright, before the person's own is seen (mm), and its bounds.
_STANDING_GAP_MM, _STANDING_GAP_RANGE = 250.0, (80.0, 500.0)
# Below this trunk angle a frame counts as standing, for the standing gap (degrees).
_UPRIGHT_DEG = 10.0
# Snapshots in a row (about 10 a second) in which the patient stands still, before the lean gauge
# shows: while they walk in and turn round, the side-on trunk measure means nothing. Still: the
# trunk within this many degrees and the hips within this many mm across them (a kyphotic patient
# may stand at 15 degrees, so no absolute angle is asked for).
_SETTLED_FRAMES = 3
_STILL_DEG, _STILL_MM = 4.0, 40.0
#: The wall bar's words while someone stands between the camera and the participant (a frame's
#: ``hidden``: their hips or all of them out of view). The station then counts a rep with its bottom
#: "not seen" and gives it no lamp and no cue, so without these words the screen would go quiet, or
#: tell them to push their hips back on a gap nobody measured. Addressed to whoever is in the way.
BLOCKED_WORDS = "Camera can't see you: please step aside"


def _back_words(event: dict, present: bool) -> str | None:
    """The back's line for a participant (two cameras); why it is not checked stays in, as trouble reasons do."""
    checked = event.get("back_checked")
    if checked is False:
        return NOT_CHECKED_LABELS["back"]
    spine = _number(event.get("spine_flexion_deg"))
    if checked is not True or not present or spine is None:
        return None
    return f"Back bent {max(0, round(spine))}° from standing tall"


def kiosk_name(display_name: str) -> str:
    """First name and initial of a display name, as the kiosk shows it: "Margaret Brown" -> "Margaret B."."""
    words = [word for word in str(display_name).replace(",", " ").split() if word]
    if not words:
        return ""
    if len(words) == 1:
        return words[0][:24]
    return f"{words[0][:24]} {words[-1][0].upper()}."


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def _count(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


class _SetTally:
    """What went well in the set so far, from the reps this view saw.

    ``measured`` counts, per fault, the reps where what decides it was
    measured (the back for ``rounded_back``, the knees for ``squat``, the
    bottom for ``too_fast``): a fault never named because nothing was
    measured is not praise-worthy.
    """

    # What must have been measured in a rep for each fault's absence to mean something.
    # A rep's speed is judged only when its bottom was seen (its descent ends there), which its
    # peak trunk says: None for a bottom someone hid (its descent_s is then an estimate).
    _NEEDS = {"rounded_back": "peak_spine_flexion_deg", "squat": "peak_knee_flexion_deg",
              "too_fast": "peak_trunk_angle_deg", "incomplete_return": "return_trunk_angle_deg"}

    def __init__(self):
        self.reps = self.good = self.touched = 0
        self.faults: dict[str, int] = {}
        self.measured: dict[str, int] = {}

    def add(self, faults, good: bool, touched: bool, rep: dict) -> None:
        self.reps += 1
        self.good += bool(good)
        self.touched += bool(touched)
        for name in faults:
            self.faults[name] = self.faults.get(name, 0) + 1
        for fault, measure in self._NEEDS.items():
            if _number(rep.get(measure)) is not None:
                self.measured[fault] = self.measured.get(fault, 0) + 1

    def clean(self, fault: str) -> bool:
        """No rep showed the fault, and every rep measured what decides it."""
        measured = self.measured.get(fault, 0) if fault in self._NEEDS else self.reps
        return self.reps > 0 and measured == self.reps and not self.faults.get(fault)


class KioskView:
    """The kiosk's screen, from the live feed's events; see the module's docs.

    Parameters
    ----------
    names : callable, optional
        ``names(patient_id)`` -> the kiosk's name for a participant on the
        class roster, or None (someone not on it: no name is shown).
    coach : CueCoach, optional
        The cue rules (a default :class:`~station.cues.CueCoach` if None).
    touch_tolerance_mm : float
        A wall gap within this is a touch until the station says the
        participant's own (``touch_tolerance_mm`` of its ``session`` events,
        from :mod:`station.patient_targets`).
    summary_s : float
        How long the set's summary card stays up, unless a new set or a new
        participant comes first (s).
    touch_flash_s : float
        How long the wall bar stays lit after a counted touch event, when
        the hips have left the wall (s).
    """

    def __init__(self, *, names: Callable[[int], str | None] | None = None, coach: CueCoach | None = None,
                 touch_tolerance_mm: float = Thresholds().touch_tolerance_mm, summary_s: float = 30.0,
                 touch_flash_s: float = 1.5):
        for name, value in (("touch_tolerance_mm", touch_tolerance_mm), ("summary_s", summary_s),
                            ("touch_flash_s", touch_flash_s)):
            if _number(value) is None or not value > 0:
                raise ValueError(f"{name} must be a positive number, not {value!r}")
        self._names = names or (lambda patient_id: None)
        self.coach = coach or CueCoach()
        self._tolerance = float(touch_tolerance_mm)
        self._summary_s = float(summary_s)
        self._touch_flash_s = float(touch_flash_s)
        self._station: str | None = None
        self._session_state: str | None = None
        self._set_number: int | None = None
        self._reps_in_set = 0
        self._good = 0
        self._reps_per_set = _DEFAULT_TARGETS.reps_per_set
        self._sets = _DEFAULT_TARGETS.sets
        self._present = False
        self._participant: str | None = None
        self._participant_id: object = ()  # () = nobody chosen yet; None = a guest
        self._participant_sets = 0
        self._lights: dict | None = None
        self._tally = _SetTally()
        # Sets are told apart by (session id, set number): each participant's session numbers its sets from 1.
        self._tally_set: tuple | None = None
        self._session_id: object = None
        self._summary: dict | None = None
        self._summary_set: tuple | None = None
        self._still: list[tuple[float, float]] = []  # the last (trunk, gap) while present, until settled
        self._settled = False  # the patient has stood still at the wall since arriving
        self._summary_until = -math.inf
        self._touch_until = -math.inf
        self._touch_held = False  # a counted touch, the hips at the wall since
        self._standing_gap = _STANDING_GAP_MM
        self._sent: dict | None = None

    # -- events in, messages out

    def apply(self, kind: str, event: dict, now: float) -> list[tuple[str, dict]]:
        """Take one event (``kind`` is its type; ``state`` for the snapshot) that arrived at ``now``."""
        out: list[tuple[str, dict]] = []
        if not isinstance(event, dict):
            return out
        handler = getattr(self, f"_on_{kind}", None) if kind.isidentifier() else None
        if handler is not None:
            handler(event, now, out)
        out.extend(self._view_if_changed(now))
        return out

    def tick(self, now: float) -> list[tuple[str, dict]]:
        """Nothing happened until ``now``: the view, if a cue faded or a summary ran out."""
        return self._view_if_changed(now)

    def _view_if_changed(self, now: float) -> list[tuple[str, dict]]:
        view = self.view(now)
        if view == self._sent:
            return []
        self._sent = view
        return [("view", view)]

    def _on_state(self, snapshot: dict, now: float, out: list) -> None:
        latest = snapshot.get("latest") if isinstance(snapshot.get("latest"), dict) else {}
        station = latest.get("station")
        if isinstance(station, dict):
            self._on_station(station, now, out)
        command = latest.get("command")
        if isinstance(command, dict):
            self._on_command(command, now, out)
        session = snapshot.get("session")
        if isinstance(session, dict):
            self._on_session(session, now, out)
            if session.get("state") in ("running", "paused"):
                self._participant_sets = max(self._participant_sets, 1)
        patient = latest.get("patient")
        if isinstance(patient, dict):
            self._on_patient(patient, now, out)
        if isinstance(snapshot.get("lights"), dict):
            self._lights = snapshot["lights"]
        frame = latest.get("frame")
        if isinstance(frame, dict):
            self._on_frame(frame, now, out)

    def _on_station(self, event: dict, now: float, out: list) -> None:
        state = event.get("state")
        if isinstance(state, str):
            self._station = state

    def _on_patient(self, event: dict, now: float, out: list) -> None:
        if isinstance(event.get("present"), bool):
            self._present = event["present"]
            if not self._present:
                self._still, self._settled = [], False

    def _on_lights(self, event: dict, now: float, out: list) -> None:
        if isinstance(event.get("lights"), dict):
            self._lights = event["lights"]

    def _on_kiosk_roster(self, event: dict, now: float, out: list) -> None:
        out.append(("roster", {"version": _count(event.get("version"))}))

    def _on_command(self, event: dict, now: float, out: list) -> None:
        name = event.get("command")
        if "patient_id" not in event or name not in ("assign", "start"):
            return
        patient_id = event["patient_id"]
        if name == "start" and patient_id is None:
            return  # "start as a guest, assign later" from the dashboard: whoever was chosen stays
        if patient_id is not None and (isinstance(patient_id, bool) or not isinstance(patient_id, int)):
            return
        shown = "Guest" if patient_id is None else self._names(patient_id)
        if patient_id == self._participant_id and shown == self._participant:
            return
        self._participant_id, self._participant = patient_id, shown
        # A set already under way when the name was tapped is their first.
        self._participant_sets = 1 if self._session_state in ("running", "paused") else 0
        self.coach.reset()
        self._summary, self._summary_until = None, -math.inf
        self._tally_set = self._summary_set = None

    def _on_session(self, event: dict, now: float, out: list) -> None:
        state = event.get("state")
        if not isinstance(state, str):
            return
        previous = self._session_state
        self._session_state = state
        number = _count(event.get("set_number"))
        if event.get("session_id") != self._session_id:
            self._session_id = event.get("session_id")
        key = None if number is None else (self._session_id, number)
        for name, attribute in (("reps_per_set", "_reps_per_set"), ("sets", "_sets")):
            value = _count(event.get(name))
            if value:
                setattr(self, attribute, value)
        tolerance = _number(event.get("touch_tolerance_mm"))
        if tolerance is not None and tolerance > 0:
            self._tolerance = tolerance  # the participant's own, as the station judges them
        if state in ("running", "paused"):
            if key is not None and key != self._tally_set:
                # A new set: a fresh tally, and the last set's summary makes way.
                self._tally, self._tally_set = _SetTally(), key
                self._participant_sets += 1
                self._summary, self._summary_until = None, -math.inf
            self._set_number = number
            self._reps_in_set = _count(event.get("reps_in_set")) or 0
            self._good = _count(event.get("good_reps_in_set")) or 0
        elif state in ("idle", "ended"):
            if previous in ("running", "paused") and key is not None and key == self._tally_set:
                # The station's own counts of the set that ended: the tally may have missed reps.
                self._reps_in_set = _count(event.get("reps_in_set")) or self._reps_in_set
                self._good = _count(event.get("good_reps_in_set")) or 0
                if self._summary_set != key and self._reps_in_set > 0:
                    self._summarise(key, complete=False, ready=False, now=now)
            self._set_number = None

    def _on_rep(self, event: dict, now: float, out: list) -> None:
        rep = event.get("rep")
        if not isinstance(rep, dict):
            return
        faults = [name for name in rep.get("faults") or () if isinstance(name, str)]
        good = event.get("good")
        good = not faults if not isinstance(good, bool) else good
        self._tally.add(faults, good, bool(rep.get("touched")), rep)
        self._reps_in_set += 1
        if good:
            self._good += 1
        phrase = rep_phrase(self.coach.after_rep(faults, now, good, every_fault_judged(rep)), good, self._good)
        if phrase is not None:
            out.append(("say", {"text": phrase}))

    def _on_set_complete(self, event: dict, now: float, out: list) -> None:
        number = _count(event.get("set_number"))
        good = _count(event.get("good_reps"))
        if good is not None:
            self._good = good
        key = None if number is None else (self._session_id, number)
        self._summarise(key, complete=True, ready=event.get("ready_to_progress") is True, now=now)
        out.append(("say", {"text": SET_COMPLETE_PHRASE}))

    def _on_touched(self, event: dict, now: float, out: list) -> None:
        if event.get("counted", True):
            self._touch_until = now + self._touch_flash_s
            self._touch_held = True

    def _on_frame(self, event: dict, now: float, out: list) -> None:
        if isinstance(event.get("lights"), dict):
            self._lights = event["lights"]
        present = event.get("present")
        if isinstance(present, bool):
            self._present = present
        # Someone in front: the trunk read is of what they leave in view (station.reps), so no lean is shown.
        blocked = bool(present) and isinstance(event.get("hidden"), str)
        gap = _number(event.get("wall_gap_mm"))
        trunk = None if blocked else _number(event.get("trunk_angle_deg"))
        if present and gap is not None and trunk is not None and abs(trunk) < _UPRIGHT_DEG:
            low, high = _STANDING_GAP_RANGE
            self._standing_gap = min(high, max(low, 0.9 * self._standing_gap + 0.1 * gap))
        if not present:
            self._still, self._settled = [], False
        elif not self._settled:
            self._still = ([*self._still, (trunk, gap)] if trunk is not None and gap is not None else [])[-_SETTLED_FRAMES:]
            trunks, gaps = [item[0] for item in self._still], [item[1] for item in self._still]
            self._settled = (len(self._still) == _SETTLED_FRAMES and max(trunks) - min(trunks) < _STILL_DEG
                             and max(gaps) - min(gaps) < _STILL_MM)
        settled = self._settled
        at_wall = bool(present) and gap is not None and gap <= self._tolerance
        # Only the rep's counted touch (the station's pip) lights the wall: the gap alone at the wall is also
        # a patient standing against it, who has touched nothing in a rep. The light stays while the hips
        # stay at the wall, and for a moment after (a touch seen between two snapshots); the bar shows the gap now.
        self._touch_held = self._touch_held and at_wall
        touching = self._touch_held or now < self._touch_until
        fill = None
        if present and gap is not None:
            span = max(self._standing_gap - self._tolerance, 1.0)
            fill = 1.0 if at_wall else round(min(1.0, max(0.0, (self._standing_gap - gap) / span)), 3)
        lean = None
        if present and settled and trunk is not None:
            lean = next(word for limit, word in _LEAN_WORDS if trunk < limit)
        out.append(("frame", {"present": bool(present), "fill": fill, "touching": touching, "at_wall": at_wall,
                              "gap_mm": None if gap is None or not present else round(gap),
                              "trunk_deg": None if lean is None else round(trunk), "lean": lean,
                              "blocked": BLOCKED_WORDS if blocked else None,
                              "back": _back_words(event, bool(present))}))

    # -- the summary card

    def _summarise(self, key: tuple | None, *, complete: bool, ready: bool, now: float) -> None:
        tally = self._tally
        # The counts are the station's (the session events); the tally only says what
        # went well, and only when it saw every rep of the set.
        reps, good = max(self._reps_in_set, tally.reps), self._good
        whole = tally.reps == reps and self._tally_set == key
        lines = []
        if good:
            lines.append(f"{good} good rep{'s' if good != 1 else ''}" + (f" of {reps}" if reps != good else ""))
        for fault, words in (("rounded_back", "Back long on every rep"), ("squat", "Soft knees on every rep"),
                             ("too_fast", "Nice and slow, every time"),
                             ("incomplete_return", "Stood tall after every rep")):
            if whole and tally.reps >= 2 and tally.clean(fault):
                lines.append(words)
        if whole and tally.touched:
            lines.append("Touched the wall every time" if tally.touched == tally.reps
                         else f"Touched the wall {tally.touched} time{'s' if tally.touched != 1 else ''}")
        if not lines:
            lines.append(f"{reps} rep{'s' if reps != 1 else ''} done: every one makes you stronger")
        first = (self._participant or "").split()[0] if self._participant and self._participant != "Guest" else None
        self._summary = {
            "title": "Set complete!" if complete else "Set done!",
            "greeting": f"Well done, {first}!" if first else "Well done!",
            "lines": lines[:3],
            "next": "Ready for the next step: ask your coach" if ready else None,
        }
        self._summary_set = key
        self._summary_until = now + self._summary_s

    # -- the screen

    def view(self, now: float) -> dict:
        """The screen at ``now``.

        Keys: ``mode`` ("idle", "live", "summary", "starting", "trouble"),
        ``participant`` (the roster's name, "Guest", or None), ``count`` (good
        reps in the set), ``target`` (reps per set), ``set_of`` and ``sets``
        (this participant's set and the sets to do), ``count_text`` ("Good
        reps: 7 of 12"), ``set_text`` ("Set 2 of 3"), ``paused``, ``cue``
        (``{"text", "kind", "fault", "id"}`` or None), ``lights``
        (``{"pattern", "word", "icon", "blinking", "lamps": {colour: on}}``)
        and ``summary`` (``{"title", "greeting", "lines", "next"}`` or None).
        """
        summary = self._summary if now < self._summary_until else None
        if self._station == "trouble":
            mode = "trouble"
        elif self._station == "getting_ready":
            mode = "starting"
        elif summary is not None:
            mode = "summary"
        elif self._session_state in ("running", "paused") or self._present:
            mode = "live"
        else:
            mode = "idle"
        set_of = max(1, self._participant_sets)
        cue = self.coach.current(now)
        return {
            "mode": mode,
            "participant": self._participant,
            "count": self._good,
            "target": self._reps_per_set,
            "set_of": set_of,
            "sets": self._sets,
            "count_text": f"Good reps: {self._good} of {self._reps_per_set}",
            "set_text": f"Set {set_of} of {self._sets}",
            "paused": self._session_state == "paused",
            "cue": None if cue is None else cue.as_dict(),
            "lights": self._lights_view(fix_shown=cue is not None and cue.kind == "fix"),
            "summary": summary,
        }

    def _lights_view(self, *, fix_shown: bool) -> dict:
        lights = self._lights or {}
        pattern = lights.get("pattern") if isinstance(lights.get("pattern"), str) else None
        word, icon = LIGHT_WORDS.get(pattern, ("", ""))
        if pattern == "fault_rep" and not fix_shown:
            word = "Not quite"  # "See the tip" only while there is a tip to see
        colour = lights.get("colour")
        # Two colours joined ("red+amber") flash in turn, as the station's lamps do (station.feedback).
        return {"pattern": pattern, "word": word, "icon": icon, "blinking": lights.get("blinking") is True,
                "in_turn": isinstance(colour, str) and "+" in colour,
                "lamps": {name: isinstance(colour, str) and (colour == "all" or name in colour.split("+"))
                          for name in ("red", "amber", "green")}}
