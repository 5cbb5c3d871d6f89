"""The back's curvature per frame, spine flexion against the set's baseline, and rounded_back in reps."""

import numpy as np
import pytest

from station.measure import Measures
from station.reps import RepDetector, RepDone
from station.setup import BACK_IN_VIEW, SetupSettings, back_check
from station.spine import SpineBaseline, back_curvature

HIP_Y = 0.9  # buttocks' height of a 1.8 m person (stature read as hip height / 0.5)


def trunk_points(bend_deg: float, *, back_shown: bool = True) -> np.ndarray:
    """A side view of an upright trunk whose back outline bends forward by ``bend_deg`` above mid-trunk.

    The wall is at z = 0; the back faces it. Points fill the body from the
    back outline to 0.25 m in front of it, 0.3 m across, 1 cm apart.
    """
    stature = HIP_Y / 0.5
    heights = np.arange(-0.05, 0.35 * stature, 0.01)
    # The outline leans forward (away from the wall) by the bend above the middle.
    middle = 0.175 * stature
    back_z = 0.3 + np.where(heights > middle, (heights - middle) * np.tan(np.radians(bend_deg)), 0.0)
    depth = np.arange(0.0 if back_shown else 0.12, 0.25, 0.01)
    across = np.arange(-0.15, 0.151, 0.03)
    u, d, x = np.meshgrid(heights, depth, across, indexing="ij")
    z = np.broadcast_to(back_z[:, None, None], u.shape) + d
    return np.column_stack([x.ravel(), HIP_Y + u.ravel(), z.ravel()])


def test_a_back_bending_forward_reads_its_bend_and_a_straight_back_reads_none():
    straight = back_curvature(trunk_points(0.0), HIP_Y, 0.0)
    bent = back_curvature(trunk_points(30.0), HIP_Y, 0.0)
    assert straight.reason is None and bent.reason is None
    assert abs(straight.curvature_deg) < 2.0
    # Lines fitted to each half: the upper half turns by the bend.
    assert bent.curvature_deg == pytest.approx(30.0, abs=6.0)


def test_a_back_the_camera_cannot_see_gives_no_curvature_and_says_why():
    points = trunk_points(0.0)
    # Take the back away in the upper half only: an arm in front of it.
    upper_back = (points[:, 1] > HIP_Y + 0.2) & (points[:, 2] < 0.42)
    half_hidden = back_curvature(points[~upper_back], HIP_Y, 0.0)
    assert half_hidden.curvature_deg is None and "hidden" in half_hidden.reason
    assert back_curvature(points, HIP_Y, None).reason == "trunk not measured"
    # A body whose back is all missing shows only its front's flat outline: no bend, not a fault.
    assert abs(back_curvature(trunk_points(0.0, back_shown=False), HIP_Y, 0.0).curvature_deg) < 2.0


def test_spine_flexion_is_against_the_sets_first_still_moment():
    baseline = SpineBaseline()
    for t in np.arange(0.0, 1.0, 1 / 30):
        baseline.observe(t, 28.0)  # a kyphotic senior's back, standing
    assert baseline.relative(28.0) is None  # no baseline before a still moment
    baseline.settle(0.5)
    assert baseline.relative(28.0) == pytest.approx(0.0)
    assert baseline.relative(48.0) == pytest.approx(20.0)
    assert baseline.relative(None) is None
    baseline.settle(0.9)  # later still moments do not move it
    baseline.observe(1.0, 40.0)
    baseline.settle(1.0)
    assert baseline.baseline_deg == pytest.approx(28.0)
    baseline.reset()
    assert baseline.relative(28.0) is None


def _set(bends_deg, *, resting_curvature_deg):
    """Measures of a set at 30 fps: 2 s standing still, then a 4 s hinge per bend, 1.5 s apart."""
    fps = 30
    frames = []
    t = 0.0

    def add(trunk, gap, curvature):
        nonlocal t
        frames.append((t, Measures(present=True, confidence=1.0, wall_gap_mm=gap, trunk_angle_deg=trunk,
                                   knee_flexion_deg=8.0, position_x_m=0.0, back_curvature_deg=curvature)))
        t += 1 / fps

    for _ in range(2 * fps):
        add(2.0, 120.0, resting_curvature_deg)
    for bend in bends_deg:
        for phase in np.linspace(0.0, 1.0, 4 * fps):
            depth = np.sin(np.pi * phase)  # down and up again, smoothly
            add(2.0 + 50.0 * depth, 120.0 * (1.0 - depth), resting_curvature_deg + bend * depth)
        for _ in range(int(1.5 * fps)):
            add(2.0, 120.0, resting_curvature_deg)
    return frames


@pytest.mark.parametrize("resting", [0.0, 30.0])
def test_a_rounded_rep_is_named_and_a_kyphotic_seniors_good_rep_is_not(resting):
    detector = RepDetector(back_checked=True)
    reps = []
    for t, measures in _set([3.0, 25.0, 2.0], resting_curvature_deg=resting):
        reps += [event.rep for event in detector.update(t, measures) if isinstance(event, RepDone)]
    assert len(reps) == 3
    assert ["rounded_back" in rep.faults for rep in reps] == [False, True, False]
    assert reps[1].peak_spine_flexion_deg == pytest.approx(25.0, abs=1.5)


def test_without_a_view_of_the_back_the_detector_reports_no_spine_flexion():
    detector = RepDetector()  # back_checked False: the reference side mount, hands on hips
    reps = []
    for t, measures in _set([25.0], resting_curvature_deg=0.0):
        reps += [event.rep for event in detector.update(t, measures) if isinstance(event, RepDone)]
    assert len(reps) == 1
    assert reps[0].peak_spine_flexion_deg is None and "rounded_back" not in reps[0].faults


def test_the_setup_says_whether_the_back_can_be_checked():
    checked, why = back_check("side", "hips")
    assert not checked and "hide the back" in why
    assert ("side", "crossed") not in BACK_IN_VIEW  # the study: both halves of the back in 15% of frames
    checked, why = back_check("side+wall-above", "hips")
    assert checked and "validated" in why
    checked, why = back_check("side+wall-above", "crossed")  # short seniors' forearms: no standing baseline
    assert not checked and "accuracy targets" in why
    for variant in ("stick", "kettlebell_chest"):  # measured on every set of seeds, short of the targets
        checked, why = back_check("side+wall-above", variant)
        assert not checked and "accuracy targets" in why, variant
    for placement, variant in [("side", "hips"), ("side+wall-above", "stick")]:  # screens a clinician reads
        assert "docs/" not in back_check(placement, variant)[1]
    assert not SetupSettings().back_checked
    with pytest.raises(ValueError, match="setup.placement"):
        SetupSettings(placement="behind")
    with pytest.raises(ValueError, match="setup.drill_variant"):
        SetupSettings(drill_variant="dumbbell")


def test_the_setups_names_are_the_simulators():
    from station.setup import DRILL_VARIANTS, PLACEMENTS
    from station.sim.body import ARM_STYLES
    from station.sim.placements import PLACEMENTS as SIMULATED

    for placement in PLACEMENTS:
        assert set(placement.split("+")) <= set(SIMULATED), placement
    assert set(SIMULATED) <= set(PLACEMENTS)
    assert set(DRILL_VARIANTS) == set(ARM_STYLES) - {"sides"}  # "sides": bystanders, not the drill
