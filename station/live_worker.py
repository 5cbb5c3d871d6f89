"""The session's live feed worker: publishes events and snapshots on its own thread, takes the dashboard's commands.

The camera thread never waits for it: events go on an append-only deque
(the oldest dropped after :data:`EVENT_BACKLOG` for a stalled publisher),
per-frame snapshots on a bounded queue with ``put_nowait``, dropped when it
is full, so a stalled browser costs snapshots, never frames or reps. Each
event is serialised once, by :meth:`station.events.LiveEvent.as_dict`, as it
is published; the lamps' state is filled in then. Listeners (the station's
voice, :class:`station.voice.CueVoice`) hear each event on this thread too,
after the publisher; they must not wait either.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from station.events import FrameEvent, LightsEvent, LiveEvent
from station.feedback import Feedback

__all__ = ["LiveWorker", "NullPublisher", "Publisher", "drain"]

log = logging.getLogger("station.session")

#: Live snapshots waiting to be published before new ones are dropped.
SNAPSHOT_BACKLOG = 16
#: Live events kept for a stalled publisher before the oldest are dropped.
EVENT_BACKLOG = 1000
#: How often the live worker asks the publisher for dashboard commands (s).
COMMAND_POLL_S = 0.1


def drain(waiting: queue.Queue | queue.SimpleQueue) -> list:
    """Everything in ``waiting`` now, oldest first, without waiting for more."""
    taken = []
    while True:
        try:
            taken.append(waiting.get_nowait())
        except queue.Empty:
            return taken


class Publisher(Protocol):
    """Where live events go: anything with ``publish(event: dict)`` (``web.live.LiveFeed``), each
    event as :meth:`station.events.LiveEvent.as_dict` serialises it."""

    def publish(self, event: dict) -> Any: ...


class NullPublisher:
    """Publishes nowhere: the session without a dashboard."""

    def publish(self, event: dict) -> None:
        return None


class LiveWorker:
    """Publishes events and snapshots on its own thread; the camera thread never waits for it."""

    def __init__(self, publisher, feedback: Feedback, commands: queue.SimpleQueue, *,
                 listeners: Sequence[Callable[[dict], Any]] = ()):
        self._publisher = publisher
        self._listeners = tuple(listeners)
        self._feedback = feedback
        self._commands = commands
        self._take_commands = getattr(publisher, "commands", None)
        if not callable(self._take_commands):
            self._take_commands = None
        self._events: collections.deque = collections.deque(maxlen=EVENT_BACKLOG)
        self._snapshots: queue.Queue = queue.Queue(maxsize=SNAPSHOT_BACKLOG)
        self._wake = threading.Event()
        self._stopping = False
        self.snapshots_dropped = 0
        self.events_dropped = 0
        self.publish_failures = 0
        self._thread = threading.Thread(target=self._run, name="session-live", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def event(self, event: LiveEvent) -> None:
        """Queue an event (never blocks; a publisher stalled for EVENT_BACKLOG events loses the oldest)."""
        if len(self._events) == EVENT_BACKLOG:
            self.events_dropped += 1
        self._events.append(event)
        self._wake.set()

    def snapshot(self, snapshot: FrameEvent) -> None:
        """Queue a snapshot, or drop it if the publisher is behind (never blocks)."""
        try:
            self._snapshots.put_nowait(snapshot)
        except queue.Full:
            self.snapshots_dropped += 1
            return
        self._wake.set()

    def stop(self, timeout_s: float = 2.0) -> None:
        """Publish what is queued, then end the thread (a publisher stuck longer than ``timeout_s`` is left)."""
        self._stopping = True
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                log.warning("the live feed did not take the last events within %g s", timeout_s)

    def _run(self) -> None:
        while True:
            if not self._stopping:
                self._wake.wait(COMMAND_POLL_S if self._take_commands else None)
                self._wake.clear()
            while True:
                try:
                    self._publish(self._events.popleft())
                except IndexError:
                    break
            for snapshot in drain(self._snapshots):
                self._publish(snapshot)
            if self._stopping:
                if not self._events:
                    return
                continue
            if self._take_commands is not None:
                self._forward_commands()

    def _publish(self, event: LiveEvent) -> None:
        if isinstance(event, (LightsEvent, FrameEvent)):
            event = dataclasses.replace(event, lights=self._feedback.state())
        serialised = event.as_dict()
        self._hand(self._publisher.publish, serialised, "the live feed")
        for listener in self._listeners:
            self._hand(listener, serialised, "a live listener")

    def _hand(self, take: Callable[[dict], Any], event: dict, who: str) -> None:
        try:
            take(event)
        except Exception:  # the dashboard's (or the voice's) problem must never end a session: say so and go on
            self.publish_failures += 1
            if self.publish_failures <= 3:
                log.warning("%s refused a %r event", who, event["type"], exc_info=True)

    def _forward_commands(self) -> None:
        try:
            commands = self._take_commands()
        except Exception:
            self.publish_failures += 1
            if self.publish_failures <= 3:
                log.warning("the live feed's commands could not be read", exc_info=True)
            return
        for command in commands or ():
            self._commands.put(("web", dict(command)))
