"""The HTTP service: health, sign-in and lockout, tokens, event ingest and its bad inputs.

FastAPI's TestClient runs the real app in-process against a real store (SQLite and
PostgreSQL); tests/server/test_serve.py does the same through a real uvicorn.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import threading
import uuid as uuidlib
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from app.domain.events import new_uuid
from app.server import models as m
from app.server.api import (
    GC_THRESHOLDS,
    SWITCH_INTERVAL_S,
    BandeauApp,
    ServerConfig,
    create_app,
)
from app.server.db import make_engine
from tests.servers import DEVICE, PASSWORD, T0_MS, StoreClock, seed, wire_event


@pytest.fixture
def client(store_url: str, store_clock: StoreClock) -> Iterator[TestClient]:
    """The app on the test clock (from T0, as the events here are dated): today's date
    changes nothing, and neither does the clock moved ahead in CI."""
    seed(store_url)
    with TestClient(create_app(ServerConfig(store_url, clock=store_clock))) as test_client:
        yield test_client


def sign_in(client: TestClient, login: str = "marie") -> dict[str, str]:
    reply = client.post(
        "/v1/signin", json={"login": login, "password": PASSWORD, "device_id": DEVICE}
    )
    assert reply.status_code == 200, reply.text
    return {"Authorization": f"Bearer {reply.json()['token']}"}


def event(seq: int, **over: Any) -> dict[str, Any]:
    return wire_event(seq, **over)


def batch(events: list[dict[str, Any]], **over: Any) -> dict[str, Any]:
    body = {"device_id": DEVICE, "sent_at_ms": T0_MS, "events": events}
    body.update(over)
    return body


def a_correction(**over: Any) -> dict[str, Any]:
    """A lead's correction of marie's hour before T0 (off: a training forgotten)."""
    body = {
        "uuid": str(uuidlib.uuid4()),
        "agent": "marie",
        "from_ms": T0_MS - 3_600_000,
        "to_ms": T0_MS - 3_000_000,
        "key": "off",
        "reason": "formation oubliée",
    }
    body.update(over)
    return body


def stored_count(url: str) -> int:
    engine = make_engine(url)
    with engine.connect() as conn:
        count = int(conn.execute(select(func.count()).select_from(m.events)).scalar_one())
    engine.dispose()
    return count


def test_health_needs_no_token_everything_else_does(client: TestClient) -> None:
    health = client.get("/health")
    assert health.status_code == 200
    assert health.json() == {"status": "ok"}
    assert health.headers["X-Request-ID"]
    for method, path in (
        ("get", "/v1/version"),
        ("get", "/v1/me"),
        ("post", "/v1/events"),
        ("post", "/v1/signout"),
    ):
        reply = getattr(client, method)(path)
        assert reply.status_code == 401, path
        assert reply.json()["error"]
    assert client.get("/v1/me", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_sign_in_and_me(client: TestClient) -> None:
    headers = sign_in(client)
    me = client.get("/v1/me", headers=headers).json()
    assert me["person"] == {
        "login": "marie",
        "name": "Marie",
        "role": "agent",
        "must_change_password": False,
    }
    (plateau,) = me["plateaux"]
    assert plateau["activities"] == ["Assurance Auto", "Banque Pro"]
    assert plateau["keys"]["off"] == {"label": "Hors production", "colour": "#1a73e8"}
    assert client.get("/v1/version", headers=headers).json()["api"] == "v1"


def test_wrong_passwords_lock_the_login(client: TestClient) -> None:
    for _ in range(4):
        reply = client.post("/v1/signin", json={"login": "paul", "password": "wrong pass"})
        assert reply.status_code == 401
        assert reply.json() == {
            "error": "wrong login or password",
            "code": "wrong_credentials",  # stable: the client words it in French or English
            "field": None,
            "params": {},
        }
    assert (
        client.post("/v1/signin", json={"login": "paul", "password": "nope!"}).status_code == 401
    )  # the fifth: now locked
    locked = client.post("/v1/signin", json={"login": "paul", "password": PASSWORD})
    assert locked.status_code == 429
    assert 0 < int(locked.headers["Retry-After"]) <= 300
    assert locked.json()["code"] == "locked"
    assert locked.json()["params"] == {"retry_after_s": int(locked.headers["Retry-After"])}
    unknown = client.post("/v1/signin", json={"login": "ghost", "password": PASSWORD})
    assert unknown.status_code == 401
    assert (
        unknown.json()
        == client.post("/v1/signin", json={"login": "marie", "password": "bad password"}).json()
    )


def test_an_unknown_login_is_answered_exactly_as_a_known_one(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Never a 429 for a login that does not exist used to tell which logins exist: the same
    answers now, in the same order, and one password check on each path (the same time)."""
    from app.server import auth, security

    checks: list[str] = []
    real = security.verify_password

    def counted(password: str, stored: str | None) -> bool:
        checks.append("check")
        return real(password, stored)

    monkeypatch.setattr(auth, "verify_password", counted)

    def attempts(login: str) -> list[tuple[int, Any, str | None]]:
        seen = []
        for _ in range(6):
            reply = client.post("/v1/signin", json={"login": login, "password": "wrong pass"})
            seen.append((reply.status_code, reply.json(), reply.headers.get("Retry-After")))
        return seen

    known = attempts("paul")
    assert len(checks) == 6
    ghost = attempts("ghost")
    assert len(checks) == 12
    assert ghost == known
    assert [status for status, _body, _after in known] == [401] * 5 + [429]


