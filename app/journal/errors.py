"""The journal's errors, importable without loading SQLAlchemy (the bar needs them early)."""

from __future__ import annotations


def reason_of(text: str) -> str:
    """What went wrong, as a code for the interface to word, from SQLite's or the OS's
    English: full, readonly, locked, damaged or other."""
    low = text.lower()
    if "full" in low or "no space" in low:
        return "full"
    if "readonly" in low or "read-only" in low or "permission denied" in low:
        return "readonly"
    if "locked" in low or "busy" in low:
        return "locked"
    if "malformed" in low or "not a database" in low or "disk image" in low:
        return "damaged"
    return "other"


class JournalError(Exception):
    """The journal could not do what was asked; nothing was half-written.

    Attributes:
        reason: full, readonly, locked, damaged, newer (written by a newer Bandeau) or
            other (see `reason_of`), for the
            interface to word; str() is the English, with the details, for logs.
    """

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason or reason_of(message)
