"""The dashboard on a clinic group's PostgreSQL year beside a station's SQLite year: page p50 and p95.

    python benchmarks/bench_clinic_db.py [--scale 0.1] [--repeat 100] [--seed 0]

Two databases, filled fresh:

- SQLite, one station's year, as ``bench_store.py`` makes it: 200 patients,
  10,000 sessions of 3 sets of 10 reps (300,000 reps), every rep with its
  series;
- PostgreSQL, a clinic group's year: 12 stations over several sites, 800
  patients, 33,334 sessions (1,000,000 reps) delivered by the stations
  (each session carries its station and its id there), every rep with its
  series. The rows go in with COPY, one block of sessions at a time, then
  ANALYZE. The server is Debian's PostgreSQL started in a temporary folder,
  as the tests start it (``tests/postgres.py``), with its default settings
  except durability (fsync off: a benchmark, not a clinic).

Then the dashboard (a Flask test client, logged in) asks for each page
``--repeat`` times with random patients and sessions, and the two databases'
p50 and p95 in milliseconds are printed side by side. ``--scale`` multiplies
the counts (0.05 for a quick try). No assertions: figures to read.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from benchmarks.bench_dashboard import logged_in_client, main_pages, timed  # noqa: E402
from benchmarks.bench_store import (YEAR_START, fill, rep_rows, session_sets, session_starts,  # noqa: E402
                                    stamp)
from postgres import PostgresServer, find_binaries  # noqa: E402
from station.store import open_store  # noqa: E402
from web import create_app  # noqa: E402

CLINIC_PATIENTS, CLINIC_SESSIONS, STATIONS = 800, 33_334, 12
BLOCK = 500  # sessions per COPY block

_REP_COLUMNS = ("id, set_id, index_in_set, start_s, bottom_s, end_s, min_wall_gap_mm, touched, peak_trunk_angle_deg,"
                " peak_knee_flexion_deg, peak_spine_flexion_deg, return_trunk_angle_deg, descent_s, hold_s, ascent_s,"
                " score, good, lost_points, recorded")


def fill_clinic(url: str, scale: float, rng) -> dict:
    """Fill an empty clinic database with a group's year through COPY; return the counts."""
    import psycopg

    patients = max(1, round(CLINIC_PATIENTS * scale))
    sessions = max(1, round(CLINIC_SESSIONS * scale))
    open_store(url).close()  # the schema, made by the store itself
    weights = rng.gamma(2.0, 1.0, patients)
    owners = rng.choice(np.arange(1, patients + 1), size=sessions, p=weights / weights.sum())
    stations = rng.integers(1, STATIONS + 1, sessions)
    starts = session_starts(sessions, rng)
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as db:
        with db.cursor() as cursor:
            with cursor.copy("COPY patients (id, code, display_name, created) FROM STDIN") as copy:
                for p in range(1, patients + 1):
                    copy.write_row((p, f"P-{p:05d}", f"Patient {p:05d}", stamp(YEAR_START)))
            with cursor.copy("COPY targets (patient_id, standoff_mm, reps_per_set, sets, updated) FROM STDIN") as copy:
                for p in range(1, patients + 1):
                    copy.write_row((p, float(rng.choice([100, 200, 300])), 10, 3, stamp(YEAR_START)))
            rep_id = set_id = 1
            per_station: dict[int, int] = {}
            for first in range(0, sessions, BLOCK):
                block = range(first, min(sessions, first + BLOCK))
                session_rows, set_rows, set_starts = [], [], []
                for s in block:
                    started = starts[s]
                    station = int(stations[s])
                    per_station[station] = per_station.get(station, 0) + 1
                    ended, rows, times = session_sets(s + 1, started, set_id)
                    session_rows.append((s + 1, int(owners[s]), stamp(started), stamp(ended),
                                         "camera 123456", f"wall-{station:02d}", per_station[station]))
                    set_rows += rows
                    set_starts += times
                    set_id += len(rows)
                reps, rep_faults, series = rep_rows(rep_id, np.array([row[0] for row in set_rows]), set_starts, rng)
                rep_id += len(reps)
                _copy(cursor, "sessions (id, patient_id, started, ended, source, station, station_session_id)",
                      session_rows)
                _copy(cursor, "sets (id, session_id, number, started, ended)", set_rows)
                _copy(cursor, f"reps ({_REP_COLUMNS})", reps)
                _copy(cursor, "rep_faults (rep_id, fault)", rep_faults)
                _copy(cursor, "rep_series (rep_id, frames, t_s, wall_gap_mm, trunk_angle_deg, knee_flexion_deg)",
                      series)
            for table in ("patients", "sessions", "sets", "reps"):  # the ids COPY gave, past the sequences
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        db.commit()
    # As autovacuum leaves a live database: statistics made, pages marked all-visible (index-only scans).
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as db:
        db.execute("VACUUM ANALYZE")
    return {"patients": patients, "sessions": sessions, "reps": rep_id - 1}


