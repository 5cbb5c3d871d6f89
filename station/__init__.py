"""Wall Hinge Station: the device side (camera, measurement, reps, feedback, store)."""

__version__ = "0.1.0"
