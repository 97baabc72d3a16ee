"""The live stream reads recent events by their receive time.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_index("events_received", "events", ["received_at"])


def downgrade() -> None:
    op.drop_index("events_received", table_name="events")
