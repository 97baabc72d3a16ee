"""Indicators: golden scenarios with hand-computed seconds, and properties (hypothesis)."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.events import Key, Kind
from app.domain.indicators import (
    Correction,
    Record,
    Span,
    by_day,
    corrected,
    day_bounds,
    indicators,
    timeline,
    total,
)

PARIS = ZoneInfo("Europe/Paris")
MIN = 60_000
H = 60 * MIN
THRESHOLD = 15 * MIN


def at(day: str, clock: str) -> int:
    """UTC ms of a local Paris time."""
    local = datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=PARIS)
    return int(local.astimezone(UTC).timestamp() * 1000)


class Day:
    """Builds one agent's records, device by device."""

    def __init__(self, day: str = "2026-11-27") -> None:
        self.day = day
        self.records: list[Record] = []
        self.seqs: dict[str, int] = {}

    def add(
        self,
        clock: str,
        kind: Kind,
        key: Key | None = None,
        activity: str | None = "Assurance Auto",
        device: str = "pc-a",
        day: str | None = None,
    ) -> Day:
        self.seqs[device] = self.seqs.get(device, 0) + 1
        n = len(self.records)
        self.records.append(
            Record(
                uuid=f"u{n}",
                device_id=device,
                seq=self.seqs[device],
                kind=kind,
                at_ms=at(day or self.day, clock),
                key=key,
                activity=activity,
            )
        )
        return self


def minutes(ms: int) -> float:
    return ms / MIN


def test_a_plain_day() -> None:
    d = (
        Day()
        .add("09:00", Kind.SHIFT_START)
        .add("09:05", Kind.STATUS, Key.PRODUCTION)
        .add("10:30", Kind.STATUS, Key.PAUSE)
        .add("10:45", Kind.STATUS, Key.PRODUCTION)
        .add("12:30", Kind.STATUS, Key.OFF)
        .add("13:00", Kind.STATUS, Key.PRODUCTION)
        .add("17:00", Kind.SHIFT_END)
    )
    spans = timeline(d.records, now_ms=at("2026-11-27", "20:00"))
    figures = total(indicators(spans, pause_threshold_ms=THRESHOLD))
    assert minutes(figures.unclassified_ms) == 5
    assert minutes(figures.production_ms) == 85 + 105 + 240
    assert minutes(figures.pause_ms) == 15
    assert minutes(figures.off_ms) == 30
    assert minutes(figures.presence_ms) == 480
    assert (figures.pauses, figures.average_pause_ms, figures.longest_pause_ms) == (
        1,
        15 * MIN,
        15 * MIN,
    )
    assert figures.over_threshold_ms == 0
    assert figures.production_share == 430 / 480
    assert figures.shrinkage_share == 45 / 480


def test_the_short_dst_day_2026_03_29() -> None:
    # A night shift from Saturday 22:00 to Sunday 06:00, across midnight and the 02:00→03:00
    # jump: 2 h on the 28th, 5 h on the 29th (not 6), a 23-hour day.
    d = (
        Day("2026-03-28")
        .add("22:00", Kind.SHIFT_START)
        .add("22:00", Kind.STATUS, Key.PRODUCTION)
        .add("06:00", Kind.SHIFT_END, day="2026-03-29")
    )
    spans = timeline(d.records, now_ms=at("2026-03-29", "12:00"))
    days = by_day(spans, PARIS)
    assert {day: sum(s.ms for s in ss) for day, ss in days.items()} == {
        date(2026, 3, 28): 2 * H,
        date(2026, 3, 29): 5 * H,
    }
    start, end = day_bounds(date(2026, 3, 29), PARIS)
    assert end - start == 23 * H


def test_the_long_dst_day_2026_10_25() -> None:
    # 00:30 to 04:30 local on the night the clocks go back: 5 hours worked, a 25-hour day.
    d = (
        Day("2026-10-25")
        .add("00:30", Kind.SHIFT_START)
        .add("00:30", Kind.STATUS, Key.OFF)
        .add("04:30", Kind.SHIFT_END)
    )
    spans = timeline(d.records, now_ms=at("2026-10-25", "12:00"))
    assert sum(s.ms for s in spans) == 5 * H
    assert list(by_day(spans, PARIS)) == [date(2026, 10, 25)]
    start, end = day_bounds(date(2026, 10, 25), PARIS)
    assert end - start == 25 * H


