"""The demo: the whole station on a simulated camera, mock pins, SQLite and the dashboard on localhost.

It simulates three patients' sessions once, each seen by the two-camera
set-up ``side+wall-above`` (:data:`DEMO_PLACEMENT`: the side camera and the
camera on the drill wall above the spot, two recordings per session, kept
in the data folder's ``recordings``, about 330 MB, for the next start), then runs the station
exactly as ``wallhinge run`` does, replaying them one after the other (once
each; ``loop`` for ever) in real time through ``rs.pipeline`` as a live camera would
deliver them: measurement, reps, gpiozero feedback on mock pins (the
dashboard's live page and the kiosk show them as virtual lights), each rep
stored in SQLite, and the dashboard and kiosk served on localhost. Every start begins with a fresh
demo database, so what the dashboard shows is this run's. A demo
clinician account gets a fresh made-up password on every start, printed
once; there is no default password anywhere.
"""

from __future__ import annotations

import os
import secrets
import sys
import threading
from pathlib import Path

from station.errors import WallHingeError
from station.sim.scenarios import build_scene
from station.sim.simulate import is_current, simulate

# Whose sessions the demo replays: (patient code, display name, scenario, seed).
DEMO_SESSIONS = (
    ("WH-0001", "Margaret B.", "all-faults", 1),
    # A clinician steps in front of Walter during his second rep: the rep counts with its bottom not seen,
    # and his set says when he was hidden.
    ("WH-0002", "Walter H.", "clinician-in-front", 31),
    ("WH-0003", "Ines M.", "kyphosis", 11),
)
DEMO_USER = "demo"
# The demo station's set-up: both cameras, so the live page shows the back's state frame by frame.
DEMO_PLACEMENT = "side+wall-above"
# Between two patients (in real time), as between turns in a class: long enough for the kiosk's
# set card to be read before the next patient is called up (s).
TURN_GAP_S = 10.0


def _ensure_recording(folder: Path, scenario: str, seed: int, out) -> Path:
    """The session's pair of recordings (``NAME.db3`` and ``NAME.above.db3``), simulated unless kept from before."""
    from station.camera_pair import back_recording_path
    from station.sim.placements import pair_placements, placement_mount

    recording = folder / f"{scenario}-{seed}.db3"
    if is_current(recording) and back_recording_path(recording).is_file():
        return recording
    folder.mkdir(parents=True, exist_ok=True)
    spec = build_scene(scenario, seed)
    print(f"Simulating a {spec.duration_s:.0f} s session ({scenario}, seed {seed}); this happens once...",
          file=out, flush=True)
    shown = [-1]

    def progress(done, total):
        percent = 100 * done // total
        if percent // 10 != shown[0]:
            shown[0] = percent // 10
            print(f"  {percent:3d}%", file=out, flush=True)

    _, back = pair_placements(DEMO_PLACEMENT)
    simulate(spec, recording, progress=progress, back=(back, placement_mount(back, spec.mount.side, seed)))
    return recording


def _fresh_database(path: Path) -> None:
    """Remove the last demo's database, so this run starts afresh; refuse one that is not the demo's."""
    from station.store import StoreError, open_store

    if not path.exists():
        return
    try:
        with open_store(path) as store:
            clinicians = {account["username"] for account in store.list_clinicians()}
            codes = {patient["code"] for patient in store.list_patients(include_archived=True)}
    except StoreError as error:
        raise WallHingeError(f"{path} is not a demo database ({error}): choose another --data-dir") from None
    if not clinicians <= {DEMO_USER} or not codes <= {code for code, _, _, _ in DEMO_SESSIONS}:
        raise WallHingeError(f"{path} holds more than the demo's accounts and patients: the demo starts with a "
                             "fresh database and will not delete this one; choose another --data-dir")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _prepare_store(settings, app) -> tuple[str, list[int]]:
    """The demo clinician (a new password each start) and the demo patients; (password, patient ids)."""
    from station.store import open_store
    from web.auth import create_account, hash_password

    password = secrets.token_urlsafe(9)
    settings.station.data_path.mkdir(parents=True, exist_ok=True)
    with open_store(settings.station.database_path) as store:
        if store.get_clinician(DEMO_USER) is None:
            create_account(store, DEMO_USER, password, app=app, role="admin")  # the demo shows every page
        else:
            store.set_clinician_password(DEMO_USER, password_hash=hash_password(password, app=app))
        patients = []
        for code, name, _, _ in DEMO_SESSIONS:
            patient = store.get_patient_by_code(code)
            patients.append(patient["id"] if patient else store.add_patient(code=code, display_name=name))
    return password, patients


