"""The journal's tables and their forward migrations, numbered by SQLite's user_version.

Plain DDL for the standard library's sqlite3: the bar's journal needs no ORM (SQLAlchemy is
the central store's toolkit, where two dialects and Alembic earn their keep). A migration is
written once and never edited; a new one is added at the end.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable

EVENT_CONTENT_COLUMNS = (
    "seq",
    "uuid",
    "device_id",
    "agent",
    "activity",
    "kind",
    "key",
    "occurred_at",
    "tz_name",
    "utc_offset_s",
    "monotonic_ms",
    "clock_jump_ms",
    "note",
)

# Append-only, enforced by the database itself: the content of an event never changes,
# and an event the central store has not acknowledged is never deleted.
_TRIGGERS = [
    f"""
    CREATE TRIGGER events_append_only BEFORE UPDATE OF {", ".join(EVENT_CONTENT_COLUMNS)}
    ON events
    BEGIN
        SELECT RAISE(ABORT, 'journal events are append-only');
    END
    """,
    """
    CREATE TRIGGER events_keep_unsynced BEFORE DELETE ON events
    WHEN OLD.sync_state <> 'acked'
    BEGIN
        SELECT RAISE(ABORT, 'unsynced journal events are never deleted');
    END
    """,
]

_INDEXES = [
    "CREATE INDEX events_pending ON events (sync_state, seq)",
    "CREATE INDEX events_occurred ON events (agent, occurred_at)",
]

_V1 = [
    """
    CREATE TABLE meta (
        name  TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE events (
        seq           INTEGER PRIMARY KEY AUTOINCREMENT,
        uuid          TEXT    NOT NULL UNIQUE CHECK (length(uuid) = 36),
        device_id     TEXT    NOT NULL,
        agent         TEXT    NOT NULL CHECK (agent <> ''),
        activity      TEXT,
        kind          TEXT    NOT NULL CHECK (kind IN ('shift_start', 'status', 'activity',
                                                       'shift_end', 'correction', 'clock_jump')),
        key           TEXT    CHECK (key IS NULL OR key IN ('production', 'pause', 'off')),
        occurred_at   INTEGER NOT NULL,
        tz_name       TEXT    NOT NULL,
        utc_offset_s  INTEGER NOT NULL,
        monotonic_ms  INTEGER NOT NULL,
        clock_jump_ms INTEGER,
        note          TEXT    CHECK (note IS NULL OR length(note) <= 200),
        sync_state    TEXT    NOT NULL DEFAULT 'pending'
                              CHECK (sync_state IN ('pending', 'acked', 'quarantined')),
        sync_error    TEXT,
        recorded_at   INTEGER NOT NULL
    )
    """,
    *_INDEXES,
    *_TRIGGERS,
]

_V2 = [
    # Small named values that are not events: the bar's place on screen, the last local sign
    # of life, and (with sync) what the server sent, kept for offline starts.
    """
    CREATE TABLE state (
        name       TEXT PRIMARY KEY,
        value      TEXT NOT NULL,
        updated_at INTEGER NOT NULL
    )
    """,
]

_EVENTS_V3 = """
    CREATE TABLE events_v3 (
        seq           INTEGER PRIMARY KEY AUTOINCREMENT,
        uuid          TEXT    NOT NULL UNIQUE CHECK (length(uuid) = 36),
        device_id     TEXT    NOT NULL,
        agent         TEXT    NOT NULL CHECK (agent <> ''),
        activity      TEXT,
        kind          TEXT    NOT NULL CHECK (kind IN ('shift_start', 'status', 'activity',
                                                       'shift_end', 'correction', 'clock_jump')),
        key           TEXT    CHECK (key IS NULL OR key IN ('production', 'pause', 'off')),
        occurred_at   INTEGER NOT NULL,
        tz_name       TEXT    NOT NULL,
        utc_offset_s  INTEGER NOT NULL,
        monotonic_ms  INTEGER NOT NULL,
        clock_jump_ms INTEGER,
        note          TEXT    CHECK (note IS NULL OR length(note) <= 200),
        sync_state    TEXT    NOT NULL DEFAULT 'pending'
                              CHECK (sync_state IN ('local', 'pending', 'acked', 'quarantined')),
        sync_error    TEXT,
        recorded_at   INTEGER NOT NULL,
        claimed_by    TEXT
    )
"""

_V1_COLUMNS = (*EVENT_CONTENT_COLUMNS, "sync_state", "sync_error", "recorded_at")


def _v3(con: sqlite3.Connection) -> None:
    """Events recorded before sign-in get a state of their own, `local` (kept on this PC,
    sent only if the person signing in chooses to), and a claimed event says who claimed
    it (`claimed_by`): the one-row claim of v2 could not tell two people's choices apart.
    SQLite cannot change a CHECK in place: the table is rebuilt, its seq counter kept."""
    row = con.execute("SELECT seq FROM sqlite_sequence WHERE name = 'events'").fetchone()
    for statement in (
        "DROP TRIGGER events_append_only",
        "DROP TRIGGER events_keep_unsynced",
        _EVENTS_V3,
    ):
        con.execute(statement)
    columns = ", ".join(_V1_COLUMNS)
    con.execute(f"INSERT INTO events_v3 ({columns}) SELECT {columns} FROM events")  # noqa: S608
    con.execute("DROP TABLE events")
    con.execute("ALTER TABLE events_v3 RENAME TO events")
    for statement in (*_INDEXES, *_TRIGGERS):
        con.execute(statement)
    if row is not None:
        con.execute("UPDATE sqlite_sequence SET seq = ? WHERE name = 'events'", (row[0],))
    # The v2 claim (one person's, kept in the state table) moves onto its events.
    found = con.execute("SELECT value FROM state WHERE name = 'local_claim'").fetchone()
    claim: dict[str, object] | None = None
    try:
        claim = json.loads(found[0]) if found and found[0] else None
        if isinstance(claim, dict):
            login, agent = str(claim["login"]), str(claim["agent"])
            up_to = int(str(claim["up_to_seq"]))
    except (ValueError, KeyError, TypeError):
        claim = None
    if isinstance(claim, dict):
        con.execute(
            "UPDATE events SET claimed_by = ? WHERE sync_state = 'pending' AND agent = ? "
            "AND seq <= ? AND agent <> ?",
            (login, agent, up_to, login),
        )
    con.execute("DELETE FROM state WHERE name = 'local_claim'")


Migration = list[str] | Callable[[sqlite3.Connection], None]

# MIGRATIONS[i] takes a journal from user_version i to i + 1.
MIGRATIONS: list[Migration] = [_V1, _V2, _v3]
SCHEMA_VERSION = len(MIGRATIONS)
