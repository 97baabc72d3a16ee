"""The sync worker: its own thread, draining the journal into the store, oldest first.

- right after each click (`kick()`), and every `interval_s` otherwise;
- at most 500 events per batch; marked acked only on the store's acknowledgement;
- a rejected event is quarantined with its reason and never blocks the others;
- network errors, timeouts, 5xx and 429 are retried with full-jitter backoff (capped), so
  that the queue drains by itself when the network comes back — never "offline until
  restart";
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
from typing import TYPE_CHECKING, Any

from app.domain.clock import Clock, JumpDetector, Reading
from app.domain.events import SyncState
from app.sync.client import SyncClient, SyncError
from app.sync.timing import Backoff, OffsetEstimator

if TYPE_CHECKING:
    from app.journal import Journal, JournalEntry, LocalClaim

log = logging.getLogger(__name__)

BATCH = 500
INTERVAL_S = 5.0
HEARTBEAT_S = 30.0


@dataclass(frozen=True, slots=True)
class SyncStatus:
    """What the bar's sync indicator shows.

    state: "synced", "waiting" (events pending, server reachable), "offline" (since
    `offline_since_ms`) or "signed_out" (the token was refused).
    """

    state: str
    pending: int
    problems: int
    offline_since_ms: int | None = None
    detail: str = ""


def to_wire(
    entry: JournalEntry, agent: str, activities: frozenset[str] | None = None
) -> dict[str, Any]:
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
    """Drains one agent's pending events (and those recorded before sign-in that they
    claimed). `stop()` ends it (and joins)."""

    def __init__(
        self,
        journal: Journal,
        client: SyncClient,
        clock: Clock,
        *,
        agent: str,
        claim: LocalClaim | None = None,
        activities: frozenset[str] | None = None,
        on_status: Callable[[SyncStatus], None] = lambda _s: None,
        state_provider: Callable[[], dict[str, Any]] = dict,
        interval_s: float = INTERVAL_S,
        heartbeat_s: float = HEARTBEAT_S,
        backoff: Backoff | None = None,
    ) -> None:
        super().__init__(name="bandeau-sync", daemon=True)
        self.journal = journal
        self.client = client
        self.clock = clock
        self.agent = agent
        self.claim = claim
        self.activities = activities
        self.offsets = OffsetEstimator()
        # A PC clock set right mid-shift (a time server, a person) makes the offsets measured
        # before it wrong: they are forgotten when the wall clock jumps against the monotonic.
        self._jumps = JumpDetector()
        self._on_status = on_status
        self._state_provider = state_provider
        self._interval_s = interval_s
        self._heartbeat_s = heartbeat_s
        self._backoff = backoff or Backoff()
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
                if self._offline_since is None:
                    self._offline_since = self.clock.now_ms()
                delay = self._backoff.next_delay(exc.retry_after_s)
                log.info("sync: %s; next try in %.1f s", exc, delay)
                self._publish(state="offline", detail=str(exc))
            except Exception as exc:  # the worker must survive anything and say so
                log.exception("sync failed")
                delay = self._backoff.next_delay()
                self._publish(state="offline", detail=str(exc))
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
            batch = self.journal.pending(agent=self.agent, limit=BATCH, claim=self.claim)
            if not batch:
                return
            reply = self.client.post_events(
                device_id=self.journal.device_id,
                events=[to_wire(e, self.agent, self.activities) for e in batch],
                clock_offset_ms=self.offsets.offset_ms,
            )
            self.offsets.add(reply.exchange)
            sent = {e.event.uuid for e in batch}
            self.journal.mark_acked([u for u in reply.accepted if u in sent])
            for rejection in reply.rejected:
                uuid = rejection.get("uuid", "")
                if uuid in sent:
                    log.warning("sync: event %s refused: %s", uuid, rejection.get("reason"))
                    self.journal.quarantine(uuid, str(rejection.get("reason", "refused")))
            if len(batch) < BATCH:
                return

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
        counts = self.journal.counts(agent=self.agent, claim=self.claim)
        exchange = self.client.heartbeat(
            device_id=self.journal.device_id,
            state=self._state_provider(),
            pending=counts[SyncState.PENDING],
        )
        self.offsets.add(exchange)
        self._last_heartbeat_mono = mono

    def _publish(self, state: str | None = None, detail: str = "") -> None:
        """Tell the bar where things stand. Never raises: it runs in the loop's error
        handlers too, and the worker must outlive a journal that cannot be read for a while
        (the counts are then the last known)."""
        try:
            counts = self.journal.counts(agent=self.agent, claim=self.claim)
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
