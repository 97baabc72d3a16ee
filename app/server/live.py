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
import functools
import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import BigInteger, Engine, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection
from starlette.concurrency import run_in_threadpool

from app.server import models as m
from app.server.access import Person, reach_of
from app.server.clock import NowMs, system_now_ms
from app.server.corrections import audit
from app.server.directory import describe_plateaux

log = logging.getLogger(__name__)

POLL_S = 0.2
MIN_POLL_S = 0.1  # a write wakes the hub, at most this often
PRESENCE_EVERY_S = 1.0  # heartbeats are read this often (events at every poll)
COVERAGE_EVERY_S = 5.0  # coverage counted again for all, for agents who went quiet
# A transaction commits at most this long after it stamped its rows' receive time (the
# writer stamps them when it runs the job, not when the request came in).
LOOKBACK_MS = 3_000
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
        members_q = (
            select(m.people.c.id, m.people.c.login, m.people.c.name, m.people.c.role)
            .add_columns(m.memberships.c.plateau_id)
            .join(m.memberships, m.memberships.c.person_id == m.people.c.id)
            .where(m.people.c.disabled.is_(False))
            .order_by(m.people.c.name)
        )
        # Narrowed in SQL (an agent's stream: one person, not the whole site), then checked
        # row by row with the scope's own rule below.
        if scope.person_ids is not None:
            members_q = members_q.where(m.people.c.id.in_(scope.person_ids))
        if scope.plateau_ids is not None:
            members_q = members_q.where(m.memberships.c.plateau_id.in_(scope.plateau_ids))
        members = list(conn.execute(members_q))
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
    """What one poll found: events (with who they belong to), heartbeats, corrections."""

    # (person id, plateau id, the event as streams carry it, what coverage counts, its id)
    events: list[tuple[int, int, dict[str, Any], Latest | None, int]] = field(default_factory=list)
    presence: list[tuple[int, str, int, int]] | None = None  # None: not read this time
    corrections: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    top_id: int = 0  # the highest event id read (or in the store, after a look-back)


@dataclass(frozen=True, slots=True)
class Latest:
    """A person's last shift or status event on a plateau: what coverage counts."""

    id: int
    kind: str
    key: str | None
    activity: str | None
    corrected_at: int
    received_at: int


_COVERING = ("shift_start", "status", "shift_end")


def changes(
    engine: Engine,
    since_ms: int,
    *,
    presence: bool = True,
    after_id: int | None = None,
    holes: Collection[int] = (),
) -> Change:
    """Events stored, corrections made and (with `presence`) heartbeats seen since
    `since_ms`. Events: with `after_id`, those with a higher id and those whose ids are
    `holes` (PostgreSQL: ids are taken before the commits, which may land out of order — an
    id a read skipped is looked for again, see `IdFeed`); without (the feed's first read),
    those received since `since_ms`."""
    found = Change()
    e = m.events
    rows: list[Any] = []
    with engine.connect() as conn:
        query = _event_query().add_columns(e.c.id.label("event_id"), e.c.received_at)
        if after_id is not None:
            rows = list(conn.execute(query.where(e.c.id > after_id)))
            if holes:
                wanted = sorted(holes)
                if conn.dialect.name == "postgresql":  # one array: one statement, any size
                    holes_param = bindparam("holes", wanted, type_=ARRAY(BigInteger))
                    rows.extend(conn.execute(query.where(e.c.id == any_(holes_param))))
                else:
                    for start in range(0, len(wanted), 500):
                        rows.extend(
                            conn.execute(query.where(e.c.id.in_(wanted[start : start + 500])))
                        )
        else:
            rows = list(conn.execute(query.where(e.c.received_at >= since_ms)))
        rows.sort(key=lambda r: (r.corrected_at, r.event_id))
        for row in rows:
            latest = (
                Latest(
                    row.event_id, row.kind, row.key, row.activity, row.corrected_at, row.received_at
                )
                if row.kind in _COVERING
                else None
            )
            found.events.append(
                (row.person_id, row.plateau_id, wire_event(row), latest, row.event_id)
            )
            found.top_id = max(found.top_id, row.event_id)
        if after_id is None:
            found.top_id = max(
                found.top_id,
                conn.execute(select(func.coalesce(func.max(e.c.id), 0))).scalar_one(),
            )
        if presence:
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
    return found


