"""The store's tables (SQLAlchemy Core). The migrations in migrations/versions create them."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

from app.domain.events import DEFAULT_KEY_LOOKS

metadata = MetaData()

ROLES = ("agent", "lead", "admin")
KEYS = ("production", "pause", "off")
KINDS = ("shift_start", "status", "activity", "shift_end", "correction", "clock_jump")
DEFAULT_KEY_STYLES = {key.value: look for key, look in DEFAULT_KEY_LOOKS.items()}
DEFAULT_PAUSE_THRESHOLD_S = 15 * 60

plateaux = Table(
    "plateaux",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("pause_threshold_s", Integer, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

plateau_keys = Table(
    "plateau_keys",
    metadata,
    Column("plateau_id", Integer, ForeignKey("plateaux.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(16), primary_key=True),
    Column("label", String(40), nullable=False),
    Column("colour", String(7), nullable=False),
    CheckConstraint("key IN ('production', 'pause', 'off')", name="plateau_keys_key"),
)

activities = Table(
    "activities",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("plateau_id", Integer, ForeignKey("plateaux.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("active", Boolean, nullable=False),
    UniqueConstraint("plateau_id", "name", name="activities_plateau_name"),
)

people = Table(
    "people",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("login", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("role", String(8), nullable=False),
    Column("password_hash", Text),
    Column("disabled", Boolean, nullable=False),
    Column("failed_logins", Integer, nullable=False),
    Column("locked_until", BigInteger),
    Column("created_at", BigInteger, nullable=False),
    # A password the admin handed over (a one-time password): changed at the first sign-in.
    Column("must_change_password", Boolean, nullable=False, server_default=false()),
    CheckConstraint("role IN ('agent', 'lead', 'admin')", name="people_role"),
)

memberships = Table(
    "memberships",
    metadata,
    Column("person_id", Integer, ForeignKey("people.id", ondelete="CASCADE"), primary_key=True),
    Column("plateau_id", Integer, ForeignKey("plateaux.id", ondelete="CASCADE"), primary_key=True),
)

tokens = Table(
    "tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("person_id", Integer, ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    # Only a hash of the token is kept: a copy of the database signs nobody in.
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("device_id", String(36)),
    Column("created_at", BigInteger, nullable=False),
    Column("last_used_at", BigInteger),
    Column("revoked_at", BigInteger),
)

events = Table(
    "events",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("uuid", String(36), nullable=False, unique=True),
    Column("device_id", String(36), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("person_id", Integer, ForeignKey("people.id"), nullable=False),
    Column("plateau_id", Integer, ForeignKey("plateaux.id"), nullable=False),
    Column("activity_id", Integer, ForeignKey("activities.id")),
    Column("kind", String(16), nullable=False),
    Column("key", String(16)),
    # Three times for every event: as the PC said, as received, and corrected by the clock
    # offset measured during the exchange that brought it.
    Column("client_at", BigInteger, nullable=False),
    Column("received_at", BigInteger, nullable=False),
    Column("corrected_at", BigInteger, nullable=False),
    Column("clock_offset_ms", BigInteger, nullable=False),
    Column("tz_name", String(64), nullable=False),
    Column("utc_offset_s", Integer, nullable=False),
    Column("monotonic_ms", BigInteger, nullable=False),
    Column("clock_jump_ms", BigInteger),
    Column("note", String(200)),
    UniqueConstraint("person_id", "device_id", "seq", name="events_person_device_seq"),
    CheckConstraint(
        "kind IN ('shift_start', 'status', 'activity', 'shift_end', 'correction', 'clock_jump')",
        name="events_kind",
    ),
    CheckConstraint("key IS NULL OR key IN ('production', 'pause', 'off')", name="events_key"),
    sqlite_autoincrement=True,  # an id is never given twice, even once its row is purged
)
Index("events_person_time", events.c.person_id, events.c.corrected_at)
Index("events_plateau_time", events.c.plateau_id, events.c.corrected_at)
Index("events_received", events.c.received_at)  # the live stream's change feed

corrections = Table(
    "corrections",
    metadata,
    # A range of an agent's time re-labelled (key, activity) or taken out of the shift, with
    # an author and a reason. Append-only: the events it supersedes stay as they were.
    Column("id", Integer, primary_key=True),
    Column("uuid", String(36), nullable=False, unique=True),
    Column("person_id", Integer, ForeignKey("people.id"), nullable=False),
    Column("author_id", Integer, ForeignKey("people.id"), nullable=False),
    Column("start_at", BigInteger, nullable=False),
    Column("end_at", BigInteger, nullable=False),
    Column("key", String(16)),
    Column("activity_id", Integer, ForeignKey("activities.id")),
    Column("off_shift", Boolean, nullable=False),
    Column("reason", String(200), nullable=False),
    Column("made_at", BigInteger, nullable=False),
    CheckConstraint("end_at > start_at", name="corrections_range"),
    CheckConstraint("key IS NULL OR key IN ('production', 'pause', 'off')", name="corrections_key"),
    sqlite_autoincrement=True,
)
Index("corrections_person_time", corrections.c.person_id, corrections.c.start_at)
Index("corrections_made", corrections.c.made_at)  # what changed since a report's last look

day_figures = Table(
    "day_figures",
    metadata,
    # A cache, never the truth: one agent's figures for one settled site day (per activity,
    # as JSON), kept so that a month's report does not walk the month's events again. Rows
    # are dropped when events or corrections touching that day (or before it) come in; any
    # of them can be deleted at any time. `view` names how the day was cut and read: time
    # zone, day start, corrected or original.
    Column("view", String(80), primary_key=True),
    Column("person_id", Integer, ForeignKey("people.id", ondelete="CASCADE"), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("pause_threshold_s", Integer, nullable=False),
    Column("figures", Text, nullable=False),
)

figure_marks = Table(
    "figure_marks",
    metadata,
    # Per view: the newest event and correction that the cached days already account for,
    # and when that was checked (PostgreSQL may commit ids out of order: a look-back on the
    # receive time catches those).
    Column("view", String(80), primary_key=True),
    Column("event_id", BigInteger, nullable=False),
    Column("correction_id", Integer, nullable=False),
    Column("checked_at", BigInteger, nullable=False),
)

presence = Table(
    "presence",
    metadata,
    # The heartbeat: last sign of life per device. Not an event; kept in the database so that
    # every server process sees the same thing.
    Column("person_id", Integer, ForeignKey("people.id", ondelete="CASCADE"), primary_key=True),
    Column("device_id", String(36), primary_key=True),
    Column("last_seen_at", BigInteger, nullable=False),
    Column("state", Text, nullable=False),
    Column("pending", Integer, nullable=False),
)

signin_failures = Table(
    "signin_failures",
    metadata,
    # Failed sign-ins per login as typed (known or not: the answers must not tell) and per
    # address: five from one address lock that login there for five minutes, and nowhere
    # else — a colleague cannot lock a person out of their own PC.
    Column("login", String(64), primary_key=True),
    Column("address", String(64), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("locked_until", BigInteger),
    Column("last_at", BigInteger, nullable=False),
)

retention = Table(
    "retention",
    metadata,
    # One row once the store has purged: events, corrections and heartbeats before
    # `purged_before` are gone, their days' figures kept (day_figures, for the site's
    # default view) are then the only record — never cut again — and events older than
    # it are refused.
    Column("id", Integer, primary_key=True),
    Column("purged_before", BigInteger, nullable=False),
    Column("purged_at", BigInteger, nullable=False),
)
