"""Corrections of agents' time, and the audit trail (corrections and late arrivals)."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Query, Response
from starlette.concurrency import run_in_threadpool

from app.server import corrections, export, reports
from app.server.access import person_in_reach, reach_of
from app.server.deps import Clock, Config, CurrentPerson, Hub, Reader, Store
from app.server.directory import DirectoryError
from app.server.errors import ApiError
from app.server.routes.common import Day, Login, json_response, make_router
from app.server.schemas import CorrectionIn, Corrections, StoredCorrection

router = make_router("corrections")


@router.post("/v1/corrections")
async def post_correction(
    body: CorrectionIn, engine: Store, person: CurrentPerson, clock: Clock, hub: Hub
) -> StoredCorrection:
    """A correction of an agent's time, with a reason (see app.server.corrections)."""
    try:
        fix = corrections.from_request(body)
        stored = await run_in_threadpool(corrections.record, engine, person, fix, now_ms=clock())
    except corrections.CorrectionRefused as exc:
        raise ApiError(exc.status, str(exc), exc.field, code=exc.code, params=exc.params) from None
    hub.wake()  # the panels and the agent's bar show it at once
    return StoredCorrection.model_validate(stored)


@router.get("/v1/corrections", response_model=Corrections)
def list_corrections(  # noqa: PLR0917 - FastAPI passes each query parameter by name
    engine: Reader,
    person: CurrentPerson,
    config: Config,
    agent: Login | None = None,
    from_: Annotated[Day | None, Query(alias="from")] = None,
    to: Day | None = None,
) -> Response:
    """The audit trail: an agent sees the corrections of their own time, a lead those of
    their plateaux, an admin all."""
    start = end = None
    first, last = from_ or to, to or from_
    if first is not None and last is not None:
        try:
            period = reports.parse_period(first.isoformat(), last.isoformat(), config.zone)
        except DirectoryError as exc:
            raise ApiError(422, str(exc), "from") from None
        start, end = period.bounds()
    reach = reach_of(person)
    with engine.connect() as conn:
        person_ids = reach.person_ids
        if agent is not None:
            person_ids = frozenset({person_in_reach(conn, person, agent)})
        rows = corrections.audit(
            conn,
            person_ids=person_ids,
            plateau_ids=reach.plateau_ids,
            start_ms=start,
            end_ms=end,
        )
        late = export.late_arrivals(
            conn,
            zone=ZoneInfo(config.zone),
            person_ids=person_ids,
            plateau_ids=reach.plateau_ids,
            start_ms=start,
            end_ms=end,
        )
    return json_response({"corrections": rows, "late_arrivals": late})
