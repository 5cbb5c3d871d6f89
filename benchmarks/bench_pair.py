"""The two-camera set-up side+wall-above end to end: simulated pair -> replay -> pairing -> analysis.

    python benchmarks/bench_pair.py [--set quick|more] [--fps 15|30] [--arms hips,crossed,...]

Simulates (once, cached in data/bench_pair/) each set as the pair
``side+wall-above`` (``wallhinge simulate --placement side+wall-above``),
reads both recordings back through ``rs.pipeline``, pairs their frames by
the cameras' clock and runs ``wallhinge analyze``'s path with the camera
above (``analyze_frames(..., back_frames=...)``). Prints per set:

- **calibration of the camera above** (from its empty opening: the floor and
  the floor's edge at the drill wall; x is the bracket's place over the
  spot) against the simulator's true pose: height and distance from the
  wall (mm), along the wall (mm), tilt of "up" and turn about the vertical
  (degrees);
- **spine**: per frame at the spot, the share read and the error against
  the true spine flexion at the camera above's frame, median / p95
  absolute degrees, with that calibration and with the true pose;
- **judged reps**: the same analysis judging each rep's back
  (``judge_back``, as a validated set-up does): per rep found, its peak
  spine flexion against the truth's (median / p95 absolute degrees; a rep
  whose back was not read at its bottom is "not checked"), and over all
  sets ``rounded_back`` precision / recall per rep and the kyphotic
  seniors' (15 degrees or more at rest) good reps named rounded: the
  figures ``bench_spine_above.py`` emulates, here through the rep detector;
- **cost**: the analysis's time per frame with the camera above minus
  without it (pairing and the spine reading, the calibrations left out;
  the fastest of two runs), and the camera above's calibration once; at the
  end, the spine reading alone (:meth:`BackReader.read`) per frame at the spot.

Plumbing, not accuracy: the spine measurement's accuracy over many sets is
``benchmarks/bench_spine_above.py``'s. No assertions: figures to read.

Last figures (``--set more --arms hips,crossed``, load average 5 on 2 cores):
calibration of the camera above within 2 mm of height and distance from the
wall, 0.06 degree of tilt and 0.07 of turn, -43 to +99 mm along the wall (the
bracket's place); spine per frame read in 82-96% of frames at the spot,
median 1.3-3.6 degrees, p95 4.2-19.0, the same as with the true pose give or
take noise; the reading 1.0 ms a frame (median), the analysis 1.4 ms a frame
more with the camera above than without (median over the sets). The table is
in docs/back-view.md. Judged reps (``--set more``, 15 fps, hips, 3263561):
per-rep peak error median / p95 1.2 / 4.7 (rounded-back 7), 7.2 / 11.1
(kyphosis 12), 2.2 / 3.1 (good-set 1), 1.3 / 5.5 (all-faults 2), 3.2 / 7.5
(rounded-back 11), 4.1 / 4.8 (kyphosis 8); rounded_back P / R 0.83 / 1.00
(5 true positives, 1 false: kyphosis 12 rep 3), 1 of 21 kyphotic good reps
named rounded, every true rep found and judged. With the baseline from the
first hinge (docs/back-view.md): per-rep peak error 1.2 / 4.7, 4.2 / 8.1, 0.9 / 1.3,
0.9 / 5.7, 1.6 / 5.3, 2.3 / 2.9 in the same order; rounded_back P / R 1.00 / 1.00
(5 true positives, none false), 0 of 21 kyphotic good reps named rounded, every
true rep found and judged.
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

from benchmarks.bench_reps import match, precision_recall  # noqa: E402
from station.analyze import analyze_frames  # noqa: E402
from station.back_camera import BackReader, back_reader_from_opening  # noqa: E402
from station.camera import open_recording  # noqa: E402
from station.camera_pair import back_recording_path, paired_frames  # noqa: E402
from station.frame_step import OPENING_S, calibrate_from_opening  # noqa: E402
from station.geometry import Pose  # noqa: E402
from station.sim.placements import placement_mount  # noqa: E402
from station.sim.scenarios import build_scene  # noqa: E402
from station.sim.simulate import is_current, simulate, truth_path  # noqa: E402

SETS = {
    "quick": [("rounded-back", 7), ("kyphosis", 12), ("good-set", 1)],
    "more": [("rounded-back", 7), ("kyphosis", 12), ("good-set", 1), ("all-faults", 2), ("rounded-back", 11),
             ("kyphosis", 8)],
}
FOLDER = ROOT / "data" / "bench_pair"
#: A senior this kyphotic at rest (degrees) must not be named rounded on a good rep (issue 15).
KYPHOTIC_DEG = 15.0


def recorded(name: str, seed: int, arms: str, fps: int) -> tuple[Path, dict]:
    """The pair's side recording (the camera above's beside it) and the truth; simulated once."""
    path = FOLDER / f"{name}-{seed}-{arms}-{fps}fps.db3"
    if not (is_current(path) and back_recording_path(path).is_file()):
        spec = build_scene(name, seed, fps=fps, arms=arms)
        started = time.monotonic()
        simulate(spec, path, back=("wall-above", placement_mount("wall-above", spec.mount.side, seed)))
        print(f"  (simulated {path.name} and its pair in {time.monotonic() - started:.0f} s)", flush=True)
    return path, json.loads(truth_path(path).read_text())


def pose_errors(found: Pose, true: Pose) -> tuple[float, float, float, float, float]:
    """(height mm, from the wall mm, along the wall mm, tilt deg, turn deg) of a found pose against the true one."""
    tilt = np.degrees(np.arccos(np.clip(found.rotation[1] @ true.rotation[1], -1.0, 1.0)))
    turn = np.degrees(np.arccos(np.clip(found.rotation[2] @ true.rotation[2], -1.0, 1.0)))
    dx, dy, dz = (found.translation - true.translation) * 1000.0
    return dy, dz, dx, tilt, turn


def spine_errors(frames: list, truth: dict) -> tuple[float, np.ndarray]:
    """(share of frames at the spot read, absolute errors in degrees) of per-frame records against the truth."""
    truths = [frame["spine_flexion_deg"] for frame in truth["back_camera"]["frames"]]
    at_spot = [true["present"] for true in truth["frames"]]
    read, errors = 0, []
    for mine, true, present in zip(frames, truths, at_spot):
        if not present:
            continue
        if mine["spine_flexion_deg"] is not None:
            read += 1
            if true is not None:
                errors.append(abs(mine["spine_flexion_deg"] - true))
    return read / max(1, sum(at_spot)), np.array(errors)


def judge_reps(reps, truth: dict, tally: dict) -> np.ndarray:
    """Each found rep's judged back against the truth's: adds to ``tally``; the peaks' absolute errors (degrees)."""
    pairs, _, missed = match(reps, truth["reps"])
    tally["missed_reps"] += len(missed)
    kyphotic = truth["patient"]["kyphosis_deg"] >= KYPHOTIC_DEG
    errors = []
    for rep, expected in pairs:
        true_rounded = "rounded_back" in expected["faults"]
        if rep.peak_spine_flexion_deg is None:
            tally["unchecked"] += 1
            tally["fn"] += true_rounded  # a rounded back not named is missed, whatever the reason
            continue
        errors.append(abs(rep.peak_spine_flexion_deg - expected["peak_spine_flexion_deg"]))
        flagged = "rounded_back" in rep.faults
        tally["tp"] += flagged and true_rounded
        tally["fp"] += flagged and not true_rounded
        tally["fn"] += true_rounded and not flagged
        if kyphotic and not true_rounded:
            tally["kyphotic"] += 1
            tally["kyphotic_flagged"] += flagged
    return np.array(errors)


