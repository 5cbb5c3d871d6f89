"""Tests of the frame source (station.camera) on recordings written by RecordingWriter."""

import logging
import os
import sys
import threading
import time
from dataclasses import asdict
from types import SimpleNamespace

import numpy as np
import pytest

from station import camera as camera_module
from station.camera import FilterSettings, connected_cameras, open_camera, open_recording, usb_warning
from station.errors import CameraError, NoCameraError, RecordingError, WallHingeError
from station.geometry import Intrinsics
from station.sim.recording import RecordingWriter
from station.sim.scene import d400_intrinsics

# Range threshold off too, so that every written value comes back as it was.
NO_FILTERS = FilterSettings(min_distance_m=0, max_distance_m=0)
SERIAL = "TEST-1234"
NAME = "Intel RealSense D435 (test)"


def write_recording(path, frames, *, intrinsics, fps, **writer_options):
    """Write ``frames`` (uint16 images) at ``i / fps`` seconds; returns the path."""
    with RecordingWriter(path, intrinsics, fps, **writer_options) as writer:
        for index, depth in enumerate(frames):
            writer.write(depth, index / fps)
    return path


def random_frames(count, width, height, seed=0):
    """Random uint16 depth over the whole range 0..65535, with 0 and 65535 in every frame."""
    rng = np.random.default_rng(seed)
    frames = [rng.integers(0, 65536, size=(height, width), dtype=np.uint16) for _ in range(count)]
    for depth in frames:
        depth[0, 0], depth[-1, -1] = 0, 65535
    return frames


def read_all(path, **options):
    options.setdefault("filters", NO_FILTERS)
    with open_recording(path, **options) as source:
        return source.info, list(source)


@pytest.fixture(scope="module")
def random_recording(tmp_path_factory):
    """45 random frames at 424x240, 30 fps: (path, frames, intrinsics, fps)."""
    intrinsics, fps = d400_intrinsics(424, 240), 30
    frames = random_frames(45, 424, 240)
    path = tmp_path_factory.mktemp("random") / "random.db3"
    write_recording(path, frames, intrinsics=intrinsics, fps=fps, serial=SERIAL, name=NAME)
    return path, frames, intrinsics, fps


def steady_recording(path, seconds, fps=30):
    """A flat 1.5 m scene lasting ``seconds`` at 424x240: (path, frame count)."""
    count = int(round(seconds * fps))
    frames = [np.full((240, 424), 1500, np.uint16)] * count
    return write_recording(path, frames, intrinsics=d400_intrinsics(424, 240), fps=fps), count


def check_round_trip(info, read, frames, intrinsics, fps):
    assert len(read) == len(frames)
    for index, (frame, written) in enumerate(zip(read, frames)):
        assert frame.depth.dtype == np.uint16
        assert np.array_equal(frame.depth, written), f"frame {index} differs from what was written"
        assert frame.timestamp_s == pytest.approx(index / fps, abs=1e-6)
        assert frame.intrinsics == intrinsics
        assert frame.depth_unit_m == pytest.approx(0.001, abs=1e-9)
    numbers = [frame.frame_number for frame in read]
    assert all(later > earlier for earlier, later in zip(numbers, numbers[1:])), numbers
    assert info.kind == "recording"
    assert info.intrinsics == intrinsics
    assert info.fps == fps
    assert info.depth_unit_m == pytest.approx(0.001, abs=1e-9)


# -- round trips -----------------------------------------------------------------

def test_random_depth_round_trips_exactly(random_recording):
    path, frames, intrinsics, fps = random_recording
    info, read = read_all(path)
    check_round_trip(info, read, frames, intrinsics, fps)
    assert info.serial == SERIAL
    assert info.name == NAME
    assert info.path == str(path)


def test_repeated_reads_never_skip_a_frame(random_recording):
    path, frames, intrinsics, fps = random_recording
    for attempt in range(5):
        info, read = read_all(path)
        assert len(read) == len(frames), f"read {attempt + 1}: {len(read)} of {len(frames)} frames"
        assert np.array_equal(read[0].depth, frames[0]), f"read {attempt + 1} lost the first frame"
        assert read[0].timestamp_s == 0.0
        check_round_trip(info, read, frames, intrinsics, fps)


