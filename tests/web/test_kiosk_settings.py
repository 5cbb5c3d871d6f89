"""The kiosk's settings file (web/kiosk/settings.py): the roster, the pass generation, speech."""

import json
import logging

import pytest

from web.kiosk.settings import MAX_ROSTER, KioskSettings


def test_defaults_without_a_file_and_each_change_written_whole(tmp_path):
    settings = KioskSettings(tmp_path / "kiosk.json")
    assert settings.read() == {"generation": 1, "roster_version": 0, "speech": True, "roster": []}
    saved = settings.set_roster([5, 3, 5])
    assert [entry["patient_id"] for entry in saved["roster"]] == [5, 3] and saved["roster_version"] == 1
    assert settings.new_generation() == 2
    settings.set_speech(False)
    on_disk = json.loads((tmp_path / "kiosk.json").read_text())
    assert on_disk == settings.read() and on_disk["generation"] == 2 and on_disk["speech"] is False
    assert sorted(path.name for path in tmp_path.iterdir()) == ["kiosk.json"]  # no partial files left


def test_a_person_keeps_their_slot_and_slots_are_not_guessable(tmp_path):
    settings = KioskSettings(tmp_path / "kiosk.json")
    first = {entry["patient_id"]: entry["slot"] for entry in settings.set_roster([1, 2])["roster"]}
    second = {entry["patient_id"]: entry["slot"] for entry in settings.set_roster([2, 3])["roster"]}
    assert second[2] == first[2] and second[3] not in first.values()
    assert all(len(slot) >= 8 and slot != "guest" for slot in second.values())


@pytest.mark.parametrize("ids", [["1"], [True], [0], list(range(1, MAX_ROSTER + 2))])
def test_a_bad_roster_is_refused(tmp_path, ids):
    settings = KioskSettings(tmp_path / "kiosk.json")
    with pytest.raises(ValueError):
        settings.set_roster(ids)
    assert settings.read()["roster"] == []


@pytest.mark.parametrize("text", ["{not json", "[]", '{"generation": "2"}', '{"roster": [{"slot": 1}]}',
                                  '{"speech": "yes"}'])
def test_an_unreadable_file_is_said_once_and_read_as_the_defaults(tmp_path, caplog, text):
    path = tmp_path / "kiosk.json"
    path.write_text(text)
    settings = KioskSettings(path)
    with caplog.at_level(logging.WARNING, logger="web.kiosk.settings"):
        assert settings.read()["roster"] == [] and settings.read()["generation"] == 1
    assert len([r for r in caplog.records if r.name == "web.kiosk.settings"]) == 1
    settings.set_roster([4])  # saving again mends it
    assert settings.read()["roster"][0]["patient_id"] == 4
