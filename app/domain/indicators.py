"""Indicators: every second of an agent's day counted once, per key, activity and day.

Pure Python (no Qt, SQL or HTTP). The rules, in order:

1. **One timeline per agent**, whatever the devices: events are taken once (by uuid), each
   device's in its own order (its sequence numbers — a clock that jumped back cannot reorder
   them: an event's time is at least its predecessor's on the same device), then all devices'
   merged by time. Each event sets the agent's state from its time on, whichever device sent
   it; so two PCs at once never count a second twice.
2. **Stretches** run from one event to the next: a shift start begins unclassified time, a key
   sets the status, an activity change keeps the status under another activity, a shift end
   closes it.
3. **A shift with no end** (crash, power cut) is closed at the agent's last sign of life
   (heartbeat or event) plus a short grace, or now if that is sooner — never left running.
4. **Corrections** re-label a range of the agent's time (key and activity) with a reason;
   they never add time outside the shift nor remove any; the latest made wins where two
   overlap. The original stretches stay available.
5. **Days** are the site's local days (23 or 25 hours at DST changes); a stretch crossing a
   day boundary is split there — or, with `day_starts_at` (e.g. 06:00), the boundary moves.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from app.domain.events import Key, Kind

DEFAULT_GRACE_MS = 2 * 60_000
# Less than this between two stretches of pause (a correction meeting a click, each with its
# own clock correction) does not make two pauses.
PAUSE_GAP_MS = 1_000


@dataclass(frozen=True, slots=True)
class Record:
    """An event as the indicators read it (times are the store's corrected times)."""

    uuid: str
    device_id: str
    seq: int
    kind: Kind
    at_ms: int
    key: Key | None = None
    activity: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Correction:
    """`[start_ms, end_ms)` was in fact `key` (None: unclassified) on `activity` (None: as
    recorded) — or, with `off_shift`, not work at all (a forgotten end of shift) — says
    `author`, because `reason`."""

    uuid: str
    start_ms: int
    end_ms: int
    key: Key | None
    author: str
    reason: str
    made_at_ms: int
    activity: str | None = None
    off_shift: bool = False


@dataclass(frozen=True, slots=True)
class Span:
    """A stretch of time in one status and activity."""

    start_ms: int
    end_ms: int
    key: Key | None  # None: unclassified
    activity: str | None
    corrected_by: str | None = None  # the correction's uuid

    @property
    def ms(self) -> int:
        return self.end_ms - self.start_ms


def _ordered(records: Iterable[Record]) -> list[tuple[int, Record]]:
    """Once each; each device in its own order with times that never go back; then merged."""
    by_uuid = {r.uuid: r for r in records}
    by_device: dict[str, list[Record]] = {}
    for record in by_uuid.values():
        by_device.setdefault(record.device_id, []).append(record)
    merged: list[tuple[int, str, int, Record]] = []
    for device, mine in by_device.items():
        mine.sort(key=lambda r: (r.seq, r.at_ms))
        floor = None
        for record in mine:
            at = record.at_ms if floor is None else max(record.at_ms, floor)
            floor = at
            merged.append((at, device, record.seq, record))
    merged.sort(key=lambda m: (m[0], m[1], m[2]))
    return [(at, record) for at, _d, _s, record in merged]


def timeline(
    records: Iterable[Record],
    *,
    now_ms: int,
    last_sign_ms: int | None = None,
    grace_ms: int = DEFAULT_GRACE_MS,
) -> list[Span]:
    """The agent's stretches, before corrections (rules 1–3)."""
    spans: list[Span] = []
    in_shift, key, activity, since = False, None, None, 0
    last_seen = None
    for at, record in _ordered(records):
        last_seen = at if last_seen is None else max(last_seen, at)
        if record.kind not in (Kind.SHIFT_START, Kind.STATUS, Kind.ACTIVITY, Kind.SHIFT_END):
            continue
        if in_shift and at > since:
            spans.append(Span(since, at, key, activity))
        if record.kind is Kind.SHIFT_START:
            if not in_shift:
                key = None  # a second PC's shift start does not reset a shift in progress
            in_shift, activity = True, record.activity or activity
        elif record.kind is Kind.STATUS:
            in_shift, key, activity = True, record.key, record.activity or activity
        elif record.kind is Kind.ACTIVITY:
            activity = record.activity or activity
        else:
            in_shift, key = False, None
        since = max(since, at)
    if in_shift:
        signs = [t for t in (last_sign_ms, last_seen) if t is not None]
        end = min(now_ms, max(signs) + grace_ms) if signs else now_ms
        if end > since:
            spans.append(Span(since, end, key, activity))
    return _merged(spans)


def _merged(spans: list[Span]) -> list[Span]:
    """Neighbouring stretches with the same status, activity and correction become one."""
    out: list[Span] = []
    for span in spans:
        if span.ms <= 0:
            continue
        last = out[-1] if out else None
        if (
            last is not None
            and last.end_ms == span.start_ms
            and (last.key, last.activity, last.corrected_by)
            == (span.key, span.activity, span.corrected_by)
        ):
            out[-1] = replace(last, end_ms=span.end_ms)
        else:
            out.append(span)
    return out


def corrected(spans: Sequence[Span], corrections: Iterable[Correction]) -> list[Span]:
    """The stretches with the corrections applied (rule 4): inside the shift only, the
    latest made winning. The original stretches are `spans`, unchanged."""
    result = list(spans)
    for fix in sorted(corrections, key=lambda c: (c.made_at_ms, c.uuid)):
        if fix.end_ms <= fix.start_ms:
            continue
        updated: list[Span] = []
        for span in result:
            lo, hi = max(span.start_ms, fix.start_ms), min(span.end_ms, fix.end_ms)
            if hi <= lo:
                updated.append(span)
                continue
            if span.start_ms < lo:
                updated.append(replace(span, end_ms=lo))
            if not fix.off_shift:
                updated.append(
                    Span(lo, hi, fix.key, fix.activity or span.activity, corrected_by=fix.uuid)
                )
            if hi < span.end_ms:
                updated.append(replace(span, start_ms=hi))
        result = updated
    return _merged(result)


def day_bounds(day: date, zone: tzinfo, day_starts_at: time = time(0)) -> tuple[int, int]:
    """[start, end) of a site day in UTC ms; 23 or 25 hours long at DST changes."""
    start = datetime.combine(day, day_starts_at, tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), day_starts_at, tzinfo=zone).astimezone(UTC)
    return int(start.timestamp() * 1000), int(end.timestamp() * 1000)


