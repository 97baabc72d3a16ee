"""Whether the store takes writes, as the last writes went."""

from __future__ import annotations


class WriteHealth:
    """A full disk, a read-only file or an I/O error leaves reads working, and `/health`
    must not say "ok" then: store failures on writes are told here, and any durable commit
    clears them."""

    _WRITE_FAILURES = ("full", "no space", "readonly", "read-only", "i/o", "disk")

    def __init__(self) -> None:
        self.failing_since_ms: int | None = None
        self.reason = ""

    def failed(self, exc: BaseException, now_ms: int) -> None:
        text = str(getattr(exc, "orig", None) or exc)
        if any(word in text.lower() for word in self._WRITE_FAILURES):
            if self.failing_since_ms is None:
                self.failing_since_ms = now_ms
            self.reason = text[:200]

    def succeeded(self) -> None:
        self.failing_since_ms = None
        self.reason = ""