def test_a_night_shift_split_at_midnight_or_given_to_its_day() -> None:
    d = (
        Day("2026-11-26")
        .add("22:00", Kind.SHIFT_START)
        .add("22:00", Kind.STATUS, Key.PRODUCTION)
        .add("02:00", Kind.STATUS, Key.PAUSE, day="2026-11-27")
        .add("02:30", Kind.STATUS, Key.PRODUCTION, day="2026-11-27")
        .add("06:00", Kind.SHIFT_END, day="2026-11-27")
    )
    spans = timeline(d.records, now_ms=at("2026-11-27", "12:00"))
    split = by_day(spans, PARIS)
    assert {k: sum(s.ms for s in v) for k, v in split.items()} == {
        date(2026, 11, 26): 2 * H,
        date(2026, 11, 27): 6 * H,
    }
    whole = by_day(spans, PARIS, day_starts_at=time(6))
    assert {k: sum(s.ms for s in v) for k, v in whole.items()} == {date(2026, 11, 26): 8 * H}
    figures = total(indicators(whole[date(2026, 11, 26)], pause_threshold_ms=THRESHOLD))
    assert minutes(figures.pause_ms) == 30 and figures.over_threshold_ms == 15 * MIN


def test_a_crash_with_no_shift_end_is_closed_at_the_last_sign_of_life() -> None:
    d = Day().add("09:00", Kind.SHIFT_START).add("09:01", Kind.STATUS, Key.PRODUCTION)
    spans = timeline(
        d.records, now_ms=at("2026-11-27", "18:00"), last_sign_ms=at("2026-11-27", "11:00")
    )
    figures = total(indicators(spans, pause_threshold_ms=THRESHOLD))
    assert minutes(figures.unclassified_ms) == 1
    assert minutes(figures.production_ms) == 121  # to 11:00 plus the 2-minute grace
    # Still running now, with a fresh heartbeat: counted up to now.
    live = timeline(
        d.records, now_ms=at("2026-11-27", "11:00"), last_sign_ms=at("2026-11-27", "10:59")
    )
    assert live[-1].end_ms == at("2026-11-27", "11:00")


def test_a_crashed_pc_never_restarted_does_not_carry_the_shift_through_the_night() -> None:
    """PC A dies at 15:00 (last heartbeat) in production and is never started again; the next
    morning the agent starts on PC B. The shift ended on A at 15:02 — not at 08:00."""
    d = (
        Day()
        .add("09:00", Kind.SHIFT_START)
        .add("09:00", Kind.STATUS, Key.PRODUCTION)
        .add("08:00", Kind.SHIFT_START, device="pc-b", day="2026-11-28")
        .add("08:05", Kind.STATUS, Key.PRODUCTION, device="pc-b", day="2026-11-28")
        .add("12:00", Kind.SHIFT_END, device="pc-b", day="2026-11-28")
    )
    heard = {"pc-a": at("2026-11-27", "15:00"), "pc-b": at("2026-11-28", "12:00")}
    spans = timeline(d.records, now_ms=at("2026-11-28", "13:00"), device_signs=heard)
    days = {
        day: total(indicators(s, pause_threshold_ms=THRESHOLD))
        for day, s in by_day(spans, PARIS).items()
    }
    assert minutes(days[date(2026, 11, 27)].production_ms) == 6 * 60 + 2
    assert minutes(days[date(2026, 11, 28)].unclassified_ms) == 5
    assert minutes(days[date(2026, 11, 28)].production_ms) == 3 * 60 + 55
    # PC A still alive when B starts (its heartbeat says so): one shift across both, as ever.
    alive = {"pc-a": at("2026-11-28", "08:30")}
    carried = timeline(d.records, now_ms=at("2026-11-28", "13:00"), device_signs=alive)
    assert [(s.start_ms, s.end_ms, s.key) for s in carried] == [
        (at("2026-11-27", "09:00"), at("2026-11-28", "12:00"), Key.PRODUCTION)
    ]


