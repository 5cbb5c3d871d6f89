"""Per-frame measures on simulated frames with known truth."""

import dataclasses

import numpy as np
import pytest

from station.calibration import calibrate
from station.measure import (FEET_WINDOW_M, FOLLOWED_MIN_CONFIDENCE, HEAD_ABOVE_PICTURE, HIPS_HIDDEN, MERGED_BREAK_S, MERGED_MAX_S, PATIENT_HIDDEN, PATIENT_MERGED, PLAN_CELL_M, PLAN_X_RANGE_M, PLAN_Z_RANGE_M,
                             FrameError, Measurer, _patients_own, _profile)
from station.rear_edge import (BUTTOCK_RADIUS_M, BUTTOCK_RADIUS_RANGE_M, HIDDEN, UNREAD, RearEdge, _row_extremes,
                               hips_radius_m)
from station.rear_edge import ramp_edges as _ramp_edges
from station.setup import BACK_HIDDEN_BY_SETUP
from station.sim.body import BodyShape, Posture, pose_body
from station.sim.render import LABEL_OTHER_PERSON, LABEL_PATIENT, Renderer
from station.sim.scene import ROOM, CameraMount, d400_intrinsics
from station.sim.sensor import SensorModel, sense
from station.tracking import SETTLE_S

SPOT_Z = 0.28
SHAPE = BodyShape(1.70, 0.5, 0.0)


class Scene:
    """One camera in the reference mount, calibrated from its empty frames."""

    def __init__(self, mount=CameraMount(side=-1, distance_m=2.0, yaw_toward_wall_deg=22.0, height_m=1.0,
                                          pitch_deg=-4.0), width=424, height=240):
        self.intrinsics = d400_intrinsics(width, height)
        self.pose = mount.pose(SPOT_Z)
        self.renderer = Renderer(self.intrinsics, self.pose, ROOM, [])
        self.sensor = SensorModel.d435()
        self.rng = np.random.default_rng(0)
        # Calibrated like the station, with the exact pose so these tests judge the measures alone.
        fitted = calibrate([self.frame([]) for _ in range(20)], self.intrinsics, 0.001, source="test")
        self.calibration = dataclasses.replace(fitted, camera_pose=self.pose)
        self.measurer = Measurer(self.calibration)

    def frame(self, people):
        rendered = self.renderer.render(people)
        return sense(rendered.z_m, rendered.cos_incidence, self.intrinsics, self.sensor, self.rng)

    def measure_posture(self, posture, shape=SHAPE, others=()):
        body = pose_body(shape, posture)
        people = [(LABEL_PATIENT, body)] + [(LABEL_OTHER_PERSON, pose_body(s, p)) for s, p in others]
        # Someone who has just come to the spot, still there half a second
        # later (the patient is chosen once their feet stay put); then five
        # frames: one noisy frame can be unlucky, and the station sees 30 a second.
        self.measurer.reset()
        self.measurer.measure(self.frame(people), 0.0)
        results = [self.measurer.measure(self.frame(people), SETTLE_S + 0.1 + i / 30) for i in range(5)]
        return body, results


@pytest.fixture(scope="module")
def scene():
    return Scene()


def median_of(results, field):
    values = [getattr(r, field) for r in results if getattr(r, field) is not None]
    assert values, f"{field} was never measured"
    return float(np.median(values))


@pytest.mark.parametrize("posture", [
    pytest.param(Posture(z_m=SPOT_Z), id="upright"),
    pytest.param(Posture(z_m=SPOT_Z, hip_flexion_deg=45, knee_flexion_deg=(12, 12)), id="mid-hinge"),
    pytest.param(Posture(z_m=SPOT_Z, hip_flexion_deg=75, knee_flexion_deg=(15, 15)), id="deep-hinge"),
    pytest.param(Posture(z_m=SPOT_Z, hip_flexion_deg=25, knee_flexion_deg=(70, 70)), id="squat"),
])
def test_trunk_knee_and_gap_match_the_truth(scene, posture):
    body, results = scene.measure_posture(posture)
    assert all(r.present for r in results)
    assert median_of(results, "trunk_angle_deg") == pytest.approx(body.trunk_angle_deg(), abs=6.0)
    assert median_of(results, "knee_flexion_deg") == pytest.approx(body.knee_flexion_deg(), abs=10.0)
    if body.wall_gap_m() < 0.1:
        assert median_of(results, "wall_gap_mm") == pytest.approx(body.wall_gap_m() * 1000, abs=25.0)


def touching_posture(shape, knee_deg, steps):
    """The first of ``steps`` hinges from 0 to 95 degrees at which ``shape``'s buttocks reach the wall (pressing a little)."""
    depths = np.linspace(0, 95, steps)
    gaps = [pose_body(shape, Posture(z_m=SPOT_Z, hip_flexion_deg=h, knee_flexion_deg=(knee_deg, knee_deg))).wall_gap_m()
            for h in depths]
    return Posture(z_m=SPOT_Z, hip_flexion_deg=depths[int(np.argmax(np.array(gaps) <= 0.0))],
                   knee_flexion_deg=(knee_deg, knee_deg))


def test_touching_the_wall_reads_as_touching(scene):
    body, results = scene.measure_posture(touching_posture(SHAPE, 15, 40))
    assert body.wall_gap_m() == 0.0
    assert median_of(results, "wall_gap_mm") <= 20.0  # within the touch tolerance


def test_a_large_body_touching_the_wall_reads_as_touching_from_a_mount_turned_to_the_wall():
    """The silhouette hides more of a large body's rear from a camera turned toward the wall: the hips are measured standing.

    With one buttock radius for every body (0.08 m) this read 20-30 mm
    where a 1.98 m, heavy patient touched (stress-115).
    """
    turned = Scene(CameraMount(side=-1, distance_m=1.8, yaw_toward_wall_deg=33.0, height_m=0.9, pitch_deg=0.0))
    large = BodyShape(1.98, 1.1, 0.0)
    touching = touching_posture(large, 20, 96)
    standing = [(LABEL_PATIENT, pose_body(large, Posture(z_m=SPOT_Z)))]
    measurer = turned.measurer
    measurer.reset()
    for i in range(30):  # arrives, stands put, stands a while
        measurer.measure(turned.frame(standing), i / 30)
    body = pose_body(large, touching)
    assert body.wall_gap_m() == 0.0
    results = [measurer.measure(turned.frame([(LABEL_PATIENT, body)]), 1.0 + i / 30) for i in range(5)]
    assert median_of(results, "wall_gap_mm") <= 20.0  # within the touch tolerance


