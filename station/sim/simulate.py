"""Render a scene spec into a RealSense recording and its ground truth.

The recording is written through ``rs.software_device`` and ``rs.recorder``
(:mod:`station.sim.recording`); beside it, ``NAME.truth.json`` holds per frame
the measures of ``docs/drill.md`` computed from the exact geometry, and
per rep its timing, extremes and faults.

A two-camera set-up (``side+wall-above``) writes a second recording of the
same scene beside the first, ``NAME.above.db3``
(:func:`station.camera_pair.back_recording_path`), through its own software
device and recorder: the second camera's frames are taken a fraction of a
frame apart from the side camera's (the cameras are not synchronised), and
both carry timestamps on one clock whose origin is the scene's own, as D400
global time puts two real cameras on the host's clock; the truth then says
where the second camera is and the true spine flexion at each of its frames.
"""

from __future__ import annotations

import contextlib
import json
import zlib
from dataclasses import asdict, replace
from pathlib import Path
from typing import Callable

import numpy as np

from station.camera_pair import back_recording_path
from station.faults import Thresholds, rep_faults
from station.geometry import project
from station.sim.body import Body, pose_body
from station.sim.motion import Moment
from station.sim.recording import RecordingWriter
from station.sim.render import LABEL_OTHER_PERSON, LABEL_PATIENT, NEAR_M, RenderedFrame, Renderer
from station.sim.scenarios import EMPTY_OPENING_S, SceneSpec
from station.sim.scene import ROOM
from station.sim.sensor import sense

# Interior points that must all be seen for the patient to be "fully in view".
_VIEW_CHECK_JOINTS = ("head", "c7", "shoulder_centre", "hip_centre", "left_knee", "right_knee",
                      "left_ankle", "right_ankle")


# Bump when a change to the simulator alters what a scene records: recordings
# cached by an older version (benchmarks, the demo) are then made again.
SIMULATOR_VERSION = 3

# A pair's clock: its origin is the scene's own, an hour apart per scene key
# from 2026-01-01 (so two scenes' recordings never overlap in time, as two
# sessions' never do on a real station's clock), and the second camera's
# frames are this share of a frame period either side of the side camera's.
_PAIR_CLOCK_BASE_S = 1_767_225_600.0
_PAIR_CLOCK_SCENES = 100_000
_PAIR_PHASE_SHARE = 0.4


def truth_path(recording) -> Path:
    """Where a recording's ground truth lives: ``NAME.truth.json`` beside ``NAME.db3``."""
    recording = Path(recording)
    return recording.with_name(recording.stem + ".truth.json")


def is_current(recording) -> bool:
    """Whether ``recording`` and its truth exist and this simulator version made them."""
    truth = truth_path(recording)
    if not (Path(recording).is_file() and truth.is_file()):
        return False
    try:
        return json.loads(truth.read_text()).get("simulator_version") == SIMULATOR_VERSION
    except (OSError, ValueError):
        return False  # unreadable or cut short: make it again


class SceneRenderer:
    """Renders a scene spec at any time: exact view, bodies and the patient's moment."""

    def __init__(self, spec: SceneSpec):
        self.spec = spec
        self.intrinsics = spec.intrinsics
        self.camera_pose = spec.mount.pose(spec.spot_z_m)
        self.renderer = Renderer(self.intrinsics, self.camera_pose, ROOM, spec.furniture)
        self._camera_from_room = self.camera_pose.inverse()

    def at(self, t: float) -> tuple[RenderedFrame, list[tuple[Moment, Body | None]]]:
        """The exact view at ``t`` seconds and each person's (moment, body)."""
        people = []
        drawn = []
        for index, performance in enumerate(self.spec.people):
            moment = performance.at(t)
            body = pose_body(performance.shape, moment.posture) if moment.posture is not None else None
            people.append((moment, body))
            if body is not None:
                is_patient = index == 0 and self.spec.has_patient
                drawn.append((LABEL_PATIENT if is_patient else LABEL_OTHER_PERSON, body))
        return self.renderer.render(drawn), people

    def fully_in_view(self, body: Body, rendered: RenderedFrame) -> bool:
        """Every key joint projects into the image onto the patient, not onto something in front."""
        points = self._camera_from_room.apply(np.array([body.joints[name] for name in _VIEW_CHECK_JOINTS]))
        if np.any(points[:, 2] <= NEAR_M):
            return False
        pixels = np.round(project(points, self.intrinsics)).astype(int)
        inside = ((pixels[:, 0] >= 0) & (pixels[:, 0] < self.intrinsics.width)
                  & (pixels[:, 1] >= 0) & (pixels[:, 1] < self.intrinsics.height))
        if not inside.all():
            return False
        labels = rendered.labels[pixels[:, 1], pixels[:, 0]]
        return bool(np.all((labels >= LABEL_PATIENT) & (labels < LABEL_OTHER_PERSON)))


