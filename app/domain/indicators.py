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
   (heartbeat or event) plus a short grace, or now if that is sooner — never left running;
   and when another PC starts a shift while it runs on a PC silent since, there.
4. **Corrections** re-label a range of the agent's time (key and activity) with a reason;
   they never add time outside the shift nor remove any; the latest made wins where two
   overlap. The original stretches stay available.
5. **Days** are the site's local days (23 or 25 hours at DST changes); a stretch crossing a
   day boundary is split there — or, with `day_starts_at` (e.g. 06:00), the boundary moves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from operator import attrgetter, itemgetter
from typing import Any, NamedTuple, Protocol, TypeVar

from app.domain.events import Key, Kind

DEFAULT_GRACE_MS = 2 * 60_000
# Less than this between two stretches of pause (a correction meeting a click, each with its
# own clock correction) does not make two pauses.
PAUSE_GAP_MS = 1_000


class Record(NamedTuple):
    """An event as the indicators read it (times are the store's corrected times). A tuple:
    a month's report makes hundreds of thousands of them."""

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


class Span(NamedTuple):
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
        mine.sort(key=_device_order)
        floor = mine[0].at_ms
        for record in mine:
            at = record.at_ms
            at = max(at, floor)
            floor = at
            merged.append((at, device, record.seq, record))
    merged.sort(key=_merge_order)
    return [(m[0], m[3]) for m in merged]


_device_order = attrgetter("seq", "at_ms")
_merge_order = itemgetter(0, 1, 2)
_STATE_KINDS = frozenset((Kind.SHIFT_START, Kind.STATUS, Kind.ACTIVITY, Kind.SHIFT_END))


def timeline(
    records: Iterable[Record],
    *,
    now_ms: int,
    last_sign_ms: int | None = None,
    grace_ms: int = DEFAULT_GRACE_MS,
    device_signs: Mapping[str, int] | None = None,
) -> list[Span]:
    """The agent's stretches, before corrections (rules 1–3)."""
    spans, _tail = timeline_and_tail(
        records,
        now_ms=now_ms,
        last_sign_ms=last_sign_ms,
        grace_ms=grace_ms,
        device_signs=device_signs,
    )
    return spans


def timeline_and_tail(
    records: Iterable[Record],
    *,
    now_ms: int,
    last_sign_ms: int | None = None,
    grace_ms: int = DEFAULT_GRACE_MS,
    device_signs: Mapping[str, int] | None = None,
) -> tuple[list[Span], int | None]:
    """The stretches, and from when they are not settled (None: all are): the start of a
    shift still running unended at the end, or of one ended on the word of a PC's heartbeats
    (below). Only time from then on depends on `now_ms` and the heartbeats: every stretch
    before it stays as it is until new events or corrections come.

    `device_signs`: each PC's last sign of life (its last heartbeat) where known. A shift
    start on another PC while the shift runs on one silent since more than the grace (it
    crashed and was never started again: its own bar would have closed the shift when
    restarted) ends that shift there, rather than carry it through the night."""
    spans: list[Span] = []
    in_shift, key, activity, since = False, None, None, 0
    last_seen = None
    heard = device_signs or {}
    device_last: dict[str, int] = {}  # each PC's latest event so far
    running_on = None  # the PC of the latest event of the running shift
    unsettled: int | None = None  # from when heartbeats, not events, decided
    for at, record in _ordered(records):  # in time order: `at` never goes back
        last_seen = at
        kind = record.kind
        device = record.device_id
        if kind not in _STATE_KINDS:
            device_last[device] = at
            continue
        if (
            kind is Kind.SHIFT_START
            and in_shift
            and running_on is not None
            and running_on != device
            and running_on in heard
        ):
            gone = max(heard[running_on], device_last.get(running_on, 0)) + grace_ms
            if gone < at:
                if gone > since:
                    spans.append(Span(since, gone, key, activity))
                # Taken on the word of a heartbeat: a later one from that PC would undo it.
                unsettled = since if unsettled is None else unsettled
                in_shift, key, since = False, None, at
        device_last[device] = at
        running_on = device
        if in_shift and at > since:
            spans.append(Span(since, at, key, activity))
        if kind is Kind.STATUS:
            in_shift, key, activity = True, record.key, record.activity or activity
        elif kind is Kind.SHIFT_START:
            if not in_shift:
                key = None  # a second PC's shift start does not reset a shift in progress
            in_shift, activity = True, record.activity or activity
        elif kind is Kind.ACTIVITY:
            activity = record.activity or activity
        else:
            in_shift, key = False, None
        since = at
    if not in_shift:
        return _merged(spans), unsettled
    end = counted_until(now_ms, last_sign_ms, last_seen, grace_ms=grace_ms)
    if end > since:
        spans.append(Span(since, end, key, activity))
    return _merged(spans), since if unsettled is None else min(since, unsettled)


