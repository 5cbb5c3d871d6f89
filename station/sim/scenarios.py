"""Named scenarios: who is in the room, what they do, and where the camera is.

Each scenario draws its body, mount and rep variation from a seeded random
generator within the reference envelope of ``docs/drill.md``, so
``(name, seed)`` always makes the same recording and different seeds cover
the envelope.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np

from station.sim.body import ARM_STYLES, BodyShape
from station.sim.motion import Performance, RepPlan, Shift, plan_rep, spot_range_m
from station.sim.placements import SIDE, placement_mount
from station.sim.primitives import Box
from station.sim.scene import CameraMount, chair, d400_intrinsics, plinth
from station.sim.sensor import SensorModel

EMPTY_OPENING_S = 2.5  # every recording opens on the empty scene for calibration
RESOLUTIONS = ((424, 240), (640, 480), (848, 480))
FRAME_RATES = (15, 30)


@dataclass
class SceneSpec:
    """Everything a recording is made from.

    ``people[0]`` is the patient when ``has_patient``; the others are
    bystanders (a clinician spotting, someone walking past).
    """

    scenario: str
    seed: int
    mount: CameraMount
    spot_z_m: float
    width: int
    height: int
    fps: int
    duration_s: float
    camera_model: str
    sensor: SensorModel
    people: list[Performance] = field(default_factory=list)
    has_patient: bool = True
    furniture: list[Box] = field(default_factory=list)
    notes: dict = field(default_factory=dict)  # what a randomised scene drew, copied into the truth

    @property
    def intrinsics(self):
        return d400_intrinsics(self.width, self.height, self.principal_offset_px)

    @property
    def principal_offset_px(self):
        rng = np.random.default_rng(self.seed + 7)
        return tuple(rng.uniform(-3.0, 3.0, 2) * self.width / 848)

    @property
    def patient(self) -> Performance | None:
        return self.people[0] if self.has_patient and self.people else None


def random_mount(rng: np.random.Generator, side: int | None = None) -> CameraMount:
    """A camera mount anywhere in the reference envelope.

    The pitch is what an installer would choose, aimed at the middle of a
    standing person give or take a few degrees, within the envelope's -15..+5.
    """
    distance = rng.uniform(1.5, 2.5)
    height = rng.uniform(0.7, 1.3)
    aimed_pitch = np.degrees(np.arctan2(0.9 - height, distance))
    return CameraMount(
        side=int(side if side is not None else rng.choice([-1, 1])),
        distance_m=distance,
        yaw_toward_wall_deg=rng.uniform(10.0, 35.0),
        height_m=height,
        pitch_deg=float(np.clip(aimed_pitch + rng.uniform(-4.0, 4.0), -15.0, 5.0)),
        roll_deg=rng.uniform(-3.0, 3.0),
        aim_offset_deg=rng.uniform(-5.0, 5.0),
    )


def random_body(rng: np.random.Generator, *, kyphosis: bool | None = None) -> BodyShape:
    """A body from the drill's population: 1.5-1.9 m, slim to heavy, some with a rounded upper back."""
    rounded = rng.random() < 0.3 if kyphosis is None else kyphosis
    return BodyShape(height_m=rng.uniform(1.5, 1.9), build=rng.uniform(0.0, 1.0),
                     kyphosis_deg=rng.uniform(15.0, 35.0) if rounded else rng.uniform(0.0, 6.0))


def _patient(rng, mount: CameraMount, shape, reps: list[RepPlan], *, arms="hips", leave=False,
             stay_s=1.5) -> Performance:
    """The person doing the drill. They come in from beyond the spot, away from the camera."""
    # Stand-offs near the nearest feasible one need barely any hinge to touch;
    # clinicians set people far enough back for a real hip hinge.
    nearest, farthest = spot_range_m(shape)
    spot_z = nearest + rng.uniform(0.25, 1.0) * max(0.0, farthest - 0.02 - nearest)
    return Performance(shape, spot_z, reps, enter_at_s=EMPTY_OPENING_S + rng.uniform(0.0, 0.5),
                       enter_from_x_m=float(-mount.side * rng.uniform(2.2, 3.0)),
                       settle_s=rng.uniform(1.0, 2.0), leave=leave, stay_s=stay_s, arms=arms,
                       seed=int(rng.integers(1 << 31)))


