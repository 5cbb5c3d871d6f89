"""Where must a camera be to see the back? The placement study of issue 15.

    python benchmarks/bench_back_view.py [--set quick|full] [--fps N]
    python benchmarks/bench_back_view.py --figure docs/back-view.png

Renders the same people doing the same reps (rounded backs, kyphotic
seniors, good reps) from each candidate placement (station/sim/placements.py)
and each drill variant (hands on the hips, a stick along the back, a
kettlebell at the chest, arms crossed on the chest), adds the D400 sensor
model, measures every sampled frame and prints per placement and variant:

- the share of frames at the spot whose lumbar and thoracic back the depth
  pixels land on (the renderer's part labels; station/sim/backview.py);
- the share with a spine reading, and its error against the truth: the
  frame's back curvature minus the person's own standing still before the
  first rep (station/spine.py), median / p95 absolute degrees;
- the wall gap (true gap under 100 mm) and trunk angle errors there;
- rounded_back per rep (peak spine flexion over the threshold), precision
  and recall against the truth's, and good reps of kyphotic seniors flagged.

Pairs ("side+ceiling") take the wall gap and trunk from the side camera and
the back from the other, or from the side when only it shows the back.

Every placement is calibrated with its true pose (the background from its own
empty room), so the figures are about the view, not the calibration: a camera
on the drill wall or the ceiling cannot run today's empty-room calibration
(see docs/back-view.md). No assertions: figures to read.
"""

import argparse
import dataclasses
import datetime
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from station.calibration import Calibration, background_noise_from_mad, temporal_statistics  # noqa: E402
from station.faults import Thresholds  # noqa: E402
from station.measure import Measurer  # noqa: E402
from station.sim.backview import back_view  # noqa: E402
from station.sim.body import pose_body  # noqa: E402
from station.sim.placements import PLACEMENTS, SIDE, placement_mount  # noqa: E402
from station.sim.render import LABEL_OTHER_PERSON, LABEL_PATIENT  # noqa: E402
from station.sim.scenarios import build_scene  # noqa: E402
from station.sim.sensor import sense  # noqa: E402
from station.sim.simulate import SceneRenderer  # noqa: E402

SETS = {
    "quick": [("rounded-back", 7), ("kyphosis", 12)],
    "full": [("rounded-back", 7), ("kyphosis", 12), ("all-faults", 2), ("rounded-back", 3), ("kyphosis", 5),
             ("good-set", 1)],
}
VARIANTS = ("hips", "stick", "kettlebell_chest", "crossed")
PAIRS = (("side", "wall-above"), ("side", "ceiling"))
GAP_TRUTH_BELOW_MM = 100.0


def exact_calibration(empty_frames, intrinsics, pose) -> Calibration:
    """A calibration with the true pose and the background of these empty-room frames."""
    median, mad, reliable = temporal_statistics(np.stack(empty_frames))
    background = (median * 0.001).astype(np.float32)
    return Calibration(intrinsics=intrinsics, camera_pose=pose, depth_unit_m=0.001, background_m=background,
                       background_noise_m=background_noise_from_mad(mad, reliable, 0.001),
                       floor_rms_mm=0.0, wall_rms_mm=0.0, floor_share=0.0, wall_share=0.0, planes_angle_deg=90.0,
                       source="bench_back_view", created=datetime.datetime.now(datetime.timezone.utc).isoformat(),
                       frames_used=len(empty_frames))