def test_failures_from_one_address_do_not_lock_the_person_out_elsewhere(store_url: str) -> None:
    """Five wrong passwords typed for paul on a colleague's PC lock paul there only: his own
    PC signs him in, and a new password unlocks him everywhere."""
    from app.server import auth, directory
    from app.server.security import hash_password

    seed(store_url)
    engine = make_engine(store_url)
    try:
        for _ in range(auth.MAX_FAILURES):
            with pytest.raises(auth.SignInRefused):
                auth.sign_in(
                    engine, login="paul", password="nope", device_id=None, address="10.0.0.66"
                )
        with pytest.raises(auth.SignInRefused) as locked:
            auth.sign_in(
                engine, login="paul", password=PASSWORD, device_id=None, address="10.0.0.66"
            )
        assert locked.value.locked_for_s > 0
        mine = auth.sign_in(
            engine, login="Paul ", password=PASSWORD, device_id=None, address="10.0.0.12"
        )
        assert mine.person.login == "paul"
        with engine.begin() as conn:
            directory.set_password(conn, login="paul", password_hash=hash_password("N3w-pass!"))
        again = auth.sign_in(
            engine, login="paul", password="N3w-pass!", device_id=None, address="10.0.0.66"
        )
        assert again.person.login == "paul"
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"login": "marie"}, "password"),
        ({"login": "", "password": "x"}, "login"),
        ({"login": "marie", "password": PASSWORD, "admin": True}, "admin"),
        ({"login": "marie", "password": PASSWORD, "device_id": 5}, "device_id"),
    ],
)
def test_bad_sign_in_requests(client: TestClient, body: dict[str, Any], field: str) -> None:
    reply = client.post("/v1/signin", json=body)
    assert reply.status_code == 422
    assert reply.json()["field"] == field


def test_signout_revokes_the_token(client: TestClient) -> None:
    headers = sign_in(client)
    assert client.post("/v1/signout", headers=headers).json() == {"revoked": True}
    assert client.get("/v1/me", headers=headers).status_code == 401


def test_events_are_stored_once(client: TestClient, store_url: str) -> None:
    headers = sign_in(client)
    events = [event(1, kind="shift_start", key=None), event(2), event(3, key="production")]
    first = client.post("/v1/events", json=batch(events), headers=headers).json()
    assert first["accepted"] == [e["uuid"] for e in events]
    assert first["rejected"] == []
    assert first["received_at_ms"] <= first["replied_at_ms"]
    # The same batch again (a lost acknowledgement): all acknowledged, nothing doubled.
    again = client.post("/v1/events", json=batch(events), headers=headers).json()
    assert again["accepted"] == first["accepted"]
    assert stored_count(store_url) == 3


def test_one_poison_event_does_not_block_the_others(client: TestClient, store_url: str) -> None:
    headers = sign_in(client)
    good = [event(1), event(2)]
    poison: list[Any] = [
        event(3, key="lunch"),
        event(4, activity="Énergie"),  # another plateau's activity
        event(5, agent="paul"),
        event(6, uuid="not-a-uuid"),
        event(7, note="x" * 201),
        event(8, occurred_at_ms=T0_MS + 3_600_000),
        {**event(9), "seq": "nine"},
        event(10, colour="red"),
        # A newline after a uuid passed a check ending in "$" (found in review).
        event(11, uuid=new_uuid() + "\n"),
        "not an object",
        event(1),  # a second event claiming (device, seq 1)
    ]
    reply = client.post("/v1/events", json=batch([good[0], *poison, good[1]]), headers=headers)
    assert reply.status_code == 200
    body = reply.json()
    assert body["accepted"] == [good[0]["uuid"], good[1]["uuid"]]
    reasons = [r["reason"] for r in body["rejected"]]
    assert len(reasons) == len(poison)
    for expected in (
        "key:",
        "activity:",
        "agent:",
        "uuid:",
        "note:",
        "occurred_at_ms:",
        "seq:",
        "colour: unknown field",
        "an event is a JSON object",
        "seq: this device already sent",
    ):
        assert any(r.startswith(expected) for r in reasons), expected
    assert stored_count(store_url) == 2


# What an array literal, a VALUES list or a driver could take for something else.
AWKWARD_NOTES = ["NULL", "", "{a,b}", '"quoted"', "back\\slash", "a, b", "(1)", "é 🎧 ü", " "]


def test_every_value_of_a_batch_is_stored_exactly_as_sent(
    client: TestClient, store_url: str
) -> None:
    """Whatever the statement a batch is inserted with (PostgreSQL: one array a column),
    a note, a null and a number come back as they went: "NULL" is not a null, nor "" one."""
    headers = sign_in(client)
    sent = [
        event(seq, note=note, clock_jump_ms=None if seq % 2 else -seq * 1000)
        for seq, note in enumerate([*AWKWARD_NOTES, None], start=1)
    ]
    sent.append(event(len(sent) + 1, kind="shift_start", key=None, activity=None))
    plain = [event(seq) for seq in range(20, 220)]  # notes and jumps all null: a batch of 200
    for events in (sent, plain):
        reply = client.post("/v1/events", json=batch(events), headers=headers)
        assert reply.status_code == 200, reply.text
        assert reply.json()["accepted"] == [e["uuid"] for e in events]
    engine = make_engine(store_url)
    with engine.connect() as conn:
        rows = {r.uuid: r for r in conn.execute(select(m.events))}
    engine.dispose()
    assert len(rows) == len(sent) + len(plain)
    for e in [*sent, *plain]:
        row = rows[e["uuid"]]
        assert (row.note, row.clock_jump_ms, row.key, row.seq, row.tz_name) == (
            e["note"],
            e["clock_jump_ms"],
            e["key"],
            e["seq"],
            e["tz"],
        )
        assert (row.activity_id is None) == (e["activity"] is None)


