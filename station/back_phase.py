"""The camera above in the live loop (``side+wall-above``): its calibration, its reading, why the back is not checked.

:class:`BackPhase` follows the camera above's frames as they come paired
with the side camera's, beside the side camera's own
:class:`~station.calibration_phase.CalibrationPhase`, and the same way:

- a saved calibration of the camera above (``station.above_calibration_path``,
  :func:`station.calibration_files.load_above_calibration`) is used when it
  fits its first frame (the same resolution, and
  :func:`~station.camera_check.camera_moved` on the floor finds it where it
  was), so a restart needs no empty room again;
- otherwise it is calibrated from its own empty opening, the first
  :data:`~station.frame_step.OPENING_S` seconds of its frames
  (:func:`station.back_camera.back_reader_from_opening`, as ``wallhinge
  analyze`` does), and saved (a live camera's only);
- a live camera above that has moved since is not read (checked every
  :data:`~station.calibration_phase.MOVED_CHECK_S`, read again after
  :data:`~station.calibration_phase.MOVED_CLEAR_CHECKS` checks in a row find it back).

Each measured frame then gets the paired back frame's spine flexion
(:meth:`station.back_camera.BackReader.read_into`), and the rep detector
judges the back by it once the set-up is validated (:attr:`BackPhase.checked`). Nothing here stops the side
camera: a camera above that is missing, lost, moved or not calibrated only
makes the back "not checked", with a reason a screen can show
(:attr:`BackPhase.reason`); each new reason is logged once.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from station.back_camera import BackReader, back_reader_from_opening
from station.calibration_files import load_above_calibration, save_above_calibration
from station.calibration_phase import MOVED_CHECK_S, MOVED_CLEAR_CHECKS
from station.camera_check import camera_moved
from station.errors import CalibrationError, WallHingeError
from station.frame_step import OPENING_S

__all__ = ["BackPhase"]

log = logging.getLogger("station.session")

#: The reason while the camera above gathers its empty opening.
CALIBRATING = "the camera above is calibrating: keep the drill area empty"


class BackPhase:
    """The camera above from its first frame to reading the back; see the module's docs.

    Parameters
    ----------
    path : Path
        The camera above's calibration file: read at the start, written after a live camera's opening.
    replay : bool
        Recordings are replayed: a saved calibration that does not fit is
        replaced by one from the recording's opening, and none is saved.
    label : str
        Names the camera above in messages.
    setup_reason : str or None
        Why the set-up does not check the back (``station.setup.back_check``'s
        sentence), or None when it is validated.
    """

    def __init__(self, path: Path, *, replay: bool, label: str, setup_reason: str | None):
        self.path = path
        self._replay = replay
        self.label = label
        self.setup_reason = setup_reason
        self.calibration = self._saved()
        self.reader: BackReader | None = None
        #: "starting", "opening", "moved" or "reading".
        self.phase = "starting"
        #: Why the camera above gives no reading now (lost, moved, calibrating), one line; None while it reads.
        self.trouble: str | None = None
        self._opening: list = []
        self._next_moved_check = 0.0
        self._moved_clear = 0
        self._openings_seen = None

    # -- what the screens say

    @property
    def checked(self) -> bool:
        """Whether the back is checked: the set-up is validated and the camera above reads."""
        return self.setup_reason is None and self.trouble is None and self.reader is not None

    @property
    def reason(self) -> str | None:
        """Why the back is not checked (the camera's trouble first, then the set-up's), or None."""
        if self.trouble is not None:
            return self.trouble
        if self.setup_reason is not None:
            return self.setup_reason
        return None if self.reader is not None else CALIBRATING

    # -- frames

    def frame(self, t: float, back, *, source_trouble: str | None, openings: int | None = None) -> None:
        """The camera above's frame paired with the side camera's at session time ``t`` (or None), before measuring.

        ``source_trouble`` is why the camera above gives no frames (the pair's
        :attr:`~station.camera_pair.SourcePair.back_trouble`); ``openings``
        counts a live camera above's openings: a new one is checked again.
        """
        if source_trouble is not None:
            self._set_trouble(source_trouble)
            if self.phase == "opening":
                self._opening = []
            return
        if back is None:
            return
        if openings is not None and openings != self._openings_seen:
            self._openings_seen = openings
            if self.phase != "starting":
                self.phase = "starting"  # opened again after a loss: is it where it was?
        if self.phase == "starting":
            self._first_frame(t, back)
        elif self.phase == "opening":
            self._opening_frame(t, back)
        elif self.phase == "moved" and t >= self._next_moved_check:
            self._check_moved(t, back)
        elif self.phase == "reading" and self.trouble is not None:
            self._set_trouble(None)

    def read_into(self, t: float, depth, measures):
        """``measures`` with the back's spine flexion and its reason (:meth:`BackReader.read_into`), or None and why not.

        ``depth`` is the camera above's frame paired with the side camera's at ``t``, or None.
        """
        if self.phase == "reading" and self.trouble is None:
            return self.reader.read_into(t, depth, measures)
        return dataclasses.replace(measures, spine_flexion_deg=None, back_reason=self.reason)

    def follow(self, events) -> None:
        """The rep detector's events for the frame (:meth:`BackReader.follow`: the standing baseline)."""
        if self.reader is not None:
            self.reader.follow(events)

    # -- the calibration

    def _saved(self):
        if not self.path.exists():
            return None
        try:
            return load_above_calibration(self.path)
        except CalibrationError as error:
            log.warning("%s; the camera above calibrates from the empty scene instead", error)
            return None

    def _first_frame(self, t: float, back) -> None:
        calibration = self.calibration
        if calibration is None:
            self._begin_opening()
            self._opening_frame(t, back)
            return
        intrinsics = calibration.intrinsics
        if back.depth.shape != (intrinsics.height, intrinsics.width):
            log.warning("the camera above's calibration is for %dx%d but it gives %dx%d: calibrating it from the "
                        "empty scene", intrinsics.width, intrinsics.height, back.depth.shape[1], back.depth.shape[0])
            self._begin_opening()
            self._opening_frame(t, back)
            return
        moved = self._moved(back)
        if moved is None:
            self._start_reading(calibration)
        elif self._replay:
            log.info("the camera above's calibration file does not fit %s (%s): calibrating it from its opening",
                     self.label, moved)
            self._begin_opening()
            self._opening_frame(t, back)
        else:
            self.phase = "moved"
            self._moved_clear = 0
            self._next_moved_check = t + MOVED_CHECK_S
            self._set_trouble(f"{moved}; the back is not read until it is back in place")

    def _moved(self, back) -> str | None:
        return camera_moved(self.calibration, back.depth, floor_only=True, camera="the camera above",
                            remedy=f"put it back, or delete {self.path} to calibrate it from the empty room at the "
                                   "next start")

    def _check_moved(self, t: float, back) -> None:
        self._next_moved_check = t + MOVED_CHECK_S
        if self._moved(back) is not None:
            self._moved_clear = 0
            return
        self._moved_clear += 1
        if self._moved_clear >= MOVED_CLEAR_CHECKS:
            log.info("the camera above is back where it was calibrated")
            self._start_reading(self.calibration)

    def _begin_opening(self) -> None:
        self.phase = "opening"
        self._opening = []
        self.reader = None
        self._set_trouble(CALIBRATING)

    def _opening_frame(self, t: float, back) -> None:
        self._opening.append((t, back))
        start = self._opening[0][0]
        if t - start < OPENING_S:
            return
        frames = [frame for frame_t, frame in self._opening if frame_t - start < OPENING_S]
        self._opening = []
        try:
            reader = back_reader_from_opening(frames, self.label)
        except WallHingeError as error:
            self._set_trouble(f"{error}; trying again with the next {OPENING_S:g} s")
            return
        self.calibration = reader.calibration
        if not self._replay:
            try:
                save_above_calibration(reader.calibration, self.path)
                log.info("saved the camera above's calibration to %s", self.path)
            except CalibrationError as error:
                log.warning("the camera above's calibration is used but not saved: %s", error)
        self._start_reading(reader.calibration, reader)

    def _start_reading(self, calibration, reader: BackReader | None = None) -> None:
        if self.reader is None or self.reader.calibration is not calibration:
            self.reader = reader or BackReader(calibration)
        self.phase = "reading"
        self._set_trouble(None)

    def _set_trouble(self, reason: str | None) -> None:
        if reason == self.trouble:
            return
        if reason is None:
            log.info("the camera above is calibrated: it reads the back" if self.trouble == CALIBRATING
                     else "the camera above reads the back again")
        elif reason == CALIBRATING:
            log.info("calibrating the camera above: keep the drill area empty for %g s", OPENING_S)
        else:
            log.warning("back not checked: %s; the side camera goes on measuring", reason)
        self.trouble = reason
