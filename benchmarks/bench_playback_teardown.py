"""Count crashes while writing and reading recordings back, with both cores busy.

Run ``python benchmarks/bench_playback_teardown.py [runs] [cycles]``. Each run is
a fresh Python process (so a segmentation fault is counted, not fatal to the
script) doing ``cycles`` write/read cycles: write 45 random 424x240 depth
frames with ``RecordingWriter``, then read the file back five times with
``open_recording`` and check every frame. Meanwhile one busy-loop process per
core keeps the machine loaded, the condition under which librealsense's
playback teardown used to race.
Prints the runs that crashed (signal) or failed, and the totals.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# One cycle, run in a child process: write, read back twice, compare.
CHILD = r"""
import sys
from pathlib import Path
import numpy as np
from station.camera import FilterSettings, open_recording
from station.sim.recording import RecordingWriter
from station.sim.scene import d400_intrinsics

def read_all(path):
    # Released on return, like the tests' reader: the source's playback device
    # is destroyed right after the pipeline stops.
    with open_recording(path, filters=no_filters) as source:
        return list(source)


READS = 5
folder, cycles = Path(sys.argv[1]), int(sys.argv[2])
intrinsics = d400_intrinsics(424, 240)
no_filters = FilterSettings(min_distance_m=0, max_distance_m=0)
rng = np.random.default_rng(0)
for cycle in range(cycles):
    frames = [rng.integers(0, 65536, size=(240, 424), dtype=np.uint16) for _ in range(45)]
    path = folder / f"cycle{cycle}.db3"
    with RecordingWriter(path, intrinsics, 30) as writer:
        for index, depth in enumerate(frames):
            writer.write(depth, index / 30)
    for _ in range(READS):
        read = read_all(path)
        if len(read) != len(frames) or not all(np.array_equal(r.depth, f) for r, f in zip(read, frames)):
            sys.exit(f"cycle {cycle}: read {len(read)} of {len(frames)} frames or they differ")
"""


def main(runs: int = 30, cycles: int = 5) -> int:
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(os.cpu_count() or 2)]
    crashed, failed = 0, 0
    started = time.monotonic()
    try:
        for run in range(1, runs + 1):
            with tempfile.TemporaryDirectory() as folder:
                result = subprocess.run([sys.executable, "-X", "faulthandler", "-c", CHILD, folder, str(cycles)],
                                        cwd=ROOT, capture_output=True, text=True, timeout=600)
            if result.returncode < 0:
                crashed += 1
                print(f"run {run}: killed by signal {-result.returncode}")
            elif result.returncode != 0:
                failed += 1
                print(f"run {run}: failed: {result.stderr.strip().splitlines()[-1:]}")
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    print(f"{runs} runs x {cycles} write/read cycles under load: {crashed} crashed, {failed} failed, "
          f"{time.monotonic() - started:.0f} s")
    return 1 if crashed or failed else 0


if __name__ == "__main__":
    sys.exit(main(*(int(arg) for arg in sys.argv[1:3])))
