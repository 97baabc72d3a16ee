"""The desk: what the agent's bar does, without its window.

It owns the recorder (the shift and its journal), the sync worker, the account (sign-in and
sign-out), the corrections ledger and the coverage follow-up, and answers the commands of
other programs (`bandeau key`, a softphone's hook). A click on a key and a `bandeau key`
request both end in `Desk.press`.

No Qt: the desk runs on one thread (the UI thread, in the bar) and the work that blocks —
the network, the keyring — runs on threads of its own, whose answers come back through
`post` (given by whoever runs the desk: the bar posts them to Qt's event loop). What it has
to say, it says to its views through one narrow interface (`DeskView`): what changed (they
read the new state from the desk), and notices (a message to show once).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypedDict

from app.config import Settings
from app.desk.ledger import Ledger, refusal
from app.domain.events import DEFAULT_KEY_LOOKS, Event, InvalidEvent, Key, SyncState
from app.domain.indicators import Correction
from app.domain.totals import Totals, apply_corrections, intervals, local_day, totals_of
from app.journal import JournalError
from app.recording import Outcome, Recorder

if TYPE_CHECKING:
    from app.account import Account, KeyLook, SignedIn
    from app.sync.stream import StreamClient
    from app.sync.worker import ShiftWire, SyncWorker
    from app.sync.worker import SyncStatus as SyncStatus  # noqa: PLC0414 - for the views

log = logging.getLogger(__name__)

ALIVE_EVERY_MS = 60_000

Post = Callable[[Callable[[], None]], None]
"""Run this call on the desk's thread, soon (from any thread)."""

Change = Literal["shift", "sync", "account", "coverage", "fixes", "looks", "problem"]
"""What changed: shift (state, time, totals), sync (the sync status), account (signed in or
out), coverage (colleagues in production), fixes (corrections counted), looks (the keys'
labels and colours), problem (the problem shown, or none)."""

NoticeKind = Literal[
    "show",  # bring the bar forward (a second launch, `bandeau show`)
    "correction_kept",  # the store could not be reached: a correction waits on this PC
    "correction_refused",  # a correction kept offline was refused by the store
    "month_exported",  # the agent's month is written (path)
    "my_data_saved",  # all of the agent's data from the store is written (path)
]

ProblemCode = Literal[
    "invalid",  # a click the domain refuses (English in `english`)
    "not_recorded",  # the journal could not write a click (error: the JournalError)
    "not_switched",  # the journal could not write an activity change or a shift end
    "journal_repaired",  # params: reason, moved_to, salvaged
    "settings",  # params: problems (SettingProblem list)
    "sign_in_again",  # params: reason (why no token)
    "sign_out",  # the journal could not forget the account (error)
    "export",  # the agent's month could not be exported (error)
    "autostart",  # the start-at-login entry could not be changed (error)
    "dock",  # the bar could not reserve its strip of the screen (error)
]


class Coverage(TypedDict):
    """Of the colleagues on shift on an activity (present), how many are in production."""

    production: int
    present: int


def coverage_of(data: Any) -> dict[str, Coverage]:
    """A `coverage` message's activities, those well formed (a store's mistake, or an older
    store's shape, must not break the bar)."""
    found: dict[str, Coverage] = {}
    for activity, counts in data.items() if isinstance(data, dict) else ():
        if not isinstance(counts, dict):
            continue
        production, present = counts.get("production"), counts.get("present")
        if isinstance(production, int) and isinstance(present, int) and present >= 0:
            found[str(activity)] = {"production": production, "present": present}
    return found


@dataclass(frozen=True, slots=True)
class Notice:
    kind: NoticeKind
    params: Mapping[str, Any] = field(default_factory=dict)
    error: BaseException | None = None


@dataclass(frozen=True, slots=True)
class DeskProblem:
    """A problem to show on the bar. `alert`: in a dialog too. `transient`: cleared by the
    next recorded click; a lasting one stays until the agent reads it."""

    code: ProblemCode
    english: str
    params: Mapping[str, Any] = field(default_factory=dict)
    error: BaseException | None = None
    alert: bool = False
    transient: bool = True


