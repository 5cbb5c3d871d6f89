"""The simulated body: anthropometry, balance, and ground truth that means what docs/drill.md says."""

from dataclasses import replace

import numpy as np
import pytest

from station.sim.body import (ARM_STYLES, FOOT, SHANK, THIGH, Body, BodyShape, Posture, _centre_of_mass, load_share,
                              pose_body)
from station.sim.motion import Performance, plan_rep, spot_range_m

SHAPES = [BodyShape(1.5, 0.0, 0.0), BodyShape(1.7, 0.5, 0.0), BodyShape(1.9, 1.0, 0.0), BodyShape(1.6, 0.6, 30.0)]
POSTURES = [Posture(), Posture(hip_flexion_deg=45, knee_flexion_deg=(15, 15)),
            Posture(hip_flexion_deg=80, knee_flexion_deg=(20, 20), spine_flexion_deg=25),
            Posture(hip_flexion_deg=20, knee_flexion_deg=(70, 70)), Posture(arms="stick", hip_flexion_deg=50),
            Posture(arms="crossed", hip_flexion_deg=30), Posture(arms="kettlebell_chest", hip_flexion_deg=60),
            Posture(arms="kettlebell_hanging", hip_flexion_deg=85, knee_flexion_deg=(15, 15), load_kg=16.0)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("posture", POSTURES)
def test_segments_keep_their_length_and_knee_truth_is_the_joint_angle(shape, posture):
    body = pose_body(shape, posture)
    for side in ("left", "right"):
        thigh = np.linalg.norm(body.joints[f"{side}_hip"] - body.joints[f"{side}_knee"])
        shank = np.linalg.norm(body.joints[f"{side}_knee"] - body.joints[f"{side}_ankle"])
        assert shank == pytest.approx(SHANK * shape.height_m, abs=1e-9)
        # The pelvis levels both hips, so a thigh may differ a hair from its table length.
        assert thigh == pytest.approx(THIGH * shape.height_m, rel=0.02)
    assert body.knee_flexion_deg() == pytest.approx(np.mean(posture.knee_flexion_deg), abs=1.5)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("posture", POSTURES)
def test_balance_keeps_the_centre_of_mass_over_the_feet(shape, posture):
    body = pose_body(shape, posture)
    # Recompute the centre of mass from the posed joints, relative to the ankles.
    joints = {k: v - np.array([posture.x_m, 0.0, posture.z_m]) if not k.endswith("_dir") else v
              for k, v in body.joints.items()}
    com = _centre_of_mass(joints, shape.height_m, load_share(shape, posture))
    assert com[2] == pytest.approx(0.25 * FOOT * shape.height_m, abs=2e-3)


def test_feet_rest_on_the_floor():
    for shape in SHAPES:
        body = pose_body(shape, Posture(hip_flexion_deg=40))
        feet = [p for part, p in body.primitives if part == "foot"]
        lowest = min(p.min_along(np.array([0.0, 1.0, 0.0])) for p in feet)
        assert abs(lowest) < 0.02


def test_trunk_angle_grows_with_the_hinge_and_is_upright_standing():
    shape = BodyShape(1.7, 0.5, 0.0)
    angles = [pose_body(shape, Posture(hip_flexion_deg=h)).trunk_angle_deg() for h in (0, 20, 40, 60, 80)]
    assert abs(angles[0]) < 4.0
    assert np.all(np.diff(angles) > 15.0)


def test_rounded_upper_back_is_a_baseline_not_spine_flexion():
    rounded = pose_body(BodyShape(1.6, 0.5, 30.0), Posture())
    straight = pose_body(BodyShape(1.6, 0.5, 0.0), Posture())
    assert rounded.trunk_angle_deg() > straight.trunk_angle_deg() + 4.0
    assert rounded.spine_flexion_deg() == 0.0


def test_wall_gap_is_the_exact_distance_of_pelvis_and_buttocks():
    shape = BodyShape(1.7, 0.5, 0.0)
    body = pose_body(shape, Posture(z_m=0.35, hip_flexion_deg=30))
    rng = np.random.default_rng(0)
    sphere = rng.normal(size=(100_000, 3))
    sphere /= np.linalg.norm(sphere, axis=1, keepdims=True)
    surface_z = [(p.centre + (sphere * p.radii) @ p.axes.T)[:, 2].min()
                 for part, p in body.primitives if part in ("pelvis", "buttock")]
    assert body.wall_gap_m() == pytest.approx(min(surface_z), abs=5e-4)
    # Arms and hands are not part of the wall gap, even when nearer the wall.
    assert body.wall_gap_m() > 0.0


def test_shape_validation():
    with pytest.raises(ValueError, match="height_m"):
        BodyShape(2.5)
    with pytest.raises(ValueError, match="build"):
        BodyShape(1.7, 1.5)


def test_touching_reps_reach_the_wall_and_no_touch_reps_stop_short():
    rng = np.random.default_rng(5)
    for shape in SHAPES:
        nearest, farthest = spot_range_m(shape)
        assert nearest < farthest
        reps = [plan_rep(rng), plan_rep(rng, ["no_touch"]), plan_rep(rng, ["squat"])]
        performance = Performance(shape, farthest - 0.02, reps, enter_at_s=0.0, enter_from_x_m=2.0)
        for index, rep in enumerate(reps):
            hold = performance.rep_starts_s[index] + rep.descent_s + rep.hold_s / 2
            body = pose_body(shape, performance.at(hold).posture)
            if rep.target_gap_m is None:
                assert body.wall_gap_m() == 0.0
            else:
                # At the planned gap, or nearer where that was too shallow to be a hinge.
                assert 45.0 - 0.1 <= body.wall_gap_m() * 1000 <= rep.target_gap_m * 1000 + 1.0
        standing = pose_body(shape, performance.at(performance.first_rep_s - 0.1).posture)
        assert standing.wall_gap_m() > 0.03


def test_a_rep_short_of_the_wall_is_still_a_hinge_when_the_target_is_barely_nearer_than_standing():
    # Reaching a planned gap 1 cm short of the standing one would take a
    # couple of degrees: a weight shift, not a rep.
    shape = SHAPES[1]
    spot_z = spot_range_m(shape)[0] + 0.07
    standing_gap = pose_body(shape, Posture(z_m=spot_z)).wall_gap_m()
    short = replace(plan_rep(np.random.default_rng(3), ["no_touch"]), target_gap_m=standing_gap - 0.01)
    bottoms = []
    for rep in (short, replace(short, target_gap_m=None)):
        performance = Performance(shape, spot_z, [rep], enter_at_s=0.0, enter_from_x_m=2.0)
        bottom = performance.at(performance.rep_starts_s[0] + rep.descent_s + rep.hold_s / 2).posture
        bottoms.append((bottom.hip_flexion_deg, pose_body(shape, bottom).wall_gap_m()))
    (short_hip, short_gap), (touch_hip, _) = bottoms
    assert short_hip >= 0.5 * touch_hip - 0.01
    assert 0.045 - 1e-4 <= short_gap < standing_gap - 0.03


def test_unknown_fault_is_refused():
    with pytest.raises(ValueError, match="unknown fault 'slouch'"):
        plan_rep(np.random.default_rng(0), ["slouch"])


@pytest.mark.parametrize("arms", ARM_STYLES)
def test_every_arm_style_poses_hands_within_reach_and_above_the_floor(arms):
    for shape in (BodyShape(1.45, 0.0, 0.0), BodyShape(2.0, 1.0, 0.0)):
        for hip in (0.0, 90.0):
            body = pose_body(shape, Posture(arms=arms, hip_flexion_deg=hip, knee_flexion_deg=(20, 20)))
            for side in ("left", "right"):
                reach = np.linalg.norm(body.joints[f"{side}_hand"] - body.joints[f"{side}_shoulder"])
                assert reach <= 0.335 * shape.height_m
            lowest = min(p.min_along(np.array([0.0, 1.0, 0.0])) for part, p in body.primitives)
            assert lowest > -0.02
            has_load = any(part == "load" for part, _ in body.primitives)
            assert has_load == arms.startswith("kettlebell")


def test_unknown_arm_style_is_refused():
    with pytest.raises(ValueError, match="arms"):
        Posture(arms="overhead")


@pytest.mark.parametrize("arms", ["kettlebell_chest", "kettlebell_hanging"])
def test_a_kettlebell_is_carried_for_balance_but_never_measured(arms):
    shape = BodyShape(1.8, 1.0, 0.0)
    posture = Posture(arms=arms, z_m=0.6, hip_flexion_deg=55, load_kg=16.0)
    loaded = pose_body(shape, posture)
    # The truth is the body's: the same body without the bell reads the same.
    bare = Body(shape, posture, loaded.joints, [(part, p) for part, p in loaded.primitives if part != "load"])
    assert len(bare.primitives) == len(loaded.primitives) - 1
    for measure in ("wall_gap_m", "trunk_angle_deg", "knee_flexion_deg", "spine_flexion_deg"):
        assert getattr(loaded, measure)() == getattr(bare, measure)()
    # The bell is in front of the body, never nearer the wall than the buttocks.
    bell = next(p for part, p in loaded.primitives if part == "load")
    assert bell.min_along(np.array([0.0, 0.0, 1.0])) > loaded.wall_gap_m() + 0.1
    # Its weight in front pushes the hips back: a heavier bell, a smaller gap.
    light = pose_body(shape, replace(posture, load_kg=0.0))
    assert loaded.wall_gap_m() < light.wall_gap_m() - 0.003


def test_the_obese_end_is_deeper_through_pelvis_and_belly_than_the_heavy_end():
    def depth(build, parts):
        body = pose_body(BodyShape(1.75, build, 0.0), Posture(z_m=0.0))
        front = max(-p.min_along(np.array([0.0, 0.0, -1.0])) for part, p in body.primitives if part in parts)
        back = min(p.min_along(np.array([0.0, 0.0, 1.0])) for part, p in body.primitives if part in parts)
        return front - back

    # Heavy (build 1, BMI 32): about 30 cm through the pelvis, 38 cm through the trunk at the belly.
    assert depth(1.0, ("pelvis", "buttock")) == pytest.approx(0.30, abs=0.02)
    assert depth(1.0, ("pelvis", "buttock", "abdomen")) == pytest.approx(0.385, abs=0.02)
    # Obese: the belly grows faster than the girth does.
    girth_ratio = BodyShape(1.75, 1.3).girth / BodyShape(1.75, 1.0).girth
    assert depth(1.3, ("abdomen",)) > depth(1.0, ("abdomen",)) * girth_ratio * 1.1
    assert BodyShape(1.75, 1.3).mass_kg > 105.0


@pytest.mark.parametrize("shape", [BodyShape(1.5, 0.0, 0.0), BodyShape(1.7, 0.5, 0.0), BodyShape(1.95, 1.3, 0.0),
                                   BodyShape(1.6, 0.6, 30.0)])
@pytest.mark.parametrize("hip", [0.0, 25.0, 45.0, 65.0])
def test_a_stick_rests_on_the_back_and_the_wall_stops_it(shape, hip):
    # A dowel lies on the back's outline (it touches the hips and the upper back or head, and no part
    # of the back reaches through it) with both hands on it; posed with the buttocks at the wall, it does
    # not pass through the wall. (Until 2026-12-05 it floated 7-13 cm behind the buttocks and went up to
    # 18 cm through the wall in a hinge.)
    posture = Posture(z_m=0.30, hip_flexion_deg=hip, knee_flexion_deg=(12.0, 12.0), arms="stick")
    gap = pose_body(shape, posture).wall_gap_m()
    at_wall = replace(posture, z_m=posture.z_m - gap) if hip else posture
    body = pose_body(shape, at_wall)
    stick = next(part for name, part in body.primitives if name == "stick")
    assert stick.min_along(np.array([0.0, 0.0, 1.0])) >= -1e-6  # not through the wall
    axis = (stick.b - stick.a) / np.linalg.norm(stick.b - stick.a)
    behind = np.cross(axis, [1.0, 0.0, 0.0])  # the stick's side of the back, across it in the sagittal plane
    behind = behind if behind @ (body.joints["hip_centre"] - stick.a) < 0 else -behind
    touches = {name: -part.min_along(-behind) - (stick.a @ behind - stick.radius)
               for name, part in body.primitives if name in ("pelvis", "buttock", "thorax", "neck", "head")}
    assert max(touches.values()) == pytest.approx(0.0, abs=1e-3)  # resting on the back, not floating off it
    assert max(touches[name] for name in ("pelvis", "buttock")) == pytest.approx(0.0, abs=1e-3)
    assert max(touches[name] for name in ("thorax", "neck", "head")) == pytest.approx(0.0, abs=1e-3)
    for side in ("left", "right"):
        hand = body.joints[f"{side}_hand"]
        off_axis = (hand - stick.a) - ((hand - stick.a) @ axis) * axis
        assert np.linalg.norm(off_axis) < 0.05  # holding it
