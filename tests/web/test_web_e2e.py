"""End to end in a real headless Chromium (Debian's, driven by Playwright), against waitress.

Logs in, opens a patient, opens a session, replays a rep, follows the live
page's event stream and sends a command, and takes screenshots at tablet size
(1024x768 landscape, 768x1024 portrait). They go to a temporary folder, or to
the folder named by ``WALLHINGE_SCREENSHOTS`` (``docs/screenshots`` to refresh
the project's pictures).
"""


import re

import pytest

from station.measure import HEAD_ABOVE_PICTURE
from station.reps import GAP_AT_WALL_STANDING
from station.setup import BACK_HIDDEN_BY_SETUP
from web.live_views import HIDDEN_HINT
from station.store import open_store
from station.faults import (BOTTOM_NOT_SEEN, BOTTOM_NOT_SEEN_BADGE, BOTTOM_NOT_SEEN_WHY, FAULT_LABELS, NO_FAULT_SEEN,
                            NOT_CHECKED_LABELS, NOT_SCORED, NOT_SCORED_WHY)
from station.hidden_spans import PATIENT_HIDDEN_BADGE
from station.store.outbox import Deliverer
from support import (PASSWORD, USERNAME, Serving, add_interrupted_session, add_rep_with_bottom_not_seen, fill_clinic,
                     fill_sample, make_app, needs_chromium)
from web.auth import create_account

pytestmark = needs_chromium

SIZES = {"landscape": (1024, 768), "portrait": (768, 1024), "mini-portrait": (744, 1133)}



@pytest.fixture
def site(tmp_path):
    app = make_app(tmp_path, LIVE_HEARTBEAT_S=1.0, LIVE_STREAM_MAX_S=60)
    with open_store(app.config["DATABASE"]) as store:
        from web.auth import create_account
        create_account(store, USERNAME, PASSWORD, app=app)
        ids = fill_clinic(store)
    with Serving(app) as served:
        yield served, ids



@pytest.fixture
def clinic_site(tmp_path, clinic_url):
    """Two stations' sample sessions, each with an interrupted one, delivered to a clinic database, and the
    dashboard on it served: (served, the sample patient's id)."""
    for name in ("wall-1", "wall-2"):
        with open_store(tmp_path / f"{name}.db") as store:
            add_interrupted_session(store, fill_sample(store)["patient"])
        assert Deliverer(tmp_path / f"{name}.db", clinic_url, name).deliver_once().ok
    app = make_app(tmp_path, DATABASE=clinic_url)
    with open_store(clinic_url) as store:
        create_account(store, USERNAME, PASSWORD, app=app)
        patient = store.get_patient_by_code("WH-0042")["id"]
    with Serving(app) as served:
        yield served, patient


@pytest.fixture
def contexts(browser):
    """Opens browser contexts (``contexts(**options)``) and closes every one when the test ends, passed or not."""
    opened = []

    def open_context(**options):
        opened.append(browser.new_context(**options))
        return opened[-1]

    yield open_context
    for context in opened:
        context.close()


def _page(contexts, size, errors):
    """A page of a new context at one of SIZES whose script errors land in ``errors``."""
    context = contexts(viewport={"width": SIZES[size][0], "height": SIZES[size][1]},
                       timezone_id="Europe/London", locale="en-GB")
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    return page


def _live_page(contexts, served, errors, query=""):
    """A logged-in page on the live page, its event stream connected."""
    page = _page(contexts, "landscape", errors)
    _log_in(page, served.url)
    page.goto(f"{served.url}/live/{query}")
    page.wait_for_selector("#connection.up")
    return page


def _log_in(page, url):
    page.goto(url + "/")
    assert page.url.startswith(url + "/auth/login")
    page.fill("#username", USERNAME)
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Log in')")
    page.wait_for_url(url + "/")


