"""The bar, clicked as an agent would (pytest-qt, offscreen)."""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QDateTime, QPoint, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QLabel, QMenu
from pytestqt.qtbot import QtBot

from app.account import Account
from app.config import Settings, load_settings
from app.domain.clock import FakeClock
from app.domain.events import Key, Kind, SyncState
from app.journal import Journal
from app.recording import Recorder
from app.resources import resource
from app.ui.bar import BAR_HEIGHT, BAR_WIDTH, Bar, load_place
from app.ui.bridge import make_desk
from app.ui.dialogs import NoteDialog
from app.ui.i18n import Translations, choose_language
from app.ui.tray import make_tray

pytestmark = pytest.mark.gui
ACTIVITIES = ["Assurance Auto", "Banque Pro"]


@pytest.fixture
def translations(qapp: QApplication) -> Iterator[Translations]:
    t = Translations()
    t.apply("fr")
    yield t
    t.apply("en")


def make_bar(
    qtbot: QtBot,
    journal: Journal,
    clock: FakeClock,
    settings: Settings | None = None,
    config_file: Path | None = None,
    translations: Translations | None = None,
) -> Bar:
    recorder = Recorder(journal, clock, agent="marie", activities=ACTIVITIES)
    recorder.start()
    settings = settings or Settings()
    desk = make_desk(recorder, settings)
    bar = Bar(desk, settings, config_file=config_file, translations=translations)
    qtbot.addWidget(bar, before_close_func=lambda w: w.stop())
    bar.show()
    qtbot.waitExposed(bar)
    return bar


@pytest.fixture
def bar(
    qtbot: QtBot, journal: Journal, clock: FakeClock, translations: Translations
) -> Iterator[Bar]:
    widget = make_bar(qtbot, journal, clock, translations=translations)
    yield widget
    widget.stop()


def d(text: str) -> str:
    """A duration as the interface writes it: its spaces are no-break spaces."""
    return text.replace(" ", "\u00a0")


def shown(label: QLabel) -> str:
    """What a rich-text label reads as, without its markup."""
    return re.sub(r"<[^>]+>", "", label.text())


def rows(journal: Journal) -> list[tuple[str, str | None]]:
    return [(e.kind.value, e.key.value if e.key else None) for e in journal.events()]


def test_a_small_frameless_always_on_top_tool_window(bar: Bar) -> None:
    flags = bar.windowFlags()
    assert flags & Qt.WindowType.FramelessWindowHint
    assert flags & Qt.WindowType.WindowStaysOnTopHint
    assert flags & Qt.WindowType.Tool
    assert bar.width() <= 440 and bar.height() <= 72
    assert (bar.width(), bar.height()) == (BAR_WIDTH, BAR_HEIGHT)


def test_unclassified_before_the_first_key(bar: Bar) -> None:
    assert bar.status_name == "Non classé"
    assert not any(k.active for k in bar.keys.values())
    assert shown(bar.time_label) == d("0 s")


def test_clicking_each_key_records_it(qtbot: QtBot, bar: Bar, journal: Journal) -> None:
    for key in (Key.PRODUCTION, Key.PAUSE, Key.OFF):
        with qtbot.waitSignal(bar.state_changed, timeout=1000):
            qtbot.mouseClick(bar.keys[key], Qt.MouseButton.LeftButton)
        assert bar.keys[key].active
        assert [k for k, b in bar.keys.items() if b.active] == [key]
        assert journal.events()[-1].key is key
    assert rows(journal) == [
        ("shift_start", None),
        ("status", "production"),
        ("status", "pause"),
        ("status", "off"),
    ]
    assert bar.status_name == "Hors production"


def test_keyboard_shortcuts(qtbot: QtBot, bar: Bar, journal: Journal) -> None:
    bar.activateWindow()
    qtbot.waitUntil(bar.isActiveWindow, timeout=2000)
    for digit, key in (
        (Qt.Key.Key_2, Key.PAUSE),
        (Qt.Key.Key_1, Key.PRODUCTION),
        (Qt.Key.Key_3, Key.OFF),
    ):
        qtbot.keyClick(bar, digit, Qt.KeyboardModifier.ControlModifier)
        assert bar.keys[key].active
    assert [k for _, k in rows(journal)[1:]] == ["pause", "production", "off"]


def test_keys_are_reachable_by_tab_and_space(qtbot: QtBot, bar: Bar, journal: Journal) -> None:
    bar.keys[Key.PRODUCTION].setFocus()
    qtbot.keyClick(bar.keys[Key.PRODUCTION], Qt.Key.Key_Space)
    assert bar.keys[Key.PRODUCTION].active


