"""Report benchmarks: a month for 500 agents, and today's totals for a 50-agent plateau.

Run: .venv/bin/python -m tests.bench.bench_report [--agents 500] [--days 22]
On SQLite and on a throwaway PostgreSQL. The events are written straight into the store
(the ingest path has its own benchmark). Not a test: figures only.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, insert, select

from app.server import migrate
from app.server import models as m
from app.server.db import make_engine
from app.server.directory import NewPerson, add_activity, add_person, add_plateau
from app.server.reports import Period, compute, roll_up
from tests.pg import remove_cluster, start_cluster

PARIS = ZoneInfo("Europe/Paris")
FIRST = date(2026, 10, 1)


def show(name: str, value: str, target: str, ok: bool) -> None:
    print(f"  {name:<56} {value:>10}   target {target:<8} {'ok' if ok else 'MISSED'}")


def working_days(count: int) -> list[date]:
    days: list[date] = []
    day = FIRST
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def fill(url: str, agents: int, days: list[date]) -> int:
    engine = make_engine(url)
    migrate.upgrade(engine)
    rng = random.Random(1)
    with engine.begin() as conn:
        add_plateau(conn, name="Grand plateau")
        add_plateau(conn, name="Petit plateau")
        add_activity(conn, name="Assurance Auto", plateau="Grand plateau")
        add_activity(conn, name="Banque Pro", plateau="Grand plateau")
        add_activity(conn, name="Énergie", plateau="Petit plateau")
        for a in range(agents):
            add_person(
                conn,
                NewPerson(f"a{a:03d}", f"Agent {a}", "agent", ("Grand plateau",)),
                password_hash="x",
            )
        for a in range(50):
            add_person(
                conn,
                NewPerson(f"p{a:02d}", f"Petit {a}", "agent", ("Petit plateau",)),
                password_hash="x",
            )
        ids = dict(conn.execute(select(m.people.c.login, m.people.c.id)).all())
        plateaux = dict(conn.execute(select(m.plateaux.c.name, m.plateaux.c.id)).all())
        acts = dict(conn.execute(select(m.activities.c.name, m.activities.c.id)).all())
    total = 0
    keys = ["production", "pause", "off"]
    today = date.today()
    schedule = [
        (f"a{a:03d}", "Grand plateau", "Assurance Auto", d) for a in range(agents) for d in days
    ]
    schedule += [(f"p{a:02d}", "Petit plateau", "Énergie", today) for a in range(50)]
    batch: list[dict[str, object]] = []
    for login, plateau, activity, day in schedule:
        device = str(uuid.uuid4())
        start = Period(day, day, PARIS).bounds()[0] + 8 * 3600_000 + rng.randint(0, 3600_000)
        at = start
        for n in range(60):
            kind = "shift_start" if n == 0 else "shift_end" if n == 59 else "status"
            at += rng.randint(2, 12) * 60_000 if n else 0
            batch.append(
                {
                    "uuid": str(uuid.uuid4()),
                    "device_id": device,
                    "seq": n + 1,
                    "person_id": ids[login],
                    "plateau_id": plateaux[plateau],
                    "activity_id": acts[activity],
                    "kind": kind,
                    "key": keys[n % 3] if kind == "status" else None,
                    "client_at": at,
                    "received_at": at,
                    "corrected_at": at,
                    "clock_offset_ms": 0,
                    "tz_name": "Europe/Paris",
                    "utc_offset_s": 3600,
                    "monotonic_ms": n,
                    "clock_jump_ms": None,
                    "note": None,
                }
            )
        if len(batch) >= 20_000:
            with engine.begin() as conn:
                conn.execute(insert(m.events), batch)
            total += len(batch)
            batch = []
    if batch:
        with engine.begin() as conn:
            conn.execute(insert(m.events), batch)
        total += len(batch)
    engine.dispose()
    return total


def late_day(engine: Engine, day: date, agents: int) -> None:
    """A second PC of one agent, offline since `day`, sends that day's clicks at last."""
    with engine.begin() as conn:
        person, plateau, activity = conn.execute(
            select(m.events.c.person_id, m.events.c.plateau_id, m.events.c.activity_id).where(
                m.events.c.person_id
                == select(m.people.c.id)
                .where(m.people.c.login == f"a{agents // 2:03d}")
                .scalar_subquery()
            )
        ).first() or (0, 0, 0)
        device, at = str(uuid.uuid4()), Period(day, day, PARIS).bounds()[0] + 12 * 3600_000
        now = time.time_ns() // 1_000_000
        conn.execute(
            insert(m.events),
            [
                {
                    "uuid": str(uuid.uuid4()),
                    "device_id": device,
                    "seq": n + 1,
                    "person_id": person,
                    "plateau_id": plateau,
                    "activity_id": activity,
                    "kind": "status",
                    "key": "pause" if n % 2 else "off",
                    "client_at": at + n * 60_000,
                    "received_at": now,
                    "corrected_at": at + n * 60_000,
                    "clock_offset_ms": 0,
                    "tz_name": "Europe/Paris",
                    "utc_offset_s": 3600,
                    "monotonic_ms": n,
                    "clock_jump_ms": None,
                    "note": None,
                }
                for n in range(10)
            ],
        )


