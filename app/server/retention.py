"""Retention (GDPR): the store keeps events, corrections and heartbeats for a set period
(13 months by default), then purges them, keeping each settled day's figures.

Before a purge, every day about to go is worked out into the figures cache for the site's
default view (its time zone, days from midnight, corrections applied): those kept figures
are then the only record of those days, and are never cut again (`figures.refresh`). An
event older than the purge is refused (it would reach into a day whose events are gone).
With `forget_names`, the people left with nothing in the store but kept figures and who
are disabled (gone) are erased to a pseudonym: no name outlives the period.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, and_, delete, exists, func, insert, select, update
from sqlalchemy.engine import Connection

from app.domain.indicators import day_bounds, day_of
from app.server import directory, reports
from app.server import models as m
from app.server.clock import NowMs, system_now_ms
from app.server.purged import forget_cached, purged_before

log = logging.getLogger(__name__)

DEFAULT_RETENTION_DAYS = 396  # 13 months
DAY_MS = 24 * 3600 * 1000


@dataclass(frozen=True, slots=True)
class Purged:
    before_ms: int
    events: int
    corrections: int
    heartbeats: int
    tokens: int
    erased: int


def cutoff_ms(now_ms: int, days: int, zone: ZoneInfo) -> int:
    """The start of the first site day kept: whole days go, never half of one."""
    return day_bounds(day_of(now_ms - days * DAY_MS, zone), zone)[0]


def purge(
    engine: Engine,
    *,
    days: int,
    zone: ZoneInfo,
    now_ms: int,
    forget_names: bool = False,
    dry_run: bool = False,
) -> Purged:
    """Purge what is older than `days` (whole site days)."""
    if days < 1:
        raise ValueError("the retention is at least one day")
    before = cutoff_ms(now_ms, days, zone)
    with engine.connect() as conn:
        oldest = conn.execute(select(func.min(m.events.c.corrected_at))).scalar()
    if not dry_run and oldest is not None and oldest < before:
        _keep_figures(engine, zone, int(oldest), before, now_ms)
    e, c, pr, t = m.events, m.corrections, m.presence, m.tokens
    old_events = e.c.corrected_at < before
    old_fixes = c.c.end_at <= before
    old_beats = pr.c.last_seen_at < before
    old_tokens = and_(t.c.revoked_at.is_not(None), t.c.revoked_at < before)
    with engine.begin() as conn:
        counts = [
            int(conn.execute(select(func.count()).where(where)).scalar_one())
            for where in (old_events, old_fixes, old_beats, old_tokens)
        ]
        erased = 0
        if not dry_run:
            conn.execute(delete(e).where(old_events))
            conn.execute(delete(c).where(old_fixes))
            conn.execute(delete(pr).where(old_beats))
            conn.execute(delete(t).where(old_tokens))
            conn.execute(delete(m.signin_failures).where(m.signin_failures.c.last_at < before))
            if purged_before(conn) is None:
                conn.execute(
                    insert(m.retention).values(id=1, purged_before=before, purged_at=now_ms)
                )
            else:
                conn.execute(
                    update(m.retention)
                    .where(m.retention.c.purged_before < before)
                    .values(purged_before=before, purged_at=now_ms)
                )
            if forget_names:
                erased = _forget_names(conn)
    forget_cached()
    events, fixes, beats, tokens = counts
    result = Purged(before, events, fixes, beats, tokens, erased)
    log.info("retention: %s", result)
    return result


def _keep_figures(
    engine: Engine, zone: ZoneInfo, first_ms: int, before_ms: int, now_ms: int
) -> None:
    """Work every day from the oldest event to the cutoff into the figures cache (a year
    at a time: a report covers at most one)."""
    first = day_of(first_ms, zone)
    last = day_of(before_ms - 1, zone)
    while first <= last:
        end = min(last, first + timedelta(days=365))
        period = reports.parse_period(first.isoformat(), end.isoformat(), str(zone))
        reports.compute(engine, period=period, now_ms=now_ms)
        first = end + timedelta(days=1)


def _forget_names(conn: Connection) -> int:
    """Erase the disabled people who have no event, correction or token left."""
    p = m.people
    idle = (
        select(p.c.login)
        .where(p.c.disabled.is_(True), ~p.c.login.like("erased-%"))
        .where(~exists().where(m.events.c.person_id == p.c.id))
        .where(~exists().where(m.corrections.c.person_id == p.c.id))
    )
    logins = [str(login) for login in conn.execute(idle).scalars()]
    for login in logins:
        directory.erase_person(conn, login=login)
    return len(logins)


class RetentionKeeper:
    """A server's background thread that purges once a day (the first time at start)."""

    def __init__(
        self,
        engine: Engine,
        zone: ZoneInfo,
        *,
        days: int,
        every_s: float = 24 * 3600.0,
        clock: NowMs = system_now_ms,
        forget_names: bool = False,
    ) -> None:
        self.engine, self.zone, self.days = engine, zone, days
        self.every_s, self.clock, self.forget_names = every_s, clock, forget_names
        self.passes = 0
        self.passed = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="retention", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                purge(
                    self.engine,
                    days=self.days,
                    zone=self.zone,
                    now_ms=self.clock(),
                    forget_names=self.forget_names,
                )
            except Exception:  # a failed pass is logged and tried again at the next one
                log.exception("retention pass failed")
            self.passes += 1
            self.passed.set()
            self._stop.wait(self.every_s)
