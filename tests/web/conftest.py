"""Fixtures for the dashboard's tests: an app on a temporary store, a client, sample data."""

import pytest

from station.store import open_store
from support import PASSWORD, USERNAME, fill_sample, log_in, make_app


@pytest.fixture
def app(tmp_path):
    return make_app(tmp_path)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def store(app):
    with open_store(app.config["DATABASE"]) as store:
        yield store


@pytest.fixture
def account(app, store):
    from web.auth import create_account
    create_account(store, USERNAME, PASSWORD, app=app)
    return USERNAME, PASSWORD


@pytest.fixture
def logged_in(client, account):
    response = log_in(client)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


@pytest.fixture
def sample(store):
    return fill_sample(store)
