"""The day-figures cache: each agent's settled days, so that a month is not walked again.

A cached day is only ever a copy of what app.domain.indicators gives from the events and
corrections in the store. It is written when the day is settled (over, and not inside a
shift that is still running unended), and dropped as soon as an event or a correction that
may change it comes in — one at that day or before it, whichever device or process sent it.
Reports read the cached days and compute the rest; nothing else reads this table, and
deleting it loses nothing but time.

How a day was cut and read (time zone, day start, corrected or original) is the `view`:
each view has its own rows and its own mark (the newest event and correction it has seen).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import date, time, tzinfo
from typing import Any

import orjson
from sqlalchemy import Connection, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from app.domain.indicators import Indicators, day_of
from app.server import models as m
from app.server.purged import purged_before

# PostgreSQL hands out ids before commit: a batch may commit with an id lower than one
# already seen. Events and corrections received this recently are looked at again.
SETTLE_MS = 5 * 60_000
# An event moves no time before its own, except its device's later events whose clock had
# jumped back (their time is raised to it): this much before it is dropped too.
JUMP_MARGIN_MS = 3600_000

log = logging.getLogger(__name__)


def view_name(zone: tzinfo, day_starts_at: time, original: bool) -> str:
    return f"{zone}|{day_starts_at:%H:%M}|{'original' if original else 'corrected'}"


@dataclass(frozen=True, slots=True)
class Mark:
    """What a refresh saw: later events and corrections are not accounted for."""

    event_id: int
    correction_id: int
    checked_at: int


def refresh(conn: Connection, view: str, zone: tzinfo, day_starts_at: time, now_ms: int) -> Mark:
    """Drop the view's cached days that events or corrections stored since its last refresh
    may change, and move its mark on."""
    e, c, marks = m.events, m.corrections, m.figure_marks
    top = Mark(
        conn.execute(select(func.coalesce(func.max(e.c.id), 0))).scalar_one(),
        conn.execute(select(func.coalesce(func.max(c.c.id), 0))).scalar_one(),
        now_ms,
    )
    seen = conn.execute(
        select(marks.c.event_id, marks.c.correction_id, marks.c.checked_at).where(
            marks.c.view == view
        )
    ).first()
    if seen is None:  # a first look (another process may be having it at the same time)
        conn.execute(delete(m.day_figures).where(m.day_figures.c.view == view))
        conn.execute(
            _dialect(conn).insert(marks).values(view=view, **_values(top)).on_conflict_do_nothing()
        )
        return top
    cuts: dict[date, list[int]] = {}  # from which day on, whose days go
    # Purged days' kept figures are their only record: never cut (app.server.retention).
    purged = purged_before(conn)
    kept = None if purged is None else day_of(purged, zone, day_starts_at)
    for person_id, first in changes(conn, Mark(*seen)).items():
        cut = _cut_day(first, zone, day_starts_at)
        cuts.setdefault(cut if kept is None else max(cut, kept), []).append(person_id)
    for day, people in cuts.items():
        conn.execute(
            delete(m.day_figures).where(
                m.day_figures.c.view == view,
                m.day_figures.c.day >= day,
                m.day_figures.c.person_id.in_(people),
            )
        )
    conn.execute(update(marks).where(marks.c.view == view).values(**_values(top)))
    return top


# What a day can be computed for: from the epoch to the end of year 9999.
_EARLIEST_MS, _LATEST_MS = 0, 253_402_300_799_000


def _cut_day(at_ms: int, zone: tzinfo, day_starts_at: time) -> date:
    """The first day whose kept figures a change at `at_ms` may touch. A stored time no
    calendar holds (an older store took −2^62) must not fail every report for everyone:
    it is clamped — every kept day of that person goes — and said in the log."""
    at = at_ms - JUMP_MARGIN_MS
    if not _EARLIEST_MS <= at <= _LATEST_MS:
        log.warning("a stored time no calendar holds (%d ms): that person's kept days go", at_ms)
        at = min(max(at, _EARLIEST_MS), _LATEST_MS)
    return day_of(at, zone, day_starts_at)


def _values(mark: Mark) -> dict[str, int]:
    return {
        "event_id": mark.event_id,
        "correction_id": mark.correction_id,
        "checked_at": mark.checked_at,
    }


def changes(
    conn: Connection, since: Mark, person_ids: Iterable[int] | None = None
) -> dict[int, int]:
    """Per person, the earliest time touched by events or corrections stored after `since`."""
    e, c = m.events, m.corrections
    recent = since.checked_at - SETTLE_MS
    # Each condition on its own index (SQLite would scan the table for an OR of the two).
    queries = [
        select(e.c.person_id, func.min(e.c.corrected_at)).where(e.c.id > since.event_id),
        select(e.c.person_id, func.min(e.c.corrected_at)).where(e.c.received_at >= recent),
        select(c.c.person_id, func.min(c.c.start_at)).where(c.c.id > since.correction_id),
        select(c.c.person_id, func.min(c.c.start_at)).where(c.c.made_at >= recent),
    ]
    wanted = None if person_ids is None else list(person_ids)
    first: dict[int, int] = {}
    for n, query in enumerate(queries):
        person = e.c.person_id if n < 2 else c.c.person_id
        narrowed = query if wanted is None else query.where(person.in_(wanted))
        for person_id, at in conn.execute(narrowed.group_by(person)):
            first[person_id] = min(at, first.get(person_id, at))
    return first


def load(
    conn: Connection, view: str, person_ids: Sequence[int], first: date, last: date
) -> dict[tuple[int, date], tuple[int, dict[str | None, Indicators]]]:
    """The cached days of these people in [first, last]: pause threshold and figures."""
    f = m.day_figures
    rows = conn.execute(
        select(f.c.person_id, f.c.day, f.c.pause_threshold_s, f.c.figures).where(
            f.c.view == view,
            f.c.person_id.in_(list(person_ids)),
            f.c.day >= first,
            f.c.day <= last,
        )
    )
    return {(pid, day): (threshold, decode(blob)) for pid, day, threshold, blob in rows}


def store(
    conn: Connection,
    view: str,
    mark: Mark,
    days: Sequence[tuple[int, date, int, dict[str | None, Indicators]]],
    *,
    zone: tzinfo,
    day_starts_at: time,
) -> int:
    """Keep these computed days (person, day, pause threshold, figures) — except those that
    events or corrections stored since `mark` (the refresh before they were read) may have
    changed. Rows another process wrote meanwhile are left as they are. Returns how many
    were offered for keeping."""
    if not days:
        return 0
    moved = {
        person_id: _cut_day(at, zone, day_starts_at)
        for person_id, at in changes(conn, mark, {d[0] for d in days}).items()
    }
    rows = [
        {
            "view": view,
            "person_id": person_id,
            "day": day,
            "pause_threshold_s": threshold,
            "figures": encode(figures),
        }
        for person_id, day, threshold, figures in days
        if person_id not in moved or day < moved[person_id]
    ]
    if not rows:
        return 0
    conn.execute(_dialect(conn).insert(m.day_figures).on_conflict_do_nothing(), rows)
    return len(rows)


def _dialect(conn: Connection) -> Any:
    return postgresql if conn.dialect.name == "postgresql" else sqlite


_FIELDS = tuple(field.name for field in fields(Indicators))


def encode(per_activity: dict[str | None, Indicators]) -> str:
    entries = [
        [activity, *(getattr(f, name) for name in _FIELDS)] for activity, f in per_activity.items()
    ]
    return orjson.dumps(entries).decode()


def decode(blob: str) -> dict[str | None, Indicators]:
    return {entry[0]: Indicators(*entry[1:]) for entry in orjson.loads(blob)}
