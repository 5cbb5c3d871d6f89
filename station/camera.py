"""The frame source: depth frames from a live RealSense camera or a recording.

Both go through ``rs.pipeline``, so a test on a recording exercises the same
path as the station on a live camera. This is the only module that imports
pyrealsense2 for capture. Frames come out as :class:`DepthFrame`: a numpy
depth image with the stream's intrinsics, depth unit and timestamp.

librealsense's own processing blocks (decimation, threshold, spatial and
temporal filters, hole filling) run on the frames when :class:`FilterSettings`
asks for them, in the order librealsense recommends; the range threshold,
when nothing follows it, runs on the numpy frame instead (:class:`DepthRange`,
the same pixels). A recording read as fast as possible is decoded ahead on a
thread of its own (:meth:`FrameSource._read_ahead`).

A live camera that came up as USB 2 streams, but drops frames: :func:`open_camera`
records the link it reports (:attr:`SourceInfo.usb_type`) and logs
:func:`usb_warning`'s advice on the ``station.camera`` logger.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import re
import sqlite3
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from station.config import settings_from_table
from station.errors import CameraError, NoCameraError, RecordingError
from station.geometry import Intrinsics

try:
    import pyrealsense2 as rs
except ImportError as error:  # pragma: no cover - depends on the machine
    rs = None
    _RS_IMPORT_ERROR = str(error)
else:
    _RS_IMPORT_ERROR = ""

RECORDING_SUFFIXES = (".db3", ".bag")

# librealsense's threshold filter accepts distances up to this (metres).
_THRESHOLD_LIMIT_M = 16.0

# How long one wait on the pipeline lasts while reading a recording (ms); the
# end of a recording is noticed within about this long.
_PLAYBACK_POLL_MS = 200

# How long a recording's playback may take to report itself stopped, after its
# last frame or after the pipeline is stopped (s). Releasing a playback device
# that is still busy crashes librealsense (a segmentation fault in its reading
# thread, seen under load), so the source waits for this state first.
_PLAYBACK_STOP_WAIT_S = 5.0

# A recording this short (depth frames) may be read to its end while its
# pipeline is still starting (see start_playback). A longer one cannot: with
# real time off, playback waits for each frame to be taken before it reads the
# next, and nothing takes them during the start. Measured (files of 1 to 60
# frames started and left unread for 1 s on a quiet machine, 3 times each; of 1,
# 2, 3 and 5 frames for 1.5 s with both cores busy, 6 times each): a one-frame
# file stops at its end every time, a 2-frame one and every longer one stays
# playing until read. 2 keeps one frame to spare. (60, the first limit, held
# 30- and 45-frame files paused through the start, and with both cores busy 3
# of 300 held starts of a 30-frame file took 10 s.)
_READ_AT_START_FRAMES = 2

# How much of a recording read as fast as possible may be decoded ahead of its
# reader, on a thread of its own (see FrameSource._read_ahead), in bytes of
# depth images: 64 MB is some 330 frames at 424x240, 80 at 848x480.
# librealsense decodes a recording's frames (PNG, 1-5 ms each) on its playback
# thread only when asked for the next one; reading ahead lets that run on
# another core while the frames before are measured, and while the opening is
# calibrated (0.3-0.7 s), which a short queue would wait out.
_READ_AHEAD_BYTES = 64 * 2**20
# How often a reading thread with a full queue checks that it is still wanted (s).
_READ_AHEAD_POLL_S = 0.05
# The reading thread and the measuring one share the interpreter: each time
# the reader comes back from librealsense or numpy it waits for the measuring
# thread to hand the interpreter over, which Python asks of it only every
# switch interval (5 ms by default), so the two barely overlapped. While a
# recording is read ahead the interval is this (s), and restored after.
_READ_AHEAD_SWITCH_INTERVAL_S = 0.0005
_switch_interval_lock = threading.Lock()
_switch_interval_users = 0
_switch_interval_before = None

log = logging.getLogger(__name__)


def usb_warning(usb_type: str) -> str | None:
    """What to tell the technician about the USB link a camera reports; None when it is USB 3.

    A pure function: :func:`open_camera` and the session log it, and
    ``deploy/checks.py`` (``wallhinge-check``) prints it.

    Parameters
    ----------
    usb_type : str
        The camera's ``rs.camera_info.usb_type_descriptor``: ``"3.2"`` (or
        ``"3.1"``, ``"3.0"``) on a USB 3 port, ``"2.1"`` (or ``"2.0"``, ``"2.01"``)
        when it came up as USB 2. Text that is no version (empty, ``"Undefined"``)
        says nothing for sure and gives None.

    Returns
    -------
    str or None
        One paragraph saying what is wrong and what to do, or None.

    Raises
    ------
    TypeError
        ``usb_type`` is not text.
    """
    if not isinstance(usb_type, str):
        raise TypeError(f"usb_type must be the descriptor text such as '3.2', not {type(usb_type).__name__}")
    match = re.fullmatch(r"\s*(\d+)(?:\.\d+)?\s*", usb_type)
    if match is None or int(match.group(1)) >= 3:
        return None
    return (f"The camera is connected as USB {usb_type.strip()}, not USB 3: depth frames will be late or "
            "missing (\"Frame didn't arrive\"). Plug it straight into one of the Pi's blue USB 3 ports with "
            "a USB 3 cable (the one that came with the camera, no extension, no hub without its own power), "
            "pushing the USB-C end in firmly in one go (a slow insertion can make a D400 come up as USB 2), "
            "then restart the station: sudo systemctl restart wallhinge-station.")


@dataclass(frozen=True)
class DepthFrame:
    """One depth frame.

    Attributes
    ----------
    depth : ndarray, shape (height, width), uint16
        Z-depth along the optical axis in depth units; 0 means no data.
    depth_unit_m : float
        Metres per depth unit (usually 0.001).
    timestamp_s : float
        Seconds since the source's first frame.
    frame_number : int
        The camera's frame counter (not necessarily from 0, nor contiguous).
    intrinsics : Intrinsics
        Of this frame (decimation changes them).
    clock_s : float
        The frame's timestamp on its camera's clock, seconds: with D400
        global time (on by default) the host's clock, so two cameras' frames
        can be paired by it (:mod:`station.camera_pair`).
    """

    depth: np.ndarray
    depth_unit_m: float
    timestamp_s: float
    frame_number: int
    intrinsics: Intrinsics
    clock_s: float = 0.0

    def depth_m(self) -> np.ndarray:
        """Z-depth in metres as float32; 0 where there is no data."""
        return self.depth.astype(np.float32) * np.float32(self.depth_unit_m)


@dataclass(frozen=True)
class FilterSettings:
    """librealsense post-processing applied to each depth frame.

    Defaults keep only the range threshold: the spatial filter costs over
    100 ms a frame on weak ARM boards and the temporal filter smears a moving
    body, so both are off unless a site turns them on.

    Attributes
    ----------
    decimation : int
        Median decimation factor, 1 (off) to 8; reduces resolution.
    min_distance_m, max_distance_m : float
        Depth outside this range becomes 0 (threshold filter); 0 disables it.
    spatial : bool
        Edge-preserving spatial smoothing.
    temporal : bool
        Temporal smoothing across frames.
    hole_filling : bool
        Fill holes from neighbouring pixels.
    """

    decimation: int = 1
    min_distance_m: float = 0.2
    max_distance_m: float = 6.0
    spatial: bool = False
    temporal: bool = False
    hole_filling: bool = False

    def __post_init__(self):
        if not isinstance(self.decimation, int) or not 1 <= self.decimation <= 8:
            raise ValueError(f"filters.decimation must be a whole number from 1 to 8, not {self.decimation!r}")
        if self.min_distance_m < 0 or self.max_distance_m < 0:
            raise ValueError("filters.min_distance_m and filters.max_distance_m cannot be negative")
        if self.max_distance_m and self.min_distance_m >= self.max_distance_m:
            raise ValueError("filters.min_distance_m must be below filters.max_distance_m")
        if max(self.min_distance_m, self.max_distance_m) > _THRESHOLD_LIMIT_M:
            raise ValueError(f"filters.min_distance_m and filters.max_distance_m are at most {_THRESHOLD_LIMIT_M:g} m")

    @classmethod
    def from_dict(cls, values: dict) -> "FilterSettings":
        """Settings from the config file's ``filters`` table, rejecting unknown keys by name."""
        return settings_from_table(cls, values, "filters")


