"""The agent's shift, recorded: turns what the agent asks for into durable journal events.

Plain Python (no Qt): the bar, the local command socket and the tests all drive this class.
Its state changes only after the event is committed, so what the bar shows is on disk.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from app.domain.clock import Clock, JumpDetector, Reading, utc_offset_s
from app.domain.events import Event, InvalidEvent, Key, Kind, SyncState, clean_note
from app.domain.shift import ShiftState
from app.domain.totals import RunningTotals, Totals, local_day, local_day_bounds

if TYPE_CHECKING:
    from app.journal import Journal

log = logging.getLogger(__name__)

ALIVE_STATE = "last_alive_ms"
AUTO_CLOSE_NOTE = "auto-close: last sign of life of the bar"
# A clock offset that moved less than this leaves today's figures as they are.
_OFFSET_STEP_MS = 1000


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a request did: the events written (none when nothing changed)."""

    events: tuple[Event, ...]

    @property
    def changed(self) -> bool:
        return bool(self.events)


class Recorder:
    """Records one agent's shift on one device.

    Attributes:
        state: the shift as the journal holds it.
        resumed: the bar picked an open shift up again at start instead of starting one.
    """

    def __init__(
        self,
        journal: Journal,
        clock: Clock,
        *,
        agent: str,
        activities: list[str],
        default_activity: str = "",
        resume_minutes: int = 10,
        signed_in: bool = True,
    ) -> None:
        """`signed_in`: the events are the signed-in person's, to be sent (pending); False:
        recorded before sign-in, kept on this PC (local) unless someone claims them."""
        if not activities:
            raise ValueError("at least one activity is needed")
        self.journal = journal
        self.clock = clock
        self.agent = agent
        self.signed_in = signed_in
        self.activities = list(activities)
        self._default_activity = default_activity
        self._resume_ms = resume_minutes * 60_000
        self._jumps = JumpDetector()
        self.state = ShiftState()
        self.resumed = False
        self._anchor_mono = clock.monotonic_ms()
        self._today: RunningTotals | None = None
        # The store's time minus this PC's, as the sync measures it: days are cut, and the
        # day shown, in the store's time, as the reports do (a fast PC's midnight is not
        # the site's).
        self.clock_offset_ms = 0

    # -- starting ------------------------------------------------------------------------

    def start(self) -> Outcome:
        """Pick up an open shift that was alive recently, or record a shift start."""
        previous = ShiftState.replay(self.journal.last_shift_events())
        reading = self._read()
        last_alive = max(previous.last_event_ms or 0, self._stored_alive())
        if previous.open and 0 <= reading.wall_ms - last_alive <= self._resume_ms:
            self.state = previous
            self.resumed = True
            self._anchor_on(previous.since_ms or reading.wall_ms, reading)
            self._rebuild_today(reading.wall_ms)
            log.info("resumed the open shift (current key: %s)", previous.key)
            return Outcome(())
        events = []
        if previous.open:
            # The last shift was left open (crash, power cut) too long ago to pick it up: it
            # ended, at the latest, at the bar's last sign of life. Say so in the journal
            # rather than let it run into the night.
            self.state = previous
            at = min(max(last_alive, previous.last_event_ms or 0), reading.wall_ms)
            events.append(
                self._event(
                    Kind.SHIFT_END,
                    Reading(at, reading.mono_ms),
                    activity=previous.activity,
                    note=AUTO_CLOSE_NOTE,
                    check_jump=False,
                )
            )
        activity = self._pick_start_activity(previous.activity)
        events.append(self._event(Kind.SHIFT_START, reading, activity=activity))
        self._rebuild_today(reading.wall_ms)
        return self._write(events)

    def _pick_start_activity(self, last_used: str | None) -> str:
        for candidate in (self._default_activity, last_used):
            if candidate and candidate in self.activities:
                return candidate
        return self.activities[0]

    def _stored_alive(self) -> int:
        raw = self.journal.get_state(ALIVE_STATE)
        try:
            return int(raw) if raw is not None else 0
        except ValueError:
            return 0

    # -- what the agent does --------------------------------------------------------------

    def press(self, key: Key, note: str | None = None) -> Outcome:
        """The agent pressed a key. Pressing the current key again without a note changes
        nothing; with a note, the note is recorded and the time in status goes on."""
        note = clean_note(note)
        if self.state.open and self.state.key is key and note is None:
            return Outcome(())
        reading = self._read()
        events = []
        if not self.state.open:
            # A key after the end of a shift starts a new one.
            start_activity = self._pick_start_activity(self.state.activity)
            events.append(self._event(Kind.SHIFT_START, reading, activity=start_activity))
        activity = self.state.activity if self.state.open else events[0].activity
        events.append(self._event(Kind.STATUS, reading, key=key, activity=activity, note=note))
        return self._write(events)

    def switch_activity(self, activity: str) -> Outcome:
        """The agent now works on another activity (the key and its time go on)."""
        if activity not in self.activities:
            raise InvalidEvent(f"unknown activity {activity!r}")
        if activity == self.state.activity:
            return Outcome(())
        reading = self._read()
        events = []
        if not self.state.open:
            events.append(self._event(Kind.SHIFT_START, reading, activity=activity))
        else:
            events.append(
                self._event(Kind.ACTIVITY, reading, activity=activity, key=self.state.key)
            )
        return self._write(events)

    def end_shift(self) -> Outcome:
        """Record the end of the shift (nothing if no shift is open)."""
        if not self.state.open:
            return Outcome(())
        reading = self._read()
        return self._write([self._event(Kind.SHIFT_END, reading, activity=self.state.activity)])

    def check_clock(self) -> Outcome:
        """Called on every tick: a wall-clock jump since the last reading is recorded now."""
        reading = Reading(self.clock.now_ms(), self.clock.monotonic_ms())
        jump = self._jumps.check(reading)
        if jump is None:
            return Outcome(())
        log.warning("wall clock jumped by %+d ms", jump)
        ev = self._event(Kind.CLOCK_JUMP, reading, activity=self.state.activity, jump=jump)
        return self._write([ev])

    def adopt(self, agent: str, activities: list[str], *, signed_in: bool) -> Outcome:
        """The bar signed in (or out: `signed_in` False): events now belong to `agent`, whose
        activities these are. A shift in progress continues under the new agent: a shift
        start (and the current key) are recorded for them, so that their day starts
        cleanly."""
        if not activities:
            raise ValueError("at least one activity is needed")
        self.signed_in = signed_in
        previous = self.state
        self.activities = list(activities)
        changed_agent = agent != self.agent
        self.agent = agent
        if changed_agent:
            self._today = None  # today's totals are the new agent's
        if not previous.open:
            return Outcome(())
        activity = previous.activity if previous.activity in self.activities else None
        activity = activity or self._pick_start_activity(None)
        if not changed_agent:
            return self.switch_activity(activity) if activity != previous.activity else Outcome(())
        reading = self._read()
        events = [self._event(Kind.SHIFT_START, reading, activity=activity)]
        if previous.key is not None:
            events.append(self._event(Kind.STATUS, reading, key=previous.key, activity=activity))
        outcome = self._write(events)
        # The new agent's status starts now, for the store and their lead's panel: the time
        # in status on the bar starts now too.
        self._anchor_on(reading.wall_ms, reading)
        return outcome

    def touch_alive(self) -> None:
        """Note the last local sign of life (not an event), for resuming after a crash."""
        self.journal.set_state(ALIVE_STATE, str(self.clock.now_ms()))

    # -- what the bar shows ---------------------------------------------------------------

    def set_clock_offset(self, offset_ms: int) -> None:
        """The sync measured the PC's clock against the store's."""
        if abs(offset_ms - self.clock_offset_ms) >= _OFFSET_STEP_MS:
            self.clock_offset_ms = offset_ms
            self._today = None  # the day's bounds moved: worked out again when asked

    def corrected_now(self) -> int:
        """Now, in the store's time."""
        return self.clock.now_ms() + self.clock_offset_ms

    def corrected(self, ev: Event) -> Event:
        """An event at its time in the store's clock."""
        if not self.clock_offset_ms:
            return ev
        return replace(ev, occurred_at_ms=ev.occurred_at_ms + self.clock_offset_ms)

    def elapsed_ms(self) -> int:
        """Time in the current status, from the monotonic clock: wall-clock jumps don't move it."""
        return max(self.clock.monotonic_ms() - self._anchor_mono, 0)

    def today(self) -> Totals:
        """Today's totals per key (the site's day, in the store's time), the current status
        running until now."""
        now = self.corrected_now()
        if self._today is None or not self._today.start_ms <= now < self._today.end_ms:
            self._rebuild_today(now)
        assert self._today is not None
        return self._today.at(now)

    # -- internals -------------------------------------------------------------------------

    def _read(self) -> Reading:
        return Reading(self.clock.now_ms(), self.clock.monotonic_ms())

    def _event(
        self,
        kind: Kind,
        reading: Reading,
        *,
        activity: str | None,
        key: Key | None = None,
        note: str | None = None,
        jump: int | None = None,
        check_jump: bool = True,
    ) -> Event:
        if check_jump and jump is None and kind is not Kind.CLOCK_JUMP:
            jump = self._jumps.check(reading)
        return Event(
            device_id=self.journal.device_id,
            agent=self.agent,
            kind=kind,
            key=key,
            activity=activity,
            note=note,
            occurred_at_ms=reading.wall_ms,
            tz_name=self.clock.zone_name(),
            utc_offset_s=utc_offset_s(self.clock, reading.wall_ms),
            monotonic_ms=reading.mono_ms,
            clock_jump_ms=jump,
        )

    def _write(self, events: list[Event]) -> Outcome:
        state = SyncState.PENDING if self.signed_in else SyncState.LOCAL
        # Raises JournalError: nothing changes then.
        written = self.journal.append(*events, sync_state=state)
        before = self.state
        for ev in written:
            self.state = self.state.apply(ev)
            if self._today is not None:
                self._today.feed(self.corrected(ev))
        if self.state.since_ms != before.since_ms:
            self._anchor_on(
                self.state.since_ms or written[-1].occurred_at_ms,
                Reading(written[-1].occurred_at_ms, written[-1].monotonic_ms),
            )
        return Outcome(tuple(written))

    def _anchor_on(self, since_ms: int, reading: Reading) -> None:
        self._anchor_mono = reading.mono_ms - max(reading.wall_ms - since_ms, 0)

    def day_events(self, now_ms: int) -> tuple[tuple[int, int], list[Event]]:
        """The bounds of the day `now_ms` (the store's time) falls in, and this agent's
        events that tell it, at their times in the store's clock: the day's own, and before
        them those of a shift that was running when it began, however long ago."""
        day = local_day(now_ms, self.clock.zone())
        start, end = local_day_bounds(day, self.clock.zone())
        mine = self.journal.events_in_force_since(start - self.clock_offset_ms, agent=self.agent)
        return (start, end), [self.corrected(ev) for ev in mine]

    def _rebuild_today(self, now_ms: int) -> None:
        (start, end), mine = self.day_events(now_ms)
        running = RunningTotals(start, end)
        for ev in mine:
            running.feed(ev)
        self._today = running
