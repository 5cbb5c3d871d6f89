"""The live loop on the pair side+wall-above: frames a second and CPU a frame, against the side camera alone.

    python benchmarks/bench_live_pair.py [--fps 15|30] [--runs N]

Replays a simulated pair (``bench_pair.py``'s, cached in data/bench_pair/)
through :func:`station.session.run_session` as fast as it goes, on mock pins
and a fresh SQLite store: once as the pair (the camera above calibrated from
its opening and read every frame) and once with the side camera alone, each
``--runs`` times. Prints per run the frames a second (wall clock) and the
process's CPU time a frame (all threads: decoding both recordings, the
pairing, measuring, the spine reading, the store, the live feed), with the
load average before it: on the shared two-core machine timings vary with the
others' work. Decoding a recording's frames (PNG) is work a live camera does
not ask for, so the difference overstates the second camera's cost live.
No assertions: figures to read.

Last figures (``--runs 2``, 15 fps, load average 8 on 2 cores): the pair
89-111 frames a second, 8.4-8.8 ms of CPU a frame, the camera above reading
the back in 488 of 618 frames; the side camera alone 86-141 frames a second,
5.7-6.1 ms a frame. Either way well above a camera's 30 frames a second.
"""

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_pair import recorded  # noqa: E402
from station.camera import open_recording  # noqa: E402
from station.session import run_session  # noqa: E402
from station.settings import load_settings  # noqa: E402


class SideAlone:
    """The pair's side recording as a one-camera station reads it (no camera above)."""

    label = "side camera alone"

    def __init__(self, path):
        self._path = path

    def __call__(self):
        return open_recording(self._path, real_time=False)


def one_run(path: Path, *, pair: bool) -> tuple[int, float, float, int]:
    """(frames, wall seconds, CPU seconds, frames with a back reading) of one replay through the live loop."""
    from gpiozero.pins.mock import MockFactory, MockPWMPin

    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(overrides={"station": {"data_dir": folder, "muted": True},
                                            "setup": {"placement": "side+wall-above"}})
        started, cpu = time.monotonic(), time.process_time()
        options = dict(replay=path, real_time=False) if pair else dict(source=SideAlone(path))
        summary = run_session(settings, pin_factory=MockFactory(pin_class=MockPWMPin), **options)
        return (summary.frames, time.monotonic() - started, time.process_time() - cpu, summary.back_frames_read)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fps", type=int, default=15, choices=(15, 30))
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    logging.getLogger("station").setLevel(logging.ERROR)
    path, _ = recorded("good-set", 1, "hips", args.fps)
    print(f"{path.name}: 424x240 at {args.fps} fps, replayed through run_session as fast as it goes")
    print(f"{'run':>4} {'cameras':>14} {'frames':>6} {'fps':>6} {'CPU ms/frame':>12} {'back read':>9}  load before")
    for run in range(1, args.runs + 1):
        for pair in (True, False):
            load = os.getloadavg()[0]
            frames, wall, cpu, read = one_run(path, pair=pair)
            print(f"{run:4d} {'pair' if pair else 'side alone':>14} {frames:6d} {frames / wall:6.0f} "
                  f"{1000 * cpu / frames:12.1f} {read:9d}  {load:.1f}", flush=True)


if __name__ == "__main__":
    main()
