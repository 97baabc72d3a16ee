"""The store's engine: an embedded SQLite file by default, PostgreSQL in production.

One code path for both; the only differences are set here (SQLite's durability pragmas).
Nothing is created at import time: callers build an engine from a URL.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url

DEFAULT_DB_FILE = "store.sqlite3"
SQLITE_BUSY_TIMEOUT_MS = 5000


def default_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / DEFAULT_DB_FILE}"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for the store at `url` (sqlite:///… or postgresql+psycopg://…)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs
        )
        _sqlite_durability(engine)
        return engine
    if parsed.get_backend_name() == "postgresql":
        # pool_pre_ping: a PostgreSQL restart under a running server is survived without one.
        return create_engine(url, pool_pre_ping=True, **kwargs)
    raise ValueError(
        f"unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql+psycopg"
    )


def _sqlite_durability(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_con: sqlite3.Connection, _record: object) -> None:
        dbapi_con.isolation_level = None  # transactions are begun by the listener below
        cur = dbapi_con.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"
