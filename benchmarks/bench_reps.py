"""Rep detection, faults and touch against the simulator's ground truth, and analysis speed.

    python benchmarks/bench_reps.py [--set quick|full|stress-tune|stress-tune2|stress-check|stress-check2|stress-check3
                                    |stress-check4|stress-tune3|stress-tune4
                                    |stress-tune5|stress-check5|stress-noise|stress-noise-tune|stress-noise-tune2|in-front] [--jobs N]

Runs ``wallhinge analyze``'s path (calibrate from the opening, measure,
detect reps) on simulated recordings (cached in data/bench/) covering every
fault, body type and mount, plus idle recordings where no rep may appear.
Prints, per recording, the rep count against the truth and the scene (so a
failing one can be made again with ``wallhinge simulate``); then the share
of recordings with the exact rep count, the reps missed in scenes with a
second person, how many missed reps a "patient hidden" span covers (the screens
warn of those) and the spans where nobody else was in view (false warnings),
the phantom reps on idle recordings, per fault and for touch precision and
recall over all reps (a missed rep, or a found one whose touch was not
checked, is a touch missed), touch again over the found reps whose
closest gap was read (the touch as judged), each found rep's own closest gap, peak
trunk and peak knee (as ``wallhinge analyze`` reports them) against its true
rep's (the peak trunk also split by whether the rep says its bottom was seen with
the head above the picture, ``Rep.view_note``), and the analysis speed as a multiple of
real time on a 424x240 and an 848x480 recording at 30 fps, each with its
frames raw (as the simulator writes them and a live camera gives them) and
compressed (as librealsense records by default), with the CPU time
it took over all threads and the machine's load average before the run
(--speed-runs repeats it). The stress sets (``station.sim.stress``): five
that may be tuned on, five held out, and one more held out whose depth
camera's noise is drawn (``stress-noise``), with two tuning twins drawn alike
(``stress-noise-tune``, ``stress-noise-tune2``). --jobs runs recordings in parallel
processes. No assertions.

A detected rep matches the true rep whose bottom it contains (start to
end); an unmatched detected rep is a phantom, an unmatched true rep a miss.
"""

import argparse
import itertools
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_accuracy import FOLDER, SETS, chosen, recording, run_parallel, scene_line  # noqa: E402
from station.analyze import analyze_frames  # noqa: E402
from station.camera import open_recording  # noqa: E402
from station.faults import FAULT_NAMES  # noqa: E402
from station.sim.scenarios import build_scene  # noqa: E402
from station.sim.simulate import is_current, simulate  # noqa: E402
from station.sim.stress import HALVES  # noqa: E402

IDLE = [("idle-standing", 21), ("idle-walk-through", 22), ("idle-spotter", 23), ("empty", 24)]
# A rep's times (s) checked against the truth's: when it starts, bottoms out and ends, and its phases' lengths.
TIMES = ("start_s", "bottom_s", "end_s", "descent_s", "hold_s", "ascent_s")
REP_SETS = {"quick": SETS["quick"] + IDLE[:2], "full": SETS["full"] + IDLE,
            **{half: SETS[half] for half in HALVES}, "in-front": SETS["in-front"]}  # idle ones are drawn in


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


# Each found rep's figures against its true rep's (same keys in both).
REP_FIGURES = {"min_wall_gap_mm": "wall gap mm", "peak_trunk_angle_deg": "trunk angle deg",
               "peak_knee_flexion_deg": "knee flexion deg"}

SPEED_MODES = ((424, 240), (848, 480))  # at 30 fps: the cheapest and the dearest depth mode


def speed(folder: Path, width: int, height: int, compressed: bool = False) -> tuple[float, float, float]:
    """End to end, as `wallhinge analyze` runs: read and decode the recording, calibrate, measure, find reps.

    The recording is written as the simulator writes it (its frames raw, as
    a live camera gives them), or ``compressed`` as librealsense's recorder
    does by default, whose decoding on playback then adds to the time
    (:class:`station.sim.recording.RecordingWriter`); the frames are the same.

    Returns the multiple of real time, the milliseconds per frame, and the
    CPU milliseconds per frame of all the process's threads (librealsense's
    decoding, the reading ahead and the measuring).
    """
    path = folder / f"speed-good-set-{width}x{height}-30fps-{'compressed' if compressed else 'raw'}.db3"
    if not is_current(path):
        simulate(build_scene("good-set", 31, width=width, height=height, fps=30, reps=4), path, compressed=compressed)
    started, started_cpu = time.perf_counter(), time.process_time()
    with open_recording(path) as source:
        analysis = analyze_frames(source, path.name)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - started_cpu
    frames = analysis.frames
    duration = frames[-1]["t_s"] - frames[0]["t_s"] + 1 / 30
    return duration / elapsed, elapsed / len(frames) * 1000, cpu / len(frames) * 1000


