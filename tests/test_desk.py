"""The desk without any window: a click and a command take one path, problems are codes,
sign-in and sign-out are one completion, and the threads' answers come back through `post`."""

from __future__ import annotations

import contextlib
import queue
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from app.account import Account, SignedIn, load_account, load_profile
from app.config import Settings
from app.desk.desk import Change, Desk, Notice
from app.domain.clock import FakeClock
from app.domain.events import Key, Kind, SyncState
from app.journal import Journal, JournalError
from app.recording import Recorder
from tests.servers import Served

ACTIVITIES = ["Assurance Auto", "Banque Pro"]
NOWHERE = "http://127.0.0.1:9"  # nothing listens there: the sync and stream just retry


class View:
    """What a bar would be told."""

    def __init__(self) -> None:
        self.changes: list[Change] = []
        self.notices: list[Notice] = []

    def desk_changed(self, what: Change) -> None:
        self.changes.append(what)

    def desk_notice(self, notice: Notice) -> None:
        self.notices.append(notice)


class Loop:
    """The desk's thread, by hand: what other threads post waits here until run."""

    def __init__(self) -> None:
        self.calls: queue.Queue[Callable[[], None]] = queue.Queue()

    def post(self, call: Callable[[], None]) -> None:
        self.calls.put(call)

    def run_until(self, done: Callable[[], bool], timeout_s: float = 20.0) -> None:
        import time

        deadline = time.monotonic() + timeout_s
        while not done():
            remaining = deadline - time.monotonic()
            assert remaining > 0, "timed out"
            with contextlib.suppress(queue.Empty):
                self.calls.get(timeout=min(remaining, 0.5))()


def local_settings() -> Settings:
    settings = Settings()
    settings.values["agent.name"] = "poste-12"
    settings.values["activity.list"] = ["Général"]
    return settings


@pytest.fixture
def loop() -> Loop:
    return Loop()


@pytest.fixture
def desk(journal: Journal, clock: FakeClock, loop: Loop) -> Iterator[Desk]:
    recorder = Recorder(journal, clock, agent="poste-12", activities=["Général"], signed_in=False)
    recorder.start()
    made = Desk(recorder, local_settings(), post=loop.post)
    yield made
    made.stop()


def signed(login: str = "marie", server: str = NOWHERE, token: str = "t") -> SignedIn:
    profile = {"person": {"login": login, "role": "agent"}, "plateaux": []}
    return SignedIn(Account(server, login), token, profile, ACTIVITIES, None)


def test_a_click_and_a_command_take_the_same_path(desk: Desk, journal: Journal) -> None:
    view = View()
    desk.add_view(view)
    clicked = desk.press(Key.PAUSE)
    assert clicked is not None and view.changes == ["shift"]
    answer = desk.handle({"cmd": "key", "key": "production", "note": "rappel client"})
    assert answer["ok"] and answer["state"]["key"] == "production"
    assert view.changes == ["shift", "shift"]  # the view is told as for a click
    (event,) = answer["events"]
    assert journal.events()[-1].uuid == event["uuid"]
    assert journal.events()[-1].note == "rappel client"


@pytest.mark.parametrize(
    ("request_", "code"),
    [
        ("not an object", "bad_request"),
        ({"cmd": "key", "key": "lunch"}, "bad_key"),
        ({"cmd": "key", "key": "off", "note": 42}, "bad_note"),
        ({"cmd": "key", "key": "off", "note": "x" * 201}, "invalid"),
        ({"cmd": "rm -rf"}, "unknown_command"),
        ({"cmd": "signed_in", "server": "x", "login": "y", "token": "z"}, "bad_request"),
        (
            {"cmd": "signed_in", "server": "x", "login": "y", "token": "", "activities": ["A"]},
            "bad_request",
        ),
    ],
)
def test_a_bad_request_is_told_why_by_its_code(
    desk: Desk, journal: Journal, request_: object, code: str
) -> None:
    before = journal.entries()
    answer = desk.handle(request_)
    assert answer["ok"] is False and answer["code"] == code and answer["error"]
    assert journal.entries() == before  # nothing written


