"""The live panel's model (pure): rows, freshness, thresholds, counters, event order."""

from __future__ import annotations

import itertools
import random
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from app.domain.events import Key
from app.domain.live import Freshness, Level, PlateauLive, counters

DAY = 1_795_734_000_000  # 2026-11-27 00:00 Europe/Paris
H, MIN = 3_600_000, 60_000


def ev(n: int, agent: str, kind: str, at: int, key: str | None = None, **more: Any) -> Any:
    return {
        "uuid": f"00000000-0000-4000-8000-{n:012d}",
        "device_id": f"dev-{agent}",
        "seq": n,
        "agent": agent,
        "kind": kind,
        "key": key,
        "activity": more.get("activity", "Assurance Auto"),
        "at_ms": at,
        "tz": "Europe/Paris",
        "utc_offset_s": 3600,
        "note": more.get("note"),
    }


def snapshot(agents: list[dict[str, Any]], now: int) -> dict[str, Any]:
    return {
        "server_now_ms": now,
        "day_start_ms": DAY,
        "day_end_ms": DAY + 24 * H,
        "plateaux": [
            {
                "name": "Nord",
                "pause_threshold_s": 600,
                "keys": {"off": {"label": "Formation", "colour": "#1a73e8"}},
                "activities": ["Assurance Auto"],
            }
        ],
        "agents": agents,
    }


def marie_events() -> list[dict[str, Any]]:
    return [
        ev(1, "marie", "shift_start", DAY + 9 * H),
        ev(2, "marie", "status", DAY + 9 * H + 5 * MIN, "production"),
        ev(3, "marie", "status", DAY + 11 * H, "pause", note="café"),
    ]


def plateau(now: int) -> PlateauLive:
    model = PlateauLive()
    model.load_snapshot(
        snapshot(
            [
                {
                    "login": "marie",
                    "name": "Marie D.",
                    "plateaux": ["Nord"],
                    "events": marie_events(),
                    "last_seen_ms": DAY + 11 * H + 5 * MIN + 30_000,
                },
                {"login": "paul", "name": "Paul", "plateaux": ["Nord"], "events": []},
            ],
            now,
        ),
        local_now_ms=now - 2_000,  # the panel's clock is 2 s behind the server's
    )
    return model


def test_a_row_says_what_the_agent_does_and_since_when() -> None:
    now = DAY + 11 * H + 6 * MIN
    model = plateau(now)
    assert model.server_offset_ms == 2_000
    row = model.row("marie", now)
    assert (row.key, row.state.activity, row.note) == (Key.PAUSE, "Assurance Auto", "café")
    assert row.time_in_status_ms == 6 * MIN
    assert row.today.by_key[Key.PRODUCTION] == 2 * H - 5 * MIN
    assert row.today.by_key[Key.PAUSE] == 6 * MIN
    assert row.today.unclassified_ms == 5 * MIN
    assert row.production_share == (2 * H - 5 * MIN) / (2 * H + 6 * MIN)
    assert row.freshness is Freshness.ONLINE
    assert model.plateaux["Nord"].labels == {Key.OFF: "Formation"}
    assert model.row("paul", now).freshness is Freshness.ENDED


def test_freshness_goes_stale_then_offline_without_signs_of_life() -> None:
    last = DAY + 11 * H + 5 * MIN + 30_000
    model = plateau(last)
    assert model.row("marie", last + 59_999).freshness is Freshness.ONLINE
    assert model.row("marie", last + 60_000).freshness is Freshness.STALE
    assert model.row("marie", last + 5 * MIN).freshness is Freshness.OFFLINE
    assert model.add_presence([{"agent": "marie", "last_seen_ms": last + 5 * MIN}]) == {"marie"}
    assert model.row("marie", last + 5 * MIN).freshness is Freshness.ONLINE
    assert model.add_presence([{"agent": "marie", "last_seen_ms": last}]) == set()  # older


