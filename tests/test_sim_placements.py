"""Camera placements of the back-view study: same people from every placement, each aimed at the spot."""

import numpy as np
import pytest

from station.geometry import project
from station.sim.backview import back_view
from station.sim.body import pose_body
from station.sim.placements import PLACEMENTS
from station.sim.render import LABEL_PATIENT
from station.sim.scenarios import build_scene
from station.sim.simulate import SceneRenderer


@pytest.mark.parametrize("placement", [name for name in PLACEMENTS if name != "side"])
def test_a_placement_sees_the_same_person_doing_the_same_reps(placement):
    side, other = build_scene("rounded-back", 7), build_scene("rounded-back", 7, placement=placement)
    assert other.mount != side.mount
    assert other.people[0].shape == side.people[0].shape and other.people[0].reps == side.people[0].reps
    assert other.spot_z_m == side.spot_z_m and other.duration_s == side.duration_s


@pytest.mark.parametrize("placement", list(PLACEMENTS))
def test_every_placement_has_the_patients_hips_in_the_picture(placement):
    spec = build_scene("good-set", 3, placement=placement)
    scene = SceneRenderer(spec)
    patient = spec.patient
    body = pose_body(patient.shape, patient.at(patient.first_rep_s).posture)
    hips = scene.camera_pose.inverse().apply(body.joints["hip_centre"][np.newaxis])
    u, v = project(hips, scene.intrinsics)[0]
    assert hips[0, 2] > 0.3 and 0 <= u < spec.width and 0 <= v < spec.height


def test_the_back_is_in_view_from_the_wall_above_and_not_behind_a_stick_from_the_side():
    def back_at_bottom(placement, arms):
        spec = build_scene("rounded-back", 7, placement=placement, arms=arms)
        patient = spec.patient
        t = patient.rep_starts_s[1] + patient.reps[1].descent_s + 0.1  # the bottom of a rounded rep
        body = pose_body(patient.shape, patient.at(t).posture)
        renderer = SceneRenderer(spec).renderer
        rendered = renderer.render([(LABEL_PATIENT, body)])
        points = renderer.room_points(np.where(np.isfinite(rendered.z_m), rendered.z_m, 0.0))
        return back_view(body, rendered.labels, points)

    assert back_at_bottom("wall-above", "hips").in_view
    assert not back_at_bottom("side", "stick").in_view


def test_an_unknown_placement_or_arms_is_refused_by_name():
    with pytest.raises(ValueError, match="unknown placement 'behind'"):
        build_scene("good-set", 1, placement="behind")
    with pytest.raises(ValueError, match="unknown arms 'dumbbell'"):
        build_scene("good-set", 1, arms="dumbbell")
