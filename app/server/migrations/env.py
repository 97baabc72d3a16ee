"""Alembic's environment: runs on the connection that app.server.migrate hands it."""

from __future__ import annotations

from alembic import context

from app.server.models import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through app.server.migrate.upgrade()")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
