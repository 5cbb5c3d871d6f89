"""The station's configuration: documented defaults, then a TOML file, then command-line overrides.

A configuration file holds up to eight tables, each optional, each key
optional; a key left out keeps its default. ``deploy/wallhinge.example.toml``
lists every key with its default and what it means.

==================  ==============================================  ==================================
table               what                                            settings class
==================  ==============================================  ==================================
``[camera]``        which camera and its depth mode                 :class:`CameraSettings`
``[filters]``       librealsense post-processing                    :class:`station.camera.FilterSettings`
``[pins]``          where the lamps, buzzer and button are wired    :class:`station.feedback.PinMap`
``[thresholds]``    the faults' thresholds                          :class:`station.faults.Thresholds`
``[targets]``       reps per set, sets, stand-off, target angle     :class:`station.scoring.Targets`
``[reps]``          how reps are told from noise                    :class:`station.reps.RepSettings`
``[station]``       where data lives, sound, the web server         :class:`StationSettings`
``[setup]``         camera placement and drill variant              :class:`station.setup.SetupSettings`
==================  ==============================================  ==================================

Every table goes through :func:`station.config.settings_from_table`, so a
misspelt key is refused by name instead of silently keeping its default.
Any problem with a file (unreadable, not TOML, an unknown table or key, a
value out of range) is a :class:`~station.errors.ConfigError` whose one-line
message names the file and the key.

Overrides come from the command line as ``TABLE.KEY=VALUE`` (``wallhinge run
--set station.muted=true``); the value is read as a TOML value (``true``,
``30``, ``"text"``) and, if it is not one, as text.

This file is the station's one home for its settings. Environment variables
remain only where another program owns the parameter, never for a setting
these tables hold: systemd's ``NOTIFY_SOCKET`` and ``WATCHDOG_USEC``
(:mod:`station.systemd_notify`), gpiozero's ``GPIOZERO_PIN_FACTORY`` (set by
the unit file and the demo), glibc's ``MALLOC_ARENA_MAX``, ``XDG_RUNTIME_DIR``
for the journal, and the web app's Flask configuration ``WALLHINGE_*``
(``web/__init__.py``), which serves the dashboard when it runs on its own
(``python -m web``, ``flask --app web``); inside ``wallhinge run`` the
dashboard takes its database and folder from these settings. One variable
remains as a fallback for stations deployed before ``station.speech``:
``WALLHINGE_KIOSK_SPEECH=true`` (the drop-in that deploy/README.md once
described) turns the station's voice on when neither the file nor ``--set``
says ``station.speech``.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping

from station.camera import FilterSettings
from station.config import settings_from_table
from station.errors import ConfigError
from station.faults import Thresholds
from station.feedback import DEFAULT_END_HOLD_S, PinMap
from station.reps import RepSettings
from station.scoring import Targets
from station.setup import SetupSettings
from station.store.engine import DEFAULT_DATABASE, database_url
from station.voice import DEFAULT_VOICE, DEFAULT_WORDS_PER_MINUTE, check_voice
from station.errors import StoreError

__all__ = ["CameraSettings", "Settings", "StationSettings", "TABLES", "load_settings", "parse_override"]


_HOST_NAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                        r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")


def _is_host(value: str) -> bool:
    """An IP address literal, or a name that DNS could hold (resolving it is the server's job)."""
    try:
        ipaddress.ip_address(value)
        return True
    except ValueError:
        return bool(_HOST_NAME.match(value)) and not value.replace(".", "").isdigit()


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class CameraSettings:
    """The live camera's depth stream.

    Attributes
    ----------
    serial : str or None
        Which camera when several are connected (``wallhinge cameras`` lists
        them); None (left out) takes the first one.
    width, height : int
        Depth resolution, e.g. 424x240 (the default, light on a Pi),
        640x480 or 848x480. The calibration must be made at the same one.
    fps : int
        Frames per second: 15 or 30 (default 30).
    frame_timeout_s : float
        No frame for this long (seconds) means the camera is lost: the red
        lamp comes on and the station tries to open it again every second.
    """

    serial: str | None = None
    width: int = 424
    height: int = 240
    fps: int = 30
    frame_timeout_s: float = 5.0

    def __post_init__(self):
        if self.serial is not None and (not isinstance(self.serial, str) or not self.serial):
            raise ValueError(f"camera.serial must be the camera's serial number as text, not {self.serial!r}")
        for name in ("width", "height"):
            value = getattr(self, name)
            if not _is_whole(value) or not 16 <= value <= 4096:
                raise ValueError(f"camera.{name} must be a whole number of pixels (16-4096), not {value!r}")
        if not _is_whole(self.fps) or self.fps not in (6, 15, 30, 60, 90):
            raise ValueError(f"camera.fps must be one of 6, 15, 30, 60, 90, not {self.fps!r}")
        if not _is_number(self.frame_timeout_s) or not 0.1 <= self.frame_timeout_s <= 60:
            raise ValueError(f"camera.frame_timeout_s must be 0.1-60 seconds, not {self.frame_timeout_s!r}")


@dataclass(frozen=True)
class StationSettings:
    """Where the station keeps its data, its sound, and where the dashboard listens.

    Attributes
    ----------
    data_dir : str
        The data folder; relative to the current directory (a systemd unit's
        ``WorkingDirectory``) unless absolute.
    database : str
        Where the database lives, the one setting for it: a file (the
        station's own SQLite store, relative to ``data_dir`` unless
        absolute) or a database URL (``sqlite:///PATH``; the clinic server's
        dashboard uses ``postgresql+psycopg://USER:PASSWORD@HOST/DATABASE``).
        A station that records always has its own file.
    name : str
        The station's name in the clinic (e.g. ``wall-1``), shown beside
        each session it recorded; empty: the machine's host name.
    clinic_database : str
        The clinic's PostgreSQL URL that this station delivers its sessions
        to (its own file is the outbox); empty: a station on its own.
    calibration : str
        The calibration file (``wallhinge calibrate`` writes it); relative
        to ``data_dir`` unless absolute. When it is missing or does not fit
        the camera's mode, the station calibrates from the empty scene at
        start-up and writes it here.
    muted : bool
        Silence the buzzer; the lamps work as usual.
    speech : bool
        Speak the cues (the good-rep count, a correction, "Set complete")
        with espeak-ng through the station's sound output
        (:mod:`station.voice`); with the dashboard, the kiosk page's switch
        can silence it. Default off.
    speech_voice, speech_words_per_minute : str, int
        The espeak-ng voice (``espeak-ng --voices=en`` lists them) and its
        speaking rate (80-450).
    end_hold_s : float
        Seconds the button is held to end a set.
    web_host, web_port : str, int
        Where the dashboard listens (0.0.0.0: every network interface, so a
        tablet on the clinic's network reaches it).
    """

    data_dir: str = "data"
    database: str = DEFAULT_DATABASE
    name: str = ""
    clinic_database: str = ""
    calibration: str = "calibration.json"
    muted: bool = False
    speech: bool = False
    speech_voice: str = DEFAULT_VOICE
    speech_words_per_minute: int = DEFAULT_WORDS_PER_MINUTE
    end_hold_s: float = DEFAULT_END_HOLD_S
    web_host: str = "0.0.0.0"
    web_port: int = 8080

    def __post_init__(self):
        for name in ("data_dir", "database", "calibration", "web_host"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"station.{name} must be a non-empty text, not {value!r}")
        for name in ("name", "clinic_database"):
            if not isinstance(getattr(self, name), str):
                raise ValueError(f"station.{name} must be a text, not {getattr(self, name)!r}")
        try:
            url = database_url(self.database)
            if self.clinic_database.strip():
                database_url(self.clinic_database)
        except StoreError as error:
            raise ValueError(f"station: {error}") from None
        if "://" in self.clinic_database and url.get_backend_name() != "sqlite":
            raise ValueError("station.database must be the station's own file when it delivers to "
                             "station.clinic_database")
        for name in ("muted", "speech"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"station.{name} must be true or false, not {getattr(self, name)!r}")
        try:
            check_voice(voice=self.speech_voice, words_per_minute=self.speech_words_per_minute)
        except ValueError as error:
            raise ValueError(f"station.speech_{error}") from None
        if not _is_number(self.end_hold_s) or not 0.2 <= self.end_hold_s <= 10:
            raise ValueError(f"station.end_hold_s must be 0.2-10 seconds, not {self.end_hold_s!r}")
        if not _is_host(self.web_host):
            raise ValueError(f"station.web_host must be an IP address (0.0.0.0, 127.0.0.1, ::) or a host name, "
                             f"not {self.web_host!r}")
        if not _is_whole(self.web_port) or not 1 <= self.web_port <= 65535:
            raise ValueError(f"station.web_port must be a port number 1-65535, not {self.web_port!r}")

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir).expanduser()

    @property
    def database_url(self):
        """The database's SQLAlchemy URL (a file within ``data_dir`` unless absolute)."""
        return database_url(self.database, base=self.data_path)

    @property
    def database_path(self) -> Path:
        """The station's own file: ``database`` within ``data_dir`` unless absolute.

        Raises ConfigError when ``database`` is a server's URL: recording
        needs the station's own file (the clinic's server is
        ``clinic_database``).
        """
        url = self.database_url
        if url.get_backend_name() != "sqlite":
            raise ConfigError(f"station.database is a server ({url.render_as_string(hide_password=True)}): a "
                              "station records into its own file and delivers to station.clinic_database")
        return Path(url.database)

    @property
    def station_name(self) -> str:
        """The station's name in the clinic: ``name``, or the machine's host name."""
        return self.name.strip() or socket.gethostname()

    @property
    def calibration_path(self) -> Path:
        """The calibration file's path: ``calibration`` within ``data_dir`` unless absolute."""
        return self.data_path / Path(self.calibration).expanduser()

    @property
    def above_calibration_path(self) -> Path:
        """The camera above's calibration (the pair ``side+wall-above``), beside the side camera's: ``NAME.above.json``."""
        path = self.calibration_path
        return path.with_name(path.stem + ".above" + path.suffix)


