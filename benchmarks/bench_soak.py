"""A clinic day replayed at speed: does the station's memory, threads or open files creep?

    python benchmarks/bench_soak.py [--sessions 20] [--one-session]

Runs the station in its own process as ``wallhinge run`` does (glibc kept to
two malloc arenas as station.malloc.limit_malloc_arenas does, the session
loop with mock pins, the dashboard and kiosk served by waitress on 127.0.0.1
in the same process, one store), and replays a simulated session
(``good-set``, 4 reps, 15 fps, 424x240, cached in data/bench/) as fast as it
goes, ``--sessions`` times in a row: a day's patients one after another.
Meanwhile a clinician loads a page every half second and a kiosk stream is
opened and dropped every few seconds, so the web side's threads and sockets
come and go too.

With ``--one-session`` the station runs one session all day, as ``wallhinge
run`` does (participants come and go within it), fed the same recording
``--sessions`` times in a row, its frames' times running on; a row is
printed after each pass (its reps are the session's so far, not known
until it ends: "-").

Every second the station process's resident memory (VmRSS), threads and open
file descriptors are read from /proc. Prints them at each finished session,
and the change from the first session to the last. Loopback only, bounded by
the number of sessions; no assertions: figures to read.

Last figures (2026-12-05, this 2-core machine; VmRSS at the session lines,
which catch the next session's start): with two arenas alone 168 -> 318 MiB
over 20 sessions and 458 at 60, growing all the way (Python's own objects
flat under tracemalloc: freed memory glibc kept); with each session trimming
the heap as it ends (station.malloc.release_freed_memory) 126 -> 209 MiB at
40 and 146-249 from session 10 to 80, no trend (another run of 80: 146 at
the 80th, +9.9 from the first). ``--one-session --sessions 30``: 232.0 ->
232.8 MiB (the recording's frames, held for the passes, are some 55 MiB of it).
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_load import (HOST, PASSWORD, USERNAME, cached_recording, free_port, log_in,  # noqa: E402
                                   proc_status)

SCENARIO, SEED, FPS, REPS = "good-set", 6, 15, 4


def bench_recording() -> Path:
    return cached_recording(f"soak-{SCENARIO}-{SEED}-{FPS}fps-{REPS}reps", SCENARIO, SEED, FPS, REPS)


class LoopedRecording:
    """``recording``'s frames ``passes`` times in a row as one source, their times running on (``run_session``'s
    ``source``); ``after_pass(n)`` is called as pass ``n`` ends."""

    info = None

    def __init__(self, recording: Path, passes: int, after_pass):
        from station.camera import open_recording

        with open_recording(recording) as source:
            self._frames = list(source)
        self._passes, self._after_pass = passes, after_pass

    def __iter__(self):
        import dataclasses

        span = self._frames[-1].timestamp_s + (self._frames[-1].timestamp_s - self._frames[-2].timestamp_s)
        for number in range(self._passes):
            for frame in self._frames:
                yield dataclasses.replace(frame, timestamp_s=frame.timestamp_s + number * span,
                                          clock_s=frame.clock_s + number * span)
            self._after_pass(number + 1)

    def close(self) -> None:
        pass


def child(folder: Path, recording: Path, sessions: int, port: int, one_session: bool = False) -> int:
    """The station: one dashboard, ``sessions`` replays in a row (or passes of one session); prints "session N"
    after each."""
    from gpiozero.pins.mock import MockFactory, MockPWMPin

    from station.malloc import limit_malloc_arenas
    from station.session import run_session
    from station.settings import load_settings
    from station.store import open_store
    from web.auth import create_account
    from wallhinge.in_station import StationDashboard

    limit_malloc_arenas()  # as `wallhinge run` does
    settings = load_settings(overrides={"station": {"data_dir": str(folder), "muted": True}})
    dashboard = StationDashboard(settings, host=HOST, port=port).start()
    with open_store(settings.station.database_path) as store:
        create_account(store, USERNAME, PASSWORD, app=dashboard.app, role="admin")
    print("ready", flush=True)
    try:
        if one_session:
            factory = MockFactory(pin_class=MockPWMPin)
            try:
                looped = LoopedRecording(recording, sessions, lambda number: print(f"session {number} -", flush=True))
                run_session(settings, source=lambda: looped, real_time=False, publisher=dashboard.live,
                            pin_factory=factory)
            finally:
                factory.close()
            return 0
        for number in range(1, sessions + 1):
            factory = MockFactory(pin_class=MockPWMPin)
            try:
                summary = run_session(settings, replay=recording, real_time=False, publisher=dashboard.live,
                                      pin_factory=factory)
            finally:
                factory.close()
            print(f"session {number} {len(summary.reps)}", flush=True)
    finally:
        dashboard.stop()
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=20, help="sessions replayed in a row (default 20)")
    parser.add_argument("--one-session", action="store_true",
                        help="one session all day, as `wallhinge run`, fed the recording --sessions times")
    parser.add_argument("--child", nargs=3, metavar=("FOLDER", "RECORDING", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        folder, recording, port = args.child
        return child(Path(folder), Path(recording), args.sessions, int(port), args.one_session)

    recording = bench_recording()
    with tempfile.TemporaryDirectory(prefix="wallhinge_soak_") as folder:
        port = free_port()
        process = subprocess.Popen([sys.executable, __file__, "--sessions", str(args.sessions), "--child", folder,
                                    str(recording), str(port)] + (["--one-session"] if args.one_session else []),
                                   stdout=subprocess.PIPE, text=True,
                                   stderr=open(Path(folder) / "station.log", "w"), cwd=ROOT)
        if process.stdout.readline().strip() != "ready":
            raise SystemExit("the station did not start: see its log")
        pid = process.pid
        cookie = log_in(port)
        latest: dict = {}
        stop = threading.Event()
        errors = [0]

        def sampler():
            while not stop.wait(1.0):
                latest.update(proc_status(pid))

        def clinician():
            tick = 0
            while not stop.wait(0.5):
                tick += 1
                try:
                    connection = http.client.HTTPConnection(HOST, port, timeout=10)
                    path = "/kiosk/events" if tick % 8 == 0 else ("/" if tick % 2 else "/live/")
                    connection.request("GET", path, headers={"Cookie": cookie})
                    response = connection.getresponse()
                    if path == "/kiosk/events":
                        response.readline()  # a kiosk that connects, then goes away
                    else:
                        response.read()
                    connection.close()
                except (OSError, socket.timeout):
                    errors[0] += 1

        threading.Thread(target=sampler, daemon=True).start()
        threading.Thread(target=clinician, daemon=True).start()
        started = time.monotonic()
        rows = [(0, "0", time.monotonic() - started, proc_status(pid))]
        for line in process.stdout:
            if line.startswith("session "):
                _, number, reps = line.split()
                rows.append((int(number), reps, time.monotonic() - started, {**latest, **proc_status(pid)}))
                if int(number) == args.sessions:
                    stop.set()  # the station shuts its dashboard next: a page asked for then is not its error
        stop.set()
        code = process.wait()

    shape = ("passes of it in one session, as `wallhinge run` runs all day," if args.one_session
             else "sessions of it, one after another,")
    print(f"\nSoak: {args.sessions} {shape} replaying {recording.name} as fast as it goes in one station process "
          f"(dashboard served, a page every 0.5 s, a kiosk stream every 4 s); exit {code}, "
          f"{errors[0]} page errors")
    print(f"  {'session':>7} {'reps':>5} {'wall s':>7} {'VmRSS MiB':>10} {'threads':>8} {'fds':>5}")
    for number, reps, wall, values in rows:
        print(f"  {number:7d} {reps:>5} {wall:7.1f} {values.get('rss_mb', float('nan')):10.1f} "
              f"{values.get('threads', 0):8d} {values.get('fds', 0):5d}")
    if len(rows) > 2:
        first, last = rows[1][3], rows[-1][3]
        print(f"  from session 1 to {rows[-1][0]}: memory {last['rss_mb'] - first['rss_mb']:+.1f} MiB, "
              f"threads {last['threads'] - first['threads']:+d}, fds {last['fds'] - first['fds']:+d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
