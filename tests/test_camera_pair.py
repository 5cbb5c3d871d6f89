"""The two-camera set-up side+wall-above: simulated as two recordings of one scene, replayed and paired."""

import dataclasses
import itertools
import json
import re
import time

import jsonschema
import numpy as np
import pytest

from station.above_calibration import calibrate_above
from station.back_camera import back_reader_from_opening
from station.camera import DepthFrame, open_recording
from station.camera_pair import (back_recording_path, open_back_recording, open_camera_pair, open_recording_pair,
                                 paired_frames)
from station.errors import CalibrationError, NoCameraError, RecordingError
from station.frame_step import OPENING_S
from station.geometry import Intrinsics, Pose
from station.settings import CameraSettings
from station.setup import BACK_HIDDEN_BY_SETUP, BACK_NOT_VALIDATED
from station.setup import PLACEMENTS as SETUP_PLACEMENTS
from station.sim.placements import PAIRS, PLACEMENTS, pair_placements, placement_mount
from station.sim.scenarios import build_scene
from station.sim.recording import RecordingWriter
from station.sim.scene import AimedMount
from station.sim.sensor import sense
from station.sim.simulate import SceneRenderer
from tests.test_analyze import SCHEMA
from tests.test_cli import assert_one_error_line, run
from wallhinge.cli import main


# -- simulating the pair -------------------------------------------------------------

def test_every_two_camera_set_up_of_the_settings_can_be_simulated():
    assert set(PAIRS) == {name for name in SETUP_PLACEMENTS if "+" in name}
    for name in PAIRS:
        side, back = pair_placements(name)
        assert side == "side" and back in PLACEMENTS
    assert pair_placements("side") is None
    with pytest.raises(ValueError, match=re.escape("unknown placement 'side+behind'")):
        pair_placements("side+behind")


def test_a_pair_is_two_recordings_of_one_scene_with_the_second_cameras_truth(pair_recording):
    path, truth = pair_recording
    back = back_recording_path(path)
    assert back.name == "good-set.above.db3" and back.is_file()
    spec = build_scene("good-set", 4, fps=15, reps=2)
    mount = placement_mount("wall-above", spec.mount.side, 4)
    camera = truth["back_camera"]
    assert camera["recording"] == back.name and camera["placement"] == "wall-above"
    expected = mount.pose(spec.spot_z_m).as_matrix()
    assert np.allclose(camera["camera_pose_in_room"], expected, atol=1e-5)
    # The side camera's own truth is the one-camera recording's.
    assert np.allclose(truth["camera_pose_in_room"], SceneRenderer(spec).camera_pose.as_matrix(), atol=1e-5)
    # The second camera's frames are a fraction of a frame off the side camera's, never the same instants.
    offset = camera["clock_offset_s"]
    assert 0 < abs(offset) < 0.5 / truth["fps"]
    assert len(camera["frames"]) == len(truth["frames"])
    assert camera["frames"][40]["t_s"] == pytest.approx(truth["frames"][40]["t_s"] + offset, abs=1e-6)
    spines = [f["spine_flexion_deg"] for f in camera["frames"] if f["spine_flexion_deg"] is not None]
    assert len(spines) > len(camera["frames"]) // 2


def test_both_recordings_replay_through_the_pipeline_on_one_clock(pair_recording):
    path, truth = pair_recording
    with open_recording(path) as side, open_recording(back_recording_path(path)) as back:
        assert back.info.serial == side.info.serial + "B"
        side_first, back_first = next(iter(side)), next(iter(back))
        assert side_first.clock_s == pytest.approx(truth["clock_origin_s"], abs=1e-3)
        assert back_first.clock_s - side_first.clock_s == pytest.approx(truth["back_camera"]["clock_offset_s"],
                                                                        abs=1e-3)


def test_simulate_writes_the_pair_and_says_so(tmp_path, capsys):
    out = tmp_path / "pair.db3"
    assert main(["simulate", str(out), "--scenario", "empty", "--seed", "2", "--fps", "15",
                 "--placement", "side+ceiling", "--quiet"]) == 0
    said = capsys.readouterr().out
    assert out.is_file() and (tmp_path / "pair.above.db3").is_file()
    assert "pair.above.db3 (the ceiling camera)" in said


