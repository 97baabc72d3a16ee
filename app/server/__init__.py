"""The central store: an HTTP service in front of SQLite (default) or PostgreSQL."""
