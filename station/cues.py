"""The coaching cues and the spoken phrases: one short phrase at a time, chosen from the last rep, never chattering.

After each rep the kiosk shows (and the station may speak) at most one cue
in plain words. A rep with faults gets the cue for its most important fault
(:data:`FAULT_PRIORITY`: the faults that load the spine or the knees come
first); a good rep (:func:`station.scoring.is_good_rep`) gets a word of
praise, but only when every fault could be judged on it
(:func:`station.faults.every_fault_judged`: its back and its touch were
checked too), since praise would vouch for what was not measured; any other
rep (short of the patient's target angle, its bottom out of sight, or its
back not checked) gets no cue: the count on the screen and the lamps say it
counted. Three rules keep the cues calm:

- **cooldown**: a new cue replaces the one showing only ``cooldown_s`` after
  it appeared, so a run of quick reps does not flick through phrases;
- **no repeats**: the same correction for a fault that keeps coming back
  stays up, quietly, and is announced again (a new cue, said aloud) only
  ``repeat_s`` after it was last announced;
- **fading**: a correction stays up ``fix_hold_s`` after the last rep that
  asked for it, praise ``praise_hold_s``, then the cue area is empty until
  the next rep.

What the station's voice says (:mod:`station.voice`) follows from the same
cues, and is decided here too, for the station's own voice and the kiosk
alike: after a counted rep a new correction's words, else the set's good-rep
count after a good rep (:func:`rep_phrase`), and :data:`SET_COMPLETE_PHRASE`
when a set reaches its target. :class:`CueCaller` applies them to the live
events one by one.

Everything takes the time as an argument (seconds on any monotonic clock),
so the rules are tested without waiting; the kiosk page only displays what
this module decides.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from station.faults import every_fault_judged

__all__ = ["CUE_FOR_FAULT", "FAULT_PRIORITY", "PRAISE", "SET_COMPLETE_PHRASE", "Cue", "CueCaller", "CueCoach",
           "rep_phrase"]

#: The fault to speak to first when a rep shows several: spine and knees before depth, speed and finish.
FAULT_PRIORITY = ("rounded_back", "squat", "no_touch", "too_fast", "incomplete_return")

#: The words for each fault: what to do, not what went wrong.
CUE_FOR_FAULT = {
    "rounded_back": "Keep your back long",
    "squat": "Soft knees",
    "no_touch": "Push your hips back",
    "too_fast": "Slowly",
    "incomplete_return": "Stand tall",
}

#: Praise after a rep without a fault, taken in turn.
PRAISE = ("Well done", "Lovely", "That's it")

#: Said when a set's good reps reach the target.
SET_COMPLETE_PHRASE = "Set complete. Well done!"


@dataclass(frozen=True)
class Cue:
    """One cue: its words, ``kind`` ("fix" or "praise"), the fault it answers, and a serial ``id``.

    ``shown_at`` is when it was announced, ``asked_at`` the last rep that asked for it.
    """

    text: str
    kind: str
    fault: str | None
    id: int
    shown_at: float
    asked_at: float

    def as_dict(self) -> dict:
        return {"text": self.text, "kind": self.kind, "fault": self.fault, "id": self.id}


class CueCoach:
    """Chooses the cue after each rep; see the module's docs for the rules.

    Parameters
    ----------
    cooldown_s : float
        Least time between two different cues (s).
    repeat_s : float
        Least time before the same correction is shown again (s).
    fix_hold_s, praise_hold_s : float
        How long a correction and praise stay up (s).
    """

    def __init__(self, *, cooldown_s: float = 4.0, repeat_s: float = 20.0, fix_hold_s: float = 12.0,
                 praise_hold_s: float = 4.0):
        for name, value in (("cooldown_s", cooldown_s), ("repeat_s", repeat_s), ("fix_hold_s", fix_hold_s),
                            ("praise_hold_s", praise_hold_s)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise ValueError(f"{name} must be a positive number of seconds, not {value!r}")
        if repeat_s < cooldown_s:
            raise ValueError(f"repeat_s ({repeat_s:g}) must be at least cooldown_s ({cooldown_s:g})")
        self.cooldown_s = float(cooldown_s)
        self.repeat_s = float(repeat_s)
        self.fix_hold_s = float(fix_hold_s)
        self.praise_hold_s = float(praise_hold_s)
        self.reset()

    def reset(self) -> None:
        """Forget every cue (a new participant, a new class)."""
        self._cue: Cue | None = None
        self._serial = 0
        self._praised = 0

    @staticmethod
    def fault_to_fix(faults) -> str | None:
        """The fault to speak to among ``faults`` (names from :data:`FAULT_PRIORITY`), or None."""
        present = set(faults or ())
        return next((name for name in FAULT_PRIORITY if name in present), None)

    def after_rep(self, faults, now: float, good: bool | None = None, judged: bool = False) -> Cue | None:
        """A rep just ended with these faults: the new cue to show (and say), or None to leave things be.

        ``good`` is whether the rep counted as good; without it, a rep with no
        fault is. ``judged`` is whether every fault could be judged on it
        (:func:`station.faults.every_fault_judged`). Only a good rep that was
        judged whole is praised: one that missed the target angle, whose
        bottom nobody saw, or whose back or touch was not checked, is not.
        """
        fault = self.fault_to_fix(faults)
        if fault is None and not ((not faults if good is None else good) and judged):
            return None
        current = self.current(now)
        if (fault is not None and current is not None and current.text == CUE_FOR_FAULT[fault]
                and now - current.shown_at < self.repeat_s):
            # The same correction is up already: keep it up, quietly.
            self._cue = dataclasses.replace(current, asked_at=now)
            return None
        if current is not None and now - current.shown_at < self.cooldown_s:
            return None  # too soon after the last cue: the next rep will ask again if it still matters
        if fault is not None:
            return self._show(CUE_FOR_FAULT[fault], "fix", fault, now)
        text = PRAISE[self._praised % len(PRAISE)]
        self._praised += 1
        return self._show(text, "praise", None, now)

    def current(self, now: float) -> Cue | None:
        """The cue showing at ``now``: None before any, or once it has faded."""
        cue = self._cue
        if cue is None:
            return None
        hold = self.fix_hold_s if cue.kind == "fix" else self.praise_hold_s
        return cue if now - cue.asked_at < hold else None

    def _show(self, text: str, kind: str, fault: str | None, now: float) -> Cue:
        self._serial += 1
        self._cue = Cue(text, kind, fault, self._serial, now, now)
        return self._cue


def rep_phrase(cue: Cue | None, good: bool, good_in_set: int) -> str | None:
    """What the voice says after a counted rep, or None.

    ``cue`` is what the coach just announced for the rep (None if it kept
    quiet), ``good`` the rep's verdict and ``good_in_set`` the set's good
    reps with it: a new correction is said, else the count after a good rep;
    praise is only shown.
    """
    if cue is not None and cue.kind == "fix":
        return cue.text
    return str(good_in_set) if good else None


class CueCaller:
    """The phrases to say, from the live events as they are published (``LiveEvent.as_dict()`` dicts).

    Follows the set's good-rep count from ``session`` and ``rep`` events and
    asks its :class:`CueCoach` after each rep, as the kiosk does; a new
    session forgets the last participant's cues.
    """

    def __init__(self, coach: CueCoach | None = None):
        self.coach = coach or CueCoach()
        self._good_in_set = 0
        self._session_id: object = ()

    def phrase(self, event: dict, now: float) -> str | None:
        """The phrase for one event that arrived at ``now`` (seconds, monotonic), or None."""
        kind = event.get("type")
        if kind == "session":
            if event.get("session_id") != self._session_id:
                self._session_id = event.get("session_id")
                self.coach.reset()
            if event.get("state") in ("running", "paused") and isinstance(event.get("good_reps_in_set"), int):
                self._good_in_set = event["good_reps_in_set"]
        elif kind == "rep" and isinstance(event.get("rep"), dict):
            faults = [name for name in event["rep"].get("faults") or () if isinstance(name, str)]
            good = event["good"] if isinstance(event.get("good"), bool) else not faults
            self._good_in_set += good
            cue = self.coach.after_rep(faults, now, good, every_fault_judged(event["rep"]))
            return rep_phrase(cue, good, self._good_in_set)
        elif kind == "set_complete":
            return SET_COMPLETE_PHRASE
        return None