@pytest.mark.parametrize("width, height, fps", [(848, 480, 30), (640, 480, 15)])
def test_round_trip_at_other_resolutions_and_rates(tmp_path, width, height, fps):
    intrinsics = d400_intrinsics(width, height)
    frames = random_frames(4, width, height, seed=width)
    path = write_recording(tmp_path / "frames.db3", frames, intrinsics=intrinsics, fps=fps)
    info, read = read_all(path)
    check_round_trip(info, read, frames, intrinsics, fps)
    assert read[0].depth.shape == (height, width)


def test_frames_are_written_raw_by_default_and_compressed_on_request_and_read_back_the_same(tmp_path):
    """Raw frames need no decoding on playback (as a live camera's); librealsense's own compression is lossless."""
    width, height, count = 424, 240, 6
    intrinsics = d400_intrinsics(width, height)
    # A smooth scene (a floor-like ramp with a few holes), which the codec can shrink; random depth could not be.
    ramp = (1000 + 4 * np.arange(height)[:, np.newaxis] + np.arange(width)).astype(np.uint16)
    frames = [np.where((np.arange(width) + shift) % 50 == 0, 0, ramp).astype(np.uint16) for shift in range(count)]
    raw = write_recording(tmp_path / "raw.db3", frames, intrinsics=intrinsics, fps=30)
    compressed = write_recording(tmp_path / "compressed.db3", frames, intrinsics=intrinsics, fps=30, compressed=True)
    assert raw.stat().st_size >= count * width * height * 2
    assert compressed.stat().st_size < count * width * height * 2
    for path in (raw, compressed):
        info, read = read_all(path)
        check_round_trip(info, read, frames, intrinsics, 30)


def test_simulated_recording_matches_its_truth(short_recording):
    path, truth = short_recording
    info, read = read_all(path)
    assert len(read) == len(truth["frames"])
    for frame, expected in zip(read, truth["frames"]):
        assert frame.timestamp_s == pytest.approx(expected["t_s"], abs=1e-6)
    expected_intrinsics = Intrinsics(**truth["intrinsics"])
    assert info.intrinsics == expected_intrinsics
    assert asdict(read[0].intrinsics) == truth["intrinsics"]



def write_d435_layout_recording(path, frames, *, intrinsics, fps, depth_unit_m):
    """Record ``frames`` as a D435 records them, not as our simulator does: the stereo module streams two
    infrared images before its depth, the colour camera is a second sensor, depth is in ``depth_unit_m``
    and times are on the camera's hardware clock (milliseconds since it powered up)."""
    import pyrealsense2 as rs

    from station.sim.recording import _rs_intrinsics

    device = rs.software_device()
    device.register_info(rs.camera_info.name, "Intel RealSense D435")
    device.register_info(rs.camera_info.serial_number, "123456789012")
    stereo, colour_camera = device.add_sensor("Stereo Module"), device.add_sensor("RGB Camera")

    def add(sensor, kind, index, uid, fmt, bpp, size):
        stream = rs.video_stream()
        stream.type, stream.index, stream.uid, stream.fmt, stream.bpp = kind, index, uid, fmt, bpp
        stream.width, stream.height, stream.fps = size.width, size.height, fps
        stream.intrinsics = _rs_intrinsics(size)
        return sensor.add_video_stream(stream).as_video_stream_profile()

    colour_size = d400_intrinsics(640, 480)
    left = add(stereo, rs.stream.infrared, 1, 1, rs.format.y8, 1, intrinsics)
    right = add(stereo, rs.stream.infrared, 2, 2, rs.format.y8, 1, intrinsics)
    depth = add(stereo, rs.stream.depth, 0, 3, rs.format.z16, 2, intrinsics)
    colour = add(colour_camera, rs.stream.color, 0, 4, rs.format.rgb8, 3, colour_size)
    stereo.add_read_only_option(rs.option.depth_units, depth_unit_m)
    recorder = rs.recorder(str(path), device, False)
    queues = rs.frame_queue(16), rs.frame_queue(16)
    stereo.open([left, right, depth])
    stereo.start(queues[0])
    colour_camera.open(colour)
    colour_camera.start(queues[1])
    infrared = np.full((intrinsics.height, intrinsics.width), 90, np.uint8)
    picture = np.full((480, 640, 3), 120, np.uint8)
    for number, image in enumerate(frames):
        for sensor, queue, profile, pixels in ((stereo, queues[0], left, infrared), (stereo, queues[0], right, infrared),
                                               (stereo, queues[0], depth, image),
                                               (colour_camera, queues[1], colour, picture)):
            frame = rs.software_video_frame()
            frame.pixels = np.ascontiguousarray(pixels)
            frame.bpp = pixels.itemsize * (pixels.shape[2] if pixels.ndim == 3 else 1)
            frame.stride = pixels.shape[1] * frame.bpp
            frame.timestamp = 5.0e6 + 1000.0 * number / fps
            frame.domain = rs.timestamp_domain.hardware_clock
            frame.frame_number = 1000 + number
            frame.profile = profile
            sensor.on_video_frame(frame)
            while queue.poll_for_frame():
                pass  # nothing reads the sensors' own output: keep their queues from filling
    for sensor in (stereo, colour_camera):
        sensor.stop()
        sensor.close()
    del recorder  # writes the file's end
    return path


