"""The live panel's benchmarks: click to panel, a big panel's UI thread, a server's streams.

Run: .venv/bin/python -m tests.bench.bench_live
Real parts throughout: a `bandeau-server serve` process on an SQLite store (loopback), the
bar's recorder and sync worker, the panel's widgets (offscreen). Not a test: figures only.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import httpx
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from app.domain.clock import SystemClock
from app.domain.events import Key
from app.journal import Journal
from app.recording import Recorder
from app.server import auth
from app.server.db import make_engine
from app.server.directory import NewPerson, add_person
from app.server.security import hash_password
from app.sync.client import SyncClient
from app.sync.stream import StreamClient
from app.sync.worker import SyncWorker
from app.ui.panel import Panel
from tests.servers import PASSWORD, seed, start_server, stop_server

MIN = 60_000


def show(name: str, value: str, target: str, ok: bool) -> None:
    print(f"  {name:<64} {value:>9}   target {target:<10} {'ok' if ok else 'MISSED'}")


def pump(app: QApplication, until: Any, timeout_s: float) -> bool:
    deadline = time.perf_counter() + timeout_s
    while time.perf_counter() < deadline:
        app.processEvents()
        if until():
            return True
        time.sleep(0.001)
    return False


def click_to_panel(app: QApplication, base: str, workdir: Path, clicks: int) -> list[float]:
    """A real bar's recorder and sync worker click; a real panel streams; time to the row."""
    lead = httpx.post(f"{base}/v1/signin", json={"login": "lea", "password": PASSWORD})
    marie = httpx.post(f"{base}/v1/signin", json={"login": "marie", "password": PASSWORD})
    journal = Journal(workdir / "journal.sqlite3")
    clock = SystemClock("Europe/Paris")
    recorder = Recorder(journal, clock, agent="marie", activities=["Assurance Auto"])
    recorder.start()
    worker = SyncWorker(
        journal, SyncClient(base, marie.json()["token"], clock), clock, agent="marie"
    )
    worker.start()
    panel = Panel(clock)
    panel.show()
    panel.connect_stream(base, lead.json()["token"])
    pump(app, lambda: panel.live_state == "live" and "marie" in panel.model.agents, 30)
    times = []
    keys = [Key.PRODUCTION, Key.PAUSE, Key.OFF]
    for i in range(clicks):
        key = keys[i % 3]
        started = time.perf_counter()
        recorder.press(key)
        worker.kick()  # as the bar does right after a click

        def shown(key: Key = key) -> bool:
            rows = panel.table_model.rows
            return any(r.login == "marie" and r.key is key for r in rows)

        if pump(app, shown, 10):
            times.append((time.perf_counter() - started) * 1000)
        time.sleep(0.05)
    panel.stop()
    panel.close()
    worker.stop()
    journal.close()
    return sorted(times)


