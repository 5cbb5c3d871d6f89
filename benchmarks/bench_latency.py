"""The live station's feedback latency, and its memory over a long session.

    python benchmarks/bench_latency.py [--loops 4] [--minutes 10] [--only latency|memory]

**Latency.** A simulated recording (``all-faults``, 30 fps, 424x240, cached
in data/bench/) is injected frame by frame into a live ``rs.software_device``
at 30 frames a second, ``--loops`` times in a row (timestamps running on,
so the patient walks in again each time). The session loop
(:func:`station.session.run_session`, mock pins, muted off) reads it as it
reads a camera: :class:`station.camera.FrameSource`'s camera path
(``wait_for_frames`` with the frame timeout, the same librealsense filters,
the same conversion to a ``DepthFrame``), then measures, detects reps and
calls the feedback in the camera thread, with the store and a live publisher
running beside it.

One difference from a camera: librealsense (2.59 here) does not list a
software device added to a context (``software_device.add_to(ctx)`` leaves
``ctx.query_devices()`` empty and ``rs.pipeline(ctx).start()`` says "No
device connected"), so the frames reach ``FrameSource`` from the software
sensor's ``rs.frame_queue`` instead of through ``rs.pipeline``'s own queue.

From the mock pins' histories (``pin.states`` holds the time since the
previous change; each pin's absolute times follow from its creation) it
takes, for every touch, the time from the moment the frame in which the
touch is seen was handed to the software sensor to the buzzer's pip, and for
every rep, from the moment the frame that ends it was handed over to its
first lamp change (green for a good rep, red for one with a fault). Prints
median, p99 and max (target: p99 at most 50 ms).

**Memory.** A ``--minutes``-long session: the same recording looped through
``rs.pipeline`` playback (``open_recording``), restamped to run on, and read
as fast as it goes (not paced: the frame loop's code is the same, only
time is compressed). Prints the process's resident memory (VmRSS from
/proc/self/status) at every minute of session time, with the reps stored
so far.

No assertions: figures to read.
"""

import argparse
import dataclasses
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pyrealsense2 as rs
from gpiozero.pins.mock import MockFactory, MockPWMPin

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from station.camera import FilterSettings, FrameSource, SourceInfo, _filter_blocks, open_recording  # noqa: E402
from station.feedback import PinMap  # noqa: E402
from station.session import run_session  # noqa: E402
from station.settings import load_settings  # noqa: E402
from station.sim.recording import _rs_intrinsics  # noqa: E402
from station.sim.scenarios import build_scene  # noqa: E402
from station.sim.simulate import is_current, simulate, truth_path  # noqa: E402

FPS = 30
SCENARIO, SEED = "all-faults", 41
PINS = PinMap()


def bench_recording() -> Path:
    folder = ROOT / "data" / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"latency-{SCENARIO}-{SEED}-{FPS}fps.db3"
    if not is_current(path):
        print(f"simulating {path.name} (once)...", flush=True)
        simulate(build_scene(SCENARIO, SEED, fps=FPS), path)
    return path


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


class TimedPin(MockPWMPin):
    """A PWM mock pin that notes when it was made, so its history's relative times become absolute."""

    def __init__(self, factory, info):
        super().__init__(factory, info)
        self.created = time.monotonic()  # clear_states() in __init__ started the history just now

    def changes(self):
        """(monotonic time, state) of each change in ``states``, after the initial entry."""
        times = self.created + np.cumsum([state.timestamp for state in self.states])
        return [(float(t), state.state) for t, state in zip(times[1:], self.states[1:])]


class Recorder:
    """Keeps the events the latency needs (touches and reps); counts the rest."""

    def __init__(self):
        self.touches, self.reps, self.count = [], [], 0

    def publish(self, event):
        self.count += 1
        if event["type"] == "touched" and event["counted"]:
            self.touches.append(event["t_s"])
        elif event["type"] == "rep":
            self.reps.append((event["t_s"], bool(event["rep"]["faults"])))


# --- frames into a live software device ------------------------------------------------------------

