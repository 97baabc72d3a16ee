"""The journal's tables and their forward migrations, numbered by SQLite's user_version."""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

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

# Mirrors of the tables as the migrations below create them, for typed SQLAlchemy Core queries.
# The DDL itself lives in MIGRATIONS: a migration is written once and never edited.
events = Table(
    "events",
    metadata,
    Column("seq", Integer, primary_key=True),
    Column("uuid", String(36), nullable=False, unique=True),
    Column("device_id", String(36), nullable=False),
    Column("agent", Text, nullable=False),
    Column("activity", Text),
    Column("kind", String(16), nullable=False),
    Column("key", String(16)),
    Column("occurred_at", Integer, nullable=False),
    Column("tz_name", Text, nullable=False),
    Column("utc_offset_s", Integer, nullable=False),
    Column("monotonic_ms", Integer, nullable=False),
    Column("clock_jump_ms", Integer),
    Column("note", Text, CheckConstraint("length(note) <= 200")),
    Column("sync_state", String(16), nullable=False),
    Column("sync_error", Text),
    Column("recorded_at", Integer, nullable=False),
)

meta = Table(
    "meta",
    metadata,
    Column("name", Text, primary_key=True),
    Column("value", Text, nullable=False),
)

state = Table(
    "state",
    metadata,
    Column("name", Text, primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", Integer, nullable=False),
)

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
    "CREATE INDEX events_pending ON events (sync_state, seq)",
    "CREATE INDEX events_occurred ON events (agent, occurred_at)",
    # Append-only, enforced by the database itself: the content of an event never changes,
    # and an event the central store has not acknowledged is never deleted.
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

# MIGRATIONS[i] takes a journal from user_version i to i + 1.
MIGRATIONS: list[list[str]] = [_V1, _V2]
SCHEMA_VERSION = len(MIGRATIONS)
