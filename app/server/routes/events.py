"""Events in (a bar's batches, checked by hand on the hot path) and out (the export)."""

from __future__ import annotations

from typing import Annotated, Any, TypeGuard

from fastapi import HTTPException, Query, Request, Response
from sqlalchemy.engine import Connection
from starlette.datastructures import State

from app.server import auth, export, ingest
from app.server.access import person_in_reach, reach_of
from app.server.clock import NowMs
from app.server.deps import Config, CurrentPerson, Reader, Token, check_may_act
from app.server.errors import ApiError, bad_token, store_busy, wrong_device
from app.server.routes.common import Day, Login, json_response, make_router, parse_json
from app.server.schemas import MAX_BATCH, MAX_INT, BatchAnswer, EventBatch, EventsPage
from app.server.writer import LIVE_BATCH, Writer, retry_after

router = make_router("events")

MAX_READ = 10_000
_ENVELOPE = frozenset(EventBatch.model_fields)
# How long a batch may have taken from the PC to the store (queues and retries included),
# and how much a PC's declared clock offset may exceed this exchange's own measure
# (rounding, two clock reads).
MAX_TRAVEL_MS = 60_000
OFFSET_SLACK_MS = 1_000


def _whole(value: Any) -> TypeGuard[int]:
    return type(value) is int and abs(value) <= MAX_INT


def envelope(body: Any, received: int) -> tuple[list[Any], int, str | None]:
    """A batch's events, clock offset and device id, or ApiError naming what is wrong."""
    if not isinstance(body, dict):
        raise ApiError(400, "expected a JSON object")
    unknown = body.keys() - _ENVELOPE
    if unknown:
        name = sorted(unknown)[0]
        raise ApiError(422, f"{name}: unknown field", name)
    events = body.get("events")
    if not isinstance(events, list):
        raise ApiError(422, "events: a list is needed", "events")
    if len(events) > MAX_BATCH:
        raise ApiError(
            413, f"events: at most {MAX_BATCH} per batch", "events", params={"max": MAX_BATCH}
        )
    sent_at = body.get("sent_at_ms")
    if not _whole(sent_at):
        raise ApiError(422, "sent_at_ms: a whole number of milliseconds is needed", "sent_at_ms")
    device_id = body.get("device_id")
    if device_id is not None and not (
        isinstance(device_id, str) and ingest.UUID_RE.match(device_id.lower())
    ):
        raise ApiError(422, "device_id: a UUID is needed", "device_id")
    offset = body.get("clock_offset_ms")
    # This exchange's own measure: the store's clock minus the PC's is at most what the
    # request took to arrive by the PC's word (received − sent ≥ the offset, the network's
    # delay being ≥ 0), and at least that minus the longest a request may have travelled.
    measured = received - sent_at
    if offset is None:
        offset = measured  # first exchange: the one-way estimate
    elif not _whole(offset):
        raise ApiError(422, "clock_offset_ms: a whole number is needed", "clock_offset_ms")
    # A PC may say how its clock stands (its NTP-style estimate is finer than one exchange),
    # but not against what this exchange shows: a declared offset is held within it.
    held = min(max(offset, measured - MAX_TRAVEL_MS), measured + OFFSET_SLACK_MS)
    return events, held, device_id.lower() if isinstance(device_id, str) else None


@router.post(
    "/v1/events",
    response_model=BatchAnswer,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/EventBatch"}}
            },
        }
    },
)
async def post_events(request: Request, token: Token) -> Response:
    """A batch of a bar's events (`EventBatch`), stored once each. The token and the batch
    are checked in one transaction; a bad envelope is told only once the token is known
    good (strangers learn nothing). Served by `app.server.api.FastEvents` (the same
    `take_batch`, without FastAPI's routing) when asked at this path."""
    return await take_batch(request.app.state, token, await request.body())


async def take_batch(state: State, token: str, body: bytes) -> Response:
    """POST /v1/events once the bearer token is read: its answer, or ApiError."""
    clock: NowMs = state.config.clock
    writer: Writer = state.writer
    received = clock()
    problem: ApiError | HTTPException | None = None
    events: list[Any] = []
    offset, device_id = 0, None
    try:
        events, offset, device_id = envelope(parse_json(body), received)
    except (ApiError, HTTPException) as exc:
        problem = exc  # told once the token is known good

    def check_and_store(conn: Connection) -> ingest.BatchResult | ApiError | HTTPException | None:
        # Refusals are returned, not raised: a job that raises is rolled back with its
        # group, which then goes again without it (app.server.writer).
        owner = auth.token_on(conn, token, now_ms=received)
        if owner is None:
            return None
        if problem is not None:
            return problem
        try:
            check_may_act(owner.person, "/v1/events")
        except ApiError as exc:
            return exc
        bound = auth.device_of(conn, owner, device_id or ingest.first_device(events))
        if device_id is not None and device_id != bound:
            return wrong_device()
        # Stamped when written, not when the request came in: the live hub looks back only
        # as long as a transaction takes to commit (app.server.live.LOOKBACK_MS).
        return ingest.ingest_on(
            conn, owner.person, events, now_ms=clock(), offset_ms=offset, device_id=bound
        )

    bulk = len(events) > LIVE_BATCH  # a backlog: the live writes go first
    if writer.busy(bulk=bulk):
        raise store_busy(retry_after())
    result = await writer.run(check_and_store, weight=len(events), bulk=bulk, token=token)
    if result is None:
        raise bad_token()
    if isinstance(result, (ApiError, HTTPException)):
        raise result
    if result.new:
        state.writes.succeeded()  # a durable commit went through
        state.hub.wake()
    return json_response(
        {
            "accepted": result.accepted,
            "rejected": result.rejected,
            "received_at_ms": received,
            "replied_at_ms": clock(),
        }
    )


@router.get("/v1/events", response_model=EventsPage)
def get_events(  # noqa: PLR0917 - FastAPI passes each query parameter by name
    engine: Reader,
    person: CurrentPerson,
    config: Config,
    agent: Login | None = None,
    from_: Annotated[Day | None, Query(alias="from")] = None,
    to: Day | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_READ)] = MAX_READ,
) -> Response:
    """Stored events, in corrected-time order, within what the person may see (an agent:
    their own; a lead: their plateaux'; an admin: everyone's)."""
    reach = reach_of(person)
    person_ids = reach.person_ids
    if agent is not None:
        with engine.connect() as conn:
            person_ids = frozenset({person_in_reach(conn, person, agent)})
    rows = list(
        export.export_events(
            engine,
            person_ids=person_ids,
            plateau_ids=reach.plateau_ids,
            first=from_,
            last=to,
            zone=config.zone,
            limit=limit,
        )
    )
    return json_response({"events": rows, "truncated": len(rows) == limit})