def day_of(at_ms: int, zone: tzinfo, day_starts_at: time = time(0)) -> date:
    local = datetime.fromtimestamp(at_ms / 1000, UTC).astimezone(zone)
    shifted = local - timedelta(hours=day_starts_at.hour, minutes=day_starts_at.minute)
    return shifted.date()


def by_day(
    spans: Sequence[Span], zone: tzinfo, day_starts_at: time = time(0)
) -> dict[date, list[Span]]:
    """The stretches cut at the site's day boundaries (rule 5)."""
    days: dict[date, list[Span]] = {}
    day, lo, hi = None, 0, 0  # the current day's bounds: worked out once per day, not per span
    for span in spans:
        start = span.start_ms
        while start < span.end_ms:
            if day is None or not lo <= start < hi:
                day = day_of(start, zone, day_starts_at)
                lo, hi = day_bounds(day, zone, day_starts_at)
            if start == span.start_ms and span.end_ms <= hi:
                days.setdefault(day, []).append(span)
                break
            end = min(span.end_ms, hi)
            days.setdefault(day, []).append(replace(span, start_ms=start, end_ms=end))
            start = end
    return days


@dataclass(slots=True)
class Indicators:
    """One agent's figures over some stretches (a day, an activity, a period)."""

    production_ms: int = 0
    pause_ms: int = 0
    off_ms: int = 0
    unclassified_ms: int = 0
    pauses: int = 0
    longest_pause_ms: int = 0
    over_threshold_ms: int = 0
    corrections: int = 0
    pause_lengths: list[int] = field(default_factory=list, repr=False)

    @property
    def presence_ms(self) -> int:
        return self.production_ms + self.pause_ms + self.off_ms + self.unclassified_ms

    @property
    def production_share(self) -> float | None:
        """Production / presence."""
        return self.production_ms / self.presence_ms if self.presence_ms else None

    @property
    def shrinkage_share(self) -> float | None:
        """(Pause + off) / presence: the share of paid time not on the phones."""
        return (self.pause_ms + self.off_ms) / self.presence_ms if self.presence_ms else None

    @property
    def average_pause_ms(self) -> int | None:
        return sum(self.pause_lengths) // len(self.pause_lengths) if self.pause_lengths else None

    def add(self, other: Indicators) -> None:
        """Roll another's figures into these (a plateau, a period)."""
        self.production_ms += other.production_ms
        self.pause_ms += other.pause_ms
        self.off_ms += other.off_ms
        self.unclassified_ms += other.unclassified_ms
        self.pauses += other.pauses
        self.pause_lengths += other.pause_lengths
        self.longest_pause_ms = max(self.longest_pause_ms, other.longest_pause_ms)
        self.over_threshold_ms += other.over_threshold_ms
        self.corrections += other.corrections


def indicators(spans: Sequence[Span], *, pause_threshold_ms: int) -> dict[str | None, Indicators]:
    """Per activity (None: no activity), the figures of these stretches (one day's).

    A pause is a run of pause stretches with no gap (under a second), whatever the activity
    switches within it; it counts for the activity it began on, and its time over the
    threshold too.
    """
    per: dict[str | None, Indicators] = {}
    corrections: dict[str | None, set[str]] = {}
    run_start: tuple[int, str | None] | None = None
    run_ms, run_end = 0, None

    def close_run() -> None:
        nonlocal run_start, run_ms
        if run_start is None:
            return
        figures = per.setdefault(run_start[1], Indicators())
        figures.pauses += 1
        figures.pause_lengths.append(run_ms)
        figures.longest_pause_ms = max(figures.longest_pause_ms, run_ms)
        figures.over_threshold_ms += max(run_ms - pause_threshold_ms, 0)
        run_start, run_ms = None, 0

    for span in spans:
        figures = per.setdefault(span.activity, Indicators())
        if span.key is Key.PRODUCTION:
            figures.production_ms += span.ms
        elif span.key is Key.PAUSE:
            figures.pause_ms += span.ms
        elif span.key is Key.OFF:
            figures.off_ms += span.ms
        else:
            figures.unclassified_ms += span.ms
        if span.corrected_by is not None:
            corrections.setdefault(span.activity, set()).add(span.corrected_by)
        if span.key is Key.PAUSE:
            if run_start is None or run_end is None or span.start_ms - run_end > PAUSE_GAP_MS:
                close_run()
                run_start = (span.start_ms, span.activity)
            run_ms += span.ms
            run_end = span.end_ms
        elif span.ms > PAUSE_GAP_MS:
            close_run()
    close_run()
    for activity, uuids in corrections.items():
        per[activity].corrections = len(uuids)
    return per


def total(per_activity: dict[str | None, Indicators]) -> Indicators:
    """All activities together."""
    result = Indicators()
    for figures in per_activity.values():
        result.add(figures)
    return result
