"""A real `bandeau-server serve` (uvicorn on loopback) and a real HTTP client."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.processes import wait_until
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


def _one_client_per_worker(base_url: str, workers: int) -> dict[str, httpx.Client]:
    """A kept-alive connection to each worker: new connections land on whichever worker
    accepts first; each answer says which one it was."""
    found: dict[str, httpx.Client] = {}
    for _ in range(400):
        client = httpx.Client(base_url=base_url, timeout=15)
        worker = client.get("/health").headers["x-bandeau-worker"]
        if worker in found:
            client.close()
        else:
            found[worker] = client
        if len(found) == workers:
            break
    return found


def _children(pid: int) -> set[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return {int(p) for p in text.split()}


def test_two_workers_serve_one_store_and_stop_together(store_url: str) -> None:
    """`serve --workers 2`: a click through one worker reaches a panel streaming from the
    other; a worker killed is replaced; SIGTERM with a stream open stops both, cleanly."""
    from tests.servers import DEVICE, wire_event

    seed(store_url)
    served = start_server(store_url, "--workers", "2")
    clients: dict[str, httpx.Client] = {}
    try:
        clients = _one_client_per_worker(served.base_url, 2)
        assert set(clients) == {"0", "1"}, "the two workers did not both answer"
        lead = clients["0"].post("/v1/signin", json={"login": "lea", "password": PASSWORD})
        marie = clients["1"].post(
            "/v1/signin", json={"login": "marie", "password": PASSWORD, "device_id": DEVICE}
        )
        click = wire_event(1)
        with clients["0"].stream(
            "GET", "/v1/stream", headers={"Authorization": f"Bearer {lead.json()['token']}"}
        ) as stream:
            assert stream.headers["x-bandeau-worker"] == "0"
            lines = stream.iter_lines()
            assert next(lines) == "event: snapshot"
            sent = clients["1"].post(
                "/v1/events",
                headers={"Authorization": f"Bearer {marie.json()['token']}"},
                json={"device_id": DEVICE, "sent_at_ms": T0_MS, "events": [click]},
            )
            assert sent.headers["x-bandeau-worker"] == "1"
            assert sent.json()["accepted"] == [click["uuid"]]
            for line in lines:  # the read timeout bounds the wait
                if click["uuid"] in line:
                    break
            # One worker killed: another takes its place; the store keeps serving.
            before = _children(served.proc.pid)
            assert len(before) == 2
            victim = min(before)
            os.kill(victim, signal.SIGKILL)
            wait_until(lambda: len(now := _children(served.proc.pid)) == 2 and victim not in now)
            assert httpx.get(f"{served.base_url}/health", timeout=15).status_code == 200
            # SIGTERM with a stream open: both stop, within the grace, exit 0.
            assert stop_server(served) == 0
    finally:
        for client in clients.values():
            client.close()
        if served.proc.poll() is None:
            stop_server(served)


def test_workers_out_of_range_are_refused(store_url: str) -> None:
    seed(store_url)
    done = subprocess.run(
        [sys.executable, "-m", "app.server.cli", "--db", store_url, "serve", "--workers", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2 and "--workers: from 1 to 64" in done.stderr


F_SETPIPE_SZ = 1031  # Linux's fcntl: a pipe's buffer, in bytes (a page at least)


def test_a_log_nobody_reads_never_stops_the_store(store_url: str) -> None:
    """Every request logs a line. Written on the event loop, a stderr pipe nobody reads
    any more (a stuck log collector) stopped the whole store once its buffer was full:
    every request then waited for that write. The lines now queue for a thread of their
    own; the store answers, and the lines come out when the reader comes back."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the pipe's buffer is set with Linux's fcntl")
    import fcntl

    seed(store_url)
    served = start_server(store_url, "--workers", "2", drain=False)
    try:
        assert served.proc.stderr is not None
        fcntl.fcntl(served.proc.stderr.fileno(), F_SETPIPE_SZ, 4096)  # ~40 lines
        with httpx.Client(base_url=served.base_url, timeout=10) as http:
            for _ in range(300):
                assert http.get("/health").status_code == 200
            token = http.post("/v1/signin", json={"login": "marie", "password": PASSWORD})
            assert token.status_code == 200
        # The reader comes back: the lines were kept (fewer than the queue holds).
        lines: list[bytes] = []
        pipe = served.proc.stderr
        served.drain = threading.Thread(target=lambda: lines.extend(pipe), daemon=True)
        served.drain.start()
        wait_until(lambda: sum(b'"path": "/health"' in line for line in lines) == 300)
        assert any(b"/v1/signin" in line for line in lines)
    finally:
        stop_server(served)
