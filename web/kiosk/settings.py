"""The kiosk's own settings: the class roster, the kiosk pass's generation, spoken cues on or off.

They live in a small JSON file beside the station's database (``kiosk.json``
in the data folder, which the services can write), not in the database: a
roster is the day's class, not clinical data, and nothing else refers to it.
The file holds patient ids only; names come from the store when shown.
Writes replace the file atomically, so a power cut leaves the old or the
new settings, never half of either. A missing file is the defaults; an
unreadable one is logged and read as the defaults, so the kiosk still
starts.

``{"generation": 1, "roster_version": 3, "speech": true,
"roster": [{"slot": "Jx3k9Q_a", "patient_id": 4}, ...]}``

``slot`` is a random name for a place on the roster: the kiosk taps by slot
and never learns patient ids.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import tempfile
import threading
from pathlib import Path

__all__ = ["MAX_ROSTER", "KioskSettings"]

log = logging.getLogger(__name__)

#: The most people a class roster holds (big buttons have to fit on the screen).
MAX_ROSTER = 16

_DEFAULTS = {"generation": 1, "roster_version": 0, "speech": True, "roster": []}


class KioskSettings:
    """Reads and writes the kiosk's settings file; thread-safe within one process.

    Parameters
    ----------
    path : str or Path
        The JSON file; its folder must exist when something is written.
    """

    def __init__(self, path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._cached: tuple[int, dict] | None = None
        self._complained = False

    def read(self) -> dict:
        """The settings: ``generation``, ``roster_version``, ``speech`` and ``roster`` (a fresh copy)."""
        with self._lock:
            return json.loads(json.dumps(self._read()))

    def _read(self) -> dict:
        try:
            stamp = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            return dict(_DEFAULTS, roster=[])
        if self._cached is not None and self._cached[0] == stamp:
            return self._cached[1]
        try:
            data = _checked(json.loads(self.path.read_text(encoding="utf-8")))
        except (OSError, ValueError) as error:
            if not self._complained:
                log.warning("the kiosk's settings in %s cannot be read (%s): using the defaults until they are "
                            "saved again", self.path, error)
                self._complained = True
            return dict(_DEFAULTS, roster=[])
        self._cached = (stamp, data)
        return data

    def set_roster(self, patient_ids) -> dict:
        """Make the roster these patients, in this order; each keeps its slot if it was on it already.

        Raises
        ------
        ValueError
            More than :data:`MAX_ROSTER` people, or an id that is not a whole number.
        """
        ids = []
        for value in patient_ids:
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"a roster holds patient ids, not {value!r}")
            if value not in ids:
                ids.append(value)
        if len(ids) > MAX_ROSTER:
            raise ValueError(f"a class roster holds at most {MAX_ROSTER} people, not {len(ids)}")
        with self._lock:
            data = self._read()
            slots = {entry["patient_id"]: entry["slot"] for entry in data["roster"]}
            roster = [{"slot": slots.get(patient_id) or secrets.token_urlsafe(6), "patient_id": patient_id}
                      for patient_id in ids]
            return self._write(dict(data, roster=roster, roster_version=data["roster_version"] + 1))

    def new_generation(self) -> int:
        """Turn off every kiosk pass handed out so far; return the new generation."""
        with self._lock:
            data = self._read()
            return self._write(dict(data, generation=data["generation"] + 1))["generation"]

    def set_speech(self, on: bool) -> dict:
        """Turn the station's spoken cues on or off."""
        with self._lock:
            return self._write(dict(self._read(), speech=bool(on)))

    def _write(self, data: dict) -> dict:
        data = _checked(data)
        text = json.dumps(data, indent=1) + "\n"
        descriptor, partial = tempfile.mkstemp(prefix=".kiosk-", suffix=".partial", dir=self.path.parent)
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                file.write(text)
                file.flush()
                os.fsync(file.fileno())
            os.replace(partial, self.path)
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise
        self._cached = None
        self._complained = False
        return json.loads(text)


def _checked(data) -> dict:
    """The settings with every field checked; ValueError names the first bad one."""
    if not isinstance(data, dict):
        raise ValueError("the kiosk's settings are not a JSON object")
    out = dict(_DEFAULTS)
    for name in ("generation", "roster_version"):
        value = data.get(name, _DEFAULTS[name])
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be a whole number, not {value!r}")
        out[name] = value
    if not isinstance(data.get("speech", True), bool):
        raise ValueError(f"speech must be true or false, not {data['speech']!r}")
    out["speech"] = data.get("speech", True)
    roster = data.get("roster", [])
    if not isinstance(roster, list):
        raise ValueError("roster must be a list")
    checked = []
    for entry in roster:
        if (not isinstance(entry, dict) or not isinstance(entry.get("slot"), str) or not entry["slot"]
                or isinstance(entry.get("patient_id"), bool) or not isinstance(entry.get("patient_id"), int)):
            raise ValueError(f"a roster entry is {{slot, patient_id}}, not {entry!r:.60}")
        checked.append({"slot": entry["slot"], "patient_id": entry["patient_id"]})
    out["roster"] = checked
    return out
