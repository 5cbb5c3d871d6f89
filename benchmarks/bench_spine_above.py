"""Spine flexion from the camera above the drill spot (side+wall-above), against the simulator's truth.

    python benchmarks/bench_spine_above.py [--set all|tune|check|check2|check3|check4|first-tune|first-check|both] [--arms hips,stick,...]
                                           [--fps 15|30] [--pose-error height,tilt,yaw]

Issue 15's recommended set-up is two cameras: the side camera for the wall
gap, trunk and knee (its figures are the placement study's, unchanged:
docs/back-view.md) and a camera on the drill wall above the spot for the back
(station/spine_above.py). This renders what the camera above sees of each set
(the study's D400 sensor model, its true pose as the calibration, or that pose
off by ``--pose-error``; the empty room's median as the background), every
frame of the recording while the patient is at the spot (30 per second, the
live station's rate; ``--fps 15`` reads every other one, as a 15 fps station
would), and prints per drill variant:

- **read**: the share of those frames with a spine reading;
- **error**: spine flexion (the back's turn minus the patient's own, standing
  still before the first rep, with the stature from those same frames)
  against the simulator's, median / p95 absolute degrees;
- **rounded P / R**: ``rounded_back`` per rep (peak spine flexion over the
  threshold, after the rep detector's running median over the last
  ``TRUNK_SMOOTHING_S``, station/reps.py) against the truth's, precision /
  recall;
- **kyphotic flagged**: good reps of kyphotic seniors (15 degrees or more at
  rest) named rounded.

Sets of seeds: ``tune``, the placement study's six sets, on which the
module's constants were chosen, and ``check``, ``check2``, ``check3`` and
``check4``, six other seeds of the same scenarios each, never tuned on
(``check2`` was added after ``check`` had been run once, ``check3`` when the
benchmark moved to the live frame rate, ``check4`` with the standing
baseline's refusal, run once after every choice). ``first-tune`` and ``first-check``
are backs that round from the set's first rep (``rounded-every-rep``, four
seeds each, with two kyphosis seeds in no other set), which the first
hinge's baseline could swallow. Rendered frames are cached
under data/bench_spine_above/ (gitignored, 40-80 MB a recording at 30 fps,
300-400 MB a set of seeds and variant); a first run renders for 3-12 minutes a set of seeds and
variant on one core, depending on the machine's load. The baseline is
settled at each rep's start until one is set, as the station does.
Also prints the measure's cost per frame (points and turn). No assertions:
figures to read.

Last figures (30 fps; read, median / p95 degrees, rounded P / R, kyphotic good reps
flagged; ``--set SET --arms hips,crossed --detail``; the baseline from the first hinge,
docs/back-view.md): hips tune 94%, 2.3 / 10.6, 1.00 / 1.00, 0 of 21; check 95%, 1.9 / 6.6,
1.00 / 1.00, 0 of 30; check2 95%, 2.1 / 9.0, 1.00 / 1.00, 0 of 10; check3 95%, 2.3 / 7.6, 1.00 /
1.00, 0 of 24; check4 96%, 2.3 / 6.9, 1.00 / 1.00, 0 of 19 (every target on every check set; on
tune all but the p95). crossed tune 87%, 2.4 / 8.6, 1.00 / 1.00, 0 of 21; check 95%, 2.2 / 6.1,
1.00 / 1.00, 0 of 30; check2 58%, 1.5 / 6.6, 0.67 / 0.40, 0 of 10; check3 95%, 2.1 / 6.6, 1.00 /
1.00, 0 of 24; check4 83%, 2.5 / 7.6, 1.00 / 0.60, 0 of 19 (short seniors' crossed forearms
read standing: no baseline, their rounded reps not checked, counted as missed).
stick and kettlebell_chest (``--arms stick,kettlebell_chest --detail``, every set, run once):
stick tune 64%, 4.0 / 15.3, 0.27 / 0.60, 8 of 21; check 91%, 5.3 / 18.6, 0.33 / 1.00, 10 of 30;
check2 27%, 3.7 / 17.2, 0.00 / 0.00, 2 of 10; check3 58%, 5.1 / 23.2, 0.40 / 0.80, 6 of 24;
check4 15%, 3.7 / 15.3, - / 0.00, 0 of 19; first-tune 69%, 5.9 / 15.1, 0.88 / 0.70, 2 of 10;
first-check 31%, 4.4 / 9.5, - / 0.00, 0 of 10. kettlebell_chest tune 75%, 2.8 / 10.0, 0.83 /
1.00, 0 of 21; check 88%, 2.1 / 7.5, 1.00 / 1.00, 0 of 30; check2 45%, 2.5 / 12.1, 1.00 / 0.40,
0 of 10; check3 94%, 2.8 / 11.3, 0.83 / 1.00, 1 of 24; check4 80%, 2.7 / 10.0, 1.00 / 0.60, 0 of
19; first-tune 74%, 4.9 / 13.3, 0.90 / 0.90, 2 of 10; first-check 68%, 2.3 / 9.8, 1.00 / 0.70, 0
of 10 (short seniors' standing backs hidden by the stick or the bell: no baseline, their
rounded reps counted as missed; with the stick kyphotic backs read high). No variant meets
issue 15's targets on every set; the tables and why are in docs/back-view.md.
One rounded rep moves P or R by 0.15-0.2 and the flagged counts move by 1-3 with small
changes: the false positives sit at the threshold. ``--detail`` prints each set's standing
turn, the first hinge's baseline and its band's turn before the bound, and each rep's true and
read peak.

A back rounding from the first rep (hips, ``--detail``): first-tune 94%, 4.6 / 15.4, 1.00 /
0.75, 0 of 10 (5 of 20 rounded reps missed, all in bodies whose rounded bottoms read low, after
the bound moved the baseline its full 6 degrees: the first hinge's band sat +7.7 to +10.1 over
standing); first-check 94%, 3.3 / 10.7, 1.00 / 1.00, 0 of 10 (bands +12.8 to +20.7, every
rounded rep still read over 19.9). Keeping the standing baseline when the band passes the bound
read first-tune 1.00 / 1.00 and tune unchanged, but a good first rep's band reached +6.3 on
check3 (a kyphotic good rep flagged again) and +10.8 on check2: not kept (docs/back-view.md).
"""

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from station.calibration import temporal_statistics  # noqa: E402
from station.faults import Thresholds  # noqa: E402
from station.geometry import Pose, rotation_x, rotation_y  # noqa: E402
from station.reps import TRUNK_SMOOTHING_S  # noqa: E402
from station.sim.body import pose_body  # noqa: E402
from station.sim.placements import placement_mount  # noqa: E402
from station.sim.render import LABEL_PATIENT  # noqa: E402
from station.sim.scenarios import build_scene  # noqa: E402
from station.sim.scene import d400_intrinsics  # noqa: E402
from station.sim.sensor import sense  # noqa: E402
from station.sim.simulate import SceneRenderer  # noqa: E402
from station.spine_above import AboveBaseline, AboveView, back_turn  # noqa: E402

