"""The first store: directory, tokens, events, presence.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None

_BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "plateaux",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("pause_threshold_s", sa.Integer, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "plateau_keys",
        sa.Column(
            "plateau_id",
            sa.Integer,
            sa.ForeignKey("plateaux.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("key", sa.String(16), primary_key=True),
        sa.Column("label", sa.String(40), nullable=False),
        sa.Column("colour", sa.String(7), nullable=False),
        sa.CheckConstraint("key IN ('production', 'pause', 'off')", name="plateau_keys_key"),
    )
    op.create_table(
        "activities",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "plateau_id",
            sa.Integer,
            sa.ForeignKey("plateaux.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.UniqueConstraint("plateau_id", "name", name="activities_plateau_name"),
    )
    op.create_table(
        "people",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("login", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(8), nullable=False),
        sa.Column("password_hash", sa.Text),
        sa.Column("disabled", sa.Boolean, nullable=False),
        sa.Column("failed_logins", sa.Integer, nullable=False),
        sa.Column("locked_until", sa.BigInteger),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.CheckConstraint("role IN ('agent', 'lead', 'admin')", name="people_role"),
    )
    op.create_table(
        "memberships",
        sa.Column(
            "person_id",
            sa.Integer,
            sa.ForeignKey("people.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "plateau_id",
            sa.Integer,
            sa.ForeignKey("plateaux.id", ondelete="CASCADE"),
            primary_key=True,
        ),
    )
    op.create_table(
        "tokens",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "person_id", sa.Integer, sa.ForeignKey("people.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("device_id", sa.String(36)),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("last_used_at", sa.BigInteger),
        sa.Column("revoked_at", sa.BigInteger),
    )
    op.create_table(
        "events",
        sa.Column("id", _BIGID, primary_key=True),
        sa.Column("uuid", sa.String(36), nullable=False, unique=True),
        sa.Column("device_id", sa.String(36), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("person_id", sa.Integer, sa.ForeignKey("people.id"), nullable=False),
        sa.Column("plateau_id", sa.Integer, sa.ForeignKey("plateaux.id"), nullable=False),
        sa.Column("activity_id", sa.Integer, sa.ForeignKey("activities.id")),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key", sa.String(16)),
        sa.Column("client_at", sa.BigInteger, nullable=False),
        sa.Column("received_at", sa.BigInteger, nullable=False),
        sa.Column("corrected_at", sa.BigInteger, nullable=False),
        sa.Column("clock_offset_ms", sa.BigInteger, nullable=False),
        sa.Column("tz_name", sa.String(64), nullable=False),
        sa.Column("utc_offset_s", sa.Integer, nullable=False),
        sa.Column("monotonic_ms", sa.BigInteger, nullable=False),
        sa.Column("clock_jump_ms", sa.BigInteger),
        sa.Column("note", sa.String(200)),
        sa.UniqueConstraint("device_id", "seq", name="events_device_seq"),
        sa.CheckConstraint(
            "kind IN ('shift_start', 'status', 'activity', 'shift_end', 'correction', "
            "'clock_jump')",
            name="events_kind",
        ),
        sa.CheckConstraint(
            "key IS NULL OR key IN ('production', 'pause', 'off')", name="events_key"
        ),
    )
    op.create_index("events_person_time", "events", ["person_id", "corrected_at"])
    op.create_index("events_plateau_time", "events", ["plateau_id", "corrected_at"])
    op.create_table(
        "presence",
        sa.Column(
            "person_id",
            sa.Integer,
            sa.ForeignKey("people.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("device_id", sa.String(36), primary_key=True),
        sa.Column("last_seen_at", sa.BigInteger, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("pending", sa.Integer, nullable=False),
    )