def test_a_nul_character_is_refused_by_name_never_a_store_failure(
    client: TestClient, store_url: str
) -> None:
    """PostgreSQL's text holds no U+0000: a note carrying one made the whole batch a 503
    (the store's failure, counted against /health), its good events with it, again at every
    retry; a login carrying one made the sign-in a 503. Each is now refused as bad input,
    by name, on both stores — the event alone, the rest stored."""
    marie, lea = sign_in(client), sign_in(client, "lea")
    good = [event(1), event(4)]
    poisoned = [event(2, note="rendez-vous\x00"), event(3, tz="Europe/Paris\x00")]
    reply = client.post("/v1/events", json=batch([good[0], *poisoned, good[1]]), headers=marie)
    assert reply.status_code == 200, reply.text
    assert reply.json()["accepted"] == [e["uuid"] for e in good]
    reasons = sorted(r["reason"] for r in reply.json()["rejected"])
    assert [r.split(":")[0] for r in reasons] == ["note", "tz"]
    assert all("NUL" in r for r in reasons)
    assert stored_count(store_url) == 2
    fix = a_correction(reason="formation")
    refused = [
        client.post("/v1/signin", json={"login": "marie\x00", "password": PASSWORD}),
        client.post("/v1/corrections", json={**fix, "agent": "ma\x00rie"}, headers=lea),
        client.post("/v1/corrections", json={**fix, "reason": "\x00"}, headers=lea),
        client.post("/v1/corrections", json={**fix, "activity": "Banque\x00"}, headers=lea),
        client.get("/v1/events", params={"agent": "marie\x00"}, headers=lea),
        client.get("/v1/corrections", params={"agent": "marie\x00"}, headers=lea),
        client.get(
            "/v1/report",
            params={"from": "2026-11-01", "to": "2026-11-02", "plateau": "Nord\x00"},
            headers=lea,
        ),
    ]
    for answer, field in zip(
        refused, ["login", "agent", "reason", "activity", "agent", "agent", "plateau"], strict=True
    ):
        assert answer.status_code == 422, answer.text
        assert answer.json()["field"].split(".")[-1] == field, answer.text
        assert "NUL" in answer.json()["error"]
    assert client.get("/health").json() == {"status": "ok"}  # no store failure counted


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"events": "x", "sent_at_ms": 1}, 422, "events"),
        ({"events": []}, 422, "sent_at_ms"),
        ({"events": [], "sent_at_ms": "now"}, 422, "sent_at_ms"),
        ({"events": [], "sent_at_ms": 1, "extra": 1}, 422, "extra"),
        ({"events": [], "sent_at_ms": 1, "clock_offset_ms": 1.5}, 422, "clock_offset_ms"),
        ({"events": [{}] * 501, "sent_at_ms": 1}, 413, "events"),
    ],
)
def test_bad_batches_write_nothing(
    client: TestClient, store_url: str, body: dict[str, Any], status: int, field: str
) -> None:
    reply = client.post("/v1/events", json=body, headers=sign_in(client))
    assert reply.status_code == status
    assert reply.json()["field"] == field
    assert stored_count(store_url) == 0


def test_malformed_and_oversized_bodies(client: TestClient) -> None:
    headers = {**sign_in(client), "Content-Type": "application/json"}
    reply = client.post("/v1/events", content=b"{not json", headers=headers)
    assert reply.status_code == 400
    assert "malformed JSON" in reply.json()["error"]
    huge = b'{"events": [], "sent_at_ms": 1, "pad": "' + b"x" * 1_100_000 + b'"}'
    assert client.post("/v1/events", content=huge, headers=headers).status_code == 413


def test_clock_offset_corrects_times(client: TestClient, store_url: str) -> None:
    headers = sign_in(client)
    fast_pc = T0_MS + 7 * 60_000  # a PC clock 7 minutes fast (the store's is at T0)
    ev = event(1, occurred_at_ms=fast_pc)
    envelope = {"sent_at_ms": fast_pc, "clock_offset_ms": -7 * 60_000}  # all by the PC's clock
    body = client.post("/v1/events", json=batch([ev], **envelope), headers=headers).json()
    assert body["accepted"] == [ev["uuid"]]
    engine = make_engine(store_url)
    with engine.connect() as conn:
        row = conn.execute(select(m.events)).mappings().one()
    engine.dispose()
    assert row["client_at"] == fast_pc
    assert row["corrected_at"] == fast_pc - 7 * 60_000
    assert row["clock_offset_ms"] == -7 * 60_000


def test_numbers_out_of_range_are_refused_per_event_never_a_500(
    client: TestClient, store_url: str
) -> None:
    """seq or monotonic_ms at 2^63 made the insert fail: a 500, and the whole batch with it.
    Now each is refused on its own, naming its field; so is a time outside the sane window
    (30 years ago, or -2^62), which used to be stored — and to break every later report."""
    headers = sign_in(client)
    good = event(1)
    huge = 2**63
    bad = [
        {**event(2), "seq": huge},
        event(3, monotonic_ms=huge),
        event(4, monotonic_ms=-1),
        event(5, clock_jump_ms=-huge),
        event(6, occurred_at_ms=-(2**62)),
        event(7, occurred_at_ms=T0_MS - 30 * 365 * 24 * 3600 * 1000),
    ]
    reply = client.post("/v1/events", json=batch([good, *bad]), headers=headers)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["accepted"] == [good["uuid"]]
    reasons = sorted(r["reason"].split(":")[0] for r in body["rejected"])
    assert reasons == sorted(
        ["seq", "monotonic_ms", "monotonic_ms", "clock_jump_ms", "occurred_at_ms", "occurred_at_ms"]
    )
    assert stored_count(store_url) == 1
    for envelope in ({"sent_at_ms": huge}, {"clock_offset_ms": -huge}):
        reply = client.post("/v1/events", json=batch([event(9)], **envelope), headers=headers)
        assert reply.status_code == 422 and reply.json()["field"] in envelope
    period = {"from": "2026-11-26", "to": "2026-11-27", "by": "agent"}
    assert client.get("/v1/report", params=period, headers=headers).status_code == 200


