"""Clocks: the wall clock and the monotonic clock read together, and clock-jump detection."""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Protocol
from zoneinfo import ZoneInfo

# A wall clock that runs more than this far from the monotonic clock has been set, not slewed.
# NTP slews at most 500 ppm: 2 minutes is ~2.8 days of maximum slew, so never a false alarm.
JUMP_FORWARD_MS = 2 * 60 * 1000
# Backwards by more than this is a jump too (below it: timer granularity and NTP steps).
JUMP_BACKWARD_MS = 1000


class Clock(Protocol):
    """What Bandeau needs from a clock; tests inject a fake one."""

    def now_ms(self) -> int:
        """UTC wall-clock time in milliseconds since the epoch."""
        ...

    def monotonic_ms(self) -> int:
        """A monotonic reading in milliseconds (only differences mean anything)."""
        ...

    def zone(self) -> tzinfo:
        """The local time zone."""
        ...

    def zone_name(self) -> str:
        """The IANA name of the local time zone."""
        ...


class SystemClock:
    """The machine's clocks and local zone."""

    def __init__(self, zone_name: str | None = None) -> None:
        if zone_name is None:
            import tzlocal  # noqa: PLC0415 - optional import kept out of the pure test paths

            zone_name = tzlocal.get_localzone_name() or "UTC"
        self._zone_name = zone_name
        self._zone = ZoneInfo(zone_name)

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000

    def monotonic_ms(self) -> int:
        return _monotonic_ns() // 1_000_000

    def zone(self) -> tzinfo:
        return self._zone

    def zone_name(self) -> str:
        return self._zone_name


def _pick_monotonic() -> tuple[str, Callable[[], int]]:
    """A monotonic clock that keeps counting while the computer sleeps.

    Linux's CLOCK_MONOTONIC stops during suspend, so a lunch break with the laptop asleep
    would look like a wall-clock jump; CLOCK_BOOTTIME does not stop. On macOS CLOCK_MONOTONIC
    counts sleep too; on Windows time.monotonic() (GetTickCount64) does.
    """
    for name in ("CLOCK_BOOTTIME", "CLOCK_MONOTONIC"):
        clock_id = getattr(time, name, None)
        if clock_id is not None and sys.platform != "win32":
            try:
                time.clock_gettime_ns(clock_id)
            except OSError:
                continue
            return name, functools.partial(time.clock_gettime_ns, clock_id)
    return "monotonic", time.monotonic_ns


MONOTONIC_SOURCE, _monotonic_ns = _pick_monotonic()


class FakeClock:
    """A clock that only moves when told to (tests, benchmarks, simulations)."""

    def __init__(self, now_ms: int, zone_name: str = "Europe/Paris", monotonic_ms: int = 0) -> None:
        self._now = now_ms
        self._mono = monotonic_ms
        self._zone_name = zone_name
        self._zone = ZoneInfo(zone_name)

    def advance(self, ms: int) -> None:
        """Let time pass: both clocks move together."""
        self._now += ms
        self._mono += ms

    def set_wall(self, now_ms: int) -> None:
        """Set the wall clock alone, as a user or a broken NTP would."""
        self._now = now_ms

    def now_ms(self) -> int:
        return self._now

    def monotonic_ms(self) -> int:
        return self._mono

    def zone(self) -> tzinfo:
        return self._zone

    def zone_name(self) -> str:
        return self._zone_name


def utc_offset_s(clock: Clock, at_ms: int) -> int:
    """The local zone's offset from UTC at a given instant, in seconds."""
    offset = datetime.fromtimestamp(at_ms / 1000, UTC).astimezone(clock.zone()).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


@dataclass(frozen=True, slots=True)
class Reading:
    """The two clocks read together."""

    wall_ms: int
    mono_ms: int


class JumpDetector:
    """Compares successive readings; reports a wall-clock jump against the monotonic clock.

    The anchor is the previous reading: between two readings, the wall clock should advance
    by as much as the monotonic clock.
    """

    def __init__(self, anchor: Reading | None = None) -> None:
        self._anchor = anchor

    def check(self, reading: Reading) -> int | None:
        """Return the jump in ms (negative: backwards) since the anchor, or None; re-anchor."""
        anchor, self._anchor = self._anchor, reading
        if anchor is None:
            return None
        drift = (reading.wall_ms - anchor.wall_ms) - (reading.mono_ms - anchor.mono_ms)
        went_back = reading.wall_ms < anchor.wall_ms
        if went_back or drift > JUMP_FORWARD_MS or drift < -JUMP_BACKWARD_MS:
            return drift
        return None
