"""An articulated human for the simulator: skeleton, balance and surface.

A body is built in the room frame from a :class:`BodyShape` (anthropometry,
fixed for a person) and a :class:`Posture` (what the person is doing now).
Segment lengths and masses follow Winter's anthropometric tables as fractions
of standing height; girths scale with height and build. The surface is a set
of ellipsoids and capsules (:mod:`station.sim.primitives`) that the renderer
ray-casts exactly, so every ground-truth measure is geometric.

Sagittal conventions inside this module: the person's forward direction is
"anterior" (+z of the room when they face away from the drill wall), angles
in radians unless a name ends in ``_deg``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from station.sim.primitives import Capsule, Ellipsoid

# Winter (2009), segment lengths as fractions of standing height.
ANKLE_HEIGHT = 0.039
SHANK = 0.246
THIGH = 0.245
HIP_HALF_WIDTH = 0.048  # hip joint centres are about 0.096 H apart
PELVIS = 0.060  # hip-joint centre to L5/S1
LUMBAR = 0.100  # L5/S1 to T12
LOWER_THORAX = 0.085  # T12 to T7
UPPER_THORAX = 0.085  # T7 to C7
NECK = 0.060
HEAD_RADIUS = 0.058
SHOULDER_HALF_WIDTH = 0.105
UPPER_ARM = 0.186
FOREARM = 0.146
FOOT = 0.152

# Winter's segment mass fractions, trunk split into pelvis, abdomen, thorax.
MASS = {
    "foot": 0.0145, "shank": 0.0465, "thigh": 0.100, "pelvis": 0.142, "abdomen": 0.139,
    "thorax": 0.216, "head": 0.081, "upper_arm": 0.028, "forearm": 0.016, "hand": 0.006,
}

# Labels written into the renderer's label image; body parts of a person are
# offset by that person's label base.
PART_LABELS = {
    "pelvis": 1, "buttock": 2, "abdomen": 3, "thorax": 4, "head": 5, "neck": 6, "thigh": 7,
    "shank": 8, "foot": 9, "upper_arm": 10, "forearm": 11, "hand": 12, "stick": 13, "load": 14,
}
MAX_BUILD = 1.3  # obese: the stress set's heavy end (the drill's population is 0-1)
# What a person can do with their arms (Posture.arms).
ARM_STYLES = ("hips", "stick", "sides", "crossed", "kettlebell_chest", "kettlebell_hanging")
KETTLEBELL_RADIUS_M = 0.10  # the bell of a 8-16 kg kettlebell is about 0.2 m across
KETTLEBELL_HANDLE_M = 0.07  # from the hands on the handle to the top of the bell
STICK_RADIUS_M = 0.014  # a 28 mm dowel
STICK_LENGTH_M = 1.0
# The parts of the back a stick held along it can rest on: it lies on their posterior outline.
STICK_RESTS_ON = ("pelvis", "buttock", "abdomen", "thorax", "neck", "head")
# Parts whose surface counts for the wall gap (docs/drill.md: "pelvis and buttocks").
WALL_GAP_PARTS = ("pelvis", "buttock")


@dataclass(frozen=True)
class BodyShape:
    """A person's fixed anthropometry.

    Attributes
    ----------
    height_m : float
        Standing height, 1.5 to 1.9 m in the drill's population.
    build : float
        0 slim to 1 heavy, scaling girths 0.85 to 1.35 times average; up to
        :data:`MAX_BUILD` for an obese body (girth 1.5 times, and a belly
        that grows faster than the rest).
    kyphosis_deg : float
        Rounded upper back at rest, 0 (none) to 35 degrees of extra thoracic
        flexion; the person's baseline, not a fault.
    """

    height_m: float = 1.70
    build: float = 0.5
    kyphosis_deg: float = 0.0

    def __post_init__(self):
        if not 1.2 <= self.height_m <= 2.1:
            raise ValueError(f"height_m must be 1.2-2.1 m, not {self.height_m}")
        if not 0.0 <= self.build <= MAX_BUILD:
            raise ValueError(f"build must be 0-{MAX_BUILD}, not {self.build}")
        if not 0.0 <= self.kyphosis_deg <= 45.0:
            raise ValueError(f"kyphosis_deg must be 0-45, not {self.kyphosis_deg}")

    @property
    def belly(self) -> float:
        """Extra forward growth of the abdomen past the heavy end of the drill's population (1 = none)."""
        return 1.0 + 0.6 * max(0.0, self.build - 1.0)

    @property
    def mass_kg(self) -> float:
        """Body mass: a body-mass index of 19 (slim) to 32 (heavy), 36 at the obese end, at this height."""
        return (19.0 + 13.0 * self.build) * self.height_m**2

    @property
    def girth(self) -> float:
        """Girth multiplier of every radius: height-scaled and build-scaled."""
        return (self.height_m / 1.70) * (0.85 + 0.5 * self.build)


