"""A real `bandeau-server serve` (uvicorn on loopback) and a real HTTP client."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.servers import PASSWORD, T0_MS, Served, seed, start_server, stop_server

pytestmark = pytest.mark.slow


@pytest.fixture
def server(store_url: str) -> Iterator[Served]:
    seed(store_url)
    served = start_server(store_url)
    yield served
    stop_server(served)


def test_a_real_client_through_a_real_server(server: Served) -> None:
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        assert client.get("/health").json() == {"status": "ok"}
        signed = client.post("/v1/signin", json={"login": "marie", "password": PASSWORD})
        assert signed.status_code == 200
        headers = {"Authorization": f"Bearer {signed.json()['token']}"}
        device = str(uuid.uuid4())
        now = T0_MS
        events = [
            {
                "uuid": str(uuid.uuid4()),
                "device_id": device,
                "seq": i,
                "agent": "marie",
                "kind": "status",
                "key": key,
                "activity": "Assurance Auto",
                "occurred_at_ms": now + i,
                "tz": "Europe/Paris",
                "utc_offset_s": 3600,
                "monotonic_ms": i,
            }
            for i, key in enumerate(["production", "pause"], 1)
        ]
        reply = client.post(
            "/v1/events",
            headers=headers,
            json={"device_id": device, "sent_at_ms": now, "events": events},
        )
        assert reply.status_code == 200
        assert reply.json()["accepted"] == [e["uuid"] for e in events]
        assert reply.headers["X-Request-ID"]


def test_a_busy_port_is_a_clear_error(server: Served, store_url: str) -> None:
    port = server.base_url.rsplit(":", 1)[1]
    done = subprocess.run(
        [sys.executable, "-m", "app.server.cli", "--db", store_url, "serve", "--port", port],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr


def test_two_server_processes_on_one_store_behave_as_one(store_url: str) -> None:
    """Nothing that matters lives in one process's memory: a token from one works on the
    other, a revocation on one holds on the other at once, failed sign-ins count across
    both, and the same batch sent to both is stored once."""
    from tests.servers import DEVICE, wire_event

    seed(store_url)
    first, second = start_server(store_url), start_server(store_url)
    try:
        a = httpx.Client(base_url=first.base_url, timeout=10)
        b = httpx.Client(base_url=second.base_url, timeout=10)
        token = a.post("/v1/signin", json={"login": "marie", "password": PASSWORD}).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        batch = {
            "device_id": DEVICE,
            "sent_at_ms": T0_MS,
            "events": [wire_event(seq) for seq in range(1, 51)],
        }
        on_a = a.post("/v1/events", headers=auth, json=batch)
        on_b = b.post("/v1/events", headers=auth, json=batch)  # the same batch, replayed
        assert on_a.status_code == on_b.status_code == 200
        assert on_a.json()["accepted"] == on_b.json()["accepted"]
        assert len(on_a.json()["accepted"]) == 50
        lead = a.post("/v1/signin", json={"login": "lea", "password": PASSWORD}).json()["token"]
        seen = b.get("/v1/events", headers={"Authorization": f"Bearer {lead}"})
        assert len(seen.json()["events"]) == 50  # stored once
        # Failed attempts split across the two processes still lock the login.
        for client in (a, b, a, b, a):
            assert (
                client.post("/v1/signin", json={"login": "paul", "password": "wrong"}).status_code
                == 401
            )
        locked = b.post("/v1/signin", json={"login": "paul", "password": PASSWORD})
        assert locked.status_code == 429
        # Signing out on one revokes on the other at once.
        assert b.post("/v1/signout", headers=auth).status_code == 200
        assert a.get("/v1/me", headers=auth).status_code == 401
        a.close()
        b.close()
    finally:
        stop_server(first)
        stop_server(second)


def _lock_paul_from(client: httpx.Client, forwarded_for: str) -> None:
    for _ in range(5):
        client.post(
            "/v1/signin",
            json={"login": "paul", "password": "not his password"},
            headers={"X-Forwarded-For": forwarded_for},
        )


def _paul_from(client: httpx.Client, forwarded_for: str) -> int:
    reply = client.post(
        "/v1/signin",
        json={"login": "paul", "password": PASSWORD},
        headers={"X-Forwarded-For": forwarded_for},
    )
    return reply.status_code


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_x_forwarded_for_counts_only_from_a_trusted_proxy(store_url: str) -> None:
    """Behind a reverse proxy every client has the proxy's address: one colleague's typos
    would lock a login for the whole site. `--trusted-proxy` takes the client's address
    from X-Forwarded-For — and only from that proxy: without it the header is ignored, or a
    client could name a new address at every guess and never be locked."""
    seed(store_url)
    plain = start_server(store_url)
    try:
        with httpx.Client(base_url=plain.base_url, timeout=30) as client:
            _lock_paul_from(client, "10.0.0.1")
            assert _paul_from(client, "10.0.0.2") == 429  # the header changed nothing
    finally:
        stop_server(plain)
    seed_again = store_url.replace("store.sqlite3", "proxied.sqlite3")
    seed(seed_again)
    proxied = start_server(seed_again, "--trusted-proxy", "127.0.0.1")
    try:
        with httpx.Client(base_url=proxied.base_url, timeout=30) as client:
            _lock_paul_from(client, "10.0.0.1")
            assert _paul_from(client, "10.0.0.1") == 429  # locked there
            assert _paul_from(client, "10.0.0.2") == 200  # not at his own desk
    finally:
        stop_server(proxied)