def run_on(name: str, url: str, agents: int, days: list[date]) -> None:
    print(f"{name}:")
    started = time.perf_counter()
    count = fill(url, agents, days)
    print(f"    ({count:,} events written in {time.perf_counter() - started:.0f} s)")
    engine = make_engine(url)
    with engine.connect() as conn:
        big = conn.execute(
            select(m.plateaux.c.id).where(m.plateaux.c.name == "Grand plateau")
        ).scalar_one()
        small = conn.execute(
            select(m.plateaux.c.id).where(m.plateaux.c.name == "Petit plateau")
        ).scalar_one()
    now = time.time_ns() // 1_000_000
    month = Period(days[0], days[-1], PARIS)

    def month_report() -> float:
        t = time.perf_counter()
        rows = roll_up(compute(engine, period=month, now_ms=now, plateau_ids=[big]), "agent")
        assert len(rows) == agents
        return time.perf_counter() - t

    label = f"month report, {agents} agents × {len(days)} days"
    cold = month_report()  # nothing kept yet: every day computed from the events
    show(f"{label}, first ever", f"{cold:.2f} s", "≤ 2 s", cold <= 2)
    warm = min(month_report() for _ in range(3))  # the settled days come from the store
    show(f"{label}, days kept", f"{warm:.2f} s", "≤ 2 s", warm <= 2)
    late_day(engine, days[len(days) // 2], agents)
    late = month_report()  # one agent's PC synced a mid-month day: their days from it redone
    show(f"{label}, after a late sync", f"{late:.2f} s", "≤ 2 s", late <= 2)
    today = Period(date.today(), date.today(), PARIS)
    timings = []
    for _ in range(5):
        t = time.perf_counter()
        compute(engine, period=today, now_ms=now, plateau_ids=[small])
        timings.append(time.perf_counter() - t)
    best_ms = min(timings) * 1000
    show("today's totals, 50-agent plateau", f"{best_ms:.0f} ms", "≤ 50 ms", best_ms <= 50)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--days", type=int, default=22)
    args = parser.parse_args()
    print(f"Bandeau report benchmarks — Python {sys.version.split()[0]}")
    days = working_days(args.days)
    with tempfile.TemporaryDirectory() as tmp:
        run_on("SQLite", f"sqlite:///{Path(tmp) / 'store.sqlite3'}", args.agents, days)
    cluster = start_cluster()
    try:
        run_on("PostgreSQL", cluster.url(cluster.create_database()), args.agents, days)
    finally:
        remove_cluster(cluster)


if __name__ == "__main__":
    main()