@dataclass(frozen=True)
class SourceInfo:
    """What a frame source is reading from."""

    kind: str  # "camera" or "recording"
    name: str  # device name, e.g. "Intel RealSense D435"
    serial: str
    path: str | None  # the recording's path, None for a live camera
    intrinsics: Intrinsics  # of the depth stream before any decimation
    fps: int
    depth_unit_m: float
    # The USB link a live camera reports (camera_info.usb_type_descriptor), e.g. "3.2"
    # or "2.1"; None for a recording or a camera that does not say (see usb_warning).
    usb_type: str | None = None
    # With hardware sync asked for (sync_mode 1 or 2): None when the camera took it, else one line saying
    # that it could not and that its frames pair by global time instead (see apply_sync_mode).
    sync_note: str | None = None


def _require_rs():
    if rs is None:
        raise CameraError(
            f"pyrealsense2 cannot be imported ({_RS_IMPORT_ERROR}): on x86_64 install the Debian "
            "package libusb-1.0-0; on a Raspberry Pi run deploy/install.sh, which builds it"
        )


def _one_line(error: BaseException) -> str:
    """librealsense's message, trimmed to one line without its request preamble."""
    text = " ".join(str(error).split())
    marker = "Reason: "
    return text.split(marker, 1)[1] if marker in text else text


