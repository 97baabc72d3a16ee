"""The lead's live panel against a real server (pytest-qt, offscreen, injected clock)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from PySide6.QtCore import Qt, QTime
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.domain.clock import FakeClock
from app.domain.events import Key
from app.domain.live import Freshness, Level, event_from_wire
from app.domain.totals import totals
from app.server.db import make_engine
from app.server.directory import set_plateau
from app.ui.panel import OVER_COLOUR, Panel
from tests.servers import PASSWORD, T0_MS, Served, start_server, stop_server, wire_event

pytestmark = [pytest.mark.gui, pytest.mark.slow]
MIN = 60_000
WAIT_MS = 20_000


class Plateau:
    """Agents of the seeded plateau Nord, clicking through the real API."""

    def __init__(self, served: Served) -> None:
        self.base_url = served.base_url
        self.now_ms = served.now_ms  # the store's clock (from T0): no test depends on today
        self.tokens: dict[str, str] = {}
        self.seq: dict[str, int] = {}

    def token(self, login: str) -> str:
        if login not in self.tokens:
            reply = httpx.post(
                f"{self.base_url}/v1/signin", json={"login": login, "password": PASSWORD}
            )
            self.tokens[login] = str(reply.json()["token"])
        return self.tokens[login]

    @staticmethod
    def device(login: str) -> str:
        return f"00000000-0000-4000-8000-{abs(hash(login)) % 10**12:012d}"

    def click(self, login: str, kind: str, at_ms: int, key: str | None = None, **more: Any) -> None:
        self.seq[login] = self.seq.get(login, 0) + 1
        device = self.device(login)
        event = wire_event(
            self.seq[login],
            agent=login,
            device_id=device,
            kind=kind,
            key=key,
            occurred_at_ms=at_ms,
            **more,
        )
        reply = httpx.post(
            f"{self.base_url}/v1/events",
            headers={"Authorization": f"Bearer {self.token(login)}"},
            json={"device_id": device, "sent_at_ms": self.now_ms(), "events": [event]},
        )
        assert reply.json()["accepted"] == [event["uuid"]], reply.text

    def heartbeat(self, login: str) -> None:
        httpx.post(
            f"{self.base_url}/v1/heartbeat",
            headers={"Authorization": f"Bearer {self.token(login)}"},
            json={
                "device_id": self.device(login),
                "sent_at_ms": self.now_ms(),
                "state": {},
                "pending": 0,
            },
        ).raise_for_status()


@pytest.fixture
def served(seeded_url: str) -> Iterator[Served]:
    engine = make_engine(seeded_url)
    with engine.begin() as conn:
        set_plateau(conn, "Nord", pause_threshold_s=600, labels={"off": "Formation"})
    engine.dispose()
    server = start_server(seeded_url)
    yield server
    stop_server(server)


@pytest.fixture
def panel(qtbot: QtBot, served: Served) -> Iterator[tuple[Panel, FakeClock, Plateau]]:
    floor = Plateau(served)
    now = floor.now_ms()
    floor.click("marie", "shift_start", now - 30 * MIN)
    floor.click("marie", "status", now - 29 * MIN, "production")
    floor.click("marie", "status", now - 12 * MIN, "pause", note="café")
    floor.heartbeat("marie")
    floor.click("paul", "shift_start", now - 5 * MIN)
    floor.click("paul", "status", now - 4 * MIN, "off")
    floor.heartbeat("paul")
    clock = FakeClock(now, zone_name="Europe/Paris")
    widget = Panel(clock)
    qtbot.addWidget(widget, before_close_func=lambda w: w.stop())
    widget.show()
    widget.connect_stream(served.base_url, floor.token("lea"))
    qtbot.waitUntil(
        lambda: widget.live_state == "live" and len(widget.model.agents) == 3, timeout=WAIT_MS
    )
    yield widget, clock, floor
    widget.stop()


def cell(panel: Panel, login: str, column: int, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
    model = panel.table_model
    row = next(i for i, r in enumerate(model.rows) if r.login == login)
    return model.data(model.index(row, column), role)


def test_rows_counters_and_thresholds(
    qtbot: QtBot, panel: tuple[Panel, FakeClock, Plateau]
) -> None:
    widget, _clock, _floor = panel
    widget.refresh()
    assert cell(widget, "marie", 1) == "Pause"
    assert cell(widget, "marie", 4) == "café"
    assert cell(widget, "paul", 1) == "Formation"  # the plateau's own label
    # Time in status, ticking; over the threshold, a sign says so besides the colour.
    assert cell(widget, "marie", 2).startswith("⚠\u00a012\u00a0min")
    row = cell(widget, "marie", 0, Qt.ItemDataRole.UserRole + 1)
    # Production today: 17 min, give or take the few ms of each exchange's clock offset.
    assert abs(row.today.by_key[Key.PRODUCTION] - 17 * MIN) < 1_000
    assert cell(widget, "lea", 1) == "Not started"  # no time today
    # Marie's pause (12 min) is over Nord's 10 min threshold: amber.
    assert row.level is Level.OVER
    assert cell(widget, "marie", 0, Qt.ItemDataRole.BackgroundRole).name() == OVER_COLOUR
    counts = {name: label.text() for name, label in widget.counter_labels.items()}
    assert counts["pause"].startswith("1 ") and counts["off"].startswith("1 ")
    assert counts["production"].startswith("0 ") and counts["offline"].startswith("0 ")


def test_freshness_with_the_clock(
    qtbot: QtBot, panel: tuple[Panel, FakeClock, Plateau], monkeypatch: pytest.MonkeyPatch
) -> None:
    widget, clock, _floor = panel
    widget.refresh()
    assert cell(widget, "paul", 0, Qt.ItemDataRole.UserRole + 1).freshness is Freshness.ONLINE
    clock.advance(61_000)
    widget.refresh()
    assert cell(widget, "paul", 0, Qt.ItemDataRole.UserRole + 1).freshness is Freshness.STALE
    assert cell(widget, "paul", 5) == "no news for 1 min"
    clock.advance(4 * MIN)
    widget.refresh()
    assert cell(widget, "paul", 0, Qt.ItemDataRole.UserRole + 1).freshness is Freshness.OFFLINE
    assert widget.counter_labels["offline"].text().startswith("2 ")
    # Twice the threshold (20 min): red, and the lead is alerted if they asked to be.
    beeps: list[int] = []
    monkeypatch.setattr("app.ui.panel.QApplication.beep", lambda: beeps.append(1))
    widget.alerts.setChecked(True)
    clock.advance(4 * MIN)
    with qtbot.waitSignal(widget.threshold_crossed, timeout=WAIT_MS) as crossed:
        widget.refresh()
    assert crossed.args == ["marie"] and beeps == [1]
    widget.refresh()
    assert beeps == [1]  # once per crossing, not at every tick
    assert cell(widget, "marie", 0, Qt.ItemDataRole.UserRole + 1).level is Level.WAY_OVER


def test_a_click_shows_up_live(qtbot: QtBot, panel: tuple[Panel, FakeClock, Plateau]) -> None:
    widget, _clock, floor = panel
    with qtbot.waitSignal(widget.table_model.dataChanged, timeout=WAIT_MS):
        floor.click("paul", "status", floor.now_ms(), "production")
    qtbot.waitUntil(lambda: cell(widget, "paul", 1) == "Production", timeout=WAIT_MS)
    assert widget.counter_labels["production"].text().startswith("1 ")


def test_filters_sort_and_search(qtbot: QtBot, panel: tuple[Panel, FakeClock, Plateau]) -> None:
    widget, _clock, _floor = panel
    widget.refresh()
    assert widget.visible_logins() == ["lea", "marie", "paul"]  # by name
    widget.table.sortByColumn(2, Qt.SortOrder.DescendingOrder)
    assert widget.visible_logins()[0] == "marie"  # longest in status first
    widget.status_filter.setCurrentIndex(widget.status_filter.findData("pause"))
    assert widget.visible_logins() == ["marie"]
    widget.status_filter.setCurrentIndex(0)
    qtbot.keyClicks(widget.search, "pa")
    assert widget.visible_logins() == ["paul"]
    widget.search.clear()
    widget.activity_filter.setCurrentIndex(widget.activity_filter.findData("Banque Pro"))
    assert widget.visible_logins() == []
    widget.activity_filter.setCurrentIndex(0)
    widget.table.sortByColumn(1, Qt.SortOrder.AscendingOrder)
    assert widget.visible_logins() == ["marie", "paul", "lea"]  # pause, off, ended
    # Keyboard: Enter on a row opens that agent's day.
    widget.table.setFocus()
    widget.table.selectRow(0)
    widget.table.setCurrentIndex(widget.proxy.index(0, 0))
    qtbot.keyClick(widget.table, Qt.Key.Key_Return)
    assert any(d.isVisible() and "Marie" in d.windowTitle() for d in widget._dialogs)


def test_the_day_view_holds_the_servers_numbers(
    qtbot: QtBot, panel: tuple[Panel, FakeClock, Plateau], served: Served
) -> None:
    widget, _clock, floor = panel
    dialog = widget.open_day("marie")
    reply = httpx.get(
        f"{served.base_url}/v1/events",
        params={"agent": "marie"},
        headers={"Authorization": f"Bearer {floor.token('lea')}"},
    ).json()["events"]
    stored = [
        event_from_wire(
            {**e, "at_ms": int(datetime.fromisoformat(e["occurred_at"]).timestamp() * 1000)}
        )
        for e in reply
    ]
    server_figures = totals(
        stored, widget.model.day_start_ms, widget.model.day_end_ms, widget.now_ms()
    )
    assert dialog.figures.by_key == server_figures.by_key
    assert dialog.figures.by_key[Key.PAUSE] > 0


def test_the_panel_comes_back_after_a_server_restart(
    qtbot: QtBot, panel: tuple[Panel, FakeClock, Plateau], served: Served, seeded_url: str
) -> None:
    widget, _clock, floor = panel
    port = served.base_url.rsplit(":", 1)[1]
    stop_server(served)
    qtbot.waitUntil(lambda: widget.live_state == "offline", timeout=WAIT_MS)
    assert widget.link_label.text().startswith("○")
    again = start_server(seeded_url, "--port", port)
    try:
        qtbot.waitUntil(lambda: widget.live_state == "live", timeout=WAIT_MS)
        floor.click("paul", "status", again.now_ms(), "pause")
        qtbot.waitUntil(lambda: cell(widget, "paul", 1) == "Pause", timeout=WAIT_MS)
    finally:
        stop_server(again)


def test_a_simulated_plateau_on_the_panel(qtbot: QtBot, seeded_url: str) -> None:
    """The demo's simulator drives 8 agents on a real server; the panel shows each of them,
    live, and its counters add up."""
    from app.server.directory import NewPerson, add_person
    from app.server.security import hash_password
    from app.sim import PlateauSimulator

    engine = make_engine(seeded_url)
    with engine.begin() as conn:
        for n in range(8):
            add_person(
                conn,
                NewPerson(f"sim{n}", f"Sim {n}", "agent", ("Nord",)),
                password_hash=hash_password(PASSWORD),
            )
    engine.dispose()
    server = start_server(seeded_url)
    agents = [(f"sim{n}", PASSWORD) for n in range(8)]
    simulator = PlateauSimulator(
        server.base_url, agents, ["Assurance Auto", "Banque Pro"], speed=600, seed=3
    )
    widget = Panel(FakeClock(server.now_ms(), zone_name="Europe/Paris"))
    qtbot.addWidget(widget, before_close_func=lambda w: w.stop())
    try:
        simulator.start()
        assert simulator.ready.wait(60) and not simulator.errors
        widget.connect_stream(server.base_url, Plateau(server).token("lea"))
        qtbot.waitUntil(lambda: len(widget.model.agents) >= 11, timeout=WAIT_MS)
        before = {a: len(widget.model.agents[a].events) for a in widget.model.agents}
        # At 600× a stretch lasts seconds: new clicks keep arriving.
        qtbot.waitUntil(
            lambda: any(len(widget.model.agents[a].events) > n for a, n in before.items()),
            timeout=WAIT_MS,
        )
        widget.refresh()
        rows = widget.table_model.rows
        simulated = [r for r in rows if r.login.startswith("sim")]
        assert len(simulated) == 8 and all(r.state.open for r in simulated)
        counts = {n: int(label.text().split()[0]) for n, label in widget.counter_labels.items()}
        assert sum(counts.values()) == 8  # marie, paul, lea: not on shift
        assert all(r.today.presence_ms > 0 for r in simulated)
    finally:
        widget.stop()
        simulator.stop()
        stop_server(server)


def test_export_and_chart(
    qtbot: QtBot,
    panel: tuple[Panel, FakeClock, Plateau],
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    widget, _clock, _floor = panel
    target = tmp_path / "nord.csv"
    monkeypatch.setattr(
        "app.ui.panel.QFileDialog.getSaveFileName", lambda *_a, **_k: (str(target), "")
    )
    dialog = widget.ask_export()
    dialog.by.setCurrentIndex(dialog.by.findData("agent"))
    with qtbot.waitSignal(widget.exported, timeout=WAIT_MS) as done:
        dialog.accept()
    assert "nord.csv" in done.args[0]
    text = target.read_text(encoding="utf-8")
    assert text.startswith("\ufeffagent;name;")  # French Excel: BOM and semicolons
    assert any(line.startswith("marie;") for line in text.splitlines())

    widget.tabs.setCurrentIndex(1)  # the chart loads when shown
    qtbot.waitUntil(lambda: bool(widget.chart.bars), timeout=WAIT_MS)
    _day, parts = widget.chart.bars[-1]
    seconds = dict(parts)
    assert seconds[Key.PAUSE] > 0 and seconds[Key.OFF] > 0
    assert "Formation" in widget.chart.toolTip()  # the plateau's label for "off"
    widget.chart.grab().save(str(tmp_path / "chart.png"))


def test_the_chart_marks_the_days_that_changed_late(
    qtbot: QtBot, panel: tuple[Panel, FakeClock, Plateau], tmp_path: Any
) -> None:
    """A PC offline for days delivers them: they count in the bars, and the lead sees that
    those days changed after the fact (a mark on the bar, a line in its tooltip)."""
    widget, _clock, floor = panel
    three_days_ago = floor.now_ms() - 3 * 24 * 3600 * 1000
    # Léa's PC, offline since then (her journal's first events: they come in order).
    floor.click("lea", "shift_start", three_days_ago, activity="Banque Pro")
    floor.click("lea", "status", three_days_ago + 60_000, key="production", activity="Banque Pro")
    floor.click("lea", "shift_end", three_days_ago + 3600_000, activity="Banque Pro")
    widget.tabs.setCurrentIndex(1)
    qtbot.waitUntil(lambda: bool(widget.chart.late), timeout=WAIT_MS)
    day = datetime.fromtimestamp(three_days_ago / 1000, widget.zone).date()
    assert widget.chart.late == {day: 3}
    bar = dict(widget.chart.bars)[day]
    assert (
        abs(dict(bar)[Key.PRODUCTION] - 3540) <= 2
    )  # counted: they are real (each batch its own offset)
    line = next(
        t for t in widget.chart.toolTip().splitlines() if t.startswith(day.strftime("%d/%m"))
    )
    assert "3 event(s) arrived late" in line
    widget.chart.grab().save(str(tmp_path / "chart-late.png"))


def test_a_lead_corrects_an_agents_time_from_the_panel(
    qtbot: QtBot, panel: tuple[Panel, FakeClock, Plateau]
) -> None:
    widget, _clock, floor = panel
    day = widget.open_day("marie")
    assert day.correct_button.isVisible()
    day.correct_button.click()
    fixing = day.correction
    assert fixing is not None
    start = datetime.fromtimestamp((floor.now_ms() - 40 * MIN) / 1000, widget.zone)
    end = datetime.fromtimestamp((floor.now_ms() - 30 * MIN) / 1000, widget.zone)
    fixing.start.setTime(QTime(start.hour, start.minute))
    fixing.end.setTime(QTime(end.hour, end.minute))
    fixing.what.setCurrentIndex(fixing.what.findData("off"))
    fixing.reason.setText("formation oubliée")
    with qtbot.waitSignal(widget.corrected, timeout=WAIT_MS) as sent:
        fixing.buttons.accepted.emit()
    assert (sent.args[0]["agent"], sent.args[0]["author"]) == ("marie", "lea")
    day.close()


def test_every_surface_counts_a_corrected_day_alike(
    qtbot: QtBot, panel: tuple[Panel, FakeClock, Plateau], served: Served
) -> None:
    """Marie's day, corrected by her lead through the API: the panel's row (the correction
    comes by the stream), the day view, the report's JSON and its CSV give the same seconds."""
    widget, clock, floor = panel
    now = clock.now_ms() + widget.model.server_offset_ms
    day = datetime.fromtimestamp(now / 1000, widget.zone).date()
    if datetime.fromtimestamp((now - 31 * MIN) / 1000, widget.zone).date() != day:
        pytest.skip("too close to midnight: the shift began yesterday")
    floor.click("marie", "shift_end", now - 2 * MIN)  # nothing ticks: every figure is settled
    lea = {"Authorization": f"Bearer {floor.token('lea')}"}
    fix = {
        "uuid": "00000000-0000-4000-8000-00000000c0de",
        "agent": "marie",
        "from_ms": now - 20 * MIN,
        "to_ms": now - 15 * MIN,
        "key": "off",
        "reason": "formation oubliée",
    }
    reply = httpx.post(f"{served.base_url}/v1/corrections", headers=lea, json=fix)
    assert reply.status_code == 200, reply.text
    qtbot.waitUntil(
        lambda: (
            bool(widget.model.agents["marie"].corrections)
            and not widget.model.row("marie", now).state.open
        ),
        timeout=WAIT_MS,
    )
    row = widget.model.row("marie", now).today
    dialog = widget.open_day("marie")
    assert dialog.figures == row
    assert "formation oubliée" in dialog.fixes.text() and dialog.fixes.isVisible()
    assert row.by_key[Key.OFF] == 5 * MIN  # 5 minutes of production re-labelled

    params = {"from": day.isoformat(), "to": day.isoformat(), "agent": "marie"}
    report = httpx.get(f"{served.base_url}/v1/report", headers=lea, params=params).json()
    (marie,) = report["rows"]
    expected = {
        "production_s": row.by_key[Key.PRODUCTION] // 1000,
        "pause_s": row.by_key[Key.PAUSE] // 1000,
        "off_s": row.by_key[Key.OFF] // 1000,
        "unclassified_s": row.unclassified_ms // 1000,
        "presence_s": row.presence_ms // 1000,
    }
    assert {k: marie[k] for k in expected} == expected
    assert marie["corrections"] == 1
    text = httpx.get(
        f"{served.base_url}/v1/report",
        headers=lea,
        params={**params, "format": "csv", "separator": ";"},
    ).text
    (line,) = csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=";")
    assert {k: int(line[k]) for k in expected} == expected
    dialog.close()


