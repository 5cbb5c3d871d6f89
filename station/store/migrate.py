"""Bringing a database to the current schema: a station's SQLite file step by step, a clinic's PostgreSQL whole.

SQLite: :data:`~station.store.schema.MIGRATIONS` steps run on the file's own
``sqlite3`` connection, each in a ``BEGIN IMMEDIATE`` transaction with the
new ``PRAGMA user_version`` and a foreign-key check, so a step applies whole
or not at all. ``PRAGMA application_id`` marks the file as a Wall Hinge
store; a database from a newer version of the station is refused.

PostgreSQL: an empty database gets every table of
:data:`~station.store.schema.METADATA` and the ``wallhinge_schema`` stamp in
one transaction, under an advisory lock so two processes starting together
make it once; later versions run :data:`~station.store.schema.POSTGRESQL_STEPS`.
"""

from __future__ import annotations

import sqlite3
from typing import Iterator

from sqlalchemy import Connection, inspect, insert, select, text

from station.store import schema
from station.errors import StoreError

__all__ = ["check_identity", "migrate_postgresql", "migrate_sqlite", "open_failure", "is_read_only_failure"]


def open_failure(path, error: sqlite3.Error) -> str:
    """Why the store could not be opened, blaming another program only when the database says it is busy."""
    text_ = str(error)
    if "locked" in text_ or "busy" in text_:
        return f"cannot open the store {path}: {text_} (another program may be holding it; try again)"
    if "readonly" in text_ or "read-only" in text_ or "unable to open" in text_:
        return (f"cannot open the store {path} for writing: {text_} (the file, its folder or the disk is "
                "read-only or full)")
    return f"cannot open the store {path}: {text_}"


def is_read_only_failure(error: StoreError) -> bool:
    """Whether opening failed because the store cannot be written (so it may still be read)."""
    return "for writing" in str(error)


def _statements(script: str) -> Iterator[str]:
    """The complete SQL statements of a script, in order (triggers kept whole)."""
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n\t;"):
                yield pending.strip()
            pending = ""
    if pending.strip(" \n\t;"):
        raise ValueError(f"incomplete SQL statement in migration: {pending.strip()[:60]!r}")


def migrate_sqlite(connection: sqlite3.Connection, path) -> None:
    """Apply the missing migration steps to a station's file, each in its own transaction.

    Foreign keys are off while the steps run (SQLite's 12-step recipe for
    changing a table: the pragma cannot change inside a transaction), so a
    step that rebuilds a table may drop the old one without the drop
    cascading to the rows that refer to it; each step's foreign-key check
    before its commit still refuses a step that breaks a reference.
    """
    enforced = connection.execute("PRAGMA foreign_keys").fetchone()[0]
    connection.execute("PRAGMA foreign_keys = OFF")
    try:
        _apply_steps(connection, path)
    finally:
        connection.execute(f"PRAGMA foreign_keys = {'ON' if enforced else 'OFF'}")


def _apply_steps(connection: sqlite3.Connection, path) -> None:
    steps = schema.MIGRATIONS  # read at call time, so tests may add steps
    for version, script in enumerate(steps, start=1):
        connection.execute("BEGIN IMMEDIATE")
        try:
            # Read again inside the write lock: another process may have
            # migrated while this one waited.
            current = connection.execute("PRAGMA user_version").fetchone()[0]
            if current < version:
                for statement in _statements(script):
                    connection.execute(statement)
                connection.execute(f"PRAGMA user_version = {version}")
                broken = connection.execute("PRAGMA foreign_key_check").fetchone()
                if broken is not None:
                    raise StoreError(f"upgrading {path} to schema version {version} would break a reference "
                                     f"in table {broken[0]}; nothing was changed. Report this with a backup")
            connection.execute("COMMIT")
        except sqlite3.Error as error:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise StoreError(f"upgrading {path} to schema version {version} failed ({error}); "
                             "nothing was changed. Report this with a backup") from error
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise


def check_identity(connection: sqlite3.Connection, path, *, hint: str = "check the path, or restore a backup") -> int:
    """The schema version of an open SQLite database, or StoreError if it is not ours to use.

    ``path`` names the file in messages (e.g. "backup /media/usb/station.db").
    """
    try:
        # One statement, so one snapshot: read one by one, another process's
        # first migration step could commit in between, and a new store would
        # show a schema version without its application id yet.
        application_id, version, tables = connection.execute(
            "SELECT (SELECT application_id FROM pragma_application_id), (SELECT user_version FROM pragma_user_version),"
            " (SELECT count(*) FROM sqlite_master)").fetchone()
    except sqlite3.OperationalError as error:
        raise StoreError(open_failure(path, error)) from None
    except sqlite3.DatabaseError as error:
        raise StoreError(f"{path} is not a Wall Hinge store database ({error}): {hint}") from None
    if application_id not in (0, schema.APPLICATION_ID) or (application_id == 0 and (version or tables)):
        raise StoreError(f"{path} is an SQLite database but not a Wall Hinge store: check the path")
    _refuse_newer(version, path)
    return version


def _refuse_newer(version: int, where) -> None:
    known = len(schema.MIGRATIONS)  # read at call time, so tests may add steps
    if version > known:
        raise StoreError(f"{where} was written by a newer version of the station (schema version {version}; "
                         f"this one knows up to {known}): update the station software")


def postgresql_version(connection: Connection) -> int:
    """The schema version stamped in a clinic database (0 when it has no Wall Hinge tables)."""
    if not inspect(connection).has_table("wallhinge_schema"):
        return 0
    return connection.execute(select(schema.wallhinge_schema.c.version)).scalar_one()


def migrate_postgresql(connection: Connection, where: str) -> None:
    """Make an empty clinic database whole, or bring an older one up to date, in one transaction."""
    with connection.begin():
        # Two processes starting together: the second waits here, then finds the tables made.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": schema.APPLICATION_ID})
        version = postgresql_version(connection)
        if version == 0:
            if inspect(connection).get_table_names():
                raise StoreError(f"{where} holds other tables and is not a Wall Hinge clinic database: "
                                 "give the station a database of its own")
            schema.METADATA.create_all(connection)
            schema.wallhinge_schema.create(connection)
            connection.execute(insert(schema.wallhinge_schema).values(
                version=schema.SCHEMA_VERSION, application_id=schema.APPLICATION_ID))
            return
        _refuse_newer(version, where)
        for step in range(version + 1, schema.SCHEMA_VERSION + 1):
            for statement in schema.POSTGRESQL_STEPS.get(step, ()):
                connection.execute(text(statement))
            connection.execute(schema.wallhinge_schema.update().values(version=step))