def test_hips_radius_is_the_plan_circle_of_the_band_at_the_buttocks():
    rng = np.random.default_rng(3)
    angle = rng.uniform(-2.0, 1.2, 400)  # the side, rear and front a camera sees
    hip_y = 0.95
    points = np.column_stack([0.3 + 0.15 * np.cos(angle), hip_y + rng.uniform(-0.07, 0.07, 400),
                              0.4 + 0.15 * np.sin(angle)]) + rng.normal(0.0, 0.004, (400, 3))
    assert hips_radius_m(points, hip_y) == pytest.approx(0.15, abs=0.01)
    assert hips_radius_m(points, hip_y + 0.5) is None  # nothing at that height
    huge = points * [4.0, 1.0, 4.0]
    assert hips_radius_m(huge, hip_y) == BUTTOCK_RADIUS_RANGE_M[1]


def test_elbows_nearer_the_wall_than_the_buttocks_are_not_the_gap(scene):
    # Tall and slim with hands on hips: upright, the elbows stick out behind
    # the buttocks, and the trunk and the gap must still come from the body.
    tall = BodyShape(1.85, 0.1, 5.0)
    body, results = scene.measure_posture(Posture(z_m=SPOT_Z - 0.08), shape=tall)
    assert median_of(results, "wall_gap_mm") == pytest.approx(body.wall_gap_m() * 1000, abs=25.0)
    assert median_of(results, "trunk_angle_deg") == pytest.approx(body.trunk_angle_deg(), abs=3.0)


def test_standing_clear_of_the_wall_is_not_touching(scene):
    body, results = scene.measure_posture(Posture(z_m=SPOT_Z + 0.15))
    assert body.wall_gap_m() > 0.1
    assert median_of(results, "wall_gap_mm") > 60.0


@pytest.mark.xfail(strict=True, reason="spine flexion is not measured: the near arm hides the back from the side mount")
def test_rounded_back_is_measured_as_spine_flexion(scene):
    rounded = Posture(z_m=SPOT_Z, hip_flexion_deg=40, knee_flexion_deg=(12, 12), spine_flexion_deg=35)
    body, results = scene.measure_posture(rounded)
    assert median_of(results, "spine_flexion_deg") == pytest.approx(body.spine_flexion_deg(), abs=5.0)


def test_spine_flexion_is_reported_as_not_measured(scene):
    _, results = scene.measure_posture(Posture(z_m=SPOT_Z, hip_flexion_deg=40, spine_flexion_deg=35))
    assert all(r.present and r.spine_flexion_deg is None for r in results)


def test_the_back_is_read_only_where_the_setup_shows_it(scene):
    hinged = Posture(z_m=SPOT_Z, hip_flexion_deg=40, knee_flexion_deg=(12, 12), spine_flexion_deg=35)
    _, results = scene.measure_posture(hinged)
    assert all(r.back_curvature_deg is None and r.back_reason == BACK_HIDDEN_BY_SETUP
               for r in results)
    # Told to read it, the side mount still sees no back behind a stick, and says so.
    reading = Measurer(scene.calibration, back=True)
    body = pose_body(SHAPE, dataclasses.replace(hinged, arms="stick"))
    reading.measure(scene.frame([(LABEL_PATIENT, body)]), 0.0)  # chosen once their feet stay put
    results = [reading.measure(scene.frame([(LABEL_PATIENT, body)]), SETTLE_S + 0.1 + i / 30) for i in range(3)]
    assert all(r.present and r.back_curvature_deg is None and "hidden" in r.back_reason for r in results)


def test_a_clinician_beside_the_patient_does_not_change_the_numbers(scene):
    posture = Posture(z_m=SPOT_Z, hip_flexion_deg=50, knee_flexion_deg=(12, 12))
    # Beyond the patient as the camera sees it, facing them, half a metre off.
    clinician = (BodyShape(1.75, 0.4, 0.0), Posture(x_m=0.6, z_m=SPOT_Z + 0.35, yaw_deg=-90, arms="sides"))
    body, alone = scene.measure_posture(posture)
    _, spotted = scene.measure_posture(posture, others=[clinician])
    assert all(r.present for r in spotted)
    assert median_of(spotted, "trunk_angle_deg") == pytest.approx(body.trunk_angle_deg(), abs=6.0)
    assert median_of(spotted, "trunk_angle_deg") == pytest.approx(median_of(alone, "trunk_angle_deg"), abs=3.0)
    # Per-frame gap noise is 1-2 cm on this D435 mount, so both compare with the truth, not each other.
    assert median_of(spotted, "wall_gap_mm") == pytest.approx(body.wall_gap_m() * 1000, abs=25.0)
    assert median_of(alone, "wall_gap_mm") == pytest.approx(body.wall_gap_m() * 1000, abs=25.0)


def test_the_pixels_taken_as_the_patients_are_theirs_not_the_clinicians(scene):
    # What benchmarks/bench_identity.py checks on the stress sets, here on one
    # frame whose owner of every pixel the renderer knows.
    posture = Posture(z_m=SPOT_Z, hip_flexion_deg=50, knee_flexion_deg=(12, 12))
    clinician = (BodyShape(1.75, 0.4, 0.0), Posture(x_m=0.6, z_m=SPOT_Z + 0.35, yaw_deg=-90, arms="sides"))
    fresh = Measurer(scene.calibration)
    assert all(len(part) == 0 for part in fresh.patient_pixels())  # nothing measured yet
    scene.measure_posture(posture, others=[clinician])
    rows, columns = scene.measurer.patient_pixels()
    people = [(LABEL_PATIENT, pose_body(SHAPE, posture)), (LABEL_OTHER_PERSON, pose_body(*clinician))]
    whose = scene.renderer.render(people).labels[rows, columns]
    assert len(rows) > 1000
    # Only a few edge pixels, where the sensor blurs one body into the next (5 of 4,700 here).
    assert np.mean(whose >= LABEL_OTHER_PERSON) < 0.005
    assert np.mean((whose >= LABEL_PATIENT) & (whose < LABEL_OTHER_PERSON)) > 0.95