def test_live_is_said_once_the_snapshot_is_shown(qtbot: QtBot) -> None:
    clock = FakeClock(T0_MS, zone_name="Europe/Paris")
    widget = Panel(clock)
    qtbot.addWidget(widget, before_close_func=lambda w: w.stop())
    snapshot = {
        "server_now_ms": clock.now_ms(),
        "day_start_ms": clock.now_ms() - 3600_000,
        "day_end_ms": clock.now_ms() + 3600_000,
        "plateaux": [],
        "agents": [{"login": "marie", "name": "Marie", "events": []}],
    }
    widget.set_live_state("live", "")  # connected, nothing shown yet
    assert widget.live_state == "connecting" and not widget.link_label.text().startswith("●")
    widget.on_message("snapshot", snapshot)
    assert widget.live_state == "live" and widget.link_label.text().startswith("●")
    widget.set_live_state("offline", "connection refused")
    widget.set_live_state("live", "")  # back, but its snapshot is still to come
    assert widget.live_state == "connecting"
    widget.on_message("snapshot", snapshot)
    assert widget.live_state == "live"
    # The snapshot may also come before the connection is said to be up.
    widget.set_live_state("offline", "")
    widget.on_message("snapshot", snapshot)
    widget.set_live_state("live", "")
    assert widget.live_state == "live"