def test_a_recording_laid_out_as_a_d435_records_it_plays_its_depth_as_written(tmp_path):
    """Recordings made elsewhere carry infrared and colour streams, other depth units and the camera's own clock."""
    intrinsics, fps = d400_intrinsics(424, 240), 30
    frames = random_frames(12, 424, 240, seed=7)
    path = write_d435_layout_recording(tmp_path / "d435.db3", frames, intrinsics=intrinsics, fps=fps,
                                       depth_unit_m=0.0001)
    info, read = read_all(path)
    assert len(read) == len(frames)
    for index, (frame, written) in enumerate(zip(read, frames)):
        assert np.array_equal(frame.depth, written), f"frame {index} differs from what was written"
        assert frame.timestamp_s == pytest.approx(index / fps, abs=1e-6)
        assert frame.depth_unit_m == pytest.approx(0.0001, rel=1e-6)
    assert info.intrinsics == intrinsics
    assert info.fps == fps
    assert info.depth_unit_m == pytest.approx(0.0001, rel=1e-6)
    assert info.serial == "123456789012"

# -- playback pace and closing ---------------------------------------------------

def test_real_time_playback_is_paced_by_timestamps(tmp_path):
    path, count = steady_recording(tmp_path / "one-second.db3", 1.0)

    started = time.monotonic()
    _, paced = read_all(path, real_time=True)
    paced_s = time.monotonic() - started

    started = time.monotonic()
    _, fast = read_all(path, real_time=False)
    fast_s = time.monotonic() - started

    assert len(paced) == count, "real-time playback skipped frames"
    assert len(fast) == count
    assert paced_s >= 0.8, f"a 1 s recording played in real time in {paced_s:.2f} s"
    assert fast_s < paced_s


def test_close_from_another_thread_ends_real_time_playback(tmp_path):
    path, count = steady_recording(tmp_path / "three-seconds.db3", 3.0)
    source = open_recording(path, real_time=True, filters=NO_FILTERS)
    timer = threading.Timer(0.3, source.close)
    try:
        frames = iter(source)
        read = [next(frames)]  # playing: now close it 0.3 s into the 3 s
        timer.start()
        read.extend(frames)
    finally:
        timer.cancel()
        if timer.is_alive():
            timer.join()
        source.close()
    assert source.closed
    assert len(read) < count // 2, f"{len(read)} of {count} frames came before the iteration ended"


def test_close_twice_and_after_the_end_is_harmless(random_recording):
    path = random_recording[0]
    with open_recording(path, filters=NO_FILTERS) as source:
        assert not source.closed
        assert len(list(source)) == len(random_recording[1])
        source.close()
        assert source.closed
    source.close()
    assert list(source) == []


