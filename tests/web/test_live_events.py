"""The live events' one schema (station/events.py), and the web's readers held against it: the kiosk and live.js."""

import re
from pathlib import Path

import pytest

from station.events import (COMMANDS, EVENT_FIELDS, STAMPED_FIELDS, CommandEvent, FrameEvent, LightsEvent,
                            StationEvent, StorageEvent)
from station.lamps import LAMP_PATTERNS
from web.kiosk.view import KioskView

LIVE_JS = Path(__file__).resolve().parents[2] / "web" / "static" / "live.js"
# Fields the web itself adds to a session it shows (the patient's name from the store), besides STAMPED_FIELDS.
WEB_ADDED = {"session": {"patient_name", "patient_code"}}
# The feed's own rule (web/live.py): any event that carries a lights dict updates the lamps shown.
ANY_EVENT = {"lights"}


def test_an_event_serialises_to_its_type_and_fields_leaving_out_what_does_not_apply():
    assert StationEvent("ready").as_dict() == {"type": "station", "state": "ready"}
    assert StationEvent("trouble", reason="camera lost").as_dict() == {"type": "station", "state": "trouble",
                                                                        "reason": "camera lost"}
    assert StorageEvent("ok", message="").as_dict() == {"type": "storage", "state": "ok", "message": ""}
    assert LightsEvent("good_rep", lights={"pattern": "good_rep"}).as_dict()["lights"] == {"pattern": "good_rep"}
    frame = FrameEvent(t_s=1.5, phase="opening", trouble=None, set_number=None, set_state=None, reps_in_set=0)
    assert set(frame.as_dict()) == {"type", "t_s", "phase", "trouble", "set_number", "set_state", "reps_in_set"}
    measured = FrameEvent(t_s=1.5, phase="measuring", trouble=None, set_number=1, set_state="running", reps_in_set=2,
                          measures={"t_s": 1.5, "present": True, "wall_gap_mm": None})
    assert measured.as_dict()["present"] is True and measured.as_dict()["wall_gap_mm"] is None
    assert "measures" not in measured.as_dict()


def test_a_command_carries_a_patient_only_when_it_names_one():
    assert "patient_id" in CommandEvent("start", by="amy").as_dict()
    assert "patient_id" not in CommandEvent("pause", by="amy").as_dict()
    assert set(COMMANDS) == {"start", "pause", "end", "assign"}


def test_a_lights_event_names_a_lamp_pattern():
    with pytest.raises(TypeError):
        LightsEvent()  # noqa: the pattern is required
    assert "rep_done" not in LAMP_PATTERNS  # one word per state: good_rep or fault_rep


def test_the_kiosk_handles_only_event_types_the_station_sends():
    handled = {name[len("_on_"):] for name in dir(KioskView) if name.startswith("_on_")}
    assert handled - {"state"} <= set(EVENT_FIELDS)


def _listeners(script: str):
    """(event type, listener body) for each ``source.addEventListener("type", ...)`` of live.js."""
    starts = [(match.start(), match.group(1)) for match in re.finditer(r'source\.addEventListener\("(\w+)"', script)]
    for (start, kind), (end, _) in zip(starts, starts[1:] + [(len(script), "")]):
        yield kind, script[start:end]


def test_the_live_page_reads_only_event_types_and_fields_the_schema_lists():
    script = LIVE_JS.read_text()
    checked = 0
    for kind, body in _listeners(script):
        if kind in ("open", "error", "state"):
            continue
        assert kind in EVENT_FIELDS, f"live.js listens for {kind!r}, which no event has"
        known = set(EVENT_FIELDS[kind]) | set(STAMPED_FIELDS) | ANY_EVENT | WEB_ADDED.get(kind, set())
        names = set(re.findall(r"var (\w+) = JSON\.parse\(message\.data\)", body))
        read = {field for name in names for field in re.findall(rf"\b{name}\.(\w+)", body)}
        read |= set(re.findall(r"JSON\.parse\(message\.data\)\.(\w+)", body))
        assert read <= known, f"live.js reads {sorted(read - known)} of a {kind!r} event"
        checked += bool(read)
    assert checked >= 6  # the test reads the script it means to
