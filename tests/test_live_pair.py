"""The live station on the two-camera set-up side+wall-above: the pair replayed through the whole loop on mock pins.

The recordings are conftest's ``pair_recording`` (two good reps, 15 fps,
about 21 s, and the camera above's ``NAME.above.db3``), read as fast as
possible. A camera above that is lost, missing, moved or cut short is
scripted with the real recordings: the side camera's measurement must go on
and the back become "not checked" with a reason.
"""

import dataclasses
import itertools
import logging

import pytest

from station import session as session_module
from station.analyze import analyze_frames
from station.calibration_files import load_above_calibration, save_above_calibration
from station.camera import open_recording
from station.camera_pair import LiveBack, SourcePair, back_recording_path, open_back_recording, open_recording_pair
from station.errors import CameraError, NoCameraError
from station.geometry import Pose
from station.session import run_session
from station.settings import load_settings
from station.sim.recording import RecordingWriter
from tests.test_session import LOGGER, Recorder, Scripted, new_factory

NOT_VALIDATED = "its measurement has not met its accuracy targets yet"


def pair_settings(tmp_path, **setup):
    return load_settings(overrides={"station": {"data_dir": str(tmp_path)},
                                    "setup": {"placement": "side+wall-above", **setup}})


class PairOpener:
    """Opens the pair as a live station would (tolerant), from the recordings: the camera above is ``back()``'s."""

    label = "scripted camera"
    back_label = "scripted camera above"

    def __init__(self, path, back=None):
        self._path = path
        self._back = back or (lambda: open_back_recording(back_recording_path(path)))
        self.pair = None

    def __call__(self):
        self.pair = SourcePair(Scripted(self._path), self._back(), self.back_label, tolerant=True)
        self.pair.side.info = self.pair.side._inner.info
        return self.pair


class LostAt:
    """The camera above's recording, read in step, until it raises CameraError at ``t_s`` (unplugged)."""

    def __init__(self, path, t_s):
        self._inner = open_back_recording(back_recording_path(path))
        self.info, self._t_s = self._inner.info, t_s

    def __iter__(self):
        for frame in self._inner:
            if frame.timestamp_s >= self._t_s:
                raise CameraError("no depth frame from the camera within 5 s (simulated unplugging)")
            yield frame

    def close(self):
        self._inner.close()


@pytest.fixture(scope="module")
def pair_analysis(pair_recording):
    path, _ = pair_recording
    with open_recording_pair(path, back_recording_path(path)) as pair:
        return analyze_frames(pair.side, str(path), back_frames=pair.back, back_label=pair.back_label,
                              period_s=1.0 / pair.side.info.fps)


@pytest.fixture(scope="module")
def replayed_pair(pair_recording, tmp_path_factory):
    """The pair replayed live with a drill variant whose back check is not validated (a stick along the back)."""
    path, _ = pair_recording
    settings = pair_settings(tmp_path_factory.mktemp("replayed-pair"), drill_variant="stick")
    publisher = Recorder()
    # A snapshot of every frame, however fast the replay runs (they come every 0.1 s of the wall clock).
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(session_module, "SNAPSHOT_INTERVAL_S", 0.0)
        summary = run_session(settings, replay=path, publisher=publisher, pin_factory=new_factory(), real_time=False)
    return dict(settings=settings, summary=summary, frames=publisher.of("frame"))


def test_a_replayed_pair_reads_the_back_per_frame_as_analyze_does(replayed_pair, pair_analysis, pair_recording):
    path, truth = pair_recording
    summary, frames = replayed_pair["summary"], replayed_pair["frames"]
    assert summary.back_camera == str(back_recording_path(path))
    # The side camera's reps are analyze's; the camera above read the back in most frames at the spot.
    assert [rep["start_s"] for rep in summary.reps] == pytest.approx([rep.start_s for rep in pair_analysis.reps])
    at_spot = sum(frame["present"] for frame in truth["frames"])
    assert summary.back_frames_read == sum(f["spine_flexion_deg"] is not None for f in pair_analysis.frames)
    assert summary.back_frames_read > 0.5 * at_spot
    # Each live snapshot's spine flexion is analyze's for that frame.
    by_time = {frame["t_s"]: frame for frame in pair_analysis.frames}
    measured = [frame for frame in frames if "present" in frame]
    assert len(measured) > 10
    assert [frame["spine_flexion_deg"] for frame in measured] == [by_time[frame["t_s"]]["spine_flexion_deg"]
                                                                  for frame in measured]
    assert any(frame["spine_flexion_deg"] is not None for frame in measured)