def test_a_devices_heartbeats_keep_one_row_with_the_latest(
    client: TestClient, store_url: str, store_clock: StoreClock
) -> None:
    headers = sign_in(client)
    for state, pending in (({"key": "pause"}, 3), ({"key": "production", "n": "NULL"}, 0)):
        beat = {"device_id": DEVICE, "sent_at_ms": T0_MS, "state": state, "pending": pending}
        assert client.post("/v1/heartbeat", json=beat, headers=headers).status_code == 200
        store_clock.advance(1000)
    engine = make_engine(store_url)
    with engine.connect() as conn:
        rows = conn.execute(select(m.presence)).all()
    engine.dispose()
    assert [(r.device_id, json.loads(r.state), r.pending) for r in rows] == [
        (DEVICE, {"key": "production", "n": "NULL"}, 0)
    ]
    assert T0_MS + 1000 <= rows[0].last_seen_at <= store_clock()  # the second, not the first


def test_a_heartbeat_out_of_range_is_refused_not_cut(client: TestClient) -> None:
    headers = sign_in(client)
    beat = {"device_id": DEVICE, "sent_at_ms": T0_MS, "state": {}, "pending": 2**63}
    reply = client.post("/v1/heartbeat", json=beat, headers=headers)
    assert reply.status_code == 422 and reply.json()["field"] == "pending"
    long_state = {"note": "x" * 3000}
    reply = client.post(
        "/v1/heartbeat", json={**beat, "pending": 0, "state": long_state}, headers=headers
    )
    assert reply.status_code == 422 and reply.json()["field"] == "state"
    reply = client.post("/v1/heartbeat", json={**beat, "pending": 3}, headers=headers)
    assert reply.status_code == 200


def test_a_bad_heartbeat_is_told_only_to_its_tokens_owner(client: TestClient) -> None:
    """The token is checked first (in the heartbeat's write), so a stranger learns nothing
    of the body's rules; the owner is told what is wrong in the error shape, as before."""
    forged = {"Authorization": "Bearer forged"}
    bodies: list[bytes] = [b"", b"{not json", b"[]", b'{"device_id": "x"}', b'{"pending": -1}']
    for raw in bodies:
        reply = client.post("/v1/heartbeat", content=raw, headers=forged)
        assert reply.status_code == 401, (raw, reply.text)
    headers = sign_in(client)
    told = {
        raw: client.post("/v1/heartbeat", content=raw, headers=headers).json() for raw in bodies
    }
    assert told[b""]["error"] == "Field required"
    assert told[b"{not json"]["error"].startswith("malformed JSON")
    assert told[b'{"device_id": "x"}']["field"] == "device_id"
    assert told[b'{"pending": -1}']["field"] == "device_id"  # the first problem named
    for answer in told.values():
        assert set(answer) == {"error", "code", "field", "params"}
    beat = {"device_id": DEVICE, "sent_at_ms": T0_MS, "state": {"key": "pause"}, "pending": 0}
    assert client.post("/v1/heartbeat", json=beat, headers=headers).status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [("OPTIONS", "/v1/events", "POST"), ("PUT", "/v1/events", "POST"), ("DELETE", "/v1/me", "GET")],
)
def test_a_method_a_path_does_not_take_says_which_it_does(
    client: TestClient, method: str, path: str, allow: str
) -> None:
    reply = client.request(method, path)
    assert reply.status_code == 405
    assert reply.headers["allow"] == allow
    assert reply.json() == {
        "error": "Method Not Allowed",
        "code": "method_not_allowed",
        "field": None,
        "params": {},
    }


def test_an_unknown_path_answers_in_the_apis_error_shape(client: TestClient) -> None:
    reply = client.get("/v1/nothing-here")
    assert reply.status_code == 404
    assert reply.json()["code"] == "not_found" and set(reply.json()) == {
        "error",
        "code",
        "field",
        "params",
    }


@pytest.mark.parametrize("path", ["/v1/signin", "/v1/events", "/v1/heartbeat", "/v1/corrections"])
def test_a_body_nested_5000_deep_is_a_400_never_a_traceback(client: TestClient, path: str) -> None:
    headers = {**sign_in(client), "Content-Type": "application/json"}
    deep = b'{"a":' * 5000 + b"1" + b"}" * 5000
    reply = client.post(path, content=deep, headers=headers)
    assert reply.status_code == 400
    assert reply.json()["code"] == "bad_request" and "depth" in reply.json()["error"]


