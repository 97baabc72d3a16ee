"""The HTTP service (FastAPI): the app factory, its middleware and its routers.

Versioned under /v1. Everything but /health needs a bearer token. Every answer other than
200 is in one error shape (`app.server.errors`); `/openapi.json` documents every call a
client makes, bodies included (`app.server.schemas`). The routes live in
`app.server.routes`, one module per resource, over typed dependencies (`app.server.deps`).
"""

from __future__ import annotations

import gc
import json
import logging
import sys
import time
import uuid as uuidlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from zoneinfo import ZoneInfo

import anyio
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import __version__
from app.server import auth, errors, live, migrate, reports, retention, schemas, writer
from app.server.db import is_sqlite, make_engine
from app.server.deps import ServerConfig, bearer_token
from app.server.errors import error_body
from app.server.health import WriteHealth
from app.server.logthread import LogThread
from app.server.routes import corrections, events, health, heartbeat, people, signin, stream
from app.server.routes import reports as reports_routes

__all__ = ["ServerConfig", "create_app", "end_streams"]

log = logging.getLogger("bandeau.server")

MAX_BODY_BYTES = 1_000_000
# The collector's thresholds (Python's: 700, 10, 10). A request makes thousands of short-lived
# objects; at Python's first threshold a site's rate ran a full collection every ~20 s, each
# 150–300 ms of every request in flight on this 2-core machine.
GC_THRESHOLDS = (10_000, 10, 10)
# How long a thread may hold the GIL while another waits for it (Python's: 5 ms). The event
# loop gives the GIL up at each socket write and log line, and must take it back from the
# writer's thread (a group's rows) or the live hub's (a feed read): at Python's interval a
# heartbeat during a herd waited up to 5 ms at each of those. At 1 ms the store's own p99
# for the online bars' heartbeats during the herd fell from 75–84 ms to 56 ms (two runs
# each, tests/load/site.py --herd).
SWITCH_INTERVAL_S = 0.001


class RequestIdAndLimits:
    """Pure ASGI middleware (no per-request task or stream wrapping): gives each request an
    id (kept from X-Request-ID if the client sent one), refuses bodies over the cap —
    announced or streamed — and logs one JSON line per request."""

    def __init__(self, app: ASGIApp, worker: int | None = None) -> None:
        self.app = app
        self.worker = None if worker is None else (b"x-bandeau-worker", str(worker).encode())

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
                extra = [id_header] if self.worker is None else [id_header, self.worker]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        read = 0

        async def capped_receive() -> Message:
            # A chunked body announces no length: it is counted as it comes.
            nonlocal read
            message = await receive()
            if message["type"] == "http.request":
                read += len(message.get("body", b""))
                if read > MAX_BODY_BYTES:
                    raise HTTPException(413, f"body larger than {MAX_BODY_BYTES} bytes")
            return message

        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
            too_big = JSONResponse(
                error_body(
                    413,
                    f"body larger than {MAX_BODY_BYTES} bytes",
                    params={"bytes": MAX_BODY_BYTES},
                ),
                status_code=413,
            )
            await too_big(scope, receive, send_with_id)
        else:
            await self.app(scope, capped_receive, send_with_id)
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


class FastEvents:
    """POST /v1/events, the store's hot path, answered without FastAPI's routing and
    middleware (most of a batch's cost on the event loop, measured by bench_ingest): the
    same `take_batch` as the route, the same token rule (`deps.bearer_token`), the same answers
    in the error shape. Sits under RequestIdAndLimits like every other call."""

    def __init__(self, app: FastAPI, on_store_failure: Any) -> None:
        self.app = app
        self.on_store_failure = on_store_failure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = self.app  # Request(scope).app, as Starlette sets it
        answer: Response
        try:
            # The first Authorization header, as Starlette's Headers.get reads it.
            token = bearer_token(
                next((v for k, v in scope["headers"] if k == b"authorization"), None)
            )
            chunks = []
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return  # the client went away: nothing was taken
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    break
            answer = await events.take_batch(self.app.state, token, b"".join(chunks))
        except errors.ApiError as exc:
            answer = errors.api_error_answer(exc)
        except HTTPException as exc:
            answer = errors.http_error_answer(exc)
        except SQLAlchemyError as exc:
            answer = errors.store_failure_answer(Request(scope), exc, self.on_store_failure)
        except Exception:
            log.exception("failed request_id=%s", scope.get("request_id"))
            answer = JSONResponse(error_body(500, "internal error"), status_code=500)
        await answer(scope, receive, send)