def _copy(cursor, target: str, rows) -> None:
    with cursor.copy(f"COPY {target} FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def pages_for(counts: dict, repeat: int, rng, url) -> list[tuple[str, list[str]]]:
    patients = [int(p) for p in rng.integers(1, counts["patients"] + 1, repeat)]
    sessions = [int(s) for s in rng.integers(1, counts["sessions"] + 1, repeat)]
    with open_store(url) as store:
        reps = [store.session_reps(s)[0]["id"] for s in sessions[:50]]
    return [
        *main_pages(patients, sessions, reps),
        ("session FHIR export", [f"/sessions/{s}/fhir.json" for s in sessions]),
        ("API reps with series", [f"/api/sessions/{s}/reps?series=1" for s in sessions]),
    ]


def measure(url: str, instance: Path, counts: dict, repeat: int, rng) -> dict[str, tuple]:
    app = create_app({"DATABASE": str(url), "SECRET_KEY": "b" * 64}, instance_path=instance)
    client = logged_in_client(app)
    results = {}
    for label, paths in pages_for(counts, repeat, rng, url):
        client.get(paths[0])  # warm the caches once
        results[label] = timed(client, paths, repeat)
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="share of both years (default 1)")
    parser.add_argument("--repeat", type=int, default=100, help="requests per page (default 100)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not 0 < args.scale <= 2 or args.repeat < 1:
        parser.error("--scale must be above 0 and at most 2, --repeat at least 1")
    binaries = find_binaries()
    if binaries is None:
        raise SystemExit("PostgreSQL is not installed (apt-get install postgresql)")
    rng = np.random.default_rng(args.seed)
    with tempfile.TemporaryDirectory(prefix="bench_clinic_db_") as folder:
        folder = Path(folder)
        started = time.perf_counter()
        station = fill(folder / "station.db", args.scale, rng)
        print(f"SQLite, one station's year: {station['reps']:,} reps in {station['sessions']:,} sessions, "
              f"filled in {time.perf_counter() - started:.0f} s")
        server = PostgresServer(binaries).initialise()
        try:
            server.start()
            server.create_database()
            started = time.perf_counter()
            clinic = fill_clinic(server.url, args.scale, rng)
            print(f"PostgreSQL, a clinic group's year: {clinic['reps']:,} reps in {clinic['sessions']:,} sessions "
                  f"from {STATIONS} stations, filled with COPY in {time.perf_counter() - started:.0f} s")
            sqlite = measure(folder / "station.db", folder / "instance-sqlite", station, args.repeat, rng)
            postgresql = measure(server.url, folder / "instance-pg", clinic, args.repeat, rng)
        finally:
            server.remove()
    print(f"\n{'page (' + str(args.repeat) + ' requests each)':34} {'SQLite p50':>11} {'p95':>7} "
          f"{'PostgreSQL p50':>15} {'p95':>7}   (ms)")
    for label in sqlite:
        print(f"{label:34} {sqlite[label][0]:11.1f} {sqlite[label][1]:7.1f} "
              f"{postgresql[label][0]:15.1f} {postgresql[label][1]:7.1f}")
    print(f"\nworst p95: SQLite {max(v[1] for v in sqlite.values()):.1f} ms, "
          f"PostgreSQL {max(v[1] for v in postgresql.values()):.1f} ms")


if __name__ == "__main__":
    main()
