"""The sync worker: its own thread, draining the journal into the store, oldest first.

- right after each click (`kick()`), and every `interval_s` otherwise;
- at most 500 events per batch; marked acked only on the store's acknowledgement;
- a rejected event is quarantined with its reason and never blocks the others;
- network errors, timeouts, 5xx and 429 are retried with full-jitter backoff (capped), so
  that the queue drains by itself when the network comes back — never "offline until
  restart";
- a 401 means signed out: the worker says so and ends (a new sign-in starts a new one);
- any other 4xx is never sent again unchanged: a batch the store refuses for what it holds
  (400, 413, 422) is split until the refused events are found, and those are quarantined
  with the store's reason; a refusal of the request as such (403, 404…) is said ("refused")
  and tried again only after REFUSED_DELAY_S (a store being fixed or updated);
- a heartbeat (last seen, current state, pending count) every `heartbeat_s`;
- the corrections the agent made while the store could not be reached (kept in the journal).
It never touches Qt: the bar learns of changes through `on_status`.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypedDict

from app.domain.clock import Clock, JumpDetector, Reading
from app.domain.events import SyncState
from app.sync.client import PROBE_EVERY_S, SyncClient, SyncError, wait_probing
from app.sync.timing import Backoff, OffsetEstimator

if TYPE_CHECKING:
    from app.journal import Journal, JournalEntry

log = logging.getLogger(__name__)

BATCH = 500
INTERVAL_S = 5.0
HEARTBEAT_S = 30.0
REFUSED_DELAY_S = 300.0
# Refusals of what a batch holds: split it to find the events refused.
_CONTENT_REFUSALS = frozenset({400, 413, 422})

LinkState = Literal["synced", "waiting", "offline", "signed_out", "refused"]
"""synced: nothing waits; waiting: events wait, the store is reachable; offline: the store
cannot be reached (since `offline_since_ms`); signed_out: the token was refused; refused:
the store refuses this bar's requests as such (`detail` says why)."""


class ShiftWire(TypedDict):
    """The bar's state as a heartbeat tells it."""

    open: bool
    key: str | None
    activity: str | None
    since_ms: int | None


class EventWire(TypedDict):
    """One event as POST /v1/events takes it."""

    uuid: str
    device_id: str
    seq: int | None
    agent: str
    kind: str
    key: str | None
    activity: str | None
    occurred_at_ms: int
    tz: str
    utc_offset_s: int
    monotonic_ms: int
    note: str | None
    clock_jump_ms: int | None


@dataclass(frozen=True, slots=True)
class SyncStatus:
    """What the bar's sync indicator shows (see LinkState)."""

    state: LinkState
    pending: int
    problems: int
    offline_since_ms: int | None = None
    detail: str = ""


def to_wire(entry: JournalEntry, agent: str, activities: frozenset[str] | None = None) -> EventWire:
    """The event as the store takes it, sent as `agent`'s (the signed-in person).

    An event recorded before sign-in carries the local name in the journal, and maybe a
    local activity the store does not know (`activities`: the store's list): it is then sent
    without an activity, so that its time still counts rather than being refused.
    """
    ev = entry.event
    activity = ev.activity
    if ev.agent != agent and activities is not None and activity not in activities:
        activity = None
    return {
        "uuid": ev.uuid,
        "device_id": ev.device_id,
        "seq": ev.seq,
        "agent": agent,
        "kind": ev.kind.value,
        "key": ev.key.value if ev.key else None,
        "activity": activity,
        "occurred_at_ms": ev.occurred_at_ms,
        "tz": ev.tz_name,
        "utc_offset_s": ev.utc_offset_s,
        "monotonic_ms": ev.monotonic_ms,
        "note": ev.note,
        "clock_jump_ms": ev.clock_jump_ms,
    }


