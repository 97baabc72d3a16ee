"""The store's writer: group commit, a job's fault its own, and load shed with 503."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, text
from sqlalchemy.engine import Connection

from app.server import auth as tokens_module
from app.server import ingest
from app.server import models as m
from app.server.api import ServerConfig, create_app
from app.server.db import make_engine
from app.server.directory import add_activity
from app.server.security import token_hash
from app.server.writer import Writer
from tests.processes import wait_until
from tests.servers import DEVICE, StoreClock, auth, seed, wire_event


@pytest.fixture
def writer(store: Engine) -> Iterator[Writer]:
    with store.begin() as conn:
        conn.execute(text("CREATE TABLE notes (n INTEGER PRIMARY KEY)"))
    found = Writer(store)
    found.start()
    yield found
    found.stop()


def _note(n: int) -> Callable[[Connection], int]:
    def job(conn: Connection) -> int:
        conn.execute(text("INSERT INTO notes (n) VALUES (:n)"), {"n": n})
        return n

    return job


def _notes(store: Engine) -> list[int]:
    with store.connect() as conn:
        return [int(n) for n in conn.execute(text("SELECT n FROM notes ORDER BY n")).scalars()]


def _hold(writer: Writer, *, bulk: bool = False) -> tuple[threading.Event, Future[None]]:
    """A job (a live write, or `bulk`) that keeps the writer busy until the returned event
    is set."""
    started, gate = threading.Event(), threading.Event()

    def job(_conn: Connection) -> None:
        started.set()
        gate.wait(30)

    held = writer.submit(job, bulk=bulk)
    assert started.wait(30)
    return gate, held


def test_jobs_queued_together_share_one_commit_and_are_answered_after_it(
    writer: Writer, store: Engine
) -> None:
    gate, held = _hold(writer)
    futures = [writer.submit(_note(n)) for n in range(50)]
    assert not any(f.done() for f in futures)  # nothing is answered before its commit
    groups = writer.groups
    gate.set()
    assert [f.result(30) for f in futures] == list(range(50))
    held.result(30)
    assert writer.groups - groups <= 2  # the held job's group, then one for the fifty
    assert _notes(store) == list(range(50))


def test_a_job_that_raises_has_no_effect_and_the_others_are_kept(
    writer: Writer, store: Engine
) -> None:
    def bad(conn: Connection) -> None:
        conn.execute(text("INSERT INTO notes (n) VALUES (1000)"))
        raise ValueError("refused")

    gate, _held = _hold(writer)
    first = writer.submit(_note(1))
    failing = writer.submit(bad)
    last = writer.submit(_note(2))
    gate.set()
    assert (first.result(30), last.result(30)) == (1, 2)
    with pytest.raises(ValueError, match="refused"):
        failing.result(30)
    assert _notes(store) == [1, 2]  # not 1000: the failing job's write was rolled back


def test_a_database_error_in_one_job_is_that_jobs_only(writer: Writer, store: Engine) -> None:
    writer.submit(_note(7)).result(30)
    gate, _held = _hold(writer)
    clash = writer.submit(_note(7))  # the key is taken
    other = writer.submit(_note(8))
    gate.set()
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        clash.result(30)
    assert other.result(30) == 8
    assert _notes(store) == [7, 8]


def test_a_busy_writer_says_so_and_a_stopped_one_takes_nothing(writer: Writer) -> None:
    writer.shed_after_s = writer.shed_light_after_s = 0.0
    assert not writer.busy()  # nothing waits
    gate, held = _hold(writer)
    assert writer.busy() and writer.busy(durable=False)
    gate.set()
    held.result(30)
    wait_until(lambda: not writer.busy(), 30)  # once it is done with that group
    writer.stop()
    with pytest.raises(RuntimeError, match="stopping"):
        writer.submit(_note(1)).result(30)


def test_live_writes_go_before_a_backlog_and_are_shed_later(writer: Writer) -> None:
    """A herd's backlogs (bulk) wait for the live writes (heartbeats, a click's batch), and
    are refused first: a new live write is not counted as waiting for the backlog."""
    order: list[str] = []

    def job(name: str) -> Callable[[Connection], None]:
        return lambda _conn: order.append(name)

    gate, held = _hold(writer)
    backlog = writer.submit(job("backlog"), weight=100_000, bulk=True)
    live = writer.submit(job("click"))
    writer.shed_after_s = 1.0
    assert writer.busy(bulk=True)  # 100,000 rows ahead: more than a second's writing
    assert not writer.busy()  # a live write goes before them
    gate.set()
    held.result(30)
    backlog.result(30), live.result(30)
    assert order == ["click", "backlog"]


def test_a_backlog_fills_groups_but_leaves_little_room_while_live_writes_flow(
    writer: Writer,
) -> None:
    """A herd's backlogs drain in big groups (one fsync for many); while heartbeats and
    clicks flow, a group takes only a few, so that a live write waits for a short commit."""
    groups: dict[str, int] = {}

    def job(name: str) -> Callable[[Connection], None]:
        def run(_conn: Connection) -> None:
            groups[name] = writer.groups  # the same for every job of one group

        return run

    gate, held = _hold(writer, bulk=True)  # no live write yet
    quiet = [writer.submit(job(f"quiet{n}"), weight=50, bulk=True) for n in range(10)]
    gate.set()
    held.result(30)
    for future in quiet:
        future.result(30)
    assert len({groups[f"quiet{n}"] for n in range(10)}) == 1  # 500 rows: one group

    gate, held = _hold(writer)  # a live write: the hold itself
    busy = [writer.submit(job(f"busy{n}"), weight=50, bulk=True) for n in range(10)]
    click = writer.submit(job("click"))
    gate.set()
    held.result(30)
    for future in [*busy, click]:
        future.result(30)
    first = [n for n in range(10) if groups[f"busy{n}"] == groups["click"]]
    assert first == [0, 1, 2, 3]  # the click, then 200 rows of backlog
    assert len({groups[f"busy{n}"] for n in range(10)}) >= 3


def test_a_busy_store_sheds_writes_with_503_and_retry_after(
    store_url: str, store_clock: StoreClock
) -> None:
    """The store refuses a write it could only queue for long with 503 + Retry-After (a
    different delay each time: the bars spread out), keeps answering /health and reads,
    and takes writes again as soon as its writer catches up."""
    seed(store_url)
    config = ServerConfig(store_url, clock=store_clock, shed_after_s=0.0, shed_light_after_s=0.0)
    with TestClient(create_app(config)) as client:
        headers = auth(client, "marie")
        writer: Writer = client.app.state.writer  # type: ignore[attr-defined]
        wire = wire_event(1)
        batch = {"device_id": DEVICE, "sent_at_ms": store_clock(), "events": [wire]}
        beat = {"device_id": DEVICE, "sent_at_ms": store_clock(), "state": {}, "pending": 0}
        gate, held = _hold(writer)
        try:
            delays = set()
            for _ in range(12):
                refused = client.post("/v1/events", json=batch, headers=headers)
                assert refused.status_code == 503
                assert refused.json()["code"] == "store_busy"
                delays.add(int(refused.headers["Retry-After"]))
            assert all(2 <= d <= 10 for d in delays) and len(delays) > 1
            assert client.post("/v1/heartbeat", json=beat, headers=headers).status_code == 503
            assert client.get("/health").status_code == 200
            assert client.get("/v1/me", headers=headers).status_code == 200
        finally:
            gate.set()
            held.result(30)
        taken = client.post("/v1/events", json=batch, headers=headers)
        assert taken.status_code == 200
        assert taken.json()["accepted"] == [wire["uuid"]]
        assert client.post("/v1/heartbeat", json=beat, headers=headers).status_code == 200
    check = make_engine(store_url)
    with check.connect() as conn:
        assert conn.execute(select(func.count()).select_from(m.events)).scalar_one() == 1
    check.dispose()


def test_a_write_after_the_database_dropped_the_writers_connection_is_not_refused(
    writer: Writer, store: Engine
) -> None:
    """Found by the fault matrix (tests/load/faults.py, pg-restart): after PostgreSQL
    restarted, the first write of each worker failed on the writer's kept connection — a
    503 for a sign-in that never reached the store. Nothing was committed on a lost
    connection: the group goes again, once, on a new one."""
    if store.dialect.name != "postgresql":
        pytest.skip("SQLite's connection is a file: nothing drops it")
    pid = writer.submit(lambda conn: conn.execute(text("SELECT pg_backend_pid()")).scalar()).result(
        30
    )
    with store.connect() as other:
        other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        other.commit()
    assert writer.submit(_note(1)).result(30) == 1
    # The same when the group's first statement is its prelude (the tokens' read).
    writer.prelude = tokens_module.prefetch_tokens
    pid = writer.submit(lambda conn: conn.execute(text("SELECT pg_backend_pid()")).scalar()).result(
        30
    )
    gate, held = _hold(writer)  # a group that sends nothing
    futures = [writer.submit(_note(n), token=f"not-a-token-{n}") for n in (2, 3)]
    with store.connect() as other:
        other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        other.commit()
    gate.set()
    held.result(30)
    assert [f.result(30) for f in futures] == [2, 3]
    assert _notes(store) == [1, 2, 3]


def test_a_groups_tokens_are_read_in_one_query_in_its_own_transaction(
    store_url: str, store_clock: StoreClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every job checked its own token, a round trip each (a third of the writer's time on
    PostgreSQL in the herd): the group's prelude now reads all its tokens at once, in the
    transaction the jobs write in — a token revoked before the group is refused in it, and
    what was read is never used by another transaction."""
    seed(store_url)
    with TestClient(create_app(ServerConfig(store_url, clock=store_clock))) as client:
        tokens = {
            login: auth(client, login)["Authorization"].split()[1]
            for login in ("marie", "paul", "lea")
        }
        writer: Writer = client.app.state.writer  # type: ignore[attr-defined]
        one_by_one: list[str] = []
        single = tokens_module._TOKEN_QUERY
        read_one = single.rows

        def counted_one(conn: Connection, params: dict[str, Any]) -> list[Any]:
            one_by_one.append(params["digest"])
            return read_one(conn, params)

        monkeypatch.setattr(single, "rows", counted_one)
        preludes: list[list[str]] = []
        # Set on PostgreSQL only (a round trip a job saved); held to the same rules on both.
        assert (writer.prelude is None) == (writer.engine.dialect.name == "sqlite")

        def counted(conn: Connection, group_tokens: list[str]) -> None:
            preludes.append(group_tokens)
            tokens_module.prefetch_tokens(conn, group_tokens)

        writer.prelude = counted

        def check(token: str) -> Callable[[Connection], str | None]:
            def job(conn: Connection) -> str | None:
                owner = tokens_module.token_on(conn, token, now_ms=store_clock())
                return None if owner is None else owner.person.login

            return job

        assert client.post(
            "/v1/signout", headers={"Authorization": f"Bearer {tokens['paul']}"}
        ).is_success
        one_by_one.clear()  # the sign-out's own check
        gate, held = _hold(writer)
        asked = [*tokens.values(), "not-a-token"]
        futures = [writer.submit(check(t), token=t) for t in asked]
        gate.set()
        held.result(30)
        assert [f.result(30) for f in futures] == ["marie", None, "lea", None]
        assert preludes == [asked] and one_by_one == []
        # What that group read is its own: marie signs out, and a later job (no prelude)
        # reads her token again, on the writer's same connection.
        assert client.post(
            "/v1/signout", headers={"Authorization": f"Bearer {tokens['marie']}"}
        ).is_success
        one_by_one.clear()
        assert writer.submit(check(tokens["marie"])).result(30) is None
        assert one_by_one == [token_hash(tokens["marie"])]


