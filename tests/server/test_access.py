"""Who may call what: every endpoint without a token, with a dead token, and for each role."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.server.db import make_engine
from app.server.directory import disable_person
from tests.servers import T0_MS, auth, wire_event

ENDPOINTS = [
    ("get", "/v1/version"),
    ("get", "/v1/me"),
    ("get", "/v1/events"),
    ("post", "/v1/events"),
    ("post", "/v1/heartbeat"),
    ("post", "/v1/signout"),
    ("get", "/v1/report?from=2026-11-26&to=2026-11-27"),
    ("get", "/v1/stream"),
]


def send(client: TestClient, login: str, headers: dict[str, str], activity: str) -> str:
    device = str(uuid.uuid4())
    now = T0_MS
    event = wire_event(1, device_id=device, agent=login, activity=activity)
    body = client.post(
        "/v1/events",
        headers=headers,
        json={"device_id": device, "sent_at_ms": now, "events": [event]},
    ).json()
    assert body["accepted"] == [event["uuid"]], body
    return str(event["uuid"])


def readable(client: TestClient, headers: dict[str, str], **params: Any) -> Any:
    return client.get("/v1/events", headers=headers, params=params)


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_every_endpoint_needs_a_live_token(
    client: TestClient, store_url: str, method: str, path: str
) -> None:
    call = getattr(client, method)
    assert call(path).status_code == 401
    assert call(path, headers={"Authorization": "Bearer forged"}).status_code == 401
    headers = auth(client, "paul")
    engine = make_engine(store_url)
    with engine.begin() as conn:
        disable_person(conn, login="paul")
    engine.dispose()
    assert call(path, headers=headers).status_code == 401  # disabled: revoked at once


def test_what_each_role_reads(client: TestClient) -> None:
    marie, paul, zoe = auth(client, "marie"), auth(client, "paul"), auth(client, "zoe")
    lea, root = auth(client, "lea"), auth(client, "root")
    m_uuid = send(client, "marie", marie, "Assurance Auto")
    p_uuid = send(client, "paul", paul, "Banque Pro")
    z_uuid = send(client, "zoe", zoe, "Énergie")

    def uuids(reply: Any) -> set[str]:
        assert reply.status_code == 200, reply.text
        return {e["uuid"] for e in reply.json()["events"]}

    # An agent: their own events only.
    assert uuids(readable(client, marie)) == {m_uuid}
    assert uuids(readable(client, marie, agent="marie")) == {m_uuid}
    denied = readable(client, marie, agent="paul")
    assert denied.status_code == 403
    assert denied.json()["field"] == "agent"
    # A lead: the agents of their plateaux (Nord), not the others (Sud).
    assert uuids(readable(client, lea)) == {m_uuid, p_uuid}
    assert uuids(readable(client, lea, agent="paul")) == {p_uuid}
    assert readable(client, lea, agent="zoe").status_code == 403
    assert readable(client, lea, agent="ghost").status_code == 403
    # An admin: everyone.
    assert uuids(readable(client, root)) == {m_uuid, p_uuid, z_uuid}
    assert readable(client, root, agent="ghost").status_code == 422
    assert readable(client, root, **{"from": "yesterday"}).json()["field"] == "from"
    assert readable(client, root, limit=0).status_code == 422


def test_nobody_writes_for_someone_else(client: TestClient) -> None:
    lea = auth(client, "lea")
    device = str(uuid.uuid4())
    now = T0_MS
    event = wire_event(1, device_id=device, occurred_at_ms=now)  # marie's, sent by her lead
    body = client.post(
        "/v1/events", headers=lea, json={"device_id": device, "sent_at_ms": now, "events": [event]}
    ).json()
    assert body["accepted"] == []
    assert body["rejected"][0]["reason"].startswith("agent:")


def test_who_reports_on_whom(client: TestClient) -> None:
    period = {"from": "2026-11-26", "to": "2026-11-27"}

    def agents(headers: dict[str, str], **params: str) -> list[str]:
        reply = client.get("/v1/report", headers=headers, params=period | params)
        assert reply.status_code == 200, reply.text
        return sorted(row["agent"] for row in reply.json()["rows"])

    marie, lea, root = auth(client, "marie"), auth(client, "lea"), auth(client, "root")
    assert agents(marie) == ["marie"]  # "my month": their own, nobody else's
    for params in ({"agent": "paul"}, {"plateau": "Nord"}):
        reply = client.get("/v1/report", headers=marie, params=period | params)
        assert reply.status_code == 403
    assert agents(lea) == ["lea", "marie", "paul"]
    assert (
        client.get("/v1/report", headers=lea, params=period | {"plateau": "Sud"}).status_code == 403
    )
    assert agents(root, plateau="Sud") == ["zoe"]
    csv_reply = client.get(
        "/v1/report", headers=lea, params=period | {"format": "csv", "separator": ";"}
    )
    assert csv_reply.headers["content-type"].startswith("text/csv")
    assert csv_reply.content.startswith("\ufeff".encode())
    assert "attachment" in csv_reply.headers["content-disposition"]
    for params, field in (
        ({"format": "xml"}, "format"),
        ({"from": "yesterday"}, "from"),
        ({"by": "team"}, "by"),
        ({"plateau": "Nowhere"}, "plateau"),
    ):
        reply = client.get("/v1/report", headers=root, params=period | params)
        assert (reply.status_code, reply.json()["field"]) == (422, field), reply.text


def test_a_report_on_someone_who_does_not_exist_is_refused_as_a_colleagues_is(
    client: TestClient,
) -> None:
    """An agent (or a lead) could learn which logins exist from a 422 "no user" beside the
    403 for a colleague: the answers are now the same."""
    period = {"from": "2026-11-26", "to": "2026-11-27"}
    marie, lea, root = auth(client, "marie"), auth(client, "lea"), auth(client, "root")

    def answer(headers: dict[str, str], **params: str) -> tuple[int, Any]:
        reply = client.get("/v1/report", headers=headers, params=period | params)
        return reply.status_code, reply.json()

    assert answer(marie, agent="nosuchuser") == answer(marie, agent="paul")
    assert answer(marie, agent="nosuchuser")[0] == 403
    assert answer(lea, agent="nosuchuser") == answer(lea, agent="zoe")  # zoe: Sud, not lea's
    assert answer(lea, agent="nosuchuser")[0] == 403
    assert answer(lea, plateau="Nowhere") == answer(lea, plateau="Sud")
    assert answer(lea, agent="marie")[0] == 200  # her own plateau's agent
    assert answer(root, agent="nosuchuser")[0] == 422  # an admin sees the directory anyway
