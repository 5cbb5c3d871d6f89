"""Accuracy of the per-frame measures against the simulator's ground truth.

    python benchmarks/bench_accuracy.py [--set quick|full] [--exact-pose]

Simulates (once, cached in data/bench/) recordings across the mount
envelope, body types and faults, reads each back through the camera source,
calibrates from its empty opening, measures every frame and prints, per
measure, the median and 95th-percentile absolute error on frames where the
patient is at the spot and fully in view (wall gap: true gap below 100 mm).
With --exact-pose the calibration's camera pose is the simulator's true one,
to separate measurement error from calibration error. No assertions.
"""

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from station.calibration import calibrate  # noqa: E402
from station.camera import open_recording  # noqa: E402
from station.geometry import Intrinsics, Pose  # noqa: E402
from station.measure import ABSENT, FrameError, Measurer  # noqa: E402
from station.sim.scenarios import build_scene  # noqa: E402
from station.sim.simulate import is_current, simulate, truth_path  # noqa: E402

SETS = {
    "quick": [("good-set", 1), ("all-faults", 2), ("squat", 3), ("spotter", 4), ("kyphosis", 5)],
    "full": [("good-set", s) for s in range(1, 5)] + [("all-faults", s) for s in range(1, 4)]
    + [("squat", 6), ("rounded-back", 7), ("no-touch", 8), ("too-fast", 9), ("incomplete-return", 10),
       ("kyphosis", 11), ("kyphosis", 12), ("stick", 13), ("slow-holds", 14), ("spotter", 15), ("spotter", 16),
       ("busy-room", 17)],
}


def recording(name, seed, folder):
    path = folder / f"{name}-{seed}.db3"
    if not is_current(path):
        simulate(build_scene(name, seed, fps=15), path)
    return path, json.loads(truth_path(path).read_text())


def calibration_for(empty_frames, intrinsics, exact_pose=None):
    """Calibrate from the empty frames; with ``exact_pose``, put the true camera pose in place of the fitted one."""
    calibration = calibrate(empty_frames, intrinsics, 0.001, source="benchmark")
    return calibration if exact_pose is None else dataclasses.replace(calibration, camera_pose=exact_pose)


def measure_or_absent(measurer, depth, t_s=None):
    """An unusable frame (no depth at all) counts as nobody there, as in the live loop."""
    try:
        return measurer.measure(depth, t_s)
    except FrameError:
        return ABSENT


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=SETS, default="quick")
    parser.add_argument("--exact-pose", action="store_true", help="use the simulator's camera pose")
    args = parser.parse_args()
    folder = ROOT / "data" / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    errors = {"wall gap mm": [], "trunk angle deg": [], "knee flexion deg": [], "spine flexion deg": []}
    presence = []
    for name, seed in SETS[args.set]:
        path, truth = recording(name, seed, folder)
        with open_recording(path) as source:
            frames = list(source)
        empty = [f.depth for f in frames if f.timestamp_s < 2.0]
        exact_pose = Pose.from_matrix(truth["camera_pose_in_room"]) if args.exact_pose else None
        measurer = Measurer(calibration_for(empty, Intrinsics(**truth["intrinsics"]), exact_pose))
        started = time.perf_counter()
        results = [measure_or_absent(measurer, f.depth, f.timestamp_s) for f in frames]
        per_frame_ms = (time.perf_counter() - started) / len(frames) * 1000
        before = {measure: len(values) for measure, values in errors.items()}
        for result, expected in zip(results, truth["frames"]):
            presence.append((result.present, expected["present"]))
            if not (expected["present"] and expected["fully_in_view"] and result.present):
                continue
            if result.wall_gap_mm is not None and expected["wall_gap_mm"] < 100:
                errors["wall gap mm"].append(result.wall_gap_mm - expected["wall_gap_mm"])
            if result.trunk_angle_deg is not None:
                errors["trunk angle deg"].append(result.trunk_angle_deg - expected["trunk_angle_deg"])
            if result.knee_flexion_deg is not None:
                errors["knee flexion deg"].append(result.knee_flexion_deg - expected["knee_flexion_deg"])
            if result.spine_flexion_deg is not None:
                errors["spine flexion deg"].append(result.spine_flexion_deg - expected["spine_flexion_deg"])
        own = {measure: np.abs(values[before[measure]:]) for measure, values in errors.items()}
        summary = "  ".join(f"{measure.split()[0]} {np.median(v):4.1f}/{np.percentile(v, 95):5.1f}"
                            for measure, v in own.items() if v.size)
        print(f"{name:18} seed {seed:3d}  {truth['camera_model']} side {truth['mount']['side']:+d}  "
              f"yaw {truth['mount']['yaw_toward_wall_deg']:4.1f}  {per_frame_ms:4.1f} ms/frame  "
              f"median/p95: {summary}")
    print(f"\n{'measure':18} {'frames':>7} {'bias':>7} {'median':>7} {'p95':>7}   (absolute errors)")
    for measure, values in errors.items():
        values = np.array(values)
        if values.size:
            print(f"{measure:18} {values.size:7d} {np.median(values):7.1f} {np.median(np.abs(values)):7.1f} "
                  f"{np.percentile(np.abs(values), 95):7.1f}")
        else:
            print(f"{measure:18} not measured")
    presence = np.array(presence)
    agree = np.mean(presence[:, 0] == presence[:, 1])
    print(f"\npresence agrees with the truth on {100 * agree:.1f}% of {len(presence)} frames")


if __name__ == "__main__":
    main()
