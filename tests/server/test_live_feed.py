"""The live hub's change feed by event id on PostgreSQL, where commits land out of order."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select

from app.server import auth, ingest, live
from app.server import models as m
from app.server.db import make_engine
from tests.servers import PASSWORD, T0_MS, seed, wire_event

NOW = T0_MS + 60_000


def _send(engine: Engine, seqs: range, conn: Any = None) -> list[str]:
    person = auth.sign_in(engine, login="marie", password=PASSWORD, device_id=None).person
    events = [wire_event(seq) for seq in seqs]
    if conn is None:
        result = ingest.ingest(engine, person, events, now_ms=NOW, offset_ms=0)
    else:
        result = ingest.ingest_on(conn, person, events, now_ms=NOW, offset_ms=0)
    assert len(result.accepted) == len(events)
    return result.accepted


def _read(engine: Engine, feed: live.IdFeed, now_ms: int) -> list[int]:
    found = live.changes(
        engine,
        NOW - live.LOOKBACK_MS,
        presence=False,
        after_id=feed.after_id,
        holes=feed.holes.keys(),
    )
    ids = [event_id for *_, event_id in found.events]
    feed.advance(ids, found.top_id, now_ms)
    return ids


@pytest.fixture
def engine(store_url: str) -> Any:
    seed(store_url)
    found = make_engine(store_url)
    yield found
    found.dispose()


def test_ids_a_read_skipped_are_looked_for_until_they_land_or_cannot(engine: Engine) -> None:
    """Rows written with chosen ids, as PostgreSQL's commits may land them (both stores:
    the holes' query is each dialect's own)."""
    _send(engine, range(1, 3))
    feed = live.IdFeed()
    first = _read(engine, feed, NOW)  # the look-back's read
    assert len(first) == 2 and feed.holes == {}
    top = max(first)
    with engine.connect() as conn:
        row = dict(conn.execute(select(m.events).where(m.events.c.id == top)).mappings().one())

    def land(*ids: int) -> None:
        with engine.begin() as conn:
            conn.execute(
                insert(m.events),
                [{**row, "id": i, "uuid": str(uuid.uuid4()), "seq": 100 + i} for i in ids],
            )

    land(top + 5)  # committed while top+1 … top+4 are still being written
    assert _read(engine, feed, NOW + 100) == [top + 5]
    assert sorted(feed.holes) == [top + 1, top + 2, top + 3, top + 4]
    land(top + 3, top + 2)
    assert sorted(_read(engine, feed, NOW + 200)) == [top + 2, top + 3]  # once each
    assert sorted(feed.holes) == [top + 1, top + 4]
    assert _read(engine, feed, NOW + 300) == []
    # An id a conflicting insert or a rollback took never lands: given up once it cannot.
    assert _read(engine, feed, NOW + 100 + live.LOOKBACK_MS + 1) == []
    assert feed.holes == {}
    land(top + 6)
    assert _read(engine, feed, NOW + 10_000) == [top + 6]


def test_a_batch_committed_after_a_later_one_reaches_the_feed(
    engine: Engine, store_url: str
) -> None:
    """Two real transactions on PostgreSQL: the first takes its ids, the second takes
    higher ones and commits first; the feed reads the second's, then the first's once it
    commits — neither lost, neither twice."""
    if not store_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer at a time: its commits land in id order")
    _send(engine, range(1, 2))
    feed = live.IdFeed()
    _read(engine, feed, NOW)
    with engine.connect() as slow:
        pending = slow.begin()
        first = _send(engine, range(2, 5), conn=slow)  # ids taken, not committed
        second = _send(engine, range(5, 8))
        uuids = {r[2]["uuid"] for r in live.changes(engine, 0, after_id=0).events}
        assert set(second) <= uuids and not set(first) & uuids
        read = _read(engine, feed, NOW + 100)
        assert len(read) == 3 and len(feed.holes) == 3
        pending.commit()
    late = _read(engine, feed, NOW + 200)
    assert len(late) == 3 and feed.holes == {}
    assert set(read).isdisjoint(late)
