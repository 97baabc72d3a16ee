"""An event's (device, seq) is unique per person; one-time passwords.

- (device_id, seq) was unique store-wide: an agent who sent events under a colleague's
  device id took that colleague's sequence numbers, and the colleague's own events were
  then refused. Now the key is (person_id, device_id, seq): what one person sends never
  collides with another's (a shared PC's agents share its journal's numbering anyway).
- people.must_change_password: a password the admin handed over must be changed at the
  first sign-in.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_constraint("events_device_seq", type_="unique")
        batch.create_unique_constraint(
            "events_person_device_seq", ["person_id", "device_id", "seq"]
        )
    with op.batch_alter_table("people") as batch:
        batch.add_column(
            sa.Column("must_change_password", sa.Boolean, nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("people") as batch:
        batch.drop_column("must_change_password")
    with op.batch_alter_table("events") as batch:
        batch.drop_constraint("events_person_device_seq", type_="unique")
        batch.create_unique_constraint("events_device_seq", ["device_id", "seq"])
