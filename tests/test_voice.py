"""The station's voice (station/voice.py), with a fake espeak-ng on PATH that notes what it is asked to say."""

import logging
import shutil
import subprocess
import threading
import time

import pytest

from espeak import fake_espeak, phrases  # noqa: F401 (a fixture)
from station import voice
from station.voice import Speaker


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
    with caplog.at_level(logging.WARNING, logger="station.voice"):
        speaker = Speaker()
        assert not speaker.available
        assert [speaker.say(text) for text in ("1", "2", "Slowly")] == [False, False, False]
        speaker.close()
    warnings = [record.getMessage() for record in caplog.records if record.name == "station.voice"]
    assert len(warnings) == 1 and "espeak-ng is not installed" in warnings[0] and "apt-get install" in warnings[0]


def test_an_espeak_that_cannot_reach_a_sound_card_is_reported_once(fake_espeak, caplog):
    fake_espeak.install(body='#!/bin/sh\necho "ALSA lib pcm.c: Unknown PCM default" >&2\n'
                             'echo "error: No such file or directory" >&2\necho "start $*" >> "{log}"\n')
    with caplog.at_level(logging.WARNING, logger="station.voice"):
        speaker = Speaker()
        for text in ("1", "2"):
            speaker.say(text)
            assert speaker.idle(5)
        speaker.close()
    warnings = [record.getMessage() for record in caplog.records if record.name == "station.voice"]
    assert len(warnings) == 1 and "could not speak" in warnings[0] and "No such file" in warnings[0]
    assert phrases(fake_espeak()) == ["1", "2"]  # it kept trying, quietly


def test_close_cuts_a_long_phrase_short(fake_espeak):
    fake_espeak.install(seconds=30)
    speaker = Speaker()
    speaker.say("a very long phrase")
    while not fake_espeak():
        time.sleep(0.01)
    speaker.close()
    assert speaker.idle(5)  # espeak-ng was stopped (it would speak for 30 s)
    assert speaker.say("more") is False


def test_close_cuts_a_phrase_that_was_just_starting(fake_espeak, monkeypatch):
    # close() can come after espeak-ng has started but before the speaker has noted its
    # process (a loaded machine: CI saw it); it then had nothing to stop, waited its 2 s
    # for the worker and left espeak-ng talking.
    fake_espeak.install(seconds=30)
    started, go_on = threading.Event(), threading.Event()
    real_popen = subprocess.Popen

    def popen_then_pause(*args, **kwargs):
        process = real_popen(*args, **kwargs)
        started.set()
        go_on.wait(5)
        return process

    monkeypatch.setattr(voice.subprocess, "Popen", popen_then_pause)
    speaker = Speaker()
    speaker.say("a very long phrase")
    assert started.wait(5)
    closing = threading.Thread(target=speaker.close)
    closing.start()
    while not speaker._closed:  # close() has looked for a process, and found none
        time.sleep(0.01)
    go_on.set()
    closing.join(10)
    assert speaker.idle(5)


@pytest.mark.parametrize("options", [{"words_per_minute": 10}, {"amplitude": 300}, {"voice": "-x"},
                                     {"words_per_minute": True}])
def test_bad_settings_are_refused(options):
    with pytest.raises(ValueError, match=next(iter(options))):
        Speaker(**options)



@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="Debian's espeak-ng is not installed here")
def test_the_real_espeak_ng_takes_these_arguments(tmp_path):
    """The options Speaker passes are espeak-ng's own: render one phrase to a WAV file with them."""
    import subprocess
    wav = tmp_path / "cue.wav"
    result = subprocess.run(["espeak-ng", "-v", "en-gb", "-s", "140", "-a", "150", "-w", str(wav), "Soft knees"],
                            capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    assert wav.read_bytes()[:4] == b"RIFF" and wav.stat().st_size > 5000


def test_a_station_without_the_web_speaks_its_cues(fake_espeak, short_recording, tmp_path):
    """``wallhinge run --no-web`` with station.speech on: the good-rep count is said after each good rep."""
    from gpiozero.pins.mock import MockFactory

    from station.session import run_session
    from station.settings import load_settings
    from tests.pins import ToneRecordingPin

    fake_espeak.install(seconds=0.01)
    settings = load_settings(overrides={"station": {"data_dir": str(tmp_path), "speech": True}})
    summary = run_session(settings, replay=short_recording[0], pin_factory=MockFactory(pin_class=ToneRecordingPin),
                          real_time=False)
    good = sum(1 for rep in summary.reps if rep["good"])
    assert good == 2
    said = phrases(fake_espeak())
    # One phrase at a time, only the newest waiting: the last count is always said, and nothing else is.
    assert said and said[-1] == str(good) and set(said) <= {"1", "2"}


def test_speech_stays_off_unless_the_settings_turn_it_on(fake_espeak, short_recording, tmp_path):
    from gpiozero.pins.mock import MockFactory

    from station.session import run_session
    from station.settings import load_settings
    from tests.pins import ToneRecordingPin

    settings = load_settings(overrides={"station": {"data_dir": str(tmp_path)}})
    run_session(settings, replay=short_recording[0], pin_factory=MockFactory(pin_class=ToneRecordingPin),
                real_time=False)
    assert fake_espeak() == []


def test_inside_the_station_the_kiosk_switch_governs_the_station_s_voice_and_the_app_starts_none(tmp_path,
                                                                                                  monkeypatch):
    from station.settings import load_settings
    from wallhinge.in_station import StationDashboard

    monkeypatch.setenv("WALLHINGE_KIOSK_SPEECH", "true")  # an old drop-in: the station's voice, not a second one
    settings = load_settings(overrides={"station": {"data_dir": str(tmp_path)}})
    with StationDashboard(settings, host="127.0.0.1", port=0) as dashboard:
        assert settings.station.speech and "wallhinge_speech" not in dashboard.app.extensions
        assert dashboard.speech_enabled() is True
        dashboard.app.extensions["wallhinge_kiosk"].set_speech(False)
        assert dashboard.speech_enabled() is False
