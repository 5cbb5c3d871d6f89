"""The station under load on loopback: streams, pages and a log-in flood while it replays a session.

    python benchmarks/bench_load.py [--seconds 60] [--streams 30] [--flooders 16] [--page-clients 4]

Starts the station as it runs on a Pi (``wallhinge run --replay REC`` in its
own process, real time, mock pins, the dashboard and kiosk served by waitress
on 127.0.0.1) on a simulated recording (``good-set``, 16 reps, 15 fps,
424x240, about 96 s, cached in data/bench/), with an admin account hashed
with the station's real argon2 profile. Then, for ``--seconds``:

- ``--streams`` event streams opened at the same instant (half ``/kiosk/events``
  as the station's own screen, half ``/live/events`` logged in), and those
  let in held open to the end;
- ``--page-clients`` logged-in clients loading pages one after another
  (patients, a patient, the live page, the kiosk set-up, the log-in page),
  10 s timeout each;
- ``--flooders`` clients posting wrong passwords as fast as they are
  answered, half from one address, half from a new address each time (as
  through nginx, which waitress trusts from 127.0.0.1: web/serve.py);
- one logged-in live page reading the frame snapshots, whose publish times
  against their recording times give the frame loop's lag behind real time.

The station's resident memory and threads are sampled every second from
/proc. Prints page p50/p95/max and timeouts, what the streams and log-ins
got, the frame loop's lag (p50/p95/max, from its best moment) and the memory
growth. Loopback only, bounded in time; no assertions: figures to read.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import datetime as dt
import http.client
import itertools
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from station.sim.scenarios import build_scene  # noqa: E402
from station.sim.simulate import is_current, simulate  # noqa: E402
from station.store import open_store  # noqa: E402

SCENARIO, SEED, FPS, REPS = "good-set", 5, 15, 16
USERNAME, PASSWORD = "bench-admin", "a long enough bench password"
HOST = "127.0.0.1"


def cached_recording(name: str, scenario: str, seed: int, fps: int, reps: int) -> Path:
    """A simulated recording kept in data/bench/ as ``NAME.db3``, made again when the simulator changed."""
    folder = ROOT / "data" / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.db3"
    if not is_current(path):
        print(f"simulating {path.name} (once)...", flush=True)
        simulate(build_scene(scenario, seed, fps=fps, reps=reps), path)
    return path


def bench_recording() -> Path:
    return cached_recording(f"load-{SCENARIO}-{SEED}-{FPS}fps", SCENARIO, SEED, FPS, REPS)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def proc_status(pid: int) -> dict:
    """VmRSS (MiB), threads and open file descriptors of a process, from /proc."""
    values = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                values["rss_mb"] = int(line.split()[1]) / 1024.0
            elif line.startswith("Threads:"):
                values["threads"] = int(line.split()[1])
        values["fds"] = len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        pass
    return values


class Station:
    """``wallhinge run --replay`` in its own process, on a fresh data folder with one admin account."""

    def __init__(self, recording: Path, folder: Path, port: int, *, fast: bool = False):
        from web import create_app
        from web.auth import create_account
        self.port = port
        app = create_app({"SECRET_KEY": "b" * 64, "DATABASE": str(folder / "station.db")},
                         instance_path=folder / "instance-bench")  # the station's own argon2 profile
        with open_store(folder / "station.db") as store:
            create_account(store, USERNAME, PASSWORD, app=app, role="admin")
            store.add_patient(code="WH-0001", display_name="Bench P.")
        command = [str(ROOT / ".venv" / "bin" / "wallhinge"), "run", "--replay", str(recording),
                   "--set", f"station.data_dir={folder}", "--set", f"station.web_host={HOST}",
                   "--set", f"station.web_port={port}", "--set", "station.muted=true"]
        if fast:
            command.append("--fast")
        env = {**os.environ, "GPIOZERO_PIN_FACTORY": "mock", "GPIOZERO_MOCK_PIN_CLASS": "mockpwmpin"}
        self.log = open(folder / "station.log", "w")
        self.process = subprocess.Popen(command, env=env, stdout=self.log, stderr=subprocess.STDOUT, cwd=folder)

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"the station stopped at start (exit {self.process.returncode})")
            try:
                status, _ = request("GET", self.port, "/kiosk/ping", timeout=2)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit("the station did not serve its dashboard in time")

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()
        finally:
            self.log.close()


def request(method, port, path, *, body=None, headers=None, timeout=10.0):
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request(method, path, body, headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def login_form(port) -> tuple[str, str]:
    """The log-in page's session cookie and CSRF token, as a browser (or a patient attacker) gets them."""
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        connection.request("GET", "/auth/login")
        response = connection.getresponse()
        page = response.read().decode()
        cookie = re.match(r"(wallhinge_session=[^;]+)", response.getheader("Set-Cookie")).group(1)
        return cookie, re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    finally:
        connection.close()


