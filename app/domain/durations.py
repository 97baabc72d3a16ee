"""How durations are written for people: one rule, with units, on every surface.

"36 s" under a minute, "7 min 05" under an hour, "1 h 25" from an hour on (the minutes
zero-padded, the seconds dropped past an hour). A unit always comes with the figure, so
"1:25" can never mean 1 min 25 in one column and 1 h 25 in the next. The spaces are
no-break spaces: a figure never wraps in two. "h", "min" and "s" are the same in French and
English.
"""

from __future__ import annotations

NBSP = "\u00a0"


def format_duration(ms: int) -> str:
    """Elapsed milliseconds for a person (negative counts as zero): 0 s, 59 s, 1 min 00,
    59 min 59, 1 h 00, 25 h 03."""
    seconds = max(ms, 0) // 1000
    if seconds < 60:
        return f"{seconds}{NBSP}s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}{NBSP}min{NBSP}{secs:02d}"
    hours, mins = divmod(minutes, 60)
    return f"{hours}{NBSP}h{NBSP}{mins:02d}"
