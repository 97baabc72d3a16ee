"""The API as documented: `/openapi.json` describes every call a client makes, bodies
included; the documented batch model and the hand-written ingest checks agree; and
schemathesis, fuzzing a real server from that document with a token of each role, finds
no 5xx and no answer that breaks its schema."""

from __future__ import annotations

import copy
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from fastapi.routing import APIRoute
from hypothesis import HealthCheck, given, settings
from pydantic import ValidationError
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from app.server import ingest, schemas
from app.server.access import Person
from app.server.api import ROUTERS, ServerConfig, create_app
from app.server.db import make_engine
from app.server.directory import NewPerson, add_person
from app.server.security import hash_password
from tests.servers import PASSWORD, T0_MS, Served, seed, start_server, stop_server, wire_event


def _document() -> dict[str, Any]:
    return create_app(ServerConfig("sqlite://", migrate_on_start=False)).openapi()


def test_the_document_describes_every_route_and_its_bodies() -> None:
    app = create_app(ServerConfig("sqlite://", migrate_on_start=False))
    document = app.openapi()
    paths = document["paths"]
    routes = {
        (method.lower(), route.path)
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    }
    documented = {(method, path) for path, ops in paths.items() for method in ops}
    assert routes == documented
    for path, ops in paths.items():
        for method, op in ops.items():
            if method == "post" and path != "/v1/signout":
                body = op["requestBody"]["content"]["application/json"]["schema"]
                assert body["$ref"].startswith("#/components/schemas/"), (method, path)
            ok = op["responses"]["200"]["content"]
            assert any(kind.get("schema") for kind in ok.values()) or path == "/v1/stream", path
            for status in ("401", "422"):
                if path != "/health":
                    error = op["responses"][status]["content"]["application/json"]["schema"]
                    assert error == {"$ref": "#/components/schemas/ErrorBody"}, (path, status)
    shown = document["components"]["schemas"]
    event = shown["EventIn"]["properties"]
    assert event["seq"]["maximum"] == schemas.MAX_INT and event["seq"]["minimum"] == 1
    assert shown["EventBatch"]["properties"]["events"]["maxItems"] == schemas.MAX_BATCH
    assert document["paths"]["/v1/events"]["post"]["requestBody"]["content"]["application/json"][
        "schema"
    ] == {"$ref": "#/components/schemas/EventBatch"}


# --- the batch model and the hand checks -----------------------------------------------

MARIE = Person(1, "marie", "Marie", "agent", (1,))
ACTIVITIES = {"Assurance Auto": (1, 1)}


def _by_hand(event: dict[str, Any]) -> str | None:
    try:
        ingest.check_event(event, MARIE, ACTIVITIES, now_ms=T0_MS, offset_ms=0)
    except ValueError as exc:
        return str(exc).split(":")[0]
    return None


def _by_model(event: dict[str, Any]) -> str | None:
    try:
        schemas.EventIn.model_validate(event)
    except ValidationError as exc:
        return str(exc.errors()[0]["loc"][0])
    return None


GOOD = wire_event(1, occurred_at_ms=T0_MS)
# Each a change the model can judge alone (no login, activity or clock involved).
CHANGES: list[tuple[str, Any]] = [
    ("seq", 0),
    ("seq", 2**53),
    ("seq", 2**53 - 1),
    ("seq", True),
    ("seq", "5"),
    ("seq", 1.5),
    ("monotonic_ms", -1),
    ("monotonic_ms", 2**63),
    ("uuid", "not-a-uuid"),
    ("uuid", str(uuid.uuid4()).upper()),
    ("device_id", 7),
    ("kind", "lunch"),
    ("key", "lunch"),
    ("key", None),
    ("note", "x" * 200),
    ("note", "x" * 201),
    ("tz", "x" * 65),
    ("utc_offset_s", 18 * 3600 + 1),
    ("utc_offset_s", -18 * 3600),
    ("clock_jump_ms", 2**53),
    ("clock_jump_ms", -(2**53) + 1),
    ("activity", 3),
    ("extra", 1),
]


@pytest.mark.parametrize(("field", "value"), CHANGES)
def test_the_batch_model_and_the_ingest_checks_agree(field: str, value: Any) -> None:
    event = copy.deepcopy(GOOD)
    event[field] = value
    if field == "key" and value is None:
        event["kind"] = "shift_start"  # a status needs a key: a rule beyond the model's
    assert _by_hand(event) == _by_model(event), (field, value)


def test_the_documented_batch_is_what_a_bar_sends() -> None:
    batch = {"device_id": GOOD["device_id"], "sent_at_ms": T0_MS, "events": [GOOD]}
    schemas.EventBatch.model_validate(batch)
    assert _by_hand(GOOD) is None


# --- schemathesis against a real server ------------------------------------------------

