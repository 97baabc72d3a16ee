"""Who may call what: every endpoint without a token, with a dead token, and for each role."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.server.db import make_engine
from app.server.directory import disable_person
from tests.servers import PASSWORD, T0_MS, auth, wire_event

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


def _sign_in_on(client: TestClient, login: str, device: str | None) -> dict[str, str]:
    body: dict[str, Any] = {"login": login, "password": PASSWORD}
    if device is not None:
        body["device_id"] = device
    reply = client.post("/v1/signin", json=body)
    assert reply.status_code == 200, reply.text
    return {"Authorization": f"Bearer {reply.json()['token']}"}


def _post(client: TestClient, headers: dict[str, str], device: str, events: list[Any]) -> Any:
    return client.post(
        "/v1/events",
        headers=headers,
        json={"device_id": device, "sent_at_ms": T0_MS, "events": events},
    )


def test_a_colleagues_device_id_is_refused_and_takes_none_of_their_numbers(
    client: TestClient,
) -> None:
    """Paul sent events under Marie's device id: they were accepted, and Marie's own next
    events were refused (their (device, seq) taken) and quarantined on her bar. A token is
    now bound to its device, and (device, seq) is unique per person."""
    hers, his = str(uuid.uuid4()), str(uuid.uuid4())
    marie = _sign_in_on(client, "marie", hers)
    paul = _sign_in_on(client, "paul", his)
    forged = [wire_event(seq, agent="paul", device_id=hers) for seq in (1, 2, 3)]
    # With his own token: the envelope naming her device is refused whole...
    reply = _post(client, paul, hers, forged)
    assert (reply.status_code, reply.json()["code"]) == (403, "wrong_device")
    # ...and events naming it inside his device's batch, each on its own.
    body = _post(client, paul, his, forged).json()
    assert body["accepted"] == []
    assert {r["reason"].split(":")[0] for r in body["rejected"]} == {"device_id"}
    beat = {"device_id": hers, "sent_at_ms": T0_MS, "state": {}, "pending": 0}
    assert client.post("/v1/heartbeat", headers=paul, json=beat).status_code == 403
    # Even signed in under her device id, what he sends is his own and takes nothing of hers.
    paul_as_her_device = _sign_in_on(client, "paul", hers)
    body = _post(client, paul_as_her_device, hers, forged).json()
    assert len(body["accepted"]) == 3
    own = [wire_event(seq, device_id=hers) for seq in (1, 2, 3)]
    body = _post(client, marie, hers, own).json()
    assert body["accepted"] == [e["uuid"] for e in own], body
    assert body["rejected"] == []
    # And his events are not acknowledged to her (nor hers to him) by uuid.
    body = _post(client, paul_as_her_device, hers, [{**own[0], "agent": "paul"}]).json()
    assert body["accepted"] == [] and body["rejected"][0]["uuid"] == own[0]["uuid"]


def test_a_token_signed_in_without_a_device_is_bound_to_the_first_it_sends(
    client: TestClient,
) -> None:
    first, other = str(uuid.uuid4()), str(uuid.uuid4())
    marie = _sign_in_on(client, "marie", None)
    body = _post(client, marie, first, [wire_event(1, device_id=first)]).json()
    assert len(body["accepted"]) == 1
    beat = {"device_id": other, "sent_at_ms": T0_MS, "state": {}, "pending": 0}
    reply = client.post("/v1/heartbeat", headers=marie, json=beat)
    assert (reply.status_code, reply.json()["code"]) == (403, "wrong_device")
    body = _post(client, marie, first, [wire_event(2, device_id=other)]).json()
    assert body["accepted"] == [] and body["rejected"][0]["reason"].startswith("device_id")
    beat["device_id"] = first
    assert client.post("/v1/heartbeat", headers=marie, json=beat).status_code == 200


def test_a_correction_uuid_taken_by_another_shows_nothing_of_it(client: TestClient) -> None:
    lea, marie = auth(client, "lea"), auth(client, "marie")
    fix = {
        "uuid": str(uuid.uuid4()),
        "agent": "paul",
        "from_ms": T0_MS - 3_600_000,
        "to_ms": T0_MS - 3_000_000,
        "key": "off",
        "reason": "réunion d'équipe",
    }
    assert client.post("/v1/corrections", headers=lea, json=fix).status_code == 200
    # Marie knows the uuid (say, over a shoulder) and sends it as her own correction.
    mine = {**fix, "agent": "marie", "reason": "pause"}
    reply = client.post("/v1/corrections", headers=marie, json=mine)
    assert (reply.status_code, reply.json()["code"]) == (409, "uuid_taken")
    assert "paul" not in reply.text and "réunion" not in reply.text
