"""The live feed between the session loop and the dashboard, in one process.

The session loop (another thread of the station) *publishes* events; every
browser on the live page *subscribes* and gets them over server-sent events
(``/live/events``). The dashboard goes the other way: start, pause and end
buttons record *commands* that the session loop takes with :meth:`LiveFeed.commands`.

Nothing here blocks the publisher: each subscriber has its own bounded queue,
and when a browser stalls (a sleeping tablet, a slow network) its oldest
events are dropped, never the frame loop delayed. :meth:`LiveFeed.publish`
costs one ``json.dumps`` and one append per subscriber.

Events
------
An event is a dict with a ``type`` (text) and anything JSON can hold; the
station's are :mod:`station.events`' dataclasses serialised, and
:data:`station.events.EVENT_FIELDS` lists every type and its fields. These
types also update the snapshot that :meth:`LiveFeed.state` returns, which a
browser gets first when it connects:

``{"type": "session", "state": "running" | "paused" | "ended" | "idle", "session_id", "set_number", ...}``
    What the station is doing; the snapshot's ``session`` is the latest one.
    The live page also shows ``patient_name`` (or ``patient_code``, or
    ``patient_id``), ``good_reps_in_set`` and ``reps_per_set`` when present.
``{"type": "rep", "session_id", "set_number", "rep": Rep.as_dict()}``
    A rep just ended; the snapshot's ``latest_rep`` is the latest one.
``{"type": "lights", "lights": Feedback.state()}``
    What the lamps and the buzzer show (``station.feedback.Feedback.state``);
    any event that carries a ``lights`` dict updates the snapshot's ``lights``.
``{"type": "command", "command": ..., ...}``
    Published by :meth:`LiveFeed.command` itself, so every tablet sees who
    asked the station for what.

Other types are passed on to subscribers and kept as the latest of their
type in the snapshot's ``latest``; the live page follows ``frame`` (the
measures now: ``present``, ``wall_gap_mm``, ``trunk_angle_deg``,
``knee_flexion_deg``, and ``lights``), ``station`` (``state``, and
``reason`` when it is ``"trouble"``), ``patient`` (``present``) and
``set_complete`` (``set_number``, ``good_reps``, ``ready_to_progress``). Each published event gets ``seq`` (1, 2,
... in this process) and ``time`` (UTC ISO 8601) added to a copy; the
caller's dict is never changed.

Commands
--------
``{"command": "start", "patient_id": int | None}``, ``{"command": "pause"}``,
``{"command": "end"}`` and ``{"command": "assign", "patient_id": int | None}``
(the patient of the running session; None for a guest), each with ``by``
(the clinician's username), ``issued`` (UTC ISO 8601) and ``seq``. A command
older than ``max_age_s`` when taken is dropped: a "start" pressed while the
station was off must not start a session when it comes up an hour later.
"""

from __future__ import annotations

import collections
import datetime as _dt
import itertools
import json
import threading
import time
from typing import Iterator

from station.errors import FeedFull
from station.events import COMMANDS, CommandEvent

__all__ = ["COMMANDS", "FeedFull", "LiveFeed", "Subscription"]

_SNAPSHOT_TYPES = ("session", "rep", "lights")