def counted_until(now_ms: int, *signs: int | None, grace_ms: int = DEFAULT_GRACE_MS) -> int:
    """Until when a shift left running counts (rule 3): now, or the last of these signs of
    life (heartbeats, events) plus the grace, whichever is sooner."""
    known = [t for t in signs if t is not None]
    return min(now_ms, max(known) + grace_ms) if known else now_ms


def _merged(spans: list[Span]) -> list[Span]:
    """Neighbouring stretches with the same status, activity and correction become one."""
    out: list[Span] = []
    last = None
    for span in spans:
        if span.end_ms <= span.start_ms:
            continue
        if (
            last is not None
            and last.end_ms == span.start_ms
            and last.key is span.key
            and last.activity == span.activity
            and last.corrected_by == span.corrected_by
        ):
            last = Span(last.start_ms, span.end_ms, last.key, last.activity, last.corrected_by)
            out[-1] = last
        else:
            out.append(span)
            last = span
    return out


class Stretch(Protocol):
    """What a correction applies to: a span here, the day view's interval (app.domain.totals)."""

    @property
    def start_ms(self) -> int: ...
    @property
    def end_ms(self) -> int: ...
    @property
    def activity(self) -> str | None: ...


S = TypeVar("S", bound=Stretch)


def overlay(
    stretches: Sequence[S],
    corrections: Iterable[Correction],
    *,
    part: Callable[[S, int, int], S],
    fixed: Callable[[S, Correction, int, int], S],
) -> list[S]:
    """The one rule of corrections (rule 4), for any kind of stretch: inside the shift only
    (never adding time), the latest made winning; `off_shift` takes the time out. `part(s,
    start, end)` is a piece of `s` as it was; `fixed(s, fix, start, end)` a piece re-labelled."""
    result = list(stretches)
    for fix in sorted(corrections, key=lambda c: (c.made_at_ms, c.uuid)):
        if fix.end_ms <= fix.start_ms:
            continue
        updated: list[S] = []
        for s in result:
            lo, hi = max(s.start_ms, fix.start_ms), min(s.end_ms, fix.end_ms)
            if hi <= lo:
                updated.append(s)
                continue
            if s.start_ms < lo:
                updated.append(part(s, s.start_ms, lo))
            if not fix.off_shift:
                updated.append(fixed(s, fix, lo, hi))
            if hi < s.end_ms:
                updated.append(part(s, hi, s.end_ms))
        result = updated
    return result


def corrected(spans: Sequence[Span], corrections: Iterable[Correction]) -> list[Span]:
    """The stretches with the corrections applied (rule 4). The original stretches are
    `spans`, unchanged."""
    return _merged(
        overlay(
            spans,
            corrections,
            part=lambda s, lo, hi: s._replace(start_ms=lo, end_ms=hi),
            fixed=lambda s, fix, lo, hi: Span(
                lo, hi, fix.key, fix.activity or s.activity, corrected_by=fix.uuid
            ),
        )
    )


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
            days.setdefault(day, []).append(span._replace(start_ms=start, end_ms=end))
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
    pause_total_ms: int = 0  # for the average: pauses are added up, never listed

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
        return self.pause_total_ms // self.pauses if self.pauses else None

    def add(self, other: Indicators) -> None:
        """Roll another's figures into these (a plateau, a period)."""
        self.production_ms += other.production_ms
        self.pause_ms += other.pause_ms
        self.off_ms += other.off_ms
        self.unclassified_ms += other.unclassified_ms
        self.pauses += other.pauses
        self.pause_total_ms += other.pause_total_ms
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
    runs: list[list[Any]] = []  # [activity it began on, ms], one per pause
    run: list[Any] | None = None
    run_end = 0
    for span in spans:
        ms = span.end_ms - span.start_ms
        activity, key = span.activity, span.key
        figures = per.get(activity)
        if figures is None:
            figures = per[activity] = Indicators()
        if key is Key.PAUSE:
            figures.pause_ms += ms
            if run is None or span.start_ms - run_end > PAUSE_GAP_MS:
                run = [activity, 0]
                runs.append(run)
            run[1] += ms
            run_end = span.end_ms
        else:
            if key is Key.PRODUCTION:
                figures.production_ms += ms
            elif key is Key.OFF:
                figures.off_ms += ms
            else:
                figures.unclassified_ms += ms
            if ms > PAUSE_GAP_MS:
                run = None
        if span.corrected_by is not None:
            corrections.setdefault(activity, set()).add(span.corrected_by)
    for activity, ms in runs:
        figures = per[activity]
        figures.pauses += 1
        figures.pause_total_ms += ms
        figures.longest_pause_ms = max(figures.longest_pause_ms, ms)
        if ms > pause_threshold_ms:
            figures.over_threshold_ms += ms - pause_threshold_ms
    for activity, uuids in corrections.items():
        per[activity].corrections = len(uuids)
    return per


def total(per_activity: dict[str | None, Indicators]) -> Indicators:
    """All activities together."""
    result = Indicators()
    for figures in per_activity.values():
        result.add(figures)
    return result
