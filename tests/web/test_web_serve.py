"""Serving with waitress: real HTTP, log-in with cookies, the event stream through a real server."""

import http.client
import json
import re
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest

from support import PASSWORD, USERNAME, Serving


def _log_in(connection):
    body = urllib.parse.urlencode({"username": USERNAME, "password": PASSWORD})
    connection.request("POST", "/auth/login", body, {"Content-Type": "application/x-www-form-urlencoded"})
    response = connection.getresponse()
    response.read()
    assert response.status == 302
    return re.match(r"(wallhinge_session=[^;]+)", response.getheader("Set-Cookie")).group(1)


def test_pages_through_waitress(app, account, sample):
    with Serving(app) as served:
        connection = http.client.HTTPConnection("127.0.0.1", served.server.effective_port, timeout=10)
        connection.request("GET", "/")
        response = connection.getresponse()
        response.read()
        assert response.status == 302 and response.getheader("Server") == "wallhinge"
        cookie = _log_in(connection)
        connection.request("GET", f"/sessions/{sample['session']}", headers={"Cookie": cookie})
        response = connection.getresponse()
        assert response.status == 200 and b"Set 2" in response.read()
        connection.close()


def test_the_event_stream_through_waitress(app, account):
    app.config.update(LIVE_HEARTBEAT_S=0.1, LIVE_STREAM_MAX_S=30)
    feed = app.extensions["wallhinge_live"]
    with Serving(app) as served:
        connection = http.client.HTTPConnection("127.0.0.1", served.server.effective_port, timeout=10)
        cookie = _log_in(connection)
        connection.request("GET", "/live/events", headers={"Cookie": cookie, "Accept": "text/event-stream"})
        response = connection.getresponse()
        assert response.status == 200 and response.getheader("Content-Type").startswith("text/event-stream")

        def next_block():
            lines = []
            while True:
                line = response.readline().decode()
                if line in ("\n", "\r\n"):
                    if lines:
                        return lines
                    continue
                lines.append(line.rstrip("\n"))
                if line.startswith("retry:"):
                    lines = []

        state = next_block()
        assert "event: state" in state
        for _ in range(50):  # wait until the server's generator has subscribed
            if feed.subscribers:
                break
            time.sleep(0.02)
        feed.publish({"type": "rep", "rep": {"index": 1, "score": 100, "faults": []}})
        block = next_block()
        while block[0].startswith(":"):
            block = next_block()
        fields = dict(line.split(": ", 1) for line in block)
        assert fields["event"] == "rep" and json.loads(fields["data"])["rep"]["index"] == 1
        heartbeat = next_block()  # nothing more published: a comment keeps the line alive
        assert heartbeat == [": still here"]
    # Stopping the server ended the stream and freed the subscription.
    assert feed.subscribers == 0


def test_a_vanished_browser_frees_its_thread(app, account):
    app.config.update(LIVE_HEARTBEAT_S=0.05, LIVE_STREAM_MAX_S=30)
    feed = app.extensions["wallhinge_live"]
    with Serving(app) as served:
        connection = http.client.HTTPConnection("127.0.0.1", served.server.effective_port, timeout=10)
        cookie = _log_in(connection)
        connection.request("GET", "/live/events", headers={"Cookie": cookie})
        response = connection.getresponse()
        response.readline()
        for _ in range(50):
            if feed.subscribers:
                break
            time.sleep(0.02)
        assert feed.subscribers == 1
        response.fp.raw._sock.close()  # the browser's tab is gone without a goodbye
        response.close()
        for _ in range(100):  # the next heartbeat's write fails and waitress closes the generator
            if not feed.subscribers:
                break
            time.sleep(0.05)
        assert feed.subscribers == 0


def test_too_few_threads_for_the_live_pages_are_refused(app):
    from web.serve import make_server
    with pytest.raises(ValueError, match="threads must be more than LIVE_MAX_STREAMS"):
        make_server(app, "127.0.0.1", 0, threads=12)


def _open_streams_together(served, path, count, headers=None):
    """Open ``count`` event streams at the same instant; return the open responses and the statuses."""
    import threading
    barrier = threading.Barrier(count)
    results = [None] * count

    def open_one(k):
        connection = http.client.HTTPConnection("127.0.0.1", served.server.effective_port, timeout=10)
        barrier.wait()
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        if response.status != 200:
            response.read()
        results[k] = (connection, response)

    threads = [threading.Thread(target=open_one, args=(k,)) for k in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(15)
    return results


@pytest.mark.parametrize("path, cap", [("/kiosk/events", "KIOSK_MAX_STREAMS"), ("/live/events", "LIVE_MAX_STREAMS")])
def test_streams_opened_together_keep_to_the_cap_and_pages_still_load(app, account, path, cap):
    """N+5 streams opened at once: N are served, the rest get 503 at once, and a page still loads."""
    app.config.update(LIVE_HEARTBEAT_S=0.2, LIVE_STREAM_MAX_S=30)
    limit = int(app.config[cap])
    feed = app.extensions["wallhinge_live"]
    with Serving(app) as served:
        headers = {}
        if path.startswith("/live"):
            connection = http.client.HTTPConnection("127.0.0.1", served.server.effective_port, timeout=10)
            headers["Cookie"] = _log_in(connection)
            connection.close()
        results = _open_streams_together(served, path, limit + 5, headers)
        statuses = sorted(response.status for _, response in results)
        assert statuses == [200] * limit + [503] * 5
        assert feed.subscribers == limit
        for _ in range(3):  # with every stream held open, the pages and log-in still answer
            page = http.client.HTTPConnection("127.0.0.1", served.server.effective_port, timeout=5)
            page.request("GET", "/auth/login")
            response = page.getresponse()
            assert response.status == 200 and b"password" in response.read()
            page.close()
        for connection, _ in results:
            connection.close()
    assert feed.subscribers == 0


def test_a_stream_refused_or_never_read_leaves_no_subscription(app, account):
    from web.live_views import event_stream_response
    feed = app.extensions["wallhinge_live"]
    subscription = feed.subscribe(group="kiosk", limit=1)
    with app.test_request_context():
        response = event_stream_response(iter(()), subscription)
    response.close()  # what the server does when the browser left before the first byte
    assert feed.subscribers == 0


def test_python_m_web_help():
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-m", "web", "--help"], cwd=root, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0 and "--database" in result.stdout and "waitress" not in result.stderr