@dataclass(frozen=True)
class Posture:
    """What the person is doing in one frame.

    Attributes
    ----------
    x_m, z_m : float
        Room position of the midpoint between the ankles on the floor plane.
    yaw_deg : float
        Facing direction: 0 faces +z (away from the drill wall); positive
        turns toward +x.
    hip_flexion_deg : float
        Forward rotation of the pelvis from standing (the hinge itself).
    knee_flexion_deg : tuple of float
        Left and right knee flexion, 0 = straight leg.
    spine_flexion_deg : float
        Flexion added to the spine above its resting posture, shared by the
        lumbar and thoracic joints; 0 is a neutral spine.
    lateral_shift_m : float
        Sideways shift of the pelvis over the feet (weight shifting).
    arms : str
        One of :data:`ARM_STYLES`: "hips" (hands on hips), "stick" (stick
        along the back), "sides", "crossed" (forearms crossed on the chest),
        "kettlebell_chest" (a kettlebell held in both hands against the
        chest) or "kettlebell_hanging" (held in both hands, arms hanging, the
        bell in front of the thighs).
    load_kg : float
        Mass of the kettlebell in the kettlebell styles (ignored otherwise);
        it counts for balance, never for the measures.
    gait_phase : float or None
        Walking: phase in cycles; legs swing instead of standing still and
        balance is not solved.
    """

    x_m: float = 0.0
    z_m: float = 0.3
    yaw_deg: float = 0.0
    hip_flexion_deg: float = 0.0
    knee_flexion_deg: tuple[float, float] = (5.0, 5.0)
    spine_flexion_deg: float = 0.0
    lateral_shift_m: float = 0.0
    arms: str = "hips"
    load_kg: float = 12.0
    gait_phase: float | None = None

    def __post_init__(self):
        if self.arms not in ARM_STYLES:
            raise ValueError(f"unknown arms {self.arms!r}; known: {', '.join(ARM_STYLES)}")
        if not 0.0 <= self.load_kg <= 40.0:
            raise ValueError(f"load_kg must be 0-40, not {self.load_kg}")

    @property
    def carries_load(self) -> bool:
        """Whether the hands hold a kettlebell."""
        return self.arms.startswith("kettlebell") and self.load_kg > 0.0


@dataclass
class Body:
    """A posed body: joints (room frame, metres), sagittal angles and surface.

    ``joints`` maps names to 3-vectors. ``primitives`` is the list of
    (part name, primitive) the renderer draws.
    """

    shape: BodyShape
    posture: Posture
    joints: dict[str, np.ndarray]
    primitives: list[tuple[str, object]] = field(default_factory=list)

    # -- ground truth, exactly as docs/drill.md defines each measure --
    def wall_gap_m(self) -> float:
        """Shortest distance from the wall plane (z = 0) to the pelvis and buttocks; 0 on contact."""
        nearest = min(p.min_along(np.array([0.0, 0.0, 1.0])) for part, p in self.primitives
                      if part in WALL_GAP_PARTS)
        return max(0.0, nearest)

    def trunk_angle_deg(self) -> float:
        """Angle of hip-centre to shoulder-centre line from vertical, in the y-z plane; + away from wall."""
        line = self.joints["shoulder_centre"] - self.joints["hip_centre"]
        return float(np.degrees(np.arctan2(line[2], line[1])))

    def knee_flexion_deg(self) -> float:
        """Mean of both knees' angle between thigh and shank, 0 = straight."""
        angles = []
        for side in ("left", "right"):
            thigh = self.joints[f"{side}_hip"] - self.joints[f"{side}_knee"]
            shank = self.joints[f"{side}_ankle"] - self.joints[f"{side}_knee"]
            cosine = np.dot(thigh, shank) / (np.linalg.norm(thigh) * np.linalg.norm(shank))
            angles.append(180.0 - np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0))))
        return float(np.mean(angles))

    def spine_flexion_deg(self) -> float:
        """Spine flexion above the person's own resting posture, degrees."""
        return float(self.posture.spine_flexion_deg)


