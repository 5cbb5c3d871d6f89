"""``wallhinge analyze``: a recording through measurement and rep detection to the JSON contract.

The same path as the live station without the fan-out (camera source ->
:func:`station.frame_step.step`, the live loop's own frame step), so an
analysis of a session's recording says what the station said live.

With the two-camera set-up (``side+wall-above``), the camera above's frames
come paired with the side camera's (:func:`station.camera_pair.paired_frames`);
the camera above is calibrated from its own empty opening and each paired
frame gives that frame's spine flexion (:mod:`station.back_camera`), in the
per-frame record with ``back_reason`` beside it. The reps stay as the side
camera finds them; their back is judged (``rounded_back``) by that spine
flexion only when the set-up's back check is validated for the drill
variant (``judge_back``, from :func:`station.setup.back_check`); otherwise
every rep's back stays "not checked".
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from station.back_camera import BackReader, back_reader_from_opening
from station.calibration_model import Calibration
from station.camera_pair import paired_frames
from station.camera_check import camera_moved
from station.errors import WallHingeError
from station.faults import Thresholds
from station.frame_step import OPENING_S, calibrate_from_opening, frame_record, step
from station.hidden_spans import HiddenSpans, spans_record
from station.measure import Measurer
from station.reps import RepDetector, RepSettings

@dataclass
class Analysis:
    """What :func:`analyze_frames` found: the reps, the per-frame measures, the calibration used, and the
    spans in which the patient was there but hidden (:mod:`station.hidden_spans`)."""

    reps: list
    frames: list
    calibration: Calibration
    back: BackReader | None = field(default=None)
    hidden: list = field(default_factory=list)

    def as_json(self, *, with_frames: bool = False) -> dict:
        # "hidden" (a key the contract allows adding): reps done then may not have been found.
        result = {"reps": [rep.as_dict() for rep in self.reps], "hidden": spans_record(self.hidden)}
        if with_frames:
            result["frames"] = self.frames
        return result


def analyze_frames(frames, label: str, *, calibration: Calibration | None = None,
                   thresholds: Thresholds = Thresholds(), settings: RepSettings = RepSettings(),
                   back_frames=None, back_label: str = "the back camera's recording",
                   period_s: float = 1.0 / 30, back_reader: BackReader | None = None,
                   judge_back: bool = False) -> Analysis:
    """Measure every frame of ``frames`` (an iterable of DepthFrame, read once) and find the reps.

    Without ``calibration`` it is made from the frames' empty opening (held
    until then; the rest streams through, so memory does not grow with the
    recording's length). With one, it must fit: the same resolution, and
    the camera where it was.

    ``back_frames`` are the camera above's (the pair ``side+wall-above``),
    paired with ``frames`` within half of ``period_s`` (the side camera's
    frame period, s); the camera above calibrates from its own empty
    opening (so it must open on the empty scene too) unless ``back_reader``
    is given (a benchmark's, with the simulator's true pose). With
    ``judge_back`` (the set-up's back check is validated) the reps' back is
    judged by the camera above's spine flexion.
    """
    if back_frames is None:
        pairs = ((frame, None) for frame in frames)
    else:
        pairs = paired_frames(frames, back_frames, period_s=period_s, back_label=back_label)
    opening = []
    if calibration is None or back_frames is not None:
        for frame, back in pairs:
            opening.append((frame, back))
            if frame.timestamp_s >= OPENING_S:
                break
    else:
        opening = [next(pairs, None)]
        if opening[0] is None:
            raise WallHingeError(f"{label} has no depth frames")
    if not opening:
        raise WallHingeError(f"{label} has no depth frames")
    if calibration is None:
        calibration = calibrate_from_opening([frame for frame, _ in opening], label)
    else:
        _check_fits(calibration, opening[0][0].depth, label)
    reader = back_reader
    if back_frames is not None and reader is None:
        reader = back_reader_from_opening([back for frame, back in opening
                                           if back is not None and frame.timestamp_s < OPENING_S], back_label)
    measurer = Measurer(calibration)
    detector = RepDetector(thresholds, settings)
    records = []
    hiding, hidden = HiddenSpans(), []
    last_s = 0.0
    for frame, back in itertools.chain(opening, pairs):
        measures, events = step(measurer, detector, frame.timestamp_s, frame.depth, reader,
                                None if back is None else back.depth, judge_back=judge_back)
        record = frame_record(frame.timestamp_s, measures, detector.setup_note)
        records.append(record if reader is None else {**record, "back_reason": measures.back_reason})
        span = hiding.update(frame.timestamp_s, measures.hidden_reason)
        if span is not None:
            hidden.append(span)
        last_s = frame.timestamp_s
    detector.finish(last_s)
    last_span = hiding.close()
    return Analysis(reps=detector.reps, frames=records, calibration=calibration, back=reader,
                    hidden=hidden + ([last_span] if last_span is not None else []))


def _check_fits(calibration: Calibration, depth, label: str) -> None:
    intrinsics = calibration.intrinsics
    if depth.shape != (intrinsics.height, intrinsics.width):
        raise WallHingeError(f"{label} is {depth.shape[1]}x{depth.shape[0]} but the calibration is for "
                             f"{intrinsics.width}x{intrinsics.height}: calibrate at this resolution")
    moved = camera_moved(calibration, depth)
    if moved is not None:
        raise WallHingeError(f"the calibration does not fit {label}: {moved}")
