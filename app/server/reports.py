"""Reports: the indicators of a plateau (or one agent) over a period, from the store.

The computation is app.domain.indicators (pure); this module only reads the rows it needs
and shapes the result as rows for JSON or CSV.
"""

from __future__ import annotations

import csv
import io
import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, func, or_, select

from app.domain.events import Key, Kind
from app.domain.indicators import (
    Indicators,
    Record,
    by_day,
    corrected,
    day_bounds,
    day_of,
    indicators,
    timeline_and_tail,
)
from app.server import corrections, figures
from app.server import models as m
from app.server.clock import NowMs, system_now_ms
from app.server.directory import DirectoryError
from app.server.ingest import LATE_AFTER_MS

log = logging.getLogger(__name__)

BY = ("agent", "activity", "day", "detail")
LOOKBACK_MS = 36 * 3600 * 1000  # a shift still open when the period begins


@dataclass(frozen=True, slots=True)
class Period:
    first: date
    last: date  # included
    zone: ZoneInfo
    day_starts_at: time = time(0)

    def bounds(self) -> tuple[int, int]:
        start, _ = day_bounds(self.first, self.zone, self.day_starts_at)
        _, end = day_bounds(self.last, self.zone, self.day_starts_at)
        return start, end


def compute(
    engine: Engine,
    *,
    period: Period,
    now_ms: int,
    plateau_ids: Iterable[int] | None = None,
    person_ids: Iterable[int] | None = None,
    original: bool = False,
    cache: bool = True,
    reader: Engine | None = None,
) -> list[dict[str, Any]]:
    """One row per agent × day × activity (the finest grain), each with its figures —
    with the corrections applied, or as `original`ly recorded.

    Settled days come from the day-figures cache when it has them (app.server.figures);
    the others are computed from the events and kept for next time. `cache=False` computes
    everything from the events and keeps nothing. `reader`: where the reads go (a
    reads-only engine: the big reads never hold SQLite's write lock), the cache's writes
    going to `engine`."""
    reads = reader or engine
    end = period.bounds()[1]
    zone, starts = period.zone, period.day_starts_at
    days = [period.first + timedelta(days=n) for n in range((period.last - period.first).days + 1)]
    with reads.connect() as conn:
        people, thresholds, last_seen = _people(conn, plateau_ids, person_ids, period.bounds())
    view = figures.view_name(zone, starts, original)
    cached: dict[tuple[int, date], tuple[int, dict[str | None, Indicators]]] = {}
    mark = None
    # The cache only holds days that are over: a report of today alone need not look at it.
    if cache and people and day_bounds(period.first, zone, starts)[1] <= now_ms:
        with engine.begin() as conn:
            mark = figures.refresh(conn, view, zone, starts, now_ms)
            cached = figures.load(conn, view, list(people), period.first, period.last)
    threshold_s = {pid: int(thresholds.get(pid) or m.DEFAULT_PAUSE_THRESHOLD_S) for pid in people}
    # Per person, the first day of the period to compute: from there on, every day is.
    compute_from: dict[int, date] = {}
    for pid in people:
        for day in days:
            hit = cached.get((pid, day))
            if hit is None or hit[0] != threshold_s[pid]:
                compute_from[pid] = day
                break
    computed = _from_events(
        reads,
        period,
        now_ms=now_ms,
        compute_from=compute_from,
        last_seen=last_seen,
        threshold_s=threshold_s,
        original=original,
    )
    keep: list[tuple[int, date, int, dict[str | None, Indicators]]] = []
    rows: list[dict[str, Any]] = []
    for pid, (login, name) in sorted(people.items(), key=lambda item: item[1][0]):
        theirs = 0
        fresh, settled_before = computed.get(pid, ({}, end))
        for day in days:
            if pid in compute_from and day >= compute_from[pid]:
                per = fresh.get(day, {})
                if mark is not None and day_bounds(day, zone, starts)[1] <= settled_before:
                    keep.append((pid, day, threshold_s[pid], per))
            else:
                per = cached[(pid, day)][1]
            for activity, figures_ in sorted(per.items(), key=lambda kv: kv[0] or ""):
                rows.append(
                    {"agent": login, "name": name, "day": day, "activity": activity, "f": figures_}
                )
                theirs += 1
        if not theirs:  # nobody disappears from a report: a row of zeros, in the agent view
            rows.append({"agent": login, "name": name, "day": None, "activity": None, "f": None})
    if mark is not None and keep:
        with engine.begin() as conn:
            figures.store(conn, view, mark, keep, zone=zone, day_starts_at=starts)
    if people:
        with reads.connect() as conn:
            late = late_counts(conn, list(people), period)
        for row in rows:
            row["late"] = late.get((row["agent"], row["day"], row["activity"]), 0)
    return rows


