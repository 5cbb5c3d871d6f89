"""station.systemd_notify against real AF_UNIX datagram sockets, as systemd's own."""

import os
import socket
import threading
import time
import uuid

import pytest

from station import systemd_notify


@pytest.fixture
def no_systemd(monkeypatch):
    for name in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def notify_socket(tmp_path, monkeypatch, no_systemd):
    """A bound datagram socket at a path, announced in NOTIFY_SOCKET; yields a receive function."""
    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(2.0)
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    yield lambda: sock.recv(4096).decode()
    sock.close()


def test_ready_and_watchdog_arrive(notify_socket):
    assert systemd_notify.ready() is True
    assert notify_socket() == "READY=1"
    assert systemd_notify.watchdog() is True
    assert notify_socket() == "WATCHDOG=1"


def test_status_stopping_and_several_lines(notify_socket):
    assert systemd_notify.status("camera on USB 3.2\nwaiting for a patient")
    assert notify_socket() == "STATUS=camera on USB 3.2 waiting for a patient"
    assert systemd_notify.ready("first frame")
    assert notify_socket() == "READY=1\nSTATUS=first frame"
    assert systemd_notify.stopping()
    assert notify_socket() == "STOPPING=1"
    assert systemd_notify.notify("EXTEND_TIMEOUT_USEC=30000000", "STATUS=calibrating")
    assert notify_socket() == "EXTEND_TIMEOUT_USEC=30000000\nSTATUS=calibrating"


def test_abstract_namespace_socket(monkeypatch, no_systemd):
    name = f"wallhinge-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(2.0)
        monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
        assert systemd_notify.ready() is True
        assert sock.recv(4096) == b"READY=1"


def test_no_op_outside_systemd(no_systemd):
    assert systemd_notify.notify("READY=1") is False
    assert systemd_notify.ready() is False
    assert systemd_notify.watchdog() is False
    assert systemd_notify.status("x") is False
    assert systemd_notify.stopping() is False


def test_unreachable_or_foreign_socket_is_false_not_an_error(tmp_path, monkeypatch, no_systemd):
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "nobody-listens.sock"))
    assert systemd_notify.watchdog() is False
    monkeypatch.setenv("NOTIFY_SOCKET", "vsock:2:1234")
    assert systemd_notify.watchdog() is False


def test_a_full_queue_never_blocks_the_caller(tmp_path, monkeypatch, no_systemd):
    # A receiver that reads nothing, as a systemd that is busy or stuck: its
    # queue fills after a few datagrams (net.unix.max_dgram_qlen), and a
    # blocking send would then wait for good.
    path = tmp_path / "stuck.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as stuck:
        stuck.bind(str(path))
        monkeypatch.setenv("NOTIFY_SOCKET", str(path))
        results, took = [], []

        def ping_until_refused():
            for _ in range(100_000):
                started = time.monotonic()
                results.append(systemd_notify.watchdog())
                took.append(time.monotonic() - started)
                if not results[-1]:
                    break

        pinger = threading.Thread(target=ping_until_refused, daemon=True)
        pinger.start()
        pinger.join(10.0)
        blocked = pinger.is_alive()
    pinger.join(5.0)  # closing the receiver wakes a blocked send, if any
    assert not blocked, f"notify blocked on a full queue after {len(results)} messages"
    assert results[0] is True and results[-1] is False  # sent until the queue was full, then "not sent"
    assert max(took) < 1.0


@pytest.mark.parametrize("lines", [(), ("READY",), ("READY=1\nWATCHDOG=1",), (b"READY=1",)])
def test_malformed_messages_are_refused(lines, no_systemd):
    with pytest.raises(ValueError):
        systemd_notify.notify(*lines)


def test_watchdog_interval(monkeypatch, no_systemd):
    assert systemd_notify.watchdog_interval_s() is None
    monkeypatch.setenv("WATCHDOG_USEC", "10000000")
    assert systemd_notify.watchdog_interval_s() == pytest.approx(5.0)
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    assert systemd_notify.watchdog_interval_s() == pytest.approx(5.0)
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid() + 1))
    assert systemd_notify.watchdog_interval_s() is None
    monkeypatch.setenv("WATCHDOG_PID", "not-a-pid")
    assert systemd_notify.watchdog_interval_s() is None
    monkeypatch.delenv("WATCHDOG_PID")
    for bad in ("0", "-5", "ten", ""):
        monkeypatch.setenv("WATCHDOG_USEC", bad)
        assert systemd_notify.watchdog_interval_s() is None


def test_heartbeat_sends_at_most_once_per_interval(notify_socket):
    now = [100.0]
    heartbeat = systemd_notify.Heartbeat(2.0, clock=lambda: now[0])
    assert heartbeat.beat() is True
    assert notify_socket() == "WATCHDOG=1"
    now[0] += 1.9
    assert heartbeat.beat() is False
    now[0] += 0.1
    assert heartbeat.beat() is True
    assert notify_socket() == "WATCHDOG=1"


def test_heartbeat_follows_systemds_watchdog(monkeypatch, notify_socket):
    monkeypatch.setenv("WATCHDOG_USEC", "10000000")
    assert systemd_notify.Heartbeat().interval_s == 1.0  # half of 10 s, capped at 1 s
    monkeypatch.setenv("WATCHDOG_USEC", "1000000")
    assert systemd_notify.Heartbeat().interval_s == 0.5
    monkeypatch.delenv("WATCHDOG_USEC")
    idle = systemd_notify.Heartbeat()
    assert idle.interval_s is None and idle.beat() is False


@pytest.mark.parametrize("interval", [0, -1.0, True, "2"])
def test_heartbeat_refuses_bad_intervals(interval):
    with pytest.raises(ValueError):
        systemd_notify.Heartbeat(interval)


def test_the_session_notifier_pings_as_often_as_a_short_watchdog_needs(monkeypatch, notify_socket):
    # systemd asks for a ping every 0.1 s (WatchdogSec=0.2): the camera thread's default of one ask every
    # 0.25 s would let the watchdog fire. (The session's replay test met it: 2 pings where 3 were due.)
    monkeypatch.setenv("WATCHDOG_USEC", "200000")
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    notifier = systemd_notify.Notifier()
    try:
        started = time.monotonic()
        while time.monotonic() - started < 0.45:  # a frame loop at about 100 frames a second
            notifier.beat()
            time.sleep(0.01)
    finally:
        notifier.close()
    pings = []
    try:
        while True:
            pings.append(notify_socket())
    except socket.timeout:
        pass
    assert pings.count("WATCHDOG=1") >= 4  # at 0, 0.1, 0.2, 0.3, 0.4 s; two with the old asks
