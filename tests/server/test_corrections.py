"""Corrections through the API (SQLite and PostgreSQL): who may fix whose time, the audit
trail, and reports with and without them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from tests.servers import DEVICE, StoreClock, auth, wire_event

MIN = 60_000


def fix(
    agent: str, start: int, end: int, key: str | None, reason: str = "oubli", **more: Any
) -> Any:
    return {
        "uuid": str(uuid.uuid4()),
        "agent": agent,
        "from_ms": start,
        "to_ms": end,
        "key": key,
        "reason": reason,
    } | more


def test_who_may_correct_whom_and_the_audit_trail(
    client: TestClient, store_clock: StoreClock
) -> None:
    marie, paul, lea, zoe, root = (
        auth(client, who) for who in ("marie", "paul", "lea", "zoe", "root")
    )
    t = store_clock()
    own = fix("marie", t - 30 * MIN, t - 20 * MIN, "pause", "j'étais en pause")
    reply = client.post("/v1/corrections", headers=marie, json=own)
    assert reply.status_code == 200, reply.text
    assert reply.json()["author"] == "marie"
    again = client.post("/v1/corrections", headers=marie, json=own)  # the same, resent
    assert again.status_code == 200 and again.json()["uuid"] == own["uuid"]
    refusals = [
        (marie, fix("paul", t - 30 * MIN, t - 20 * MIN, "pause"), 403, "agent"),
        (
            marie,
            fix("marie", t - 8 * 24 * 60 * MIN, t - 8 * 24 * 60 * MIN + MIN, "off"),
            403,
            "from_ms",
        ),
        (marie, fix("marie", t, t + 60 * MIN, "off"), 422, "to_ms"),
        (marie, fix("marie", t - 2 * MIN, t - 3 * MIN, "off"), 422, "to_ms"),
        (marie, fix("marie", t - 9 * MIN, t - 3 * MIN, "lunch"), 422, "key"),
        (marie, fix("marie", t - 9 * MIN, t - 3 * MIN, "off", reason="  "), 422, "reason"),
        (marie, fix("marie", t - 9 * MIN, t - 3 * MIN, "off", activity="Énergie"), 422, "activity"),
        (marie, fix("marie", t - 9 * MIN, t - 3 * MIN, "off") | {"uuid": "nope"}, 422, "uuid"),
        (marie, fix("marie", t - 9 * MIN, t - 3 * MIN, "off") | {"extra": 1}, 422, "extra"),
        (lea, fix("zoe", t - 30 * MIN, t - 20 * MIN, "off"), 403, "agent"),  # not her plateau
        # Someone who does not exist is refused as a colleague out of reach is: neither a
        # lead nor an agent learns which logins exist from a correction.
        (lea, fix("nobody", t - 30 * MIN, t - 20 * MIN, "off"), 403, "agent"),
        (marie, fix("nobody", t - 9 * MIN, t - 3 * MIN, "off"), 403, "agent"),
        (root, fix("nobody", t - 30 * MIN, t - 20 * MIN, "off"), 422, "agent"),
    ]
    for headers, body, status, field in refusals:
        reply = client.post("/v1/corrections", headers=headers, json=body)
        assert (reply.status_code, reply.json()["field"]) == (status, field), reply.text
    # Each refusal carries a stable code and what its wording needs.
    codes = [
        client.post("/v1/corrections", headers=h, json=b).json()
        for h, b, _status, _field in refusals[:3]
    ]
    assert [(c["code"], c["params"]) for c in codes] == [
        ("not_own_time", {}),
        ("correction_too_old", {"days": 7}),
        ("in_the_future", {}),
    ]
    lead_fix = fix(
        "paul",
        t - 40 * 24 * 60 * MIN,
        t - 40 * 24 * 60 * MIN + 60 * MIN,
        None,
        "fin de service oubliée",
        off_shift=True,
    )
    assert client.post("/v1/corrections", headers=lea, json=lead_fix).status_code == 200
    assert (
        client.post(
            "/v1/corrections", headers=root, json=fix("zoe", t - 5 * MIN, t - MIN, "off")
        ).status_code
        == 200
    )
    # The audit trail: each sees what concerns them.
    seen = {
        who: [
            (c["agent"], c["author"])
            for c in client.get("/v1/corrections", headers=h).json()["corrections"]
        ]
        for who, h in (("marie", marie), ("paul", paul), ("lea", lea), ("zoe", zoe), ("root", root))
    }
    assert seen["marie"] == [("marie", "marie")]
    assert seen["paul"] == [("paul", "lea")]
    assert sorted(seen["lea"]) == [("marie", "marie"), ("paul", "lea")]
    assert seen["zoe"] == [("zoe", "root")] and len(seen["root"]) == 3
    assert client.get("/v1/corrections", headers=marie, params={"agent": "paul"}).status_code == 403
    trail = client.get("/v1/corrections", headers=lea, params={"agent": "paul"}).json()[
        "corrections"
    ]
    assert trail[0]["reason"] == "fin de service oubliée" and trail[0]["off_shift"] is True


def test_reports_use_corrections_and_can_show_the_original(
    client: TestClient, store_clock: StoreClock
) -> None:
    marie = auth(client, "marie")
    t = store_clock() - 2 * 60 * MIN
    events = [
        wire_event(1, kind="shift_start", key=None, occurred_at_ms=t),
        wire_event(2, key="production", occurred_at_ms=t),
        wire_event(3, key="pause", occurred_at_ms=t + 50 * MIN),  # clicked 20 min late
        wire_event(4, key="production", occurred_at_ms=t + 60 * MIN),
        wire_event(5, kind="shift_end", key=None, occurred_at_ms=t + 90 * MIN),
    ]
    sent = client.post(
        "/v1/events",
        headers=marie,
        json={"device_id": DEVICE, "sent_at_ms": store_clock(), "events": events},
    )
    assert len(sent.json()["accepted"]) == 5
    late = fix("marie", t + 30 * MIN, t + 50 * MIN, "pause", "en pause depuis la demi")
    assert client.post("/v1/corrections", headers=marie, json=late).status_code == 200
    day = datetime.fromtimestamp(t / 1000, ZoneInfo("Europe/Paris")).date().isoformat()
    period = {"from": day, "to": day}

    def figures(**params: str) -> Any:
        reply = client.get("/v1/report", headers=marie, params=period | params)
        assert reply.status_code == 200, reply.text
        return reply.json()["rows"][0]

    corrected, original = figures(), figures(original="true")
    assert (original["pause_s"], corrected["pause_s"]) == (10 * 60, 30 * 60)
    assert corrected["presence_s"] == original["presence_s"] == 90 * 60  # no time created
    assert corrected["corrections"] == 1 and original["corrections"] == 0
    assert corrected["pauses"] == 1  # the corrected and the clicked pause are one pause
