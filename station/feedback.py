"""Light and sound feedback at the wall, and the big start/pause/end button.

The senior at the wall gets instant feedback without reading a screen: a stack
of three lamps (red on top, amber in the middle, green at the bottom), a tonal
buzzer, and one big button. Everything is a gpiozero device; the pin factory
is gpiozero's to choose (or the caller's, through ``pin_factory``), never
chosen here at import. Off the Pi the station runs on gpiozero's
``MockFactory`` with PWM mock pins (``GPIOZERO_PIN_FACTORY=mock``,
``GPIOZERO_MOCK_PIN_CLASS=mockpwmpin``) and the mock pins' states are what
:meth:`Feedback.state` reports for the kiosk's virtual lights.

Every method returns at once: its first step is written to the pins in the
call (a few microseconds on a Pi) and the rest of the pattern runs on a
worker thread per channel (lamps, buzzer) that waits on an Event, so a new
call replaces the running pattern at once and :meth:`Feedback.close` is
instant. Nothing sleeps in the caller, which is the frame loop.

Patterns
--------
Lamp levels are 0..1 (PWM); "glow" is green at 25 %. Notes are played on the
tonal buzzer (range A4-A6, 440-1760 Hz, kept below the 2-4 kHz band that
age-related hearing loss takes first). A good rep and a rep with a fault
differ in lamp position (bottom/top), blink (steady/flashing) and sound
(rising high chime/two low long buzzes), so a person who cannot tell red from
green, or who cannot see the lamps, still knows.

======================  ==========  ==============================  ================================  ================
call                    lamp        blink                           sound                             lasts
======================  ==========  ==============================  ================================  ================
``getting_ready()``     amber       flashing 0.5 s on / 0.5 s off   none                              until next call
``ready()``             green       0.2 s flash every 2 s           none                              until next call
``patient_detected()``  green glow  steady                          A5 (880 Hz) 0.15 s                until next call
``paused()``            amber       steady                          none                              until next call
``touched()``           unchanged   unchanged                       A6 (1760 Hz) 0.08 s pip           0.08 s
``rep_done([])``        green       steady 1.5 s, then green glow   C6 0.12 s, gap 0.03 s, E6 0.25 s  1.5 s
``rep_done(faults)``    red         flashing 0.125 s on / off,      A4 (440 Hz) 0.4 s, gap 0.15 s,    1.5 s
                                    6 times, then green glow        A4 0.4 s
``set_complete()``      all three   flashing 0.3 s on / 0.3 s off,  G5, C6, E6 0.15 s each with       1.8 s, then held
                                    3 times, then green steady      0.03 s gaps, G6 0.5 s
``trouble(reason)``     red         steady                          A5 0.3 s, gap 0.05 s, A4 0.6 s    until next call
======================  ==========  ==============================  ================================  ================

A rep whose faults include ``rounded_back``, the fault that hurts, has its own
pattern, whatever else it had: red and amber flashing in turn (0.25 s each, 3
times, then the green glow) and three short low buzzes (A4 0.15 s, gaps 0.1 s).

``touched()`` changes no lamp and clears nothing; every other call replaces
the lamps' pattern, so ``trouble`` stays on until the next state call. With
sound muted the buzzer does nothing at all and the lamps work as usual.

The button
----------
A short press (released before ``end_hold_s``, default 2 s) calls
``on_start_pause``; holding it for ``end_hold_s`` calls ``on_end`` (and the
release after a hold does not also toggle). The callbacks run on gpiozero's
threads: keep them short, e.g. put an event on the session's queue.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, fields
from typing import Any, Callable, Sequence

from gpiozero import Button, Device, TonalBuzzer, TrafficLights
from gpiozero.exc import DeviceClosed, PinPWMUnsupported
from gpiozero.pins.mock import MockFactory
from gpiozero.tones import Tone

from station.config import settings_from_table
from station.errors import ConfigError

#: BCM numbers a 40-pin header exposes as general-purpose pins (0 and 1 are
#: the HAT EEPROM's I2C bus and are left alone).
VALID_BCM = range(2, 28)

#: Seconds the button must be held to end the set.
DEFAULT_END_HOLD_S = 2.0

# The buzzer's range: one octave either side of A5, i.e. A4 (440 Hz) to A6 (1760 Hz).
_MID_TONE = "A5"

# Switch bounce on a big arcade or mushroom button lasts a few milliseconds.
_BOUNCE_S = 0.02


@dataclass(frozen=True)
class PinMap:
    """Which GPIO pin (BCM number) each part is wired to.

    The defaults sit together on physical header pins 11-16, with ground on
    pins 9 and 14 beside them; ``hardware/wiring.md`` has the wiring table.

    Attributes
    ----------
    red : int
        Red lamp, top of the stack (BCM 17, header pin 11).
    amber : int
        Amber lamp, middle (BCM 27, header pin 13).
    green : int
        Green lamp, bottom (BCM 22, header pin 15).
    buzzer : int
        Tonal (passive) buzzer, driven with PWM (BCM 18, header pin 12).
    button : int
        Start/pause/end button to ground, internal pull-up (BCM 23, header pin 16).
    """

    red: int = 17
    amber: int = 27
    green: int = 22
    buzzer: int = 18
    button: int = 23

    def __post_init__(self):
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, bool) or not isinstance(value, int) or value not in VALID_BCM:
                raise ValueError(f"pins.{item.name} must be a BCM GPIO number from 2 to 27, not {value!r}")
        seen: dict[int, str] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if value in seen:
                raise ValueError(f"pins.{item.name} and pins.{seen[value]} are both BCM {value}; "
                                 "each part needs its own pin")
            seen[value] = item.name

    @classmethod
    def from_dict(cls, values: dict) -> "PinMap":
        """The pin map from the config file's ``pins`` table, rejecting unknown keys by name."""
        return settings_from_table(cls, values, "pins")