NAMES = ["Pierre-Alexandre", "Émilie", "Thi Thu", "Bilal", "Gaëlle", "Jean-Baptiste", "Inès"]
SURNAMES = ["Lefebvre-Moreau", "Nguyen", "Benali", "Durand", "Fournier", "Girard"]
CAMPAIGNS = ["Assurance Auto", "Banque Pro", "Énergie Verte Particuliers"]


def plateau_snapshot(agents: int) -> dict[str, Any]:
    """A snapshot of `agents` agents of Nord in every state, with long names and campaigns."""
    people = []
    for n in range(agents):
        login, activity = f"a{n:02d}", CAMPAIGNS[n % len(CAMPAIGNS)]
        key = ["production", "pause", "off", None][n % 4]

        steps: list[tuple[int, str, int, str | None]] = [
            (1, "shift_start", T0_MS - 3 * 3600_000, None)
        ]
        if key:
            steps.append((2, "status", T0_MS - (n * 97_000) % 3_500_000, key))
        if n % 13 == 5:
            steps.append((3, "shift_end", T0_MS - 60_000, None))
        events = [
            {
                "uuid": f"{n:04d}-{seq}",
                "device_id": "d",
                "agent": login,
                "kind": kind,
                "key": step_key,
                "activity": activity,
                "at_ms": at_ms,
                "seq": seq,
            }
            for seq, kind, at_ms, step_key in steps
        ]
        people.append(
            {
                "login": login,
                "name": f"{NAMES[n % len(NAMES)]} {SURNAMES[n % len(SURNAMES)]}",
                "plateaux": ["Nord"],
                "events": events if n % 17 != 3 else [],  # some have not started today
                "last_seen_ms": T0_MS,
            }
        )
    people.append({"login": "lea", "name": "Léa", "role": "lead", "events": []})
    return {
        "server_now_ms": T0_MS,
        "day_start_ms": T0_MS - 9 * 3600_000,
        "day_end_ms": T0_MS + 15 * 3600_000,
        "zone": "Europe/Paris",
        "plateaux": [
            {
                "name": "Nord",
                "pause_threshold_s": 900,
                "activities": CAMPAIGNS,
                "keys": {"off": {"label": "Formation et réunions", "colour": "#1e88e5"}},
            }
        ],
        "agents": people,
    }


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (1366, 768)])
def test_the_wallboard_shows_every_agent_whole_and_fills_the_screen(
    qtbot: QtBot, tmp_path: Path, width: int, height: int, language: str
) -> None:
    from PySide6.QtGui import QFontMetrics

    from app.ui.i18n import Translations
    from app.ui.theme import stylesheet

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    app.setStyleSheet(stylesheet())
    translations = Translations()
    translations.apply(language)
    try:
        widget = Panel(FakeClock(T0_MS, zone_name="Europe/Paris"))
        qtbot.addWidget(widget, before_close_func=lambda w: w.stop())
        widget.show()
        widget.on_message("snapshot", plateau_snapshot(60))
        widget.activateWindow()
        qtbot.waitUntil(widget.isActiveWindow, timeout=WAIT_MS)
        qtbot.keyClick(widget, Qt.Key.Key_F11)  # as a lead would
        assert widget.property("wallboard") and widget.views.currentWidget() is widget.wallboard
        # The offscreen screen is not a TV: give the window the TV's size.
        widget.showNormal()
        widget.resize(width, height)
        qtbot.waitUntil(lambda: widget.wallboard.width() > width * 0.9, timeout=WAIT_MS)
        board = widget.wallboard
        fit = board.lay_out()
        folded = board.folded
        metrics = QFontMetrics(board.font())
        names = 0
        for row in range(folded.rowCount()):
            for column in range(folded.columnCount()):
                text = str(folded.index(row, column).data() or "")
                names += bool(text) and column % 4 == 0
                # Qt's delegate keeps 4 px each side of a text, and the colour square's room.
                room = board.columnWidth(column) - 8
                if column % 4 == 1:
                    room -= board.iconSize().width() + 4
                assert metrics.horizontalAdvance(text) <= room, (text, board.columnWidth(column))
        assert names == 60 + 1  # every agent (and the lead), once
        used = sum(board.columnWidth(c) for c in range(folded.columnCount()))
        assert used >= 0.9 * board.viewport().width()
        assert fit.font_px >= 14
        if fit.scrolls:  # too many for the screen even in columns: its pages turn by themselves
            bar = board.verticalScrollBar()
            assert board.pager.isActive()
            board.next_page()
            assert bar.value() > 0
            while bar.value() < bar.maximum():
                board.next_page()
            board.next_page()
            assert bar.value() == 0
        widget.grab().save(str(tmp_path / f"wallboard-{width}-{language}.png"))
        qtbot.keyClick(widget, Qt.Key.Key_F11)  # and back
        assert widget.views.currentWidget() is widget.tabs
    finally:
        translations.apply("en")