def _sagittal(angle: float) -> np.ndarray:
    """Unit vector in the body's sagittal plane: 0 = up, positive tips anterior."""
    return np.array([0.0, np.cos(angle), np.sin(angle)])


def _standing_leg(h: float, lateral: float, shank_tilt: float, knee_flexion: float):
    """Ankle, knee and hip of a planted leg: the shank leans forward, the thigh back by the knee angle."""
    ankle = np.array([lateral, ANKLE_HEIGHT * h, 0.0])
    knee = ankle + _sagittal(shank_tilt) * SHANK * h
    hip = knee + _sagittal(shank_tilt - knee_flexion) * THIGH * h
    return ankle, knee, hip


def _walking_leg(h: float, lateral: float, swing: float):
    """Ankle, knee and hip of a walking leg hanging from a hip over the origin.

    The thigh swings about 20 degrees either way and the knee bends in the
    swing phase; the foot is not kept on the floor, a few centimetres off at
    most, which is good enough for frames where nobody is measured.
    """
    hip = np.array([lateral, (ANKLE_HEIGHT + SHANK + THIGH) * h * 0.985, 0.0])
    thigh_angle = np.radians(20.0) * np.sin(swing)  # + knee ahead of the hip
    knee_flexion = np.radians(5.0 + 35.0 * max(0.0, np.sin(swing + 1.2)))
    knee = hip - _sagittal(-thigh_angle) * THIGH * h
    ankle = knee - _sagittal(knee_flexion - thigh_angle) * SHANK * h
    return ankle, knee, hip


def _elbow(shoulder, hand, upper, fore, outward) -> np.ndarray:
    """Elbow of a two-link arm reaching from shoulder to hand, bending toward ``outward``."""
    reach = hand - shoulder
    distance = min(np.linalg.norm(reach), (upper + fore) * 0.999)
    axis = reach / max(np.linalg.norm(reach), 1e-9)
    along = (upper**2 - fore**2 + distance**2) / (2.0 * distance)
    off = np.sqrt(max(upper**2 - along**2, 0.0))
    bend = outward - np.dot(outward, axis) * axis
    bend /= max(np.linalg.norm(bend), 1e-9)
    return shoulder + axis * along + bend * off