def running_on_mock_pins(pin_factory=None) -> bool:
    """Whether the feedback runs on gpiozero's mock pins rather than real GPIO.

    Checks ``pin_factory`` when given, else gpiozero's default factory; if none
    has been chosen yet, gpiozero chooses it now, as it would for the first
    device (``GPIOZERO_PIN_FACTORY=mock`` selects the mock one).
    """
    if pin_factory is None:
        Device.ensure_pin_factory()
        pin_factory = Device.pin_factory
    return isinstance(pin_factory, MockFactory)


# --- patterns -----------------------------------------------------------------

_OFF = (0.0, 0.0, 0.0)  # (red, amber, green) lamp levels
_RED = (1.0, 0.0, 0.0)
_AMBER = (0.0, 1.0, 0.0)
_GREEN = (0.0, 0.0, 1.0)
_GLOW = (0.0, 0.0, 0.25)
_ALL = (1.0, 1.0, 1.0)

_HOLD = None  # a step's duration: hold until the next call


@dataclass(frozen=True)
class _Pattern:
    """A timed sequence of values for one channel (lamp levels or a note).

    ``steps`` are ``(value, seconds)``; a step of ``_HOLD`` seconds lasts
    until the next pattern. After the last step the pattern repeats, goes on
    to ``then``, or holds its last value.
    """

    name: str
    steps: tuple[tuple[Any, float | None], ...]
    colour: str | None = None
    blinking: bool = False
    repeat: bool = False
    then: "_Pattern | None" = None


def _flashing(name, colour, level, on_s, off_s, times=None, then=None):
    steps = ((level, on_s), (_OFF, off_s))
    if times is None:
        return _Pattern(name, steps, colour, blinking=True, repeat=True)
    return _Pattern(name, steps * times, colour, blinking=True, then=then)


_PATIENT = _Pattern("patient_detected", ((_GLOW, _HOLD),), "green")

_LAMPS = {
    "getting_ready": _flashing("getting_ready", "amber", _AMBER, 0.5, 0.5),
    "ready": _flashing("ready", "green", _GREEN, 0.2, 1.8),
    "patient_detected": _PATIENT,
    "paused": _Pattern("paused", ((_AMBER, _HOLD),), "amber"),
    "good_rep": _Pattern("good_rep", ((_GREEN, 1.5),), "green", then=_PATIENT),
    "fault_rep": _flashing("fault_rep", "red", _RED, 0.125, 0.125, times=6, then=_PATIENT),
    "rounded_back_rep": _Pattern("rounded_back_rep", ((_RED, 0.25), (_AMBER, 0.25)) * 3, "red+amber", blinking=True,
                                 then=_PATIENT),
    "set_complete": _flashing("set_complete", "all", _ALL, 0.3, 0.3, times=3,
                              then=_Pattern("set_complete", ((_GREEN, _HOLD),), "green")),
    "trouble": _Pattern("trouble", ((_RED, _HOLD),), "red"),
}