class BandeauApp(FastAPI):
    """FastAPI, with POST /v1/events (and nothing else) taken by `FastEvents`."""

    fast_events: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            self.fast_events is not None
            and scope["type"] == "http"
            and scope["path"] == "/v1/events"
            and scope["method"] == "POST"
            and not scope.get("query_string")  # the route refuses what it does not take
        ):
            await self.fast_events(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def _documented(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document, with the models that routes check by hand (a batch of events)
    among its schemas."""
    if app.openapi_schema is None:
        from fastapi.openapi.utils import get_openapi  # noqa: PLC0415 - once, on demand

        document = get_openapi(title=app.title, version=app.version, routes=app.routes)
        found = document.setdefault("components", {}).setdefault("schemas", {})
        for model in (schemas.EventBatch, schemas.EventIn, schemas.Heartbeat):
            shown = model.model_json_schema(ref_template="#/components/schemas/{model}")
            found.update(shown.pop("$defs", {}))
            found[model.__name__] = shown
        app.openapi_schema = document
    return app.openapi_schema


ROUTERS = (
    health.router,
    signin.router,
    people.router,
    events.router,
    heartbeat.router,
    stream.router,
    reports_routes.router,
    corrections.router,
)


def create_app(config: ServerConfig) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(config.db_url)
        if config.migrate_on_start:
            migrate.upgrade(engine)
        reader = make_engine(config.db_url, reads_only=True) if is_sqlite(engine) else engine
        app.state.config = config
        app.state.engine = engine
        app.state.reader = reader
        app.state.writer = store_writer = writer.Writer(
            engine,
            shed_after_s=config.shed_after_s,
            shed_light_after_s=config.shed_light_after_s,
            # PostgreSQL: a round trip a job saved; SQLite's reads are calls in the process.
            prelude=None if is_sqlite(engine) else auth.prefetch_tokens,
        )
        store_writer.start()
        app.state.writes = WriteHealth()
        app.state.sign_ins = anyio.CapacityLimiter(auth.SIGN_IN_THREADS)  # a wave waits here
        hub = live.LiveHub(reader, poll_s=config.live_poll_s, clock=config.clock)
        await hub.prime()
        hub.start()
        app.state.hub = hub
        keeper = None
        if config.keep_days > 0 and config.background_jobs:
            keeper = reports.DayKeeper(
                engine,
                ZoneInfo(config.zone),
                days=config.keep_days,
                every_s=config.keep_every_s,
                clock=config.clock,
            )
            keeper.start()
        app.state.keeper = keeper
        purger = None
        if config.retention_days > 0 and config.background_jobs:
            purger = retention.RetentionKeeper(
                engine,
                ZoneInfo(config.zone),
                days=config.retention_days,
                clock=config.clock,
                forget_names=config.forget_names,
            )
            purger.start()
        app.state.purger = purger
        if config.own_process:
            # What exists now (modules, the app, its routes and models, the engines) lives
            # as long as the process: out of the collector's reach, so that a full
            # collection walks only what came since. Without it each full collection took
            # 100–300 ms at a site's rate, stalling every request in flight
            # (tests/load/site.py).
            gc.collect()
            gc.freeze()
            gc.set_threshold(*GC_THRESHOLDS)
            sys.setswitchinterval(SWITCH_INTERVAL_S)
        logs = LogThread()
        if config.own_process:
            logs.start()  # the request log's writes off the event loop
        yield
        await hub.stop()
        if keeper is not None:
            await run_in_threadpool(keeper.stop)
        if purger is not None:
            await run_in_threadpool(purger.stop)
        await run_in_threadpool(store_writer.stop)
        if reader is not engine:
            reader.dispose()
        engine.dispose()
        logs.stop()

    app = BandeauApp(
        title="Bandeau", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None
    )
    app.add_middleware(RequestIdAndLimits, worker=config.worker)

    def store_failed(request: Request, exc: SQLAlchemyError) -> None:
        writes: WriteHealth | None = getattr(request.app.state, "writes", None)
        if writes is not None and request.method == "POST":
            writes.failed(exc, config.clock())

    errors.install(app, store_failed)
    app.fast_events = RequestIdAndLimits(FastEvents(app, store_failed), worker=config.worker)
    for router in ROUTERS:
        app.include_router(router)
    app.openapi = lambda: _documented(app)  # type: ignore[method-assign]
    return app


def end_streams(app: FastAPI) -> None:
    """The server is stopping: end its live streams now (from any thread)."""
    hub: live.LiveHub | None = getattr(app.state, "hub", None)
    if hub is not None:
        hub.end_streams()