def _frame_truth(t: float, scene: SceneRenderer, rendered: RenderedFrame, moment: Moment | None,
                 body: Body | None) -> dict:
    entry = {"t_s": round(t, 6), "present": False, "phase": "absent", "rep": None, "wall_gap_mm": None,
             "trunk_angle_deg": None, "knee_flexion_deg": None, "spine_flexion_deg": None,
             "fully_in_view": False, "patient_pixels": 0}
    if body is None:
        return entry
    patient_pixels = int(np.count_nonzero((rendered.labels >= LABEL_PATIENT) & (rendered.labels < LABEL_OTHER_PERSON)))
    entry.update(
        present=moment.at_spot, phase=moment.phase, rep=moment.rep,
        wall_gap_mm=round(body.wall_gap_m() * 1000.0, 2),
        trunk_angle_deg=round(body.trunk_angle_deg(), 3),
        knee_flexion_deg=round(body.knee_flexion_deg(), 3),
        spine_flexion_deg=round(body.spine_flexion_deg(), 3),
        fully_in_view=scene.fully_in_view(body, rendered),
        patient_pixels=patient_pixels,
        joints={name: [round(float(v), 4) for v in body.joints[name]]
                for name in ("hip_centre", "shoulder_centre", "left_knee", "right_knee", "left_ankle", "right_ankle")},
    )
    return entry


def rep_truth(spec: SceneSpec, frames: list[dict], thresholds: Thresholds = Thresholds()) -> list[dict]:
    """Each planned rep's timing, extremes and faults, from the per-frame truth.

    The incomplete-return check uses the trunk angle relative to the
    patient's standing posture before the first rep, so a rounded upper back
    at rest is not a fault.
    """
    patient = spec.patient
    if patient is None or not patient.reps:
        return []
    times = np.array([f["t_s"] for f in frames])

    def values(key, start, end):
        picked = [f[key] for f, t in zip(frames, times) if start <= t <= end and f[key] is not None]
        return np.array(picked, dtype=float)

    baseline = values("trunk_angle_deg", patient.at_spot_s, patient.first_rep_s)
    baseline_trunk = float(np.median(baseline)) if baseline.size else 0.0
    reps = []
    # The last rep must be stood up from before the set ends (its rest ends).
    starts = list(patient.rep_starts_s) + [patient.set_end_s]
    for index, plan in enumerate(patient.reps):
        start = float(starts[index])
        bottom = start + plan.descent_s
        hold_end = bottom + plan.hold_s
        end = hold_end + plan.ascent_s
        next_start = float(starts[index + 1])
        min_gap = float(values("wall_gap_mm", start, end).min())
        peak_trunk = float(values("trunk_angle_deg", start, end).max())
        peak_knee = float(values("knee_flexion_deg", start, end).max())
        peak_spine = float(values("spine_flexion_deg", start, end).max())
        returned = values("trunk_angle_deg", end, next_start)
        return_angle = float(returned.min()) - baseline_trunk if returned.size else 0.0
        reps.append({
            "index": index + 1, "start_s": round(start, 4), "bottom_s": round(bottom, 4), "end_s": round(end, 4),
            "min_wall_gap_mm": round(min_gap, 2), "touched": min_gap <= thresholds.touch_tolerance_mm,
            "peak_trunk_angle_deg": round(peak_trunk, 3), "peak_knee_flexion_deg": round(peak_knee, 3),
            "peak_spine_flexion_deg": round(peak_spine, 3),
            "descent_s": round(plan.descent_s, 4), "hold_s": round(plan.hold_s, 4), "ascent_s": round(plan.ascent_s, 4),
            "return_trunk_angle_deg": round(return_angle, 3),
            "faults": rep_faults(min_wall_gap_mm=min_gap, peak_knee_flexion_deg=peak_knee,
                                 peak_spine_flexion_deg=peak_spine, descent_s=plan.descent_s,
                                 return_trunk_angle_deg=return_angle, thresholds=thresholds),
            "planned_faults": list(plan.faults),
        })
    return reps


def _scene_truth(spec: SceneSpec, scene: SceneRenderer) -> dict:
    intrinsics = scene.intrinsics
    patient = spec.patient
    return {
        "simulator_version": SIMULATOR_VERSION,
        "scenario": spec.scenario, "seed": spec.seed, "camera_model": spec.camera_model,
        "width": spec.width, "height": spec.height, "fps": spec.fps, "duration_s": spec.duration_s,
        "empty_opening_s": EMPTY_OPENING_S,
        "intrinsics": asdict(intrinsics),
        "camera_pose_in_room": scene.camera_pose.as_matrix().round(6).tolist(),
        "mount": asdict(spec.mount),
        "sensor": asdict(spec.sensor),
        "patient": None if patient is None else {
            **asdict(patient.shape), "spot_z_m": round(patient.spot_z_m, 4), "arms": patient.arms,
            "first_rep_s": round(patient.first_rep_s, 4) if patient.reps else None,
        },
        "bystanders": len(spec.people) - (1 if patient is not None else 0),
        "notes": spec.notes,
        "furniture": len(spec.furniture),
        "thresholds": asdict(Thresholds()),
    }