#: Table name -> settings class, in the order of the module's table.
TABLES: dict[str, type] = {
    "camera": CameraSettings,
    "filters": FilterSettings,
    "pins": PinMap,
    "thresholds": Thresholds,
    "targets": Targets,
    "reps": RepSettings,
    "station": StationSettings,
    "setup": SetupSettings,
}


@dataclass(frozen=True)
class Settings:
    """Everything the station is configured with; see the module's docs.

    Attributes
    ----------
    origin : str
        Where the settings came from: ``"defaults"``, or the file's path
        (and ``"+ overrides"`` when the command line changed some).
    """

    camera: CameraSettings = field(default_factory=CameraSettings)
    filters: FilterSettings = field(default_factory=FilterSettings)
    pins: PinMap = field(default_factory=PinMap)
    thresholds: Thresholds = field(default_factory=Thresholds)
    targets: Targets = field(default_factory=Targets)
    reps: RepSettings = field(default_factory=RepSettings)
    station: StationSettings = field(default_factory=StationSettings)
    setup: SetupSettings = field(default_factory=SetupSettings)
    origin: str = "defaults"


def _table_values(instance) -> dict:
    return {item.name: getattr(instance, item.name) for item in fields(instance)}


def _build(table: str, cls: type, base, values: Mapping[str, Any], where: str):
    """``cls`` from ``base``'s values updated by ``values``; a refused value names its key."""
    if not isinstance(values, Mapping):
        raise ConfigError(f"{where}: {table} must be a table ([{table}]), not {type(values).__name__}")
    merged = {**_table_values(base), **values}
    try:
        return settings_from_table(cls, merged, table)
    except (ValueError, TypeError) as error:
        message = " ".join(str(error).split())
        if message.startswith("unknown setting"):
            raise ConfigError(f"{where}: {message}") from None
        culprit = _culprit(cls, base, values)
        if culprit is not None:
            raise ConfigError(f"{where}: {table}.{culprit} = {values[culprit]!r} is refused: {message}") from None
        raise ConfigError(f"{where}: [{table}] is refused: {message}") from None


