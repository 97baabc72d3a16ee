"""How far back the store has purged (app.server.retention): read by ingest and figures."""

from __future__ import annotations

import time

from sqlalchemy import select
from sqlalchemy.engine import Connection

from app.server import models as m

_CACHE_S = 60.0
_seen: dict[int, tuple[float, int | None]] = {}


def purged_before(conn: Connection) -> int | None:
    """The instant before which events are gone (None: never purged)."""
    found = conn.execute(select(m.retention.c.purged_before)).scalar()
    return None if found is None else int(found)


def purged_before_cached(conn: Connection) -> int | None:
    """`purged_before`, read again at most every minute per engine (the ingest hot path asks
    for every batch; a purge happens once a day, and only ever moves it later)."""
    key = id(conn.engine)
    hit = _seen.get(key)
    now = time.monotonic()
    if hit is None or now - hit[0] > _CACHE_S:
        hit = (now, purged_before(conn))
        _seen[key] = hit
    return hit[1]


def forget_cached() -> None:
    """Read it again at the next ask (after a purge in this process)."""
    _seen.clear()