def test_two_devices_at_once_make_one_timeline() -> None:
    d = (
        Day()
        .add("09:00", Kind.SHIFT_START, device="pc-a")
        .add("09:00", Kind.STATUS, Key.PRODUCTION, device="pc-a")
        .add("10:00", Kind.SHIFT_START, device="pc-b")  # a second PC, the shift goes on
        .add("10:30", Kind.STATUS, Key.PAUSE, device="pc-b")
        .add("10:45", Kind.STATUS, Key.PRODUCTION, device="pc-a")
        .add("12:00", Kind.SHIFT_END, device="pc-a")
    )
    spans = timeline(d.records, now_ms=at("2026-11-27", "13:00"))
    figures = total(indicators(spans, pause_threshold_ms=THRESHOLD))
    assert minutes(figures.presence_ms) == 180  # 09:00–12:00, never twice
    assert minutes(figures.production_ms) == 165 and minutes(figures.pause_ms) == 15


def test_a_pc_clock_seven_minutes_fast() -> None:
    # The PC says 09:07 when it is 09:00; the store measured a -7 min offset and keeps the
    # corrected times. A clock jump back on the same PC cannot reorder its events.
    offset = -7 * MIN
    fast = Day()
    for clock, kind, key in (
        ("09:07", Kind.SHIFT_START, None),
        ("09:07", Kind.STATUS, Key.PRODUCTION),
        ("12:07", Kind.SHIFT_END, None),
    ):
        fast.add(clock, kind, key)
    records = [
        Record(r.uuid, r.device_id, r.seq, r.kind, r.at_ms + offset, r.key, r.activity)
        for r in fast.records
    ]
    spans = timeline(records, now_ms=at("2026-11-27", "13:00"))
    assert (spans[0].start_ms, spans[-1].end_ms) == (
        at("2026-11-27", "09:00"),
        at("2026-11-27", "12:00"),
    )
    jumped = Day()
    jumped.add("09:00", Kind.SHIFT_START).add("10:00", Kind.STATUS, Key.PAUSE)
    jumped.add("09:50", Kind.STATUS, Key.PRODUCTION)  # the clock went back 20 min
    jumped.add("11:00", Kind.SHIFT_END)
    spans = timeline(jumped.records, now_ms=at("2026-11-27", "13:00"))
    figures = total(indicators(spans, pause_threshold_ms=THRESHOLD))
    assert minutes(figures.presence_ms) == 120 and figures.pause_ms == 0


def test_an_activity_switch_mid_pause_is_one_pause() -> None:
    d = (
        Day()
        .add("09:00", Kind.SHIFT_START, activity="A1")
        .add("09:00", Kind.STATUS, Key.PRODUCTION, activity="A1")
        .add("10:00", Kind.STATUS, Key.PAUSE, activity="A1")
        .add("10:10", Kind.ACTIVITY, activity="A2")
        .add("10:20", Kind.STATUS, Key.PRODUCTION, activity="A2")
        .add("11:00", Kind.SHIFT_END, activity="A2")
    )
    per = indicators(
        timeline(d.records, now_ms=at("2026-11-27", "12:00")), pause_threshold_ms=THRESHOLD
    )
    assert minutes(per["A1"].pause_ms) == 10 and minutes(per["A2"].pause_ms) == 10
    assert (per["A1"].pauses, per["A2"].pauses) == (1, 0)
    assert per["A1"].longest_pause_ms == 20 * MIN
    assert per["A1"].over_threshold_ms == 5 * MIN


