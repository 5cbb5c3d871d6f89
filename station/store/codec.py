"""How values go into the store and come back: checked arguments, time stamps, rows, rep series.

Conventions
-----------
- Times of day (``created``, ``started``, ``ended``, ``recorded``) are UTC,
  ISO 8601 text with milliseconds, ``2026-05-09T07:35:25.120Z``: they sort
  as text in SQLite and PostgreSQL alike.
- Rep times (``start_s``, ``bottom_s``, ``end_s``, series ``t_s``) are
  seconds from the session source's first frame, as ``wallhinge analyze``
  reports.
- Distances are millimetres, angles degrees, durations seconds; the units
  are in the names.
- Rows come back as plain dicts (JSON-ready except for series arrays), with
  flags as bools and numbers as int or float (PostgreSQL's averages come as
  decimals and are turned into floats).
- A rep's per-frame series are float32 blobs, little-endian, NaN where a
  measure was not available (see :func:`encode_series`).
"""

from __future__ import annotations

import datetime as _dt
import decimal
import json
import numbers
from dataclasses import fields
from typing import Any, Mapping, Sequence

import numpy as np

from station.faults import FAULT_NAMES, Thresholds
from station.patient_targets import patient_limits
from station.errors import StoreError

__all__ = ["SERIES_NAMES", "UNCHANGED", "decode_series", "encode_series", "series_to_list",
           "thresholds_from_targets"]

#: The per-frame series a rep may carry, in storage order.
SERIES_NAMES = ("t_s", "wall_gap_mm", "trunk_angle_deg", "knee_flexion_deg")

THRESHOLD_NAMES = tuple(item.name for item in fields(Thresholds))

REP_FIELDS = ("start_s", "bottom_s", "end_s", "descent_s", "hold_s", "ascent_s")
# In the contract, None when not measured (the peak trunk lean: the rep's bottom was not seen).
REP_MEASURES = ("min_wall_gap_mm", "peak_trunk_angle_deg", "peak_knee_flexion_deg")
REP_OPTIONAL = ("peak_spine_flexion_deg", "return_trunk_angle_deg")  # may be left out
REP_REQUIRED = ("index", "start_s", "bottom_s", "end_s", "min_wall_gap_mm", "touched", "peak_trunk_angle_deg",
                "peak_knee_flexion_deg", "descent_s", "hold_s", "ascent_s", "faults", "score")
#: The reps table's columns a rep's values fill, in the order :func:`rep_values` gives them.
REP_COLUMNS = ("index_in_set", *REP_FIELDS, *REP_MEASURES, *REP_OPTIONAL, "touched", "score", "good", "lost_points",
               "recorded", "limits", "view_note", "back_note")


class _Unchanged:
    """Marker for a keyword left out of an update: keep the stored value."""

    def __repr__(self):
        return "UNCHANGED"


#: Default of update arguments: leave the stored value as it is.
UNCHANGED: Any = _Unchanged()


# -- time stamps and values -------------------------------------------------------

