"""The kiosk end to end in a real headless Chromium (Debian's, driven by Playwright), against waitress.

- The kiosk follows the station within a second: the event dicts station/session.py publishes go
  into the app's live feed, and the rep count, the wall bar and the cue follow on the page.
- The roster hand-over: a tap on a name at the kiosk, then a simulated recording replayed through
  the real session loop (station.session.run_session); the session is stored against them.
- The kiosk recovers after the server restarts, on the same port: the same app (the stream
  reconnects) and a fresh one (the page reloads itself once the server answers), never showing a
  browser error page.

Screenshots at 800x480 and 1920x1080, idle and mid-rep, go to a temporary folder, or to the folder
named by ``WALLHINGE_SCREENSHOTS`` (``docs/screenshots`` to refresh the project's pictures).
"""

import dataclasses
import threading
import time

import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin

from station.camera import open_recording
from station.settings import load_settings
from station.session import run_session
from station.store import open_store
from support import PASSWORD, USERNAME, Serving, fill_clinic, make_app, needs_chromium

pytestmark = needs_chromium

SIZES = {"800x480": (800, 480), "1920x1080": (1920, 1080)}
FOLLOW_S = 1.0  # the kiosk must show what the station reports within this

STANDING = {"pattern": "patient_detected", "colour": "green", "blinking": False,
            "lamps": {"red": 0.0, "amber": 0.0, "green": 0.25}, "sound": False, "note": None, "tone_hz": None,
            "muted": False, "reason": None}
FAULT = dict(STANDING, pattern="fault_rep", colour="red", blinking=True, lamps={"red": 1.0, "amber": 0.0, "green": 0.0})
ROUNDED = dict(FAULT, pattern="rounded_back_rep", colour="red+amber")




def _clinic(tmp_path, **config):
    app = make_app(tmp_path, LIVE_HEARTBEAT_S=1.0, LIVE_STREAM_MAX_S=60, **config)
    with open_store(app.config["DATABASE"]) as store:
        from web.auth import create_account
        create_account(store, USERNAME, PASSWORD, app=app, role="admin")  # kiosk passes are the admin's to give
        ids = fill_clinic(store)
        ids["class"] = [patient["id"] for patient in store.list_patients()]
    return app, ids


def _watch(page, errors, navigations, *, refused_ok=False):
    def console(message):
        if message.type == "error" and not (refused_ok and "ERR_CONNECTION_REFUSED" in message.text):
            errors.append(message.text)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", console)
    page.on("framenavigated", lambda frame: navigations.append(frame.url) if frame == page.main_frame else None)


def _open_kiosk_with_a_pass(browser, url, size, errors, navigations):
    """A tablet made the kiosk as the admin does it: log in, the kiosk page, "Make this browser the kiosk"."""
    width, height = SIZES[size]
    context = browser.new_context(viewport={"width": width, "height": height}, locale="en-GB",
                                  timezone_id="Europe/London")
    page = context.new_page()
    _watch(page, errors, navigations)
    page.goto(url + "/kiosk")
    assert page.locator("h1").inner_text() == "This screen is not the kiosk yet"
    assert errors == ["Failed to load resource: the server responded with a status of 403 (FORBIDDEN)"]
    errors.clear()  # that refusal was the point
    page.click("text=Clinician: set up the kiosk")
    page.fill("#username", USERNAME)
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Log in')")
    page.wait_for_url(url + "/kiosk/setup")
    page.click("button:has-text('Make this browser the kiosk')")
    page.wait_for_url(url + "/kiosk")
    page.wait_for_selector("body[data-connection='up']")
    return context, page


def _within(page, selector, publish, *, state="visible"):
    """Publish, then wait for the selector; return how long the page took to show it (s)."""
    started = time.monotonic()
    publish()
    page.wait_for_selector(selector, state=state, timeout=5000)
    return time.monotonic() - started


def _session(number, reps=0, good=0, state="running"):
    """A session event exactly as station/session.py's _publish_session makes it."""
    return {"type": "session", "state": state, "session_id": 1, "set_number": number, "reps_in_set": reps,
            "good_reps_in_set": good, "reps_per_set": 12, "completed_sets": number - 1,
            "source": "camera 123456"}


