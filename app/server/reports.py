"""Reports: the indicators of a plateau (or one agent) over a period, from the store.

The computation is app.domain.indicators (pure); this module only reads the rows it needs
and shapes the result as rows for JSON or CSV.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, select

from app.domain.events import Key, Kind
from app.domain.indicators import (
    Indicators,
    Record,
    by_day,
    corrected,
    day_bounds,
    indicators,
    timeline,
)
from app.server import corrections
from app.server import models as m
from app.server.directory import DirectoryError

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
) -> list[dict[str, Any]]:
    """One row per agent × day × activity (the finest grain), each with its figures —
    with the corrections applied, or as `original`ly recorded."""
    start, end = period.bounds()
    e, p, a = m.events, m.people, m.activities
    with engine.connect() as conn:
        who = select(p.c.id, p.c.login, p.c.name).where(p.c.disabled.is_(False))
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
        last_seen = dict(
            conn.execute(
                select(m.presence.c.person_id, func.max(m.presence.c.last_seen_at))
                .where(m.presence.c.person_id.in_(list(people)))
                .group_by(m.presence.c.person_id)
            ).all()
        )
        records: dict[int, list[Record]] = {pid: [] for pid in people}
        query = (
            select(
                e.c.person_id,
                e.c.uuid,
                e.c.device_id,
                e.c.seq,
                e.c.kind,
                e.c.key,
                e.c.corrected_at,
                a.c.name,
            )
            .outerjoin(a, a.c.id == e.c.activity_id)
            .where(
                e.c.person_id.in_(list(people)),
                e.c.corrected_at >= start - LOOKBACK_MS,
                e.c.corrected_at < end,
            )
        )
        fixes = {} if original else corrections.for_people(conn, people, start - LOOKBACK_MS, end)
        kinds = {k.value: k for k in Kind}
        keys = {k.value: k for k in Key} | {None: None}
        for pid, uuid, device, seq, kind, key, at, activity in conn.execution_options(
            yield_per=5000
        ).execute(query):
            records[pid].append(Record(uuid, device, seq, kinds[kind], at, keys[key], activity))
    rows: list[dict[str, Any]] = []
    for pid, (login, name) in sorted(people.items(), key=lambda item: item[1][0]):
        threshold_ms = int(thresholds.get(pid) or m.DEFAULT_PAUSE_THRESHOLD_S) * 1000
        spans = timeline(records[pid], now_ms=min(now_ms, end), last_sign_ms=last_seen.get(pid))
        if fixes.get(pid):
            spans = corrected(spans, fixes[pid])
        theirs = 0
        for day, day_spans in sorted(by_day(spans, period.zone, period.day_starts_at).items()):
            if not period.first <= day <= period.last:
                continue
            per = indicators(day_spans, pause_threshold_ms=threshold_ms)
            for activity, figures in sorted(per.items(), key=lambda kv: kv[0] or ""):
                rows.append(
                    {"agent": login, "name": name, "day": day, "activity": activity, "f": figures}
                )
                theirs += 1
        if not theirs:  # nobody disappears from a report: a row of zeros, in the agent view
            rows.append({"agent": login, "name": name, "day": None, "activity": None, "f": None})
    return rows


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
        group = groups.setdefault(key, {"key": key, "f": Indicators(), "name": row["name"]})
        if row["f"] is not None:
            group["f"].add(row["f"])
    out = []
    for key, group in sorted(groups.items(), key=lambda kv: str(kv[0] or "")):
        entry: dict[str, Any] = {"f": group["f"]}
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
            k: (v.isoformat() if isinstance(v, date) else v) for k, v in row.items() if k != "f"
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
        out.append(entry)
    return out


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def hms(seconds: int | None) -> str:
    if seconds is None:
        return ""
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def to_csv(rows: list[dict[str, Any]], *, separator: str = ",", decimal_comma: bool = False) -> str:
    """CSV that opens right in Excel: UTF-8 with a BOM; `;` and a decimal comma for French
    settings; every duration both as h:mm:ss and as seconds."""
    data = as_dicts(rows)
    ident: list[str] = [k for k in ("agent", "name", "day", "activity") if data and k in data[0]]
    durations = [f"{n}_s" for n, _ in _FIGURES] + [
        "average_pause_s",
        "longest_pause_s",
        "over_threshold_s",
    ]
    header: list[str] = list(ident)
    for column in durations:
        header += [column.removesuffix("_s"), column]
    header += ["production_share", "shrinkage_share", "pauses", "corrections"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=separator, lineterminator="\r\n")
    writer.writerow(header)
    for entry in data:
        line: list[Any] = [entry.get(k) or "" for k in ident]
        for column in durations:
            line += [hms(entry[column]), "" if entry[column] is None else entry[column]]
        for share in ("production_share", "shrinkage_share"):
            value = entry[share]
            text = "" if value is None else f"{value:.4f}"
            line.append(text.replace(".", ",") if decimal_comma else text)
        line += [entry["pauses"], entry["corrections"]]
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
