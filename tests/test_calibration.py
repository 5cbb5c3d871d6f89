"""Tests of the calibration (station.calibration and its model, files and moved-camera check) on simulated depth frames.

Frames come straight from the simulator's renderer and sensor model, without
writing recordings (except for the command line), so each scene costs a
fraction of a second. The true camera pose is the renderer's.
"""

import contextlib
import dataclasses
import datetime
import io
import json

import numpy as np
import pytest

from station.calibration import calibrate
from station.calibration_files import load_calibration, save_calibration
from station.calibration_model import Calibration
from station.camera_check import camera_moved
from station.errors import CalibrationError
from wallhinge.cli import main
from station.geometry import pixel_rays
from station.sim.recording import RecordingWriter
from station.sim.render import LABEL_DRILL_WALL, LABEL_FLOOR
from station.sim.scenarios import build_scene
from station.sim.scene import CameraMount, d400_intrinsics
from station.sim.sensor import SensorModel, sense
from station.sim.simulate import SceneRenderer, simulate


# -- helpers ---------------------------------------------------------------------------

def sensed_frames(spec, *, start_s=0.0, count=30, seed=0):
    """(renderer, frames, labels of the last frame) of a scene from ``start_s``, at the scene's rate."""
    scene = SceneRenderer(spec)
    rng = np.random.default_rng(seed)
    frames = []
    for index in range(count):
        rendered, _ = scene.at(start_s + index / spec.fps)
        frames.append(sense(rendered.z_m, rendered.cos_incidence, scene.intrinsics, spec.sensor, rng))
    return scene, frames, rendered.labels


def rotation_error_deg(a, b):
    cosine = (np.trace(a @ b.T) - 1.0) / 2.0
    return float(np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0))))


def assert_one_line(error):
    text = str(error.value)
    assert text and "\n" not in text, text


def true_gravity(pose, noise_rng=None):
    """The accelerometer reading at rest in camera coordinates: 9.81 m/s2 up, plus a little noise."""
    reading = 9.81 * pose.rotation.T @ np.array([0.0, 1.0, 0.0])
    return reading if noise_rng is None else reading + noise_rng.normal(0.0, 0.05, 3)


def with_mount(spec, **changes):
    return dataclasses.replace(spec, mount=dataclasses.replace(spec.mount, **changes))


# Scenes over the mount envelope: both sides, low and high, pitched down and
# up, turned little and much toward the wall, both camera models, both modes.
ENVELOPE = {
    "low-level-right": dict(side=-1, height_m=0.70, pitch_deg=5.0, yaw_toward_wall_deg=10.0, distance_m=2.5,
                            roll_deg=-3.0, aim_offset_deg=-5.0),
    "high-steep-left": dict(side=1, height_m=1.30, pitch_deg=-15.0, yaw_toward_wall_deg=35.0, distance_m=1.5,
                            roll_deg=3.0, aim_offset_deg=5.0),
    "mid-left": dict(side=1, height_m=1.00, pitch_deg=-5.0, yaw_toward_wall_deg=20.0, distance_m=2.0,
                     roll_deg=1.0, aim_offset_deg=0.0),
}
GOOD_CASES = [
    # (scenario, seed, mount overrides, camera, width, height)
    ("empty", 1, "low-level-right", "D435", 424, 240),
    ("empty", 2, "high-steep-left", "D455", 848, 480),
    ("empty", 3, "mid-left", "D435", 848, 480),
    ("empty", 4, "high-steep-left", "D435", 424, 240),
    ("empty", 5, "low-level-right", "D455", 424, 240),
    ("empty", 6, None, "D435", 424, 240),  # as drawn by the seed
    ("busy-room", 6, None, None, 424, 240),  # a chair within a metre of the spot
    ("busy-room", 11, None, None, 424, 240),
]


def good_scene(name, seed, mount, camera, width, height):
    spec = build_scene(name, seed, fps=15, width=width, height=height, camera_model=camera)
    if mount is not None:
        spec = with_mount(spec, **ENVELOPE[mount])
    return spec


