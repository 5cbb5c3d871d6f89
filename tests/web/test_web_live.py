"""The live feed: events out to browsers (never blocking the publisher), commands in to the station."""

import json
import threading
import time

import pytest

from web.live import LiveFeed


# -- LiveFeed -----------------------------------------------------------------------------

def test_publish_stamps_a_copy_and_keeps_a_snapshot():
    feed = LiveFeed()
    event = {"type": "rep", "session_id": 3, "set_number": 1, "rep": {"index": 1, "score": 100, "faults": []}}
    published = feed.publish(event)
    assert "seq" not in event  # the caller's dict is left alone
    assert published["seq"] == 1 and published["time"].endswith("Z")
    feed.publish({"type": "lights", "lights": {"pattern": "rep_done", "colour": "green", "blinking": False}})
    feed.publish({"type": "session", "state": "running", "session_id": 3})
    feed.publish({"type": "set", "number": 2, "lights": {"pattern": "set_complete", "colour": "all"}})
    state = feed.state()
    assert state["seq"] == 4 and state["latest_rep"]["rep"]["index"] == 1
    assert state["session"]["state"] == "running"
    assert state["lights"]["pattern"] == "set_complete"  # any event carrying lights updates them
    assert state["latest"]["set"]["number"] == 2
    state["session"]["state"] = "changed"
    assert feed.state()["session"]["state"] == "running"  # the snapshot is a copy


@pytest.mark.parametrize("event", [None, [], {}, {"type": ""}, {"type": 3}, {"type": "rep", "value": float("nan")},
                                   {"type": "rep", "value": object()}])
def test_a_bad_event_is_refused_and_not_sent(event):
    feed = LiveFeed()
    with feed.subscribe() as subscription:
        subscription.get(0)  # the snapshot
        with pytest.raises(ValueError):
            feed.publish(event)
        assert subscription.get(0) is None
    assert feed.state()["seq"] == 0


def test_a_subscriber_gets_the_snapshot_then_every_event_in_order():
    feed = LiveFeed()
    feed.publish({"type": "session", "state": "running"})
    with feed.subscribe() as subscription:
        seq, kind, text = subscription.get(0)
        assert (seq, kind) == (1, "state") and json.loads(text)["session"]["state"] == "running"
        for k in range(3):
            feed.publish({"type": "rep", "rep": {"index": k}})
        got = [subscription.get(0) for _ in range(3)]
        assert [(seq, kind) for seq, kind, _ in got] == [(2, "rep"), (3, "rep"), (4, "rep")]
        assert json.loads(got[2][2])["rep"]["index"] == 2
        assert subscription.get(0.01) is None
    assert feed.subscribers == 0


def test_a_stalled_subscriber_never_blocks_the_publisher_and_loses_the_oldest():
    feed = LiveFeed(max_queue=8)
    stalled = feed.subscribe()
    started = time.perf_counter()
    for k in range(20_000):
        feed.publish({"type": "lights", "k": k})
    elapsed = time.perf_counter() - started
    assert elapsed < 2.0  # about 10 us per publish here; a blocked publisher would hang
    kept = [json.loads(stalled.get(0)[2])["k"] for _ in range(8)]
    assert kept == list(range(19_992, 20_000)) and stalled.get(0) is None
    assert stalled.dropped == 20_000 + 1 - 8  # the snapshot went first
    stalled.close()


