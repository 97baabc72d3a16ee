"""Sign-in (with lockout) and token checks. All state lives in the database."""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, any_, bindparam, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from app.server import models as m
from app.server.access import Person
from app.server.clock import system_now_ms
from app.server.db import DriverQuery, transaction_memo
from app.server.security import (
    WeakPassword,
    check_password_rules,
    hash_password,
    needs_rehash,
    new_token,
    token_hash,
    verify_password,
)
from app.server.writer import Writer

# Password checks run on threads of their own, as many as the cores less one, at a lower
# scheduling priority: each takes a core for tens of milliseconds, and a wave of sign-ins
# must not take the CPU from the clicks' batches (the event loop, the database). A sign-in
# waits a little longer under load; a click does not.
PASSWORD_THREADS = max(1, (os.cpu_count() or 2) - 1)
PASSWORD_NICENESS = 10
# Sign-ins on request threads at once (the route's limiter): a few per password thread; more
# would only hold threads, which every token check needs, while waiting for the pool.
SIGN_IN_THREADS = PASSWORD_THREADS * 4


def _lower_priority() -> None:
    """Run this thread at a lower priority (Linux: niceness is per thread; elsewhere, as
    the system allows — Windows keeps the normal priority)."""
    setpriority = getattr(os, "setpriority", None)
    native_id = threading.get_native_id()
    if setpriority is not None and sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            current = os.getpriority(os.PRIO_PROCESS, native_id)
            setpriority(os.PRIO_PROCESS, native_id, max(current, PASSWORD_NICENESS))


_PASSWORD_POOL = ThreadPoolExecutor(
    max_workers=PASSWORD_THREADS, thread_name_prefix="password", initializer=_lower_priority
)

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


def _person(conn: Connection, row: Any) -> Person:
    person_id = int(row["id"])
    plateau_ids = tuple(
        int(p)
        for p in conn.execute(
            select(m.memberships.c.plateau_id)
            .where(m.memberships.c.person_id == person_id)
            .order_by(m.memberships.c.plateau_id)
        ).scalars()
    )
    return Person(
        person_id,
        str(row["login"]),
        str(row["name"]),
        str(row["role"]),
        plateau_ids,
        bool(row["must_change_password"]),
    )


def sign_in(
    engine: Engine,
    *,
    login: str,
    password: str,
    device_id: str | None,
    now_ms: int | None = None,
    address: str = "",
    writer: Writer | None = None,
) -> SignedIn:
    """A token for this login and password. Refusals are counted per login as typed and per
    `address` (the client's): MAX_FAILURES from one address lock that login there for
    LOCKOUT_MS, and nowhere else; an unknown login is counted and locked the same way, so
    that neither the answer nor its time tells whether a login exists (one password check
    on every path). It reads on `engine`; what came of it is written by `writer` when given
    (the store's, with `engine` its reader: on SQLite a log-in wave then never takes the
    write lock between the writer's groups — each sign-in took it four times, and a group's
    `BEGIN IMMEDIATE` slept in the busy handler meanwhile), else on `engine`, in a
    transaction of its own."""
    now = system_now_ms() if now_ms is None else now_ms
    login = login.strip().lower()[:64]
    address = address[:64]
    # Read, then check the password with no transaction open (the hash takes a while: no row
    # stays locked meanwhile), then write what came of it.
    failure = _failure(engine, login, address)
    if failure is not None and (failure["locked_until"] or 0) > now:
        _check(password, None)  # the same time as a real check
        raise SignInRefused("locked", locked_for_s=(failure["locked_until"] - now) // 1000 + 1)
    with engine.connect() as conn:
        row = conn.execute(select(m.people).where(m.people.c.login == login)).mappings().first()
    if row is None:
        _check(password, None)  # the same time as a real check
        good = False
    else:
        good = _check(password, row["password_hash"]) and not row["disabled"]
    # An older hash (scrypt, or weaker argon2 parameters) is replaced now that the password
    # is known good: worked out here, outside the transaction, like the check.
    rehashed = (
        _PASSWORD_POOL.submit(hash_password, password).result()
        if good and row and needs_rehash(row["password_hash"])
        else None
    )
    token = new_token()

    def record(conn: Connection) -> None:
        if not good:
            # Read again under the write lock: concurrent failures are all counted.
            _count_failure(conn, login, address, now, _failure(conn, login, address))
            return
        assert row is not None
        conn.execute(
            delete(m.signin_failures)
            .where(m.signin_failures.c.login == login)
            .where(m.signin_failures.c.address == address)
        )
        if rehashed is not None:
            conn.execute(
                update(m.people)
                .where(
                    m.people.c.id == row["id"],
                    m.people.c.password_hash == row["password_hash"],  # unchanged since
                )
                .values(password_hash=rehashed)
            )
        conn.execute(
            insert(m.tokens).values(
                person_id=row["id"],
                token_hash=token_hash(token),
                device_id=device_id,
                created_at=now,
                last_used_at=now,
            )
        )

    if writer is None:
        with engine.begin() as conn:
            record(conn)
    else:
        writer.submit(record).result()  # once committed
    if not good or row is None:
        reason = "unknown login" if row is None else "disabled" if row["disabled"] else ""
        raise SignInRefused(reason or "wrong password")
    with engine.connect() as conn:  # read after the check: its time tells nothing more
        return SignedIn(token, _person(conn, row))


def _check(password: str, stored: str | None) -> bool:
    return _PASSWORD_POOL.submit(verify_password, password, stored).result()


def _failure(where: Engine | Connection, login: str, address: str) -> Any | None:
    """The failures counted for (login, address), or None; locked for update inside a
    transaction."""
    query = (
        select(m.signin_failures)
        .where(m.signin_failures.c.login == login)
        .where(m.signin_failures.c.address == address)
    )
    if isinstance(where, Connection):
        return where.execute(query.with_for_update()).mappings().first()
    with where.connect() as conn:
        return conn.execute(query).mappings().first()


def _count_failure(
    conn: Connection, login: str, address: str, now: int, failure: Any | None
) -> None:
    """One more failure for (login, address); the MAX_FAILURES-th locks it. An upsert: two
    failures at once for a login never seen are both counted (no duplicate-key error)."""
    before = int(failure["failures"]) if failure is not None else 0
    failures = before + 1
    locked = now + LOCKOUT_MS if failures >= MAX_FAILURES else None
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    values = {"failures": 0 if locked else failures, "locked_until": locked, "last_at": now}
    stmt = dialect.insert(m.signin_failures).values(login=login, address=address, **values)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[m.signin_failures.c.login, m.signin_failures.c.address], set_=values
        )
    )


