"""A real `bandeau-server serve` (uvicorn on loopback) and a real HTTP client."""

from __future__ import annotations

import os
import re
import selectors
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.server.test_api import PASSWORD, seed

pytestmark = pytest.mark.slow


@dataclass
class Served:
    proc: subprocess.Popen[bytes]
    base_url: str
    stderr: list[str]
    drain: threading.Thread | None = None


def start_server(url: str, *extra: str) -> Served:
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.server.cli", "--db", url, "serve", "--port", "0", *extra],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert proc.stderr is not None
    text, deadline = "", time.monotonic() + 60
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stderr.fileno(), selectors.EVENT_READ)
        while (found := re.search(r"serving on (http://\S+)", text)) is None:
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(left):
                proc.kill()
                raise TimeoutError(f"the server did not start: {text!r}")
            chunk = os.read(proc.stderr.fileno(), 65536)
            if not chunk:
                raise RuntimeError(f"the server exited ({proc.wait()}): {text!r}")
            text += chunk.decode()
    served = Served(proc, found.group(1), [text])

    def drain() -> None:  # the server logs every request: keep its pipe from filling up
        assert proc.stderr is not None
        for line in proc.stderr:
            served.stderr.append(line.decode("utf-8", "replace"))

    served.drain = threading.Thread(target=drain, name="server-stderr", daemon=True)
    served.drain.start()
    return served


def stop_server(served: Served) -> int:
    if served.proc.poll() is None:
        served.proc.send_signal(signal.SIGTERM)
    try:
        return served.proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        served.proc.kill()
        served.proc.wait(timeout=30)
        raise
    finally:
        if served.drain is not None:
            served.drain.join(timeout=30)
        if served.proc.stderr is not None:
            served.proc.stderr.close()


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
        now = time.time_ns() // 1_000_000
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