@pytest.fixture(scope="module")
def standing():
    """A D435 at 424x240 calibrated on the opening of an idle-standing scene: (spec, calibration)."""
    spec = build_scene("idle-standing", 6, fps=15, camera_model="D435")
    scene, frames, _ = sensed_frames(spec, count=30)
    return spec, calibrate(frames, scene.intrinsics, spec.sensor.depth_unit_m, source="idle-standing 6")


# -- calibrating --------------------------------------------------------------------------

@pytest.mark.parametrize("name, seed, mount, camera, width, height", GOOD_CASES)
def test_calibration_recovers_the_true_camera_pose(name, seed, mount, camera, width, height):
    spec = good_scene(name, seed, mount, camera, width, height)
    scene, frames, labels = sensed_frames(spec)
    truth = scene.camera_pose
    calibration = calibrate(frames, scene.intrinsics, spec.sensor.depth_unit_m, source=f"{name} {seed}")

    assert rotation_error_deg(calibration.camera_pose.rotation, truth.rotation) < 1.0
    height_error, wall_error = calibration.camera_pose.translation[1:] - truth.translation[1:]
    assert abs(height_error) < 0.02 and abs(wall_error) < 0.02
    # The origin along x is where the camera aims; the simulator's drill spot is x = 0.
    assert abs(calibration.camera_pose.translation[0] - truth.translation[0]) < 0.6
    assert 0.0 < calibration.floor_rms_mm < 30.0 and 0.0 < calibration.wall_rms_mm < 30.0
    assert abs(calibration.planes_angle_deg - 90.0) < 2.0
    assert 0.03 < calibration.floor_share < 0.5 and 0.2 < calibration.wall_share < 0.8
    assert calibration.frames_used == 30 and calibration.source == f"{name} {seed}"
    created = datetime.datetime.fromisoformat(calibration.created)
    assert created.utcoffset() == datetime.timedelta(0)

    # The background is the scene's depth where known, and its noise is known there only.
    background, noise = calibration.background_m, calibration.background_noise_m
    assert background.shape == noise.shape == (height, width)
    assert background.dtype == noise.dtype == np.float32
    known = background > 0
    assert known.mean() > 0.7
    assert np.median(np.abs(background[known] - scene.renderer._static.z_m[known])) < 0.01
    assert np.all(noise[known] > 0) and np.all(noise[~known] == 0)

    # Room points of the background: the floor at y = 0, the drill wall at z = 0.
    points = calibration.points_room(background)
    floor = known & (labels == LABEL_FLOOR)
    wall = known & (labels == LABEL_DRILL_WALL)
    assert abs(np.median(points[floor][:, 1])) < 0.01
    assert abs(np.median(points[wall][:, 2])) < 0.01
    assert np.all(np.isnan(points[~known]))


@pytest.mark.parametrize("seed", [1, 8])
def test_calibration_is_precise_where_the_floor_meets_the_walls(seed):
    # D435 at 424x240, the noisiest mode: the foot of each wall lies within
    # noise of the floor plane, and fitted with it would tilt the floor by
    # most of a degree. The method reaches far better than the 1 degree and
    # 2 cm promised; this guards it.
    spec = build_scene("empty", seed, fps=15, camera_model="D435")
    scene, frames, _ = sensed_frames(spec)
    calibration = calibrate(frames, scene.intrinsics, 0.001, source="x")
    assert rotation_error_deg(calibration.camera_pose.rotation, scene.camera_pose.rotation) < 0.25
    assert np.allclose(calibration.camera_pose.translation[1:], scene.camera_pose.translation[1:], atol=0.005)