def test_corrections_by_the_agent_and_by_the_lead() -> None:
    d = (
        Day()
        .add("09:00", Kind.SHIFT_START)
        .add("09:00", Kind.STATUS, Key.PRODUCTION)
        .add("10:40", Kind.STATUS, Key.PAUSE)  # clicked late
        .add("10:50", Kind.STATUS, Key.PRODUCTION)
        .add("19:00", Kind.SHIFT_END)  # left at 17:00, the bar ran on
    )
    recorded = timeline(d.records, now_ms=at("2026-11-27", "20:00"))
    fixes = [
        Correction(
            "c1",
            at("2026-11-27", "10:15"),
            at("2026-11-27", "10:40"),
            Key.PAUSE,
            author="marie",
            reason="j'étais en pause depuis 10 h 15",
            made_at_ms=at("2026-11-27", "10:51"),
        ),
        Correction(
            "c2",
            at("2026-11-27", "17:00"),
            at("2026-11-27", "19:00"),
            None,
            author="lea",
            reason="fin de service oubliée",
            made_at_ms=at("2026-11-27", "19:30"),
            off_shift=True,
        ),
    ]
    spans = corrected(recorded, fixes)
    figures = total(indicators(spans, pause_threshold_ms=THRESHOLD))
    assert minutes(figures.production_ms) == 75 + 370
    assert minutes(figures.pause_ms) == 35 and figures.pauses == 1  # one pause, 10:15–10:50
    assert figures.over_threshold_ms == 20 * MIN
    assert minutes(figures.presence_ms) == 480
    assert figures.corrections == 1  # the lead's removed time; the agent's re-labelled
    # The original stays as it was recorded.
    assert minutes(sum(s.ms for s in recorded)) == 600


# -- properties ---------------------------------------------------------------------------

KINDS = [Kind.SHIFT_START, Kind.STATUS, Kind.STATUS, Kind.STATUS, Kind.ACTIVITY, Kind.SHIFT_END]
DAY0 = at("2026-10-24", "00:00")


@st.composite
def histories(draw: st.DrawFn) -> list[Record]:
    count = draw(st.integers(min_value=0, max_value=25))
    records = []
    seqs: dict[str, int] = {}
    for n in range(count):
        device = draw(st.sampled_from(["pc-a", "pc-b"]))
        seqs[device] = seqs.get(device, 0) + 1
        kind = draw(st.sampled_from(KINDS))
        records.append(
            Record(
                uuid=f"u{n}",
                device_id=device,
                seq=seqs[device],
                kind=kind,
                at_ms=DAY0 + draw(st.integers(min_value=0, max_value=72 * H)),
                key=draw(st.sampled_from(list(Key))) if kind is Kind.STATUS else None,
                activity=draw(st.sampled_from(["A1", "A2"])),
            )
        )
    return records


NOW = DAY0 + 80 * H


@st.composite
def corrections_drawn(draw: st.DrawFn) -> list[Correction]:
    fixes = draw(
        st.lists(
            st.tuples(
                st.integers(min_value=0, max_value=80 * H),
                st.integers(min_value=1, max_value=6 * H),
                st.sampled_from([None, *Key]),
                st.sampled_from([None, "A1", "A3"]),
                st.booleans(),
            ),
            max_size=4,
        )
    )
    return [
        Correction(f"c{n}", DAY0 + s, DAY0 + s + length, key, "lea", "x", n, act, off)
        for n, (s, length, key, act, off) in enumerate(fixes)
    ]


def as_event(r: Record) -> Any:
    from app.domain.events import Event

    return Event(
        device_id=r.device_id,
        agent="marie",
        kind=r.kind,
        occurred_at_ms=r.at_ms,
        tz_name="Europe/Paris",
        utc_offset_s=3600,
        monotonic_ms=0,
        activity=r.activity,
        key=r.key,
        uuid=r.uuid,
        seq=r.seq,
    )


