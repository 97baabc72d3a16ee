"""Heartbeats: a device's last sign of life, kept in the database (not an event)."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from app.server import models as m


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
    """`record` inside the caller's transaction."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(m.presence).values(
        person_id=person_id, device_id=device_id, last_seen_at=now_ms, state=state, pending=pending
    )
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[m.presence.c.person_id, m.presence.c.device_id],
            set_={"last_seen_at": now_ms, "state": state, "pending": pending},
        )
    )
