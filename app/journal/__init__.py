"""The local journal: a crash-proof SQLite outbox of the agent's events.

`Journal` and friends are imported on first use (PEP 562): the bar paints before the journal
opens.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.journal.errors import JournalError

if TYPE_CHECKING:
    from app.journal.store import Journal, JournalEntry, Recovery

__all__ = ["Journal", "JournalEntry", "JournalError", "Recovery"]


def __getattr__(name: str) -> Any:
    if name in ("Journal", "JournalEntry", "Recovery"):
        from app.journal import store  # noqa: PLC0415 - the point of this function

        return getattr(store, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
