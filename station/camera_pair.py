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

from pathlib import Path

#: The part of a pair's second recording's name before ``.db3``: ``NAME.above.db3``.
BACK_SUFFIX = ".above"


def back_recording_path(recording) -> Path:
    """Where the camera above's recording of a pair sits: ``NAME.above.db3`` beside ``NAME.db3``."""
    recording = Path(recording)
    return recording.with_name(recording.stem + BACK_SUFFIX + recording.suffix)