def test_the_back_stays_not_checked_until_validated_and_the_reps_say_so(replayed_pair):
    summary, frames = replayed_pair["summary"], replayed_pair["frames"]
    assert all(rep["peak_spine_flexion_deg"] is None and "rounded_back" not in rep["faults"] for rep in summary.reps)
    assert summary.reps and all(NOT_VALIDATED in rep["back_note"] for rep in summary.reps)  # stored with each rep
    measured = [frame for frame in frames if "present" in frame]
    assert {frame["back_checked"] for frame in measured} == {False}
    assert all(NOT_VALIDATED in frame["back_reason"] for frame in measured)
    assert NOT_VALIDATED in summary.back_reason


def test_a_one_camera_replay_says_nothing_of_a_back_camera(short_recording, tmp_path):
    publisher = Recorder()
    summary = run_session(load_settings(overrides={"station": {"data_dir": str(tmp_path)}}), replay=short_recording[0],
                          publisher=publisher, pin_factory=new_factory(), real_time=False, max_duration_s=1.0)
    assert summary.back_camera is None and summary.back_frames_read == 0
    assert all("back_checked" not in frame and "back_reason" not in frame for frame in publisher.of("frame"))


def test_the_camera_above_calibration_is_saved_and_a_restart_uses_it(pair_recording, tmp_path, caplog):
    path, _ = pair_recording
    settings = pair_settings(tmp_path)
    caplog.set_level(logging.INFO, logger=LOGGER)
    first = run_session(settings, source=PairOpener(path), pin_factory=new_factory())
    saved = load_above_calibration(settings.station.above_calibration_path)
    assert first.back_frames_read > 100 and saved.intrinsics.width == 424
    assert "calibrating the camera above" in caplog.text
    caplog.clear()
    # Started again, from the middle of the session (someone at the spot): no empty room needed.
    again = run_session(settings, source=PairOpener(path), pin_factory=new_factory())
    assert "calibrating the camera above" not in caplog.text
    assert again.back_frames_read == first.back_frames_read


def test_a_camera_above_that_moved_is_not_read_and_the_side_goes_on(pair_recording, pair_analysis, tmp_path, caplog):
    path, _ = pair_recording
    settings = pair_settings(tmp_path)
    calibration = pair_analysis.back.calibration
    pose = calibration.camera_pose
    save_above_calibration(dataclasses.replace(calibration, camera_pose=Pose(pose.rotation, pose.translation
                                                                             + [0.0, 0.03, 0.0])),
                           settings.station.above_calibration_path)
    caplog.set_level(logging.INFO, logger=LOGGER)
    publisher = Recorder()
    summary = run_session(settings, source=PairOpener(path), publisher=publisher, pin_factory=new_factory())
    assert len(summary.reps) == 2 and summary.back_frames_read == 0
    assert summary.back_reason.startswith("the camera above has moved since calibration: the floor is 3 cm")
    reasons = {frame["back_reason"] for frame in publisher.of("frame") if "present" in frame}
    assert len(reasons) == 1 and "moved" in reasons.pop()
    assert sum("back not checked" in record.message for record in caplog.records) == 1


def test_a_camera_above_lost_mid_session_leaves_the_side_measuring(pair_recording, pair_analysis, tmp_path, caplog):
    path, _ = pair_recording
    caplog.set_level(logging.INFO, logger=LOGGER)
    publisher = Recorder()
    summary = run_session(pair_settings(tmp_path), source=PairOpener(path, back=lambda: LostAt(path, 12.0)),
                          publisher=publisher, pin_factory=new_factory())
    assert summary.ended_by == "end of source" and summary.camera_losses == 0
    assert [rep["start_s"] for rep in summary.reps] == pytest.approx([rep.start_s for rep in pair_analysis.reps])
    read_before = sum(f["spine_flexion_deg"] is not None for f in pair_analysis.frames if f["t_s"] < 12.0)
    assert read_before - 2 <= summary.back_frames_read <= read_before and read_before > 0
    late = [frame for frame in publisher.of("frame") if "present" in frame and frame["t_s"] > 12.1]
    assert late and all(frame["back_reason"].startswith("scripted camera above is lost (no depth frame")
                        and frame["spine_flexion_deg"] is None for frame in late)
    lines = [record.message for record in caplog.records if "back not checked" in record.message]
    assert len(lines) == 1 and "the side camera goes on measuring" in lines[0]