def run_case(name: str, seed: int, arms: str, fps: float) -> dict:
    """Per placement: per-frame rows and per-rep truths of one scenario done with ``arms``."""
    spec = build_scene(name, seed, arms=arms)
    patient = spec.patient
    scenes = {}
    for placement in PLACEMENTS:
        mount = spec.mount if placement == SIDE else placement_mount(placement, spec.mount.side, seed)
        scenes[placement] = SceneRenderer(dataclasses.replace(spec, mount=mount))
    rng = np.random.default_rng([seed, 15])
    measurers = {}
    for placement, scene in scenes.items():
        empty = [sense(r.z_m, r.cos_incidence, scene.intrinsics, spec.sensor, rng)
                 for r in (scene.renderer.render([]) for _ in range(12))]
        measurers[placement] = Measurer(exact_calibration(empty, scene.intrinsics, scene.camera_pose), back=True)
    rows = {placement: [] for placement in PLACEMENTS}
    for t in np.arange(patient.at_spot_s, patient.set_end_s, 1.0 / fps):
        moment = patient.at(t)
        body = pose_body(patient.shape, moment.posture)
        for placement, scene in scenes.items():
            rendered = scene.renderer.render([(LABEL_PATIENT, body)])
            labels = rendered.labels
            patient_pixels = (labels >= LABEL_PATIENT) & (labels < LABEL_OTHER_PERSON)
            view = back_view(body, labels, scene.renderer.room_points(np.where(patient_pixels, rendered.z_m, 0.0)))
            depth = sense(rendered.z_m, rendered.cos_incidence, scene.intrinsics, spec.sensor, rng)
            measured = measurers[placement].measure(depth)
            rows[placement].append(dict(
                t=t, rep=moment.rep, lumbar=view.lumbar_in_view, thoracic=view.thoracic_in_view,
                gap=body.wall_gap_m() * 1000.0, trunk=body.trunk_angle_deg(), spine=body.spine_flexion_deg(),
                m_gap=measured.wall_gap_mm, m_trunk=measured.trunk_angle_deg, curvature=measured.back_curvature_deg))
    return {"rows": rows, "first_rep_s": patient.first_rep_s, "kyphotic": patient.shape.kyphosis_deg >= 15.0,
            "reps": len(patient.reps)}


def combined(case: dict, side: str, back: str) -> list[dict]:
    """Rows of a camera pair: gap and trunk from ``side``, the back from ``back`` where it shows, else ``side``."""
    out = []
    for a, b in zip(case["rows"][side], case["rows"][back]):
        use_back = b["curvature"] is not None
        out.append({**a, "lumbar": a["lumbar"] or b["lumbar"], "thoracic": a["thoracic"] or b["thoracic"],
                    "curvature": b["curvature"] if use_back else a["curvature"], "source": back if use_back else side})
    return out


def relative_spine(rows: list[dict], first_rep_s: float) -> None:
    """Adds ``m_spine`` to each row: curvature minus the median curvature standing before the first rep.

    A pair's back can come from either camera, and each camera's curvature
    is against its own standing median.
    """
    for source in {row.get("source") for row in rows}:
        mine = [row for row in rows if row.get("source") == source]
        standing = [row["curvature"] for row in mine if row["t"] < first_rep_s and row["curvature"] is not None]
        baseline = float(np.median(standing)) if len(standing) >= 3 else None
        for row in mine:
            row["m_spine"] = (None if baseline is None or row["curvature"] is None
                              else row["curvature"] - baseline)


def summarise(cases: list[tuple[dict, list[dict]]], threshold: float) -> dict:
    """Figures of one placement and variant over its cases."""
    errors = {"gap": [], "trunk": [], "spine": []}
    lumbar = thoracic = both = measured = total = 0
    tp = fp = fn = kyphotic_flagged = kyphotic_reps = 0
    for case, rows in cases:
        relative_spine(rows, case["first_rep_s"])
        for row in rows:
            total += 1
            lumbar += row["lumbar"]
            thoracic += row["thoracic"]
            both += row["lumbar"] and row["thoracic"]
            if row["m_gap"] is not None and row["gap"] < GAP_TRUTH_BELOW_MM:
                errors["gap"].append(row["m_gap"] - row["gap"])
            if row["m_trunk"] is not None:
                errors["trunk"].append(row["m_trunk"] - row["trunk"])
            if row["m_spine"] is not None:
                measured += 1
                errors["spine"].append(row["m_spine"] - row["spine"])
        for rep in range(1, case["reps"] + 1):
            mine = [row for row in rows if row["rep"] == rep]
            true_rounded = max(row["spine"] for row in mine) > threshold
            readings = [row["m_spine"] for row in mine if row["m_spine"] is not None]
            flagged = bool(readings) and max(readings) > threshold
            tp += flagged and true_rounded
            fp += flagged and not true_rounded
            fn += true_rounded and not flagged
            if case["kyphotic"] and not true_rounded:
                kyphotic_reps += 1
                kyphotic_flagged += flagged
    def stats(values):
        values = np.abs(np.array(values))
        return (float(np.median(values)), float(np.percentile(values, 95))) if values.size else None
    return {"frames": total, "lumbar": lumbar / total, "thoracic": thoracic / total, "both": both / total,
            "spine_share": measured / total, "spine": stats(errors["spine"]), "gap": stats(errors["gap"]),
            "trunk": stats(errors["trunk"]), "tp": tp, "fp": fp, "fn": fn,
            "kyphotic": (kyphotic_flagged, kyphotic_reps)}