def _spotter(rng, patient: Performance, mount: CameraMount) -> Performance:
    """A clinician close to the patient, facing them, not doing the drill.

    They stand beyond the patient as the camera sees it, or in front of the
    patient: where a clinician spots from without blocking the camera.
    """
    beyond = -mount.side
    if rng.random() < 0.5:
        x, z, yaw = beyond * rng.uniform(0.5, 0.75), patient.spot_z_m + rng.uniform(0.2, 0.5), -beyond * rng.uniform(60, 100)
    else:
        x, z, yaw = rng.uniform(-0.15, 0.15), patient.spot_z_m + rng.uniform(0.75, 0.95), 180.0 + rng.uniform(-20, 20)
    return Performance(random_body(rng, kyphosis=False), z, [], enter_at_s=EMPTY_OPENING_S + 0.3,
                       enter_from_x_m=beyond * 3.0, settle_s=0.0, spot_x_m=x, facing_yaw_deg=yaw,
                       arms="sides", sway_m=0.03, seed=int(rng.integers(1 << 31)))


#: The clinician of ``clinician-in-front`` steps onto the camera's line of sight to the patient this far (m)
#: from the patient's feet, from half a second before the second rep for this long (s): drawn over these.
IN_FRONT_M, IN_FRONT_S = (0.3, 0.7), (1.5, 4.0)


def _in_front(rng, patient: Performance, mount: CameraMount) -> Performance:
    """A clinician beside the patient on the camera's side, who steps square between the camera and the
    patient during the second rep (to show them something), hiding them, then steps back
    (:data:`IN_FRONT_M`, :data:`IN_FRONT_S`)."""
    camera = mount.pose(patient.spot_z_m).translation[[0, 2]]  # on the floor plan (x, z)
    feet = np.array([0.0, patient.spot_z_m])
    front = feet + rng.uniform(*IN_FRONT_M) * (camera - feet) / np.linalg.norm(camera - feet)
    place = feet + [mount.side * rng.uniform(0.8, 1.0), rng.uniform(0.8, 1.0)]  # well off the line of sight
    start = float(patient.rep_starts_s[1]) - 0.5
    step = Shift(start, start + rng.uniform(*IN_FRONT_S), dx_m=float(front[0] - place[0]),
                 dz_m=float(front[1] - place[1]))
    return Performance(random_body(rng, kyphosis=False), float(place[1]), [], enter_at_s=patient.enter_at_s + 0.3,
                       enter_from_x_m=mount.side * 3.0, settle_s=0.0, spot_x_m=float(place[0]),
                       facing_yaw_deg=-mount.side * 90.0, arms="sides", sway_m=0.02, shifts=(step,),
                       seed=int(rng.integers(1 << 31)))


def _passer_by(rng, mount: CameraMount, duration_s: float) -> Performance:
    """Someone crossing the room behind the patient and leaving again."""
    side = float(-mount.side)
    return Performance(random_body(rng, kyphosis=False), rng.uniform(1.3, 2.0), [],
                       enter_at_s=rng.uniform(EMPTY_OPENING_S + 3.0, max(EMPTY_OPENING_S + 3.5, duration_s - 8.0)),
                       enter_from_x_m=side * 3.0, settle_s=0.0, spot_x_m=-side * 0.3, leave=True, stay_s=0.5,
                       arms="sides", seed=int(rng.integers(1 << 31)))


def _reps(rng, pattern: list[tuple[str, ...]], *, slow=False) -> list[RepPlan]:
    return [plan_rep(rng, faults, slow=slow) for faults in pattern]


