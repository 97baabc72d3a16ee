"""The HTTP service (FastAPI): an app factory; each route is a thin shell over plain functions.

(No `from __future__ import annotations` here: FastAPI reads the route annotations, some of
which are local to create_app.)

Versioned under /v1. Everything but /health needs a bearer token. Errors are JSON:
{"error": English, "code": stable, "field": ..., "params": {...}} with a 4xx status; never a
500 for bad input.
"""

import asyncio
import functools
import json
import logging
import time
import uuid as uuidlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any, NoReturn
from zoneinfo import ZoneInfo

import orjson
from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import __version__
from app.server import (
    auth,
    corrections,
    directory,
    export,
    heartbeats,
    ingest,
    live,
    migrate,
    reports,
)
from app.server import models as m
from app.server.clock import NowMs, system_now_ms
from app.server.db import make_engine
from app.server.directory import DirectoryError

log = logging.getLogger("bandeau.server")

MAX_BODY_BYTES = 1_000_000
MAX_READ = 10_000
_ENVELOPE = {"device_id", "sent_at_ms", "clock_offset_ms", "events"}
MAX_STATE_CHARS = 2000
# How long a batch may have taken from the PC to the store (queues and retries included),
# and how much a PC's declared clock offset may exceed this exchange's own measure
# (rounding, two clock reads).
MAX_TRAVEL_MS = 60_000
OFFSET_SLACK_MS = 1_000


@dataclass(frozen=True, slots=True)
class ServerConfig:
    db_url: str
    migrate_on_start: bool = True
    zone: str = "Europe/Paris"  # the site's time zone: what "today" means on the panel
    live_poll_s: float = live.POLL_S
    keepalive_s: float = 15.0
    keep_days: int = 62  # the settled days worked out ahead of reports (0: none)
    keep_every_s: float = 600.0
    clock: NowMs = system_now_ms  # every "now" of the service (tests run it from another day)


# The error code a status gets when the route gives none. Codes are stable: clients word
# them in their person's language (the English `error` is for logs and developers).
DEFAULT_CODES = {
    400: "bad_request",
    401: "token_invalid",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    422: "invalid",
    429: "too_many_requests",
    503: "store_unavailable",
}


