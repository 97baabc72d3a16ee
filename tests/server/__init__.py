"""Tests of the central store, run against SQLite and a real PostgreSQL."""
