"""Open, check, migrate and write the journal file (the standard library's sqlite3).

The journal is the bar's crash-proof outbox: WAL, synchronous=FULL (fullfsync on macOS),
append-only triggers, forward migrations by `user_version`. It uses sqlite3 directly rather
than SQLAlchemy: the same insert costs the same through either, and the bar starts without
SQLAlchemy's import (a quarter of a second and 26 MB), which the central store keeps.

Error contract: every method raises `JournalError` for anything that goes wrong with the
file (never sqlite3's or the OS's own exceptions); a failed write leaves nothing
half-written. Writes take the write lock up front (`BEGIN IMMEDIATE`); reads never take it,
so a read on the UI thread never waits behind the sync thread's write (WAL readers see the
last commit).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import sys
import threading
import time
import uuid as uuidlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

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

_COLUMNS = (*schema.EVENT_CONTENT_COLUMNS, "sync_state", "sync_error", "recorded_at", "claimed_by")
_SELECT_EVENTS = f"SELECT {', '.join(_COLUMNS)} FROM events"  # noqa: S608 - our constants
_INSERT_COLUMNS = (*schema.EVENT_CONTENT_COLUMNS[1:], "sync_state", "recorded_at")
_INSERT_EVENT = (
    f"INSERT INTO events ({', '.join(_INSERT_COLUMNS)}) "  # noqa: S608 - our constants
    f"VALUES ({', '.join('?' for _ in _INSERT_COLUMNS)})"
)
# An agent's own events, and those recorded before sign-in that they claimed.
_OF_AGENT = "(agent = :agent OR claimed_by = :agent)"


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
    claimed_by: str | None = None


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
        self._cons: list[sqlite3.Connection] = []
        self._cons_lock = threading.Lock()
        if readonly:
            # For readers beside a running bar (`bandeau journal show`): no check, no move,
            # no migration, no writes; the bar owns the file.
            if not path.exists():
                raise JournalError(f"there is no journal at {path}")
            try:
                with self._read() as con:
                    found = con.execute(
                        "SELECT value FROM meta WHERE name = 'device_id'"
                    ).fetchone()
            except JournalError as exc:
                self.close()
                raise JournalError(f"cannot read the journal {path}: {exc}") from exc
            self.device_id = str(found[0]) if found else ""
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise JournalError(f"cannot create the folder {path.parent}: {exc}") from exc
        salvaged: list[dict[str, Any]] = []
        try:
            if path.exists():
                problem = check_file(path)
                if problem is not None:
                    self.recovery, salvaged = self._move_aside(problem)
        except OSError as exc:
            raise JournalError(f"cannot check the journal {path}: {exc}") from exc
        try:
            self.device_id = self._set_up()
            if self.recovery is not None and salvaged:
                kept = self._restore(salvaged)
                self.recovery = replace(self.recovery, salvaged=kept)
                log.warning("salvaged %d events from %s", kept, self.recovery.moved_to)
        except JournalError as exc:
            self.close()
            if "newer than this Bandeau" in str(exc):
                raise
            raise JournalError(f"cannot set up the journal {path}: {exc}", exc.reason) from exc

    # -- connections and transactions ---------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        """This thread's own connection, kept open between clicks (opening one per click
        would cost more than the durable commit itself)."""
        con: sqlite3.Connection | None = getattr(self._local, "con", None)
        if con is not None:
            return con
        # Autocommit (isolation_level None): each transaction is begun explicitly below.
        # check_same_thread off only so that close() may run on another thread.
        con = sqlite3.connect(
            self.path,
            timeout=self._busy_timeout_ms / 1000,
            isolation_level=None,
            check_same_thread=False,
        )
        try:
            if not self.readonly:
                con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=FULL")
            if sys.platform == "darwin":
                con.execute("PRAGMA fullfsync=ON")  # a plain fsync is not durable on macOS
            con.execute(f"PRAGMA busy_timeout={int(self._busy_timeout_ms)}")
            # The bar writes far more than it reads: a small page cache keeps its memory flat
            # however long the journal grows (SQLite's default is 2 MB per connection).
            con.execute(f"PRAGMA cache_size=-{PAGE_CACHE_KIB}")
            con.execute("PRAGMA foreign_keys=ON")
        except BaseException:
            con.close()
            raise
        con.row_factory = sqlite3.Row
        self._local.con = con
        with self._cons_lock:
            self._cons.append(con)
        return con

    def _drop(self, con: sqlite3.Connection | None) -> None:
        """After a failure (disk full, I/O error) the next call starts on a fresh connection."""
        self._local.con = None
        if con is None:
            return
        with self._cons_lock:
            if con in self._cons:
                self._cons.remove(con)
        with suppress(sqlite3.Error):
            con.close()

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[sqlite3.Connection]:
        con: sqlite3.Connection | None = None
        try:
            con = self._connection()
            con.execute(begin)
        except (sqlite3.Error, OSError) as exc:
            self._drop(con)
            raise JournalError(str(exc)) from exc
        try:
            yield con
            con.execute("COMMIT")
        except BaseException as exc:
            failed = isinstance(exc, sqlite3.Error | OSError)
            try:
                if con.in_transaction:
                    con.execute("ROLLBACK")
            except sqlite3.Error:
                failed = True
            if failed:
                self._drop(con)  # after a disk or I/O failure, a fresh connection next time
            if isinstance(exc, sqlite3.Error | OSError):
                raise JournalError(str(exc)) from exc
            raise

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        """A write transaction, the write lock taken up front (no deadlock upgrading a read
        lock later)."""
        if self.readonly:
            raise JournalError(f"the journal {self.path} is open for reading only", "readonly")
        return self._transaction("BEGIN IMMEDIATE")

    def _read(self) -> AbstractContextManager[sqlite3.Connection]:
        """A read transaction: one snapshot for its statements, no write lock."""
        return self._transaction("BEGIN DEFERRED")

    # -- opening -------------------------------------------------------------------------

    def _set_up(self) -> str:
        """Migrate forward and make sure of the device id: one transaction (a new journal
        costs one durable commit, an up-to-date one none). The device id."""
        with self._write() as con:
            self._migrate(con)
            return self._ensure_device_id(con)

    def _migrate(self, con: sqlite3.Connection) -> None:
        version = int(con.execute("PRAGMA user_version").fetchone()[0])
        if version > schema.SCHEMA_VERSION:
            raise JournalError(
                f"the journal {self.path} has schema version {version}, newer than this "
                f"Bandeau ({schema.SCHEMA_VERSION}); update Bandeau",
                "newer",
            )
        for number in range(version, schema.SCHEMA_VERSION):
            migration = schema.MIGRATIONS[number]
            if callable(migration):
                migration(con)
            else:
                for statement in migration:
                    con.execute(statement)
            con.execute(f"PRAGMA user_version={number + 1}")
            log.info("journal migrated to schema version %d", number + 1)

    def _ensure_device_id(self, con: sqlite3.Connection) -> str:
        found = con.execute("SELECT value FROM meta WHERE name = 'device_id'").fetchone()
        if found is not None:
            return str(found[0])
        device_id = str(uuidlib.uuid4())
        con.execute("INSERT INTO meta VALUES ('device_id', ?)", (device_id,))
        con.execute("INSERT INTO meta VALUES ('created_at', ?)", (str(_now_ms()),))
        if self.recovery is not None:
            con.execute(
                "INSERT INTO meta VALUES ('recovered_from', ?)", (str(self.recovery.moved_to),)
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

    def append(self, *evs: Event, sync_state: SyncState = SyncState.PENDING) -> list[Event]:
        """Write events durably, all or none, and return them with their sequence numbers.
        `sync_state`: PENDING (to be sent) or LOCAL (recorded before sign-in: kept here).

        Raises JournalError (none of them is then in the journal) when the write fails.
        """
        if sync_state not in (SyncState.PENDING, SyncState.LOCAL):
            raise ValueError(f"new events are pending or local, not {sync_state}")
        written: list[Event] = []
        try:
            with self._write() as con:
                for ev in evs:
                    cur = con.execute(_INSERT_EVENT, _event_values(ev, sync_state))
                    written.append(replace(ev, seq=cur.lastrowid))
        except JournalError as exc:
            kinds = ", ".join(ev.kind.value for ev in evs)
            log.error("could not write %s: %s", kinds, exc)
            raise
        return written

    def _restore(self, rows: list[dict[str, Any]]) -> int:
        """Copy the events read from a damaged journal into this one; skip unreadable ones."""
        kept = 0
        with self._write() as con:
            for row in rows:
                names = [n for n in row if n in _COLUMNS]
                query = (
                    f"INSERT INTO events ({', '.join(names)}) "  # noqa: S608 - our constants
                    f"VALUES ({', '.join('?' for _ in names)})"
                )
                try:
                    con.execute("SAVEPOINT salvage")
                    con.execute(query, [row[n] for n in names])
                    con.execute("RELEASE salvage")
                    kept += 1
                except sqlite3.Error as exc:
                    con.execute("ROLLBACK TO salvage")
                    con.execute("RELEASE salvage")
                    log.warning("could not salvage event %s: %s", row.get("uuid"), exc)
        return kept

    def mark_acked(self, uuids: Iterable[str]) -> int:
        """Record the central store's acknowledgement of these events."""
        ids = list(uuids)
        if not ids:
            return 0
        changed = 0
        with self._write() as con:
            for start in range(0, len(ids), 500):  # SQLite's variable limit, with room
                part = ids[start : start + 500]
                cur = con.execute(
                    "UPDATE events SET sync_state = 'acked', sync_error = NULL "  # noqa: S608
                    f"WHERE uuid IN ({', '.join('?' for _ in part)})",
                    part,
                )
                changed += cur.rowcount
        return changed

    def quarantine(self, uuid: str, reason: str) -> None:
        """Keep a rejected event aside, with the reason; it no longer blocks the queue."""
        with self._write() as con:
            con.execute(
                "UPDATE events SET sync_state = 'quarantined', sync_error = ? WHERE uuid = ?",
                (reason[:500], uuid),
            )

    def claim_local(self, login: str, *, up_to_seq: int | None = None) -> int:
        """`login` chose to send the events recorded here before sign-in as theirs: they
        wait to be sent from now on (up to `up_to_seq`, the last the person was told of).
        How many were claimed."""
        bound = up_to_seq if up_to_seq is not None else sys.maxsize
        with self._write() as con:
            cur = con.execute(
                "UPDATE events SET sync_state = 'pending', claimed_by = ? "
                "WHERE sync_state = 'local' AND seq <= ?",
                (login, bound),
            )
            return int(cur.rowcount)

    def keep_local(self, agent: str) -> int:
        """Journals from before the `local` state (v2) held the events recorded before
        sign-in as pending under the PC's local name: they are local again (kept here
        until someone claims them), unless claimed. How many."""
        with self._write() as con:
            cur = con.execute(
                "UPDATE events SET sync_state = 'local' WHERE sync_state = 'pending' "
                "AND agent = ? AND claimed_by IS NULL",
                (agent,),
            )
            return int(cur.rowcount)

    def set_state(self, name: str, value: str) -> None:
        """Store a small named value (window place, last sign of life)."""
        with self._write() as con:
            con.execute(
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
        try:
            text = json.dumps(body, ensure_ascii=False)
            name = self._QUEUED + str(body["uuid"])
        except (KeyError, TypeError, ValueError) as exc:
            raise JournalError(f"not a correction that can be kept: {exc}") from exc
        with self._write() as con:
            con.execute(
                "INSERT INTO state (name, value, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT(name) DO NOTHING",
                (name, text, _now_ms()),
            )

    def queued_corrections(self) -> list[dict[str, Any]]:
        return self._named(self._QUEUED)

    def settle_correction(self, uuid: str, refused: str | None = None) -> None:
        """The store took it — or refused it (`refused`: why), which the bar then tells."""
        with self._write() as con:
            found = con.execute(
                "SELECT value FROM state WHERE name = ?", (self._QUEUED + uuid,)
            ).fetchone()
            con.execute("DELETE FROM state WHERE name = ?", (self._QUEUED + uuid,))
            if refused is not None and found is not None:
                try:
                    body = dict(json.loads(found[0]))
                except (ValueError, TypeError):
                    body = {"uuid": uuid}
                con.execute(
                    "INSERT OR REPLACE INTO state (name, value, updated_at) VALUES (?, ?, ?)",
                    (
                        self._REFUSED + uuid,
                        json.dumps({**body, "refused": refused}, ensure_ascii=False),
                        _now_ms(),
                    ),
                )

    def refused_corrections(self) -> list[dict[str, Any]]:
        """Queued corrections the store refused, each with `refused` (the reason)."""
        return self._named(self._REFUSED)

    def forget_refused(self, uuid: str) -> None:
        with self._write() as con:
            con.execute("DELETE FROM state WHERE name = ?", (self._REFUSED + uuid,))

    def _named(self, prefix: str) -> list[dict[str, Any]]:
        with self._read() as con:
            values = con.execute(
                "SELECT value FROM state WHERE substr(name, 1, ?) = ? ORDER BY updated_at, name",
                (len(prefix), prefix),
            ).fetchall()
        found = []
        for (value,) in values:
            try:
                found.append(dict(json.loads(value)))
            except (ValueError, TypeError):
                log.warning("a kept correction could not be read: %.80s", value)
        return found

    # -- reading -------------------------------------------------------------------------

    def get_state(self, name: str) -> str | None:
        with self._read() as con:
            found = con.execute("SELECT value FROM state WHERE name = ?", (name,)).fetchone()
        return None if found is None else str(found[0])

    def entries(
        self, *, since_ms: int | None = None, after_seq: int = 0, limit: int | None = None
    ) -> list[JournalEntry]:
        """Events in journal order, optionally from a wall time or after a sequence number."""
        query = _SELECT_EVENTS + " WHERE seq > :after"
        if since_ms is not None:
            query += " AND occurred_at >= :since"
        query += " ORDER BY seq"
        if limit is not None:
            query += " LIMIT :limit"
        with self._read() as con:
            rows = con.execute(
                query, {"after": after_seq, "since": since_ms, "limit": limit}
            ).fetchall()
        return [_entry(row) for row in rows]

    def pending(self, *, agent: str, limit: int) -> list[JournalEntry]:
        """The oldest events of `agent` (their own, and those recorded before sign-in that
        they claimed) still waiting for the central store, by seq."""
        with self._read() as con:
            rows = con.execute(
                _SELECT_EVENTS
                + f" WHERE sync_state = 'pending' AND {_OF_AGENT} ORDER BY seq LIMIT :limit",
                {"agent": agent, "limit": limit},
            ).fetchall()
        return [_entry(row) for row in rows]

    def local_backlog(self) -> tuple[int, int | None, int]:
        """The events recorded here before sign-in, kept on this PC: how many, when the
        oldest happened, the highest seq (0 when none)."""
        with self._read() as con:
            count, oldest, last = con.execute(
                "SELECT count(*), min(occurred_at), max(seq) FROM events WHERE sync_state = 'local'"
            ).fetchone()
        return int(count), oldest, int(last or 0)

    def events(self, *, since_ms: int | None = None) -> list[Event]:
        return [e.event for e in self.entries(since_ms=since_ms)]

    def events_in_force_since(self, at_ms: int, *, agent: str) -> list[Event]:
        """`agent`'s events from `at_ms` on, and before them those of the shift in force at
        `at_ms` (from its shift start, however long ago): what a day's totals need."""
        with self._read() as con:
            (start,) = con.execute(
                "SELECT max(seq) FROM events WHERE kind = 'shift_start' AND agent = ? "
                "AND occurred_at < ?",
                (agent, at_ms),
            ).fetchone()
            if start is not None:
                rows = con.execute(
                    _SELECT_EVENTS + " WHERE seq >= ? AND agent = ? ORDER BY seq", (start, agent)
                ).fetchall()
            else:
                rows = con.execute(
                    _SELECT_EVENTS + " WHERE occurred_at >= ? AND agent = ? ORDER BY seq",
                    (at_ms, agent),
                ).fetchall()
        return [_entry(row).event for row in rows]

    def last_shift_events(self) -> list[Event]:
        """The events of the latest shift (from its shift start), oldest first."""
        with self._read() as con:
            (start,) = con.execute(
                "SELECT max(seq) FROM events WHERE kind = 'shift_start' AND device_id = ?",
                (self.device_id,),
            ).fetchone()
            if start is None:
                return []
            rows = con.execute(
                _SELECT_EVENTS + " WHERE seq >= ? AND device_id = ? ORDER BY seq",
                (start, self.device_id),
            ).fetchall()
        return [_entry(row).event for row in rows]

    def last_event(self) -> Event | None:
        with self._read() as con:
            row = con.execute(_SELECT_EVENTS + " ORDER BY seq DESC LIMIT 1").fetchone()
        return None if row is None else _entry(row).event

    def counts(self, *, agent: str | None = None) -> dict[SyncState, int]:
        """How many events (of one agent, with those they claimed, or all) are local,
        pending, acked and quarantined."""
        query = "SELECT sync_state, count(*) FROM events"
        if agent is not None:
            query += f" WHERE {_OF_AGENT}"
        with self._read() as con:
            rows = con.execute(query + " GROUP BY sync_state", {"agent": agent}).fetchall()
        result = dict.fromkeys(SyncState, 0)
        for state_name, count in rows:
            result[SyncState(state_name)] = int(count)
        return result

    def integrity_check(self) -> list[str]:
        """`PRAGMA integrity_check`'s rows (["ok"] when sound)."""
        with self._read() as con:
            return [str(r[0]) for r in con.execute("PRAGMA integrity_check").fetchall()]

    def pragma(self, name: str) -> Any:
        if not name.replace("_", "").isalnum():
            raise JournalError(f"not a pragma: {name!r}")
        with self._read() as con:
            row = con.execute(f"PRAGMA {name}").fetchone()
        return None if row is None else row[0]

    def close(self) -> None:
        with self._cons_lock:
            cons, self._cons = self._cons, []
        for con in cons:
            try:
                con.close()
            except sqlite3.Error as exc:
                log.warning("closing the journal: %s", exc)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _event_values(ev: Event, sync_state: SyncState) -> tuple[Any, ...]:
    return (
        ev.uuid,
        ev.device_id,
        ev.agent,
        ev.activity,
        ev.kind.value,
        ev.key.value if ev.key is not None else None,
        ev.occurred_at_ms,
        ev.tz_name,
        ev.utc_offset_s,
        ev.monotonic_ms,
        ev.clock_jump_ms,
        ev.note,
        sync_state.value,
        _now_ms(),
    )


def _entry(row: sqlite3.Row) -> JournalEntry:
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
    return JournalEntry(ev, SyncState(row["sync_state"]), row["sync_error"], row["claimed_by"])


_SALVAGE_COLUMNS: Sequence[str] = (*schema.EVENT_CONTENT_COLUMNS, "sync_state", "recorded_at")


def _salvage(damaged: Path) -> list[dict[str, Any]]:
    """Read whatever event rows can still be read from a damaged journal, oldest first."""
    rows: list[dict[str, Any]] = []
    try:
        con = sqlite3.connect(f"file:{damaged}?mode=ro", uri=True)
    except sqlite3.Error:
        return rows
    try:
        # The column names are our own constants, not input. A v3 journal's claims too.
        columns: Sequence[str] = (*_SALVAGE_COLUMNS, "claimed_by")
        try:
            cur = con.execute(f"SELECT {', '.join(columns)} FROM events ORDER BY seq")  # noqa: S608
        except sqlite3.OperationalError:
            columns = _SALVAGE_COLUMNS
            cur = con.execute(f"SELECT {', '.join(columns)} FROM events ORDER BY seq")  # noqa: S608
        while True:
            try:
                row = cur.fetchone()
            except sqlite3.Error:
                break
            if row is None:
                break
            rows.append(dict(zip(columns, row, strict=True)))
    except sqlite3.Error as exc:
        log.warning("nothing salvaged from %s: %s", damaged, exc)
    finally:
        con.close()
    return rows