# Figure colours: the back (trunk parts) warm, arms and loads blue, the rest grey.
_PART_COLOURS = {"abdomen": (255, 150, 0), "thorax": (230, 40, 40), "upper_arm": (40, 90, 255),
                 "forearm": (40, 90, 255), "hand": (40, 90, 255), "stick": (0, 200, 220), "load": (0, 200, 220)}


def figure(path: Path, name: str = "rounded-back", seed: int = 7) -> None:
    """What each placement sees of a rounded rep's bottom, per variant: parts coloured from the renderer's labels."""
    from PIL import Image, ImageDraw

    from station.sim.body import PART_LABELS

    palette = np.full((256, 3), 40, np.uint8)
    palette[LABEL_PATIENT:LABEL_OTHER_PERSON] = 150
    for part, colour in _PART_COLOURS.items():
        palette[LABEL_PATIENT + PART_LABELS[part]] = colour
    tiles = []
    for arms in VARIANTS:
        spec = build_scene(name, seed, arms=arms)
        patient = spec.patient
        rounded = next(i for i, rep in enumerate(patient.reps) if "rounded_back" in rep.faults)
        t = patient.rep_starts_s[rounded] + patient.reps[rounded].descent_s + 0.1
        body = pose_body(patient.shape, patient.at(t).posture)
        row = []
        for placement in PLACEMENTS:
            mount = spec.mount if placement == SIDE else placement_mount(placement, spec.mount.side, seed)
            scene = SceneRenderer(dataclasses.replace(spec, mount=mount))
            image = Image.fromarray(palette[scene.renderer.render([(LABEL_PATIENT, body)]).labels])
            ImageDraw.Draw(image).text((4, 4), f"{placement}, {arms}", fill=(255, 255, 255))
            row.append(np.asarray(image))
        tiles.append(np.concatenate(row, axis=1))
    Image.fromarray(np.concatenate(tiles, axis=0)).save(path)
    print(f"wrote {path}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=SETS, default="quick")
    parser.add_argument("--fps", type=float, default=5.0, help="frames sampled per second of the set (default 5)")
    parser.add_argument("--figure", type=Path, help="write the placements' views of a rounded rep here and exit")
    args = parser.parse_args()
    if args.figure:
        figure(args.figure)
        return
    threshold = Thresholds().max_spine_flexion_deg
    started = time.perf_counter()
    results = {}
    for arms in VARIANTS:
        cases = [run_case(name, seed, arms, args.fps) for name, seed in SETS[args.set]]
        for placement in PLACEMENTS:
            own_rows = [(case, [dict(row) for row in case["rows"][placement]]) for case in cases]
            results[placement, arms] = summarise(own_rows, threshold)
        for side, back in PAIRS:
            results[f"{side}+{back}", arms] = summarise([(c, combined(c, side, back)) for c in cases], threshold)
        print(f"  {arms}: {time.perf_counter() - started:.0f} s", file=sys.stderr)

    def pair(value, unit=""):
        return "      -     " if value is None else f"{value[0]:5.1f} /{value[1]:5.1f}{unit}"
    print(f"set {args.set}: {', '.join(f'{n} {s}' for n, s in SETS[args.set])}; {args.fps:g} frames/s at the spot")
    print(f"{'placement':18} {'variant':17} {'lumbar':>6} {'thorac':>6} {'back':>5} {'spine':>5}  "
          f"{'spine deg':>12}  {'gap mm':>12}  {'trunk deg':>12}  {'rounded P/R':>11}  kyphotic flagged")
    for (placement, arms), r in results.items():
        precision = r["tp"] / (r["tp"] + r["fp"]) if r["tp"] + r["fp"] else float("nan")
        recall = r["tp"] / (r["tp"] + r["fn"]) if r["tp"] + r["fn"] else float("nan")
        print(f"{placement:18} {arms:17} {100 * r['lumbar']:5.0f}% {100 * r['thoracic']:5.0f}% {100 * r['both']:4.0f}% "
              f"{100 * r['spine_share']:4.0f}%  {pair(r['spine'])}  {pair(r['gap'])}  {pair(r['trunk'])}  "
              f"{precision:4.2f} /{recall:5.2f}  {r['kyphotic'][0]} of {r['kyphotic'][1]}")
    print("(back: lumbar and thoracic back both in view; spine: frames with a spine reading; errors median / p95)")


if __name__ == "__main__":
    main()
