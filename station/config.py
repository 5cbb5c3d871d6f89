"""Settings tables: turning a config file's tables into typed, validated settings."""

from __future__ import annotations

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


def require_positive_numbers(settings, label: str) -> None:
    """Refuse, by name, any field of the settings dataclass that is not a positive number.

    ``label`` names the kind of setting in the message ("threshold", "rep setting").
    """
    for item in fields(settings):
        value = getattr(settings, item.name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f"{label} {item.name} must be a positive number, not {value!r}")
