"""Rep detection, faults and touch against the simulator's ground truth, and analysis speed.

    python benchmarks/bench_reps.py [--set quick|full]

Runs ``wallhinge analyze``'s path (calibrate from the opening, measure,
detect reps) on simulated recordings (cached in data/bench/) covering every
fault, body type and mount, plus idle recordings where no rep may appear.
Prints, per recording, the rep count against the truth; then per fault and
for touch, precision and recall over all reps; then the analysis speed as a
multiple of real time on a 424x240, 30 fps recording. No assertions.

A detected rep matches the true rep whose bottom it contains (start to
end); an unmatched detected rep is a phantom, an unmatched true rep a miss.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_accuracy import SETS, recording  # noqa: E402
from station.analyze import analyze_frames  # noqa: E402
from station.camera import open_recording  # noqa: E402
from station.faults import FAULT_NAMES  # noqa: E402
from station.sim.scenarios import build_scene  # noqa: E402
from station.sim.simulate import is_current, simulate  # noqa: E402

IDLE = [("idle-standing", 21), ("idle-walk-through", 22), ("idle-spotter", 23), ("empty", 24)]
REP_SETS = {"quick": SETS["quick"] + IDLE[:2], "full": SETS["full"] + IDLE}


def match(detected, truth):
    """Pairs (detected, true) and the unmatched of each."""
    pairs, used = [], set()
    for rep in detected:
        for index, expected in enumerate(truth):
            if index not in used and rep.start_s <= expected["bottom_s"] + 0.3 and expected["bottom_s"] <= rep.end_s:
                pairs.append((rep, expected))
                used.add(index)
                break
    matched = {id(rep) for rep, _ in pairs}
    return pairs, [r for r in detected if id(r) not in matched], [t for i, t in enumerate(truth) if i not in used]


def precision_recall(true_positive, false_positive, false_negative):
    precision = true_positive / (true_positive + false_positive) if true_positive + false_positive else float("nan")
    recall = true_positive / (true_positive + false_negative) if true_positive + false_negative else float("nan")
    return precision, recall


def speed(folder: Path) -> tuple[float, float]:
    path = folder / "speed-good-set-30fps.db3"
    if not is_current(path):
        simulate(build_scene("good-set", 31, fps=30), path)
    with open_recording(path) as source:
        frames = list(source)
    started = time.perf_counter()
    analyze_frames(frames, path.name)
    elapsed = time.perf_counter() - started
    duration = frames[-1].timestamp_s - frames[0].timestamp_s + 1 / 30
    return duration / elapsed, elapsed / len(frames) * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=REP_SETS, default="quick")
    args = parser.parse_args()
    folder = ROOT / "data" / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    counts = {name: [0, 0, 0] for name in FAULT_NAMES + ("touched",)}  # tp, fp, fn
    exact = 0
    timing = {"start_s": [], "bottom_s": [], "end_s": [], "descent_s": []}
    for name, seed in REP_SETS[args.set]:
        path, truth = recording(name, seed, folder)
        with open_recording(path) as source:
            analysis = analyze_frames(source, path.name)
        pairs, phantoms, missed = match(analysis.reps, truth["reps"])
        exact += len(analysis.reps) == len(truth["reps"])
        for rep, expected in pairs:
            for fault in FAULT_NAMES + ("touched",):
                found = rep.touched if fault == "touched" else fault in rep.faults
                real = expected["touched"] if fault == "touched" else fault in expected["faults"]
                counts[fault][0] += found and real
                counts[fault][1] += found and not real
                counts[fault][2] += real and not found
            for key in timing:
                timing[key].append(getattr(rep, key) - expected[key])
        for rep in phantoms:
            for fault in rep.faults + (("touched",) if rep.touched else ()):
                counts[fault][1] += 1
        for expected in missed:
            for fault in expected["faults"] + (["touched"] if expected["touched"] else []):
                counts[fault][2] += 1
        wrong = [f"rep {r.index} {sorted(r.faults)} vs {sorted(t['faults'])}" for r, t in pairs
                 if sorted(r.faults) != sorted(t["faults"])]
        print(f"{name:18} seed {seed:3d}  reps {len(analysis.reps):2d} of {len(truth['reps']):2d}  "
              f"phantom {len(phantoms)} missed {len(missed)}  {'; '.join(wrong)}")
    runs = len(REP_SETS[args.set])
    print(f"\nrep count exact on {exact} of {runs} recordings")
    print(f"\n{'fault':18} {'precision':>9} {'recall':>7} {'tp':>4} {'fp':>4} {'fn':>4}")
    for fault, (tp, fp, fn) in counts.items():
        precision, recall = precision_recall(tp, fp, fn)
        print(f"{fault:18} {precision:9.3f} {recall:7.3f} {tp:4d} {fp:4d} {fn:4d}")
    print(f"\n{'timing':10} {'median':>7} {'p95':>7}  (absolute error, s)")
    for key, values in timing.items():
        if values:
            values = np.abs(values)
            print(f"{key:10} {np.median(values):7.2f} {np.percentile(values, 95):7.2f}")
    times_real, per_frame_ms = speed(folder)
    print(f"\nanalysis speed, 424x240 at 30 fps: {times_real:.1f} x real time ({per_frame_ms:.2f} ms per frame, "
          "reading the recording not counted)")


if __name__ == "__main__":
    main()
