"""The store, opened once per request in ``g`` and closed on teardown (as in the Flask tutorial)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from flask import Flask, current_app, g

from station.store import Store, StoreError, is_read_only_failure, open_store

__all__ = ["get_store", "init_app"]


def get_store() -> Store:
    """This request's :class:`~station.store.Store`, opened on first use.

    A store that cannot be written (a read-only file or disk) is opened for
    reading, so the pages go on showing what is there; a change then gets
    the store's error (503) with what is wrong.
    """
    if "store" not in g:
        path = current_app.config["DATABASE"]
        try:
            g.store = open_store(path)
        except StoreError as error:
            if not is_read_only_failure(error):
                raise
            if not current_app.extensions.get("wallhinge_read_only_said"):
                current_app.extensions["wallhinge_read_only_said"] = True
                current_app.logger.warning("%s: showing it read-only", error)
            g.store = open_store(path, read_only=True)
    return g.store


def close_store(exception=None) -> None:
    store = g.pop("store", None)
    if store is not None:
        store.close()


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create (or upgrade) the station's database at the configured DATABASE."""
    with open_store(current_app.config["DATABASE"]) as store:
        click.echo(f"the store {store.where} is at schema version {store.schema_version}")


def init_app(app: Flask) -> None:
    app.teardown_appcontext(close_store)
    app.cli.add_command(init_db_command)