# A live token's row, one per plateau of its person (the token's digest left to the query).
_LIVE_TOKENS = (
    select(
        m.tokens.c.id,
        m.tokens.c.last_used_at,
        m.tokens.c.device_id,
        m.people.c.id,
        m.people.c.login,
        m.people.c.name,
        m.people.c.role,
        m.people.c.must_change_password,
        m.memberships.c.plateau_id,
    )
    .join(m.people, m.people.c.id == m.tokens.c.person_id)
    .outerjoin(m.memberships, m.memberships.c.person_id == m.people.c.id)
    .where(m.tokens.c.revoked_at.is_(None), m.people.c.disabled.is_(False))
)
# Built once: constructing the statement costs more than running it.
_TOKEN_QUERY = DriverQuery(
    _LIVE_TOKENS.where(m.tokens.c.token_hash == bindparam("digest")).order_by(
        m.memberships.c.plateau_id
    )
)


@functools.cache
def _tokens_query(dialect: str, count: int) -> DriverQuery:
    """`_TOKEN_QUERY` for several tokens at once (their digests as one array on PostgreSQL,
    as d0, d1… elsewhere), each row ending with its token's digest."""
    digest = m.tokens.c.token_hash
    if dialect == "postgresql":
        wanted = digest == any_(bindparam("digests"))
    else:
        wanted = digest.in_([bindparam(f"d{i}") for i in range(count)])
    return DriverQuery(
        _LIVE_TOKENS.add_columns(digest).where(wanted).order_by(digest, m.memberships.c.plateau_id)
    )


_PREFETCHED = "bandeau.tokens"  # a transaction memo: a token's rows by its digest


def prefetch_tokens(conn: Connection, tokens: list[str]) -> None:
    """The owners of `tokens` read in one query, for `token_on` in the same transaction (a
    store writer's group: app.server.writer's prelude); as checked as ever — read in the
    very transaction the jobs write in, never kept past it."""
    digests = sorted({token_hash(token) for token in tokens})
    if conn.dialect.name == "postgresql":
        rows = _tokens_query("postgresql", 0).rows(conn, {"digests": digests})
    else:
        params = {f"d{i}": d for i, d in enumerate(digests)}
        rows = _tokens_query(conn.dialect.name, len(digests)).rows(conn, params)
    found: dict[str, list[Any]] = {digest: [] for digest in digests}
    for row in rows:
        found[str(row[-1])].append(tuple(row[:-1]))
    transaction_memo(conn, _PREFETCHED).update(found)


@dataclass(frozen=True, slots=True)
class TokenOwner:
    """A live token: its person, and the device it is bound to (None: not yet)."""

    person: Person
    token_id: int
    device_id: str | None
    touch_due: bool = False  # read without a write: `last_used_at` is due for a refresh


def owner_of_token(engine: Engine, token: str, *, now_ms: int | None = None) -> TokenOwner | None:
    """`token_on` in a transaction of its own."""
    with engine.begin() as conn:
        return token_on(conn, token, now_ms=now_ms)


