"""The fault matrix: each fault, its rounds, and at the end of each the count check (every
event the bar recorded is in the store, exactly once) and the store's figures against the
expected ones. Prints a table; exit 1 if a case failed.

Run: .venv/bin/python -m tests.load.faults [--rounds 20] [--partition-s 600] [--only NAME]
     (--partition-s 30 for a quick pass; the cases: bar-kill, server-kill, pg-restart,
     partition, client-disk, store-disk, clock)

Real parts: `bandeau-server serve` processes (killed with SIGKILL), the bar's journal,
recorder and sync worker (in a child process where the bar is killed), the tests' TCP proxy,
a throwaway PostgreSQL restarted with pg_ctl, file-size limits (RLIMIT_FSIZE) for a full
disk. The clicks run on a simulated clock that moves 30–90 s per click, so that the store's
figures (production, pause, off, unclassified, in seconds) cover hours and are worth
comparing with the ones the bar's own code works out from its journal
(`app.domain.totals`): they must agree within 1 s, the store correcting each batch by its
measured clock offset (a few ms). The clock case compares with the true instants instead.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import select

from app.domain.clock import FakeClock, SystemClock
from app.domain.events import Event, Key, SyncState
from app.domain.totals import local_day, local_day_bounds, totals
from app.journal import Journal
from app.recording import Recorder
from app.server import models as m
from app.server.db import make_engine
from app.sync.client import SyncClient
from app.sync.timing import Backoff
from app.sync.worker import SyncStatus, SyncWorker
from tests.netproxy import Proxy
from tests.pg import remove_cluster, start_cluster
from tests.servers import PASSWORD, Served, seed, start_server, stop_server

ZONE = ZoneInfo("Europe/Paris")
ROOT = Path(__file__).resolve().parent.parent.parent
CHILDREN = ROOT / "tests" / "children"
FIGURES = ("production_s", "pause_s", "off_s", "unclassified_s")
SPAN_S = 18 * 3600  # the simulated clicks of a case span at most this (from 20 h ago)


@dataclass
class Result:
    name: str
    rounds: int
    created: int
    stored_once: int
    figures_ok: bool
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.created == self.stored_once and self.created > 0 and self.figures_ok


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sign_in(base: str, device: str) -> str:
    reply = httpx.post(
        f"{base}/v1/signin",
        json={"login": "marie", "password": PASSWORD, "device_id": device},
        timeout=30,
    )
    reply.raise_for_status()
    return str(reply.json()["token"])


def device_of(journal_file: Path) -> str:
    journal = Journal(journal_file)
    try:
        return journal.device_id
    finally:
        journal.close()


def stored_once(url: str, uuids: set[str]) -> int:
    """How many of `uuids` the store holds; ValueError if it holds one twice or holds others
    (the store's keys make twice impossible: checked all the same)."""
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = list(conn.execute(select(m.events.c.uuid)).scalars())
    engine.dispose()
    if len(rows) != len(set(rows)):
        raise ValueError("an event is in the store twice")
    extra = set(rows) - uuids
    if extra:
        raise ValueError(f"{len(extra)} events in the store that the bar never recorded")
    return len(uuids & set(rows))


def expected_figures(events: list[Event]) -> dict[str, int]:
    """The bar's own figures over the days its events cover (app.domain.totals), in ms."""
    first = local_day(events[0].occurred_at_ms, ZONE)
    last = local_day(events[-1].occurred_at_ms, ZONE)
    start, end = local_day_bounds(first, ZONE)[0], local_day_bounds(last, ZONE)[1]
    found = totals(events, start, end, now_ms=end)
    return {
        "production_s": found.by_key[Key.PRODUCTION],
        "pause_s": found.by_key[Key.PAUSE],
        "off_s": found.by_key[Key.OFF],
        "unclassified_s": found.unclassified_ms,
    }


def store_figures(base: str, token: str, first: date, last: date) -> dict[str, int]:
    reply = httpx.get(
        f"{base}/v1/report",
        params={"from": first.isoformat(), "to": last.isoformat(), "by": "agent"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    reply.raise_for_status()
    rows = reply.json()["rows"]
    return {name: sum(int(r[name]) for r in rows) for name in FIGURES}


def figures_agree(base: str, token: str, events: list[Event]) -> tuple[bool, str]:
    expected = expected_figures(events)
    first = local_day(events[0].occurred_at_ms, ZONE)
    last = local_day(events[-1].occurred_at_ms, ZONE)
    got = store_figures(base, token, first, last)
    wrong = {
        k: (expected[k] / 1000, got[k]) for k in FIGURES if abs(expected[k] / 1000 - got[k]) > 1
    }
    shown = f"{got['production_s'] / 3600:.1f} h prod."
    return not wrong, shown if not wrong else f"expected/store: {wrong}"


def journal_events(journal_file: Path) -> list[Event]:
    journal = Journal(journal_file)
    try:
        assert journal.recovery is None and journal.integrity_check() == ["ok"]
        return [e.event for e in journal.entries()]
    finally:
        journal.close()


class Waiter:
    """A sync worker's statuses, waited on."""

    def __init__(self) -> None:
        self.seen: list[SyncStatus] = []
        self.changed = threading.Condition()

    def __call__(self, status: SyncStatus) -> None:
        with self.changed:
            self.seen.append(status)
            self.changed.notify_all()

    def mark(self) -> int:
        with self.changed:
            return len(self.seen)

    def wait(
        self, test: Callable[[SyncStatus], bool], timeout: float = 120, after: int = 0
    ) -> SyncStatus:
        """The first status, from the `after`-th on (`mark()`), that passes `test`."""
        with self.changed:
            ok = self.changed.wait_for(
                lambda: len(self.seen) > after and test(self.seen[-1]), timeout
            )
            if not ok:
                raise TimeoutError(f"waited for the worker: {self.seen[-3:]}")
            return self.seen[-1]


@contextmanager
def sqlite_store(tmp: Path, *extra: str) -> Iterator[tuple[str, Served]]:
    url = f"sqlite:///{tmp / 'store.sqlite3'}"
    seed(url)
    served = start_server(url, *extra, clock_start_ms=None)
    try:
        yield url, served
    finally:
        stop_server(served)


def in_process_bar(
    journal_file: Path, base: str, token: str, clock: Any, **worker: Any
) -> tuple[Recorder, SyncWorker, Waiter]:
    journal = Journal(journal_file)
    recorder = Recorder(journal, clock, agent="marie", activities=["Assurance Auto"])
    recorder.start()
    waiter = Waiter()
    real = SystemClock("Europe/Paris")
    options: dict[str, Any] = {
        "interval_s": 0.5,
        "backoff": Backoff(base_s=0.05, cap_s=1.0),
        "probe_every_s": (0.2, 0.5),
        **worker,
    }
    sync = SyncWorker(
        journal,
        SyncClient(base, token, real, timeout_s=options.pop("timeout_s", 5)),
        real,
        agent="marie",
        on_status=waiter,
        **options,
    )
    return recorder, sync, waiter


def simulated_bar(
    tmp: Path, base: str
) -> tuple[Path, FakeClock, tuple[Recorder, SyncWorker, Waiter]]:
    """A bar in this process on a fresh journal, signed in at `base`, its clicks on a
    simulated clock that starts 20 hours ago."""
    journal_file = tmp / "journal.sqlite3"
    token = sign_in(base, device_of(journal_file))
    clock = FakeClock(day_ago_ms(), "Europe/Paris", monotonic_ms=0)
    return journal_file, clock, in_process_bar(journal_file, base, token, clock)


def click(
    recorder: Recorder, clock: FakeClock, rng: random.Random, n: int, step_s: float = 60
) -> None:
    """`n` clicks, the simulated clock moving about `step_s` (from half to one and a half)
    before each."""
    for _ in range(n):
        clock.advance(int(rng.uniform(0.5, 1.5) * step_s * 1000))
        recorder.press(rng.choice([k for k in Key if k is not recorder.state.key]))


def drained(journal: Journal, sync: SyncWorker, waiter: Waiter, timeout: float = 120) -> None:
    """Until the journal holds nothing pending (a status says "synced" from counts read a
    moment before: the journal itself is asked)."""
    deadline = time.monotonic() + timeout
    while journal.counts()[SyncState.PENDING]:
        mark = waiter.mark()
        sync.kick()
        waiter.wait(lambda s: s.state == "synced", max(1.0, deadline - time.monotonic()), mark)


def finish(recorder: Recorder, clock: FakeClock, sync: SyncWorker, waiter: Waiter) -> None:
    clock.advance(60_000)
    recorder.end_shift()
    drained(recorder.journal, sync, waiter)
    sync.stop()
    recorder.journal.close()


def check(
    name: str, rounds: int, url: str, base: str, journal_file: Path, note: str = ""
) -> Result:
    journal = Journal(journal_file)
    try:
        counts = journal.counts()
        left = {
            e.event.uuid: e.sync_error
            for e in journal.entries()
            if e.sync_state is not SyncState.ACKED
        }
    finally:
        journal.close()
    if left:
        note = f"{note}; not acked: {counts[SyncState.PENDING]} pending, ".lstrip("; ")
        note += f"{counts[SyncState.QUARANTINED]} quarantined ({next(iter(left.values()))})"
    events = journal_events(journal_file)
    token = sign_in(base, events[0].device_id)
    uuids = {e.uuid for e in events}
    once = stored_once(url, uuids)
    agree, shown = figures_agree(base, token, events)
    return Result(name, rounds, len(uuids), once, agree, "; ".join(t for t in (shown, note) if t))


def day_ago_ms() -> int:
    return time.time_ns() // 1_000_000 - 20 * 3600_000


# -- the cases --------------------------------------------------------------------------


def bar_kill(rounds: int, seed_: int, **_other: Any) -> Result:
    """The bar (a child process: its journal, recorder and sync worker) killed with SIGKILL
    at a random moment, `rounds` times, during 1,000 clicks or so; started again on the same
    journal each time. Every click it confirmed is in the journal; every event of the
    journal in the store once."""
    rng = random.Random(seed_)
    with tempfile.TemporaryDirectory() as tmp, sqlite_store(Path(tmp)) as (url, served):
        journal_file = Path(tmp) / "journal.sqlite3"
        token = sign_in(served.base_url, device_of(journal_file))
        confirmed: set[str] = set()
        start_ms = day_ago_ms()
        per_round = 1000 // rounds
        step_s = SPAN_S / (2 * per_round * rounds)  # a round clicks at most 2 × per_round
        cut_short = 0

        def child(clicks: int, start: int, *more: str) -> subprocess.Popen[str]:
            return subprocess.Popen(
                [
                    sys.executable,
                    str(CHILDREN / "clicker.py"),
                    str(journal_file),
                    served.base_url,
                    token,
                    str(clicks),
                    str(start),
                    str(rng.randrange(1 << 30)),
                    str(step_s),
                    *more,
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )

        for _ in range(rounds):
            proc = child(per_round * 2, start_ms)
            assert proc.stdout is not None
            kill_after = rng.randint(1, per_round * 2 - 1)
            for n, line in enumerate(proc.stdout, 1):
                confirmed.add(line.split()[1])
                if n >= kill_after:
                    break
            proc.kill()  # SIGKILL: mid-click, mid-batch or between the two
            for line in proc.stdout:
                confirmed.add(line.split()[1])
            cut_short += proc.wait() == -signal.SIGKILL
            start_ms = journal_events(journal_file)[-1].occurred_at_ms + 60_000
        # The last bar makes up the 1,000 clicks (the kills fell where they fell), ends the
        # shift and waits until the store has everything.
        last = child(max(0, 1000 - len(confirmed)), start_ms, "close")
        out, _ = last.communicate(timeout=300)
        assert out.strip().endswith("drained"), out[-200:]
        confirmed.update(line.split()[1] for line in out.splitlines() if line.startswith("click"))
        events = journal_events(journal_file)
        lost = confirmed - {e.uuid for e in events}
        assert not lost, f"confirmed clicks lost: {lost}"
        return check(
            "bar killed (SIGKILL)",
            rounds,
            url,
            served.base_url,
            journal_file,
            f"{len(confirmed)} clicks confirmed, {cut_short} kills",
        )


def server_kill(rounds: int, seed_: int, **_other: Any) -> Result:
    """The store's process killed with SIGKILL while the bar drains (at a random moment:
    mid-batch, mid-commit, between batches), `rounds` times; started again each time."""
    rng = random.Random(seed_)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'store.sqlite3'}"
        seed(url)
        port = free_port()
        served = start_server(url, "--port", str(port), clock_start_ms=None)
        journal_file, clock, (recorder, sync, waiter) = simulated_bar(Path(tmp), served.base_url)
        sync.start()
        try:
            step_s = SPAN_S / (600 * rounds)
            for _ in range(rounds):
                click(recorder, clock, rng, 600, step_s)  # a backlog of two batches and more
                sync.kick()
                threading.Event().wait(rng.uniform(0.0, 0.25))  # then, at a random moment
                served.proc.kill()
                served.proc.wait()
                stop_server(served)
                served = start_server(url, "--port", str(port), clock_start_ms=None)
                drained(recorder.journal, sync, waiter)
            finish(recorder, clock, sync, waiter)
            return check("server killed (SIGKILL)", rounds, url, served.base_url, journal_file)
        finally:
            sync.stop()
            stop_server(served)


def pg_restart(rounds: int, seed_: int, **_other: Any) -> Result:
    """PostgreSQL stopped and started under a running `serve --workers 2` while the agent
    goes on clicking and the bar sending."""
    rng = random.Random(seed_)
    rounds = min(rounds, 5)
    cluster = start_cluster()
    try:
        url = cluster.url(cluster.create_database())
        seed(url)
        served = start_server(url, "--workers", "2", clock_start_ms=None)
        with tempfile.TemporaryDirectory() as tmp:
            journal_file, clock, (recorder, sync, waiter) = simulated_bar(
                Path(tmp), served.base_url
            )
            sync.start()
            try:
                for _ in range(rounds):
                    click(recorder, clock, rng, 50)
                    sync.kick()
                    mark = waiter.mark()
                    cluster.stop(rng.choice(["fast", "immediate"]))
                    click(recorder, clock, rng, 50)  # the agent goes on meanwhile
                    sync.kick()
                    waiter.wait(lambda s: s.state == "offline", after=mark)
                    cluster.start()
                    drained(recorder.journal, sync, waiter)
                finish(recorder, clock, sync, waiter)
                health = httpx.get(f"{served.base_url}/health").json()
                return check(
                    "PostgreSQL restarted under load",
                    rounds,
                    url,
                    served.base_url,
                    journal_file,
                    f"/health after: {health['status']}",
                )
            finally:
                sync.stop()
                stop_server(served)
    finally:
        remove_cluster(cluster)


def partition(rounds: int, seed_: int, partition_s: float = 600, **_other: Any) -> Result:
    """Between the bar and the store, the proxy black-holes every connection (requests time
    out: their fate unknown) for `partition_s` while the agent clicks (one click a second,
    the simulated clock moving 30–90 s each); then lets them through and resets the old
    ones. The worker runs with the real backoff (up to a minute) and must find out alone."""
    rng = random.Random(seed_)
    with tempfile.TemporaryDirectory() as tmp, sqlite_store(Path(tmp)) as (url, served):
        host, port = served.base_url.removeprefix("http://").split(":")
        with Proxy((host, int(port))) as proxy:
            journal_file = Path(tmp) / "journal.sqlite3"
            token = sign_in(proxy.url, device_of(journal_file))
            clock = FakeClock(day_ago_ms(), "Europe/Paris", monotonic_ms=0)
            recorder, sync, waiter = in_process_bar(
                journal_file,
                proxy.url,
                token,
                clock,
                backoff=Backoff(),
                timeout_s=2,
                probe_every_s=(2.0, 4.0),
                interval_s=5.0,
            )
            sync.start()
            try:
                click(recorder, clock, rng, 5)
                sync.kick()
                waiter.wait(lambda s: s.state == "synced")
                proxy.set_mode("blackhole")
                deadline = time.monotonic() + partition_s
                tick = threading.Event()
                while time.monotonic() < deadline:
                    click(recorder, clock, rng, 1)
                    sync.kick()
                    tick.wait(min(1.0, max(0.0, deadline - time.monotonic())))
                pending = waiter.wait(lambda s: s.state == "offline").pending
                mark = waiter.mark()
                proxy.set_mode("pass")  # back; the worker is not told
                back = time.monotonic()
                waiter.wait(lambda s: s.state == "synced", 180, mark)
                drained(recorder.journal, sync, waiter)
                resumed = time.monotonic() - back
                finish(recorder, clock, sync, waiter)
            finally:
                sync.stop()
            return check(
                f"network partition ({partition_s:.0f} s)",
                1,
                url,
                served.base_url,
                journal_file,
                f"{pending} queued, all sent {resumed:.1f} s after",
            )


def client_disk(rounds: int, seed_: int, **_other: Any) -> Result:
    """The bar's disk full (RLIMIT_FSIZE on the bar's process): it says so and keeps the
    previous state; every click it showed is in the journal; once space is back the next
    bar records again and the store gets everything once."""
    rng = random.Random(seed_)
    with tempfile.TemporaryDirectory() as tmp, sqlite_store(Path(tmp)) as (url, served):
        data = Path(tmp) / "bar"
        data.mkdir()
        done = subprocess.run(
            [sys.executable, str(CHILDREN / "full_disk.py"), str(data), "65536", "Assurance Auto"],
            env={**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen"},
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )
        report = json.loads(done.stdout.strip().splitlines()[-1])
        failure = report["failure"]
        assert failure is not None and failure["after"] == failure["before"], failure
        journal_file = data / "journal.sqlite3"
        shown = set(report["recorded"])
        assert shown <= {e.uuid for e in journal_events(journal_file)}
        token = sign_in(served.base_url, device_of(journal_file))
        # Space is back: the bar starts again, the agent clicks on, everything is sent.
        real = SystemClock("Europe/Paris")
        recorder, sync, waiter = in_process_bar(journal_file, served.base_url, token, real)
        sync.start()
        try:
            for _ in range(20):
                recorder.press(rng.choice([k for k in Key if k is not recorder.state.key]))
            recorder.end_shift()
            drained(recorder.journal, sync, waiter)
        finally:
            sync.stop()
            recorder.journal.close()
        return check(
            "client disk full",
            rounds,
            url,
            served.base_url,
            journal_file,
            f"{len(shown)} clicks shown before the disk filled; said: {failure['problem']!r}",
        )


def store_disk(rounds: int, seed_: int, **_other: Any) -> Result:
    """The store's disk full (RLIMIT_FSIZE on the server): the bar gets 503 and queues,
    /health says the store cannot write; space back (the server started again without the
    limit), the queue drains, everything once."""
    rng = random.Random(seed_)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "store"
        url = f"sqlite:///{folder / 'store.sqlite3'}"
        seed(url)
        limit = max(p.stat().st_size for p in folder.iterdir()) + 256 * 1024

        def limited() -> None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG, not death, past it
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

        port = free_port()
        served = start_server(url, "--port", str(port), clock_start_ms=None, preexec=limited)
        journal_file, clock, (recorder, sync, waiter) = simulated_bar(Path(tmp), served.base_url)
        sync.start()
        try:
            health: dict[str, Any] = {}
            for _ in range(200):
                click(recorder, clock, rng, 100, step_s=20)
                sync.kick()
                status = waiter.wait(lambda s: s.state in ("synced", "offline"))
                if status.state == "offline":
                    health = httpx.get(f"{served.base_url}/health").json()
                    break
            assert health.get("status") == "store cannot write", health
            mark = waiter.mark()
            stop_server(served)
            served = start_server(url, "--port", str(port), clock_start_ms=None)
            waiter.wait(lambda s: s.state == "synced", 120, mark)
            drained(recorder.journal, sync, waiter)
            finish(recorder, clock, sync, waiter)
            after = httpx.get(f"{served.base_url}/health").json()["status"]
            return check(
                "store disk full",
                rounds,
                url,
                served.base_url,
                journal_file,
                f"/health said {health['status']!r}, then {after!r}",
            )
        finally:
            sync.stop()
            stop_server(served)


class SkewedClock(SystemClock):
    """The PC's clock: the system's, `skew_ms` ahead (set right by setting it to 0)."""

    def __init__(self) -> None:
        super().__init__("Europe/Paris")
        self.skew_ms = 0

    def now_ms(self) -> int:
        return super().now_ms() + self.skew_ms


def clock_fast(rounds: int, seed_: int, **_other: Any) -> Result:
    """The bar's PC clock 10 minutes fast, then set right mid-shift (a time server): the
    store's times are the true instants (within 2 s), and its figures those of the true
    instants, not of the PC's clock. Real time: a click every half second for 30 s."""
    rng = random.Random(seed_)
    with tempfile.TemporaryDirectory() as tmp, sqlite_store(Path(tmp)) as (url, served):
        journal_file = Path(tmp) / "journal.sqlite3"
        token = sign_in(served.base_url, device_of(journal_file))
        pc = SkewedClock()
        pc.skew_ms = 10 * 60_000
        journal = Journal(journal_file)
        recorder = Recorder(journal, pc, agent="marie", activities=["Assurance Auto"])
        truth: dict[str, int] = {}
        outcome = recorder.start()
        for event in outcome.events:
            truth[event.uuid] = event.occurred_at_ms - pc.skew_ms
        waiter = Waiter()
        sync = SyncWorker(
            journal,
            SyncClient(served.base_url, token, pc, timeout_s=5),
            pc,
            agent="marie",
            on_status=waiter,
            interval_s=0.5,
            backoff=Backoff(base_s=0.05, cap_s=1.0),
        )
        sync.start()
        tick = threading.Event()
        try:
            for n in range(60):
                if n == 30:
                    pc.skew_ms = 0  # set right, mid-shift
                for event in recorder.press(
                    rng.choice([k for k in Key if k is not recorder.state.key])
                ).events:
                    truth[event.uuid] = event.occurred_at_ms - pc.skew_ms
                sync.kick()
                tick.wait(0.5)
            for event in recorder.end_shift().events:
                truth[event.uuid] = event.occurred_at_ms - pc.skew_ms
            drained(journal, sync, waiter)
        finally:
            sync.stop()
            journal.close()
        engine = make_engine(url)
        with engine.connect() as conn:
            stored = dict(conn.execute(select(m.events.c.uuid, m.events.c.corrected_at)).all())
        engine.dispose()
        worst = max(abs(stored[u] - t) for u, t in truth.items() if u in stored)
        events = journal_events(journal_file)
        true_events = [Event(**{**_fields(e), "occurred_at_ms": truth[e.uuid]}) for e in events]
        agree, shown = figures_agree(served.base_url, token, true_events)
        once = stored_once(url, set(truth))
        return Result(
            "client clock 10 min fast, set right",
            rounds,
            len(truth),
            once,
            agree and worst <= 2000,
            f"worst stored time vs true {worst} ms; {shown}",
        )


def _fields(event: Event) -> dict[str, Any]:
    return {name: getattr(event, name) for name in Event.__dataclass_fields__}


CASES: dict[str, Callable[..., Result]] = {
    "bar-kill": bar_kill,
    "server-kill": server_kill,
    "pg-restart": pg_restart,
    "partition": partition,
    "client-disk": client_disk,
    "store-disk": store_disk,
    "clock": clock_fast,
}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--partition-s", type=float, default=600)
    parser.add_argument("--only", action="append", choices=sorted(CASES))
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    seed_ = args.seed if args.seed is not None else random.randrange(1 << 30)
    print(f"Bandeau's fault matrix — seed {seed_} (--seed to run it again)", flush=True)
    results: list[Result] = []
    for name in args.only or list(CASES):
        started = time.monotonic()
        try:
            result = CASES[name](
                rounds=1 if name in ("client-disk", "store-disk", "clock") else args.rounds,
                seed_=seed_,
                partition_s=args.partition_s,
            )
        except Exception as exc:  # a case that breaks is a failed case, said
            result = Result(name, 0, 0, 0, False, f"FAILED: {type(exc).__name__}: {exc}")
        result.note += f" ({time.monotonic() - started:.0f} s)"
        results.append(result)
        print(f"  {'ok' if result.ok else 'FAILED'}  {result.name}: {result.note}", flush=True)
    print()
    print(f"| {'fault':<36} | rounds | events | stored once | figures | result |")
    print(f"|{'-' * 38}|--------|--------|-------------|---------|--------|")
    for r in results:
        print(
            f"| {r.name:<36} | {r.rounds:>6} | {r.created:>6} | {r.stored_once:>11} |"
            f" {'equal' if r.figures_ok else 'DIFFER':>7} | {'ok' if r.ok else 'FAILED':>6} |"
        )
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