def _intrinsics_of(profile) -> Intrinsics:
    intr = profile.as_video_stream_profile().get_intrinsics()
    return Intrinsics(intr.width, intr.height, intr.fx, intr.fy, intr.ppx, intr.ppy)


class DepthRange:
    """librealsense's threshold filter, applied to a frame's numpy copy: the same pixels become 0.

    The filter (librealsense src/proc/threshold.cpp) keeps a pixel when
    ``min <= units * depth <= max``, all in float32. The test is made here
    once per depth unit, over every uint16 value, into the range of raw
    values it keeps; a frame then costs one unsigned comparison per pixel,
    with the interpreter free for the measuring thread meanwhile, where the
    filter's own frame copy holds it (about 0.8 ms at 848x480).
    """

    def __init__(self, min_m: float, max_m: float):
        self.min_m, self.max_m = float(min_m), float(max_m)
        self._kept: dict[float, tuple[np.uint16, np.uint16] | None] = {}

    def kept_values(self, units: float) -> tuple[np.uint16, np.uint16] | None:
        """The raw values the filter keeps at ``units`` metres per value: (lowest, how many more), or None.

        Rounding is monotonic, so ``units * depth`` never decreases with
        ``depth`` and the kept values are one run.
        """
        if units not in self._kept:
            distances = np.arange(65536, dtype=np.float32) * np.float32(units)
            values = np.flatnonzero((distances >= np.float32(self.min_m)) & (distances <= np.float32(self.max_m)))
            self._kept[units] = (np.uint16(values[0]), np.uint16(values[-1] - values[0])) if values.size else None
        return self._kept[units]

    def apply(self, depth: np.ndarray, units: float) -> None:
        """Zero, in place, the pixels of ``depth`` (uint16, ``units`` metres each) outside the range."""
        kept = self.kept_values(units)
        if kept is None:
            depth[...] = 0
            return
        lowest, span = kept
        # One unsigned comparison (values below the lowest wrap round to the
        # top), and a product by it: faster than a masked assignment.
        depth *= (depth - lowest) <= span