def test_a_groups_batches_read_their_plateaus_activities_once(
    store_url: str, store_clock: StoreClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two plateau-mates' batches in one group share one read of their activities; the
    next group reads again (an activity added meanwhile is known at once)."""
    seed(store_url)
    with TestClient(create_app(ServerConfig(store_url, clock=store_clock))) as client:
        writer: Writer = client.app.state.writer  # type: ignore[attr-defined]
        reads: list[tuple[int, ...]] = []
        read = ingest._read_activities

        def counted(conn: Connection, plateau_ids: tuple[int, ...]) -> dict[str, Any]:
            reads.append(plateau_ids)
            return read(conn, plateau_ids)

        monkeypatch.setattr(ingest, "_read_activities", counted)
        tokens = [auth(client, login)["Authorization"].split()[1] for login in ("marie", "paul")]

        def known(token: str) -> Callable[[Connection], list[str]]:
            def job(conn: Connection) -> list[str]:
                owner = tokens_module.token_on(conn, token, now_ms=store_clock())
                assert owner is not None
                return sorted(ingest.activities_of(conn, owner.person))

            return job

        gate, held = _hold(writer)
        futures = [writer.submit(known(t), token=t) for t in tokens]
        gate.set()
        held.result(30)
        assert [f.result(30) for f in futures] == [["Assurance Auto", "Banque Pro"]] * 2
        assert len(reads) == 1
        with writer.engine.begin() as conn:
            add_activity(conn, name="Crédit", plateau="Nord")
        assert "Crédit" in writer.submit(known(tokens[0]), token=tokens[0]).result(30)
        assert len(reads) == 2