def test_rays_are_computed_once_and_read_only():
    spec = build_scene("empty", 0, fps=15)
    scene, frames, _ = sensed_frames(spec, count=12)
    calibration = calibrate(frames, scene.intrinsics, 0.001, source="x")
    rays = calibration.rays_room()
    assert rays is calibration.rays_room()
    assert rays.shape == (scene.intrinsics.height, scene.intrinsics.width, 3)
    assert not rays.flags.writeable
    # depth * ray + camera position: a pixel at 2 m depth lies 2 m along the optical axis.
    centre = calibration.points_room(np.full(rays.shape[:2], 2.0))
    row, col = int(round(scene.intrinsics.ppy)), int(round(scene.intrinsics.ppx))
    expected = calibration.camera_pose.apply(2.0 * pixel_rays(scene.intrinsics)[row, col])
    assert np.allclose(centre[row, col], expected)
    with pytest.raises(ValueError):
        calibration.points_room(np.zeros((3, 3)))


def test_calibration_is_deterministic_and_leaves_its_input_alone():
    spec = build_scene("empty", 7, fps=15)
    scene, frames, _ = sensed_frames(spec, count=15)
    copies = [frame.copy() for frame in frames]
    first = calibrate(frames, scene.intrinsics, 0.001, source="x")
    second = calibrate(np.stack(frames), scene.intrinsics, 0.001, source="x")
    assert np.array_equal(first.camera_pose.as_matrix(), second.camera_pose.as_matrix())
    assert all(np.array_equal(a, b) for a, b in zip(frames, copies))


# -- the accelerometer ----------------------------------------------------------------------

def test_accelerometer_gravity_gives_the_same_calibration():
    spec = good_scene("empty", 3, "mid-left", "D435", 424, 240)
    scene, frames, _ = sensed_frames(spec)
    plain = calibrate(frames, scene.intrinsics, 0.001, source="x")
    hinted = calibrate(frames, scene.intrinsics, 0.001, source="x",
                       gravity_camera=true_gravity(scene.camera_pose, np.random.default_rng(1)))
    assert rotation_error_deg(hinted.camera_pose.rotation, plain.camera_pose.rotation) < 0.1
    assert np.allclose(hinted.camera_pose.translation, plain.camera_pose.translation, atol=0.002)


def test_accelerometer_lets_a_steep_camera_calibrate():
    # Pitched 30 degrees down, beyond the mount's range: the floor is outside
    # the cone around the camera's up, but the accelerometer says where up is.
    spec = with_mount(build_scene("empty", 3, fps=15), pitch_deg=-30.0, height_m=1.3)
    scene, frames, _ = sensed_frames(spec, count=12)
    with pytest.raises(CalibrationError, match="30 degrees from the camera's up") as error:
        calibrate(frames, scene.intrinsics, 0.001, source="x")
    assert_one_line(error)
    hinted = calibrate(frames, scene.intrinsics, 0.001, source="x", gravity_camera=true_gravity(scene.camera_pose))
    assert rotation_error_deg(hinted.camera_pose.rotation, scene.camera_pose.rotation) < 1.0


@pytest.mark.parametrize("off_deg", [10.0, 30.0, 90.0, 180.0])
def test_accelerometer_far_from_the_floor_is_refused(off_deg):
    # Decided: a wrong accelerometer is refused, never silently ignored; a
    # reading 180 degrees off would otherwise lead the floor search to the ceiling.
    spec = good_scene("empty", 3, "mid-left", "D435", 424, 240)
    scene, frames, _ = sensed_frames(spec, count=12)
    turn = np.radians(off_deg)
    about_optical_axis = np.array([[np.cos(turn), -np.sin(turn), 0.0], [np.sin(turn), np.cos(turn), 0.0], [0, 0, 1]])
    with pytest.raises(CalibrationError, match="accelerometer") as error:
        calibrate(frames, scene.intrinsics, 0.001, source="x",
                  gravity_camera=about_optical_axis @ true_gravity(scene.camera_pose))
    assert_one_line(error)


@pytest.mark.parametrize("gravity", [(0.0, 0.0, 0.0), (1.0, 2.0), (np.nan, -9.8, 0.0)])
def test_accelerometer_reading_must_be_a_vector(gravity):
    spec = build_scene("empty", 0, fps=15)
    scene, frames, _ = sensed_frames(spec, count=10)
    with pytest.raises(ValueError, match="gravity_camera"):
        calibrate(frames, scene.intrinsics, 0.001, source="x", gravity_camera=gravity)


