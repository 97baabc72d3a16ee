"""Heartbeats: a bar is alive (not an event)."""

from __future__ import annotations

import orjson
from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy.engine import Connection

from app.server import auth, heartbeats
from app.server.deps import Clock, Hub, StoreWriter, Token, Writes, check_may_act
from app.server.errors import ApiError, bad_token, store_busy, wrong_device
from app.server.routes.common import make_router, parse_json
from app.server.schemas import STATE_MAX_CHARS, Heartbeat, HeartbeatAnswer
from app.server.writer import retry_after

router = make_router("heartbeat")

Problem = ApiError | HTTPException | RequestValidationError


def read_heartbeat(raw: bytes) -> tuple[Heartbeat, str]:
    """The heartbeat and its state as kept (JSON), or the refusal FastAPI's own reading of
    the body gave (a body missing, malformed or not a `Heartbeat`)."""
    if not raw:
        missing = {"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}
        raise RequestValidationError([missing])
    try:
        body = Heartbeat.model_validate(parse_json(raw))
    except ValidationError as exc:
        raise RequestValidationError(
            [{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]
        ) from None
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
    return body, encoded


@router.post(
    "/v1/heartbeat",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Heartbeat"}}},
        }
    },
)
async def heartbeat(  # noqa: PLR0917 - FastAPI passes each dependency by name
    request: Request,
    token: Token,
    clock: Clock,
    hub: Hub,
    writer: StoreWriter,
    writes: Writes,
) -> HeartbeatAnswer:
    """A bar is alive (`Heartbeat`): its state (what the panel shows) and how many events it
    still holds. The device must be the token's. Stored as a light write
    (app.server.writer): liveness, not a record — a crash may lose the last second of
    heartbeats. The token is checked in the write's own transaction, as a batch of events'
    is (no hop to a worker thread: heartbeats are most of a site's requests), and a bad
    body is told only once the token is known good."""
    received = clock()
    problem: Problem | None = None
    try:
        body, encoded = read_heartbeat(await request.body())
        device_id = body.device_id.lower()
    except (ApiError, HTTPException, RequestValidationError) as exc:
        problem = exc

    def check_and_record(conn: Connection) -> Problem | None:
        # A refusal is returned, not raised (a job that raises sends its group again).
        owner = auth.token_on(conn, token, now_ms=received)
        if owner is None:
            return bad_token()
        try:
            check_may_act(owner.person, "/v1/heartbeat")
        except ApiError as exc:
            return exc
        if problem is not None:
            return problem
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
    refused = await writer.run(check_and_record, durable=False, token=token)
    if refused is not None:
        raise refused
    writes.succeeded()
    hub.wake()
    return HeartbeatAnswer(received_at_ms=received, replied_at_ms=clock())
