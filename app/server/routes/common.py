"""What every router shares: the request class (bodies parsed by orjson, a malformed one a
400 in the error shape), the documented error answers, a fast JSON answer."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import date
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BeforeValidator

from app.server.errors import ERROR_RESPONSES, ApiError
from app.server.schemas import Kept


def parse_json(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        # Malformed, or nested past orjson's depth limit: never a RecursionError.
        raise HTTPException(400, f"malformed JSON: {exc}") from None


class JsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = parse_json(await self.body())
        return self._json


def _query_names(dependant: Dependant) -> frozenset[str]:
    """The query parameters a route takes, its dependencies' included."""
    names: set[str] = set()
    stack = [dependant]
    while stack:
        current = stack.pop()
        names.update(param.alias for param in current.query_params)
        stack.extend(current.dependencies)
    return frozenset(names)


class BandeauRoute(APIRoute):
    """A route whose bodies orjson parses, and which refuses a query parameter it does not
    take (`?agnet=paul` must not quietly answer for everyone)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        taken = _query_names(self.dependant)

        async def route(request: Request) -> Response:
            for name in request.query_params:
                if name not in taken:
                    raise ApiError(422, f"{name[:40]}: unknown parameter", name[:40])
            return await handler(JsonRequest(request.scope, request.receive))

        return route


def _day(text: object) -> date:
    if not isinstance(text, str) or len(text) != 10:
        raise ValueError("a day like 2026-11-27")
    found = date.fromisoformat(text)
    if not 1970 <= found.year <= 2999:
        raise ValueError("a day from 1970 to 2999")
    return found


# A day in the query (a local day of the site), written as ISO's YYYY-MM-DD and nothing
# else (pydantic's own date would take "0" as 1970-01-01); from 1970 to 2999, beyond which
# no report or export has anything to say.
Day = Annotated[date, Query(description="a day like 2026-11-27"), BeforeValidator(_day)]
Login = Annotated[str, Query(min_length=1, max_length=200), Kept]


def client_address(request: Request) -> str:
    """The client's address (the proxy's X-Forwarded-For when serve trusts that proxy)."""
    return request.client.host if request.client is not None else ""


def make_router(tag: str) -> APIRouter:
    return APIRouter(route_class=BandeauRoute, responses=ERROR_RESPONSES, tags=[tag])


def json_response(content: Any, status_code: int = 200) -> Response:
    """A JSON answer serialised by orjson, for the hot paths and the big lists (their model
    is documented by the route; tests check the answers against it)."""
    return Response(orjson.dumps(content), status_code, media_type="application/json")