def test_pauses_over_the_threshold_and_twice_over() -> None:
    start = DAY + 11 * H
    model = plateau(start)
    assert model.row("marie", start + 10 * MIN).level is Level.NORMAL
    assert model.row("marie", start + 10 * MIN + 1).level is Level.OVER
    assert model.row("marie", start + 20 * MIN + 1).level is Level.WAY_OVER
    model.add_events([ev(4, "marie", "status", start + 25 * MIN, "production")])
    assert model.row("marie", start + 30 * MIN).level is Level.NORMAL


def test_counters_and_a_shift_end() -> None:
    now = DAY + 11 * H + 6 * MIN
    model = plateau(now)
    model.add_events(
        [
            ev(10, "paul", "shift_start", DAY + 8 * H),
            ev(11, "paul", "status", DAY + 8 * H + MIN, "off"),
            ev(12, "zoe", "shift_start", now - 30_000),  # joined since the snapshot
        ]
    )
    rows = model.rows(now)
    assert counters(rows) == {
        "production": 0,
        "pause": 1,
        "off": 0,  # paul's last sign is 3 h old: offline, not "off"
        "unclassified": 1,
        "offline": 1,
    }
    model.add_events([ev(13, "paul", "shift_end", DAY + 10 * H)])
    assert model.row("paul", now).freshness is Freshness.ENDED
    assert counters(model.rows(now))["offline"] == 0


@given(st.randoms(use_true_random=False), st.integers(min_value=0, max_value=3))
def test_late_shuffled_and_repeated_events_give_the_same_rows(
    rng: random.Random, repeats: int
) -> None:
    now = DAY + 12 * H
    base = [
        *marie_events(),
        ev(4, "marie", "status", DAY + 11 * H + 20 * MIN, "off"),
        ev(5, "marie", "shift_end", DAY + 11 * H + 50 * MIN),
        ev(6, "marie", "shift_start", DAY + 11 * H + 55 * MIN),
    ]
    in_order = PlateauLive()
    in_order.load_snapshot(snapshot([], now), local_now_ms=now)
    in_order.add_events(base)
    mixed = base + [rng.choice(base) for _ in range(repeats)]
    rng.shuffle(mixed)
    shuffled = PlateauLive()
    shuffled.load_snapshot(snapshot([], now), local_now_ms=now)
    for one in mixed:
        shuffled.add_events([one])
    assert shuffled.row("marie", now) == in_order.row("marie", now)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["shift_start", "status", "activity", "shift_end"]),
            st.sampled_from(["production", "pause", "off"]),
            st.integers(min_value=-2 * H, max_value=26 * H),
        ),
        max_size=30,
    ),
    st.integers(min_value=0, max_value=26 * H),
)
def test_the_day_strip_and_the_totals_agree(
    steps: list[tuple[str, str, int]], now_offset: int
) -> None:
    from app.domain.live import event_from_wire
    from app.domain.totals import intervals, totals

    events = [
        event_from_wire(ev(n, "marie", kind, DAY + at, key if kind == "status" else None))
        for n, (kind, key, at) in enumerate(steps, 1)
    ]
    now = DAY + now_offset
    strip = intervals(events, DAY, DAY + 24 * H, now)
    figures = totals(events, DAY, DAY + 24 * H, now)
    for key in Key:
        assert sum(i.duration_ms for i in strip if i.key is key) == figures.by_key[key]
    assert sum(i.duration_ms for i in strip if i.key is None) == figures.unclassified_ms
    assert all(DAY <= i.start_ms < i.end_ms <= DAY + 24 * H for i in strip)
    assert all(a.end_ms <= b.start_ms for a, b in itertools.pairwise(strip))


def test_names_sort_as_people_read_them() -> None:
    from app.ui.panel import _sortable

    names = ["Zoé", "Émilie", "Farid", "élodie", "Ève"]
    assert sorted(names, key=_sortable) == ["élodie", "Émilie", "Ève", "Farid", "Zoé"]