# -- refusals ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name, seed, when", [
    ("idle-standing", 1, "at_spot"),  # standing still at the spot
    ("idle-standing", 2, "first_rep"),
    ("idle-spotter", 3, "first_rep"),  # patient and clinician
    ("good-set", 4, "walking_in"),  # movement during the capture
])
def test_someone_in_view_is_refused(name, seed, when):
    spec = build_scene(name, seed, fps=15)
    patient = spec.patient
    start = {"at_spot": patient.at_spot_s + 1.0, "first_rep": patient.first_rep_s,
             "walking_in": patient.enter_at_s + 0.3}[when]
    scene, frames, _ = sensed_frames(spec, start_s=start, count=15)
    with pytest.raises(CalibrationError, match="^someone is in view") as error:
        calibrate(frames, scene.intrinsics, 0.001, source="x")
    assert "drill area empty" in str(error.value)
    assert_one_line(error)


def test_no_floor_in_view_is_refused():
    spec = build_scene("empty", 2, fps=15)
    scene, frames, labels = sensed_frames(spec, count=12)
    lower_half = np.arange(spec.height)[:, np.newaxis] >= spec.height // 2
    for hidden in (lower_half, labels == LABEL_FLOOR):
        cropped = [np.where(hidden, 0, frame).astype(np.uint16) for frame in frames]
        with pytest.raises(CalibrationError, match="^no floor in view: tilt the camera down") as error:
            calibrate(cropped, scene.intrinsics, 0.001, source="x")
        assert_one_line(error)


def test_no_drill_wall_in_view_is_refused():
    spec = build_scene("busy-room", 5, fps=15)
    scene, frames, labels = sensed_frames(spec, count=12)
    without_wall = [np.where(labels == LABEL_DRILL_WALL, 0, frame).astype(np.uint16) for frame in frames]
    with pytest.raises(CalibrationError, match="^no drill wall in view") as error:
        calibrate(without_wall, scene.intrinsics, 0.001, source="x")
    assert_one_line(error)


def leaning_wall_frames(lean_deg, count=12):
    """A floor and a drill wall leaning ``lean_deg`` back from vertical, nothing else: (intrinsics, pose, frames)."""
    intrinsics = d400_intrinsics(424, 240)
    pose = CameraMount(side=-1, distance_m=2.0, yaw_toward_wall_deg=20.0, height_m=1.0, pitch_deg=-5.0).pose(0.25)
    directions = pixel_rays(intrinsics) @ pose.rotation.T
    lean = np.radians(lean_deg)
    depth = np.full(directions.shape[:2], np.inf)
    cosine = np.ones_like(depth)
    for normal in (np.array([0.0, 1.0, 0.0]), np.array([0.0, np.sin(lean), np.cos(lean)])):  # both through y = z = 0
        with np.errstate(divide="ignore"):
            t = -(pose.translation @ normal) / (directions @ normal)
        nearer = (t > 0) & (t < depth)
        depth = np.where(nearer, t, depth)
        cosine = np.where(nearer, np.abs(directions @ normal) / np.linalg.norm(directions, axis=2), cosine)
    rng = np.random.default_rng(0)
    return intrinsics, pose, [sense(depth, cosine, intrinsics, SensorModel.d435(), rng) for _ in range(count)]


def test_floor_and_wall_not_square_are_refused():
    intrinsics, pose, frames = leaning_wall_frames(0.0)
    square = calibrate(frames, intrinsics, 0.001, source="x")
    assert rotation_error_deg(square.camera_pose.rotation, pose.rotation) < 0.5
    intrinsics, pose, frames = leaning_wall_frames(8.0)
    with pytest.raises(CalibrationError, match="degrees apart, not 90") as error:
        calibrate(frames, intrinsics, 0.001, source="x")
    assert_one_line(error)