ROLES = {"agent": "marie", "lead": "lea", "admin": "root"}
# Per call and mode: the whole fuzz stays within a minute or two (BANDEAU_FUZZ_EXAMPLES
# for a longer run, as the README's Reliability section did).
EXAMPLES = int(os.environ.get("BANDEAU_FUZZ_EXAMPLES", "25"))


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    path: Path = tmp_path_factory.mktemp("fuzzed") / "store.sqlite3"
    url = f"sqlite:///{path}"
    seed(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        add_person(
            conn, NewPerson("root", "Admin", "admin", ()), password_hash=hash_password(PASSWORD)
        )
    engine.dispose()
    served = start_server(url)
    yield served
    stop_server(served)


def _token(served: Served, login: str) -> str:
    reply = httpx.post(
        f"{served.base_url}/v1/signin", json={"login": login, "password": PASSWORD}, timeout=30
    )
    assert reply.status_code == 200, reply.text
    return str(reply.json()["token"])


@pytest.fixture(scope="module")
def tokens(fuzzed: Served) -> dict[str, str]:
    return {role: _token(fuzzed, login) for role, login in ROLES.items()}


@pytest.fixture(scope="module")
def spare_tokens(fuzzed: Served, tokens: dict[str, str]) -> dict[str, list[str]]:
    """Tokens for the sign-out calls (each revokes one), minted before anything else runs:
    the fuzzed password changes lock each role's login out of new sign-ins meanwhile."""
    return {
        role: [_token(fuzzed, login) for _ in range(2 * EXAMPLES + 10)]
        for role, login in ROLES.items()
    }


@pytest.fixture(scope="module")
def api_schema(fuzzed: Served) -> Any:
    return schemathesis.openapi.from_url(f"{fuzzed.base_url}/openapi.json")


# Every documented call but the stream, which never ends by design (it has its own tests:
# tests/server/test_stream.py); outside the document too for those that take an input.
CALLS = sorted(
    (method.upper(), path, mode)
    for path, ops in _document()["paths"].items()
    for method, op in ops.items()
    if path != "/v1/stream"
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode == GenerationMode.POSITIVE or op.get("parameters") or op.get("requestBody")
)


def _excluded(method: str, path: str) -> list[Any]:
    """Checks that do not apply. A call within the document may still be refused for a
    rule no schema can say (a correction's end after its start, the 7-day rule, a report
    over a year, 5.0 where a whole number is wanted): those are 4xx by design. And a
    batch's bad event is refused on its own, in `rejected` (a 200), by design: what holds
    instead is that no event the model refuses is ever stored."""
    excluded: list[Any] = [positive_data_acceptance]
    if (method, path) == ("POST", "/v1/events"):
        excluded.append(negative_data_rejection)
    return excluded


def _no_event_the_model_refuses_is_stored(body: Any, answer: dict[str, Any]) -> None:
    accepted = set(answer["accepted"])
    for event in body.get("events", []) if isinstance(body, dict) else []:
        if isinstance(event, dict) and _by_model(event) is not None:
            assert str(event.get("uuid", "")).lower() not in accepted, event


@pytest.mark.slow
@pytest.mark.parametrize(("method", "path", "mode"), CALLS)
def test_no_call_answers_a_5xx_or_breaks_its_schema(
    method: str,
    path: str,
    mode: GenerationMode,
    api_schema: Any,
    fuzzed: Served,
    tokens: dict[str, str],
    spare_tokens: dict[str, list[str]],
) -> None:
    """Calls generated from the document (within it, and outside it), each made as an
    agent, a lead and an admin: no 5xx, no answer outside its documented schema, and what
    the document forbids is refused."""
    operation = api_schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def calls(case: Any) -> None:
        for role in ROLES:
            token = tokens[role]
            if path == "/v1/signout":  # the role's own token stays good for the rest
                token = spare_tokens[role].pop() if spare_tokens[role] else token
            headers = {"Authorization": f"Bearer {token}"}
            response = case.call(base_url=fuzzed.base_url, headers=headers)
            case.validate_response(response, excluded_checks=_excluded(method, path))
            if (method, path) == ("POST", "/v1/events") and response.status_code == 200:
                _no_event_the_model_refuses_is_stored(case.body, response.json())

    calls()


def test_the_readmes_protocol_table_is_the_documents() -> None:
    """The README's table of calls names every documented call, nothing else, and in each
    row every body field and query parameter the call takes."""
    text = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = text.split("### The store's protocol (`/v1`)", 1)[1].split("\n#", 1)[0]
    rows: dict[tuple[str, str], str] = {}
    for line in section.splitlines():
        if line.startswith("| `"):
            cells = line.split(" | ")
            for method, path in re.findall(r"`(GET|POST) (/[\w/]*)`", cells[0]):
                rows[(method, path)] = line
    document = _document()
    schemas_ = document["components"]["schemas"]
    calls = {(m.upper(), p) for p, ops in document["paths"].items() for m in ops}
    assert set(rows) == calls
    for (method, path), line in rows.items():
        op = document["paths"][path][method.lower()]
        named = set(re.findall(r"`(\w+)`", line))
        wanted = {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
        body = op.get("requestBody", {}).get("content", {}).get("application/json")
        if body is not None:
            model = schemas_[body["schema"]["$ref"].rsplit("/", 1)[1]]
            wanted |= set(model["properties"])
        assert wanted <= named, (method, path, sorted(wanted - named))
