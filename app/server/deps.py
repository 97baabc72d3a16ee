"""The routes' dependencies, typed: the store, the clock, the settings, the live hub, the
bearer token and the person it belongs to.

Everything lives on `app.state` (set by the app's lifespan): one app per process, and tests
make as many as they like, each with its own store and clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from app.server import auth, live, writer
from app.server.access import Person
from app.server.clock import NowMs, system_now_ms
from app.server.errors import BEARER, ApiError, bad_token
from app.server.health import WriteHealth

DEFAULT_ZONE = "Europe/Paris"


@dataclass(frozen=True, slots=True)
class ServerConfig:
    db_url: str
    migrate_on_start: bool = True
    zone: str = DEFAULT_ZONE  # the site's time zone: what "today" means on the panel
    live_poll_s: float = live.POLL_S
    keepalive_s: float = 15.0
    keep_days: int = 62  # the settled days worked out ahead of reports (0: none)
    keep_every_s: float = 600.0
    clock: NowMs = system_now_ms  # every "now" of the service (tests run it from another day)
    # Days of events, corrections and heartbeats kept (0: all); purged once a day, each
    # day's figures kept (app.server.retention). `forget_names`: gone people are erased.
    retention_days: int = 0
    forget_names: bool = False
    # With several worker processes: only one runs the background jobs, and each says
    # which it is (the X-Bandeau-Worker header) for the one who reads the logs.
    background_jobs: bool = True
    worker: int | None = None
    # Load shedding (app.server.writer): a write that would wait longer is refused (503).
    shed_after_s: float = writer.SHED_AFTER_S
    shed_light_after_s: float = writer.SHED_LIGHT_AFTER_S
    # The store has its process to itself (`serve`): the garbage collector is tuned for it
    # once started (app.server.api.GC_THRESHOLDS). Not in a process it shares (the demo's,
    # a test's), whose other objects are not the store's to freeze.
    own_process: bool = False


# `async def` for the cheap ones: FastAPI runs a plain `def` dependency on a worker thread.


async def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


async def _config(request: Request) -> ServerConfig:
    config: ServerConfig = request.app.state.config
    return config


async def _clock(request: Request) -> NowMs:
    config: ServerConfig = request.app.state.config
    return config.clock


async def _reader(request: Request) -> Engine:
    engine: Engine = request.app.state.reader
    return engine


async def _writer(request: Request) -> writer.Writer:
    found: writer.Writer = request.app.state.writer
    return found


async def _hub(request: Request) -> live.LiveHub:
    hub: live.LiveHub = request.app.state.hub
    return hub


async def _writes(request: Request) -> WriteHealth:
    writes: WriteHealth = request.app.state.writes
    return writes


_BEARER = HTTPBearer(auto_error=False, description="the token that /v1/signin gave")


def _no_token() -> ApiError:
    return ApiError(401, "a bearer token is needed", headers=BEARER, code="token_needed")


async def _token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)],
) -> str:
    if credentials is None:
        raise _no_token()
    return credentials.credentials


def bearer_token(authorization: bytes | None) -> str:
    """The token of an Authorization header, read as `_token` reads it (HTTPBearer's rule),
    for the call served outside FastAPI's routing (app.server.api.FastEvents)."""
    scheme, credentials = get_authorization_scheme_param(
        None if authorization is None else authorization.decode("latin-1")
    )
    if not (scheme and credentials) or scheme.lower() != "bearer":
        raise _no_token()
    return credentials


Store = Annotated[Engine, Depends(_engine)]
Reader = Annotated[Engine, Depends(_reader)]
"""The store for reads that must not wait for writers (see `db.make_engine`)."""
StoreWriter = Annotated[writer.Writer, Depends(_writer)]
Config = Annotated[ServerConfig, Depends(_config)]
Clock = Annotated[NowMs, Depends(_clock)]
Hub = Annotated[live.LiveHub, Depends(_hub)]
Writes = Annotated[WriteHealth, Depends(_writes)]
Token = Annotated[str, Depends(_token)]


# What a person whose password is a one-time one may do until they change it.
PASSWORD_CHANGE_CALLS = frozenset(
    {"/v1/me", "/v1/me/password", "/v1/me/data", "/v1/version", "/v1/signout"}
)


def check_may_act(person: Person, path: str) -> None:
    if person.must_change_password and path not in PASSWORD_CHANGE_CALLS:
        raise ApiError(
            403,
            "this password was handed over by an admin: change it first (POST /v1/me/password)",
            code="password_change_needed",
        )


async def token_owner(
    reader: Engine, writes: writer.Writer, token: str, now_ms: int
) -> auth.TokenOwner | None:
    """The token's owner, read alongside the writers; its `last_used_at` refreshed through
    the writer (at most once a minute per token, and not a durable write)."""
    owner = await run_in_threadpool(auth.read_token, reader, token, now_ms=now_ms)
    if owner is not None and owner.touch_due:
        token_id = owner.token_id
        await writes.run(lambda conn: auth.touch(conn, token_id, now_ms), durable=False)
    return owner


async def _person(
    request: Request, reader: Reader, writes: StoreWriter, token: Token, clock: Clock
) -> Person:
    owner = await token_owner(reader, writes, token, clock())
    if owner is None:
        raise bad_token()
    check_may_act(owner.person, request.url.path)
    return owner.person


CurrentPerson = Annotated[Person, Depends(_person)]


async def _owner(
    request: Request, reader: Reader, writes: StoreWriter, token: Token, clock: Clock
) -> auth.TokenOwner:
    owner = await token_owner(reader, writes, token, clock())
    if owner is None:
        raise bad_token()
    check_may_act(owner.person, request.url.path)
    return owner


TokenOwner = Annotated[auth.TokenOwner, Depends(_owner)]
"""The person and the device their token is bound to."""