def _skeleton_local(shape: BodyShape, posture: Posture, shank_tilt: float) -> dict[str, np.ndarray]:
    """Joints in the body frame (x left, y up, z anterior) with the ankles' midpoint at x = z = 0.

    ``shank_tilt`` is the forward lean of the shanks (radians) chosen to keep
    balance; walking ignores it.
    """
    h = shape.height_m
    joints: dict[str, np.ndarray] = {}
    hip_rotation = np.radians(posture.hip_flexion_deg)
    for index, side in enumerate(("left", "right")):
        lateral = (1.0 if side == "left" else -1.0) * HIP_HALF_WIDTH * h
        if posture.gait_phase is None:
            ankle, knee, hip = _standing_leg(h, lateral, shank_tilt, np.radians(posture.knee_flexion_deg[index]))
        else:
            ankle, knee, hip = _walking_leg(h, lateral, 2.0 * np.pi * (posture.gait_phase + 0.5 * index))
        joints[f"{side}_ankle"], joints[f"{side}_knee"], joints[f"{side}_hip"] = ankle, knee, hip
        foot_level = ankle[1] - ANKLE_HEIGHT * h
        joints[f"{side}_heel"] = np.array([lateral, foot_level + 0.03 * shape.girth, ankle[2] - 0.25 * FOOT * h])
        joints[f"{side}_toe"] = np.array([lateral, foot_level + 0.025 * shape.girth, ankle[2] + 0.75 * FOOT * h])
    # Both hip joints sit on one pelvis: level them at their mean height and depth.
    hip_centre = 0.5 * (joints["left_hip"] + joints["right_hip"])
    hip_centre[0] = posture.lateral_shift_m
    for side, sign in (("left", 1.0), ("right", -1.0)):
        joints[f"{side}_hip"] = hip_centre + [sign * HIP_HALF_WIDTH * h, 0.0, 0.0]
    joints["hip_centre"] = hip_centre

    # Spine: pelvis, lumbar, lower and upper thorax, neck. Standing, the pelvis
    # segment leans slightly back and the lumbar spine forward (lordosis).
    kyphosis = np.radians(shape.kyphosis_deg)
    spine = np.radians(posture.spine_flexion_deg)
    pelvis_dir = hip_rotation - np.radians(6.0)
    lumbar_dir = pelvis_dir + np.radians(6.0) + 0.45 * spine
    lower_thorax_dir = lumbar_dir + np.radians(2.0) + 0.35 * kyphosis + 0.35 * spine
    upper_thorax_dir = lower_thorax_dir + 0.65 * kyphosis + 0.20 * spine
    # The neck holds the gaze: it extends against kyphosis and the hinge.
    neck_dir = upper_thorax_dir - 0.6 * kyphosis - 0.15 * hip_rotation
    sacrum = hip_centre + _sagittal(pelvis_dir) * PELVIS * h + [0.0, 0.0, -0.035 * h]
    t12 = sacrum + _sagittal(lumbar_dir) * LUMBAR * h
    t7 = t12 + _sagittal(lower_thorax_dir) * LOWER_THORAX * h
    c7 = t7 + _sagittal(upper_thorax_dir) * UPPER_THORAX * h
    head = c7 + _sagittal(neck_dir) * (NECK + HEAD_RADIUS) * h + _sagittal(neck_dir + np.pi / 2) * 0.02 * h
    joints.update(sacrum=sacrum, t12=t12, t7=t7, c7=c7, head=head)
    joints["pelvis_dir"] = _sagittal(pelvis_dir)
    joints["lumbar_dir"] = _sagittal(lumbar_dir)
    joints["lower_thorax_dir"] = _sagittal(lower_thorax_dir)
    joints["upper_thorax_dir"] = _sagittal(upper_thorax_dir)
    joints["neck_dir"] = _sagittal(neck_dir)

    # Shoulder joints sit in front of and below C7, on the upper thorax.
    shoulder_centre = c7 - _sagittal(upper_thorax_dir) * 0.035 * h + _sagittal(upper_thorax_dir + np.pi / 2) * 0.045 * h
    joints["shoulder_centre"] = shoulder_centre
    for side, sign in (("left", 1.0), ("right", -1.0)):
        joints[f"{side}_shoulder"] = shoulder_centre + [sign * SHOULDER_HALF_WIDTH * h, 0.0, 0.0]
    _place_arms(shape, posture, joints)
    return joints