def late_counts(
    conn: Connection, person_ids: list[int], period: Period
) -> dict[tuple[str, date, str | None], int]:
    """How many events that arrived late (`ingest.LATE_AFTER_MS` after they happened) each
    agent × day × activity of the period holds: they count in the figures — they are real
    — and the reports say so. Late events are few: they are read one by one."""
    start, end = period.bounds()
    e = m.events
    rows = conn.execute(
        select(m.people.c.login, e.c.corrected_at, m.activities.c.name)
        .join(m.people, m.people.c.id == e.c.person_id)
        .outerjoin(m.activities, m.activities.c.id == e.c.activity_id)
        .where(
            e.c.person_id.in_(person_ids),
            e.c.corrected_at >= start,
            e.c.corrected_at < end,
            e.c.received_at - e.c.corrected_at > LATE_AFTER_MS,
        )
    ).all()
    counts: dict[tuple[str, date, str | None], int] = {}
    for login, at_ms, activity in rows:
        key = (str(login), day_of(int(at_ms), period.zone, period.day_starts_at), activity)
        counts[key] = counts.get(key, 0) + 1
    return counts


def _people(
    conn: Connection,
    plateau_ids: Iterable[int] | None,
    person_ids: Iterable[int] | None,
    bounds: tuple[int, int],
) -> tuple[dict[int, tuple[str, str]], dict[int, int], dict[int, dict[str, int]]]:
    """Who is in the report (login, name), their pause threshold, their PCs' last heartbeats.
    A person disabled since (gone, or erased under a pseudonym) is in it if they have time
    in the period: a month's totals do not shrink when someone leaves."""
    p, e = m.people, m.events
    worked = (
        select(e.c.id)
        .where(e.c.person_id == p.c.id, e.c.corrected_at >= bounds[0], e.c.corrected_at < bounds[1])
        .exists()
    )
    who = select(p.c.id, p.c.login, p.c.name).where(or_(p.c.disabled.is_(False), worked))
    if plateau_ids is not None:
        members = select(m.memberships.c.person_id).where(
            m.memberships.c.plateau_id.in_(list(plateau_ids))
        )
        who = who.where(p.c.id.in_(members))
    if person_ids is not None:
        who = who.where(p.c.id.in_(list(person_ids)))
    people = {row.id: (row.login, row.name) for row in conn.execute(who)}
    thresholds = dict(
        conn.execute(
            select(m.memberships.c.person_id, func.min(m.plateaux.c.pause_threshold_s))
            .join(m.plateaux, m.plateaux.c.id == m.memberships.c.plateau_id)
            .where(m.memberships.c.person_id.in_(list(people)))
            .group_by(m.memberships.c.person_id)
        ).all()
    )
    heard: dict[int, dict[str, int]] = {}  # per person, each PC's last heartbeat
    for person_id, device, seen in conn.execute(
        select(m.presence.c.person_id, m.presence.c.device_id, m.presence.c.last_seen_at).where(
            m.presence.c.person_id.in_(list(people))
        )
    ):
        heard.setdefault(person_id, {})[device] = seen
    return people, thresholds, heard


def _from_events(
    engine: Engine,
    period: Period,
    *,
    now_ms: int,
    compute_from: dict[int, date],
    last_seen: dict[int, dict[str, int]],
    threshold_s: dict[int, int],
    original: bool,
) -> dict[int, tuple[dict[date, dict[str | None, Indicators]], int]]:
    """Per person, the figures of each day from `compute_from[person]` to the period's end,
    and until when they are settled (the start of a shift still running unended, or the
    period's end)."""
    if not compute_from:
        return {}
    _, end = period.bounds()
    zone, starts = period.zone, period.day_starts_at
    window = min(day_bounds(day, zone, starts)[0] for day in compute_from.values())
    window -= LOOKBACK_MS
    e = m.events
    records: dict[int, list[Record]] = {pid: [] for pid in compute_from}
    query = select(
        e.c.person_id,
        e.c.uuid,
        e.c.device_id,
        e.c.seq,
        e.c.kind,
        e.c.key,
        e.c.corrected_at,
        e.c.activity_id,
    ).where(
        e.c.person_id.in_(list(compute_from)),
        e.c.corrected_at >= window,
        e.c.corrected_at < end,
    )
    kinds = {k.value: k for k in Kind}
    keys = {k.value: k for k in Key} | {None: None}
    with engine.connect() as conn:
        names = dict(conn.execute(select(m.activities.c.id, m.activities.c.name)).all())
        names[None] = None
        fixes = {} if original else corrections.for_people(conn, compute_from, window, end)
        # A long window streams (a month is ~660,000 rows); a short one comes in one go
        # (PostgreSQL's server-side cursor costs round trips that today's report feels).
        streamed = end - window > 7 * 24 * 3600_000
        reader = conn.execution_options(yield_per=5000) if streamed else conn
        result = reader.execute(query)
        for chunk in result.partitions(5000):
            for pid, uuid, device, seq, kind, key, at, activity in chunk:
                records[pid].append(
                    Record(uuid, device, seq, kinds[kind], at, keys[key], names[activity])
                )
    out: dict[int, tuple[dict[date, dict[str | None, Indicators]], int]] = {}
    for pid, first in compute_from.items():
        heard = last_seen.get(pid, {})
        spans, tail = timeline_and_tail(
            records[pid],
            now_ms=min(now_ms, end),
            last_sign_ms=max(heard.values(), default=None),
            device_signs=heard,
        )
        if fixes.get(pid):
            spans = corrected(spans, fixes[pid])
        threshold_ms = threshold_s[pid] * 1000
        per_day = {
            day: indicators(day_spans, pause_threshold_ms=threshold_ms)
            for day, day_spans in by_day(spans, zone, starts).items()
            if first <= day <= period.last
        }
        out[pid] = (per_day, min(now_ms, end if tail is None else tail))
    return out