def _tune(name, *notes):
    """A sound pattern: (note, seconds) pairs, a note of None is a gap; ends silent."""
    return _Pattern(name, tuple(notes) + ((None, _HOLD),))


_SOUNDS = {
    "patient_detected": _tune("patient_detected", ("A5", 0.15)),
    "touched": _tune("touched", ("A6", 0.08)),
    "good_rep": _tune("good_rep", ("C6", 0.12), (None, 0.03), ("E6", 0.25)),
    "fault_rep": _tune("fault_rep", ("A4", 0.4), (None, 0.15), ("A4", 0.4)),
    "rounded_back_rep": _tune("rounded_back_rep", ("A4", 0.15), (None, 0.1), ("A4", 0.15), (None, 0.1), ("A4", 0.15)),
    "set_complete": _tune("set_complete", ("G5", 0.15), (None, 0.03), ("C6", 0.15), (None, 0.03),
                          ("E6", 0.15), (None, 0.03), ("G6", 0.5)),
    "trouble": _tune("trouble", ("A5", 0.3), (None, 0.05), ("A4", 0.6)),
}

_SILENCE = _Pattern("silence", ((None, _HOLD),))
_DARK = _Pattern("off", ((_OFF, _HOLD),))


class _Timeline:
    """Plays one :class:`_Pattern` at a time through ``write``.

    :meth:`play` writes the first step in the caller and returns; a worker
    thread waits on an Event until the next step is due, so a new pattern or
    :meth:`close` wakes it at once. Steps are scheduled from the previous
    step's due time, not from when the worker woke, so timing does not drift.
    All writes happen under one lock, so the caller and the worker never
    write at the same time.
    """

    def __init__(self, name: str, write: Callable[[Any], None]):
        self._write = write
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._pattern: _Pattern | None = None
        self._index = 0
        self._due: float | None = None  # monotonic time of the next step; None = hold
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    @property
    def pattern(self) -> _Pattern | None:
        with self._lock:
            return self._pattern

    def play(self, pattern: _Pattern) -> None:
        with self._lock:
            if self._closed:
                raise DeviceClosed("the feedback lamps and buzzer are closed")
            self._pattern = pattern
            self._index = 0
            self._start_step(time.monotonic())
        self._wake.set()

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self._wake.set()
        self._thread.join()

    def _start_step(self, start: float) -> None:
        value, seconds = self._pattern.steps[self._index]
        self._write(value)
        self._due = None if seconds is None else start + seconds

    def _advance(self) -> None:
        pattern = self._pattern
        if self._index + 1 < len(pattern.steps):
            self._index += 1
        elif pattern.repeat:
            self._index = 0
        elif pattern.then is not None:
            self._pattern, self._index = pattern.then, 0
        else:  # the last step had a duration and nothing follows: keep its value
            self._due = None
            return
        self._start_step(self._due)

    def _run(self) -> None:
        while True:
            with self._lock:
                if self._closed:
                    return
                due = self._due
            timeout = None if due is None else max(0.0, due - time.monotonic())
            if self._wake.wait(timeout):
                self._wake.clear()  # then re-read the state the waker left
                continue
            with self._lock:
                if self._closed:
                    return
                if self._due is not None and time.monotonic() >= self._due:
                    self._advance()


