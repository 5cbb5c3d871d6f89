"""The store under a year of a busy clinic: database size, fill time, and the main queries' latency.

    python benchmarks/bench_store.py [--scale 0.1] [--path FILE] [--repeat 200] [--seed 0]

Fills a fresh database (in a temporary folder, or at ``--path``, which must
not exist yet) with a year of a busy clinic: 200 patients, 10,000 sessions
of 3 sets of 10 reps (300,000 reps), each rep with a series of 80-100 frames
(about 3 s at 30 fps), faults on about a third of the reps, a calibration a
week. Rows go in with ``executemany`` in one transaction per 250 sessions.
``--scale`` multiplies the patient, session and rep counts (0.1 for a quick
try).

Then, through :class:`station.store.Store` on the filled file, it times the
queries behind the dashboard's main pages, each ``--repeat`` times with
random patients and sessions, and prints p50 and p95 in milliseconds:

- the patient list with each patient's activity (``list_patients``), and the
  recent sessions across patients (``recent_activity``);
- one patient's per-session summaries (``session_summaries``);
- one session's reps with their series (``session_reps(with_series=True)``),
  and the same made JSON-ready (``series_to_list``);
- adding one rep with its series, committed to disk (``add_rep``), the cost
  the live station pays per rep.

No assertions: figures to read.
"""

import argparse
import datetime as dt
import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from station.faults import FAULT_NAMES  # noqa: E402
from station.store import SERIES_NAMES, open_store, series_to_list  # noqa: E402

PATIENTS, SESSIONS, SETS_PER_SESSION, REPS_PER_SET = 200, 10_000, 3, 10
FPS = 30.0
SESSIONS_PER_TRANSACTION = 250
YEAR_START = dt.datetime(2025, 1, 6, tzinfo=dt.timezone.utc)
# Share of reps showing each fault, and the points each costs (for plausible scores).
FAULT_RATE = {"squat": 0.10, "rounded_back": 0.06, "no_touch": 0.12, "too_fast": 0.08, "incomplete_return": 0.03}
FAULT_POINTS = {"squat": 30, "rounded_back": 30, "no_touch": 20, "too_fast": 15, "incomplete_return": 15}