def test_the_panel_says_who_has_not_started_and_marks_long_pauses_by_more_than_colour(
    qtbot: QtBot,
) -> None:
    widget = Panel(FakeClock(T0_MS, zone_name="Europe/Paris"))
    qtbot.addWidget(widget, before_close_func=lambda w: w.stop())
    widget.show()
    widget.on_message("snapshot", plateau_snapshot(20))
    assert cell(widget, "lea", 1) == "Not started"  # nothing counted today
    assert cell(widget, "a05", 1) == "Shift ended"  # worked, then ended
    over = [r for r in widget.table_model.rows if r.level is not Level.NORMAL]
    assert over
    for row in over:
        assert cell(widget, row.login, 2).startswith("⚠")  # a sign, not a colour only
    assert all(
        not cell(widget, r.login, 2).startswith("⚠")
        for r in widget.table_model.rows
        if r.level is Level.NORMAL
    )


def test_an_export_or_chart_that_fails_at_once_is_said_never_waited_for(
    qtbot: QtBot, tmp_path: Path
) -> None:
    """A call that fails before it starts (nothing listens there) is told like any other:
    the background call's answer is connected before the thread starts."""
    from datetime import date

    widget = Panel(FakeClock(T0_MS, zone_name="Europe/Paris"))
    qtbot.addWidget(widget, before_close_func=lambda w: w.stop())
    widget.server, widget.token = "nowhere", "unused"  # no scheme: fails before any I/O
    for _ in range(20):  # a race lost once in a while is still lost: try it many times
        with qtbot.waitSignal(widget.exported, timeout=WAIT_MS) as said:
            widget.export_csv(tmp_path / "x.csv", date(2026, 11, 1), date(2026, 11, 27), "agent")
        assert said.args[0].startswith("Export failed: Cannot reach nowhere")
    widget.load_chart()
    qtbot.waitUntil(lambda: "Cannot reach" in widget.chart.message, timeout=WAIT_MS)