SETS = {
    "tune": [("rounded-back", 7), ("kyphosis", 12), ("all-faults", 2), ("rounded-back", 3), ("kyphosis", 5),
             ("good-set", 1)],
    "check": [("rounded-back", 11), ("kyphosis", 8), ("all-faults", 5), ("rounded-back", 13), ("kyphosis", 9),
              ("good-set", 4)],
    "check2": [("rounded-back", 17), ("kyphosis", 14), ("all-faults", 8), ("rounded-back", 19), ("kyphosis", 16),
               ("good-set", 7)],
    "check3": [("rounded-back", 21), ("kyphosis", 20), ("all-faults", 11), ("rounded-back", 23), ("kyphosis", 22),
               ("good-set", 10)],
    "check4": [("rounded-back", 25), ("kyphosis", 24), ("all-faults", 14), ("rounded-back", 27), ("kyphosis", 26),
               ("good-set", 13)],
    # A back that rounds from the set's first rep (every other set starts with a good one), which the
    # first hinge's baseline could swallow; kyphotic seniors beside it so the false positives stay counted.
    # rounded-every-rep N is rounded-back N's person, mount and timing; 7 and 3 are tune's bodies.
    "first-tune": [("rounded-every-rep", 7), ("rounded-every-rep", 3), ("rounded-every-rep", 30),
                   ("rounded-every-rep", 31), ("kyphosis", 30), ("kyphosis", 31)],
    "first-check": [("rounded-every-rep", 34), ("rounded-every-rep", 35), ("rounded-every-rep", 36),
                    ("rounded-every-rep", 37), ("kyphosis", 34), ("kyphosis", 35)],
}
VARIANTS = ("hips", "stick", "kettlebell_chest", "crossed")
CACHE = ROOT / "data" / "bench_spine_above"
KYPHOTIC_DEG = 15.0


