"""The station's voice (web/speech.py), with a fake espeak-ng on PATH that notes what it is asked to say."""

import logging
import os
import shutil
import stat
import time

import pytest

from web.kiosk_cues import CueCoach
from web.kiosk_view import KioskView
from web.live import LiveFeed
from web.speech import Speaker, SpokenCues

FAKE = """#!/bin/sh
# A stand-in for espeak-ng: note the phrase's start and end, take a while to "speak".
echo "start $*" >> "{log}"
sleep {seconds}
echo "end $*" >> "{log}"
"""


@pytest.fixture
def fake_espeak(tmp_path, monkeypatch):
    """Put a fake espeak-ng first on PATH; return a function reading its log as (event, phrase) pairs."""
    folder = tmp_path / "bin"
    folder.mkdir()
    log = tmp_path / "espeak.log"

    def install(seconds=0.3, body=FAKE):
        program = folder / "espeak-ng"
        program.write_text(body.format(log=log, seconds=seconds))
        program.chmod(program.stat().st_mode | stat.S_IXUSR)

    install()
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ.get('PATH', '')}")

    def lines():
        if not log.exists():
            return []
        return [tuple(line.split(" ", 1)) for line in log.read_text().splitlines()]

    lines.install = install
    return lines


def phrases(lines):
    """The phrases spoken (the last argument after espeak-ng's options)."""
    return [text.split(" ", 6)[6] for event, text in lines if event == "start"]


def test_a_phrase_is_spoken_with_espeak_ng_s_voice_and_rate(fake_espeak):
    speaker = Speaker(voice="en-gb", words_per_minute=140, amplitude=150)
    try:
        assert speaker.available and speaker.say("Push your hips back")
        assert speaker.idle(5)
    finally:
        speaker.close()
    assert fake_espeak() == [("start", "-v en-gb -s 140 -a 150 Push your hips back"),
                             ("end", "-v en-gb -s 140 -a 150 Push your hips back")]


def test_one_phrase_at_a_time_and_only_the_newest_waits(fake_espeak):
    speaker = Speaker()
    try:
        speaker.say("1")
        deadline = time.monotonic() + 5
        while not fake_espeak() and time.monotonic() < deadline:  # "1" has started
            time.sleep(0.01)
        started = time.monotonic()
        for text in ("2", "Soft knees", "3"):
            speaker.say(text)
        assert time.monotonic() - started < 0.05  # say() never waits for the voice
        assert speaker.idle(5)
    finally:
        speaker.close()
    lines = fake_espeak()
    assert phrases(lines) == ["1", "3"] and speaker.dropped == 2 and speaker.spoken == 2
    # Never two at once: each phrase ends before the next starts.
    assert [event for event, _ in lines] == ["start", "end", "start", "end"]


def test_muted_it_says_nothing_and_drops_what_was_waiting(fake_espeak):
    speaker = Speaker(muted=True)
    try:
        assert speaker.say("1") is False
        speaker.unmute()
        speaker.say("2")
        while not fake_espeak():
            time.sleep(0.01)
        speaker.say("3")  # waits behind "2"
        speaker.mute()
        assert speaker.muted and speaker.say("4") is False
        assert speaker.idle(5)
        speaker.unmute()
        speaker.say("5")
        assert speaker.idle(5)
    finally:
        speaker.close()
    assert phrases(fake_espeak()) == ["2", "5"]


def test_without_espeak_ng_it_says_so_once_and_carries_on(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("PATH", str(tmp_path))
    with caplog.at_level(logging.WARNING, logger="web.speech"):
        speaker = Speaker()
        assert not speaker.available
        assert [speaker.say(text) for text in ("1", "2", "Slowly")] == [False, False, False]
        speaker.close()
    warnings = [record.getMessage() for record in caplog.records if record.name == "web.speech"]
    assert len(warnings) == 1 and "espeak-ng is not installed" in warnings[0] and "apt-get install" in warnings[0]


def test_an_espeak_that_cannot_reach_a_sound_card_is_reported_once(fake_espeak, caplog):
    fake_espeak.install(body='#!/bin/sh\necho "ALSA lib pcm.c: Unknown PCM default" >&2\n'
                             'echo "error: No such file or directory" >&2\necho "start $*" >> "{log}"\n')
    with caplog.at_level(logging.WARNING, logger="web.speech"):
        speaker = Speaker()
        for text in ("1", "2"):
            speaker.say(text)
            assert speaker.idle(5)
        speaker.close()
    warnings = [record.getMessage() for record in caplog.records if record.name == "web.speech"]
    assert len(warnings) == 1 and "could not speak" in warnings[0] and "No such file" in warnings[0]
    assert phrases(fake_espeak()) == ["1", "2"]  # it kept trying, quietly


def test_close_cuts_a_long_phrase_short(fake_espeak):
    fake_espeak.install(seconds=30)
    speaker = Speaker()
    speaker.say("a very long phrase")
    while not fake_espeak():
        time.sleep(0.01)
    started = time.monotonic()
    speaker.close()
    assert time.monotonic() - started < 1.0
    assert speaker.say("more") is False


@pytest.mark.parametrize("options", [{"words_per_minute": 10}, {"amplitude": 300}, {"voice": "-x"},
                                     {"words_per_minute": True}])
def test_bad_settings_are_refused(options):
    with pytest.raises(ValueError, match=next(iter(options))):
        Speaker(**options)


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


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="Debian's espeak-ng is not installed here")
def test_the_real_espeak_ng_takes_these_arguments(tmp_path):
    """The options Speaker passes are espeak-ng's own: render one phrase to a WAV file with them."""
    import subprocess
    wav = tmp_path / "cue.wav"
    result = subprocess.run(["espeak-ng", "-v", "en-gb", "-s", "140", "-a", "150", "-w", str(wav), "Soft knees"],
                            capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    assert wav.read_bytes()[:4] == b"RIFF" and wav.stat().st_size > 5000
