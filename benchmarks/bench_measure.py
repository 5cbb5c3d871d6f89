"""Per-frame cost of the measurement at each depth resolution.

    python benchmarks/bench_measure.py [--frames N] [--passes N]

Renders noisy frames of a patient mid-set (simulator and D400 sensor model),
calibrates from the empty room (with the true camera pose), then times
Measurer.measure, reading the back as for a set-up that shows it, on
each frame and prints the median and p99 milliseconds and the share of the
33 ms budget of a 30 fps stream. Each frame is also measured without the
back's curvature (station/spine.py), interleaved so a busy machine slows
both alike, and the difference is the curvature's own cost. With --passes N
every frame is timed N times, in N passes over them all, and its fastest
time counts: the machine's other work only ever adds, so on a shared machine
that is the nearest to a quiet one's figure. No assertions: figures to read.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_accuracy import calibration_for  # noqa: E402
import station.measure  # noqa: E402
from station.measure import Measurer  # noqa: E402
from station.spine import BackReading  # noqa: E402
from station.sim.scenarios import RESOLUTIONS, build_scene  # noqa: E402
from station.sim.sensor import sense  # noqa: E402
from station.sim.simulate import SceneRenderer  # noqa: E402

FRAME_BUDGET_MS = 1000.0 / 30


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=150, help="frames timed per resolution (default 150)")
    parser.add_argument("--passes", type=int, default=1,
                        help="times each frame is timed, its fastest counting (default 1)")
    args = parser.parse_args()
    print(f"{'resolution':>10}  {'median ms':>9}  {'p99 ms':>7}  {'share of 33 ms':>14}  "
          f"{'back curvature ms':>17}")
    with_back = station.measure.back_curvature
    for width, height in RESOLUTIONS:
        spec = build_scene("all-faults", 1, width=width, height=height)
        scene = SceneRenderer(spec)
        rng = np.random.default_rng(0)

        def noisy(t):
            rendered, _ = scene.at(t)
            return sense(rendered.z_m, rendered.cos_incidence, scene.intrinsics, spec.sensor, rng)

        empty = [noisy(t) for t in np.linspace(0.0, 2.0, 20)]
        measurer = Measurer(calibration_for(empty, scene.intrinsics, scene.camera_pose), back=True)
        patient = spec.patient
        frames = [noisy(t) for t in np.linspace(patient.first_rep_s, patient.set_end_s, 30)]
        timings, without_back = np.full(args.frames, np.inf), np.full(args.frames, np.inf)
        for _ in range(max(1, args.passes)):
            for index in range(args.frames):
                frame = frames[index % len(frames)]
                for hook, out in ((with_back, timings), (lambda *_: BackReading(None), without_back)):
                    station.measure.back_curvature = hook
                    started = time.perf_counter()
                    measurer.measure(frame)
                    out[index] = min(out[index], (time.perf_counter() - started) * 1000)
        station.measure.back_curvature = with_back
        median, p99 = np.median(timings), np.percentile(timings, 99)
        back = median - np.median(without_back)
        print(f"{width:>5}x{height:<4}  {median:9.2f}  {p99:7.2f}  {100 * median / FRAME_BUDGET_MS:13.1f}%  "
              f"{back:17.2f}")


if __name__ == "__main__":
    main()