def test_time_in_status_display(bar: Bar, clock: FakeClock) -> None:
    bar.press(Key.PAUSE)
    bar.tick()
    assert shown(bar.time_label) == d("0 s")
    clock.advance(59_000)
    bar.tick()
    assert shown(bar.time_label) == d("59 s")
    clock.advance(3_600_000 - 59_000)
    bar.tick()
    assert shown(bar.time_label) == d("1 h 00")
    clock.advance(3_599_000)
    bar.tick()
    assert shown(bar.time_label) == d("1 h 59")


def test_todays_totals_under_the_keys(bar: Bar, clock: FakeClock) -> None:
    bar.press(Key.PRODUCTION)
    clock.advance(2 * 3_600_000 + 13 * 60_000)
    bar.press(Key.PAUSE)
    clock.advance(15 * 60_000)
    bar.tick()
    assert bar.keys[Key.PRODUCTION].total == d("2 h 13")
    assert bar.keys[Key.PAUSE].total == d("15 min 00")
    assert bar.keys[Key.OFF].total == d("0 s")
    assert "Production " + d("2 h 13") in bar.time_label.toolTip()


def test_corrections_of_my_time_show_in_my_totals_and_my_day(bar: Bar, clock: FakeClock) -> None:
    """A correction of the agent's time (from their stream, in the store's clock) counts on
    the bar and in "Ma journée" as it does in the reports."""
    start = clock.now_ms()
    bar.press(Key.PRODUCTION)
    clock.advance(2 * 3_600_000)
    bar.press(Key.PAUSE)
    clock.advance(15 * 60_000)
    fix = {
        "uuid": "c1",
        "agent": bar.recorder.agent,
        "author": "lea",
        "from_ms": start + 3_600_000,
        "to_ms": start + 3_600_000 + 30 * 60_000,
        "key": "off",
        "activity": None,
        "off_shift": False,
        "reason": "formation",
        "made_at_ms": clock.now_ms(),
    }
    bar.desk.take_message("corrections", {"corrections": [fix]})
    bar.tick()
    assert bar.keys[Key.PRODUCTION].total == d("1 h 30")
    assert bar.keys[Key.OFF].total == d("30 min 00")
    assert bar.keys[Key.PAUSE].total == d("15 min 00")
    day = bar.show_day()
    assert day.figures == bar.today()
    assert "formation" in day.fixes.text()
    day.close()
    # The agent goes on clicking: the corrected totals follow.
    assert bar.press(Key.OFF) is not None
    clock.advance(10 * 60_000)
    bar.tick()
    assert bar.keys[Key.OFF].total == d("40 min 00")
    assert bar.keys[Key.PAUSE].total == d("15 min 00")
    # Someone else's correction on the same stream (it never comes, but) changes nothing.
    bar.desk.take_message("corrections", {"corrections": [{**fix, "uuid": "c2", "agent": "paul"}]})
    assert bar.keys[Key.OFF].total == d("40 min 00")
    # A new connection's snapshot replaces what was known.
    snapshot = {"agents": [{"login": bar.recorder.agent, "corrections": []}]}
    bar.desk.take_message("snapshot", snapshot)
    assert bar.keys[Key.OFF].total == d("10 min 00")


def test_totals_can_be_hidden(qtbot: QtBot, journal: Journal, clock: FakeClock) -> None:
    settings = Settings()
    settings.values["ui.show_totals"] = False
    widget = make_bar(qtbot, journal, clock, settings)
    assert all(b.total == "" for b in widget.keys.values())
    widget.stop()


def test_accessible_names_and_tooltips(bar: Bar) -> None:
    assert bar.keys[Key.OFF].accessibleName() == "Hors production"
    assert "Ctrl+3" in bar.keys[Key.OFF].toolTip()
    assert bar.keys[Key.PAUSE].accessibleDescription() == "Une pause"
    assert bar.activity.accessibleName() == "Activité"


def test_activity_switch_from_the_picker(bar: Bar, journal: Journal) -> None:
    bar.press(Key.PRODUCTION)
    bar.activity.setCurrentIndex(1)
    bar.activity.activated.emit(1)
    last = journal.events()[-1]
    assert (last.kind, last.activity, last.key) == (Kind.ACTIVITY, "Banque Pro", Key.PRODUCTION)
    assert bar.keys[Key.PRODUCTION].active


def test_a_key_with_a_note(qtbot: QtBot, bar: Bar, journal: Journal) -> None:
    bar.keys[Key.OFF].customContextMenuRequested.emit(QPoint(5, 5))
    menu = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QMenu) and w.isVisible())
    action = next(a for a in menu.actions() if a.text() == "Hors production avec une note…")
    action.trigger()
    menu.close()
    dialog = next(
        w for w in QApplication.topLevelWidgets() if isinstance(w, NoteDialog) and w.isVisible()
    )
    assert dialog.edit.maxLength() == 200
    # Where the note is typed, who reads it (in the bar's language: French here).
    assert dialog.visibility.isVisible()
    assert dialog.visibility.text() == "Votre responsable voit cette note, avec son heure."
    qtbot.keyClicks(dialog.edit, "formation produit")
    assert dialog.counter.text() == "17/200"
    qtbot.keyClick(dialog.edit, Qt.Key.Key_Return)
    last = journal.events()[-1]
    assert (last.key, last.note) == (Key.OFF, "formation produit")
    assert bar.keys[Key.OFF].active