class IdFeed:
    """PostgreSQL's change feed by event id. Ids are taken before the commits, which may
    land out of order: a read finds 131–160 while 100–130 are still being committed. An id
    below the highest one read that the read did not find is a hole, looked for again at
    every poll until found or until it can no longer appear (a transaction commits within
    LOOKBACK_MS of taking its ids; an id taken by a conflicting insert or a rollback never
    does). Each poll reads what is new and the holes — not the whole look-back window's
    ids, which a herd made tens of thousands a poll."""

    def __init__(self) -> None:
        self.after_id: int | None = None  # None: the feed's first read is the look-back's
        self.holes: dict[int, int] = {}  # id → until when it is looked for (ms)

    def advance(self, found: list[int], top_id: int, now_ms: int) -> None:
        """What a read found (its ids; the highest id in the store after a first read)."""
        got = set(found)
        for event_id in got:
            self.holes.pop(event_id, None)
        first = min(got) if got else top_id + 1  # a first read had all of its window
        start = first if self.after_id is None else self.after_id + 1
        top = max(top_id, self.after_id or 0)
        until = now_ms + LOOKBACK_MS
        for event_id in range(start, top + 1):
            if event_id not in got:
                self.holes[event_id] = until
        self.holes = {i: t for i, t in self.holes.items() if t >= now_ms}
        self.after_id = top

    def reset(self) -> None:
        self.after_id = None
        self.holes = {}


@dataclass(slots=True)
class Directory:
    """Who belongs where, and their logins: read whole, again every PLATEAUX_EVERY_S (and
    when someone unknown shows up), rather than for every change."""

    memberships: dict[int, frozenset[int]] = field(default_factory=dict)
    logins: dict[int, str] = field(default_factory=dict)


def read_directory(engine: Engine) -> Directory:
    found = Directory()
    with engine.connect() as conn:
        places: dict[int, set[int]] = {}
        for person_id, plateau_id in conn.execute(
            select(m.memberships.c.person_id, m.memberships.c.plateau_id)
        ):
            places.setdefault(person_id, set()).add(plateau_id)
        found.memberships = {p: frozenset(ids) for p, ids in places.items()}
        found.logins = dict(conn.execute(select(m.people.c.id, m.people.c.login)).all())
    return found


def read_latest(
    engine: Engine, *, now_ms: int
) -> tuple[dict[int, dict[int, Latest]], dict[int, int]]:
    """What coverage starts from: each person's last shift or status event per plateau
    (within HISTORY_MS), and each person's last heartbeat."""
    e = m.events
    by_plateau: dict[int, dict[int, Latest]] = {}
    with engine.connect() as conn:
        last = (
            select(func.max(e.c.id).label("id"))
            .where(e.c.corrected_at >= now_ms - HISTORY_MS, e.c.kind.in_(_COVERING))
            .group_by(e.c.person_id, e.c.plateau_id)
            .subquery()
        )
        for row in conn.execute(
            select(
                e.c.id,
                e.c.person_id,
                e.c.plateau_id,
                e.c.kind,
                e.c.key,
                m.activities.c.name,
                e.c.corrected_at,
                e.c.received_at,
            )
            .join(last, last.c.id == e.c.id)
            .outerjoin(m.activities, m.activities.c.id == e.c.activity_id)
        ):
            by_plateau.setdefault(row.plateau_id, {})[row.person_id] = Latest(
                row.id, row.kind, row.key, row.name, row.corrected_at, row.received_at
            )
        alive = dict(
            conn.execute(
                select(m.presence.c.person_id, func.max(m.presence.c.last_seen_at)).group_by(
                    m.presence.c.person_id
                )
            ).all()
        )
    return by_plateau, alive