class SyncWorker(threading.Thread):
    """Drains one agent's pending events (their own, and those recorded before sign-in
    that they claimed). `stop()` ends it (and joins)."""

    def __init__(
        self,
        journal: Journal,
        client: SyncClient,
        clock: Clock,
        *,
        agent: str,
        activities: frozenset[str] | None = None,
        on_status: Callable[[SyncStatus], None] = lambda _s: None,
        state_provider: Callable[[], ShiftWire] | None = None,
        interval_s: float = INTERVAL_S,
        heartbeat_s: float = HEARTBEAT_S,
        backoff: Backoff | None = None,
        probe_every_s: tuple[float, float] = PROBE_EVERY_S,
    ) -> None:
        super().__init__(name="bandeau-sync", daemon=True)
        self.journal = journal
        self.client = client
        self.clock = clock
        self.agent = agent
        self.activities = activities
        self.offsets = OffsetEstimator()
        # A PC clock set right mid-shift (a time server, a person) makes the offsets measured
        # before it wrong: they are forgotten when the wall clock jumps against the monotonic.
        self._jumps = JumpDetector()
        self._on_status = on_status
        self._state_provider = state_provider or _no_state
        self._interval_s = interval_s
        self._heartbeat_s = heartbeat_s
        self._backoff = backoff or Backoff()
        self._probe_every_s = probe_every_s
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._offline_since: int | None = None
        self._last_heartbeat_mono: int | None = None
        self.status = SyncStatus("waiting", 0, 0)

    def kick(self) -> None:
        """Sync now (after a click, or when the network is said to be back)."""
        self._wake.set()

    def request_stop(self) -> None:
        """Ask the worker to finish (it ends after the call in flight, if any); no waiting."""
        self._stopping.set()
        self._wake.set()

    def stop(self, timeout_s: float = 15.0) -> None:
        """Finish and wait for the thread (up to `timeout_s`)."""
        self.request_stop()
        if self.is_alive():
            self.join(timeout_s)
        self.client.close()

    def run(self) -> None:
        while not self._stopping.is_set():
            delay = self._interval_s
            probe = False  # wait with /health probes (the store could not be reached)
            try:
                self._drain()
                self._send_corrections()
                self._heartbeat_if_due()
                self._backoff.reset()
                self._offline_since = None
                self._publish()
            except SyncError as exc:
                if exc.signed_out:
                    self._publish(state="signed_out", detail=str(exc))
                    return  # a new sign-in starts a new worker
                if exc.refused:
                    # Reached, and refused as such: not offline, and not hammered either.
                    self._offline_since = None
                    delay = REFUSED_DELAY_S
                    log.warning("sync: refused (%s): %s", exc.status, exc)
                    self._publish(state="refused", detail=str(exc))
                else:
                    if self._offline_since is None:
                        self._offline_since = self.clock.now_ms()
                    delay = self._backoff.next_delay(exc.retry_after_s)
                    # A store that said when to come back is up, and busy: it is not
                    # probed; one that did not answer, or failed, is.
                    probe = exc.retry_after_s is None
                    log.info("sync: %s; next try in %.1f s", exc, delay)
                    self._publish(state="offline", detail=str(exc))
            except Exception as exc:  # the worker must survive anything and say so
                log.exception("sync failed")
                delay = self._backoff.next_delay()
                self._publish(state="offline", detail=str(exc))
            if probe:
                if wait_probing(
                    self.client.store_ok, delay, self._wake, every_s=self._probe_every_s
                ):
                    log.info("sync: the store is back")
            else:
                self._wake.wait(delay)
            self._wake.clear()

    def _check_clock(self) -> None:
        jump = self._jumps.check(Reading(self.clock.now_ms(), self.clock.monotonic_ms()))
        if jump is not None:
            log.info("sync: the PC's clock jumped by %+d ms: measuring its offset again", jump)
            self.offsets.reset()

    def _drain(self) -> None:
        while not self._stopping.is_set():
            self._check_clock()
            batch = self.journal.pending(agent=self.agent, limit=BATCH)
            if not batch:
                return
            self._send(batch)
            if len(batch) < BATCH:
                return

    def _send(self, batch: list[JournalEntry]) -> None:
        """Send a batch; one the store refuses for what it holds is split in two, down to
        the events it refuses, which are quarantined with its reason."""
        try:
            reply = self.client.post_events(
                device_id=self.journal.device_id,
                events=[to_wire(e, self.agent, self.activities) for e in batch],
                clock_offset_ms=self.offsets.offset_ms,
            )
        except SyncError as exc:
            if exc.status not in _CONTENT_REFUSALS:
                raise
            if len(batch) > 1:
                half = len(batch) // 2
                self._send(batch[:half])
                self._send(batch[half:])
                return
            uuid = batch[0].event.uuid
            reason = f"refused by the store ({exc.status} {exc.code}): {exc}"
            log.warning("sync: event %s refused: %s", uuid, reason)
            self.journal.quarantine(uuid, reason)
            return
        self.offsets.add(reply.exchange)
        sent = {e.event.uuid for e in batch}
        self.journal.mark_acked([u for u in reply.accepted if u in sent])
        for rejection in reply.rejected:
            uuid = rejection.get("uuid", "")
            if uuid in sent:
                log.warning("sync: event %s refused: %s", uuid, rejection.get("reason"))
                self.journal.quarantine(uuid, str(rejection.get("reason", "refused")))

    def _send_corrections(self) -> None:
        """Corrections the agent made while the store was away, oldest first."""
        for body in self.journal.queued_corrections():
            if self._stopping.is_set():
                return
            if body.get("agent") != self.agent:
                continue  # someone else's, made on this PC: it waits for their sign-in
            uuid = str(body.get("uuid", ""))
            try:
                self.client.post_correction(body)
            except SyncError as exc:
                if exc.retry or exc.signed_out:
                    raise
                log.warning("sync: correction %s refused: %s", uuid, exc)
                # Kept as the store said it, for the bar to word in its person's language.
                why = {"code": exc.code, "params": exc.params, "error": str(exc)}
                self.journal.settle_correction(uuid, refused=json.dumps(why))
                continue
            self.journal.settle_correction(uuid)

    def _heartbeat_if_due(self) -> None:
        mono = self.clock.monotonic_ms()
        last = self._last_heartbeat_mono
        if last is not None and mono - last < self._heartbeat_s * 1000:
            return
        self._check_clock()
        counts = self.journal.counts(agent=self.agent)
        try:
            exchange = self.client.heartbeat(
                device_id=self.journal.device_id,
                state=self._state_provider(),
                pending=counts[SyncState.PENDING],
            )
        except SyncError as exc:
            if exc.status not in _CONTENT_REFUSALS:
                raise
            # A heartbeat the store does not take: the events still go; tried again at the
            # next heartbeat, not at once.
            log.warning("sync: heartbeat refused (%s): %s", exc.status, exc)
        else:
            self.offsets.add(exchange)
        self._last_heartbeat_mono = mono

    def _publish(self, state: LinkState | None = None, detail: str = "") -> None:
        """Tell the bar where things stand. Never raises: it runs in the loop's error
        handlers too, and the worker must outlive a journal that cannot be read for a while
        (the counts are then the last known)."""
        try:
            counts = self.journal.counts(agent=self.agent)
            pending, problems = counts[SyncState.PENDING], counts[SyncState.QUARANTINED]
        except Exception:
            log.exception("sync: the journal's counts could not be read")
            pending, problems = self.status.pending, self.status.problems
        if state is None:
            state = "synced" if pending == 0 else "waiting"
        self.status = SyncStatus(state, pending, problems, self._offline_since, detail)
        try:
            self._on_status(self.status)
        except Exception:  # the listener's fault: the worker goes on
            log.exception("sync: the status could not be told")


def _no_state() -> ShiftWire:
    return {"open": False, "key": None, "activity": None, "since_ms": None}