def _place_arms(shape: BodyShape, posture: Posture, joints: dict[str, np.ndarray]) -> None:
    """Hands and elbows for the posture's arm style."""
    h, g = shape.height_m, shape.girth
    pelvis_up = joints["pelvis_dir"]
    for side, sign in (("left", 1.0), ("right", -1.0)):
        shoulder = joints[f"{side}_shoulder"]
        if posture.arms == "hips":
            # Hands on the iliac crests, elbows out and back.
            hand = joints["hip_centre"] + pelvis_up * 0.07 * h + [sign * (0.10 * h * g + 0.02), 0.0, 0.0]
            outward = np.array([sign, 0.0, -0.6])
        elif posture.arms == "stick" and side == "right":
            # Right hand holds the stick behind the neck, elbow up (near the stick: _hold_stick puts it on).
            level, outward = _stick_grip(shape, joints, side)
            hand = level - _sagittal_perp(joints["upper_thorax_dir"]) * 0.09 * g + [sign * 0.05, 0.0, 0.0]
        elif posture.arms == "stick":
            # Left hand holds it behind the lower back.
            level, outward = _stick_grip(shape, joints, side)
            hand = level - _sagittal_perp(joints["lumbar_dir"]) * 0.13 * g
            hand = hand + [sign * 0.04, 0.0, 0.0]
        elif posture.arms == "crossed":
            # Forearms crossed on the chest, each hand on the opposite shoulder's front.
            hand = _chest_front(shape, joints, 0.75, 0.035) + [-sign * 0.075 * h, 0.0, 0.0]
            outward = np.array([0.3 * sign, -1.0, 0.4])  # elbows low, in front of the ribs
        elif posture.arms == "kettlebell_chest":
            # Goblet hold: the bell against the sternum, a hand on each horn of the handle.
            up = joints["upper_thorax_dir"]
            bell = _chest_front(shape, joints, 0.3, KETTLEBELL_RADIUS_M + 0.01)
            joints["load"] = bell
            hand = bell + up * 0.5 * KETTLEBELL_RADIUS_M + [sign * (KETTLEBELL_RADIUS_M + 0.02), 0.0, 0.0]
            outward = np.array([sign, -0.8, 0.2])
        elif posture.arms == "kettlebell_hanging":
            grip = _hanging_grip(shape, joints)
            joints["load"] = grip - [0.0, KETTLEBELL_HANDLE_M + KETTLEBELL_RADIUS_M, 0.0]
            hand = grip + [sign * 0.045, 0.0, 0.0]
            outward = np.array([sign * 0.3, 0.0, -1.0])
        else:  # hanging at the sides, swinging a little when walking
            phase = 0.0 if posture.gait_phase is None else posture.gait_phase + 0.5 * (side == "left")
            swing = 0.25 * np.sin(2 * np.pi * phase)
            reach = (UPPER_ARM + FOREARM) * h * 0.97
            hand = shoulder + np.array([sign * 0.03, -reach * np.cos(swing), reach * np.sin(swing)])
            outward = np.array([0.0, 0.0, -1.0])
        joints[f"{side}_hand"] = hand
        joints[f"{side}_elbow"] = _elbow(shoulder, hand, UPPER_ARM * h, FOREARM * h, outward)


def _chest_front(shape: BodyShape, joints: dict[str, np.ndarray], up_share: float, clearance_m: float) -> np.ndarray:
    """A point ``clearance_m`` in front of the upper chest's skin, ``up_share`` of the way from T7 to C7.

    The depth is the upper-thorax surface's own (see :func:`_surface`), so
    hands and loads rest on the chest whatever the build.
    """
    h, g = shape.height_m, shape.girth
    level = joints["t7"] + up_share * (joints["c7"] - joints["t7"])
    depth = (0.058 * min(g, 1.1) + 0.064 * g) * h
    return level + _sagittal_perp(joints["upper_thorax_dir"]) * (depth + clearance_m)


def _hanging_grip(shape: BodyShape, joints: dict[str, np.ndarray]) -> np.ndarray:
    """Where both hands hold a kettlebell on straight-ish hanging arms (body frame).

    The arms hang plumb from the shoulders, pushed just far enough forward
    that the bell clears the front of the thighs, and bend at the elbows so
    the bell never reaches the floor in a deep hinge.
    """
    h, g = shape.height_m, shape.girth
    shoulder = joints["shoulder_centre"]
    reach = (UPPER_ARM + FOREARM) * h * 0.97
    knee = 0.5 * (joints["left_knee"] + joints["right_knee"])
    hip = joints["hip_centre"]
    forward = 0.0
    for _ in range(3):  # the bell's height depends on how far forward it hangs
        drop = np.sqrt(max(reach**2 - forward**2, 0.0))
        bell_y = shoulder[1] - drop - KETTLEBELL_HANDLE_M - KETTLEBELL_RADIUS_M
        along = np.clip((hip[1] - bell_y) / max(hip[1] - knee[1], 1e-6), 0.0, 1.0)
        thigh_front = hip[2] + along * (knee[2] - hip[2]) + 0.046 * h * g
        forward = max(0.0, thigh_front + KETTLEBELL_RADIUS_M + 0.01 - shoulder[2])
        forward = min(forward, 0.9 * reach)
    drop = np.sqrt(max(reach**2 - forward**2, 0.0))
    lowest = KETTLEBELL_HANDLE_M + 2.0 * KETTLEBELL_RADIUS_M + 0.03  # the floor is at y = 0
    return np.array([0.0, max(shoulder[1] - drop, lowest), shoulder[2] + forward])


def _sagittal_perp(direction: np.ndarray) -> np.ndarray:
    """The anterior normal of a sagittal direction (rotated +90 degrees)."""
    return np.array([0.0, -direction[2], direction[1]])