@pytest.mark.parametrize("hinge_deg, clinician_z_m", [(45, 0.0), (10, 0.05)])
def test_a_clinician_covering_the_hips_hides_the_gap_rather_than_reading_a_thigh(scene, hinge_deg, clinician_z_m):
    # Standing 0.9 m to the camera's side, on its line of sight to the
    # patient: their body covers the buttocks, and what is left in view
    # bulges rearmost at the thigh or the small of the back, 5-20 cm off
    # the wall. The gap is hidden there, not read. (The trunk is still
    # measured; with the pelvis covered it can read up to about 15 degrees
    # shallow: bench_accuracy.py's stress sets measure that.)
    posture = Posture(z_m=SPOT_Z, hip_flexion_deg=hinge_deg, knee_flexion_deg=(10, 10))
    clinician = (BodyShape(1.75, 0.4, 0.0), Posture(x_m=-0.9, z_m=SPOT_Z + clinician_z_m, yaw_deg=90, arms="sides"))
    body, results = scene.measure_posture(posture, others=[clinician])
    assert all(r.present for r in results)
    truth_mm = body.wall_gap_m() * 1000
    assert all(r.wall_gap_mm is None or abs(r.wall_gap_mm - truth_mm) < 25.0 for r in results)
    assert all(r.hidden_reason == HIPS_HIDDEN for r in results if r.wall_gap_mm is None)
    assert all(r.trunk_angle_deg is not None for r in results)


def test_a_clinician_beside_the_patient_is_never_taken_for_them():
    # Waiting a metre along the wall from the spot, then, once the patient
    # is in place, stepping up to half a metre beside them (near the wall,
    # facing them, a heavy build whose side comes within 0.3 m of theirs).
    scene = Scene()
    waiting = (BodyShape(1.80, 0.9, 0.0), Posture(x_m=1.0, z_m=SPOT_Z + 0.05, yaw_deg=-90, arms="sides"))
    alone = [scene.measurer.measure(scene.frame([(LABEL_OTHER_PERSON, pose_body(*waiting))]), t)
             for t in (0.0, 0.5, 1.0)]
    assert not any(result.present for result in alone)
    posture = Posture(z_m=SPOT_Z, hip_flexion_deg=50, knee_flexion_deg=(12, 12))
    body = pose_body(SHAPE, posture)
    people = [(LABEL_PATIENT, body), (LABEL_OTHER_PERSON, pose_body(*waiting))]
    for t in (1.1, 1.6):
        scene.measurer.measure(scene.frame(people), t)
    beside = (waiting[0], dataclasses.replace(waiting[1], x_m=0.5))
    people = [(LABEL_PATIENT, body), (LABEL_OTHER_PERSON, pose_body(*beside))]
    results = [scene.measurer.measure(scene.frame(people), t) for t in (2.0, 2.03, 2.07)]
    assert all(r.present for r in results)
    # 55 degrees with the hands on the hips reads about 5 shallow with nobody near
    # (the deep-hinge under-read, measured in bench_accuracy.py); the clinician adds nothing.
    assert median_of(results, "trunk_angle_deg") == pytest.approx(body.trunk_angle_deg(), abs=7.0)
    assert median_of(results, "wall_gap_mm") == pytest.approx(body.wall_gap_m() * 1000, abs=25.0)
    assert all(abs(r.position_x_m) < 0.2 for r in results)


def test_nobody_there_is_not_present(scene):
    result = scene.measurer.measure(scene.frame([]))
    assert not result.present and result.wall_gap_mm is None and result.trunk_angle_deg is None


def test_someone_walking_far_behind_is_not_the_patient(scene):
    passer = (BodyShape(1.8, 0.5, 0.0), Posture(x_m=-1.2, z_m=1.6, yaw_deg=90, arms="sides", gait_phase=0.3))
    frame = scene.frame([(LABEL_OTHER_PERSON, pose_body(*passer))])
    assert not scene.measurer.measure(frame).present


@pytest.mark.parametrize("frame, message", [
    (np.zeros((240, 424), np.uint16), "no depth data"),
    (np.ones((480, 848), np.uint16), "recalibrate"),
    (np.ones((240, 424), np.float32), "uint16"),
    (np.ones(424, np.uint16), "2-D"),
])
def test_unusable_frames_get_a_clear_error(scene, frame, message):
    with pytest.raises(FrameError, match=message):
        scene.measurer.measure(frame)


@pytest.mark.parametrize("shape, share", [((240, 424), 0.07), ((240, 424), 0.6), ((67, 107), 0.3),
                                           ((1, 50), 0.5), ((30, 1), 0.5), ((240, 424), 0.0), ((20, 30), 1.0)])
def test_labelling_gives_scipy_s_labels_numbered_alike(shape, share):
    """The foreground's and the floor plan's labelling (cc3d) is scipy.ndimage.label's with its default cross.

    The measures rest on it being the same regions; the floor plan's blobs
    are also taken in label order (see Measurer._person_at), so the
    numbering must match too.
    """
    from scipy import ndimage

    from station.measure import _label
    mask = np.random.default_rng(len(shape) + shape[0]).random(shape) < share
    labels, count = _label(mask)
    expected, expected_count = ndimage.label(mask)
    assert count == expected_count
    np.testing.assert_array_equal(labels, expected)