@pytest.mark.parametrize("size", ["landscape", "portrait"])
def test_log_in_open_a_patient_a_session_and_replay_a_rep(contexts, site, shots, size):
    served, ids = site
    errors = []
    page = _page(contexts, size, errors)
    _log_in(page, served.url)
    assert page.locator("h1").inner_text() == "Patients"
    assert page.locator("text=Walter H.").count() >= 1  # due to progress, and in the list
    page.screenshot(path=shots / f"patients-{size}.png")

    page.click("table >> text=Margaret B.")
    page.wait_for_url(f"{served.url}/patients/{ids['patient']}")
    assert page.locator("svg.chart").count() == 6
    page.screenshot(path=shots / f"patient-{size}.png")
    sessions = page.locator("section[aria-labelledby='sessions-head']")
    badge = sessions.locator(".badge:text-is('Patient hidden')")  # today's session: someone in front in set 2
    assert badge.count() == 1 and badge.is_visible()
    sessions.screenshot(path=shots / f"patient-sessions-{size}.png")

    page.click(f"a[href='/sessions/{ids['session']}']")
    page.wait_for_url(f"{served.url}/sessions/{ids['session']}")
    assert page.locator("h2:has-text('Set 2')").is_visible()
    assert page.locator("td .badge:has-text('Squat')").count() == 2
    assert page.locator("td .badge:has-text('Back not checked')").count() == 10  # every rep: not measured
    why = page.locator(".back-note")  # and why, once: one side camera does not see the back
    assert why.count() == 1 and why.is_visible()
    assert why.inner_text() == f"Back not checked on every rep: {BACK_HIDDEN_BY_SETUP}."
    assert page.locator("td .badge:text-is('No fault')").count() == 0
    note = page.locator("tr.why .view-note")  # set 2's rep 3: its bottom seen with the head above the picture
    assert note.count() == 1 and note.is_visible() and "head is above the picture" in note.inner_text()
    hidden = page.locator("section:has(h2:has-text('Set 2')) .hidden-note")  # someone in front for 7 s in set 2
    assert hidden.count() == 1 and hidden.is_visible()
    assert hidden.inner_text().startswith("Patient hidden for 7 s (40.2–46.8 s in the recording)")
    assert page.locator("section:has(h2:has-text('Set 1')) .hidden-note").count() == 0
    page.screenshot(path=shots / f"session-{size}.png")
    page.locator("section:has(h2:has-text('Set 2'))").screenshot(path=shots / f"session-set-2-{size}.png")

    page.click("a[aria-label='Rep 4 of set 1: details and replay']")
    page.wait_for_url(f"{served.url}/sessions/{ids['session']}/reps/{ids['rep']}")
    play = page.locator("#replay-play")
    assert play.is_visible() and play.inner_text() == "▶ Play"
    back = page.locator("#rep-back-note")  # why its back was not checked, beside "not checked"
    assert back.is_visible() and back.inner_text().startswith(BACK_HIDDEN_BY_SETUP)
    page.screenshot(path=shots / f"rep-{size}.png")
    page.locator("tr:has(#rep-back-note)").screenshot(path=shots / f"rep-back-note-{size}.png")
    bottom = page.locator("[data-part=trunk]").get_attribute("x2")
    page.select_option("#replay-speed", "2")
    play.click()
    # (The pages' Content-Security-Policy forbids eval, so wait on selectors, not wait_for_function.)
    page.wait_for_selector("svg#replay[data-playing='true']")
    page.wait_for_selector("svg#replay[data-playing='false']", timeout=10_000)
    assert play.inner_text() == "↻ Replay"
    frames = page.locator("#replay-frame")
    assert frames.input_value() == frames.get_attribute("max")  # it played to the last frame
    assert page.locator("[data-part=trunk]").get_attribute("x2") != bottom  # and stood back up
    assert "Frame" in page.locator("#replay-readout").inner_text()
    # Through the whole rep, the figure's head never covers the readout (the knee and touch labels too).
    last = int(frames.get_attribute("max"))
    for index in sorted({0, last // 4, last // 2, 3 * last // 4, last}):
        frames.fill(str(index))
        head = page.locator("[data-part=head]").bounding_box()
        for name in ("time-text", "gap-text", "trunk-text", "knee-text", "touch-text"):
            label = page.locator(f"[data-part={name}]").bounding_box()
            if label is None or label["width"] == 0:
                continue  # an empty label ("touching" when not touching)
            apart = (head["x"] + head["width"] <= label["x"] or label["x"] + label["width"] <= head["x"]
                     or head["y"] + head["height"] <= label["y"] or label["y"] + label["height"] <= head["y"])
            assert apart, f"the head covers {name} at frame {index}"
    # The rep whose bottom was seen with the head above the picture says so beside its deepest trunk lean.
    page.goto(f"{served.url}/sessions/{ids['session']}")
    page.click("a[aria-label='Rep 3 of set 2: details and replay']")
    note = page.locator("#rep-view-note")
    assert note.is_visible() and note.inner_text().startswith("At its bottom the patient's head is above the picture")
    page.locator("tr:has(th:has-text('Deepest trunk lean'))").screenshot(path=shots / f"rep-view-note-{size}.png")
    assert errors == []


def test_the_live_page_follows_the_station_and_sends_commands(contexts, site, shots):
    served, ids = site
    feed = served.app.extensions["wallhinge_live"]
    errors = []
    page = _live_page(contexts, served, errors, f"?patient={ids['patient']}")
    feed.publish({"type": "session", "state": "running", "session_id": ids["session"], "patient_id": ids["patient"],
                  "patient_name": "Margaret B.", "set_number": 2, "reps_in_set": 4, "good_reps_in_set": 3,
                  "reps_per_set": 12})
    lights = {"pattern": "patient_detected", "colour": "green", "blinking": False,
              "lamps": {"red": 0, "amber": 0, "green": 0.25}}
    feed.publish({"type": "frame", "t_s": 41.2, "present": True, "wall_gap_mm": 120.4, "trunk_angle_deg": 12.0,
                  "knee_flexion_deg": 6.0, "lights": lights})
    page.wait_for_selector("#station-now:has-text('Now: gap 120 mm · trunk 12° · knee 6°')")
    feed.publish({"type": "frame", "t_s": 41.3, "present": True, "wall_gap_mm": None, "trunk_angle_deg": None,
                  "knee_flexion_deg": None, "hidden": "someone in front of the patient", "lights": lights})
    page.wait_for_selector(f"#station-now:has-text(\"Now: not measured, someone in front of the patient: {HIDDEN_HINT}.\")")
    page.screenshot(path=shots / "live-hidden.png")
    feed.publish({"type": "frame", "t_s": 41.4, "present": True, "wall_gap_mm": 120.4, "trunk_angle_deg": 12.0,
                  "knee_flexion_deg": 6.0, "hidden": None, "lights": lights})
    page.wait_for_selector("#station-now:has-text('Now: gap 120 mm · trunk 12° · knee 6°')")
    # A tall patient whose head the picture cuts off: the clinician is told, and it stays up 3 s (a hinge
    # brings the head in and out of the picture), then goes.
    feed.publish({"type": "frame", "t_s": 41.5, "present": True, "wall_gap_mm": 120.4, "trunk_angle_deg": 12.0,
                  "knee_flexion_deg": 6.0, "hidden": None, "view_note": HEAD_ABOVE_PICTURE, "lights": lights})
    page.wait_for_selector(f'#station-view:has-text("Camera: {HEAD_ABOVE_PICTURE}.")')
    page.screenshot(path=shots / "live-head-above-picture.png")
    plain = {"type": "frame", "present": True, "wall_gap_mm": 120.4, "trunk_angle_deg": 12.0,
             "knee_flexion_deg": 6.0, "hidden": None, "view_note": None, "lights": lights}
    feed.publish({**plain, "t_s": 42.0, "knee_flexion_deg": 7.0})
    page.wait_for_selector("#station-now:has-text('knee 7°')")
    assert page.locator("#station-view").inner_text() == f"Camera: {HEAD_ABOVE_PICTURE}."
    feed.publish({**plain, "t_s": 44.6})
    page.wait_for_selector("#station-view:empty", state="attached")
    # The wall gap reading at the wall while the patient stands: the clinician is told what to check, held as the view note is.
    feed.publish({**plain, "t_s": 45.0, "wall_gap_mm": 9.0, "trunk_angle_deg": 4.0, "setup_note": GAP_AT_WALL_STANDING})
    page.wait_for_selector(f'#station-setup:has-text("Set-up: {GAP_AT_WALL_STANDING}.")')
    page.screenshot(path=shots / "live-setup-note.png")
    feed.publish({**plain, "t_s": 46.0, "setup_note": None})
    page.wait_for_selector("#station-now:has-text('gap 120 mm')")
    assert page.locator("#station-setup").inner_text() == f"Set-up: {GAP_AT_WALL_STANDING}."
    feed.publish({**plain, "t_s": 48.1, "setup_note": None})
    page.wait_for_selector("#station-setup:empty", state="attached")
    assert "Patient at the wall · green lamp steady" in page.locator("#lights-words").inner_text()
    feed.publish({"type": "rep", "session_id": ids["session"], "set_number": 2,
                  "rep": {"index": 5, "score": 75, "faults": ["squat"], "min_wall_gap_mm": 6.0,
                          "peak_trunk_angle_deg": 49.5, "peak_knee_flexion_deg": 47.0, "descent_s": 1.4,
                          "lost_points": [{"fault": "squat", "points": 25,
                                           "why": "knees bent to 47 degrees (limit 40)"}]},
                  "lights": {"pattern": "fault_rep", "colour": "red", "blinking": True,
                             "lamps": {"red": 1.0, "amber": 0.0, "green": 0.0}, "sound": True, "note": "A4",
                             "muted": False, "reason": None}})
    page.wait_for_selector("#rep-body .badge.fault-squat")
    assert page.locator("#rep-body .view-note").count() == 0
    assert "Running · Margaret B. · set 2: 3 of 12 good" in page.locator("#station-state").inner_text()
    # In words, as the kiosk's legend says them: never the pattern's code name, nor the buzzer's note.
    assert page.locator("#lights-words").inner_text() == "Rep with a fault · red lamp flashing · sound on"
    assert "knees bent to 47 degrees" in page.locator("#rep-body").inner_text()
    assert page.locator("#lamp-red.on").count() == 1
    page.wait_for_selector("#event-log li:has-text('Rep 5: score 75 · Squat')")  # the log names the fault
    feed.publish({"type": "station", "state": "trouble", "reason": "the camera stopped sending frames"})
    page.wait_for_selector("#station-trouble:has-text('Trouble: the camera stopped sending frames')")
    feed.publish({"type": "station", "state": "ready"})
    page.wait_for_selector("#station-trouble:empty", state="attached")
    page.click("button:has-text('Pause')")
    page.wait_for_selector("#command-status:has-text('Pause: sent to the station')")
    page.click("button:has-text('Start')")
    page.wait_for_selector("#command-status:has-text('Start: sent to the station')")
    page.wait_for_selector("#event-log li:has-text('Start asked by anna')")
    taken = feed.commands()
    assert [(c["command"], c.get("patient_id")) for c in taken] == [("pause", None), ("start", ids["patient"])]
    page.screenshot(path=shots / "live-landscape.png")
    # A rep whose bottom was seen with the head above the picture says so beside its trunk, as the dashboard does.
    feed.publish({"type": "rep", "session_id": ids["session"], "set_number": 2,
                  "rep": {"index": 6, "score": 100, "faults": [], "min_wall_gap_mm": 3.0, "touched": True,
                          "peak_trunk_angle_deg": 58.0, "peak_knee_flexion_deg": 14.0, "descent_s": 1.6,
                          "lost_points": [], "view_note": HEAD_ABOVE_PICTURE}})
    page.wait_for_selector("#rep-body .view-note")
    assert page.locator("#rep-body .view-note").inner_text() == f"At its bottom {HEAD_ABOVE_PICTURE}."
    page.locator("#rep-body").screenshot(path=shots / "live-rep-view-note.png")
    assert errors == []


def _logged_in_with_bottom_not_seen(contexts, served):
    """A landscape page logged in to a site holding a set whose second rep's bottom was not seen:
    (page, its errors, the session's id, that rep's id)."""
    with open_store(served.app.config["DATABASE"]) as store:
        _, session, hidden_id = add_rep_with_bottom_not_seen(store)
    errors = []
    page = _page(contexts, "landscape", errors)
    _log_in(page, served.url)
    return page, errors, session, hidden_id


def test_a_rep_whose_bottom_was_not_seen_says_so_on_its_page_and_live(contexts, site, shots):
    served, ids = site
    page, errors, session, hidden_id = _logged_in_with_bottom_not_seen(contexts, served)
    page.goto(f"{served.url}/sessions/{session}/reps/{hidden_id}")
    lean = page.locator("tr:has(th:text-is('Deepest trunk lean'))").inner_text()
    assert BOTTOM_NOT_SEEN in lean and BOTTOM_NOT_SEEN_WHY in lean and "°" not in lean.split("\t")[1]
    assert "While hidden, the figure holds the last lean seen" in page.locator("#replay-not-seen").inner_text()
    page.screenshot(path=shots / "rep-bottom-not-seen-landscape.png", full_page=True)
    # At a hidden frame the replay says "not measured" for both the trunk and the knee, never one over the
    # other (they were drawn side by side at fixed places, and "trunk not measured" ran into the knee's).
    frames = page.locator("#replay-frame")
    frames.fill(str(int(frames.get_attribute("max")) // 2))
    trunk, knee = (page.locator(f"[data-part={name}]") for name in ("trunk-text", "knee-text"))
    assert trunk.text_content() == "trunk not measured" and knee.text_content() == "knee not measured"
    boxes = [page.locator(f"[data-part={name}]").bounding_box() for name in ("time-text", "gap-text", "trunk-text", "knee-text")]
    for index, one in enumerate(boxes):
        for other in boxes[index + 1:]:
            assert (one["x"] + one["width"] <= other["x"] or other["x"] + other["width"] <= one["x"]
                    or one["y"] + one["height"] <= other["y"] or other["y"] + other["height"] <= one["y"])
    picture = page.locator("svg#replay").bounding_box()  # every word inside the picture
    assert all(box["x"] + box["width"] <= picture["x"] + picture["width"] and box["y"] >= picture["y"] for box in boxes)
    page.locator("svg#replay").screenshot(path=shots / "replay-not-measured-landscape.png")

    feed = served.app.extensions["wallhinge_live"]
    page.goto(f"{served.url}/live/")
    page.wait_for_selector("#connection.up")
    feed.publish({"type": "rep", "session_id": ids["session"], "set_number": 1,
                  "rep": {"index": 3, "score": None, "faults": [], "min_wall_gap_mm": None, "touched": False,
                          "peak_trunk_angle_deg": None, "peak_knee_flexion_deg": None,
                          "peak_spine_flexion_deg": None, "descent_s": 1.5, "lost_points": []}})
    page.wait_for_selector("#rep-body .badge.touch-unchecked")
    assert page.locator("#rep-body .back-why").count() == 0  # a rep stored without why says nothing more
    shown = page.locator("#rep-body").inner_text()
    assert f"trunk {BOTTOM_NOT_SEEN}" in shown and "null" not in shown and "trunk 0" not in shown
    assert page.locator("#rep-body .badge.knee-unchecked").count() == 0  # "Bottom not seen" says it
    page.screenshot(path=shots / "live-bottom-not-seen-landscape.png")
    # A rep seen at its bottom, back and touch checked, but with no knee bend read (the legs out of view): its squat
    # was not judged, so "No fault seen" and "Knees not checked", never "No fault".
    feed.publish({"type": "rep", "session_id": ids["session"], "set_number": 1,
                  "rep": {"index": 4, "score": 100, "faults": [], "min_wall_gap_mm": 4.0, "touched": True,
                          "peak_trunk_angle_deg": 52.0, "peak_knee_flexion_deg": None,
                          "peak_spine_flexion_deg": 6.0, "descent_s": 1.5, "lost_points": []}})
    page.wait_for_selector("#rep-body .badge.knee-unchecked")
    assert page.locator("#rep-body .badge").all_inner_texts() == [NO_FAULT_SEEN, NOT_CHECKED_LABELS["knee"]]
    assert page.locator("#rep-body .back-why").count() == 0  # its back was checked
    # One whose back was not checked says why under its badges, as the dashboard does.
    feed.publish({"type": "rep", "session_id": ids["session"], "set_number": 1,
                  "rep": {"index": 5, "score": 100, "faults": [], "min_wall_gap_mm": 4.0, "touched": True,
                          "peak_trunk_angle_deg": 52.0, "peak_knee_flexion_deg": 14.0,
                          "peak_spine_flexion_deg": None, "back_note": BACK_HIDDEN_BY_SETUP, "descent_s": 1.5,
                          "lost_points": []}})
    page.wait_for_selector("#rep-body .back-why")
    assert page.locator("#rep-body .back-why").inner_text() == f"Back not checked: {BACK_HIDDEN_BY_SETUP}."
    page.locator("#rep-body").screenshot(path=shots / "live-knees-not-checked-landscape.png")
    assert errors == []


def test_a_rep_whose_bottom_was_not_seen_is_not_scored_on_the_session_and_rep_pages_and_live(contexts, site, shots):
    """Its squat, rounded back and speed were not judged: "not scored" wherever its score would be,
    never "score 100" beside "No fault seen"."""
    served, ids = site
    page, errors, session, hidden_id = _logged_in_with_bottom_not_seen(contexts, served)
    page.goto(f"{served.url}/sessions/{session}")
    scores = page.locator("td.score").all_inner_texts()
    assert scores == ["100", NOT_SCORED]
    assert page.locator("td.score.not-scored").get_attribute("title") == NOT_SCORED_WHY.capitalize()
    mean = page.locator(".figure:has(.label:text-matches('^mean score'))").inner_text()
    assert mean.split("\n")[0] == "100" and f"1 {NOT_SCORED}" in mean
    # Its badge says its bottom was not seen, never the green "No fault seen" of the rep that was.
    assert page.locator(".badge.bottom-unseen").all_inner_texts() == [BOTTOM_NOT_SEEN_BADGE]
    assert page.locator(".badge.ok").count() == 1
    page.screenshot(path=shots / "session-not-scored-landscape.png", full_page=True)

    page.goto(f"{served.url}/sessions/{session}/reps/{hidden_id}")
    heading = page.locator("h1").inner_text()
    assert heading == f"Set 1, rep 2 · {NOT_SCORED}" and "100" not in heading
    assert NOT_SCORED_WHY.capitalize() in page.locator("#not-scored-why").inner_text()
    page.screenshot(path=shots / "rep-not-scored-landscape.png", full_page=True)

    feed = served.app.extensions["wallhinge_live"]
    page.goto(f"{served.url}/live/")
    page.wait_for_selector("#connection.up")
    feed.publish({"type": "rep", "session_id": ids["session"], "set_number": 1,
                  "rep": {"index": 3, "score": None, "faults": ["incomplete_return"], "min_wall_gap_mm": None,
                          "touched": False, "peak_trunk_angle_deg": None, "peak_knee_flexion_deg": None,
                          "peak_spine_flexion_deg": None, "descent_s": 1.5,
                          "lost_points": [{"fault": "incomplete_return", "points": 15,
                                           "why": "came back only to 24 degrees from standing (within 10)"}]}})
    page.wait_for_selector("#rep-body .score.not-scored")
    assert page.locator("#rep-body p").first.inner_text() == f"Set 1, rep 3 · {NOT_SCORED}"
    shown = page.locator("#rep-body").inner_text()
    assert "· score" not in shown and "null" not in shown and "100" not in shown
    log = page.locator("#event-log").inner_text()
    assert f"Rep 3: {NOT_SCORED} · Incomplete return" in log and "null" not in log
    page.screenshot(path=shots / "live-not-scored-landscape.png")
    # A rep with no fault named whose bottom was not seen: "Bottom not seen", never a green badge.
    feed.publish({"type": "rep", "session_id": ids["session"], "set_number": 1,
                  "rep": {"index": 4, "score": None, "faults": [], "min_wall_gap_mm": None, "touched": False,
                          "peak_trunk_angle_deg": None, "peak_knee_flexion_deg": None,
                          "peak_spine_flexion_deg": None, "descent_s": 1.5, "lost_points": []}})
    page.wait_for_selector("#rep-body .badge.bottom-unseen")
    assert page.locator("#rep-body .badge.ok").count() == 0
    assert f"down {BOTTOM_NOT_SEEN}" in page.locator("#rep-body").inner_text()  # not the guessed 1.5 s
    page.screenshot(path=shots / "live-bottom-not-seen-landscape.png")
    assert errors == []


# How far the page, and each table in its card, scroll sideways: (scrollWidth, clientWidth) each.
_SIDEWAYS = """() => ({page: [document.documentElement.scrollWidth, document.documentElement.clientWidth],
  tables: [...document.querySelectorAll('.table-wrap')].map(wrap => [wrap.scrollWidth, wrap.clientWidth])})"""


def _assert_no_sideways_scroll(page, what: str) -> list:
    """Neither ``page`` nor any table in its card scrolls sideways; the tables' (scrollWidth, clientWidth)."""
    sideways = page.evaluate(_SIDEWAYS)
    (scroll, client), tables = sideways["page"], sideways["tables"]
    assert scroll <= client, f"{what}: the page scrolls sideways: {sideways}"
    assert all(scroll <= client for scroll, client in tables), f"{what}: a table scrolls in its card: {sideways}"
    return tables


def _assert_readable(items) -> None:
    """Every one of the locator ``items`` (at least one) is shown, says something, and is 14 px or larger."""
    assert items.count() > 0
    for k in range(items.count()):
        item = items.nth(k)
        assert item.is_visible() and item.inner_text().strip()
        assert float(item.evaluate("item => getComputedStyle(item).fontSize").removesuffix("px")) >= 14


@pytest.mark.parametrize("size", ["portrait", "landscape", "mini-portrait"])
def test_the_session_pages_reps_table_fits_a_tablet_without_scrolling_sideways(contexts, site, shots, size):
    """A clinician holding a tablet (768x1024 in portrait, 1024x768 in landscape, an iPad mini's 744x1133 in
    portrait) sees every column of the reps table, with faults, "not scored" and "not seen", without the page,
    or the table in its card, scrolling sideways; every figure still shown, no text smaller than 14 px."""
    served, ids = site
    with open_store(served.app.config["DATABASE"]) as store:
        _, not_seen, _ = add_rep_with_bottom_not_seen(store)  # "not scored", "not seen", three grey badges
    errors = []
    page = _page(contexts, size, errors)
    _log_in(page, served.url)
    for name, session in (("sample", ids["session"]), ("not-seen", not_seen)):
        page.goto(f"{served.url}/sessions/{session}")
        page.screenshot(path=shots / f"session-{name}-fits-{size}.png", full_page=True)
        assert _assert_no_sideways_scroll(page, name)  # one reps table a set
        headers = page.locator("table").first.locator("thead th").all_inner_texts()
        assert [" ".join(text.split()) for text in headers] == [
            "Rep", "Score", "Faults", "Closest gap", "Peak trunk", "Peak knee", "Down", "Gap and trunk over the rep"]
        _assert_readable(page.locator("td.num"))
    assert page.locator(f"td.num:text-is('{BOTTOM_NOT_SEEN}')").count() == 2  # the hidden rep's trunk, time down
    assert page.locator(f"td.score:text-is('{NOT_SCORED}')").count() == 1
    assert errors == []


@pytest.mark.parametrize("size", ["portrait", "landscape", "mini-portrait"])
@pytest.mark.parametrize("where", ["station", "clinic"])
def test_the_patients_sessions_table_fits_a_tablet_without_scrolling_sideways(contexts, request, shots, where, size):
    """On a tablet (768x1024 in portrait, 1024x768 in landscape, an iPad mini's 744x1133 in portrait) the
    patient's page shows every column of their sessions, with "Interrupted", "Patient hidden" and every fault's
    badge, and on the clinic's database the stations', without the page, or the table in its card, scrolling
    sideways; every figure and badge still shown, no text smaller than 14 px. The patients page, with its recent
    sessions, fits too. (At 744 px with a Station column the table was 691 px in a 675 px card, cutting the
    fault badges, until "Patient hidden" could break between its words.)"""
    if where == "station":  # one station's own sessions: no Station column
        served, ids = request.getfixturevalue("site")
        with open_store(served.app.config["DATABASE"]) as store:
            add_interrupted_session(store, ids["patient"])
        patient = ids["patient"]
    else:  # two stations' sessions on the clinic's database: a Station column
        served, patient = request.getfixturevalue("clinic_site")
    errors = []
    page = _page(contexts, size, errors)
    _log_in(page, served.url)
    page.screenshot(path=shots / f"patients-{where}-fits-{size}.png", full_page=True)
    _assert_no_sideways_scroll(page, "the patients page")
    assert page.locator(f"#recent-head ~ ul li:has-text('{PATIENT_HIDDEN_BADGE.lower()}')").count() >= 1
    page.goto(f"{served.url}/patients/{patient}")
    table = page.locator("table.sessions")
    table.screenshot(path=shots / f"patient-sessions-{where}-fits-{size}.png")
    page.screenshot(path=shots / f"patient-{where}-fits-{size}.png", full_page=True)
    assert len(_assert_no_sideways_scroll(page, "the patient's page")) == 1  # the sessions table
    headers = [" ".join(text.split()) for text in table.locator("thead th").all_inner_texts()]
    assert headers == ["Date", *(["Station"] if where == "clinic" else []), "Sets", "Good / reps", "Touched",
                       "Peak trunk", "Peak knee", "Score", "Faults"]
    rows = table.locator("tbody tr")
    first = " ".join(rows.first.locator("td").first.inner_text().split())  # the interrupted session, the latest
    assert re.fullmatch(rf"\d+ \w+ \d{{4}}, \d\d:\d\d Interrupted {re.escape(PATIENT_HIDDEN_BADGE)}", first), first
    faults = [" ".join(text.split()) for text in rows.first.locator("td.faults .badge").all_inner_texts()]
    assert faults == [f"{FAULT_LABELS[name]} {count}" for name, count in
                      (("squat", 2), ("rounded_back", 1), ("no_touch", 1), ("too_fast", 1), ("incomplete_return", 1))]
    _assert_readable(table.locator("td.num, td .badge, td .row-link"))
    # "6 / 10" stays whole: split in a narrow column, "6 /" over "10" reads as two figures.
    lines = table.locator("td.out-of").evaluate_all(
        "cells => cells.map(cell => { const range = document.createRange(); range.selectNodeContents(cell);"
        " return new Set([...range.getClientRects()].map(rect => Math.round(rect.top))).size; })")
    assert lines and set(lines) == {1}, lines
    assert errors == []


def test_the_report_prints_on_one_page(contexts, site, tmp_path, shots):
    served, ids = site
    errors = []
    page = _page(contexts, "landscape", errors)
    _log_in(page, served.url)
    page.goto(f"{served.url}/sessions/{ids['session']}/report")
    page.screenshot(path=shots / "report-landscape.png", full_page=True)
    body = page.locator("body").inner_text()
    # The back is not measured on these reps: the report says so and prints no back-rounding limit.
    assert "back rounding ≤" not in body and "Back rounding not checked" in body
    assert "back not checked" in body and "camera 123456" in body
    pdf = page.pdf(format="A4")
    assert pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page/") + pdf.count(b"/Type /Page ") == 1
    assert errors == []


def test_the_live_page_speaks_in_words_names_the_patient_and_keeps_24_hour_times(contexts, site, shots):
    """In a browser whose language prefers 12-hour times: the lamps in words, the patient's name from their id,
    one log line per change of state (not per rep), and the back not vouched for when it was not measured."""
    served, ids = site
    feed = served.app.extensions["wallhinge_live"]
    errors = []
    context = contexts(viewport={"width": 1024, "height": 768}, timezone_id="America/New_York", locale="en-US")
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    _log_in(page, served.url)
    page.goto(f"{served.url}/live/")
    page.wait_for_selector("#connection.up")
    running = {"type": "session", "state": "running", "session_id": ids["session"], "patient_id": ids["patient"],
               "set_number": 1, "reps_in_set": 0, "good_reps_in_set": 0, "reps_per_set": 12}
    feed.publish(running)
    page.wait_for_selector("#station-state:has-text('Margaret B.')")
    assert "patient " + str(ids["patient"]) not in page.locator("#station-state").inner_text()
    for k in (1, 2):
        feed.publish({"type": "rep", "session_id": ids["session"], "set_number": 1,
                      "rep": {"index": k, "score": 100, "faults": [], "min_wall_gap_mm": 4.0,
                              "peak_trunk_angle_deg": 50.0, "peak_knee_flexion_deg": 12.0,
                              "peak_spine_flexion_deg": None, "descent_s": 1.5, "lost_points": []},
                      "lights": {"pattern": "good_rep", "colour": "green", "blinking": False,
                                 "lamps": {"red": 0, "amber": 0, "green": 1.0}, "sound": False}})
        feed.publish({**running, "reps_in_set": k, "good_reps_in_set": k})
    page.wait_for_selector("#station-state:has-text('2 of 12 good')")
    assert page.locator("#lights-words").inner_text().startswith("Good rep")
    assert "good_rep" not in page.locator("body").inner_text()
    assert "Back not checked" in page.locator("#rep-body").inner_text()
    assert "No fault seen" in page.locator("#rep-body").inner_text()
    # A rounded back's lamps: red and amber flashing in turn (amber half a flash behind), as the station's do.
    feed.publish({"type": "lights", "lights": {"pattern": "rounded_back_rep", "colour": "red+amber", "blinking": True,
                                               "lamps": {"red": 1.0, "amber": 0.0, "green": 0.0}, "sound": True}})
    page.wait_for_selector("#lamp-amber.on.blink.in-turn")
    assert page.locator("#lamp-red.on.blink").count() == 1 and page.locator("#lamp-red.in-turn").count() == 0
    log = page.locator("#event-log li").all_inner_texts()
    assert sum("Running" in line for line in log) == 1, log  # not once more after every rep
    assert all(re.match(r"^\d\d:\d\d:\d\d · ", line) for line in log), log
    assert not any("AM" in line or "PM" in line for line in log), log
    feed.publish({"type": "session", "state": "idle", "session_id": ids["session"] + 100, "patient_id": None,
                  "set_number": None})
    page.wait_for_selector("#station-state:has-text('Guest')")
    page.screenshot(path=shots / "live-words-landscape.png")
    assert errors == []


def test_the_live_page_says_at_once_when_storage_fails_and_when_it_works_again(contexts, site, shots):
    served, _ = site
    feed = served.app.extensions["wallhinge_live"]
    errors = []
    page = _live_page(contexts, served, errors)
    assert page.locator("#storage-alert").is_hidden()
    message = "Storage is failing: the station keeps the reps and retries every 1 s (disk full)."
    feed.publish({"type": "storage", "state": "failing", "message": message})
    page.wait_for_selector(f"#storage-alert:has-text('{message}')", state="visible")
    page.screenshot(path=shots / "live-storage-failing.png")
    feed.publish({"type": "storage", "state": "ok", "message": ""})
    page.wait_for_selector("#storage-alert", state="hidden")
    assert errors == []


def test_the_live_page_shows_the_backs_state_frame_by_frame_with_two_cameras(contexts, site, shots):
    from station.events import FrameEvent
    from station.setup import back_check

    served, _ = site
    feed = served.app.extensions["wallhinge_live"]
    errors = []
    page = _live_page(contexts, served, errors)
    reason = back_check("side+wall-above", "stick")[1].removeprefix("back not checked: ")
    measures = {"t_s": 12.0, "present": True, "confidence": 1.0, "wall_gap_mm": 64.0, "trunk_angle_deg": 31.0,
                "knee_flexion_deg": 12.0, "spine_flexion_deg": 4.2, "hidden": None}

    def frame(**back):
        return FrameEvent(t_s=12.0, phase="measuring", trouble=None, set_number=1, set_state="running",
                          reps_in_set=1, measures=measures, **back).as_dict()

    # Not validated: the reading is not shown, the reason is.
    feed.publish(frame(back_checked=False, back_reason=reason))
    page.wait_for_selector("#station-back:has-text('Back: not checked — the back is in view from this set-up, "
                           "but its measurement has not met its accuracy targets yet')")
    assert "4°" not in page.locator("#station-back").inner_text()
    page.screenshot(path=shots / "live-pair-landscape.png")
    # Rendered by the server too, from the latest frame.
    page.reload()
    page.wait_for_selector("#station-back:has-text('Back: not checked — the back is in view')")
    feed.publish(frame(back_checked=False, back_reason="the camera above (222) is lost (no depth frame)"))
    page.wait_for_selector("#station-back:has-text('Back: not checked — the camera above (222) is lost')")
    # Validated (a set-up the study passes): the reading.
    feed.publish(frame(back_checked=True, back_reason=None))
    page.wait_for_selector('#station-back:has-text("Back: spine flexion 4° against their own at the set\'s start.")')
    # One camera: no back line at all.
    feed.publish(FrameEvent(t_s=12.1, phase="measuring", trouble=None, set_number=1, set_state="running",
                            reps_in_set=1, measures=measures).as_dict())
    assert "back_checked" not in FrameEvent(t_s=0, phase="measuring", trouble=None, set_number=None,
                                            set_state=None, reps_in_set=0).as_dict()
    assert errors == []
