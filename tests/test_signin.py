"""Signing a running bar in to a real server, syncing, and signing out — real processes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.instance import send_request
from app.server import models as m
from app.server.db import make_engine
from tests.processes import BarProcess, run, wait_until
from tests.servers import PASSWORD, Served

pytestmark = pytest.mark.slow


def signin(data: Path, server: str, *extra: str, password: str = PASSWORD) -> Any:
    """`bandeau signin` as marie, the password on standard input."""
    return run(
        "--data-dir",
        str(data),
        "signin",
        "--server",
        server,
        "--login",
        "marie",
        "--password-stdin",
        *extra,
        input_text=password + "\n",
    )


def server_events(seeded_url: str) -> list[tuple[str, str | None]]:
    engine = make_engine(seeded_url)
    with engine.connect() as conn:
        rows = conn.execute(
            select(m.people.c.login, m.events.c.key)
            .join(m.people, m.people.c.id == m.events.c.person_id)
            .order_by(m.events.c.id)
        ).all()
    engine.dispose()
    return [(str(a), b) for a, b in rows]


def test_sign_in_sync_and_sign_out_without_a_keyring(
    tmp_path: Path, live_server: Served, seeded_url: str
) -> None:
    data = tmp_path / "bar"
    bar = BarProcess(data)
    try:
        bar.wait_ready()
        assert run("--data-dir", str(data), "key", "off").returncode == 0  # local only
        # Child processes have no keyring here (headless Linux): the running bar keeps the
        # token for this session.
        done = signin(data, live_server.base_url)
        assert done.returncode == 0, done.stderr
        assert "signed in as marie" in done.stdout
        assert "no keyring" in done.stdout
        assert "2 event(s) recorded before sign-in" in done.stdout  # the hint to send them
        assert run("--data-dir", str(data), "key", "pause").returncode == 0
        state = wait_until(
            lambda: (
                (s := send_request(data, {"cmd": "status"})["state"])["sync"]
                and s["sync"]["state"] == "synced"
                and s
            )
        )
        assert state["agent"] == "marie"
        # The shift goes on under the signed-in agent: a shift start for her and the key
        # she was on, then her click. The local-only events stay on the PC.
        assert server_events(seeded_url) == [("marie", None), ("marie", "off"), ("marie", "pause")]
        out = run("--data-dir", str(data), "signout")
        assert out.returncode == 0, out.stderr
        assert "signed out" in out.stdout
        after = send_request(data, {"cmd": "status"})["state"]
        assert after["sync"] is None
        assert run("--data-dir", str(data), "key", "production").returncode == 0
    finally:
        bar.stop()
    # After the sign-out, clicks are local again: nothing more reached the server.
    assert server_events(seeded_url) == [("marie", None), ("marie", "off"), ("marie", "pause")]


def test_events_from_before_sign_in_are_sent_when_the_agent_chooses(
    tmp_path: Path, live_server: Served, seeded_url: str
) -> None:
    from app.journal import Journal

    data = tmp_path / "bar"
    bar = BarProcess(data)
    try:
        bar.wait_ready()
        for key in ("production", "pause"):
            assert run("--data-dir", str(data), "key", key).returncode == 0  # local only
        done = signin(data, live_server.base_url, "--send-local-events")
        assert done.returncode == 0, done.stderr
        assert "3 event(s) recorded before sign-in will be sent as marie's" in done.stdout
        wait_until(
            lambda: (
                (s := send_request(data, {"cmd": "status"})["state"])["sync"]
                and s["sync"]["state"] == "synced"
            )
        )
    finally:
        bar.stop()
    journal = Journal(data / "journal.sqlite3")
    local = [e for e in journal.events() if e.agent != "marie"]
    journal.close()
    assert len(local) == 3
    engine = make_engine(seeded_url)
    with engine.connect() as conn:
        stored = {
            str(row.uuid): row
            for row in conn.execute(
                select(m.events.c.uuid, m.events.c.activity_id, m.people.c.login).join(
                    m.people, m.people.c.id == m.events.c.person_id
                )
            )
        }
    engine.dispose()
    assert len(stored) == 5  # the 3 local events, then marie's shift start and current key
    for ev in local:
        # Sent as hers; the local activity ("Général") is unknown to the store: no activity.
        assert (stored[ev.uuid].login, stored[ev.uuid].activity_id) == ("marie", None)


def test_wrong_password_and_unreachable_server(tmp_path: Path, live_server: Served) -> None:
    data = tmp_path / "bar"
    wrong = signin(data, live_server.base_url, password="not it")
    assert wrong.returncode == 1
    assert "wrong login or password" in wrong.stderr
    nowhere = signin(data, "http://127.0.0.1:9")
    assert nowhere.returncode == 1
    assert "cannot reach" in nowhere.stderr
    bare = signin(data, "127.0.0.1:9")  # no scheme: https is meant, and said
    assert bare.returncode == 1
    assert "cannot reach https://127.0.0.1:9" in bare.stderr
    bad = signin(data, "not an address")
    assert bad.returncode == 2
    assert "not a server address" in bad.stderr
    no_bar = signin(data, live_server.base_url)
    assert no_bar.returncode == 1  # no keyring and no bar: nowhere to keep the token
    assert "Start the bar" in no_bar.stderr
    assert PASSWORD not in no_bar.stderr + no_bar.stdout


def test_with_no_bar_running_the_command_keeps_the_sign_in_as_the_bar_would(
    tmp_path: Path,
    live_server: Served,
    seeded_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The one sign-in completion: `bandeau signin` with no bar keeps in the journal what the
    bar's dialog would (account, profile, token, the claim of the local events). In-process,
    for the test's keyring (children have none)."""
    import io

    from app.account import load_account, load_profile
    from app.cli import main
    from app.credentials import load_token
    from app.domain.clock import SystemClock
    from app.domain.events import Key, SyncState
    from app.journal import Journal
    from app.recording import Recorder

    data = tmp_path / "bar"
    journal = Journal(data / "journal.sqlite3")
    recorder = Recorder(journal, SystemClock(), agent="poste", activities=["A"], signed_in=False)
    recorder.start()
    recorder.press(Key.PAUSE)
    journal.close()
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    code = run_main(main, data, live_server.base_url)
    out = capsys.readouterr().out
    assert code == 0, out
    assert "2 event(s) recorded before sign-in will be sent as marie's" in out
    journal = Journal(data / "journal.sqlite3")
    try:
        assert load_account(journal) is not None and load_profile(journal) is not None
        assert load_token(live_server.base_url, "marie")
        claimed = [e for e in journal.entries() if e.claimed_by == "marie"]
        assert [e.sync_state for e in claimed] == [SyncState.PENDING] * 2
    finally:
        journal.close()


def run_main(main: Any, data: Path, server: str) -> int:
    args = ["--data-dir", str(data), "signin", "--server", server, "--login", "marie"]
    return int(main([*args, "--password-stdin", "--send-local-events"]))
