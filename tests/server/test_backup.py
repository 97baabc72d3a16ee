"""Backups of an embedded store while it serves, and a restore (a real server, real files)."""

from __future__ import annotations

import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.servers import DEVICE, PASSWORD, T0_MS, seed, start_server, stop_server, wire_event

pytestmark = pytest.mark.slow


def _cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.server.cli", "--db", url, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _events(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])


def test_a_backup_taken_while_serving_restores_the_store_as_it_was(tmp_path: Path) -> None:
    store = tmp_path / "store.sqlite3"
    url = f"sqlite:///{store}"
    seed(url)
    served = start_server(url)
    try:
        with httpx.Client(base_url=served.base_url, timeout=30) as client:
            signed = client.post(
                "/v1/signin", json={"login": "marie", "password": PASSWORD, "device_id": DEVICE}
            )
            auth = {"Authorization": f"Bearer {signed.json()['token']}"}

            def send(*seqs: int) -> None:
                body = {"sent_at_ms": T0_MS, "events": [wire_event(n) for n in seqs]}
                assert len(
                    client.post("/v1/events", headers=auth, json=body).json()["accepted"]
                ) == len(seqs)

            send(1, 2, 3)
            copy = tmp_path / "backups" / "store-monday.sqlite3"
            copy.parent.mkdir()
            done = _cli(url, "backup", str(copy))  # online: the server keeps writing
            assert done.returncode == 0, done.stderr
            assert "3 events" in done.stderr
            assert stat.S_IMODE(copy.stat().st_mode) == 0o600  # hashes and every agent's day
            send(4, 5)
    finally:
        stop_server(served)
    assert _events(store) == 5
    refused = _cli(url, "restore", str(copy))
    assert refused.returncode == 1 and "--yes" in refused.stderr
    not_a_store = tmp_path / "notes.sqlite3"
    sqlite3.connect(not_a_store).close()
    assert "not a Bandeau store" in _cli(url, "restore", str(not_a_store), "--yes").stderr
    done = _cli(url, "restore", str(copy), "--yes")
    assert done.returncode == 0, done.stderr
    assert _events(store) == 3
    assert _events(tmp_path / "store.sqlite3.before-restore") == 5  # nothing lost by restoring
    served = start_server(url)  # the restored store serves
    try:
        with httpx.Client(base_url=served.base_url, timeout=30) as client:
            assert client.get("/health").json() == {"status": "ok"}
            signed = client.post("/v1/signin", json={"login": "lea", "password": PASSWORD})
            auth = {"Authorization": f"Bearer {signed.json()['token']}"}
            assert len(client.get("/v1/events", headers=auth).json()["events"]) == 3
    finally:
        stop_server(served)


def test_backup_refuses_what_it_cannot_copy(tmp_path: Path) -> None:
    pg = _cli("postgresql+psycopg://bandeau@localhost/bandeau", "backup", str(tmp_path / "x"))
    assert pg.returncode == 1 and "pg_dump" in pg.stderr
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    seed(url)
    same = _cli(url, "backup", str(tmp_path / "store.sqlite3"))
    assert same.returncode == 1 and "overwrite the store itself" in same.stderr
