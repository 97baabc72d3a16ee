"""Retention (GDPR): events, corrections and heartbeats older than the period are purged,
each day's figures kept; nothing can reach into a purged day afterwards; gone people's
names can go with them. On SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select

from app.server import models as m
from app.server import retention
from app.server.api import ServerConfig, create_app
from app.server.db import make_engine
from app.server.directory import disable_person
from tests.servers import T0_MS, StoreClock, auth, seed, wire_event

DAY = 24 * 3600 * 1000
ZONE = ZoneInfo("Europe/Paris")


@pytest.fixture
def client(store_url: str, store_clock: StoreClock) -> Iterator[TestClient]:
    seed(store_url)
    with TestClient(create_app(ServerConfig(store_url, clock=store_clock))) as test_client:
        yield test_client


def _day_of_work(
    client: TestClient, headers: dict[str, str], login: str, at: int, seq: int = 1
) -> list[str]:
    device = str(uuid.uuid5(uuid.NAMESPACE_DNS, login))  # one PC each: tokens are bound to it
    events = [
        wire_event(
            seq, agent=login, device_id=device, kind="shift_start", key=None, occurred_at_ms=at
        ),
        wire_event(
            seq + 1, agent=login, device_id=device, key="production", occurred_at_ms=at + 1000
        ),
        wire_event(
            seq + 2,
            agent=login,
            device_id=device,
            kind="shift_end",
            key=None,
            occurred_at_ms=at + 3_601_000,
        ),
    ]
    body = {"device_id": device, "sent_at_ms": at + 3_602_000, "events": events}
    reply = client.post("/v1/events", headers=headers, json=body).json()
    assert len(reply["accepted"]) == 3, reply
    return [e["uuid"] for e in events]


def _production(client: TestClient, headers: dict[str, str], day: str) -> dict[str, int]:
    rows = client.get(
        "/v1/report", headers=headers, params={"from": day, "to": day, "by": "agent"}
    ).json()["rows"]
    return {r["agent"]: r["production_s"] for r in rows}


def test_a_purge_removes_old_events_and_keeps_their_days_figures(
    client: TestClient, store_url: str, store_clock: StoreClock
) -> None:
    old_day = "2025-09-26"  # 427 days before T0 (2026-11-27)
    store_clock.advance(-427 * DAY)  # the store as it was then
    marie, lea = auth(client, "marie"), auth(client, "lea")
    at = store_clock() - 3_700_000
    _day_of_work(client, marie, "marie", at)
    fix = {
        "uuid": str(uuid.uuid4()),
        "agent": "marie",
        "from_ms": at + 600_000,
        "to_ms": at + 1_200_000,
        "key": "pause",
        "reason": "pause oubliée",
    }
    assert client.post("/v1/corrections", headers=lea, json=fix).status_code == 200
    beat = {"device_id": str(uuid.uuid4()), "sent_at_ms": at, "state": {}, "pending": 0}
    assert client.post("/v1/heartbeat", headers=auth(client, "paul"), json=beat).status_code == 200
    store_clock.advance(427 * DAY)  # today again
    before = _production(client, lea, old_day)
    assert 2900 <= before["marie"] <= 3000  # an hour, 10 minutes of it corrected to pause
    today = _day_of_work(client, marie, "marie", store_clock() - 3_700_000, seq=11)

    engine = make_engine(store_url)
    try:
        with engine.begin() as conn:  # as if nobody had reported on that day: not kept yet
            conn.execute(delete(m.day_figures))
        done = retention.purge(engine, days=396, zone=ZONE, now_ms=store_clock())
        assert (done.events, done.corrections, done.heartbeats) == (3, 1, 1)
        with engine.connect() as conn:
            left = conn.execute(select(m.events.c.uuid)).scalars().all()
            assert sorted(left) == sorted(today)
            assert conn.execute(select(func.count()).select_from(m.corrections)).scalar() == 0
    finally:
        engine.dispose()
    # The purged day's figures are kept: its report is what it was.
    assert _production(client, lea, old_day) == before
    # Nothing can reach into a purged day any more: an event, or a correction.
    marie_pc = str(uuid.uuid5(uuid.NAMESPACE_DNS, "marie"))
    late = wire_event(
        20, agent="marie", device_id=marie_pc, occurred_at_ms=store_clock() - 398 * DAY
    )
    reply = client.post(
        "/v1/events", headers=marie, json={"sent_at_ms": store_clock(), "events": [late]}
    ).json()
    assert reply["accepted"] == [] and "retention" in reply["rejected"][0]["reason"]
    old_fix = {**fix, "uuid": str(uuid.uuid4())}
    reply = client.post("/v1/corrections", headers=lea, json=old_fix)
    assert (reply.status_code, reply.json()["code"]) == (422, "purged")
    # New events of today change today only; the kept day stays whole.
    _day_of_work(client, auth(client, "paul"), "paul", store_clock() - 7_300_000)
    assert _production(client, lea, old_day) == before
    # A second purge finds nothing more.
    engine = make_engine(store_url)
    try:
        again = retention.purge(engine, days=396, zone=ZONE, now_ms=store_clock())
        assert (again.events, again.corrections) == (0, 0)
    finally:
        engine.dispose()


def test_gone_people_lose_their_names_with_their_events(
    client: TestClient, store_url: str, store_clock: StoreClock
) -> None:
    store_clock.advance(-420 * DAY)
    paul = auth(client, "paul")
    _day_of_work(client, paul, "paul", store_clock() - 3_700_000)
    store_clock.advance(420 * DAY)
    engine = make_engine(store_url)
    try:
        with engine.begin() as conn:
            disable_person(conn, login="paul")  # he left
        dry = retention.purge(
            engine, days=396, zone=ZONE, now_ms=store_clock(), forget_names=True, dry_run=True
        )
        assert (dry.events, dry.erased) == (3, 0)
        done = retention.purge(engine, days=396, zone=ZONE, now_ms=store_clock(), forget_names=True)
        assert (done.events, done.erased) == (3, 1)
        with engine.connect() as conn:
            logins = set(conn.execute(select(m.people.c.login)).scalars())
        assert "paul" not in logins and any(login.startswith("erased-") for login in logins)
        assert "marie" in logins  # still here: not gone
    finally:
        engine.dispose()


def test_the_server_purges_by_itself(store_url: str, store_clock: StoreClock) -> None:
    seed(store_url)
    store_clock.advance(-420 * DAY)
    with TestClient(create_app(ServerConfig(store_url, clock=store_clock))) as early:
        _day_of_work(early, auth(early, "marie"), "marie", store_clock() - 3_700_000)
    store_clock.advance(420 * DAY)
    config = ServerConfig(store_url, clock=store_clock, retention_days=396)
    app = create_app(config)
    with TestClient(app) as client:
        purger: Any = app.state.purger
        assert purger.passed.wait(30)
        assert client.get("/v1/events", headers=auth(client, "lea")).json()["events"] == []
    engine = make_engine(store_url)
    with pytest.raises(ValueError, match="at least one day"):
        retention.purge(engine, days=0, zone=ZONE, now_ms=T0_MS)
    engine.dispose()
