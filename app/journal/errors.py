"""The journal's errors, importable without loading SQLAlchemy (the bar needs them early)."""


class JournalError(Exception):
    """The journal could not do what was asked; nothing was half-written."""