def test_one_camera_recordings_keep_their_clock_from_zero(short_recording):
    path, truth = short_recording
    assert "back_camera" not in truth and "clock_origin_s" not in truth
    with open_recording(path) as source:
        assert next(iter(source)).clock_s == pytest.approx(0.0, abs=1e-6)


# -- replaying and pairing ---------------------------------------------------------------

def _frame(clock_s, value=0):
    intrinsics = Intrinsics(4, 3, 3.0, 3.0, 1.5, 1.0)
    return DepthFrame(np.full((3, 4), value, np.uint16), 0.001, clock_s, 0, intrinsics, clock_s=clock_s)


def test_each_side_frame_pairs_with_the_nearest_back_frame_within_half_a_period():
    side = [_frame(100.0 + i / 30) for i in range(10)]
    # The back camera 12 ms late, one of its frames dropped (the 5th).
    back = [_frame(100.012 + i / 30, value=i) for i in range(10) if i != 4]
    pairs = list(paired_frames(side, back, period_s=1 / 30, back_label="back"))
    assert [s.clock_s for s, _ in pairs] == [f.clock_s for f in side]
    assert [None if b is None else int(b.depth[0, 0]) for _, b in pairs] == [0, 1, 2, 3, None, 5, 6, 7, 8, 9]


def test_a_back_camera_at_another_rate_pairs_with_the_nearest():
    side = [_frame(i / 15) for i in range(6)]
    back = [_frame(0.004 + i / 30, value=i) for i in range(12)]
    pairs = list(paired_frames(side, back, period_s=1 / 15, back_label="back"))
    assert [int(b.depth[0, 0]) for _, b in pairs] == [0, 2, 4, 6, 8, 10]


def test_back_frames_of_another_session_or_cut_short_are_one_line_errors():
    side = [_frame(1000.0 + i / 30) for i in range(90)]
    with pytest.raises(RecordingError, match="not of the same session: its first frame is 1.0 hours after"):
        list(paired_frames(side, [_frame(4600.0)], period_s=1 / 30, back_label="the back camera's recording"))
    with pytest.raises(RecordingError, match=r"ends 1\.0 s before the side camera's recording \(2\.0 s of 3\.0 s\)"):
        list(paired_frames(side, side[:61], period_s=1 / 30, back_label="b.above.db3"))
    with pytest.raises(RecordingError, match="has no depth frames"):
        list(paired_frames(side, [], period_s=1 / 30, back_label="b.above.db3"))
    # Frames dropped at the side's end, but the back goes on past it: not cut.
    back = side[:85] + [_frame(1003.2)]
    assert [b is None for _, b in paired_frames(side, back, period_s=1 / 30, back_label="b")][84:] == [False] + [True] * 5


def test_the_simulated_pair_replays_paired_frame_for_frame(pair_recording):
    path, truth = pair_recording
    offset = truth["back_camera"]["clock_offset_s"]
    with open_recording(path) as side, open_back_recording(back_recording_path(path)) as back:
        pairs = list(paired_frames(side, back, period_s=1 / side.info.fps, back_label=back.info.path))
    assert len(pairs) == len(truth["frames"])
    assert all(b is not None for _, b in pairs)
    assert {round(b.clock_s - s.clock_s, 3) for s, b in pairs} == {round(offset, 3)}


def test_a_missing_back_recording_is_one_line(tmp_path):
    with pytest.raises(RecordingError, match=r"the back camera's recording .*nothing\.above\.db3 is missing"):
        open_back_recording(tmp_path / "nothing.above.db3")


# -- analyzing the pair ------------------------------------------------------------------

@pytest.fixture(scope="module")
def analysed_pair(pair_recording):
    """``wallhinge analyze NAME.db3 --back-camera NAME.above.db3 --arms stick --json --frames``: the document.

    With a stick along the back, a variant whose back check is not validated: the reps' back is not judged.
    """
    path, _ = pair_recording
    code, out, err = run(["analyze", str(path), "--back-camera", str(back_recording_path(path)), "--arms", "stick",
                          "--json", "--frames"])
    assert code == 0, err
    return json.loads(out)