def _frame(gap, trunk, lights=STANDING, present=True):
    return {"type": "frame", "t_s": 40.0, "phase": "measuring", "trouble": None, "set_number": 1,
            "set_state": "running", "reps_in_set": 0, "present": present, "confidence": 0.93, "wall_gap_mm": gap,
            "trunk_angle_deg": trunk, "knee_flexion_deg": 9.0, "spine_flexion_deg": 2.0, "lights": lights}


def _rep(index, faults=()):
    """A rep event as _rep_done makes it (Rep.as_dict(), index within the set, good)."""
    return {"type": "rep", "session_id": 1, "set_number": 1, "good": not faults,
            "rep": {"index": index, "start_s": 30.0, "bottom_s": 31.6, "end_s": 34.0, "min_wall_gap_mm": 3.0,
                    "touched": True, "peak_trunk_angle_deg": 49.0, "peak_knee_flexion_deg": 52.0 if faults else 12.0,
                    "peak_spine_flexion_deg": 3.0, "descent_s": 1.6, "hold_s": 0.5, "ascent_s": 1.9,
                    "return_trunk_angle_deg": 2.0, "faults": list(faults), "score": 75 if faults else 100,
                    "lost_points": []}}


@pytest.mark.parametrize("size", SIZES)
def test_the_kiosk_follows_the_station_within_a_second(browser, tmp_path, shots, size):
    app, ids = _clinic(tmp_path, KIOSK_TRUST_LOCALHOST=False, WTF_CSRF_ENABLED=True)  # a tablet: it needs its pass
    app.extensions["wallhinge_kiosk"].set_roster(ids["class"])
    feed = app.extensions["wallhinge_live"]
    errors, navigations = [], []
    with Serving(app) as served:
        context, page = _open_kiosk_with_a_pass(browser, served.url, size, errors, navigations)
        try:
            loaded = time.monotonic()
            page.wait_for_selector(".k-roster .k-name >> text=Margaret B.")
            assert page.locator("body").get_attribute("data-mode") == "idle"
            assert page.locator("img.k-anim").evaluate("img => img.complete && img.naturalWidth > 0")
            page.wait_for_timeout(max(0.0, 2.9 - (time.monotonic() - loaded)) * 1000)  # the figure mid-hinge
            page.screenshot(path=shots / f"kiosk-idle-{size}.png")

            # Turn-taking: Margaret taps her name; the station gets an "assign" command.
            page.click(".k-roster .k-name >> text=Margaret B.")
            page.wait_for_selector("#up-status:has-text(\"Margaret B., you're up!\")")
            page.wait_for_selector("#who:has-text('Up now: Margaret B.')")
            taken = feed.commands()
            assert [(c["command"], c["patient_id"], c["by"]) for c in taken] == [("assign", ids["patient"], "kiosk")]

            # She steps up: a set starts, as the session loop reports it.
            feed.publish({"type": "station", "state": "ready"})
            feed.publish({"type": "patient", "present": True, "t_s": 20.0})
            feed.publish(_session(1))
            for _ in range(12):
                feed.publish(_frame(240.0, 2.0))
            page.wait_for_selector("body[data-mode='live']")
            assert page.locator("#count-words").inner_text() == "Good reps: 0 of 12, Set 1 of 3"
            assert page.locator(".k-count-label").inner_text() == "Good reps"
            assert page.locator("#cue-text").inner_text() == ""  # no placeholder where a tip would go
            assert "Tips show here" not in page.content()

            # The wall bar follows the hips; a touch lights it.
            # (Waited for by the lean's word, drawn with the bar: the standing frames leave the bar at 0-4%, not 0.)
            took = {"bar": _within(page, "#lean-word:has-text('Hinging')", lambda: feed.publish(_frame(130.0, 28.0)))}
            assert 45 <= int(page.locator("#bar").get_attribute("aria-valuenow")) <= 55  # halfway to the wall
            assert page.locator("#lean-word").inner_text() == "Hinging"
            took["touch"] = _within(page, "#wall[data-touching='true']", lambda: (
                feed.publish({"type": "touched", "t_s": 41.0, "wall_gap_mm": 4.0, "counted": True}),
                feed.publish(_frame(4.0, 50.0))))
            assert page.locator("#bar-wall-word").inner_text() == "TOUCH ✓"
            # A rep with a fault: its cue, and the red lamp, flashing, in words too.
            took["cue"] = _within(page, "#cue-text:has-text('Soft knees')", lambda: (
                feed.publish({"type": "lights", "pattern": "rep_done", "lights": FAULT}),
                feed.publish(_rep(1, ["squat"])), feed.publish(_session(1, reps=1, good=0))))
            assert page.locator("#cue-label").inner_text() == "TIP"
            assert page.locator("#lamp-red.on.blink").count() == 1 and page.locator("#lamp-green.on").count() == 0
            assert page.locator("#light-word").inner_text() == "See the tip"
            assert page.locator("#count").inner_text() == "0"
            # A good rep: the count goes up; the cue stays (no chatter within the cooldown).
            took["count"] = _within(page, "#count:has-text('1')", lambda: (
                feed.publish(_rep(2)), feed.publish(_session(1, reps=2, good=1))))
            assert page.locator("#cue-text").inner_text() == "Soft knees"
            print("kiosk follow times (s):", {k: round(v, 3) for k, v in took.items()})
            assert all(seconds < FOLLOW_S for seconds in took.values()), took
            # A rounded back: red and amber flash in turn (amber half a flash behind), as the lamps do.
            feed.publish({"type": "lights", "pattern": "rep_done", "lights": ROUNDED})
            page.wait_for_selector("#lamp-amber.on.blink.in-turn")
            assert page.locator("#lamp-red.on.blink").count() == 1 and page.locator("#lamp-red.in-turn").count() == 0
            # On one clock: amber's flash half a period (0.25 s) behind red's, so one is lit while the other is not.
            timing = page.evaluate("() => ['lamp-red', 'lamp-amber'].map(id => document.getElementById(id)"
                                   ".getAnimations().map(a => [a.startTime, a.effect.getTiming().delay]))")
            assert timing == [[[0, 0]], [[0, -250]]], timing
            for moment in ("a", "b"):  # a quarter second apart: one lamp lit, then the other
                page.locator("#light").screenshot(path=shots / f"kiosk-rounded-lamps-{size}-{moment}.png")
                page.wait_for_timeout(250)

            # Mid-rep, later in the set, for the pictures (once the last touch's flash is over).
            page.wait_for_timeout(1600)
            feed.publish(_session(1, reps=8, good=7))
            feed.publish(_frame(70.0, 38.0))
            page.wait_for_selector("#count:has-text('7')")
            page.wait_for_selector("#wall[data-touching='false']")
            assert page.locator("#bar-word").inner_text() == "7 cm to go"
            page.screenshot(path=shots / f"kiosk-live-{size}.png")
            assert page.locator("#back-word").is_hidden()  # one camera: no back line
            # Someone steps between the camera and the participant: the bar asks them to step aside, no lean shows.
            feed.publish({**_frame(None, 38.0), "hidden": "someone in front of the hips"})
            page.wait_for_selector("#wall[data-blocked='true']")
            assert page.locator("#bar-word").inner_text() == "Camera can't see you: please step aside"
            assert page.locator("#lean-deg").inner_text() == "" and page.locator("#lean-word").inner_text() == "—"
            page.wait_for_selector("#bar[aria-valuenow='0']")  # no gap measured: an empty bar
            page.wait_for_timeout(300)  # the bar's 0.12 s transition, for the picture
            page.screenshot(path=shots / f"kiosk-blocked-{size}.png")
            feed.publish(_frame(70.0, 38.0))
            page.wait_for_selector("#wall[data-blocked='false']")
            # Standing against the wall, no rep's touch counted: at the wall, not "Touched the wall!".
            feed.publish(_frame(6.0, 3.0))
            page.wait_for_selector("#bar-word:has-text('At the wall')")
            assert page.locator("#wall").get_attribute("data-touching") == "false"
            assert page.locator("#bar-wall-word").inner_text() == "WALL"
            page.wait_for_timeout(300)  # the bar's 0.12 s transition, for the picture
            page.screenshot(path=shots / f"kiosk-at-the-wall-{size}.png")
            feed.publish(_frame(70.0, 38.0))
            # Two cameras: the back is not checked (its measurement not validated), and the kiosk says so, plainly.
            feed.publish({**_frame(70.0, 38.0), "back_checked": False,
                          "back_reason": "the back is in view from this set-up, but its measurement has not met"})
            page.wait_for_selector("#back-word:has-text('Back not checked')")
            assert "measurement" not in page.locator("#back-word").inner_text()
            page.screenshot(path=shots / f"kiosk-pair-live-{size}.png")

            # The set ends with 5 good of 9 reps: the card counts as the station does.
            feed.publish(_session(1, reps=9, good=5))
            feed.publish(_session(1, reps=9, good=5, state="idle"))
            page.wait_for_selector("body[data-mode='summary']")
            assert page.locator("#summary-title").inner_text() == "Set done!"
            lines = page.locator("#summary-lines li").all_inner_texts()
            assert lines[0] == "5 good reps of 9" and "Soft knees on every rep" not in lines
            page.screenshot(path=shots / f"kiosk-set-done-{size}.png")
            assert errors == [] and not any(url.startswith("chrome-error") for url in navigations)
        finally:
            context.close()


