"""Time ``station.calibration``: calibrating and checking whether the camera moved.

Run ``python benchmarks/bench_calibration.py``. The scene is the simulator's
empty room (seed 3, a D435) seen by the reference mount, with a person
standing at the drill spot in the frames given to ``camera_moved``. Prints
the median and 90th percentile milliseconds per call: ``calibrate`` on 30
frames (it runs once per installation; the budget is about 2 s at 848x480 on
a two-core machine) and ``camera_moved`` on one frame (called about once a
second on the Pi; the budget is about 20 ms at 424x240).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

# Run as a script from a checkout: make the repository root importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from station.calibration import calibrate  # noqa: E402
from station.camera_check import camera_moved  # noqa: E402
from station.sim.scenarios import build_scene  # noqa: E402
from station.sim.sensor import sense  # noqa: E402
from station.sim.simulate import SceneRenderer  # noqa: E402

RESOLUTIONS = ((424, 240), (848, 480))
FRAMES = 30
CALIBRATE_CALLS = 7
CHECK_CALLS = 50


def frames_at(spec, scene, start_s: float, count: int, rng) -> list[np.ndarray]:
    frames = []
    for index in range(count):
        rendered, _ = scene.at(start_s + index / spec.fps)
        frames.append(sense(rendered.z_m, rendered.cos_incidence, scene.intrinsics, spec.sensor, rng))
    return frames


def timed_ms(call, repeats: int) -> np.ndarray:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1e3)
    return np.array(times)


def main() -> None:
    rng = np.random.default_rng(0)
    print(f"{'call':>26}  {'resolution':>10}  {'median ms':>9}  {'p90 ms':>7}")
    for width, height in RESOLUTIONS:
        spec = build_scene("idle-standing", 3, width=width, height=height, fps=15, camera_model="D435")
        scene = SceneRenderer(spec)
        empty = frames_at(spec, scene, 0.0, FRAMES, rng)
        person = frames_at(spec, scene, spec.patient.at_spot_s + 1.0, 10, rng)
        times = timed_ms(lambda: calibrate(empty, scene.intrinsics, 0.001, source="bench"), CALIBRATE_CALLS)
        print(f"{f'calibrate ({FRAMES} frames)':>26}  {f'{width}x{height}':>10}  {np.median(times):9.1f}  "
              f"{np.percentile(times, 90):7.1f}")
        calibration = calibrate(empty, scene.intrinsics, 0.001, source="bench")
        camera_moved(calibration, person[0])  # the first call prepares the calibration's reference pixels
        calls = iter(range(CHECK_CALLS))
        times = timed_ms(lambda: camera_moved(calibration, person[next(calls) % len(person)]), CHECK_CALLS)
        print(f"{'camera_moved (1 frame)':>26}  {f'{width}x{height}':>10}  {np.median(times):9.1f}  "
              f"{np.percentile(times, 90):7.1f}")


if __name__ == "__main__":
    main()