def test_background_answers_are_connected_before_their_thread_starts(qtbot: QtBot) -> None:
    """A call that fails at once must be told (the sign-in dialog once stayed on
    "Signing in…" for ever because its answer came before anyone listened). Background
    takes its `done` when made; nothing in the interface connects one afterwards."""
    import ast

    from app.ui.threads import Background

    told: list[object] = []

    def fail_at_once() -> None:
        raise ValueError("bad address")

    calls = [
        Background(fail_at_once, done=lambda _r, error: told.append(error)).start()
        for _ in range(50)
    ]
    qtbot.waitUntil(lambda: len(told) == 50, timeout=WAIT_MS)
    for call in calls:
        call.join(5)
    late = []
    for source in (Path(__file__).parent.parent / "app").rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and node.attr == "connect"
                and isinstance(node.value, ast.Attribute)
                and node.value.attr == "finished"
                and source.name != "threads.py"
            ):
                late.append(f"{source.name}:{node.lineno}")
    assert late == []


def test_the_panels_columns_hold_what_they_may_show_and_do_not_jump_at_a_reconnection(
    qtbot: QtBot,
) -> None:
    widget = Panel(FakeClock(T0_MS, zone_name="Europe/Paris"))
    qtbot.addWidget(widget, before_close_func=lambda w: w.stop())
    widget.resize(1400, 700)
    widget.show()
    widget.on_message("snapshot", plateau_snapshot(20))
    header = widget.table.horizontalHeader()
    metrics = widget.table.fontMetrics()
    # Nobody is "no news for 1 min" yet: the link column has that room all the same.
    assert header.sectionSize(5) >= metrics.horizontalAdvance("no news for 1 min") + 8
    assert header.sectionSize(2) >= metrics.horizontalAdvance("⚠⚠ 59 min 59") + 8
    before = [header.sectionSize(c) for c in range(widget.table_model.columnCount())]
    fewer = plateau_snapshot(20)
    fewer["agents"] = fewer["agents"][:3]  # a reconnection's snapshot with shorter texts
    widget.on_message("snapshot", fewer)
    after = [header.sectionSize(c) for c in range(widget.table_model.columnCount())]
    assert all(a >= b for a, b in zip(after, before, strict=True) if b), (before, after)
