"""Retention: how far back the store has purged its events (GDPR).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    op.create_table(
        "retention",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("purged_before", sa.BigInteger, nullable=False),
        sa.Column("purged_at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("retention")