def test_a_frame_with_data_only_between_the_sampled_pixels_shows_nobody(scene):
    """A finer mode is measured on every other pixel; a frame whose data all lies between them shows nobody, not an error."""
    calibration = scene.measurer.calibration
    fine = dataclasses.replace(calibration, intrinsics=dataclasses.replace(
        calibration.intrinsics, width=848, height=480, fx=2 * calibration.intrinsics.fx,
        fy=2 * calibration.intrinsics.fy, ppx=2 * calibration.intrinsics.ppx, ppy=2 * calibration.intrinsics.ppy),
        background_m=np.repeat(np.repeat(calibration.background_m, 2, 0), 2, 1),
        background_noise_m=np.repeat(np.repeat(calibration.background_noise_m, 2, 0), 2, 1))
    frame = np.zeros((480, 848), np.uint16)
    frame[1::2, 1::2] = 1500
    assert not Measurer(fine).measure(frame).present
    with pytest.raises(FrameError, match="no depth data"):
        Measurer(fine).measure(np.zeros((480, 848), np.uint16))


def test_a_stoop_past_horizontal_reads_past_90_degrees_not_wrapped_to_minus_90(scene):
    body, results = scene.measure_posture(Posture(z_m=SPOT_Z, hip_flexion_deg=90, knee_flexion_deg=(20, 20)))
    assert body.trunk_angle_deg() > 95.0
    assert median_of(results, "trunk_angle_deg") == pytest.approx(body.trunk_angle_deg(), abs=10.0)



def test_a_rear_edge_with_someone_nearer_beyond_it_is_hidden_not_found():
    # One image row each, body side first: the body's depth below the wall
    # ramps to 0 at pixel 8; beyond, the wall (0) or a person in front (0.6 m nearer).
    ramp = np.concatenate([np.linspace(0.3, 0.02, 8), np.zeros(8)])
    occluded = np.concatenate([np.linspace(0.3, 0.02, 8), np.full(8, 0.6)])
    edge, _, hidden = _ramp_edges(np.stack([ramp, occluded]), np.ones((2, 16), bool))
    assert edge[0] == pytest.approx(8, abs=1) and not hidden[0]
    assert np.isnan(edge[1]) and hidden[1]



def flat_view(background_m: np.ndarray) -> RearEdge:
    """A 424x240 D435 view whose rays all run along the room's x (so depth is the room's x), over an empty scene ``background_m`` deep (m, per pixel)."""
    intrinsics = d400_intrinsics(424, 240)
    pixels = intrinsics.width * intrinsics.height
    return RearEdge(np.tile([1.0, 0.0, 0.0], (pixels, 1)), np.zeros(3), background_m.reshape(-1).astype(np.float32),
                    intrinsics.width, intrinsics.fx, 0.001)


def hips_block(width: int, columns: slice = slice(150, 201)) -> tuple[np.ndarray, np.ndarray]:
    """The flat pixels of a patient's hips in image rows 100-140 and ``columns``, and their room points (m):
    the height falls down the image, and they are nearer the wall toward the right."""
    rows, cols = np.mgrid[100:141, columns]
    pixels = (rows * width + cols).reshape(-1)
    points = np.column_stack([np.zeros(pixels.size), 0.9 - 0.005 * (rows.reshape(-1) - 100),
                              0.5 - 0.002 * (cols.reshape(-1) - 150)])
    return pixels, points


@pytest.mark.parametrize("beyond_the_shadow_m, hidden", [(0.8, True), (2.0, False)])
def test_someone_near_the_lens_behind_their_stereo_shadow_hides_the_rear_edge(beyond_the_shadow_m, hidden):
    # stress-408 (a held-out set): a clinician 0.8 m from the lens covers the hips of a patient at 1.6 m,
    # and between the two the camera sees nothing for 6-8 pixels (the near body's stereo shadow on the
    # patient). Looking only 5 cm past the patient's outline found no one nearer there; the rows below,
    # where a thigh shows against the wall, were read as the buttocks: 171-203 mm from the wall at a true 0.
    depth = np.full((240, 424), 2000, np.uint16)
    edge = flat_view(depth / 1000.0)  # the wall, 2 m from the lens
    depth[100:141, 150:201] = 1600  # the patient, the wall to the right
    depth[100:121, 201:211] = 0  # the upper rows: a stereo shadow 10 pixels wide ...
    depth[100:121, 211:261] = round(beyond_the_shadow_m * 1000)  # ... then someone near the lens, or the wall
    pixels, points = hips_block(depth.shape[1])
    gap = edge.gap_m(depth, points, pixels, 0.8, hips_between=(0.6, 1.0), patient_pixels=pixels)
    assert (gap is HIDDEN) == hidden
    assert hidden or gap is not None


@pytest.mark.parametrize("past_the_outline_m, hidden", [(1.9, False), (1.5, True)])
def test_a_wall_seen_at_a_grazing_angle_past_the_buttocks_does_not_hide_them(past_the_outline_m, hidden):
    # stress-101: from a camera turned 10 degrees toward the drill wall, the wall just past the outline
    # of buttocks touching it is 0.3-0.6 m nearer the lens than that outline, and was taken for
    # someone in front of the hips (1.1 s of a false "patient hidden" note). Something is in front
    # only where it is nearer than the empty scene there too: a person at 1.5 m is, the wall is not.
    background = np.full((240, 424), 2.5, np.float32)
    background[:, 201:] = 1.9  # the wall past the patient, nearer than the patient's outline
    edge = flat_view(background)
    depth = np.round(background * 1000).astype(np.uint16)
    depth[100:141, 150:201] = 2400  # the patient, the wall to the right
    depth[100:141, 201:231] = round(past_the_outline_m * 1000)  # the wall as the empty scene had it, or someone
    pixels, points = hips_block(depth.shape[1])
    gap = edge.gap_m(depth, points, pixels, 0.8, hips_between=(0.6, 1.0), patient_pixels=pixels)
    assert (gap is HIDDEN) == hidden