def test_publishers_on_many_threads():
    feed = LiveFeed(max_queue=10_000)
    subscription = feed.subscribe()
    subscription.get(0)

    def publish(name):
        for k in range(500):
            feed.publish({"type": "rep", "who": name, "k": k})
    threads = [threading.Thread(target=publish, args=(name,)) for name in "abcd"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    got = []
    while (item := subscription.get(0)) is not None:
        got.append(item)
    assert [seq for seq, _, _ in got] == list(range(1, 2001))
    for name in "abcd":
        assert [json.loads(text)["k"] for _, _, text in got if json.loads(text)["who"] == name] == list(range(500))


def test_close_ends_waiting_subscribers_at_once():
    feed = LiveFeed()
    events = feed.events(heartbeat_s=30)
    assert next(events)[1] == "state"
    done = []
    thread = threading.Thread(target=lambda: done.append(list(events)))
    thread.start()
    time.sleep(0.05)
    started = time.perf_counter()
    feed.close()
    thread.join(2)
    assert done == [[]] and time.perf_counter() - started < 1 and feed.subscribers == 0


def test_events_send_heartbeats_and_end_after_max_s():
    feed = LiveFeed()
    started = time.perf_counter()
    items = list(feed.events(heartbeat_s=0.02, max_s=0.15))
    assert 0.14 < time.perf_counter() - started < 1
    assert items[0][1] == "state" and items[1:] and all(item is None for item in items[1:])
    assert feed.subscribers == 0


def test_closing_the_events_generator_unsubscribes():
    feed = LiveFeed()
    events = feed.events()
    next(events)
    assert feed.subscribers == 1
    events.close()
    assert feed.subscribers == 0


def test_settings_are_checked():
    for bad in (0, -1, 1.5, True, None):
        with pytest.raises(ValueError, match="max_queue"):
            LiveFeed(max_queue=bad)


# -- commands -------------------------------------------------------------------------------

def test_commands_are_kept_until_taken_and_announced():
    feed = LiveFeed()
    with feed.subscribe() as subscription:
        subscription.get(0)
        command = feed.command("start", by="anna", patient_id=3)
        assert command["command"] == "start" and command["patient_id"] == 3 and command["by"] == "anna"
        seq, kind, text = subscription.get(0)
        assert kind == "command" and json.loads(text)["patient_id"] == 3
    feed.command("pause", by="ben")
    taken = feed.commands()
    assert [c["command"] for c in taken] == ["start", "pause"] and taken[0]["issued"].endswith("Z")
    assert feed.commands() == []


def test_stale_commands_are_dropped_and_the_queue_is_bounded():
    feed = LiveFeed(max_commands=3)
    feed.command("start", by="anna", patient_id=None)
    time.sleep(0.05)
    feed.command("pause", by="anna")
    assert [c["command"] for c in feed.commands(max_age_s=0.03)] == ["pause"]
    for _ in range(5):
        feed.command("end", by="anna")
    assert len(feed.commands()) == 3


@pytest.mark.parametrize("name, fields, message", [
    ("explode", {}, "unknown command 'explode'"),
    ("pause", {"patient_id": 2}, "takes no 'patient_id'"),
])
def test_bad_commands_are_refused(name, fields, message):
    feed = LiveFeed()
    with pytest.raises(ValueError, match=message):
        feed.command(name, by="anna", **fields)
    assert feed.commands() == [] and feed.state()["seq"] == 0


# -- the live page and its routes --------------------------------------------------------------

def _read_events(response, count, timeout=2.0):
    """The first ``count`` server-sent events (name, data) or comments ("", text) of a streaming response."""
    found, buffer, deadline = [], "", time.monotonic() + timeout
    chunks = iter(response.response)
    while len(found) < count and time.monotonic() < deadline:
        buffer += next(chunks).decode()
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            lines = block.split("\n")
            if lines[0].startswith(":"):
                found.append(("", lines[0]))
                continue
            fields = dict(line.split(": ", 1) for line in lines if ": " in line)
            if "event" in fields:
                found.append((fields["event"], json.loads(fields["data"])))
    return found


def test_the_event_stream_sends_the_snapshot_then_events_then_heartbeats(app, logged_in):
    feed = app.extensions["wallhinge_live"]
    feed.publish({"type": "lights", "lights": {"pattern": "ready", "colour": "green"}})
    response = logged_in.get("/live/events", buffered=False)
    try:
        assert response.status_code == 200 and response.mimetype == "text/event-stream"
        assert response.headers["Cache-Control"] == "no-store"
        (name, state), = _read_events(response, 1)
        assert name == "state" and state["lights"]["pattern"] == "ready"
        threading.Timer(0.01, feed.publish, [{"type": "rep", "rep": {"index": 4, "score": 80}}]).start()
        got = _read_events(response, 2)
        assert ("rep", 4) in [(name, data["rep"]["index"]) for name, data in got if name == "rep"]
        assert ("", ": still here") in got or _read_events(response, 1) == [("", ": still here")]
    finally:
        response.close()
    assert feed.subscribers == 0


def test_the_event_stream_ends_by_itself(app, logged_in):
    response = logged_in.get("/live/events", buffered=False)
    started = time.perf_counter()
    body = b"".join(response.response)  # LIVE_STREAM_MAX_S is 0.5 s in the tests
    response.close()
    assert 0.4 < time.perf_counter() - started < 3 and body.startswith(b"retry: 3000")


def test_too_many_open_streams_are_refused(tmp_path):
    from support import log_in, make_app
    from station.store import open_store
    from web.auth import create_account
    app = make_app(tmp_path, LIVE_MAX_STREAMS=2)
    with open_store(app.config["DATABASE"]) as store:
        create_account(store, "anna", "correct horse battery", app=app)
    client = app.test_client()
    log_in(client)
    held = [app.extensions["wallhinge_live"].subscribe(group="live") for _ in range(2)]
    response = client.get("/live/events")
    assert response.status_code == 503 and "live pages are open already" in response.get_json()["error"]
    for subscription in held:
        subscription.close()
    assert client.get("/live/events", buffered=False).status_code == 200


def test_the_live_page_shows_the_snapshot_and_the_controls(app, logged_in, sample):
    feed = app.extensions["wallhinge_live"]
    feed.publish({"type": "session", "state": "running", "session_id": sample["session"],
                  "patient_name": "Margaret B.", "set_number": 2})
    feed.publish({"type": "lights", "lights": {"pattern": "rep_done", "colour": "red", "blinking": True,
                                               "lamps": {"red": 1, "amber": 0, "green": 0}}})
    feed.publish({"type": "rep", "set_number": 2, "rep": {"index": 3, "score": 75, "faults": ["squat"]}})
    page = logged_in.get(f"/live/?patient={sample['patient']}").get_data(as_text=True)
    assert "Running · Margaret B. · set 2" in page
    assert 'class="lamp red on blink"' in page and 'class="lamp green"' in page
    assert "Set 2, rep 3" in page and ">Squat</span>" in page
    assert f'<option value="{sample["patient"]}" selected>' in page
    for command in ("start", "pause", "end"):
        assert f'name="command" value="{command}"' in page
    assert "live.js" in page


def test_the_live_page_shows_a_rep_whose_bottom_was_not_seen_as_not_scored(app, logged_in, sample):
    from station.faults import NOT_SCORED
    feed = app.extensions["wallhinge_live"]
    feed.publish({"type": "rep", "set_number": 2, "rep": {"index": 3, "score": None, "faults": [],
                                                          "peak_trunk_angle_deg": None, "min_wall_gap_mm": None}})
    page = " ".join(logged_in.get("/live/").get_data(as_text=True).split())
    assert f'Set 2, rep 3</span> · <span class="score not-scored" id="rep-score">{NOT_SCORED}</span>' in page
    assert "None" not in page and "score <span" not in page
    assert f'"not_scored":"{NOT_SCORED}"' in page.replace(": ", ":")  # the words live.js shows it with


def test_the_live_page_says_why_the_latest_reps_back_was_not_checked(app, logged_in, sample):
    from station.setup import BACK_HIDDEN_BY_SETUP
    feed = app.extensions["wallhinge_live"]
    feed.publish({"type": "rep", "set_number": 1, "rep": {"index": 2, "score": 100, "faults": [],
                                                          "peak_trunk_angle_deg": 50.0, "min_wall_gap_mm": 3.0,
                                                          "peak_knee_flexion_deg": 12.0,
                                                          "back_note": BACK_HIDDEN_BY_SETUP}})
    page = " ".join(logged_in.get("/live/").get_data(as_text=True).split())
    assert f'<p class="small back-why">Back not checked: {BACK_HIDDEN_BY_SETUP}.</p>' in page


def test_commands_from_the_tablet(app, logged_in, sample):
    feed = app.extensions["wallhinge_live"]
    response = logged_in.post("/live/commands", json={"command": "start", "patient_id": sample["patient"]})
    assert response.status_code == 202
    assert response.get_json()["command"]["patient_id"] == sample["patient"]
    form = logged_in.post("/live/commands", data={"command": "pause"})
    assert form.status_code == 302 and form.headers["Location"] == "/live/"
    guest = logged_in.post("/live/commands", data={"command": "start", "patient_id": ""})
    assert guest.status_code == 302
    taken = feed.commands()
    assert [(c["command"], c.get("patient_id"), c["by"]) for c in taken] == [
        ("start", sample["patient"], "anna"), ("pause", None, "anna"), ("start", None, "anna")]


@pytest.mark.parametrize("body, message", [
    ({"command": "explode"}, "command must be one of start, pause, end, assign"),
    ({}, "command must be one of"),
    ({"command": "start", "patient_id": 999}, "there is no patient 999"),
    ({"command": "start", "patient_id": "two"}, "patient_id must be a patient's number"),
    ({"command": "assign", "patient_id": True}, "there is no patient True"),
    (["start"], "send a JSON object"),
])
def test_bad_commands_are_refused_with_a_message(app, logged_in, sample, body, message):
    response = logged_in.post("/live/commands", json=body)
    assert response.status_code == 400 and message in response.get_json()["error"]
    form = logged_in.post("/live/commands", data=body if isinstance(body, dict) else {})
    assert form.status_code == 400 and 'class="error" role="alert"' in form.get_data(as_text=True)
    assert app.extensions["wallhinge_live"].commands() == []


def test_failing_storage_shows_on_the_live_page_and_the_kiosk_page(app, logged_in):
    feed = app.extensions["wallhinge_live"]
    message = "Storage failed: 5 reps not stored, kept in the journal /data/station.db.unsaved.jsonl"
    assert 'id="storage-alert" class="flash error" role="alert" hidden' in logged_in.get("/live/").get_data(as_text=True)
    feed.publish({"type": "storage", "state": "journal", "reps": 5, "message": message})
    for path in ("/live/", "/kiosk/setup", "/"):
        response = logged_in.get(path, follow_redirects=True)
        assert f'role="alert">{message}</div>' in response.get_data(as_text=True), path
    feed.publish({"type": "storage", "state": "ok", "message": ""})
    assert message not in logged_in.get("/live/").get_data(as_text=True)