def test_bad_frames_are_refused():
    spec = build_scene("empty", 0, fps=15)
    scene, frames, _ = sensed_frames(spec, count=12)
    intrinsics = scene.intrinsics
    with pytest.raises(CalibrationError, match="at least 10 depth frames"):
        calibrate(frames[:5], intrinsics, 0.001, source="x")
    with pytest.raises(CalibrationError, match="no depth data"):
        calibrate([np.zeros_like(frame) for frame in frames], intrinsics, 0.001, source="x")
    with pytest.raises(CalibrationError, match="depth frame 3 is"):
        calibrate(frames[:3] + [frames[3][:, :-1]] + frames[4:], intrinsics, 0.001, source="x")
    with pytest.raises(CalibrationError, match="not the stream's"):
        calibrate(frames, intrinsics.scaled(2.0), 0.001, source="x")
    with pytest.raises(CalibrationError, match="uint16"):
        calibrate([frame.astype(np.float32) for frame in frames], intrinsics, 0.001, source="x")
    with pytest.raises(ValueError, match="depth_unit_m"):
        calibrate(frames, intrinsics, 0.0, source="x")
    with pytest.raises(TypeError, match="source"):
        calibrate(frames, intrinsics, 0.001, source=None)
    with pytest.raises(TypeError, match="rng"):
        calibrate(frames, intrinsics, 0.001, source="x", rng="seed")


# -- files -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def saved(standing, tmp_path_factory):
    _, calibration = standing
    path = tmp_path_factory.mktemp("calibration") / "cal.json"
    save_calibration(calibration, path)
    return calibration, path


def test_save_and_load_round_trip(saved):
    calibration, path = saved
    loaded = load_calibration(path)
    assert isinstance(loaded, Calibration)
    assert np.allclose(loaded.camera_pose.as_matrix(), calibration.camera_pose.as_matrix(), rtol=0, atol=1e-9)
    assert loaded.intrinsics == calibration.intrinsics
    assert loaded.depth_unit_m == calibration.depth_unit_m
    # Both images are stored in whole (half) depth units, as they were computed: exactly.
    assert np.array_equal(loaded.background_m, calibration.background_m)
    assert np.array_equal(loaded.background_noise_m, calibration.background_noise_m)
    for name in ("floor_rms_mm", "wall_rms_mm", "floor_share", "wall_share", "planes_angle_deg", "source",
                 "created", "frames_used"):
        assert getattr(loaded, name) == getattr(calibration, name), name


def test_saved_file_is_readable_json_and_compact(saved):
    calibration, path = saved
    document = json.loads(path.read_text())
    rotation, translation = calibration.camera_pose.rotation, calibration.camera_pose.translation
    assert np.allclose(document["planes_camera"]["floor"]["normal"], rotation[1])
    assert document["planes_camera"]["wall"]["offset_m"] == pytest.approx(translation[2])
    assert document["intrinsics"]["width"] == calibration.intrinsics.width
    assert document["quality"]["planes_angle_deg"] == calibration.planes_angle_deg
    assert document["source"] == "idle-standing 6"
    assert "\n  " in path.read_text()  # indented
    pixels = calibration.background_m.size
    assert path.stat().st_size < 4 * pixels  # less than the two images as float32 would take raw


def rewritten(path, tmp_path, change):
    document = json.loads(path.read_text())
    change(document)
    target = tmp_path / "changed.json"
    target.write_text(json.dumps(document))
    return target