@pytest.mark.parametrize("the_patients_own, hidden", [(True, False), (False, True)])
def test_the_patients_own_arm_over_the_buttocks_outline_is_not_someone_in_front(the_patients_own, hidden):
    # stress-307: from a camera turned 35 degrees toward the wall, an arm hanging at the side stands over
    # the buttocks' outline, so no row through them shows where the body ends. That is not knowable, but
    # it is not someone in front of the hips either (12 s of a false "patient hidden" note, standing).
    depth = np.full((240, 424), 2000, np.uint16)
    edge = flat_view(depth / 1000.0)  # the wall, 2 m from the lens
    depth[100:141, 150:201] = 1600  # the patient's trunk, the wall to the right ...
    depth[100:141, 201:261] = 1560  # ... and over its outline an arm, or someone's body
    pixels, points = hips_block(depth.shape[1])
    arm, _ = hips_block(depth.shape[1], slice(201, 261))
    everyone_theirs = np.sort(np.concatenate([pixels, arm])) if the_patients_own else pixels
    gap = edge.gap_m(depth, points, pixels, 0.8, hips_between=(0.6, 1.0), patient_pixels=everyone_theirs)
    assert gap is (HIDDEN if hidden else UNREAD)  # no edge shows: not read either way


def test_a_kettlebell_hanging_at_the_knees_does_not_bend_them(scene):
    # A short person holding the bell at arm's length: it hangs in front of the knees.
    short = BodyShape(1.50, 0.3, 0.0)
    posture = Posture(z_m=SPOT_Z - 0.05, hip_flexion_deg=45, knee_flexion_deg=(10, 10), arms="kettlebell_hanging")
    body, results = scene.measure_posture(posture, shape=short)
    assert median_of(results, "knee_flexion_deg") == pytest.approx(body.knee_flexion_deg(), abs=8.0)


def test_the_patients_own_far_foot_is_never_taken_for_someone_else_hinging():
    # In a wide stance, with the near foot partly hidden (a clinician on the camera
    # side), the far foot peaks on its own 0.3 m along the wall. The body standing
    # on it is the patient's own: it used to be taken for a second person hinging
    # at the spot, and the track jumped to it in the middle of the first rep.
    scene = Scene()
    body = pose_body(SHAPE, Posture(x_m=0.35, z_m=SPOT_Z, hip_flexion_deg=55, knee_flexion_deg=(12, 12)))
    frame = scene.frame([(LABEL_PATIENT, body)])
    measurer = scene.measurer
    measurer.reset()
    for t in (0.0, SETTLE_S + 0.1):
        assert measurer.measure(frame, t).present is (t > 0)
    # Followed by the near foot, 0.15 m from the body's middle; the far one 0.16 m beyond it.
    track = measurer._tracker.track = dataclasses.replace(measurer._tracker.track, x_m=0.35 - 0.15)
    points, pixels = measurer._foreground_points(measurer._sampled(frame))
    measurer._frame_points, measurer._frame_pixels = points, pixels
    measurer._frame_feet = (np.array([track.x_m, track.x_m + 0.31]), np.array([track.z_m, track.z_m]),
                            np.array([200, 80]))
    assert measurer._hinging_other() is None


@pytest.mark.parametrize("arms", ["crossed", "kettlebell_chest"])
def test_arms_or_a_load_before_the_chest_do_not_tip_the_trunk_when_the_head_is_cut_off(arms):
    # The camera at the near, high corner of the envelope (1.5 m, 1.3 m high, pitched
    # down 15 degrees) cuts off a tall patient's head and shoulders: what is left above
    # the hips is as deep (arms, a kettlebell) as it is tall, and its principal axis
    # tipped 18-28 degrees toward the front. The torso alone is read.
    scene = Scene(mount=CameraMount(side=-1, distance_m=1.5, yaw_toward_wall_deg=10.0, height_m=1.30,
                                    pitch_deg=-15.0))
    shape = BodyShape(1.87, 0.82, 0.0)
    for hip, tolerance in ((0, 10.0), (20, 8.0)):
        posture = Posture(z_m=SPOT_Z, hip_flexion_deg=hip, knee_flexion_deg=(8, 8), arms=arms,
                          load_kg=10.0 if arms == "kettlebell_chest" else 0.0)
        body, results = scene.measure_posture(posture, shape=shape)
        assert median_of(results, "trunk_angle_deg") == pytest.approx(body.trunk_angle_deg(), abs=tolerance)


@pytest.mark.parametrize("hip", [30, 60])
def test_the_trunk_axis_does_not_lean_toward_the_parts_the_camera_sees_densely(scene, hip):
    # A camera samples the body unevenly: a part nearer the lens, or facing it,
    # gets several times the points per square centimetre. Bending over, the
    # front of the trunk and the head come toward a camera in front of the
    # patient; seen four times as densely, they tipped a plain principal
    # axis 4-6 degrees shallow. The axis is the side profile's area, however
    # densely each part of it is seen.
    from station.measure import _trunk_angle_deg
    body = pose_body(SHAPE, Posture(z_m=SPOT_Z, hip_flexion_deg=hip, knee_flexion_deg=(10, 10)))
    rendered = scene.renderer.render([(LABEL_PATIENT, body)])
    patient = (rendered.labels >= LABEL_PATIENT) & (rendered.labels < LABEL_OTHER_PERSON)
    points = scene.renderer.room_points(rendered.z_m)[patient]
    hip_y, hip_z = body.joints["hip_centre"][1:]
    y, z = points[points[:, 1] > hip_y, 1], points[points[:, 1] > hip_y, 2]
    rear_z = float(points[np.abs(points[:, 1] - hip_y) < 0.03, 2].min())
    nearer = z > np.median(z)  # the half further from the wall, toward a camera in front
    dense_y = np.concatenate([y] + [y[nearer]] * 3)
    dense_z = np.concatenate([z] + [z[nearer]] * 3)
    evenly = _trunk_angle_deg(y, z, hip_y, rear_z)
    assert evenly == pytest.approx(body.trunk_angle_deg(), abs=6.0)
    assert _trunk_angle_deg(dense_y, dense_z, hip_y, rear_z) == pytest.approx(evenly, abs=1.0)


# -- the fast paths give what the plain numpy they replace gives --------------------------

