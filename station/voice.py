"""The station's voice: phrases spoken with espeak-ng, one at a time, beside the lamps and the buzzer.

:class:`Speaker` speaks phrases through the machine's own audio output
with espeak-ng (Debian's ``espeak-ng`` package), run as a subprocess on a
worker thread: :meth:`Speaker.say` only hands the phrase over and returns
at once, so nothing that calls it ever waits for a voice. One phrase is
spoken at a time, and while one is being spoken only the newest phrase
waits: a phrase overtaken by a newer one is never said, so the voice never
lags behind the wall. Muted, it says nothing and drops what was waiting.
Where espeak-ng is missing, or cannot reach a sound card, it says so once
in the log and carries on silently.

What is said follows the live events by the rules of :mod:`station.cues`
(the good-rep count, a new correction, "Set complete"): :class:`CueVoice`
hears the events the session publishes (``wallhinge run`` turns it on with
``station.speech``), so a station without the web has a voice too, and the
kiosk shows the same cues.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable

from station.cues import CueCaller

__all__ = ["DEFAULT_VOICE", "DEFAULT_WORDS_PER_MINUTE", "CueVoice", "Speaker", "check_voice", "open_voice"]

#: espeak-ng's voice and speaking rate unless the settings say otherwise (espeak-ng's own rate, 175, is a
#: little quick for the room).
DEFAULT_VOICE, DEFAULT_WORDS_PER_MINUTE = "en-gb", 140
#: Longest a stopping station waits for its voice to finish the last cue ("Set complete"), in seconds.
FINISH_S = 3.0

log = logging.getLogger(__name__)


def check_voice(*, voice: str, words_per_minute: int, amplitude: int = 150) -> None:
    """ValueError, naming the option, unless espeak-ng takes these (the settings check them with this too)."""
    for name, value, low, high in (("words_per_minute", words_per_minute, 80, 450),
                                   ("amplitude", amplitude, 0, 200)):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"{name} must be a whole number from {low} to {high}, not {value!r}")
    if not isinstance(voice, str) or not voice or voice.startswith("-"):
        raise ValueError(f"voice must be an espeak-ng voice name such as 'en-gb', not {voice!r}")


class Speaker:
    """Speaks one phrase at a time with espeak-ng on a worker thread; see the module's docs.

    Parameters
    ----------
    command : str
        The synthesiser's program, looked up on ``PATH`` now.
    voice : str
        An espeak-ng voice (``espeak-ng --voices=en`` lists them).
    words_per_minute : int
        Speaking rate; espeak-ng's own default is 175, a little quick for the room.
    amplitude : int
        Loudness, 0 to 200 (espeak-ng's default is 100).
    timeout_s : float
        Longest a phrase may take before espeak-ng is stopped (s).
    muted : bool
        Start muted.
    """

    def __init__(self, *, command: str = "espeak-ng", voice: str = DEFAULT_VOICE,
                 words_per_minute: int = DEFAULT_WORDS_PER_MINUTE, amplitude: int = 150, timeout_s: float = 15.0,
                 muted: bool = False):
        check_voice(voice=voice, words_per_minute=words_per_minute, amplitude=amplitude)
        self._program = shutil.which(command)
        if self._program is None:
            log.warning("%s is not installed (sudo apt-get install espeak-ng): the station's cues are not spoken",
                        command)
        self._arguments = ["-v", voice, "-s", str(words_per_minute), "-a", str(amplitude)]
        self._timeout_s = float(timeout_s)
        self._muted = bool(muted)
        self._pending: str | None = None
        self._busy = False
        self._closed = False
        self._process: subprocess.Popen | None = None
        self._ready = threading.Condition()
        self._thread: threading.Thread | None = None
        self._complained = False
        self.spoken = 0  #: phrases handed to espeak-ng so far
        self.dropped = 0  #: phrases overtaken by a newer one before they were spoken

    @property
    def available(self) -> bool:
        """espeak-ng was found."""
        return self._program is not None

    @property
    def muted(self) -> bool:
        return self._muted

    def mute(self) -> None:
        """Say nothing more (the phrase being spoken ends by itself); drop what was waiting."""
        with self._ready:
            self._muted = True
            if self._pending is not None:
                self.dropped += 1
                self._pending = None

    def unmute(self) -> None:
        with self._ready:
            self._muted = False

    def say(self, text: str) -> bool:
        """Speak ``text`` once the voice is free (replacing any phrase still waiting); False if it never will be.

        Never blocks. Returns False when muted, closed, or without espeak-ng.
        """
        text = " ".join(str(text).split())[:200]
        if not text:
            return False
        with self._ready:
            if self._muted or self._closed or self._program is None:
                return False
            if self._pending is not None:
                self.dropped += 1
            self._pending = text
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="speaker", daemon=True)
                self._thread.start()
            self._ready.notify()
        return True

    def idle(self, timeout_s: float | None = None) -> bool:
        """Wait until nothing is being spoken or waiting (tests, shutting down); False on timeout."""
        with self._ready:
            return self._ready.wait_for(lambda: self._pending is None and not self._busy, timeout_s)

    def close(self, timeout_s: float = 2.0) -> None:
        """Stop speaking (the phrase being said is cut off) and end the worker; safe to call twice."""
        with self._ready:
            self._closed = True
            self._pending = None
            process = self._process
            self._ready.notify_all()
        if process is not None and process.poll() is None:
            _stop(process)
        if self._thread is not None:
            self._thread.join(timeout_s)

    def _run(self) -> None:
        while True:
            with self._ready:
                self._ready.wait_for(lambda: self._pending is not None or self._closed)
                if self._closed:
                    return
                text, self._pending, self._busy = self._pending, None, True
            try:
                self._speak(text)
            finally:
                with self._ready:
                    self._busy = False
                    self._process = None
                    self._ready.notify_all()

    def _speak(self, text: str) -> None:
        try:
            process = subprocess.Popen([self._program, *self._arguments, text], stdin=subprocess.DEVNULL,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                       start_new_session=True)
        except OSError as error:
            self._complain(f"cannot run {self._program} ({error.strerror or error})")
            return
        with self._ready:
            self._process = process
            closed = self._closed
        if closed:
            _stop(process)  # close() came while espeak-ng was starting, and saw no process to stop
        self.spoken += 1
        try:
            _, errors = process.communicate(timeout=self._timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            self._complain(f"{self._program} took over {self._timeout_s:g} s to say {text!r} and was stopped")
            return
        # Without a sound card espeak-ng prints ALSA errors and still exits 0.
        if process.returncode not in (0, -15) or "error" in (errors or "").lower():
            first = next((line for line in (errors or "").splitlines() if "error" in line.lower()), "")
            why = f"exit {process.returncode}" + (f": {first}" if first else "")
            self._complain(f"{self._program} could not speak ({why}); check the station's sound output (aplay -l)")

    def _complain(self, message: str) -> None:
        if not self._complained:
            self._complained = True
            log.warning("%s: going on without a voice", message)


def _stop(process: subprocess.Popen) -> None:
    """Cut espeak-ng short: its whole process group (a wrapper script's children too)."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass  # it had just ended


class CueVoice:
    """Says the cues of the live events through a :class:`Speaker`: the station's voice beside its lamps.

    :meth:`hear` takes each event as the session publishes it
    (``LiveEvent.as_dict()``) and never waits: the phrase (by
    :class:`station.cues.CueCaller`) goes to the speaker, which speaks on
    its own thread.

    Parameters
    ----------
    speaker : Speaker
    enabled : callable, optional
        Asked before each phrase: speak it or not (the kiosk's switch when
        the dashboard runs in the station); always on if None.
    caller : CueCaller, optional
        The phrase rules with their state (a fresh one if None).
    """

    def __init__(self, speaker: Speaker, *, enabled: Callable[[], bool] | None = None,
                 caller: CueCaller | None = None, clock: Callable[[], float] = time.monotonic):
        self.speaker = speaker
        self._enabled = enabled or (lambda: True)
        self._caller = caller or CueCaller()
        self._clock = clock

    def hear(self, event: dict) -> None:
        phrase = self._caller.phrase(event, self._clock())
        if phrase is not None and self._enabled():
            self.speaker.say(phrase)

    def close(self, finish_s: float = FINISH_S) -> None:
        """Let the phrase being said end (at most ``finish_s`` seconds), then close the speaker."""
        self.speaker.idle(finish_s)
        self.speaker.close()


def open_voice(station, *, enabled: Callable[[], bool] | None = None) -> CueVoice | None:
    """The station's voice as its settings (:class:`station.settings.StationSettings`) say, or None with speech off."""
    if not station.speech:
        return None
    return CueVoice(Speaker(voice=station.speech_voice, words_per_minute=station.speech_words_per_minute),
                    enabled=enabled)
