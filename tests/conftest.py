"""Fixtures shared by every test: isolated dirs and keyring, offscreen Qt, fake clocks."""

from __future__ import annotations

import os

# Before anything imports Qt: tests never need (or open) a real display.
os.environ["QT_QPA_PLATFORM"] = "offscreen"

from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backend
import pytest

from app.domain.clock import FakeClock
from app.journal import Journal
from tests.pg import NoPostgres, PgCluster, remove_cluster, start_cluster
from tests.servers import T0_MS, Served, StoreClock, seed, start_server, stop_server


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring that forgets everything when the test ends."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.secrets.pop((service, username), None)


@pytest.fixture(autouse=True)
def isolated(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """Point every user directory at a temp dir and install an in-memory keyring.

    Child processes inherit the environment, so they are isolated too.
    """
    home = tmp_path_factory.mktemp("home")
    for name in list(os.environ):
        if name.startswith("BANDEAU_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    monkeypatch.setenv("BANDEAU_DATA_DIR", str(home / "bandeau-data"))
    # The command sockets' private folder is the test's too.
    runtime = home / "run"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    monkeypatch.setenv("LANG", "fr_FR.UTF-8")
    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    yield home
    keyring.set_keyring(previous)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0_MS, zone_name="Europe/Paris", monotonic_ms=5_000_000)


@pytest.fixture
def store_clock() -> StoreClock:
    """The clock of a store run in the test's process: from T0, at the real pace."""
    return StoreClock(T0_MS)


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    j = Journal(tmp_path / "journal.sqlite3")
    yield j
    j.close()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    try:
        cluster = start_cluster()
    except NoPostgres as exc:
        if os.environ.get("BANDEAU_TEST_WITHOUT_PG") == "1":
            pytest.skip(str(exc))
        pytest.fail(f"{exc} (BANDEAU_TEST_WITHOUT_PG=1 skips the PostgreSQL half)")
    yield cluster
    remove_cluster(cluster)


@pytest.fixture(params=["sqlite", "postgresql"])
def seeded_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A store with the test directory (tests/servers.py: seed), on SQLite and on a real
    PostgreSQL: the bars', sign-in's and panel's tests run on both engines too."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
        seed(url)
        yield url
        return
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    name = cluster.create_database()
    url = cluster.url(name)
    seed(url)
    yield url
    cluster.drop_database(name)


@pytest.fixture
def live_server(seeded_url: str) -> Iterator[Served]:
    """A real `bandeau-server serve` on that store, on the system's clock (for bars on the real
    clock), stopped afterwards."""
    served = start_server(seeded_url, clock_start_ms=None)
    yield served
    stop_server(served)


@pytest.fixture
def server_on_test_clock(seeded_url: str, clock: FakeClock) -> Iterator[Served]:
    """A real server whose clock starts at the `clock` fixture's instant (and runs at the real
    pace): a bar on the fake clock and the store agree on the day, whatever today is."""
    served = start_server(seeded_url, clock_start_ms=clock.now_ms())
    yield served
    stop_server(served)
