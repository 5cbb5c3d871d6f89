"""``wallhinge analyze``: a recording through measurement and rep detection to the JSON contract.

The same path as the live station without the fan-out (camera source ->
:class:`~station.measure.Measurer` -> :class:`~station.reps.RepDetector`), so
an analysis of a session's recording says what the station said live.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from station.calibration import Calibration, CalibrationError, calibrate, camera_moved
from station.errors import WallHingeError
from station.faults import Thresholds
from station.measure import ABSENT, FrameError, Measurer
from station.reps import RepDetector, RepSettings

# The opening of a recording that shows the empty scene (s). The station's
# recordings start with the drill area empty while it calibrates.
OPENING_S = 2.0
MIN_OPENING_FRAMES = 10


@dataclass
class Analysis:
    """What :func:`analyze_frames` found: the reps, the per-frame measures and the calibration used."""

    reps: list
    frames: list
    calibration: Calibration

    def as_json(self, *, with_frames: bool = False) -> dict:
        result = {"reps": [rep.as_dict() for rep in self.reps]}
        if with_frames:
            result["frames"] = self.frames
        return result


def frame_record(t_s: float, measures) -> dict:
    """One entry of the contract's ``frames`` list (seconds, mm, degrees; None where not measured)."""
    def rounded(value):
        return None if value is None else round(float(value), 1)
    return {"t_s": round(float(t_s), 3), "present": bool(measures.present),
            "confidence": round(float(measures.confidence), 2),
            "wall_gap_mm": rounded(measures.wall_gap_mm), "trunk_angle_deg": rounded(measures.trunk_angle_deg),
            "knee_flexion_deg": rounded(measures.knee_flexion_deg),
            "spine_flexion_deg": rounded(measures.spine_flexion_deg)}


def calibrate_from_opening(frames, label: str) -> Calibration:
    """Calibrate from the empty scene at the start of ``frames`` (the first :data:`OPENING_S`)."""
    opening = [frame for frame in frames if frame.timestamp_s < OPENING_S]
    if not frames:
        raise WallHingeError(f"{label} has no depth frames")
    if len(opening) < MIN_OPENING_FRAMES:
        raise WallHingeError(f"{label} has {len(opening)} frames in its first {OPENING_S:g} s, too few to "
                             f"calibrate from (at least {MIN_OPENING_FRAMES}): pass --calibration FILE")
    first = opening[0]
    try:
        return calibrate([frame.depth for frame in opening], first.intrinsics, first.depth_unit_m, source=label)
    except CalibrationError as error:
        raise WallHingeError(f"cannot calibrate from the opening of {label} ({error}); "
                             "record the empty scene first, or pass --calibration FILE") from None


def analyze_frames(frames, label: str, *, calibration: Calibration | None = None,
                   thresholds: Thresholds = Thresholds(), settings: RepSettings = RepSettings()) -> Analysis:
    """Measure every frame of ``frames`` (an iterable of DepthFrame, read once) and find the reps.

    Without ``calibration`` it is made from the frames' empty opening (held
    until then; the rest streams through, so memory does not grow with the
    recording's length). With one, it must fit: the same resolution, and
    the camera where it was.
    """
    frames = iter(frames)
    opening = []
    if calibration is None:
        for frame in frames:
            opening.append(frame)
            if frame.timestamp_s >= OPENING_S:
                break
        calibration = calibrate_from_opening(opening, label)
    else:
        opening = [next(frames, None)]
        if opening[0] is None:
            raise WallHingeError(f"{label} has no depth frames")
        _check_fits(calibration, opening[0].depth, label)
    measurer = Measurer(calibration)
    detector = RepDetector(thresholds, settings)
    records = []
    last_s = 0.0
    for frame in itertools.chain(opening, frames):
        try:
            measures = measurer.measure(frame.depth, frame.timestamp_s)
        except FrameError:
            # A frame with no depth at all (covered lens, dropout) shows nobody.
            measures = ABSENT
        detector.update(frame.timestamp_s, measures)
        records.append(frame_record(frame.timestamp_s, measures))
        last_s = frame.timestamp_s
    detector.finish(last_s)
    return Analysis(reps=detector.reps, frames=records, calibration=calibration)


def _check_fits(calibration: Calibration, depth, label: str) -> None:
    intrinsics = calibration.intrinsics
    if depth.shape != (intrinsics.height, intrinsics.width):
        raise WallHingeError(f"{label} is {depth.shape[1]}x{depth.shape[0]} but the calibration is for "
                             f"{intrinsics.width}x{intrinsics.height}: calibrate at this resolution")
    moved = camera_moved(calibration, depth)
    if moved is not None:
        raise WallHingeError(f"the calibration does not fit {label}: {moved}")
