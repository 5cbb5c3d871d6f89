"""The side-view stick figure follows the rep's series exactly, on a body of fixed proportions."""

import math

import numpy as np
import pytest

from web.replay import BODY, pose, replay_frames


def angle_deg(a, b, c):
    """Angle at b between b->a and b->c."""
    u, v = np.subtract(a, b), np.subtract(c, b)
    return math.degrees(math.acos(np.dot(u, v) / np.linalg.norm(u) / np.linalg.norm(v)))


@pytest.mark.parametrize("gap, trunk, knee, standoff", [
    (240, 0, 5, 100), (5, 52, 18, 100), (0, 60, 45, 300), (35, 30, 10, 200), (12, 80, 70, 150)])
def test_the_pose_shows_the_measures(gap, trunk, knee, standoff):
    joints = pose(gap, trunk, knee, standoff_mm=standoff)
    assert joints["heel"] == (standoff, 0.0)
    # The pelvis circle's rear edge is the measured gap from the wall.
    assert joints["hip"][0] - BODY["pelvis_radius"] == pytest.approx(gap)
    # Segment lengths are the body's.
    assert math.dist(joints["ankle"], joints["knee"]) == pytest.approx(BODY["shank"])
    assert math.dist(joints["knee"], joints["hip"]) == pytest.approx(BODY["thigh"])
    assert math.dist(joints["hip"], joints["shoulder"]) == pytest.approx(BODY["trunk"])
    # Knee flexion is 180 degrees minus the angle at the knee; the knee bends forward (into the room).
    assert 180 - angle_deg(joints["ankle"], joints["knee"], joints["hip"]) == pytest.approx(knee, abs=1e-6)
    if knee > 1:
        line = np.subtract(joints["hip"], joints["ankle"])
        to_knee = np.subtract(joints["knee"], joints["ankle"])
        assert line[0] * to_knee[1] - line[1] * to_knee[0] < 0  # right of the ankle-hip line: forward
    # The trunk leans away from the wall by the trunk angle.
    dz, dy = np.subtract(joints["shoulder"], joints["hip"])
    assert math.degrees(math.atan2(dz, dy)) == pytest.approx(trunk)
    assert joints["head"][1] > joints["shoulder"][1] or trunk > 80
    assert all(y >= -1e-9 for _, y in joints.values())


def test_numbers_beyond_the_legs_reach_keep_the_figure_whole():
    joints = pose(900, 20, 0, standoff_mm=100)  # hips far in front of the feet: not a possible pose
    assert math.dist(joints["ankle"], joints["hip"]) <= BODY["thigh"] + BODY["shank"]
    assert all(math.isfinite(v) for point in joints.values() for v in point)


def test_replay_frames_hold_missing_values_and_flag_them():
    series = {"t_s": [10.0, 10.1, 10.2, 10.3], "wall_gap_mm": [None, 200.0, float("nan"), 150.0],
              "trunk_angle_deg": [0.0, 10.0, 20.0, None], "knee_flexion_deg": [5.0, 5.0, 6.0, 7.0]}
    data = replay_frames(series, standoff_mm=100, start_s=10.0)
    frames = data["frames"]
    assert [f["t"] for f in frames] == [0.0, 0.1, 0.2, 0.3]
    assert [f["gap"] for f in frames] == [200.0, 200.0, 200.0, 150.0]
    assert [f["measured"]["gap"] for f in frames] == [False, True, False, True]
    assert [f["trunk"] for f in frames] == [0.0, 10.0, 20.0, 20.0] and frames[3]["measured"]["trunk"] is False
    assert frames[1]["joints"]["hip"][0] == 310  # 200 mm gap + the pelvis radius
    assert data["standoff_mm"] == 100 and data["body"] == BODY


def test_a_rep_without_any_trunk_angle_has_no_replay():
    series = {"t_s": [0.0, 0.1], "wall_gap_mm": [100.0, 90.0], "trunk_angle_deg": [None, None],
              "knee_flexion_deg": [5.0, 5.0]}
    assert replay_frames(series, standoff_mm=100)["frames"] == []
