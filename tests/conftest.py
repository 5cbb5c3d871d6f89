"""Shared fixtures: short simulated recordings, made once per test session."""

import json

import pytest

from station.sim.scenarios import build_scene
from station.sim.simulate import simulate, truth_path


@pytest.fixture(scope="session")
def short_recording(tmp_path_factory):
    """A two-rep good set at 424x240, 15 fps, and its ground truth: (path, truth dict)."""
    path = tmp_path_factory.mktemp("recordings") / "good-set.db3"
    simulate(build_scene("good-set", 4, fps=15, reps=2), path)
    return path, json.loads(truth_path(path).read_text())


@pytest.fixture(scope="session")
def pair_recording(tmp_path_factory):
    """The two-rep good set seen by the pair side+wall-above: (side path, truth dict); NAME.above.db3 beside it."""
    from station.sim.placements import placement_mount

    path = tmp_path_factory.mktemp("pair") / "good-set.db3"
    spec = build_scene("good-set", 4, fps=15, reps=2)
    simulate(spec, path, back=("wall-above", placement_mount("wall-above", spec.mount.side, 4)))
    return path, json.loads(truth_path(path).read_text())


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL server (Debian's package) on 127.0.0.1, started once for the session and removed after.

    Skipped only when no PostgreSQL binaries are installed (``scripts/bootstrap
    test`` installs them: apt's ``postgresql``).
    """
    from postgres import PostgresServer, find_binaries

    from station.store.engine import close_engines
    binaries = find_binaries()
    if binaries is None:
        pytest.skip("PostgreSQL's initdb and pg_ctl are not installed (apt-get install postgresql; "
                    "scripts/bootstrap test does it)")
    server = PostgresServer(binaries).initialise()
    server.start()
    try:
        server.create_database()
        yield server
    finally:
        close_engines()  # the pools' connections, before their server goes
        server.remove()


@pytest.fixture
def clinic_url(postgres_server, request):
    """A fresh, empty clinic database on the session's PostgreSQL server: its URL."""
    import uuid

    import sqlalchemy
    name = "clinic_" + uuid.uuid4().hex[:12]
    admin = sqlalchemy.create_engine(postgres_server.url, isolation_level="AUTOCOMMIT", poolclass=sqlalchemy.pool.NullPool)
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    admin.dispose()
    return postgres_server.url.rsplit("/", 1)[0] + "/" + name