def playback_status(source):
    """librealsense's own playback state behind a recording's source."""
    return source._profile.get_device().as_playback().current_status()


def test_reading_every_frame_leaves_playback_stopped_at_the_end_of_the_file(random_recording):
    # Stopping the pipeline (or releasing the device) while playback is still
    # reading crashed librealsense under load: the source first lets it stop.
    source = open_recording(random_recording[0], filters=NO_FILTERS)
    try:
        frames = list(source)
        status = playback_status(source)
    finally:
        source.close()
    assert len(frames) == len(random_recording[1])
    assert status == camera_module.rs.playback_status.stopped
    assert playback_status(source) == camera_module.rs.playback_status.stopped


def test_closing_mid_way_returns_with_playback_stopped(tmp_path):
    path, count = steady_recording(tmp_path / "one-second.db3", 1.0)
    source = open_recording(path, filters=NO_FILTERS)
    frames = iter(source)
    next(frames)
    source.close()
    assert playback_status(source) == camera_module.rs.playback_status.stopped
    assert list(frames) == []


def readers(path):
    """The threads reading ``path`` ahead (see FrameSource._read_ahead) that are still running."""
    return [thread for thread in threading.enumerate() if thread.name == f"read {path.name}" and thread.is_alive()]


def test_a_recording_read_as_fast_as_possible_is_decoded_ahead_on_its_own_thread(random_recording):
    path, frames = random_recording[:2]
    with open_recording(path, filters=NO_FILTERS) as source:
        reading = iter(source)
        first = next(reading)
        assert len(readers(path)) == 1
        rest = list(reading)
        assert readers(path) == []  # it ended with the frames
    assert [frame.frame_number for frame in [first] + rest] == sorted({f.frame_number for f in [first] + rest})
    assert all(np.array_equal(frame.depth, written) for frame, written in zip([first] + rest, frames))
    assert len(rest) + 1 == len(frames)


def test_reading_ahead_shortens_the_switch_interval_while_it_reads_and_restores_it(tmp_path):
    # The reader must not wait 5 ms for the measuring thread each time it comes back from librealsense.
    path, _ = steady_recording(tmp_path / "switch.db3", 0.5)
    before = sys.getswitchinterval()
    with open_recording(path, filters=NO_FILTERS) as source, open_recording(path, filters=NO_FILTERS) as other:
        first, second = iter(source), iter(other)
        next(first), next(second)  # two recordings read ahead at once, as a camera pair's are
        assert sys.getswitchinterval() == camera_module._READ_AHEAD_SWITCH_INTERVAL_S
        list(first)
        assert sys.getswitchinterval() == camera_module._READ_AHEAD_SWITCH_INTERVAL_S  # the other still reads
        second.close()
    assert sys.getswitchinterval() == before


def test_real_time_playback_reads_on_the_callers_thread(tmp_path):
    path, _ = steady_recording(tmp_path / "paced.db3", 0.2)
    with open_recording(path, real_time=True, filters=NO_FILTERS) as source:
        reading = iter(source)
        next(reading)
        assert readers(path) == []


def test_abandoning_a_read_ahead_ends_its_thread_and_closing_stops_playback(tmp_path):
    path, _ = steady_recording(tmp_path / "abandoned.db3", 2.0)
    source = open_recording(path, filters=NO_FILTERS)
    try:
        reading = iter(source)
        next(reading)
        reading.close()  # as a `for` loop left by break or an error does
        assert readers(path) == []
    finally:
        source.close()
    assert playback_status(source) == camera_module.rs.playback_status.stopped


def test_closing_a_source_from_another_thread_ends_its_read_ahead(tmp_path):
    path, count = steady_recording(tmp_path / "closed.db3", 3.0)
    source = open_recording(path, filters=NO_FILTERS)
    read = []
    try:
        for frame in source:
            read.append(frame)
            if len(read) == 5:
                closer = threading.Thread(target=source.close)
                closer.start()
                closer.join(timeout=10)
                assert not closer.is_alive(), "close() hung on the reading thread"
    finally:
        source.close()
    assert readers(path) == []
    assert 5 <= len(read) < count
    assert playback_status(source) == camera_module.rs.playback_status.stopped