def _culprit(cls: type, base, values: Mapping[str, Any]) -> str | None:
    """The first key whose value alone, on top of ``base``, is refused; None if only the combination is."""
    for key, value in values.items():
        try:
            cls(**{**_table_values(base), key: value})
        except (ValueError, TypeError):
            return key
    return None


def _merge(settings: Settings, tables: Mapping[str, Any], where: str) -> Settings:
    unknown = sorted(set(tables) - set(TABLES))
    if unknown:
        name = unknown[0]
        kind = "table" if isinstance(tables[name], Mapping) else "top-level key"
        raise ConfigError(f"{where}: unknown {kind} {name!r}; the tables are {', '.join(TABLES)}")
    changes = {table: _build(table, TABLES[table], getattr(settings, table), values, where)
               for table, values in tables.items()}
    merged = replace(settings, **changes)
    back = merged.setup.back_camera_serial
    if back is not None and back == merged.camera.serial:
        raise ConfigError(f"{where}: setup.back_camera_serial = {back!r} is the side camera's (camera.serial): "
                          "name the camera above's serial (wallhinge cameras lists both)")
    return merged


def parse_override(text: str) -> tuple[str, str, Any]:
    """``"TABLE.KEY=VALUE"`` as ``(table, key, value)``; VALUE is read as TOML, else as text.

    Raises
    ------
    ConfigError
        Not of that form.
    """
    name, sep, raw = text.partition("=")
    table, dot, key = name.strip().partition(".")
    if not sep or not dot or not table or not key or "." in key:
        raise ConfigError(f"--set {text!r}: write TABLE.KEY=VALUE, e.g. station.muted=true")
    raw = raw.strip()
    try:
        value = tomllib.loads(f"value = {raw}")["value"]
    except tomllib.TOMLDecodeError:
        value = raw
    return table, key, value


