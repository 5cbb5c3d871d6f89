"""Checking what a clinician sends: targets and patient details, from a form or JSON.

One set of rules for the HTML forms and the JSON API, so both refuse the same
input with the same message. A :class:`FormError` names the field and says
what is allowed; nothing is written when any field is wrong.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Mapping

from station.errors import FormError
from station.patient_targets import TARGET_FIELDS, TargetField

__all__ = ["FormError", "TARGET_FIELDS", "parse_patient", "parse_targets"]

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