def test_row_extremes_are_each_rows_first_or_last_column_whatever_the_pixels_order():
    rng = np.random.default_rng(5)
    pixels = np.unique(rng.integers(0, 240 * 424, 600))
    rows = pixels // 424
    for order in (pixels, rng.permutation(pixels)):
        for toward, pick in ((1, np.maximum), (-1, np.minimum)):
            unique_rows, extreme = _row_extremes(order, 424, toward)
            expected_rows, inverse = np.unique(rows, return_inverse=True)
            expected = np.full(len(expected_rows), -1 if toward > 0 else 424)
            pick.at(expected, inverse, pixels % 424)
            assert np.array_equal(unique_rows, expected_rows) and np.array_equal(extreme, expected)


def test_plan_blobs_are_ndimages_after_one_dilation(scene):
    from scipy import ndimage
    rng = np.random.default_rng(6)
    # Two people's worth of points and a scatter of strays, over the plan.
    points = np.concatenate([rng.normal((0.0, 1.0, 0.3), (0.1, 0.4, 0.08), (3000, 3)),
                             rng.normal((0.5, 1.0, 0.9), (0.1, 0.4, 0.1), (2000, 3)),
                             rng.uniform((-1.5, 0.1, 0.05), (1.5, 2.0, 1.9), (300, 3))]).astype(np.float32)
    measurer = scene.measurer
    labels, count = measurer._plan_labels(points)
    cells_x = ((points[:, 0] - PLAN_X_RANGE_M[0]) / PLAN_CELL_M).astype(np.intp)
    cells_z = ((points[:, 2] - PLAN_Z_RANGE_M[0]) / PLAN_CELL_M).astype(np.intp)
    counts = np.zeros(measurer._plan_shape, np.intp)
    np.add.at(counts, (cells_x, cells_z), 1)
    expected, expected_count = ndimage.label(ndimage.binary_dilation(counts >= measurer._plan_min_points))
    assert count == expected_count >= 2
    assert np.array_equal(labels, expected[cells_x, cells_z])


def test_the_foreground_is_the_weak_pixels_of_objects_with_enough_strong_ones(scene):
    from scipy import ndimage
    measurer = scene.measurer
    body = pose_body(SHAPE, Posture(z_m=SPOT_Z, hip_flexion_deg=45, knee_flexion_deg=(12, 12)))
    depth = scene.frame([(LABEL_PATIENT, body)])
    points, pixels = measurer._foreground_points(depth)
    flat = depth.reshape(-1)
    weak = (flat > 0) & (flat - 1 < measurer._weak_below_units)
    strong = (flat > 0) & (flat - 1 < measurer._strong_below_units)
    labels, count = ndimage.label(weak.reshape(depth.shape))
    seeded = np.bincount(labels.reshape(-1)[strong], minlength=count + 1) >= 10
    seeded[0] = False
    candidates = np.flatnonzero(seeded[labels.reshape(-1)])
    room = measurer._origin + measurer._rays[candidates] * (flat[candidates] * np.float32(0.001))[:, np.newaxis]
    inside = ((room[:, 1] > 0.03) & (room[:, 2] > 0.0) & (room[:, 0] > PLAN_X_RANGE_M[0])
              & (room[:, 0] < PLAN_X_RANGE_M[1]) & (room[:, 2] < PLAN_Z_RANGE_M[1]))
    assert len(pixels) > 1000
    assert np.array_equal(pixels, candidates[inside])
    assert np.array_equal(points, room[inside])


def test_someone_stepping_between_the_camera_and_the_patient_hides_them_and_is_not_followed():
    # The patient is chosen standing at the spot; then a clinician as tall
    # steps onto the camera's line of sight to them, 0.3 m in front of their
    # feet, hiding them, and steps away again. While they stand there, the
    # patient is there but not measured (what is in view is the clinician's);
    # afterwards the patient is followed again, not the clinician.
    scene = Scene()
    posture = Posture(z_m=SPOT_Z, hip_flexion_deg=30, knee_flexion_deg=(10, 10))
    patient = (LABEL_PATIENT, pose_body(SHAPE, posture))
    toward_camera = np.array([scene.pose.translation[0], scene.pose.translation[2] - SPOT_Z])
    toward_camera /= np.linalg.norm(toward_camera)
    x, z = 0.3 * toward_camera + [0.0, SPOT_Z]
    clinician = (LABEL_OTHER_PERSON, pose_body(SHAPE, Posture(x_m=float(x), z_m=float(z), yaw_deg=-90, arms="sides")))
    alone = [scene.measurer.measure(scene.frame([patient]), i / 15) for i in range(24)]
    assert alone[-1].present
    hidden = [scene.measurer.measure(scene.frame([patient, clinician]), 1.6 + i / 15) for i in range(15)]
    assert all(r.present and r.trunk_angle_deg is None and r.wall_gap_mm is None for r in hidden)
    assert all(r.hidden_reason == PATIENT_HIDDEN for r in hidden)
    after = [scene.measurer.measure(scene.frame([patient]), 2.7 + i / 15) for i in range(5)]
    assert all(r.present for r in after)
    assert median_of(after, "trunk_angle_deg") == pytest.approx(patient[1].trunk_angle_deg(), abs=6.0)


