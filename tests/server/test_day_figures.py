"""The day-figures cache (SQLite and PostgreSQL): a report read from it is the report computed
from the events, through late events, corrections, threshold changes and running shifts."""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, insert, select

from app.server import auth, corrections, heartbeats, ingest
from app.server import models as m
from app.server.db import make_engine
from app.server.directory import set_plateau
from app.server.reports import DayKeeper, Period, compute
from tests.server.test_reports import at
from tests.servers import PASSWORD, seed, wire_event

PARIS = ZoneInfo("Europe/Paris")
MONTH = Period(date(2026, 10, 1), date(2026, 10, 31), PARIS)
NOW = at("2026-11-20", "12:00")  # when the events come in
LATER = NOW + 3600_000  # when reports are asked for
KEYS = ("production", "pause", "off")


def a_day(rng: random.Random, day: date) -> list[tuple[int, str, str | None]]:
    """A plausible day of clicks: (time, kind, key)."""
    clock = at(day.isoformat(), "08:00") + rng.randint(0, 90) * 60_000
    steps: list[tuple[int, str, str | None]] = [(clock, "shift_start", None)]
    for _ in range(rng.randint(3, 12)):
        clock += rng.randint(1, 70) * 60_000
        steps.append((clock, "status", rng.choice(KEYS)))
    clock += rng.randint(1, 60) * 60_000
    steps.append((clock, "shift_end", None))
    return steps


def send(
    engine: Engine,
    login: str,
    device: str,
    steps: list[tuple[int, str, str | None]],
    *,
    first_seq: int = 1,
) -> None:
    person = auth.sign_in(engine, login=login, password=PASSWORD, device_id=None).person
    events = [
        wire_event(
            first_seq + n,
            agent=login,
            device_id=device,
            kind=kind,
            key=key,
            occurred_at_ms=when,
            activity="Banque Pro" if n % 7 == 3 else "Assurance Auto",
        )
        for n, (when, kind, key) in enumerate(steps)
    ]
    result = ingest.ingest(engine, person, events, now_ms=NOW, offset_ms=0)
    assert len(result.accepted) == len(events), result.rejected


def report(engine: Engine, *, cache: bool, original: bool = False) -> list[Any]:
    rows = compute(engine, period=MONTH, now_ms=LATER, original=original, cache=cache)
    return [(r["agent"], r["day"], r["activity"], r["f"]) for r in rows]


def cached_days(engine: Engine, login: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count())
                .select_from(m.day_figures)
                .join(m.people, m.people.c.id == m.day_figures.c.person_id)
                .where(m.people.c.login == login)
            ).scalar_one()
        )


def test_a_cached_report_is_the_computed_one_through_late_events_and_corrections(
    store_url: str,
) -> None:
    seed(store_url)
    engine = make_engine(store_url)
    rng = random.Random(5)
    days = [date(2026, 10, 1) + timedelta(days=n) for n in range(12)]
    held_back: dict[str, list[tuple[int, str, str | None]]] = {}
    devices = {login: str(uuid.uuid4()) for login in ("marie", "paul")}
    for login, device in devices.items():
        sent: list[tuple[int, str, str | None]] = []
        for day in days:
            steps = a_day(rng, day)
            if day == days[5]:
                held_back[login] = steps  # this day's events arrive late, after a report
            else:
                sent += steps
        send(engine, login, device, sent)

    cold = report(engine, cache=True)
    assert cached_days(engine, "marie") == cached_days(engine, "paul") == 31
    assert report(engine, cache=True) == cold == report(engine, cache=False)

    # A PC that was offline for days syncs that day at last: the cached days from it on go.
    for login, steps in held_back.items():
        send(engine, login, str(uuid.uuid4()), steps)
    late = report(engine, cache=True)
    assert late != cold
    assert late == report(engine, cache=False)

    # A lead's correction on a cached day.
    lea = auth.sign_in(engine, login="lea", password=PASSWORD, device_id=None).person
    corrections.record(
        engine,
        lea,
        corrections.NewCorrection(
            uuid=str(uuid.uuid4()),
            agent="marie",
            start_ms=at("2026-10-02", "09:00"),
            end_ms=at("2026-10-02", "11:00"),
            key="pause",
            activity=None,
            off_shift=False,
            reason="réunion d'équipe notée en production",
        ),
        now_ms=NOW,
    )
    fixed = report(engine, cache=True)
    assert fixed != late
    assert fixed == report(engine, cache=False)
    assert report(engine, cache=True, original=True) == report(engine, cache=False, original=True)
    assert report(engine, cache=True, original=True) == late  # the original is still there

    # A new pause threshold changes the time over it: cached days do not hide it.
    with engine.begin() as conn:
        set_plateau(conn, "Nord", pause_threshold_s=5 * 60)
    assert report(engine, cache=True) == report(engine, cache=False) != fixed
    engine.dispose()


def test_a_shift_still_running_is_never_kept(store_url: str) -> None:
    """A crash on 5 October with no news since: the day ends at the last sign of life, which
    a heartbeat may still move — so the day is computed each time, never kept."""
    seed(store_url)
    engine = make_engine(store_url)
    device = str(uuid.uuid4())
    send(
        engine,
        "marie",
        device,
        [
            (at("2026-10-02", "09:00"), "shift_start", None),
            (at("2026-10-02", "09:00"), "status", "production"),
            (at("2026-10-02", "17:00"), "shift_end", None),
            (at("2026-10-05", "09:00"), "shift_start", None),
            (at("2026-10-05", "09:00"), "status", "production"),
        ],
    )
    marie = _person_id(engine, "marie")
    heard(engine, marie, device, at("2026-10-05", "10:00"))
    before = report(engine, cache=True)
    kept = kept_days(engine, marie)
    assert date(2026, 10, 2) in kept and date(2026, 10, 5) not in kept
    assert date(2026, 10, 4) in kept  # a day off, settled: kept as an empty day
    heard(engine, marie, device, at("2026-10-05", "11:00"))
    after = report(engine, cache=True)
    assert after == report(engine, cache=False) != before
    engine.dispose()