def roll_up(rows: list[dict[str, Any]], by: str) -> list[dict[str, Any]]:
    """Sum the finest rows per agent, activity or day (or keep them: "detail")."""
    if by not in BY:
        raise DirectoryError(f"--by: one of {', '.join(BY)}")
    if by == "detail":
        return [row for row in rows if row["f"] is not None]
    groups: dict[Any, dict[str, Any]] = {}
    for row in rows:
        if row["f"] is None and by != "agent":
            continue
        key = row["agent"] if by == "agent" else row["activity"] if by == "activity" else row["day"]
        group = groups.setdefault(
            key, {"key": key, "f": Indicators(), "name": row["name"], "late": 0}
        )
        if row["f"] is not None:
            group["f"].add(row["f"])
        group["late"] += row.get("late", 0)
    out = []
    for key, group in sorted(groups.items(), key=lambda kv: str(kv[0] or "")):
        entry: dict[str, Any] = {"f": group["f"], "late": group["late"]}
        if by == "agent":
            entry |= {"agent": key, "name": group["name"]}
        elif by == "activity":
            entry["activity"] = key
        else:
            entry["day"] = key
        out.append(entry)
    return out


_FIGURES = (
    ("production", "production_ms"),
    ("pause", "pause_ms"),
    ("off", "off_ms"),
    ("unclassified", "unclassified_ms"),
    ("presence", "presence_ms"),
)


def as_dicts(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """JSON-ready rows: seconds (whole), shares (0–1), counts."""
    out = []
    for row in rows:
        f: Indicators = row["f"]
        entry = {
            k: (v.isoformat() if isinstance(v, date) else v)
            for k, v in row.items()
            if k not in ("f", "late")
        }
        for name, attr in _FIGURES:
            entry[f"{name}_s"] = getattr(f, attr) // 1000
        entry["production_share"] = _round(f.production_share)
        entry["shrinkage_share"] = _round(f.shrinkage_share)
        entry["pauses"] = f.pauses
        entry["average_pause_s"] = (
            None if f.average_pause_ms is None else f.average_pause_ms // 1000
        )
        entry["longest_pause_s"] = f.longest_pause_ms // 1000
        entry["over_threshold_s"] = f.over_threshold_ms // 1000
        entry["corrections"] = f.corrections
        entry["late_events"] = row.get("late", 0)
        out.append(entry)
    return out


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def hms(seconds: int | None) -> str:
    if seconds is None:
        return ""
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


# Each way of rolling up names its rows by these columns (an empty report keeps them).
IDENTITY = {
    "agent": ("agent", "name"),
    "activity": ("activity",),
    "day": ("day",),
    "detail": ("agent", "name", "day", "activity"),
}
_DURATIONS = (
    *(f"{n}_s" for n, _ in _FIGURES),
    "average_pause_s",
    "longest_pause_s",
    "over_threshold_s",
)
# The CSV's headers in French (the JSON keeps the machine names). A duration column comes
# twice: as h:mm:ss under its name, and in seconds under "<name> (s)".
FRENCH_HEADERS = {
    "agent": "Identifiant",
    "name": "Nom",
    "day": "Jour",
    "activity": "Activité",
    "production": "Production",
    "pause": "Pause",
    "off": "Hors production",
    "unclassified": "Non classé",
    "presence": "Présence",
    "average_pause": "Pause moyenne",
    "longest_pause": "Pause la plus longue",
    "over_threshold": "Au-delà du seuil de pause",
    "production_share": "Part de production",
    "shrinkage_share": "Part hors téléphone",
    "pauses": "Nombre de pauses",
    "corrections": "Corrections",
    "late_events": "Événements arrivés en retard",
}
CSV_LANGUAGES = ("en", "fr")


def csv_header(by: str, lang: str = "en") -> list[str]:
    """The CSV's header row for a roll-up, in English (machine names) or French."""
    names: list[str] = list(IDENTITY[by])
    for column in _DURATIONS:
        names += [column.removesuffix("_s"), column]
    names += ["production_share", "shrinkage_share", "pauses", "corrections", "late_events"]
    if lang != "fr":
        return names
    return [
        f"{FRENCH_HEADERS[n.removesuffix('_s')]} (s)" if n.endswith("_s") else FRENCH_HEADERS[n]
        for n in names
    ]


def to_csv(
    rows: list[dict[str, Any]],
    *,
    by: str,
    separator: str = ",",
    decimal_comma: bool = False,
    lang: str = "en",
) -> str:
    """CSV that opens right in Excel: UTF-8 with a BOM; `;` and a decimal comma for French
    settings; every duration both as h:mm:ss and as seconds; the header row always, even
    for an empty period."""
    ident = IDENTITY[by]
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=separator, lineterminator="\r\n")
    writer.writerow(csv_header(by, lang))
    for entry in as_dicts(rows):
        line: list[Any] = [entry.get(k) or "" for k in ident]
        for column in _DURATIONS:
            line += [hms(entry[column]), "" if entry[column] is None else entry[column]]
        for share in ("production_share", "shrinkage_share"):
            value = entry[share]
            text = "" if value is None else f"{value:.4f}"
            line.append(text.replace(".", ",") if decimal_comma else text)
        line += [entry["pauses"], entry["corrections"], entry["late_events"]]
        writer.writerow(line)
    return "\ufeff" + buffer.getvalue()


