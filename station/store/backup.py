"""Backup and restore of a station's SQLite file, safe while the station runs.

A clinic's PostgreSQL database is backed up with PostgreSQL's own tools
(``pg_dump``, see deploy/README.md); these work on a station's file:
SQLite's online backup API copies it page by page into one self-contained
file, and a restore checks the backup before it moves the old file aside.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from station.errors import StoreError
from station.store.migrate import check_identity

__all__ = ["backup", "restore"]


def _inspect_file(path: Path, what: str) -> tuple[int, str]:
    """(schema version, integrity report) of a database file, or StoreError if it is not a store."""
    if not path.is_file():
        raise StoreError(f"{what} {path} does not exist")
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
    except sqlite3.Error as error:
        raise StoreError(f"cannot read {what} {path}: {error}") from None
    try:
        version = check_identity(db, f"{what} {path}", hint="check the path")
        if version == 0:
            raise StoreError(f"{what} {path} is an empty database, not a Wall Hinge store")
        report = db.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.DatabaseError as error:
        raise StoreError(f"{what} {path} is damaged ({error}); choose another backup") from None
    finally:
        db.close()
    return version, report


def backup(store_path, dest_path) -> Path:
    """Copy the store to ``dest_path`` with SQLite's online backup, safe while the station runs.

    The copy is one self-contained file (no ``-wal``), written beside the
    destination first and moved into place when complete, replacing an older
    file of that name. Returns the destination path.

    Raises
    ------
    StoreError
        The store is not a Wall Hinge store, or the copy cannot be written.
    """
    source_path, dest = Path(store_path), Path(dest_path)
    if not source_path.is_file():
        raise StoreError(f"store {source_path} does not exist")
    if dest.exists() and dest.resolve() == source_path.resolve():
        raise StoreError("the backup must go to another file than the store itself")
    if not dest.parent.is_dir():
        raise StoreError(f"cannot write the backup {dest}: folder {dest.parent} does not exist")
    with _written_beside(dest, ".partial", f"cannot back up {source_path} to {dest}") as partial:
        source = sqlite3.connect(source_path, isolation_level=None)
        try:
            check_identity(source, source_path)
            _copy(source, partial)
        finally:
            source.close()
    return dest


def restore(backup_path, store_path) -> Path | None:
    """Replace the store by a backup, keeping the old store as ``store_path + '.before-restore'``.

    The backup must be a Wall Hinge store that passes SQLite's
    ``integrity_check`` with a schema version this code knows (an older one
    is upgraded on the next open); otherwise nothing is touched. Stop the
    station first: a store in use is refused. Returns the path of the
    kept old store, or None if there was none.

    Raises
    ------
    StoreError
        The backup is not a valid store, or the store is in use.
    """
    source, store = Path(backup_path), Path(store_path)
    if store.exists() and source.exists() and source.resolve() == store.resolve():
        raise StoreError("the backup and the store are the same file")
    _, report = _inspect_file(source, "backup")
    if report != "ok":
        raise StoreError(f"backup {source} fails SQLite's integrity check ({report}); choose another backup")
    if not store.parent.is_dir():
        raise StoreError(f"cannot restore to {store}: folder {store.parent} does not exist")
    with _written_beside(store, ".restoring", f"cannot restore {source} to {store}") as incoming:
        reader = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
        try:
            _copy(reader, incoming)
        finally:
            reader.close()
        kept = store.with_name(store.name + ".before-restore")
        if store.exists():
            _quiesce(store)
            for suffix in ("-wal", "-shm", ""):
                old, aside = Path(f"{store}{suffix}"), Path(f"{kept}{suffix}")
                aside.unlink(missing_ok=True)
                if old.exists():
                    os.replace(old, aside)
        else:
            kept = None
    return kept


@contextmanager
def _written_beside(dest: Path, suffix: str, failure: str) -> Iterator[Path]:
    """Yield a fresh path beside ``dest`` to write; on success move it onto ``dest``, on any error remove it.

    A SQLite or file error becomes StoreError(``failure: error``), so a half
    written file never takes the place of a good one.
    """
    partial = dest.with_name(dest.name + suffix)
    partial.unlink(missing_ok=True)
    try:
        yield partial
        os.replace(partial, dest)
    except (sqlite3.Error, OSError) as error:
        partial.unlink(missing_ok=True)
        raise StoreError(f"{failure}: {error}") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _copy(source: sqlite3.Connection, target_path: Path) -> None:
    """Copy an open database page by page into a new self-contained file (no ``-wal``) at ``target_path``."""
    target = sqlite3.connect(target_path, isolation_level=None)
    try:
        source.backup(target)
        target.execute("PRAGMA journal_mode = DELETE")
    finally:
        target.close()


def _quiesce(store: Path) -> None:
    """Fold the WAL into the store file, or StoreError if another connection has it open.

    Leaving WAL mode needs the only connection to the file, which is the test
    that the station is not running. A damaged store that cannot be read is
    left as it is: its files are moved aside together.
    """
    try:
        db = sqlite3.connect(store, timeout=0.5, isolation_level=None)
    except sqlite3.Error:
        return
    try:
        mode = db.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
    except sqlite3.OperationalError as error:
        if "locked" in str(error) or "busy" in str(error):
            raise StoreError(f"the store {store} is in use: stop the station and the dashboard, then restore") \
                from None
        return
    except sqlite3.DatabaseError:
        return
    finally:
        db.close()
    if mode != "delete":
        raise StoreError(f"the store {store} is in use: stop the station and the dashboard, then restore")