def run_demo(*, data_dir: Path, port: int = 8080, real_time: bool = True, rounds: int | None = None,
             loop: bool = False, keep_serving: bool = False, out=sys.stdout) -> int:
    """Replay each demo patient once (``rounds`` sessions; ``loop``: until Ctrl-C); returns the exit status.

    With ``keep_serving`` the dashboard and kiosk stay up after the last
    session, until Ctrl-C, for the sessions to be looked at.
    """
    if rounds is None and not loop:
        rounds = len(DEMO_SESSIONS)
    # Off a Raspberry Pi the lamps, buzzer and button are gpiozero's mock pins,
    # with PWM so the lamps can glow and the buzzer play tones.
    os.environ.setdefault("GPIOZERO_PIN_FACTORY", "mock")
    os.environ.setdefault("GPIOZERO_MOCK_PIN_CLASS", "mockpwmpin")
    from station.session import run_session
    from station.settings import load_settings
    from wallhinge.in_station import StationDashboard

    data_dir = Path(data_dir)
    recordings = [_ensure_recording(data_dir / "recordings", scenario, seed, out)
                  for _, _, scenario, seed in DEMO_SESSIONS]
    settings = load_settings(None, overrides={"station": {"data_dir": str(data_dir), "web_host": "127.0.0.1",
                                                          "web_port": port},
                                              "setup": {"placement": DEMO_PLACEMENT}})
    _fresh_database(settings.station.database_path)
    from station.camera_pair import back_recording_path

    recorded_mb = sum(path.stat().st_size + back_recording_path(path).stat().st_size for path in recordings) / 1e6
    try:
        dashboard = StationDashboard(settings)
    except OSError as error:
        raise WallHingeError(f"cannot serve the dashboard on localhost:{port} ({error.strerror or error}): "
                             "another program uses the port; try --port") from None
    password, patients = _prepare_store(settings, dashboard.app)
    stop = threading.Event()
    with dashboard:
        print(f"\nThe station is running on two simulated cameras (the side camera and the camera above the spot) "
              f"with mock pins.\n"
              f"  Dashboard: {dashboard.url}  (user {DEMO_USER}, password {password})\n"
              f"  Live session with the virtual lights: {dashboard.url}live/\n"
              f"  Kiosk for group classes: {dashboard.url}kiosk\n"
              f"  Database: {settings.station.database_path} (made afresh on every start)\n"
              f"  Recordings: {data_dir / 'recordings'} ({recorded_mb:.0f} MB, kept for the next start)\n"
              + ("Replaying the patients until Ctrl-C.\n" if rounds is None else
                 f"Replaying {rounds} session{'s' if rounds != 1 else ''} (--loop: again and again); "
                 "Ctrl-C stops.\n"), file=out, flush=True)
        played = 0
        while rounds is None or played < rounds:
            if played and real_time and stop.wait(TURN_GAP_S):
                break
            index = played % len(recordings)
            code, name, scenario, _ = DEMO_SESSIONS[index]
            print(f"Replaying {name} ({code}): {scenario}", file=out, flush=True)
            dashboard.live.command("assign", by="demo", patient_id=patients[index])
            summary = run_session(settings, replay=recordings[index], publisher=dashboard.live, stop_event=stop,
                                  real_time=real_time, speech_enabled=dashboard.speech_enabled)
            good = sum(1 for rep in summary.reps if rep["good"])
            print(f"  {len(summary.reps)} reps ({good} good) in {summary.sets} sets; ended by {summary.ended_by}; "
                  f"the camera above read the back in {summary.back_frames_read} frames; the reps' back: "
                  f"{summary.back_words()}", file=out, flush=True)
            played += 1
            if summary.ended_by != "end of recording":
                return 0  # stopped: Ctrl-C or SIGTERM
        if keep_serving:
            print("The demo's sessions are done; the dashboard and the kiosk stay up for you to look at them. "
                  "Ctrl-C stops.", file=out, flush=True)
            try:
                stop.wait()
            except KeyboardInterrupt:
                pass
    return 0
