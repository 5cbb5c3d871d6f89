"""The station's exceptions, in one place.

Every error the station raises for bad input or missing hardware derives from
:class:`WallHingeError`, and its message is one line that says what is wrong
and what to do, fit to show a clinic technician as it is. Leaves also derive
from the builtin they refine, so callers may catch either.

The web's two (:class:`FormError`, a clinician's input refused field by field,
and :class:`FeedFull`, a limit of live streams) are here too; they are not
``WallHingeError``: the dashboard answers them itself. ``station.store`` and
``station.measure`` import theirs from here, so ``from station.store import
StoreError`` still works.
"""


class WallHingeError(Exception):
    """Base class of the station's own errors; the message is user-facing."""


class CameraError(WallHingeError, RuntimeError):
    """The depth camera could not be opened or stopped delivering frames."""


class NoCameraError(CameraError):
    """No RealSense camera is connected."""


class RecordingError(WallHingeError, OSError):
    """A recording could not be read or written."""


class ConfigError(WallHingeError, ValueError):
    """A configuration file or setting is invalid."""


class CalibrationError(WallHingeError, ValueError):
    """A calibration could not be made, read or trusted; the message says what to do."""


class FrameError(WallHingeError, ValueError):
    """A depth frame that cannot be measured at all (wrong size, no depth data)."""


class StoreError(WallHingeError, RuntimeError):
    """The station's database cannot be used; the message says why and what to do."""


class NotFoundError(StoreError, LookupError):
    """A patient, session, set or rep that an operation names does not exist."""


class ConflictError(StoreError, ValueError):
    """A duplicate (patient code, username, rep number) or a clash with a row's state."""


class FormError(ValueError):
    """A field a clinician sent is wrong; ``field`` names it, the message says what is allowed."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


class FeedFull(Exception):
    """A group's limit of open live subscriptions is reached (see ``web.live.LiveFeed.subscribe``)."""
