"""The live session end to end: a simulated recording through the whole loop on mock pins.

The recording is conftest's ``short_recording`` (two good reps, 15 fps,
about 21 s). Most runs read it as fast as possible (``real_time=False``);
one runs in real time for a few seconds. Button presses, a lost camera and
SIGTERM are scripted at recording times by :class:`Scripted`, which runs
them in the camera thread just before the frame at that time, so they land
at the same point of the session on every run.
"""

import dataclasses
import gc
import json
import logging
import os
import signal
import socket
import sqlite3
import threading
import time
import weakref
from types import SimpleNamespace

import numpy as np
import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory
from gpiozero.tones import Tone

from station.analyze import analyze_frames
from station.calibration_files import load_calibration, save_calibration
from station.camera import open_recording, usb_warning
from wallhinge.cli import main
from station.errors import CameraError
from station.geometry import Pose
from station.session import SessionSummary, run_session
from station.settings import load_settings
from station.store import open_store
from tests.pins import ToneRecordingPin

PINS = {"red": 17, "amber": 27, "green": 22, "buzzer": 18, "button": 23}
HOLD_S = 0.3
TOUCH_HZ = Tone("A6").frequency
GOOD_REP_HZ = (Tone("C6").frequency, Tone("E6").frequency)
LOGGER = "station.session"


class Recorder:
    """A publisher that keeps every event."""

    def __init__(self):
        self.events = []

    def publish(self, event):
        self.events.append(dict(event))

    def of(self, kind):
        return [event for event in self.events if event["type"] == kind]


class Scripted:
    """A recording read as fast as possible, as a frame source with scripted happenings.

    ``actions`` maps a recording time (s) to a callable run before the first
    frame at or after it; ``fail_at`` raises CameraError there (a camera
    unplugged); ``start_at`` skips the frames before it and restamps the rest
    from 0, as a camera opened again would.
    """

    label = "scripted camera"

    def __init__(self, path, *, actions=None, fail_at=None, start_at=0.0):
        self._inner = open_recording(path, real_time=False)
        self._actions = sorted((actions or {}).items())
        self._fail_at = fail_at
        self._start_at = start_at
        self.yielded = 0

    def __iter__(self):
        for frame in self._inner:
            if frame.timestamp_s < self._start_at - 1e-9:
                continue
            while self._actions and frame.timestamp_s >= self._actions[0][0] - 1e-9:
                self._actions.pop(0)[1]()
            if self._fail_at is not None and frame.timestamp_s >= self._fail_at:
                raise CameraError("no depth frame from the camera within 5 s (simulated unplugging)")
            self.yielded += 1
            yield dataclasses.replace(frame, timestamp_s=frame.timestamp_s - self._start_at)

    def close(self):
        self._inner.close()


class Openers:
    """Opens frame sources in turn: each item is a callable returning one, or an exception to raise."""

    label = "scripted camera"

    def __init__(self, *items):
        self._items = list(items)
        self.calls = 0

    def __call__(self):
        self.calls += 1
        item = self._items.pop(0)
        if isinstance(item, BaseException):
            raise item
        return item()


def make_settings(tmp_path, **station):
    return load_settings(overrides={"station": {"data_dir": str(tmp_path), "end_hold_s": HOLD_S, **station}})


def new_factory():
    return MockFactory(pin_class=ToneRecordingPin)


def levels(factory, name):
    return [state.state for state in factory.pin(PINS[name]).states]


def stored(settings, session_id):
    with open_store(settings.station.database_path) as store:
        return store.get_session(session_id), store.session_sets(session_id), \
            store.session_reps(session_id, with_series=True)


def press(factory, hold_s=0.0):
    """Press the big button (it pulls its pin low) and let go; a hold of HOLD_S or more ends the set."""
    pin = factory.pin(PINS["button"])
    pin.drive_low()
    time.sleep(max(0.05, hold_s))
    pin.drive_high()


@pytest.fixture(scope="module")
def recording(short_recording):
    return short_recording[0]


@pytest.fixture(scope="module")
def analysis(recording):
    with open_recording(recording) as source:
        return analyze_frames(source, str(recording))


@pytest.fixture(scope="module")
def replayed(recording, tmp_path_factory):
    """The whole recording replayed once through the session, as fast as it goes."""
    folder = tmp_path_factory.mktemp("replayed")
    settings = make_settings(folder)
    factory = new_factory()
    publisher = Recorder()
    summary = run_session(settings, replay=recording, publisher=publisher, pin_factory=factory, real_time=False)
    return dict(settings=settings, factory=factory, publisher=publisher, summary=summary,
                stored=stored(settings, summary.session_id))


# -- the whole loop against wallhinge analyze ----------------------------------------------------