def test_someone_standing_square_in_front_for_seconds_hides_the_patient_and_is_not_chosen_in_their_place():
    # A clinician as broad stands 0.45 m in front of the patient on the camera's line of sight for longer
    # than the track's memory (MEMORY_S), leaving too little of the patient in their slab to measure. The
    # patient is there but hidden, not gone: read absent, their track was dropped and the clinician, next
    # to the spot, was chosen and followed in their place (and their standing trunk counted as the patient's).
    scene = Scene()
    patient = (LABEL_PATIENT, pose_body(SHAPE, Posture(z_m=SPOT_Z, hip_flexion_deg=30, knee_flexion_deg=(10, 10))))
    toward_camera = np.array([scene.pose.translation[0], scene.pose.translation[2] - SPOT_Z])
    toward_camera /= np.linalg.norm(toward_camera)
    x, z = 0.45 * toward_camera + [0.0, SPOT_Z]
    clinician = (LABEL_OTHER_PERSON, pose_body(BodyShape(1.80, 0.9, 0.0),
                                               Posture(x_m=float(x), z_m=float(z), yaw_deg=-90, arms="sides")))
    alone = [scene.measurer.measure(scene.frame([patient]), i / 15) for i in range(24)]
    assert alone[-1].present
    covered = [scene.measurer.measure(scene.frame([patient, clinician]), 1.6 + i / 15) for i in range(45)]
    assert min(r.confidence for r in covered) < FOLLOWED_MIN_CONFIDENCE  # too little of the patient to follow
    assert all(r.present and r.hidden_reason == PATIENT_HIDDEN and r.trunk_angle_deg is None for r in covered)
    after = [scene.measurer.measure(scene.frame([patient]), 4.6 + i / 15) for i in range(5)]
    assert all(r.present for r in after)
    assert median_of(after, "trunk_angle_deg") == pytest.approx(patient[1].trunk_angle_deg(), abs=6.0)


@pytest.mark.parametrize("in_front_m", [0.30, 0.40])
def test_someone_standing_against_the_patient_is_not_measured_with_them(in_front_m):
    # The patient stands at the spot alone long enough to be known; then a
    # clinician as tall stands face to face with them, close enough that
    # the two are one blob on the floor plan (stress-139: a trunk reading
    # 40 degrees for 2.5 s, then a phantom rep). While they stand there the
    # patient is there but not measured; afterwards measured again.
    scene = Scene()
    patient = (LABEL_PATIENT, pose_body(SHAPE, Posture(z_m=SPOT_Z)))
    facing = Posture(z_m=SPOT_Z + in_front_m, yaw_deg=180, arms="sides")
    clinician = (LABEL_OTHER_PERSON, pose_body(BodyShape(1.75, 0.6, 0.0), facing))
    alone = [scene.measurer.measure(scene.frame([patient]), i / 15) for i in range(45)]
    assert alone[-1].present and alone[-1].trunk_angle_deg is not None
    against = [scene.measurer.measure(scene.frame([patient, clinician]), 3.0 + i / 15) for i in range(10)]
    assert all(r.present and r.trunk_angle_deg is None and r.wall_gap_mm is None for r in against)
    assert all(r.hidden_reason == PATIENT_MERGED for r in against)
    after = [scene.measurer.measure(scene.frame([patient]), 3.7 + i / 15) for i in range(5)]
    assert all(r.present and r.hidden_reason is None for r in after)
    assert median_of(after, "trunk_angle_deg") == pytest.approx(patient[1].trunk_angle_deg(), abs=4.0)


def _known_patient_and_a_clinician_face_to_face():
    """A scene whose patient stood alone at the spot for 3 s (their own area read), and a clinician 0.3 m in front."""
    scene = Scene()
    patient = (LABEL_PATIENT, pose_body(SHAPE, Posture(z_m=SPOT_Z)))
    clinician = (LABEL_OTHER_PERSON, pose_body(BodyShape(1.75, 0.6, 0.0),
                                               Posture(z_m=SPOT_Z + 0.30, yaw_deg=180, arms="sides")))
    for i in range(45):
        scene.measurer.measure(scene.frame([patient]), i / 15)
    return scene, patient, clinician


def test_someone_against_the_patient_for_long_leaves_nobody_unmeasured_for_good():
    # Past MERGED_MAX_S the area read standing is taken as wrong and read afresh: the frames are measured again
    # (with whatever is in view) rather than hidden for the rest of the session.
    scene, patient, clinician = _known_patient_and_a_clinician_face_to_face()
    times = 3.0 + np.arange(0.0, MERGED_MAX_S + 1.5, 0.25)
    results = [scene.measurer.measure(scene.frame([patient, clinician]), t) for t in times]
    hidden = [r.hidden_reason == PATIENT_MERGED for r in results]
    assert all(hidden[:int(MERGED_MAX_S / 0.25)]) and not any(hidden[-3:])
    assert all(r.present for r in results)


def test_a_frame_of_the_patient_alone_now_and_then_is_no_break_in_someone_standing_against_them():
    # stress-611: the patient's own area was read while they walked in half hidden, so every later frame
    # of them read as someone against them; a frame now and then, half hidden again, read under the
    # multiple and started the wait for MERGED_MAX_S afresh: it never ran out, and all four reps were lost.
    # A break is MERGED_BREAK_S long; a single frame under the multiple is none.
    scene, patient, clinician = _known_patient_and_a_clinician_face_to_face()
    times = 3.0 + np.arange(0.0, MERGED_MAX_S + 2.0, 0.25)
    alone_now_and_then = [k % 4 == 3 for k in range(len(times))]  # one frame a second, under MERGED_BREAK_S
    assert 0.25 < MERGED_BREAK_S
    results = [scene.measurer.measure(scene.frame([patient] if alone else [patient, clinician]), t)
               for t, alone in zip(times, alone_now_and_then)]
    merged = [r.hidden_reason == PATIENT_MERGED for r, alone in zip(results, alone_now_and_then) if not alone]
    assert merged[0] and not any(merged[-3:])


def test_a_lean_read_before_the_patient_has_stood_at_the_spot_does_not_end_the_reading_of_their_hips():
    # Turning round at the spot, the trunk reads 35-110 degrees for up to a second (stress-100, -110, -120,
    # -125, -135: hands on the hips). That used to lock the patient in as hinged at once, and their hips and
    # side area, read only before the first hinge, were never read: a large body's touches read 15-30 mm off
    # the wall. The lock now waits for the patient to have stood at the spot.
    scene = Scene()
    large = BodyShape(1.95, 1.1, 0.0)
    leaning = (LABEL_PATIENT, pose_body(large, Posture(z_m=SPOT_Z, hip_flexion_deg=50, knee_flexion_deg=(10, 10))))
    standing = (LABEL_PATIENT, pose_body(large, Posture(z_m=SPOT_Z)))
    measurer = scene.measurer
    measurer.measure(scene.frame([standing]), 0.0)
    turning = [measurer.measure(scene.frame([leaning]), SETTLE_S + 0.1 + i / 15) for i in range(3)]
    assert all(r.trunk_angle_deg > 30 for r in turning) and not measurer._tracker.hinged
    for i in range(30):
        measurer.measure(scene.frame([standing]), SETTLE_S + 0.4 + i / 15)
    assert measurer._buttock_radius_m > BUTTOCK_RADIUS_M + 0.03  # read: a large body's hips
    hinge = measurer.measure(scene.frame([leaning]), SETTLE_S + 2.5)
    assert hinge.trunk_angle_deg > 30 and measurer._tracker.hinged


