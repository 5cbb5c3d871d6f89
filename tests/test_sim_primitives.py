"""Exact ray casting: analytic hits, normals and support values."""

import numpy as np
import pytest

from station.geometry import Intrinsics, Pose, rotation_x, rotation_y
from station.sim.primitives import Box, Capsule, Ellipsoid, Room
from station.sim.render import LABEL_DRILL_WALL, LABEL_FLOOR, Renderer

ORIGIN = np.zeros(3)


def unit(v):
    v = np.asarray(v, float)
    return v / np.linalg.norm(v)


def test_sphere_hit_distance_and_normal():
    sphere = Ellipsoid(np.array([0.0, 0.0, 3.0]), np.eye(3), np.array([0.5, 0.5, 0.5]))
    t, normals = sphere.intersect(ORIGIN, np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0]]))
    assert t[0] == pytest.approx(2.5)
    assert np.allclose(normals[0], [0.0, 0.0, -1.0])
    assert np.isinf(t[1])


def test_unnormalised_rays_give_z_depth():
    sphere = Ellipsoid(np.array([0.3, 0.0, 3.0]), np.eye(3), np.array([0.5, 0.5, 0.5]))
    direction = np.array([[0.1, 0.0, 1.0]])  # z component 1: t is the hit's z
    t, _ = sphere.intersect(ORIGIN, direction)
    hit = t[0] * direction[0]
    assert np.linalg.norm(hit - sphere.centre) == pytest.approx(0.5)


def test_rotated_ellipsoid_support_matches_sampled_surface():
    rng = np.random.default_rng(3)
    axes = rotation_x(0.4) @ rotation_y(-0.9)
    ellipsoid = Ellipsoid(np.array([0.2, 1.0, 0.5]), axes, np.array([0.12, 0.2, 0.07]))
    sphere_points = rng.normal(size=(200_000, 3))
    sphere_points /= np.linalg.norm(sphere_points, axis=1, keepdims=True)
    surface = ellipsoid.centre + (sphere_points * ellipsoid.radii) @ axes.T
    for direction in ([0, 0, 1], [1, 0, 0], unit([1, -2, 0.5])):
        direction = np.asarray(direction, float)
        sampled = (surface @ direction).min()
        assert ellipsoid.min_along(direction) == pytest.approx(sampled, abs=5e-4)
        assert ellipsoid.min_along(direction) <= sampled + 1e-12


def test_capsule_side_and_cap_hits():
    capsule = Capsule(np.array([0.0, -0.5, 2.0]), np.array([0.0, 0.5, 2.0]), 0.1)
    rays = np.array([[0.0, 0.0, 1.0],  # the side
                     [0.0, 0.55 / 2.0, 1.0],  # beyond the top end: the cap sphere
                     [0.5, 0.0, 1.0]])  # misses
    t, normals = capsule.intersect(ORIGIN, rays)
    assert t[0] == pytest.approx(1.9)
    assert np.allclose(normals[0], [0.0, 0.0, -1.0])
    cap_hit = t[1] * rays[1]
    assert np.linalg.norm(cap_hit - capsule.b) == pytest.approx(0.1)
    assert np.isinf(t[2])
    assert capsule.min_along(np.array([0.0, 1.0, 0.0])) == pytest.approx(-0.6)


def test_box_and_room_faces():
    box = Box(np.array([-0.5, -0.5, 2.0]), np.array([0.5, 0.5, 3.0]))
    t, normals = box.intersect(ORIGIN, np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.1]]))
    assert t[0] == pytest.approx(2.0) and np.allclose(normals[0], [0, 0, -1])
    assert np.isinf(t[1])
    room = Room(np.array([-4.0, 0.0, 0.0]), np.array([4.0, 2.7, 5.0]))
    t, normals, axis, sign = room.intersect(np.array([0.0, 1.0, 1.0]), np.array([[0.0, -1.0, 0.0], [0.0, 0.0, -2.0]]))
    assert t[0] == pytest.approx(1.0) and axis[0] == 1 and sign[0] < 0
    assert t[1] == pytest.approx(0.5) and axis[1] == 2 and np.allclose(normals[1], [0, 0, 1])


def test_renderer_sees_a_sphere_at_its_distance():
    intrinsics = Intrinsics.from_fov(64, 48, 87.0)
    # A camera 1 m up, looking along +x: camera z -> room +x, camera y (down) -> room -y.
    rotation = np.column_stack([[0.0, 0.0, 1.0], [0.0, -1.0, 0.0], [1.0, 0.0, 0.0]])
    pose = Pose(rotation, np.array([-2.0, 1.0, 1.0]))
    room = Room(np.array([-4.0, 0.0, 0.0]), np.array([4.0, 2.7, 5.0]))
    renderer = Renderer(intrinsics, pose, room, [])
    empty = renderer.render([])
    assert (empty.labels[-1, 32:] == LABEL_FLOOR).all()  # bottom row, right half: the floor
    assert (empty.labels == LABEL_DRILL_WALL).any()

    class Person:  # one sphere standing in for a body
        primitives = [("head", Ellipsoid(np.array([0.0, 1.0, 1.0]), np.eye(3), np.array([0.3, 0.3, 0.3])))]

    frame = renderer.render([(20, Person())])
    centre = frame.z_m[int(round(intrinsics.ppy)), int(round(intrinsics.ppx))]
    assert centre == pytest.approx(1.7, abs=5e-3)  # the pixel is half a pixel off the axis
    assert frame.labels[int(round(intrinsics.ppy)), int(round(intrinsics.ppx))] == 20 + 5
    assert frame.cos_incidence[int(round(intrinsics.ppy)), int(round(intrinsics.ppx))] == pytest.approx(1.0, abs=1e-2)