def test_a_commit_that_lands_with_an_older_id_is_still_seen(store_url: str) -> None:
    """PostgreSQL may commit an event after one with a higher id: the receive time catches
    it. Written here with an explicit id below the newest one."""
    seed(store_url)
    engine = make_engine(store_url)
    device = str(uuid.uuid4())
    send(
        engine,
        "marie",
        device,
        [
            (at("2026-10-02", "09:00"), "shift_start", None),
            (at("2026-10-02", "09:00"), "status", "production"),
            (at("2026-10-02", "17:00"), "shift_end", None),
        ],
    )
    with engine.begin() as conn:
        row = dict(
            conn.execute(select(m.events).order_by(m.events.c.id.desc())).mappings().first() or {}
        )
        top = row["id"]
        conn.execute(
            insert(m.events),
            [
                {
                    **row,
                    "id": top + 100,
                    "uuid": str(uuid.uuid4()),
                    "seq": 90,
                    "corrected_at": at("2026-10-03", "09:00"),
                    "client_at": at("2026-10-03", "09:00"),
                    "kind": "shift_start",
                }
            ],
        )
    before = report(engine, cache=True)
    assert cached_days(engine, "marie") == 2  # 1 and 2 October: a shift runs unended from the 3rd
    with engine.begin() as conn:
        conn.execute(
            insert(m.events),
            [
                {
                    **row,
                    "id": top + 50,
                    "uuid": str(uuid.uuid4()),
                    "device_id": str(uuid.uuid4()),  # a second PC, its first event
                    "seq": 1,
                    "kind": "status",
                    "key": "pause",
                    "corrected_at": at("2026-10-02", "12:00"),
                    "client_at": at("2026-10-02", "12:00"),
                    "received_at": LATER - 60_000,  # received before the last look, committed after
                }
            ],
        )
    after = report(engine, cache=True)
    assert after != before and after == report(engine, cache=False)
    engine.dispose()


def _person_id(engine: Engine, login: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(select(m.people.c.id).where(m.people.c.login == login)).scalar_one()
        )


def test_the_day_keeper_works_the_days_out_ahead_of_reports(store_url: str) -> None:
    seed(store_url)
    engine = make_engine(store_url)
    rng = random.Random(9)
    steps = [step for n in range(10) for step in a_day(rng, date(2026, 10, 5) + timedelta(n))]
    send(engine, "marie", str(uuid.uuid4()), steps)
    keeper = DayKeeper(
        engine, PARIS, days=62, every_s=3600, start_after_s=0, group=2, clock=lambda: LATER
    )
    keeper.start()
    try:
        assert keeper.done.wait(60), "the keeper's first round did not end"
    finally:
        keeper.stop()
    assert not keeper._thread.is_alive()
    assert keeper.rounds == 1
    # Everyone's 62 days up to yesterday (20 November), kept: the month's report reads them.
    assert cached_days(engine, "marie") == cached_days(engine, "lea") == 62
    assert report(engine, cache=True) == report(engine, cache=False)
    assert cached_days(engine, "marie") == 62
    engine.dispose()


def test_a_shift_ended_on_a_heartbeats_word_is_not_kept(store_url: str) -> None:
    """PC A goes silent at 15:00 in production; the next morning the agent starts on PC B:
    the shift ended on A at 15:02 — a decision a later heartbeat from A would undo, so those
    days are computed each time, never kept."""
    seed(store_url)
    engine = make_engine(store_url)
    pc_a, pc_b = str(uuid.uuid4()), str(uuid.uuid4())
    send(
        engine,
        "marie",
        pc_a,
        [
            (at("2026-10-02", "09:00"), "shift_start", None),
            (at("2026-10-02", "09:00"), "status", "production"),
        ],
    )
    send(
        engine,
        "marie",
        pc_b,
        [
            (at("2026-10-03", "08:00"), "shift_start", None),
            (at("2026-10-03", "08:05"), "status", "production"),
            (at("2026-10-03", "12:00"), "shift_end", None),
        ],
    )
    marie = _person_id(engine, "marie")
    for device, seen in ((pc_a, at("2026-10-02", "15:00")), (pc_b, at("2026-10-03", "12:00"))):
        heard(engine, marie, device, seen)
    before = report(engine, cache=True)
    by_day = {r[1]: r[3] for r in before if r[0] == "marie"}
    assert by_day[date(2026, 10, 2)].production_ms == (6 * 60 + 2) * 60_000
    assert by_day[date(2026, 10, 3)].production_ms == (3 * 60 + 55) * 60_000
    kept = kept_days(engine, marie)
    assert date(2026, 10, 1) in kept and date(2026, 10, 2) not in kept
    # PC A was only frozen: it speaks again. The night is the shift's after all.
    heard(engine, marie, pc_a, at("2026-10-03", "09:00"))
    after = report(engine, cache=True)
    assert after == report(engine, cache=False) != before
    engine.dispose()


def heard(engine: Engine, person_id: int, device: str, when: int) -> None:
    """A heartbeat from that PC at `when`."""
    heartbeats.record(
        engine, person_id=person_id, device_id=device, now_ms=when, state="", pending=0
    )


def kept_days(engine: Engine, person_id: int) -> set[date]:
    with engine.connect() as conn:
        return set(
            conn.execute(
                select(m.day_figures.c.day).where(m.day_figures.c.person_id == person_id)
            ).scalars()
        )
