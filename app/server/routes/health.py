"""Whether the store is ok (for a load balancer, a monitor): no token needed."""

from __future__ import annotations

from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.server import schemas
from app.server.deps import Reader, Writes
from app.server.routes.common import make_router

router = make_router("health")


@router.get(
    "/health",
    response_model=schemas.Health,
    responses={503: {"model": schemas.Health, "description": "not ok"}},
)
def health(engine: Reader, writes: Writes) -> JSONResponse:
    """Whether the store is ok: 503 when it cannot be read — or cannot be written (reads
    may still work on a full disk, and a load balancer must send the bars elsewhere)."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return JSONResponse({"status": "store unavailable"}, status_code=503)
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
