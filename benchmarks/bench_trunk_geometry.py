"""The trunk angle's error from geometry alone: exact depth, no sensor noise.

    python benchmarks/bench_trunk_geometry.py [--hinges 0,30,60,85]

Renders each body (heights, builds, kyphosis), arm style or load and hinge
in three mounts of the envelope (reference; far, high, pitched down; near,
low) as exact depth (1 mm steps, no noise, no dropouts), measures it with
the station's Measurer (calibrated from the exact empty room, true camera
pose) and prints the trunk angle's signed error against the simulator's
hip-centre to shoulder-centre line, by hinge and by arm style. What is
left here is the measurement's geometry (which points make the trunk line,
where the hips are found), not the sensor's noise or a second person; the
stress sets' figures (bench_accuracy.py) add those.

Each body is also measured with parts left out of the rendering (head and
neck; arms, hands, stick and kettlebell), to see what each contributes.
Without the head the same fit reads 8-11 degrees steep: the torso alone is
too stubby for a principal axis, and its side profile leans forward of the
hip-to-shoulder line (the buttocks behind the hip joints, the chest in
front of the shoulders). The head lengthens the profile and pulls the axis
back, but a hinging patient holds the head up (the neck extends to keep the
gaze), so the read grows shallower with the hinge. Arms and loads change
the mean little. No assertions: figures to read.
"""

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from station.calibration import calibrate  # noqa: E402
from station.measure import Measurer  # noqa: E402
from station.sim.body import ARM_STYLES, BodyShape, Posture, pose_body  # noqa: E402
from station.sim.render import LABEL_PATIENT, Renderer  # noqa: E402
from station.sim.scene import ROOM, CameraMount, d400_intrinsics  # noqa: E402
from station.tracking import SETTLE_S  # noqa: E402

SPOT_Z_M = 0.28
MOUNTS = {
    "reference": CameraMount(side=-1, distance_m=2.0, yaw_toward_wall_deg=22.0, height_m=1.0, pitch_deg=-4.0),
    "far-high": CameraMount(side=-1, distance_m=2.5, yaw_toward_wall_deg=35.0, height_m=1.3, pitch_deg=-11.0),
    "near-low": CameraMount(side=1, distance_m=1.5, yaw_toward_wall_deg=10.0, height_m=0.7, pitch_deg=5.0),
}
SHAPES = (BodyShape(1.50, 0.3, 0.0), BodyShape(1.70, 0.5, 0.0), BodyShape(1.95, 1.1, 0.0),
          BodyShape(1.60, 0.5, 15.0), BodyShape(1.85, 0.8, 25.0))
# Parts left out of the rendering for each variant.
VARIANTS = {"whole body": (), "no head, neck": ("head", "neck"),
            "no arms, loads": ("upper_arm", "forearm", "hand", "stick", "load")}


class ExactView:
    """One mount's renderer and a Measurer calibrated on its exact empty room."""

    def __init__(self, mount: CameraMount):
        self.intrinsics = d400_intrinsics(424, 240)
        pose = mount.pose(SPOT_Z_M)
        self.renderer = Renderer(self.intrinsics, pose, ROOM, [])
        fitted = calibrate([self.depth([])] * 20, self.intrinsics, 0.001, source="benchmark")
        self.measurer = Measurer(dataclasses.replace(fitted, camera_pose=pose))

    def depth(self, bodies) -> np.ndarray:
        z_m = self.renderer.render([(LABEL_PATIENT, body) for body in bodies]).z_m
        return np.where(np.isfinite(z_m), np.round(z_m * 1000.0), 0).astype(np.uint16)

    def trunk_deg(self, body) -> float | None:
        """The measured trunk angle of ``body`` standing put at the spot (degrees), or None."""
        frame = self.depth([body])
        self.measurer.reset()
        self.measurer.measure(frame, 0.0)
        return self.measurer.measure(frame, SETTLE_S + 0.1).trunk_angle_deg


def _row(label, errors) -> str:
    errors = np.asarray(errors, float)
    if errors.size == 0:
        return f"{label:22} no reading"
    return (f"{label:22} {errors.size:4d} {errors.mean():+6.1f} {np.median(np.abs(errors)):6.1f} "
            f"{np.percentile(np.abs(errors), 95):6.1f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hinges", default="0,30,60,85", help="hip flexions to pose (degrees, comma-separated)")
    args = parser.parse_args()
    hinges = [float(h) for h in args.hinges.split(",")]
    views = {name: ExactView(mount) for name, mount in MOUNTS.items()}
    rows = []  # (variant, mount, arms, hip flexion, true trunk, error or None)
    for shape in SHAPES:
        for arms in ARM_STYLES:
            for hip in hinges:
                posture = Posture(z_m=SPOT_Z_M, hip_flexion_deg=hip, knee_flexion_deg=(10.0, 10.0), arms=arms,
                                  load_kg=10.0 if arms.startswith("kettlebell") else 0.0)
                body = pose_body(shape, posture)
                for variant, left_out in VARIANTS.items():
                    shown = dataclasses.replace(body, primitives=[(part, p) for part, p in body.primitives
                                                                  if part not in left_out])
                    for mount, view in views.items():
                        measured = view.trunk_deg(shown)
                        error = None if measured is None else measured - body.trunk_angle_deg()
                        rows.append((variant, mount, arms, hip, error))
    print(f"{'trunk angle error':22} {'n':>4} {'bias':>6} {'median':>6} {'p95':>6}   (degrees; signed bias, "
          "absolute median and p95; exact depth)")
    for variant in VARIANTS:
        print(f"\n{variant}")
        ours = [r for r in rows if r[0] == variant]
        unread = sum(r[4] is None for r in ours)
        print(_row("all", [r[4] for r in ours if r[4] is not None]) + (f"   ({unread} unread)" if unread else ""))
        for hip in hinges:
            print(_row(f"  hinge {hip:.0f}", [r[4] for r in ours if r[3] == hip and r[4] is not None]))
        if variant == "whole body":
            for arms in ARM_STYLES:
                print(_row(f"  {arms}", [r[4] for r in ours if r[2] == arms and r[4] is not None]))
            for mount in MOUNTS:
                print(_row(f"  {mount}", [r[4] for r in ours if r[1] == mount and r[4] is not None]))


if __name__ == "__main__":
    main()
