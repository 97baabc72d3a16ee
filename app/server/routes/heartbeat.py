"""Heartbeats: a bar is alive (not an event)."""

from __future__ import annotations

import orjson
from sqlalchemy.engine import Connection

from app.server import auth, heartbeats
from app.server.deps import Clock, Hub, StoreWriter, TokenOwner, Writes
from app.server.errors import ApiError, store_busy, wrong_device
from app.server.routes.common import make_router
from app.server.schemas import STATE_MAX_CHARS, Heartbeat, HeartbeatAnswer
from app.server.writer import retry_after

router = make_router("heartbeat")


@router.post("/v1/heartbeat")
async def heartbeat(  # noqa: PLR0917 - FastAPI passes each dependency by name
    body: Heartbeat,
    owner: TokenOwner,
    clock: Clock,
    hub: Hub,
    writer: StoreWriter,
    writes: Writes,
) -> HeartbeatAnswer:
    """A bar is alive: its state (what the panel shows) and how many events it still
    holds. The device must be the token's. Stored as a light write (app.server.writer):
    liveness, not a record — a crash may lose the last second of heartbeats."""
    received = clock()
    try:
        encoded = orjson.dumps(body.state).decode()
    except orjson.JSONEncodeError:
        raise ApiError(422, "state: not a JSON object the store can keep", "state") from None
    if len(encoded) > STATE_MAX_CHARS:  # kept whole or not at all: never cut mid-JSON
        raise ApiError(
            422,
            f"state: at most {STATE_MAX_CHARS} characters as JSON",
            "state",
            params={"max": STATE_MAX_CHARS},
        )
    device_id = body.device_id.lower()

    def check_and_record(conn: Connection) -> ApiError | None:
        # A refusal is returned, not raised (a job that raises sends its group again).
        if auth.device_of(conn, owner, device_id) != device_id:
            return wrong_device()
        heartbeats.record_on(
            conn,
            person_id=owner.person.id,
            device_id=device_id,
            now_ms=clock(),  # when written: see app.server.live.LOOKBACK_MS
            state=encoded,
            pending=body.pending,
        )
        return None

    if writer.busy(durable=False):
        raise store_busy(retry_after())
    refused = await writer.run(check_and_record, durable=False)
    if refused is not None:
        raise refused
    writes.succeeded()
    hub.wake()
    return HeartbeatAnswer(received_at_ms=received, replied_at_ms=clock())
