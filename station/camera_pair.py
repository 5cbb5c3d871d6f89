"""Two cameras, one scene: the side camera and the camera above the spot that sees the back.

The two-camera set-up (``side+wall-above``, ``docs/back-view.md``) records
each camera to its own file through ``rs.recorder`` (a librealsense recording
holds one device): the side camera's ``NAME.db3`` and, beside it, the camera
above's ``NAME.above.db3``. Both are read back through ``rs.pipeline``
(:func:`station.camera.open_recording`), and their frames are paired by the
cameras' own timestamps (:func:`paired_frames`): D400 global time puts both on
the host's clock, so the back frame nearest each side frame, within half a
frame period, is the one taken with it.
"""

from __future__ import annotations

import itertools
from collections import deque
from pathlib import Path
from typing import Iterable, Iterator

from station.camera import FilterSettings, open_camera, open_recording
from station.errors import RecordingError

#: The part of a pair's second recording's name before ``.db3``: ``NAME.above.db3``.
BACK_SUFFIX = ".above"


def back_recording_path(recording) -> Path:
    """Where the camera above's recording of a pair sits: ``NAME.above.db3`` beside ``NAME.db3``."""
    recording = Path(recording)
    return recording.with_name(recording.stem + BACK_SUFFIX + recording.suffix)


#: Two recordings of one session start within this of each other (seconds, on
#: the cameras' clock): the station starts both cameras together.
MAX_START_APART_S = 2.0


def paired_frames(side_frames: Iterable, back_frames: Iterable, *, period_s: float,
                  back_label: str) -> Iterator[tuple]:
    """Each side frame with the back frame taken with it: ``(side, back)``, ``back`` None when none was.

    The back frame whose :attr:`~station.camera.DepthFrame.clock_s` is nearest
    the side frame's, within half of ``period_s`` (the side camera's frame
    period), pairs with it; a back frame may pair with no side frame (it
    fell between two) or, if the side camera dropped frames, with two.
    Both iterables are read once, in step.

    Raises
    ------
    RecordingError
        The back frames are of another session (their first frame more than
        :data:`MAX_START_APART_S` from the side's), or stop before the side
        frames do (a recording cut short): one line naming ``back_label``.
    """
    side_frames, back_frames = iter(side_frames), iter(back_frames)
    first = next(side_frames, None)
    if first is None:
        return
    buffered: deque = deque()
    pending = next(back_frames, None)
    if pending is None:
        raise RecordingError(f"{back_label} has no depth frames")
    apart = pending.clock_s - first.clock_s
    if abs(apart) > MAX_START_APART_S:
        raise RecordingError(f"{back_label} is not of the same session: its first frame is {_span(apart)} "
                             f"{'after' if apart > 0 else 'before'} the side camera's")
    half = 0.5 * period_s
    last_back_s = pending.clock_s
    side = first
    for side in itertools.chain([first], side_frames):
        # Take back frames up to half a period past this side frame...
        while pending is not None and pending.clock_s <= side.clock_s + half:
            buffered.append(pending)
            last_back_s = pending.clock_s
            pending = next(back_frames, None)
        # ... and forget those more than half a period before it.
        while buffered and buffered[0].clock_s < side.clock_s - half:
            buffered.popleft()
        nearest = min(buffered, key=lambda frame: abs(frame.clock_s - side.clock_s), default=None)
        yield side, nearest
    if pending is None and last_back_s < side.clock_s - period_s:
        raise RecordingError(f"{back_label} ends {_span(side.clock_s - last_back_s)} before the side camera's "
                             f"recording ({last_back_s - first.clock_s:.1f} s of "
                             f"{side.clock_s - first.clock_s:.1f} s): it is cut short")


def _span(seconds: float) -> str:
    seconds = abs(seconds)
    return f"{seconds:.1f} s" if seconds < 3600 else f"{seconds / 3600:.1f} hours"


class SourcePair:
    """The side camera's and the camera above's frame sources, iterated as pairs (:func:`paired_frames`).

    Made by :func:`open_recording_pair` or :func:`open_camera_pair`; closing
    it closes both sources. ``back_label`` names the camera above in errors.
    """

    def __init__(self, side, back, back_label: str):
        self.side, self.back, self.back_label = side, back, back_label

    def __iter__(self) -> Iterator[tuple]:
        return paired_frames(self.side, self.back, period_s=1.0 / (self.side.info.fps or 30),
                             back_label=self.back_label)

    def close(self) -> None:
        try:
            self.back.close()
        finally:
            self.side.close()

    def __enter__(self) -> "SourcePair":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def open_recording_pair(side_path, back_path, **options) -> SourcePair:
    """Both recordings of a pair (:func:`station.camera.open_recording`'s ``options``, e.g. ``real_time``).

    Raises
    ------
    RecordingError
        Either is missing or unreadable (the camera above's: :func:`open_back_recording`),
        or both are the same camera's.
    """
    side = open_recording(side_path, **options)
    try:
        back = open_back_recording(back_path, **options)
    except BaseException:
        side.close()
        raise
    if back.info.serial and back.info.serial == side.info.serial:
        SourcePair(side, back, "").close()
        raise RecordingError(f"{back.info.path} is from the side camera itself (serial {back.info.serial}), not "
                             "from the camera above: name the camera above's recording")
    return SourcePair(side, back, back.info.path)


def open_camera_pair(camera, back_serial: str, *, filters=None) -> SourcePair:
    """Both live cameras of a pair: one ``rs.pipeline`` each, by serial (librealsense's multi-camera way).

    ``camera`` is the ``[camera]`` settings (the side camera's serial and the
    depth mode both cameras stream in); ``back_serial`` is ``[setup]
    back_camera_serial``. Their frames pair by D400 global time, the host's
    clock, without a sync cable.

    Raises
    ------
    NoCameraError, CameraError
        Either camera is not connected or will not stream (the side camera is closed again).
    """
    mode = {"width": camera.width, "height": camera.height, "fps": camera.fps,
            "filters": filters or FilterSettings(), "frame_timeout_s": camera.frame_timeout_s}
    side = open_camera(serial=camera.serial, **mode)
    try:
        back = open_camera(serial=back_serial, **mode)
    except BaseException:
        side.close()
        raise
    return SourcePair(side, back, f"the camera above ({back_serial})")


def open_back_recording(path, **options):
    """Open the camera above's recording of a pair (:func:`station.camera.open_recording`'s ``options``).

    Raises
    ------
    RecordingError
        It is missing (one line saying where a pair's second recording sits), or unreadable.
    """
    path = Path(path)
    if not path.is_file():
        raise RecordingError(f"the back camera's recording {path} is missing: a pair's second recording sits "
                             f"beside the first as NAME{BACK_SUFFIX}.db3")
    return open_recording(path, **options)