def _with_fault(fault: str):
    def people(rng, mount):
        return [_patient(rng, mount, random_body(rng), _reps(rng, [(), (fault,), (), (fault,), ()]))]
    return people


def _rounded_every_rep(rng, mount):
    # The same draws as ``rounded-back`` (plan_rep draws alike whatever the faults), so seed N is the same
    # person, mount and timing as rounded-back N: only the good reps become rounded, the first one too.
    return [_patient(rng, mount, random_body(rng), _reps(rng, [("rounded_back",)] * 5))]


def _good_set(rng, mount):
    return [_patient(rng, mount, random_body(rng), _reps(rng, [()] * 6))]


def _all_faults(rng, mount):
    pattern = [(), ("squat",), (), ("rounded_back",), ("no_touch",), (), ("too_fast",), ("incomplete_return",), ()]
    return [_patient(rng, mount, random_body(rng), _reps(rng, pattern))]


def _kyphosis(rng, mount):
    return [_patient(rng, mount, random_body(rng, kyphosis=True), _reps(rng, [()] * 5))]


def _stick(rng, mount):
    return [_patient(rng, mount, random_body(rng), _reps(rng, [(), (), ("rounded_back",), ()]), arms="stick")]


def _slow_holds(rng, mount):
    return [_patient(rng, mount, random_body(rng), _reps(rng, [()] * 4, slow=True))]


def _spotted(rng, mount):
    patient = _patient(rng, mount, random_body(rng), _reps(rng, [(), (), ("squat",), ()]))
    return [patient, _spotter(rng, patient, mount)]


def _clinician_in_front(rng, mount):
    patient = _patient(rng, mount, random_body(rng), _reps(rng, [()] * 3))
    return [patient, _in_front(rng, patient, mount)]


def _busy_room(rng, mount):
    patient = _patient(rng, mount, random_body(rng), _reps(rng, [(), ("no_touch",), (), ()]), leave=True)
    return [patient, _passer_by(rng, mount, 40.0)]


def _idle_standing(rng, mount):
    patient = _patient(rng, mount, random_body(rng), [], stay_s=12.0)
    patient.sway_m = 0.04  # shifting weight from foot to foot
    return [patient]


def _idle_walk_through(rng, mount):
    return [_patient(rng, mount, random_body(rng), [], leave=True, stay_s=3.0)]


def _idle_spotter(rng, mount):
    patient = _patient(rng, mount, random_body(rng), [], stay_s=10.0)
    return [patient, _spotter(rng, patient, mount)]


@dataclass(frozen=True)
class Scenario:
    """A named recipe for a recording."""

    name: str
    description: str
    people: Callable[[np.random.Generator, CameraMount], list[Performance]]
    furniture: bool = False
    has_patient: bool = True


SCENARIOS = {s.name: s for s in (
    Scenario("good-set", "six good reps", _good_set),
    Scenario("all-faults", "good reps and one rep of each fault", _all_faults),
    Scenario("squat", "reps alternating good and squat (knees bend, hips drop)", _with_fault("squat")),
    Scenario("rounded-back", "reps alternating good and rounded back", _with_fault("rounded_back")),
    Scenario("rounded-every-rep", "every rep with a rounded back, from the first", _rounded_every_rep),
    Scenario("no-touch", "reps alternating good and stopping short of the wall", _with_fault("no_touch")),
    Scenario("too-fast", "reps alternating good and dropping into the hinge", _with_fault("too_fast")),
    Scenario("incomplete-return", "reps alternating good and not standing tall again", _with_fault("incomplete_return")),
    Scenario("kyphosis", "a senior with a rounded upper back at rest doing good reps", _kyphosis),
    Scenario("stick", "reps holding a stick along the back", _stick),
    Scenario("slow-holds", "slow reps with long holds at the wall", _slow_holds),
    Scenario("spotter", "a clinician standing close beside the patient", _spotted),
    Scenario("clinician-in-front", "a clinician steps square between the camera and the patient (0.3-0.7 m "
             "from them, 1.5-4 s) during the second rep, then back", _clinician_in_front),
    Scenario("busy-room", "furniture, someone walking past, the patient leaves at the end", _busy_room, furniture=True),
    Scenario("idle-standing", "a person standing at the spot, shifting weight, no reps", _idle_standing),
    Scenario("idle-walk-through", "a person walks in, stands, walks out; no reps", _idle_walk_through),
    Scenario("idle-spotter", "a person standing at the spot with a clinician beside them; no reps", _idle_spotter),
    Scenario("empty", "nobody: the empty room", lambda rng, mount: [], has_patient=False),
)}


