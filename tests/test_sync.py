"""The sync client: timing maths, then a real worker against a real server."""

from __future__ import annotations

import random
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.domain.clock import SystemClock
from app.domain.events import Event, Key, Kind, SyncState
from app.journal import Journal
from app.recording import Recorder
from app.sync.client import SyncClient
from app.sync.timing import Backoff, Exchange, OffsetEstimator
from app.sync.worker import SyncStatus, SyncWorker
from tests.processes import wait_until
from tests.servers import PASSWORD, Served, start_server, stop_server


def test_backoff_is_jittered_capped_and_honours_retry_after() -> None:
    backoff = Backoff(base_s=0.5, cap_s=60, rng=random.Random(1))
    delays = [backoff.next_delay() for _ in range(12)]
    for n, delay in enumerate(delays):
        assert 0 <= delay <= min(60, 0.5 * 2**n)
    assert max(delays[8:]) <= 60
    assert backoff.next_delay(retry_after_s=30) >= 30
    backoff.reset()
    assert backoff.next_delay() <= 0.5


def test_ntp_offset_and_delay() -> None:
    # Client clock 7 s behind; 40 ms each way; the server took 5 ms.
    ex = Exchange(t1=1_000, t2=8_040, t3=8_045, t4=1_085)
    assert ex.offset_ms == 7_000
    assert ex.delay_ms == 80
    estimator = OffsetEstimator()
    assert estimator.offset_ms is None
    estimator.add(Exchange(t1=0, t2=7_900, t3=7_900, t4=1_000))  # slow: says 7,400
    estimator.add(ex)
    assert estimator.offset_ms == 7_000  # the quickest exchange wins


