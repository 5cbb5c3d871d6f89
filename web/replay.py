"""A side-view stick figure of a rep, posed from the rep's stored series only.

No picture of the patient is ever kept: the replay is drawn from three
numbers per frame, the wall gap, the trunk angle and the knee flexion,
on a body of standard proportions. It shows what the numbers say, not what
the person looked like.

Geometry (room frame of ``docs/drill.md``, side view, millimetres):
z out of the drill wall (the wall at z = 0, drawn on the left), y up (the
floor at y = 0). The heels stand ``standoff_mm`` from the wall, the ankle a
little in front of the heel. The pelvis is drawn as a circle about the hip
joint whose rear edge is the measured wall gap from the wall. The knee
bends forward by the measured knee flexion; the hip height follows from the
leg's lengths. The trunk leans away from the wall by the trunk angle.
A measure that was not measured in a frame keeps its last measured value
(or the next one, before the first) and is flagged as such.
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

__all__ = ["BODY", "pose", "replay_frames"]

#: Segment lengths and sizes of the drawn body (mm), about a 1.65 m adult.
BODY = {"ankle_height": 80.0, "heel_to_ankle": 50.0, "foot": 250.0, "shank": 420.0, "thigh": 430.0,
        "pelvis_radius": 110.0, "trunk": 500.0, "neck": 90.0, "head_radius": 95.0, "upper_arm": 290.0,
        "forearm": 250.0}


def _filled(values: Sequence[float | None]) -> tuple[list[float | None], list[bool]]:
    """Values with gaps filled from the last (or first) measured one, and which were measured."""
    measured = [value is not None and math.isfinite(value) for value in values]
    filled: list[float | None] = []
    last = None
    for value, ok in zip(values, measured):
        if ok:
            last = float(value)
        filled.append(last)
    first = next((value for value in filled if value is not None), None)
    return [first if value is None else value for value in filled], measured


def pose(wall_gap_mm: float, trunk_angle_deg: float, knee_flexion_deg: float, *, standoff_mm: float) -> dict:
    """Joint positions ``(z, y)`` in mm for one frame's measures; see the module's docs.

    Keys: ``toe``, ``heel``, ``ankle``, ``knee``, ``hip``, ``shoulder``,
    ``head`` (its centre), ``elbow``, ``hand``.
    """
    body = BODY
    ankle = (standoff_mm + body["heel_to_ankle"], body["ankle_height"])
    hip_z = max(0.0, wall_gap_mm) + body["pelvis_radius"]
    knee_deg = min(max(knee_flexion_deg, 0.0), 150.0)
    thigh, shank = body["thigh"], body["shank"]
    reach = math.sqrt(thigh ** 2 + shank ** 2 + 2 * thigh * shank * math.cos(math.radians(knee_deg)))
    dz = hip_z - ankle[0]
    if abs(dz) > 0.98 * reach:  # the numbers ask for more than the legs reach: keep the figure whole
        dz = math.copysign(0.98 * reach, dz)
        hip_z = ankle[0] + dz
    hip = (hip_z, ankle[1] + math.sqrt(reach ** 2 - dz ** 2))
    # The knee: where circles about the ankle (shank) and the hip (thigh) meet, the one toward the room.
    mid = (shank ** 2 - thigh ** 2 + reach ** 2) / (2 * reach)
    off = math.sqrt(max(0.0, shank ** 2 - mid ** 2))
    ux, uy = (hip[0] - ankle[0]) / reach, (hip[1] - ankle[1]) / reach
    base = (ankle[0] + mid * ux, ankle[1] + mid * uy)
    knees = ((base[0] - off * uy, base[1] + off * ux), (base[0] + off * uy, base[1] - off * ux))
    knee = max(knees, key=lambda point: point[0])
    lean = math.radians(trunk_angle_deg)
    direction = (math.sin(lean), math.cos(lean))
    shoulder = (hip[0] + body["trunk"] * direction[0], hip[1] + body["trunk"] * direction[1])
    head_distance = body["neck"] + body["head_radius"]
    head = (shoulder[0] + head_distance * direction[0], shoulder[1] + head_distance * direction[1])
    # Hands on the hips: the hand just above the hip joint, the elbow bent out behind the trunk.
    hand = (hip[0] + 70 * direction[0] + 30 * direction[1], hip[1] + 70 * direction[1] - 30 * direction[0])
    span = math.dist(shoulder, hand)
    upper, fore = body["upper_arm"], body["forearm"]
    along = (upper ** 2 - fore ** 2 + span ** 2) / (2 * span)
    side = math.sqrt(max(0.0, upper ** 2 - along ** 2))
    vx, vy = (hand[0] - shoulder[0]) / span, (hand[1] - shoulder[1]) / span
    elbows = ((shoulder[0] + along * vx - side * vy, shoulder[1] + along * vy + side * vx),
              (shoulder[0] + along * vx + side * vy, shoulder[1] + along * vy - side * vx))
    elbow = min(elbows, key=lambda point: point[0] * direction[1] - point[1] * direction[0])
    return {"toe": (standoff_mm + body["foot"], 0.0), "heel": (standoff_mm, 0.0), "ankle": ankle, "knee": knee,
            "hip": hip, "shoulder": shoulder, "head": head, "elbow": elbow, "hand": hand}


def replay_frames(series: Mapping[str, Sequence], *, standoff_mm: float, start_s: float | None = None) -> dict:
    """Everything the replay needs, JSON-ready: per frame the time, the measures and the joints.

    Parameters
    ----------
    series : mapping
        The rep's ``t_s``, ``wall_gap_mm``, ``trunk_angle_deg`` and
        ``knee_flexion_deg``, equal lengths, None or NaN where not measured.
    standoff_mm : float
        Heels to wall (the patient's target), mm.
    start_s : float, optional
        Time shown as 0; the first frame's time if left out.

    Returns
    -------
    dict
        ``{"standoff_mm", "body", "frames": [{"t", "gap", "trunk", "knee",
        "measured": {"gap", "trunk", "knee"}, "joints": {name: [z, y]}}]}``,
        times in s from ``start_s``, lengths in mm rounded to 1 mm, angles to 0.1 degree.
        ``frames`` is empty when the rep has no frame with a trunk angle.
    """
    def numbers(name):
        return [None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)
                for value in series[name]]

    times = numbers("t_s")
    gap, gap_ok = _filled(numbers("wall_gap_mm"))
    trunk, trunk_ok = _filled(numbers("trunk_angle_deg"))
    knee, knee_ok = _filled(numbers("knee_flexion_deg"))
    present = [time for time in times if time is not None]
    if not present or not any(trunk_ok):
        return {"standoff_mm": standoff_mm, "body": BODY, "frames": []}
    origin = present[0] if start_s is None else start_s
    frames = []
    for k, time in enumerate(times):
        if time is None:
            continue
        frame_gap = gap[k] if gap[k] is not None else 0.0
        frame_knee = knee[k] if knee[k] is not None else 0.0
        joints = pose(frame_gap, trunk[k], frame_knee, standoff_mm=standoff_mm)
        frames.append({
            "t": round(time - origin, 3), "gap": round(frame_gap, 1), "trunk": round(trunk[k], 1),
            "knee": round(frame_knee, 1),
            "measured": {"gap": gap_ok[k], "trunk": trunk_ok[k], "knee": knee_ok[k]},
            "joints": {name: [round(point[0]), round(point[1])] for name, point in joints.items()},
        })
    return {"standoff_mm": standoff_mm, "body": BODY, "frames": frames}
