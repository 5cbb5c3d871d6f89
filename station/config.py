"""Settings tables: turning a config file's tables into typed, validated settings."""

from __future__ import annotations

import math
from dataclasses import fields
from typing import TypeVar

T = TypeVar("T")


def settings_from_table(cls: type[T], values: dict, table: str) -> T:
    """An instance of the settings dataclass ``cls`` from one table of a config file.

    Unknown keys are refused by name, so a misspelt setting never silently
    falls back to its default.

    Raises
    ------
    ValueError
        An unknown key, or a value the dataclass's own checks refuse.
    """
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"unknown setting {table}.{unknown[0]}; known: {', '.join(sorted(known))}")
    return cls(**values)


#: The largest value that makes sense for a setting, by the unit its name ends in: past these a
#: threshold or rep setting can never be met (or always is), so it is a typing slip, not a choice.
UNIT_LIMITS = (("_deg_s", 5000.0, "degrees a second"), ("_deg", 180.0, "degrees"), ("_mm", 2000.0, "mm"),
               ("_s", 60.0, "seconds"))


def require_positive_numbers(settings, label: str) -> None:
    """Refuse, by name, any field of the settings dataclass that is not a finite positive number within reason.

    ``label`` names the kind of setting in the message ("threshold", "rep setting").
    The upper bound comes from the unit the field's name ends in (:data:`UNIT_LIMITS`).
    """
    for item in fields(settings):
        value = getattr(settings, item.name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
            raise ValueError(f"{label} {item.name} must be a positive number, not {value!r}")
        for suffix, largest, unit in UNIT_LIMITS:
            if item.name.endswith(suffix):
                if value > largest:
                    raise ValueError(f"{label} {item.name} must be at most {largest:g} {unit}, not {value!r}")
                break
