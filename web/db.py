"""The store, opened once per request in ``g`` and closed on teardown (as in the Flask tutorial)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from flask import Flask, current_app, g

from station.store import Store, open_store

__all__ = ["get_store", "init_app"]


def get_store() -> Store:
    """This request's :class:`~station.store.Store`, opened on first use."""
    if "store" not in g:
        g.store = open_store(current_app.config["DATABASE"])
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
        click.echo(f"the store {store.path} is at schema version {store.schema_version}")


def init_app(app: Flask) -> None:
    app.teardown_appcontext(close_store)
    app.cli.add_command(init_db_command)
