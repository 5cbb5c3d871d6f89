"""Template filters: the store's UTC times on the station's clock, numbers for people."""

from __future__ import annotations

import datetime as _dt
import math

from flask import Flask
from markupsafe import Markup

from station.faults import (BACK_NOT_CHECKED, BOTTOM_NOT_SEEN, BOTTOM_NOT_SEEN_BADGE, BOTTOM_NOT_SEEN_WHY, FAULT_LABELS,
                            FAULT_NAMES, NO_FAULT, NO_FAULT_SEEN, NOT_CHECKED_LABELS, NOT_SCORED, NOT_SCORED_WHY,
                            KNEE_NOT_CHECKED_WHY, TOUCH_NOT_CHECKED_WHY, back_checked, bottom_seen, bottom_view_words,
                            every_fault_judged, knee_checked, touch_checked)
from station.hidden_spans import PATIENT_HIDDEN_BADGE, PATIENT_HIDDEN_WHY, set_hidden_words

__all__ = ["bottom_view", "descent", "fault_label", "init_app", "local_time", "number", "out_of", "peak_trunk",
           "score"]


def parse_time(text: str | None) -> _dt.datetime | None:
    if not text:
        return None
    return _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def local_time(text: str | None, style: str = "datetime") -> str:
    """A stored UTC time on the station's clock: ``datetime`` (Tue 9 May 2026, 09:35), ``date``, ``time``;
    ``compact`` (9 May 2026, 09:35) holds the date's words together, so a narrow column breaks it only before the
    time."""
    when = parse_time(text)
    if when is None:
        return "—"
    when = when.astimezone()
    if style == "date":
        return f"{when:%a} {when.day} {when:%b %Y}"
    if style == "short":
        return f"{when.day} {when:%b}"
    if style == "compact":
        return f"{when.day}\u00a0{when:%b}\u00a0{when:%Y}, {when:%H:%M}"
    if style == "time":
        return f"{when:%H:%M}"
    return f"{when:%a} {when.day} {when:%b %Y}, {when:%H:%M}"


def number(value, digits: int = 0, unit: str = "") -> str:
    """A figure rounded for reading, ``—`` when not measured."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    text = f"{float(value):.{digits}f}"
    return f"{text} {unit}".rstrip() if unit and unit not in ("%", "°") else text + unit


def peak_trunk(value, digits: int = 0) -> str:
    """A rep's peak trunk lean in degrees, or :data:`~station.faults.BOTTOM_NOT_SEEN` when its bottom was not seen."""
    return BOTTOM_NOT_SEEN if value is None else number(value, digits, "°")


def bottom_view(view_note: str, first: bool = False) -> str:
    """The words beside a rep's peak trunk lean when its bottom was read off less of the patient; ``first``: opening
    a sentence."""
    words = bottom_view_words(view_note)
    return words[:1].upper() + words[1:] if first else words


def descent(rep, digits: int = 1, unit: str = "s") -> str:
    """A rep's time down (s), or :data:`~station.faults.BOTTOM_NOT_SEEN` when its bottom was not seen.

    With the bottom out of sight, when the descent ended is not known (its
    speed was not judged, :mod:`station.reps`): a number would be a guess.
    """
    return BOTTOM_NOT_SEEN if rep.get("peak_trunk_angle_deg") is None else number(rep.get("descent_s"), digits, unit)


def score(value) -> str:
    """A rep's score (0-100), or a mean of scores, whole; :data:`~station.faults.NOT_SCORED` when there is none.

    A rep whose bottom was not seen has no score (:mod:`station.scoring`), nor
    has a mean over no scored rep: never 0, never 100.
    """
    return NOT_SCORED if value is None else number(value, 0)


def percent(share) -> str:
    return "—" if share is None else f"{100 * float(share):.0f}%"


def out_of(count, total) -> str:
    """A count out of a total ("6 / 10"), its spaces narrow and unbreakable: a narrow column never splits it."""
    return f"{count}\u202f/\u202f{total}"


def duration(started: str | None, ended: str | None) -> str:
    start, end = parse_time(started), parse_time(ended)
    if start is None or end is None:
        return "—"
    minutes = max(0, round((end - start).total_seconds() / 60))
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


