"""Exporting stored events as JSON lines, for audits and client reports."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlalchemy.engine import Connection

from app.server import models as m
from app.server.directory import DirectoryError, person_id
from app.server.ingest import LATE_AFTER_MS, is_late

DEFAULT_ZONE = "Europe/Paris"


def day_start_ms(day: date, zone: ZoneInfo) -> int:
    return int(datetime.combine(day, time.min, tzinfo=zone).timestamp() * 1000)


def _iso(ms: int) -> str | None:
    """The instant in ISO 8601 (UTC), or None for a stored time no calendar holds (an older
    store took −2^62): the row is still exported, its raw milliseconds beside it."""
    try:
        moment = datetime.fromtimestamp(ms / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def export_events(
    engine: Engine,
    *,
    agent: str | None = None,
    first: date | None = None,
    last: date | None = None,
    zone: str = DEFAULT_ZONE,
    plateau_ids: Iterable[int] | None = None,
    person_ids: Iterable[int] | None = None,
    limit: int | None = None,
) -> Iterator[dict[str, Any]]:
    """Stored events in corrected-time order; days are local days of `zone`, `last` included.

    `agent` (a login) or `person_ids`, and `plateau_ids` (a lead's), restrict the rows;
    `limit` caps them. Each says whether it arrived late (`LATE_AFTER_MS`).
    """
    tz = ZoneInfo(zone)
    e, p, a, pl = m.events, m.people, m.activities, m.plateaux
    query = (
        select(e, p.c.login, a.c.name.label("activity_name"), pl.c.name.label("plateau_name"))
        .join(p, p.c.id == e.c.person_id)
        .join(pl, pl.c.id == e.c.plateau_id)
        .outerjoin(a, a.c.id == e.c.activity_id)
        .order_by(e.c.corrected_at, e.c.id)
    )
    with engine.connect() as conn:
        if agent is not None:
            query = query.where(e.c.person_id == person_id(conn, agent))
        if first is not None:
            query = query.where(e.c.corrected_at >= day_start_ms(first, tz))
        if last is not None:
            query = query.where(e.c.corrected_at < day_start_ms(last + timedelta(days=1), tz))
        if person_ids is not None:
            query = query.where(e.c.person_id.in_(list(person_ids)))
        if plateau_ids is not None:
            query = query.where(e.c.plateau_id.in_(list(plateau_ids)))
        if limit is not None:
            query = query.limit(limit)
        for row in conn.execution_options(yield_per=1000).execute(query).mappings():
            yield {
                "uuid": row["uuid"],
                "device_id": row["device_id"],
                "seq": row["seq"],
                "agent": row["login"],
                "plateau": row["plateau_name"],
                "activity": row["activity_name"],
                "kind": row["kind"],
                "key": row["key"],
                "occurred_at": _iso(row["corrected_at"]),
                "client_at": _iso(row["client_at"]),
                "received_at": _iso(row["received_at"]),
                "late": is_late(row["received_at"], row["corrected_at"]),
                "clock_offset_ms": row["clock_offset_ms"],
                "tz": row["tz_name"],
                "utc_offset_s": row["utc_offset_s"],
                "clock_jump_ms": row["clock_jump_ms"],
                "note": row["note"],
            }


def parse_day(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise DirectoryError(f"{what}: {text!r} is not a date like 2026-11-27") from None


def late_arrivals(
    conn: Connection,
    *,
    zone: ZoneInfo,
    person_ids: Iterable[int] | None = None,
    plateau_ids: Iterable[int] | None = None,
    start_ms: int | None = None,
    end_ms: int | None = None,
) -> list[dict[str, Any]]:
    """The audit trail's other half: events that reached the store late (more than
    `LATE_AFTER_MS` after they happened), per agent and day they happened on, with when
    they came. They count in the figures; this says that a settled day changed, and when."""
    e, p = m.events, m.people
    query = (
        select(p.c.login, e.c.corrected_at, e.c.received_at)
        .join(p, p.c.id == e.c.person_id)
        .where(e.c.received_at - e.c.corrected_at > LATE_AFTER_MS)
        .order_by(e.c.received_at, e.c.id)
    )
    if person_ids is not None:
        query = query.where(e.c.person_id.in_(list(person_ids)))
    if plateau_ids is not None:
        query = query.where(e.c.plateau_id.in_(list(plateau_ids)))
    if start_ms is not None and end_ms is not None:
        query = query.where(e.c.corrected_at >= start_ms, e.c.corrected_at < end_ms)
    found: dict[tuple[str, date], dict[str, Any]] = {}
    for login, at_ms, received_ms in conn.execute(query):
        try:
            day = datetime.fromtimestamp(at_ms / 1000, UTC).astimezone(zone).date()
        except (OverflowError, OSError, ValueError):
            continue  # a time no calendar holds (an older store's): exported, not grouped
        entry = found.setdefault(
            (login, day),
            {
                "agent": login,
                "day": day.isoformat(),
                "events": 0,
                "first_received_at_ms": received_ms,
            },
        )
        entry["events"] += 1
        entry["last_received_at_ms"] = received_ms
    return list(found.values())