class PacedGatedRecording:
    """A recording read at about ``delay_s`` a frame, that waits at ``gate_s`` (recording time) for ``gate``."""

    label = "scripted camera"

    def __init__(self, path, gate: threading.Event, *, gate_s: float, delay_s: float = 0.008):
        self._inner = open_recording(path, real_time=False)
        self._gate, self._gate_s, self._delay_s = gate, gate_s, delay_s

    def __iter__(self):
        for frame in self._inner:
            if self._gate_s is not None and frame.timestamp_s >= self._gate_s:
                assert self._gate.wait(30), "the test never opened the gate"
                self._gate_s = None
            time.sleep(self._delay_s)
            yield dataclasses.replace(frame)

    def close(self):
        self._inner.close()


def test_the_roster_hand_over_stores_the_set_against_the_participant(browser, tmp_path, short_recording):
    """A tap at the kiosk, then the real session loop replaying a recording: the set is theirs."""
    recording, truth = short_recording
    app, ids = _clinic(tmp_path)
    app.extensions["wallhinge_kiosk"].set_roster(ids["class"])
    feed = app.extensions["wallhinge_live"]
    settings = load_settings(overrides={"station": {"data_dir": str(tmp_path), "database": app.config["DATABASE"]}})
    gate = threading.Event()
    result = {}

    def station():
        source = PacedGatedRecording(recording, gate, gate_s=4.0)
        opener = lambda: source
        opener.label = "scripted camera"
        result["summary"] = run_session(settings, source=opener, publisher=feed,
                                        pin_factory=MockFactory(pin_class=MockPWMPin), max_duration_s=120)

    errors, navigations = [], []
    with Serving(app) as served:
        context = browser.new_context(viewport={"width": 800, "height": 480})
        page = context.new_page()
        _watch(page, errors, navigations)
        worker = threading.Thread(target=station, name="station", daemon=True)
        try:
            page.goto(served.url + "/kiosk")  # the station's own screen: no pass needed on localhost
            page.wait_for_selector("body[data-connection='up']")
            worker.start()
            deadline = time.monotonic() + 30
            while (feed.state()["latest"].get("station") or {}).get("state") != "ready":
                assert time.monotonic() < deadline, "the station never got ready"
                time.sleep(0.05)
            page.click(".k-roster .k-name >> text=Walter H.")
            page.wait_for_selector("#who:has-text('Up now: Walter H.')")
            time.sleep(0.5)  # the session loop takes dashboard commands every 0.1 s
            gate.set()
            page.wait_for_selector("body[data-mode='live']", timeout=20_000)
            page.wait_for_selector("#count:has-text('2')", timeout=20_000)
            page.wait_for_selector("body[data-mode='summary']", timeout=20_000)
            assert "2 good reps" in page.locator("#summary-lines").inner_text()
            assert page.locator("#summary-greeting").inner_text() == "Well done, Walter!"
            worker.join(60)
            assert not worker.is_alive()
        finally:
            gate.set()
            context.close()
    summary = result["summary"]
    with open_store(app.config["DATABASE"]) as store:
        walter = next(patient["id"] for patient in store.list_patients() if patient["display_name"] == "Walter H.")
        session = store.get_session(summary.session_id)
        sets = store.session_sets(summary.session_id)
    assert session["patient_id"] == walter and session["patient_name"] == "Walter H."
    assert [(s["reps"], s["good_reps"]) for s in sets] == [(len(truth["reps"]), len(truth["reps"]))]
    assert errors == []


