"""The simulator: body, motion, rendering, sensor noise and recording."""
