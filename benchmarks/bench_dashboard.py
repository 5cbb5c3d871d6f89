"""The dashboard's main pages under a year of a busy clinic: p50/p95 response times and the database size.

    python benchmarks/bench_dashboard.py [--scale 0.1] [--path FILE] [--repeat 200] [--seed 0]

Fills a fresh database with ``benchmarks/bench_store.py``'s ``fill`` (200
patients, 10,000 sessions, 300,000 reps with their series at ``--scale 1``;
``--scale`` multiplies the counts), or reuses ``--path`` if that file is
already a filled store. The targets are dated at the start of the year, as if
set at each patient's first visit, so "due to progress" looks at every
patient's latest session.

Then it logs in through the real form and times each page through Flask's
test client, ``--repeat`` times with random patients and sessions: the whole
request, from routing and log-in check through the store (opened and closed
per request, as in production) to the rendered HTML or JSON. It prints p50,
p95 and max in milliseconds per page, against the target of p95 at most
150 ms. No assertions: figures to read.
"""

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_store import YEAR_START, fill, stamp  # noqa: E402
from station.store import open_store  # noqa: E402
from web import create_app  # noqa: E402
from web.auth import create_account  # noqa: E402

TARGET_P95_MS = 150.0
USERNAME, PASSWORD = "bench", "a benchmark password"


def prepare(path: Path, scale: float, rng) -> dict:
    """Fill (or reuse) the store; return the counts."""
    if path.exists():
        with open_store(path) as store:
            db = store._conn.connection.dbapi_connection
            counts = {"patients": db.execute("SELECT count(*) FROM patients").fetchone()[0],
                      "sessions": db.execute("SELECT count(*) FROM sessions").fetchone()[0],
                      "reps": db.execute("SELECT count(*) FROM reps").fetchone()[0]}
        print(f"reusing {path}: {counts['patients']} patients, {counts['sessions']} sessions, {counts['reps']} reps")
    else:
        started = time.perf_counter()
        counts = fill(path, scale, rng)
        print(f"filled {path}: {counts['patients']} patients, {counts['sessions']} sessions, "
              f"{counts['reps']} reps with series in {time.perf_counter() - started:.1f} s")
    with open_store(path) as store:
        # Targets set at each patient's first visit (bench_store's fill stamps them "now").
        store._conn.connection.dbapi_connection.execute("UPDATE targets SET updated = ?", (stamp(YEAR_START),))
    return counts


def logged_in_client(app):
    with open_store(app.config["DATABASE"]) as store:
        if store.get_clinician(USERNAME) is None:
            create_account(store, USERNAME, PASSWORD, app=app)
    client = app.test_client()
    form = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    response = client.post("/auth/login", data={"username": USERNAME, "password": PASSWORD, "csrf_token": token})
    if response.status_code != 302:
        raise SystemExit(f"could not log in: {response.status_code}")
    return client


def timed(client, paths: list[str], repeat: int) -> tuple[float, float, float, int]:
    """(p50, p95, max) ms and the mean response size in bytes of GET ``paths`` (cycled)."""
    timings, sizes = [], []
    for k in range(repeat):
        path = paths[k % len(paths)]
        started = time.perf_counter()
        response = client.get(path)
        body = response.get_data()
        timings.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"GET {path} answered {response.status_code}")
        sizes.append(len(body))
    return (float(np.percentile(timings, 50)), float(np.percentile(timings, 95)), max(timings),
            int(np.mean(sizes)))



def main_pages(patients: list[int], sessions: list[int], reps: list[int]) -> list[tuple[str, list[str]]]:
    """The pages a clinician opens most, as (label, paths): the lists, a patient's, a session's, a rep's."""
    return [
        ("patients list (due, recent)", ["/"]),
        ("patient search ?q=P-01", ["/?q=P-01"]),
        ("patient page with 6 charts", [f"/patients/{p}" for p in patients]),
        ("session page (30 reps, curves)", [f"/sessions/{s}" for s in sessions]),
        ("rep page (curves, replay)", [f"/sessions/{s}/reps/{r}" for s, r in zip(sessions, reps)]),
    ]

def run(path: Path, scale: float, repeat: int, rng) -> None:
    counts = prepare(path, scale, rng)
    size = path.stat().st_size + sum(Path(f"{path}{suffix}").stat().st_size
                                     for suffix in ("-wal",) if Path(f"{path}{suffix}").exists())
    print(f"database {size / 1e6:.1f} MB ({size / max(1, counts['reps']):.0f} bytes per rep)")

    app = create_app({"DATABASE": str(path), "SECRET_KEY": "b" * 64}, instance_path=path.parent / "instance")
    client = logged_in_client(app)
    patients = [int(p) for p in rng.integers(1, counts["patients"] + 1, repeat)]
    sessions = [int(s) for s in rng.integers(1, counts["sessions"] + 1, repeat)]
    with open_store(path) as store:
        reps = [store.session_reps(s)[0]["id"] for s in sessions[:50]]
        per_patient = [len(store.session_summaries(p)) for p in patients[:50]]
    pages = [
        *main_pages(patients, sessions, reps),
        ("session report", [f"/sessions/{s}/report" for s in sessions]),
        ("session CSV", [f"/sessions/{s}/reps.csv" for s in sessions]),
        ("API reps with series", [f"/api/sessions/{s}/reps?series=1" for s in sessions]),
        ("API patient sessions", [f"/api/patients/{p}/sessions" for p in patients]),
    ]
    for _, paths in pages:  # warm the page cache and Jinja's template cache once
        client.get(paths[0])
    print(f"(a patient has {np.median(per_patient):.0f} sessions on median, {max(per_patient)} at most)")
    print(f"\n{'page (' + str(repeat) + ' requests)':34} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'kB':>7}")
    worst = 0.0
    for label, paths in pages:
        p50, p95, slowest, mean_size = timed(client, paths, repeat)
        worst = max(worst, p95)
        print(f"{label:34} {p50:8.1f} {p95:8.1f} {slowest:8.1f} {mean_size / 1000:7.1f}")
    verdict = "within" if worst <= TARGET_P95_MS else "OVER"
    print(f"\nworst p95 {worst:.1f} ms: {verdict} the target of {TARGET_P95_MS:.0f} ms")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="share of the full clinic's year (default 1)")
    parser.add_argument("--path", type=Path, help="database file: filled if missing, reused if it exists")
    parser.add_argument("--repeat", type=int, default=200, help="requests per page (default 200)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not 0 < args.scale <= 10:
        parser.error("--scale must be above 0 and at most 10")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    with tempfile.TemporaryDirectory(prefix="bench_dashboard_") as folder:
        path = args.path or Path(folder) / "station.db"
        run(path, args.scale, args.repeat, np.random.default_rng(args.seed))


if __name__ == "__main__":
    main()
