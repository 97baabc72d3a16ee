"""Taking in a batch of events: validate each one, insert new ones once, acknowledge.

Plain Python on a SQLAlchemy connection; the HTTP layer only parses the envelope. The rules:
- each event is checked on its own; a bad one is rejected with a reason and never blocks the
  others;
- the insert ignores conflicts (`ON CONFLICT DO NOTHING`) on `uuid` and `(device_id, seq)`;
- after the commit, every uuid that is in the store is acknowledged, new or duplicate; an
  event whose `(device_id, seq)` is taken by another uuid is rejected.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

from sqlalchemy import Engine, bindparam, select
from sqlalchemy.engine import Connection

from app.server import models as m
from app.server.access import Person
from app.server.db import DriverQuery, driver_rows, transaction_memo
from app.server.purged import purged_before_cached
from app.server.schemas import MAX_INT, NOTE_MAX, NUL

FUTURE_TOLERANCE_MS = 5 * 60 * 1000
# The oldest an event may be when it reaches the store: a PC offline for a year still
# delivers its days; anything older is a broken clock or a forged event (and would reach
# into months already reported on).
MAX_AGE_MS = 400 * 24 * 3600 * 1000
# An event is late when it reaches the store more than this after it happened (a PC that
# was offline, a bar left closed): it counts — it is real — but it is flagged, in the
# exports, the reports' rows and the audit trail, and the lead's panel says so: a settled
# day or month never changes silently.
LATE_AFTER_MS = 24 * 3600 * 1000
_FIELDS = {
    "uuid": str,
    "device_id": str,
    "seq": int,
    "agent": str,
    "kind": str,
    "occurred_at_ms": int,
    "tz": str,
    "utc_offset_s": int,
    "monotonic_ms": int,
}
_OPTIONAL = {"activity": str, "key": str, "note": str, "clock_jump_ms": int}
_ALLOWED = frozenset(_FIELDS) | frozenset(_OPTIONAL)
_REQUIRED = tuple(_FIELDS.items())
_MAYBE = tuple(_OPTIONAL.items())
# The fast path's check of every field's type at once (a batch of 100 is checked on the
# store's one writer thread: each microsecond per event counts).
_REQUIRED_NAMES = tuple(_FIELDS)
_REQUIRED_TYPES = tuple(_FIELDS.values())
_OPTIONAL_NAMES = tuple(_OPTIONAL)  # activity, key, note, clock_jump_ms: unpacked so below


Row = tuple[Any, ...]  # an event's values, in _COLUMNS' order (the uuid first)


def is_late(received_at_ms: int, occurred_at_ms: int) -> bool:
    return received_at_ms - occurred_at_ms > LATE_AFTER_MS


@dataclass(slots=True)
class BatchResult:
    accepted: list[str]
    rejected: list[dict[str, str]]
    new: int


# \Z, not $: "$" would also take the string with a newline after it.
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")


def _check_uuid(value: str, field: str) -> str:
    """A UUID in canonical form (a regex: uuid.UUID() costs more than the insert itself)."""
    lowered = value.lower()
    if not UUID_RE.match(lowered):
        raise ValueError(f"{field}: not a UUID in canonical form")
    return lowered


def check_event(
    raw: Any,
    person: Person,
    activities: dict[str, tuple[int, int]],
    *,
    now_ms: int,
    offset_ms: int,
    device_id: str | None = None,
    purged_before: int | None = None,
) -> Row:
    """One event as a row to insert (its values in `_COLUMNS`' order), or ValueError naming
    the field that is wrong.
    `device_id`: the one device the sender's token may send for (None: any);
    `purged_before`: the store purged its events before this (retention)."""
    if not isinstance(raw, dict):
        raise ValueError("an event is a JSON object")
    if not raw.keys() <= _ALLOWED:
        raise ValueError(f"{sorted(raw.keys() - _ALLOWED)[0]}: unknown field")
    # `type(v) is int`, not isinstance: JSON's true/false must not pass for numbers.
    if tuple(map(type, map(raw.get, _REQUIRED_NAMES))) != _REQUIRED_TYPES:
        for name, kind in _REQUIRED:
            value = raw.get(name)
            if type(value) is not kind:
                wrong = "missing" if value is None else f"expected {kind.__name__}"
                raise ValueError(f"{name}: {wrong}")
    activity_name, key, note, jump = map(raw.get, _OPTIONAL_NAMES)
    if (
        (activity_name is not None and type(activity_name) is not str)
        or (key is not None and type(key) is not str)
        or (note is not None and type(note) is not str)
        or (jump is not None and type(jump) is not int)
    ):
        for name, kind in _MAYBE:
            value = raw.get(name)
            if value is not None and type(value) is not kind:
                raise ValueError(f"{name}: expected {kind.__name__} or null")
    event_uuid = raw["uuid"]
    if not UUID_RE.match(event_uuid):  # canonical already, as bars send them
        event_uuid = _check_uuid(event_uuid, "uuid")
    event_device = raw["device_id"]
    if event_device != device_id:  # the token's own device, already checked
        event_device = _check_uuid(event_device, "device_id")
    if device_id is not None and event_device != device_id:
        raise ValueError("device_id: not the device this token was signed in on")
    if raw["agent"] != person.login:
        raise ValueError("agent: events can only be sent by the agent they belong to")
    if raw["kind"] not in m.KINDS:
        raise ValueError(f"kind: {raw['kind']!r} is not one of {', '.join(m.KINDS)}")
    if key is not None and key not in m.KEYS:
        raise ValueError(f"key: {key!r} is not one of production, pause, off")
    if raw["kind"] == "status" and key is None:
        raise ValueError("key: a status event needs a key")
    if note is not None and len(note) > NOTE_MAX:
        raise ValueError(f"note: longer than {NOTE_MAX} characters")
    if note is not None and NUL in note:
        raise ValueError("note: holds a NUL character (U+0000), which the store cannot keep")
    if not 1 <= raw["seq"] <= MAX_INT:
        raise ValueError("seq: must be from 1 to 2^53 - 1")
    if not 0 <= raw["monotonic_ms"] <= MAX_INT:
        raise ValueError("monotonic_ms: must be from 0 to 2^53 - 1")
    if jump is not None and abs(jump) > MAX_INT:
        raise ValueError("clock_jump_ms: out of range")
    if abs(raw["occurred_at_ms"]) > MAX_INT:
        raise ValueError("occurred_at_ms: out of range")
    if not -18 * 3600 <= raw["utc_offset_s"] <= 18 * 3600:
        raise ValueError("utc_offset_s: out of range")
    if len(raw["tz"]) > 64:
        raise ValueError("tz: too long")
    if NUL in raw["tz"]:
        raise ValueError("tz: holds a NUL character (U+0000), which the store cannot keep")
    corrected = raw["occurred_at_ms"] + offset_ms
    if corrected > now_ms + FUTURE_TOLERANCE_MS:
        raise ValueError(
            "occurred_at_ms: more than 5 minutes in the future, even after the clock correction"
        )
    if corrected < now_ms - MAX_AGE_MS:
        raise ValueError("occurred_at_ms: more than 400 days ago, even after the clock correction")
    if purged_before is not None and corrected < purged_before:
        raise ValueError("occurred_at_ms: before the store's retention period (its day is purged)")
    if activity_name is not None:
        found = activities.get(activity_name)
        if found is None:
            raise ValueError(f"activity: {activity_name!r} is not an activity of your plateaux")
        activity_id, plateau_id = found
    else:
        if not person.plateau_ids:
            raise ValueError("activity: missing, and you belong to no plateau")
        activity_id, plateau_id = None, person.plateau_ids[0]
    return (  # in _COLUMNS' order
        event_uuid,
        event_device,
        raw["seq"],
        person.id,
        plateau_id,
        activity_id,
        raw["kind"],
        key,
        raw["occurred_at_ms"],
        now_ms,
        corrected,
        offset_ms,
        raw["tz"],
        raw["utc_offset_s"],
        raw["monotonic_ms"],
        jump,
        note,
    )


@functools.cache
def _activities_query(plateaux: int) -> DriverQuery:
    """The activities of `plateaux` plateaux (their ids as p0, p1…), first plateau first."""
    return DriverQuery(
        select(m.activities.c.name, m.activities.c.id, m.activities.c.plateau_id)
        .where(m.activities.c.plateau_id.in_([bindparam(f"p{i}") for i in range(plateaux)]))
        .order_by(m.activities.c.plateau_id)
    )


def activities_of(conn: Connection, person: Person) -> dict[str, tuple[int, int]]:
    """Activity name → (activity id, plateau id), over the person's plateaux; read once a
    transaction for each set of plateaux (a writer's group of batches: an agent's
    plateau-mates' batches share the read, one round trip less each on PostgreSQL)."""
    if not person.plateau_ids:
        return {}
    plateau_ids = tuple(person.plateau_ids)
    memo = transaction_memo(conn, "bandeau.activities")
    known: dict[str, tuple[int, int]] | None = memo.get(plateau_ids)
    if known is None:
        known = memo[plateau_ids] = _read_activities(conn, plateau_ids)
    return known


def _read_activities(conn: Connection, plateau_ids: tuple[int, ...]) -> dict[str, tuple[int, int]]:
    query = _activities_query(len(plateau_ids))
    rows = query.rows(conn, {f"p{i}": p for i, p in enumerate(plateau_ids)})
    found: dict[str, tuple[int, int]] = {}
    for name, activity_id, plateau_id in rows:
        found.setdefault(str(name), (int(activity_id), int(plateau_id)))
    return found


# An event's columns as inserted, with their PostgreSQL array type (app.server.models.events).
_INSERTED = (
    ("uuid", "text"),
    ("device_id", "text"),
    ("seq", "bigint"),
    ("person_id", "integer"),
    ("plateau_id", "integer"),
    ("activity_id", "integer"),
    ("kind", "text"),
    ("key", "text"),
    ("client_at", "bigint"),
    ("received_at", "bigint"),
    ("corrected_at", "bigint"),
    ("clock_offset_ms", "bigint"),
    ("tz_name", "text"),
    ("utc_offset_s", "integer"),
    ("monotonic_ms", "bigint"),
    ("clock_jump_ms", "bigint"),
    ("note", "text"),
)
_COLUMNS = tuple(name for name, _ in _INSERTED)


def _insert_new(conn: Connection, rows: list[Row]) -> set[str]:
    """Insert the rows that are new, in one statement; return their uuids.

    Written as SQL with the driver's own placeholders and run on its cursor: building the
    same statement through SQLAlchemy's compiler costs more than the database's work for a
    batch of 100.
    """
    if conn.dialect.name == "postgresql":
        # One array per column: the same statement whatever the batch's size, 17 parameters
        # instead of 17 a row. psycopg converts a statement of more than 50 parameters
        # anew at every call (a fifth of the writer's thread during a herd, measured with
        # py-spy), and PostgreSQL parsed and planned each batch's VALUES list; this one is
        # converted once and, prepared, planned once.
        sql, params = _UNNEST_SQL, tuple(list(column) for column in zip(*rows, strict=True))
    else:
        sql, params = _insert_sql(len(rows)), tuple(chain.from_iterable(rows))
    return {str(u) for (u,) in driver_rows(conn, sql, params)}


@functools.lru_cache(maxsize=256)
def _insert_sql(count: int) -> str:
    one = "(" + ", ".join(["?"] * len(_COLUMNS)) + ")"
    return (  # only constant names and placeholders: the values go as parameters
        f"INSERT INTO events ({', '.join(_COLUMNS)}) VALUES "  # noqa: S608
        + ", ".join([one] * count)
        + " ON CONFLICT DO NOTHING RETURNING uuid"
    )


_UNNEST_SQL = (  # only constant names and types: the values go as parameters
    f"INSERT INTO events ({', '.join(_COLUMNS)}) SELECT * FROM unnest("  # noqa: S608
    + ", ".join(f"%s::{kind}[]" for _, kind in _INSERTED)
    + ") ON CONFLICT DO NOTHING RETURNING uuid"
)


def ingest(
    engine: Engine,
    person: Person,
    events: Sequence[Any],
    *,
    now_ms: int,
    offset_ms: int,
    device_id: str | None = None,
) -> BatchResult:
    """Check, insert (once) and acknowledge a batch. Commits before returning."""
    with engine.begin() as conn:
        return ingest_on(
            conn, person, events, now_ms=now_ms, offset_ms=offset_ms, device_id=device_id
        )


def first_device(events: Sequence[Any]) -> str | None:
    """The device id the first event names, if it is one (a token not yet bound to a
    device is bound to it)."""
    first = events[0] if events else None
    named = first.get("device_id") if isinstance(first, dict) else None
    if isinstance(named, str) and UUID_RE.match(named.lower()):
        return named.lower()
    return None


def ingest_on(
    conn: Connection,
    person: Person,
    events: Sequence[Any],
    *,
    now_ms: int,
    offset_ms: int,
    device_id: str | None = None,
) -> BatchResult:
    """`ingest` inside the caller's transaction: the acknowledgement it returns holds only
    once the caller has committed."""
    rejected: list[dict[str, str]] = []
    rows: list[Row] = []
    known = activities_of(conn, person)
    floor = purged_before_cached(conn)
    seen: set[str] = set()
    for raw in events:
        ident = raw.get("uuid") if isinstance(raw, dict) else None
        ident = ident if isinstance(ident, str) else ""
        try:
            row = check_event(
                raw,
                person,
                known,
                now_ms=now_ms,
                offset_ms=offset_ms,
                device_id=device_id,
                purged_before=floor,
            )
        except ValueError as exc:
            rejected.append({"uuid": ident, "reason": str(exc)})
            continue
        if row[0] in seen:  # its uuid
            continue  # the same event twice in one batch: one insert, one ack
        seen.add(row[0])
        rows.append(row)
    new = 0
    stored: set[str] = set()
    if rows:
        # One INSERT for the whole batch; RETURNING names the rows that were new.
        # The others are either the same events again (acknowledged) or another event's
        # (device, seq) (rejected): only those few are looked up.
        inserted = _insert_new(conn, rows)
        new = len(inserted)
        stored = set(inserted)
        others = [r[0] for r in rows if r[0] not in inserted]
        if others:
            stored.update(
                str(u)
                for u in conn.execute(
                    # Another person's event is never acknowledged to this one.
                    select(m.events.c.uuid).where(
                        m.events.c.uuid.in_(others), m.events.c.person_id == person.id
                    )
                ).scalars()
            )
    accepted = [r[0] for r in rows if r[0] in stored]
    for r in rows:
        if r[0] not in stored:
            rejected.append(
                {
                    "uuid": r[0],
                    "reason": "seq: this device already sent another event with this "
                    "sequence number (or the uuid is another's)",
                }
            )
    return BatchResult(accepted=accepted, rejected=rejected, new=new)