def test_a_write_that_fails_is_a_problem_with_its_code_and_changes_nothing(
    desk: Desk, journal: Journal, monkeypatch: pytest.MonkeyPatch
) -> None:
    view = View()
    desk.add_view(view)
    desk.press(Key.PAUSE)

    def full(*_events: object, **_options: object) -> None:
        raise JournalError("database or disk is full")

    monkeypatch.setattr(journal, "append", full)
    answer = desk.handle({"cmd": "key", "key": "production"})
    assert answer == {"ok": False, "code": "not_recorded", "error": answer["error"]}
    assert "full" in answer["error"]
    assert desk.recorder.state.key is Key.PAUSE
    assert desk.problem is not None and desk.problem.alert
    assert desk.problem.error is not None and getattr(desk.problem.error, "reason", "") == "full"
    assert view.changes[-1] == "problem"
    monkeypatch.undo()
    assert desk.press(Key.OFF) is not None
    assert desk.problem is None  # a click's problem clears at the next recorded click


def test_events_before_sign_in_are_kept_here_and_sent_only_if_claimed(
    desk: Desk, journal: Journal
) -> None:
    desk.press(Key.PRODUCTION)
    assert journal.counts()[SyncState.LOCAL] == 2  # the shift start and the key
    assert desk.local_events() == 2
    claimed = desk.take_sign_in(signed(), send_local=False)
    assert claimed == 0
    assert journal.counts()[SyncState.LOCAL] == 2  # not chosen: they stay on this PC
    assert desk.waiting_events() == 2  # marie's own shift start and key, recorded at sign-in
    assert load_account(journal) == Account(NOWHERE, "marie")
    assert load_profile(journal) is not None
    # Signing in again and choosing to send them: now they are hers to send.
    desk.sign_out(revoke=False)
    # The two from before, and the two the sign-out recorded for poste-12 (start and key).
    assert desk.take_sign_in(signed(), send_local=True) == 4
    assert journal.counts()[SyncState.LOCAL] == 0


def test_sign_out_counts_only_what_waits_for_that_agent(desk: Desk, journal: Journal) -> None:
    """The regression: sign-out announced three events "not yet sent" that were another
    name's local events."""
    desk.press(Key.PAUSE)
    desk.press(Key.OFF)  # three local events, not claimed
    desk.take_sign_in(signed(), send_local=False)
    desk.press(Key.PRODUCTION)
    token, waiting = desk.sign_out(revoke=False)
    assert token == "t"
    assert waiting == 3  # marie's: her shift start, her Off key, her Production key
    assert journal.counts(agent="marie")[SyncState.PENDING] == 3
    assert journal.counts()[SyncState.LOCAL] == 3 + 2  # poste-12's, before and after
    assert load_account(journal) is None
    assert desk.recorder.agent == "poste-12" and not desk.recorder.signed_in
    last = journal.entries()[-1]
    assert (last.event.agent, last.event.kind, last.sync_state) == (
        "poste-12",
        Kind.STATUS,
        SyncState.LOCAL,
    )


@pytest.mark.slow  # a real process
def test_the_cli_sign_out_says_the_same_count(desk: Desk, journal: Journal, tmp_path: Path) -> None:
    """`bandeau signout` without a running bar counts as the desk does."""
    from tests.processes import run

    desk.press(Key.PAUSE)
    desk.take_sign_in(signed(), send_local=False)
    desk.stop()
    journal.close()
    data_dir = journal.path.parent
    done = run("signout", "--data-dir", str(data_dir))
    assert done.returncode == 0, done.stderr
    assert "2 event(s) not yet sent" in done.stdout  # marie's two, not poste-12's


