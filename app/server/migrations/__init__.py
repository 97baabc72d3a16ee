"""Alembic migrations of the store (applied by `bandeau-server migrate` and at `serve`)."""
