"""The demo: the whole station on a simulated recording, with the dashboard on localhost."""

import io
import re
import shutil
import socket

from gpiozero import Device

from wallhinge import demo
from station.camera_pair import back_recording_path
from station.sim.simulate import truth_path
from station.store import open_store


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def demo_with(pair_recording, tmp_path, monkeypatch, sessions):
    """The demo set to replay ``sessions`` from the fixture's pair of recordings (already simulated), on mock pins."""
    recording, _ = pair_recording
    monkeypatch.setattr(demo, "DEMO_SESSIONS", sessions)
    folder = tmp_path / "recordings"
    folder.mkdir()
    shutil.copy(recording, folder / "good-set-4.db3")
    shutil.copy(truth_path(recording), truth_path(folder / "good-set-4.db3"))
    shutil.copy(back_recording_path(recording), folder / "good-set-4.above.db3")
    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "mock")
    monkeypatch.setenv("GPIOZERO_MOCK_PIN_CLASS", "mockpwmpin")


def test_the_demo_runs_the_station_stores_the_reps_and_prints_a_fresh_password(pair_recording, tmp_path,
                                                                                monkeypatch):
    _, truth = pair_recording
    # One patient's session, already simulated (the fixture's), so the test does not simulate three.
    demo_with(pair_recording, tmp_path, monkeypatch, (("WH-0001", "Margaret B.", "good-set", 4),))
    saved = Device.pin_factory
    passwords = []
    try:
        for _ in range(2):
            out = io.StringIO()
            assert demo.run_demo(data_dir=tmp_path, port=free_port(), real_time=False, rounds=1, out=out) == 0
            text = out.getvalue()
            passwords.append(re.search(r"user demo, password (\S+)\)", text).group(1))
            assert "Dashboard: http://localhost:" in text and "/kiosk" in text
            # The demo's station has both cameras, hands on the hips: the camera above read the back and
            # judged each rep's (a good set: none rounded).
            read = int(re.search(r"the camera above read the back in (\d+) frames; the reps' back: checked, 0 rounded",
                                 text).group(1))
            assert read > 100
    finally:
        if Device.pin_factory is not saved:
            Device.pin_factory.close()
        Device.pin_factory = saved
    assert passwords[0] != passwords[1]  # made up on every start, never a default
    assert "made afresh on every start" in text and re.search(r"Recordings: .* \(\d+ MB", text)
    with open_store(tmp_path / "station.db") as store:
        patient = store.get_patient_by_code("WH-0001")
        sessions = store.session_summaries(patient["id"])
        assert len(sessions) == 1  # each start has a fresh database: no pile of old sessions
        assert all(session["reps"] == len(truth["reps"]) for session in sessions)
        assert store.get_clinician("demo") is not None
        assert store.latest_calibration() is not None  # the calibration page shows the one it made


def test_the_demo_plays_each_patient_once_by_default_and_says_nothing_alarming(pair_recording, tmp_path,
                                                                              monkeypatch, caplog):
    demo_with(pair_recording, tmp_path, monkeypatch, (("WH-0001", "Margaret B.", "good-set", 4),
                                                       ("WH-0002", "Walter H.", "good-set", 4)))
    saved = Device.pin_factory
    out = io.StringIO()
    try:
        with caplog.at_level("INFO", logger="station"):
            assert demo.run_demo(data_dir=tmp_path, port=free_port(), real_time=False, out=out) == 0
    finally:
        if Device.pin_factory is not saved:
            Device.pin_factory.close()
        Device.pin_factory = saved
    assert out.getvalue().count("Replaying ") == 3  # the plan, then each patient once: no endless loop
    assert not any("calibration file" in record.getMessage() for record in caplog.records)
    assert not [record for record in caplog.records if record.levelname in ("WARNING", "ERROR")]


def test_the_demo_never_deletes_a_database_that_is_not_its_own(tmp_path):
    with open_store(tmp_path / "station.db") as store:
        store.add_patient(code="REAL-1", display_name="A real patient")
    try:
        demo._fresh_database(tmp_path / "station.db")
    except demo.WallHingeError as error:
        assert "choose another --data-dir" in str(error)
    else:
        raise AssertionError("a clinic's database was deleted")
    assert (tmp_path / "station.db").exists()
