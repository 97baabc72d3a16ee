"""Corrections: a range of an agent's time re-labelled (or taken out of the shift), with an
author and a reason. Append-only, like events: a correction is never edited.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.create_table(
        "corrections",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("uuid", sa.String(36), nullable=False, unique=True),
        sa.Column("person_id", sa.Integer, sa.ForeignKey("people.id"), nullable=False),
        sa.Column("author_id", sa.Integer, sa.ForeignKey("people.id"), nullable=False),
        sa.Column("start_at", sa.BigInteger, nullable=False),
        sa.Column("end_at", sa.BigInteger, nullable=False),
        sa.Column("key", sa.String(16)),
        sa.Column("activity_id", sa.Integer, sa.ForeignKey("activities.id")),
        sa.Column("off_shift", sa.Boolean, nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("made_at", sa.BigInteger, nullable=False),
        sa.CheckConstraint("end_at > start_at", name="corrections_range"),
        sa.CheckConstraint(
            "key IS NULL OR key IN ('production', 'pause', 'off')", name="corrections_key"
        ),
    )
    op.create_index("corrections_person_time", "corrections", ["person_id", "start_at"])


def downgrade() -> None:
    op.drop_index("corrections_person_time", table_name="corrections")
    op.drop_table("corrections")
