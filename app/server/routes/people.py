"""Who one is: their person and plateaux, their password, all their data; the version."""

from __future__ import annotations

import functools
import logging
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from fastapi import Request, Response
from sqlalchemy import Engine, select
from starlette.concurrency import run_in_threadpool

from app import __version__
from app.server import auth, corrections, directory, export, migrate
from app.server import models as m
from app.server.access import Person
from app.server.deps import Clock, Config, CurrentPerson, Reader, Store, Token
from app.server.errors import ApiError, locked
from app.server.routes.common import client_address, json_response, make_router
from app.server.schemas import (
    Me,
    MyData,
    PasswordChange,
    PasswordChanged,
    Version,
)
from app.server.security import MIN_PASSWORD_CHARS, WeakPassword

log = logging.getLogger("bandeau.server")
router = make_router("people")


@router.post("/v1/me/password")
async def change_password(  # noqa: PLR0917 - FastAPI passes each dependency by name
    body: PasswordChange,
    request: Request,
    engine: Store,
    person: CurrentPerson,
    token: Token,
    clock: Clock,
) -> PasswordChanged:
    """A person changes their own password (a one-time one first of all): the current one
    is checked as a sign-in is, and counts towards the same lockout; their other tokens are
    revoked, this one stays."""
    try:
        revoked = await run_in_threadpool(
            functools.partial(
                auth.change_password,
                engine,
                person,
                token,
                current=body.current,
                new=body.new,
                address=client_address(request),
                now_ms=clock(),
            )
        )
    except auth.SignInRefused as exc:
        if exc.locked_for_s:
            raise locked(exc.locked_for_s) from None
        raise ApiError(
            403, "current: not the current password", "current", code="wrong_password"
        ) from None
    except WeakPassword as exc:
        raise ApiError(
            422, f"new: {exc}", "new", code="weak_password", params={"min": MIN_PASSWORD_CHARS}
        ) from None
    return PasswordChanged(changed=True, other_tokens_revoked=revoked)


@router.get("/v1/me/data", response_model=MyData)
def my_data(engine: Reader, person: CurrentPerson, config: Config, clock: Clock) -> Response:
    """All of the person's own data, as JSON: their events, the corrections of their time
    (who made them and why), their late arrivals, their PCs' last heartbeats."""
    me = describe(engine, person)
    rows = list(export.export_events(engine, person_ids=[person.id], zone=config.zone))
    with engine.connect() as conn:
        fixes = corrections.audit(conn, person_ids=[person.id])
        late = export.late_arrivals(conn, zone=ZoneInfo(config.zone), person_ids=[person.id])
        devices = [
            {
                "device_id": row.device_id,
                "last_seen_at_ms": row.last_seen_at,
                "state": _state(row.state),
                "pending": row.pending,
            }
            for row in conn.execute(select(m.presence).where(m.presence.c.person_id == person.id))
        ]
    return json_response(
        {
            "person": me["person"],
            "plateaux": [p["name"] for p in me["plateaux"]],
            "events": rows,
            "corrections": fixes,
            "late_arrivals": late,
            "devices": devices,
            "exported_at_ms": clock(),
        }
    )


def _state(text: str) -> dict[str, Any]:
    try:
        found = orjson.loads(text)
    except orjson.JSONDecodeError:
        return {}
    return found if isinstance(found, dict) else {}


@router.get("/v1/me")
def me(engine: Reader, person: CurrentPerson) -> Me:
    return Me.model_validate(describe(engine, person))


@router.get("/v1/version")
def version(person: CurrentPerson) -> Version:
    del person
    return Version(version=__version__, api="v1", schema=migrate.head())


def describe(engine: Engine, person: Person) -> dict[str, Any]:
    """Who the person is, and their plateaux' activities, keys and thresholds."""
    with engine.connect() as conn:
        plateaux = directory.describe_plateaux(conn, person.plateau_ids)
    return {
        "person": {
            "login": person.login,
            "name": person.name,
            "role": person.role,
            "must_change_password": person.must_change_password,
        },
        "plateaux": plateaux,
    }
