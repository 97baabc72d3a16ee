"""Event and correction ids are never reused (SQLite).

On SQLite a table's integer key is its rowid, and a new row takes the highest one + 1: once
the retention purge deleted the newest row (an event dated long ago that arrived last), the
next event took its id again. The live hub follows events by id on SQLite (`id > last
sent`), so streams never showed that event; and ids are what an export or a reader pages
by. AUTOINCREMENT keeps the highest id ever given in sqlite_sequence. PostgreSQL's
sequences never go back: nothing to do there.

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = "0008"
down_revision = "0007"

TABLES = ("events", "corrections")


def upgrade() -> None:
    _rebuild(autoincrement=True)


def downgrade() -> None:
    _rebuild(autoincrement=False)


def _rebuild(*, autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        # Rebuilt (SQLite cannot add AUTOINCREMENT to a table): rows, keys, indexes and
        # constraints copied; the new table's sequence starts at the highest id copied.
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
        ):
            pass
