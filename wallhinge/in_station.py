"""The dashboard and kiosk inside the station's own process.

The live page and the kiosk follow the station through
``app.extensions["wallhinge_live"]`` (:class:`web.live.LiveFeed`), an
in-process feed: so ``wallhinge run`` (and the demo) serve the web app on
threads of the station's process and hand that feed to the session loop as
its publisher. The session loop never imports the web app; only the
command-line entry points put the two together. The station's own voice
(``station.speech``) speaks the cues here, asking the kiosk page's switch
(:attr:`StationDashboard.speech_enabled`); the app starts no voice of its own.
"""

from __future__ import annotations

import threading
from pathlib import Path

from web import create_app
from web.serve import make_server, stop


class StationDashboard:
    """The web app for a station's settings, served by waitress on a background thread.

    Parameters
    ----------
    settings : station.settings.Settings
        ``station.data_dir`` holds the app's instance folder (its secret
        key, the kiosk's roster); ``station.database`` is the database;
        ``station.web_host`` and ``station.web_port`` where it listens,
        unless ``host``/``port`` are given (port 0 picks a free one).
    """

    def __init__(self, settings, *, host: str | None = None, port: int | None = None):
        station = settings.station
        self.app = create_app(instance_path=Path(station.data_path) / "instance", database=station.database_path,
                              station_speaks=station.speech)
        self.server = make_server(self.app, station.web_host if host is None else host,
                                  station.web_port if port is None else port)
        self._thread = threading.Thread(target=self.server.run, name="dashboard", daemon=True)

    @property
    def live(self):
        """The live feed to hand to :func:`station.session.run_session` as its publisher."""
        return self.app.extensions["wallhinge_live"]

    def speech_enabled(self) -> bool:
        """The kiosk page's spoken-cues switch, for :func:`station.session.run_session`'s ``speech_enabled``."""
        return bool(self.app.extensions["wallhinge_kiosk"].read()["speech"])

    @property
    def url(self) -> str:
        host = self.server.effective_host
        shown = "localhost" if host in ("127.0.0.1", "0.0.0.0", "::") else host
        return f"http://{shown}:{self.server.effective_port}/"

    def start(self) -> "StationDashboard":
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        if self._thread.is_alive():
            stop(self.server, self.app, timeout_s=timeout_s)
            self._thread.join(timeout_s)

    def __enter__(self) -> "StationDashboard":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