class Watcher:
    """Collects the worker's statuses; waits (with a timeout) for one that matches."""

    def __init__(self) -> None:
        self.seen: list[SyncStatus] = []
        self._cond = threading.Condition()

    def __call__(self, status: SyncStatus) -> None:
        with self._cond:
            self.seen.append(status)
            self._cond.notify_all()

    def wait_for(self, test: Callable[[SyncStatus], bool], timeout: float = 30) -> SyncStatus:
        with self._cond:
            ok = self._cond.wait_for(lambda: bool(self.seen) and test(self.seen[-1]), timeout)
            assert ok, f"no matching status; last: {self.seen[-1:]!r}"
            return self.seen[-1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def token_for(base_url: str, login: str = "marie") -> str:
    reply = httpx.post(f"{base_url}/v1/signin", json={"login": login, "password": PASSWORD})
    reply.raise_for_status()
    return str(reply.json()["token"])


def recorder(tmp_path: Path) -> Recorder:
    journal = Journal(tmp_path / "journal.sqlite3")
    rec = Recorder(
        journal,
        SystemClock("Europe/Paris"),
        agent="marie",
        activities=["Assurance Auto", "Banque Pro"],
    )
    rec.start()
    return rec


def worker_for(
    rec: Recorder, base_url: str, token: str, watcher: Watcher, **over: Any
) -> SyncWorker:
    client = SyncClient(base_url, token, rec.clock, timeout_s=5)
    options: dict[str, Any] = {
        "interval_s": 30,
        "heartbeat_s": 30,
        "backoff": Backoff(base_s=0.05, cap_s=0.3),
        **over,
    }
    return SyncWorker(rec.journal, client, rec.clock, agent="marie", on_status=watcher, **options)


@pytest.mark.slow
def test_clicks_reach_the_store_and_are_acked(tmp_path: Path, live_server: Served) -> None:
    rec = recorder(tmp_path)
    for key in (Key.PRODUCTION, Key.PAUSE, Key.OFF):
        rec.press(key)
    watcher = Watcher()
    worker = worker_for(rec, live_server.base_url, token_for(live_server.base_url), watcher)
    worker.start()
    try:
        status = watcher.wait_for(lambda s: s.state == "synced")
        assert (status.pending, status.problems) == (0, 0)
        rec.press(Key.PRODUCTION)
        worker.kick()
        watcher.wait_for(lambda s: s.state == "synced" and len(watcher.seen) > 1)
    finally:
        worker.stop()
    counts = rec.journal.counts()
    assert counts[SyncState.PENDING] == 0
    assert counts[SyncState.ACKED] == 5
    assert worker.offsets.offset_ms is not None
    assert abs(worker.offsets.offset_ms) < 1_000  # same machine: no real offset
    rec.journal.close()


@pytest.mark.slow
def test_a_poison_event_is_quarantined_and_the_rest_flow(
    tmp_path: Path, live_server: Served
) -> None:
    rec = recorder(tmp_path)
    rec.press(Key.PAUSE)
    clock = rec.clock
    (poison,) = rec.journal.append(
        Event(
            device_id=rec.journal.device_id,
            agent="marie",
            kind=Kind.STATUS,
            key=Key.OFF,
            activity="Campagne fermée",
            occurred_at_ms=clock.now_ms(),
            tz_name="Europe/Paris",
            utc_offset_s=3600,
            monotonic_ms=clock.monotonic_ms(),
        )
    )
    rec.press(Key.PRODUCTION)
    watcher = Watcher()
    worker = worker_for(rec, live_server.base_url, token_for(live_server.base_url), watcher)
    worker.start()
    try:
        status = watcher.wait_for(lambda s: s.state == "synced")
    finally:
        worker.stop()
    assert status.problems == 1
    quarantined = [e for e in rec.journal.entries() if e.sync_state is SyncState.QUARANTINED]
    assert [e.event.uuid for e in quarantined] == [poison.uuid]
    assert "activity" in (quarantined[0].sync_error or "")
    assert rec.journal.counts()[SyncState.ACKED] == 3
    rec.journal.close()


@pytest.mark.slow
def test_offline_then_back_by_itself(tmp_path: Path, seeded_url: str) -> None:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    first = start_server(seeded_url, "--port", str(port))
    token = token_for(base_url)
    stop_server(first)  # the server goes away (restart, VPN drop)
    rec = recorder(tmp_path)
    rec.press(Key.PRODUCTION)
    watcher = Watcher()
    worker = worker_for(rec, base_url, token, watcher)
    worker.start()
    try:
        offline = watcher.wait_for(lambda s: s.state == "offline")
        assert offline.offline_since_ms is not None
        assert offline.pending == 2
        rec.press(Key.PAUSE)  # the agent keeps clicking
        second = start_server(seeded_url, "--port", str(port))
        try:
            back = watcher.wait_for(lambda s: s.state == "synced")  # no kick, no restart
        finally:
            stop_server(second)
    finally:
        worker.stop()
    assert back.pending == 0
    assert rec.journal.counts()[SyncState.ACKED] == 3
    rec.journal.close()


@pytest.mark.slow
def test_a_revoked_token_stops_sending_and_keeps_the_events(
    tmp_path: Path, live_server: Served
) -> None:
    token = token_for(live_server.base_url)
    httpx.post(f"{live_server.base_url}/v1/signout", headers={"Authorization": f"Bearer {token}"})
    rec = recorder(tmp_path)
    rec.press(Key.PAUSE)
    watcher = Watcher()
    worker = worker_for(rec, live_server.base_url, token, watcher)
    worker.start()
    try:
        status = watcher.wait_for(lambda s: s.state == "signed_out")
    finally:
        worker.stop()
    assert status.pending == 2
    assert rec.journal.counts()[SyncState.PENDING] == 2
    rec.journal.close()


@pytest.mark.slow
def test_a_pc_clock_set_right_mid_shift_is_measured_again(
    tmp_path: Path, server_on_test_clock: Served
) -> None:
    """The PC is 7 minutes fast, then a time server sets it right: the offset measured
    before the jump must not go on being applied to what is sent after it."""
    fast = 7 * 60_000

    class SettableClock(SystemClock):
        """The machine's clocks, the wall clock set `wrong_ms` off the store's."""

        wrong_ms = fast

        def now_ms(self) -> int:
            return server_on_test_clock.now_ms() + self.wrong_ms

    clock = SettableClock("Europe/Paris")
    journal = Journal(tmp_path / "journal.sqlite3")
    rec = Recorder(journal, clock, agent="marie", activities=["Assurance Auto"])
    rec.start()
    watcher = Watcher()
    worker = SyncWorker(
        journal,
        SyncClient(server_on_test_clock.base_url, token_for(server_on_test_clock.base_url), clock),
        clock,
        agent="marie",
        on_status=watcher,
        interval_s=30,
        heartbeat_s=0,  # a heartbeat, so an exchange, at each round
        backoff=Backoff(base_s=0.05, cap_s=0.3),
    )
    worker.start()
    try:
        watcher.wait_for(lambda s: s.state == "synced")
        before = worker.offsets.offset_ms
        assert before is not None and abs(before + fast) < 5_000  # the store is 7 min behind
        clock.wrong_ms = 0  # set right: a jump back of 7 minutes
        seen = len(watcher.seen)
        worker.kick()
        watcher.wait_for(lambda s: len(watcher.seen) > seen and s.state == "synced")
        after = worker.offsets.offset_ms
        assert after is not None and abs(after) < 5_000, (before, after)
    finally:
        worker.stop()
        journal.close()


@pytest.mark.slow
def test_the_worker_outlives_a_listener_that_fails(tmp_path: Path, live_server: Served) -> None:
    rec = recorder(tmp_path)
    rec.press(Key.PAUSE)
    watcher = Watcher()
    calls = {"n": 0}

    def fragile(status: SyncStatus) -> None:
        calls["n"] += 1
        if calls["n"] <= 2:
            raise RuntimeError("the bar was busy")  # e.g. a widget already deleted
        watcher(status)

    worker = worker_for(rec, live_server.base_url, token_for(live_server.base_url), watcher)
    worker._on_status = fragile
    worker.start()
    try:
        rec.press(Key.OFF)

        def told_again() -> bool:
            worker.kick()  # a round per kick: the first two statuses fail to be told
            return calls["n"] >= 3

        wait_until(told_again)
        watcher.wait_for(lambda s: s.state == "synced")
        assert worker.is_alive()
    finally:
        worker.stop()
    assert rec.journal.counts()[SyncState.PENDING] == 0
    rec.journal.close()


class RefusingStore:
    """A real HTTP server on loopback that speaks the store's protocol and refuses as told:
    `content`: a batch holding an event with the note "poison" gets a 422 as a whole (as a
    store that checks the batch before it reads it would); `forbidden`: every request gets a
    403; `busy`: the first three batches get 503 with a Retry-After. Counts the requests it
    answered (and the /health probes)."""

    def __init__(self, mode: str) -> None:
        import json
        import time
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        store = self
        self.mode = mode
        self.batches: list[int] = []
        self.heartbeats = 0
        self.probes = 0
        self.lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: object) -> None:
                pass

            def do_GET(self) -> None:
                with store.lock:
                    store.probes += self.path == "/health"
                self._answer(200, {"status": "ok"})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                now = int(time.time() * 1000)
                if store.mode == "busy" and self.path == "/v1/events":
                    with store.lock:
                        shed = len(store.batches) < 3
                        if shed:
                            store.batches.append(len(body["events"]))
                    if shed:
                        self._answer(
                            503,
                            {"error": "busy", "code": "store_busy"},
                            {"Retry-After": "0.1"},
                        )
                        return
                if store.mode == "forbidden":
                    if self.path == "/v1/events":  # counted before the answer leaves
                        with store.lock:
                            store.batches.append(len(body["events"]))
                    self._answer(403, {"error": "device taken", "code": "device_taken"})
                    return
                if self.path == "/v1/heartbeat":
                    with store.lock:
                        store.heartbeats += 1
                    self._answer(200, {"received_at_ms": now, "replied_at_ms": now})
                    return
                events = body["events"]
                with store.lock:
                    store.batches.append(len(events))
                if any(e.get("note") == "poison" for e in events):
                    self._answer(422, {"error": "bad note", "code": "invalid", "field": "note"})
                    return
                accepted = [e["uuid"] for e in events]
                self._answer(
                    200,
                    {
                        "accepted": accepted,
                        "rejected": [],
                        "received_at_ms": now,
                        "replied_at_ms": now,
                    },
                )

            def _answer(
                self, status: int, data: dict[str, object], headers: dict[str, str] | None = None
            ) -> None:
                raw = json.dumps(data).encode()
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)