def _side_profile(rear_z_at, top_m, step_m=0.005):
    """Points of a side profile (height y, distance from the wall z, m) whose rear outline is ``rear_z_at(y)``."""
    heights = np.arange(0.4, top_m, step_m)
    depth = np.arange(0.0, 0.25, 0.01)
    return np.repeat(heights, len(depth)), (rear_z_at(heights)[:, None] + depth).reshape(-1)


def _buttocks(y, apex_y, apex_z, radius_m=0.12, beyond_z=0.45):
    """A round rear bulge (apex at apex_y, apex_z m) and, beyond its radius, an outline ``beyond_z`` from the wall."""
    inside = np.abs(y - apex_y) < radius_m
    return np.where(inside, apex_z + radius_m - np.sqrt(np.maximum(radius_m**2 - (y - apex_y) ** 2, 0.0)), beyond_z)


def test_a_hand_gripping_a_stick_at_a_tall_patients_waist_is_not_taken_for_the_buttocks():
    """Standing, 1.95 m: a fist 6 cm tall juts 6 cm behind the buttocks above the hips' share of the height."""
    def outline(y):
        rear = _buttocks(y, 0.97, 0.28)
        return np.where(np.abs(y - 1.29) < 0.03, 0.22, rear)
    gap_mm, hip_y = _profile(*_side_profile(outline, 1.95), 1.95)
    assert hip_y == pytest.approx(0.97, abs=0.03) and gap_mm == pytest.approx(280, abs=10)


def test_the_round_buttocks_of_a_deep_hinge_are_taken_above_the_hips_share_of_the_height():
    """Hinged deep, the body's top is 1.3 m and the buttocks (at 0.95 m, above 0.62 of it) are the rear bulge."""
    gap_mm, hip_y = _profile(*_side_profile(lambda y: _buttocks(y, 0.95, 0.05, beyond_z=0.2), 1.3), 1.3)
    assert hip_y == pytest.approx(0.95, abs=0.03) and gap_mm == pytest.approx(50, abs=10)


def test_a_patient_squatting_deep_is_not_hidden_by_their_own_shins():
    # The shins lean forward over the spot the patient settled at when the
    # knees bend far: that is their own legs, not someone in front.
    scene = Scene()
    standing = (LABEL_PATIENT, pose_body(SHAPE, Posture(z_m=SPOT_Z, hip_flexion_deg=5, knee_flexion_deg=(5, 5))))
    for i in range(24):
        scene.measurer.measure(scene.frame([standing]), i / 15)
    results = []
    for i, knees in enumerate(np.linspace(5, 70, 12)):  # a squat: the fault is past 40 degrees
        squat = pose_body(SHAPE, Posture(z_m=SPOT_Z, hip_flexion_deg=float(knees), knee_flexion_deg=(float(knees),) * 2))
        results.append(scene.measurer.measure(scene.frame([(LABEL_PATIENT, squat)]), 1.6 + i / 8))
    assert all(r.present and r.hidden_reason != PATIENT_HIDDEN for r in results)


def test_a_settled_patients_legs_are_read_where_they_stand_not_with_someone_elses_beside_them():
    # The patient's two shanks 0.1 m either side of x = -0.1, and a
    # clinician's legs 0.35 m along the wall whose blob joined theirs: the
    # median of all the legs sat between the two people and crept onto the
    # clinician frame by frame (stress-103, -211). Read within the window
    # around where the patient stands, the legs are the patient's alone.
    rng = np.random.default_rng(3)
    def shank(x_m, count=60):
        return np.column_stack([rng.normal(x_m, 0.03, count), rng.uniform(0.05, 0.45, count), rng.normal(0.3, 0.03, count)])
    points = np.vstack([shank(-0.2), shank(0.0), shank(0.25), shank(0.35)])
    legs = np.ones(len(points), bool)
    assert np.median(points[legs, 0]) > 0.1  # all of them: half-way to the clinician
    own = _patients_own(legs, points[:, 0], points[:, 2], -0.1, 0.3)
    assert np.count_nonzero(own) == 120 and abs(np.median(points[own, 0]) + 0.1) < 0.03
    # Nothing of them where they stood (they walked off): every leg in view counts.
    assert np.array_equal(_patients_own(legs, points[:, 0], points[:, 2], -0.1 - 3 * FEET_WINDOW_M[0], 0.3), legs)


def test_a_patient_whose_head_is_above_the_picture_is_read_with_a_note_saying_so(scene):
    # The near, high corner of the envelope cuts a 1.87 m patient off at the shoulders; over the stress
    # sets such frames read the trunk 3.7 degrees off (median; p95 12.9) against 2.3 (p95 7.5).
    high = Scene(mount=CameraMount(side=-1, distance_m=1.5, yaw_toward_wall_deg=10.0, height_m=1.30, pitch_deg=-15.0))
    _, cut = high.measure_posture(Posture(z_m=SPOT_Z, knee_flexion_deg=(8, 8)), shape=BodyShape(1.87, 0.82, 0.0))
    assert all(r.trunk_angle_deg is not None and r.view_note == HEAD_ABOVE_PICTURE for r in cut)
    _, whole = scene.measure_posture(Posture(z_m=SPOT_Z))
    assert all(r.trunk_angle_deg is not None and r.view_note is None for r in whole)
