"""Corrections in the store: who may fix whose time, recording them once, the audit trail.

- an agent fixes their own recent past (the last 7 days), never the future;
- a lead fixes the agents of their plateaux; an admin anyone;
- always with a reason; a correction is a new row, never an edit, and never removes the
  events it supersedes (reports can show the original).
"""

from __future__ import annotations

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
from app.server.access import OutOfReach, Person, Unknown, person_in_reach
from app.server.purged import purged_before
from app.server.schemas import CorrectionIn

AGENT_WINDOW_MS = 7 * 24 * 3600 * 1000
FUTURE_TOLERANCE_MS = 5 * 60 * 1000


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


def from_request(body: CorrectionIn) -> NewCorrection:
    """A correction as asked (its fields already checked by the request's model), or
    CorrectionRefused for what a model cannot say."""
    if body.to_ms <= body.from_ms:
        raise CorrectionRefused(422, "to_ms: must be after from_ms", "to_ms")
    reason = body.reason.strip()
    if not reason:
        raise CorrectionRefused(422, "reason: a correction always says why", "reason")
    return NewCorrection(
        body.uuid.lower(),
        body.agent.strip().lower(),
        body.from_ms,
        body.to_ms,
        body.key,
        body.activity,
        body.off_shift,
        reason,
    )


def record(engine: Engine, author: Person, fix: NewCorrection, *, now_ms: int) -> dict[str, Any]:
    """Store `fix` by `author` (once: the same uuid again is a no-op); the stored row."""
    with engine.begin() as conn:
        try:
            # Reach first: an unknown login is refused as a colleague's would be.
            target = person_in_reach(conn, author, fix.agent)
        except OutOfReach as exc:
            code = "not_own_time" if author.role == "agent" else "not_your_plateau"
            message = (
                "an agent corrects only their own time"
                if author.role == "agent"
                else "a lead corrects the agents of their plateaux"
            )
            raise CorrectionRefused(403, message, exc.field, code=code) from None
        except Unknown as exc:
            raise CorrectionRefused(
                422, str(exc), exc.field, code="unknown_person", login=fix.agent
            ) from None
        disabled = conn.execute(select(m.people.c.disabled).where(m.people.c.id == target)).scalar()
        if disabled:
            raise CorrectionRefused(
                422, f"agent: {fix.agent!r} is disabled", "agent", code="person_disabled"
            )
        theirs = set(
            conn.execute(
                select(m.memberships.c.plateau_id).where(m.memberships.c.person_id == target)
            ).scalars()
        )
        if author.role == "agent" and fix.start_ms < now_ms - AGENT_WINDOW_MS:
            raise CorrectionRefused(
                403,
                "an agent corrects the last 7 days; ask your lead for older",
                "from_ms",
                code="correction_too_old",
                days=AGENT_WINDOW_MS // 86_400_000,
            )
        purged = purged_before(conn)
        if purged is not None and fix.start_ms < purged:
            raise CorrectionRefused(
                422,
                "from_ms: before the store's retention period (its events are purged)",
                "from_ms",
                code="purged",
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
        stored = audit(conn, uuids=[fix.uuid])[0]
        mine = (stored["agent"], stored["author"], stored["from_ms"], stored["to_ms"])
        if mine != (fix.agent, author.login, fix.start_ms, fix.end_ms):
            # The uuid is another correction's: say so, and show nothing of it.
            raise CorrectionRefused(
                409, "uuid: already the id of another correction", "uuid", code="uuid_taken"
            )
        return stored


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
