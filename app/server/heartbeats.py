"""Heartbeats: a device's last sign of life, kept in the database (not an event)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Insert

from app.server import models as m
from app.server.db import DriverQuery


def record(
    engine: Engine, *, person_id: int, device_id: str, now_ms: int, state: str, pending: int
) -> None:
    with engine.begin() as conn:
        record_on(
            conn,
            person_id=person_id,
            device_id=device_id,
            now_ms=now_ms,
            state=state,
            pending=pending,
        )


def record_on(
    conn: Connection, *, person_id: int, device_id: str, now_ms: int, state: str, pending: int
) -> None:
    """`record` inside the caller's transaction: one statement on the driver's cursor
    (`DriverQuery`: heartbeats are most of a site's writes, and SQLAlchemy's own work on a
    statement is several times the database's)."""
    _UPSERTS[conn.dialect.name].rows(
        conn,
        {
            "person_id": person_id,
            "device_id": device_id,
            "last_seen_at": now_ms,
            "state": state,
            "pending": pending,
        },
    )


_COLUMNS = ("person_id", "device_id", "last_seen_at", "state", "pending")


def _upsert(dialect: Any) -> Insert:
    """The presence upsert in `dialect`'s words (ON CONFLICT is each dialect's own)."""
    stmt = dialect.insert(m.presence).values({name: bindparam(name) for name in _COLUMNS})
    upsert: Insert = stmt.on_conflict_do_update(
        index_elements=[m.presence.c.person_id, m.presence.c.device_id],
        set_={name: stmt.excluded[name] for name in _COLUMNS[2:]},
    )
    return upsert


_UPSERTS = {"postgresql": DriverQuery(_upsert(postgresql)), "sqlite": DriverQuery(_upsert(sqlite))}