def test_a_refused_sign_in_completion_leaves_the_bar_as_it_was(
    desk: Desk, journal: Journal, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk.press(Key.PAUSE)

    def broken(*_args: object, **_kwargs: object) -> None:
        raise JournalError("disk I/O error")

    monkeypatch.setattr(desk.recorder, "adopt", broken)
    with pytest.raises(JournalError):
        desk.take_sign_in(signed(), send_local=False)
    assert desk.account is None and not desk.syncing
    assert load_account(journal) is None
    answer = desk.handle(
        {"cmd": "signed_in", "server": NOWHERE, "login": "m", "token": "t", "activities": ["A"]}
    )
    assert answer["ok"] is False and answer["code"] == "not_signed_in"


@pytest.mark.slow  # a real server
def test_sync_reports_come_back_through_post(
    desk: Desk, loop: Loop, journal: Journal, server_on_test_clock: Served
) -> None:
    """The worker's thread never calls the views: its reports are posted to the desk's
    thread, and the desk tells its views there."""
    view = View()
    desk.add_view(view)
    from app.account import sign_in_and_keep
    from tests.servers import PASSWORD

    done = sign_in_and_keep(server_on_test_clock.base_url, "marie", PASSWORD, journal.device_id)
    desk.take_sign_in(done, send_local=True)
    desk.press(Key.PRODUCTION)
    assert desk.sync_status is not None
    loop.run_until(lambda: desk.sync_status is not None and desk.sync_status.state == "synced")
    assert "sync" in view.changes
    assert journal.counts(agent="marie")[SyncState.PENDING] == 0
    assert desk.session == (server_on_test_clock.base_url, done.token)


@pytest.mark.slow  # a real server
def test_the_sign_in_dialogs_path_answers_on_the_desks_thread(
    desk: Desk, loop: Loop, server_on_test_clock: Served
) -> None:
    from tests.servers import PASSWORD

    answers: list[tuple[object, object]] = []
    desk.sign_in(
        server_on_test_clock.base_url,
        "marie",
        "wrong",
        send_local=False,
        answer=lambda attempt, error: answers.append((attempt, error)),
    )
    loop.run_until(lambda: bool(answers))
    attempt, error = answers.pop()
    assert attempt is None and getattr(error, "code", "") == "wrong_credentials"
    desk.sign_in(
        server_on_test_clock.base_url,
        "marie",
        PASSWORD,
        send_local=False,
        answer=lambda attempt, error: answers.append((attempt, error)),
    )
    loop.run_until(lambda: bool(answers))
    attempt, error = answers.pop()
    assert error is None and attempt is not None
    assert attempt.complete() is None  # type: ignore[attr-defined]
    assert desk.syncing and desk.recorder.agent == "marie"


def test_a_stream_message_the_bar_cannot_read_changes_nothing(desk: Desk) -> None:
    """What the store's stream says is input too: a malformed message is ignored, never a
    crash of the bar (its coverage chip reads these counts at every tick)."""
    for kind, data in (
        ("coverage", {"activities": {"Général": {"production": "9", "present": 3}}}),
        ("coverage", {"activities": ["not", "a", "mapping"]}),
        ("coverage", "text"),
        ("snapshot", {"agents": "everyone"}),
        ("snapshot", {"agents": [{"login": "poste-12", "corrections": "none"}]}),
        ("corrections", {"corrections": {"uuid": "x"}}),
        ("corrections", {"corrections": [{"uuid": "x"}, "text", {"from_ms": "soon"}]}),
        ("plateaux", {"plateaux": "all"}),
        ("unknown", {"a": 1}),
    ):
        desk.take_message(kind, data)
    assert desk.coverage == {} and desk.ledger.fixes == {}
    desk.take_message(
        "coverage",
        {"activities": {"Général": {"production": 2, "present": 5}, "Autre": {"x": 1}}},
    )
    assert desk.coverage == {"Général": {"production": 2, "present": 5}}


def test_a_snapshot_read_before_a_kept_correction_landed_does_not_uncount_it(
    desk: Desk, journal: Journal, clock: FakeClock
) -> None:
    """When the store comes back, the stream's snapshot may be read a moment before the
    sync's POST of a correction kept offline lands; by the time the bar reads it, the
    journal no longer holds the correction either. It still counts until the stream shows
    it (the store keeps every correction it took), and a refused one is uncounted, and
    told, all the same."""
    now = clock.now_ms()
    kept = {
        "agent": "poste-12",
        "key": "pause",
        "off_shift": False,
        "from_ms": now - 600_000,
        "to_ms": now - 300_000,
        "reason": "pause oubliée",
    }
    took = "00000000-0000-4000-8000-0000000000a1"
    refused = "00000000-0000-4000-8000-0000000000a2"
    desk.ledger.keep({**kept, "uuid": took}, now)
    desk.ledger.keep({**kept, "uuid": refused}, now)
    journal.settle_correction(took)  # the sync: the store took it...
    journal.settle_correction(refused, "too old")  # ...and refused the other
    theirs = {**kept, "uuid": "00000000-0000-4000-8000-0000000000a3", "author": "lea"}
    desk.take_message("snapshot", {"agents": [{"login": "poste-12", "corrections": [theirs]}]})
    assert set(desk.ledger.fixes) == {took, refused, theirs["uuid"]}
    told = desk.ledger.settle()
    assert [body["uuid"] for body in told] == [refused]
    assert set(desk.ledger.fixes) == {took, theirs["uuid"]}
    # Once the stream has shown it, the store's word is the whole list again.
    shown = {**kept, "uuid": took, "author": "poste-12"}
    desk.take_message("snapshot", {"agents": [{"login": "poste-12", "corrections": [shown]}]})
    assert set(desk.ledger.fixes) == {took}
    desk.take_message("snapshot", {"agents": [{"login": "poste-12", "corrections": []}]})
    assert desk.ledger.fixes == {}
