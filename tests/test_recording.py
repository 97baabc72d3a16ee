"""The Recorder: what each request writes, and that nothing changes when a write fails."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from app.domain.clock import FakeClock
from app.domain.events import InvalidEvent, Key, Kind, SyncState
from app.journal import Journal, JournalError
from app.recording import ALIVE_STATE, AUTO_CLOSE_NOTE, Recorder

ACTIVITIES = ["Assurance Auto", "Banque Pro"]
M = 60_000


def recorder(journal: Journal, clock: FakeClock, **kw: object) -> Recorder:
    return Recorder(journal, clock, agent="marie", activities=ACTIVITIES, **kw)  # type: ignore[arg-type]


def kinds(journal: Journal) -> list[tuple[str, str | None]]:
    return [(e.kind.value, e.key.value if e.key else None) for e in journal.events()]


def test_start_records_a_shift_start(journal: Journal, clock: FakeClock) -> None:
    rec = recorder(journal, clock)
    outcome = rec.start()
    assert [e.kind for e in outcome.events] == [Kind.SHIFT_START]
    assert rec.state.open and rec.state.key is None
    assert rec.state.activity == "Assurance Auto"
    (ev,) = journal.events()
    assert ev.occurred_at_ms == clock.now_ms()
    assert ev.tz_name == "Europe/Paris" and ev.utc_offset_s == 3600
    assert ev.agent == "marie" and ev.device_id == journal.device_id


def test_keys_and_time_in_status(journal: Journal, clock: FakeClock) -> None:
    rec = recorder(journal, clock)
    rec.start()
    clock.advance(5 * M)
    assert rec.elapsed_ms() == 5 * M  # unclassified since the shift start
    rec.press(Key.PRODUCTION)
    assert rec.elapsed_ms() == 0
    clock.advance(59_000)
    assert rec.elapsed_ms() == 59_000
    # Pressing the current key again changes nothing and writes nothing.
    assert not rec.press(Key.PRODUCTION).changed
    rec.press(Key.PAUSE, note="  café  ")
    clock.advance(3_600_000)
    assert rec.elapsed_ms() == 3_600_000
    assert kinds(journal) == [("shift_start", None), ("status", "production"), ("status", "pause")]
    assert journal.events()[-1].note == "café"
    today = rec.today()
    assert today.unclassified_ms == 5 * M
    assert today.by_key[Key.PRODUCTION] == 59_000
    assert today.by_key[Key.PAUSE] == 3_600_000


def test_same_key_with_a_note_keeps_the_time_going(journal: Journal, clock: FakeClock) -> None:
    rec = recorder(journal, clock)
    rec.start()
    rec.press(Key.OFF)
    clock.advance(10 * M)
    outcome = rec.press(Key.OFF, note="formation produit")
    assert outcome.changed
    assert rec.elapsed_ms() == 10 * M


def test_note_too_long_is_refused_and_nothing_written(journal: Journal, clock: FakeClock) -> None:
    rec = recorder(journal, clock)
    rec.start()
    with pytest.raises(InvalidEvent):
        rec.press(Key.PAUSE, note="x" * 201)
    assert rec.state.key is None
    assert len(journal.events()) == 1


def test_activity_switch(journal: Journal, clock: FakeClock) -> None:
    rec = recorder(journal, clock)
    rec.start()
    rec.press(Key.PRODUCTION)
    clock.advance(M)
    rec.switch_activity("Banque Pro")
    assert rec.state.activity == "Banque Pro"
    assert rec.state.key is Key.PRODUCTION
    assert rec.elapsed_ms() == M  # the key goes on
    last = journal.events()[-1]
    assert (last.kind, last.key, last.activity) == (Kind.ACTIVITY, Key.PRODUCTION, "Banque Pro")
    rec.press(Key.PAUSE)
    assert journal.events()[-1].activity == "Banque Pro"
    assert not rec.switch_activity("Banque Pro").changed
    with pytest.raises(InvalidEvent, match="unknown activity"):
        rec.switch_activity("Nope")


def test_end_of_shift_then_a_key_starts_a_new_one(journal: Journal, clock: FakeClock) -> None:
    rec = recorder(journal, clock)
    rec.start()
    rec.press(Key.PRODUCTION)
    rec.end_shift()
    assert not rec.state.open
    assert not rec.end_shift().changed
    clock.advance(M)
    outcome = rec.press(Key.PAUSE)
    assert [e.kind for e in outcome.events] == [Kind.SHIFT_START, Kind.STATUS]
    assert rec.state.open and rec.state.key is Key.PAUSE


def test_restart_resumes_a_recent_open_shift(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "j.sqlite3"
    first = recorder(Journal(path), clock)
    first.start()
    first.press(Key.PAUSE)
    clock.advance(3 * M)
    first.touch_alive()
    clock.advance(2 * M)  # the bar crashed 2 minutes ago
    second = recorder(Journal(path), clock)
    assert not second.start().changed
    assert second.resumed
    assert second.state.key is Key.PAUSE
    assert second.elapsed_ms() == 5 * M  # the pause did not restart
    assert [k for k, _ in kinds(second.journal)] == ["shift_start", "status"]


def test_restart_after_a_long_gap_closes_the_old_shift(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "j.sqlite3"
    first = recorder(Journal(path), clock)
    first.start()
    first.press(Key.PRODUCTION)
    clock.advance(30 * M)
    first.touch_alive()
    last_alive = clock.now_ms()
    clock.advance(14 * 60 * M)  # power cut in the evening, PC back on next morning
    second = recorder(Journal(path), clock, resume_minutes=10)
    outcome = second.start()
    assert [e.kind for e in outcome.events] == [Kind.SHIFT_END, Kind.SHIFT_START]
    auto_end = outcome.events[0]
    assert auto_end.occurred_at_ms == last_alive
    assert auto_end.note == AUTO_CLOSE_NOTE
    assert not second.resumed and second.state.key is None
    assert second.journal.get_state(ALIVE_STATE) == str(last_alive)


def test_a_wall_clock_jump_is_recorded(journal: Journal, clock: FakeClock) -> None:
    rec = recorder(journal, clock)
    rec.start()
    rec.press(Key.PRODUCTION)
    assert not rec.check_clock().changed
    clock.advance(10 * M)
    clock.set_wall(clock.now_ms() + 7 * M)  # someone set the PC clock 7 minutes ahead
    outcome = rec.check_clock()
    (jump,) = outcome.events
    assert jump.kind is Kind.CLOCK_JUMP and jump.clock_jump_ms == 7 * M
    # The time in status follows the monotonic clock: the jump does not inflate it.
    assert rec.elapsed_ms() == 10 * M
    clock.set_wall(clock.now_ms() - 20 * M)  # and back
    rec.press(Key.PAUSE)
    assert journal.events()[-1].clock_jump_ms == -20 * M


def test_a_failed_write_changes_nothing(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "j.sqlite3"
    rec = recorder(Journal(path, busy_timeout_ms=20), clock)
    rec.start()
    rec.press(Key.PRODUCTION)
    before = rec.state
    today_before = rec.today()
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(JournalError):
            rec.press(Key.PAUSE)
        with pytest.raises(JournalError):
            rec.switch_activity("Banque Pro")
        with pytest.raises(JournalError):
            rec.end_shift()
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert rec.state == before
    assert rec.today() == today_before
    assert kinds(rec.journal) == [("shift_start", None), ("status", "production")]
    rec.press(Key.PAUSE)  # and it works again once the lock is gone
    assert rec.state.key is Key.PAUSE


def test_today_rolls_over_at_midnight(journal: Journal) -> None:
    clock = FakeClock(1_795_820_400_000 - 3_600_000, "Europe/Paris")  # 23:00 local
    rec = recorder(journal, clock)
    rec.start()
    rec.press(Key.PRODUCTION)
    clock.advance(90 * M)  # 00:30 the next day
    today = rec.today()
    assert today.by_key[Key.PRODUCTION] == 30 * M


def test_default_activity(journal: Journal, clock: FakeClock) -> None:
    rec = recorder(journal, clock, default_activity="Banque Pro")
    rec.start()
    assert rec.state.activity == "Banque Pro"
    with pytest.raises(ValueError, match="activity"):
        Recorder(journal, clock, agent="marie", activities=[])


def test_a_status_held_for_more_than_a_day_still_counts_today(journal: Journal) -> None:
    # In production from Wednesday 09:00, never clicked again: Friday at 10:00 the day's
    # production is the 10 hours since midnight, not nothing.
    wednesday_9 = 1_795_593_600_000  # 2026-11-25 09:00 Europe/Paris
    clock = FakeClock(wednesday_9, zone_name="Europe/Paris", monotonic_ms=10**9)
    rec = recorder(journal, clock)
    rec.start()
    rec.press(Key.PRODUCTION)
    clock.advance(49 * 3_600_000)  # Friday 10:00
    rec2 = recorder(journal, clock, resume_minutes=10_000)  # a new bar, that same journal
    rec2.start()
    assert rec2.resumed
    assert rec2.today().by_key[Key.PRODUCTION] == 10 * 3_600_000
    assert rec.today().by_key[Key.PRODUCTION] == 10 * 3_600_000


def test_a_fast_pc_cuts_the_day_at_the_stores_midnight(journal: Journal) -> None:
    """The PC's clock is 7 minutes fast; the store's offset says so. The day the bar shows
    is the store's, as in the reports: not 7 minutes of the next day."""
    fast = 7 * M
    before_midnight = 1_795_820_400_000 - 3_600_000  # 2026-11-27 23:00 Paris, the store's time
    clock = FakeClock(before_midnight + fast, zone_name="Europe/Paris", monotonic_ms=10**9)
    rec = recorder(journal, clock)
    rec.start()
    rec.press(Key.PRODUCTION)
    rec.set_clock_offset(-fast)
    clock.advance(56 * M)  # the PC reads 00:03 on Saturday; the store, 23:56 on Friday
    today = rec.today()
    assert today.by_key[Key.PRODUCTION] == 56 * M  # all of it still Friday's
    (start, end), events = rec.day_events(rec.corrected_now())
    assert end - start == 24 * 3_600_000 and start <= rec.corrected_now() < end
    assert events[0].occurred_at_ms == before_midnight  # in the store's time
    clock.advance(10 * M)  # 00:06 at the store: Saturday, 6 minutes of it
    assert rec.today().by_key[Key.PRODUCTION] == 6 * M


def test_a_sign_in_mid_shift_starts_the_time_in_status_where_the_store_does(
    journal: Journal, clock: FakeClock
) -> None:
    """Before sign-in the events are the PC's local agent's; at sign-in the status is
    recorded again for the agent, and that is where the store (and the lead's panel)
    counts the time in status from: the bar counts from there too."""
    rec = Recorder(journal, clock, agent="poste-12", activities=["Général"], signed_in=False)
    rec.start()
    rec.press(Key.PAUSE)
    clock.advance(4 * M)
    rec.adopt("marie", ACTIVITIES, signed_in=True)
    assert rec.elapsed_ms() == 0
    clock.advance(2 * M + 40_000)
    assert rec.elapsed_ms() == 2 * M + 40_000
    # Before sign-in, kept on this PC; from the sign-in on, to be sent.
    states = [(e.event.agent, e.sync_state) for e in journal.entries()]
    assert states == [("poste-12", SyncState.LOCAL)] * 2 + [("marie", SyncState.PENDING)] * 2