class DeskView(Protocol):
    """What a view of the desk (the bar) is told. Called on the desk's thread."""

    def desk_changed(self, what: Change) -> None: ...

    def desk_notice(self, notice: Notice) -> None: ...


class SignInAttempt:
    """A sign-in the server accepted, not yet taken: the view completes or declines it
    (it declines when the person cancelled meanwhile). `keyring_problem`: completing it
    keeps the token in this bar's memory only (the view asks the person first)."""

    def __init__(self, desk: Desk, done: SignedIn, send_local: bool) -> None:
        self._desk = desk
        self._done = done
        self._send_local = send_local
        self.keyring_problem = done.keyring_problem
        self.login = done.account.login

    def complete(self) -> BaseException | None:
        """Sign the bar in; what went wrong, or None (then the sign-in is forgotten)."""
        try:
            self._desk.take_sign_in(self._done, send_local=self._send_local)
        except (JournalError, ValueError) as exc:
            self.decline()
            return exc
        return None

    def decline(self) -> None:
        """Revoke the token and forget it."""
        self._desk.forget(self._done.account, self._done.token)


SignInAnswer = Callable[[SignInAttempt | None, BaseException | None], None]
"""Told (the attempt, None) when the server accepted the sign-in, (None, why) if not."""


class Desk:
    """The bar's application logic. Attributes the views read:

    recorder: the shift (state, times) and its journal.
    account: who is signed in where (None: local only); `syncing` while a worker sends.
    sync_status: the last sync report (None before the first, and when local only).
    problem: the problem to show, or None.
    coverage: per activity, {"production": n, "present": n} from the store's stream.
    profile: what the store said of the person (plateaux, keys), None when local only.
    """

    def __init__(self, recorder: Recorder, settings: Settings, *, post: Post) -> None:
        self.recorder = recorder
        self.settings = settings
        self.post = post
        self.local_agent = settings.local_agent
        self.account: Account | None = None
        self._token: str | None = None
        self.sync_status: SyncStatus | None = None
        self.problem: DeskProblem | None = None
        self.coverage: dict[str, Coverage] = {}
        self.profile: dict[str, Any] | None = None
        self.ledger = Ledger(recorder.journal, lambda: recorder.agent)
        self._views: list[DeskView] = []
        self._worker: SyncWorker | None = None
        self._retired: list[SyncWorker] = []
        self._stream: StreamClient | None = None
        self._retired_streams: list[StreamClient] = []
        self._threads: list[threading.Thread] = []
        self._last_alive_mono = recorder.clock.monotonic_ms()
        self._day_read: tuple[Any, tuple[int, int], list[Event]] | None = None
        self._stopped = False

    # -- views ---------------------------------------------------------------------------

    def add_view(self, view: DeskView) -> None:
        self._views.append(view)

    def _changed(self, *what: Change) -> None:
        for view in list(self._views):
            for item in what:
                try:
                    view.desk_changed(item)
                except Exception:  # a view's fault must not stop the desk (or a click)
                    log.exception("a view failed to show %s", item)

    def _notice(self, notice: Notice) -> None:
        for view in list(self._views):
            try:
                view.desk_notice(notice)
            except Exception:
                log.exception("a view failed to show a notice")

    # -- starting ------------------------------------------------------------------------

    def resume(
        self,
        account: Account | None,
        token: str | None,
        *,
        profile: dict[str, Any] | None = None,
        token_problem: str | None = None,
    ) -> None:
        """Pick up where the last run left off: sync with the kept sign-in, or say that the
        person must sign in again (their events wait meanwhile)."""
        self.profile = profile if account is not None else None
        if account is not None:
            self.account = account
            self.ledger.reset()
            if token is not None:
                self._token = token
                self._start_sync(account, token)
            else:
                self._ask_to_sign_in_again(token_problem or "")
        self._changed("account", "looks", "shift")

    # -- what the agent does ---------------------------------------------------------------

    def press(self, key: Key, note: str | None = None) -> Outcome | None:
        """Press a key (a click, a shortcut, `bandeau key`): the state changes only once the
        event is on disk. None when it was not recorded (the problem then says why)."""
        try:
            outcome = self.recorder.press(key, note)
        except InvalidEvent as exc:
            self.set_problem(DeskProblem("invalid", str(exc)))
            return None
        except JournalError as exc:
            self.set_problem(
                DeskProblem("not_recorded", f"not recorded: {exc}", error=exc, alert=True)
            )
            return None
        self._after(outcome)
        return outcome

    def switch_activity(self, activity: str) -> Outcome | None:
        try:
            outcome = self.recorder.switch_activity(activity)
        except InvalidEvent as exc:
            self.set_problem(DeskProblem("invalid", str(exc), alert=True))
            self._changed("shift")
            return None
        except JournalError as exc:
            self.set_problem(DeskProblem("not_switched", str(exc), error=exc, alert=True))
            self._changed("shift")
            return None
        if self.profile is not None:
            self._changed("looks")  # the new activity may be another plateau's
        self._after(outcome)
        return outcome

    def end_shift(self) -> Outcome | None:
        try:
            outcome = self.recorder.end_shift()
        except JournalError as exc:
            self.set_problem(DeskProblem("not_switched", str(exc), error=exc, alert=True))
            return None
        self._after(outcome)
        return outcome

    def _after(self, outcome: Outcome) -> None:
        if outcome.changed:
            self.kick()
        if self.problem is not None and self.problem.transient:
            self.clear_problem()
        if outcome.changed:
            self._changed("shift")

    def tick(self) -> None:
        """Called often (the bar's timer): a wall-clock jump is recorded, and the last sign
        of life kept now and then (to resume the shift after a crash)."""
        try:
            jump = self.recorder.check_clock()
            if jump.changed:
                self._changed("shift")
            mono = self.recorder.clock.monotonic_ms()
            if mono - self._last_alive_mono >= ALIVE_EVERY_MS:
                self._last_alive_mono = mono
                self.recorder.touch_alive()
        except Exception as exc:  # a tick that fails is tried again at the next one
            log.warning("tick: %s", exc)

    # -- problems --------------------------------------------------------------------------

    def _ask_to_sign_in_again(self, reason: str) -> None:
        """The kept sign-in cannot be used (no token, or the store refuses it): the events
        wait, pending, until the person signs in again; said until then."""
        self.set_problem(
            DeskProblem(
                "sign_in_again", f"sign in again: {reason}", {"reason": reason}, transient=False
            )
        )

    def set_problem(self, problem: DeskProblem) -> None:
        log.warning("%s: %s", problem.code, problem.english)
        self.problem = problem
        self._changed("problem")

    def clear_problem(self) -> None:
        if self.problem is not None:
            self.problem = None
            self._changed("problem")

    # -- what the views show ---------------------------------------------------------------

    @property
    def sync_to_show(self) -> SyncStatus | None:
        """The sync status worth showing: while signed in (syncing, or told to sign in
        again); None when local only."""
        return self.sync_status if self.account is not None else None

    @property
    def syncing(self) -> bool:
        """A worker sends this journal's events (signed in, with a token)."""
        return self._worker is not None

    @property
    def session(self) -> tuple[str, str] | None:
        """The store's address and the token, while signed in (for the lead's panel)."""
        if self.account is None or self._token is None or not self.syncing:
            return None
        return self.account.server, self._token

    def is_lead(self) -> bool:
        """Signed in as a lead (or an admin): the panel is theirs to open."""
        person = (self.profile or {}).get("person")
        role = person.get("role") if isinstance(person, dict) else None
        return bool(self.syncing and role in ("lead", "admin"))

    def key_looks(self) -> dict[Key, KeyLook]:
        """The keys' labels and colours as the plateau of the current activity sets them
        (none when local only)."""
        if self.profile is None:
            return {}
        from app.account import profile_key_styles  # noqa: PLC0415

        looks = profile_key_styles(self.profile, self.recorder.state.activity)
        return {key: looks[key.value] for key in Key if key.value in looks}

    def custom_labels(self) -> dict[Key, str]:
        """The labels the plateau changed (the others are the interface's own, translated)."""
        return {
            key: look.label
            for key, look in self.key_looks().items()
            if look.label != DEFAULT_KEY_LOOKS[key][0]
        }

    def today(self) -> Totals:
        """Today's time per key: the recorder's running totals, or — when some of today's
        time was corrected — the day's stretches with the corrections applied."""
        if not self.ledger.fixes:
            return self.recorder.today()
        now = self.recorder.corrected_now()
        # The day's events are read again only when the day or the recorder's state changed
        # (this runs at each tick).
        key = (
            local_day(now, self.recorder.clock.zone()),
            self.recorder.state,
            self.recorder.clock_offset_ms,
        )
        if self._day_read is None or self._day_read[0] != key:
            self._day_read = (key, *self.recorder.day_events(now))
        _key, day, events = self._day_read
        fixes = self.ledger.in_day(day)
        if not fixes:
            return self.recorder.today()
        return totals_of(apply_corrections(intervals(events, day[0], day[1], now), fixes))

    def day(self) -> tuple[int, tuple[int, int], list[Event], list[Correction]]:
        """My day, in the store's time (as the lead sees it): now, the day's bounds, its
        events and the corrections that touch it."""
        now = self.recorder.corrected_now()
        day, events = self.recorder.day_events(now)
        return now, day, events, self.ledger.in_day(day)

    def local_events(self) -> int:
        """Events recorded here before sign-in, that a sign-in may send as its person's."""
        try:
            return self.recorder.journal.local_backlog()[0]
        except JournalError as exc:
            log.warning("local events: %s", exc)
            return 0

    def waiting_events(self) -> int:
        """The signed-in person's events not sent yet (their own and those they claimed)."""
        if self.account is None:
            return 0
        try:
            return self.recorder.journal.counts(agent=self.account.login)[SyncState.PENDING]
        except JournalError as exc:
            log.warning("waiting events: %s", exc)
            return 0

    def known_account(self) -> Account | None:
        """The account last signed in here (to pre-fill the sign-in)."""
        from app.account import load_account  # noqa: PLC0415

        if self.account is not None:
            return self.account
        try:
            return load_account(self.recorder.journal)
        except JournalError:
            return None

    # -- signing in and out ----------------------------------------------------------------

    def sign_in(
        self, server: str, login: str, password: str, *, send_local: bool, answer: SignInAnswer
    ) -> None:
        """Ask the server (off this thread: network, keyring); `answer` is told on this
        thread."""
        from app.account import sign_in_and_keep  # noqa: PLC0415 - loads httpx, keyring

        device_id = self.recorder.journal.device_id

        def done(signed: Any, error: BaseException | None) -> None:
            if error is not None or signed is None:
                answer(None, error)
            else:
                answer(SignInAttempt(self, signed, send_local), None)

        self.run(lambda: sign_in_and_keep(server, login, password, device_id), done)

    def take_sign_in(self, done: SignedIn, *, send_local: bool) -> int:
        """The one sign-in completion (the dialog's and `bandeau signin`'s): the journal
        keeps it, events now belong to the person and sync to their store. How many events
        recorded before sign-in were claimed. Raises JournalError or ValueError (then the
        bar stays as it was)."""
        from app.account import clear_account, remember_sign_in  # noqa: PLC0415

        journal = self.recorder.journal
        previous = self.account
        claimed = remember_sign_in(journal, done, send_local=send_local)
        try:
            outcome = self.recorder.adopt(done.account.login, done.activities, signed_in=True)
        except (JournalError, ValueError):
            if previous is None:
                clear_account(journal)
            raise
        self._stop_sync()
        self.account = done.account
        self._token = done.token
        self.profile = done.profile
        self.ledger.reset()
        if self.problem is not None and self.problem.code == "sign_in_again":
            self.clear_problem()
        self._start_sync(done.account, done.token)
        self._after(outcome)
        self._changed("account", "looks", "shift", "sync")  # the activities may be new
        log.info("signed in as %s on %s", done.account.login, done.account.server)
        return claimed

    def sign_out(self, *, revoke: bool = True) -> tuple[str | None, int]:
        """Back to local-only: sync stops, events are recorded for the PC's local name again,
        and the account is forgotten; the signed-in person's unsent events stay in the
        journal (sent at their next sign-in). With `revoke`, the token is revoked and taken
        out of the keyring (off this thread); else the caller does it. (the token, how many
        of the person's events wait to be sent)."""
        from app.account import clear_account  # noqa: PLC0415

        account, token = self.account, self._token
        waiting = self.waiting_events()
        self._stop_sync()
        self.account, self._token = None, None
        self.profile = None
        self.sync_status = None
        self.ledger.reset()
        try:
            outcome = self.recorder.adopt(
                self.local_agent, self.settings.texts("activity.list"), signed_in=False
            )
        except (JournalError, ValueError) as exc:
            self.set_problem(DeskProblem("not_switched", str(exc), error=exc, alert=True))
        else:
            self._after(outcome)
        try:
            clear_account(self.recorder.journal)
        except JournalError as exc:
            self.set_problem(DeskProblem("sign_out", str(exc), error=exc))
        if self.problem is not None and self.problem.code == "sign_in_again":
            self.clear_problem()
        if revoke and account is not None:
            self.forget(account, token)
        self._changed("account", "looks", "shift", "sync", "coverage", "fixes")
        return token, waiting

    def forget(self, account: Account, token: str | None) -> None:
        """Revoke a token on the server and take it out of the keyring, off this thread."""
        from app.account import forget_sign_in  # noqa: PLC0415

        self.run(lambda: forget_sign_in(account, token))

    # -- corrections -----------------------------------------------------------------------

    def correct(
        self, body: dict[str, Any], done: Callable[[dict[str, Any] | None, Any], None]
    ) -> None:
        """Send a correction of the agent's own time; `done(row, None)` once the store has
        it (or, the store being unreachable, once it is kept here to be sent later), else
        `done(None, why)`."""
        from app.exports import post_correction  # noqa: PLC0415 - loads httpx

        session = self.session
        if session is None:
            done(None, JournalError("not signed in"))
            return
        server, token = session

        def answered(row: Any, error: Any) -> None:
            if error is not None and getattr(error, "unreachable", False):
                try:
                    row = self.ledger.keep(body, self.recorder.corrected_now())
                except JournalError as exc:
                    done(None, exc)
                    return
                self.kick()
                self._notice(Notice("correction_kept"))
            elif error is not None:
                done(None, error)
                return
            else:
                self.ledger.add([row], mine=True)
            self._changed("fixes", "shift")
            done(row, None)

        self.run(lambda: post_correction(server, token, body), answered)

    # -- my month --------------------------------------------------------------------------

    def month(self) -> tuple[date, date]:
        """This month so far, in the site's days."""
        day = local_day(self.recorder.corrected_now(), self.recorder.clock.zone())
        return day.replace(day=1), day

    def export_month(self, path: Path, *, lang: str) -> bool:
        """Write this month's report (by day) to `path`, off this thread; a notice says how
        it went. False when not signed in."""
        from app.exports import save_csv  # noqa: PLC0415

        session = self.session
        if session is None:
            return False
        server, token = session
        first, last = self.month()

        def done(written: Any, error: Any) -> None:
            if error is not None:
                self.set_problem(DeskProblem("export", str(error), error=error))
            else:
                self._notice(Notice("month_exported", {"path": str(written)}))

        self.run(
            lambda: save_csv(server, token, path, first=first, last=last, by="day", lang=lang),
            done,
        )
        return True

    def save_my_data(self, path: Path) -> bool:
        """Write everything the store holds about the signed-in person to `path` (JSON, off
        this thread); a notice says how it went. False when not signed in."""
        from app.exports import save_my_data  # noqa: PLC0415

        session = self.session
        if session is None:
            return False
        server, token = session

        def done(written: Any, error: Any) -> None:
            if error is not None:
                self.set_problem(DeskProblem("export", str(error), error=error))
            else:
                self._notice(Notice("my_data_saved", {"path": str(written)}))

        self.run(lambda: save_my_data(server, token, path), done)
        return True

    def must_change_password(self) -> bool:
        """The store handed this person a one-time password: it takes nothing else from
        them until they choose their own."""
        person = (self.profile or {}).get("person")
        return bool(isinstance(person, dict) and person.get("must_change_password"))

    def change_password(
        self, current: str, new: str, done: Callable[[BaseException | None], None]
    ) -> bool:
        """Change the signed-in person's password on the store (off this thread); `done(None)`
        or `done(why)` on this thread. Then the bar syncs again at once (a one-time password
        held it back). False when not signed in."""
        from app.account import save_profile  # noqa: PLC0415
        from app.exports import change_password  # noqa: PLC0415

        session = self.session
        if session is None:
            return False
        server, token = session

        def answered(_result: Any, error: Any) -> None:
            if error is None and self.profile is not None:
                person = self.profile.get("person")
                if isinstance(person, dict) and person.get("must_change_password"):
                    person["must_change_password"] = False
                    with contextlib.suppress(JournalError):
                        save_profile(self.recorder.journal, self.profile)
                self.kick()
            done(error)

        self.run(lambda: change_password(server, token, current, new), answered)
        return True

    # -- sync --------------------------------------------------------------------------------

    def _start_sync(self, account: Account, token: str) -> None:
        from app.sync.client import SyncClient  # noqa: PLC0415 - loads httpx
        from app.sync.worker import SyncStatus, SyncWorker  # noqa: PLC0415

        self._stop_sync()
        recorder = self.recorder
        client = SyncClient(account.server, token, recorder.clock)
        worker = SyncWorker(
            recorder.journal,
            client,
            recorder.clock,
            agent=account.login,
            activities=frozenset(recorder.activities),
            on_status=lambda status: self.post(lambda: self._on_sync(worker, status)),
            state_provider=self._shift_wire,
        )
        self._worker = worker
        self.sync_status = SyncStatus("waiting", self.waiting_events(), 0)
        worker.start()
        self._follow(account.server, token)
        log.info("sync started for %s on %s", account.login, account.server)

    def _stop_sync(self) -> None:
        """Stop sending (unsynced events stay in the journal) and following the stream.
        Does not wait: a request in flight may take its whole timeout. Joined in stop()."""
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.request_stop()
            self._retired.append(worker)
        if self._stream is not None:
            self._stream.request_stop()
            self._retired_streams.append(self._stream)
            self._stream = None
        self.coverage = {}

    def kick(self) -> None:
        """Sync now (after a click, or when the network is said to be back)."""
        if self._worker is not None:
            self._worker.kick()

    def _on_sync(self, worker: SyncWorker, status: SyncStatus) -> None:
        if worker is not self._worker:
            return  # a report from before a sign-out or another sign-in
        self.sync_status = status
        if status.state == "signed_out":
            # The store no longer takes this token (revoked, person disabled): the bar asks
            # for a sign-in again, the account kept; the events wait, pending, meanwhile.
            self._stop_sync()
            self._token = None
            self._ask_to_sign_in_again(status.detail)
            self._changed("sync", "account", "coverage")
            return
        offset = worker.offsets.offset_ms
        self.recorder.set_clock_offset(offset or 0)
        refused = self.ledger.settle()
        for body in refused:
            code, params, english = refusal(body)
            self._notice(
                Notice("correction_refused", {"code": code, "params": params, "english": english})
            )
        if refused:
            self._changed("fixes", "shift")
        self._changed("sync")

    def _shift_wire(self) -> ShiftWire:
        """The shift as the heartbeat tells it (read from the sync thread: one attribute
        read of a frozen state)."""
        state = self.recorder.state
        return {
            "open": state.open,
            "key": state.key.value if state.key else None,
            "activity": state.activity,
            "since_ms": state.since_ms,
        }

    # -- the stream: coverage, corrections, plateaux ----------------------------------------

    def _follow(self, server: str, token: str) -> None:
        from app.sync.stream import StreamClient  # noqa: PLC0415

        self.ledger.load_kept(self.recorder.corrected_now())
        stream = StreamClient(
            server,
            token,
            on_message=lambda kind, data: self.post(lambda: self._on_stream(stream, kind, data)),
            on_state=lambda state, _detail: self.post(lambda: self._on_stream_state(stream, state)),
        )
        self._stream = stream
        stream.start()

    def _on_stream(self, stream: StreamClient, kind: str, data: Any) -> None:
        if stream is self._stream:
            self.take_message(kind, data)

    def take_message(self, kind: str, data: Any) -> None:
        """A message of the agent's own stream: the coverage of their activities, their
        corrections, their plateaux's keys."""
        if not isinstance(data, dict):
            return
        if kind == "coverage":
            self.coverage = coverage_of(data.get("activities"))
            self._changed("coverage")
        elif kind == "snapshot":
            agents = data.get("agents")
            mine = [
                a
                for a in (agents if isinstance(agents, list) else [])
                if isinstance(a, dict) and a.get("login") == self.recorder.agent
            ]
            fixes = mine[0].get("corrections") if mine else None
            self.ledger.replace(
                fixes if isinstance(fixes, list) else [], self.recorder.corrected_now()
            )
            self._changed("fixes", "shift")
            self._take_plateaux(data.get("plateaux"))
        elif kind == "corrections" and isinstance(data.get("corrections"), list):
            self.ledger.add(data["corrections"])
            self._changed("fixes", "shift")
        elif kind == "plateaux":
            self._take_plateaux(data.get("plateaux"))

    def _on_stream_state(self, stream: StreamClient, state: str) -> None:
        if stream is self._stream and state != "live" and self.coverage:
            self.coverage = {}  # offline: say nothing rather than something stale
            self._changed("coverage")

    def _take_plateaux(self, plateaux: Any) -> None:
        """The plateaux as the store describes them now (at each connection, and when an
        admin changes one): the keys take their new labels and colours at once, and the
        profile kept for offline starts follows."""
        if not isinstance(plateaux, list) or self.profile is None:
            return
        if self.profile.get("plateaux") == plateaux:
            return
        from app.account import save_profile  # noqa: PLC0415

        self.profile = {**self.profile, "plateaux": plateaux}
        self._changed("looks")
        try:
            save_profile(self.recorder.journal, self.profile)
        except JournalError as exc:  # shown now; the next sign-in keeps it again
            log.warning("cannot keep the plateau's new keys: %s", exc)

    # -- commands from other programs -----------------------------------------------------

    def handle(self, request: Any) -> dict[str, Any]:
        """Answer a request from `bandeau key …`, a second launch or a softphone's hook
        (see app.desk.commands)."""
        from app.desk.commands import answer  # noqa: PLC0415

        return dict(answer(self, request))

    def bring_forward(self) -> None:
        self._notice(Notice("show"))

    # -- threads -----------------------------------------------------------------------------

    def run(self, call: Callable[[], Any], done: Callable[[Any, Any], None] | None = None) -> None:
        """Run a blocking call on a thread of its own; `done(result, None)` or `done(None,
        the exception)` on the desk's thread."""
        if self._stopped:
            return

        def work() -> None:
            try:
                result = call()
            except Exception as exc:  # handed back, and said there
                error: BaseException | None = exc
                result = None
            else:
                error = None
            if done is not None:
                self.post(lambda: done(result, error))

        self._threads = [t for t in self._threads if t.is_alive()]
        thread = threading.Thread(target=work, name="bandeau-desk", daemon=True)
        self._threads.append(thread)
        thread.start()

    def join_calls(self, timeout_s: float = 20.0) -> None:
        """Wait for the calls in flight (their answers are posted, not yet run)."""
        for thread in list(self._threads):
            thread.join(timeout_s)

    def stop(self, timeout_s: float = 20.0) -> None:
        """Stop the sync and the stream, and wait for the calls in flight (a revocation
        should reach the server), before the application quits or a test ends."""
        self._stopped = True
        self._stop_sync()
        streams, self._retired_streams = self._retired_streams, []
        for stream in streams:
            stream.stop()
        retired, self._retired = self._retired, []
        for worker in retired:
            worker.stop()
        for thread in self._threads:
            thread.join(timeout_s)
        self._threads = []
