"""Writing depth frames as a real RealSense recording.

Frames go through ``rs.software_device`` into ``rs.recorder``, the same
writer librealsense uses for a live camera, so the file plays back through
``rs.pipeline`` exactly like a recording of a real D400.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyrealsense2 as rs

from station.errors import RecordingError
from station.geometry import Intrinsics


class RecordingWriter:
    """Writes uint16 depth images to a ``.db3`` recording.

    Parameters
    ----------
    path : str or Path
        The output file; librealsense 2.58+ only writes ``.db3``.
    intrinsics : Intrinsics
        Of the depth stream.
    fps : int
        The stream's nominal frame rate.
    depth_unit_m : float
        Metres per depth unit.
    serial, name : str
        Reported as the device's serial number and name on playback.
    compressed : bool
        Whether librealsense compresses the depth frames (its lossless
        codec, on by default in ``rs.recorder``). Off here: decoding it on
        playback takes librealsense's one playback thread about 1.3 ms a
        frame at 424x240 and 5 ms at 848x480 (more than the whole
        measurement; ``benchmarks/bench_reps.py`` prints both), while a live
        camera's frames need no decoding; files are about twice as large.
        Either plays back the same frames.
    """

    def __init__(self, path, intrinsics: Intrinsics, fps: int, *, depth_unit_m: float = 0.001,
                 serial: str = "SIM-0", name: str = "Intel RealSense D435 (simulated)", compressed: bool = False):
        path = Path(path)
        if path.suffix != ".db3":
            raise RecordingError(f"recordings are written as .db3 files, not {path.name}")
        self.path = path
        self.intrinsics = intrinsics
        self._device = rs.software_device()
        self._device.register_info(rs.camera_info.name, name)
        self._device.register_info(rs.camera_info.serial_number, serial)
        self._sensor = self._device.add_sensor("Stereo Module")
        stream = rs.video_stream()
        stream.type = rs.stream.depth
        stream.index = 0
        stream.uid = 0
        stream.width = intrinsics.width
        stream.height = intrinsics.height
        stream.fps = fps
        stream.bpp = 2
        stream.fmt = rs.format.z16
        stream.intrinsics = _rs_intrinsics(intrinsics)
        self._profile = self._sensor.add_video_stream(stream).as_video_stream_profile()
        self._sensor.add_read_only_option(rs.option.depth_units, depth_unit_m)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise RecordingError(f"cannot write recording {path}: {error.strerror or error}") from None
        try:
            self._recorder = rs.recorder(str(path), self._device, compressed)
        except RuntimeError as error:
            raise RecordingError(f"cannot write recording {path}: {' '.join(str(error).split())}") from None
        # The software sensor hands each frame to the recorder, then to this
        # queue, which nothing reads: it only has to keep the sensor running.
        self._queue = rs.frame_queue(1)
        self._sensor.open(self._profile)
        self._sensor.start(self._queue)
        self._frame_number = 0
        self._closed = False

    def write(self, depth: np.ndarray, timestamp_s: float) -> None:
        """Append one depth image (uint16, depth units) taken at ``timestamp_s``."""
        expected = (self.intrinsics.height, self.intrinsics.width)
        if depth.shape != expected or depth.dtype != np.uint16:
            raise ValueError(f"a depth frame here is uint16 of shape {expected}, not {depth.dtype} {depth.shape}")
        frame = rs.software_video_frame()
        frame.pixels = np.ascontiguousarray(depth)
        frame.bpp = 2
        frame.stride = self.intrinsics.width * 2
        frame.timestamp = timestamp_s * 1000.0
        frame.domain = rs.timestamp_domain.global_time
        frame.frame_number = self._frame_number
        frame.profile = self._profile
        self._sensor.on_video_frame(frame)
        self._frame_number += 1

    def close(self) -> None:
        """Stop the sensor and finish the file."""
        if self._closed:
            return
        self._closed = True
        self._sensor.stop()
        self._sensor.close()
        # The recorder writes its file's end when it is released.
        del self._recorder

    def __enter__(self) -> "RecordingWriter":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def _rs_intrinsics(intrinsics: Intrinsics):
    result = rs.intrinsics()
    result.width = intrinsics.width
    result.height = intrinsics.height
    result.fx = intrinsics.fx
    result.fy = intrinsics.fy
    result.ppx = intrinsics.ppx
    result.ppy = intrinsics.ppy
    result.model = rs.distortion.brown_conrady
    result.coeffs = [0.0] * 5
    return result