@settings(max_examples=200)
@given(histories(), st.randoms(use_true_random=False))
def test_shuffled_and_repeated_events_give_the_same_figures(
    records: list[Record], rng: random.Random
) -> None:
    once = timeline(records, now_ms=NOW)
    mixed = records + [rng.choice(records) for _ in range(len(records) // 2)] if records else []
    rng.shuffle(mixed)
    assert timeline(mixed, now_ms=NOW) == once


@settings(max_examples=200)
@given(histories(), st.sampled_from([time(0), time(6)]))
def test_keys_sum_to_presence_and_no_day_is_longer_than_itself(
    records: list[Record], starts: time
) -> None:
    spans = timeline(records, now_ms=NOW, last_sign_ms=NOW)
    for day, day_spans in by_day(spans, PARIS, starts).items():
        figures = total(indicators(day_spans, pause_threshold_ms=THRESHOLD))
        assert (
            figures.production_ms + figures.pause_ms + figures.off_ms + figures.unclassified_ms
            == figures.presence_ms
        )
        start, end = day_bounds(day, PARIS, starts)
        assert figures.presence_ms <= end - start
        assert all(start <= s.start_ms < s.end_ms <= end for s in day_spans)
    assert all(a.end_ms <= b.start_ms for a, b in itertools.pairwise(spans))


@settings(max_examples=200)
@given(
    histories(),
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=80 * H),
            st.integers(min_value=0, max_value=6 * H),
            st.sampled_from([None, *Key]),
            st.booleans(),
        ),
        max_size=4,
    ),
)
def test_corrections_never_create_time(
    records: list[Record], fixes: list[tuple[int, int, Key | None, bool]]
) -> None:
    spans = timeline(records, now_ms=NOW)
    corrections = [
        Correction(f"c{n}", DAY0 + s, DAY0 + s + length, key, "lea", "x", n, off_shift=off)
        for n, (s, length, key, off) in enumerate(fixes)
    ]
    after = corrected(spans, corrections)
    assert sum(s.ms for s in after) <= sum(s.ms for s in spans)
    # Every second after the corrections was already in the shift.
    inside = sum(
        max(0, min(a.end_ms, b.end_ms) - max(a.start_ms, b.start_ms)) for a in after for b in spans
    )
    assert inside == sum(s.ms for s in after)
    if not any(off for *_rest, off in fixes):
        assert sum(s.ms for s in after) == sum(s.ms for s in spans)


def test_spans_of_nothing() -> None:
    assert timeline([], now_ms=NOW) == []
    assert indicators([], pause_threshold_ms=THRESHOLD) == {}
    assert total({}).production_share is None
    assert Span(0, 5, None, None).ms == 5


@settings(max_examples=200)
@given(histories())
def test_the_bar_and_the_panel_count_as_the_reports_do(records: list[Record]) -> None:
    """For one PC, the bar's running totals (also the panel's and the day view's) equal the
    report's figures, day by day."""
    from app.domain.totals import totals

    one_pc = [r for r in records if r.device_id == "pc-a"]
    events = [as_event(r) for r in sorted(one_pc, key=lambda r: r.seq)]
    spans = timeline(one_pc, now_ms=NOW, last_sign_ms=NOW)
    for day, day_spans in by_day(spans, PARIS).items():
        start, end = day_bounds(day, PARIS)
        bar = totals(events, start, end, NOW)
        report = total(indicators(day_spans, pause_threshold_ms=THRESHOLD))
        assert (report.production_ms, report.pause_ms, report.off_ms) == (
            bar.by_key[Key.PRODUCTION],
            bar.by_key[Key.PAUSE],
            bar.by_key[Key.OFF],
        )
        assert report.unclassified_ms == bar.unclassified_ms


@settings(max_examples=200)
@given(histories(), corrections_drawn())
def test_corrected_time_on_the_bar_and_the_panel_is_the_reports(
    records: list[Record], corrections: list[Correction]
) -> None:
    """With corrections too: the bar's totals, the day view's strip and per-activity table,
    and the panel's row (app.domain.totals.apply_corrections) equal the report's figures
    (app.domain.indicators.corrected), day by day and activity by activity."""
    from app.domain.totals import apply_corrections, intervals, totals_of

    one_pc = [r for r in records if r.device_id == "pc-a"]
    events = [as_event(r) for r in sorted(one_pc, key=lambda r: r.seq)]
    spans = corrected(timeline(one_pc, now_ms=NOW, last_sign_ms=NOW), corrections)
    for day, day_spans in by_day(spans, PARIS).items():
        start, end = day_bounds(day, PARIS)
        stretches = apply_corrections(intervals(events, start, end, NOW), corrections)
        bar = totals_of(stretches)
        per = indicators(day_spans, pause_threshold_ms=THRESHOLD)
        report = total(per)
        assert (report.production_ms, report.pause_ms, report.off_ms) == (
            bar.by_key[Key.PRODUCTION],
            bar.by_key[Key.PAUSE],
            bar.by_key[Key.OFF],
        )
        assert report.unclassified_ms == bar.unclassified_ms
        for activity, figures in per.items():
            mine = [s for s in stretches if s.activity == activity]
            assert figures.presence_ms == sum(s.duration_ms for s in mine)
            assert figures.corrections == len({s.corrected_by for s in mine} - {None})