def big_panel(
    app: QApplication, agents: int, rate: float, seconds: float, by_time: bool = False
) -> tuple[float, float, float]:
    """A panel of `agents` (60 events each) fed `rate` events/s: the longest stretch the UI
    thread is held, and the share of time it is busy."""
    now = time.time_ns() // 1_000_000
    day = now - (now % (24 * 3600 * 1000))

    def ev(login: str, n: int, at: int, key: str | None, kind: str = "status") -> Any:
        return {
            "uuid": str(uuid.uuid4()),
            "device_id": login,
            "seq": n,
            "agent": login,
            "kind": kind,
            "key": key,
            "activity": "Assurance Auto",
            "at_ms": at,
            "tz": "Europe/Paris",
            "utc_offset_s": 3600,
            "note": None,
        }

    keys = ["production", "pause", "off"]
    people = []
    for a in range(agents):
        login = f"agent{a:03d}"
        events = [ev(login, 0, now - 6 * 3600_000, None, "shift_start")]
        events += [
            ev(login, n, now - 6 * 3600_000 + n * 5 * MIN, keys[n % 3]) for n in range(1, 60)
        ]
        people.append(
            {
                "login": login,
                "name": f"Agent {a}",
                "plateaux": ["Nord"],
                "events": events,
                "last_seen_ms": now,
            }
        )
    snapshot = {
        "server_now_ms": now,
        "day_start_ms": day,
        "day_end_ms": day + 24 * 3600_000,
        "zone": "UTC",
        "plateaux": [
            {"name": "Nord", "pause_threshold_s": 900, "keys": {}, "activities": ["Assurance Auto"]}
        ],
        "agents": people,
    }
    panel = Panel(SystemClock())
    panel.resize(1200, 900)
    panel.show()
    if by_time:  # rows move at each change of status: the whole table repaints
        panel.table.sortByColumn(2, Qt.SortOrder.DescendingOrder)
    panel._tick.start()
    prepared = panel._prepare("snapshot", snapshot)  # on the stream's thread, in the panel
    started = time.perf_counter()
    panel.on_message("snapshot", prepared)
    app.processEvents()
    snapshot_block_ms = (time.perf_counter() - started) * 1000
    gaps: list[float] = []
    last = [time.perf_counter()]
    probe = QTimer()
    probe.setInterval(5)

    def beat() -> None:
        t = time.perf_counter()
        gaps.append(t - last[0])
        last[0] = t

    probe.timeout.connect(beat)
    probe.start()
    seq = [100]

    def feed() -> None:
        seq[0] += 1
        login = f"agent{seq[0] % agents:03d}"
        panel.on_message(
            "events", {"events": [ev(login, seq[0], time.time_ns() // 1_000_000, keys[seq[0] % 3])]}
        )

    feeder = QTimer()
    feeder.setInterval(int(1000 / rate))
    feeder.timeout.connect(feed)
    feeder.start()
    # The UI thread's own CPU time over the wall time: everything it did, Qt's idle work
    # included (an upper bound on what the panel costs).
    QTimer.singleShot(int(seconds * 1000), app.quit)
    cpu0, wall0 = time.thread_time(), time.perf_counter()
    app.exec()
    busy = (time.thread_time() - cpu0) / (time.perf_counter() - wall0)
    feeder.stop()
    probe.stop()
    panel.stop()
    panel.close()
    worst_gap_ms = (max(gaps) - 0.005) * 1000 if gaps else 0.0
    return worst_gap_ms, busy, snapshot_block_ms


def streams_under_load(url: str, panels: int, agents: int, seconds: float) -> float:
    """One server process: `panels` streams open while `agents` agents send events; the worst
    lag of any stream behind the store's receive time, in seconds."""
    engine = make_engine(url)
    tokens = []
    with engine.begin() as conn:
        digest = hash_password(PASSWORD)
        for a in range(agents):
            add_person(
                conn,
                NewPerson(f"load{a:03d}", f"Load {a}", "agent", ("Nord",)),
                password_hash=digest,
            )
    for a in range(agents):
        tokens.append(
            auth.sign_in(engine, login=f"load{a:03d}", password=PASSWORD, device_id=None).token
        )
    lead_token = auth.sign_in(engine, login="lea", password=PASSWORD, device_id=None).token
    engine.dispose()
    server = start_server(url, clock_start_ms=None)  # a benchmark runs on real time
    base = server.base_url
    lags: list[float] = []
    lock = threading.Lock()

    def on_message(kind: str, data: Any) -> None:
        if kind != "events":
            return
        now = time.time_ns() // 1_000_000
        with lock:
            lags.extend((now - e["at_ms"]) / 1000 for e in data["events"])

    clients = [StreamClient(base, lead_token, on_message=on_message) for _ in range(panels)]
    for c in clients:
        c.start()
    time.sleep(2)
    stop = threading.Event()
    sent = [0]

    def agent_loop(first: int) -> None:
        with httpx.Client(base_url=base, timeout=30) as http:
            seq: dict[int, int] = {}
            devices = {a: str(uuid.uuid4()) for a in range(first, agents, 10)}
            while not stop.is_set():
                for a in range(first, agents, 10):
                    seq[a] = seq.get(a, 0) + 1
                    now = time.time_ns() // 1_000_000
                    event = {
                        "uuid": str(uuid.uuid4()),
                        "device_id": devices[a],
                        "seq": seq[a],
                        "agent": f"load{a:03d}",
                        "kind": "status",
                        "key": ("production", "pause", "off")[seq[a] % 3],
                        "activity": "Assurance Auto",
                        "occurred_at_ms": now,
                        "tz": "Europe/Paris",
                        "utc_offset_s": 3600,
                        "monotonic_ms": seq[a],
                    }
                    http.post(
                        "/v1/events",
                        headers={"Authorization": f"Bearer {tokens[a]}"},
                        json={"device_id": devices[a], "sent_at_ms": now, "events": [event]},
                    )
                    sent[0] += 1
                    if stop.wait(0.5):
                        return

    senders = [threading.Thread(target=agent_loop, args=(i,)) for i in range(10)]
    for s in senders:
        s.start()
    time.sleep(seconds)
    stop.set()
    for s in senders:
        s.join()
    time.sleep(2)
    for c in clients:
        c.stop()
    stop_server(server)
    print(
        f"    ({sent[0]} events sent in {seconds:.0f} s, "
        f"{len(lags)} deliveries to {panels} streams)"
    )
    return max(lags) if lags else float("inf")


def main() -> None:
    print(f"Bandeau live benchmarks — Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'store.sqlite3'}"
        seed(url)
        server = start_server(url, clock_start_ms=None)  # a benchmark runs on real time
        try:
            times = click_to_panel(app, server.base_url, Path(tmp), 60)
        finally:
            stop_server(server)
        p50 = statistics.median(times)
        p95 = times[int(len(times) * 0.95) - 1]
        show("click on a bar → the lead's panel row, p50", f"{p50:.0f} ms", "≤ 200 ms", p50 <= 200)
        show("click on a bar → the lead's panel row, p95", f"{p95:.0f} ms", "≤ 500 ms", p95 <= 500)
    for by_time in (False, True):
        worst, busy, snap = big_panel(app, 200, 20, 20, by_time)
        how = "by time in status" if by_time else "by name (default)"
        show(
            f"200 agents, 20 ev/s, sorted {how}: longest UI block",
            f"{worst:.0f} ms",
            "≤ 50 ms",
            worst <= 50,
        )
        show(
            f"200 agents, 20 ev/s, sorted {how}: UI thread busy",
            f"{busy:.0%}",
            "< 20%",
            busy < 0.20,
        )
    show("a fresh snapshot of 200 agents: UI thread held", f"{snap:.0f} ms", "≤ 50 ms", snap <= 50)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'store.sqlite3'}"
        seed(url)
        lag = streams_under_load(url, 50, 500, 20)
        show(
            "50 streams while 500 agents send: worst stream lag", f"{lag:.2f} s", "≤ 2 s", lag <= 2
        )


if __name__ == "__main__":
    main()
