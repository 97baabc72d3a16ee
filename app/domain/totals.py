"""Time per key over a window: the bar's "today" figures.

A first, single-device version of the indicators: intervals run from one event to the next,
clipped to the window; the time from a shift start to the first key is unclassified.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from app.domain.events import Event, Key, Kind
from app.domain.indicators import Correction, overlay


@dataclass(slots=True)
class Totals:
    """Milliseconds per key, plus unclassified, over a window."""

    by_key: dict[Key, int] = field(default_factory=lambda: dict.fromkeys(Key, 0))
    unclassified_ms: int = 0

    @property
    def presence_ms(self) -> int:
        return sum(self.by_key.values()) + self.unclassified_ms


def local_day_bounds(day: date, zone: tzinfo) -> tuple[int, int]:
    """The UTC ms bounds [start, end) of a local day (23 or 25 hours on DST days)."""
    start = datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC)
    return int(start.timestamp() * 1000), int(end.timestamp() * 1000)


def local_day(at_ms: int, zone: tzinfo) -> date:
    """The local calendar day of an instant."""
    return datetime.fromtimestamp(at_ms / 1000, UTC).astimezone(zone).date()


def totals(events: Sequence[Event], start_ms: int, end_ms: int, now_ms: int) -> Totals:
    """Sum the time per key within [start_ms, end_ms), the open interval running until now.

    `events` are one device's events in journal order.
    """
    running = RunningTotals(start_ms, end_ms)
    for event in events:
        running.feed(event)
    return running.at(now_ms)


class RunningTotals:
    """Totals over one window, fed event by event: constant memory however long the day.

    `totals()` above is this fed with a list; the bar keeps one of these for today and feeds
    it each event it writes.
    """

    def __init__(self, start_ms: int, end_ms: int) -> None:
        self.start_ms = start_ms
        self.end_ms = end_ms
        self._closed = Totals()
        self._key: Key | None = None
        self._in_shift = False
        self._since = 0

    def _add(self, into: Totals, until: int) -> None:
        lo, hi = max(self._since, self.start_ms), min(until, self.end_ms)
        if not self._in_shift or hi <= lo:
            return
        if self._key is None:
            into.unclassified_ms += hi - lo
        else:
            into.by_key[self._key] += hi - lo

    def feed(self, event: Event) -> None:
        if event.kind not in (Kind.SHIFT_START, Kind.STATUS, Kind.SHIFT_END, Kind.ACTIVITY):
            return
        # A wall clock that went backwards gives a zero-length interval, never a negative one.
        at = max(event.occurred_at_ms, self._since)
        self._add(self._closed, at)
        self._since = at
        if event.kind is Kind.ACTIVITY:
            return  # the same key goes on (the day strip starts a new stretch here)
        if event.kind is Kind.SHIFT_START:
            if not self._in_shift:  # a second PC's shift start continues the shift
                self._in_shift, self._key = True, None
        elif event.kind is Kind.STATUS:
            self._in_shift, self._key = True, event.key
        else:
            self._in_shift, self._key = False, None

    def at(self, now_ms: int) -> Totals:
        """The totals with the open interval running until `now_ms`."""
        result = Totals(dict(self._closed.by_key), self._closed.unclassified_ms)
        self._add(result, max(now_ms, self._since))
        return result


@dataclass(frozen=True, slots=True)
class Interval:
    """A stretch of the day in one status: `key` None is unclassified. A corrected stretch
    carries the correction's uuid, and its reason as the note."""

    start_ms: int
    end_ms: int
    key: Key | None
    activity: str | None
    note: str | None
    corrected_by: str | None = None

    @property
    def duration_ms(self) -> int:
        return self.end_ms - self.start_ms


def intervals(events: Sequence[Event], start_ms: int, end_ms: int, now_ms: int) -> list[Interval]:
    """The day as stretches per status, clipped to [start_ms, end_ms), the open one running
    until now. Built by the same rules as `totals` (a test holds them to each other): the
    day view's strip and its figures cannot disagree."""
    out: list[Interval] = []
    in_shift, key, activity, note, since = False, None, None, None, 0

    def close(until: int) -> None:
        lo, hi = max(since, start_ms), min(until, end_ms)
        if in_shift and hi > lo:
            out.append(Interval(lo, hi, key, activity, note))

    for event in events:
        if event.kind is Kind.ACTIVITY:
            at = max(event.occurred_at_ms, since)
            close(at)
            since, activity = at, event.activity or activity
            continue
        if event.kind not in (Kind.SHIFT_START, Kind.STATUS, Kind.SHIFT_END):
            continue
        at = max(event.occurred_at_ms, since)
        close(at)
        since = at
        if event.kind is Kind.SHIFT_START:
            if not in_shift:  # a second PC's shift start continues the shift (on its activity)
                in_shift, key, note = True, None, None
            activity = event.activity or activity
        elif event.kind is Kind.STATUS:
            in_shift, key, note = True, event.key, event.note
            activity = event.activity or activity
        else:
            in_shift, key, note = False, None, None
    close(max(now_ms, since))
    return out


def apply_corrections(stretches: Sequence[Interval], fixes: Iterable[Correction]) -> list[Interval]:
    """The stretches with corrections applied by the reports' rule (app.domain.indicators.
    overlay): the bar, the day view and the panel show the time the reports count. A
    corrected piece carries the correction's reason as its note."""
    return overlay(
        stretches,
        fixes,
        part=lambda s, lo, hi: replace(s, start_ms=lo, end_ms=hi),
        fixed=lambda s, fix, lo, hi: Interval(
            lo, hi, fix.key, fix.activity or s.activity, fix.reason, fix.uuid
        ),
    )


def totals_of(stretches: Iterable[Interval]) -> Totals:
    """Time per key over these stretches."""
    result = Totals()
    for s in stretches:
        if s.key is None:
            result.unclassified_ms += s.duration_ms
        else:
            result.by_key[s.key] += s.duration_ms
    return result