def test_one_impossible_stored_time_fails_no_report(
    client: TestClient, store_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """An older store took an event at −2^62 ms; from then on every report of a settled
    period answered 500, for every person (the kept days' refresh cut a day no calendar
    holds). Such a row is now clamped there and said in the log, and exported with its raw
    time."""
    from sqlalchemy import insert

    headers = sign_in(client)
    assert client.post("/v1/events", json=batch([event(1)]), headers=headers).status_code == 200
    period = {"from": "2026-11-26", "to": "2026-11-27", "by": "agent"}
    lea = sign_in(client, "lea")
    assert client.get("/v1/report", params=period, headers=lea).status_code == 200  # marks
    engine = make_engine(store_url)
    with engine.begin() as conn:
        row = conn.execute(select(m.events)).mappings().first()
        assert row is not None
        forged = {k: v for k, v in row.items() if k != "id"}
        forged.update(
            uuid="00000000-0000-4000-8000-00000000dead",
            seq=999,
            client_at=-(2**62),
            corrected_at=-(2**62),
        )
        conn.execute(insert(m.events).values(**forged))
    engine.dispose()
    for who in (lea, headers):
        reply = client.get("/v1/report", params=period, headers=who)
        assert reply.status_code == 200, reply.text
    assert "a stored time no calendar holds" in caplog.text  # the admin's log says it
    dump = client.get("/v1/events", headers=headers)
    assert dump.status_code == 200
    assert None in [e["occurred_at"] for e in dump.json()["events"]]


def test_a_declared_clock_offset_is_held_within_what_the_exchange_shows(
    client: TestClient,
) -> None:
    """An event 10 minutes in the future, with the envelope declaring the PC's clock 10
    minutes fast while its own sent_at says it is right: the store measures the exchange
    itself (received − sent) and holds the declared offset within it — the event is in the
    future, and refused as such."""
    headers = sign_in(client)
    ahead = event(1, occurred_at_ms=T0_MS + 10 * 60_000)
    lying = batch([ahead], sent_at_ms=T0_MS, clock_offset_ms=-10 * 60_000)
    body = client.post("/v1/events", json=lying, headers=headers).json()
    assert body["accepted"] == []
    assert body["rejected"][0]["reason"].startswith("occurred_at_ms: more than 5 minutes")
    # The same click from a PC whose clock really is 10 minutes fast says so in sent_at too.
    honest = batch([event(2, occurred_at_ms=T0_MS + 10 * 60_000)], sent_at_ms=T0_MS + 10 * 60_000)
    assert client.post("/v1/events", json=honest, headers=headers).json()["rejected"] == []


def slow_password_checks(
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[threading.Event, threading.Event]:
    """Password checks that wait for `release` (set by the test), `entered` once one began."""
    from app.server import auth, security

    entered, release = threading.Event(), threading.Event()
    real = security.verify_password

    def slow(password: str, stored: str | None) -> bool:
        entered.set()
        release.wait(30)
        return real(password, stored)

    monkeypatch.setattr(auth, "verify_password", slow)
    return entered, release


def test_a_sign_in_does_not_hold_up_the_other_requests(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The password check ran on the event loop (while holding a row lock): during sign-ins
    every click's batch waited. It runs on a worker thread now, with no transaction open."""
    entered, release = slow_password_checks(monkeypatch)
    answers: dict[str, Any] = {}

    def call(name: str, method: str, path: str, **kwargs: Any) -> threading.Thread:
        def run() -> None:
            answers[name] = client.request(method, path, **kwargs)

        thread = threading.Thread(target=run)
        thread.start()
        return thread

    signing = call("signin", "POST", "/v1/signin", json={"login": "marie", "password": PASSWORD})
    try:
        assert entered.wait(20)
        health = call("health", "GET", "/health")
        health.join(10)
        assert "health" in answers, "the store did not answer while a sign-in was checked"
        assert answers["health"].status_code == 200 and "signin" not in answers
    finally:
        release.set()
        signing.join(20)
    assert answers["signin"].status_code == 200


def test_a_log_in_wave_leaves_the_token_checks_their_threads(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by the site's day on PostgreSQL (tests/load/site.py): sign-ins waiting for the
    password thread each held one of the request threads (40), which every heartbeat's and
    stream's token check needs — heartbeats took 17 s and sign-ins timed out. A wave now
    waits on a limiter of its own (app.state.sign_ins), its threads elsewhere free."""
    from app.server.routes import signin as signin_routes
    from app.server.routes.common import client_address

    headers = sign_in(client)  # a bar already signed in, before the wave
    entered, release = slow_password_checks(monkeypatch)
    arrived = threading.Condition()
    count = [0]

    def counted(request: Any) -> str:  # each sign-in of the wave, once in the store
        with arrived:
            count[0] += 1
            arrived.notify_all()
        return client_address(request)

    monkeypatch.setattr(signin_routes, "client_address", counted)
    answers: list[int] = []
    body = {"login": "marie", "password": PASSWORD}
    wave = [
        threading.Thread(
            target=lambda: answers.append(client.post("/v1/signin", json=body).status_code)
        )
        for _ in range(50)  # more than the request threads
    ]
    for thread in wave:
        thread.start()
    me: dict[str, Any] = {}
    checking = threading.Thread(
        target=lambda: me.update(reply=client.get("/v1/me", headers=headers))
    )
    try:
        assert entered.wait(20)
        with arrived:  # the whole wave is in, holding or awaiting its threads
            assert arrived.wait_for(lambda: count[0] == len(wave), timeout=20)
        checking.start()
        checking.join(15)
        assert "reply" in me, "a token check waited for the sign-ins' wave"
        assert me["reply"].status_code == 200 and not answers
    finally:
        release.set()
        for thread in wave:
            thread.join(60)
        if checking.ident is not None:
            checking.join(60)
    assert answers == [200] * 50


def test_a_sign_in_writes_with_the_store_writer_and_reads_without_the_write_lock(
    client: TestClient, store_url: str
) -> None:
    """Found by the site's day (tests/load/site.py), its log-in wave over the 100 ms target:
    each sign-in took SQLite's write lock four times on a request thread (two reads, its
    write, the answer's read), and the writer's next group slept in the busy handler
    meanwhile. What a sign-in writes (its token, a failure counted) now goes with the
    writer's group; what it reads, through the reader."""
    app: Any = client.app
    store = app.state.engine
    begun: list[str] = []
    written: list[tuple[str, str]] = []

    def on_begin(_conn: Any) -> None:
        if threading.current_thread() is not threading.main_thread():  # not this test's
            begun.append(threading.current_thread().name)

    def on_statement(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        verb = statement.lstrip().split(None, 1)[0].upper()
        if verb in {"INSERT", "UPDATE", "DELETE"}:
            written.append((verb, threading.current_thread().name))

    sqlalchemy.event.listen(store, "begin", on_begin)
    sqlalchemy.event.listen(store, "before_cursor_execute", on_statement)
    try:
        refused = client.post("/v1/signin", json={"login": "marie", "password": "not it"})
        counted = _failures(store)
        headers = sign_in(client)
    finally:
        sqlalchemy.event.remove(store, "begin", on_begin)
        sqlalchemy.event.remove(store, "before_cursor_execute", on_statement)
    assert refused.status_code == 401 and counted == 1
    assert client.get("/v1/me", headers=headers).status_code == 200
    assert {verb for verb, _ in written} >= {"INSERT", "DELETE"}  # the failure, the token
    assert {thread for _, thread in written} == {"bandeau-writer"}
    if store_url.startswith("sqlite"):  # PostgreSQL's reader is the store (no write lock)
        assert set(begun) <= {"bandeau-writer"}, begun
    assert _failures(store) == 0  # cleared by the good sign-in


def _failures(store: Any) -> int:
    with store.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(m.signin_failures)).scalar_one())


def test_a_query_parameter_a_call_does_not_take_is_refused_by_name(client: TestClient) -> None:
    """`?agnet=paul` (a typo) used to answer for everyone, quietly."""
    headers = sign_in(client, "lea")
    reply = client.get("/v1/events", params={"agnet": "paul"}, headers=headers)
    assert (reply.status_code, reply.json()["field"]) == (422, "agnet")
    assert "unknown parameter" in reply.json()["error"]


@pytest.mark.parametrize("day", ["", "0", "2026-13-01", "20261127", "0001-01-01", "9999-12-31"])
def test_a_day_that_is_not_one_is_a_422_never_a_500(client: TestClient, day: str) -> None:
    """`?from=` answered 500 (found by schemathesis: the validation error's context has an
    `error` key, which the error answer took as its own argument); `?to=0` was read as
    1970-01-01."""
    headers = sign_in(client)
    for path in ("/v1/events", "/v1/corrections"):
        reply = client.get(path, params={"from": day}, headers=headers)
        assert (reply.status_code, reply.json()["field"]) == (422, "from"), (path, reply.text)
    reply = client.get("/v1/report", params={"from": day, "to": "2026-11-27"}, headers=headers)
    assert (reply.status_code, reply.json()["field"]) == (422, "from"), reply.text


def test_a_chunked_body_over_the_cap_is_refused(client: TestClient, store_url: str) -> None:
    """A body sent in chunks announces no length: it is counted as it comes."""
    headers = {**sign_in(client), "Content-Type": "application/json"}

    def chunks() -> Iterator[bytes]:
        yield b'{"events": [], "sent_at_ms": 1, "pad": "'
        for _ in range(12):
            yield b"x" * 100_000
        yield b'"}'

    reply = client.post("/v1/events", content=chunks(), headers=headers)
    assert reply.status_code == 413 and reply.json()["code"] == "too_large"
    assert stored_count(store_url) == 0


def test_an_old_scrypt_password_is_rehashed_with_argon2id_at_the_next_good_sign_in(
    client: TestClient, store_url: str
) -> None:
    from tests.server.test_store_admin import scrypt_hash

    engine = make_engine(store_url)
    old = scrypt_hash(PASSWORD)
    with engine.begin() as conn:
        conn.execute(update(m.people).where(m.people.c.login == "paul").values(password_hash=old))

    def stored() -> str:
        with engine.connect() as conn:
            return str(
                conn.execute(
                    select(m.people.c.password_hash).where(m.people.c.login == "paul")
                ).scalar()
            )

    try:
        wrong = client.post("/v1/signin", json={"login": "paul", "password": "not it at all"})
        assert wrong.status_code == 401 and stored() == old  # a failure changes nothing
        assert client.post("/v1/signin", json={"login": "paul", "password": PASSWORD}).is_success
        assert stored().startswith("$argon2id$")
        assert client.post("/v1/signin", json={"login": "paul", "password": PASSWORD}).is_success
    finally:
        engine.dispose()


def test_events_dated_30_days_back_count_and_are_flagged_late_everywhere(
    client: TestClient,
) -> None:
    """A PC offline for a month delivers its days: they are real and they count, but a
    settled month must not change silently. They are flagged late in the export, counted
    in the report's rows and listed in the audit trail; a click of this morning is not."""
    headers = sign_in(client)
    day = 24 * 3600 * 1000
    old = [event(n, occurred_at_ms=T0_MS - 30 * day + n * 60_000) for n in (1, 2)]
    fresh = event(3, occurred_at_ms=T0_MS - 3600_000)
    body = client.post("/v1/events", json=batch([*old, fresh]), headers=headers).json()
    assert len(body["accepted"]) == 3, body
    exported = client.get("/v1/events", headers=headers).json()["events"]
    assert {e["uuid"]: e["late"] for e in exported} == {
        old[0]["uuid"]: True,
        old[1]["uuid"]: True,
        fresh["uuid"]: False,
    }
    month = {"from": "2026-10-28", "to": "2026-10-28", "by": "day"}
    (row,) = client.get("/v1/report", params=month, headers=headers).json()["rows"]
    assert row["late_events"] == 2 and row["day"] == "2026-10-28"
    today = {"from": "2026-11-27", "to": "2026-11-27"}
    (row,) = client.get("/v1/report", params=today, headers=headers).json()["rows"]
    assert row["late_events"] == 0
    csv_text = client.get("/v1/report", params={**month, "format": "csv"}, headers=headers).text
    header, line = csv_text.lstrip("\ufeff").splitlines()[:2]
    assert header.endswith("late_events") and line.endswith(",2")
    trail = client.get("/v1/corrections", headers=sign_in(client, "lea")).json()
    (arrival,) = trail["late_arrivals"]
    assert arrival["agent"] == "marie" and arrival["day"] == "2026-10-28"
    assert arrival["events"] == 2 and arrival["first_received_at_ms"] >= T0_MS
    # The agent sees the same trail of their own time; a colleague's is not in it.
    assert client.get("/v1/corrections", headers=headers).json()["late_arrivals"] == [arrival]
    assert client.get("/v1/corrections", headers=sign_in(client, "paul")).json() == {
        "corrections": [],
        "late_arrivals": [],
    }


def test_a_one_time_password_must_be_changed_before_anything_else(
    client: TestClient, store_url: str
) -> None:
    """The admin printed a one-time password: until Paul changes it, his token may only
    change it, say who he is and sign out. Then his other tokens go, this one stays."""
    engine = make_engine(store_url)
    with engine.begin() as conn:
        conn.execute(
            update(m.people).where(m.people.c.login == "paul").values(must_change_password=True)
        )
    engine.dispose()
    other = sign_in(client, "paul")
    headers = sign_in(client, "paul")
    me = client.get("/v1/me", headers=headers).json()
    assert me["person"]["must_change_password"] is True
    beat = {"device_id": DEVICE, "sent_at_ms": T0_MS, "state": {}, "pending": 0}
    for reply in (
        client.get("/v1/events", headers=headers),
        client.post("/v1/heartbeat", json=beat, headers=headers),
        client.post("/v1/events", json=batch([event(1, agent="paul")]), headers=headers),
    ):
        assert (reply.status_code, reply.json()["code"]) == (403, "password_change_needed")
    change = {"current": PASSWORD, "new": "short"}
    reply = client.post("/v1/me/password", json=change, headers=headers)
    assert (reply.status_code, reply.json()["code"], reply.json()["field"]) == (
        422,
        "weak_password",
        "new",
    )
    assert reply.json()["params"] == {"min": 8}
    reply = client.post("/v1/me/password", json={**change, "current": "not mine"}, headers=headers)
    assert (reply.status_code, reply.json()["code"]) == (403, "wrong_password")
    same = client.post("/v1/me/password", json={**change, "new": PASSWORD}, headers=headers)
    assert same.status_code == 422
    reply = client.post(
        "/v1/me/password", json={**change, "new": "a much better one"}, headers=headers
    )
    assert reply.json() == {"changed": True, "other_tokens_revoked": 1}
    assert client.get("/v1/me", headers=other).status_code == 401  # the other token went
    assert client.get("/v1/me", headers=headers).json()["person"]["must_change_password"] is False
    assert client.get("/v1/events", headers=headers).status_code == 200
    new_sign_in = {"login": "paul", "password": "a much better one"}
    assert client.post("/v1/signin", json=new_sign_in).status_code == 200
    old_sign_in = {"login": "paul", "password": PASSWORD}
    assert client.post("/v1/signin", json=old_sign_in).status_code == 401


def test_wrong_current_passwords_lock_like_sign_ins(client: TestClient) -> None:
    """A token left on an open PC must not let anyone try passwords at leisure."""
    headers = sign_in(client, "paul")
    for _ in range(5):
        reply = client.post(
            "/v1/me/password", json={"current": "guess", "new": "whatever else"}, headers=headers
        )
    assert reply.status_code == 403
    reply = client.post(
        "/v1/me/password", json={"current": PASSWORD, "new": "whatever else"}, headers=headers
    )
    assert (reply.status_code, reply.json()["code"]) == (429, "locked")
    assert int(reply.headers["Retry-After"]) > 0


def test_an_agent_downloads_all_of_their_own_data_and_nobody_elses(client: TestClient) -> None:
    from app.server.schemas import MyData

    marie, paul, lea = sign_in(client), sign_in(client, "paul"), sign_in(client, "lea")
    mine = [event(1), event(2, note="rendez-vous médecin")]
    assert len(client.post("/v1/events", json=batch(mine), headers=marie).json()["accepted"]) == 2
    other = str(uuidlib.uuid4())
    his = {**event(1, agent="paul", device_id=other), "note": "his own"}
    client.post("/v1/events", json={**batch([his]), "device_id": other}, headers=paul)
    beat = {"device_id": DEVICE, "sent_at_ms": T0_MS, "state": {"key": "pause"}, "pending": 1}
    assert client.post("/v1/heartbeat", json=beat, headers=marie).status_code == 200
    fix = a_correction()
    assert client.post("/v1/corrections", json=fix, headers=lea).status_code == 200
    reply = client.get("/v1/me/data", headers=marie)
    assert reply.status_code == 200
    data = MyData.model_validate(reply.json())
    assert {e.uuid for e in data.events} == {e["uuid"] for e in mine}
    assert [e.note for e in data.events] == [None, "rendez-vous médecin"]
    (correction,) = data.corrections
    assert (correction.author, correction.reason) == ("lea", "formation oubliée")
    assert [(d.device_id, d.state, d.pending) for d in data.devices] == [
        (DEVICE, {"key": "pause"}, 1)
    ]
    assert data.person.login == "marie" and data.plateaux == ["Nord"]
    assert "his own" not in reply.text and "paul" not in reply.text


def test_an_erased_person_leaves_a_pseudonym_and_their_time_in_the_totals(
    client: TestClient, store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.server.cli import main

    marie, lea = sign_in(client), sign_in(client, "lea")
    start = event(1, kind="shift_start", key=None, occurred_at_ms=T0_MS - 3_600_000)
    work = event(2, key="production", occurred_at_ms=T0_MS - 3_540_000, note="client Dupont")
    client.post("/v1/events", json=batch([start, work]), headers=marie)
    fix = {
        "uuid": str(uuidlib.uuid4()),
        "agent": "marie",
        "from_ms": T0_MS - 3_000_000,
        "to_ms": T0_MS - 2_400_000,
        "key": "off",
        "reason": "rendez-vous médical",
    }
    assert client.post("/v1/corrections", json=fix, headers=lea).status_code == 200
    day = {"from": "2026-11-27", "to": "2026-11-27", "by": "activity"}

    def totals() -> list[tuple[str, int, int]]:
        rows = client.get("/v1/report", params=day, headers=lea).json()["rows"]
        return [(r["activity"], r["production_s"], r["off_s"]) for r in rows]

    before = totals()
    assert before and before[0][1] > 0
    assert main(["--db", store_url, "user", "erase", "marie"]) == 1  # not without --yes
    assert main(["--db", store_url, "user", "erase", "marie", "--yes"]) == 0
    assert "their time stays as erased-" in capsys.readouterr().err
    assert totals() == before  # the plateau's and activity's totals are unchanged
    by_agent = client.get("/v1/report", params={**day, "by": "agent"}, headers=lea).json()
    agents = {r["agent"] for r in by_agent["rows"]}
    assert "marie" not in agents and any(a.startswith("erased-") for a in agents)
    trail = client.get("/v1/corrections", headers=lea).json()["corrections"]
    assert [c["reason"] for c in trail] == ["(erased)"]
    exported = client.get("/v1/events", headers=lea).json()["events"]
    assert [e["note"] for e in exported] == [None, None]
    text = str(exported) + str(trail) + str(by_agent)
    assert "marie" not in text.lower() and "Dupont" not in text and "médical" not in text
    assert client.get("/v1/me", headers=marie).status_code == 401  # her tokens went
    refused = client.post("/v1/signin", json={"login": "marie", "password": PASSWORD})
    assert refused.status_code == 401


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread niceness is Linux's")
def test_password_checks_run_below_the_clicks_priority(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wave of sign-ins took the CPU from the clicks' batches (the p99 of one event rose
    with them): the checks run on threads of their own at a lower priority."""
    from app.server import auth, security

    seen: list[tuple[str, int]] = []
    real = security.verify_password

    def watched(password: str, stored: str | None) -> bool:
        me = threading.current_thread()
        seen.append((me.name, os.getpriority(os.PRIO_PROCESS, threading.get_native_id())))
        return real(password, stored)

    monkeypatch.setattr(auth, "verify_password", watched)
    sign_in(client)
    client.post("/v1/signin", json={"login": "ghost", "password": "whatever it is"})
    assert len(seen) == 2
    base = os.getpriority(os.PRIO_PROCESS, 0)
    for name, niceness in seen:
        assert name.startswith("password") and niceness >= max(base, auth.PASSWORD_NICENESS)


def test_the_fast_lane_for_events_answers_exactly_as_the_route(
    client: TestClient, store_url: str
) -> None:
    """POST /v1/events is served outside FastAPI's routing (`api.FastEvents`, for speed):
    every request here gets the same status, headers that matter and body through it as
    through the route it stands in for; and the lane is really taken."""
    app = client.app
    assert isinstance(app, BandeauApp) and app.fast_events is not None
    lane = app.fast_events
    taken: list[str] = []

    async def counted(scope: Any, receive: Any, send: Any) -> None:
        taken.append(scope["path"])
        await lane(scope, receive, send)

    token = sign_in(client)["Authorization"].split()[1]
    good = batch([event(1, kind="shift_start", key=None), event(2)])
    cases: list[tuple[str, list[tuple[str, str]], bytes]] = [
        ("no header", [], json.dumps(good).encode()),
        ("not bearer", [("Authorization", f"Basic {token}")], json.dumps(good).encode()),
        ("bearer alone", [("Authorization", "Bearer")], json.dumps(good).encode()),
        ("bearer, no space", [("Authorization", f"Bearer{token}")], json.dumps(good).encode()),
        ("unknown token", [("Authorization", "Bearer nope")], json.dumps(good).encode()),
        ("not JSON", [("Authorization", f"Bearer {token}")], b"{not json"),
        ("not UTF-8", [("Authorization", f"Bearer {token}")], b'{"x": "\xff"}'),
        ("no events", [("Authorization", f"Bearer {token}")], b'{"sent_at_ms": 1}'),
        ("a list", [("Authorization", f"Bearer {token}")], b"[]"),
        (
            "too many",
            [("Authorization", f"Bearer {token}")],
            json.dumps({"events": [{}] * 501, "sent_at_ms": 1}).encode(),
        ),
        ("good", [("Authorization", f"Bearer {token}")], json.dumps(good).encode()),
        ("lower-case scheme", [("Authorization", f"bearer {token}")], json.dumps(good).encode()),
        # Two Authorization headers: the first is the one read, on both paths.
        (
            "two headers, bad first",
            [("Authorization", "Bearer nope"), ("Authorization", f"Bearer {token}")],
            json.dumps(good).encode(),
        ),
        (
            "two headers, good first",
            [("Authorization", f"Bearer {token}"), ("Authorization", "Bearer nope")],
            json.dumps(good).encode(),
        ),
        (
            "over the cap",
            [("Authorization", f"Bearer {token}")],
            b'{"events": [], "sent_at_ms": 1, "pad": "' + b"x" * 1_100_000 + b'"}',
        ),
    ]

    def answer(headers: list[tuple[str, str]], body: bytes) -> tuple[Any, ...]:
        reply = client.post(
            "/v1/events", content=body, headers=[("Content-Type", "application/json"), *headers]
        )
        shown = reply.json()
        if isinstance(shown, dict):
            for moving in ("received_at_ms", "replied_at_ms"):
                shown.pop(moving, None)
        kept = {k: reply.headers.get(k) for k in ("content-type", "www-authenticate")}
        return reply.status_code, kept, bool(reply.headers.get("x-request-id")), shown

    for name, headers, body in cases:
        app.fast_events = counted
        fast = answer(headers, body)
        app.fast_events = None
        routed = answer(headers, body)
        assert fast == routed, name
    app.fast_events = lane
    assert len(taken) == len(cases)
    # Through the lane, the good batch was new; through the route, the same again.
    assert stored_count(store_url) == 2


def test_the_collector_is_tuned_only_in_a_process_the_store_has_to_itself(
    store_url: str, store_clock: StoreClock
) -> None:
    """`serve` freezes what exists at start-up and raises the first threshold (a full
    collection took 150–300 ms of every request in flight at a site's rate), and shortens
    the GIL's switch interval; a store embedded in another process (the demo's, a test's)
    leaves that process's collector and interpreter be."""
    before, interval = gc.get_threshold(), sys.getswitchinterval()
    with TestClient(create_app(ServerConfig(store_url, clock=store_clock))):
        assert gc.get_threshold() == before and gc.get_freeze_count() == 0
        assert sys.getswitchinterval() == interval
    try:
        config = ServerConfig(store_url, clock=store_clock, own_process=True)
        with TestClient(create_app(config)):
            assert gc.get_threshold() == GC_THRESHOLDS and gc.get_freeze_count() > 0
            assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL_S)
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
        sys.setswitchinterval(interval)
