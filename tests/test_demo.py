"""The demo: the whole station on a simulated recording, with the dashboard on localhost."""

import io
import re
import shutil
import socket

from gpiozero import Device

from station import demo
from station.sim.simulate import truth_path
from station.store import open_store


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_demo_runs_the_station_stores_the_reps_and_prints_a_fresh_password(short_recording, tmp_path,
                                                                                monkeypatch):
    recording, truth = short_recording
    # One patient's session, already simulated (the fixture's), so the test does not simulate three.
    monkeypatch.setattr(demo, "DEMO_SESSIONS", (("WH-0001", "Margaret B.", "good-set", 4),))
    folder = tmp_path / "recordings"
    folder.mkdir()
    shutil.copy(recording, folder / "good-set-4.db3")
    shutil.copy(truth_path(recording), truth_path(folder / "good-set-4.db3"))
    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "mock")
    monkeypatch.setenv("GPIOZERO_MOCK_PIN_CLASS", "mockpwmpin")
    saved = Device.pin_factory
    passwords = []
    try:
        for _ in range(2):
            out = io.StringIO()
            assert demo.run_demo(data_dir=tmp_path, port=free_port(), real_time=False, rounds=1, out=out) == 0
            text = out.getvalue()
            passwords.append(re.search(r"user demo, password (\S+)\)", text).group(1))
            assert "Dashboard: http://localhost:" in text and "/kiosk" in text
    finally:
        if Device.pin_factory is not saved:
            Device.pin_factory.close()
        Device.pin_factory = saved
    assert passwords[0] != passwords[1]  # made up on every start, never a default
    with open_store(tmp_path / "station.db") as store:
        patient = store.get_patient_by_code("WH-0001")
        sessions = store.session_summaries(patient["id"])
        assert len(sessions) == 2
        assert all(session["reps"] == len(truth["reps"]) for session in sessions)
        assert store.get_clinician("demo") is not None