def _now_text() -> str:
    now = _dt.datetime.now(_dt.timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


class Subscription:
    """One subscriber's bounded queue of encoded events; iterate it, or call :meth:`get`.

    Made by :meth:`LiveFeed.subscribe`; use it as a context manager (or call
    :meth:`close`) so the feed forgets it when the browser goes away.

    Attributes
    ----------
    dropped : int
        Events dropped because this subscriber's queue was full.
    """

    def __init__(self, feed: "LiveFeed", max_queue: int, group: str = ""):
        self._feed = feed
        self.group = group
        self._queue: collections.deque = collections.deque(maxlen=max_queue)
        self._ready = threading.Condition()
        self._closed = False
        self.dropped = 0

    def _put(self, item: tuple[int, str, str]) -> None:
        with self._ready:
            if len(self._queue) == self._queue.maxlen:
                self.dropped += 1  # the deque drops the oldest itself
            self._queue.append(item)
            self._ready.notify()

    def get(self, timeout: float | None = None) -> tuple[int, str, str] | None:
        """The next ``(seq, type, json_text)``, or None after ``timeout`` seconds (or once closed)."""
        with self._ready:
            if not self._queue and not self._closed:
                self._ready.wait(timeout)
            return self._queue.popleft() if self._queue else None

    def close(self) -> None:
        """Stop receiving events; a waiting :meth:`get` returns None at once. Safe to call twice."""
        self._feed._unsubscribe(self)
        with self._ready:
            self._closed = True
            self._ready.notify_all()

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


class LiveFeed:
    """Events from the session loop to the browsers, commands from the browsers to the loop.

    Thread-safe. See the module's docs for the event and command shapes.

    Parameters
    ----------
    max_queue : int
        Events kept per subscriber before the oldest are dropped.
    max_commands : int
        Commands kept until the session loop takes them; the oldest are
        dropped beyond this.
    """

    def __init__(self, *, max_queue: int = 64, max_commands: int = 32):
        for name, value in (("max_queue", max_queue), ("max_commands", max_commands)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a whole number of at least 1, not {value!r}")
        self._max_queue = max_queue
        self._lock = threading.Lock()
        self._subscribers: set[Subscription] = set()
        self._seq = itertools.count(1)
        self._last_seq = 0
        self._updated: str | None = None
        self._session: dict | None = None
        self._latest_rep: dict | None = None
        self._lights: dict | None = None
        self._latest: dict[str, dict] = {}
        self._commands: collections.deque = collections.deque(maxlen=max_commands)

    # -- events, from the session loop

    def publish(self, event: dict) -> dict:
        """Send an event to every subscriber without waiting; return it with ``seq`` and ``time``.

        Raises
        ------
        ValueError
            ``event`` is not a dict with a text ``type``, or JSON cannot hold
            it (NaN and infinities included).
        """
        if not isinstance(event, dict) or not isinstance(event.get("type"), str) or not event["type"]:
            raise ValueError(f"an event is a dict with a text 'type', not {event!r:.80}")
        with self._lock:
            stamped = {**event, "seq": next(self._seq), "time": _now_text()}
            try:
                text = json.dumps(stamped, allow_nan=False, separators=(",", ":"))
            except (TypeError, ValueError) as error:
                raise ValueError(f"event {event['type']!r} cannot be sent as JSON: {error}") from None
            self._remember(stamped)
            # Handed over under the lock, so every subscriber gets the events in seq order even when
            # several threads publish at once (each put is an append under the subscriber's own lock).
            item = (stamped["seq"], stamped["type"], text)
            for subscriber in self._subscribers:
                subscriber._put(item)
        return stamped

    def _remember(self, event: dict) -> None:
        kind = event["type"]
        self._last_seq, self._updated = event["seq"], event["time"]
        if kind == "session":
            self._session = event
        elif kind == "rep":
            self._latest_rep = event
        if isinstance(event.get("lights"), dict):
            self._lights = event["lights"]
        if kind not in _SNAPSHOT_TYPES:
            self._latest[kind] = event

    def state(self) -> dict:
        """The latest snapshot: what a browser shows before the next event arrives.

        Keys: ``seq`` (of the latest event, 0 before any), ``updated`` (its
        time, None before any), ``session`` and ``latest_rep`` (the latest
        such events, or None), ``lights`` (the latest lights dict, or None),
        ``latest`` (the latest event of each other type), ``subscribers``.
        """
        with self._lock:
            return json.loads(self._state_text())

    def _state_text(self) -> str:
        return json.dumps({
            "seq": self._last_seq, "updated": self._updated, "session": self._session,
            "latest_rep": self._latest_rep, "lights": self._lights, "latest": self._latest,
            "subscribers": len(self._subscribers),
        }, separators=(",", ":"))

    # -- subscribers, the browsers

    def subscribe(self, *, max_queue: int | None = None, group: str = "", limit: int | None = None) -> Subscription:
        """A new :class:`Subscription`: first the snapshot, then every event published after it.

        The snapshot (``(seq, "state", json_text)`` of :meth:`state`) is
        taken in the same step as subscribing, so no event falls between.

        ``group`` names who subscribes (``"live"``, ``"kiosk"``); with
        ``limit``, at most that many of the group's subscriptions are open at
        once: the count and the subscribing are one step under the feed's
        lock, so requests arriving together can never all slip in.

        Raises
        ------
        FeedFull
            ``limit`` of the group's subscriptions are open already.
        """
        subscription = Subscription(self, max_queue or self._max_queue, group)
        with self._lock:
            if limit is not None and sum(1 for other in self._subscribers if other.group == group) >= limit:
                raise FeedFull(f"{limit} {group or 'feed'} streams are open already")
            self._subscribers.add(subscription)
            subscription._put((self._last_seq, "state", self._state_text()))
        return subscription

    def close(self) -> None:
        """End every subscription (each browser's stream ends at once), e.g. when the server stops."""
        with self._lock:
            subscriptions = list(self._subscribers)
        for subscription in subscriptions:
            subscription.close()

    @property
    def subscribers(self) -> int:
        """How many subscriptions are open now."""
        with self._lock:
            return len(self._subscribers)

    def open_streams(self, group: str) -> int:
        """How many of a group's subscriptions are open now."""
        with self._lock:
            return sum(1 for subscription in self._subscribers if subscription.group == group)

    def _unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            self._subscribers.discard(subscription)

    def events(self, *, heartbeat_s: float = 15.0, max_s: float | None = None,
               subscription: Subscription | None = None) -> Iterator[tuple[int, str, str] | None]:
        """Subscribe and yield ``(seq, type, json_text)``: the snapshot (type ``state``), then each event.

        Yields None after ``heartbeat_s`` of quiet. ``subscription``, if
        given, is one :meth:`subscribe` made already (e.g. under a limit,
        before the response started); it is closed at the end all the same.

        Stops after ``max_s`` seconds if given, or when :meth:`close` ends the
        subscription. Closing the generator (the server does when the browser
        goes away) unsubscribes.
        """
        deadline = None if max_s is None else time.monotonic() + max_s
        with subscription or self.subscribe() as subscription:
            while True:
                wait = heartbeat_s
                if deadline is not None:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return
                    wait = min(wait, left)
                item = subscription.get(timeout=wait)
                if item is None and subscription.closed:
                    return
                yield item

    # -- commands, from the dashboard to the session loop

    def command(self, name: str, *, by: str, **fields) -> dict:
        """Record a command for the session loop and tell the browsers; return it.

        Raises
        ------
        ValueError
            An unknown command, or a field it does not take.
        """
        if name not in COMMANDS:
            raise ValueError(f"unknown command {name!r}; known: {', '.join(COMMANDS)}")
        unknown = sorted(set(fields) - set(COMMANDS[name]))
        if unknown:
            raise ValueError(f"the command {name!r} takes no {unknown[0]!r}")
        event = CommandEvent(command=name, by=by, **fields).as_dict()
        published = self.publish(event)
        command = {key: value for key, value in event.items() if key != "type"}
        command.update(seq=published["seq"], issued=published["time"])
        with self._lock:
            self._commands.append((time.monotonic(), command))
        return dict(command)

    def commands(self, *, max_age_s: float = 30.0) -> list[dict]:
        """Take every command not yet taken, oldest first, dropping those older than ``max_age_s``.

        Never blocks: the session loop calls it once per frame or so.
        """
        now = time.monotonic()
        with self._lock:
            taken = list(self._commands)
            self._commands.clear()
        return [dict(command) for issued, command in taken if now - issued <= max_age_s]