def pair_clock(spec: SceneSpec) -> tuple[float, float]:
    """A pair's (clock origin, second camera's offset), seconds: drawn from the scene, the same every time."""
    patient = spec.patient
    key = json.dumps([spec.scenario, spec.seed, spec.width, spec.height, spec.fps, spec.duration_s,
                      None if patient is None else [patient.arms, len(patient.reps)]])
    origin = _PAIR_CLOCK_BASE_S + 3600.0 * (zlib.crc32(key.encode()) % _PAIR_CLOCK_SCENES)
    phase = np.random.default_rng([spec.seed, 0xC10C]).uniform(-_PAIR_PHASE_SHARE, _PAIR_PHASE_SHARE)
    return origin, float(phase / spec.fps)


def simulate(spec: SceneSpec, path, *, progress: Callable[[int, int], None] | None = None,
             back: tuple[str, object] | None = None, compressed: bool = False) -> dict:
    """Write the recording at ``path`` (.db3) and its truth beside it; return the truth.

    ``progress(done, total)`` is called after each frame when given.
    ``back`` is a second camera's (placement name, mount): its recording of
    the same scene goes to :func:`~station.camera_pair.back_recording_path`
    of ``path``, and the truth gains ``back_camera`` (its pose, clock offset
    and per frame the true spine flexion) and ``clock_origin_s``. Without it
    the recording is what it always was: one camera, its clock from 0.
    ``compressed`` has librealsense compress the frames
    (:class:`~station.sim.recording.RecordingWriter`).
    """
    scene = SceneRenderer(spec)
    rng = np.random.default_rng([spec.seed, 0x5E45])  # sensor noise, apart from the scene's draws
    total = int(round(spec.duration_s * spec.fps))
    frames = []
    name = f"Intel RealSense {spec.camera_model} (simulated)"
    origin_s, offset_s = pair_clock(spec) if back is not None else (0.0, 0.0)
    with contextlib.ExitStack() as stack:
        writer = stack.enter_context(RecordingWriter(path, scene.intrinsics, spec.fps, serial=f"SIM{spec.seed:08d}",
                                                     name=name, compressed=compressed))
        if back is not None:
            back_scene = SceneRenderer(replace(spec, mount=back[1]))
            back_rng = np.random.default_rng([spec.seed, 0x5E45, 2])
            back_writer = stack.enter_context(RecordingWriter(
                back_recording_path(path), back_scene.intrinsics, spec.fps, serial=f"SIM{spec.seed:08d}B", name=name,
                compressed=compressed))
            back_frames = []
        for index in range(total):
            t = index / spec.fps
            rendered, people = scene.at(t)
            depth = sense(rendered.z_m, rendered.cos_incidence, scene.intrinsics, spec.sensor, rng)
            writer.write(depth, origin_s + t)
            moment, body = people[0] if spec.patient is not None else (None, None)
            frames.append(_frame_truth(t, scene, rendered, moment, body))
            if back is not None:
                back_t = t + offset_s
                back_rendered, back_people = back_scene.at(back_t)
                back_writer.write(sense(back_rendered.z_m, back_rendered.cos_incidence, back_scene.intrinsics,
                                        spec.sensor, back_rng), origin_s + back_t)
                back_body = back_people[0][1] if spec.patient is not None else None
                back_frames.append({"t_s": round(back_t, 6), "spine_flexion_deg":
                                    None if back_body is None else round(back_body.spine_flexion_deg(), 3)})
            if progress is not None:
                progress(index + 1, total)
    truth = {**_scene_truth(spec, scene), "recording": Path(path).name, "frames": frames,
             "reps": rep_truth(spec, frames)}
    if back is not None:
        truth["clock_origin_s"] = origin_s
        truth["back_camera"] = {
            "recording": back_recording_path(path).name, "placement": back[0], "serial": f"SIM{spec.seed:08d}B",
            "clock_offset_s": round(offset_s, 6), "intrinsics": asdict(back_scene.intrinsics),
            "camera_pose_in_room": back_scene.camera_pose.as_matrix().round(6).tolist(), "mount": asdict(back[1]),
            "frames": back_frames}
    truth_path(path).write_text(json.dumps(truth, indent=1))
    return truth
