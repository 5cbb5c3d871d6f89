"""Time ``station.sim.sensor.sense`` per frame at the D400's usual resolutions.

Run ``python benchmarks/bench_sensor.py``. The scene is a wall 3.5 m away,
turned 25 degrees (so the incidence varies across the view), with a
person-sized box (0.45 m x 1.7 m) 2 m from the camera in front of it: depth
edges, a stereo shadow and the left invalid band all occur. Prints the median
and 99th percentile milliseconds of 50 calls per resolution.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

# Run as a script from a checkout: make the repository root importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from station.geometry import Intrinsics, pixel_rays, rotation_y  # noqa: E402
from station.sim.sensor import SensorModel, sense  # noqa: E402

RESOLUTIONS = ((424, 240), (640, 480), (848, 480))
CALLS = 50


def scene(intrinsics: Intrinsics) -> tuple[np.ndarray, np.ndarray]:
    """True Z-depth (m) and cosine of incidence of the benchmark scene."""
    rays = pixel_rays(intrinsics)
    ray_length = np.linalg.norm(rays, axis=-1)
    # Wall: plane through (0, 0, 3.5) whose normal is turned 25 degrees about y.
    normal = rotation_y(np.radians(25.0)) @ np.array([0.0, 0.0, -1.0])
    along_normal = rays @ normal
    z = (normal @ np.array([0.0, 0.0, 3.5])) / along_normal
    cos_incidence = np.abs(along_normal) / ray_length
    # Person-sized box, its front face head-on at 2 m, slightly left of centre.
    x, y = rays[..., 0] * 2.0, rays[..., 1] * 2.0
    person = (np.abs(x + 0.2) < 0.225) & (np.abs(y - 0.1) < 0.85)
    z[person] = 2.0
    cos_incidence[person] = 1.0 / ray_length[person]
    return z, cos_incidence


def main() -> None:
    model = SensorModel.d435()
    rng = np.random.default_rng(0)
    print(f"sense() per frame, {CALLS} calls, D435 model")
    print(f"{'resolution':>10}  {'median ms':>9}  {'p99 ms':>7}")
    for width, height in RESOLUTIONS:
        intrinsics = Intrinsics.from_fov(width, height, 87.0)
        z, cos_incidence = scene(intrinsics)
        sense(z, cos_incidence, intrinsics, model, rng)  # warm the weight cache
        times_ms = []
        for _ in range(CALLS):
            start = time.perf_counter()
            sense(z, cos_incidence, intrinsics, model, rng)
            times_ms.append((time.perf_counter() - start) * 1e3)
        print(f"{f'{width}x{height}':>10}  {np.median(times_ms):9.2f}  {np.percentile(times_ms, 99):7.2f}")


if __name__ == "__main__":
    main()
