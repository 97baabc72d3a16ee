"""The pure model: durations, notes, keys, clocks, shift state, totals, placement."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.clock import JUMP_FORWARD_MS, FakeClock, JumpDetector, Reading, utc_offset_s
from app.domain.durations import format_duration
from app.domain.events import (
    NOTE_MAX_CHARS,
    Event,
    InvalidEvent,
    Key,
    Kind,
    clean_note,
    parse_key,
)
from app.domain.placement import Rect, place_bar
from app.domain.shift import ShiftState
from app.domain.totals import RunningTotals, local_day, local_day_bounds, totals

PARIS = ZoneInfo("Europe/Paris")
H = 3_600_000
M = 60_000


def ev(kind: Kind, at: int, key: Key | None = None, activity: str | None = "A") -> Event:
    return Event(
        device_id="d",
        agent="marie",
        kind=kind,
        key=key,
        activity=activity,
        occurred_at_ms=at,
        tz_name="Europe/Paris",
        utc_offset_s=3600,
        monotonic_ms=at,
    )


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (0, "0 s"),
        (999, "0 s"),
        (36_000, "36 s"),
        (59_999, "59 s"),
        (60_000, "1 min 00"),
        (7 * M + 5_000, "7 min 05"),
        (3_599_000, "59 min 59"),
        (3_600_000, "1 h 00"),
        (H + 25 * M + 59_000, "1 h 25"),
        (25 * H + 3 * M, "25 h 03"),
        (-5_000, "0 s"),
    ],
)
def test_one_duration_rule_with_units(ms: int, text: str) -> None:
    written = format_duration(ms)
    assert written.replace("\u00a0", " ") == text
    assert " " not in written  # no-break spaces: a figure never wraps


def test_notes_are_optional_and_bounded() -> None:
    assert clean_note(None) is None
    assert clean_note("   ") is None
    assert clean_note("  débrief  ") == "débrief"
    assert clean_note("é" * NOTE_MAX_CHARS) == "é" * NOTE_MAX_CHARS
    with pytest.raises(InvalidEvent, match="201 characters"):
        clean_note("x" * (NOTE_MAX_CHARS + 1))


def test_event_checks_itself() -> None:
    with pytest.raises(InvalidEvent, match="needs a key"):
        ev(Kind.STATUS, 0, key=None)
    with pytest.raises(InvalidEvent, match="agent"):
        Event(
            device_id="d",
            agent="",
            kind=Kind.SHIFT_START,
            occurred_at_ms=0,
            tz_name="UTC",
            utc_offset_s=0,
            monotonic_ms=0,
        )


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("production", Key.PRODUCTION),
        ("PROD", Key.PRODUCTION),
        ("pause", Key.PAUSE),
        ("off", Key.OFF),
        ("hors-production", Key.OFF),
        ("Hors production", Key.OFF),
    ],
)
def test_parse_key(text: str, key: Key) -> None:
    assert parse_key(text) is key


def test_parse_key_rejects_unknown() -> None:
    with pytest.raises(InvalidEvent, match="expected production, pause or off"):
        parse_key("lunch")


def test_jump_detector() -> None:
    detector = JumpDetector()
    assert detector.check(Reading(1_000_000, 10)) is None
    # Both clocks moved together: no jump.
    assert detector.check(Reading(1_060_000, 60_010)) is None
    # The wall clock went back 5 s while 1 s passed.
    assert detector.check(Reading(1_056_000, 61_010)) == -5_000
    # Forward by under 2 minutes beyond the monotonic clock: slewing, not a jump.
    assert detector.check(Reading(1_056_000 + JUMP_FORWARD_MS - 1000, 61_010)) is None
    # Forward by 7 minutes: a jump.
    assert detector.check(Reading(1_056_000 + JUMP_FORWARD_MS + 420_000, 61_010)) == 420_000 + 1000


def test_fake_clock_and_offset() -> None:
    clock = FakeClock(1_795_766_400_000, "Europe/Paris")
    assert utc_offset_s(clock, clock.now_ms()) == 3600  # November: CET
    summer = 1_781_000_000_000  # June 2026
    assert utc_offset_s(clock, summer) == 7200


def test_shift_state_replay() -> None:
    state = ShiftState.replay([])
    assert not state.open and state.key is None
    state = ShiftState.replay([ev(Kind.SHIFT_START, 0)])
    assert state.open and state.key is None and state.since_ms == 0
    events = [
        ev(Kind.SHIFT_START, 0),
        ev(Kind.STATUS, 10, Key.PRODUCTION),
        ev(Kind.ACTIVITY, 20, Key.PRODUCTION, activity="B"),
        ev(Kind.STATUS, 30, Key.PRODUCTION, activity="B"),
    ]
    state = ShiftState.replay(events)
    assert state.key is Key.PRODUCTION
    assert state.activity == "B"
    # The same key again (with a note) and an activity switch keep the time in status going.
    assert state.since_ms == 10
    state = state.apply(ev(Kind.SHIFT_END, 40))
    assert not state.open and state.key is None


def test_totals_plain_day() -> None:
    day_start, day_end = local_day_bounds(date(2026, 11, 27), PARIS)
    t0 = day_start + 9 * H
    events = [
        ev(Kind.SHIFT_START, t0),
        ev(Kind.STATUS, t0 + 5 * M, Key.PRODUCTION),
        ev(Kind.STATUS, t0 + 2 * H, Key.PAUSE),
        ev(Kind.STATUS, t0 + 2 * H + 15 * M, Key.OFF),
        ev(Kind.STATUS, t0 + 3 * H, Key.PRODUCTION),
        ev(Kind.SHIFT_END, t0 + 7 * H),
    ]
    result = totals(events, day_start, day_end, now_ms=day_end + H)
    assert result.unclassified_ms == 5 * M
    assert result.by_key[Key.PRODUCTION] == 2 * H - 5 * M + 4 * H
    assert result.by_key[Key.PAUSE] == 15 * M
    assert result.by_key[Key.OFF] == 45 * M
    assert result.presence_ms == 7 * H


def test_totals_open_interval_runs_until_now() -> None:
    events = [ev(Kind.SHIFT_START, 0), ev(Kind.STATUS, 0, Key.PAUSE)]
    assert totals(events, 0, 24 * H, now_ms=90_000).by_key[Key.PAUSE] == 90_000


def test_night_shift_is_split_at_midnight() -> None:
    day_start, day_end = local_day_bounds(date(2026, 11, 27), PARIS)
    events = [
        ev(Kind.SHIFT_START, day_end - 2 * H),
        ev(Kind.STATUS, day_end - 2 * H, Key.PRODUCTION),
        ev(Kind.SHIFT_END, day_end + 3 * H),
    ]
    assert totals(events, day_start, day_end, day_end + 5 * H).by_key[Key.PRODUCTION] == 2 * H
    next_start, next_end = local_day_bounds(date(2026, 11, 28), PARIS)
    assert totals(events, next_start, next_end, next_end).by_key[Key.PRODUCTION] == 3 * H


def test_backwards_clock_never_gives_negative_time() -> None:
    events = [
        ev(Kind.SHIFT_START, 10 * M),
        ev(Kind.STATUS, 10 * M, Key.PRODUCTION),
        ev(Kind.STATUS, 4 * M, Key.PAUSE),  # the PC clock was set back 6 minutes
        ev(Kind.SHIFT_END, 20 * M),
    ]
    result = totals(events, 0, 24 * H, 24 * H)
    assert result.by_key[Key.PRODUCTION] == 0
    assert result.by_key[Key.PAUSE] == 10 * M
    assert min(result.by_key.values()) >= 0


@pytest.mark.parametrize(
    ("day", "hours"), [(date(2026, 3, 29), 23), (date(2026, 10, 25), 25), (date(2026, 11, 27), 24)]
)
def test_local_days_have_23_24_or_25_hours(day: date, hours: int) -> None:
    start, end = local_day_bounds(day, PARIS)
    assert end - start == hours * H
    assert local_day(start, PARIS) == day
    assert local_day(end - 1, PARIS) == day


_kinds = st.sampled_from([Kind.SHIFT_START, Kind.STATUS, Kind.SHIFT_END, Kind.ACTIVITY])


@st.composite
def _event_lists(draw: st.DrawFn) -> list[Event]:
    times = draw(st.lists(st.integers(0, 30 * H), min_size=0, max_size=30))
    out = []
    for at in times:
        kind = draw(_kinds)
        key = draw(st.sampled_from(list(Key))) if kind is Kind.STATUS else None
        out.append(ev(kind, at, key))
    return out


@given(_event_lists(), st.integers(0, 12 * H), st.integers(0, 36 * H))
def test_totals_properties(events: list[Event], start: int, later: int) -> None:
    end = start + 24 * H
    now = max((e.occurred_at_ms for e in events), default=0) + later
    result = totals(events, start, end, now)
    # Per-key totals plus unclassified are the presence, which never exceeds the window.
    assert sum(result.by_key.values()) + result.unclassified_ms == result.presence_ms
    assert 0 <= result.presence_ms <= max(min(end, now) - start, 0)
    assert all(v >= 0 for v in result.by_key.values())
    # Fed one by one or all at once: the same numbers.
    running = RunningTotals(start, end)
    for e in events:
        running.feed(e)
    assert running.at(now) == result


def test_place_bar_keeps_a_visible_place() -> None:
    screens = [Rect(0, 0, 1920, 1040)]
    assert place_bar((100, 200), (440, 72), screens) == (100, 200)


def test_place_bar_nudges_a_half_visible_bar_inside() -> None:
    screens = [Rect(0, 0, 1920, 1040)]
    assert place_bar((1700, 1000), (440, 72), screens) == (1480, 968)


def test_place_bar_snaps_back_when_the_screen_is_gone() -> None:
    # Saved on a second screen to the right, now unplugged.
    screens = [Rect(0, 0, 1920, 1040)]
    x, y = place_bar((2500, 300), (440, 72), screens)
    assert (x, y) == (1920 - 440 - 12, 1040 - 72 - 12)


def test_place_bar_uses_the_screen_that_shows_it() -> None:
    screens = [Rect(0, 0, 1920, 1040), Rect(1920, 0, 1280, 1024)]
    assert place_bar((2500, 300), (440, 72), screens) == (2500, 300)


def test_place_bar_first_run() -> None:
    assert place_bar(None, (440, 72), [Rect(0, 0, 1366, 728)]) == (1366 - 452, 728 - 84)


def test_system_clock_counts_sleep_on_linux() -> None:
    import sys
    import time

    from app.domain.clock import MONOTONIC_SOURCE, SystemClock

    clock = SystemClock("Europe/Paris")
    first = clock.monotonic_ms()
    assert clock.monotonic_ms() >= first
    assert abs(clock.now_ms() - time.time() * 1000) < 5_000
    if sys.platform.startswith("linux"):
        # CLOCK_BOOTTIME, not CLOCK_MONOTONIC: a suspended laptop is not a clock jump.
        assert MONOTONIC_SOURCE == "CLOCK_BOOTTIME"
        boottime = time.clock_gettime_ns(time.CLOCK_BOOTTIME) // 1_000_000
        assert abs(clock.monotonic_ms() - boottime) < 1_000


def test_an_events_uuid_is_a_version_7_one_ordered_by_its_time() -> None:
    """Time-ordered (the store's uuid index grows at its end), canonical, and unique."""
    import uuid

    from app.domain.events import new_uuid

    at = 1_795_766_400_123_456_789  # ns
    made = [new_uuid(at + n * 1_000_000) for n in range(200)]  # one per millisecond
    assert made == sorted(made)
    for text in made[:20]:
        parsed = uuid.UUID(text)
        assert str(parsed) == text  # canonical: lower-case, hyphenated
        assert (parsed.version, parsed.variant) == (7, uuid.RFC_4122)
    assert int(made[0].replace("-", "")[:12], 16) == at // 1_000_000
    same_ms = {new_uuid(at) for _ in range(1_000)}
    assert len(same_ms) == 1_000  # 74 random bits each
    assert len({u[14:] for u in same_ms}) == 1_000
    event = Event("d", "marie", Kind.STATUS, 0, "Europe/Paris", 3600, 0, key=Key.PAUSE)
    assert uuid.UUID(event.uuid).version == 7  # what the bar's journal gives its events
