"""Exact ray casting of a scene into a camera: Z-depth, incidence and labels.

The room and furniture do not move, so they are cast once per recording;
each frame casts only the bodies, and each body primitive only over the
rectangle of pixels its bounding sphere projects to.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from station.geometry import Intrinsics, Pose, pixel_rays, project
from station.sim.body import PART_LABELS, Body
from station.sim.primitives import Box, Room

# Label image values.
LABEL_NOTHING = 0
LABEL_FLOOR = 1
LABEL_DRILL_WALL = 2
LABEL_ROOM = 3  # other walls and the ceiling
LABEL_FURNITURE = 4
LABEL_PATIENT = 20  # + PART_LABELS value
LABEL_OTHER_PERSON = 40  # + PART_LABELS value

NEAR_M = 0.05  # nothing closer than this to the lens is cast


@dataclass(frozen=True)
class RenderedFrame:
    """The exact view of one instant.

    Attributes
    ----------
    z_m : ndarray (H, W) float64
        Z-depth in metres, inf where a ray hits nothing.
    cos_incidence : ndarray (H, W) float64
        Cosine between the viewing ray and the surface normal.
    labels : ndarray (H, W) uint8
        What each pixel sees (LABEL_* constants).
    """

    z_m: np.ndarray
    cos_incidence: np.ndarray
    labels: np.ndarray


class Renderer:
    """Casts a static room and furniture once, then bodies frame by frame.

    Parameters
    ----------
    intrinsics : Intrinsics
        The depth stream's.
    camera_pose : Pose
        Camera frame to room frame.
    room : Room
        The room's inside.
    furniture : list of Box
        Static obstacles.
    """

    def __init__(self, intrinsics: Intrinsics, camera_pose: Pose, room: Room, furniture: list[Box]):
        self.intrinsics = intrinsics
        self.camera_pose = camera_pose
        self._room_from_camera = camera_pose.rotation
        self._camera_from_room = camera_pose.inverse()
        self._origin = camera_pose.translation
        # Room-frame direction of each pixel's ray, scaled so t is Z-depth.
        self._rays = pixel_rays(intrinsics) @ camera_pose.rotation.T
        self._ray_lengths = np.linalg.norm(self._rays, axis=2)
        self._static = self._cast_static(room, furniture)

    def _cast_static(self, room: Room, furniture: list[Box]) -> RenderedFrame:
        h, w = self.intrinsics.height, self.intrinsics.width
        flat = self._rays.reshape(-1, 3)
        t, normals, axis, sign = room.intersect(self._origin, flat)
        labels = np.full(t.shape, LABEL_ROOM, np.uint8)
        labels[(axis == 1) & (sign < 0)] = LABEL_FLOOR
        labels[(axis == 2) & (sign < 0)] = LABEL_DRILL_WALL
        labels[~np.isfinite(t)] = LABEL_NOTHING
        for box in furniture:
            t_box, n_box = box.intersect(self._origin, flat)
            nearer = t_box < t
            t = np.where(nearer, t_box, t)
            normals[nearer] = n_box[nearer]
            labels[nearer] = LABEL_FURNITURE
        cos = np.abs(np.einsum("ij,ij->i", normals, flat)) / np.linalg.norm(flat, axis=1)
        return RenderedFrame(t.reshape(h, w), cos.reshape(h, w), labels.reshape(h, w))

    def _pixel_window(self, centre: np.ndarray, radius: float):
        """Pixel rectangle (row and column slices) that a sphere can cover, or None if unseen."""
        corners = centre + radius * np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)])
        corners_camera = self._camera_from_room.apply(corners)
        if np.all(corners_camera[:, 2] <= NEAR_M):
            return None
        h, w = self.intrinsics.height, self.intrinsics.width
        if np.any(corners_camera[:, 2] <= NEAR_M):
            return slice(0, h), slice(0, w)
        pixels = project(corners_camera, self.intrinsics)
        u0, v0 = np.floor(pixels.min(axis=0)).astype(int)
        u1, v1 = np.ceil(pixels.max(axis=0)).astype(int) + 1
        u0, u1 = max(u0, 0), min(u1, w)
        v0, v1 = max(v0, 0), min(v1, h)
        if u0 >= u1 or v0 >= v1:
            return None
        return slice(v0, v1), slice(u0, u1)

    def room_points(self, z_m: np.ndarray) -> np.ndarray:
        """Room point (H, W, 3), metres, that each pixel's ray reaches at Z-depth ``z_m`` (H, W)."""
        return self._origin + self._rays * z_m[..., np.newaxis]

    def render(self, people: list[tuple[int, Body]]) -> RenderedFrame:
        """Cast the people (label base, body) over the static scene."""
        z = self._static.z_m.copy()
        normal_dot = np.zeros_like(z)  # |n . ray| where a body is hit
        labels = self._static.labels.copy()
        body_hit = np.zeros(z.shape, bool)
        for label_base, body in people:
            for part, primitive in body.primitives:
                window = self._pixel_window(*primitive.bounding_sphere())
                if window is None:
                    continue
                rays = self._rays[window]
                shape = rays.shape[:2]
                t, normals = primitive.intersect(self._origin, rays.reshape(-1, 3))
                t = t.reshape(shape)
                nearer = t < z[window]
                if not nearer.any():
                    continue
                z[window] = np.where(nearer, t, z[window])
                dot = np.abs(np.einsum("ij,ij->i", normals, rays.reshape(-1, 3))).reshape(shape)
                normal_dot[window] = np.where(nearer, dot, normal_dot[window])
                labels[window] = np.where(nearer, label_base + PART_LABELS[part], labels[window])
                body_hit[window] |= nearer
        cos = np.where(body_hit, normal_dot / self._ray_lengths, self._static.cos_incidence)
        return RenderedFrame(z, cos, labels)