def test_the_camera_above_calibrates_from_the_floor_and_its_edge_at_the_wall(pair_recording):
    path, truth = pair_recording
    with open_back_recording(back_recording_path(path)) as source:
        opening = [frame for frame in itertools.takewhile(lambda f: f.timestamp_s < OPENING_S, source)]
    reader = back_reader_from_opening(opening, "above")
    found, true = reader.calibration.camera_pose, Pose.from_matrix(truth["back_camera"]["camera_pose_in_room"])
    # Rows of the rotation: the room's axes in camera coordinates.
    tilt = np.degrees(np.arccos(np.clip(found.rotation[1] @ true.rotation[1], -1, 1)))
    yaw = np.degrees(np.arccos(np.clip(found.rotation[2] @ true.rotation[2], -1, 1)))
    assert tilt < 0.3 and yaw < 1.0, (tilt, yaw)
    assert found.translation[1] == pytest.approx(true.translation[1], abs=0.02)  # height
    assert found.translation[2] == pytest.approx(true.translation[2], abs=0.02)  # out from the wall
    assert abs(found.translation[0] - true.translation[0]) <= 0.1  # along the wall: the bracket's place


def test_analyze_reads_spine_flexion_per_frame_from_the_camera_above(analysed_pair, pair_recording):
    _, truth = pair_recording
    jsonschema.validate(analysed_pair, SCHEMA)
    frames = analysed_pair["frames"]
    assert len(frames) == len(truth["frames"])
    assert all("back_reason" in frame for frame in frames)
    truths = [frame["spine_flexion_deg"] for frame in truth["back_camera"]["frames"]]
    errors = [abs(mine["spine_flexion_deg"] - true) for mine, true in zip(frames, truths)
              if mine["spine_flexion_deg"] is not None and true is not None]
    at_spot = sum(frame["present"] for frame in truth["frames"])
    assert len(errors) > 0.5 * at_spot
    assert np.median(errors) < 5.0
    # A frame without a reading says why; one with a reading does not.
    assert all((frame["spine_flexion_deg"] is None) == (frame["back_reason"] is not None) for frame in frames)
    assert {frame["back_reason"] for frame in frames[:10]} == {"nobody at the spot"}


def test_the_reps_back_stays_not_checked_and_the_side_cameras_reps_are_unchanged(analysed_pair, pair_recording):
    path, _ = pair_recording
    code, out, err = run(["analyze", str(path), "--json"])
    assert code == 0, err
    alone = json.loads(out)["reps"]
    assert [without_back_note(rep) for rep in analysed_pair["reps"]] == [without_back_note(rep) for rep in alone]
    assert len(alone) == 2
    assert all(rep["peak_spine_flexion_deg"] is None and "rounded_back" not in rep["faults"] for rep in alone)
    # Each rep says why its back was not checked: one side camera does not see it; with the camera above the
    # stick's measurement is not validated.
    assert [rep["back_note"] for rep in alone] == [BACK_HIDDEN_BY_SETUP] * 2
    assert [rep["back_note"] for rep in analysed_pair["reps"]] == [BACK_NOT_VALIDATED] * 2


def without_back_note(rep: dict) -> dict:
    return {key: value for key, value in rep.items() if key != "back_note"}


def test_where_the_set_up_is_validated_analyze_judges_the_reps_back_by_the_camera_above(analysed_pair, pair_recording):
    path, _ = pair_recording
    back = str(back_recording_path(path))  # hands on the hips (analyze's default --arms): validated
    code, out, err = run(["analyze", str(path), "--back-camera", back, "--json", "--frames"])
    assert code == 0, err
    judged = json.loads(out)
    jsonschema.validate(judged, SCHEMA)
    # The same frames and the same reps, now with each rep's peak spine flexion from those frames.
    assert judged["frames"] == analysed_pair["frames"]
    spine_free = [{**rep, "peak_spine_flexion_deg": None, "back_note": BACK_NOT_VALIDATED} for rep in judged["reps"]]
    assert spine_free == analysed_pair["reps"]
    assert [rep["back_note"] for rep in judged["reps"]] == [None, None]  # checked: nothing to explain
    for rep in judged["reps"]:
        read = [frame["spine_flexion_deg"] for frame in judged["frames"]
                if rep["start_s"] <= frame["t_s"] <= rep["end_s"] and frame["spine_flexion_deg"] is not None]
        assert rep["peak_spine_flexion_deg"] is not None and min(read) <= rep["peak_spine_flexion_deg"] <= max(read)
        assert "rounded_back" not in rep["faults"]  # a good set
    code, out, err = run(["analyze", str(path), "--back-camera", back])
    assert code == 0, err
    assert "back not checked" not in out and "validated for this set-up" in out
    # Another drill variant is not validated: the back stays not checked, and the table says why.
    code, out, err = run(["analyze", str(path), "--back-camera", back, "--arms", "stick"])
    assert code == 0, err
    assert "2 reps" in out and "the back was not measured on 2" in out and "back not checked: the back is in view" in out


