"""The kiosk's spoken cues: the station's voice (:class:`station.voice.Speaker`) follows the live feed.

:class:`SpokenCues` follows a :class:`~web.live.LiveFeed` on its own thread
through a :class:`~web.kiosk.view.KioskView` (the very rules the kiosk page
shows: the count after a good rep, a cue when the coach picks a new one,
"Set complete" at the end) and hands each phrase to a
:class:`~station.voice.Speaker`, as long as the kiosk settings have spoken
cues on. :func:`start` wires both to an app (``KIOSK_SPEECH``; see
:mod:`web.kiosk`).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable

from station.voice import Speaker
from web.kiosk.view import KioskView

__all__ = ["SpokenCues", "start"]


class SpokenCues:
    """Follows a live feed and speaks what the kiosk decides; see the module's docs.

    Parameters
    ----------
    feed : web.live.LiveFeed
    speaker : Speaker
    enabled : callable, optional
        Asked before each phrase: speak it or not (the kiosk settings' switch).
    """

    def __init__(self, feed, speaker: Speaker, *, enabled: Callable[[], bool] | None = None,
                 view: KioskView | None = None):
        self._feed = feed
        self.speaker = speaker
        self._enabled = enabled or (lambda: True)
        self._view = view or KioskView()
        self._stop = threading.Event()
        self._subscription = None
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="spoken-cues", daemon=True)

    def start(self) -> SpokenCues:
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 2.0) -> None:
        """Stop following the feed (the speaker stays open: close it yourself)."""
        self._stop.set()
        with self._lock:
            subscription = self._subscription
        if subscription is not None:
            subscription.close()
        self._thread.join(timeout_s)

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._feed.subscribe() as subscription:
                with self._lock:
                    self._subscription = subscription
                if self._stop.is_set():
                    return
                while True:
                    item = subscription.get(timeout=0.5)
                    if item is None:
                        if subscription.closed:
                            break
                        continue
                    _, kind, text = item
                    for name, payload in self._view.apply(kind, json.loads(text), time.monotonic()):
                        if name == "say" and self._enabled():
                            self.speaker.say(payload["text"])
            # The feed was closed (the server stopping): follow it again in a moment, unless stopping too.
            self._stop.wait(1.0)


def start(app) -> SpokenCues:
    """Speak the app's live feed with espeak-ng while the kiosk settings have spoken cues on."""
    config = app.config
    speaker = Speaker(command=config.get("KIOSK_ESPEAK", "espeak-ng"), voice=config.get("KIOSK_VOICE", "en-gb"),
                      words_per_minute=int(config.get("KIOSK_SPEECH_WPM", 140)))
    settings = app.extensions["wallhinge_kiosk"]
    cues = SpokenCues(app.extensions["wallhinge_live"], speaker, enabled=lambda: settings.read()["speech"]).start()
    app.extensions["wallhinge_speech"] = cues
    return cues
