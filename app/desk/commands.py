"""The command protocol of a running bar: what `bandeau key`, `bandeau status`, a second
launch or a softphone's hook may ask, over the private local channel (app.instance).

One JSON object per request, one per answer; every answer has `ok`, and `error` (English)
with `code` when it is false. A request reaches the desk the way a click does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, NotRequired, TypedDict

from app.domain.events import Event, InvalidEvent, Key, parse_key

if TYPE_CHECKING:
    from app.desk.desk import Desk

Command = Literal["key", "show", "status", "end_shift", "signed_in", "sign_out"]
COMMANDS: tuple[Command, ...] = ("key", "show", "status", "end_shift", "signed_in", "sign_out")


class EventJson(TypedDict):
    uuid: str
    seq: int | None
    kind: str
    key: str | None


class SyncJson(TypedDict):
    state: str
    pending: int
    problems: int


class StateJson(TypedDict):
    """What `bandeau status --json` prints."""

    shift_open: bool
    key: str | None
    activity: str | None
    time_in_status_ms: int | None
    today_ms: dict[str, int]
    problem: str | None  # its code (see app.desk.desk.ProblemCode)
    problem_detail: str | None  # its English
    sync: SyncJson | None
    agent: str


class Answer(TypedDict):
    ok: bool
    error: NotRequired[str]
    code: NotRequired[str]
    events: NotRequired[list[EventJson]]
    state: NotRequired[StateJson]
    token: NotRequired[str | None]
    waiting: NotRequired[int]
    claimed: NotRequired[int]


def refused(code: str, error: str) -> Answer:
    return {"ok": False, "code": code, "error": error}


def answer(desk: Desk, request: Any) -> Answer:
    """The desk's answer to one request (never raises: a bad request is told why)."""
    if not isinstance(request, dict):
        return refused("bad_request", "a request is a JSON object")
    cmd = request.get("cmd")
    if cmd == "key":
        return _key(desk, request)
    if cmd == "show":
        desk.bring_forward()
        return {"ok": True}
    if cmd == "status":
        return {"ok": True, "state": state_json(desk)}
    if cmd == "end_shift":
        ended = desk.end_shift()
        if ended is None:
            return _problem(desk)
        return {"ok": True, "events": [event_json(e) for e in ended.events]}
    if cmd == "signed_in":
        return _signed_in(desk, request)
    if cmd == "sign_out":
        token, waiting = desk.sign_out(revoke=False)  # the asking program revokes it
        return {"ok": True, "token": token, "waiting": waiting}
    return refused("unknown_command", f"unknown command {cmd!r}")


def _key(desk: Desk, request: dict[str, Any]) -> Answer:
    try:
        key = parse_key(str(request.get("key", "")))
    except InvalidEvent as exc:
        return refused("bad_key", str(exc))
    note = request.get("note")
    if note is not None and not isinstance(note, str):
        return refused("bad_note", "note must be a text")
    outcome = desk.press(key, note)
    if outcome is None:
        return _problem(desk)
    return {
        "ok": True,
        "events": [event_json(e) for e in outcome.events],
        "state": state_json(desk),
    }


def _signed_in(desk: Desk, request: dict[str, Any]) -> Answer:
    """`bandeau signin` signed in (network and keyring done): the bar takes the sign-in,
    by the same completion as its own dialog's."""
    from app.account import Account, SignedIn  # noqa: PLC0415
    from app.journal import JournalError  # noqa: PLC0415

    server, login, token = (request.get(k) for k in ("server", "login", "token"))
    activities = request.get("activities")
    if not all(isinstance(v, str) and v for v in (server, login, token)):
        return refused("bad_request", "signed_in needs server, login and token")
    if (
        not isinstance(activities, list)
        or not activities
        or not all(isinstance(a, str) and a for a in activities)
    ):
        return refused("bad_request", "signed_in needs the server's activities")
    profile = request.get("profile")
    done = SignedIn(
        Account(str(server), str(login)),
        str(token),
        profile if isinstance(profile, dict) else {},
        list(activities),
        None,
    )
    try:
        claimed = desk.take_sign_in(done, send_local=request.get("send_local") is True)
    except (JournalError, ValueError) as exc:
        return refused("not_signed_in", f"not signed in: {exc}")
    return {"ok": True, "claimed": claimed}


def _problem(desk: Desk) -> Answer:
    problem = desk.problem
    if problem is None:
        return refused("failed", "failed")
    return refused(problem.code, problem.english)


def event_json(ev: Event) -> EventJson:
    return {
        "uuid": ev.uuid,
        "seq": ev.seq,
        "kind": ev.kind.value,
        "key": ev.key.value if ev.key else None,
    }


def state_json(desk: Desk) -> StateJson:
    recorder = desk.recorder
    state = recorder.state
    today = desk.today()
    status = desk.sync_status if desk.syncing else None
    return {
        "shift_open": state.open,
        "key": state.key.value if state.key else None,
        "activity": state.activity,
        "time_in_status_ms": recorder.elapsed_ms() if state.open else None,
        "today_ms": {k.value: today.by_key[k] for k in Key}
        | {"unclassified": today.unclassified_ms},
        "problem": desk.problem.code if desk.problem is not None else None,
        "problem_detail": desk.problem.english if desk.problem is not None else None,
        "sync": None
        if status is None
        else {"state": status.state, "pending": status.pending, "problems": status.problems},
        "agent": recorder.agent,
    }
