"""The kiosk's idle animation: one good wall-touch hinge, side-on, drawn from the simulator's body.

    python -m tools.kiosk_animation            # writes web/static/kiosk-rep.svg

No photograph and no drawing by hand: the figure is the simulator's own
body (:func:`station.sim.body.pose_body`) posed through a good rep, the
hinge depth solved so the buttocks just touch the wall
(:meth:`station.sim.motion.Performance.bottom_hip_flexion_deg`), with soft
knees and a long back. Each of the body's ellipsoids and capsules is
projected onto the side (y-z) plane exactly, an ellipsoid to an ellipse and
a capsule to a thick round-capped line, so the figure is the body's true
side silhouette. The frames become SMIL animations in one SVG file (no
script, so it plays inside an ``<img>`` under the pages' strict
Content-Security-Policy), with a caption for each phase and a flash where
the hips meet the wall. The output is deterministic; a test checks the
committed file is what this module makes.
"""

from __future__ import annotations

import math
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from station.sim.body import BodyShape, Posture, pose_body
from station.sim.motion import Performance, RepPlan, ease, spot_range_m
from station.sim.primitives import Capsule, Ellipsoid

__all__ = ["OUTPUT", "TIMELINE", "animation_svg", "main"]

OUTPUT = Path(__file__).resolve().parents[1] / "web" / "static" / "kiosk-rep.svg"

#: The loop: (phase, seconds, caption). Slow and controlled, as the sources ask.
TIMELINE = (
    ("stand", 1.2, "Stand tall, hands on hips"),
    ("descent", 2.2, "Push your hips back"),
    ("hold", 0.8, "Touch the wall"),
    ("ascent", 2.0, "Squeeze and stand tall"),
    ("rest", 1.3, "Stand tall, hands on hips"),
)

SHAPE = BodyShape(height_m=1.65, build=0.45, kyphosis_deg=0.0)
REP = RepPlan(descent_s=2.2, hold_s=0.8, ascent_s=2.0, rest_s=1.3, knee_standing_deg=4.0, knee_bottom_deg=16.0,
              spine_bottom_deg=2.0)

#: Where the feet stand between the nearest and the farthest spot that suit the body (0..1): heels
#: about 18 cm from the wall, so the hips reach it with the trunk near 50 degrees, a clear hinge.
SPOT = 0.8
FPS = 10  # key frames per second; the browser interpolates between them
SCALE = 300.0  # pixels per metre
WIDTH, HEIGHT = 440, 660
WALL_X = 70.0  # the wall's surface (z = 0)
FLOOR_Y = 560.0  # the floor (y = 0)

INK = "#f5f7fa"  # the near side and the trunk
FAR = "#8fa3b8"  # the far arm and leg
OUTLINE = "#1d2b3a"  # separates the near limbs from the trunk; also the panel
WALL = "#c9d3de"
TOUCH = "#ffd23f"


def _screen(point) -> tuple[float, float]:
    return WALL_X + SCALE * float(point[2]), FLOOR_Y - SCALE * float(point[1])


def _ellipse(primitive: Ellipsoid) -> tuple[float, float, float, float, float]:
    """(cx, cy, rx, ry, angle in degrees) of an ellipsoid's side-on shadow, in screen pixels."""
    to_screen = np.array([[0.0, 0.0, SCALE], [0.0, -SCALE, 0.0]])
    spread = to_screen @ primitive.axes @ np.diag(primitive.radii)
    values, vectors = np.linalg.eigh(spread @ spread.T)
    major = vectors[:, 1]
    cx, cy = _screen(primitive.centre)
    return cx, cy, math.sqrt(max(values[1], 0.0)), math.sqrt(max(values[0], 0.0)), \
        math.degrees(math.atan2(major[1], major[0]))


def _postures(bottom_hip_deg: float, spot_z_m: float):
    """(time, Posture, phase) every 1/FPS s through :data:`TIMELINE`."""
    standing = Posture(z_m=spot_z_m, knee_flexion_deg=(REP.knee_standing_deg,) * 2, arms="hips")
    bottom = replace(standing, hip_flexion_deg=bottom_hip_deg, knee_flexion_deg=(REP.knee_bottom_deg,) * 2,
                     spine_flexion_deg=REP.spine_bottom_deg)
    total = sum(seconds for _, seconds, _ in TIMELINE)
    frames = round(total * FPS)
    for k in range(frames + 1):
        t = k / FPS
        start = 0.0
        for phase, seconds, _ in TIMELINE:
            if t < start + seconds or phase == TIMELINE[-1][0]:
                break
            start += seconds
        u = min(1.0, (t - start) / seconds)
        mix = {"stand": 0.0, "descent": float(ease(u)), "hold": 1.0, "ascent": 1.0 - float(ease(u)), "rest": 0.0}[phase]
        posture = replace(standing,
                          hip_flexion_deg=mix * bottom.hip_flexion_deg,
                          knee_flexion_deg=(standing.knee_flexion_deg[0] + mix * (bottom.knee_flexion_deg[0] -
                                                                                 standing.knee_flexion_deg[0]),) * 2,
                          spine_flexion_deg=mix * bottom.spine_flexion_deg)
        yield t, posture, phase