def _centre_of_mass(joints: dict[str, np.ndarray], h: float, load_share: float = 0.0) -> np.ndarray:
    """Whole-body centre of mass (body frame) from segment centres and Winter's mass fractions.

    ``load_share`` is the mass of a held load (at ``joints["load"]``) as a
    fraction of body mass.
    """
    total = np.zeros(3)
    mass = 0.0

    def add(point, m):
        nonlocal total, mass
        total = total + m * point
        mass += m

    for side in ("left", "right"):
        add(0.5 * (joints[f"{side}_heel"] + joints[f"{side}_toe"]), MASS["foot"])
        add(0.5 * (joints[f"{side}_ankle"] + joints[f"{side}_knee"]), MASS["shank"])
        add(0.5 * (joints[f"{side}_knee"] + joints[f"{side}_hip"]), MASS["thigh"])
        add(0.5 * (joints[f"{side}_shoulder"] + joints[f"{side}_elbow"]), MASS["upper_arm"])
        add(0.5 * (joints[f"{side}_elbow"] + joints[f"{side}_hand"]), MASS["forearm"])
        add(joints[f"{side}_hand"], MASS["hand"])
    # The spine runs along the back; each trunk segment's mass lies in front of it.
    add(joints["hip_centre"] + joints["pelvis_dir"] * 0.04 * h, MASS["pelvis"])
    add(0.5 * (joints["sacrum"] + joints["t12"]) + _sagittal_perp(joints["lumbar_dir"]) * 0.05 * h, MASS["abdomen"])
    add(0.5 * (joints["t12"] + joints["c7"]) + _sagittal_perp(joints["lower_thorax_dir"]) * 0.055 * h, MASS["thorax"])
    add(joints["head"], MASS["head"])
    if load_share > 0.0 and "load" in joints:
        add(joints["load"], load_share)
    return total / mass


def load_share(shape: BodyShape, posture: Posture) -> float:
    """The held load's mass as a fraction of the body's (0 without a load)."""
    return posture.load_kg / shape.mass_kg if posture.carries_load else 0.0


def _balanced_shank_tilt(shape: BodyShape, posture: Posture) -> float:
    """Shank lean that puts the centre of mass over the middle of the feet.

    Real people keep balance in a hinge by moving the hips back as the trunk
    tips forward; solving for the shank angle reproduces that. Bisection on a
    monotonic function of one angle: a few dozen skeleton builds a frame.
    """
    foot_centre = 0.25 * FOOT * shape.height_m  # midpoint of heel and toe, ahead of the ankle

    def excess(tilt):
        joints = _skeleton_local(shape, posture, tilt)
        return _centre_of_mass(joints, shape.height_m, share)[2] - foot_centre

    share = load_share(shape, posture)

    low, high = np.radians(-25.0), np.radians(50.0)
    if excess(low) > 0:
        return low
    if excess(high) < 0:
        return high
    for _ in range(20):  # to within 0.0001 degrees
        middle = 0.5 * (low + high)
        if excess(middle) > 0:
            high = middle
        else:
            low = middle
    return 0.5 * (low + high)


