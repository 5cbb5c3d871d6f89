"""Whose body the measures come from: how often the patient's measured pixels hold someone else's.

    python benchmarks/bench_identity.py [--set stress-tune|...|in-front] [--jobs N] [--cached-only]
                                        [--every N] [--share S]

For every recording of the set with a second person in it (the others have
nobody to mistake), measures each frame as ``wallhinge analyze`` does
(calibrated from the empty opening, followed frame to frame) and, on every
Nth frame in which the patient's trunk was read, renders the simulator's
exact view of that instant again: its labels say whose body each pixel
shows. A frame *holds someone else* when more than ``--share`` of the pixels
taken as the patient's are the second person's. Per recording it prints how
many such frames there were, the largest share, and the trunk angle's error
on them against the other frames; then the totals. The issue's rule is that
the second person's body never becomes the patient's measures; this counts
where it does. Re-rendering costs about a minute a recording with
``--every 3``. No assertions.
"""

import argparse
import functools
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_accuracy import SETS, chosen, recording, run_parallel, scene_line  # noqa: E402
from station.camera import open_recording  # noqa: E402
from station.frame_step import OPENING_S, calibrate_from_opening  # noqa: E402
from station.measure import FrameError, Measurer  # noqa: E402
from station.sim.render import LABEL_OTHER_PERSON  # noqa: E402
from station.sim.scenarios import build_scene  # noqa: E402
from station.sim.simulate import SceneRenderer  # noqa: E402
from station.sim.stress import stress_scene  # noqa: E402


def scene_spec(name: str, seed: int):
    """The scene the recording (name, seed) was made from, as bench_accuracy.recording makes it."""
    return stress_scene(seed) if name == "stress" else build_scene(name, seed, fps=15)


def evaluate(item, every: int, share_limit: float) -> dict | None:
    """One recording: per checked frame, the share of the patient's pixels that are someone else's, and the trunk's
    error (degrees); None when nobody else is in it."""
    name, seed = item
    spec = scene_spec(name, seed)
    if len(spec.people) < 2:
        return None  # nobody to mistake (and no recording made for it)
    path, truth = recording(name, seed)
    scene = SceneRenderer(spec)
    true_times = np.array([frame["t_s"] for frame in truth["frames"]])
    shares, errors = [], []
    measurer, opening, measured = None, [], 0
    with open_recording(path) as frames:
        for frame in frames:
            if measurer is None:
                opening.append(frame)
                if frame.timestamp_s < OPENING_S:
                    continue
                measurer = Measurer(calibrate_from_opening(opening, str(path)))
                frames_now = opening
            else:
                frames_now = [frame]
            for each in frames_now:
                try:
                    measures = measurer.measure(each.depth, each.timestamp_s)
                except FrameError:
                    continue
                measured += 1
                if measured % every or not measures.present or measures.trunk_angle_deg is None:
                    continue
                rows, columns = measurer.patient_pixels()
                true = truth["frames"][int(np.argmin(np.abs(true_times - each.timestamp_s)))]["trunk_angle_deg"]
                if len(rows) == 0 or true is None:
                    continue
                labels = scene.at(each.timestamp_s)[0].labels[rows, columns]
                shares.append(np.count_nonzero(labels >= LABEL_OTHER_PERSON) / len(rows))
                errors.append(abs(measures.trunk_angle_deg - true))
    shares, errors = np.array(shares), np.array(errors)
    return {"name": name, "seed": seed, "scene": scene_line(truth), "shares": shares, "errors": errors,
            "held": shares > share_limit}


def _errors(values: np.ndarray) -> str:
    return f"{np.median(values):5.1f} / {np.percentile(values, 95):5.1f}" if values.size else "    - /     -"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=SETS, default="stress-tune")
    parser.add_argument("--jobs", type=int, default=1, help="recordings in parallel processes (default 1)")
    parser.add_argument("--cached-only", action="store_true", help="only the recordings already made")
    parser.add_argument("--every", type=int, default=3, help="check every Nth measured frame (default 3)")
    parser.add_argument("--share", type=float, default=0.02,
                        help="a frame holds someone else past this share of the patient's pixels (default 0.02)")
    args = parser.parse_args()
    items = chosen(SETS[args.set], args.cached_only)
    check = functools.partial(evaluate, every=args.every, share_limit=args.share)  # picklable for the workers
    runs = [run for run in run_parallel(check, items, args.jobs) if run is not None]
    print(f"{'recording':18} {'frames':>6} {'holding':>7} {'largest':>7}   {'trunk: holding':>14}  {'others':>13}   "
          "scene  (frames checked, those holding someone else's pixels, the largest share; the trunk's error there "
          "and on the others, degrees, median / p95)")
    for run in runs:
        held = run["held"]
        print(f"{run['name']}-{run['seed']:<{17 - len(run['name'])}} {held.size:6d} {np.count_nonzero(held):7d} "
              f"{run['shares'].max(initial=0.0):7.2f}   {_errors(run['errors'][held]):>14}  "
              f"{_errors(run['errors'][~held])}   {run['scene']}")
    if not runs:
        print("no recording of the set has a second person in it")
        return
    held = np.concatenate([run["held"] for run in runs])
    errors = np.concatenate([run["errors"] for run in runs])
    print(f"\n{len(runs)} recordings with a second person, {held.size} frames checked: {np.count_nonzero(held)} "
          f"({100 * np.mean(held):.1f}%) held more than {100 * args.share:g}% of someone else's pixels, on "
          f"{sum(bool(run['held'].any()) for run in runs)} recordings")
    print(f"trunk error, deg, median / p95: on those frames {_errors(errors[held])}, on the others {_errors(errors[~held])}")


if __name__ == "__main__":
    main()
