"""A tiny client of systemd's notification protocol (``sd_notify``), standard library only.

Under ``Type=notify`` systemd starts the station with ``NOTIFY_SOCKET`` in its
environment: the path of a datagram socket (``/run/systemd/notify``) or, when
it starts with ``@``, a socket in Linux's abstract namespace. Each datagram is
newline-separated ``KEY=VALUE`` lines:

``READY=1``
    Start-up is over (the station sends it after its first depth frame); until
    then ``systemctl start`` waits, and ``TimeoutStartSec=`` applies.
``WATCHDOG=1``
    Still alive. With ``WatchdogSec=`` set, systemd kills and restarts a
    service that sends none for that long: the frame loop pings it, so a hung
    camera read ends in a restart instead of a frozen station.
``STATUS=text``
    One line shown by ``systemctl status``.
``STOPPING=1``
    Shutting down.

Outside systemd (a terminal, the tests, the demo) ``NOTIFY_SOCKET`` is unset
and every call is a no-op returning False, so callers never need an
``if systemd:`` branch. A message that cannot be delivered also returns False
rather than raising: the frame loop must not die because its supervisor went
away, and a supervisor that misses pings acts on that by itself. Nor does a
call ever wait: when the socket's queue is full the message is dropped (False).

Typical use in a frame loop::

    from station import systemd_notify

    heartbeat = systemd_notify.Heartbeat()
    for index, frame in enumerate(frames):
        if index == 0:
            systemd_notify.ready()
        heartbeat.beat()          # WATCHDOG=1, at most every half watchdog period
    systemd_notify.stopping()
"""

from __future__ import annotations

import os
import queue
import socket
import threading
import time
from typing import Callable

__all__ = ["Heartbeat", "notify", "ready", "status", "stopping", "watchdog", "watchdog_interval_s"]


def _address(value: str) -> str | None:
    """The socket address for ``NOTIFY_SOCKET``'s value; None for a kind this client does not speak."""
    if value.startswith("@"):
        # Abstract namespace: a leading NUL byte instead of the '@'.
        return "\0" + value[1:]
    if value.startswith("/"):
        return value
    # systemd 253+ can also hand out "vsock:CID:PORT" (for virtual machines);
    # a station never runs under that.
    return None


def notify(*lines: str) -> bool:
    """Send ``lines`` (``"KEY=VALUE"`` each) to systemd as one message.

    Returns
    -------
    bool
        True when the message was handed to the notification socket; False when
        there is none (``NOTIFY_SOCKET`` unset, as outside systemd), it cannot
        be reached, or its queue is full. It never blocks: the message is sent
        with ``MSG_DONTWAIT``, so a busy systemd cannot hold up the frame loop.

    Raises
    ------
    ValueError
        No lines, or a line that is not ``KEY=VALUE`` on one line.
    """
    if not lines:
        raise ValueError("notify needs at least one KEY=VALUE line, e.g. notify('READY=1')")
    for line in lines:
        if not isinstance(line, str) or "=" not in line or "\n" in line:
            raise ValueError(f"each notification line must be KEY=VALUE on one line, not {line!r}")
    value = os.environ.get("NOTIFY_SOCKET", "")
    if not value:
        return False
    address = _address(value)
    if address is None:
        return False
    message = "\n".join(lines).encode("utf-8")
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            # Never wait: a datagram socket whose receiver has a full queue (systemd busy
            # or stuck) would block the sender, and the sender is the frame loop.
            sock.sendto(message, socket.MSG_DONTWAIT, address)
    except BlockingIOError:
        return False  # the queue is full: not sent; the next ping will try again
    except OSError:
        return False
    return True


def ready(status_text: str | None = None) -> bool:
    """``READY=1``: start-up is complete (and optionally a status line with it)."""
    if status_text is None:
        return notify("READY=1")
    return notify("READY=1", _status_line(status_text))


def watchdog() -> bool:
    """``WATCHDOG=1``: the service is alive. Send it more often than ``WatchdogSec=``; see :class:`Heartbeat`."""
    return notify("WATCHDOG=1")


def status(text: str) -> bool:
    """``STATUS=text``: one line for ``systemctl status`` (line breaks become spaces)."""
    return notify(_status_line(text))


def stopping() -> bool:
    """``STOPPING=1``: the service is shutting down."""
    return notify("STOPPING=1")


def _status_line(text: str) -> str:
    return "STATUS=" + " ".join(str(text).split())


