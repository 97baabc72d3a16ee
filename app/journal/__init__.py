"""The local journal: a crash-proof SQLite outbox of the agent's events."""

from app.journal.store import Journal, JournalEntry, JournalError, Recovery

__all__ = ["Journal", "JournalEntry", "JournalError", "Recovery"]