def count_coverage(
    by_plateau: dict[int, dict[int, Latest]],
    alive: dict[int, int],
    plateau_ids: Iterable[int],
    *,
    now_ms: int,
) -> dict[str, Any]:
    """Per activity of these plateaux: how many agents are in production right now, of how
    many on shift and seen in the last 5 minutes (counts only: no names)."""
    latest: dict[int, Latest] = {}
    since = now_ms - HISTORY_MS
    for plateau_id in plateau_ids:
        for person_id, row in by_plateau.get(plateau_id, {}).items():
            if row.corrected_at < since:
                continue
            held = latest.get(person_id)
            if held is None or row.id > held.id:
                latest[person_id] = row
    counts: dict[str, dict[str, int]] = {}
    for person_id, row in latest.items():
        last_sign = max(alive.get(person_id) or 0, row.received_at)
        if row.kind == "shift_end" or now_ms - last_sign > 5 * 60_000 or row.activity is None:
            continue
        entry = counts.setdefault(row.activity, {"production": 0, "present": 0})
        entry["present"] += 1
        entry["production"] += row.key == "production"
    return {"activities": counts, "at_ms": now_ms}


def sse(kind: str, data: Any) -> bytes:
    """One Server-Sent Events message."""
    return b"event: " + kind.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


class Subscriber:
    """One stream's queue of messages (each encoded once, for every stream it goes to), and
    what it may see. A stream that falls QUEUE_MAX behind is cut, alone: the others never
    wait for it."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue(QUEUE_MAX)
        self.overflowed = False

    def put(self, kind: str, data: Any) -> None:
        self.put_frame(kind, sse(kind, data))

    def put_frame(self, kind: str, frame: bytes) -> None:
        if self.overflowed:
            return
        try:
            self.queue.put_nowait((kind, frame))
        except asyncio.QueueFull:
            self.overflowed = True  # the stream ends; the panel resyncs from a snapshot
            with contextlib.suppress(asyncio.QueueFull):
                self.queue.get_nowait()
                self.queue.put_nowait(("resync", sse("resync", {})))


class _Fanout:
    """The open streams, indexed by what they follow: a change is offered to the streams
    that may see it, not to every stream (the hub's work grows with the changes)."""

    def __init__(self, subscribers: Iterable[Subscriber]) -> None:
        self.by_person: dict[int, list[Subscriber]] = {}
        self.by_plateau: dict[int, list[Subscriber]] = {}
        self.everyone: list[Subscriber] = []
        self.coverage: dict[frozenset[int], list[Subscriber]] = {}
        for sub in subscribers:
            scope = sub.scope
            if scope.person_ids is not None:
                for person_id in scope.person_ids:
                    self.by_person.setdefault(person_id, []).append(sub)
                if scope.coverage_plateaux:
                    self.coverage.setdefault(scope.coverage_plateaux, []).append(sub)
            elif scope.plateau_ids is not None:
                for plateau_id in scope.plateau_ids:
                    self.by_plateau.setdefault(plateau_id, []).append(sub)
            else:
                self.everyone.append(sub)

    def seeing(self, person_id: int, plateau_ids: frozenset[int]) -> list[Subscriber]:
        found = {id(s): s for s in self.by_person.get(person_id, ())}
        for plateau_id in plateau_ids:
            found.update((id(s), s) for s in self.by_plateau.get(plateau_id, ()))
        found.update((id(s), s) for s in self.everyone)
        return [s for s in found.values() if s.scope.sees(person_id, plateau_ids)]


def _send_each(kind: str, wrap: str, items: dict[int, tuple[Subscriber, list[Any]]]) -> None:
    """Each stream its items; the same items are encoded once for all streams that get them."""
    frames: dict[tuple[int, ...], bytes] = {}
    for sub, found in items.values():
        key = tuple(id(item) for item in found)
        frame = frames.get(key)
        if frame is None:
            frame = frames[key] = sse(kind, {wrap: found})
        sub.put_frame(kind, frame)


class LiveHub:
    """Polls the database for changes and hands each stream what it may see. Coverage is
    kept in memory, from a first read and then each poll's changes."""

    def __init__(
        self, engine: Engine, *, poll_s: float = POLL_S, clock: NowMs = system_now_ms
    ) -> None:
        self.engine = engine
        self.poll_s = poll_s
        self.clock = clock
        self.subscribers: set[Subscriber] = set()
        self._fanout: _Fanout | None = None
        self._seen: dict[str, int] = {}  # heartbeat or correction key → when, for dedupe
        self._last_id: int | None = None  # the highest event id sent on (SQLite)
        self._exact_ids = engine.dialect.name == "sqlite"
        self._feed = IdFeed()  # PostgreSQL's
        self._poll_cost = 0.0
        self._task: asyncio.Task[None] | None = None
        self._cursor_ms = self.clock()
        self._wake = asyncio.Event()
        self._plateaux: dict[int, dict[str, Any]] | None = None
        self.closing = False  # the server is stopping: streams are ended, none is opened
        self._plateaux_read_at = 0.0
        self._presence_read_at = 0.0
        self._polled_at = 0.0
        self._stopping = False
        self._directory = Directory()
        self._directory_read_at = 0.0
        # Coverage, in memory once read: plateau → person → their last shift/status event.
        self._latest: dict[int, dict[int, Latest]] | None = None
        self._alive: dict[int, int] = {}
        self._coverage_sent: dict[frozenset[int], dict[str, Any]] = {}
        self._coverage_at = 0.0

    def wake(self) -> None:
        """Poll soon: this process has just stored something (others find it by polling)."""
        self._wake.set()

    async def prime(self) -> None:
        """The plateaux' baseline read before the first stream can open (the store's
        startup): read by the loop's first turn instead, it could come after an admin's
        change that the first streams' snapshots did not have — a change then never
        pushed (test_a_plateaus_change_is_pushed_to_the_streams_that_show_it, on a busy
        machine). A store that cannot answer yet leaves it to the loop, as before."""
        try:
            self._plateaux = await run_in_threadpool(plateaux_by_id, self.engine)
        except Exception:  # the store may be down at startup: the loop keeps trying
            log.warning("the plateaux could not be read at startup", exc_info=True)
            return
        self._plateaux_read_at = asyncio.get_running_loop().time()

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
        self._fanout = None
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        self.subscribers.discard(sub)
        self._fanout = None

    async def coverage_now(self, plateau_ids: frozenset[int]) -> dict[str, Any]:
        """Coverage of these plateaux as of now (a stream's first)."""
        if self._latest is None:
            await self._read_latest()
        assert self._latest is not None
        return count_coverage(self._latest, self._alive, plateau_ids, now_ms=self.clock())

    async def _read_latest(self) -> None:
        self._latest, self._alive = await run_in_threadpool(
            functools.partial(read_latest, self.engine, now_ms=self.clock())
        )

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_s)
            # Woken by a write: not more often than every MIN_POLL_S, nor than twice what
            # the last poll took, so that a busy store's writes are read in groups and the
            # polls never take more than a third of the process.
            gap = max(MIN_POLL_S, 2 * self._poll_cost) - (loop.time() - self._polled_at)
            if gap > 0 and not self._stopping:
                await asyncio.sleep(gap)
            self._wake.clear()
            self._polled_at = loop.time()
            if self._stopping:
                return
            try:
                # Read even with no stream open, so that the first one's baseline is no
                # older than a few seconds.
                await self._push_plateaux_if_changed()
                if not self.subscribers:
                    self._cursor_ms = self.clock()
                    self._latest = None  # read again when a stream needs it
                    self._last_id = None  # and the change feed starts again from now
                    self._feed.reset()
                    continue
                await self.poll()
                self._poll_cost = loop.time() - self._polled_at
            except Exception:  # the store may be down for a while: keep polling
                log.exception("live poll failed")

    async def _directory_of(self, person_ids: Iterable[int]) -> Directory:
        loop = asyncio.get_running_loop()
        stale = loop.time() - self._directory_read_at > PLATEAUX_EVERY_S
        if stale or any(p not in self._directory.logins for p in person_ids):
            self._directory = await run_in_threadpool(read_directory, self.engine)
            self._directory_read_at = loop.time()
        return self._directory

    async def poll(self) -> None:
        loop = asyncio.get_running_loop()
        started = self.clock()
        since = self._cursor_ms - LOOKBACK_MS
        with_presence = loop.time() - self._presence_read_at >= PRESENCE_EVERY_S
        if with_presence:
            self._presence_read_at = loop.time()
        if self._latest is None:
            await self._read_latest()
        after = self._last_id if self._exact_ids else self._feed.after_id
        found = await run_in_threadpool(
            functools.partial(
                changes,
                self.engine,
                since,
                presence=with_presence,
                after_id=after,
                holes=() if self._exact_ids else self._feed.holes.keys(),
            )
        )
        self._cursor_ms = started
        # Each read's events are new: past the highest id read, or a hole's.
        fresh_events = found.events
        if self._exact_ids:
            self._last_id = max(self._last_id or 0, found.top_id)
        else:
            self._feed.advance([event_id for *_, event_id in found.events], found.top_id, started)
        fresh_presence = []
        for person_id, device_id, last_seen, pending in found.presence or ():
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
        if with_presence:  # not on every poll
            cutoff = started - 2 * LOOKBACK_MS
            self._seen = {k: t for k, t in self._seen.items() if t >= cutoff}
        touched: set[int] | None = self._keep_coverage(fresh_events, fresh_presence)
        if fresh_events or fresh_presence or fresh_fixes:
            who = {p for p, *_ in fresh_events} | {p for p, *_ in fresh_presence}
            directory = await self._directory_of(who | {p for p, _fix in fresh_fixes})
            self._fan_out(directory, fresh_events, fresh_presence, fresh_fixes)
        if loop.time() - self._coverage_at >= COVERAGE_EVERY_S:
            self._coverage_at = loop.time()  # and the agents who went quiet drop out
            touched = None
        self._send_coverage(touched, started)

    def _keep_coverage(
        self,
        events: list[tuple[int, int, dict[str, Any], Latest | None, int]],
        presence: list[tuple[int, str, int, int]],
    ) -> set[int]:
        """Coverage's memory brought up to date; the plateaux whose counts may have moved."""
        assert self._latest is not None
        touched: set[int] = set()
        for person_id, plateau_id, _event, latest, _id in events:
            if latest is None:
                continue
            held = self._latest.setdefault(plateau_id, {}).get(person_id)
            if held is None or latest.id > held.id:
                self._latest[plateau_id][person_id] = latest
                touched.add(plateau_id)
        for person_id, _device, seen, _pending in presence:
            if seen > self._alive.get(person_id, 0):
                self._alive[person_id] = seen
                touched.update(self._directory.memberships.get(person_id, ()))
        return touched

    def _fan_out(
        self,
        directory: Directory,
        events: list[tuple[int, int, dict[str, Any], Latest | None, int]],
        presence: list[tuple[int, str, int, int]],
        fixes: list[tuple[int, dict[str, Any]]],
    ) -> None:
        if self._fanout is None:
            self._fanout = _Fanout(self.subscribers)
        fanout = self._fanout
        places = directory.memberships
        per_sub: dict[int, tuple[Subscriber, list[Any]]] = {}
        for person_id, plateau_id, event, _latest, _id in events:
            for sub in fanout.seeing(person_id, places.get(person_id, frozenset({plateau_id}))):
                per_sub.setdefault(id(sub), (sub, []))[1].append(event)
        _send_each("events", "events", per_sub)
        per_sub = {}
        for person_id, device_id, seen, pending in presence:
            beat = {
                "agent": directory.logins.get(person_id, ""),
                "device_id": device_id,
                "last_seen_ms": seen,
                "pending": pending,
            }
            for sub in fanout.seeing(person_id, places.get(person_id, frozenset())):
                per_sub.setdefault(id(sub), (sub, []))[1].append(beat)
        _send_each("presence", "presence", per_sub)
        per_sub = {}
        for person_id, fix in fixes:
            for sub in fanout.seeing(person_id, places.get(person_id, frozenset())):
                per_sub.setdefault(id(sub), (sub, []))[1].append(fix)
        _send_each("corrections", "corrections", per_sub)

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

    def _send_coverage(self, touched: set[int] | None, now_ms: int) -> None:
        """Coverage to the streams that show it, when its counts moved (`touched`: the
        plateaux that may have; None: all), encoded once per set of plateaux."""
        if self._latest is None:
            return
        if self._fanout is None:
            self._fanout = _Fanout(self.subscribers)
        for plateaux, subs in self._fanout.coverage.items():
            if touched is not None and not plateaux & touched:
                continue
            counted = count_coverage(self._latest, self._alive, plateaux, now_ms=now_ms)
            if self._coverage_sent.get(plateaux) == counted["activities"]:
                continue
            self._coverage_sent[plateaux] = counted["activities"]
            frame = sse("coverage", counted)
            for sub in subs:
                sub.put_frame("coverage", frame)
