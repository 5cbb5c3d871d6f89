"""One frame's way through the core, and the opening calibration: shared by the live loop and ``wallhinge analyze``.

The live session (:mod:`station.session`) and the offline analysis
(:mod:`station.analyze`) both call :func:`step` on every frame and
:func:`calibrate_from_opening` on a recording's or a camera's empty
opening, so what the station says live is what an analysis of the same
recording says.
"""

from __future__ import annotations

import dataclasses

from station.calibration import calibrate
from station.calibration_model import Calibration
from station.errors import CalibrationError, WallHingeError
from station.measure import ABSENT, FrameError, Measurer
from station.reps import RepDetector
from station.setup import BACK_NOT_VALIDATED

# The opening of a recording that shows the empty scene (s). The station's
# recordings start with the drill area empty while it calibrates.
OPENING_S = 2.0
MIN_OPENING_FRAMES = 10


def step(measurer: Measurer, detector: RepDetector, t_s: float, depth, back=None, back_depth=None, *,
         judge_back: bool = False, unjudged_reason: str = BACK_NOT_VALIDATED):
    """Measure one depth frame at ``t_s`` (s) and feed the rep detector: (measures, the detector's events).

    With two cameras, ``back`` reads the camera above
    (:class:`~station.back_camera.BackReader` or
    :class:`~station.back_phase.BackPhase`): the spine flexion of
    ``back_depth``, its frame paired with this one (or None), goes into the
    measures before the rep detector has them, and ``back`` then follows the
    detector's events (its standing baseline). The detector judges the back
    (``rounded_back``) by that reading only with ``judge_back``, a set-up
    whose back check is validated (:mod:`station.setup`); otherwise it sees no
    spine flexion and every rep's back stays "not checked", for
    ``unjudged_reason`` (the live loop's: the camera above's trouble, or the
    set-up's).
    """
    try:
        measures = measurer.measure(depth, t_s)
    except FrameError:
        # A frame with no depth at all (covered lens, dropout) shows nobody.
        measures = ABSENT
    if back is None:
        return measures, detector.update(t_s, measures)
    measures = back.read_into(t_s, back_depth, measures)
    # Not judged: why is every such frame's reason, so the reps say why their back was not checked.
    judged = measures if judge_back else dataclasses.replace(measures, spine_flexion_deg=None,
                                                             back_reason=unjudged_reason)
    events = detector.update(t_s, judged)
    back.follow(events)
    return measures, events


def frame_record(t_s: float, measures, setup_note: str | None = None) -> dict:
    """One entry of the contract's ``frames`` list (seconds, mm, degrees; None where not measured).

    ``hidden`` (a key the contract allows adding) says why measures are None
    while the patient is there: someone in front of them or of their hips.
    ``view_note`` (another) says when they are read off less of the patient
    than they need: the head above the picture. ``setup_note`` (another) is
    the rep detector's :attr:`~station.reps.RepDetector.setup_note`: what in
    the set-up keeps a rep from being told (the wall gap at the wall while the patient stands).
    """
    def rounded(value):
        return None if value is None else round(float(value), 1)
    return {"t_s": round(float(t_s), 3), "present": bool(measures.present),
            "confidence": round(float(measures.confidence), 2),
            "wall_gap_mm": rounded(measures.wall_gap_mm), "trunk_angle_deg": rounded(measures.trunk_angle_deg),
            "knee_flexion_deg": rounded(measures.knee_flexion_deg),
            "spine_flexion_deg": rounded(measures.spine_flexion_deg), "hidden": measures.hidden_reason,
            "view_note": measures.view_note, "setup_note": setup_note}


def calibrate_frames(frames, label: str) -> Calibration:
    """The room frame from ``frames`` of the empty scene (DepthFrames of one camera); ``label`` names the source.

    Raises
    ------
    WallHingeError
        No frames.
    CalibrationError
        The floor or the wall cannot be fitted.
    """
    if not frames:
        raise WallHingeError(f"{label} has no depth frames")
    first = frames[0]
    return calibrate([frame.depth for frame in frames], first.intrinsics, first.depth_unit_m, source=label)


def calibrate_from_opening(frames, label: str) -> Calibration:
    """Calibrate from the empty scene at the start of ``frames`` (the first :data:`OPENING_S`)."""
    opening = [frame for frame in frames if frame.timestamp_s < OPENING_S]
    if not frames:
        raise WallHingeError(f"{label} has no depth frames")
    if len(opening) < MIN_OPENING_FRAMES:
        raise WallHingeError(f"{label} has {len(opening)} frames in its first {OPENING_S:g} s, too few to "
                             f"calibrate from (at least {MIN_OPENING_FRAMES}): pass --calibration FILE")
    try:
        return calibrate_frames(opening, label)
    except CalibrationError as error:
        raise WallHingeError(f"cannot calibrate from the opening of {label} ({error}); "
                             "record the empty scene first, or pass --calibration FILE") from None