def watchdog_interval_s() -> float | None:
    """How often to send ``WATCHDOG=1``, in seconds: half of systemd's watchdog timeout.

    systemd sets ``WATCHDOG_USEC`` (the timeout in microseconds) and
    ``WATCHDOG_PID`` (the process it expects the pings from) when the unit has
    ``WatchdogSec=``; its documentation advises pinging at half the timeout.

    Returns
    -------
    float or None
        Seconds between pings; None when no watchdog is asked of this process
        (the variables are missing or invalid, or ``WATCHDOG_PID`` names another
        process, such as a parent that exec'd a child).
    """
    usec = os.environ.get("WATCHDOG_USEC", "")
    try:
        timeout_us = int(usec)
    except ValueError:
        return None
    if timeout_us <= 0:
        return None
    pid = os.environ.get("WATCHDOG_PID", "")
    if pid:
        try:
            if int(pid) != os.getpid():
                return None
        except ValueError:
            return None
    return timeout_us / 2e6


class Heartbeat:
    """Watchdog pings from a fast loop, sent no more often than needed.

    A frame loop runs at 15-30 frames a second; systemd needs a ping only every
    few seconds. ``beat()`` sends ``WATCHDOG=1`` when at least ``interval_s``
    has passed since the last one it sent (the first call always sends).

    Parameters
    ----------
    interval_s : float, optional
        Seconds between pings; by default half the watchdog timeout systemd
        set (:func:`watchdog_interval_s`), capped at 1 s so a ping is never
        late by much. With no watchdog asked for, ``beat()`` sends nothing.
    clock : callable, optional
        Monotonic seconds; for tests.
    """

    def __init__(self, interval_s: float | None = None, *, clock: Callable[[], float] = time.monotonic):
        if interval_s is None:
            asked = watchdog_interval_s()
            interval_s = None if asked is None else min(asked, 1.0)
        elif not isinstance(interval_s, (int, float)) or isinstance(interval_s, bool) or not interval_s > 0:
            raise ValueError(f"interval_s must be a number of seconds above 0, not {interval_s!r}")
        self.interval_s = interval_s
        self._clock = clock
        self._last: float | None = None

    def beat(self) -> bool:
        """Send ``WATCHDOG=1`` if it is due; True when one was sent."""
        if self.interval_s is None:
            return False
        now = self._clock()
        if self._last is not None and now - self._last < self.interval_s:
            return False
        self._last = now
        return watchdog()


#: How often the camera thread asks for a watchdog ping at most (s), or as often as systemd needs them if more
#: often; the notifier sends at most what systemd needs.
WATCHDOG_ASK_S = 0.25


class Notifier:
    """Sends systemd notifications on its own thread; the camera thread only queues them (never blocks)."""

    def __init__(self):
        self._queue: queue.Queue | None = None
        self._last_beat = float("-inf")
        self._ask_s = WATCHDOG_ASK_S
        if not os.environ.get("NOTIFY_SOCKET"):
            return  # not under systemd: every call is a no-op
        self._heartbeat = Heartbeat()
        if self._heartbeat.interval_s is not None:
            # A watchdog shorter than half a second needs pings more often than the camera thread asks by default.
            self._ask_s = min(WATCHDOG_ASK_S, self._heartbeat.interval_s)
        self._queue = queue.Queue(maxsize=16)
        self._thread = threading.Thread(target=self._run, name="session-notify", daemon=True)
        self._thread.start()

    def beat(self) -> None:
        """The loop is alive: a ``WATCHDOG=1`` when one is due."""
        now = time.monotonic()
        if now - self._last_beat >= self._ask_s:
            self._last_beat = now
            self._put("beat")

    def ready(self, text: str) -> None:
        self._put("ready", text)

    def status(self, text: str) -> None:
        self._put("status", text)

    def stopping(self) -> None:
        self._put("stopping")

    def close(self, timeout_s: float = 1.0) -> None:
        if self._queue is not None:
            self._put("close")
            self._thread.join(timeout_s)

    def _put(self, *item) -> None:
        if self._queue is not None:
            try:
                self._queue.put_nowait(item)
            except queue.Full:
                pass  # systemd is not reading: a later ping or status says the same

    def _run(self) -> None:
        while True:
            kind, *args = self._queue.get()
            if kind == "close":
                return
            if kind == "beat":
                self._heartbeat.beat()
            elif kind == "ready":
                ready(*args)
            elif kind == "status":
                status(*args)
            elif kind == "stopping":
                stopping()
