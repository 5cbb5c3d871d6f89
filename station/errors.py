"""The station's exceptions.

Every error the station raises for bad input or missing hardware derives from
:class:`WallHingeError`, and its message is one line that says what is wrong
and what to do, fit to show a clinic technician as it is. Leaves also derive
from the builtin they refine, so callers may catch either.
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