def log_in(port) -> str:
    cookie, token = login_form(port)
    body = urllib.parse.urlencode({"username": USERNAME, "password": PASSWORD, "csrf_token": token})
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        connection.request("POST", "/auth/login", body, {"Content-Type": "application/x-www-form-urlencoded",
                                                         "Cookie": cookie})
        response = connection.getresponse()
        response.read()
        if response.status != 302:
            raise SystemExit(f"the bench account could not log in ({response.status})")
        return re.match(r"(wallhinge_session=[^;]+)", response.getheader("Set-Cookie")).group(1)
    finally:
        connection.close()


def open_stream(port, path, cookie=None):
    """Open an event stream; return (status, connection) with the connection left open when it is 200."""
    connection = http.client.HTTPConnection(HOST, port, timeout=15)
    headers = {"Accept": "text/event-stream"}
    if cookie:
        headers["Cookie"] = cookie
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    if response.status != 200:
        response.read()
        connection.close()
        return response.status, None
    return 200, (connection, response)


def percentile(values, share):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def watch_frames(port, cookie, stop: threading.Event, lags: list) -> None:
    """Follow /live/events: each frame snapshot's publish time against its recording time."""
    status, opened = open_stream(port, "/live/events", cookie)
    if opened is None:
        print(f"  (the frame watcher's live stream was refused: {status})")
        return
    connection, response = opened
    event = None
    try:
        while not stop.is_set():
            line = response.readline().decode()
            if not line:
                return
            if line.startswith("event: "):
                event = line[7:].strip()
            elif line.startswith("data: ") and event == "frame":
                data = json.loads(line[6:])
                published = dt.datetime.fromisoformat(data["time"].replace("Z", "+00:00")).timestamp()
                if data.get("t_s") is not None:
                    lags.append(published - data["t_s"])
    except OSError:
        return
    finally:
        connection.close()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the load lasts (default 60)")
    parser.add_argument("--streams", type=int, default=30, help="event streams opened at once (default 30)")
    parser.add_argument("--flooders", type=int, default=16, help="clients flooding the log-in (default 16)")
    parser.add_argument("--page-clients", type=int, default=4, help="clients loading pages (default 4)")
    args = parser.parse_args(argv)
    recording = bench_recording()
    with tempfile.TemporaryDirectory(prefix="wallhinge_load_") as folder:
        port = free_port()
        station = Station(recording, Path(folder), port)
        samples = []
        try:
            station.wait_ready()
            pid = station.process.pid
            cookie = log_in(port)
            stop = threading.Event()
            lags: list = []
            watcher = threading.Thread(target=watch_frames, args=(port, cookie, stop, lags), daemon=True)
            watcher.start()
            time.sleep(3.0)  # the station calibrates and settles
            baseline = proc_status(pid)
            samples.append((0.0, baseline))

            def sample():
                started = time.monotonic()
                while not stop.wait(1.0):
                    samples.append((time.monotonic() - started, proc_status(pid)))
            threading.Thread(target=sample, daemon=True).start()

            # Streams, all at once.
            barrier = threading.Barrier(max(1, args.streams))
            held, stream_statuses = [], collections.Counter()
            lock = threading.Lock()

            def one_stream(k):
                path, who = ("/kiosk/events", None) if k % 2 == 0 else ("/live/events", cookie)
                barrier.wait()
                try:
                    status, opened = open_stream(port, path, who)
                except OSError as error:
                    status, opened = f"error {type(error).__name__}", None
                with lock:
                    stream_statuses[(path, status)] += 1
                    if opened is not None:
                        held.append(opened)
            openers = [threading.Thread(target=one_stream, args=(k,)) for k in range(args.streams)]
            for thread in openers:
                thread.start()
            for thread in openers:
                thread.join(30)

            deadline = time.monotonic() + args.seconds
            pages = ["/", "/patients/1", "/live/", "/kiosk/setup", "/auth/login", "/calibration"]
            page_times, page_statuses, timeouts = [], collections.Counter(), [0]

            def page_client(k):
                for path in itertools.cycle(pages[k % len(pages):] + pages[:k % len(pages)]):
                    if time.monotonic() >= deadline:
                        return
                    started = time.perf_counter()
                    try:
                        status, _ = request("GET", port, path, headers={"Cookie": cookie}, timeout=10)
                    except (TimeoutError, socket.timeout):
                        with lock:
                            timeouts[0] += 1
                        continue
                    except OSError as error:
                        status = f"error {type(error).__name__}"
                    with lock:
                        page_times.append(time.perf_counter() - started)
                        page_statuses[status] += 1
                    time.sleep(0.05)

            login_statuses = collections.Counter()
            addresses = (f"10.{a}.{b}.{c}" for a in range(1, 255) for b in range(256) for c in range(1, 255))

            def flooder(k):
                form_cookie, token = login_form(port)
                while time.monotonic() < deadline:
                    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": form_cookie}
                    if k % 2:
                        with lock:
                            headers["X-Forwarded-For"] = next(addresses)
                    body = urllib.parse.urlencode({"username": f"guess{k}", "password": "not the password!",
                                                   "csrf_token": token})
                    try:
                        status, _ = request("POST", port, "/auth/login", body=body, headers=headers, timeout=10)
                    except (TimeoutError, socket.timeout):
                        status = "timeout"
                    except OSError as error:
                        status = f"error {type(error).__name__}"
                    with lock:
                        login_statuses[status] += 1

            if not args.page_clients + args.flooders:
                time.sleep(args.seconds)  # no load: the station alone, for comparison
            with concurrent.futures.ThreadPoolExecutor(max(1, args.page_clients + args.flooders)) as pool:
                futures = [pool.submit(page_client, k) for k in range(args.page_clients)]
                futures += [pool.submit(flooder, k) for k in range(args.flooders)]
                for future in futures:
                    future.result()
            stop.set()
            for connection, _ in held:
                connection.close()
            final = proc_status(pid)
        finally:
            code = station.stop()

    print(f"\nLoad: {args.seconds:g} s against `wallhinge run --replay` ({recording.name}, real time) on loopback; "
          f"station exit {code}")
    print(f"  streams opened at once: {args.streams}: "
          + ", ".join(f"{path} {status} x{count}" for (path, status), count in sorted(stream_statuses.items(),
                                                                                  key=str)))
    ms = [t * 1000 for t in page_times]
    print(f"  pages ({args.page_clients} clients): {len(ms)} loads, p50 {percentile(ms, 0.5):.0f} ms, "
          f"p95 {percentile(ms, 0.95):.0f} ms, max {max(ms, default=float('nan')):.0f} ms, "
          f"timeouts {timeouts[0]}, statuses {dict(page_statuses)}")
    print(f"  log-in flood ({args.flooders} clients): {sum(login_statuses.values())} attempts, "
          f"statuses {dict(login_statuses)}")
    if lags:
        behind = [lag - min(lags) for lag in lags]
        print(f"  frame loop behind real time ({len(lags)} snapshots): p50 {percentile(behind, 0.5) * 1000:.0f} ms, "
              f"p95 {percentile(behind, 0.95) * 1000:.0f} ms, max {max(behind) * 1000:.0f} ms")
    rss = [values.get("rss_mb", float("nan")) for _, values in samples]
    print(f"  station memory: {baseline.get('rss_mb', float('nan')):.0f} MiB before, max {max(rss):.0f} MiB, "
          f"{final.get('rss_mb', float('nan')):.0f} MiB at the end "
          f"(growth {max(rss) - baseline.get('rss_mb', 0):+.0f} MiB); threads {baseline.get('threads')} -> "
          f"max {max(values.get('threads', 0) for _, values in samples)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