def test_analyze_with_a_back_camera_of_another_session_is_one_line(pair_recording, short_recording, tmp_path):
    path, _ = pair_recording
    # Another camera's recording of another session: the one-camera set's first 3 s, its clock from 0.
    other = tmp_path / "other.above.db3"
    with open_recording(short_recording[0]) as source:
        frames = list(itertools.takewhile(lambda f: f.timestamp_s < 3.0, source))
    with RecordingWriter(other, frames[0].intrinsics, source.info.fps, serial="OTHER") as writer:
        for frame in frames:
            writer.write(frame.depth, frame.clock_s)
    code, _, err = run(["analyze", str(path), "--back-camera", str(other)])
    assert code == 2
    assert_one_error_line(err)
    assert "is not of the same session" in err and str(other) in err


def test_the_side_recording_given_as_the_back_cameras_is_one_line(pair_recording):
    path, _ = pair_recording
    code, _, err = run(["analyze", str(path), "--back-camera", str(path)])
    assert code == 2
    assert_one_error_line(err)
    assert "is from the side camera itself (serial SIM00000004)" in err


def test_analyze_with_a_missing_or_cut_back_recording_is_one_line(pair_recording, tmp_path):
    path, _ = pair_recording
    code, _, err = run(["analyze", str(path), "--back-camera", str(tmp_path / "none.above.db3")])
    assert code == 2
    assert_one_error_line(err)
    assert "none.above.db3 is missing" in err
    # The camera above's recording stopped after 8 s: written again, its frames on their own clock, up to then.
    cut = tmp_path / "cut.above.db3"
    with open_back_recording(back_recording_path(path)) as source:
        frames = [frame for frame in itertools.takewhile(lambda f: f.timestamp_s < 8.0, source)]
    with RecordingWriter(cut, frames[0].intrinsics, source.info.fps) as writer:
        for frame in frames:
            writer.write(frame.depth, frame.clock_s)
    code, _, err = run(["analyze", str(path), "--back-camera", str(cut)])
    assert code == 2
    assert_one_error_line(err)
    assert "cut.above.db3 ends" in err and "it is cut short" in err


# -- two cameras live ---------------------------------------------------------------------

def test_two_recordings_played_in_real_time_pair_as_two_live_cameras_would(pair_recording):
    path, truth = pair_recording
    offset = truth["back_camera"]["clock_offset_s"]
    with open_recording_pair(path, back_recording_path(path), real_time=True) as pair:
        started = time.monotonic()
        pairs = list(itertools.islice(pair, 20))
        took = time.monotonic() - started
    assert [b is not None for _, b in pairs] == [True] * 20
    assert {round(b.clock_s - s.clock_s, 3) for s, b in pairs} == {round(offset, 3)}
    assert took >= 19 / truth["fps"] - 0.05  # paced by the timestamps, as frames come from cameras


def test_a_live_pair_without_cameras_is_one_line(capsys):
    with pytest.raises(NoCameraError, match="no RealSense camera is connected"):
        open_camera_pair(CameraSettings(serial="111"), "222")


def test_the_table_says_how_much_the_camera_above_read_and_that_the_back_stays_not_checked(pair_recording):
    path, _ = pair_recording
    code, out, err = run(["analyze", str(path), "--back-camera", str(back_recording_path(path)), "--arms", "stick"])
    assert code == 0, err
    last = out.splitlines()[-1]
    read, present = (int(n) for n in re.search(r"read spine flexion in (\d+) of (\d+) frames", last).groups())
    assert 0 < read <= present
    assert "back not checked: the back is in view from this set-up" in last
    assert all(line.endswith("; back not checked") for line in out.splitlines()[1:3])