def test_the_reps_stored_are_those_analyze_reports(replayed, analysis):
    session, sets, reps = replayed["stored"]
    assert len(analysis.reps) == 2
    assert len(reps) == len(analysis.reps)
    for saved, expected in zip(reps, analysis.reps):
        assert saved["index"] == expected.index
        assert saved["faults"] == list(expected.faults)
        assert saved["score"] == expected.score
        assert saved["touched"] is expected.touched
        assert saved["good"] is (not expected.faults)
        assert saved["lost_points"] == [dict(item) for item in expected.lost_points]
        for name in ("start_s", "bottom_s", "end_s", "descent_s", "hold_s", "ascent_s", "min_wall_gap_mm",
                     "peak_trunk_angle_deg", "peak_knee_flexion_deg", "return_trunk_angle_deg"):
            assert saved[name] == pytest.approx(getattr(expected, name), abs=1e-6), name
        if not expected.faults:  # where they stood back up to (truth about 0), never the 10-degree threshold
            assert abs(saved["return_trunk_angle_deg"]) < 4.0
        for name, values in expected.series.items():
            np.testing.assert_allclose(saved["series"][name], values, rtol=1e-6, atol=1e-4, err_msg=name)


def test_a_replay_keeps_the_calibration_it_made_with_its_session(replayed):
    """The dashboard's calibration page shows the calibration the station made at the start, replay or not."""
    session, _, _ = replayed["stored"]
    assert session["calibration_id"] is not None
    with open_store(replayed["settings"].station.database_path) as store:
        latest = store.latest_calibration()
    assert latest["id"] == session["calibration_id"] and latest["floor_rms_mm"] > 0
    assert not replayed["settings"].station.calibration_path.exists()  # a replay's room is not this room


def test_the_session_and_its_set_end_in_the_store(replayed, recording):
    summary = replayed["summary"]
    session, sets, reps = replayed["stored"]
    assert summary.ended_by == "end of recording"
    assert summary.calibration.startswith("opening of recording")
    assert summary.frames == 311
    assert (summary.sets, len(summary.reps), summary.camera_losses, summary.store_failures) == (1, 2, 0, 0)
    assert session["ended"] is not None and session["interrupted"] is False
    assert session["source"] == summary.source == f"recording {recording}"
    assert [(s["number"], s["reps"], s["good_reps"]) for s in sets] == [(1, 2, 2)]
    assert sets[0]["ended"] is not None
    # A replayed recording is calibrated from its own opening and never overwrites the station's calibration.
    assert not replayed["settings"].station.calibration_path.exists()


def test_the_pins_show_each_touch_and_each_good_rep(replayed):
    factory = replayed["factory"]
    notes = factory.pin(PINS["buzzer"]).notes
    assert notes.count(TOUCH_HZ) == 2  # one pip per touch
    # The good rep's rising chime starts twice. Replayed this fast, the next touch's pip or the session's
    # end may cut a chime short on the wall clock, so its whole pattern is test_feedback's to check.
    assert notes.count(GOOD_REP_HZ[0]) == 2
    assert Tone("A4").frequency not in notes  # no fault buzz
    assert levels(factory, "green").count(1.0) >= 2  # green steady for each good rep
    assert 1.0 not in levels(factory, "red")
    amber = levels(factory, "amber")
    assert amber[1:3] == [1.0, 0.0]  # getting ready: amber flashing first
    assert all(levels(factory, name)[-1] == 0 for name in ("red", "amber", "green"))  # dark after the session


def test_the_live_feed_gets_every_event_and_throttled_snapshots(replayed):
    publisher, summary = replayed["publisher"], replayed["summary"]
    kinds = {event["type"] for event in publisher.events}
    assert {"station", "session", "patient", "rep_started", "touched", "rep", "rep_saved", "lights", "frame"} <= kinds
    assert [event["rep"]["index"] for event in publisher.of("rep")] == [1, 2]
    assert [event["rep_id"] for event in publisher.of("rep_saved")] == [1, 2]
    assert [event["state"] for event in publisher.of("session")][-1] == "ended"
    assert all(event["counted"] for event in publisher.of("touched"))
    frames = publisher.of("frame")
    assert 5 <= len(frames) <= summary.elapsed_s / 0.1 + 2  # about 10 Hz, whatever the frame rate
    assert all("lamps" in event["lights"] for event in frames)
    for event in publisher.events:
        json.dumps(event, allow_nan=False)  # what web.live.LiveFeed requires


# -- feedback settings and start-up --------------------------------------------------------------

def test_muted_sound_keeps_the_lamps_and_simulated_pins_are_said_once(recording, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger=LOGGER)
    factory = new_factory()
    summary = run_session(make_settings(tmp_path, muted=True), replay=recording, pin_factory=factory,
                          real_time=False)
    assert len(summary.reps) == 2
    assert [hz for hz in factory.pin(PINS["buzzer"]).notes if hz >= Tone("A4").frequency] == []  # no note
    assert set(levels(factory, "buzzer")) == {0}
    assert levels(factory, "green").count(1.0) >= 2
    said = [record.message for record in caplog.records if "simulated" in record.message]
    assert len(said) == 1 and "mock" in said[0]