def _filter_blocks(settings: FilterSettings) -> list:
    """librealsense blocks in the order its post-processing guide recommends.

    The range threshold, when nothing follows it, is a :class:`DepthRange`
    at the end of the list, applied to the frame's numpy copy.
    """
    blocks = []
    if settings.decimation > 1:
        decimation = rs.decimation_filter()
        decimation.set_option(rs.option.filter_magnitude, settings.decimation)
        blocks.append(decimation)
    if settings.min_distance_m or settings.max_distance_m:
        max_distance_m = settings.max_distance_m or _THRESHOLD_LIMIT_M
        if not (settings.spatial or settings.temporal or settings.hole_filling):
            return blocks + [DepthRange(settings.min_distance_m, max_distance_m)]
        threshold = rs.threshold_filter()
        threshold.set_option(rs.option.min_distance, settings.min_distance_m)
        threshold.set_option(rs.option.max_distance, max_distance_m)
        blocks.append(threshold)
    if settings.spatial or settings.temporal:
        blocks.append(rs.disparity_transform(True))
        if settings.spatial:
            blocks.append(rs.spatial_filter())
        if settings.temporal:
            blocks.append(rs.temporal_filter())
        blocks.append(rs.disparity_transform(False))
    if settings.hole_filling:
        blocks.append(rs.hole_filling_filter())
    return blocks


def wait_for_playback_stop(playback) -> None:
    """Wait (at most _PLAYBACK_STOP_WAIT_S seconds) until a recording's playback has stopped reading.

    librealsense stops a playback from its own reading thread at the end
    of the file; stopping the pipeline or releasing the device while that
    thread is still at work races it and can crash the process.  Call this
    once a recording's last frame is read, before ``pipeline.stop()``, and
    again after stopping it early, before the device is released.
    """
    deadline = time.monotonic() + _PLAYBACK_STOP_WAIT_S
    while playback.current_status() != rs.playback_status.stopped and time.monotonic() < deadline:
        time.sleep(0.002)
    if playback.current_status() == rs.playback_status.stopped:
        # The status says stopped as soon as the reading thread *begins* to stop;
        # pause() runs on that thread and returns once it has finished stopping.
        playback.pause()


def start_playback(pipeline, config, playback, *, frames: int | None):
    """Start ``pipeline`` on the recording ``config`` resolved to ``playback``; returns its profile.

    Playback leaves real-time mode first, or the first frames can be dropped
    while the setting races the reader. A recording of ``frames`` depth frames,
    at most :data:`_READ_AT_START_FRAMES`, is held paused until the start has
    returned: librealsense's pipeline subscribes to the playback's "stopped"
    before it finishes starting, and such a short recording, read to its end
    at once, ran that callback on a half-started pipeline and crashed the
    process. Longer ones start as they are: held paused, the first frame of
    one opened beside another sometimes came seconds late, and under load a
    held start now and then takes librealsense 10 s.
    """
    playback.set_real_time(False)
    hold = frames is not None and frames <= _READ_AT_START_FRAMES
    if hold:
        playback.pause()
    profile = pipeline.start(config)
    if hold:
        playback.resume()
    return profile


