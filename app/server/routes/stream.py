"""The live stream (Server-Sent Events): what a person may see, as it happens."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from zoneinfo import ZoneInfo

from fastapi import Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from app.server import live
from app.server.deps import (
    Clock,
    Config,
    CurrentPerson,
    Hub,
    Reader,
    StoreWriter,
    Token,
    token_owner,
)
from app.server.errors import ApiError
from app.server.routes.common import make_router

router = make_router("stream")


@router.get(
    "/v1/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "Server-Sent Events"}},
)
async def stream(  # noqa: PLR0917 - FastAPI passes each dependency by name
    engine: Reader,
    writes: StoreWriter,
    person: CurrentPerson,
    token: Token,
    config: Config,
    clock: Clock,
    hub: Hub,
) -> Response:
    """Server-Sent Events: `snapshot` first, then `events`, `presence` and (for an agent)
    `coverage`; a comment every `keepalive_s`. `resync` or the end of the stream means:
    reconnect and start again from a snapshot."""
    if hub.closing:  # its streams were just ended: reconnect to another process, or later
        raise ApiError(
            503, "the server is stopping", headers={"Retry-After": "2"}, code="store_stopping"
        )
    scope = live.scope_for(person)
    zone = ZoneInfo(config.zone)

    async def messages() -> AsyncIterator[bytes]:
        sub = hub.subscribe(scope)  # before the snapshot: no change falls in between
        try:
            snap = await run_in_threadpool(live.snapshot, engine, scope, now_ms=clock(), zone=zone)
            yield live.sse("snapshot", snap)
            if scope.person_ids is not None and scope.coverage_plateaux:
                yield live.sse("coverage", await hub.coverage_now(scope.coverage_plateaux))
            while True:
                try:
                    kind, frame = await asyncio.wait_for(
                        sub.queue.get(), timeout=config.keepalive_s
                    )
                except TimeoutError:
                    # A revoked token or a disabled person ends the stream too.
                    still = await token_owner(engine, writes, token, clock())
                    if still is None:
                        yield live.sse("bye", {"reason": "signed out"})
                        return
                    yield b": keepalive\n\n"
                    continue
                yield frame
                if kind in ("resync", "bye"):
                    return
        finally:
            hub.unsubscribe(sub)

    return StreamingResponse(
        messages(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