def test_a_session_hands_its_freed_memory_back_once_its_measurer_is_gone(recording, tmp_path, monkeypatch):
    # Twenty sessions in a row grew the station by 150 MiB with Python's objects flat (glibc kept the freed
    # per-pixel tables): each session now trims the heap (glibc's malloc_trim) as it ends, its measurer gone.
    import station.malloc
    import station.measure
    measurers, alive_at_trim = [], []
    real_init = station.measure.Measurer.__init__

    def keep(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        measurers.append(weakref.ref(self))

    monkeypatch.setattr(station.measure.Measurer, "__init__", keep)
    libc = SimpleNamespace(malloc_trim=lambda pad: alive_at_trim.append([ref() is not None for ref in measurers]))
    monkeypatch.setattr(station.malloc, "_libc", lambda: libc)
    summary = run_session(make_settings(tmp_path, muted=True), replay=recording, pin_factory=new_factory(),
                          real_time=False)
    assert len(summary.reps) == 2
    gc.collect()
    assert measurers and alive_at_trim == [[False] * len(measurers)]


def test_a_calibration_file_that_fits_is_used(recording, analysis, tmp_path):
    settings = make_settings(tmp_path)
    save_calibration(analysis.calibration, settings.station.calibration_path)
    summary = run_session(settings, replay=recording, pin_factory=new_factory(), real_time=False)
    assert summary.calibration == f"file {settings.station.calibration_path}"
    assert [rep["faults"] for rep in summary.reps] == [[], []]
    with open_store(settings.station.database_path) as store:
        assert store.get_session(summary.session_id)["calibration_id"] == store.latest_calibration()["id"]


def raised(calibration, metres):
    """The calibration as if the camera had been ``metres`` higher when it was made."""
    pose = calibration.camera_pose
    return dataclasses.replace(calibration, camera_pose=Pose(pose.rotation, pose.translation + [0.0, metres, 0.0]))


def test_a_camera_that_moved_shows_trouble_instead_of_measuring(recording, analysis, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger=LOGGER)
    settings = make_settings(tmp_path)
    # The floor 3 cm off where it was. (camera_moved tells moves of a few cm or degrees; larger ones leave
    # too little of the planes where they were to tell, and it answers None.)
    save_calibration(raised(analysis.calibration, 0.03), settings.station.calibration_path)
    factory = new_factory()
    publisher = Recorder()
    source = Openers(lambda: Scripted(recording))
    summary = run_session(settings, source=source, publisher=publisher, pin_factory=factory)
    assert summary.ended_by == "end of source"
    assert summary.session_id is None and summary.reps == []  # never ready: nothing measured
    assert levels(factory, "red")[-2] == 1.0  # steady red until the end
    reasons = [event["reason"] for event in publisher.of("station") if event["state"] == "trouble"]
    assert reasons and "the camera has moved since calibration" in reasons[0]
    assert any("moved" in record.message for record in caplog.records)


def test_sessions_a_killed_station_left_open_are_closed_at_start(recording, tmp_path):
    settings = make_settings(tmp_path)
    with open_store(settings.station.database_path) as store:
        left_open = store.start_session(source="camera 1234")
    summary = run_session(settings, replay=recording, pin_factory=new_factory(), real_time=False,
                          max_duration_s=0.5)
    assert summary.abandoned_sessions == [left_open]
    with open_store(settings.station.database_path) as store:
        assert store.get_session(left_open)["interrupted"] is True


# -- the button ------------------------------------------------------------------------------------

def test_the_button_pauses_and_ends_a_set_and_starts_the_next(recording, tmp_path):
    """Rep 1 counts; a press at 12 s pauses (rep 2 at 14-17 s does not count), a hold at 18 s ends set 1,
    a press at 19 s starts set 2."""
    settings = make_settings(tmp_path)
    factory = new_factory()
    publisher = Recorder()
    amber_when_paused = []
    actions = {12.0: lambda: press(factory),
               12.5: lambda: amber_when_paused.append(factory.pin(PINS["amber"]).state),
               18.0: lambda: press(factory, hold_s=HOLD_S + 0.15),
               19.0: lambda: press(factory)}
    summary = run_session(settings, source=Openers(lambda: Scripted(recording, actions=actions)),
                          publisher=publisher, pin_factory=factory)
    session, sets, reps = stored(settings, summary.session_id)
    assert [(s["number"], s["reps"]) for s in sets] == [(1, 1), (2, 0)]
    assert all(s["ended"] is not None for s in sets)
    assert [rep["start_s"] < 12.0 for rep in reps] == [True]
    assert amber_when_paused == [1.0]  # amber steady while paused
    assert [event["state"] for event in publisher.of("session") if event["state"] != "idle"][:3] == \
        ["running", "running", "paused"]
    assert [event["counted"] for event in publisher.of("touched")] == [True, False]
    assert factory.pin(PINS["buzzer"]).notes.count(TOUCH_HZ) == 1  # no pip while paused


def test_a_second_press_resumes_and_reps_count_again(recording, tmp_path):
    settings = make_settings(tmp_path)
    factory = new_factory()
    actions = {12.0: lambda: press(factory), 12.6: lambda: press(factory)}
    summary = run_session(settings, source=Openers(lambda: Scripted(recording, actions=actions)),
                          pin_factory=factory)
    assert [(rep["set_number"], rep["index"]) for rep in summary.reps] == [(1, 1), (1, 2)]


# -- a lost camera ----------------------------------------------------------------------------------

def test_a_lost_camera_shows_trouble_keeps_the_reps_and_resumes(recording, tmp_path, caplog):
    """The camera goes at 12 s (after rep 1), is still gone at the first retry, and is back at the second."""
    caplog.set_level(logging.INFO, logger=LOGGER)
    settings = make_settings(tmp_path)
    factory = new_factory()
    during_outage = {}

    def still_unplugged():
        with open_store(settings.station.database_path) as store:
            during_outage["reps"] = len(store.session_reps(1))
        during_outage["red"] = factory.pin(PINS["red"]).state
        return CameraError("no RealSense camera is connected")

    class StillGone:
        def __call__(self):
            raise still_unplugged()

    first = Scripted(recording, fail_at=12.0)
    source = Openers(lambda: first, StillGone(), lambda: Scripted(recording, start_at=12.0))
    started = time.monotonic()
    summary = run_session(settings, source=source, pin_factory=factory)
    assert source.calls == 3
    assert time.monotonic() - started >= 2.0  # two retries a second apart
    assert during_outage == {"reps": 1, "red": 1.0}  # rep 1 was already stored, the red lamp on
    assert summary.camera_losses == 1
    assert [(rep["set_number"], rep["index"]) for rep in summary.reps] == [(1, 1), (1, 2)]
    session, sets, reps = stored(settings, summary.session_id)
    assert len(reps) == 2 and session["ended"] is not None
    # Rep 2's times go on from the session's start: after the outage, never overlapping rep 1.
    assert reps[1]["start_s"] > 13.8 + 1.0 and reps[1]["start_s"] > reps[0]["end_s"]
    assert summary.ended_by == "end of source"
    # A live camera's calibration from the empty scene is saved for the next start.
    assert load_calibration(settings.station.calibration_path).intrinsics.width == 424
    messages = " ".join(record.message for record in caplog.records)
    assert "camera lost" in messages and "frames again" in messages
    red = levels(factory, "red")
    assert 1.0 in red and red[-1] == 0


def test_a_camera_on_usb2_is_logged_by_the_session(recording, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger=LOGGER)
    stop = threading.Event()
    source = Scripted(recording, actions={1.0: lambda: (stop.set(), time.sleep(0.3))})
    source.info = SimpleNamespace(kind="camera", name="Intel RealSense D435", serial="1234", usb_type="2.1")
    run_session(make_settings(tmp_path), source=Openers(lambda: source), pin_factory=new_factory(),
                stop_event=stop)
    usb = [record for record in caplog.records if record.name == LOGGER and "USB 2.1" in record.message]
    assert [(record.levelno, record.message) for record in usb] == [(logging.WARNING,
                                                                     f"camera: {usb_warning('2.1')}")]


# -- stopping ------------------------------------------------------------------------------------

def test_sigterm_ends_the_session_cleanly(recording, tmp_path):
    settings = make_settings(tmp_path)
    factory = new_factory()
    before = signal.getsignal(signal.SIGTERM)
    actions = {12.0: lambda: (os.kill(os.getpid(), signal.SIGTERM), time.sleep(0.3))}
    summary = run_session(settings, source=Openers(lambda: Scripted(recording, actions=actions)),
                          pin_factory=factory)
    assert summary.ended_by == "signal SIGTERM"
    assert signal.getsignal(signal.SIGTERM) is before
    session, sets, reps = stored(settings, summary.session_id)
    assert session["ended"] is not None and session["interrupted"] is False
    assert [(s["reps"], s["ended"] is not None) for s in sets] == [(1, True)]
    assert summary.frames < 200  # stopped soon after 12 s (180 frames), not at the end (311)
    assert all(levels(factory, name)[-1] == 0 for name in ("red", "amber", "green", "buzzer"))


def test_stop_event_ends_the_session_from_another_thread(recording, tmp_path):
    settings = make_settings(tmp_path)
    stop = threading.Event()
    actions = {10.0: lambda: (stop.set(), time.sleep(0.3))}  # a moment for the main thread to act
    summary = run_session(settings, source=Openers(lambda: Scripted(recording, actions=actions)),
                          pin_factory=new_factory(), stop_event=stop)
    assert summary.ended_by == "stop"
    session, sets, reps = stored(settings, summary.session_id)
    assert session["ended"] is not None and reps == []  # rep 1 (8-11 s) was at the bottom, not on its way up: dropped


def test_real_time_replay_paces_the_frames(recording, tmp_path):
    """Four seconds in real time: about 60 frames at 15 fps; amber flashing, then the ready flash."""
    settings = make_settings(tmp_path)
    factory = new_factory()
    publisher = Recorder()
    summary = run_session(settings, replay=recording, pin_factory=factory, publisher=publisher,
                          max_duration_s=4.0)
    assert summary.ended_by == "duration"
    assert 3.9 <= summary.elapsed_s < 5.5
    assert 45 <= summary.frames <= 64
    assert [event["state"] for event in publisher.of("station")] == ["getting_ready", "ready"]
    assert levels(factory, "amber")[1:5] == [1.0, 0.0, 1.0, 0.0]  # 0.5 s on, 0.5 s off while calibrating
    assert 1.0 in levels(factory, "green")  # then the ready flash
    session, sets, reps = stored(settings, summary.session_id)
    assert session["ended"] is not None


# -- nothing blocks the camera thread ---------------------------------------------------------------

def test_a_stalled_publisher_costs_snapshots_never_reps(recording, tmp_path, monkeypatch):
    monkeypatch.setattr("station.live_worker.SNAPSHOT_BACKLOG", 3)  # full within the fast replay's 1-2 s
    class Stalled:
        def __init__(self):
            self.release = threading.Event()

        def publish(self, event):
            self.release.wait(30)

    publisher = Stalled()
    settings = make_settings(tmp_path)
    try:
        summary = run_session(settings, replay=recording, publisher=publisher, pin_factory=new_factory(),
                              real_time=False)
    finally:
        publisher.release.set()
    assert len(summary.reps) == 2
    assert summary.snapshots_dropped > 0
    session, sets, reps = stored(settings, summary.session_id)
    assert len(reps) == 2


# -- under systemd, and from the command line ---------------------------------------------------------

@pytest.fixture
def notify_socket(tmp_path, monkeypatch):
    """A datagram socket announced in NOTIFY_SOCKET, with a watchdog asked for every 0.2 s."""
    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    monkeypatch.setenv("WATCHDOG_USEC", "200000")
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    yield sock
    sock.close()


def test_under_systemd_ready_watchdog_status_and_stopping_are_sent(recording, tmp_path, notify_socket, monkeypatch):
    # A watchdog asked for every 0.05 s, so pings every 0.025 s: a replay as fast as it goes streams its frames
    # for only 0.2-0.3 s now that the simulator writes them raw (no decoding), and several pings must fit in it
    # (the camera thread asks as often as the watchdog needs: test_systemd_notify.py).
    monkeypatch.setenv("WATCHDOG_USEC", "50000")
    messages, done = [], threading.Event()

    def systemd():  # reads as systemd does, while the session runs
        notify_socket.settimeout(0.1)
        while not done.is_set():
            try:
                messages.append(notify_socket.recv(4096).decode())
            except socket.timeout:
                pass

    reader = threading.Thread(target=systemd)
    reader.start()
    try:
        run_session(make_settings(tmp_path), replay=recording, pin_factory=new_factory(), real_time=False)
        time.sleep(0.3)
    finally:
        done.set()
        reader.join()
    ready = [index for index, message in enumerate(messages) if message.startswith("READY=1")]
    assert len(ready) == 1
    assert messages.index("WATCHDOG=1") < ready[0]  # the first frame pings, then says ready
    assert messages.count("WATCHDOG=1") >= 3  # asked every 0.025 s over the replay's frames
    assert any(message.startswith("STATUS=session 1: set 1 running") for message in messages)
    assert "STOPPING=1" in messages


def test_a_systemd_that_does_not_read_never_holds_up_the_session(recording, tmp_path, notify_socket):
    """A datagram send blocks once the socket's queue is full (10 messages): never in the camera thread."""
    summary = run_session(make_settings(tmp_path), replay=recording, pin_factory=new_factory(), real_time=False)
    assert len(summary.reps) == 2 and summary.elapsed_s < 15


def test_wallhinge_run_replays_a_recording(recording, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "mock")
    monkeypatch.setenv("GPIOZERO_MOCK_PIN_CLASS", "mockpwmpin")
    saved = Device.pin_factory
    try:
        with socket.socket() as probe:  # a free port for the dashboard this run serves
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        code = main(["run", "--replay", str(recording), "--fast", "--set", f"station.data_dir={tmp_path}",
                     "--set", "station.muted=true", "--set", "station.web_host=127.0.0.1",
                     "--set", f"station.web_port={port}"])
    finally:
        if Device.pin_factory is not saved:
            Device.pin_factory.close()
        Device.pin_factory = saved
    out, err = capsys.readouterr()
    assert code == 0
    assert out == f"session 1: 1 sets, 2 reps (2 good) in {out.split(' in ')[1].split()[0]} s, ended by end of " \
                  f"recording; stored in {tmp_path / 'station.db'}\n"
    assert "wallhinge: no GPIO here" in err and "wallhinge: ready: session 1" in err
    assert f"wallhinge: dashboard on http://localhost:{port}/" in err


def test_wallhinge_run_refuses_a_bad_config_in_one_line(tmp_path, capsys):
    config = tmp_path / "station.toml"
    config.write_text("[thresholds]\ntouch_tolerance_mm = -1\n")
    assert main(["run", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"wallhinge: error: {config}: thresholds.touch_tolerance_mm = -1 is refused")


# -- who is at the wall -----------------------------------------------------------------------------

class Dashboard(Recorder):
    """A publisher that also hands the session commands, as web.live.LiveFeed does."""

    def __init__(self):
        super().__init__()
        self.waiting = []

    def command(self, name, **fields):
        self.waiting.append({"command": name, **fields, "by": "clinician"})
        time.sleep(0.35)  # called in the camera thread: let the live worker (every 0.1 s) pass it on

    def commands(self):
        taken, self.waiting = self.waiting, []
        return taken


def test_each_participant_gets_their_own_session(recording, tmp_path):
    """Ann is assigned before the patient arrives (rep 1 is hers); Ben after rep 1 (rep 2 is his)."""
    settings = make_settings(tmp_path)
    with open_store(settings.station.database_path) as store:
        ann = store.add_patient(code="A-1", display_name="Ann")
        ben = store.add_patient(code="B-2", display_name="Ben")
    dashboard = Dashboard()
    actions = {3.0: lambda: dashboard.command("assign", patient_id=ann),
               12.0: lambda: dashboard.command("assign", patient_id=ben)}
    summary = run_session(settings, source=Openers(lambda: Scripted(recording, actions=actions)),
                          publisher=dashboard, pin_factory=new_factory())
    assert len(summary.session_ids) == 2 and summary.session_id == summary.session_ids[-1]
    first, second = (stored(settings, session_id) for session_id in summary.session_ids)
    assert first[0]["patient_id"] == ann and second[0]["patient_id"] == ben
    assert [(s["number"], s["reps"]) for s in first[1]] == [(1, 1)]
    assert [(s["number"], s["reps"]) for s in second[1]] == [(1, 1)]
    assert first[0]["ended"] is not None and second[0]["ended"] is not None
    assert [event["patient_id"] for event in dashboard.of("session")][-1] == ben


def test_each_participant_is_judged_with_their_own_targets(recording, analysis, tmp_path):
    """Ann's clinician set a knee limit of 1 degree and a 35 mm touch: her rep is a squat, judged so and
    stored with those limits; Ben has no targets set, so the station's limits judge his rep."""
    settings = make_settings(tmp_path)
    with open_store(settings.station.database_path) as store:
        ann = store.add_patient(code="A-1", display_name="Ann")
        ben = store.add_patient(code="B-2", display_name="Ben")
        store.set_targets(ann, max_knee_flexion_deg=1, touch_tolerance_mm=35, reps_per_set=5)
    dashboard = Dashboard()
    actions = {3.0: lambda: dashboard.command("assign", patient_id=ann),
               12.0: lambda: dashboard.command("assign", patient_id=ben)}
    run_session(settings, source=Openers(lambda: Scripted(recording, actions=actions)),
                publisher=dashboard, pin_factory=new_factory())
    assert "squat" not in analysis.reps[0].faults and "squat" not in analysis.reps[1].faults
    reps = [rep for event in dashboard.of("rep") for rep in [event["rep"]]]
    saved = {}
    with open_store(settings.station.database_path) as store:
        for session in store.recent_activity():
            saved[session["patient_id"]] = store.session_reps(session["id"])
    [anns], [bens] = saved[ann], saved[ben]
    assert "squat" in anns["faults"] and anns["limits"]["max_knee_flexion_deg"] == 1
    assert anns["limits"]["touch_tolerance_mm"] == 35
    assert "squat" not in bens["faults"]
    assert bens["limits"]["max_knee_flexion_deg"] == settings.thresholds.max_knee_flexion_deg
    assert bens["limits"]["touch_tolerance_mm"] == settings.thresholds.touch_tolerance_mm
    assert [rep["faults"] for rep in reps] == [anns["faults"], bens["faults"]]
    # The kiosk hears each participant's set size and touch tolerance.
    by_patient = {event["patient_id"]: event for event in dashboard.of("session")}
    assert (by_patient[ann]["reps_per_set"], by_patient[ann]["touch_tolerance_mm"]) == (5, 35)
    assert (by_patient[ben]["reps_per_set"], by_patient[ben]["touch_tolerance_mm"]) == (
        settings.targets.reps_per_set, settings.thresholds.touch_tolerance_mm)


def test_stopping_while_the_patient_stands_up_stores_the_rep_as_measured(recording, analysis, tmp_path):
    """Ctrl-C on the way up of the first rep: the rep is kept with what was measured, its return not seen,
    never an invented incomplete_return."""
    settings = make_settings(tmp_path)
    first = analysis.reps[0]
    assert first.faults == () and first.score == 100
    stop = threading.Event()

    def ctrl_c():
        stop.set()
        time.sleep(0.6)  # the camera thread is held here until the main thread has stopped the loop

    # On the way up, a third of the way from the hold to standing: well before the trunk is back within
    # 10 degrees of standing.
    on_the_way_up = first.bottom_s + first.hold_s + first.ascent_s / 3
    summary = run_session(settings, source=Openers(lambda: Scripted(recording, actions={on_the_way_up: ctrl_c})),
                          pin_factory=new_factory(), stop_event=stop)
    assert summary.ended_by == "stop"
    _, _, reps = stored(settings, summary.session_id)
    (cut,) = reps
    assert cut["faults"] == [] and cut["score"] == 100
    assert cut["return_trunk_angle_deg"] is None  # not seen: the page says the session ended first
    assert cut["peak_trunk_angle_deg"] == pytest.approx(first.peak_trunk_angle_deg, abs=0.5)


def test_a_busy_store_never_holds_up_the_camera_and_loses_no_rep(recording, tmp_path, caplog):
    """Another program holds the database's write lock for 6 s from 5 s into the recording (the store
    waits 5 s, then retries every second): the frames go on, and both reps are stored once it lets go."""
    caplog.set_level(logging.INFO, logger=LOGGER)
    settings = make_settings(tmp_path)
    other = sqlite3.connect(settings.station.database_path, check_same_thread=False, isolation_level=None)
    times = {}

    def hold_the_lock():
        other.execute("BEGIN IMMEDIATE")
        times["locked"] = time.monotonic()

        def let_go():
            other.execute("ROLLBACK")
            times["released"] = time.monotonic()
        threading.Timer(6.0, let_go).start()

    actions = {5.0: hold_the_lock, 20.5: lambda: times.setdefault("last_frame", time.monotonic())}
    try:
        summary = run_session(settings, source=Openers(lambda: Scripted(recording, actions=actions)),
                              pin_factory=new_factory())
    finally:
        other.close()
    assert times["last_frame"] < times["released"] - 3.0  # the whole recording went by while the store waited
    assert summary.store_failures == 0
    session, sets, reps = stored(settings, summary.session_id)
    assert len(reps) == 2 and session["ended"] is not None and sets[0]["ended"] is not None
    messages = " ".join(record.message for record in caplog.records)
    assert "the store failed" in messages and "works again" in messages


# -- a store that fails: nothing lost ------------------------------------------------------------

def _quick_busy_store(monkeypatch, busy_s=0.5):
    """The session's store gives up on a held lock after ``busy_s`` instead of 5 s (a faster test, the same path)."""
    import station.session_storage
    from station.store import open_store as real_open_store
    monkeypatch.setattr(station.session_storage, "open_store", lambda path: real_open_store(path, busy_timeout_s=busy_s))


def _hold_the_write_lock(path, held):
    """Another program takes the database's write lock (the store then fails every write) until released."""
    other = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    held.append(other)

    def take():
        other.execute("BEGIN IMMEDIATE")
    return take


def test_a_store_failing_at_the_end_keeps_the_reps_in_a_journal_written_in_once_at_the_next_start(
        recording, analysis, tmp_path, monkeypatch, caplog):
    import station.session_storage
    from station.journal import journal_paths, replay_journals
    monkeypatch.setattr(station.session_storage, "STORE_DRAIN_S", 0.5)
    _quick_busy_store(monkeypatch)
    caplog.set_level(logging.INFO, logger=LOGGER)
    settings = make_settings(tmp_path)
    database = settings.station.database_path
    held = []
    lock_at = analysis.reps[0].start_s - 0.1
    publisher = Recorder()
    try:
        summary = run_session(settings, publisher=publisher, pin_factory=new_factory(), source=Openers(
            lambda: Scripted(recording, actions={lock_at: _hold_the_write_lock(database, held)})))
    finally:
        held[0].execute("ROLLBACK")
        held[0].close()
    journal = journal_paths(database)[0]
    assert summary.journal == str(journal) and journal.exists()
    assert len(summary.reps) == 2 and summary.reps_not_stored == 2 and summary.store_failures == 0
    assert any("2 reps (" in record.message and "kept in the journal" in record.message for record in caplog.records)
    states = [event["state"] for event in publisher.of("storage")]
    assert states[0] == "failing" and states[-1] == "journal"
    first = summary.session_id
    assert stored(settings, first)[2] == []  # nothing of the reps reached the database

    kept = journal.read_bytes()
    again = run_session(settings, replay=recording, pin_factory=new_factory(), real_time=False)
    assert again.reps_from_journal == 2 and not journal.exists()
    session, sets, reps = stored(settings, first)
    assert [rep["index"] for rep in reps] == [1, 2] and session["ended"] is not None
    assert sets[0]["ended"] is not None and not session["interrupted"]
    assert [rep["min_wall_gap_mm"] for rep in reps] == pytest.approx(
        [rep["min_wall_gap_mm"] for rep in summary.reps], abs=1e-3)
    assert len(reps[0]["series"]["t_s"]) > 10

    # A start killed after writing the journal in but before deleting it writes nothing twice.
    journal.write_bytes(kept)
    with open_store(database) as store:
        assert replay_journals(store, database)["reps"] == 0
        assert len(store.session_reps(first)) == 2 and not journal.exists()


def test_a_store_that_fails_then_recovers_shows_it_live_and_loses_nothing(recording, tmp_path, monkeypatch):
    _quick_busy_store(monkeypatch)
    settings = make_settings(tmp_path)
    held = []
    publisher = Recorder()

    def let_go():  # longer than the store's busy wait, so writes fail, then work again
        threading.Timer(2.5, lambda: held[0].execute("ROLLBACK")).start()

    actions = {5.0: _hold_the_write_lock(settings.station.database_path, held), 5.1: let_go}
    try:
        summary = run_session(settings, publisher=publisher, pin_factory=new_factory(),
                              source=Openers(lambda: Scripted(recording, actions=actions)))
    finally:
        held[0].close()
    assert [event["state"] for event in publisher.of("storage")] == ["failing", "ok"]
    assert summary.journal is None and summary.reps_not_stored == 0 and summary.store_failures == 0
    assert len(stored(settings, summary.session_id)[2]) == 2


def test_the_summary_says_whether_the_reps_back_was_checked_never_none():
    checked = SessionSummary(back_camera="above", reps=[{"faults": ["rounded_back"], "peak_spine_flexion_deg": 31.0},
                                                        {"faults": [], "peak_spine_flexion_deg": 8.0}])
    assert checked.back_words() == "checked, 1 rounded"
    # A rep whose bottom was not seen (someone in front) had no back read: not "checked".
    checked.reps.append({"faults": [], "peak_spine_flexion_deg": None})
    assert checked.back_words() == "checked on 2 of 3, 1 rounded"
    unchecked = SessionSummary(back_camera="above", back_reason="the camera above is lost")
    assert unchecked.back_words() == "not checked (the camera above is lost)"


def test_a_clinician_stepping_in_front_keeps_the_set_whole_and_the_set_says_when(tmp_path_factory):
    # Someone stands square between the camera and the patient during the second rep (the scenario
    # clinician-in-front; seed 2: 0.5 m in front of them, for 3.7 s). The patient is there but hidden: the set goes on (it is not ended as if they had
    # left), the rep counts with its bottom not seen, and the stored set carries when and why they were hidden,
    # so the dashboard never shows its count as all that was seen.
    from station.measure import PATIENT_HIDDEN
    from station.sim.scenarios import build_scene
    from station.sim.simulate import simulate, truth_path

    folder = tmp_path_factory.mktemp("in-front")
    path = folder / "clinician-in-front.db3"
    simulate(build_scene("clinician-in-front", 2, fps=15), path)
    truth = json.loads(truth_path(path).read_text())
    settings = make_settings(folder)
    summary = run_session(settings, replay=path, pin_factory=new_factory(), real_time=False)
    _, sets, reps = stored(settings, summary.session_id)
    assert len(sets) == 1  # the patient did not "leave" (the code before ended the set and began another)
    first, second, third = truth["reps"]
    for expected in (first, third):  # counted and measured, before and after
        assert [rep["peak_trunk_angle_deg"] is not None for rep in reps
                if abs(rep["bottom_s"] - expected["bottom_s"]) < 1.0] == [True]
    # The second rep (3.6 s), behind the clinician from half a second before it began for 3.7 s, is counted
    # with its bottom not seen or not at all; the set says when the patient was hidden, over it.
    assert len(reps) in (2, 3) and all(rep["peak_trunk_angle_deg"] is None for rep in reps
                                       if abs(rep["bottom_s"] - second["bottom_s"]) < 1.0)
    [span] = sets[0]["hidden_spans"]
    assert span["reason"] == PATIENT_HIDDEN
    assert second["start_s"] - 1.0 < span["start_s"] < second["bottom_s"] < span["end_s"]
