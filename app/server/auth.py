"""Sign-in (with lockout) and token checks. All state lives in the database."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, bindparam, insert, select, update
from sqlalchemy.engine import Connection

from app.server import models as m
from app.server.clock import system_now_ms
from app.server.ingest import Person
from app.server.security import new_token, token_hash, verify_password

MAX_FAILURES = 5
LOCKOUT_MS = 5 * 60 * 1000
TOUCH_EVERY_MS = 60_000  # last_used_at is refreshed at most this often (not on every batch)


class SignInRefused(Exception):
    """Wrong login or password, a disabled person, or a locked login; says which to no one
    but the log (the message to the client is always the same)."""

    def __init__(self, reason: str, *, locked_for_s: int = 0) -> None:
        super().__init__(reason)
        self.locked_for_s = locked_for_s


@dataclass(frozen=True, slots=True)
class SignedIn:
    token: str
    person: Person


def _person(conn: Connection, person_id: int, login: str, name: str, role: str) -> Person:
    plateau_ids = tuple(
        int(p)
        for p in conn.execute(
            select(m.memberships.c.plateau_id)
            .where(m.memberships.c.person_id == person_id)
            .order_by(m.memberships.c.plateau_id)
        ).scalars()
    )
    return Person(person_id, login, name, role, plateau_ids)


def sign_in(
    engine: Engine, *, login: str, password: str, device_id: str | None, now_ms: int | None = None
) -> SignedIn:
    now = system_now_ms() if now_ms is None else now_ms
    login = login.strip().lower()
    refusal: SignInRefused | None = None
    with engine.begin() as conn:
        row = (
            conn.execute(select(m.people).where(m.people.c.login == login).with_for_update())
            .mappings()
            .first()
        )
        if row is None:
            verify_password(password, None)  # same time as a real check
            raise SignInRefused("unknown login")
        if row["locked_until"] is not None and row["locked_until"] > now:
            verify_password(password, None)
            raise SignInRefused("locked", locked_for_s=(row["locked_until"] - now) // 1000 + 1)
        if not verify_password(password, row["password_hash"]) or row["disabled"]:
            failures = int(row["failed_logins"]) + 1
            locked = now + LOCKOUT_MS if failures >= MAX_FAILURES else None
            conn.execute(
                update(m.people)
                .where(m.people.c.id == row["id"])
                .values(failed_logins=0 if locked else failures, locked_until=locked)
            )
            # Raised after the commit: the failure must be counted, not rolled back.
            refusal = SignInRefused("disabled" if row["disabled"] else "wrong password")
        else:
            conn.execute(
                update(m.people)
                .where(m.people.c.id == row["id"])
                .values(failed_logins=0, locked_until=None)
            )
            token = new_token()
            conn.execute(
                insert(m.tokens).values(
                    person_id=row["id"],
                    token_hash=token_hash(token),
                    device_id=device_id,
                    created_at=now,
                    last_used_at=now,
                )
            )
            person = _person(conn, int(row["id"]), row["login"], row["name"], row["role"])
    if refusal is not None:
        raise refusal
    return SignedIn(token, person)


# Built once: constructing the statement costs more than running it.
_TOKEN_QUERY = (
    select(
        m.tokens.c.id,
        m.tokens.c.last_used_at,
        m.people.c.id,
        m.people.c.login,
        m.people.c.name,
        m.people.c.role,
        m.memberships.c.plateau_id,
    )
    .join(m.people, m.people.c.id == m.tokens.c.person_id)
    .outerjoin(m.memberships, m.memberships.c.person_id == m.people.c.id)
    .where(
        m.tokens.c.token_hash == bindparam("digest"),
        m.tokens.c.revoked_at.is_(None),
        m.people.c.disabled.is_(False),
    )
    .order_by(m.memberships.c.plateau_id)
)


def person_for_token(engine: Engine, token: str, *, now_ms: int | None = None) -> Person | None:
    """The person a live token belongs to, or None (unknown, revoked, or person disabled)."""
    with engine.begin() as conn:
        return person_on(conn, token, now_ms=now_ms)


def person_on(conn: Connection, token: str, *, now_ms: int | None = None) -> Person | None:
    """`person_for_token` inside the caller's transaction: one query (the token, its person
    and their plateaux), and `last_used_at` refreshed when it is due. Checked on every
    request, never cached: a revocation holds at once, on every server process."""
    now = system_now_ms() if now_ms is None else now_ms
    rows = conn.execute(_TOKEN_QUERY, {"digest": token_hash(token)}).all()
    if not rows:
        return None
    token_id, last_used, person_id, login, name, role, _plateau = rows[0]
    plateau_ids = tuple(int(r[6]) for r in rows if r[6] is not None)
    if last_used is None or now - int(last_used) > TOUCH_EVERY_MS:
        conn.execute(update(m.tokens).where(m.tokens.c.id == token_id).values(last_used_at=now))
    return Person(int(person_id), str(login), str(name), str(role), plateau_ids)


def revoke(engine: Engine, token: str, *, now_ms: int | None = None) -> bool:
    now = system_now_ms() if now_ms is None else now_ms
    with engine.begin() as conn:
        result = conn.execute(
            update(m.tokens)
            .where(m.tokens.c.token_hash == token_hash(token), m.tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
    return bool(result.rowcount)