def test_reading_ahead_holds_at_most_its_budget_and_closing_frees_a_reader_that_waits(random_recording, monkeypatch):
    path, frames = random_recording[:2]
    monkeypatch.setattr(camera_module, "_READ_AHEAD_BYTES", 4 * 424 * 240 * 2)  # four frames
    decoded = []
    to_depth_frame = camera_module.FrameSource._to_depth_frame
    monkeypatch.setattr(camera_module.FrameSource, "_to_depth_frame",
                        lambda source, depth: decoded.append(1) or to_depth_frame(source, depth))
    source = open_recording(path, filters=NO_FILTERS)
    try:
        reading = iter(source)
        next(reading)
        deadline = time.monotonic() + 5.0
        while len(decoded) < 6 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)
        # The one taken, four queued and one waiting for room; never all 45.
        assert len(decoded) <= 6 < len(frames)
    finally:
        source.close()
    assert readers(path) == []


def test_a_recording_is_read_by_one_iteration_at_a_time(random_recording):
    with open_recording(random_recording[0], filters=NO_FILTERS) as source:
        first = iter(source)
        next(first)
        with pytest.raises(RuntimeError, match="one iteration at a time"):
            next(iter(source))


def test_a_damaged_recording_read_ahead_gives_every_good_frame_then_one_error_line(short_recording, tmp_path):
    from tests.test_analyze import damaged_copy
    path = damaged_copy(short_recording[0], tmp_path, frame_index=40)
    read = []
    with pytest.raises(RecordingError) as caught:
        with open_recording(path) as source:
            for frame in source:
                read.append(frame)
    assert len(read) == 40
    message = str(caught.value)
    assert "ends early" in message and "(40 of " in message and "\n" not in message
    assert readers(path) == []


# -- filters ---------------------------------------------------------------------