def build_scene(name: str, seed: int = 0, *, width: int = 424, height: int = 240, fps: int = 30,
                side: int | None = None, camera_model: str | None = None, reps: int | None = None,
                placement: str = SIDE, arms: str | None = None) -> SceneSpec:
    """The scene spec of a named scenario.

    ``placement`` names where the camera is (:data:`station.sim.placements.PLACEMENTS`);
    the person, reps and room are the same from every placement. ``arms``
    changes how the patient holds their arms (:data:`station.sim.body.ARM_STYLES`),
    the drill variant.

    ``reps`` changes the number of reps: the scenario's pattern of good and
    faulty reps is repeated or cut to that length.

    Raises
    ------
    ValueError
        Unknown scenario, resolution, frame rate, camera model, placement or arms.
    """
    if name not in SCENARIOS:
        raise ValueError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")
    if (width, height) not in RESOLUTIONS:
        raise ValueError(f"resolution {width}x{height} is not a D400 depth mode here; use one of "
                         + ", ".join(f"{w}x{h}" for w, h in RESOLUTIONS))
    if fps not in FRAME_RATES:
        raise ValueError(f"frame rate {fps} is not supported here; use one of {FRAME_RATES}")
    scenario = SCENARIOS[name]
    rng = np.random.default_rng(seed)
    mount = random_mount(rng, side)
    model = camera_model or str(rng.choice(["D435", "D455"]))
    sensors = {"D435": SensorModel.d435, "D455": SensorModel.d455}
    if model not in sensors:
        raise ValueError(f"unknown camera model {model!r}; known: {', '.join(sensors)}")
    people = scenario.people(rng, mount)
    if placement != SIDE:
        # Drawn apart from the scenario's generator: the people stay the same.
        mount = placement_mount(placement, mount.side, seed)
    if arms is not None and scenario.has_patient and people:
        if arms not in ARM_STYLES:
            raise ValueError(f"unknown arms {arms!r}; known: {', '.join(ARM_STYLES)}")
        people[0] = replace(people[0], arms=arms)
    if reps is not None and people and people[0].reps:
        if reps < 1:
            raise ValueError("reps must be at least 1")
        pattern = people[0].reps
        people[0] = replace(people[0], reps=[pattern[i % len(pattern)] for i in range(reps)])
    furniture = []
    if scenario.furniture:
        far_side = -mount.side  # beyond the spot, in view but clear of the drill
        furniture = chair(far_side * rng.uniform(1.2, 1.8), rng.uniform(0.05, 0.4)) + plinth(
            far_side * rng.uniform(1.8, 2.6) - 0.35, rng.uniform(1.8, 2.4))
    spot_z = people[0].spot_z_m if people else 0.25
    ends = [EMPTY_OPENING_S + 6.0]
    for person in people:
        if person.leave:
            ends.append(person.leave_s + 1.2 + 3.5)
        else:
            ends.append(person.set_end_s + person.stay_s)
    return SceneSpec(scenario=name, seed=seed, mount=mount, spot_z_m=spot_z, width=width, height=height,
                     fps=fps, duration_s=float(max(ends)), camera_model=model, sensor=sensors[model](),
                     people=people, has_patient=scenario.has_patient, furniture=furniture)
