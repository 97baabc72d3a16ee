"""The store's one clock: every "now" of the server comes from a `NowMs` handed to it.

`system_now_ms` is the only place in the server that reads the wall clock. `running_from`
runs a clock at the real pace from another instant: a test server whose date must agree with
a bar's fake clock, or a rehearsal of a past day.
"""

from __future__ import annotations

import time
from collections.abc import Callable

NowMs = Callable[[], int]
"""UTC milliseconds since the epoch, now."""


def system_now_ms() -> int:
    return time.time_ns() // 1_000_000


def running_from(start_ms: int) -> NowMs:
    """A clock that reads `start_ms` now and then advances with the monotonic clock."""
    origin = time.monotonic_ns()

    def now_ms() -> int:
        return start_ms + (time.monotonic_ns() - origin) // 1_000_000

    return now_ms