def timestamp(value: _dt.datetime | None, name: str) -> str:
    """UTC ISO 8601 text with milliseconds for an aware datetime, or now."""
    if value is None:
        value = _dt.datetime.now(_dt.timezone.utc)
    elif not isinstance(value, _dt.datetime):
        raise ValueError(f"{name} must be a datetime, not {value!r}")
    elif value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must carry a time zone (e.g. datetime.now(timezone.utc)), not {value!r}")
    value = value.astimezone(_dt.timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def local_date(stamp: str) -> str:
    """The calendar date (``YYYY-MM-DD``) of a stored UTC time on this computer's clock."""
    return _dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone().date().isoformat()


def number(value, name: str, *, positive: bool = False, optional: bool = False) -> float | None:
    if value is None and optional:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number, not {value!r}")
    if positive and value <= 0:
        raise ValueError(f"{name} must be positive, not {value!r}")
    return float(value)


def count(value, name: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a whole number of 1 or more, not {value!r}")
    return int(value)


def flag(value, name: str) -> int:
    if isinstance(value, (bool, np.bool_)) or (isinstance(value, numbers.Integral) and value in (0, 1)):
        return int(bool(value))
    raise ValueError(f"{name} must be true or false, not {value!r}")


def text_value(value, name: str, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty text, not {value!r}")
    return value.strip()


def as_dict(row, flags: Sequence[str] = ()) -> dict | None:
    """A result row as a plain dict: flags as bools, decimals as floats (a score stays whole when it is)."""
    if row is None:
        return None
    result = dict(row._mapping)
    for name, value in result.items():
        if isinstance(value, decimal.Decimal):
            result[name] = float(value)
        elif isinstance(value, memoryview):
            result[name] = bytes(value)
    if isinstance(result.get("score"), float) and result["score"] == int(result["score"]):
        result["score"] = int(result["score"])
    for name in flags:
        if result.get(name) is not None:
            result[name] = bool(result[name])
    return result


# -- series -----------------------------------------------------------------------

def encode_series(values) -> bytes:
    """A per-frame series as a compact blob: little-endian float32, NaN for a missing value.

    Parameters
    ----------
    values : sequence of float or None, or 1-D array
        One value per frame in the series' unit; ``None`` or NaN where the
        measure was not available. float32 keeps about 7 significant digits
        (0.25 ms at an hour of ``t_s``).
    """
    array = np.asarray(values)
    if array.dtype == object:
        array = np.array([np.nan if value is None else value for value in array.ravel()], dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"a series must be one-dimensional, not of shape {array.shape}")
    if array.size and not np.issubdtype(array.dtype, np.number):
        raise ValueError(f"a series must hold numbers or None, not {array.dtype}")
    return array.astype("<f4").tobytes()


def decode_series(blob: bytes) -> np.ndarray:
    """The float32 array of a blob made by :func:`encode_series` (NaN for missing values)."""
    if len(blob) % 4:
        raise StoreError(f"a stored series of {len(blob)} bytes is damaged (not whole float32 values)")
    return np.frombuffer(bytes(blob), dtype="<f4").astype(np.float32)


def series_to_list(array, *, decimals: int = 3) -> list[float | None]:
    """A series as JSON-ready floats rounded to ``decimals`` places, ``None`` for NaN."""
    rounded = np.round(np.asarray(array, dtype=np.float64), decimals).tolist()
    return [None if value != value else value for value in rounded]


def series_blobs(series: Mapping) -> dict:
    """The rep_series row of a rep's series: ``frames`` and one blob per name of :data:`SERIES_NAMES`."""
    names = set(series)
    if names != set(SERIES_NAMES):
        wrong = sorted(names - set(SERIES_NAMES)) or sorted(set(SERIES_NAMES) - names)
        raise ValueError(f"series {wrong[0]!r} is unknown or missing; a rep's series are "
                         f"{', '.join(SERIES_NAMES)}")
    blobs = [encode_series(series[name]) for name in SERIES_NAMES]
    if len({len(blob) for blob in blobs}) != 1:
        lengths = ", ".join(f"{name} {len(blob) // 4}" for name, blob in zip(SERIES_NAMES, blobs))
        raise ValueError(f"a rep's series must have one value per frame each, not {lengths}")
    return {"frames": len(blobs[0]) // 4, **dict(zip(SERIES_NAMES, blobs))}


def thresholds_from_targets(targets: Mapping) -> Thresholds:
    """The fault :class:`~station.faults.Thresholds` a targets dict asks for (None = the drill's default)."""
    return patient_limits(targets)


# -- reps -------------------------------------------------------------------------

def rep_values(rep: Mapping, recorded) -> tuple[dict, list[str]]:
    """The checked reps-row values of a rep of the analyze contract (by :data:`REP_COLUMNS`), and its faults."""
    missing = [name for name in REP_REQUIRED if name not in rep]
    if missing:
        raise ValueError(f"the rep has no {missing[0]!r}; a rep needs {', '.join(REP_REQUIRED)}")
    index = count(rep["index"], "index")
    numbers_ = [number(rep[name], name) for name in REP_FIELDS]
    if not numbers_[0] <= numbers_[1] <= numbers_[2]:
        raise ValueError(f"a rep's start_s <= bottom_s <= end_s, not {numbers_[0]}, {numbers_[1]}, {numbers_[2]}")
    faults = rep["faults"]
    if isinstance(faults, str) or not isinstance(faults, Sequence):
        raise ValueError(f"faults must be a list of fault names, not {faults!r}")
    unknown = [fault for fault in faults if fault not in FAULT_NAMES]
    if unknown:
        raise ValueError(f"unknown fault {unknown[0]!r}; known: {', '.join(FAULT_NAMES)}")
    if len(set(faults)) != len(faults):
        raise ValueError(f"faults name one fault twice: {list(faults)}")
    # None: no score, the rep's bottom was not seen (station.scoring).
    score = number(rep["score"], "score", optional=True)
    if score is not None and not 0 <= score <= 100:
        raise ValueError(f"score must be 0-100 or None, not {rep['score']!r}")
    score = int(score) if score is not None and score == int(score) else score
    good = flag(rep.get("good", not faults), "good")
    lost = rep.get("lost_points")
    lost_text = None if lost is None else json.dumps(lost, ensure_ascii=False)
    measures = [number(rep.get(name), name, optional=True) for name in (*REP_MEASURES, *REP_OPTIONAL)]
    notes = [rep.get(name) for name in ("view_note", "back_note")]
    for name, note in zip(("view_note", "back_note"), notes):
        if note is not None and (not isinstance(note, str) or not note.strip()):
            raise ValueError(f"{name} must be a sentence or None, not {note!r}")
    values = (index, *numbers_, *measures, flag(rep["touched"], "touched"), score, good, lost_text,
              timestamp(recorded, "recorded"), limits_text(rep.get("limits")), *notes)
    return dict(zip(REP_COLUMNS, values)), list(faults)


def limits_text(limits: Mapping | None) -> str | None:
    """A rep's limits as stored: JSON of the fault limits by name (and the target lean), or None."""
    if limits is None:
        return None
    if not isinstance(limits, Mapping):
        raise ValueError(f"limits must be a mapping of limit names to numbers, not {limits!r}")
    known = (*THRESHOLD_NAMES, "target_trunk_angle_deg")
    unknown = sorted(set(limits) - set(known))
    if unknown:
        raise ValueError(f"unknown limit {unknown[0]!r}; known: {', '.join(known)}")
    missing = [name for name in THRESHOLD_NAMES if name not in limits]
    if missing:
        raise ValueError(f"the rep's limits have no {missing[0]!r}")
    checked = {name: number(limits[name], name, positive=True, optional=name == "target_trunk_angle_deg")
               for name in known if name in limits}
    return json.dumps(checked)


def fault_order(names) -> list[str]:
    """Fault names in :data:`~station.faults.FAULT_NAMES` order (unknown ones last)."""
    return sorted(names, key=lambda name: FAULT_NAMES.index(name) if name in FAULT_NAMES else len(FAULT_NAMES))