def rendered(name: str, seed: int, arms: str) -> dict:
    """The camera above's depth frames of one set at the recording's own rate, with the truth per frame; cached."""
    spec = build_scene(name, seed, arms=arms)
    path = CACHE / f"{name}-{seed}-{arms}-{spec.fps:g}fps.npz"
    if path.is_file():
        with np.load(path) as cached:
            return {key: cached[key] for key in cached.files}
    patient = spec.patient
    scene = SceneRenderer(dataclasses.replace(spec, mount=placement_mount("wall-above", spec.mount.side, seed)))
    # The empty room, as the calibration keeps it: the median of a dozen frames.
    empty_rng = np.random.default_rng([seed, 16])
    room = scene.renderer.render([])
    empty = np.stack([sense(room.z_m, room.cos_incidence, scene.intrinsics, spec.sensor, empty_rng) for _ in range(12)])
    background_m = temporal_statistics(empty)[0] * spec.sensor.depth_unit_m
    rng = np.random.default_rng([seed, 15])
    depths, rows = [], []
    for t in np.arange(patient.at_spot_s, patient.set_end_s, 1.0 / spec.fps):
        moment = patient.at(t)
        body = pose_body(patient.shape, moment.posture)
        frame = scene.renderer.render([(LABEL_PATIENT, body)])
        depths.append(sense(frame.z_m, frame.cos_incidence, scene.intrinsics, spec.sensor, rng))
        rows.append((t, 0 if moment.rep is None else moment.rep, body.spine_flexion_deg()))
    data = {"depth": np.stack(depths), "rows": np.array(rows), "pose": scene.camera_pose.as_matrix(),
            "principal_offset_px": np.array(spec.principal_offset_px), "size": np.array([spec.width, spec.height]),
            "first_rep_s": patient.first_rep_s, "kyphosis_deg": patient.shape.kyphosis_deg,
            "depth_unit_m": spec.sensor.depth_unit_m, "background_m": background_m, "fps": spec.fps}
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **data)
    return data


def at_rate(data: dict, fps: float) -> dict:
    """The set's frames at ``fps``: every n-th of the recording's own, which ``fps`` must divide."""
    step = float(data["fps"]) / fps
    if step < 1 or abs(step - round(step)) > 1e-9:
        raise SystemExit(f"--fps {fps:g} does not divide the recording's {float(data['fps']):g} frames/s")
    step = int(round(step))
    return dict(data, depth=data["depth"][::step], rows=data["rows"][::step])