def test_a_camera_above_missing_at_the_start_is_tried_again_and_the_side_measures(pair_recording, tmp_path):
    path, _ = pair_recording
    tries = []

    def unplugged():
        tries.append(1)
        raise NoCameraError("no RealSense camera with serial 222 is connected")

    def live_back():
        return LiveBack(unplugged, label="the camera above (222)", period_s=1 / 15, retry_s=0.05).start()

    publisher = Recorder()
    opener = PairOpener(path, back=live_back)
    summary = run_session(pair_settings(tmp_path), source=opener, publisher=publisher, pin_factory=new_factory())
    assert len(summary.reps) == 2 and summary.back_frames_read == 0
    assert len(tries) >= 2  # opened again while the side measured
    assert opener.pair.back.waits_in_vain == 0  # the side camera never waited for it
    assert summary.back_reason == ("the camera above (222) is not available (no RealSense camera with serial 222 "
                                   "is connected)")


def test_a_live_camera_above_pairs_through_its_own_thread(pair_recording):
    path, truth = pair_recording
    back = LiveBack(lambda: open_recording(back_recording_path(path), real_time=True), label="above",
                    period_s=1 / 15).start()
    with SourcePair(open_recording(path, real_time=True), back, "above", tolerant=True) as pair:
        pairs = list(itertools.islice(pair, 30))
    assert back.openings == 1 and back.trouble is None
    # After the first few (the thread starting), every side frame has its back frame.
    assert all(b is not None for _, b in pairs[5:])
    offset = truth["back_camera"]["clock_offset_s"]
    assert {round(b.clock_s - s.clock_s, 3) for s, b in pairs[5:]} == {round(offset, 3)}


def test_a_cut_back_recording_on_replay_is_one_line_and_the_side_goes_on(pair_recording, tmp_path, caplog):
    path, _ = pair_recording
    cut = tmp_path / "cut.above.db3"
    with open_back_recording(back_recording_path(path)) as source:
        frames = list(itertools.takewhile(lambda f: f.timestamp_s < 14.0, source))
    with RecordingWriter(cut, frames[0].intrinsics, source.info.fps, serial="CUT") as writer:
        for frame in frames:
            writer.write(frame.depth, frame.clock_s)
    caplog.set_level(logging.INFO, logger=LOGGER)
    summary = run_session(pair_settings(tmp_path), replay=path, back_replay=cut, pin_factory=new_factory(),
                          real_time=False)
    assert len(summary.reps) == 2 and summary.back_frames_read > 0
    assert summary.back_reason.startswith(f"{cut} ends 13.9 s into the side camera's recording: it is cut short")
    assert sum("back not checked" in record.message for record in caplog.records) == 1


def test_hardware_sync_on_recordings_says_in_one_line_and_pairs_by_global_time(pair_recording, tmp_path, caplog):
    path, _ = pair_recording
    caplog.set_level(logging.INFO, logger=LOGGER)
    summary = run_session(pair_settings(tmp_path, hardware_sync=True), replay=path, pin_factory=new_factory(),
                          real_time=False, max_duration_s=1.0)
    notes = [record.message for record in caplog.records if "hardware sync" in record.message]
    assert len(notes) == 2 and all("has no inter-camera sync option: its frames are paired by the cameras' global "
                                   "time instead" in note for note in notes)
    assert summary.frames > 0 and summary.ended_by == "duration"  # it went on, by global time


def test_a_camera_above_plugged_in_late_is_read_from_then_on(pair_recording, tmp_path):
    path, _ = pair_recording
    attempts = []

    def plugged_in_late():
        attempts.append(1)
        if len(attempts) < 3:
            raise NoCameraError("no RealSense camera with serial 222 is connected")
        return Scripted(back_recording_path(path), start_at=4.0)  # its first frame 4 s after the side camera's

    def live_back():
        return LiveBack(plugged_in_late, label="the camera above (222)", period_s=1 / 15, retry_s=0.05).start()

    opener = PairOpener(path, back=live_back)
    summary = run_session(pair_settings(tmp_path), source=opener, pin_factory=new_factory())
    # Not refused as "another session": its frames are paired from then on (read here far faster than the side's,
    # so it ends and is opened again; what matters is that the side's reps are all there).
    assert len(summary.reps) == 2 and len(attempts) >= 3 and opener.pair.back.openings >= 1