def _empty_room_from_above(degrees_below_horizontal, roll_deg=0.0, x_m=0.0):
    """Twelve depth frames of the empty room from a lens 2.4 m up the drill wall, 6 cm out: (frames, scene)."""
    spec = build_scene("empty", 3)
    reach = 1.6 / np.tan(np.radians(degrees_below_horizontal))  # from 2.4 m down to 0.8 m
    mount = AimedMount(side=1, x_m=x_m, height_m=2.4, z_m=0.06, z_from_spot=False, aim_height_m=0.8,
                       aim_z_m=0.06 + reach - spec.spot_z_m, roll_deg=roll_deg)
    scene = SceneRenderer(dataclasses.replace(spec, mount=mount))
    room = scene.renderer.render([])
    rng = np.random.default_rng(1)
    return [sense(room.z_m, room.cos_incidence, scene.intrinsics, spec.sensor, rng) for _ in range(12)], scene


def test_the_camera_above_calibrates_across_its_brackets_tilts_and_refuses_one_too_shallow():
    frames, scene = _empty_room_from_above(67, roll_deg=3.0, x_m=0.1)
    found = calibrate_above(frames, scene.intrinsics, 0.001, source="above").camera_pose
    true = scene.camera_pose
    assert np.degrees(np.arccos(np.clip(found.rotation[1] @ true.rotation[1], -1, 1))) < 0.3
    assert np.degrees(np.arccos(np.clip(found.rotation[2] @ true.rotation[2], -1, 1))) < 1.0
    assert np.allclose(found.translation[1:], true.translation[1:], atol=0.02)
    # Tilted 60 degrees, the picture ends before the floor meets the wall: refused, not a wrong wall.
    frames, scene = _empty_room_from_above(60)
    with pytest.raises(CalibrationError, match="^the foot of the drill wall is not in the picture .* at least 65 degrees"):
        calibrate_above(frames, scene.intrinsics, 0.001, source="above")


def test_the_camera_above_calibration_is_kept_as_a_file_and_its_move_is_noticed(pair_recording, tmp_path):
    from station.calibration_files import load_above_calibration, save_above_calibration
    from station.camera_check import camera_moved

    path, _ = pair_recording
    with open_back_recording(back_recording_path(path)) as source:
        frames = list(itertools.takewhile(lambda f: f.timestamp_s < 12.0, source))
    calibration = back_reader_from_opening([f for f in frames if f.timestamp_s < OPENING_S], "above").calibration
    save_above_calibration(calibration, tmp_path / "c.above.json")
    kept = load_above_calibration(tmp_path / "c.above.json")
    assert np.allclose(kept.camera_pose.as_matrix(), calibration.camera_pose.as_matrix())
    assert np.allclose(kept.background_m, calibration.background_m, atol=0.001)
    # With the patient below it, where it was: not moved. Raised 3 cm or tilted 2 degrees: moved, in one line.
    assert [camera_moved(kept, f.depth, floor_only=True) for f in frames[::40]] == [None] * len(frames[::40])
    pose = kept.camera_pose
    raised = dataclasses.replace(kept, camera_pose=Pose(pose.rotation, pose.translation + [0.0, 0.03, 0.0]))
    said = camera_moved(raised, frames[-1].depth, floor_only=True, camera="the camera above", remedy="put it back")
    assert said == "the camera above has moved since calibration: the floor is 3 cm nearer than it was; put it back"
    tilt = np.radians(2.0)
    turn = np.array([[1, 0, 0], [0, np.cos(tilt), -np.sin(tilt)], [0, np.sin(tilt), np.cos(tilt)]])
    tilted = dataclasses.replace(kept, camera_pose=Pose(pose.rotation @ turn, pose.translation))
    said = camera_moved(tilted, frames[-1].depth, floor_only=True)
    assert re.search(r"it has turned (1\.9|2\.0|2\.1) degrees", said)
    # Not a calibration of the camera above: one line.
    (tmp_path / "side.json").write_text('{"format": "wallhinge-calibration"}')
    with pytest.raises(CalibrationError, match="not a calibration of the camera above: calibrate it again"):
        load_above_calibration(tmp_path / "side.json")
