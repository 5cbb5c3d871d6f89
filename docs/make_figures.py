"""Draw the README's pictures from the simulator itself.

    python docs/make_figures.py

Writes into docs/:
- setup-plan.png: the room from above, the drill spot and the camera's mount envelope;
- side-view.png: a simulated patient standing and at the bottom of a rep, seen side-on;
- depth-bottom-of-rep.png: a depth frame at the bottom of a rep, as the station
  receives it (simulated, recorded through rs.recorder, read back through rs.pipeline).
"""

import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from station.camera import open_recording  # noqa: E402
from station.depth_image import colourise, save_png  # noqa: E402
from station.geometry import Intrinsics, Pose  # noqa: E402
from station.sim.body import BodyShape, Posture, pose_body  # noqa: E402
from station.sim.render import Renderer  # noqa: E402
from station.sim.scenarios import build_scene  # noqa: E402
from station.sim.scene import ROOM  # noqa: E402
from station.sim.simulate import simulate  # noqa: E402

DOCS = ROOT / "docs"


def font(size):
    return ImageFont.load_default(size=size)


def setup_plan(path: Path) -> None:
    """Top view: x to the right along the wall, z down the page into the room."""
    scale, width, height = 200, 1200, 760  # pixels per metre
    origin = np.array([width / 2, 80])  # the drill spot's wall point

    def px(x, z):
        return tuple(origin + np.array([x, z]) * scale)

    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 0, width, origin[1]], fill=(225, 225, 225))
    draw.line([px(-3, 0), px(3, 0)], fill="black", width=6)
    draw.text((20, 20), "drill wall", font=font(28), fill="black")
    spot_z = 0.25
    # The envelope: 1.5-2.5 m from the spot, turned 10-35 degrees toward the wall, either side.
    for side in (-1, 1):
        sector = []
        for distance in (1.5, 2.5):
            yaws = np.radians(np.linspace(10, 35, 20))
            if distance == 2.5:
                yaws = yaws[::-1]
            sector += [px(side * distance * np.cos(a), spot_z + distance * np.sin(a)) for a in yaws]
        draw.polygon(sector, fill=(205, 225, 250), outline=(60, 100, 170))
    # One camera and its 87 degree field of view.
    camera = np.array([-2.0 * np.cos(np.radians(20)), spot_z + 2.0 * np.sin(np.radians(20))])
    heading = np.radians(20)
    for edge in (-43.5, 43.5):
        angle = heading + np.radians(edge)
        end = camera + 3.2 * np.array([np.cos(angle), -np.sin(angle)])
        end[1] = max(end[1], 0.0)
        draw.line([px(*camera), px(*end)], fill=(60, 100, 170), width=2)
    cx, cz = px(*camera)
    draw.rectangle([cx - 14, cz - 9, cx + 14, cz + 9], fill=(30, 60, 120))
    # The patient: feet at the spot, facing away from the wall.
    sx, sz = px(0, spot_z)
    draw.ellipse([sx - 40, sz - 55, sx + 40, sz + 15], fill=(240, 150, 80), outline="black")
    draw.polygon([(sx - 12, sz + 20), (sx + 12, sz + 20), (sx, sz + 45)], fill="black")
    draw.text((sx + 50, sz - 30), "patient at the drill spot,\nheels 10-30 cm from the wall,\nfacing away from it",
              font=font(22), fill="black")
    draw.text(px(-2.9, 1.75), "camera envelope:\n1.5-2.5 m from the spot,\nturned 10-35 deg toward the wall,\n"
              "0.7-1.3 m high, either side", font=font(22), fill=(30, 60, 120))
    draw.text((cx - 60, cz + 16), "D400 camera", font=font(20), fill=(30, 60, 120))
    for metres in range(0, 3):
        x = origin[0] + metres * scale
        draw.line([(x, height - 40), (x, height - 30)], fill="black", width=2)
        draw.text((x - 6, height - 28), f"{metres}", font=font(18), fill="black")
    draw.text((origin[0] + 2 * scale + 15, height - 28), "m", font=font(18), fill="black")
    image.save(path)


def side_view(path: Path) -> None:
    """Near-orthographic side view (a distant, narrow camera) standing and at the wall."""
    intrinsics = Intrinsics.from_fov(360, 420, 27.0)
    # Far out along -x, looking +x: camera x is room -z (wall on the right), camera y is room -y.
    rotation = np.column_stack([[0.0, 0.0, -1.0], [0.0, -1.0, 0.0], [1.0, 0.0, 0.0]])
    pose = Pose(rotation, np.array([-3.9, 1.0, 0.55]))
    renderer = Renderer(intrinsics, pose, ROOM, [])
    shape = BodyShape(1.68, 0.6, 18.0)
    panels = []
    for posture in (Posture(z_m=0.30), Posture(z_m=0.30, hip_flexion_deg=58.0, knee_flexion_deg=(16.0, 16.0))):
        frame = renderer.render([(20, pose_body(shape, posture))])
        depth = np.where(frame.labels >= 20, frame.z_m * 1000, 0).astype(np.uint16)
        rgb = colourise(depth, near_m=3.5, far_m=4.5)
        rgb[frame.labels < 20] = (245, 245, 245)
        rgb[frame.labels == 2] = (200, 200, 200)  # the drill wall
        rgb[frame.labels == 1] = (170, 170, 170)  # the floor
        panels.append(Image.fromarray(rgb))
    image = Image.new("RGB", (2 * intrinsics.width + 20, intrinsics.height), "white")
    for index, panel in enumerate(panels):
        image.paste(panel, (index * (intrinsics.width + 20), 0))
    draw = ImageDraw.Draw(image)
    draw.text((10, 10), "standing tall", font=font(22), fill="black")
    draw.text((intrinsics.width + 30, 10), "hips back to the wall", font=font(22), fill="black")
    image.save(path)


def depth_bottom_of_rep(path: Path) -> None:
    spec = build_scene("good-set", 32, reps=1, fps=15, camera_model="D435")
    with tempfile.TemporaryDirectory() as folder:
        recording = Path(folder) / "figure.db3"
        truth = simulate(spec, recording)
        bottom = truth["reps"][0]["bottom_s"] + 0.2
        with open_recording(recording) as source:
            frame = next(f for f in source if f.timestamp_s >= bottom)
    save_png(path, frame.depth, frame.depth_unit_m, scale=2)
    print(f"depth frame at {frame.timestamp_s:.2f} s; mount {spec.mount}")


if __name__ == "__main__":
    DOCS.mkdir(exist_ok=True)
    setup_plan(DOCS / "setup-plan.png")
    side_view(DOCS / "side-view.png")
    depth_bottom_of_rep(DOCS / "depth-bottom-of-rep.png")
    print("wrote docs/setup-plan.png, docs/side-view.png, docs/depth-bottom-of-rep.png")
