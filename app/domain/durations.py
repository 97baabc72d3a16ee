"""How durations are written for people: m:ss under an hour, then h:mm:ss."""

from __future__ import annotations


def format_duration(ms: int) -> str:
    """Format elapsed milliseconds (negative counts as zero): 0:00, 0:59, 59:59, 1:00:00."""
    seconds = max(ms, 0) // 1000
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


def format_hm(ms: int) -> str:
    """Format a total compactly as h:mm (0:00 to 23:59+)."""
    minutes = max(ms, 0) // 60_000
    return f"{minutes // 60}:{minutes % 60:02d}"
