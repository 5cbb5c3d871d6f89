"""The demo: a simulated patient's session replayed through the station's camera path.

It simulates a session once (kept in the data folder), then plays the
recording through ``rs.pipeline`` in real time as the station would a live
camera, and follows the session rep by rep. Until the measurement core lands,
the figures shown are the simulator's ground truth for the frame the camera
source just delivered; the measurement issues replace them with the station's
own.
"""

from __future__ import annotations

import bisect
import json
import sys
from pathlib import Path

import numpy as np

from station.camera import open_recording
from station.depth_image import save_png
from station.errors import WallHingeError
from station.sim.scenarios import build_scene
from station.sim.simulate import simulate, truth_path


def _ensure_recording(data_dir: Path, scenario: str, seed: int) -> Path:
    recording = data_dir / f"{scenario}-{seed}.db3"
    if recording.is_file() and truth_path(recording).is_file():
        return recording
    try:
        spec = build_scene(scenario, seed)
    except ValueError as error:
        raise WallHingeError(str(error)) from None
    print(f"Simulating a {spec.duration_s:.0f} s session ({scenario}, seed {seed}); this happens once...", flush=True)

    shown = [-1]

    def progress(done, total):
        percent = 100 * done // total
        if percent != shown[0]:
            shown[0] = percent
            print(f"\r  {percent:3d}%", end="" if done < total else "\n", flush=True)

    simulate(spec, recording, progress=progress)
    return recording


def _status(frame_truth: dict) -> str:
    if not frame_truth["present"]:
        return "nobody at the wall" if frame_truth["phase"] == "absent" else f"patient: {frame_truth['phase'].replace('_', ' ')}"
    rep = f"rep {frame_truth['rep']} {frame_truth['phase']:7}" if frame_truth["rep"] else "standing     "
    return (f"{rep}  wall gap {frame_truth['wall_gap_mm']:6.0f} mm  trunk {frame_truth['trunk_angle_deg']:5.1f} deg"
            f"  knees {frame_truth['knee_flexion_deg']:5.1f} deg")


def run_demo(*, data_dir: Path, scenario: str = "all-faults", seed: int = 1, real_time: bool = True,
             out=sys.stdout) -> int:
    """Run the demo; returns the exit status."""
    data_dir.mkdir(parents=True, exist_ok=True)
    recording = _ensure_recording(data_dir, scenario, seed)
    truth = json.loads(truth_path(recording).read_text())
    times = [f["t_s"] for f in truth["frames"]]
    reps = truth["reps"]
    announced = 0
    print(f"Replaying {recording} through the camera source ({'real time' if real_time else 'fast'}); "
          "Ctrl-C stops.", file=out)
    print("Figures are the simulator's ground truth until the measurement core lands.", file=out)
    snapshot = data_dir / "bottom-of-rep.png"
    next_status = 0.0
    with open_recording(recording, real_time=real_time) as source:
        for frame in source:
            index = min(bisect.bisect_left(times, frame.timestamp_s - 1e-6), len(times) - 1)
            frame_truth = truth["frames"][index]
            if reps and not snapshot.exists() and frame.timestamp_s >= reps[0]["bottom_s"]:
                save_png(snapshot, frame.depth, frame.depth_unit_m, scale=2)
            if frame.timestamp_s >= next_status:
                valid = 100.0 * np.count_nonzero(frame.depth) / frame.depth.size
                print(f"  {frame.timestamp_s:6.1f} s  {valid:3.0f}% depth  {_status(frame_truth)}", file=out, flush=True)
                next_status = frame.timestamp_s + 0.5
            while announced < len(reps) and frame.timestamp_s >= reps[announced]["end_s"]:
                rep = reps[announced]
                verdict = "good rep" if not rep["faults"] else "faults: " + ", ".join(rep["faults"])
                print(f"  >> rep {rep['index']} done: {'touched' if rep['touched'] else 'did not touch'}, {verdict}",
                      file=out, flush=True)
                announced += 1
    print("\nThe set (ground truth):", file=out)
    print(f"  {'rep':>3}  {'start s':>7}  {'descent s':>9}  {'min gap mm':>10}  {'trunk deg':>9}  {'knee deg':>8}  faults",
          file=out)
    for rep in reps:
        print(f"  {rep['index']:3d}  {rep['start_s']:7.1f}  {rep['descent_s']:9.2f}  {rep['min_wall_gap_mm']:10.0f}"
              f"  {rep['peak_trunk_angle_deg']:9.1f}  {rep['peak_knee_flexion_deg']:8.1f}  {', '.join(rep['faults']) or '-'}",
              file=out)
    if snapshot.exists():
        print(f"\nA depth frame at the bottom of rep 1: {snapshot}", file=out)
    return 0
