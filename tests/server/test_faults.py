"""Faults between the bar and the store, each ending with every event stored exactly once."""

from __future__ import annotations

import os
import signal
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.domain.clock import SystemClock
from app.domain.events import Key, SyncState
from app.journal import Journal
from app.recording import Recorder
from app.server import models as m
from app.server.db import make_engine
from app.sync.client import SyncClient
from app.sync.timing import Backoff
from app.sync.worker import SyncStatus, SyncWorker
from tests.servers import DEVICE, PASSWORD, T0_MS, seed, start_server, stop_server, wire_event

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stored(url: str) -> tuple[int, int]:
    """(events in the store, distinct uuids among them)."""
    engine = make_engine(url)
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(m.events)).scalar_one()
        distinct = conn.execute(select(func.count(m.events.c.uuid.distinct()))).scalar_one()
    engine.dispose()
    return int(total), int(distinct)


def test_server_killed_mid_drain_then_restarted(tmp_path: Path, store_url: str) -> None:
    """SIGKILL the server while a long queue drains; restart it; nothing lost, nothing
    doubled, and the worker carries on by itself."""
    seed(store_url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(store_url, "--port", str(port))
    token = httpx.post(f"{base}/v1/signin", json={"login": "marie", "password": PASSWORD}).json()[
        "token"
    ]
    journal = Journal(tmp_path / "journal.sqlite3")
    clock = SystemClock("Europe/Paris")
    recorder = Recorder(journal, clock, agent="marie", activities=["Assurance Auto"])
    recorder.start()
    keys = [Key.PRODUCTION, Key.PAUSE, Key.OFF]
    for i in range(2_999):  # an outage's worth of clicks: six batches
        recorder.press(keys[i % 3])
    first_ack = threading.Event()
    go_on = threading.Event()
    synced = threading.Event()
    seen: list[SyncStatus] = []

    def on_status(status: SyncStatus) -> None:
        seen.append(status)
        if status.state == "synced":
            synced.set()

    original_mark = journal.mark_acked

    def mark_acked(uuids):  # type: ignore[no-untyped-def]
        count = original_mark(uuids)
        if not first_ack.is_set():
            # The first batch went through: hold the worker until the kill is on its way, so
            # that the kill lands while the next batch is being sent or written.
            first_ack.set()
            go_on.wait(30)
        return count

    journal.mark_acked = mark_acked  # type: ignore[method-assign]
    worker = SyncWorker(
        journal,
        SyncClient(base, token, clock, timeout_s=5),
        clock,
        agent="marie",
        on_status=on_status,
        interval_s=60,
        backoff=Backoff(base_s=0.05, cap_s=0.5),
    )
    worker.start()
    try:
        assert first_ack.wait(60)
        go_on.set()
        server.proc.send_signal(signal.SIGKILL)
        stop_server(server)
        mid_total, _ = stored(store_url)
        assert 500 <= mid_total <= 1_000  # killed part-way: the first batch, maybe the next
        restarted = start_server(store_url, "--port", str(port))
        try:
            assert synced.wait(60), seen[-3:]
        finally:
            stop_server(restarted)
    finally:
        worker.stop()
    assert journal.counts()[SyncState.ACKED] == 3_000
    assert stored(store_url) == (3_000, 3_000)
    assert any(s.state == "offline" for s in seen)
    journal.close()


def test_postgresql_restarted_under_a_running_server(tmp_path: Path) -> None:
    """The database goes away and comes back; the server is not restarted; the bar's worker
    rides it out and every event lands exactly once."""
    from tests.pg import remove_cluster, start_cluster

    cluster = start_cluster()  # its own cluster: the shared one stays up for other tests
    try:
        url = cluster.url(cluster.create_database())
        seed(url)
        server = start_server(url)
        try:
            token = httpx.post(
                f"{server.base_url}/v1/signin", json={"login": "marie", "password": PASSWORD}
            ).json()["token"]
            journal = Journal(tmp_path / "journal.sqlite3")
            clock = SystemClock("Europe/Paris")
            recorder = Recorder(journal, clock, agent="marie", activities=["Assurance Auto"])
            recorder.start()
            offline, synced = threading.Event(), threading.Event()

            def on_status(status: SyncStatus) -> None:
                (
                    synced
                    if status.state == "synced"
                    else offline
                    if status.state == "offline"
                    else threading.Event()
                ).set()

            worker = SyncWorker(
                journal,
                SyncClient(server.base_url, token, clock, timeout_s=5),
                clock,
                agent="marie",
                on_status=on_status,
                interval_s=60,
                backoff=Backoff(base_s=0.05, cap_s=0.5),
            )
            worker.start()
            try:
                assert synced.wait(30)
                cluster.stop("fast")
                synced.clear()
                for key in (Key.PRODUCTION, Key.PAUSE, Key.OFF):
                    recorder.press(key)  # the agent keeps clicking
                worker.kick()
                assert offline.wait(30)  # the server answers 503; the worker backs off
                cluster.start()
                assert synced.wait(60)
            finally:
                worker.stop()
            assert journal.counts()[SyncState.ACKED] == 4
            assert stored(url) == (4, 4)
            health = httpx.get(f"{server.base_url}/health")
            assert health.json() == {"status": "ok"}
            journal.close()
        finally:
            stop_server(server)
    finally:
        remove_cluster(cluster)


def test_client_killed_between_send_and_ack(tmp_path: Path, store_url: str) -> None:
    """The store has the batch, the PC dies before marking it acked; the next run sends it
    again and the store keeps it once."""
    import subprocess
    import sys

    seed(store_url)
    server = start_server(store_url)
    try:
        token = httpx.post(
            f"{server.base_url}/v1/signin", json={"login": "marie", "password": PASSWORD}
        ).json()["token"]
        journal_file = tmp_path / "journal.sqlite3"
        journal = Journal(journal_file)
        clock = SystemClock("Europe/Paris")
        recorder = Recorder(journal, clock, agent="marie", activities=["Assurance Auto"])
        recorder.start()
        for i in range(1_199):
            recorder.press((Key.PRODUCTION, Key.PAUSE, Key.OFF)[i % 3])
        journal.close()
        child = Path(__file__).parent.parent / "children" / "sync_then_die.py"
        root = Path(__file__).parent.parent.parent
        done = subprocess.run(
            [sys.executable, str(child), str(journal_file), server.base_url, token],
            env={**os.environ, "PYTHONPATH": str(root)},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == -signal.SIGKILL, done.stderr
        assert stored(store_url) == (500, 500)  # the first batch is in the store...
        journal = Journal(journal_file)
        assert journal.counts()[SyncState.ACKED] == 0  # ...and the journal never knew
        synced = threading.Event()
        worker = SyncWorker(
            journal,
            SyncClient(server.base_url, token, clock),
            clock,
            agent="marie",
            on_status=lambda s: synced.set() if s.state == "synced" else None,
        )
        worker.start()
        try:
            assert synced.wait(60)
        finally:
            worker.stop()
        assert journal.counts()[SyncState.ACKED] == 1_200
        assert stored(store_url) == (1_200, 1_200)
        journal.close()
    finally:
        stop_server(server)


class _BarBehindProxy:
    """A store behind the tests' TCP proxy, and a bar (journal, recorder, sync worker) that
    reaches it only through the proxy; its statuses are kept and waited on."""

    def __init__(self, tmp_path: Path, url: str, **worker: Any) -> None:
        from tests.netproxy import Proxy

        self.server = start_server(url)
        host, port = self.server.base_url.removeprefix("http://").split(":")
        self.proxy = Proxy((host, int(port))).__enter__()
        token = httpx.post(
            f"{self.proxy.url}/v1/signin", json={"login": "marie", "password": PASSWORD}
        ).json()["token"]
        self.journal = Journal(tmp_path / "journal.sqlite3")
        clock = SystemClock("Europe/Paris")
        self.recorder = Recorder(self.journal, clock, agent="marie", activities=["Assurance Auto"])
        self.recorder.start()
        self.seen: list[SyncStatus] = []
        self.changed = threading.Condition()
        self.worker = SyncWorker(
            self.journal,
            SyncClient(self.proxy.url, token, clock, timeout_s=0.5),
            clock,
            agent="marie",
            on_status=self._on_status,
            **worker,
        )

    def _on_status(self, status: SyncStatus) -> None:
        with self.changed:
            self.seen.append(status)
            self.changed.notify_all()

    def wait_for(self, test: Callable[[], object], timeout: float = 60) -> None:
        with self.changed:
            assert self.changed.wait_for(test, timeout), self.seen[-3:]

    def close(self) -> None:
        self.worker.stop()
        self.journal.close()
        self.proxy.__exit__(None, None, None)
        stop_server(self.server)


def test_network_cut_for_a_long_stretch_while_the_agent_clicks(
    tmp_path: Path, store_url: str
) -> None:
    """Between the bar and the store, a proxy first black-holes every connection (requests
    time out: their fate is unknown), then refuses them, then lets them through again. The
    agent clicks throughout; the worker is never kicked once the network is back: it must
    find out by itself. Every event ends in the store exactly once."""
    seed(store_url)
    bar = _BarBehindProxy(
        tmp_path, store_url, interval_s=60, backoff=Backoff(base_s=0.05, cap_s=0.4)
    )
    seen, proxy, recorder, worker = bar.seen, bar.proxy, bar.recorder, bar.worker
    try:
        worker.start()
        keys = [Key.PRODUCTION, Key.PAUSE, Key.OFF]
        bar.wait_for(lambda: seen and seen[-1].state == "synced")
        proxy.set_mode("blackhole")
        for i in range(600):
            recorder.press(keys[i % 3])
            if i % 100 == 0:
                worker.kick()  # as the bar does after each click
        bar.wait_for(lambda: proxy.swallowed >= 4 and seen[-1].state == "offline")
        proxy.set_mode("refuse")
        for i in range(600):
            recorder.press(keys[i % 3])
        bar.wait_for(lambda: proxy.refused >= 6 and seen[-1].pending > 600)
        assert seen[-1].state == "offline" and seen[-1].offline_since_ms is not None
        proxy.set_mode("pass")  # the network is back; nobody tells the worker
        bar.wait_for(lambda: seen[-1].state == "synced")
        worker.stop()
        assert bar.journal.counts()[SyncState.PENDING] == 0
        assert bar.journal.counts()[SyncState.ACKED] == 1_201
        assert stored(store_url) == (1_201, 1_201)
    finally:
        bar.close()


def test_a_full_disk_is_said_by_health_not_only_by_the_writes(tmp_path: Path) -> None:
    """A store whose disk is full still reads, so `/health` said "ok" while every write got
    a 503: a load balancer kept sending bars there. The server runs here under a file-size
    limit (RLIMIT_FSIZE: writes past it fail as on a full disk). SQLite only: PostgreSQL's
    files are its own server's, out of this process's limits."""
    import resource

    store_url = f"sqlite:///{tmp_path / 'full' / 'store.sqlite3'}"
    seed(store_url)
    folder = tmp_path / "full"
    size = max(p.stat().st_size for p in folder.iterdir())
    limit = size + 96 * 1024

    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG, not death, past the limit
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    served = start_server(store_url, preexec=limited)
    try:
        token = httpx.post(
            f"{served.base_url}/v1/signin", json={"login": "marie", "password": PASSWORD}
        ).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        assert httpx.get(f"{served.base_url}/health").json() == {"status": "ok"}
        status, seq = 200, 0
        while status == 200 and seq < 20_000:
            batch = [wire_event(seq + i + 1, note="x" * 200) for i in range(100)]
            seq += 100
            reply = httpx.post(
                f"{served.base_url}/v1/events",
                json={"device_id": DEVICE, "sent_at_ms": T0_MS, "events": batch},
                headers=headers,
                timeout=30,
            )
            status = reply.status_code
        assert status == 503, "the limit was never reached"
        health = httpx.get(f"{served.base_url}/health")
        assert health.status_code == 503
        assert health.json()["status"] == "store cannot write"
        assert "full" in health.json()["reason"] or "disk" in health.json()["reason"]
    finally:
        stop_server(served)


class _Patient(Backoff):
    """A backoff that always waits ten minutes: only a probe can end the wait early."""

    def next_delay(self, retry_after_s: float | None = None) -> float:
        self.failures += 1
        return 600.0


def test_a_bar_waiting_out_a_long_backoff_resumes_once_the_store_answers_health(
    tmp_path: Path,
) -> None:
    """The store is unreachable, then back; the worker, ten minutes from its next try and
    never kicked, finds out by probing /health (cheap, no token) and sends what it holds —
    long before its backoff ends. (A store that said Retry-After is not probed: see
    tests/test_sync.py::test_a_busy_store_is_left_its_retry_after_and_not_probed.)"""
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    seed(url)
    bar = _BarBehindProxy(
        tmp_path, url, interval_s=600, backoff=_Patient(), probe_every_s=(0.05, 0.2)
    )
    seen, proxy = bar.seen, bar.proxy
    try:
        proxy.set_mode("refuse")
        bar.worker.start()
        bar.recorder.press(Key.PAUSE)
        bar.worker.kick()
        bar.wait_for(lambda: seen and seen[-1].state == "offline" and proxy.refused >= 3)
        assert seen[-1].pending == 2  # the shift's start and the pause wait
        proxy.set_mode("pass")  # back; nobody tells the worker, its backoff is 600 s
        bar.wait_for(lambda: seen[-1].state == "synced")
        bar.worker.stop()
        assert bar.journal.counts()[SyncState.ACKED] == 2
        assert stored(url) == (2, 2)
    finally:
        bar.close()


def test_waiting_with_probes_ends_when_the_store_answers_or_the_bar_is_woken() -> None:
    from app.sync.client import wait_probing

    answers = iter([False, False, True])
    calls: list[int] = []

    def probe() -> bool:
        calls.append(1)
        return next(answers)

    wake = threading.Event()
    assert wait_probing(probe, 600, wake, every_s=(0.001, 0.002)) is True
    assert len(calls) == 3
    wake.set()  # a click (or the bar stopping): the wait ends without a probe
    assert wait_probing(lambda: pytest.fail("probed"), 600, wake, every_s=(0.001, 0.002)) is False
    assert wait_probing(lambda: False, 0.01, threading.Event(), every_s=(5, 6)) is False