def read_token(engine: Engine, token: str, *, now_ms: int) -> TokenOwner | None:
    """The live token's owner, read without writing (a reads-only engine will do): when
    `touch_due`, the caller refreshes `last_used_at` with `touch`."""
    with engine.connect() as conn:
        return token_on(conn, token, now_ms=now_ms, touch=False)


def touch(conn: Connection, token_id: int, now_ms: int) -> None:
    conn.execute(update(m.tokens).where(m.tokens.c.id == token_id).values(last_used_at=now_ms))


def person_for_token(engine: Engine, token: str, *, now_ms: int | None = None) -> Person | None:
    """The person a live token belongs to, or None (unknown, revoked, or person disabled)."""
    owner = owner_of_token(engine, token, now_ms=now_ms)
    return None if owner is None else owner.person


def token_on(
    conn: Connection, token: str, *, now_ms: int | None = None, touch: bool = True
) -> TokenOwner | None:
    """The live token's owner inside the caller's transaction: one query (the token, its
    person and their plateaux) unless `prefetch_tokens` read it in this transaction, and
    `last_used_at` refreshed when it is due (with `touch`; otherwise `touch_due` says so).
    Checked on every request, never cached: a revocation holds at once, on every server
    process."""
    now = system_now_ms() if now_ms is None else now_ms
    digest = token_hash(token)
    rows = transaction_memo(conn, _PREFETCHED).get(digest)
    if rows is None:
        rows = _TOKEN_QUERY.rows(conn, {"digest": digest})
    if not rows:
        return None
    token_id, last_used, device_id, person_id, login, name, role, must_change, _p = rows[0]
    plateau_ids = tuple(int(r[8]) for r in rows if r[8] is not None)
    due = last_used is None or now - int(last_used) > TOUCH_EVERY_MS
    if due and touch:
        conn.execute(update(m.tokens).where(m.tokens.c.id == token_id).values(last_used_at=now))
    person = Person(
        int(person_id), str(login), str(name), str(role), plateau_ids, bool(must_change)
    )
    device = None if device_id is None else str(device_id)
    return TokenOwner(person, int(token_id), device, touch_due=due and not touch)


def device_of(conn: Connection, owner: TokenOwner, first_seen: str | None) -> str | None:
    """The device the token is bound to: the one it was signed in with, or else the first
    one it sends (bound then, once: of two requests at once, the first to commit wins)."""
    if owner.device_id is not None or first_seen is None:
        return owner.device_id
    conn.execute(
        update(m.tokens)
        .where(m.tokens.c.id == owner.token_id, m.tokens.c.device_id.is_(None))
        .values(device_id=first_seen)
    )
    bound = conn.execute(
        select(m.tokens.c.device_id).where(m.tokens.c.id == owner.token_id)
    ).scalar()
    return None if bound is None else str(bound)


def revoke(engine: Engine, token: str, *, now_ms: int | None = None) -> bool:
    now = system_now_ms() if now_ms is None else now_ms
    with engine.begin() as conn:
        result = conn.execute(
            update(m.tokens)
            .where(m.tokens.c.token_hash == token_hash(token), m.tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
    return bool(result.rowcount)


def change_password(
    engine: Engine,
    person: Person,
    token: str,
    *,
    current: str,
    new: str,
    address: str = "",
    now_ms: int | None = None,
) -> int:
    """A person changes their own password: `current` checked like a sign-in (its failures
    count towards the same lockout: a token left on an open PC does not let anyone try
    passwords), `new` held to the rules; their other tokens are revoked (this one stays).
    Returns how many were revoked. SignInRefused, or WeakPassword naming the rule."""
    now = system_now_ms() if now_ms is None else now_ms
    address = address[:64]
    failure = _failure(engine, person.login, address)
    if failure is not None and (failure["locked_until"] or 0) > now:
        raise SignInRefused("locked", locked_for_s=(failure["locked_until"] - now) // 1000 + 1)
    with engine.connect() as conn:
        stored = conn.execute(
            select(m.people.c.password_hash).where(m.people.c.id == person.id)
        ).scalar()
    if not _check(current, stored):
        with engine.begin() as conn:
            _count_failure(conn, person.login, address, now, _failure(conn, person.login, address))
        raise SignInRefused("wrong current password")
    check_password_rules(new)
    if new == current:
        raise WeakPassword("the new password must differ from the current one")
    digest = _PASSWORD_POOL.submit(hash_password, new).result()
    with engine.begin() as conn:
        conn.execute(
            update(m.people)
            .where(m.people.c.id == person.id)
            .values(password_hash=digest, must_change_password=False)
        )
        conn.execute(delete(m.signin_failures).where(m.signin_failures.c.login == person.login))
        result = conn.execute(
            update(m.tokens)
            .where(
                m.tokens.c.person_id == person.id,
                m.tokens.c.revoked_at.is_(None),
                m.tokens.c.token_hash != token_hash(token),
            )
            .values(revoked_at=now)
        )
    return int(result.rowcount)
