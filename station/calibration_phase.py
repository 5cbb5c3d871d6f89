"""The live session's calibration phase: is the saved room frame still right, or is one made from the empty opening?

:class:`CalibrationPhase` follows the camera thread's frames until the
station can measure, and says what it found; the camera thread shows it
(lamps, trouble, the live feed). Its ``phase`` is one of:

``"starting"``
    No frame yet.
``"opening"``
    Calibrating from the empty scene: the first :data:`~station.frame_step.OPENING_S`
    seconds of frames, as ``wallhinge analyze`` does (:func:`~station.frame_step.calibrate_from_opening`).
``"moved"``
    The saved calibration no longer fits (the camera moved); checked every
    :data:`MOVED_CHECK_S` until :data:`MOVED_CLEAR_CHECKS` checks in a row find it back.
``"measuring"``
    The calibration fits: frames are measured.

The calibration file is used when it fits: the same resolution, and
:func:`~station.camera_check.camera_moved` finds the camera where it was. One
made from a live camera's opening is saved for the next start; one made
from a replayed recording is not (but the store keeps it with the session).
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from station.calibration_files import calibration_json, load_calibration, save_calibration
from station.camera_check import camera_moved
from station.errors import CalibrationError
from station.frame_step import OPENING_S, calibrate_from_opening

__all__ = ["CalibrationPhase", "existing_calibration"]

log = logging.getLogger("station.session")

#: Seconds between checks of a moved camera.
MOVED_CHECK_S = 1.0
#: Checks in a row that must find a moved camera back in place before measuring resumes.
MOVED_CLEAR_CHECKS = 3


def existing_calibration(path: Path, *, replay: bool = False):
    """The calibration file if it can be read; None (and why, logged) if not.

    No file is the normal first start (and the normal replay, which calibrates
    from the recording's own opening): said plainly, not as a problem.
    """
    if not path.exists():
        if not replay:
            log.info("no saved calibration yet (%s): the station calibrates from the empty room now", path)
        return None
    try:
        return load_calibration(path)
    except CalibrationError as error:
        log.warning("%s; calibrating from the empty scene instead", error)
        return None


class CalibrationPhase:
    """From the first frame to measuring; see the module's docs.

    Parameters
    ----------
    calibration : Calibration or None
        The saved one (:func:`existing_calibration`), if any.
    path : Path
        The calibration file: read for the store's copy, written after a live camera's opening.
    replay : bool
        The frames are a replayed recording (its opening's calibration is not saved).
    """

    def __init__(self, calibration, path: Path, *, replay: bool):
        self.calibration = calibration
        self.path = path
        self._replay = replay
        #: The calibration as the store keeps it with the session (JSON text), or None.
        self.document: str | None = path.read_text() if calibration is not None else None
        self.phase = "starting"
        self._opening: list = []
        self._next_moved_check = 0.0
        self._moved_clear = 0

    def first_frame(self, t: float, frame, *, label: str, may_recalibrate: bool) -> str | None:
        """A source's first frame at session time ``t``: does the calibration fit this camera?

        Returns None when it fits (measure now), ``""`` to calibrate from the
        opening (call :meth:`begin_opening`), or why not, for a camera moved
        since the file was made (``phase`` is ``"moved"``). ``may_recalibrate``:
        a replayed recording from elsewhere, before the session began,
        calibrates from its own opening instead.
        """
        calibration = self.calibration
        if calibration is None:
            return ""
        intrinsics = calibration.intrinsics
        if frame.depth.shape != (intrinsics.height, intrinsics.width):
            log.warning("the calibration is for %dx%d but the camera gives %dx%d: calibrating from the empty "
                        "scene", intrinsics.width, intrinsics.height, frame.depth.shape[1], frame.depth.shape[0])
            return ""
        moved = camera_moved(calibration, frame.depth)
        if moved is None:
            return None
        if may_recalibrate:
            log.info("the calibration file does not fit %s (%s): calibrating from its opening", label, moved)
            return ""
        log.warning("%s; until then nothing is measured (stop the station to recalibrate, or delete %s "
                    "to calibrate from the empty scene at the next start)", moved, self.path)
        self.phase = "moved"
        self._moved_clear = 0
        self._next_moved_check = t + MOVED_CHECK_S
        return moved

    def moved_check_due(self, t: float) -> bool:
        return t >= self._next_moved_check

    def back_in_place(self, t: float, frame) -> bool:
        """A check of a moved camera: True once it has been found where it was calibrated often enough."""
        self._next_moved_check = t + MOVED_CHECK_S
        if camera_moved(self.calibration, frame.depth) is not None:
            self._moved_clear = 0
            return False
        # Several in a row: a turn near the threshold reads either side of it frame to frame.
        self._moved_clear += 1
        if self._moved_clear >= MOVED_CLEAR_CHECKS:
            log.info("the camera is back where it was calibrated")
            return True
        return False

    def begin_opening(self) -> None:
        """Forget the calibration and gather the empty opening from the next frame."""
        if self.phase != "opening":
            log.info("calibrating: keep the drill area empty for %g s", OPENING_S)
        self.calibration = None
        self.document = None
        self.phase = "opening"
        self._opening = []

    def restart_opening(self) -> None:
        """The camera was lost during the opening: gather it afresh."""
        self._opening = []

    def opening_frame(self, t: float, frame, label: str, back=None):
        """Add a frame of the opening at session time ``t`` (``back``: the camera above's frame paired with it).

        Returns None while gathering; once :data:`~station.frame_step.OPENING_S`
        seconds are in, the opening's ``(t, frame, back)`` (to be measured, as
        analyze does) with ``calibration`` set.

        Raises
        ------
        WallHingeError
            The opening could not be calibrated from; the next frames start another.
        """
        self._opening.append((t, frame, back))
        start = self._opening[0][0]
        if t - start < OPENING_S:
            return None
        frames = [dataclasses.replace(f, timestamp_s=ft - start) for ft, f, _ in self._opening]
        opening, self._opening = self._opening, []
        calibration = calibrate_from_opening(frames, label)
        self.calibration = calibration
        if not self._replay:
            self._save(calibration)
        else:  # not a file for the next start, but the store keeps it with the session, as the dashboard shows
            self.document = calibration_json(calibration)
        return opening

    def _save(self, calibration) -> None:
        try:
            save_calibration(calibration, self.path)
        except CalibrationError as error:
            log.warning("the calibration is used but not saved: %s", error)
            return
        self.document = self.path.read_text()
        log.info("saved the calibration to %s", self.path)
