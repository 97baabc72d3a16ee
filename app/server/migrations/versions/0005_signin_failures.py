"""Failed sign-ins counted per login and address (a person's own lockout moves here).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.create_table(
        "signin_failures",
        sa.Column("login", sa.String(64), primary_key=True),
        sa.Column("address", sa.String(64), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("locked_until", sa.BigInteger),
        sa.Column("last_at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("signin_failures")