def _verdict(rep) -> str:
    """A found rep's faults in a word, and what of its bottom was not seen or not touched.

    A rep whose bottom was not seen names no bottom fault and is not scored: never "good".
    """
    faults = "+".join(sorted(rep.faults)) or ("good" if rep.score is not None else "none")
    if rep.peak_trunk_angle_deg is None:
        return f"{faults} bottom-not-seen"
    if rep.touched:
        return faults
    return f"{faults} {'touch-not-checked' if rep.min_wall_gap_mm is None else 'no-touch'}"


def evaluate(item) -> dict:
    """One recording's reps against the truth (picklable, for --jobs)."""
    name, seed = item
    path, truth = recording(name, seed)
    with open_recording(path) as source:
        analysis = analyze_frames(source, path.name)
    pairs, phantoms, missed = match(analysis.reps, truth["reps"])
    counts = {name: [0, 0, 0] for name in FAULT_NAMES + ("touched",)}  # tp, fp, fn
    for rep, expected in pairs:
        for fault in counts:
            found = rep.touched if fault == "touched" else fault in rep.faults
            real = expected["touched"] if fault == "touched" else fault in expected["faults"]
            counts[fault][0] += found and real
            counts[fault][1] += found and not real
            counts[fault][2] += real and not found
    # The touch where it was judged: found reps whose closest gap was read at the bottom (the others
    # say "touch not checked": someone hid the buttocks, or the bottom was out of sight).
    read = [(rep, expected) for rep, expected in pairs if rep.min_wall_gap_mm is not None]
    counts["touched, gap read"] = [sum(rep.touched and expected["touched"] for rep, expected in read),
                                   sum(rep.touched and not expected["touched"] for rep, expected in read),
                                   sum(expected["touched"] and not rep.touched for rep, expected in read)]
    for rep in phantoms:
        for fault in rep.faults + (("touched",) if rep.touched else ()):
            counts[fault][1] += 1
    for expected in missed:
        for fault in expected["faults"] + (["touched"] if expected["touched"] else []):
            counts[fault][2] += 1
    wrong = [f"rep {t['index']} {_verdict(r)} vs {'+'.join(sorted(t['faults'])) or 'good'}" for r, t in pairs
             if sorted(r.faults) != sorted(t["faults"]) or r.touched != t["touched"]]
    timing = {key: [getattr(rep, key) - expected[key] for rep, expected in pairs]
              for key in TIMES}
    # The rep's own figures, as `wallhinge analyze` reports them (the detector's smoothed series).
    figures = {key: [None if getattr(rep, key) is None else getattr(rep, key) - expected[key]
                     for rep, expected in pairs] for key in REP_FIGURES}
    # Whether each found rep says its bottom was read off less of the patient (Rep.view_note).
    figures["noted"] = [rep.view_note is not None for rep, _ in pairs]
    # The missed reps the screens warn of: a span in which the patient was hidden overlaps them.
    warned = sum(any(span.start_s <= expected["end_s"] and span.end_s >= expected["start_s"]
                     for span in analysis.hidden) for expected in missed)
    return {"name": name, "seed": seed, "scene": scene_line(truth), "found": len(analysis.reps),
            "true": len(truth["reps"]), "phantoms": len(phantoms), "missed": len(missed),
            "second_person": truth["bystanders"] > 0, "idle": not truth["reps"], "counts": counts,
            "wrong": wrong, "timing": timing, "figures": figures, "missed_warned": warned,
            "hidden_spans": len(analysis.hidden), "hidden_s": sum(span.duration_s for span in analysis.hidden)}


