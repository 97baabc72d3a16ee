"""The live stream through real servers: who sees what, deltas, revocation, two processes,
reconnecting after a restart."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from app.server import live
from app.server.db import make_engine
from app.sync.stream import StreamClient, read_events
from app.sync.timing import Backoff
from tests.servers import (
    DEVICE,
    PASSWORD,
    T0_MS,
    Served,
    seed,
    start_server,
    stop_server,
    wire_event,
)

pytestmark = pytest.mark.slow


class Listener:
    """A real StreamClient, its messages and states kept for the test to wait on."""

    def __init__(self, base_url: str, token: str) -> None:
        self.messages: list[tuple[str, Any]] = []
        self.states: list[str] = []
        self._cond = threading.Condition()
        self.client = StreamClient(
            base_url,
            token,
            on_message=self._message,
            on_state=self._state,
            backoff=Backoff(base_s=0.05, cap_s=0.3),
        )
        self.client.start()

    def _message(self, kind: str, data: Any) -> None:
        with self._cond:
            self.messages.append((kind, data))
            self._cond.notify_all()

    def _state(self, state: str, _detail: str) -> None:
        with self._cond:
            self.states.append(state)
            self._cond.notify_all()

    def wait(self, test: Callable[[], object], timeout: float = 20) -> None:
        with self._cond:
            assert self._cond.wait_for(test, timeout), (self.states[-3:], self.messages[-3:])

    def of(self, kind: str) -> list[Any]:
        return [data for k, data in self.messages if k == kind]

    def event_agents(self) -> list[str]:
        return [e["agent"] for batch in self.of("events") for e in batch["events"]]


def token(base_url: str, login: str) -> str:
    reply = httpx.post(f"{base_url}/v1/signin", json={"login": login, "password": PASSWORD})
    return str(reply.json()["token"])


def send(base_url: str, login: str, bearer: str, seq: int, **over: Any) -> None:
    device = over.pop("device_id", DEVICE)
    reply = httpx.post(
        f"{base_url}/v1/events",
        headers={"Authorization": f"Bearer {bearer}"},
        json={
            "device_id": device,
            "sent_at_ms": T0_MS,
            "events": [wire_event(seq, agent=login, device_id=device, **over)],
        },
    )
    assert reply.status_code == 200 and reply.json()["accepted"], reply.text


@pytest.fixture
def server(store_url: str) -> Iterator[Served]:
    seed(store_url)
    served = start_server(store_url, "--stream-keepalive", "0.5")
    yield served
    stop_server(served)


def test_each_stream_carries_only_what_its_owner_may_see(server: Served) -> None:
    url = server.base_url
    lea, marie, zoe = token(url, "lea"), token(url, "marie"), token(url, "zoe")
    lead, agent = Listener(url, lea), Listener(url, marie)
    try:
        lead.wait(lambda: lead.of("snapshot"))
        agent.wait(lambda: agent.of("snapshot") and agent.of("coverage"))
        snap = lead.of("snapshot")[0]
        assert sorted(a["login"] for a in snap["agents"]) == ["lea", "marie", "paul"]
        assert [p["name"] for p in snap["plateaux"]] == ["Nord"]
        assert snap["plateaux"][0]["keys"]["off"]["label"] == "Hors production"
        assert [a["login"] for a in agent.of("snapshot")[0]["agents"]] == ["marie"]

        send(
            url, "zoe", zoe, 1, activity="Énergie", device_id="00000000-0000-4000-8000-00000000000a"
        )
        send(url, "marie", marie, 1, key="production")
        lead.wait(lambda: "marie" in lead.event_agents())
        agent.wait(lambda: "marie" in agent.event_agents())
        agent.wait(lambda: any(c["activities"] for c in agent.of("coverage")))
        # Zoé is on another plateau: neither Léa nor Marie hears of her.
        assert "zoe" not in lead.event_agents() + agent.event_agents()
        # Marie learns how many are in production on her activity, never who.
        cover = agent.of("coverage")[-1]["activities"]
        assert cover == {"Assurance Auto": {"production": 1, "present": 1}}

        httpx.post(
            f"{url}/v1/heartbeat",
            headers={"Authorization": f"Bearer {marie}"},
            json={"device_id": DEVICE, "sent_at_ms": 0, "state": {}, "pending": 0},
        )
        lead.wait(lambda: lead.of("presence"))
        assert lead.of("presence")[-1]["presence"][0]["agent"] == "marie"
    finally:
        lead.client.stop()
        agent.client.stop()


def test_no_stream_without_a_live_token_and_a_revoked_one_ends(server: Served) -> None:
    url = server.base_url
    assert httpx.get(f"{url}/v1/stream").status_code == 401
    forged = Listener(url, "forged")
    forged.wait(lambda: "refused" in forged.states)
    forged.client.join(5)
    assert not forged.client.is_alive() and not forged.messages

    marie = token(url, "marie")
    agent = Listener(url, marie)
    try:
        agent.wait(lambda: agent.of("snapshot"))
        httpx.post(f"{url}/v1/signout", headers={"Authorization": f"Bearer {marie}"})
        # Within a keep-alive the server rechecks the token and ends the stream for good.
        agent.wait(lambda: "refused" in agent.states, timeout=10)
    finally:
        agent.client.stop()


def test_a_panel_on_one_server_sees_an_agent_syncing_to_another(
    server: Served, store_url: str
) -> None:
    other = start_server(store_url)
    try:
        lead = Listener(other.base_url, token(other.base_url, "lea"))
        try:
            lead.wait(lambda: lead.of("snapshot"))
            started = time.monotonic()
            marie = token(server.base_url, "marie")
            send(server.base_url, "marie", marie, 1, key="pause")
            lead.wait(lambda: "marie" in lead.event_agents(), timeout=5)
            assert time.monotonic() - started < 5
        finally:
            lead.client.stop()
    finally:
        stop_server(other)


def test_the_stream_comes_back_after_a_server_restart(store_url: str) -> None:
    seed(store_url)
    first = start_server(store_url)
    port = first.base_url.rsplit(":", 1)[1]
    lead = Listener(first.base_url, token(first.base_url, "lea"))
    try:
        lead.wait(lambda: lead.of("snapshot"))
        stop_server(first)
        lead.wait(lambda: "offline" in lead.states)
        second = start_server(store_url, "--port", port)
        try:
            lead.wait(lambda: len(lead.of("snapshot")) == 2)  # whole again: a fresh snapshot
            assert lead.states[-1] == "live"
            send(second.base_url, "marie", token(second.base_url, "marie"), 1)
            lead.wait(lambda: "marie" in lead.event_agents())
        finally:
            stop_server(second)
    finally:
        lead.client.stop()


def test_an_admin_snapshot_holds_everyone(store_url: str) -> None:
    seed(store_url)
    engine = make_engine(store_url)
    snap = live.snapshot(engine, live.Scope(None, None), now_ms=T0_MS, zone=ZoneInfo("UTC"))
    engine.dispose()
    assert sorted(a["login"] for a in snap["agents"]) == ["lea", "marie", "paul", "zoe"]
    assert snap["day_end_ms"] - snap["day_start_ms"] == 24 * 3600 * 1000


def test_reading_server_sent_events() -> None:
    lines = [": keepalive", "", "event: snapshot", 'data: {"a":', "data: 1}", "", "data: 2", ""]
    assert list(read_events(lines)) == [("snapshot", {"a": 1}), ("message", 2)]


def test_a_plateaus_change_is_pushed_to_the_streams_that_show_it(
    server: Served, store_url: str
) -> None:
    from app.server.db import make_engine as engine_for
    from app.server.directory import set_plateau

    url = server.base_url
    lead, agent = Listener(url, token(url, "lea")), Listener(url, token(url, "marie"))
    elsewhere = Listener(url, token(url, "zoe"))  # an agent of Sud
    try:
        for listener in (lead, agent, elsewhere):
            listener.wait(partial(listener.of, "snapshot"))
        engine = engine_for(store_url)
        with engine.begin() as conn:
            set_plateau(conn, "Nord", labels={"pause": "Pause café"}, pause_threshold_s=600)
        engine.dispose()
        for listener in (lead, agent):
            listener.wait(partial(listener.of, "plateaux"))
            (nord,) = listener.of("plateaux")[-1]["plateaux"]
            assert nord["keys"]["pause"]["label"] == "Pause café"
            assert nord["pause_threshold_s"] == 600
        # Zoé's stream is Sud's: Nord's change is not hers to hear of.
        assert not elsewhere.of("plateaux")
    finally:
        for listener in (lead, agent, elsewhere):
            listener.client.stop()


def test_stopping_the_server_ends_its_streams_at_once_without_tracebacks(
    store_url: str,
) -> None:
    """SIGTERM with panels open: the streams are told goodbye and the server exits (well
    within its 10 s graceful timeout), with no CancelledError in its log."""
    seed(store_url)
    served = start_server(store_url)
    listeners = [Listener(served.base_url, token(served.base_url, who)) for who in ("lea", "marie")]
    try:
        for listener in listeners:
            listener.wait(partial(listener.of, "snapshot"))
        stop_server_in = 5  # less than the graceful timeout: cut streams would not make it
        served.proc.send_signal(signal.SIGTERM)
        code = served.proc.wait(timeout=stop_server_in)
        for listener in listeners:
            listener.wait(partial(listener.of, "bye"))
    finally:
        for listener in listeners:
            listener.client.stop()
        stop_server(served)
    assert code in (0, -signal.SIGTERM)  # uvicorn ends by the signal it was sent
    log = "".join(served.stderr)
    assert "CancelledError" not in log and "Traceback" not in log, log


def test_stopping_the_store_lets_a_poll_in_flight_finish_before_the_engine_goes(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The live hub's polls run on worker threads with a database connection. Stopping used
    to cancel the await and dispose of the engine while such a thread still held its
    connection, which then died unclosed (a ResourceWarning that failed a PostgreSQL test
    now and then). Now the poll in flight ends first."""
    from fastapi.testclient import TestClient

    from app.server.api import ServerConfig, create_app
    from tests.servers import StoreClock, seed

    seed(store_url)
    entered = threading.Event()
    state: dict[str, Any] = {"returned": False, "hub": None}
    real = live.plateaux_by_id

    def slow_read(engine: Any) -> Any:
        entered.set()
        deadline = time.monotonic() + 5
        hub = state["hub"]
        while time.monotonic() < deadline and not (hub is not None and hub._stopping):
            threading.Event().wait(0.01)
        try:
            return real(engine)
        finally:
            state["returned"] = True

    monkeypatch.setattr(live, "plateaux_by_id", slow_read)
    app = create_app(ServerConfig(store_url, clock=StoreClock(), keep_days=0, live_poll_s=0.05))
    with TestClient(app) as client:
        state["hub"] = client.app.state.hub  # type: ignore[attr-defined]
        assert entered.wait(10)
    assert state["returned"]  # the read finished before the store stopped


def test_an_event_stored_after_the_newest_one_was_purged_still_reaches_the_streams(
    server: Served, store_url: str
) -> None:
    """On SQLite the hub follows events by id. Ids used to be SQLite's rowids, and a purge
    that took the newest row (an event dated long ago that arrived last) gave its id to the
    next event — which the hub, past that id already, never sent on (found in review)."""
    from app.server import retention

    url = server.base_url
    lea, marie = token(url, "lea"), token(url, "marie")
    lead = Listener(url, lea)
    try:
        lead.wait(lambda: lead.of("snapshot"))
        send(url, "marie", marie, 1, key="production")
        lead.wait(lambda: len(lead.event_agents()) == 1)
        engine = make_engine(store_url)
        try:
            purged = retention.purge(
                engine, days=1, zone=ZoneInfo("Europe/Paris"), now_ms=T0_MS + 3 * 86_400_000
            )
        finally:
            engine.dispose()
        assert purged.events == 1  # the newest event (and the only one) is gone
        send(url, "marie", marie, 2, key="pause")
        lead.wait(lambda: len(lead.event_agents()) == 2)
        keys = [e["key"] for batch in lead.of("events") for e in batch["events"]]
        assert keys == ["production", "pause"]
    finally:
        lead.client.stop()
