"""Backups of an embedded (SQLite) store: SQLite's online backup API, while `serve` runs.

A PostgreSQL store is backed up with PostgreSQL's own tools (`pg_dump -Fc`), documented in
the README. A backup is the store whole, password and token hashes included: it is the
server's user's alone (0600), written under a temporary name and renamed when complete.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupRefused(Exception):
    """Not an embedded store, or a file that is not a Bandeau store."""


def sqlite_file(url: str) -> Path:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        raise BackupRefused(
            "backup copies an embedded (SQLite) store; for PostgreSQL use its own tools: "
            "pg_dump -Fc DATABASE > FILE (and pg_restore to restore)"
        )
    return Path(parsed.database)


def _copy(source: Path, target: Path) -> None:
    """`source` copied to `target` whole (the online backup API: consistent while writers
    run), 0600, under a temporary name first."""
    partial = target.with_name(target.name + ".part")
    partial.unlink(missing_ok=True)
    fd = os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    os.close(fd)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)
        finally:
            dst.close()
    except sqlite3.Error:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise
    finally:
        src.close()
    partial.replace(target)


def _is_store(path: Path) -> bool:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error:
        return False
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.Error:
        return False
    finally:
        conn.close()
    return {"alembic_version", "events", "people"} <= tables


def backup(url: str, target: Path) -> int:
    """Copy the store at `url` to `target`; how many events it holds."""
    source = sqlite_file(url)
    if not source.exists():
        raise BackupRefused(f"no store at {source}")
    if target.resolve() == source.resolve():
        raise BackupRefused("the backup would overwrite the store itself")
    _copy(source, target)
    with contextlib.closing(sqlite3.connect(f"file:{target}?mode=ro", uri=True)) as conn:
        return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])


def restore(url: str, backup_file: Path) -> int:
    """Put `backup_file` in place of the store at `url` (stop `serve` first); how many
    events it holds. The store as it was is kept beside it (`.before-restore`)."""
    store = sqlite_file(url)
    if not backup_file.exists():
        raise BackupRefused(f"no backup at {backup_file}")
    if not _is_store(backup_file):
        raise BackupRefused(f"{backup_file} is not a Bandeau store")
    if store.exists():
        _copy(store, store.with_name(store.name + ".before-restore"))
    for leftover in (Path(f"{store}-wal"), Path(f"{store}-shm")):
        leftover.unlink(missing_ok=True)
    _copy(backup_file, store)
    with contextlib.closing(sqlite3.connect(f"file:{store}?mode=ro", uri=True)) as conn:
        return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])
