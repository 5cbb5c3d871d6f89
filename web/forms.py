"""Checking what a clinician sends: targets and patient details, from a form or JSON.

One set of rules for the HTML forms and the JSON API, so both refuse the same
input with the same message. A :class:`FormError` names the field and says
what is allowed; nothing is written when any field is wrong.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any, Mapping

from station.faults import Thresholds

__all__ = ["FormError", "TARGET_FIELDS", "parse_patient", "parse_targets"]


class FormError(ValueError):
    """A field a clinician sent is wrong; ``field`` names it, the message says what is allowed."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class TargetField:
    name: str
    label: str
    unit: str
    low: float
    high: float
    whole: bool = False
    optional: bool = True      # may be left empty: no target / the default threshold
    default: Any = None        # shown when empty
    step: str = "any"
    help: str = ""


_DEFAULT = Thresholds()

#: The targets a clinician sets, in form order, with their allowed ranges.
#: Stand-off, target trunk angle, reps and sets follow station.scoring.Targets;
#: the thresholds must be positive for the store and are held to plausible
#: ranges here, so a slip of the finger (150 for 15) is caught.
TARGET_FIELDS = (
    TargetField("standoff_mm", "Heels to wall", "mm", 1, 600, optional=False, default=100, step="5",
                help="100 mm for beginners, 200-300 mm later"),
    TargetField("target_trunk_angle_deg", "Target trunk lean", "°", 10, 90, step="1",
                help="Empty for no target; a good rep leans at least this far (within 5°)"),
    TargetField("reps_per_set", "Good reps per set", "reps", 1, 50, whole=True, optional=False, default=12,
                step="1"),
    TargetField("sets", "Sets", "sets", 1, 50, whole=True, optional=False, default=3, step="1"),
    TargetField("touch_tolerance_mm", "Touch within", "mm", 1, 200, default=_DEFAULT.touch_tolerance_mm,
                help="Closest gap that counts as touching the wall"),
    TargetField("max_knee_flexion_deg", "Knee bend limit (squat)", "°", 1, 120,
                default=_DEFAULT.max_knee_flexion_deg),
    TargetField("max_spine_flexion_deg", "Back rounding limit", "°", 1, 90, default=_DEFAULT.max_spine_flexion_deg,
                help="Beyond the patient's own standing posture"),
    TargetField("min_descent_s", "Slowest allowed descent", "s", 0.1, 10, default=_DEFAULT.min_descent_s,
                step="0.05", help="A descent quicker than this is too fast"),
    TargetField("upright_angle_deg", "Stand back up within", "°", 1, 45, default=_DEFAULT.upright_angle_deg,
                help="Of the standing posture, after each rep"),
)
_BY_NAME = {item.name: item for item in TARGET_FIELDS}


def _text_value(field: TargetField, raw: str) -> float | None:
    text = raw.strip().replace(",", ".")
    if not text:
        if field.optional:
            return None
        raise FormError(field.name, f"{field.label}: enter a number from {field.low:g} to {field.high:g} {field.unit}.")
    try:
        value = float(text)
    except ValueError:
        raise FormError(field.name, f"{field.label}: {raw.strip()[:20]!r} is not a number.") from None
    return value


def _json_value(field: TargetField, raw: Any) -> float | None:
    if raw is None:
        if field.optional:
            return None
        raise FormError(field.name, f"{field.name} may not be null: give a number from {field.low:g} to {field.high:g}")
    if isinstance(raw, bool) or not isinstance(raw, numbers.Real):
        raise FormError(field.name, f"{field.name} must be a number, not {raw!r:.40}")
    return float(raw)


def _checked(field: TargetField, value: float | None) -> float | int | None:
    if value is None:
        return None
    if not math.isfinite(value) or not field.low <= value <= field.high:
        raise FormError(field.name, f"{field.label}: must be from {field.low:g} to {field.high:g} {field.unit}, "
                                    f"not {value:g}.")
    if field.whole:
        if value != int(value):
            raise FormError(field.name, f"{field.label}: must be a whole number, not {value:g}.")
        return int(value)
    return value


def parse_targets(values: Mapping[str, Any], *, from_json: bool = False, partial: bool = False) -> dict:
    """The checked targets in ``values``, ready for ``Store.set_targets``.

    Parameters
    ----------
    values : mapping
        A form (text values; an empty optional field means "none" / "the
        default") or a JSON object (numbers, or null for the same).
    from_json : bool
        Values are JSON numbers rather than form text; unknown names are refused.
    partial : bool
        Fields left out are left as they are; otherwise every required
        field must be there.

    Raises
    ------
    FormError
        The first wrong field, named, with what is allowed.
    """
    if from_json:
        if not isinstance(values, Mapping):
            raise FormError("", "send a JSON object of targets, e.g. {\"standoff_mm\": 200}")
        unknown = sorted(set(values) - set(_BY_NAME))
        if unknown:
            raise FormError(unknown[0], f"unknown target {unknown[0]!r}; known: {', '.join(_BY_NAME)}")
    checked = {}
    for field in TARGET_FIELDS:
        if field.name not in values:
            if partial or field.optional and not from_json:
                continue
            raise FormError(field.name, f"{field.label}: missing.")
        raw = values[field.name]
        value = _json_value(field, raw) if from_json else _text_value(field, str(raw))
        checked[field.name] = _checked(field, value)
    return checked


def parse_patient(values: Mapping[str, Any], *, partial: bool = False) -> dict:
    """A patient's ``code`` and ``display_name`` (and ``archived`` if sent), checked.

    Codes are the clinic's pseudonyms: 1-32 characters, no spaces at the
    ends. Display names: 1-80 characters. Keep real names out of codes.

    Raises
    ------
    FormError
        The first wrong field, named.
    """
    checked: dict[str, Any] = {}
    for name, label, most in (("code", "Code", 32), ("display_name", "Display name", 80)):
        if name not in values:
            if partial:
                continue
            raise FormError(name, f"{label}: missing.")
        raw = values[name]
        text = raw.strip() if isinstance(raw, str) else None
        if not text:
            raise FormError(name, f"{label}: enter 1 to {most} characters.")
        if len(text) > most:
            raise FormError(name, f"{label}: at most {most} characters, not {len(text)}.")
        if any(ord(char) < 32 for char in text):
            raise FormError(name, f"{label}: no control characters.")
        checked[name] = text
    if "archived" in values:
        raw = values["archived"]
        if isinstance(raw, bool):
            checked["archived"] = raw
        elif raw in ("1", "on", "true", "yes"):
            checked["archived"] = True
        elif raw in ("0", "off", "false", "no", ""):
            checked["archived"] = False
        else:
            raise FormError("archived", f"archived must be true or false, not {raw!r:.20}")
    return checked