def test_a_cancelled_note_records_nothing(qtbot: QtBot, bar: Bar, journal: Journal) -> None:
    dialog = bar.ask_note(Key.PAUSE)
    qtbot.keyClicks(dialog.edit, "pas envoye")  # QtTest types ASCII only
    dialog.reject()
    assert rows(journal) == [("shift_start", None)]


def test_a_failed_write_keeps_the_old_state_and_says_so(
    qtbot: QtBot, tmp_path: Path, clock: FakeClock, translations: Translations
) -> None:
    journal = Journal(tmp_path / "locked.sqlite3", busy_timeout_ms=20)
    widget = make_bar(qtbot, journal, clock)
    widget.press(Key.PRODUCTION)
    blocker = sqlite3.connect(journal.path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        with qtbot.waitSignal(widget.problem_changed, timeout=1000):
            qtbot.mouseClick(widget.keys[Key.PAUSE], Qt.MouseButton.LeftButton)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert widget.keys[Key.PRODUCTION].active and not widget.keys[Key.PAUSE].active
    assert widget.problem == "Non enregistré\u202f!"
    assert "PAS été enregistré" in widget.problem_label.toolTip()
    assert widget.problem_label.isVisible()
    assert rows(journal)[-1] == ("status", "production")
    # The next click that works clears the warning.
    qtbot.mouseClick(widget.keys[Key.PAUSE], Qt.MouseButton.LeftButton)
    assert widget.keys[Key.PAUSE].active and widget.problem == ""
    widget.stop()
    journal.close()


def test_menu_holds_every_tray_action(bar: Bar) -> None:
    bar._update_actions()
    texts = [a.text() for a in bar.menu.actions() if a.isVisible() and not a.isSeparator()]
    assert texts == [
        "Masquer la barre",
        "Ma journée",
        "Fin de service",
        "Réglages…",
        "Se connecter…",
        "Quitter",
    ]
    assert bar.menu_button.menu() is bar.menu


def test_hide_and_show(bar: Bar) -> None:
    bar.show_action.trigger()
    assert not bar.isVisible()
    bar._update_actions()
    assert bar.show_action.text() == "Afficher la barre"
    bar.show_action.trigger()
    assert bar.isVisible()


def test_tray_only_where_there_is_one(bar: Bar) -> None:
    from PySide6.QtWidgets import QSystemTrayIcon

    tray = make_tray(bar)
    assert (tray is not None) == QSystemTrayIcon.isSystemTrayAvailable()


def test_end_of_shift_from_the_menu(bar: Bar, journal: Journal) -> None:
    bar.press(Key.PRODUCTION)
    bar.end_action.trigger()
    assert rows(journal)[-1] == ("shift_end", None)
    assert bar.status_name == "Service terminé"
    assert shown(bar.time_label) == "–"
    bar._update_actions()
    assert not bar.end_action.isEnabled()


@pytest.mark.parametrize(
    ("choice", "last", "quits"),
    [
        ("end", ("shift_end", None), True),
        ("keep", ("status", "pause"), True),
        ("cancel", ("status", "pause"), False),
    ],
)
def test_quit_asks_about_the_shift(
    qtbot: QtBot,
    bar: Bar,
    journal: Journal,
    monkeypatch: pytest.MonkeyPatch,
    choice: str,
    last: tuple[str, str | None],
    quits: bool,
) -> None:
    bar.press(Key.PAUSE)
    monkeypatch.setattr(bar, "ask_end_shift", lambda: choice)
    with qtbot.waitSignal(bar.quit_confirmed, timeout=500, raising=False) as blocker:
        bar.quit_action.trigger()
    assert blocker.signal_triggered == quits
    assert rows(journal)[-1] == last


def test_commands_from_other_processes(bar: Bar, journal: Journal) -> None:
    answer = bar.desk.handle({"cmd": "key", "key": "pause", "note": "café"})
    assert answer["ok"] and answer["state"]["key"] == "pause"
    (event,) = answer["events"]
    assert journal.events()[-1].uuid == event["uuid"]
    assert bar.keys[Key.PAUSE].active  # the bar shows what the command did
    assert bar.desk.handle({"cmd": "key", "key": "pause"})["events"] == []
    assert not bar.desk.handle({"cmd": "key", "key": "lunch"})["ok"]
    assert not bar.desk.handle({"cmd": "key", "key": "off", "note": 42})["ok"]
    assert "201" in bar.desk.handle({"cmd": "key", "key": "off", "note": "x" * 201})["error"]
    assert bar.desk.handle({"cmd": "status"})["state"]["activity"] == "Assurance Auto"
    assert bar.desk.handle({"cmd": "show"})["ok"]
    assert "unknown command" in bar.desk.handle({"cmd": "rm -rf"})["error"]
    assert bar.desk.handle({"cmd": "end_shift"})["ok"]
    assert rows(journal)[-1] == ("shift_end", None)


def test_position_is_remembered(
    qtbot: QtBot, journal: Journal, clock: FakeClock, tmp_path: Path
) -> None:
    place = tmp_path / "window.json"
    bar = make_bar(qtbot, journal, clock)
    bar.place_file = place
    screen = QGuiApplication.primaryScreen().availableGeometry()
    bar.move(screen.x() + 100, screen.y() + 50)
    qtbot.waitUntil(place.exists, timeout=3000)
    assert load_place(place) == (screen.x() + 100, screen.y() + 50)
    bar.stop()
    again = Bar(make_desk(bar.recorder, Settings()), Settings(), place_file=place)
    qtbot.addWidget(again, before_close_func=lambda w: w.stop())
    again.place()
    assert (again.x(), again.y()) == (screen.x() + 100, screen.y() + 50)
    again.stop()


@pytest.mark.parametrize("content", ['{"x": 50000, "y": 50000}', "garbage", '{"x": "1"}', ""])
def test_a_place_on_a_vanished_screen_snaps_back(
    qtbot: QtBot, journal: Journal, clock: FakeClock, tmp_path: Path, content: str
) -> None:
    place = tmp_path / "window.json"
    place.write_text(content, encoding="utf-8")
    bar = make_bar(qtbot, journal, clock)
    bar.place_file = place
    bar.place()
    screen = QGuiApplication.primaryScreen().availableGeometry()
    assert screen.contains(bar.geometry())
    bar.stop()


def test_a_bar_waiting_for_its_journal(
    qtbot: QtBot, journal: Journal, clock: FakeClock, translations: Translations
) -> None:
    """The bar shows at once and takes clicks only once the journal is open."""
    bar = Bar(None, Settings())
    qtbot.addWidget(bar, before_close_func=lambda w: w.stop())
    bar.show()
    assert not bar.keys[Key.PAUSE].isEnabled()
    assert bar.status_name == "Ouverture du journal…"
    assert bar.press(Key.PAUSE) is None
    bar.tick()
    recorder = Recorder(journal, clock, agent="marie", activities=ACTIVITIES)
    recorder.start()
    bar.attach(make_desk(recorder, Settings()))
    assert bar.keys[Key.PAUSE].isEnabled()
    assert bar.status_name == "Non classé"
    assert bar.press(Key.PAUSE) is not None
    bar.stop()


def test_drag_by_the_grip(qtbot: QtBot, bar: Bar) -> None:
    start = bar.pos()
    qtbot.mousePress(bar, Qt.MouseButton.LeftButton, pos=QPoint(5, 30))
    qtbot.mouseMove(bar, QPoint(45, 10))
    qtbot.mouseRelease(bar, Qt.MouseButton.LeftButton, pos=QPoint(45, 10))
    assert bar.pos() != start


def test_my_day(bar: Bar, clock: FakeClock) -> None:
    bar.press(Key.PRODUCTION)
    clock.advance(60_000)
    bar.press(Key.PAUSE, "café")
    clock.advance(30_000)
    dialog = bar.show_day()
    assert dialog.table.rowCount() == 3
    assert (item := dialog.table.item(2, 1)) is not None
    assert item.text() == "Pause"
    assert (note := dialog.table.item(2, 3)) is not None
    assert note.text() == "café"
    assert "Production : " + d("1 min 00") in dialog.totals.text()
    # The same numbers as the bar's own totals, and a strip that tells the same story.
    assert dialog.figures == bar.recorder.today()
    stretches = dialog.strip.stretches
    assert [s.key for s in stretches] == [Key.PRODUCTION, Key.PAUSE]
    assert stretches[-1].note == "café"
    assert "Pause" in dialog.strip.describe(stretches[-1])
    assert (cell := dialog.activities.item(0, 0)) is not None
    assert cell.text() == "Assurance Auto"
    dialog.close()


def test_settings_dialog_saves_and_applies(
    qtbot: QtBot, journal: Journal, clock: FakeClock, tmp_path: Path, translations: Translations
) -> None:
    config = tmp_path / "bandeau.toml"
    widget = make_bar(qtbot, journal, clock, config_file=config, translations=translations)
    dialog = widget.show_settings()
    assert dialog is not None
    dialog.language.setCurrentIndex(dialog.language.findData("en"))
    dialog.on_top.setChecked(False)
    dialog.accept()
    saved = load_settings(config, environ={})
    assert saved.problems == []
    assert saved.text("ui.language") == "en" and not saved.flag("ui.always_on_top")
    assert not widget.windowFlags() & Qt.WindowType.WindowStaysOnTopHint
    # Qt posts the LanguageChange event: the bar retranslates itself on the next loop turn.
    qtbot.waitUntil(lambda: widget.keys[Key.OFF].accessibleName() == "Off production", timeout=2000)
    assert widget.status_name == "Unclassified"
    widget.stop()


def test_language_choice(qapp: QApplication) -> None:
    from PySide6.QtCore import QLocale

    assert choose_language("en") == "en"
    assert choose_language("auto", QLocale(QLocale.Language.French)) == "fr"
    assert choose_language("auto", QLocale(QLocale.Language.English)) == "en"
    assert choose_language("auto", QLocale(QLocale.Language.German)) == "fr"  # French first


def test_the_french_catalogue_covers_every_string(tmp_path: Path) -> None:
    """Every tr() string in the UI code has a finished French translation, and the .qm is
    compiled from the .ts in the repository."""
    tools = Path(sys.executable).parent
    lupdate = shutil.which("pyside6-lupdate", path=str(tools)) or shutil.which("pyside6-lupdate")
    lrelease = shutil.which("pyside6-lrelease", path=str(tools)) or shutil.which("pyside6-lrelease")
    assert lupdate and lrelease, "PySide6's lupdate/lrelease are part of the test extra"
    ts = tmp_path / "bandeau_fr.ts"
    shutil.copy(resource("translations", "bandeau_fr.ts"), ts)
    ui = sorted(str(p) for p in (Path(__file__).parent.parent / "app" / "ui").glob("*.py"))
    out = subprocess.run(
        [lupdate, *ui, "-locations", "none", "-no-obsolete", "-ts", str(ts)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "(0 new and" in out, out
    text = ts.read_text(encoding="utf-8")
    assert 'type="unfinished"' not in text
    assert text == resource("translations", "bandeau_fr.ts").read_text(encoding="utf-8")
    qm = tmp_path / "bandeau_fr.qm"
    subprocess.run([lrelease, str(ts), "-qm", str(qm)], capture_output=True, check=True)
    assert qm.read_bytes() == resource("translations", "bandeau_fr.qm").read_bytes()


def test_the_bar_renders(bar: Bar, tmp_path: Path) -> None:
    bar.press(Key.PAUSE)
    image = bar.grab().toImage()
    assert (image.width(), image.height()) == (
        BAR_WIDTH * image.devicePixelRatio(),
        BAR_HEIGHT * image.devicePixelRatio(),
    )
    colours = {
        image.pixelColor(x, y).name()
        for x in range(0, image.width(), 7)
        for y in range(0, image.height(), 7)
    }
    assert "#c77800" in colours  # the active Pause key is painted in its colour
    assert len(colours) > 10


def test_the_sync_indicator(bar: Bar) -> None:
    from app.sync.worker import SyncStatus

    assert bar.sync_label.text() == "● Local uniquement"
    bar.desk.sync_status = SyncStatus("synced", 0, 0)
    bar.desk_changed("sync")  # a report from before a sign-out: the bar is local only
    assert bar.sync_label.text() == "● Local uniquement"
    bar.desk.account = Account("http://127.0.0.1:9", "marie")  # as if signed in
    try:
        bar.set_sync_status(SyncStatus("synced", 0, 0))
        assert bar.sync_label.text() == "✓ Synchronisé"
        bar.set_sync_status(SyncStatus("waiting", 3, 0))
        assert bar.sync_label.text() == "⏳ 3 en attente"
        since = QDateTime.fromString("2026-11-27T10:42:00", Qt.DateFormat.ISODate)
        bar.set_sync_status(SyncStatus("offline", 2, 0, since.toMSecsSinceEpoch()))
        assert bar.sync_label.text() == "○ Hors ligne 10:42"
        assert "Hors ligne depuis 10:42." in bar.sync_label.toolTip()
        assert "2 événements attendent" in bar.sync_label.toolTip()
        bar.set_sync_status(SyncStatus("waiting", 0, 1))
        assert bar.sync_label.text() == "⚠ 1 problème"
        bar.set_sync_status(SyncStatus("signed_out", 4, 0))
        assert bar.sync_label.text() == "⚠ Déconnecté"
        bar.set_sync_status(SyncStatus("refused", 4, 0, detail="device bound to another token"))
        assert bar.sync_label.text() == "⚠ Refusé"
        assert "device bound to another token" in bar.sync_label.toolTip()
    finally:
        bar.desk.account = None
    bar.show_local_only()
    assert bar.sync_label.text() == "● Local uniquement"


def test_signing_in_mid_shift_moves_the_shift_to_the_agent(bar: Bar, journal: Journal) -> None:
    bar.press(Key.OFF)
    answer = bar.desk.handle(
        {
            "cmd": "signed_in",
            "server": "http://127.0.0.1:9",
            "login": "marie.d",
            "token": "t",
            "activities": ["Banque Pro"],
        }
    )
    assert answer == {"ok": True, "claimed": 0}
    assert [bar.activity.itemText(i) for i in range(bar.activity.count())] == ["Banque Pro"]
    last_two = journal.events()[-2:]
    assert [(e.agent, e.kind, e.key, e.activity) for e in last_two] == [
        ("marie.d", Kind.SHIFT_START, None, "Banque Pro"),
        ("marie.d", Kind.STATUS, Key.OFF, "Banque Pro"),
    ]
    assert bar.keys[Key.OFF].active
    bad = bar.desk.handle({"cmd": "signed_in", "server": "x", "login": "y", "token": "z"})
    assert "activities" in bad["error"]
    out = bar.desk.handle({"cmd": "sign_out"})
    assert out == {"ok": True, "token": "t", "waiting": 2}  # marie.d's two events
    # Back to the PC's local name, the events kept on this PC.
    last = journal.entries()[-1]
    assert last.event.agent == bar.desk.local_agent and last.sync_state is SyncState.LOCAL
    assert bar.sync_label.text() == "● Local uniquement"


def test_the_plateau_names_and_colours_the_keys(bar: Bar, tmp_path: Path) -> None:
    from app.ui.theme import KEY_STYLES, readable_on

    profile = {
        "plateaux": [
            {
                "name": "Nord",
                "activities": ["Assurance Auto"],
                "keys": {
                    "production": {"label": "Production", "colour": "#1e8e3e"},
                    "pause": {"label": "Pause", "colour": "#FFD54F"},
                    "off": {"label": "Formation", "colour": "#1a73e8"},
                },
            },
            {
                "name": "Sud",
                "activities": ["Banque Pro"],
                "keys": {"off": {"label": "Back-office", "colour": "not a colour"}},
            },
        ]
    }
    signed_in = {
        "cmd": "signed_in",
        "server": "http://127.0.0.1:9",
        "login": "marie",
        "token": "t",
        "activities": ACTIVITIES,
        "profile": profile,
    }
    assert bar.desk.handle(signed_in)["ok"]
    bar.press(Key.PAUSE)
    labels = {key: button.text() for key, button in bar.keys.items()}
    # A label the plateau kept as the default is ours, translated; a changed one is theirs.
    assert labels == {Key.PRODUCTION: "Production", Key.PAUSE: "Pause", Key.OFF: "Formation"}
    assert bar.keys[Key.PAUSE].colour == "#ffd54f"
    assert readable_on("#ffd54f") == "#263238"  # dark text on a light key
    assert all(readable_on(style.colour) == "#ffffff" for style in KEY_STYLES.values())
    bar.grab().save(str(tmp_path / "plateau-keys.png"))
    # Another activity, another plateau: its own looks, what it says badly left at ours.
    bar.switch_activity("Banque Pro")
    assert bar.keys[Key.OFF].text() == "Back-office"
    assert bar.keys[Key.OFF].colour == KEY_STYLES[Key.OFF].colour
    assert bar.keys[Key.PAUSE].colour == KEY_STYLES[Key.PAUSE].colour
    assert bar.status_name == "Pause"
    assert bar.desk.handle({"cmd": "sign_out"})["ok"]  # signed out: our keys again
    assert bar.keys[Key.OFF].text() == "Hors production"


def test_the_network_coming_back_wakes_the_sync(bar: Bar, monkeypatch: pytest.MonkeyPatch) -> None:
    from PySide6.QtNetwork import QNetworkInformation

    from app.ui.network import watch_network

    kicks: list[int] = []
    if not watch_network(lambda: kicks.append(1), bar):
        pytest.skip("no network information backend on this machine")
    info = QNetworkInformation.instance()
    assert info is not None
    info.reachabilityChanged.emit(QNetworkInformation.Reachability.Disconnected)
    assert kicks == []
    info.reachabilityChanged.emit(QNetworkInformation.Reachability.Online)
    assert kicks == [1]


def test_qts_own_words_speak_the_interfaces_language(
    qtbot: QtBot, translations: Translations
) -> None:
    """Standard buttons and the file dialog come from Qt, not from Bandeau: its catalogue
    (qtbase_fr.qm, shipped with PySide6) is installed with ours."""
    from PySide6.QtWidgets import QDialogButtonBox, QFileDialog

    def cancel_text() -> str:
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        qtbot.addWidget(box)
        button = box.button(QDialogButtonBox.StandardButton.Cancel)
        assert button is not None
        return button.text().replace("&", "")

    translations.apply("fr")
    assert cancel_text() == "Annuler"
    dialog = QFileDialog(None, "Exporter")
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
    qtbot.addWidget(dialog)
    texts = " ".join(label.text() for label in dialog.findChildren(QLabel))
    assert "Nom de fichier" in texts or "Nom du fichier" in texts, texts
    translations.apply("en")
    assert cancel_text() == "Cancel"


def test_settings_problems_are_said_in_the_interfaces_language(
    tmp_path: Path, translations: Translations
) -> None:
    from app.ui import wording

    bad_file = tmp_path / "bandeau.toml"
    bad_file.write_text("[ui]\nalways_on_top = 3\nnope = 1\n", encoding="utf-8")
    settings = load_settings(
        bad_file, environ={}, overrides=["shift.resume_minutes=forever", "no-equals"]
    )
    said = [wording.setting_problem(p) for p in settings.problems]
    assert len(said) == 4
    assert any("ui.always_on_top = 3 n’est pas valide (vrai ou faux attendu)" in s for s in said)
    assert any("réglage inconnu « ui.nope »" in s for s in said)
    assert any("un nombre entier de 0 à 1440" in s for s in said)
    assert any("nom=valeur attendu" in s for s in said)
    translations.apply("en")
    assert any("true or false expected" in wording.setting_problem(p) for p in settings.problems)


def test_my_day_writes_a_correction_to_the_minute_it_was_made_for(
    bar: Bar, clock: FakeClock
) -> None:
    """A correction of 10:30–10:31 (the store's time; the PC's clock a millisecond off)
    reads 10:30–10:31 in "Ma journée", as in the lead's view: rounded, never truncated."""
    bar.press(Key.PRODUCTION)
    clock.advance(2 * 3_600_000)
    at = clock.now_ms() - 30 * 60_000  # 10:30 Europe/Paris
    fix = {
        "uuid": "c1",
        "agent": bar.recorder.agent,
        "author": "lea",
        "from_ms": at - 1,
        "to_ms": at + 60_000 - 1,
        "key": "off",
        "reason": "réunion",
        "made_at_ms": clock.now_ms(),
    }
    bar.desk.take_message("corrections", {"corrections": [fix]})
    day = bar.show_day()
    assert "10:30–10:31" in day.fixes.text()
    day.close()


@pytest.mark.parametrize("where", ["top", "bottom"])
def test_my_day_and_sign_in_open_beside_the_bar_not_over_its_keys(
    qtbot: QtBot, bar: Bar, where: str
) -> None:
    screen = QGuiApplication.primaryScreen().availableGeometry()
    y = screen.y() + 10 if where == "top" else screen.y() + screen.height() - bar.height() - 10
    bar.move(screen.x() + 40, y)
    for dialog in (bar.show_day(), bar.accounts.show_sign_in()):
        qtbot.waitExposed(dialog)
        assert not dialog.frameGeometry().intersects(bar.frameGeometry()), where
        assert screen.contains(dialog.geometry())
        assert (dialog.y() > bar.y()) == (where == "top")  # below a bar at the top
        dialog.close()


def test_a_dialog_goes_where_the_screen_has_room() -> None:
    from app.domain.placement import Rect, beside

    screen = Rect(0, 0, 1366, 768)
    assert beside(Rect(100, 20, 440, 72), (500, 300), screen) == (100, 98)  # below
    assert beside(Rect(100, 680, 440, 72), (500, 300), screen) == (100, 374)  # above
    assert beside(Rect(1200, 680, 440, 72), (500, 300), screen)[0] == 866  # kept on screen
    # Taller than the room on either side: on the roomier side, inside the screen.
    assert beside(Rect(0, 300, 440, 72), (500, 700), screen) == (0, 68)


def test_a_correction_proposes_a_range_inside_the_shift(bar: Bar, clock: FakeClock) -> None:
    """The shift began at 09:00; at 09:30 the correction dialog proposes 09:00–09:30, not
    an hour (08:00) before the agent started."""
    from PySide6.QtCore import QTime

    from app.ui.dayview import DayDialog, offer_corrections

    bar.press(Key.PRODUCTION)
    clock.advance(30 * 60_000)
    day = DayDialog(bar)
    now, bounds = bar._show_day(day)
    offer_corrections(
        day,
        agent=bar.recorder.agent,
        send=lambda _body, _done: None,
        now_ms=now,
        day=bounds,
        labels=bar.key_labels(),
        zone=bar.recorder.clock.zone(),
    )
    day.correct_button.click()
    fixing = day.correction
    assert fixing is not None
    assert (fixing.start.time(), fixing.end.time()) == (QTime(9, 0), QTime(9, 30))
    fixing.close()
    day.close()


@pytest.mark.parametrize("language", ["fr", "en"])
def test_nothing_on_the_bar_is_cut_in_any_state(
    qtbot: QtBot,
    journal: Journal,
    clock: FakeClock,
    translations: Translations,
    language: str,
    request: pytest.FixtureRequest,
) -> None:
    from PySide6.QtGui import QFont, QFontMetrics

    from app.ui.keybutton import _LABEL_MARGIN, fit_label
    from app.ui.theme import stylesheet

    translations.apply(language)
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    app.setStyleSheet(stylesheet())  # as the bar runs: its fonts, paddings and sizes
    request.addfinalizer(lambda: app.setStyleSheet(""))
    bar = make_bar(qtbot, journal, clock, translations=translations)
    bar.desk.coverage = {"Assurance Auto": {"production": 14, "present": 28}}

    def check(state: str) -> None:
        QApplication.processEvents()
        shown = bar.status_label.text()
        assert shown in ("", bar.status_name), (state, shown)  # whole, never elided
        for label in (bar.status_label, bar.problem_label, bar.coverage_label, bar.time_label):
            if label.isVisible():
                assert label.sizeHint().width() <= label.width() + 1, (state, label.text())
        if bar.sync_label.isVisible():  # its text, within the room it has
            text = bar.sync_label.text()
            room = bar.sync_label.contentsRect().width()
            assert bar.sync_label.fontMetrics().horizontalAdvance(text) <= room, (state, text)
        for button in bar.keys.values():
            font = QFont(button.font())
            font.setBold(button.active)
            room = button.width() - 3 - 2 * _LABEL_MARGIN
            lines, size = fit_label(button.text(), font, room)
            font.setPixelSize(size)
            for line in lines:
                assert QFontMetrics(font).horizontalAdvance(line) <= room, (state, line)

    check("unclassified")
    for key in Key:
        bar.press(key)
        clock.advance(59 * 60_000 + 59_000)
        bar.tick()
        bar._show_coverage()
        check(key.value)
    bar.end_shift()
    bar.tick()
    check("ended")
    # Every problem the bar may show, and every sync state (the coverage chip beside it).
    from app.desk.desk import DeskProblem
    from app.journal import JournalError
    from app.sync.worker import SyncStatus

    bar.desk.account = Account("http://127.0.0.1:9", "marie")
    for coverage in ({"Assurance Auto": {"production": 14, "present": 28}}, {}):
        bar.desk.coverage = coverage  # type: ignore[assignment]
        for state in ("synced", "waiting", "offline", "signed_out", "refused"):
            bar.set_sync_status(SyncStatus(state, 12, 0, clock.now_ms(), detail="x"))
            bar._show_coverage()
            check(f"{state}, coverage {bool(coverage)}")
    bar.set_sync_status(SyncStatus("waiting", 0, 3))
    check("problems")
    error = JournalError("database or disk is full")
    for code in (
        "invalid",
        "not_recorded",
        "not_switched",
        "journal_repaired",
        "settings",
        "sign_in_again",
        "sign_out",
        "export",
    ):
        bar.desk.set_problem(DeskProblem(code, "x", error=error))
        check(code)
    bar.desk.account = None


def test_the_settings_dialog_docks_the_bar_and_lets_it_float_again(
    qtbot: QtBot, journal: Journal, clock: FakeClock, tmp_path: Path, translations: Translations
) -> None:
    """Offscreen has no window manager to reserve a strip (test_x11.py does it for real):
    here, where the bar goes, what is saved, and that a docked bar is not dragged away."""
    config = tmp_path / "bandeau.toml"
    widget = make_bar(qtbot, journal, clock, config_file=config, translations=translations)
    widget.place()
    floating = widget.pos()
    screen = widget.screen().geometry()
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton, pos=widget.grip.geometry().center())
    assert widget._drag_offset is not None  # floating, the grip drags it
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, pos=widget.grip.geometry().center())
    dialog = widget.show_settings()
    assert dialog is not None
    dialog.dock.setCurrentIndex(dialog.dock.findData("bottom"))
    dialog.accept()
    assert load_settings(config, environ={}).text("bar.dock") == "bottom"
    assert widget.docker.docked and widget.isVisible()
    assert widget.y() == screen.y() + screen.height() - widget.height()
    assert widget.docker.strip is not None and widget.docker.strip.width == screen.width()
    assert not widget.docker.reserved  # nothing to reserve it from, offscreen
    widget.move(widget.x(), 10)  # the window system (or a drag) moves it: it goes back
    assert widget.y() == screen.y() + screen.height() - widget.height()
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton, pos=widget.grip.geometry().center())
    assert widget._drag_offset is None  # no drag starts on a docked bar
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, pos=widget.grip.geometry().center())
    widget.apply_settings({"bar.dock": "top"})
    assert widget.y() == screen.y()
    widget.apply_settings({"bar.dock": "off"})
    assert not widget.docker.docked and widget.docker.strip is None
    assert widget.pos() == floating  # back where it floated
    widget.stop()
