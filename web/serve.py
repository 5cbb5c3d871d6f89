"""Serving the dashboard with waitress, a production WSGI server in pure Python that runs on the Pi.

Flask's own ``flask run`` server is for development only (Flask's docs say
so, and it prints a warning saying so); the station uses :func:`serve`.

Threads: waitress answers each request on one of a fixed pool of threads
(its default is 4). An open live page or kiosk screen holds one thread for
as long as its event stream is open, so the pool must be larger than the
streams allowed (``LIVE_MAX_STREAMS``, default 6, plus ``KIOSK_MAX_STREAMS``,
default 3; a stream over the cap gets 503 at once) plus :data:`PAGE_THREADS`
kept for every other page, log-in included; :func:`serve` defaults to 16
threads and refuses a pool too small for that.

The proxy: behind HTTPS, nginx on this machine passes the tablets' requests
to waitress from 127.0.0.1 with ``X-Forwarded-For`` and ``X-Forwarded-Proto``
(``deploy/templates/nginx-wallhinge.conf``). waitress trusts those headers
from :data:`TRUSTED_PROXY` only (its ``trusted_proxy`` settings) and turns
them into the request's ``REMOTE_ADDR`` and scheme, so the app sees the
tablet's own address and HTTPS; it drops them from any other peer. Without
this every request through nginx would look like the station's own screen
(a loopback address) to the kiosk's access check.
"""

from __future__ import annotations

import logging
import threading

from flask import Flask
from waitress import wasyncore
from waitress.server import create_server

__all__ = ["make_server", "serve", "stop"]

DEFAULT_THREADS = 16
#: Threads that the event streams can never take: the pages and log-in always have these.
PAGE_THREADS = 4

#: The one peer whose forwarding headers are believed: nginx on this machine.
TRUSTED_PROXY = "127.0.0.1"
#: The forwarding headers nginx sets (and waitress then trusts); nginx overwrites both on every request.
TRUSTED_PROXY_HEADERS = ("x-forwarded-for", "x-forwarded-proto")
#: How many proxies stand between the client and waitress: nginx alone.
TRUSTED_PROXY_COUNT = 1


def make_server(app: Flask, host: str = "127.0.0.1", port: int = 8080, *, threads: int = DEFAULT_THREADS,
                **options):
    """A waitress server for the app, listening but not yet running: call ``.run()`` (or use :func:`serve`).

    Parameters
    ----------
    host : str
        Address to listen on: ``127.0.0.1`` for this machine only (the
        default), ``0.0.0.0`` for the clinic's network.
    port : int
        TCP port; 0 picks a free one (``server.effective_port`` tells).
    threads : int
        Worker threads; at least the app's event streams plus :data:`PAGE_THREADS`.
    options
        Other waitress settings (``url_scheme="https"`` behind a TLS proxy,
        ``channel_timeout`` ...). The trusted proxy defaults to
        :data:`TRUSTED_PROXY` with its headers (``trusted_proxy=None`` turns
        it off).
    """
    streams = int(app.config["LIVE_MAX_STREAMS"]) + int(app.config["KIOSK_MAX_STREAMS"])
    if threads < streams + PAGE_THREADS:
        raise ValueError(f"threads must be more than LIVE_MAX_STREAMS + KIOSK_MAX_STREAMS ({streams}) by at least "
                         f"{PAGE_THREADS}, not {threads}: each open live page or kiosk holds a thread")
    options.setdefault("ident", "wallhinge")
    if "trusted_proxy" not in options:
        options.update(trusted_proxy=TRUSTED_PROXY, trusted_proxy_headers=set(TRUSTED_PROXY_HEADERS),
                       trusted_proxy_count=TRUSTED_PROXY_COUNT)
    elif options["trusted_proxy"] is None:
        del options["trusted_proxy"]
    return create_server(app, host=host, port=port, threads=threads, **options)


def stop(server, app: Flask | None = None, *, timeout_s: float = 5.0) -> None:
    """Stop a running server made by :func:`make_server` from another thread.

    In order: end the live streams (their threads would otherwise wait for
    the next heartbeat), let the worker threads finish what they are
    sending, then close every socket from inside the server's own loop (a
    thunk on its trigger, so the loop is never pulled from under itself).
    """
    if app is not None and "wallhinge_live" in app.extensions:
        app.extensions["wallhinge_live"].close()
    server.task_dispatcher.shutdown(timeout=timeout_s)
    closed = threading.Event()

    def close_everything():
        wasyncore.close_all(server._map, ignore_all=True)  # an empty map ends server.run()
        closed.set()

    try:
        server.trigger.pull_trigger(close_everything)
    except OSError:
        # Another pull woke the loop between queueing the thunk and this
        # write, and the thunk already closed the trigger: fine.
        pass
    if not closed.wait(timeout_s):
        raise RuntimeError(f"the dashboard's server did not stop within {timeout_s:g} s")


def serve(app: Flask, host: str = "127.0.0.1", port: int = 8080, *, threads: int = DEFAULT_THREADS,
          ready: threading.Event | None = None, **options) -> None:
    """Serve the app until interrupted (Ctrl-C, or SIGTERM turned into KeyboardInterrupt).

    ``ready``, if given, is set once the server listens (e.g. for a demo
    that then prints the address).
    """
    logging.basicConfig(level=logging.INFO)
    server = make_server(app, host, port, threads=threads, **options)
    app.logger.info("dashboard on http://%s:%s/ (%s threads)", server.effective_host, server.effective_port,
                    threads)
    if ready is not None:
        ready.set()
    try:
        server.run()  # returns on Ctrl-C (waitress catches KeyboardInterrupt)
    finally:
        app.extensions["wallhinge_live"].close()
        wasyncore.close_all(server._map, ignore_all=True)
        server.task_dispatcher.shutdown()
