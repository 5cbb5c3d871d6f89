"""Helpers for the dashboard's tests: an app on a temporary store, log-in, sample data."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import numpy as np
import pytest

from station.faults import Thresholds, rep_faults
from station.measure import HEAD_ABOVE_PICTURE, PATIENT_HIDDEN
from station.patient_targets import limits_record
from station.scoring import score_rep
from station.setup import BACK_HIDDEN_BY_SETUP
from web import create_app

USERNAME, PASSWORD = "anna", "correct horse battery"
SECRET = "s" * 64

# The end-to-end tests drive Debian's Chromium through Playwright (never `playwright install`).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                    reason=f"{CHROMIUM} is missing: install Debian's chromium "
                                           "(apt-get install -y chromium)")
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc)


def make_app(tmp_path, **overrides):
    config = {
        "TESTING": True,
        "DATABASE": str(tmp_path / "station.db"),
        "SECRET_KEY": SECRET,
        "WTF_CSRF_ENABLED": False,
        "PASSWORD_HASHER": "CHEAPEST",
        "LIVE_HEARTBEAT_S": 0.05,
        "LIVE_STREAM_MAX_S": 0.5,
        **overrides,
    }
    return create_app(config, instance_path=tmp_path / "instance")


def log_in(client, username=USERNAME, password=PASSWORD):
    return client.post("/auth/login", data={"username": username, "password": password})


def rep_series(start_s, descent_s, hold_s, ascent_s, *, peak_trunk, min_gap, peak_knee, fps=30.0, missing=()):
    """Per-frame series of one rep: smooth bend down, hold, come back up."""
    duration = descent_s + hold_s + ascent_s
    t = np.arange(0, duration + 1e-9, 1 / fps)
    bend = np.where(t < descent_s, 0.5 - 0.5 * np.cos(np.pi * t / descent_s),
                    np.where(t < descent_s + hold_s, 1.0,
                             0.5 + 0.5 * np.cos(np.pi * np.clip(t - descent_s - hold_s, 0, ascent_s) / ascent_s)))
    standing_gap = 240.0
    series = {
        "t_s": start_s + t,
        "wall_gap_mm": standing_gap - (standing_gap - min_gap) * bend,
        "trunk_angle_deg": peak_trunk * bend,
        "knee_flexion_deg": 5 + (peak_knee - 5) * bend,
    }
    gaps = series["wall_gap_mm"].copy()
    for k in missing:
        gaps[k] = math.nan
    series["wall_gap_mm"] = gaps
    return series


#: (peak trunk, min gap, peak knee, spine, descent, return) per rep of the sample session's sets.
SAMPLE_REPS = [
    [(48, 5, 12, 4, 1.6, 2), (52, 3, 15, 5, 1.5, 3), (55, 35, 14, 6, 1.4, 2), (50, 8, 48, 5, 1.5, 3),
     (51, 4, 16, 4, 0.7, 2), (53, 6, 13, 5, 1.7, 3)],
    [(47, 9, 18, 6, 1.5, 2), (49, 12, 52, 20, 1.2, 14), (54, 2, 11, 3, 1.8, 2), (52, 4, 14, 4, 1.6, 2)],
]


DEFAULT_THRESHOLDS = Thresholds()


def make_rep(index, start_s, figures, thresholds=DEFAULT_THRESHOLDS):
    """A rep and its series from (trunk, gap, knee, spine, descent, return); spine None = the back not measured."""
    trunk, gap, knee, spine, descent, returned = figures
    hold, ascent = 0.4, 1.6
    faults = rep_faults(min_wall_gap_mm=gap, peak_knee_flexion_deg=knee,
                        peak_spine_flexion_deg=-math.inf if spine is None else spine,
                        descent_s=descent, return_trunk_angle_deg=returned, thresholds=thresholds)
    score, lost = score_rep(faults=faults, bottom_seen=True, min_wall_gap_mm=gap, peak_knee_flexion_deg=knee,
                            peak_spine_flexion_deg=spine, descent_s=descent, return_trunk_angle_deg=returned,
                            thresholds=thresholds)
    end_s = start_s + descent + hold + ascent
    rep = {"index": index, "start_s": start_s, "bottom_s": start_s + descent, "end_s": end_s,
           "min_wall_gap_mm": gap, "touched": gap <= thresholds.touch_tolerance_mm, "peak_trunk_angle_deg": trunk,
           "peak_knee_flexion_deg": knee, "peak_spine_flexion_deg": spine, "return_trunk_angle_deg": returned,
           "descent_s": descent, "hold_s": hold, "ascent_s": ascent, "faults": faults, "score": score,
           "lost_points": lost, "limits": limits_record(thresholds, None)}
    series = rep_series(start_s, descent, hold, ascent, peak_trunk=trunk, min_gap=gap, peak_knee=knee,
                        missing=(3, 4) if index == 2 else ())
    return rep, series


def add_set_of_reps(store, code: str, display_name: str, reps) -> tuple[int, int, list[int]]:
    """A new patient with one session of one set holding ``reps`` ((rep, series or None) each, in order): the
    (patient, session, rep ids)."""
    patient = store.add_patient(code=code, display_name=display_name)
    session = store.start_session(source="camera 1", patient_id=patient)
    set_id = store.start_set(session)
    for rep, series in reps:
        store.add_rep(set_id, rep, series=series)
    return patient, session, [rep["id"] for rep in store.session_reps(session)]


def add_rep_with_bottom_not_seen(store, code="WH-0303"):
    """A patient with a 50° target and a set of two reps: one seen throughout, one whose bottom someone hid.

    As on the benchmark recording stress-v1-103: the patient hinges to 67°, the station sees them only up to
    15° on the way down and up, and stores no peak trunk (nor closest gap or knee bend) and no score. The (session,
    rep id).
    """
    seen, series = make_rep(1, 5.0, (52, 4, 20, None, 1.5, 1))
    hidden, hidden_series = make_rep(2, 12.0, (67, 4, 20, None, 1.5, 1))
    hidden.update(peak_trunk_angle_deg=None, min_wall_gap_mm=None, touched=False, peak_knee_flexion_deg=None,
                  good=False, score=None)
    for rep in (seen, hidden):
        rep["limits"] = {**rep["limits"], "target_trunk_angle_deg": 50.0}
    in_front = hidden_series["trunk_angle_deg"] > 15.0
    for name in ("wall_gap_mm", "trunk_angle_deg", "knee_flexion_deg"):
        hidden_series[name] = np.where(in_front, np.nan, hidden_series[name])
    patient, session, rep_ids = add_set_of_reps(store, code, "Nora P.", ((seen, series), (hidden, hidden_series)))
    store.set_targets(patient, target_trunk_angle_deg=50)
    return patient, session, rep_ids[1]


def add_interrupted_session(store, patient: int, started: dt.datetime = T0 + dt.timedelta(days=1)) -> int:
    """A session of ``patient`` the station stopped in mid-set, with every fault and someone in front of the patient
    for a while: its row on the patient's page says "Interrupted" and "Patient hidden". Its id.

    Closes every session still open (as the station does at start-up), the sample's guest session too.
    """
    session = store.start_session(source="camera 123456", patient_id=patient, started=started)
    set_id = store.start_set(session, started=started)
    for index, figures in enumerate(SAMPLE_REPS[0] + SAMPLE_REPS[1], start=1):
        rep, series = make_rep(index, 10.0 + 7.0 * index, figures)
        store.add_rep(set_id, rep, series=series, recorded=started + dt.timedelta(seconds=rep["end_s"]))
    store.add_hidden_span(set_id, 40.2, 46.8, PATIENT_HIDDEN)
    assert session in store.close_abandoned_sessions()
    return session


def calibration_document(created: dt.datetime, *, floor_rms=1.8, wall_rms=2.4) -> str:
    return json.dumps({"created": created.isoformat(), "source": "camera 123456", "frames_used": 30,
                       "quality": {"floor_rms_mm": floor_rms, "wall_rms_mm": wall_rms, "floor_share": 0.42,
                                   "wall_share": 0.31, "planes_angle_deg": 89.6}})


def fill_sample(store, *, back_measured: bool = True) -> dict:
    """A patient with targets, two earlier sessions, a calibration and a session of two sets with series.

    ``back_measured=False``: every rep's spine flexion is None, and its back note the set-up's, as the station's
    side mount gives today.
    """
    patient = store.add_patient(code="WH-0042", display_name="Margaret B.")
    other = store.add_patient(code="WH-0007", display_name="Tom <script>alert(1)</script>")
    calibration = store.add_calibration(calibration_document(T0 - dt.timedelta(days=20)))
    store.add_calibration(calibration_document(T0 - dt.timedelta(days=1), floor_rms=1.2, wall_rms=1.9))
    sessions = []
    for day, sets in ((-14, SAMPLE_REPS[:1]), (-7, SAMPLE_REPS[1:]), (0, SAMPLE_REPS)):
        started = T0 + dt.timedelta(days=day)
        session = store.start_session(source="camera 123456", patient_id=patient, calibration_id=calibration,
                                      started=started)
        for number, reps in enumerate(sets, start=1):
            set_started = started + dt.timedelta(minutes=5 * number)
            set_id = store.start_set(session, started=set_started)
            for index, figures in enumerate(reps, start=1):
                if not back_measured:
                    figures = (*figures[:3], None, *figures[4:])
                rep, series = make_rep(index, 10.0 + 7.0 * index, figures)
                if not back_measured:
                    rep["back_note"] = BACK_HIDDEN_BY_SETUP  # one side camera, as the station's reps say why
                if (day, number, index) == (0, 2, 3):
                    rep["view_note"] = HEAD_ABOVE_PICTURE  # its bottom seen with the head above the picture
                store.add_rep(set_id, rep, series=series,
                              recorded=set_started + dt.timedelta(seconds=rep["end_s"]))
            if (day, number) == (0, 2):  # someone stood in front of the patient for a while in set 2
                store.add_hidden_span(set_id, 40.2, 46.8, PATIENT_HIDDEN)
            store.end_set(set_id, ended=set_started + dt.timedelta(minutes=4))
        store.end_session(session, ended=started + dt.timedelta(minutes=20))
        sessions.append(session)
    guest = store.start_session(source="recording demo.db3", started=T0 + dt.timedelta(hours=2))
    set_id = store.start_set(guest, started=T0 + dt.timedelta(hours=2))
    guest_figures = SAMPLE_REPS[0][0] if back_measured else (*SAMPLE_REPS[0][0][:3], None, *SAMPLE_REPS[0][0][4:])
    rep, _ = make_rep(1, 5.0, guest_figures)
    store.add_rep(set_id, rep)  # a rep without series
    session_reps = store.session_reps(sessions[-1])
    return {"patient": patient, "other": other, "session": sessions[-1], "sessions": sessions, "guest": guest,
            "rep": session_reps[3]["id"], "reps": [rep["id"] for rep in session_reps],
            "guest_rep": store.session_reps(guest)[0]["id"], "calibration": calibration}


class Serving:
    """The app served by waitress (web.serve) on a free localhost port, in a thread, for real HTTP."""

    def __init__(self, app, **options):
        from web.serve import make_server
        self.app = app
        self.server = make_server(app, "127.0.0.1", 0, **options)
        self.url = f"http://127.0.0.1:{self.server.effective_port}"

    def __enter__(self):
        import threading
        self.thread = threading.Thread(target=self.server.run, name="waitress", daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        from web.serve import stop
        stop(self.server, self.app)
        self.thread.join(10)
        assert not self.thread.is_alive(), "the server did not stop"


def fill_clinic(store) -> dict:
    """:func:`fill_sample`, plus weeks of earlier sessions and a few more patients, for screenshots.

    No rep's back is measured, as on the station today (the screens say "back not checked").
    """
    ids = fill_sample(store, back_measured=False)
    store.update_patient(ids["other"], display_name="Tom W.")  # the sample's name that tests escaping
    rng = np.random.default_rng(7)
    patient = ids["patient"]
    # Eight weeks of twice-weekly sessions before the sample's, getting better.
    for week in range(8):
        for day in (0, 3):
            started = T0 - dt.timedelta(days=70 - 7 * week - day)
            skill = (week * 2 + day / 3) / 16
            session = store.start_session(source="camera 123456", patient_id=patient, started=started)
            for number in (1, 2, 3):
                set_id = store.start_set(session, started=started + dt.timedelta(minutes=6 * number))
                for index in range(1, 9 + number):
                    touch = 0.55 + 0.4 * skill
                    straight_knees = 0.7 + 0.25 * skill
                    figures = (float(rng.uniform(30, 42) + 14 * skill),
                               float(rng.choice([rng.uniform(0, 18), rng.uniform(22, 60)], p=[touch, 1 - touch])),
                               float(rng.choice([rng.uniform(8, 35), rng.uniform(42, 60)],
                                                p=[straight_knees, 1 - straight_knees])),
                               None, float(rng.uniform(0.8, 1.9)), float(rng.uniform(1, 8)))
                    rep, series = make_rep(index, 8.0 * index, figures)
                    store.add_rep(set_id, rep, series=series, recorded=started + dt.timedelta(minutes=6 * number))
            store.end_session(session, ended=started + dt.timedelta(minutes=25))
    others = [("WH-0013", "Walter H."), ("WH-0021", "Joan P."), ("WH-0034", "Raj S."), ("WH-0055", "Ines M.")]
    for k, (code, name) in enumerate(others):
        other = store.add_patient(code=code, display_name=name)
        started = T0 - dt.timedelta(days=k + 1, hours=-2)
        session = store.start_session(source="camera 123456", patient_id=other, started=started)
        for _ in range(3):
            set_id = store.start_set(session, started=started)
            for index in range(1, 13):
                good = (52, 4, 12, None, 1.6, 2) if k == 0 else (45, float(rng.uniform(0, 40)), 20, None, 1.4, 3)
                rep, series = make_rep(index, 7.0 * index, good)
                store.add_rep(set_id, rep)
        store.end_session(session, ended=started + dt.timedelta(minutes=22))
    return ids
