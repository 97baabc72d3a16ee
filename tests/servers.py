"""Helpers for tests that need a central store: a seeded directory and a real server process."""

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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.domain.events import new_uuid
from app.server import migrate
from app.server.db import make_engine
from app.server.directory import NewPerson, add_activity, add_person, add_plateau
from app.server.security import hash_password

PASSWORD = "correct horse battery"
DEVICE = str(uuid.uuid4())
# 2026-11-27 09:00:00 Europe/Paris (08:00 UTC), a Friday: where every test clock starts, so
# that no test depends on today's date.
T0_MS = 1_795_766_400_000


class StoreClock:
    """The store's clock in a test (ServerConfig.clock): it reads `start_ms` when made, runs
    at the real pace, and jumps when told to."""

    def __init__(self, start_ms: int = T0_MS) -> None:
        self.start_ms = start_ms
        self._origin = time.monotonic_ns()
        self._jumped = 0

    def __call__(self) -> int:
        return self.start_ms + self._jumped + (time.monotonic_ns() - self._origin) // 1_000_000

    def advance(self, ms: int) -> None:
        self._jumped += ms


def wire_event(seq: int, **over: Any) -> dict[str, Any]:
    """One event as a bar sends it (/v1/events), by marie from DEVICE, at T0 plus `seq`
    seconds; `over` changes any field."""
    base: dict[str, Any] = {
        "uuid": new_uuid(),
        "device_id": DEVICE,
        "seq": seq,
        "agent": "marie",
        "kind": "status",
        "key": "pause",
        "activity": "Assurance Auto",
        "occurred_at_ms": T0_MS + seq * 1000,
        "tz": "Europe/Paris",
        "utc_offset_s": 3600,
        "monotonic_ms": seq,
        "note": None,
        "clock_jump_ms": None,
    }
    base.update(over)
    return base


def seed(url: str) -> None:
    engine = make_engine(url)
    migrate.upgrade(engine)
    with engine.begin() as conn:
        add_plateau(conn, name="Nord")
        add_plateau(conn, name="Sud")
        add_activity(conn, name="Assurance Auto", plateau="Nord")
        add_activity(conn, name="Banque Pro", plateau="Nord")
        add_activity(conn, name="Énergie", plateau="Sud")
        for login, role, plateau in (
            ("marie", "agent", "Nord"),
            ("paul", "agent", "Nord"),
            ("lea", "lead", "Nord"),
            ("zoe", "agent", "Sud"),
        ):
            add_person(
                conn,
                NewPerson(login, login.title(), role, (plateau,)),
                password_hash=hash_password(PASSWORD),
            )
    engine.dispose()


@dataclass
class Served:
    proc: subprocess.Popen[bytes]
    base_url: str
    stderr: list[str]
    drain: threading.Thread | None = None
    clock_start_ms: int | None = None  # the store's clock ran from here (None: the system's)
    started_mono_ns: int = 0

    def now_ms(self) -> int:
        """The store's time now, as its own clock reads it."""
        if self.clock_start_ms is None:
            return time.time_ns() // 1_000_000
        return self.clock_start_ms + (time.monotonic_ns() - self.started_mono_ns) // 1_000_000


def start_server(
    url: str,
    *extra: str,
    clock_start_ms: int | None = T0_MS,
    preexec: Callable[[], None] | None = None,
    drain: bool = True,
) -> Served:
    """A real `bandeau-server serve` on a free port. Its clock runs from `clock_start_ms` (T0
    by default, the test clocks' instant: no test depends on today's date); None: the
    system's clock, for a bar on the real clock. `preexec` runs in the child before the
    server starts (a resource limit, say). `drain=False`: nobody reads its stderr after the
    line that says where it serves."""
    if clock_start_ms is not None:
        extra = ("--clock-start", str(clock_start_ms), *extra)
    started = time.monotonic_ns()
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.server.cli", "--db", url, "serve", "--port", "0", *extra],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        preexec_fn=preexec,  # noqa: PLW1509 - a resource limit, nothing that needs threads
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
    served = Served(proc, found.group(1), [text], None, clock_start_ms, started)
    if not drain:
        return served

    def read_all() -> None:  # the server logs every request: keep its pipe from filling up
        assert proc.stderr is not None
        for line in proc.stderr:
            served.stderr.append(line.decode("utf-8", "replace"))

    served.drain = threading.Thread(target=read_all, name="server-stderr", daemon=True)
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


def auth(client: Any, login: str) -> dict[str, str]:
    """The Authorization header of `login`, signed in through a test client."""
    reply = client.post("/v1/signin", json={"login": login, "password": PASSWORD})
    assert reply.status_code == 200, reply.text
    return {"Authorization": f"Bearer {reply.json()['token']}"}