def _trunk_misses(run, limit_deg=6.0) -> str:
    """The found reps' peak trunk errors (degrees, signed) when any is over ``limit_deg`` (issue 14's p95), else ''."""
    errors = run["figures"]["peak_trunk_angle_deg"]
    if not any(error is not None and abs(error) > limit_deg for error in errors):
        return ""
    return " ".join("-" if error is None else f"{error:+.0f}" for error in errors)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=REP_SETS, default="quick")
    parser.add_argument("--jobs", type=int, default=1, help="recordings analysed in parallel processes (default 1)")
    parser.add_argument("--cached-only", action="store_true", help="only the recordings already made")
    parser.add_argument("--no-speed", action="store_true", help="skip the analysis speed run")
    parser.add_argument("--speed-runs", type=int, default=1,
                        help="analysis speed runs per mode, one line each (default 1): the machine's other work "
                             "only ever slows a run, so the best says most")
    args = parser.parse_args()
    FOLDER.mkdir(parents=True, exist_ok=True)
    runs = run_parallel(evaluate, chosen(REP_SETS[args.set], args.cached_only), args.jobs)
    for run in runs:
        print(f"{run['name']}-{run['seed']:<{17 - len(run['name'])}} reps {run['found']:2d} of {run['true']:2d}  "
              f"phantom {run['phantoms']} missed {run['missed']}  {run['scene']}"
              + (f"\n{'':20}{'; '.join(run['wrong'])}" if run["wrong"] else "")
              + (f"\n{'':20}peak trunk error per found rep: {worst}" if (worst := _trunk_misses(run)) else ""))
    exact = sum(run["found"] == run["true"] for run in runs)
    print(f"\nrep count exact on {exact} of {len(runs)} recordings ({100 * exact / len(runs):.0f}%)")
    second = [run for run in runs if run["second_person"] and run["true"]]
    print(f"reps missed in scenes with a second person: {sum(r['missed'] for r in second)} of "
          f"{sum(r['true'] for r in second)} (in {sum(r['missed'] > 0 for r in second)} of {len(second)} recordings)")
    idle = [run for run in runs if run["idle"]]
    print(f"phantom reps on idle recordings: {sum(r['found'] for r in idle)} "
          f"(on {sum(r['found'] > 0 for r in idle)} of {len(idle)} idle recordings)")
    print(f"all reps: {sum(r['true'] for r in runs)} true, {sum(r['missed'] for r in runs)} missed, "
          f"{sum(r['phantoms'] for r in runs)} phantom")
    # Whether the screens say a count may be short (station.hidden_spans): a missed rep with a span over it is
    # one the clinician is told of; a span where nobody else was in view would be a false warning.
    print(f"missed reps with a 'patient hidden' span over them: {sum(r['missed_warned'] for r in runs)} of "
          f"{sum(r['missed'] for r in runs)}")
    alone = [run for run in runs if not run["second_person"]]
    print(f"'patient hidden' spans with nobody else in view: {sum(r['hidden_spans'] for r in alone)} "
          f"({sum(r['hidden_s'] for r in alone):.1f} s, on {sum(r['hidden_spans'] > 0 for r in alone)} of "
          f"{len(alone)} recordings); with a second person: {sum(r['hidden_spans'] for r in runs) - sum(r['hidden_spans'] for r in alone)}")
    print(f"\n{'fault':18} {'precision':>9} {'recall':>7} {'tp':>4} {'fp':>4} {'fn':>4}")
    for fault in FAULT_NAMES + ("touched", "touched, gap read"):
        tp, fp, fn = (sum(run["counts"][fault][i] for run in runs) for i in range(3))
        precision, recall = precision_recall(tp, fp, fn)
        print(f"{fault:18} {precision:9.3f} {recall:7.3f} {tp:4d} {fp:4d} {fn:4d}")
    print(f"\n{'timing':10} {'bias':>7} {'median':>7} {'p95':>7}  (error, s: median signed (+ late, long), then absolute)")
    for key in TIMES:
        errors = np.concatenate([run["timing"][key] for run in runs] + [[]])
        if errors.size:
            values = np.abs(errors)
            print(f"{key:10} {np.median(errors):+7.2f} {np.median(values):7.2f} {np.percentile(values, 95):7.2f}")
    print(f"\n{'per found rep':18} {'reps':>5} {'bias':>7} {'median':>7} {'p95':>7} {'unmeasured':>10}   "
          "(the rep's own figure as analyze reports it: closest gap, peak trunk, peak knee)")
    for key, label in REP_FIGURES.items():
        values = [value for run in runs for value in run["figures"][key]]
        errors = np.array([value for value in values if value is not None])
        if errors.size:
            print(f"{label:18} {errors.size:5d} {np.median(errors):7.1f} {np.median(np.abs(errors)):7.1f} "
                  f"{np.percentile(np.abs(errors), 95):7.1f} {len(values) - errors.size:10d}")
    # The trunk of the reps that say their bottom was read with the head above the picture, and of the others.
    trunks = [(error, noted) for run in runs
              for error, noted in zip(run["figures"]["peak_trunk_angle_deg"], run["figures"]["noted"])
              if error is not None]
    for noted, label in ((True, "  view note"), (False, "  no view note")):
        errors = np.array([error for error, flag in trunks if flag == noted])
        if errors.size:
            print(f"{label:18} {errors.size:5d} {np.median(errors):7.1f} {np.median(np.abs(errors)):7.1f} "
                  f"{np.percentile(np.abs(errors), 95):7.1f}")
    if args.no_speed:
        return
    print()
    for (width, height), compressed in itertools.product(SPEED_MODES, (False, True)):
        for _ in range(args.speed_runs):
            load = os.getloadavg()[0]
            times_real, per_frame_ms, cpu_ms = speed(FOLDER, width, height, compressed)
            print(f"analysis speed end to end (read, decode, calibrate, measure, reps), {width}x{height} at 30 fps, "
                  f"{'compressed' if compressed else 'raw'} frames: {times_real:.1f} x real time "
                  f"({per_frame_ms:.2f} ms per frame)")
            print(f"    CPU {cpu_ms:.2f} ms per frame over all threads; load average {load:.2f} before the run")


if __name__ == "__main__":
    main()