@pytest.mark.parametrize("case, message", [
    ("missing", "calibration file not found"),
    ("garbage", "not a calibration file"),
    ("nested deep", "JSON nested too deep"),
    ("not a table", "not a wallhinge calibration"),
    ("field removed", "field 'quality' is missing"),
    ("field added", "unknown field 'colour'"),
    ("nested field removed", "intrinsics.fx is missing"),
    ("background cut short", "background_m does not have"),
    ("background damaged", "background_m is damaged"),
    ("pose not rigid", "not a rigid transform"),
    ("planes disagree", "planes_camera.floor does not match"),
    ("wrong type", "wrong type"),
])
def test_load_errors_are_one_line(saved, tmp_path, case, message):
    _, path = saved
    changes = {
        "field removed": lambda d: d.pop("quality"),
        "field added": lambda d: d.update(colour="blue"),
        "nested field removed": lambda d: d["intrinsics"].pop("fx"),
        "background cut short": lambda d: d["background_m"].update(
            data=__import__("base64").b64encode(__import__("zlib").compress(b"\0\0" * 10)).decode()),
        "background damaged": lambda d: d["background_m"].update(data="!!not base64!!"),
        "pose not rigid": lambda d: d["camera_pose_in_room"][0].__setitem__(0, 2.0),
        "planes disagree": lambda d: d["planes_camera"]["floor"].update(offset_m=9.0),
        "wrong type": lambda d: d.update(depth_unit_m="a millimetre"),
    }
    if case == "missing":
        target = tmp_path / "absent.json"
    elif case == "garbage":
        target = tmp_path / "garbage.json"
        target.write_bytes(b"\x89PNG not json at all")
    elif case == "nested deep":
        target = tmp_path / "deep.json"
        target.write_text('{"a": ' * 100_000 + "1" + "}" * 100_000)
    elif case == "not a table":
        target = tmp_path / "list.json"
        target.write_text("[1, 2, 3]")
    else:
        target = rewritten(path, tmp_path, changes[case])
    with pytest.raises(CalibrationError, match=message) as error:
        load_calibration(target)
    assert_one_line(error)
    assert str(target) in str(error.value)


def test_save_into_a_missing_folder_is_refused(saved, tmp_path):
    calibration, _ = saved
    with pytest.raises(CalibrationError, match="does not exist"):
        save_calibration(calibration, tmp_path / "nowhere" / "cal.json")


# -- has the camera moved? ----------------------------------------------------------------------

def test_camera_moved_stays_quiet_for_noise_people_and_dropouts(standing):
    spec, calibration = standing
    _, fresh, _ = sensed_frames(spec, count=3, seed=99)
    _, person, _ = sensed_frames(spec, start_s=spec.patient.at_spot_s + 1.0, count=3, seed=5)
    rng = np.random.default_rng(3)
    holes = [np.where(rng.random(frame.shape) < 0.3, 0, frame).astype(np.uint16) for frame in fresh]
    for frame in fresh + person + holes + [np.zeros_like(fresh[0])]:
        assert camera_moved(calibration, frame) is None


@pytest.mark.parametrize("seed", [1, 6])
def test_camera_moved_stays_quiet_with_a_spotter_beside_the_patient(seed):
    # Two people in front of the wall and on the floor, a D435 at 424x240,
    # calibrated on 15 frames (a noisier background, with more holes).
    spec = build_scene("idle-spotter", seed, fps=15, camera_model="D435")
    scene, frames, _ = sensed_frames(spec, count=15)
    calibration = calibrate(frames, scene.intrinsics, 0.001, source="x")
    _, both, _ = sensed_frames(spec, start_s=spec.patient.first_rep_s, count=4, seed=5)
    for frame in both:
        assert camera_moved(calibration, frame) is None


@pytest.mark.parametrize("change, expected", [
    (dict(aim_offset_deg=2.0), "turned"),  # turned on the spot
    (dict(yaw_toward_wall_deg=2.0), "turned"),  # swung round the spot: turned and moved
    (dict(pitch_deg=2.0), "turned"),
    (dict(roll_deg=-2.0), "turned"),
    (dict(height_m=0.03), "the floor is 3 cm farther than it was"),
    (dict(spot_z_m=-0.03), "the wall is 3 cm nearer than it was"),
])
def test_camera_moved_reports_a_turn_of_2_degrees_or_a_move_of_3_cm(standing, change, expected):
    spec, calibration = standing
    if "spot_z_m" in change:  # the camera is placed relative to the spot: 3 cm nearer the wall
        moved = dataclasses.replace(spec, spot_z_m=spec.spot_z_m + change["spot_z_m"])
    else:
        moved = with_mount(spec, **{name: getattr(spec.mount, name) + delta for name, delta in change.items()})
    _, frames, _ = sensed_frames(moved, start_s=spec.patient.at_spot_s + 1.0, count=2, seed=7)
    for frame in frames:
        message = camera_moved(calibration, frame)
        assert message is not None and expected in message
        assert message.startswith("the camera has moved since calibration: ")
        assert message.endswith("; recalibrate with wallhinge calibrate") and "\n" not in message