def timed(function, repeats: int = 2):
    """(the result, the fastest of ``repeats`` runs in seconds)."""
    best, result = np.inf, None
    for _ in range(repeats):
        started = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - started)
    return result, best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=sorted(SETS), default="quick")
    parser.add_argument("--fps", type=int, choices=(15, 30), default=15)
    parser.add_argument("--arms", default="hips", help="drill variants, comma-separated (default hips)")
    args = parser.parse_args()
    print(f"side+wall-above end to end, {args.fps} fps, 424x240; calibration of the camera above against the true "
          "pose; spine per frame at the spot against the truth")
    print(f"{'set':22} {'arms':9} {'height':>6} {'wall':>5} {'along':>5} {'tilt':>5} {'turn':>5}  "
          f"{'read':>4} {'spine deg':>11} {'true pose':>11}  {'cost ms':>7} {'calib s':>7}  {'rep peak':>11}")
    costs, reads = [], []
    judged_tally = dict(tp=0, fp=0, fn=0, unchecked=0, kyphotic=0, kyphotic_flagged=0, missed_reps=0)
    for arms in args.arms.split(","):
        for name, seed in SETS[args.set]:
            path, truth = recorded(name, seed, arms, args.fps)
            with open_recording(path) as source:
                side = list(source)
                fps = source.info.fps
            with open_recording(back_recording_path(path)) as source:
                back = list(source)
            calibration = calibrate_from_opening(side, path.name)
            opening = [b for s, b in paired_frames(side, back, period_s=1 / fps, back_label="above")
                       if s.timestamp_s < OPENING_S and b is not None]
            reader, calibrate_s = timed(lambda: back_reader_from_opening(opening, "above"))
            alone, alone_s = timed(lambda: analyze_frames(side, path.name, calibration=calibration))
            paired, paired_s = timed(lambda: analyze_frames(side, path.name, calibration=calibration,
                                                            back_frames=back, back_label="above",
                                                            period_s=1 / fps))
            cost_ms = (paired_s - alone_s - calibrate_s) / len(side) * 1000.0
            costs.append(cost_ms)
            # The spine reading alone, on every paired frame of the camera above with someone at the spot.
            present = [f["present"] for f in truth["frames"]]
            timer = BackReader(reader.calibration)
            for (s, b), here in zip(paired_frames(side, back, period_s=1 / fps, back_label="above"), present):
                if here and b is not None:
                    started = time.perf_counter()
                    timer.read(s.timestamp_s, b.depth)
                    reads.append(time.perf_counter() - started)
            true_pose = Pose.from_matrix(truth["back_camera"]["camera_pose_in_room"])
            errors = pose_errors(reader.calibration.camera_pose, true_pose)
            share, spine = spine_errors(paired.frames, truth)
            # The same analysis with the camera above's true pose (its background as calibrated).
            exact = BackReader(dataclasses.replace(reader.calibration, camera_pose=true_pose))
            with_truth = analyze_frames(side, path.name, calibration=calibration, back_frames=back,
                                        back_label="above", period_s=1 / fps, back_reader=exact)
            _, spine_true = spine_errors(with_truth.frames, truth)

            judged = analyze_frames(side, path.name, calibration=calibration, back_frames=back, back_label="above",
                                    period_s=1 / fps, judge_back=True)
            peak_errors = judge_reps(judged.reps, truth, judged_tally)

            def figure(values):
                return "      -    " if values.size == 0 else \
                    f"{np.median(values):4.1f} / {np.percentile(values, 95):4.1f}"
            print(f"{name + ' ' + str(seed):22} {arms:9} {errors[0]:6.0f} {errors[1]:5.0f} {errors[2]:5.0f} "
                  f"{errors[3]:5.2f} {errors[4]:5.2f}  {100 * share:3.0f}% {figure(spine):>11} {figure(spine_true):>11}"
                  f"  {cost_ms:7.2f} {calibrate_s:7.2f}  {figure(peak_errors):>11}", flush=True)
    t = judged_tally
    precision, recall = precision_recall(t["tp"], t["fp"], t["fn"])
    print(f"judged reps (the back judged by the camera above): rounded_back P / R {precision:.2f} / {recall:.2f} "
          f"(tp {t['tp']}, fp {t['fp']}, fn {t['fn']}); {t['unchecked']} reps found not checked (back not read at "
          f"the bottom); kyphotic seniors' good reps named rounded: {t['kyphotic_flagged']} of {t['kyphotic']}; "
          f"true reps not found: {t['missed_reps']}")
    reads = np.array(reads) * 1000.0
    print(f"(added cost per frame with the camera above, pairing and spine reading: median {np.median(costs):.2f} ms "
          f"over the sets; the spine reading alone, frames at the spot: median {np.median(reads):.2f} ms, "
          f"p95 {np.percentile(reads, 95):.2f} ms; lengths in mm, angles in degrees)")


if __name__ == "__main__":
    main()
