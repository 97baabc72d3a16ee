"""Open, check, migrate and write the journal file (SQLAlchemy 2 Core on SQLite)."""

from __future__ import annotations

import json
import logging
import sqlite3
import sys
import threading
import time
import uuid as uuidlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Engine,
    and_,
    create_engine,
    delete,
    event,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from app.domain.events import Event, Key, Kind, SyncState
from app.journal import schema
from app.journal.errors import JournalError

log = logging.getLogger(__name__)

JOURNAL_FILE = "journal.sqlite3"
DEFAULT_BUSY_TIMEOUT_MS = 2000
PAGE_CACHE_KIB = 256
# SQLite result codes that mean "this file is damaged", as opposed to "cannot open it now".
_SQLITE_CORRUPT = 11
_SQLITE_NOTADB = 26
_SQLITE_READONLY = 8
_SQLITE_CANTOPEN = 14


@dataclass(frozen=True, slots=True)
class Recovery:
    """A damaged journal was moved aside (never deleted) and a new one started."""

    moved_to: Path
    reason: str
    salvaged: int


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """An event as the journal holds it, with its sync state."""

    event: Event
    sync_state: SyncState
    sync_error: str | None


@dataclass(frozen=True, slots=True)
class LocalClaim:
    """Events recorded before sign-in (under the local name `agent`, up to `up_to_seq`)
    that the signed-in person chose to send as theirs."""

    agent: str
    up_to_seq: int


def _of_agent(agent: str, claim: LocalClaim | None) -> Any:
    mine = schema.events.c.agent == agent
    if claim is None or claim.agent == agent:
        return mine
    return or_(
        mine,
        and_(schema.events.c.agent == claim.agent, schema.events.c.seq <= claim.up_to_seq),
    )


def _is_corruption(exc: BaseException) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return int(code) & 0xFF in (_SQLITE_CORRUPT, _SQLITE_NOTADB)
    return isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError)


def check_file(path: Path) -> str | None:
    """Run `PRAGMA quick_check` on a journal file; return None if sound, else what is wrong.

    Raises JournalError when the file cannot be opened at all (permissions, locks): that is
    not damage, and moving the file aside would not help.
    """
    try:
        # Read-only first: checking a damaged file must not change the evidence (its -wal).
        return _quick_check(path, readonly=True)
    except sqlite3.Error as exc:
        code = int(getattr(exc, "sqlite_errorcode", 0)) & 0xFF
        if code not in (_SQLITE_READONLY, _SQLITE_CANTOPEN):
            raise JournalError(f"cannot read {path}: {exc}") from exc
    # A WAL left by a crash may need recovering, which a read-only connection cannot do.
    try:
        return _quick_check(path, readonly=False)
    except sqlite3.Error as exc:
        raise JournalError(f"cannot read {path}: {exc}") from exc


def _quick_check(path: Path, *, readonly: bool) -> str | None:
    uri = f"file:{path}?mode=ro" if readonly else f"file:{path}"
    con = sqlite3.connect(uri, uri=True, timeout=DEFAULT_BUSY_TIMEOUT_MS / 1000)
    try:
        rows = con.execute("PRAGMA quick_check").fetchall()
    except sqlite3.Error as exc:
        if _is_corruption(exc):
            return str(exc)
        raise
    finally:
        con.close()
    if rows == [("ok",)]:
        return None
    return "; ".join(str(r[0]) for r in rows[:5])


