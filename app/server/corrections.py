"""Corrections in the store: who may fix whose time, recording them once, the audit trail.

- an agent fixes their own recent past (the last 7 days), never the future;
- a lead fixes the agents of their plateaux; an admin anyone;
- always with a reason; a correction is a new row, never an edit, and never removes the
  events it supersedes (reports can show the original).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, and_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import aliased

from app.domain.events import Key
from app.domain.indicators import Correction
from app.server import models as m
from app.server.ingest import Person

AGENT_WINDOW_MS = 7 * 24 * 3600 * 1000
FUTURE_TOLERANCE_MS = 5 * 60 * 1000
MAX_REASON = 200
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_FIELDS = {"uuid", "agent", "from_ms", "to_ms", "key", "activity", "off_shift", "reason"}


class CorrectionRefused(Exception):
    """Not valid, or not this person's to make; `field` names what is wrong, `code` (with
    `params`) says why for a client to word (the API's error codes)."""

    def __init__(
        self,
        status: int,
        message: str,
        field: str | None = None,
        *,
        code: str | None = None,
        **params: Any,
    ) -> None:
        super().__init__(message)
        self.status, self.field = status, field
        self.code = code or ("forbidden" if status == 403 else "invalid")
        self.params = params


@dataclass(frozen=True, slots=True)
class NewCorrection:
    uuid: str
    agent: str
    start_ms: int
    end_ms: int
    key: str | None
    activity: str | None
    off_shift: bool
    reason: str


def parse(body: Any) -> NewCorrection:
    if not isinstance(body, dict):
        raise CorrectionRefused(400, "expected a JSON object")
    unknown = set(body) - _FIELDS
    if unknown:
        raise CorrectionRefused(422, "unknown field", sorted(unknown)[0])
    uuid = body.get("uuid")
    if not isinstance(uuid, str) or not _UUID.match(uuid.lower()):
        raise CorrectionRefused(422, "uuid: a UUID in canonical form is needed", "uuid")
    for name in ("from_ms", "to_ms"):
        if type(body.get(name)) is not int:
            raise CorrectionRefused(422, f"{name}: a time in ms is needed", name)
    if body["to_ms"] <= body["from_ms"]:
        raise CorrectionRefused(422, "to_ms: must be after from_ms", "to_ms")
    key = body.get("key")
    if key is not None and key not in {k.value for k in Key}:
        raise CorrectionRefused(422, "key: production, pause, off or null", "key")
    reason = body.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise CorrectionRefused(422, "reason: a correction always says why", "reason")
    if len(reason.strip()) > MAX_REASON:
        raise CorrectionRefused(422, f"reason: {MAX_REASON} characters at most", "reason")
    agent, activity = body.get("agent"), body.get("activity")
    if not isinstance(agent, str) or not agent:
        raise CorrectionRefused(422, "agent: a login is needed", "agent")
    if activity is not None and not isinstance(activity, str):
        raise CorrectionRefused(422, "activity: a name or null", "activity")
    off_shift = body.get("off_shift", False)
    if not isinstance(off_shift, bool):
        raise CorrectionRefused(422, "off_shift: true or false", "off_shift")
    return NewCorrection(
        uuid.lower(),
        agent.strip().lower(),
        body["from_ms"],
        body["to_ms"],
        key,
        activity,
        off_shift,
        reason.strip(),
    )


def record(engine: Engine, author: Person, fix: NewCorrection, *, now_ms: int) -> dict[str, Any]:
    """Store `fix` by `author` (once: the same uuid again is a no-op); the stored row."""
    with engine.begin() as conn:
        target = conn.execute(
            select(m.people.c.id).where(
                m.people.c.login == fix.agent, m.people.c.disabled.is_(False)
            )
        ).scalar()
        if target is None:
            raise CorrectionRefused(
                422,
                f"agent: no one called {fix.agent!r}",
                "agent",
                code="unknown_person",
                login=fix.agent,
            )
        theirs = set(
            conn.execute(
                select(m.memberships.c.plateau_id).where(m.memberships.c.person_id == target)
            ).scalars()
        )
        if author.role == "agent":
            if target != author.id:
                raise CorrectionRefused(
                    403, "an agent corrects only their own time", "agent", code="not_own_time"
                )
            if fix.start_ms < now_ms - AGENT_WINDOW_MS:
                raise CorrectionRefused(
                    403,
                    "an agent corrects the last 7 days; ask your lead for older",
                    "from_ms",
                    code="correction_too_old",
                    days=AGENT_WINDOW_MS // 86_400_000,
                )
        elif author.role == "lead" and not theirs & set(author.plateau_ids):
            raise CorrectionRefused(
                403,
                "a lead corrects the agents of their plateaux",
                "agent",
                code="not_your_plateau",
            )
        if fix.end_ms > now_ms + FUTURE_TOLERANCE_MS:
            raise CorrectionRefused(
                422, "to_ms: a correction is about the past", "to_ms", code="in_the_future"
            )
        activity_id = None
        if fix.activity is not None:
            activity_id = conn.execute(
                select(m.activities.c.id).where(
                    m.activities.c.name == fix.activity, m.activities.c.plateau_id.in_(theirs)
                )
            ).scalar()
            if activity_id is None:
                raise CorrectionRefused(
                    422, f"activity: {fix.activity!r} is not theirs", "activity"
                )
        dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
        conn.execute(
            dialect.insert(m.corrections)
            .values(
                uuid=fix.uuid,
                person_id=target,
                author_id=author.id,
                start_at=fix.start_ms,
                end_at=fix.end_ms,
                key=fix.key,
                activity_id=activity_id,
                off_shift=fix.off_shift,
                reason=fix.reason,
                made_at=now_ms,
            )
            .on_conflict_do_nothing(index_elements=[m.corrections.c.uuid])
        )
        return audit(conn, uuids=[fix.uuid])[0]


def audit(
    conn: Connection,
    *,
    person_ids: Iterable[int] | None = None,
    plateau_ids: Iterable[int] | None = None,
    start_ms: int | None = None,
    end_ms: int | None = None,
    uuids: Iterable[str] | None = None,
    made_since: int | None = None,
) -> list[dict[str, Any]]:
    """The audit trail: who corrected whose time, when, what and why, oldest first."""
    c, agent, author, a = m.corrections, aliased(m.people), aliased(m.people), m.activities
    query = (
        select(
            c.c.uuid,
            agent.c.login.label("agent"),
            author.c.login.label("author"),
            c.c.start_at,
            c.c.end_at,
            c.c.key,
            a.c.name.label("activity"),
            c.c.off_shift,
            c.c.reason,
            c.c.made_at,
        )
        .join(agent, agent.c.id == c.c.person_id)
        .join(author, author.c.id == c.c.author_id)
        .outerjoin(a, a.c.id == c.c.activity_id)
        .order_by(c.c.made_at, c.c.id)
    )
    if person_ids is not None:
        query = query.where(c.c.person_id.in_(list(person_ids)))
    if plateau_ids is not None:
        members = select(m.memberships.c.person_id).where(
            m.memberships.c.plateau_id.in_(list(plateau_ids))
        )
        query = query.where(c.c.person_id.in_(members))
    if start_ms is not None and end_ms is not None:
        query = query.where(and_(c.c.end_at > start_ms, c.c.start_at < end_ms))
    if uuids is not None:
        query = query.where(c.c.uuid.in_(list(uuids)))
    if made_since is not None:
        query = query.where(c.c.made_at >= made_since)
    return [
        {
            "uuid": row.uuid,
            "agent": row.agent,
            "author": row.author,
            "from_ms": row.start_at,
            "to_ms": row.end_at,
            "key": row.key,
            "activity": row.activity,
            "off_shift": bool(row.off_shift),
            "reason": row.reason,
            "made_at_ms": row.made_at,
        }
        for row in conn.execute(query)
    ]


def for_people(
    conn: Connection, person_ids: Iterable[int], start_ms: int, end_ms: int
) -> dict[int, list[Correction]]:
    """The corrections touching [start_ms, end_ms), per person, as the domain reads them."""
    c, a = m.corrections, m.activities
    found: dict[int, list[Correction]] = {}
    rows = conn.execute(
        select(c, a.c.name.label("activity"))
        .outerjoin(a, a.c.id == c.c.activity_id)
        .where(c.c.person_id.in_(list(person_ids)), c.c.end_at > start_ms, c.c.start_at < end_ms)
    ).mappings()
    for row in rows:
        found.setdefault(row["person_id"], []).append(
            Correction(
                uuid=row["uuid"],
                start_ms=row["start_at"],
                end_ms=row["end_at"],
                key=Key(row["key"]) if row["key"] else None,
                author=str(row["author_id"]),
                reason=row["reason"],
                made_at_ms=row["made_at"],
                activity=row["activity"],
                off_shift=bool(row["off_shift"]),
            )
        )
    return found
