"""Fixtures for the dashboard's tests: an app on a temporary store, a client, sample data, a browser."""

import os
from pathlib import Path

import pytest

from station.store import open_store
from support import CHROMIUM, CHROMIUM_ARGS, PASSWORD, USERNAME, fill_sample, log_in, make_app

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # a missing test dependency is a failure, not a skip
    sync_playwright = None


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
    create_account(store, USERNAME, PASSWORD, app=app, role="admin")  # the first account, as set-up makes it
    return USERNAME, PASSWORD


@pytest.fixture
def logged_in(client, account):
    response = log_in(client)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


@pytest.fixture
def sample(store):
    return fill_sample(store)


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium, one per test module."""
    if sync_playwright is None:
        pytest.fail("Playwright for Python is missing: pip install playwright (the test extra); "
                    "never run 'playwright install', the tests use Debian's chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def shots(tmp_path):
    """Where screenshots go: ``WALLHINGE_SCREENSHOTS`` (docs/screenshots to refresh the README's), else tmp."""
    folder = Path(os.environ.get("WALLHINGE_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
