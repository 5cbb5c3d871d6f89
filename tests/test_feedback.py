"""The lamps, buzzer and button on gpiozero's mock pins.

Each pattern is checked against the table in ``station.feedback``'s docstring
through the mock pins' histories: ``pin.states`` holds (seconds since the
previous change, state) pairs, and ``assert_states_and_times`` compares the
times within about 5 % or 50 ms. ``assert_states_and_times`` zips, so every
history's length is checked too. Notes are checked through a PWM mock pin that
also records each frequency the tonal buzzer sets.
"""

import json
import threading
import time

import pytest
from gpiozero import Device
from gpiozero.exc import DeviceClosed
from gpiozero.pins.mock import MockFactory, MockPWMPin
from gpiozero.tones import Tone

from station.errors import ConfigError
from station.feedback import Feedback, PinMap, running_on_mock_pins
from tests.pins import ToneRecordingPin

# A second station's pins, for running two patterns side by side on one factory.
OTHER_PINS = PinMap(red=5, amber=6, green=13, buzzer=19, button=26)

HOLD_S = 0.3  # a short end-of-set hold keeps the button tests quick


@pytest.fixture
def factory():
    saved = Device.pin_factory
    Device.pin_factory = MockFactory(pin_class=ToneRecordingPin)
    try:
        yield Device.pin_factory
    finally:
        Device.pin_factory.reset()
        Device.pin_factory = saved


@pytest.fixture
def feedback(factory):
    station = Feedback(PinMap(), end_hold_s=HOLD_S)
    try:
        yield station
    finally:
        station.close()


@pytest.fixture
def other(factory):
    station = Feedback(OTHER_PINS, end_hold_s=HOLD_S)
    try:
        yield station
    finally:
        station.close()


class Pins:
    """The mock pins of one station, by part."""

    def __init__(self, factory, pins):
        for name in ("red", "amber", "green", "buzzer", "button"):
            setattr(self, name, factory.pin(getattr(pins, name)))

    def clear(self):
        for pin in (self.red, self.amber, self.green, self.buzzer):
            pin.clear_states()
        self.buzzer.frequencies.clear()


def assert_history(pin, expected):
    """The pin went through exactly these (seconds since the previous change, state) pairs."""
    states = [(round(t, 3), s) for t, s in pin.states]
    assert len(pin.states) == len(expected), states
    pin.assert_states_and_times(expected)


def assert_notes(pin, *notes):
    """The buzzer played exactly these notes (None = silence) in this order."""
    expected = [None if note is None else pytest.approx(Tone(note).frequency) for note in notes]
    assert pin.frequencies == expected


