"""``wallhinge analyze``: a recording through measurement and rep detection to the JSON contract.

The same path as the live station without the fan-out (camera source ->
:func:`station.frame_step.step`, the live loop's own frame step), so an
analysis of a session's recording says what the station said live.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from station.calibration_model import Calibration
from station.camera_check import camera_moved
from station.errors import WallHingeError
from station.faults import Thresholds
from station.frame_step import OPENING_S, calibrate_from_opening, frame_record, step
from station.measure import Measurer
from station.reps import RepDetector, RepSettings

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
        measures, _ = step(measurer, detector, frame.timestamp_s, frame.depth)
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