class ApiError(Exception):
    """An answer other than 200: {"error": English, "code": stable, "field": the field at
    fault or null, "params": what the wording needs}."""

    def __init__(
        self,
        status: int,
        error: str,
        field: str | None = None,
        headers: dict[str, str] | None = None,
        *,
        code: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(error)
        self.status, self.error, self.field, self.headers = status, error, field, headers
        self.code = code or DEFAULT_CODES.get(status, "error")
        self.params = params or {}


def error_body(
    status: int, error: str, field: str | None = None, code: str | None = None, **params: Any
) -> dict[str, Any]:
    return {
        "error": error,
        "code": code or DEFAULT_CODES.get(status, "error"),
        "field": field,
        "params": params,
    }


def bearer_token(authorization: str | None) -> str:
    if not authorization or not authorization.lower().startswith("bearer "):
        raise ApiError(
            401,
            "a bearer token is needed",
            headers={"WWW-Authenticate": "Bearer"},
            code="token_needed",
        )
    return authorization[7:].strip()


def raise_bad_token() -> NoReturn:
    raise ApiError(
        401,
        "this token is not valid (revoked, expired or unknown)",
        headers={"WWW-Authenticate": "Bearer"},
    )


def _envelope(body: Any, received: int) -> tuple[list[Any], int]:
    """A batch's events and clock offset, or ApiError naming what is wrong."""
    if not isinstance(body, dict):
        raise ApiError(400, "expected a JSON object")
    unknown = set(body) - _ENVELOPE
    if unknown:
        raise ApiError(422, "unknown field", sorted(unknown)[0])
    events = body.get("events")
    if not isinstance(events, list):
        raise ApiError(422, "events: a list is needed", "events")
    if len(events) > ingest.MAX_BATCH:
        raise ApiError(413, f"events: at most {ingest.MAX_BATCH} per batch", "events")
    sent_at = body.get("sent_at_ms")
    if not isinstance(sent_at, int) or isinstance(sent_at, bool) or abs(sent_at) > ingest.MAX_INT:
        raise ApiError(422, "sent_at_ms: a whole number of milliseconds is needed", "sent_at_ms")
    offset = body.get("clock_offset_ms")
    # This exchange's own measure: the store's clock minus the PC's is at most what the
    # request took to arrive by the PC's word (received − sent ≥ the offset, the network's
    # delay being ≥ 0), and at least that minus the longest a request may have travelled.
    measured = received - sent_at
    if offset is None:
        offset = measured  # first exchange: the one-way estimate
    elif not isinstance(offset, int) or isinstance(offset, bool) or abs(offset) > ingest.MAX_INT:
        raise ApiError(422, "clock_offset_ms: a whole number is needed", "clock_offset_ms")
    # A PC may say how its clock stands (its NTP-style estimate is finer than one exchange),
    # but not against what this exchange shows: a declared offset is held within it.
    return events, min(max(offset, measured - MAX_TRAVEL_MS), measured + OFFSET_SLACK_MS)


def _sse(kind: str, data: Any) -> bytes:
    return b"event: " + kind.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


def json_response(content: Any, status_code: int = 200) -> Response:
    return Response(orjson.dumps(content), status_code, media_type="application/json")


class RequestIdAndLimits:
    """Pure ASGI middleware (no per-request task or stream wrapping): gives each request an
    id (kept from X-Request-ID if the client sent one), refuses bodies announced over the
    cap, and logs one JSON line per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = dict(scope["headers"])
        request_id = (
            headers.get(b"x-request-id", b"").decode("latin-1")[:64] or uuidlib.uuid4().hex[:16]
        )
        scope["request_id"] = request_id
        status = {"code": 500}
        id_header = (b"x-request-id", request_id.encode("latin-1"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message["headers"] = [*message.get("headers", []), id_header]
            await send(message)

        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
            too_big = JSONResponse(
                error_body(413, f"body larger than {MAX_BODY_BYTES} bytes", bytes=MAX_BODY_BYTES),
                status_code=413,
            )
            await too_big(scope, receive, send_with_id)
        else:
            await self.app(scope, receive, send_with_id)
        log.info(
            json.dumps(
                {
                    "request_id": request_id,
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status["code"],
                    "ms": round((time.perf_counter() - started) * 1000, 1),
                }
            )
        )


class WriteHealth:
    """Whether the store takes writes, as the last writes went: a full disk, a read-only
    file or an I/O error leaves reads working, and `/health` must not say "ok" then."""

    _WRITE_FAILURES = ("full", "no space", "readonly", "read-only", "i/o", "disk")

    def __init__(self) -> None:
        self.failing_since_ms: int | None = None
        self.reason = ""

    def failed(self, exc: BaseException, now_ms: int) -> None:
        text = str(getattr(exc, "orig", None) or exc)
        if any(word in text.lower() for word in self._WRITE_FAILURES):
            if self.failing_since_ms is None:
                self.failing_since_ms = now_ms
            self.reason = text[:200]

    def succeeded(self) -> None:
        self.failing_since_ms = None
        self.reason = ""


def create_app(config: ServerConfig) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(config.db_url)
        if config.migrate_on_start:
            migrate.upgrade(engine)
        app.state.engine = engine
        app.state.writes = WriteHealth()
        hub = live.LiveHub(engine, poll_s=config.live_poll_s, clock=config.clock)
        hub.start()
        app.state.hub = hub
        keeper = None
        if config.keep_days > 0:
            keeper = reports.DayKeeper(
                engine,
                ZoneInfo(config.zone),
                days=config.keep_days,
                every_s=config.keep_every_s,
                clock=config.clock,
            )
            keeper.start()
        app.state.keeper = keeper
        yield
        await hub.stop()
        if keeper is not None:
            await run_in_threadpool(keeper.stop)
        engine.dispose()

    app = FastAPI(
        title="Bandeau", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None
    )

    app.add_middleware(RequestIdAndLimits)

    @app.exception_handler(SQLAlchemyError)
    async def store_failure(request: Request, exc: SQLAlchemyError) -> JSONResponse:
        log.exception("store failure request_id=%s", request.scope.get("request_id"))
        writes: WriteHealth | None = getattr(request.app.state, "writes", None)
        if writes is not None and request.method == "POST":
            writes.failed(exc, config.clock())
        return JSONResponse(
            error_body(503, "the store is unavailable, retry later"),
            status_code=503,
            headers={"Retry-After": "2"},
        )

    @app.exception_handler(ApiError)
    async def api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(
            {"error": exc.error, "code": exc.code, "field": exc.field, "params": exc.params},
            status_code=exc.status,
            headers=exc.headers,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        """Starlette's own answers (an unknown path, a method the path does not take) in the
        API's error shape, their headers (Allow) kept."""
        return JSONResponse(
            error_body(exc.status_code, str(exc.detail)),
            status_code=exc.status_code,
            headers=dict(exc.headers or {}),
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        field = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or None
        return JSONResponse(
            error_body(422, first.get("msg", "invalid request"), field), status_code=422
        )

    async def engine_of(request: Request) -> Engine:  # async: no thread hop for this
        engine: Engine = request.app.state.engine
        return engine

    EngineDep = Annotated[Engine, Depends(engine_of)]

    def current_person(
        engine: EngineDep, authorization: Annotated[str | None, Header()] = None
    ) -> ingest.Person:
        person = auth.person_for_token(engine, bearer_token(authorization), now_ms=config.clock())
        if person is None:
            raise_bad_token()
        return person

    PersonDep = Annotated[ingest.Person, Depends(current_person)]

    async def json_body(request: Request) -> Any:
        raw = await request.body()
        if len(raw) > MAX_BODY_BYTES:
            raise ApiError(413, f"body larger than {MAX_BODY_BYTES} bytes")
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ApiError(400, f"malformed JSON: {exc}") from None

    @app.get("/health")
    def health(request: Request, engine: EngineDep) -> JSONResponse:
        """Whether the store is ok: 503 when it cannot be read — or cannot be written
        (reads may still work on a full disk, and a load balancer must send the bars
        elsewhere)."""
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return JSONResponse({"status": "store unavailable"}, status_code=503)
        writes: WriteHealth = request.app.state.writes
        if writes.failing_since_ms is not None:
            return JSONResponse(
                {
                    "status": "store cannot write",
                    "since_ms": writes.failing_since_ms,
                    "reason": writes.reason,
                },
                status_code=503,
            )
        return JSONResponse({"status": "ok"})

    @app.get("/v1/version")
    def version(_person: PersonDep) -> dict[str, str]:
        return {"version": __version__, "api": "v1", "schema": migrate.head()}

    @app.post("/v1/signin")
    async def signin(request: Request, engine: EngineDep) -> dict[str, Any]:
        body = await json_body(request)
        if not isinstance(body, dict):
            raise ApiError(400, "expected a JSON object")
        for field in ("login", "password"):
            if not isinstance(body.get(field), str) or not body[field]:
                raise ApiError(422, f"{field}: a non-empty text is needed", field)
        unknown = set(body) - {"login", "password", "device_id"}
        if unknown:
            raise ApiError(422, "unknown field", sorted(unknown)[0])
        device_id = body.get("device_id")
        if device_id is not None and not isinstance(device_id, str):
            raise ApiError(422, "device_id: a text is needed", "device_id")
        try:
            # Off the event loop: the password check takes tens of milliseconds, and every
            # other request (a click's batch) would wait behind it.
            signed = await run_in_threadpool(
                functools.partial(
                    auth.sign_in,
                    engine,
                    login=body["login"],
                    password=body["password"],
                    device_id=device_id,
                    now_ms=config.clock(),
                    address=request.client.host if request.client is not None else "",
                )
            )
        except auth.SignInRefused as exc:
            log.info("sign-in refused for %r: %s", body["login"][:64], exc)
            if exc.locked_for_s:
                raise ApiError(
                    429,
                    "too many failed attempts: try again later",
                    headers={"Retry-After": str(exc.locked_for_s)},
                    code="locked",
                    params={"retry_after_s": exc.locked_for_s},
                ) from None
            raise ApiError(401, "wrong login or password", code="wrong_credentials") from None
        return {"token": signed.token, **_me(engine, signed.person)}

    @app.post("/v1/signout")
    def signout(
        engine: EngineDep, person: PersonDep, authorization: Annotated[str | None, Header()] = None
    ) -> dict[str, bool]:
        del person  # the dependency checked the token
        return {
            "revoked": auth.revoke(engine, (authorization or "")[7:].strip(), now_ms=config.clock())
        }

    @app.get("/v1/me")
    def me(engine: EngineDep, person: PersonDep) -> dict[str, Any]:
        return _me(engine, person)

    @app.post("/v1/events")
    async def post_events(
        request: Request, engine: EngineDep, authorization: Annotated[str | None, Header()] = None
    ) -> Response:
        received = config.clock()
        token = bearer_token(authorization)
        problem: ApiError | None = None
        events: list[Any] = []
        offset = 0
        try:
            events, offset = _envelope(await json_body(request), received)
        except ApiError as exc:
            problem = exc  # told once the token is known good: strangers learn nothing

        def check_and_store() -> ingest.BatchResult | None:
            # The token check and the batch in one transaction, on one worker thread.
            with engine.begin() as conn:
                person = auth.person_on(conn, token, now_ms=received)
                if person is None:
                    return None
                if problem is not None:
                    raise problem
                return ingest.ingest_on(conn, person, events, now_ms=received, offset_ms=offset)

        result = await run_in_threadpool(check_and_store)
        if result is None:
            raise_bad_token()
        if result.new:
            request.app.state.writes.succeeded()  # a durable commit went through
            request.app.state.hub.wake()
        return json_response(
            {
                "accepted": result.accepted,
                "rejected": result.rejected,
                "received_at_ms": received,
                "replied_at_ms": config.clock(),
            }
        )

    @app.get("/v1/events")
    def get_events(  # noqa: PLR0917 - FastAPI passes each query parameter by name
        engine: EngineDep,
        person: PersonDep,
        agent: str | None = None,
        from_: Annotated[str | None, Query(alias="from")] = None,
        to: str | None = None,
        limit: Annotated[int, Query(ge=1, le=MAX_READ)] = MAX_READ,
    ) -> dict[str, Any]:
        """Stored events. An agent reads only their own; a lead, their plateaux' agents; an
        admin, everyone."""
        plateau_ids: tuple[int, ...] | None = None
        if person.role == "agent":
            if agent not in (None, person.login):
                raise ApiError(403, "an agent reads only their own events", "agent")
            agent = person.login
        elif person.role == "lead":
            plateau_ids = person.plateau_ids
            if agent is not None and agent != person.login:
                with engine.connect() as conn:
                    theirs = set(
                        conn.execute(
                            select(m.memberships.c.plateau_id)
                            .join(m.people, m.people.c.id == m.memberships.c.person_id)
                            .where(m.people.c.login == agent)
                        ).scalars()
                    )
                if not theirs & set(person.plateau_ids):
                    raise ApiError(403, "a lead reads only the agents of their plateaux", "agent")
        try:
            first = export.parse_day(from_, "from") if from_ else None
            last = export.parse_day(to, "to") if to else None
            rows = list(
                export.export_events(
                    engine,
                    agent=agent,
                    first=first,
                    last=last,
                    plateau_ids=plateau_ids,
                    limit=limit,
                )
            )
        except DirectoryError as exc:
            field = "agent" if "login" in str(exc) else ("from" if "from" in str(exc) else "to")
            raise ApiError(422, str(exc), field) from None
        return {"events": rows, "truncated": len(rows) == limit}

    @app.get("/v1/report")
    def report(  # noqa: PLR0917 - FastAPI passes each query parameter by name
        engine: EngineDep,
        person: PersonDep,
        from_: Annotated[str, Query(alias="from")],
        to: str,
        by: str = "agent",
        plateau: str | None = None,
        agent: str | None = None,
        format: str = "json",
        separator: str = ",",
        decimal_comma: bool = False,
        day_starts_at: str = "00:00",
        original: bool = False,
        lang: str = "en",
    ) -> Response:
        """Indicators over a period. An agent gets their own (their "my month" export), a
        lead their plateaux', an admin anyone's."""
        if format not in ("json", "csv"):
            raise ApiError(422, "format: json or csv", "format")
        if separator not in (",", ";"):
            raise ApiError(422, "separator: ',' or ';'", "separator")
        if lang not in reports.CSV_LANGUAGES:
            raise ApiError(422, "lang: en or fr", "lang")
        try:
            period = reports.parse_period(from_, to, config.zone, day_starts_at)
        except DirectoryError as exc:
            raise ApiError(422, str(exc), "from") from None
        plateau_ids: list[int] | None = None
        person_ids: list[int] | None = None
        # Who may see whom is decided before any name is looked up: an unknown login or
        # plateau gets the same 403 as a colleague's, so that no one learns who exists.
        if person.role == "agent" and (agent not in (None, person.login) or plateau is not None):
            raise ApiError(403, "an agent's report is their own", "agent")
        with engine.connect() as conn:
            if plateau is not None:
                try:
                    plateau_ids = [directory.plateau_id(conn, plateau)]
                except DirectoryError as exc:
                    if person.role == "lead":
                        raise ApiError(
                            403, "a lead reports on their plateaux only", "plateau"
                        ) from None
                    raise ApiError(422, str(exc), "plateau") from None
            if agent is not None:
                try:
                    person_ids = [directory.person_id(conn, agent)]
                except DirectoryError as exc:
                    if person.role == "lead":
                        raise ApiError(
                            403, "a lead reports on their plateaux' agents only", "agent"
                        ) from None
                    raise ApiError(422, str(exc), "agent") from None
                if person.role == "lead" and agent != person.login:
                    theirs = set(
                        conn.execute(
                            select(m.memberships.c.plateau_id).where(
                                m.memberships.c.person_id == person_ids[0]
                            )
                        ).scalars()
                    )
                    if not theirs & set(person.plateau_ids):
                        raise ApiError(
                            403, "a lead reports on their plateaux' agents only", "agent"
                        )
        if person.role == "agent":
            person_ids, plateau_ids = [person.id], None
        elif person.role == "lead":
            mine = set(person.plateau_ids)
            if plateau_ids is not None and not set(plateau_ids) <= mine:
                raise ApiError(403, "a lead reports on their plateaux only", "plateau")
            plateau_ids = plateau_ids or sorted(mine)
        try:
            rows = reports.roll_up(
                reports.compute(
                    engine,
                    period=period,
                    now_ms=config.clock(),
                    plateau_ids=plateau_ids,
                    person_ids=person_ids,
                    original=original,
                ),
                by,
            )
        except DirectoryError as exc:
            raise ApiError(422, str(exc), "by") from None
        if format == "json":
            return json_response({"rows": reports.as_dicts(rows)})
        name = f"bandeau-{period.first.isoformat()}-{period.last.isoformat()}.csv"
        return Response(
            reports.to_csv(
                rows, by=by, separator=separator, decimal_comma=decimal_comma, lang=lang
            ).encode(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    @app.post("/v1/corrections")
    async def post_correction(request: Request, engine: EngineDep, person: PersonDep) -> Response:
        """A correction of an agent's time, with a reason (see app.server.corrections)."""
        body = await json_body(request)
        try:
            fix = corrections.parse(body)
            stored = await run_in_threadpool(
                corrections.record, engine, person, fix, now_ms=config.clock()
            )
        except corrections.CorrectionRefused as exc:
            raise ApiError(
                exc.status, str(exc), exc.field, code=exc.code, params=exc.params
            ) from None
        request.app.state.hub.wake()  # the panels and the agent's bar show it at once
        return json_response(stored)

    @app.get("/v1/corrections")
    def list_corrections(
        engine: EngineDep,
        person: PersonDep,
        agent: str | None = None,
        from_: Annotated[str | None, Query(alias="from")] = None,
        to: str | None = None,
    ) -> Response:
        """The audit trail: an agent sees the corrections of their own time, a lead those
        of their plateaux, an admin all."""
        start = end = None
        if from_ or to:
            try:
                period = reports.parse_period(from_ or to or "", to or from_ or "", config.zone)
            except DirectoryError as exc:
                raise ApiError(422, str(exc), "from") from None
            start, end = period.bounds()
        with engine.connect() as conn:
            person_ids = None
            if agent is not None:
                try:
                    person_ids = [directory.person_id(conn, agent)]
                except DirectoryError as exc:
                    raise ApiError(422, str(exc), "agent") from None
            plateau_ids = None
            if person.role == "agent":
                if agent not in (None, person.login):
                    raise ApiError(403, "an agent sees the corrections of their own time", "agent")
                person_ids = [person.id]
            elif person.role == "lead":
                plateau_ids = list(person.plateau_ids)
            rows = corrections.audit(
                conn, person_ids=person_ids, plateau_ids=plateau_ids, start_ms=start, end_ms=end
            )
        return json_response({"corrections": rows})

    @app.get("/v1/stream")
    async def stream(request: Request, engine: EngineDep, person: PersonDep) -> Response:
        """Server-Sent Events: `snapshot` first, then `events`, `presence` and (for an
        agent) `coverage`; a comment every `keepalive_s`. `resync` or the end of the stream
        means: reconnect and start again from a snapshot."""
        hub: live.LiveHub = request.app.state.hub
        if hub.closing:  # its streams were just ended: reconnect to another process, or later
            raise ApiError(
                503, "the server is stopping", headers={"Retry-After": "2"}, code="store_stopping"
            )
        scope = live.scope_for(person)
        zone = ZoneInfo(config.zone)
        token = bearer_token(request.headers.get("authorization"))

        async def messages() -> AsyncIterator[bytes]:
            sub = hub.subscribe(scope)  # before the snapshot: no change falls in between
            try:
                snap = await run_in_threadpool(
                    live.snapshot, engine, scope, now_ms=config.clock(), zone=zone
                )
                yield _sse("snapshot", snap)
                if scope.person_ids is not None and scope.coverage_plateaux:
                    cover = await run_in_threadpool(
                        live.coverage, engine, scope.coverage_plateaux, now_ms=config.clock()
                    )
                    yield _sse("coverage", cover)
                while True:
                    try:
                        kind, data = await asyncio.wait_for(
                            sub.queue.get(), timeout=config.keepalive_s
                        )
                    except TimeoutError:
                        # A revoked token or a disabled person ends the stream too.
                        still = await run_in_threadpool(
                            functools.partial(
                                auth.person_for_token, engine, token, now_ms=config.clock()
                            )
                        )
                        if still is None:
                            yield _sse("bye", {"reason": "signed out"})
                            return
                        yield b": keepalive\n\n"
                        continue
                    yield _sse(kind, data)
                    if kind in ("resync", "bye"):
                        return
            finally:
                hub.unsubscribe(sub)

        return StreamingResponse(
            messages(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    @app.post("/v1/heartbeat")
    async def heartbeat(request: Request, engine: EngineDep, person: PersonDep) -> dict[str, Any]:
        received = config.clock()
        body = await json_body(request)
        if not isinstance(body, dict):
            raise ApiError(400, "expected a JSON object")
        unknown = set(body) - {"device_id", "sent_at_ms", "state", "pending"}
        if unknown:
            raise ApiError(422, "unknown field", sorted(unknown)[0])
        device_id = body.get("device_id")
        if not isinstance(device_id, str) or not 1 <= len(device_id) <= 36:
            raise ApiError(422, "device_id: a device id is needed", "device_id")
        state = body.get("state", {})
        if not isinstance(state, dict):
            raise ApiError(422, "state: an object is needed", "state")
        pending = body.get("pending", 0)
        if (
            not isinstance(pending, int)
            or isinstance(pending, bool)
            or not 0 <= pending <= ingest.MAX_INT
        ):
            raise ApiError(422, "pending: a count is needed", "pending")
        try:
            encoded = json.dumps(state)
        except (ValueError, RecursionError):
            raise ApiError(422, "state: not a JSON object the store can keep", "state") from None
        if len(encoded) > MAX_STATE_CHARS:  # kept whole or not at all: never cut mid-JSON
            raise ApiError(422, f"state: at most {MAX_STATE_CHARS} characters as JSON", "state")
        await run_in_threadpool(
            heartbeats.record,
            engine,
            person_id=person.id,
            device_id=device_id,
            now_ms=received,
            state=encoded,
            pending=pending,
        )
        request.app.state.writes.succeeded()
        request.app.state.hub.wake()
        return {"received_at_ms": received, "replied_at_ms": config.clock()}

    return app


def end_streams(app: FastAPI) -> None:
    """The server is stopping: end its live streams now (from any thread)."""
    hub: live.LiveHub | None = getattr(app.state, "hub", None)
    if hub is not None:
        hub.end_streams()


def _me(engine: Engine, person: ingest.Person) -> dict[str, Any]:
    """Who the person is, and their plateaux' activities, keys and thresholds."""
    with engine.connect() as conn:
        plateaux = directory.describe_plateaux(conn, person.plateau_ids)
    return {
        "person": {"login": person.login, "name": person.name, "role": person.role},
        "plateaux": plateaux,
    }
