"""The API's errors: one shape for every answer other than 200, whoever raised it.

{"error": English (for logs and developers), "code": stable (clients word it in their
person's language), "field": the field at fault or null, "params": what the wording needs}.
Never a 500 for bad input: a store failure is a 503 with Retry-After.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.server.access import OutOfReach, Unknown
from app.server.schemas import ErrorBody

log = logging.getLogger("bandeau.server")

# The code a status gets when the route gives none.
DEFAULT_CODES = {
    400: "bad_request",
    401: "token_invalid",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "invalid",
    429: "too_many_requests",
    503: "store_unavailable",
}

# Every route may answer these, in the error shape (documented in /openapi.json).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": code.replace("_", " ")}
    for status, code in DEFAULT_CODES.items()
    if status not in (404, 405, 409)
}
BEARER = {"WWW-Authenticate": "Bearer"}


class ApiError(Exception):
    """An answer other than 200, in the error shape."""

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
    status: int,
    error: str,
    field: str | None = None,
    code: str | None = None,
    params: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "error": error,
        "code": code or DEFAULT_CODES.get(status, "error"),
        "field": field,
        "params": params or {},
    }


def locked(retry_after_s: int) -> ApiError:
    """Too many failed password checks for this login from this address."""
    return ApiError(
        429,
        "too many failed attempts: try again later",
        headers={"Retry-After": str(retry_after_s)},
        code="locked",
        params={"retry_after_s": retry_after_s},
    )


def wrong_device() -> ApiError:
    return ApiError(
        403,
        "device_id: this token was signed in on another device",
        "device_id",
        code="wrong_device",
    )


def store_busy(retry_after_s: int) -> ApiError:
    """The store sheds load rather than fall over: come back in `retry_after_s` (each
    answer a different delay, so that a herd of bars spreads out)."""
    return ApiError(
        503,
        f"the store is busy: try again in {retry_after_s} s",
        headers={"Retry-After": str(retry_after_s)},
        code="store_busy",
        params={"retry_after_s": retry_after_s},
    )


def bad_token() -> ApiError:
    return ApiError(401, "this token is not valid (revoked, expired or unknown)", headers=BEARER)


_PLACES = ("body", "query", "header", "path", "cookie")


def _validation_answer(exc: RequestValidationError) -> JSONResponse:
    """A pydantic refusal in the error shape: the first problem, its field as a dotted path
    ("events.3.seq"), pydantic's type and limits as params."""
    errors = exc.errors()
    first = errors[0] if errors else {}
    loc = [str(part) for part in first.get("loc", ())]
    if loc and loc[0] in _PLACES:
        loc = loc[1:]
    params: dict[str, Any] = {"type": first.get("type", "invalid")}
    for name, value in (first.get("ctx") or {}).items():
        if name != "type" and (isinstance(value, str | int | float | bool) or value is None):
            params[name] = value
    message = str(first.get("msg", "invalid request"))
    field = ".".join(loc) or None
    return JSONResponse(
        error_body(422, f"{field}: {message}" if field else message, field, params=params),
        status_code=422,
    )


def api_error_answer(exc: ApiError) -> JSONResponse:
    return JSONResponse(
        {"error": exc.error, "code": exc.code, "field": exc.field, "params": exc.params},
        status_code=exc.status,
        headers=exc.headers,
    )


def http_error_answer(exc: StarletteHTTPException) -> JSONResponse:
    """Starlette's own answers (an unknown path, a method the path does not take, a body it
    could not parse) in the error shape, their headers (Allow) kept."""
    return JSONResponse(
        error_body(exc.status_code, str(exc.detail)),
        status_code=exc.status_code,
        headers=dict(exc.headers or {}),
    )


def store_failure_answer(
    request: Request, exc: SQLAlchemyError, on_store_failure: Any
) -> JSONResponse:
    log.exception("store failure request_id=%s", request.scope.get("request_id"))
    on_store_failure(request, exc)
    return JSONResponse(
        error_body(503, "the store is unavailable, retry later"),
        status_code=503,
        headers={"Retry-After": "2"},
    )


def install(app: FastAPI, on_store_failure: Any) -> None:
    """The handlers that put every refusal in the error shape; `on_store_failure(request,
    exc)` is told of each store failure (the write-health watch)."""

    @app.exception_handler(SQLAlchemyError)
    async def store_failure(request: Request, exc: SQLAlchemyError) -> JSONResponse:
        return store_failure_answer(request, exc, on_store_failure)

    @app.exception_handler(ApiError)
    async def api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return api_error_answer(exc)

    @app.exception_handler(OutOfReach)
    async def out_of_reach(_request: Request, exc: OutOfReach) -> JSONResponse:
        return JSONResponse(error_body(403, str(exc), exc.field), status_code=403)

    @app.exception_handler(Unknown)
    async def unknown(_request: Request, exc: Unknown) -> JSONResponse:
        return JSONResponse(
            error_body(422, str(exc), exc.field, code="unknown_name"), status_code=422
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return http_error_answer(exc)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return _validation_answer(exc)