def wait_until(condition, timeout=2.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


# --- the pin map ---------------------------------------------------------------------------


def test_pin_map_defaults_are_distinct_gpio_pins():
    pins = PinMap()
    assert (pins.red, pins.amber, pins.green, pins.buzzer, pins.button) == (17, 27, 22, 18, 23)


def test_pin_map_from_config_table():
    assert PinMap.from_dict({"red": 5, "button": 26}) == PinMap(red=5, button=26)
    with pytest.raises(ValueError, match="unknown setting pins.buzer"):
        PinMap.from_dict({"buzer": 12})


@pytest.mark.parametrize("values, message", [
    ({"red": 1}, "pins.red must be a BCM GPIO number from 2 to 27"),
    ({"green": 28}, "pins.green must be"),
    ({"buzzer": True}, "pins.buzzer must be"),
    ({"button": "23"}, "pins.button must be"),
    ({"amber": 17}, "pins.amber and pins.red are both BCM 17"),
])
def test_pin_map_refuses_bad_pins(values, message):
    with pytest.raises(ValueError, match=message):
        PinMap(**values)


# --- the patterns ----------------------------------------------------------------------------


def test_waiting_patterns_repeat(factory, feedback, other):
    """getting_ready: amber 0.5 s on / 0.5 s off; ready: a 0.2 s green flash every 2 s. Silent."""
    starting, waiting = Pins(factory, PinMap()), Pins(factory, OTHER_PINS)
    starting.clear()
    waiting.clear()
    feedback.getting_ready()
    other.ready()
    time.sleep(2.1)
    assert_history(starting.amber, [(0, 0), (0, 1), (0.5, 0), (0.5, 1), (0.5, 0), (0.5, 1)])
    assert_history(waiting.green, [(0, 0), (0, 1), (0.2, 0), (1.8, 1)])
    for pin in (starting.red, starting.green, starting.buzzer, waiting.red, waiting.amber, waiting.buzzer):
        assert_history(pin, [(0, 0)])
    assert feedback.state()["pattern"] == "getting_ready" and feedback.state()["blinking"]
    assert other.state()["colour"] == "green"


def test_patient_detected_glows_green_and_beeps(factory, feedback):
    pins = Pins(factory, PinMap())
    pins.clear()
    feedback.patient_detected()
    time.sleep(0.25)
    assert_history(pins.green, [(0, 0), (0, 0.25)])
    assert_history(pins.buzzer, [(0, 0), (0, 0.5), (0.15, 0)])
    assert_notes(pins.buzzer, "A5", None)
    assert_history(pins.red, [(0, 0)])
    assert_history(pins.amber, [(0, 0)])


def test_touched_pips_and_leaves_the_lamps_alone(factory, feedback):
    pins = Pins(factory, PinMap())
    feedback.patient_detected()
    time.sleep(0.16)
    pins.clear()
    feedback.touched()
    time.sleep(0.15)
    assert_history(pins.buzzer, [(0, 0), (0, 0.5), (0.08, 0)])
    assert_notes(pins.buzzer, "A6", None)
    for pin in (pins.red, pins.amber, pins.green):
        assert len(pin.states) == 1
    assert feedback.state()["pattern"] == "patient_detected"


def patients_at_both_walls(factory, feedback, other):
    """Both stations glowing for a patient, their pins' histories cleared: (feedback's pins, other's pins)."""
    pins = Pins(factory, PinMap()), Pins(factory, OTHER_PINS)
    feedback.patient_detected()
    other.patient_detected()
    time.sleep(0.16)
    for station_pins in pins:
        station_pins.clear()
    return pins


def test_good_and_fault_reps_differ_in_lamp_blink_and_sound(factory, feedback, other):
    """Good: bottom lamp steady, rising high chime. Fault: top lamp flashing, two low buzzes."""
    good, bad = patients_at_both_walls(factory, feedback, other)
    feedback.rep_done([])
    other.rep_done(["squat", "too_fast"])
    time.sleep(1.6)

    assert_history(good.green, [(0, 0.25), (0, 1), (1.5, 0.25)])
    assert_history(good.red, [(0, 0)])
    assert_history(good.buzzer, [(0, 0), (0, 0.5), (0.12, 0), (0.03, 0.5), (0.25, 0)])
    assert_notes(good.buzzer, "C6", None, "E6", None)

    assert_history(bad.red, [(0, 0)] + [(0, 1), (0.125, 0)] + [(0.125, 1), (0.125, 0)] * 5)
    assert_history(bad.green, [(0, 0.25), (0, 0), (1.5, 0.25)])
    assert_history(bad.buzzer, [(0, 0), (0, 0.5), (0.4, 0), (0.15, 0.5), (0.4, 0)])
    assert_notes(bad.buzzer, "A4", None, "A4", None)

    # both go back to the patient's glow afterwards
    assert feedback.state()["pattern"] == other.state()["pattern"] == "patient_detected"


def test_a_rounded_back_has_its_own_lamps_and_sound_whatever_else_the_rep_had(factory, feedback, other):
    """Rounded back: the top two lamps in turn and three short low buzzes; any other fault: red flashing, two long."""
    rounded, bad = patients_at_both_walls(factory, feedback, other)
    feedback.rep_done(["squat", "rounded_back"])
    other.rep_done(["squat"])
    assert (feedback.state()["pattern"], feedback.state()["colour"]) == ("rounded_back_rep", "red+amber")
    assert other.state()["pattern"] == "fault_rep"
    time.sleep(1.6)

    assert_history(rounded.red, [(0, 0)] + [(0, 1), (0.25, 0)] + [(0.25, 1), (0.25, 0)] * 2)
    assert_history(rounded.amber, [(0, 0), (0.25, 1), (0.25, 0)] + [(0.25, 1), (0.25, 0)] * 2)
    assert_history(rounded.green, [(0, 0.25), (0, 0), (1.5, 0.25)])
    assert_history(rounded.buzzer, [(0, 0), (0, 0.5), (0.15, 0), (0.1, 0.5), (0.15, 0), (0.1, 0.5), (0.15, 0)])
    assert_notes(rounded.buzzer, "A4", None, "A4", None, "A4", None)
    assert_notes(bad.buzzer, "A4", None, "A4", None)  # two, not three
    assert feedback.state()["pattern"] == "patient_detected"


def test_set_complete_flashes_all_lamps_then_holds_green(factory, feedback):
    pins = Pins(factory, PinMap())
    pins.clear()
    feedback.set_complete()
    assert feedback.state()["colour"] == "all" and feedback.state()["blinking"]
    time.sleep(1.9)
    flashes = [(0, 0)] + [(0, 1), (0.3, 0)] + [(0.3, 1), (0.3, 0)] * 2
    assert_history(pins.red, flashes)
    assert_history(pins.amber, flashes)
    assert_history(pins.green, flashes + [(0.3, 1)])
    assert_history(pins.buzzer, [(0, 0), (0, 0.5), (0.15, 0), (0.03, 0.5), (0.15, 0), (0.03, 0.5), (0.15, 0),
                                 (0.03, 0.5), (0.5, 0)])
    assert_notes(pins.buzzer, "G5", None, "C6", None, "E6", None, "G6", None)
    state = feedback.state()
    assert (state["pattern"], state["colour"], state["blinking"]) == ("set_complete", "green", False)


def test_trouble_holds_the_fault_lamp_until_the_next_state(factory, feedback):
    pins = Pins(factory, PinMap())
    feedback.patient_detected()
    time.sleep(0.16)
    pins.clear()
    feedback.trouble("camera lost")
    time.sleep(0.96)
    assert_history(pins.red, [(0, 0), (0, 1)])
    assert_history(pins.green, [(0, 0.25), (0, 0)])
    assert_history(pins.buzzer, [(0, 0), (0, 0.5), (0.3, 0), (0.05, 0.5), (0.6, 0)])
    assert_notes(pins.buzzer, "A5", None, "A4", None)
    state = feedback.state()
    assert (state["pattern"], state["colour"], state["reason"]) == ("trouble", "red", "camera lost")

    feedback.touched()  # an event, not a state: the fault lamp stays
    assert pins.red.state == 1
    assert feedback.state()["reason"] == "camera lost"

    feedback.patient_detected()
    assert pins.red.state == 0
    assert pins.green.state == 0.25
    assert feedback.state()["reason"] is None


def test_calls_return_while_their_pattern_is_still_running(factory, feedback):
    """The frame loop never waits for a pattern: the call returns with the pattern under way."""
    pins = Pins(factory, PinMap())
    feedback.rep_done(["squat"])
    state = feedback.state()
    assert (state["pattern"], state["note"]) == ("fault_rep", "A4")
    assert pins.red.state == 1 and pins.buzzer.state == 0.5
    feedback.set_complete()  # replaces the running pattern at once
    assert feedback.state()["pattern"] == "set_complete"
    assert pins.red.state == pins.amber.state == pins.green.state == 1
    assert feedback.state()["note"] == "G5"


def test_state_is_json_for_the_virtual_lights(feedback):
    assert feedback.state()["pattern"] is None
    feedback.rep_done([])
    state = json.loads(json.dumps(feedback.state()))
    assert state == {"pattern": "good_rep", "colour": "green", "blinking": False,
                     "lamps": {"red": 0.0, "amber": 0.0, "green": 1.0},
                     "sound": True, "note": "C6", "tone_hz": 1046.5, "muted": False, "reason": None}


# --- mute -------------------------------------------------------------------------------------


def test_muted_buzzer_stays_silent_while_the_lamps_work(factory):
    pins = Pins(factory, PinMap())
    with Feedback(PinMap(), muted=True) as station:
        pins.clear()
        station.rep_done(["no_touch"])
        station.touched()
        time.sleep(0.2)
        assert_history(pins.buzzer, [(0, 0)])
        assert pins.buzzer.frequencies == []
        assert len(pins.red.states) > 2  # flashing
        assert station.state()["muted"] and not station.state()["sound"]


def test_mute_stops_a_sound_at_once_and_unmute_lets_the_next_one_play(factory, feedback):
    pins = Pins(factory, PinMap())
    feedback.rep_done(["squat"])
    assert pins.buzzer.state == 0.5
    feedback.mute(True)
    assert pins.buzzer.state == 0
    pins.clear()
    time.sleep(0.6)  # past the rest of the fault's two buzzes
    assert_history(pins.buzzer, [(0, 0)])
    assert pins.buzzer.frequencies == []
    feedback.mute(False)
    feedback.touched()
    assert pins.buzzer.state == 0.5 and not feedback.state()["muted"]


# --- the button ------------------------------------------------------------------------------


def test_short_press_starts_or_pauses_and_long_hold_ends(factory, feedback):
    button = Pins(factory, PinMap()).button
    button.drive_low()  # no callbacks set yet: nothing happens
    button.drive_high()
    calls = []
    feedback.on_start_pause = lambda: calls.append("start_pause")
    feedback.on_end = lambda: calls.append("end")

    button.drive_low()
    button.drive_high()
    assert calls == ["start_pause"]

    button.drive_low()
    time.sleep(0.05)
    button.drive_high()
    assert calls == ["start_pause", "start_pause"]

    button.drive_low()
    wait_until(lambda: "end" in calls)  # fires while still held, after HOLD_S
    button.drive_high()
    assert calls == ["start_pause", "start_pause", "end"]  # the release after a hold does not toggle


# --- pin factories and closing ------------------------------------------------------------


def test_pin_factory_is_passed_through_and_pwm_is_required():
    saved = Device.pin_factory
    Device.pin_factory = MockFactory()  # plain mock pins: no PWM
    try:
        with pytest.raises(ConfigError, match="GPIOZERO_MOCK_PIN_CLASS=mockpwmpin"):
            Feedback(PinMap())
        given = MockFactory(pin_class=MockPWMPin)
        with Feedback(PinMap(), pin_factory=given) as station:
            station.trouble("camera lost")
            assert given.pin(17).state == 1
        assert running_on_mock_pins()
        assert running_on_mock_pins(given)
        assert not running_on_mock_pins(object())
    finally:
        Device.pin_factory.reset()
        Device.pin_factory = saved


def test_close_turns_everything_off_and_frees_the_pins(factory):
    pins = Pins(factory, PinMap())
    station = Feedback(PinMap())
    station.set_complete()
    station.close()
    station.close()  # twice is fine
    assert pins.red.state == pins.amber.state == pins.green.state == pins.buzzer.state == 0
    assert not [t for t in threading.enumerate() if t.name.startswith("feedback-")]
    with pytest.raises(DeviceClosed):
        station.ready()
    with Feedback(PinMap()) as again:  # the pins were released
        again.ready()