def _unwrap(angles: list[float], rx: list[float], ry: list[float]) -> None:
    """Make an ellipse's angle continuous from frame to frame (an axis has two directions, and a near
    circle may swap its axes), so the browser interpolates the short way round."""
    for k in range(1, len(angles)):
        best = None
        for swap in (False, True):
            angle = angles[k] + (90.0 if swap else 0.0)
            angle += 180.0 * round((angles[k - 1] - angle) / 180.0)
            if best is None or abs(angle - angles[k - 1]) < abs(best[0] - angles[k - 1]):
                best = (angle, swap)
        angles[k] = best[0]
        if best[1]:
            rx[k], ry[k] = ry[k], rx[k]


def _tidy(value: float) -> str:
    text = f"{value:.1f}"
    return text.removesuffix(".0")


def _list(numbers) -> str:
    return ";".join(_tidy(value) for value in numbers)


def animation_svg() -> str:
    """The animation as SVG text (deterministic)."""
    near, far = _near_far()
    nearest, farthest = spot_range_m(SHAPE)
    spot_z = nearest + SPOT * (farthest - nearest)
    performance = Performance(shape=SHAPE, spot_z_m=spot_z, reps=[REP], enter_at_s=-1000.0, enter_from_x_m=0.0,
                              sway_m=0.0)
    bottom_hip = performance.bottom_hip_flexion_deg(0)
    frames = list(_postures(bottom_hip, spot_z))
    duration = frames[-1][0]
    bodies = [pose_body(SHAPE, posture) for _, posture, _ in frames]
    parts = [(part, type(primitive)) for part, primitive in bodies[0].primitives]

    tracks = _tracks(bodies, parts, near, far)

    dur = f"{_tidy(duration)}s"
    common = f'dur="{dur}" repeatCount="indefinite"'
    lines = [
        (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
         'role="img" aria-labelledby="kiosk-rep-title">'),
        ('<title id="kiosk-rep-title">A good wall hinge, seen from the side: stand tall with hands on the hips, '
         'push the hips back until they touch the wall, then squeeze and stand tall again.</title>'),
        f"<!-- Made by python -m tools.kiosk_animation from the simulator's body ({len(frames)} frames). -->",
        f'<rect width="{WIDTH}" height="{HEIGHT}" rx="18" fill="{OUTLINE}"/>',
        f'<rect x="{_tidy(WALL_X - 46)}" y="30" width="46" height="{_tidy(FLOOR_Y - 30)}" fill="{WALL}"/>',
        (f'<text x="{_tidy(WALL_X - 23)}" y="300" fill="{OUTLINE}" font-family="sans-serif" font-size="26" '
         f'font-weight="700" text-anchor="middle" transform="rotate(-90 {_tidy(WALL_X - 23)} 300)">WALL</text>'),
        f'<rect x="0" y="{_tidy(FLOOR_Y)}" width="{WIDTH}" height="6" fill="{WALL}"/>',
    ]
    # Where the hips meet the wall: a flash while the rep holds at the bottom.
    hold_start = TIMELINE[0][1] + TIMELINE[1][1]
    hold_end = hold_start + TIMELINE[2][1]
    touch_y = min(track["cy"][round(hold_start * FPS)] for track in tracks
                  if track["kind"] == "ellipse" and track["part"] == "buttock")
    lines.append(f'<g opacity="0"><rect x="{_tidy(WALL_X - 46)}" y="30" width="46" height="{_tidy(FLOOR_Y - 30)}" '
                 f'fill="{TOUCH}"/><text x="{_tidy(WALL_X - 23)}" y="150" fill="{OUTLINE}" font-family="sans-serif" '
                 f'font-size="26" font-weight="700" text-anchor="middle" '
                 f'transform="rotate(-90 {_tidy(WALL_X - 23)} 150)">'
                 f'TOUCH ✓</text><circle cx="{_tidy(WALL_X)}" cy="{_tidy(touch_y)}" r="36" fill="none" '
                 f'stroke="{TOUCH}" stroke-width="8"/>'
                 + _discrete("opacity", "0", "1", hold_start - 0.1, hold_end + 0.3, duration, common) + "</g>")
    for track in tracks:
        lines.extend(_track_svg(track, common))
    # The captions, one per phase, in turn.
    start = 0.0
    for phase, seconds, caption in TIMELINE:
        lines.append(f'<text x="{WIDTH // 2}" y="{HEIGHT - 40}" fill="{INK}" font-family="sans-serif" font-size="34" '
                     f'font-weight="700" text-anchor="middle" opacity="{1 if start == 0 else 0}">{caption}'
                     + _discrete("opacity", "0", "1", start, start + seconds, duration, common) + "</text>")
        start += seconds
    lines.append("</svg>")
    return "\n".join(lines) + "\n"


