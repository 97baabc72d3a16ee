"""A cache of each agent's settled days' figures, so that long reports stay fast.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.create_index("corrections_made", "corrections", ["made_at"])
    op.create_table(
        "day_figures",
        sa.Column("view", sa.String(80), primary_key=True),
        sa.Column(
            "person_id",
            sa.Integer,
            sa.ForeignKey("people.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("pause_threshold_s", sa.Integer, nullable=False),
        sa.Column("figures", sa.Text, nullable=False),
    )
    op.create_table(
        "figure_marks",
        sa.Column("view", sa.String(80), primary_key=True),
        sa.Column("event_id", sa.BigInteger, nullable=False),
        sa.Column("correction_id", sa.Integer, nullable=False),
        sa.Column("checked_at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("figure_marks")
    op.drop_table("day_figures")
    op.drop_index("corrections_made", table_name="corrections")
