"""Print the seconds to add to the system clock to land just before a DST change in
Europe/Paris more than a year from now (CI runs the date-sensitive tests there, with
libfaketime).

Usage: python .ci/clock_ahead.py spring|autumn [LEAD_SECONDS]
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
AHEAD = timedelta(days=400)


def next_change(after: datetime, spring: bool) -> datetime:
    """The first instant after `after` where Paris moves its clocks forward (spring) or back."""
    step = timedelta(hours=1)
    at = after.replace(minute=0, second=0, microsecond=0)
    while True:
        before, then = at.astimezone(PARIS).utcoffset(), (at + step).astimezone(PARIS).utcoffset()
        if before is not None and then is not None and before != then and (then > before) == spring:
            return at + step
        at += step


def main() -> int:
    season = sys.argv[1] if len(sys.argv) > 1 else "spring"
    lead_s = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    if season not in ("spring", "autumn"):
        print("usage: clock_ahead.py spring|autumn [LEAD_SECONDS]", file=sys.stderr)
        return 2
    now = datetime.fromtimestamp(time.time(), UTC)
    change = next_change(now + AHEAD, season == "spring")
    print(int((change - timedelta(seconds=lead_s) - now).total_seconds()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
