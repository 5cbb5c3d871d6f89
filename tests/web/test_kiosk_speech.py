"""The kiosk's spoken cues (web/kiosk/speech.py): the station's voice follows the live feed, with a fake espeak-ng."""

import time

from espeak import fake_espeak, phrases  # noqa: F401 (a fixture)
from station.voice import Speaker
from station.cues import CueCoach
from web.kiosk.view import KioskView
from web.live import LiveFeed
from web.kiosk.speech import SpokenCues


def test_the_station_speaks_what_the_kiosk_decides(fake_espeak):
    """The rep count after a good rep, a cue when the coach picks one, and nothing while switched off."""
    fake_espeak.install(seconds=0.05)
    feed = LiveFeed()
    speaker = Speaker()
    switch = {"on": True}
    view = KioskView(coach=CueCoach(cooldown_s=0.2, repeat_s=0.2))  # the real cooldown is seconds
    cues = SpokenCues(feed, speaker, enabled=lambda: switch["on"], view=view).start()
    try:
        deadline = time.monotonic() + 5
        while feed.subscribers == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        feed.publish({"type": "session", "state": "running", "set_number": 1, "reps_in_set": 0,
                      "good_reps_in_set": 0, "reps_per_set": 12})
        for rep in ({"index": 1, "faults": []}, {"index": 2, "faults": ["rounded_back", "squat"]}):
            feed.publish({"type": "rep", "set_number": 1, "good": not rep["faults"], "rep": rep})
            time.sleep(0.3)
            assert speaker.idle(5)
        switch["on"] = False
        feed.publish({"type": "rep", "set_number": 1, "good": True, "rep": {"index": 3, "faults": []}})
        time.sleep(0.3)
    finally:
        cues.stop()
        speaker.close()
    assert phrases(fake_espeak()) == ["1", "Keep your back long"]
    assert feed.subscribers == 0


def test_it_follows_the_feed_again_after_the_server_closed_it(fake_espeak):
    fake_espeak.install(seconds=0.01)
    feed = LiveFeed()
    speaker = Speaker()
    cues = SpokenCues(feed, speaker).start()
    try:
        deadline = time.monotonic() + 5
        while feed.subscribers == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        feed.close()  # web.serve.stop does this
        deadline = time.monotonic() + 5
        time.sleep(0.1)
        while feed.subscribers == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        feed.publish({"type": "set_complete", "set_number": 1, "good_reps": 12, "ready_to_progress": False})
        time.sleep(0.3)
        assert speaker.idle(5)
    finally:
        cues.stop()
        speaker.close()
    assert phrases(fake_espeak()) == ["Set complete. Well done!"]


def test_an_app_with_kiosk_speech_speaks_its_live_feed_while_the_switch_is_on(fake_espeak, tmp_path):
    from support import make_app
    fake_espeak.install(seconds=0.01)
    app = make_app(tmp_path, KIOSK_SPEECH=True)
    cues = app.extensions["wallhinge_speech"]
    feed = app.extensions["wallhinge_live"]
    try:
        deadline = time.monotonic() + 5
        while feed.subscribers == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        feed.publish({"type": "set_complete", "set_number": 1, "good_reps": 12})
        time.sleep(0.3)
        app.extensions["wallhinge_kiosk"].set_speech(False)
        feed.publish({"type": "rep", "set_number": 2, "good": True, "rep": {"index": 1, "faults": []}})
        time.sleep(0.3)
    finally:
        cues.stop()
        cues.speaker.close()
    assert phrases(fake_espeak()) == ["Set complete. Well done!"]
