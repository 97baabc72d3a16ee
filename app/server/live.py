"""The live stream: a snapshot of what a person may see, then the changes, read from the
database — never from one process's memory — so that a panel streaming from one server
process sees an agent who syncs to another.

Who sees what (the rules of `app.server.access`, enforced here for every message):
- an agent: themselves only, plus their plateaux' coverage (counts, no names);
- a lead: the people of their plateaux;
- an admin: everyone.

Each server process runs one `LiveHub`: one poll of the database every `poll_s` for events
received, heartbeats seen and corrections made since the last poll (with a look-back, as
transactions may commit out of order), fanned out to the streams it serves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, and_, func, select
from sqlalchemy.engine import Connection
from starlette.concurrency import run_in_threadpool

from app.server import models as m
from app.server.access import Person, reach_of
from app.server.clock import NowMs, system_now_ms
from app.server.corrections import audit
from app.server.directory import describe_plateaux

log = logging.getLogger(__name__)

POLL_S = 0.2
LOOKBACK_MS = 10_000  # a transaction may commit this long after it took its receive time
QUEUE_MAX = 5_000  # a stream this far behind is cut; its panel reconnects and resyncs
HISTORY_MS = 36 * 3600 * 1000  # how far back a snapshot looks for a shift still open today
# How often the plateaux (key labels and colours, thresholds, activities) are read again, to
# push a change an admin made to the bars and panels already connected.
PLATEAUX_EVERY_S = 5.0


@dataclass(frozen=True, slots=True)
class Scope:
    """What one stream may carry. None: no limit on that axis."""

    person_ids: frozenset[int] | None
    plateau_ids: frozenset[int] | None
    coverage_plateaux: frozenset[int] = frozenset()

    def sees(self, person_id: int, plateau_ids: Iterable[int]) -> bool:
        if self.person_ids is not None and person_id not in self.person_ids:
            return False
        return self.plateau_ids is None or bool(self.plateau_ids & set(plateau_ids))


def scope_for(person: Person) -> Scope:
    """A stream carries what its person may see (`access.reach_of`); an agent's and a
    lead's also carry their plateaux' coverage."""
    reach = reach_of(person)
    unlimited = reach.person_ids is None and reach.plateau_ids is None
    coverage = frozenset() if unlimited else frozenset(person.plateau_ids)
    return Scope(reach.person_ids, reach.plateau_ids, coverage)


def day_bounds(now_ms: int, zone: ZoneInfo) -> tuple[int, int]:
    day = datetime.fromtimestamp(now_ms / 1000, UTC).astimezone(zone).date()
    start = datetime.combine(day, datetime.min.time(), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    return int(start.timestamp() * 1000), int(end.timestamp() * 1000)


def _event_query() -> Any:
    e, p, a = m.events, m.people, m.activities
    return (
        select(
            e.c.uuid,
            e.c.device_id,
            e.c.seq,
            e.c.person_id,
            e.c.plateau_id,
            p.c.login,
            a.c.name.label("activity"),
            e.c.kind,
            e.c.key,
            e.c.corrected_at,
            e.c.received_at,
            e.c.tz_name,
            e.c.utc_offset_s,
            e.c.note,
        )
        .join(p, p.c.id == e.c.person_id)
        .outerjoin(a, a.c.id == e.c.activity_id)
    )


def wire_event(row: Any) -> dict[str, Any]:
    """An event as the stream carries it (times are the store's corrected times)."""
    return {
        "uuid": row.uuid,
        "device_id": row.device_id,
        "seq": row.seq,
        "agent": row.login,
        "kind": row.kind,
        "key": row.key,
        "activity": row.activity,
        "at_ms": row.corrected_at,
        "tz": row.tz_name,
        "utc_offset_s": row.utc_offset_s,
        "note": row.note,
    }


def _presence(conn: Connection, person_ids: list[int] | None, since_ms: int) -> list[Any]:
    pr = m.presence
    query = select(pr.c.person_id, pr.c.device_id, pr.c.last_seen_at, pr.c.pending).where(
        pr.c.last_seen_at >= since_ms
    )
    if person_ids is not None:
        query = query.where(pr.c.person_id.in_(person_ids))
    return list(conn.execute(query))


def plateaux_by_id(engine: Engine) -> dict[int, dict[str, Any]]:
    """Every plateau as bars and panels read it (app.server.directory.describe_plateaux)."""
    with engine.connect() as conn:
        ids = {
            str(row.name): int(row.id)
            for row in conn.execute(select(m.plateaux.c.id, m.plateaux.c.name))
        }
        return {ids[p["name"]]: p for p in describe_plateaux(conn, list(ids.values()))}


def visible_plateaux(scope: Scope) -> frozenset[int] | None:
    """The plateaux whose description a stream carries (None: all of them)."""
    if scope.plateau_ids is None and scope.person_ids is None:
        return None
    if scope.plateau_ids is not None:
        return scope.plateau_ids
    return scope.coverage_plateaux


def snapshot(engine: Engine, scope: Scope, *, now_ms: int, zone: ZoneInfo) -> dict[str, Any]:
    """Everything the stream's owner may see, as of now: the plateaux (keys, thresholds,
    activities), the people, their events since before today began, their last heartbeat."""
    start, end = day_bounds(now_ms, zone)
    with engine.connect() as conn:
        plateaux_q = select(m.plateaux).order_by(m.plateaux.c.name)
        if scope.plateau_ids is not None or scope.person_ids is not None:
            visible = scope.plateau_ids if scope.plateau_ids is not None else None
            if visible is None:
                visible = frozenset(
                    conn.execute(
                        select(m.memberships.c.plateau_id).where(
                            m.memberships.c.person_id.in_(scope.person_ids or ())
                        )
                    ).scalars()
                )
            plateaux_q = plateaux_q.where(m.plateaux.c.id.in_(visible))
        plateaux = list(conn.execute(plateaux_q).mappings())
        described = describe_plateaux(conn, [p["id"] for p in plateaux])
        members = list(
            conn.execute(
                select(m.people.c.id, m.people.c.login, m.people.c.name, m.people.c.role)
                .add_columns(m.memberships.c.plateau_id)
                .join(m.memberships, m.memberships.c.person_id == m.people.c.id)
                .where(m.people.c.disabled.is_(False))
                .order_by(m.people.c.name)
            )
        )
        people: dict[int, dict[str, Any]] = {}
        names = {p["id"]: p["name"] for p in plateaux}
        for row in members:
            if not scope.sees(row.id, [row.plateau_id]) or row.plateau_id not in names:
                continue
            if scope.plateau_ids is not None and row.role == "admin":
                continue
            person = people.setdefault(
                row.id,
                {
                    "login": row.login,
                    "name": row.name,
                    "role": row.role,
                    "plateaux": [],
                    "last_seen_ms": None,
                    "events": [],
                },
            )
            person["plateaux"].append(names[row.plateau_id])
        ids = list(people)
        rows = conn.execute(
            _event_query()
            .where(m.events.c.person_id.in_(ids), m.events.c.corrected_at >= start - HISTORY_MS)
            .order_by(m.events.c.corrected_at, m.events.c.id)
        )
        for row in rows:
            people[row.person_id]["events"].append(wire_event(row))
        seen = conn.execute(
            select(m.presence.c.person_id, m.presence.c.device_id, m.presence.c.last_seen_at).where(
                m.presence.c.person_id.in_(ids)
            )
        )
        for person_id, device, last_seen in seen:
            person = people[person_id]
            person.setdefault("devices", {})[device] = last_seen
            person["last_seen_ms"] = max(person["last_seen_ms"] or 0, last_seen)
        by_login = {person["login"]: person for person in people.values()}
        for fix in audit(conn, person_ids=ids, start_ms=start - HISTORY_MS, end_ms=end):
            by_login[fix["agent"]].setdefault("corrections", []).append(fix)
    return {
        "server_now_ms": now_ms,
        "day_start_ms": start,
        "day_end_ms": end,
        "zone": zone.key,
        "plateaux": described,
        "agents": list(people.values()),
    }


@dataclass(slots=True)
class Change:
    """What one poll found: events (with who they belong to) and heartbeats."""

    events: list[tuple[int, int, dict[str, Any]]] = field(default_factory=list)
    presence: list[tuple[int, str, int, int]] = field(default_factory=list)
    corrections: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    memberships: dict[int, frozenset[int]] = field(default_factory=dict)
    logins: dict[int, str] = field(default_factory=dict)


def changes(engine: Engine, since_ms: int) -> Change:
    found = Change()
    with engine.connect() as conn:
        for row in conn.execute(
            _event_query()
            .where(m.events.c.received_at >= since_ms)
            .order_by(m.events.c.corrected_at, m.events.c.id)
        ):
            found.events.append((row.person_id, row.plateau_id, wire_event(row)))
        found.presence = [
            (r.person_id, r.device_id, r.last_seen_at, r.pending)
            for r in _presence(conn, None, since_ms)
        ]
        fixes = audit(conn, made_since=since_ms)
        if fixes:
            ids = dict(
                conn.execute(
                    select(m.people.c.login, m.people.c.id).where(
                        m.people.c.login.in_({fix["agent"] for fix in fixes})
                    )
                ).all()
            )
            found.corrections = [(ids[fix["agent"]], fix) for fix in fixes]
        who = {p for p, _pl, _e in found.events} | {p for p, *_ in found.presence}
        who |= {p for p, _fix in found.corrections}
        if who:
            for person_id, plateau_id in conn.execute(
                select(m.memberships.c.person_id, m.memberships.c.plateau_id).where(
                    m.memberships.c.person_id.in_(who)
                )
            ):
                found.memberships[person_id] = found.memberships.get(person_id, frozenset()) | {
                    plateau_id
                }
            found.logins = dict(
                conn.execute(
                    select(m.people.c.id, m.people.c.login).where(m.people.c.id.in_(who))
                ).all()
            )
    return found


def coverage(engine: Engine, plateau_ids: Iterable[int], *, now_ms: int) -> dict[str, Any]:
    """Per activity of these plateaux: how many agents are in production right now, of how
    many on shift and seen in the last 5 minutes (counts only: no names)."""
    e = m.events
    since = now_ms - HISTORY_MS
    plateaux = list(plateau_ids)
    with engine.connect() as conn:
        latest = (
            select(e.c.person_id, func.max(e.c.id).label("id"))
            .where(
                e.c.plateau_id.in_(plateaux),
                e.c.corrected_at >= since,
                e.c.kind.in_(("shift_start", "status", "shift_end")),
            )
            .group_by(e.c.person_id)
            .subquery()
        )
        alive = (
            select(m.presence.c.person_id, func.max(m.presence.c.last_seen_at).label("seen"))
            .group_by(m.presence.c.person_id)
            .subquery()
        )
        rows = conn.execute(
            select(e.c.kind, e.c.key, m.activities.c.name, alive.c.seen, e.c.received_at)
            .join(latest, and_(latest.c.id == e.c.id))
            .outerjoin(m.activities, m.activities.c.id == e.c.activity_id)
            .outerjoin(alive, alive.c.person_id == e.c.person_id)
        ).all()
    counts: dict[str, dict[str, int]] = {}
    for kind, key, activity, seen, received in rows:
        last_sign = max(seen or 0, received)
        if kind == "shift_end" or now_ms - last_sign > 5 * 60_000 or activity is None:
            continue
        entry = counts.setdefault(activity, {"production": 0, "present": 0})
        entry["present"] += 1
        entry["production"] += key == "production"
    return {"activities": counts, "at_ms": now_ms}


class Subscriber:
    """One stream's queue of messages, and what it may see."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue(QUEUE_MAX)
        self.overflowed = False

    def put(self, kind: str, data: Any) -> None:
        if self.overflowed:
            return
        try:
            self.queue.put_nowait((kind, data))
        except asyncio.QueueFull:
            self.overflowed = True  # the stream ends; the panel resyncs from a snapshot
            with contextlib.suppress(asyncio.QueueFull):
                self.queue.get_nowait()
                self.queue.put_nowait(("resync", {}))


class LiveHub:
    """Polls the database for changes and hands each stream what it may see."""

    def __init__(
        self, engine: Engine, *, poll_s: float = POLL_S, clock: NowMs = system_now_ms
    ) -> None:
        self.engine = engine
        self.poll_s = poll_s
        self.clock = clock
        self.subscribers: set[Subscriber] = set()
        self._seen: dict[str, int] = {}  # uuid or heartbeat key → receive time, for dedupe
        self._task: asyncio.Task[None] | None = None
        self._cursor_ms = self.clock()
        self._wake = asyncio.Event()
        self._plateaux: dict[int, dict[str, Any]] | None = None
        self.closing = False  # the server is stopping: streams are ended, none is opened
        self._plateaux_read_at = 0.0
        self._stopping = False

    def wake(self) -> None:
        """Poll now: this process has just stored something (others find it by polling)."""
        self._wake.set()

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = self._loop.create_task(self._run())

    def end_streams(self) -> None:
        """Say goodbye on every open stream now (the server is stopping): each ends at once
        and its panel reconnects elsewhere or later, rather than being cut after the
        graceful timeout. Safe from any thread, a signal handler's included."""
        loop = getattr(self, "_loop", None)
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._goodbye)

    def _goodbye(self) -> None:
        self.closing = True  # and no new stream from now on (a client reconnects at once)
        for sub in list(self.subscribers):
            sub.put("bye", {"reason": "server stopping"})

    async def stop(self, timeout_s: float = 10.0) -> None:
        """End the polling. A poll in flight runs on a worker thread with a database
        connection: it is let finish (up to `timeout_s`) rather than cancelled, so that its
        connection is back in the pool before the engine is disposed (a cancelled await
        leaves the thread running, and its connection then dies unclosed)."""
        if self._task is not None:
            self._stopping = True
            self._wake.set()
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout_s)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
        for sub in self.subscribers:
            sub.put("bye", {})

    def subscribe(self, scope: Scope) -> Subscriber:
        sub = Subscriber(scope)
        self.subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        self.subscribers.discard(sub)

    async def _run(self) -> None:
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_s)
            self._wake.clear()
            if self._stopping:
                return
            try:
                # Read even with no stream open, so that the first one's baseline is no
                # older than a few seconds.
                await self._push_plateaux_if_changed()
                if not self.subscribers:
                    self._cursor_ms = self.clock()
                    continue
                await self.poll()
            except Exception:  # the store may be down for a while: keep polling
                log.exception("live poll failed")

    async def poll(self) -> None:
        started = self.clock()
        since = self._cursor_ms - LOOKBACK_MS
        found = await run_in_threadpool(changes, self.engine, since)
        self._cursor_ms = started
        fresh_events = []
        for person_id, plateau_id, event in found.events:
            if event["uuid"] in self._seen:
                continue
            self._seen[event["uuid"]] = started
            fresh_events.append((person_id, plateau_id, event))
        fresh_presence = []
        for person_id, device_id, last_seen, pending in found.presence:
            key = f"{person_id}/{device_id}/{last_seen}"
            if key in self._seen:
                continue
            self._seen[key] = started
            fresh_presence.append((person_id, device_id, last_seen, pending))
        fresh_fixes = []
        for person_id, fix in found.corrections:
            if fix["uuid"] in self._seen:
                continue
            self._seen[fix["uuid"]] = started
            fresh_fixes.append((person_id, fix))
        cutoff = started - 2 * LOOKBACK_MS
        self._seen = {k: t for k, t in self._seen.items() if t >= cutoff}
        if not (fresh_events or fresh_presence or fresh_fixes):
            return
        touched_plateaux: set[int] = set()
        for sub in list(self.subscribers):
            events = [
                e
                for person_id, plateau_id, e in fresh_events
                if sub.scope.sees(person_id, found.memberships.get(person_id, {plateau_id}))
            ]
            if events:
                sub.put("events", {"events": events})
            beats = [
                {
                    "agent": found.logins.get(person_id, ""),
                    "device_id": device_id,
                    "last_seen_ms": seen,
                    "pending": n,
                }
                for person_id, device_id, seen, n in fresh_presence
                if sub.scope.sees(person_id, found.memberships.get(person_id, frozenset()))
            ]
            if beats:
                sub.put("presence", {"presence": beats})
            fixes = [
                fix
                for person_id, fix in fresh_fixes
                if sub.scope.sees(person_id, found.memberships.get(person_id, frozenset()))
            ]
            if fixes:
                sub.put("corrections", {"corrections": fixes})
        for _person_id, plateau_id, _e in fresh_events:
            touched_plateaux.add(plateau_id)
        await self._send_coverage(touched_plateaux, started)

    async def _push_plateaux_if_changed(self) -> None:
        """A plateau's new labels, colours, threshold or activities reach every stream that
        shows it, without a sign-in again (read every PLATEAUX_EVERY_S)."""
        loop = asyncio.get_running_loop()
        if loop.time() - self._plateaux_read_at < PLATEAUX_EVERY_S:
            return
        self._plateaux_read_at = loop.time()
        now = await run_in_threadpool(plateaux_by_id, self.engine)
        before, self._plateaux = self._plateaux, now
        if before is None or before == now:
            return
        changed = {pid for pid in now.keys() | before.keys() if now.get(pid) != before.get(pid)}
        for sub in list(self.subscribers):
            visible = visible_plateaux(sub.scope)
            if visible is not None and not changed & visible:
                continue
            shown = [p for pid, p in now.items() if visible is None or pid in visible]
            sub.put("plateaux", {"plateaux": sorted(shown, key=lambda p: str(p["name"]))})

    async def _send_coverage(self, plateaux: set[int], now_ms: int) -> None:
        wanting = [
            s
            for s in self.subscribers
            if s.scope.person_ids is not None and s.scope.coverage_plateaux & plateaux
        ]
        cache: dict[frozenset[int], dict[str, Any]] = {}
        for sub in wanting:
            key = sub.scope.coverage_plateaux
            if key not in cache:
                cache[key] = await run_in_threadpool(coverage, self.engine, key, now_ms=now_ms)
            sub.put("coverage", cache[key])