def stamp(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def session_starts(count: int, rng) -> list[dt.datetime]:
    """Weekday clinic hours over a year, sorted."""
    days = rng.integers(0, 365, count)
    days = days + np.where((days % 7) >= 5, -2, 0)  # weekends move to the Thursday before
    minutes = rng.integers(8 * 60, 17 * 60, count)
    seconds = rng.integers(0, 60, count)
    starts = sorted(YEAR_START + dt.timedelta(days=int(d), minutes=int(m), seconds=int(s))
                    for d, m, s in zip(days, minutes, seconds))
    return starts


def session_sets(session_id: int, started: dt.datetime, first_set_id: int):
    """A session's end and its sets: rows ``(id, session_id, number, started, ended)`` and their start times.

    SETS_PER_SESSION sets of 5 minutes, one every 6 minutes from ``started``;
    the session ends 6 minutes after its last set started.
    """
    starts = [started + dt.timedelta(minutes=(number - 1) * 6) for number in range(1, SETS_PER_SESSION + 1)]
    rows = [(first_set_id + number - 1, session_id, number, stamp(start), stamp(start + dt.timedelta(minutes=5)))
            for number, start in enumerate(starts, 1)]
    return started + dt.timedelta(minutes=SETS_PER_SESSION * 6), rows, starts


def rep_rows(first_rep_id: int, set_ids: np.ndarray, set_starts: list[dt.datetime], rng):
    """Rows for reps, rep_faults and rep_series of a block of sets (REPS_PER_SET reps each)."""
    count = len(set_ids) * REPS_PER_SET
    index = np.tile(np.arange(1, REPS_PER_SET + 1), len(set_ids))
    descent = rng.uniform(0.7, 2.4, count)
    hold = rng.uniform(0.1, 0.8, count)
    ascent = rng.uniform(1.0, 2.2, count)
    duration = descent + hold + ascent
    start = 5.0 + (index - 1) * 6.0 + rng.uniform(0, 1, count)
    bottom, end = start + descent, start + duration
    faults = {name: rng.random(count) < rate for name, rate in FAULT_RATE.items()}
    faults["too_fast"] |= descent < 0.95
    gap = np.where(faults["no_touch"], rng.uniform(25, 120, count), rng.uniform(0, 18, count))
    knee = np.where(faults["squat"], rng.uniform(42, 80, count), rng.uniform(3, 30, count))
    spine = np.where(faults["rounded_back"], rng.uniform(16, 30, count), rng.uniform(0, 12, count))
    trunk = rng.uniform(35, 65, count)
    returned = np.where(faults["incomplete_return"], rng.uniform(11, 25, count), rng.uniform(0, 6, count))
    points = sum(np.where(faults[name], FAULT_POINTS[name], 0) for name in FAULT_NAMES)
    score = np.maximum(0, 100 - points)
    any_fault = np.any([faults[name] for name in FAULT_NAMES], axis=0)
    good = ~any_fault & (trunk >= 40)

    frames = rng.integers(80, 101, count)
    width = int(frames.max())
    phase = np.linspace(0.0, 1.0, width)[np.newaxis, :] * (width / frames[:, np.newaxis])
    bend = np.sin(np.pi * np.clip(phase, 0, 1))  # 0 -> 1 -> 0 over the rep
    times = (start[:, np.newaxis] + np.arange(width)[np.newaxis, :] / FPS).astype("<f4")
    gaps = (gap[:, np.newaxis] + 250.0 * (1 - bend) + rng.normal(0, 2, (count, width))).astype("<f4")
    gaps[rng.random((count, width)) < 0.03] = np.nan  # frames where the gap was not measured
    trunks = (trunk[:, np.newaxis] * bend + rng.normal(0, 0.8, (count, width))).astype("<f4")
    knees = (knee[:, np.newaxis] * bend + rng.normal(0, 1.0, (count, width))).astype("<f4")

    reps, rep_faults, series = [], [], []
    for k in range(count):
        rep_id = first_rep_id + k
        set_number = k // REPS_PER_SET
        recorded = set_starts[set_number] + dt.timedelta(seconds=float(end[k]))
        lost = [{"fault": name, "points": FAULT_POINTS[name], "why": f"{name} in this rep"}
                for name in FAULT_NAMES if faults[name][k]]
        reps.append((rep_id, int(set_ids[set_number]), int(index[k]), float(start[k]), float(bottom[k]),
                     float(end[k]), float(gap[k]), int(gap[k] <= 20.0), float(trunk[k]), float(knee[k]),
                     float(spine[k]), float(returned[k]), float(descent[k]), float(hold[k]), float(ascent[k]),
                     int(score[k]), int(good[k]), json.dumps(lost) if lost else None, stamp(recorded)))
        rep_faults.extend((rep_id, name) for name in FAULT_NAMES if faults[name][k])
        n = int(frames[k])
        series.append((rep_id, n, times[k, :n].tobytes(), gaps[k, :n].tobytes(), trunks[k, :n].tobytes(),
                       knees[k, :n].tobytes()))
    return reps, rep_faults, series


def fill(path: Path, scale: float, rng) -> dict:
    """Fill a new store at ``path``; return the counts."""
    patients = max(1, round(PATIENTS * scale))
    sessions = max(1, round(SESSIONS * scale))
    with open_store(path) as store:
        db = store._conn.connection.dbapi_connection  # the benchmark writes in bulk through the file's own sqlite3
        db.execute("BEGIN")
        db.executemany("INSERT INTO patients (id, code, display_name, created) VALUES (?, ?, ?, ?)",
                       [(p, f"P-{p:04d}", f"Patient {p:04d}", stamp(YEAR_START)) for p in range(1, patients + 1)])
        db.executemany("INSERT INTO targets (patient_id, standoff_mm, reps_per_set, sets) VALUES (?, ?, ?, ?)",
                       [(p, float(rng.choice([100, 200, 300])), 10, 3) for p in range(1, patients + 1)])
        db.executemany("INSERT INTO calibrations (id, created, source, frames_used, floor_rms_mm, wall_rms_mm,"
                       " floor_share, wall_share, planes_angle_deg, document) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       [(w + 1, stamp(YEAR_START + dt.timedelta(weeks=w)), "camera 123456", 30,
                         float(rng.uniform(1, 4)), float(rng.uniform(1, 4)), 0.4, 0.3, 90.0, "{}")
                        for w in range(53)])
        db.execute("COMMIT")
        # Some patients come far more often than others.
        weights = rng.gamma(2.0, 1.0, patients)
        owners = rng.choice(np.arange(1, patients + 1), size=sessions, p=weights / weights.sum())
        starts = session_starts(sessions, rng)
        rep_id = set_id = 1
        for first in range(0, sessions, SESSIONS_PER_TRANSACTION):
            block = range(first, min(sessions, first + SESSIONS_PER_TRANSACTION))
            session_rows, set_rows, set_starts = [], [], []
            for s in block:
                started = starts[s]
                ended, rows, times = session_sets(s + 1, started, set_id)
                week = min(52, (started - YEAR_START).days // 7)
                session_rows.append((s + 1, int(owners[s]), week + 1, stamp(started), stamp(ended),
                                     "camera 123456"))
                set_rows += rows
                set_starts += times
                set_id += len(rows)
            ids = np.array([row[0] for row in set_rows])
            reps, rep_faults, series = rep_rows(rep_id, ids, set_starts, rng)
            rep_id += len(reps)
            db.execute("BEGIN")
            db.executemany("INSERT INTO sessions (id, patient_id, calibration_id, started, ended, source)"
                           " VALUES (?, ?, ?, ?, ?, ?)", session_rows)
            db.executemany("INSERT INTO sets (id, session_id, number, started, ended) VALUES (?, ?, ?, ?, ?)",
                           set_rows)
            db.executemany("INSERT INTO reps (id, set_id, index_in_set, start_s, bottom_s, end_s, min_wall_gap_mm,"
                           " touched, peak_trunk_angle_deg, peak_knee_flexion_deg, peak_spine_flexion_deg,"
                           " return_trunk_angle_deg, descent_s, hold_s, ascent_s, score, good, lost_points, recorded)"
                           " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", reps)
            db.executemany("INSERT INTO rep_faults (rep_id, fault) VALUES (?, ?)", rep_faults)
            db.executemany("INSERT INTO rep_series (rep_id, frames, t_s, wall_gap_mm, trunk_angle_deg,"
                           " knee_flexion_deg) VALUES (?, ?, ?, ?, ?, ?)", series)
            db.execute("COMMIT")
    return {"patients": patients, "sessions": sessions, "reps": rep_id - 1}


def timed(call, arguments, repeat: int) -> tuple[float, float, float]:
    """(p50, p95, max) milliseconds of ``call(argument)`` over ``repeat`` runs, arguments cycled."""
    timings = []
    for k in range(repeat):
        started = time.perf_counter()
        call(arguments[k % len(arguments)])
        timings.append((time.perf_counter() - started) * 1000)
    return float(np.percentile(timings, 50)), float(np.percentile(timings, 95)), max(timings)


def table_sizes(store) -> list[tuple[str, int]]:
    """Bytes per table and index, largest first, if SQLite has the dbstat table."""
    try:
        rows = store._conn.connection.dbapi_connection.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC").fetchall()
    except sqlite3.OperationalError:  # dbstat is a compile-time option; the sizes are a nicety
        return []
    return [(name, size) for name, size in rows]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="share of the full clinic's year (default 1)")
    parser.add_argument("--path", type=Path, help="database file to create (default: in a temporary folder)")
    parser.add_argument("--repeat", type=int, default=200, help="runs of each query (default 200)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not 0 < args.scale <= 10:
        parser.error("--scale must be above 0 and at most 10")
    if args.path is not None and args.path.exists():
        parser.error(f"{args.path} exists: give a new file")
    with tempfile.TemporaryDirectory(prefix="bench_store_") as folder:
        path = args.path or Path(folder) / "station.db"
        run(path, args.scale, args.repeat, np.random.default_rng(args.seed))


def run(path: Path, scale: float, repeat: int, rng) -> None:
    started = time.perf_counter()
    counts = fill(path, scale, rng)
    fill_s = time.perf_counter() - started
    size = path.stat().st_size
    print(f"filled {path}: {counts['patients']} patients, {counts['sessions']} sessions, "
          f"{counts['reps']} reps with series in {fill_s:.1f} s "
          f"({counts['reps'] / fill_s:,.0f} reps/s)")
    print(f"database file {size / 1e6:.1f} MB ({size / max(1, counts['reps']):.0f} bytes per rep)")

    with open_store(path) as store:
        for name, table_size in table_sizes(store)[:6]:
            print(f"  {name:26} {table_size / 1e6:8.1f} MB")
        patient_ids = [int(p) for p in rng.integers(1, counts["patients"] + 1, repeat)]
        session_ids = [int(s) for s in rng.integers(1, counts["sessions"] + 1, repeat)]

        def session_json(session_id):
            for rep in store.session_reps(session_id, with_series=True):
                rep["series"] = {name: series_to_list(rep["series"][name]) for name in SERIES_NAMES}

        queries = [
            ("patient list with activity", lambda _: store.list_patients(), [None]),
            ("recent activity (20)", lambda _: store.recent_activity(limit=20), [None]),
            ("patient search 'P-01'", lambda _: store.search_patients("P-01"), [None]),
            ("one patient's session summaries", store.session_summaries, patient_ids),
            ("one session's reps with series", lambda s: store.session_reps(s, with_series=True), session_ids),
            ("  ... made JSON-ready", session_json, session_ids),
        ]
        print(f"\n{'query (' + str(repeat) + ' runs)':34} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
        for label, call, arguments in queries:
            p50, p95, worst = timed(call, arguments, repeat)
            print(f"{label:34} {p50:8.2f} {p95:8.2f} {worst:8.2f}")
        per_patient = [len(store.session_summaries(p)) for p in patient_ids[:50]]
        print(f"(a patient has {np.median(per_patient):.0f} sessions on median, {max(per_patient)} at most)")

        session = store.start_session(source="benchmark", patient_id=1)
        set_id = store.start_set(session)
        template = store.session_reps(1, with_series=True)[0]
        rep = {key: template[key] for key in ("start_s", "bottom_s", "end_s", "min_wall_gap_mm", "touched",
                                              "peak_trunk_angle_deg", "peak_knee_flexion_deg", "descent_s",
                                              "hold_s", "ascent_s", "faults", "score")}
        indexes = iter(range(1, repeat + 1))
        p50, p95, worst = timed(lambda _: store.add_rep(set_id, {**rep, "index": next(indexes)},
                                                        series=template["series"]), [None], repeat)
        print(f"{'add_rep with series (commit+fsync)':34} {p50:8.2f} {p95:8.2f} {worst:8.2f}")


if __name__ == "__main__":
    main()