def spine_readings(data: dict, timing: list, pose_error=(0.0, 0.0, 0.0)) -> tuple[np.ndarray, AboveBaseline]:
    """Spine flexion per frame (degrees, NaN unread) as the station would read it from the camera above,
    and the set's baseline (standing turn and stature).

    ``pose_error`` is (height m, tilt deg, yaw deg): the calibration's error,
    the camera placed that much higher and turned about its own centre
    toward the room and about the vertical.
    """
    width, height = (int(v) for v in data["size"])
    true = Pose.from_matrix(data["pose"])
    raise_m, tilt_deg, yaw_deg = pose_error
    turn = rotation_y(np.radians(yaw_deg)) @ rotation_x(np.radians(tilt_deg))
    pose = Pose(turn @ true.rotation, true.translation + np.array([0.0, raise_m, 0.0]))
    view = AboveView(d400_intrinsics(width, height, tuple(data["principal_offset_px"])), pose,
                     float(data["depth_unit_m"]), background_m=data["background_m"])
    baseline = AboveBaseline()
    rep = 0
    spine = []
    for depth, (t, rep_now, _) in zip(data["depth"], data["rows"]):
        if rep_now != rep:
            rep = rep_now
            if rep_now and baseline.baseline_deg is None:
                # As the station does (station/back_camera.py): each rep's start settles the baseline on the
                # still second before it until one is set (the truth's start, not the detector's announcement).
                baseline.settle(t - baseline.window_s)
        started = time.perf_counter()
        points = view.points(depth)
        stature = baseline.stature_for(t, points)
        reading = None if stature is None else back_turn(points, stature)
        turn = None if reading is None else reading.curvature_deg
        timing.append(time.perf_counter() - started)
        baseline.observe(t, turn, None if reading is None else reading.lean_deg)
        relative = baseline.relative(turn)
        spine.append(np.nan if relative is None else relative)
    return np.array(spine), baseline