def test_decimation_halves_the_image_and_its_intrinsics(random_recording):
    path, frames, intrinsics, _ = random_recording
    info, read = read_all(path, filters=FilterSettings(decimation=2, min_distance_m=0, max_distance_m=0))
    assert len(read) == len(frames)
    assert info.intrinsics == intrinsics  # the source's, before decimation
    for frame in read:
        assert frame.depth.shape == (intrinsics.height // 2, intrinsics.width // 2)
        assert (frame.intrinsics.width, frame.intrinsics.height) == (intrinsics.width // 2, intrinsics.height // 2)
        assert frame.intrinsics.fx == pytest.approx(intrinsics.fx / 2, rel=0.01)
        assert frame.intrinsics.fy == pytest.approx(intrinsics.fy / 2, rel=0.01)
        assert frame.intrinsics.ppx == pytest.approx(intrinsics.ppx / 2, abs=1.0)
        assert frame.intrinsics.ppy == pytest.approx(intrinsics.ppy / 2, abs=1.0)


def test_threshold_zeroes_depth_outside_the_range(tmp_path):
    # Depth units are millimetres: 500..2000 is inside 0.5..2.0 m.
    values = np.array([0, 100, 300, 499, 501, 1000, 1500, 1999, 2001, 2500, 4000, 65535], np.uint16)
    depth = np.resize(values, (240, 424)).astype(np.uint16)
    path = write_recording(tmp_path / "ramp.db3", [depth] * 3, intrinsics=d400_intrinsics(424, 240), fps=30)
    _, read = read_all(path, filters=FilterSettings(min_distance_m=0.5, max_distance_m=2.0))
    assert len(read) == 3
    inside = (depth > 500) & (depth < 2000)
    for frame in read:
        assert np.array_equal(frame.depth[inside], depth[inside]), "values inside the range changed"
        assert not frame.depth[~inside].any(), "values outside the range were kept"


def test_a_recording_longer_than_the_held_ones_cannot_end_while_nothing_reads_it(tmp_path):
    """What start_playback's limit rests on: with real time off, librealsense reads a recording's next frame
    only once the last is taken, so one just longer than the limit, started and left unread, is still playing:
    it cannot end while its pipeline starts, and is started unpaused (a paused start sometimes takes 10 s).
    (A one-frame recording reaches its end at once, which is why those are held paused; starting one unpaused
    here would risk the crash start_playback avoids.)"""
    rs = camera_module.rs
    frames = camera_module._READ_AT_START_FRAMES + 1
    path = steady_recording(tmp_path / "short.db3", frames / 30)[0]
    pipeline, config = rs.pipeline(), rs.config()
    config.enable_device_from_file(str(path), repeat_playback=False)
    config.enable_stream(rs.stream.depth)
    playback = config.resolve(rs.pipeline_wrapper(pipeline)).get_device().as_playback()
    playback.set_real_time(False)
    pipeline.start(config)
    try:
        time.sleep(0.5)  # nothing reads
        ended = playback.current_status() == rs.playback_status.stopped
        while pipeline.try_wait_for_frames(300)[0]:
            pass
        camera_module.wait_for_playback_stop(playback)
    finally:
        pipeline.stop()
    assert not ended


@pytest.mark.parametrize("depth_unit_m", [0.001, 0.0001, 0.00025])
def test_the_range_threshold_keeps_exactly_the_pixels_librealsense_keeps(tmp_path, depth_unit_m):
    """Every uint16 value, through librealsense's threshold filter and through the source's own."""
    every_value = np.zeros((240, 424), np.uint16)
    every_value.reshape(-1)[:65536] = np.arange(65536)
    path = write_recording(tmp_path / "every-value.db3", [every_value], intrinsics=d400_intrinsics(424, 240),
                           fps=30, depth_unit_m=depth_unit_m)
    rs = camera_module.rs
    ranges = [(0.2, 6.0), (0.0, 6.0), (0.3, 4.0), (0.5, 0.0), (0.1, 0.25), (1.234567, 5.4321), (15.9, 16.0)]
    # librealsense's own: the recording's one frame through its threshold filter, one playback for
    # all ranges, opened as the station opens one (real time off before the start, depth only).
    pipeline, config = rs.pipeline(), rs.config()
    config.enable_device_from_file(str(path), repeat_playback=False)
    config.enable_stream(rs.stream.depth)
    playback = config.resolve(rs.pipeline_wrapper(pipeline)).get_device().as_playback()
    camera_module.start_playback(pipeline, config, playback, frames=1)
    try:
        raw = pipeline.wait_for_frames().get_depth_frame()
        expected_by_range = []
        for low, high in ranges:
            threshold = rs.threshold_filter()
            threshold.set_option(rs.option.min_distance, low)
            threshold.set_option(rs.option.max_distance, high or 16.0)
            expected_by_range.append(np.array(threshold.process(raw).get_data(), np.uint16, copy=True))
        del raw
        # The file's one frame is read: let the playback stop at the file's end before the
        # pipeline is stopped, as the station does (stopping first crashed about 2% of runs).
        camera_module.wait_for_playback_stop(playback)
    finally:
        pipeline.stop()
    kept = []
    for (low, high), expected in zip(ranges, expected_by_range):
        _, (frame,) = read_all(path, filters=FilterSettings(min_distance_m=low, max_distance_m=high))
        assert np.array_equal(frame.depth, expected), (depth_unit_m, low, high)
        kept.append(np.count_nonzero(expected))
    assert 0 < max(kept) and max(kept) < 65535  # (at 0.1 mm a unit, 15.9-16 m is past the range: none kept)


def test_the_range_threshold_runs_in_librealsense_when_a_filter_follows_it():
    blocks = camera_module._filter_blocks(FilterSettings(hole_filling=True))
    assert not any(isinstance(block, camera_module.DepthRange) for block in blocks)
    assert isinstance(camera_module._filter_blocks(FilterSettings())[-1], camera_module.DepthRange)


@pytest.mark.parametrize("settings, field", [
    (dict(decimation=0), "decimation"),
    (dict(decimation=9), "decimation"),
    (dict(decimation=2.5), "decimation"),
    (dict(min_distance_m=2.0, max_distance_m=1.0), "min_distance_m"),
    (dict(min_distance_m=1.0, max_distance_m=1.0), "min_distance_m"),
    (dict(min_distance_m=-0.1), "min_distance_m"),
    (dict(max_distance_m=-1.0), "max_distance_m"),
    (dict(max_distance_m=20.0), "max_distance_m"),  # librealsense's threshold stops at 16 m
    (dict(min_distance_m=17.0, max_distance_m=0.0), "min_distance_m"),
])
def test_invalid_filter_settings_name_the_field(settings, field):
    with pytest.raises(ValueError, match=field):
        FilterSettings(**settings)
    with pytest.raises(ValueError, match=field):
        FilterSettings.from_dict(settings)


def test_unknown_filter_setting_is_named():
    with pytest.raises(ValueError, match="unknown setting filters.median"):
        FilterSettings.from_dict({"decimation": 2, "median": True})


def test_filter_settings_from_dict_accepts_known_keys():
    settings = FilterSettings.from_dict({"decimation": 4, "min_distance_m": 0.3, "temporal": True})
    assert settings == FilterSettings(decimation=4, min_distance_m=0.3, temporal=True)


# -- bad recordings --------------------------------------------------------------

def write_bytes(path, data):
    path.write_bytes(data)
    return path


def missing(tmp_path, _):
    return tmp_path / "missing.db3"


def wrong_extension(tmp_path, recording):
    return write_bytes(tmp_path / "recording.txt", recording.read_bytes())


def garbage_db3(tmp_path, _):
    return write_bytes(tmp_path / "garbage.db3", os.urandom(20_000))


def garbage_bag(tmp_path, _):
    return write_bytes(tmp_path / "garbage.bag", os.urandom(20_000))


def truncated(tmp_path, recording):
    data = recording.read_bytes()
    return write_bytes(tmp_path / "truncated.db3", data[: len(data) // 2])


def empty_db3(tmp_path, _):
    return write_bytes(tmp_path / "empty.db3", b"")


@pytest.mark.parametrize("make_bad_file", [missing, wrong_extension, garbage_db3, garbage_bag, truncated, empty_db3])
def test_bad_recordings_raise_a_one_line_recording_error(tmp_path, random_recording, make_bad_file):
    path = make_bad_file(tmp_path, random_recording[0])
    with pytest.raises(RecordingError) as caught:
        with open_recording(path) as source:
            list(source)
    error = caught.value
    assert isinstance(error, OSError)
    assert isinstance(error, WallHingeError)
    message = str(error)
    assert str(path) in message
    assert "\n" not in message and "\r" not in message
    assert "Traceback" not in message


def test_a_recording_without_frames_says_so(tmp_path):
    path = write_recording(tmp_path / "no-frames.db3", [], intrinsics=d400_intrinsics(424, 240), fps=30)
    with pytest.raises(RecordingError, match="no depth frames"):
        open_recording(path)


# -- cameras ---------------------------------------------------------------------

def test_no_camera_is_connected_here():
    assert connected_cameras() == []


@pytest.mark.parametrize("options", [{}, {"serial": "123"}])
def test_open_camera_without_a_camera_says_to_use_a_recording(options):
    with pytest.raises(NoCameraError) as caught:
        open_camera(**options)
    error = caught.value
    assert isinstance(error, CameraError)
    assert isinstance(error, RuntimeError)
    assert isinstance(error, WallHingeError)
    message = str(error)
    assert "\n" not in message
    assert "no RealSense camera" in message and "connected" in message
    assert "recording" in message


# -- the camera's USB link -------------------------------------------------------

@pytest.mark.parametrize("usb_type", ["3.2", "3.1", "3.0", "3", " 3.2 ", "", "Undefined"])
def test_usb3_or_unknown_gives_no_warning(usb_type):
    assert usb_warning(usb_type) is None


@pytest.mark.parametrize("usb_type", ["2.1", "2.0", "2.01", "1.1", " 2.1 "])
def test_usb2_gives_what_to_do(usb_type):
    warning = usb_warning(usb_type)
    assert f"USB {usb_type.strip()}," in warning and "blue USB 3 port" in warning
    assert "systemctl restart wallhinge-station" in warning
    assert "\n" not in warning


@pytest.mark.parametrize("usb_type", [3.2, None, b"2.1"])
def test_usb_warning_wants_text(usb_type):
    with pytest.raises(TypeError):
        usb_warning(usb_type)


class _StubCamera:
    """What open_camera asks of librealsense for one camera reporting ``usb_type`` (None: it cannot say)."""

    def __init__(self, usb_type):
        rs = camera_module.rs
        self.infos = {rs.camera_info.name: NAME, rs.camera_info.serial_number: SERIAL}
        if usb_type is not None:
            self.infos[rs.camera_info.usb_type_descriptor] = usb_type
        self.stopped = False

    # device
    def supports(self, field):
        return field in self.infos

    def get_info(self, field):
        return self.infos[field]

    def first_depth_sensor(self):
        return SimpleNamespace(get_depth_scale=lambda: 0.001)

    # pipeline, profile, stream profile
    def start(self, config):
        return self

    def stop(self):
        self.stopped = True

    def get_device(self):
        return self

    def get_stream(self, stream):
        return self

    def as_video_stream_profile(self):
        return self

    def get_intrinsics(self):
        i = d400_intrinsics(424, 240)
        return SimpleNamespace(width=i.width, height=i.height, fx=i.fx, fy=i.fy, ppx=i.ppx, ppy=i.ppy)

    def fps(self):
        return 30


@pytest.mark.parametrize("usb_type, warns", [("2.1", True), ("3.2", False), (None, False)])
def test_open_camera_reads_the_usb_link_and_logs_a_usb2_warning_once(monkeypatch, caplog, usb_type, warns):
    stub = _StubCamera(usb_type)
    monkeypatch.setattr(camera_module, "connected_cameras", lambda: [(NAME, SERIAL)])
    monkeypatch.setattr(camera_module.rs, "pipeline", lambda: stub)
    with caplog.at_level(logging.WARNING, logger="station.camera"):
        with open_camera() as source:
            assert source.info.kind == "camera" and source.info.serial == SERIAL
            assert source.info.usb_type == usb_type
    assert stub.stopped
    warnings = [record for record in caplog.records if record.name == "station.camera"]
    assert len(warnings) == (1 if warns else 0)
    if warns:
        assert warnings[0].levelno == logging.WARNING
        assert SERIAL in warnings[0].getMessage() and usb_warning(usb_type) in warnings[0].getMessage()


def test_a_recording_has_no_usb_link(random_recording):
    info, _ = read_all(random_recording[0])
    assert info.usb_type is None


# -- the writer ------------------------------------------------------------------

@pytest.mark.parametrize("name", ["session.bag", "session.txt", "session"])
def test_writer_refuses_a_path_that_is_not_db3(tmp_path, name):
    with pytest.raises(RecordingError, match="db3"):
        RecordingWriter(tmp_path / name, d400_intrinsics(424, 240), 30)
    assert not (tmp_path / name).exists()


@pytest.mark.parametrize("bad_depth", [
    np.zeros((424, 240), np.uint16),  # transposed
    np.zeros((240, 423), np.uint16),
    np.zeros((240, 424, 1), np.uint16),
    np.zeros((240, 424), np.int32),
    np.zeros((240, 424), np.float32),
    np.zeros((240, 424), np.int16),
], ids=["transposed", "narrow", "3d", "int32", "float32", "int16"])
def test_writer_refuses_a_frame_of_the_wrong_shape_or_dtype(tmp_path, bad_depth):
    with RecordingWriter(tmp_path / "bad.db3", d400_intrinsics(424, 240), 30) as writer:
        with pytest.raises(ValueError, match="uint16"):
            writer.write(bad_depth, 0.0)