class SetButton:
    """The big button: a short press starts or pauses the set, a long hold ends it.

    Parameters
    ----------
    pin : int
        BCM number; the button connects the pin to ground (internal pull-up).
    end_hold_s : float
        Seconds of holding that end the set.
    pin_factory : gpiozero Factory, optional
        Passed to the gpiozero device; None uses gpiozero's default.

    Attributes
    ----------
    on_start_pause, on_end : callable or None
        Called with no arguments on gpiozero's threads after a short press
        (on release) and once a hold reaches ``end_hold_s``.
    """

    def __init__(self, pin: int, *, end_hold_s: float = DEFAULT_END_HOLD_S, pin_factory=None):
        if not end_hold_s > 0:
            raise ValueError(f"end_hold_s must be a positive number of seconds, not {end_hold_s!r}")
        self.on_start_pause: Callable[[], None] | None = None
        self.on_end: Callable[[], None] | None = None
        self._held = False
        self._button = Button(pin, pull_up=True, bounce_time=_BOUNCE_S, hold_time=end_hold_s,
                              pin_factory=pin_factory)
        self._button.when_pressed = self._pressed
        self._button.when_held = self._hold_reached
        self._button.when_released = self._released

    @property
    def is_pressed(self) -> bool:
        return self._button.is_pressed

    def close(self) -> None:
        self._button.close()

    def _pressed(self) -> None:
        self._held = False

    def _hold_reached(self) -> None:
        self._held = True
        if self.on_end is not None:
            self.on_end()

    def _released(self) -> None:
        if not self._held and self.on_start_pause is not None:
            self.on_start_pause()