def running_median(times: np.ndarray, values: np.ndarray, window_s: float = TRUNK_SMOOTHING_S) -> np.ndarray:
    """Spine flexion as the rep detector smooths it (NaN where none): per frame, the median of the
    readings of the last ``window_s`` seconds, shown at that window's middle frame, as the detector
    files a smoothed sample at its window's middle (station/reps.py)."""
    out = np.full_like(values, np.nan)
    for i in range(len(values)):
        first = int(np.searchsorted(times, times[i] - window_s, side="right"))
        window = values[first:i + 1]
        window = window[np.isfinite(window)]
        if window.size:
            out[i - (i - first) // 2] = np.median(window)
    return out


def rep_peaks(data: dict, spine: np.ndarray) -> list[tuple[int, float, float | None]]:
    """Per rep: (rep, the truth's peak spine flexion, the read peak after the detector's running median or None), deg."""
    truth, reps = data["rows"][:, 2], data["rows"][:, 1].astype(int)
    smoothed = running_median(data["rows"][:, 0], spine)
    peaks = []
    for rep in range(1, reps.max() + 1):
        readings = smoothed[reps == rep][np.isfinite(smoothed[reps == rep])]
        peaks.append((rep, float(truth[reps == rep].max()), float(readings.max()) if readings.size else None))
    return peaks


def summarise(cases: list[tuple[dict, np.ndarray]], threshold: float) -> dict:
    errors, frames = [], 0
    tp = fp = fn = kyphotic_flagged = kyphotic_reps = 0
    for data, spine in cases:
        truth, reps = data["rows"][:, 2], data["rows"][:, 1].astype(int)
        frames += len(spine)
        read = np.isfinite(spine)
        errors.append(spine[read] - truth[read])
        smoothed = running_median(data["rows"][:, 0], spine)
        kyphotic = float(data["kyphosis_deg"]) >= KYPHOTIC_DEG
        for rep in range(1, reps.max() + 1):
            mine = reps == rep
            true_rounded = truth[mine].max() > threshold
            readings = smoothed[mine][np.isfinite(smoothed[mine])]
            flagged = readings.size > 0 and readings.max() > threshold
            tp += flagged and true_rounded
            fp += flagged and not true_rounded
            fn += true_rounded and not flagged
            if kyphotic and not true_rounded:
                kyphotic_reps += 1
                kyphotic_flagged += flagged
    errors = np.abs(np.concatenate(errors))
    return {"read": errors.size / frames, "median": float(np.median(errors)) if errors.size else None,
            "p95": float(np.percentile(errors, 95)) if errors.size else None, "tp": tp, "fp": fp, "fn": fn,
            "kyphotic": (kyphotic_flagged, kyphotic_reps)}


def row(set_name: str, label: str, r: dict) -> str:
    """One line of the table."""
    precision = r["tp"] / (r["tp"] + r["fp"]) if r["tp"] + r["fp"] else float("nan")
    recall = r["tp"] / (r["tp"] + r["fn"]) if r["tp"] + r["fn"] else float("nan")
    error = "      -      " if r["median"] is None else f"{r['median']:5.1f} / {r['p95']:5.1f}"
    return (f"{set_name:6} {label:17} {100 * r['read']:4.0f}%  {error:>13}  {precision:5.2f} / {recall:4.2f}  "
            f"{r['kyphotic'][0]} of {r['kyphotic'][1]}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=(*SETS, "both", "all"), default="all",
                        help="both: tune and check; all: every set (default)")
    parser.add_argument("--arms", default=",".join(VARIANTS), help="drill variants, comma-separated")
    parser.add_argument("--fps", type=float, default=None,
                        help="frames per second the station reads, dividing the recording's (default: the "
                             "recording's own, the live station's 30)")
    parser.add_argument("--detail", action="store_true",
                        help="also a line per set of the seeds: its figures, standing turn and stature")
    parser.add_argument("--pose-error", default="0,0,0",
                        help="the calibration's error given to the measure: height m, tilt deg, yaw deg (default 0,0,0)")
    args = parser.parse_args()
    try:
        pose_error = tuple(float(v) for v in args.pose_error.split(","))
        if len(pose_error) != 3:
            raise ValueError
    except ValueError:
        parser.error(f"--pose-error takes three numbers, height m, tilt deg, yaw deg, not {args.pose_error!r}")
    threshold = Thresholds().max_spine_flexion_deg
    sets = {"both": ("tune", "check"), "all": tuple(SETS)}.get(args.set, (args.set,))
    timing = []
    rate = "the recording's own" if args.fps is None else f"{args.fps:g}"
    print(f"side+wall-above: spine flexion from the camera above; {rate} frames/s at the spot; "
          f"pose error {args.pose_error} (height m, tilt deg, yaw deg)")
    print(f"{'set':6} {'variant':17} {'read':>5}  {'error deg':>13}  {'rounded P / R':>13}  kyphotic flagged")
    for set_name in sets:
        for arms in args.arms.split(","):
            cases, details = [], []
            for name, seed in SETS[set_name]:
                data = rendered(name, seed, arms)
                if args.fps is not None:
                    data = at_rate(data, args.fps)
                spine, baseline = spine_readings(data, timing, pose_error)
                cases.append(({key: value for key, value in data.items() if key != "depth"}, spine))
                details.append((f"{name} {seed}", baseline))
            print(row(set_name, arms, summarise(cases, threshold)), flush=True)
            if args.detail:
                for case, (label, baseline) in zip(cases, details):
                    turn = (f"none ({baseline.refusal})" if baseline.baseline_deg is None
                            else f"{baseline.standing_deg:.1f} deg, first hinge {baseline.baseline_deg:.1f}"
                            + ("" if baseline.hinged_shift_deg is None
                               else f" (its band {baseline.hinged_shift_deg:+.1f} from standing)"))
                    stature = "none" if baseline.stature_m is None else f"{baseline.stature_m:.2f} m"
                    r = summarise([case], threshold)
                    print(f"{row('', label, r)}  (tp {r['tp']} fp {r['fp']} fn {r['fn']}; standing turn {turn}, "
                          f"stature {stature}, kyphosis {float(case[0]['kyphosis_deg']):.0f} deg)")
                    print("         per rep, peak spine flexion true / read (the detector's running median), deg: "
                          + ", ".join(f"{rep} {true:.1f} / {'-' if read is None else f'{read:.1f}'}"
                                      for rep, true, read in rep_peaks(*case)))
    timing = np.array(timing) * 1000.0
    print(f"(errors median / p95 over frames with a reading; cost per frame at 424x240: median "
          f"{np.median(timing):.2f} ms, p95 {np.percentile(timing, 95):.2f} ms)")


if __name__ == "__main__":
    main()
