"""Every store test runs twice: on an embedded SQLite file and on a real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.server import migrate
from app.server.api import ServerConfig, create_app
from app.server.db import make_engine
from app.server.directory import NewPerson, add_person
from app.server.security import hash_password
from tests.pg import PgCluster
from tests.servers import PASSWORD, StoreClock, seed


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite3'}"
        return
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    name = cluster.create_database()
    yield cluster.url(name)
    cluster.drop_database(name)


@pytest.fixture
def store(store_url: str) -> Iterator[Engine]:
    """A migrated, empty store."""
    engine = make_engine(store_url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def client(store_url: str, store_clock: StoreClock) -> Iterator[TestClient]:
    """The app on a seeded store (plus an admin, "root"), through Starlette's test client."""
    seed(store_url)
    engine = make_engine(store_url)
    with engine.begin() as conn:
        add_person(
            conn, NewPerson("root", "Admin", "admin", ()), password_hash=hash_password(PASSWORD)
        )
    engine.dispose()
    with TestClient(create_app(ServerConfig(store_url, clock=store_clock))) as test_client:
        yield test_client