class FrameSource:
    """Depth frames from ``rs.pipeline``; use :func:`open_camera` or :func:`open_recording`.

    Iterate to get :class:`DepthFrame` objects. A recording read with
    ``real_time=False`` yields every frame as fast as it can be processed,
    decoded ahead on a thread of its own (:data:`_READ_AHEAD_BYTES`); with
    ``real_time=True`` frames are paced by their timestamps. :meth:`close`
    (safe from another thread) ends the iteration at once.
    """

    def __init__(self, pipeline, profile, info: SourceInfo, blocks: list,
                 *, real_time: bool, frame_timeout_s: float, stated_frames: int | None = None):
        self._pipeline = pipeline
        self._stated_frames = stated_frames
        self._profile = profile
        self.info = info
        self._depth_range = blocks[-1] if blocks and isinstance(blocks[-1], DepthRange) else None
        self._blocks = blocks[:-1] if self._depth_range is not None else blocks
        self._real_time = real_time
        self._frame_timeout_ms = int(frame_timeout_s * 1000)
        self._closed = threading.Event()
        self._intrinsics_by_size: dict[tuple[int, int], Intrinsics] = {
            (info.intrinsics.width, info.intrinsics.height): info.intrinsics
        }
        self._first_timestamp_ms: float | None = None
        self._first_wall_s = 0.0
        self._reader: threading.Thread | None = None

    # -- context manager -------------------------------------------------
    def __enter__(self) -> "FrameSource":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        """Stop the pipeline; any iteration in progress ends.

        For a recording, returns once librealsense's playback has stopped
        reading, so that the playback device is idle whenever it is released.
        """
        if not self._closed.is_set():
            self._closed.set()
            try:
                self._pipeline.stop()
            except RuntimeError:
                pass  # already stopped by librealsense at the end of a recording
            reader = self._reader
            if reader is not None and reader is not threading.current_thread():
                reader.join()  # it sees the source closed within _READ_AHEAD_POLL_S
            if self.info.kind == "recording":
                wait_for_playback_stop(self._profile.get_device().as_playback())

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    # -- frames ------------------------------------------------------------
    def __iter__(self) -> Iterator[DepthFrame]:
        if self.info.kind == "recording":
            frames = self._recording_frames()
            return frames if self._real_time else self._read_ahead(frames)
        return self._camera_frames()

    def _read_ahead(self, frames: Iterator[DepthFrame]) -> Iterator[DepthFrame]:
        """``frames`` in order, read on a thread of its own up to :data:`_READ_AHEAD_BYTES` ahead.

        The reading thread's error (a damaged recording) is raised here, where
        the frame it stopped at would have come. It ends when the frames do,
        when the source is closed, or when this iteration is abandoned; a
        source reads on one such thread at a time.
        """
        frame_bytes = 2 * self.info.intrinsics.width * self.info.intrinsics.height  # at most: before decimation
        ready: queue.Queue = queue.Queue(max(2, _READ_AHEAD_BYTES // frame_bytes))
        abandoned = threading.Event()
        end = object()

        def hand_over(item) -> bool:
            """Queue ``item``; False once nobody will take it."""
            while not (abandoned.is_set() or self._closed.is_set()):
                try:
                    ready.put(item, timeout=_READ_AHEAD_POLL_S)
                    return True
                except queue.Full:
                    continue
            return False

        def read() -> None:
            try:
                for frame in frames:
                    if not hand_over(frame):
                        return
            except Exception as error:  # handed over as it is: raised to the reader's caller
                hand_over(error)
            finally:
                frames.close()
                hand_over(end)

        if self._reader is not None and self._reader.is_alive():
            raise RuntimeError("a recording's frames are read by one iteration at a time")
        self._reader = threading.Thread(target=read, name=f"read {Path(self.info.path or '').name}", daemon=True)
        self._reader.start()
        reader = self._reader
        _shorten_switch_interval()
        try:
            while True:
                try:
                    item = ready.get(timeout=_READ_AHEAD_POLL_S)
                except queue.Empty:
                    # Closed, or its reader stopped without a word: nothing more will come.
                    if self._closed.is_set() or not reader.is_alive() and ready.empty():
                        return
                    continue
                if item is end or self._closed.is_set():
                    return
                if isinstance(item, Exception):
                    raise item
                yield item
        finally:
            abandoned.set()
            if reader is not threading.current_thread():
                reader.join()
            _restore_switch_interval()

    def _camera_frames(self) -> Iterator[DepthFrame]:
        while not self._closed.is_set():
            try:
                frames = self._pipeline.wait_for_frames(self._frame_timeout_ms)
            except RuntimeError as error:
                if self._closed.is_set():
                    return
                raise CameraError(
                    f"no depth frame from the camera within {self._frame_timeout_ms / 1000:g} s "
                    f"({_one_line(error)}): check that it is on a powered USB 3 port"
                ) from None
            yield self._to_depth_frame(frames.get_depth_frame())

    def _recording_frames(self) -> Iterator[DepthFrame]:
        playback = self._profile.get_device().as_playback()
        waited_ms = 0
        read, last_s = 0, 0.0
        while not self._closed.is_set():
            if self._stated_frames is not None and read >= self._stated_frames:
                # Every frame the file holds: let playback reach the file's end and stop
                # by itself before the pipeline is stopped (see wait_for_playback_stop).
                wait_for_playback_stop(playback)
                return
            try:
                arrived, frames = self._pipeline.try_wait_for_frames(_PLAYBACK_POLL_MS)
            except RuntimeError as error:
                if self._closed.is_set():
                    return
                raise RecordingError(f"recording {self.info.path} is damaged after {last_s:.1f} s: "
                                     f"{_one_line(error)}") from None
            if arrived:
                waited_ms = 0
                depth = frames.get_depth_frame()
                if depth:
                    frame = self._to_depth_frame(depth)
                    read, last_s = read + 1, frame.timestamp_s
                    if self._real_time:
                        self._pace(frame.timestamp_s)
                    if not self._closed.is_set():
                        yield frame
                continue
            waited_ms += _PLAYBACK_POLL_MS
            if playback.current_status() == rs.playback_status.stopped or waited_ms >= self._frame_timeout_ms:
                self._check_complete(read, last_s)
                return

    def _check_complete(self, read: int, last_s: float) -> None:
        """A recording that ends before the frames it states is cut short or damaged: say how much was read."""
        stated = self._stated_frames
        if self._closed.is_set() or stated is None or read >= stated:
            return
        stated_s = (stated - 1) / self.info.fps if self.info.fps else 0.0
        raise RecordingError(f"recording {self.info.path} ends early: read {last_s:.1f} of {stated_s:.1f} s "
                             f"({read} of {stated} depth frames); the file is cut short or damaged")

    def _pace(self, timestamp_s: float) -> None:
        """Wait until the frame's time has come on the wall clock."""
        delay = self._first_wall_s + timestamp_s - time.monotonic()
        if delay > 0:
            self._closed.wait(delay)

    def _to_depth_frame(self, depth) -> DepthFrame:
        for block in self._blocks:
            depth = block.process(depth)
        depth = depth.as_depth_frame()
        timestamp_ms = depth.get_timestamp()
        if self._first_timestamp_ms is None:
            self._first_timestamp_ms = timestamp_ms
            self._first_wall_s = time.monotonic()
        size = (depth.get_width(), depth.get_height())
        intrinsics = self._intrinsics_by_size.get(size)
        if intrinsics is None:
            intrinsics = self._intrinsics_by_size[size] = _intrinsics_of(depth.get_profile())
        data = np.array(depth.get_data(), dtype=np.uint16, copy=True)
        if self._depth_range is not None:
            self._depth_range.apply(data, depth.get_units())
        return DepthFrame(
            depth=data,
            depth_unit_m=self.info.depth_unit_m,
            timestamp_s=(timestamp_ms - self._first_timestamp_ms) / 1000.0,
            frame_number=int(depth.get_frame_number()),
            intrinsics=intrinsics,
            clock_s=timestamp_ms / 1000.0,
        )


def _shorten_switch_interval() -> None:
    """Set the interpreter's switch interval for reading ahead (see _READ_AHEAD_SWITCH_INTERVAL_S); nests."""
    global _switch_interval_users, _switch_interval_before
    with _switch_interval_lock:
        if _switch_interval_users == 0:
            _switch_interval_before = sys.getswitchinterval()
            sys.setswitchinterval(min(_switch_interval_before, _READ_AHEAD_SWITCH_INTERVAL_S))
        _switch_interval_users += 1


def _restore_switch_interval() -> None:
    """Undo one _shorten_switch_interval; the last reader ahead to finish restores the interval."""
    global _switch_interval_users
    with _switch_interval_lock:
        _switch_interval_users -= 1
        if _switch_interval_users == 0:
            sys.setswitchinterval(_switch_interval_before)


#: ``rs.option.inter_cam_sync_mode`` values: the camera that drives the sync cable, and the one that follows it.
SYNC_MASTER = 1
SYNC_SLAVE = 2


def apply_sync_mode(device, mode: int) -> str | None:
    """Set a D400's hardware sync role (:data:`SYNC_MASTER`, :data:`SYNC_SLAVE`) on ``device``, before it streams.

    Returns None when set, or one line saying the device has no such option
    (a recording's playback, a camera without the sync connector) or refused
    it, and that its frames are paired by global time instead.
    """
    sensor = device.first_depth_sensor()
    name = " ".join(part for part in (device.get_info(rs.camera_info.name) if device.supports(rs.camera_info.name)
                                      else "", device.get_info(rs.camera_info.serial_number)
                                      if device.supports(rs.camera_info.serial_number) else "") if part)
    instead = "its frames are paired by the cameras' global time instead"
    if not sensor.supports(rs.option.inter_cam_sync_mode):
        return f"hardware sync is on but {name or 'the device'} has no inter-camera sync option: {instead}"
    try:
        sensor.set_option(rs.option.inter_cam_sync_mode, float(mode))
    except RuntimeError as error:
        return (f"hardware sync is on but {name or 'the device'} refused sync mode {mode} ({_one_line(error)}): "
                f"{instead}")
    return None


def _source_info(kind: str, profile, path: str | None, sync_note: str | None = None) -> SourceInfo:
    device = profile.get_device()
    stream = profile.get_stream(rs.stream.depth).as_video_stream_profile()

    def info(field):
        return device.get_info(field) if device.supports(field) else ""

    return SourceInfo(
        kind=kind,
        name=info(rs.camera_info.name),
        serial=info(rs.camera_info.serial_number),
        path=path,
        intrinsics=_intrinsics_of(stream),
        fps=stream.fps(),
        depth_unit_m=float(device.first_depth_sensor().get_depth_scale()),
        usb_type=(info(rs.camera_info.usb_type_descriptor) or None) if kind == "camera" else None,
        sync_note=sync_note,
    )


def open_recording(path, *, real_time: bool = False, filters: FilterSettings = FilterSettings(),
                   sync_mode: int | None = None) -> FrameSource:
    """Open a RealSense recording (``.db3``, or ``.bag`` from before librealsense 2.58).

    Parameters
    ----------
    path : str or Path
        The recording.
    real_time : bool
        Pace frames by their timestamps (demo, replayed sessions) instead of
        reading as fast as possible (analysis). Either way no frame is skipped.
    filters : FilterSettings
        librealsense post-processing to apply.
    sync_mode : int, optional
        Hardware sync asked for, as of a live camera (:func:`apply_sync_mode`):
        a playback has no such option, so ``info.sync_note`` says so.

    Raises
    ------
    RecordingError
        The file is missing, not a recording, corrupt, or has no depth stream.
    """
    _require_rs()
    path = Path(path)
    if not path.is_file():
        raise RecordingError(f"recording not found: {path}")
    if path.suffix.lower() not in RECORDING_SUFFIXES:
        raise RecordingError(f"{path} is not a RealSense recording: expected a .db3 or .bag file")
    blocks = _filter_blocks(filters)  # before the pipeline starts: nothing to clean up if it fails
    # Counted and closed before librealsense opens the file: its own SQLite must never share it with ours.
    stated = _stated_depth_frames(path)
    pipeline = rs.pipeline()
    config = rs.config()
    config.enable_device_from_file(str(path), repeat_playback=False)
    config.enable_stream(rs.stream.depth)
    try:
        device = config.resolve(rs.pipeline_wrapper(pipeline)).get_device()
        sync_note = None if sync_mode is None else apply_sync_mode(device, sync_mode)
        profile = start_playback(pipeline, config, device.as_playback(), frames=stated)
    except RuntimeError as error:
        reason = _one_line(error)
        if "couldn't resolve requests" in reason.lower():
            reason = "it has no depth frames"
        raise RecordingError(f"cannot read recording {path}: {reason}") from None
    info = _source_info("recording", profile, str(path), sync_note)
    # A recording that stalls this long without ending is broken, not slow.
    return FrameSource(pipeline, profile, info, blocks, real_time=real_time, frame_timeout_s=10.0,
                       stated_frames=stated)


def _stated_depth_frames(path: Path) -> int | None:
    """How many depth frames a ``.db3`` recording holds (its rosbag2 index), or None for a ``.bag``.

    Reading fewer than this means the file was cut short or damaged on the way.
    """
    if path.suffix.lower() != ".db3":
        return None
    try:
        with contextlib.closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
            row = db.execute("SELECT count(*) FROM messages m JOIN topics t ON t.id = m.topic_id"
                             " WHERE t.name LIKE '%/Depth_%/image/data%'").fetchone()
    except sqlite3.Error as error:
        raise RecordingError(f"cannot read recording {path}: it is damaged ({error})") from None
    return int(row[0]) or None


def connected_cameras() -> list[tuple[str, str]]:
    """(name, serial) of every RealSense device connected now."""
    _require_rs()
    return [
        (device.get_info(rs.camera_info.name), device.get_info(rs.camera_info.serial_number))
        for device in rs.context().query_devices()
    ]


def open_camera(*, serial: str | None = None, width: int = 424, height: int = 240, fps: int = 30,
                filters: FilterSettings = FilterSettings(), frame_timeout_s: float = 5.0,
                sync_mode: int | None = None) -> FrameSource:
    """Open a live RealSense D400 camera's depth stream.

    Parameters
    ----------
    serial : str, optional
        Which camera, when several are connected; the first one otherwise.
    width, height, fps : int
        Depth stream mode, e.g. 424x240, 640x480 or 848x480 at 15 or 30 fps.
    frame_timeout_s : float
        Seconds to wait for a frame before reporting the camera lost.
    sync_mode : int, optional
        The camera's hardware sync role (:data:`SYNC_MASTER` or :data:`SYNC_SLAVE`),
        set before it streams; ``info.sync_note`` says when it could not be.

    The returned source's ``info.usb_type`` is the link the camera reports;
    on USB 2, :func:`usb_warning`'s advice is logged once, on the
    ``station.camera`` logger.

    Raises
    ------
    NoCameraError
        No camera (or not the named one) is connected.
    CameraError
        The camera is there but would not stream in that mode.
    """
    cameras = connected_cameras()
    hint = "or work from a recording instead (wallhinge simulate makes one, wallhinge inspect reads one)"
    if not cameras:
        raise NoCameraError(f"no RealSense camera is connected: plug one into a USB 3 port, {hint}")
    if serial is not None and serial not in {s for _, s in cameras}:
        found = ", ".join(s for _, s in cameras)
        raise NoCameraError(f"no RealSense camera with serial {serial} is connected (found: {found}), {hint}")
    blocks = _filter_blocks(filters)
    pipeline = rs.pipeline()
    config = rs.config()
    if serial is not None:
        config.enable_device(serial)
    config.enable_stream(rs.stream.depth, width, height, rs.format.z16, fps)
    try:
        sync_note = None
        if sync_mode is not None:
            sync_note = apply_sync_mode(config.resolve(rs.pipeline_wrapper(pipeline)).get_device(), sync_mode)
        profile = pipeline.start(config)
    except RuntimeError as error:
        raise CameraError(f"the camera would not stream depth at {width}x{height} {fps} fps: {_one_line(error)}") from None
    info = _source_info("camera", profile, None, sync_note)
    warning = usb_warning(info.usb_type or "")
    if warning:
        log.warning("%s %s: %s", info.name, info.serial, warning)
    return FrameSource(pipeline, profile, info, blocks, real_time=True, frame_timeout_s=frame_timeout_s)