def test_wallhinge_run_replays_the_pair_and_says_what_the_camera_above_read(pair_recording, tmp_path, monkeypatch):
    from gpiozero import Device

    from tests.test_cli import assert_one_error_line, run

    path, _ = pair_recording
    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "mock")
    monkeypatch.setenv("GPIOZERO_MOCK_PIN_CLASS", "mockpwmpin")
    saved = Device.pin_factory
    try:
        code, out, err = run(["run", "--replay", str(path), "--fast", "--no-web", "--set",
                              f"station.data_dir={tmp_path}", "--set", "station.muted=true"])
        assert code == 0, err
        last = out.splitlines()[-1]
        assert last.startswith(f"the camera above ({back_recording_path(path)}) read the back in ")
        assert last.endswith("; the reps' back: checked, 0 rounded")  # hands on the hips: validated, a good set
        code, out, err = run(["run", "--replay", str(path), "--back-camera", str(tmp_path / "none.above.db3"),
                              "--no-web", "--set", f"station.data_dir={tmp_path}"])
        assert code == 2
        assert_one_error_line(err)
        assert "none.above.db3 is missing" in err
        code, out, err = run(["run", "--back-camera", str(tmp_path / "none.above.db3")])
        assert code == 2 and "--back-camera needs --replay" in err
    finally:
        if Device.pin_factory is not saved:
            Device.pin_factory.close()
        Device.pin_factory = saved


def test_once_the_set_up_is_validated_the_frames_carry_the_reading_as_checked(pair_recording, tmp_path):
    path, _ = pair_recording
    publisher = Recorder()  # hands on the hips: validated
    summary = run_session(pair_settings(tmp_path), replay=path, publisher=publisher, pin_factory=new_factory(),
                          real_time=False)
    measured = [frame for frame in publisher.of("frame") if frame.get("present")]
    read = [frame for frame in measured if frame["spine_flexion_deg"] is not None]
    assert read and all(frame["back_checked"] is True and frame.get("back_reason") is None for frame in read)
    # A checked back with no reading this frame says why (e.g. no standing baseline yet).
    unread = [frame for frame in measured if frame["spine_flexion_deg"] is None]
    assert all(frame["back_checked"] is True and frame.get("back_reason") for frame in unread)
    assert summary.back_reason is None
    # The reps judge the back by the camera above's reading, as analyze does for a validated set-up;
    # never by the side camera's outline (the elbow's, with the hands on the hips).
    with open_recording_pair(path, back_recording_path(path)) as pair:
        judged = analyze_frames(pair.side, str(path), back_frames=pair.back, back_label=pair.back_label,
                                period_s=1.0 / pair.side.info.fps, judge_back=True)
    peaks = [rep.peak_spine_flexion_deg for rep in judged.reps]
    assert len(peaks) == 2 and None not in peaks
    assert [rep["peak_spine_flexion_deg"] for rep in summary.reps] == pytest.approx(peaks, abs=0.051)
    assert [rep["back_note"] for rep in summary.reps] == [None, None]
    assert all("rounded_back" not in rep["faults"] for rep in summary.reps)  # a good set


def test_a_camera_above_opened_again_after_a_loss_is_checked_for_a_move_before_it_is_read(pair_analysis,
                                                                                           pair_recording, tmp_path):
    from station.back_phase import BackPhase

    path, _ = pair_recording
    with open_back_recording(back_recording_path(path)) as source:
        frames = list(itertools.islice(source, 12))
    calibration = pair_analysis.back.calibration
    save_above_calibration(calibration, tmp_path / "c.above.json")
    phase = BackPhase(tmp_path / "c.above.json", replay=False, label="the camera above (222)", setup_reason=None)
    phase.frame(0.0, frames[0], source_trouble=None, openings=1)
    assert phase.phase == "reading" and phase.checked
    phase.frame(0.1, None, source_trouble="the camera above (222) is lost (unplugged)", openings=1)
    assert not phase.checked and phase.reason == "the camera above (222) is lost (unplugged)"
    # Back, but knocked 3 cm while unplugged: not read until it is where it was.
    pose = calibration.camera_pose
    phase.calibration = dataclasses.replace(calibration, camera_pose=Pose(pose.rotation,
                                                                          pose.translation + [0.0, 0.03, 0.0]))
    phase.frame(0.2, frames[1], source_trouble=None, openings=2)
    assert phase.phase == "moved" and "has moved since calibration" in phase.reason and not phase.checked