def _surface(shape: BodyShape, joints: dict[str, np.ndarray], limbs: bool = True) -> list[tuple[str, object]]:
    """Ellipsoids and capsules that make the body's skin, in the body frame (the trunk and head alone
    without ``limbs``)."""
    h, g = shape.height_m, shape.girth
    parts: list[tuple[str, object]] = []

    def frame(axis_up: np.ndarray) -> np.ndarray:
        """Rotation whose columns are lateral (x), the segment axis and its anterior normal."""
        up = axis_up / np.linalg.norm(axis_up)
        lateral = np.array([1.0, 0.0, 0.0])
        lateral = lateral - np.dot(lateral, up) * up
        lateral /= np.linalg.norm(lateral)
        anterior = np.cross(lateral, up)
        return np.column_stack([lateral, up, anterior])

    pelvis_frame = frame(joints["pelvis_dir"])
    hip_centre = joints["hip_centre"]
    # Pelvis block and the two buttocks, which sit behind and below the hip joints.
    parts.append(("pelvis", Ellipsoid(hip_centre + pelvis_frame @ [0.0, 0.045 * h, -0.01 * h],
                                      pelvis_frame, np.array([0.098 * h, 0.060 * h, 0.058 * h]) * [g, 1.0, g])))
    for sign in (1.0, -1.0):
        centre = hip_centre + pelvis_frame @ [sign * 0.036 * h * g, -0.012 * h, -0.030 * h * g]
        parts.append(("buttock", Ellipsoid(centre, pelvis_frame, np.array([0.050, 0.058, 0.046]) * h * g)))
    lumbar_frame = frame(joints["lumbar_dir"])
    belly = shape.belly
    parts.append(("abdomen", Ellipsoid(0.5 * (joints["sacrum"] + joints["t12"]) + lumbar_frame @ [0.0, 0.0, 0.045 * h * g * belly],
                                       lumbar_frame, np.array([0.090 * h * g, 0.075 * h, 0.062 * h * g * belly]))))
    for name, a, b in (("lower_thorax_dir", "t12", "t7"), ("upper_thorax_dir", "t7", "c7")):
        thorax_frame = frame(joints[name])
        parts.append(("thorax", Ellipsoid(0.5 * (joints[a] + joints[b]) + thorax_frame @ [0.0, 0.0, 0.058 * h * min(g, 1.1)],
                                          thorax_frame, np.array([0.095 * h * min(g, 1.15), 0.062 * h, 0.064 * h * g]))))
    parts.append(("neck", Capsule(joints["c7"], joints["head"] - joints["neck_dir"] * HEAD_RADIUS * h, 0.030 * h)))
    head_frame = frame(joints["neck_dir"])
    parts.append(("head", Ellipsoid(joints["head"], head_frame, np.array([0.046, 0.060, 0.055]) * h)))
    if not limbs:
        return parts
    for side in ("left", "right"):
        hip, knee, ankle = joints[f"{side}_hip"], joints[f"{side}_knee"], joints[f"{side}_ankle"]
        thigh_mid = 0.5 * (hip + knee)
        parts.append(("thigh", Capsule(hip + 0.15 * (knee - hip), thigh_mid, 0.046 * h * g)))
        parts.append(("thigh", Capsule(thigh_mid, knee, 0.036 * h * g)))
        parts.append(("shank", Capsule(knee, 0.5 * (knee + ankle), 0.030 * h * g)))
        parts.append(("shank", Capsule(0.5 * (knee + ankle), ankle, 0.022 * h * g)))
        parts.append(("foot", Capsule(joints[f"{side}_heel"], joints[f"{side}_toe"], 0.022 * h)))
        parts.append(("upper_arm", Capsule(joints[f"{side}_shoulder"], joints[f"{side}_elbow"], 0.026 * h * g)))
        parts.append(("forearm", Capsule(joints[f"{side}_elbow"], joints[f"{side}_hand"], 0.020 * h * g)))
        parts.append(("hand", Ellipsoid(joints[f"{side}_hand"], np.eye(3), np.array([0.030, 0.045, 0.030]) * h / 1.7)))
    return parts


