"""Indicators over a period (JSON or CSV)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Query, Response

from app.server import reports
from app.server.access import person_in_reach, plateau_in_reach, reach_of
from app.server.deps import Clock, Config, CurrentPerson, Reader, Store
from app.server.directory import DirectoryError
from app.server.errors import ApiError
from app.server.routes.common import Day, Login, json_response, make_router
from app.server.schemas import Kept, Report

router = make_router("reports")


@router.get(
    "/v1/report",
    response_model=Report,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def report(  # noqa: PLR0917 - FastAPI passes each query parameter by name
    engine: Store,
    reader: Reader,
    person: CurrentPerson,
    config: Config,
    clock: Clock,
    from_: Annotated[Day, Query(alias="from")],
    to: Day,
    by: Literal["agent", "activity", "day", "detail"] = "agent",
    plateau: Annotated[str | None, Query(max_length=100), Kept] = None,
    agent: Login | None = None,
    format: Literal["json", "csv"] = "json",
    separator: Literal[",", ";"] = ",",
    decimal_comma: bool = False,
    day_starts_at: Annotated[str, Query(max_length=5, pattern=r"^\d\d:\d\d$")] = "00:00",
    original: bool = False,
    lang: Literal["en", "fr"] = "en",
) -> Response:
    """Indicators over a period. An agent gets their own (their "my month" export), a lead
    their plateaux', an admin anyone's. Each row counts its late events."""
    try:
        period = reports.parse_period(from_.isoformat(), to.isoformat(), config.zone, day_starts_at)
    except DirectoryError as exc:
        raise ApiError(422, str(exc), "from") from None
    plateau_ids: list[int] | None = None
    person_ids: list[int] | None = None
    with reader.connect() as conn:
        # Reach before names: an unknown login or plateau is refused as a colleague's is.
        if agent is not None:
            person_ids = [person_in_reach(conn, person, agent)]
        if plateau is not None:
            plateau_ids = [plateau_in_reach(conn, person, plateau)]
    reach = reach_of(person)
    if reach.person_ids is not None:
        person_ids = sorted(reach.person_ids)
    if reach.plateau_ids is not None:
        plateau_ids = plateau_ids or sorted(reach.plateau_ids)
    rows = reports.roll_up(
        reports.compute(
            engine,
            period=period,
            now_ms=clock(),
            plateau_ids=plateau_ids,
            person_ids=person_ids,
            original=original,
            reader=reader,
        ),
        by,
    )
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