class SoftwareCamera:
    """A ``rs.software_device`` with one depth stream, started on a frame queue, and a FrameSource on it."""

    def __init__(self, intrinsics, depth_unit_m=0.001):
        self.intrinsics = intrinsics
        self.device = rs.software_device()
        self.device.register_info(rs.camera_info.name, "Intel RealSense D435 (software device)")
        self.device.register_info(rs.camera_info.serial_number, "SW-BENCH")
        self.sensor = self.device.add_sensor("Stereo Module")
        stream = rs.video_stream()
        stream.type, stream.index, stream.uid = rs.stream.depth, 0, 0
        stream.width, stream.height, stream.fps, stream.bpp = intrinsics.width, intrinsics.height, FPS, 2
        stream.fmt = rs.format.z16
        stream.intrinsics = _rs_intrinsics(intrinsics)
        self.profile = self.sensor.add_video_stream(stream).as_video_stream_profile()
        self.sensor.add_read_only_option(rs.option.depth_units, depth_unit_m)
        self.queue = rs.frame_queue(2)  # a camera's pipeline also keeps only the newest frames
        self.sensor.open(self.profile)
        self.sensor.start(self.queue)
        self.info = SourceInfo("camera", "Intel RealSense D435 (software device)", "SW-BENCH", None, intrinsics,
                               FPS, depth_unit_m)
        self._stopped = False
        self._kept = []

    # The two calls FrameSource makes of a pipeline.
    def wait_for_frames(self, timeout_ms):
        frame = self.queue.wait_for_frame(timeout_ms)  # RuntimeError on time-out, as the pipeline's

        class Frames:
            @staticmethod
            def get_depth_frame():
                return frame.as_depth_frame()
        return Frames

    def stop(self):
        if not self._stopped:
            self._stopped = True
            self.sensor.stop()
            self.sensor.close()

    def frame_source(self) -> FrameSource:
        return FrameSource(self, None, self.info, _filter_blocks(FilterSettings()), real_time=True,
                           frame_timeout_s=5.0)

    def inject(self, depth, timestamp_ms, number):
        frame = rs.software_video_frame()
        pixels = np.ascontiguousarray(depth)
        self._kept = [pixels] + self._kept[:3]  # held until librealsense is surely done with them
        frame.pixels = pixels
        frame.bpp = 2
        frame.stride = self.intrinsics.width * 2
        frame.timestamp = timestamp_ms
        frame.domain = rs.timestamp_domain.system_time
        frame.frame_number = number
        frame.profile = self.profile
        self.sensor.on_video_frame(frame)


def run_latency(path: Path, loops: int) -> None:
    with open_recording(path) as source:
        intrinsics = source.info.intrinsics
    camera = SoftwareCamera(intrinsics)
    injected: dict[int, float] = {}  # frame time (ms, rounded) -> when it was handed to the sensor
    stop = threading.Event()
    counts = {"frames": 0}

    def inject_all():
        number = 0
        started = time.monotonic() + 0.5  # let the session open the source first
        offset_s = 0.0
        for _ in range(loops):
            last = 0.0
            with open_recording(path) as frames:
                for frame in frames:
                    t = offset_s + frame.timestamp_s
                    due = started + number / FPS
                    wait = due - time.monotonic()
                    if wait > 0:
                        time.sleep(wait)
                    injected[round(t * 1000)] = time.monotonic()
                    camera.inject(frame.depth, t * 1000.0, number)
                    number += 1
                    last = frame.timestamp_s
            offset_s += last + 1.0 / FPS
        counts["frames"] = number
        time.sleep(1.0)
        stop.set()

    factory = MockFactory(pin_class=TimedPin)
    recorder = Recorder()
    with tempfile.TemporaryDirectory(prefix="session_bench_") as folder:
        settings = load_settings(overrides={"station": {"data_dir": folder}})

        def opener():
            return camera.frame_source()
        opener.label = "software device SW-BENCH"
        injector = threading.Thread(target=inject_all, name="injector", daemon=True)
        injector.start()
        summary = run_session(settings, source=opener, publisher=recorder, pin_factory=factory, stop_event=stop)
        injector.join()
    buzzer = factory.pin(PINS.buzzer).changes()
    lamps = factory.pin(PINS.green).changes(), factory.pin(PINS.red).changes()

    def first_after(changes, since, wanted):
        return next((t - since for t, state in changes if t >= since and wanted(state)), None)

    def frame_time(t_s):
        return injected.get(round(t_s * 1000))

    touch_ms, rep_ms, missing = [], [], 0
    for t_s in recorder.touches:
        since = frame_time(t_s)
        latency = None if since is None else first_after(buzzer, since, lambda state: state > 0)
        if latency is None:
            missing += 1
        else:
            touch_ms.append(1000 * latency)
    for t_s, faulty in recorder.reps:
        since = frame_time(t_s)
        latency = None if since is None else first_after(lamps[1] if faulty else lamps[0], since,
                                                         lambda state: state == 1.0)
        if latency is None:
            missing += 1
        else:
            rep_ms.append(1000 * latency)
    print(f"\nLatency: {counts['frames']} frames injected at {FPS} fps into a live rs.software_device "
          f"({loops} passes of {path.name}); the session received {summary.frames}")
    print(f"  reps stored {len(summary.reps)} ({sum(1 for r in summary.reps if r['faults'])} with faults), "
          f"touches {len(recorder.touches)}, unmatched {missing}, snapshots dropped {summary.snapshots_dropped}")
    print(f"  {'from the frame':34} {'n':>4} {'median ms':>10} {'p99 ms':>8} {'max ms':>8}")
    for name, values in (("touch seen -> buzzer pip", touch_ms), ("rep ends -> first rep_done lamp", rep_ms),
                         ("both", touch_ms + rep_ms)):
        if values:
            print(f"  {name:34} {len(values):4d} {statistics.median(values):10.1f} "
                  f"{float(np.percentile(values, 99)):8.1f} {max(values):8.1f}")
    print("  target: p99 <= 50 ms")


