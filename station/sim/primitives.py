"""Solids the simulator ray-casts exactly, vectorised over many rays.

Each solid's :meth:`intersect` takes one ray origin and an (N, 3) array of
ray directions (not necessarily unit length) and returns, per ray, the ray
parameter ``t`` of the first hit (``inf`` on a miss) and the unit surface
normal there. With camera rays scaled so their camera-z component is 1,
``t`` is the Z-depth in metres.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _nearest_root(a, half_b, c):
    """Smaller non-negative root of a t^2 + 2 half_b t + c = 0; inf where none."""
    discriminant = half_b * half_b - a * c
    hit = discriminant >= 0.0
    root = np.sqrt(np.where(hit, discriminant, 0.0))
    t = (-half_b - root) / a
    return np.where(hit & (t > 0.0), t, np.inf)


@dataclass(frozen=True)
class Ellipsoid:
    """An ellipsoid: ``centre``, ``axes`` (3x3, columns are its unit axes) and semi-axis ``radii`` (m)."""

    centre: np.ndarray
    axes: np.ndarray
    radii: np.ndarray

    def transformed(self, rotation, offset) -> "Ellipsoid":
        return Ellipsoid(rotation @ self.centre + offset, rotation @ self.axes, self.radii)

    def bounding_sphere(self) -> tuple[np.ndarray, float]:
        return self.centre, float(np.max(self.radii))

    def min_along(self, direction: np.ndarray):
        """Smallest value of ``direction . p`` over the solid (its support in -direction).

        ``direction`` is one vector (a float back) or the columns of a (3, K) array (K values back).
        """
        if np.ndim(direction) == 2:
            return self.centre @ direction - np.linalg.norm(self.radii[:, np.newaxis] * (self.axes.T @ direction), axis=0)
        return float(self.centre @ direction - np.linalg.norm(self.radii * (self.axes.T @ direction)))

    def farthest_along(self, direction: np.ndarray) -> np.ndarray:
        """The point of the solid farthest along ``direction`` (a unit vector)."""
        local = self.radii * (self.axes.T @ direction)
        return self.centre + self.axes @ (self.radii * local / max(np.linalg.norm(local), 1e-12))

    def intersect(self, origin, directions):
        # In the ellipsoid's own scaled frame it is the unit sphere.
        to_unit = self.axes.T / self.radii[:, np.newaxis]
        o = to_unit @ (origin - self.centre)
        d = directions @ to_unit.T
        t = _nearest_root(np.einsum("ij,ij->i", d, d), d @ o, o @ o - 1.0)
        local = o + d * np.where(np.isfinite(t), t, 0.0)[:, np.newaxis]
        # The gradient of the implicit function, back in the room frame.
        normals = (local / self.radii) @ self.axes.T
        normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)
        return t, normals


@dataclass(frozen=True)
class Capsule:
    """Points within ``radius`` (m) of the segment from ``a`` to ``b``."""

    a: np.ndarray
    b: np.ndarray
    radius: float

    def transformed(self, rotation, offset) -> "Capsule":
        return Capsule(rotation @ self.a + offset, rotation @ self.b + offset, self.radius)

    def bounding_sphere(self) -> tuple[np.ndarray, float]:
        return 0.5 * (self.a + self.b), float(0.5 * np.linalg.norm(self.b - self.a) + self.radius)

    def min_along(self, direction: np.ndarray):
        """As :meth:`Ellipsoid.min_along`: one vector or the columns of a (3, K) array."""
        if np.ndim(direction) == 2:
            return np.minimum(self.a @ direction, self.b @ direction) - self.radius
        return float(min(self.a @ direction, self.b @ direction) - self.radius)

    def farthest_along(self, direction: np.ndarray) -> np.ndarray:
        """The point of the solid farthest along ``direction`` (a unit vector)."""
        return (self.a if self.a @ direction >= self.b @ direction else self.b) + self.radius * direction

    def intersect(self, origin, directions):
        axis = self.b - self.a
        oa = origin - self.a
        axis_axis = axis @ axis
        axis_d = directions @ axis
        axis_o = axis @ oa
        d_d = np.einsum("ij,ij->i", directions, directions)
        d_o = directions @ oa
        # The infinite cylinder around the axis; the capsule lies inside it.
        t = _nearest_root(axis_axis * d_d - axis_d * axis_d, axis_axis * d_o - axis_o * axis_d,
                          axis_axis * (oa @ oa) - axis_o * axis_o - self.radius**2 * axis_axis)
        along = axis_o + np.where(np.isfinite(t), t, 0.0) * axis_d
        on_side = np.isfinite(t) & (along > 0.0) & (along < axis_axis)
        # Beyond either end, the hit (if any) is on that end's sphere.
        cap_centre = np.where((along <= 0.0)[:, np.newaxis], self.a, self.b)
        oc = origin - cap_centre
        t_cap = _nearest_root(d_d, np.einsum("ij,ij->i", directions, oc), np.einsum("ij,ij->i", oc, oc) - self.radius**2)
        t = np.where(on_side, t, np.where(np.isfinite(t), t_cap, np.inf))
        points = origin + directions * np.where(np.isfinite(t), t, 0.0)[:, np.newaxis]
        s = np.clip(((points - self.a) @ axis) / axis_axis, 0.0, 1.0)
        normals = points - (self.a + s[:, np.newaxis] * axis)
        normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)
        return t, normals


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in the room, seen from outside (furniture)."""

    low: np.ndarray
    high: np.ndarray

    def bounding_sphere(self) -> tuple[np.ndarray, float]:
        return 0.5 * (self.low + self.high), float(0.5 * np.linalg.norm(self.high - self.low))

    def min_along(self, direction: np.ndarray) -> float:
        return float(np.sum(np.where(direction > 0, self.low, self.high) * direction))

    def intersect(self, origin, directions):
        with np.errstate(divide="ignore", invalid="ignore"):
            inverse = 1.0 / directions
            t1 = (self.low - origin) * inverse
            t2 = (self.high - origin) * inverse
        t_near = np.nan_to_num(np.minimum(t1, t2), nan=-np.inf)
        t_far = np.nan_to_num(np.maximum(t1, t2), nan=np.inf)
        entry_axis = np.argmax(t_near, axis=1)
        t_in = t_near.max(axis=1)
        t_out = t_far.min(axis=1)
        t = np.where((t_in <= t_out) & (t_in > 0.0), t_in, np.inf)
        normals = np.zeros_like(directions)
        rows = np.arange(len(directions))
        normals[rows, entry_axis] = -np.sign(directions[rows, entry_axis])
        return t, normals


@dataclass(frozen=True)
class Room:
    """The inside of an axis-aligned room: floor, walls and ceiling, seen from within."""

    low: np.ndarray
    high: np.ndarray

    def intersect(self, origin, directions):
        with np.errstate(divide="ignore", invalid="ignore"):
            exits = np.where(directions > 0, self.high - origin, self.low - origin) / directions
        exits = np.where(np.isfinite(exits) & (exits > 0), exits, np.inf)
        axis = np.argmin(exits, axis=1)
        rows = np.arange(len(directions))
        t = exits[rows, axis]
        normals = np.zeros_like(directions)
        normals[rows, axis] = -np.sign(directions[rows, axis])
        return t, normals, axis, np.sign(directions[rows, axis])