class Feedback:
    """The lamps, the buzzer and the button of one station.

    Parameters
    ----------
    pins : PinMap
        Where the parts are wired.
    muted : bool
        Start with the buzzer silent (the lamps work either way).
    pin_factory : gpiozero Factory, optional
        Passed to every gpiozero device; None uses gpiozero's default, chosen
        by gpiozero on first use (``GPIOZERO_PIN_FACTORY``).
    end_hold_s : float
        Seconds the button is held to end the set.

    Raises
    ------
    ConfigError
        The pin factory cannot do PWM, which the lamps and the tonal buzzer need.

    See the module's docstring for the table of patterns. Use as a context
    manager or call :meth:`close`.
    """

    def __init__(self, pins: PinMap, *, muted: bool = False, pin_factory=None,
                 end_hold_s: float = DEFAULT_END_HOLD_S):
        self._muted = bool(muted)
        self._reason: str | None = None
        self._levels = _OFF
        self._note: str | None = None
        self._devices: list = []
        self._lamps_line: _Timeline | None = None
        self._sound_line: _Timeline | None = None
        try:
            self._lights = self._own(TrafficLights(pins.red, pins.amber, pins.green, pwm=True,
                                                   pin_factory=pin_factory))
            self._buzzer = self._own(TonalBuzzer(pins.buzzer, mid_tone=Tone(_MID_TONE), octaves=1,
                                                 pin_factory=pin_factory))
            self.button = self._own(SetButton(pins.button, end_hold_s=end_hold_s, pin_factory=pin_factory))
        except PinPWMUnsupported as error:
            self._close_devices()
            factory = type(pin_factory or Device.pin_factory).__name__
            raise ConfigError(
                f"the lamps and the tonal buzzer need PWM pins, and gpiozero's {factory} gives none; "
                "on a Raspberry Pi install python3-lgpio, off it set GPIOZERO_PIN_FACTORY=mock "
                "and GPIOZERO_MOCK_PIN_CLASS=mockpwmpin") from error
        except BaseException:
            self._close_devices()
            raise
        self._lamps_line = _Timeline("feedback-lamps", self._write_lamps)
        self._sound_line = _Timeline("feedback-sound", self._write_note)

    # --- the states and events, each returning at once --------------------------------

    def getting_ready(self) -> None:
        """The station is starting or calibrating: amber flashing."""
        self._show("getting_ready")

    def ready(self) -> None:
        """Waiting for a patient: a short green flash every 2 s."""
        self._show("ready")

    def patient_detected(self) -> None:
        """A patient stands at the drill spot: green glow and one beep."""
        self._show("patient_detected")

    def paused(self) -> None:
        """The set is paused (button pressed): amber steady."""
        self._show("paused")

    def touched(self) -> None:
        """The buttocks touched the wall: a short high pip; the lamps are left alone."""
        self._sound("touched")

    def rep_done(self, faults: Sequence[str]) -> None:
        """A rep ended: green and a rising chime if ``faults`` is empty, else red flashing and two low buzzes.

        A rounded back, whatever else the rep had, gets its own pattern (red
        and amber in turn, three short low buzzes).
        """
        self._show("rounded_back_rep" if "rounded_back" in faults else "fault_rep" if len(faults) else "good_rep")

    def set_complete(self) -> None:
        """The set is complete: all lamps flash, a fanfare, then green steady."""
        self._show("set_complete")

    def trouble(self, reason: str) -> None:
        """The camera is lost or the calibration is invalid: red steady until the next state call."""
        self._show("trouble", reason=str(reason))

    def mute(self, muted: bool = True) -> None:
        """Silence the buzzer (stopping any sound at once) or let it sound again."""
        self._check_open()
        self._muted = bool(muted)
        if self._muted:
            self._sound_line.play(_SILENCE)

    @property
    def muted(self) -> bool:
        return self._muted

    # --- the button --------------------------------------------------------------------

    @property
    def on_start_pause(self) -> Callable[[], None] | None:
        """Called after a short press of the button (see :class:`SetButton`)."""
        return self.button.on_start_pause

    @on_start_pause.setter
    def on_start_pause(self, callback: Callable[[], None] | None) -> None:
        self.button.on_start_pause = callback

    @property
    def on_end(self) -> Callable[[], None] | None:
        """Called once the button has been held for ``end_hold_s`` (see :class:`SetButton`)."""
        return self.button.on_end

    @on_end.setter
    def on_end(self, callback: Callable[[], None] | None) -> None:
        self.button.on_end = callback

    # --- what shows now ----------------------------------------------------------------

    def state(self) -> dict:
        """What the lamps and the buzzer show now, JSON-able, for virtual lights.

        Keys: ``pattern`` (the lamps' pattern name, None before the first
        call), ``colour`` ("red", "amber", "green", "red+amber", "all" or None),
        ``blinking`` (bool), ``lamps`` (each lamp's level now, 0..1),
        ``sound`` (bool, a note is playing), ``note`` and ``tone_hz`` (None
        when silent), ``muted`` (bool), ``reason`` (the trouble's reason, else None).
        """
        pattern = self._lamps_line.pattern if self._lamps_line else None
        levels, note = self._levels, self._note
        return {
            "pattern": pattern.name if pattern else None,
            "colour": pattern.colour if pattern else None,
            "blinking": pattern.blinking if pattern else False,
            "lamps": dict(zip(("red", "amber", "green"), levels)),
            "sound": note is not None,
            "note": note,
            "tone_hz": None if note is None else round(Tone(note).frequency, 1),
            "muted": self._muted,
            "reason": self._reason if pattern is not None and pattern.name == "trouble" else None,
        }

    # --- closing -----------------------------------------------------------------------

    def close(self) -> None:
        """Stop the patterns, turn the lamps and the buzzer off and release the pins."""
        for line, dark in ((self._lamps_line, _DARK), (self._sound_line, _SILENCE)):
            if line is not None:
                line.play(dark)
                line.close()
        self._lamps_line = self._sound_line = None
        self._close_devices()

    def __enter__(self) -> "Feedback":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # --- internals ---------------------------------------------------------------------

    def _own(self, device):
        self._devices.append(device)
        return device

    def _close_devices(self) -> None:
        while self._devices:
            self._devices.pop().close()

    def _show(self, name: str, reason: str | None = None) -> None:
        self._check_open()
        self._reason = reason
        self._lamps_line.play(_LAMPS[name])
        if name in _SOUNDS:
            self._sound(name)

    def _sound(self, name: str) -> None:
        self._check_open()
        if not self._muted:
            self._sound_line.play(_SOUNDS[name])

    def _check_open(self) -> None:
        if self._lamps_line is None:
            raise DeviceClosed("the feedback lamps and buzzer are closed")

    def _write_lamps(self, levels: tuple[float, float, float]) -> None:
        red, amber, green = levels
        self._lights.red.value = red
        self._lights.amber.value = amber
        self._lights.green.value = green
        self._levels = levels

    def _write_note(self, note: str | None) -> None:
        if note is None or self._muted:
            self._buzzer.stop()
            self._note = None
        else:
            self._buzzer.play(Tone(note))
            self._note = note