def test_camera_moved_works_on_a_loaded_calibration(saved, standing):
    _, path = saved
    spec, _ = standing
    loaded = load_calibration(path)
    _, fresh, _ = sensed_frames(spec, count=1, seed=42)
    assert camera_moved(loaded, fresh[0]) is None
    _, turned, _ = sensed_frames(with_mount(spec, aim_offset_deg=spec.mount.aim_offset_deg + 3.0), count=1)
    assert "turned" in camera_moved(loaded, turned[0])


def test_camera_moved_checks_its_frame(standing):
    _, calibration = standing
    with pytest.raises(ValueError, match="depth frame is"):
        camera_moved(calibration, np.zeros((10, 10), np.uint16))
    with pytest.raises(ValueError, match="unsigned integer"):
        camera_moved(calibration, np.zeros(calibration.background_m.shape, np.float32))


# -- the command line -----------------------------------------------------------------------------

def run(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def assert_one_error_line(err, text):
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("wallhinge: error: "), err
    assert text in lines[0], lines[0]


def test_cli_calibrates_from_a_recordings_opening(tmp_path):
    recording = tmp_path / "empty.db3"
    truth = simulate(build_scene("empty", 5, fps=15), recording)
    output = tmp_path / "cal.json"
    code, out, err = run(["calibrate", "--recording", str(recording), "--seconds", "2", "-o", str(output)])
    assert code == 0, err
    assert out.startswith(f"wrote {output}") and "above the floor" in out
    calibration = load_calibration(output)
    true_pose = np.array(truth["camera_pose_in_room"])
    assert rotation_error_deg(calibration.camera_pose.rotation, true_pose[:3, :3]) < 1.0
    assert np.allclose(calibration.camera_pose.translation[1:], true_pose[1:3, 3], atol=0.02)
    assert calibration.frames_used == 30 and calibration.source == str(recording)


def test_cli_refuses_a_recording_that_opens_with_someone_in_view(tmp_path):
    spec = build_scene("idle-standing", 2, fps=15)
    scene, frames, _ = sensed_frames(spec, start_s=spec.patient.at_spot_s + 1.0, count=30)
    recording = tmp_path / "person.db3"
    with RecordingWriter(recording, scene.intrinsics, spec.fps) as writer:
        for index, frame in enumerate(frames):
            writer.write(frame, index / spec.fps)
    code, _, err = run(["calibrate", "--recording", str(recording), "--seconds", "2", "-o", str(tmp_path / "c.json")])
    assert code == 2
    assert_one_error_line(err, "someone is in view")
    assert not (tmp_path / "c.json").exists()


def test_cli_without_a_recording_needs_a_camera(tmp_path):
    code, _, err = run(["calibrate", "-o", str(tmp_path / "cal.json")])
    assert code == 2
    assert_one_error_line(err, "no RealSense camera is connected")


def test_cli_reports_a_missing_recording_or_folder(tmp_path):
    code, _, err = run(["calibrate", "--recording", str(tmp_path / "absent.db3"), "-o", str(tmp_path / "c.json")])
    assert code == 2
    assert_one_error_line(err, "recording not found")
    code, _, err = run(["calibrate", "--recording", "x.db3", "-o", str(tmp_path / "no" / "c.json")])
    assert code == 2
    assert_one_error_line(err, "does not exist")
