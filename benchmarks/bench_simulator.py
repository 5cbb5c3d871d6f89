"""How long the simulator takes per frame at each depth resolution.

    python benchmarks/bench_simulator.py [--frames N]

Renders frames of the all-faults scenario spread over its reps (a patient
in view the whole time) and prints, per resolution, the median and p99
milliseconds of posing the body, ray casting, the sensor model, and the whole
frame including writing it to a .db3 through rs.recorder. No assertions:
figures to read, not pass/fail.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from station.sim.body import pose_body  # noqa: E402
from station.sim.recording import RecordingWriter  # noqa: E402
from station.sim.scenarios import RESOLUTIONS, build_scene  # noqa: E402
from station.sim.sensor import sense  # noqa: E402
from station.sim.simulate import SceneRenderer  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=90, help="frames per resolution (default 90)")
    args = parser.parse_args()
    print(f"{'resolution':>10}  {'pose ms':>15}  {'ray cast ms':>15}  {'sensor ms':>15}  {'whole frame ms':>15}")
    print(f"{'':>10}  " + "  ".join(f"{'median':>7} {'p99':>7}" for _ in range(4)))
    for width, height in RESOLUTIONS:
        spec = build_scene("all-faults", 1, width=width, height=height)
        scene = SceneRenderer(spec)
        patient = spec.patient
        times = np.linspace(patient.first_rep_s, patient.set_end_s, args.frames)
        rng = np.random.default_rng(0)
        pose_ms, cast_ms, sensor_ms, whole_ms = [], [], [], []
        with tempfile.TemporaryDirectory() as folder, \
                RecordingWriter(Path(folder) / "bench.db3", scene.intrinsics, spec.fps) as writer:
            for t in times:
                start = time.perf_counter()
                moment = patient.at(t)
                body = pose_body(patient.shape, moment.posture)
                posed = time.perf_counter()
                rendered = scene.renderer.render([(20, body)])
                cast = time.perf_counter()
                depth = sense(rendered.z_m, rendered.cos_incidence, scene.intrinsics, spec.sensor, rng)
                sensed = time.perf_counter()
                writer.write(depth, t)
                done = time.perf_counter()
                pose_ms.append(posed - start)
                cast_ms.append(cast - posed)
                sensor_ms.append(sensed - cast)
                whole_ms.append(done - start)
        cells = "  ".join(f"{np.median(v) * 1e3:7.1f} {np.percentile(v, 99) * 1e3:7.1f}"
                          for v in (pose_ms, cast_ms, sensor_ms, whole_ms))
        print(f"{width:>5}x{height:<4}  {cells}")
    print("\nA simulated minute at 30 fps is 1800 frames: multiply the whole-frame median by 1.8 for seconds.")


if __name__ == "__main__":
    main()