def _serve_on(app, port):
    from web.serve import make_server
    server = make_server(app, "127.0.0.1", port)
    thread = threading.Thread(target=server.run, name="waitress", daemon=True)
    thread.start()
    return server, thread


def _stop(server, thread, app):
    from web.serve import stop
    stop(server, app)
    thread.join(10)
    assert not thread.is_alive()


def test_the_kiosk_recovers_after_the_server_restarts(browser, tmp_path):
    app, ids = _clinic(tmp_path)
    app.extensions["wallhinge_kiosk"].set_roster(ids["class"])
    errors, navigations = [], []
    server, thread = _serve_on(app, 0)
    port = server.effective_port
    url = f"http://127.0.0.1:{port}"
    context = browser.new_context(viewport={"width": 800, "height": 480})
    page = context.new_page()
    _watch(page, errors, navigations, refused_ok=True)
    try:
        page.goto(url + "/kiosk")
        page.wait_for_selector("body[data-connection='up']")
        page.wait_for_selector(".k-roster .k-name")
        loads = len(navigations)

        # 1. The server stops and comes back on the same port: the stream picks up by itself.
        _stop(server, thread, app)
        page.wait_for_selector("body[data-connection='down']", timeout=10_000)
        assert page.locator("#offline").is_visible()
        time.sleep(2.5)  # it keeps trying while nobody answers
        server, thread = _serve_on(app, port)
        page.wait_for_selector("body[data-connection='up']", timeout=15_000)
        app.extensions["wallhinge_live"].publish(_session(1, reps=3, good=3))
        page.wait_for_selector("#count:has-text('3')", timeout=5000)
        assert len(navigations) == loads  # no reload was needed

        # 2. The station restarts for real: a fresh app on the same port. The page reloads itself, once
        #    the server answers, and follows the new one.
        _stop(server, thread, app)
        page.wait_for_selector("body[data-connection='down']", timeout=10_000)
        time.sleep(1.5)
        fresh = make_app(tmp_path, LIVE_HEARTBEAT_S=1.0, LIVE_STREAM_MAX_S=60)
        server, thread = _serve_on(fresh, port)
        deadline = time.monotonic() + 20
        while len(navigations) == loads:
            assert time.monotonic() < deadline, "the page did not reload for the new server"
            page.wait_for_timeout(200)
        page.wait_for_selector("body[data-connection='up']", timeout=15_000)
        fresh.extensions["wallhinge_live"].publish({"type": "patient", "present": True, "t_s": 1.0})
        fresh.extensions["wallhinge_live"].publish(_session(2, reps=5, good=4))
        page.wait_for_selector("#count:has-text('4')", timeout=5000)
        assert all(url_.startswith(url + "/kiosk") for url_ in navigations), navigations  # never an error page
        assert page.locator(".k-roster .k-name").count() == len(ids["class"])
        assert errors == []
    finally:
        context.close()
        _stop(server, thread, fresh if "fresh" in locals() else app)