def fault_label(name: str) -> str:
    return FAULT_LABELS.get(name, name.replace("_", " ").capitalize())


def source_words(source: str | None) -> str:
    """Where a session's frames came from, for a clinician: the camera, or a replayed recording (no file paths)."""
    text = str(source or "")
    if text.startswith("recording") or text.startswith("opening of recording"):
        return "replayed from a recording"
    return text or "source unknown"


def clean_verdict(rep) -> str:
    """A rep without faults in words: "No fault" only when every fault could be judged on it
    (:func:`station.faults.every_fault_judged`), "No fault seen" otherwise, "Bottom not seen" when none of its
    bottom faults was judged (its badge, and the printed report's rows)."""
    if not bottom_seen(rep):
        return BOTTOM_NOT_SEEN_BADGE
    return NO_FAULT if every_fault_judged(rep) else NO_FAULT_SEEN


def rep_badges(rep) -> Markup:
    """A rep's badges in words (and colour), saying when its bottom was not seen, or its touch, knees or back not
    checked.

    A rep whose back (touch, knees) was not measured says so: "No fault seen"
    and "Back not checked" ("Touch not checked", "Knees not checked"), never a
    plain "No fault" that would vouch for what was not seen. A rep whose
    bottom was not seen had none of its bottom faults judged: no green badge
    at all, "Bottom not seen" in its place (which says its squat was not
    judged, so no knees badge beside it).
    """
    faults = rep.get("faults") or ()
    if not faults:
        kind = "ok" if bottom_seen(rep) else "neutral bottom-unseen"
        badges = Markup('<span class="badge {}">{}</span>').format(kind, clean_verdict(rep))
    else:
        badges = Markup("").join(Markup('<span class="badge fault-{}">{}</span>').format(name, fault_label(name))
                                 for name in faults)
    for part, was_checked in (("touch", touch_checked(rep)), ("knee", knee_checked(rep) or not bottom_seen(rep)),
                              ("back", back_checked(rep))):
        if not was_checked:
            badges += Markup('<span class="badge neutral {}-unchecked">{}</span>').format(
                part, NOT_CHECKED_LABELS[part])
    return badges


def init_app(app: Flask) -> None:
    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(number, "number")
    app.add_template_filter(percent, "percent")
    app.add_template_filter(out_of, "out_of")
    app.add_template_filter(peak_trunk, "peak_trunk")
    app.add_template_filter(score, "score")
    app.add_template_filter(descent, "descent")
    app.add_template_filter(bottom_view, "bottom_view")
    app.add_template_filter(set_hidden_words, "hidden_notes")
    app.add_template_filter(fault_label, "fault_label")
    app.add_template_filter(rep_badges, "rep_badges")
    app.add_template_filter(clean_verdict, "clean_verdict")
    app.add_template_filter(source_words, "source_words")
    app.add_template_global(back_checked, "back_checked")
    app.add_template_global(touch_checked, "touch_checked")
    app.add_template_global(knee_checked, "knee_checked")
    app.add_template_global(bottom_seen, "bottom_seen")
    app.add_template_global(BACK_NOT_CHECKED, "BACK_NOT_CHECKED")
    app.add_template_global(KNEE_NOT_CHECKED_WHY, "KNEE_NOT_CHECKED_WHY")
    app.add_template_global(TOUCH_NOT_CHECKED_WHY, "TOUCH_NOT_CHECKED_WHY")
    app.add_template_global(duration, "duration")
    app.add_template_global(FAULT_NAMES, "FAULT_NAMES")
    app.add_template_global(BOTTOM_NOT_SEEN, "BOTTOM_NOT_SEEN")
    app.add_template_global(BOTTOM_NOT_SEEN_WHY, "BOTTOM_NOT_SEEN_WHY")
    app.add_template_global(NOT_SCORED, "NOT_SCORED")
    app.add_template_global(PATIENT_HIDDEN_BADGE, "PATIENT_HIDDEN_BADGE")
    app.add_template_global(NO_FAULT_SEEN, "NO_FAULT_SEEN")
    app.add_template_global(PATIENT_HIDDEN_WHY, "PATIENT_HIDDEN_WHY")
    app.add_template_global(NOT_SCORED_WHY, "NOT_SCORED_WHY")
