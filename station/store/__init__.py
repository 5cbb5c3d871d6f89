"""The station's database: patients, targets, sessions, sets, reps and their series.

A station keeps everything in one SQLite file (the default); a clinic with
several stations keeps them in one PostgreSQL database, which each station
reaches through its own file as an outbox. One setting chooses: the
database URL (:mod:`station.store.engine`). Open it with :func:`open_store`
(or :class:`Store`); each thread opens its own.

The package, by job:

- :mod:`~station.store.schema`: the tables, SQLite's numbered migration
  steps and the same schema as SQLAlchemy Core tables;
- :mod:`~station.store.migrate`: bringing a file or a clinic database to the
  current schema;
- :mod:`~station.store.engine`: the database URL and the connection;
- :mod:`~station.store.codec`: checked values, time stamps, rows and series;
- :mod:`~station.store.repository` and :mod:`~station.store.records`: the
  :class:`Store` and its queries;
- :mod:`~station.store.outbox`: a station's delivery to the clinic server;
- :mod:`~station.store.backup`: backup and restore of a station's file.

Errors
------
:class:`StoreError` when the database cannot be used (not a store, from a
newer version, busy, damaged, unreachable); :class:`NotFoundError` for a
patient, session or set that does not exist; :class:`ConflictError` for a
duplicate (patient code, username, rep number) or a state clash (ending a
session twice); ``ValueError`` for bad argument values, naming the argument.
"""

from station.store.backup import backup, restore
from station.store.codec import (SERIES_NAMES, UNCHANGED, decode_series, encode_series, series_to_list,
                                 thresholds_from_targets)
from station.store.engine import DEFAULT_DATABASE, database_url
from station.errors import ConflictError, NotFoundError, StoreError
from station.store.migrate import is_read_only_failure
from station.store.repository import Store, open_store
from station.store.schema import APPLICATION_ID, MIGRATIONS, PAGE_SIZE, ROLES, SCHEMA_VERSION

__all__ = [
    "APPLICATION_ID", "DEFAULT_DATABASE", "MIGRATIONS", "PAGE_SIZE", "ROLES", "SCHEMA_VERSION", "SERIES_NAMES",
    "UNCHANGED", "ConflictError", "NotFoundError", "Store", "StoreError",
    "backup", "database_url", "decode_series", "encode_series", "is_read_only_failure", "open_store", "restore",
    "series_to_list", "thresholds_from_targets",
]