# --- memory over a long session -------------------------------------------------------------------

class LoopedRecording:
    """The recording played again and again through rs.pipeline playback, as fast as it goes, restamped to run on.

    Samples the process's RSS at every minute of session time.
    """

    label = "looped recording"

    def __init__(self, path: Path, minutes: float, samples: list, reps: list):
        self._path, self._end_s = path, 60.0 * minutes
        self._samples, self._reps = samples, reps
        self._current = None
        self._closed = False

    def __iter__(self):
        offset_s, next_sample = 0.0, 0.0
        started = time.monotonic()
        while not self._closed:
            last = 0.0
            with open_recording(self._path) as frames:
                self._current = frames
                for frame in frames:
                    t = offset_s + frame.timestamp_s
                    if t >= next_sample:
                        self._samples.append((t / 60.0, rss_mb(), len(self._reps), time.monotonic() - started))
                        next_sample += 60.0
                    if t >= self._end_s:
                        return
                    last = frame.timestamp_s
                    yield dataclasses.replace(frame, timestamp_s=t)
            offset_s += last + 1.0 / FPS

    def close(self):
        self._closed = True
        if self._current is not None:
            self._current.close()


def run_memory(path: Path, minutes: float) -> None:
    samples, reps = [], []

    class Counter:
        def publish(self, event):
            if event["type"] == "rep":
                reps.append(event["rep"]["index"])

    looped = LoopedRecording(path, minutes, samples, reps)
    with tempfile.TemporaryDirectory(prefix="session_bench_") as folder:
        settings = load_settings(overrides={"station": {"data_dir": folder}})

        def opener():
            return looped
        opener.label = looped.label
        summary = run_session(settings, source=opener, publisher=Counter(), pin_factory=MockFactory(
            pin_class=MockPWMPin))
    after = rss_mb()
    print(f"\nMemory: a {minutes:g}-minute session ({summary.frames} frames, {len(summary.reps)} reps in "
          f"{summary.sets} sets), {path.name} looped through rs.pipeline playback as fast as it goes "
          f"({summary.elapsed_s:.0f} s of wall time)")
    print(f"  {'session min':>11} {'VmRSS MB':>9} {'reps':>5} {'wall s':>7}")
    for minute, mb, count, wall in samples:
        print(f"  {minute:11.1f} {mb:9.1f} {count:5d} {wall:7.1f}")
    print(f"  {'end':>11} {after:9.1f} {len(summary.reps):5d} {summary.elapsed_s:7.1f}")
    if len(samples) >= 3:
        print(f"  from minute 1 to the end: {after - samples[1][1]:+.1f} MB")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loops", type=int, default=4, help="passes of the recording for the latency (default 4)")
    parser.add_argument("--minutes", type=float, default=10.0, help="session length for the memory (default 10)")
    parser.add_argument("--only", choices=("latency", "memory"), help="run one of the two")
    args = parser.parse_args(argv)
    path = bench_recording()
    truth = json.loads(truth_path(path).read_text())
    print(f"{path.name}: {len(truth['frames'])} frames, {len(truth['reps'])} reps per pass; "
          f"RSS at start {rss_mb():.0f} MB")
    if args.only in (None, "latency"):
        run_latency(path, args.loops)
    if args.only in (None, "memory"):
        run_memory(path, args.minutes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