def _tracks(bodies, parts, near: str, far: str) -> list[dict]:
    """Each primitive's path through the frames on the screen, far side first, then the trunk, then the near side."""
    tracks: list[dict] = []
    for index, (part, kind) in enumerate(parts):
        primitives = [body.primitives[index][1] for body in bodies]
        side = _side(bodies[0], part, primitives[0])
        layer = 0 if side == far else 2 if side == near else 1
        if kind is Capsule:
            ends = [(_screen(p.a), _screen(p.b)) for p in primitives]
            tracks.append({"layer": layer, "part": part, "kind": "line", "width": 2 * SCALE * primitives[0].radius,
                           "x1": [a[0] for a, _ in ends], "y1": [a[1] for a, _ in ends],
                           "x2": [b[0] for _, b in ends], "y2": [b[1] for _, b in ends]})
        else:
            shapes = [_ellipse(p) for p in primitives]
            cx, cy, rx, ry, angle = (list(values) for values in zip(*shapes))
            _unwrap(angle, rx, ry)
            tracks.append({"layer": layer, "part": part, "kind": "ellipse", "cx": cx, "cy": cy, "rx": rx, "ry": ry,
                           "angle": angle})
    tracks.sort(key=lambda track: track["layer"])  # far side, trunk, near side (stable within each)
    return tracks


def _track_svg(track: dict, common: str) -> list[str]:
    """The SVG elements of one track: a line (a capsule) or an ellipse, animated over the loop."""
    colour = FAR if track["layer"] == 0 else INK
    if track["kind"] == "line":
        width = track["width"]
        attributes = " ".join(f'{name}="{_tidy(track[name][0])}"' for name in ("x1", "y1", "x2", "y2"))
        animations = "".join(f'<animate attributeName="{name}" values="{_list(track[name])}" {common}/>'
                             for name in ("x1", "y1", "x2", "y2"))
        lines = []
        if track["layer"] == 2:  # a near limb: a thin dark edge keeps it apart from the trunk behind it
            lines.append(f'<line {attributes} stroke="{OUTLINE}" stroke-width="{_tidy(width + 5)}" '
                         f'stroke-linecap="round">{animations}</line>')
        lines.append(f'<line {attributes} stroke="{colour}" stroke-width="{_tidy(width)}" '
                     f'stroke-linecap="round">{animations}</line>')
        return lines
    moves = (f'<animateTransform attributeName="transform" type="translate" '
             f'values="{";".join(f"{_tidy(x)} {_tidy(y)}" for x, y in zip(track["cx"], track["cy"]))}" '
             f'{common}/><animateTransform attributeName="transform" type="rotate" additive="sum" '
             f'values="{_list(track["angle"])}" {common}/>'
             f'<animate attributeName="rx" values="{_list(track["rx"])}" {common}/>'
             f'<animate attributeName="ry" values="{_list(track["ry"])}" {common}/>')
    start = (f'rx="{_tidy(track["rx"][0])}" ry="{_tidy(track["ry"][0])}" '
             f'transform="translate({_tidy(track["cx"][0])} {_tidy(track["cy"][0])}) '
             f'rotate({_tidy(track["angle"][0])})"')
    if track["layer"] == 2:
        return [f'<ellipse {start} fill="{colour}" stroke="{OUTLINE}" stroke-width="2.5">{moves}</ellipse>']
    return [f'<ellipse {start} fill="{colour}">{moves}</ellipse>']


def _discrete(attribute: str, off: str, on: str, begin_s: float, end_s: float, duration: float, common: str) -> str:
    """An animation that holds ``on`` from ``begin_s`` to ``end_s`` of each loop and ``off`` otherwise."""
    begin, end = max(0.0, begin_s) / duration, min(duration, end_s) / duration
    values, times = ([on, off], [0.0, end]) if begin == 0 else ([off, on, off], [0.0, begin, end])
    if end >= 1.0:
        values, times = values[:-1], times[:-1]
    key_times = ";".join(f"{value:.4f}".rstrip("0").rstrip(".") if value else "0" for value in times)
    return (f'<animate attributeName="{attribute}" values="{";".join(values)}" keyTimes="{key_times}" '
            f'calcMode="discrete" {common}/>')


def _near_far() -> tuple[str, str]:
    """Which side of the body faces the viewer: the picture has z to the right and y up, so the viewer
    looks along +x from x < 0, where the right side is (the body faces +z, its left is +x)."""
    return "right", "left"


_LIMBS = ("thigh", "shank", "foot", "upper_arm", "forearm", "hand")


def _side(body, part: str, primitive) -> str | None:
    """"left" or "right" for a limb's primitive, None for the trunk, the buttocks and the head."""
    if part not in _LIMBS:
        return None
    centre = primitive.centre if isinstance(primitive, Ellipsoid) else 0.5 * (primitive.a + primitive.b)
    return "left" if float(centre[0] - body.joints["hip_centre"][0]) > 0 else "right"


def main(argv=None) -> int:
    path = Path(argv[0]) if argv else OUTPUT
    path.write_text(animation_svg(), encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