def test_corrections_from_the_snapshot_and_the_stream_change_the_totals() -> None:
    now = DAY + 11 * H + 6 * MIN
    model = plateau(now)
    before = model.row("marie", now).today
    fix = {
        "uuid": "c1",
        "agent": "marie",
        "author": "lea",
        "from_ms": DAY + 10 * H,
        "to_ms": DAY + 10 * H + 30 * MIN,
        "key": "off",
        "activity": None,
        "off_shift": False,
        "reason": "formation",
        "made_at_ms": now,
    }
    assert model.add_corrections([fix]) == {"marie"}
    assert model.add_corrections([fix]) == set()  # once
    after = model.row("marie", now).today
    assert after.by_key[Key.OFF] == 30 * MIN
    assert after.by_key[Key.PRODUCTION] == before.by_key[Key.PRODUCTION] - 30 * MIN
    assert after.presence_ms == before.presence_ms
    # A new connection's snapshot carries it too.
    data = snapshot(
        [
            {
                "login": "marie",
                "name": "Marie",
                "events": marie_events(),
                "corrections": [fix],
                "last_seen_ms": now,
            }
        ],
        now,
    )
    again = PlateauLive()
    again.load_snapshot(data, local_now_ms=now)
    assert again.row("marie", now).today == after
    # Taken out of the shift: that time is not counted at all.
    gone = {**fix, "uuid": "c2", "off_shift": True, "made_at_ms": now + 1}
    model.add_corrections([gone])
    assert model.row("marie", now).today.presence_ms == before.presence_ms - 30 * MIN


def test_a_silent_pc_stops_counting_where_the_reports_do() -> None:
    """No heartbeat nor event for an hour: the row's totals stop at the last sign of life
    plus the reports' grace, and do not run on to now."""
    last = DAY + 11 * H + 5 * MIN + 30_000
    model = plateau(last)
    later = model.row("marie", last + 60 * MIN).today
    assert later.by_key[Key.PAUSE] == (last + 2 * MIN) - (DAY + 11 * H)
    assert model.row("marie", last + 60 * MIN).freshness is Freshness.OFFLINE


def test_a_pc_that_crashed_yesterday_does_not_fill_the_night() -> None:
    """Marie's PC A died yesterday at 15:00 in production and was never started again; this
    morning she starts on PC B. The row counts from 08:00 — as the reports do."""
    now = DAY + 9 * H
    a, b = "pc-a", "pc-b"
    events = [
        {**ev(1, "marie", "shift_start", DAY - 9 * H), "device_id": a},
        {**ev(2, "marie", "status", DAY - 9 * H, "production"), "device_id": a},
        {**ev(3, "marie", "shift_start", DAY + 8 * H), "device_id": b, "seq": 1},
        {**ev(4, "marie", "status", DAY + 8 * H + 5 * MIN, "production"), "device_id": b, "seq": 2},
    ]
    agent = {"login": "marie", "name": "Marie", "events": events, "last_seen_ms": now}
    model = PlateauLive()
    model.load_snapshot(
        snapshot([{**agent, "devices": {a: DAY - 9 * H, b: now}}], now), local_now_ms=now
    )
    today = model.row("marie", now).today
    assert today.by_key[Key.PRODUCTION] == 55 * MIN and today.unclassified_ms == 5 * MIN
    stretches = model.day_stretches("marie", now)
    assert stretches[0].start_ms == DAY + 8 * H
    # Without word from PC A (it never sent a heartbeat), the shift is taken as carried on.
    blind = PlateauLive()
    blind.load_snapshot(snapshot([agent], now), local_now_ms=now)
    assert blind.row("marie", now).today.by_key[Key.PRODUCTION] == 9 * H
    # PC A speaks again (it was only frozen): the night was the shift's after all.
    model.add_presence([{"agent": "marie", "device_id": a, "last_seen_ms": now}])
    assert model.row("marie", now).today.by_key[Key.PRODUCTION] == 9 * H
