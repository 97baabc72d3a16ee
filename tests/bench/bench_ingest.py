"""The central store's benchmarks: ingest rate, one click to acknowledged, drain after an outage.

Run: .venv/bin/python -m tests.bench.bench_ingest [--events 20000] [--aw-server PATH]
Each figure is measured on SQLite and on a throwaway PostgreSQL, through a real
`bandeau-server serve` (uvicorn, one process) on loopback. Not a test: figures only.

Side by side, on SQLite, with one client and with four (batches of 100, the same run; every
server gets its requests encoded before the clock starts, so that the figure is the server's):
- ActivityWatch's aw-server, the open-source peer that also stores desktop clients' events
  (WAL, synchronous=FULL, like Bandeau), from PyPI in a virtual environment of its own:
      python3 -m venv /tmp/awenv && /tmp/awenv/bin/pip install aw-server==0.12.0 'peewee<3.18'
  (its last release, 2023, fails on peewee 4: every bucket read answers 500)
  then `--aw-server /tmp/awenv/bin/aw-server` (left out, and said, when not given);
- the floor of Bandeau's own stack (tests/bench/floor.py: uvicorn and one plain sqlite3
  insert and durable commit per batch, no checks).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import selectors
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from app.domain.clock import SystemClock
from app.domain.events import Key, SyncState
from app.journal import Journal
from app.recording import Recorder
from app.sync.client import SyncClient
from app.sync.worker import SyncStatus, SyncWorker
from tests.pg import remove_cluster, start_cluster
from tests.servers import PASSWORD, seed, start_server, stop_server, wire_event


def show(name: str, value: str, target: str, ok: bool) -> None:
    print(f"  {name:<50} {value:>16}   target {target:<14} {'ok' if ok else 'MISSED'}")


def wire(device: str, seq: int, now: int) -> dict[str, Any]:
    return wire_event(
        seq, device_id=device, occurred_at_ms=now, key=("production", "pause", "off")[seq % 3]
    )


def sign_in(base: str, device: str) -> str:
    """A token bound to `device` (each PC signs in with its own journal's device id)."""
    reply = httpx.post(
        f"{base}/v1/signin",
        json={"login": "marie", "password": PASSWORD, "device_id": device},
        timeout=30,
    )
    return str(reply.json()["token"])


# One client's requests: its headers, then each request's path and body, encoded before the
# clock starts (every server measured gets the same: the figure is the server's, not the
# encoder's), and how a reply is checked.
Requests = tuple[dict[str, str], list[tuple[str, bytes]]]
BATCH = 100  # events per request, whole batches only


def rate(base: str, clients: list[Requests], check: Callable[[httpx.Response], str]) -> float:
    """Events per second (batches of BATCH) when every client sends its requests in turn,
    one in flight each, all clients at once. `check(reply)`: what is wrong, or ""."""
    errors: list[str] = []

    def send(headers: dict[str, str], requests: list[tuple[str, bytes]]) -> None:
        headers = {**headers, "Content-Type": "application/json"}
        with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
            for path, body in requests:
                wrong = check(http.post(path, content=body))
                if wrong:
                    errors.append(wrong)

    threads = [threading.Thread(target=send, args=c) for c in clients]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        print(f"  {len(errors)} errors:", errors[:3])
    return sum(len(r) for _, r in clients) * BATCH / elapsed


def batches(total: int, clients: int) -> list[tuple[str, list[bytes]]]:
    """Each client a PC of its own: its journal's device id and its batches, encoded."""
    now = time.time_ns() // 1_000_000
    made = []
    for _ in range(clients):
        device = str(uuid.uuid4())
        events = [wire(device, i + 1, now) for i in range(total // clients // BATCH * BATCH)]
        bodies = [
            orjson.dumps({"device_id": device, "sent_at_ms": now, "events": events[i : i + BATCH]})
            for i in range(0, len(events), BATCH)
        ]
        made.append((device, bodies))
    return made


def bandeau_requests(base: str, total: int, clients: int) -> list[Requests]:
    """Each PC's token is bound to its device id, as a bar's is."""
    return [
        ({"Authorization": f"Bearer {sign_in(base, device)}"}, [("/v1/events", b) for b in bodies])
        for device, bodies in batches(total, clients)
    ]


def all_accepted(reply: httpx.Response) -> str:
    if reply.status_code != 200 or len(reply.json()["accepted"]) != BATCH:
        return reply.text[:200]
    return ""


def answered(reply: httpx.Response) -> str:
    return "" if reply.status_code == 200 else reply.text[:200]


def ingest_rate(base: str, total: int, clients: int) -> float:
    return rate(base, bandeau_requests(base, total, clients), all_accepted)


def click_to_ack(base: str, n: int) -> list[float]:
    device = str(uuid.uuid4())
    headers = {"Authorization": f"Bearer {sign_in(base, device)}"}
    times = []
    with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
        for i in range(n):
            now = time.time_ns() // 1_000_000
            t0 = time.perf_counter()
            reply = http.post(
                "/v1/events",
                json={"device_id": device, "sent_at_ms": now, "events": [wire(device, i + 1, now)]},
            )
            times.append((time.perf_counter() - t0) * 1000)
            assert reply.status_code == 200
    return sorted(times)


def click_to_ack_during_sign_ins(base: str, n: int, signers: int) -> list[float]:
    """`click_to_ack` while waves of `signers` sign-ins arrive at once (the 8 a.m. log-in
    wave: ten agents signing in together, again and again): the password checks must not
    hold up the clicks."""
    stop = threading.Event()
    done = [0]

    def waves() -> None:
        with httpx.Client(base_url=base, timeout=30) as http:

            def one() -> None:
                http.post("/v1/signin", json={"login": "paul", "password": PASSWORD})

            while not stop.is_set():
                wave = [threading.Thread(target=one) for _ in range(signers)]
                for thread in wave:
                    thread.start()
                for thread in wave:
                    thread.join(30)
                done[0] += signers
                stop.wait(0.5)  # a wave every half second or so

    driver = threading.Thread(target=waves, daemon=True)
    driver.start()
    try:
        return click_to_ack(base, n)
    finally:
        stop.set()
        driver.join(60)
        print(f"  ({done[0]} sign-ins meanwhile, in waves of {signers})")


def drain(base: str, queued: int, workdir: Path) -> float:
    journal = Journal(workdir / "journal.sqlite3")
    token = sign_in(base, journal.device_id)
    clock = SystemClock("Europe/Paris")
    recorder = Recorder(journal, clock, agent="marie", activities=["Assurance Auto"])
    recorder.start()
    keys = [Key.PRODUCTION, Key.PAUSE, Key.OFF]
    for i in range(queued - 1):
        recorder.press(keys[i % 3])  # the agent clicking through the outage
    done = threading.Event()

    def on_status(status: SyncStatus) -> None:
        if status.state == "synced":
            done.set()

    worker = SyncWorker(
        journal,
        SyncClient(base, token, clock),
        clock,
        agent="marie",
        on_status=on_status,
        interval_s=60,
    )
    start = time.perf_counter()
    worker.start()
    done.wait(120)
    elapsed = time.perf_counter() - start
    worker.stop()
    assert journal.counts()[SyncState.PENDING] == 0
    journal.close()
    return elapsed


def run_on(label: str, url: str, events: int) -> None:
    print(f"{label}:")
    seed(url)
    served = start_server(url, clock_start_ms=None)  # a benchmark runs on real time
    try:
        base = served.base_url
        rate = ingest_rate(base, events, clients=4)
        show(
            f"ingest, batches of 100, 4 clients ({events} events)",
            f"{rate:,.0f} ev/s",
            ">= 30,000 ev/s",
            rate >= 30_000,
        )
        times = click_to_ack(base, 1000)
        p50, p99 = times[len(times) // 2], times[int(len(times) * 0.99) - 1]
        show("one event, send to acknowledged, p50", f"{p50:.2f} ms", "-", True)
        show("one event, send to acknowledged, p99", f"{p99:.2f} ms", "<= 10 ms", p99 <= 10)
        times = click_to_ack_during_sign_ins(base, 300, signers=10)
        p99 = times[int(len(times) * 0.99) - 1]
        show(
            "one event, p99, while 10 clients sign in",
            f"{p99:.2f} ms",
            "<= 10 ms",
            p99 <= 10,
        )
        with tempfile.TemporaryDirectory() as tmp:
            seconds = drain(base, 10_000, Path(tmp))
        show("drain of 10,000 queued events", f"{seconds:.2f} s", "<= 3 s", seconds <= 3)
    finally:
        stop_server(served)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_floor(db: Path) -> tuple[subprocess.Popen[bytes], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.bench.floor", "--db", str(db)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert proc.stderr is not None
    text = ""
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stderr.fileno(), selectors.EVENT_READ)
        while (found := re.search(r"serving on (http://\S+)", text)) is None:
            if not sel.select(30):
                proc.kill()
                raise TimeoutError(text)
            text += os.read(proc.stderr.fileno(), 4096).decode()
    return proc, found.group(1)


def start_aw_server(command: str, home: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "HOME": str(home), "XDG_DATA_HOME": str(home / "data")}
    env["XDG_CONFIG_HOME"] = str(home / "config")
    proc = subprocess.Popen(
        [command, "--host", "127.0.0.1", "--port", str(port), "--storage", "peewee"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/api/0/info", timeout=2).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)  # a benchmark waiting for a server it started, not a test
    proc.kill()
    raise TimeoutError("aw-server did not start")


def aw_requests(total: int, clients: int) -> list[Requests]:
    """The same number of events for aw-server, in its own shape (one bucket per client)."""
    start = dt.datetime.now(dt.UTC)
    made: list[Requests] = []
    for c in range(clients):
        bodies = []
        for batch in range(total // clients // BATCH):
            body = [
                {
                    "timestamp": (start + dt.timedelta(milliseconds=batch * BATCH + i)).isoformat(),
                    "duration": 0,
                    "data": {"key": ("production", "pause", "off")[i % 3]},
                }
                for i in range(BATCH)
            ]
            bodies.append((f"/api/0/buckets/bench-{clients}-{c}/events", orjson.dumps(body)))
        made.append(({}, bodies))
    return made


ROUNDS = 3


def side_by_side(events: int, aw_server: str | None) -> None:
    """Bandeau, aw-server and the own-stack floor, on SQLite, in one run: the three running
    at once (an idle one costs nothing), measured in turn, ROUNDS times, each figure the
    median of its rounds — a shared machine's slow minute falls on all three alike."""
    print(f"Side by side on SQLite (batches of 100, events/s, median of {ROUNDS} rounds):")
    runs: dict[tuple[str, int], list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'store.sqlite3'}"
        seed(url)
        served = start_server(url, clock_start_ms=None)
        floor: subprocess.Popen[bytes] | None = None
        aw: subprocess.Popen[bytes] | None = None
        try:
            floor, floor_base = start_floor(Path(tmp) / "floor.sqlite3")
            if aw_server:
                aw, aw_base = start_aw_server(aw_server, Path(tmp) / "aw")
                for clients in (1, 4):
                    for c in range(clients):  # a bucket per client, as aw_requests sends
                        httpx.post(
                            f"{aw_base}/api/0/buckets/bench-{clients}-{c}",
                            json={"client": "bench", "type": "status", "hostname": "bench"},
                        ).raise_for_status()
            measures: dict[str, Callable[[int, int], float]] = {
                "bandeau": lambda total, n: ingest_rate(served.base_url, total, n),
                # The same batches as Bandeau's (the floor reads only the events).
                "floor": lambda total, n: rate(
                    floor_base,
                    [({}, [("/v1/events", b) for b in bodies]) for _d, bodies in batches(total, n)],
                    all_accepted,
                ),
            }
            if aw:
                measures["aw-server"] = lambda total, n: rate(
                    aw_base, aw_requests(total, n), answered
                )
            for measure in measures.values():
                measure(2_000, 1)  # warmed up: first requests, caches
            for _round in range(ROUNDS):
                for clients in (1, 4):
                    for name, measure in measures.items():
                        runs.setdefault((name, clients), []).append(measure(events, clients))
        finally:
            stop_server(served)
            for proc in (floor, aw):
                if proc is not None:
                    proc.terminate()
                    proc.wait(30)
    figures = {k: statistics.median(v) for k, v in runs.items()}
    for clients in (1, 4):
        ours = figures[("bandeau", clients)]
        floor_rate = figures[("floor", clients)]
        show(f"Bandeau, {clients} client(s)", f"{ours:,.0f} ev/s", "-", True)
        show(f"  own-stack floor, {clients} client(s)", f"{floor_rate:,.0f} ev/s", "-", True)
        show(
            f"  Bandeau / floor, {clients} client(s)",
            f"{ours / floor_rate:.2f}x",
            ">= 0.9x",
            ours / floor_rate >= 0.9,
        )
        if ("aw-server", clients) in figures:
            theirs = figures[("aw-server", clients)]
            show(f"  aw-server, {clients} client(s)", f"{theirs:,.0f} ev/s", "-", True)
            show(
                f"  Bandeau / aw-server, {clients} client(s)",
                f"{ours / theirs:.2f}x",
                ">= 3x",
                ours / theirs >= 3,
            )
    for (name, clients), values in runs.items():
        rounds = ", ".join(f"{v:,.0f}" for v in values)
        print(f"  rounds: {name}, {clients} client(s): {rounds}")
    if not aw_server:
        print("  (aw-server left out: --aw-server PATH, see this script's docstring)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--aw-server", help="aw-server's command, in its own environment")
    parser.add_argument("--peers-only", action="store_true", help="only the side-by-side")
    args = parser.parse_args()
    print(
        f"Bandeau store benchmarks — Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
        f"{statistics.__name__ and 'one uvicorn process'}"
    )
    side_by_side(args.events, args.aw_server)
    if args.peers_only:
        return
    with tempfile.TemporaryDirectory() as tmp:
        run_on("SQLite", f"sqlite:///{Path(tmp) / 'store.sqlite3'}", args.events)
    cluster = start_cluster()
    try:
        run_on("PostgreSQL", cluster.url(cluster.create_database()), args.events)
    finally:
        remove_cluster(cluster)


if __name__ == "__main__":
    main()