def _stick_on_back(shape: BodyShape, posture: Posture, joints: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The ends of a dowel held along the back (body frame, m): on its outline, and stopped by the wall.

    A dowel pressed to the back rests where a straight edge would: on the
    posterior outline of the pelvis and buttocks below and of the upper back
    or head above (the line tangent to both, in the midline), clear of the
    hollow of the lower back between them. Its lower end is at the lower
    contact, its upper end ``STICK_LENGTH_M`` above. Where that would pass
    through the drill wall (the hips at the wall, the stick's end at their
    height), the wall pushes the dowel up through the hands: its lower end
    slides up along its own line until it clears the wall.
    """
    surface = _surface(shape, joints, limbs=False)
    trunk = [part for name, part in surface if name in STICK_RESTS_ON]
    lower = [part for name, part in surface if name in ("pelvis", "buttock")]
    upper = [part for name, part in surface if name in ("thorax", "neck", "head")]
    # Candidate lines along the back within 45 degrees of the trunk's own line (0 = up, positive tips
    # anterior), and their posterior normals.
    trunk_line = joints["shoulder_centre"] - joints["hip_centre"]
    lean = np.arctan2(trunk_line[2], trunk_line[1])
    angles = lean + np.radians(np.linspace(-45.0, 45.0, 181))
    backward = np.stack([np.zeros_like(angles), np.sin(angles), -np.cos(angles)])

    def reach(parts):  # how far behind each line's origin the parts' outline reaches (m), per candidate
        return np.max([-part.min_along(-backward) for part in parts], axis=0)

    # Tipping the line forward brings the upper back out behind it and the pelvis in: one crossing.
    excess = reach(upper) - reach(lower)
    k = int(np.clip(np.argmax(excess >= 0.0), 1, len(angles) - 1))
    share = excess[k - 1] / (excess[k - 1] - excess[k]) if excess[k - 1] != excess[k] else 0.0
    angle = angles[k - 1] + share * (angles[k] - angles[k - 1])
    axis, normal = _sagittal(angle), -_sagittal_perp(_sagittal(angle))
    offset = max(-part.min_along(-normal) for part in trunk) + STICK_RADIUS_M
    resting = max(lower, key=lambda part: -part.min_along(-normal))  # the part of the hips it rests on
    low = offset * normal + (resting.farthest_along(normal) @ axis) * axis
    # The wall (room z = 0) in the body frame: room z = cos(yaw) z + z_m on the midline (x = 0).
    cos_yaw = np.cos(np.radians(posture.yaw_deg))
    room_z = cos_yaw * low[2] + posture.z_m
    if room_z < STICK_RADIUS_M and axis[2] * cos_yaw > 1e-6:
        low = low + axis * min((STICK_RADIUS_M - room_z) / (axis[2] * cos_yaw), 0.5 * STICK_LENGTH_M)
    return low, low + axis * STICK_LENGTH_M


def _stick_grip(shape: BodyShape, joints: dict[str, np.ndarray], side: str) -> tuple[np.ndarray, np.ndarray]:
    """Where a hand holds a stick along the back, as a point of the spine at its height (m), and the way
    its elbow bends: the right behind the neck, elbow up; the left at the lumbar curve, elbow out and back."""
    if side == "right":
        return joints["c7"], np.array([-1.0, 0.8, 0.0])
    return joints["sacrum"] + joints["pelvis_dir"] * 0.06 * shape.height_m, np.array([1.0, 0.0, -0.6])


def _hold_stick(shape: BodyShape, posture: Posture, joints: dict[str, np.ndarray]) -> None:
    """Put the dowel on the back and both hands on it: the right behind the neck, the left at the waist.

    The hands' first places (:func:`_place_arms`, used to balance the body)
    are near the dowel, not on it; here they move onto it, at the heights of
    C7 and of the lumbar curve (:func:`_stick_grip`).
    """
    low, high = _stick_on_back(shape, posture, joints)
    joints["stick_low"], joints["stick_high"] = low, high
    axis = (high - low) / np.linalg.norm(high - low)
    h = shape.height_m
    for side, sign in (("right", -1.0), ("left", 1.0)):
        level, outward = _stick_grip(shape, joints, side)
        along = max((level - low) @ axis, 0.0)
        hand = low + along * axis + [sign * 0.04, 0.0, 0.0]
        joints[f"{side}_hand"] = hand
        joints[f"{side}_elbow"] = _elbow(joints[f"{side}_shoulder"], hand, UPPER_ARM * h, FOREARM * h, outward)


def pose_body(shape: BodyShape, posture: Posture) -> Body:
    """Build the posed body in the room frame."""
    tilt = _balanced_shank_tilt(shape, posture) if posture.gait_phase is None else 0.0
    local = _skeleton_local(shape, posture, tilt)
    if posture.arms == "stick":
        _hold_stick(shape, posture, local)
    surface = _surface(shape, local)
    if posture.arms == "stick":
        surface.append(("stick", Capsule(local["stick_low"], local["stick_high"], STICK_RADIUS_M)))
    if "load" in local:
        surface.append(("load", Ellipsoid(local["load"], np.eye(3), np.full(3, KETTLEBELL_RADIUS_M))))
    yaw = np.radians(posture.yaw_deg)
    rotation = np.array([[np.cos(yaw), 0.0, np.sin(yaw)], [0.0, 1.0, 0.0], [-np.sin(yaw), 0.0, np.cos(yaw)]])
    offset = np.array([posture.x_m, 0.0, posture.z_m])
    joints = {name: (rotation @ v if name.endswith("_dir") else rotation @ v + offset) for name, v in local.items()}
    primitives = [(part, primitive.transformed(rotation, offset)) for part, primitive in surface]
    return Body(shape, posture, joints, primitives)