class Journal:
    """The agent's journal of events, in one SQLite file.

    Every write is its own `BEGIN IMMEDIATE` transaction on a WAL journal with
    synchronous=FULL: when `append` returns, the event is on disk.

    Attributes:
        path: the journal file.
        device_id: this journal's device id (a new journal is a new device).
        recovery: set when a damaged journal was moved aside at open.
    """

    def __init__(
        self,
        path: Path,
        *,
        busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
        readonly: bool = False,
    ) -> None:
        self.path = path
        self.recovery: Recovery | None = None
        self.readonly = readonly
        self._busy_timeout_ms = busy_timeout_ms
        self._local = threading.local()
        self._conns: list[Connection] = []
        self._conns_lock = threading.Lock()
        if readonly:
            # For readers beside a running bar (`bandeau journal show`): no check, no move,
            # no migration, no writes; the bar owns the file.
            if not path.exists():
                raise JournalError(f"there is no journal at {path}")
            self._engine = self._make_engine()
            try:
                with self._engine.connect() as conn:
                    found = conn.execute(
                        select(schema.meta.c.value).where(schema.meta.c.name == "device_id")
                    ).scalar_one_or_none()
            except SQLAlchemyError as exc:
                self._engine.dispose()
                raise JournalError(f"cannot read the journal {path}: {_reason(exc)}") from exc
            self.device_id = str(found or "")
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise JournalError(f"cannot create the folder {path.parent}: {exc}") from exc
        salvaged: list[dict[str, Any]] = []
        if path.exists():
            problem = check_file(path)
            if problem is not None:
                self.recovery, salvaged = self._move_aside(problem)
        self._engine = self._make_engine()
        try:
            self._migrate()
            self.device_id = self._ensure_device_id()
            if self.recovery is not None and salvaged:
                kept = self._restore(salvaged)
                self.recovery = replace(self.recovery, salvaged=kept)
                log.warning("salvaged %d events from %s", kept, self.recovery.moved_to)
        except SQLAlchemyError as exc:
            self._engine.dispose()
            raise JournalError(f"cannot set up the journal {path}: {_reason(exc)}") from exc

    # -- opening -------------------------------------------------------------------------

    def _make_engine(self) -> Engine:
        # SQLAlchemy's pool keeps a connection open between clicks (no re-open cost per click);
        # each thread checks out its own connection, so the UI and sync never share one.
        engine = create_engine(
            f"sqlite:///{self.path}",
            # Each thread uses its own connection (see _tx); close() may run on another thread.
            connect_args={"timeout": self._busy_timeout_ms / 1000, "check_same_thread": False},
        )
        busy = self._busy_timeout_ms
        readonly = self.readonly

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_con: sqlite3.Connection, _record: object) -> None:
            # Take transaction control away from pysqlite's legacy handling so that the
            # "begin" listener below decides how each transaction starts.
            dbapi_con.isolation_level = None
            cur = dbapi_con.cursor()
            if not readonly:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            if sys.platform == "darwin":
                cur.execute("PRAGMA fullfsync=ON")  # a plain fsync is not durable on macOS
            cur.execute(f"PRAGMA busy_timeout={int(busy)}")
            # The bar writes far more than it reads: a small page cache keeps its memory flat
            # however long the journal grows (SQLite's default is 2 MB per connection).
            cur.execute(f"PRAGMA cache_size=-{PAGE_CACHE_KIB}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            # Writers take the write lock up front: no deadlock upgrading a read lock later.
            conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

        return engine

    def _migrate(self) -> None:
        with self._tx() as conn:
            version = int(conn.exec_driver_sql("PRAGMA user_version").scalar_one())
            if version > schema.SCHEMA_VERSION:
                raise JournalError(
                    f"the journal {self.path} has schema version {version}, newer than this "
                    f"Bandeau ({schema.SCHEMA_VERSION}); update Bandeau"
                )
            for number in range(version, schema.SCHEMA_VERSION):
                for statement in schema.MIGRATIONS[number]:
                    conn.exec_driver_sql(statement)
                conn.exec_driver_sql(f"PRAGMA user_version={number + 1}")
                log.info("journal migrated to schema version %d", number + 1)

    def _ensure_device_id(self) -> str:
        with self._tx() as conn:
            found = conn.execute(
                select(schema.meta.c.value).where(schema.meta.c.name == "device_id")
            ).scalar_one_or_none()
            if found is not None:
                return str(found)
            device_id = str(uuidlib.uuid4())
            conn.execute(insert(schema.meta).values(name="device_id", value=device_id))
            conn.execute(insert(schema.meta).values(name="created_at", value=str(_now_ms())))
            if self.recovery is not None:
                conn.execute(
                    insert(schema.meta).values(
                        name="recovered_from", value=str(self.recovery.moved_to)
                    )
                )
            return device_id

    def _move_aside(self, problem: str) -> tuple[Recovery, list[dict[str, Any]]]:
        stamp = time.strftime("%Y%m%dT%H%M%S")
        target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        n = 1
        while target.exists():
            n += 1
            target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{n}")
        for suffix in ("", "-wal", "-shm"):
            src = Path(f"{self.path}{suffix}")
            if src.exists():
                src.rename(Path(f"{target}{suffix}"))
        log.error("journal %s is damaged (%s); moved aside to %s", self.path, problem, target)
        rows = _salvage(target)
        return Recovery(moved_to=target, reason=problem, salvaged=len(rows)), rows

    # -- writing -------------------------------------------------------------------------

    def append(self, *evs: Event) -> list[Event]:
        """Write events durably, all or none, and return them with their sequence numbers.

        Raises JournalError (none of them is then in the journal) when the write fails.
        """
        written: list[Event] = []
        try:
            with self._tx() as conn:
                for ev in evs:
                    result = conn.execute(_INSERT_EVENT, _event_values(ev))
                    seq = result.inserted_primary_key[0] if result.inserted_primary_key else None
                    written.append(replace(ev, seq=int(seq) if seq is not None else None))
        except SQLAlchemyError as exc:
            kinds = ", ".join(ev.kind.value for ev in evs)
            log.error("could not write %s: %s", kinds, _reason(exc))
            raise JournalError(_reason(exc)) from exc
        return written

    def _restore(self, rows: list[dict[str, Any]]) -> int:
        """Copy the events read from a damaged journal into this one; skip unreadable ones."""
        kept = 0
        with self._tx() as conn:
            for row in rows:
                try:
                    with conn.begin_nested():
                        conn.execute(insert(schema.events).values(**row))
                    kept += 1
                except SQLAlchemyError as exc:
                    log.warning("could not salvage event %s: %s", row.get("uuid"), _reason(exc))
        return kept

    def mark_acked(self, uuids: Iterable[str]) -> int:
        """Record the central store's acknowledgement of these events."""
        ids = list(uuids)
        if not ids:
            return 0
        with self._tx() as conn:
            result = conn.execute(
                update(schema.events)
                .where(schema.events.c.uuid.in_(ids))
                .values(sync_state=SyncState.ACKED.value, sync_error=None)
            )
        return int(result.rowcount)

    def quarantine(self, uuid: str, reason: str) -> None:
        """Keep a rejected event aside, with the reason; it no longer blocks the queue."""
        with self._tx() as conn:
            conn.execute(
                update(schema.events)
                .where(schema.events.c.uuid == uuid)
                .values(sync_state=SyncState.QUARANTINED.value, sync_error=reason[:500])
            )

    def set_state(self, name: str, value: str) -> None:
        """Store a small named value (window place, last sign of life)."""
        with self._tx() as conn:
            conn.exec_driver_sql(
                "INSERT INTO state (name, value, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET value = excluded.value, "
                "updated_at = excluded.updated_at",
                (name, value, _now_ms()),
            )

    # Corrections the agent made while the store could not be reached: kept here (one state
    # row each, so that the bar adding one and the sync worker settling another never
    # overwrite each other) until the worker has sent them.
    _QUEUED, _REFUSED = "correction:", "correction-refused:"

    def queue_correction(self, body: dict[str, Any]) -> None:
        """Keep a correction (the body of POST /v1/corrections) to send when the store is
        back; the same uuid again keeps its first place in the queue."""
        with self._tx() as conn:
            conn.exec_driver_sql(
                "INSERT INTO state (name, value, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT(name) DO NOTHING",
                (self._QUEUED + str(body["uuid"]), json.dumps(body, ensure_ascii=False), _now_ms()),
            )

    def queued_corrections(self) -> list[dict[str, Any]]:
        return self._named(self._QUEUED)

    def settle_correction(self, uuid: str, refused: str | None = None) -> None:
        """The store took it — or refused it (`refused`: why), which the bar then tells."""
        with self._tx() as conn:
            body = conn.execute(
                select(schema.state.c.value).where(schema.state.c.name == self._QUEUED + uuid)
            ).scalar_one_or_none()
            conn.execute(delete(schema.state).where(schema.state.c.name == self._QUEUED + uuid))
            if refused is not None and body is not None:
                kept = {**json.loads(body), "refused": refused}
                conn.execute(
                    insert(schema.state).values(
                        name=self._REFUSED + uuid,
                        value=json.dumps(kept, ensure_ascii=False),
                        updated_at=_now_ms(),
                    )
                )

    def refused_corrections(self) -> list[dict[str, Any]]:
        """Queued corrections the store refused, each with `refused` (the reason)."""
        return self._named(self._REFUSED)

    def forget_refused(self, uuid: str) -> None:
        with self._tx() as conn:
            conn.execute(delete(schema.state).where(schema.state.c.name == self._REFUSED + uuid))

    def _named(self, prefix: str) -> list[dict[str, Any]]:
        with self._tx() as conn:
            values = conn.execute(
                select(schema.state.c.value)
                .where(schema.state.c.name.startswith(prefix, autoescape=True))
                .order_by(schema.state.c.updated_at, schema.state.c.name)
            ).scalars()
            found = []
            for value in values:
                try:
                    found.append(dict(json.loads(value)))
                except (ValueError, TypeError):
                    log.warning("a kept correction could not be read: %.80s", value)
            return found

    # -- reading -------------------------------------------------------------------------

    def get_state(self, name: str) -> str | None:
        with self._tx() as conn:
            found = conn.execute(
                select(schema.state.c.value).where(schema.state.c.name == name)
            ).scalar_one_or_none()
        return None if found is None else str(found)

    def entries(
        self, *, since_ms: int | None = None, after_seq: int = 0, limit: int | None = None
    ) -> list[JournalEntry]:
        """Events in journal order, optionally from a wall time or after a sequence number."""
        query = select(schema.events).where(schema.events.c.seq > after_seq)
        if since_ms is not None:
            query = query.where(schema.events.c.occurred_at >= since_ms)
        query = query.order_by(schema.events.c.seq)
        if limit is not None:
            query = query.limit(limit)
        with self._tx() as conn:
            rows = conn.execute(query).mappings().all()
        return [_entry(row) for row in rows]

    def pending(
        self, *, agent: str, limit: int, claim: LocalClaim | None = None
    ) -> list[JournalEntry]:
        """The oldest events of `agent` (and those `claim` brings along) still waiting for
        the central store, by seq."""
        query = (
            select(schema.events)
            .where(
                schema.events.c.sync_state == SyncState.PENDING.value,
                _of_agent(agent, claim),
            )
            .order_by(schema.events.c.seq)
            .limit(limit)
        )
        with self._tx() as conn:
            rows = conn.execute(query).mappings().all()
        return [_entry(row) for row in rows]

    def backlog(self, agent: str) -> tuple[int, int | None, int]:
        """`agent`'s events waiting to be sent: how many, when the oldest happened, the
        highest seq (0 when none)."""
        ev = schema.events.c
        query = select(func.count(), func.min(ev.occurred_at), func.max(ev.seq)).where(
            ev.sync_state == SyncState.PENDING.value, ev.agent == agent
        )
        with self._tx() as conn:
            count, oldest, last = conn.execute(query).one()
        return int(count), oldest, int(last or 0)

    def events(self, *, since_ms: int | None = None) -> list[Event]:
        return [e.event for e in self.entries(since_ms=since_ms)]

    def events_in_force_since(self, at_ms: int, *, agent: str) -> list[Event]:
        """`agent`'s events from `at_ms` on, and before them those of the shift in force at
        `at_ms` (from its shift start, however long ago): what a day's totals need."""
        ev = schema.events.c
        with self._tx() as conn:
            start = conn.execute(
                select(func.max(ev.seq)).where(
                    ev.kind == Kind.SHIFT_START.value, ev.agent == agent, ev.occurred_at < at_ms
                )
            ).scalar_one_or_none()
        found = (
            self.entries(after_seq=int(start) - 1)
            if start is not None
            else self.entries(since_ms=at_ms)
        )
        return [e.event for e in found if e.event.agent == agent]

    def last_shift_events(self) -> list[Event]:
        """The events of the latest shift (from its shift start), oldest first."""
        with self._tx() as conn:
            start = conn.execute(
                select(func.max(schema.events.c.seq)).where(
                    schema.events.c.kind == Kind.SHIFT_START.value,
                    schema.events.c.device_id == self.device_id,
                )
            ).scalar_one_or_none()
        if start is None:
            return []
        return [
            e.event
            for e in self.entries(after_seq=int(start) - 1)
            if e.event.device_id == self.device_id
        ]

    def last_event(self) -> Event | None:
        with self._tx() as conn:
            row = (
                conn.execute(select(schema.events).order_by(schema.events.c.seq.desc()).limit(1))
                .mappings()
                .first()
            )
        return None if row is None else _entry(row).event

    def counts(
        self, *, agent: str | None = None, claim: LocalClaim | None = None
    ) -> dict[SyncState, int]:
        """How many events (of one agent and its claim, or all) are pending, acked and
        quarantined."""
        query = select(schema.events.c.sync_state, func.count()).group_by(
            schema.events.c.sync_state
        )
        if agent is not None:
            query = query.where(_of_agent(agent, claim))
        with self._tx() as conn:
            rows = conn.execute(query).all()
        result = dict.fromkeys(SyncState, 0)
        for state_name, count in rows:
            result[SyncState(state_name)] = int(count)
        return result

    def integrity_check(self) -> list[str]:
        """`PRAGMA integrity_check`'s rows (["ok"] when sound)."""
        with self._tx() as conn:
            return [str(r[0]) for r in conn.exec_driver_sql("PRAGMA integrity_check").all()]

    def pragma(self, name: str) -> Any:
        with self._tx() as conn:
            return conn.exec_driver_sql(f"PRAGMA {name}").scalar()

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        """A transaction on this thread's own connection (kept open between clicks: opening a
        connection per click would cost more than the durable commit itself)."""
        conn: Connection | None = getattr(self._local, "conn", None)
        if conn is None or conn.closed or conn.invalidated:
            conn = self._engine.connect()
            self._local.conn = conn
            with self._conns_lock:
                self._conns.append(conn)
        try:
            with conn.begin():
                yield conn
        except BaseException:
            # After a failure (disk full, I/O error) start the next write on a fresh connection.
            self._local.conn = None
            with self._conns_lock:
                if conn in self._conns:
                    self._conns.remove(conn)
            conn.close()
            raise

    def close(self) -> None:
        with self._conns_lock:
            for conn in self._conns:
                conn.close()
            self._conns.clear()
        self._engine.dispose()


_INSERT_EVENT = insert(schema.events)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _reason(exc: BaseException) -> str:
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        return str(exc.orig)
    return str(exc)


def _event_values(ev: Event) -> dict[str, Any]:
    return {
        "uuid": ev.uuid,
        "device_id": ev.device_id,
        "agent": ev.agent,
        "activity": ev.activity,
        "kind": ev.kind.value,
        "key": ev.key.value if ev.key is not None else None,
        "occurred_at": ev.occurred_at_ms,
        "tz_name": ev.tz_name,
        "utc_offset_s": ev.utc_offset_s,
        "monotonic_ms": ev.monotonic_ms,
        "clock_jump_ms": ev.clock_jump_ms,
        "note": ev.note,
        "sync_state": SyncState.PENDING.value,
        "recorded_at": _now_ms(),
    }


def _entry(row: Any) -> JournalEntry:
    ev = Event(
        uuid=row["uuid"],
        seq=int(row["seq"]),
        device_id=row["device_id"],
        agent=row["agent"],
        activity=row["activity"],
        kind=Kind(row["kind"]),
        key=Key(row["key"]) if row["key"] is not None else None,
        occurred_at_ms=int(row["occurred_at"]),
        tz_name=row["tz_name"],
        utc_offset_s=int(row["utc_offset_s"]),
        monotonic_ms=int(row["monotonic_ms"]),
        clock_jump_ms=row["clock_jump_ms"],
        note=row["note"],
    )
    return JournalEntry(ev, SyncState(row["sync_state"]), row["sync_error"])


_SALVAGE_COLUMNS: Sequence[str] = (*schema.EVENT_CONTENT_COLUMNS, "sync_state", "recorded_at")


def _salvage(damaged: Path) -> list[dict[str, Any]]:
    """Read whatever event rows can still be read from a damaged journal, oldest first."""
    rows: list[dict[str, Any]] = []
    try:
        con = sqlite3.connect(f"file:{damaged}?mode=ro", uri=True)
    except sqlite3.Error:
        return rows
    try:
        # The column names are our own constants, not input.
        query = f"SELECT {', '.join(_SALVAGE_COLUMNS)} FROM events ORDER BY seq"  # noqa: S608
        cur = con.execute(query)
        while True:
            try:
                row = cur.fetchone()
            except sqlite3.Error:
                break
            if row is None:
                break
            rows.append(dict(zip(_SALVAGE_COLUMNS, row, strict=True)))
    except sqlite3.Error as exc:
        log.warning("nothing salvaged from %s: %s", damaged, exc)
    finally:
        con.close()
    return rows