def parse_period(first: str, last: str, zone: str, day_starts_at: str = "00:00") -> Period:
    try:
        start = date.fromisoformat(first)
        end = date.fromisoformat(last)
    except ValueError:
        raise DirectoryError("dates are like 2026-11-27") from None
    if end < start:
        raise DirectoryError("--to is before --from")
    if end - start > timedelta(days=366):
        raise DirectoryError("a report covers at most a year")
    try:
        tz = ZoneInfo(zone)
    except (ValueError, KeyError):
        raise DirectoryError(f"unknown time zone {zone!r}") from None
    try:
        starts = time.fromisoformat(day_starts_at)
    except ValueError:
        raise DirectoryError("the day start is like 06:00") from None
    return Period(start, end, tz, starts)


class DayKeeper:
    """A server's background thread that works out each settled day ahead of the reports
    (app.server.figures): the first month report after a day ends reads kept days rather
    than walking the month's events. Every `every_s`, the last `days` site days up to
    yesterday, for everyone — starting `start_after_s` after the server (its start-up
    traffic first), a few people at a time with a pause between (the requests keep their
    share of the machine)."""

    def __init__(
        self,
        engine: Engine,
        zone: ZoneInfo,
        *,
        days: int = 62,
        every_s: float = 600.0,
        start_after_s: float = 30.0,
        group: int = 10,
        pause_s: float = 0.1,
        clock: NowMs = system_now_ms,
    ) -> None:
        self.engine, self.zone, self.days, self.every_s = engine, zone, days, every_s
        self.start_after_s, self.group, self.pause_s = start_after_s, group, pause_s
        self.clock = clock
        self.rounds = 0  # finished rounds (tests wait on it)
        self.done = threading.Event()  # set at the end of each round
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bandeau-day-keeper", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(30)

    def keep_once(self) -> None:
        """One round: every person's settled days of the window, kept."""
        now = self.clock()
        today = day_of(now, self.zone)
        period = Period(today - timedelta(days=self.days), today - timedelta(days=1), self.zone)
        with self.engine.connect() as conn:
            people = list(
                conn.execute(select(m.people.c.id).where(m.people.c.disabled.is_(False))).scalars()
            )
        for n in range(0, len(people), self.group):
            if self._stop.is_set():
                return
            compute(self.engine, period=period, now_ms=now, person_ids=people[n : n + self.group])
            self._stop.wait(self.pause_s)  # let the requests in

    def _run(self) -> None:
        self._stop.wait(self.start_after_s)
        while not self._stop.is_set():
            try:
                self.keep_once()
            except Exception:  # the store may be away for a while: try again next round
                log.exception("keeping the days' figures failed")
            self.rounds += 1
            self.done.set()
            self._stop.wait(self.every_s)
