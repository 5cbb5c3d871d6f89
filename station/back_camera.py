"""Spine flexion per frame from the camera above the spot (the pair ``side+wall-above``): calibration to reading.

Glue, no new measurement: :func:`back_reader_from_opening` calibrates the
camera above from its empty opening (:mod:`station.above_calibration`) and
:class:`BackReader` gives each of its frames to :mod:`station.spine_above`
(the points in the column over the spot, the back's turn, and the turn
against the patient's own standing one).

The standing baseline is taken over the second before the rep detector
announces the set's first rep (its :class:`~station.reps.RepStarted`; the
next rep's, if too few frames of that second read the back or they
disagree: :class:`~station.spine_above.AboveBaseline`): the
detector's own still moment is internal to it while the back check is off
(``station/setup.py``), and the announcement comes some frames into the
descent, so that second can hold the first few degrees of the hinge (a rep
told only at its held bottom, in a set begun before the patient stood still,
gives none: the next rep's does). The
first hinge then moves it to the turn read with the back facing the camera
(:class:`~station.spine_above.AboveBaseline`, within a few degrees).
"""

from __future__ import annotations

import dataclasses

from station.above_calibration import AboveCalibration, calibrate_above
from station.errors import CalibrationError, WallHingeError
from station.frame_step import MIN_OPENING_FRAMES, OPENING_S
from station.reps import PatientLeft, RepStarted
from station.spine import BackReading
from station.spine_above import AboveBaseline, AboveView, back_turn

#: The reason a frame has no spine reading when the camera above had no frame paired with it.
NO_BACK_FRAME = "no frame from the camera above within half a frame"
#: ... when the side camera sees nobody at the spot (the camera above is not read then).
NOBODY = "nobody at the spot"
#: ... and when the back was read but there is no standing turn to compare it with yet.
NO_BASELINE = "no standing baseline yet"


class BackReader:
    """Spine flexion, frame by frame, from the camera above's depth frames (degrees, + rounding)."""

    def __init__(self, calibration: AboveCalibration):
        self.calibration = calibration
        self.view = AboveView(calibration.intrinsics, calibration.camera_pose, calibration.depth_unit_m,
                              background_m=calibration.background_m)
        self.baseline = AboveBaseline()

    def follow(self, events) -> None:
        """The rep detector's events for this frame: a rep settles the baseline until one is set; a patient leaving clears it."""
        for event in events:
            # A rep told at its held bottom (a set begun at once) follows no standing second.
            if isinstance(event, RepStarted) and event.from_standing and self.baseline.baseline_deg is None:
                self.baseline.settle(event.t_s - self.baseline.window_s)
            elif isinstance(event, PatientLeft):
                self.baseline.reset()

    def read(self, t_s: float, depth, present: bool = True) -> tuple[float | None, str | None]:
        """(spine flexion in degrees or None, the reason when None) of the back frame paired with time ``t_s`` (s).

        ``present`` is the side camera's word that the patient is at the spot.
        """
        if not present:
            return None, NOBODY
        if depth is None:
            return None, NO_BACK_FRAME
        points = self.view.points(depth)
        stature = self.baseline.stature_for(t_s, points)
        reading = back_turn(points, stature) if stature is not None else BackReading(None, "no stature")
        self.baseline.observe(t_s, reading.curvature_deg, reading.lean_deg)
        if reading.curvature_deg is None:
            return None, reading.reason
        flexion = self.baseline.relative(reading.curvature_deg)
        if flexion is not None:
            return flexion, None
        refusal = self.baseline.refusal
        return None, NO_BASELINE if refusal is None else f"{NO_BASELINE}: {refusal}"

    def read_into(self, t_s: float, depth, measures):
        """``measures`` of the side camera's frame at ``t_s`` (s) with the paired back frame's spine flexion and its reason.

        ``depth`` is the camera above's frame paired with it, or None. Called
        before the rep detector has the frame (:func:`station.frame_step.step`,
        by ``wallhinge analyze`` and the live loop alike), and :meth:`follow`
        with the detector's events after.
        """
        spine, reason = self.read(t_s, depth, measures.present)
        return dataclasses.replace(measures, spine_flexion_deg=spine, back_reason=reason)


def back_reader_from_opening(frames, label: str) -> BackReader:
    """A reader calibrated from the camera above's frames (DepthFrames) of the empty opening.

    Raises
    ------
    WallHingeError
        Too few frames, or no floor or wall's foot to calibrate from: one line naming ``label``.
    """
    if len(frames) < MIN_OPENING_FRAMES:
        raise WallHingeError(f"{label} has {len(frames)} frames paired in the first {OPENING_S:g} s, too few to "
                             f"calibrate the camera above from (at least {MIN_OPENING_FRAMES})")
    first = frames[0]
    try:
        calibration = calibrate_above([frame.depth for frame in frames], first.intrinsics, first.depth_unit_m,
                                      source=label)
    except CalibrationError as error:
        raise WallHingeError(f"cannot calibrate the camera above from the opening of {label} ({error})") from None
    return BackReader(calibration)