def test_a_batch_the_store_refuses_is_split_to_the_events_refused(tmp_path: Path) -> None:
    """A 4xx on a batch is never sent again unchanged: halves until the refused event is
    alone, which is quarantined with the store's reason; the others are acked."""
    store = RefusingStore("content")
    rec = recorder(tmp_path)
    for i in range(12):
        rec.press([Key.PRODUCTION, Key.PAUSE, Key.OFF][i % 3], "poison" if i == 7 else None)
    watcher = Watcher()
    worker = worker_for(rec, store.base_url, "t", watcher)
    worker.start()
    try:
        status = watcher.wait_for(lambda s: s.state in ("synced", "waiting") and s.problems == 1)
        assert status.pending == 0
    finally:
        worker.stop()
        store.stop()
    entries = rec.journal.entries()
    quarantined = [e for e in entries if e.sync_state is SyncState.QUARANTINED]
    assert [e.event.note for e in quarantined] == ["poison"]
    assert "422" in str(quarantined[0].sync_error) and "bad note" in str(quarantined[0].sync_error)
    assert sum(e.sync_state is SyncState.ACKED for e in entries) == len(entries) - 1
    # 13 events: the batch, then halves down to the one (about 2·log2(13) requests).
    assert store.batches[0] == len(entries) and len(store.batches) <= 10
    rec.journal.close()


