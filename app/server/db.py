"""The store's engine: an embedded SQLite file by default, PostgreSQL in production.

One code path for both; the only differences are set here (SQLite's durability pragmas).
Nothing is created at import time: callers build an engine from a URL.
"""

from __future__ import annotations

import logging
import sqlite3
import stat
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import Insert, Select

log = logging.getLogger(__name__)

DEFAULT_DB_FILE = "store.sqlite3"
SQLITE_BUSY_TIMEOUT_MS = 5000


def default_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / DEFAULT_DB_FILE}"


def make_engine(url: str, *, reads_only: bool = False, **kwargs: Any) -> Engine:
    """An engine for the store at `url` (sqlite:///… or postgresql+psycopg://…).

    `reads_only`: for reads that must not wait for writers (token checks, the live streams,
    /health). On SQLite its transactions are deferred and its connections refuse to write
    (`query_only`): a read never takes the write lock, which a writer's `BEGIN IMMEDIATE`
    takes; on PostgreSQL it is an engine like another (reads never wait there)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            make_private(Path(parsed.database))
        engine = create_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs
        )
        _sqlite_durability(engine, reads_only=reads_only)
        return engine
    if parsed.get_backend_name() == "postgresql":
        # pool_pre_ping: a PostgreSQL restart under a running server is survived without one.
        return create_engine(url, pool_pre_ping=True, **kwargs)
    raise ValueError(
        f"unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql+psycopg"
    )


def make_private(db_file: Path) -> None:
    """The store's file and its -wal/-shm for the server's user alone: they hold password and
    token hashes and every agent's day. A folder made here is 0700; files an older server
    (or a hand) left readable by others have those rights taken away — never the owner's."""
    folder = db_file.parent
    if not folder.exists():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if sys.platform == "win32":
        return  # the service account's folder is its own
    for path in (db_file, Path(f"{db_file}-wal"), Path(f"{db_file}-shm")):
        try:
            mode = stat.S_IMODE(path.lstat().st_mode)
            if mode & 0o077 and not path.is_symlink():
                path.chmod(mode & 0o700)
        except FileNotFoundError:
            continue
        except OSError as exc:
            log.warning("cannot make %s private: %s", path, exc)


def _sqlite_durability(engine: Engine, *, reads_only: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_con: sqlite3.Connection, _record: object) -> None:
        dbapi_con.isolation_level = None  # transactions are begun by the listener below
        cur = dbapi_con.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        if reads_only:
            cur.execute("PRAGMA query_only=ON")
        cur.close()

    # A writer takes the write lock at once (a deferred transaction that reads, then
    # writes, fails with SQLITE_BUSY when another committed meanwhile); a reader reads a
    # snapshot of its own (WAL), alongside the writer.
    begin = "BEGIN" if reads_only else "BEGIN IMMEDIATE"

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Through SQLAlchemy, not the driver's cursor: this event runs outside the error
        # handling of Connection.begin, and a BEGIN IMMEDIATE that times out must come out
        # as SQLAlchemy's error (the store's 503), not the driver's (a 500).
        conn.exec_driver_sql(begin)


def transaction_memo(conn: Connection, name: str) -> dict[Any, Any]:
    """A dict kept on `conn` for the transaction under way only — what a writer's group
    reads once for all its jobs: the next transaction finds it empty (nothing read is
    trusted past the transaction it was read in)."""
    transaction = conn.get_transaction()
    if transaction is None:
        return {}
    entry = conn.info.get(name)
    if entry is None or entry[0] is not transaction:
        entry = (transaction, {})
        conn.info[name] = entry
    memo: dict[Any, Any] = entry[1]
    return memo


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


class DriverQuery:
    """A Core query compiled once per dialect and run on the DB-API cursor, inside the
    caller's transaction: for the few statements every request runs (its token, its
    activities). SQLAlchemy's own work for one statement (about 70 µs, measured) is ten
    times an indexed lookup's in SQLite. Errors come out as SQLAlchemy's (a store failure
    is told as one), and a lost PostgreSQL connection is invalidated as SQLAlchemy does.

    Values go in as they are (no type's bind processing) and rows come out as the driver
    gives them: for queries whose parameters and columns are plain ints and strings."""

    def __init__(self, query: Select[Any] | Insert) -> None:
        self.query = query
        self._compiled: dict[str, tuple[str, tuple[str, ...] | None]] = {}

    def rows(self, conn: Connection, params: dict[str, Any]) -> list[Any]:
        dialect = conn.dialect
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            done = self.query.compile(dialect=dialect)
            names = done.positiontup
            compiled = (done.string, None if names is None else tuple(names))
            self._compiled[dialect.name] = compiled
        sql, order = compiled
        args: Any = params if order is None else tuple(params[name] for name in order)
        return driver_rows(conn, sql, args)


def driver_rows(conn: Connection, sql: str, args: Any) -> list[Any]:
    """`sql` (in the driver's own placeholders) run on the DB-API cursor of `conn`, in its
    transaction (begun here if none is, as Connection.execute does); its rows, if any.
    See `DriverQuery` for why, and for what it does not do."""
    dialect = conn.dialect
    if not conn.in_transaction():
        conn.begin()
    raw: Any = conn.connection.dbapi_connection
    cursor = raw.cursor()
    try:
        cursor.execute(sql, args)
        return list(cursor.fetchall()) if cursor.description is not None else []
    except dialect.loaded_dbapi.Error as exc:
        lost = dialect.is_disconnect(exc, raw, cursor)
        if lost:
            conn.invalidate(exc)
        raise DBAPIError.instance(
            sql, args, exc, dialect.loaded_dbapi.Error, connection_invalidated=lost, dialect=dialect
        ) from exc
    finally:
        cursor.close()