def load_settings(path=None, *, overrides: Mapping[str, Mapping[str, Any]] | None = None) -> Settings:
    """The station's settings: defaults, then the file at ``path`` (if given), then ``overrides``.

    Parameters
    ----------
    path : str or Path, optional
        A TOML file; None for the defaults alone.
    overrides : mapping, optional
        ``{table: {key: value}}``, e.g. from :func:`parse_override`.

    Raises
    ------
    ConfigError
        The file cannot be read or is not TOML; an unknown table or key; a
        refused value. The message names the file (or ``--set``) and the key.
    """
    settings = Settings()
    tables: Mapping[str, Any] = {}
    if path is not None:
        path = Path(path)
        try:
            with path.open("rb") as handle:
                tables = tomllib.load(handle)
        except FileNotFoundError:
            raise ConfigError(f"configuration file not found: {path}") from None
        except IsADirectoryError:
            raise ConfigError(f"{path} is a folder, not a configuration file") from None
        except OSError as error:
            raise ConfigError(f"cannot read configuration file {path}: {error.strerror or error}") from None
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{path} is not valid TOML: {error}") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{path} is not valid TOML: it is not UTF-8 text") from None
        settings = replace(_merge(settings, tables, str(path)), origin=str(path))
    if overrides:
        settings = replace(_merge(settings, overrides, "--set"), origin=f"{settings.origin} + overrides")
        tables = {**tables, "station": {**tables.get("station", {}), **overrides.get("station", {})}}
    if "speech" not in tables.get("station", {}) and _legacy_speech():
        settings = replace(settings, station=replace(settings.station, speech=True))
    return settings


def _legacy_speech() -> bool:
    """``WALLHINGE_KIOSK_SPEECH`` is true: a station deployed before ``station.speech`` (module docs)."""
    return os.environ.get("WALLHINGE_KIOSK_SPEECH", "").strip().lower() in ("true", "1", "yes", "on")