def test_a_store_that_refuses_the_bar_is_said_and_not_hammered(tmp_path: Path) -> None:
    """A 403 is neither "offline" nor retried in a loop: the bar says "refused" with the
    store's reason, and tries again at the next click (or after REFUSED_DELAY_S)."""
    store = RefusingStore("forbidden")
    rec = recorder(tmp_path)
    rec.press(Key.PAUSE)
    watcher = Watcher()
    worker = worker_for(rec, store.base_url, "t", watcher)
    worker.start()
    try:
        status = watcher.wait_for(lambda s: s.state == "refused")
        assert status.detail == "device taken" and status.pending == 2
        assert status.offline_since_ms is None
        with store.lock:
            first = len(store.batches)
        seen = len(watcher.seen)
        rec.press(Key.OFF)
        worker.kick()
        watcher.wait_for(lambda s: len(watcher.seen) > seen and s.state == "refused")
        with store.lock:
            assert len(store.batches) == first + 1  # one try for the click, no loop
    finally:
        worker.stop()
        store.stop()
    assert rec.journal.counts()[SyncState.PENDING] == 3  # kept, never quarantined
    rec.journal.close()


def test_a_busy_store_is_left_its_retry_after_and_not_probed(tmp_path: Path) -> None:
    """503 with Retry-After: the store is up and said when to come back. The bar waits that
    long (at least) and does not probe /health meanwhile (probing is for a store that did
    not answer); then its events go."""
    store = RefusingStore("busy")
    rec = recorder(tmp_path)
    rec.press(Key.PAUSE)
    watcher = Watcher()
    worker = worker_for(
        rec,
        store.base_url,
        "t",
        watcher,
        backoff=Backoff(base_s=0.001, cap_s=0.002),
        probe_every_s=(0.001, 0.002),
    )
    worker.start()
    try:
        watcher.wait_for(lambda s: s.state == "synced")
    finally:
        worker.stop()
        store.stop()
    with store.lock:
        assert len(store.batches) == 4  # three refused, then taken
        assert store.probes == 0  # with probing, the 0.1 s waits would each have held ~50
    assert rec.journal.counts()[SyncState.ACKED] == 2
    rec.journal.close()
