"""The agent's bar: three status keys, time in status, activity, sync state, menu.

A view of the desk (app.desk): what a click means is decided there; the bar shows the new
state once the desk says the event is on disk. It never touches the journal, the network
or the keyring.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDateTime, QEvent, QPoint, QRect, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QContextMenuEvent,
    QGuiApplication,
    QKeySequence,
    QMouseEvent,
    QMoveEvent,
    QShortcut,
)
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QMenu,
    QMessageBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.config import Settings
from app.domain.durations import format_duration
from app.domain.events import Key
from app.domain.placement import DOCK_EDGES, Rect, beside, place_bar
from app.ui import wording
from app.ui.i18n import Translations, choose_language, current_language
from app.ui.keybutton import KeyButton
from app.ui.theme import KEY_STYLES, tinted_pixmap

if TYPE_CHECKING:
    from app.desk.desk import Change, Desk, DeskProblem, Notice, SyncStatus
    from app.domain.totals import Totals
    from app.recording import Outcome, Recorder
    from app.ui.dayview import DayDialog
    from app.ui.dialogs import NoteDialog, SettingsDialog
    from app.ui.panel import Panel
    from app.ui.signin import AccountControl

log = logging.getLogger(__name__)

BAR_WIDTH = 440
BAR_HEIGHT = 72
TICK_MS = 250  # the display is recomputed from the clocks each tick; ticks are never counted
PLACE_FILE = "window.json"
MENU_BUTTON_PX = 22
SETTLE_MS = 2000  # how long after it is placed the bar undoes moves it did not ask for
_SHORTCUTS = {Key.PRODUCTION: "Ctrl+1", Key.PAUSE: "Ctrl+2", Key.OFF: "Ctrl+3"}


def duration_markup(ms: int) -> str:
    """A duration for the bar's big figure: the units smaller than the figures, so that
    "59 min 59" fits beside the status name."""
    return re.sub(r"([a-z]+)", r"<span style='font-size:11px'>\1</span>", format_duration(ms))


class Bar(QWidget):
    """The bar window: a view of one desk.

    Signals:
        state_changed: an event was committed and the bar shows the new state.
        problem_changed(str): the problem line changed ("" when cleared).
        quit_confirmed: the agent chose to quit (after deciding about the shift).
        account_changed: the bar signed in or out.
        month_exported(str): the agent's month was written to this path.
        my_data_saved(str): all of the agent's data from the store was written to this path.
        corrected(object): a correction the agent just made (its row).
    """

    state_changed = Signal()
    problem_changed = Signal(str)
    quit_confirmed = Signal()
    account_changed = Signal()
    month_exported = Signal(str)
    my_data_saved = Signal(str)
    corrected = Signal(object)
    settings_applied = Signal(dict)

    def __init__(
        self,
        desk: Desk | None,
        settings: Settings,
        *,
        config_file: Path | None = None,
        place_file: Path | None = None,
        translations: Translations | None = None,
        parent: QWidget | None = None,
    ) -> None:
        """`desk` may come later (attach): the bar shows at once while the journal opens."""
        super().__init__(parent)
        self.ready = False
        self.settings = settings
        self.place_file = place_file
        self.config_file = config_file
        self.setObjectName("Bar")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setAttribute(Qt.WidgetAttribute.WA_MacAlwaysShowToolWindow, True)
        # Appearing must not take the keyboard from the softphone or the CRM.
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating, True)
        from app.ui.dock import Docker  # noqa: PLC0415

        self.docker = Docker(self, on_problem=self._dock_problem)
        self.docker.edge = settings.text("bar.dock")
        self._apply_window_flags(settings.flag("ui.always_on_top"))
        self.setFixedSize(BAR_WIDTH, BAR_HEIGHT)
        self._problem_text = ""
        self._problem_detail = ""
        self._drag_offset: QPoint | None = None
        self._dialogs: list[QWidget] = []
        self.translations = translations
        self._problem_transient = False
        self._stopped = False

        self.grip = QLabel()
        self.grip.setObjectName("Grip")
        self.grip.setPixmap(tinted_pixmap("grip.svg", "#90a4ae", 24, self.devicePixelRatioF()))
        self.grip.setFixedWidth(12)
        self.grip.setCursor(Qt.CursorShape.SizeAllCursor)

        self.keys: dict[Key, KeyButton] = {}
        for key in Key:
            button = KeyButton(key)
            button.clicked.connect(lambda _checked=False, k=key: self.press(k))
            button.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
            button.customContextMenuRequested.connect(
                lambda pos, k=key: self._key_menu(k, self.keys[k].mapToGlobal(pos))
            )
            self.keys[key] = button
            shortcut = QShortcut(QKeySequence(_SHORTCUTS[key]), self)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(lambda k=key: self.press(k))

        self.time_label = QLabel()
        self.time_label.setObjectName("TimeInStatus")
        self.time_label.setTextFormat(Qt.TextFormat.RichText)
        self.status_label = QLabel()
        self.status_label.setObjectName("StatusName")
        self.status_label.setMinimumWidth(40)
        self.status_name = ""
        self.coverage_label = QLabel()
        self.coverage_label.setObjectName("Coverage")
        self.coverage_label.hide()
        self._panel: Panel | None = None
        self.activity = QComboBox()
        self.activity.setObjectName("Activity")
        self.activity.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.activity.activated.connect(self._on_activity_chosen)
        self.sync_label = QLabel()
        self.sync_label.setObjectName("SyncState")
        self._sync_text = ""  # the sync state in words (the label may show its sign alone)
        self.problem_label = QLabel()
        self.problem_label.setObjectName("Problem")
        self.problem_label.hide()
        self.problem_label.setCursor(Qt.CursorShape.PointingHandCursor)
        self.problem_label.installEventFilter(self)
        self.menu_button = QToolButton()
        self.menu_button.setObjectName("MenuButton")
        self.menu_button.setText("☰")
        self.menu_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.menu_button.setFixedWidth(MENU_BUTTON_PX)  # no room kept for an arrow: ☰ says it

        self._build_actions()
        self.menu_button.setMenu(self.menu)

        top = QHBoxLayout()
        top.setSpacing(4)
        top.addWidget(self.time_label)
        top.addWidget(self.status_label, 1)
        bottom = QHBoxLayout()
        bottom.setSpacing(4)
        bottom.addWidget(self.sync_label, 1)
        bottom.addWidget(self.coverage_label)
        bottom.addWidget(self.problem_label, 1)
        bottom.addWidget(self.menu_button)
        side = QVBoxLayout()
        side.setSpacing(1)
        side.addLayout(top)
        side.addWidget(self.activity)
        side.addLayout(bottom)
        row = QHBoxLayout(self)
        row.setContentsMargins(4, 5, 6, 5)
        row.setSpacing(4)
        row.addWidget(self.grip)
        for button in self.keys.values():
            row.addWidget(button)
        row.addLayout(side, 1)

        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self.tick)
        self._place_read: tuple[int, int] | None = None  # the saved place, as place() read it
        self._save_position = QTimer(self)
        self._save_position.setSingleShot(True)
        self._save_position.setInterval(500)
        self._save_position.timeout.connect(self._store_position)
        # Right after it is placed and shown, a move the agent did not make is undone.
        self._placed: tuple[int, int] | None = None
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(SETTLE_MS)
        self._settle.timeout.connect(self._settled)

        # Room for "59 min 59" while a shift runs, so the layout does not jump as the figures
        # change; none when there is no time to show (the status name then has the room).
        self.time_label.ensurePolished()
        self._time_room = self.time_label.fontMetrics().horizontalAdvance("59 m 59")
        self.time_label.setMinimumWidth(self._time_room)
        self.retranslate()
        if desk is not None:
            self.attach(desk)
        else:
            for button in self.keys.values():
                button.setEnabled(False)
            self.activity.setEnabled(False)
            self.time_label.setText("–")

    def attach(self, desk: Desk) -> None:
        """Start showing and driving this desk's shift (once its journal is open)."""
        from app.ui.signin import AccountControl  # noqa: PLC0415

        self.desk = desk
        self.accounts: AccountControl = AccountControl(desk, self, place=self.open_beside)
        self.accounts.changed.connect(self.account_changed)
        self.ready = True
        desk.add_view(self)
        self._fill_activities()
        for button in self.keys.values():
            button.setEnabled(True)
        self.retranslate()
        self._timer.start()

    @property
    def recorder(self) -> Recorder:
        """The desk's recorder (read only: the bar shows its state)."""
        return self.desk.recorder

    def _fill_activities(self) -> None:
        self.activity.clear()
        self.activity.addItems(self.recorder.activities)
        self.activity.setEnabled(True)

    # -- what the desk says ----------------------------------------------------------------

    def desk_changed(self, what: Change) -> None:
        if what == "shift":
            shown = [self.activity.itemText(i) for i in range(self.activity.count())]
            if shown != self.recorder.activities:  # a sign-in or out brings other activities
                self._fill_activities()
            self.refresh()
            self._update_actions()
            self.state_changed.emit()
        elif what == "sync":
            self._show_sync()
        elif what == "account":
            if not self.desk.syncing and self._panel is not None:
                self._panel.close()
                self._panel.stop()
                self._panel = None
            self._update_actions()
        elif what == "coverage":
            self._show_coverage()
        elif what == "fixes":
            self._update_times()
        elif what == "looks":
            self._apply_key_looks()
        elif what == "problem":
            self._show_problem(self.desk.problem)

    def desk_notice(self, notice: Notice) -> None:
        if notice.kind == "show":
            self.bring_forward()
        elif notice.kind == "correction_kept":
            self._tell(
                QMessageBox.Icon.Information,
                self.tr(
                    "The server cannot be reached: your correction is kept on this computer, "
                    "counted already, and will be sent by itself when the server is back."
                ),
            )
        elif notice.kind == "correction_refused":
            params = notice.params
            given = params.get("params")
            why = wording.problem(
                str(params.get("code") or ""),
                given if isinstance(given, dict) else {},
                str(params.get("english") or ""),
            )
            text = self.tr("A correction made while offline was refused by the server: %1")
            self._tell(QMessageBox.Icon.Warning, text.replace("%1", why))
        elif notice.kind == "month_exported":
            self.month_exported.emit(str(notice.params.get("path", "")))
        elif notice.kind == "my_data_saved":
            path = str(notice.params.get("path", ""))
            self._tell(
                QMessageBox.Icon.Information,
                self.tr("All your data from the store is in %1.").replace("%1", path),
            )
            self.my_data_saved.emit(path)

    # -- window --------------------------------------------------------------------------

    def _apply_window_flags(self, on_top: bool) -> None:
        flags = Qt.WindowType.Tool | Qt.WindowType.FramelessWindowHint
        if on_top:
            flags |= Qt.WindowType.WindowStaysOnTopHint
        visible = self.isVisible()
        self.setWindowFlags(flags)
        if self.docker.docked:
            self.docker.before_show()  # Qt wrote its window type: a dock's goes back on
        if visible:
            self.show()

    def place(self) -> None:
        """Go to the saved place if a screen still shows it, else to a safe corner; docked,
        to the edge of that screen (the saved place kept for when it floats again)."""
        saved = load_place(self.place_file) if self.place_file is not None else None
        screens = [self._rect(s.availableGeometry()) for s in self._screens()]
        x, y = place_bar(saved, (self.width(), self.height()), screens)
        self._place_read = saved
        self.move(x, y)
        if self.docker.docked:
            if not self.isVisible():
                self.docker.before_show()
            self.docker.redock()
            position = self.docker.position
            if position is not None:
                x, y = position.x, position.y
        self._placed = (x, y)
        self._settle.start()

    def set_dock(self, edge: str) -> None:
        """Dock the bar at "top" or "bottom" of its screen, or let it float ("off")."""
        was_docked, visible = self.docker.docked, self.isVisible()
        changes_type = was_docked != (edge in DOCK_EDGES)
        if changes_type and visible:
            self.hide()  # moved and retyped while unmapped: window managers read it at map
        self.docker.set_edge(edge)
        if was_docked and not self.docker.docked:
            self.place()  # back to where the agent had put it
        elif self.docker.position is not None:
            self._placed = (self.docker.position.x, self.docker.position.y)
        if changes_type and visible:
            self.show()

    def _dock_problem(self, text: str) -> None:
        if self.ready:
            from app.desk.desk import DeskProblem  # noqa: PLC0415

            self.desk.set_problem(DeskProblem("dock", text, {"error": text}, transient=True))
        else:
            log.warning("dock: %s", text)

    @staticmethod
    def _screens() -> list[Any]:
        primary = QGuiApplication.primaryScreen()
        others = [s for s in QGuiApplication.screens() if s is not primary]
        return ([primary] if primary is not None else []) + others

    @staticmethod
    def _rect(r: QRect) -> Rect:
        return Rect(r.x(), r.y(), r.width(), r.height())

    def _store_position(self) -> None:
        if self.place_file is not None:
            save_place(self.place_file, (self.x(), self.y()))

    def moveEvent(self, event: QMoveEvent) -> None:
        super().moveEvent(event)
        docked_at = self.docker.position if self.docker.docked else None
        if docked_at is not None:
            if (self.x(), self.y()) != (docked_at.x, docked_at.y):
                self.move(docked_at.x, docked_at.y)  # a dock does not wander
            return
        placed = self._placed
        if placed is not None and (self.x(), self.y()) != placed:
            # The window system put the bar elsewhere as it appeared (openbox does: at 0,0):
            # back where it was placed, and that corner is not remembered as the agent's.
            self.move(*placed)
            return
        if self.isVisible():
            self._save_position.start()

    def _settled(self) -> None:
        self._placed = None
        # Put elsewhere than its saved place (that screen is gone) and not moved since: the
        # move events came while it was not yet shown, so that place is kept here.
        floating = self.isVisible() and not self.docker.docked
        if floating and (self.x(), self.y()) != self._place_read:
            self._store_position()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and not self.docker.docked:
            self._placed = None  # the agent moves it now
            handle = self.windowHandle()
            if handle is not None and handle.startSystemMove():
                return
            self._drag_offset = event.globalPosition().toPoint() - self.pos()
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._drag_offset is not None and event.buttons() & Qt.MouseButton.LeftButton:
            self.move(event.globalPosition().toPoint() - self._drag_offset)
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._drag_offset = None
        super().mouseReleaseEvent(event)

    if sys.platform == "win32":  # a docked bar's notifications come as window messages

        def nativeEvent(self, event_type: Any, message: Any) -> Any:
            if bytes(event_type) == b"windows_generic_MSG" and self.docker.on_native_message(
                message
            ):
                return True, 0
            return super().nativeEvent(event_type, message)

    def bring_forward(self) -> None:
        self.show()
        self.raise_()
        self.activateWindow()

    # -- actions and menus ----------------------------------------------------------------

    def _build_actions(self) -> None:
        self.show_action = QAction(self)
        self.show_action.triggered.connect(self.toggle_visible)
        self.day_action = QAction(self)
        self.day_action.triggered.connect(self.show_day)
        self.end_action = QAction(self)
        self.end_action.triggered.connect(self.end_shift)
        self.settings_action = QAction(self)
        self.settings_action.triggered.connect(self.show_settings)
        self.account_action = QAction(self)
        self.account_action.triggered.connect(self._account_action)
        self.panel_action = QAction(self)
        self.panel_action.triggered.connect(self.show_panel)
        self.month_action = QAction(self)
        self.month_action.triggered.connect(self.ask_month_export)
        self.data_action = QAction(self)
        self.data_action.triggered.connect(self.ask_my_data)
        self.password_action = QAction(self)
        self.password_action.triggered.connect(self.change_password)
        self.quit_action = QAction(self)
        self.quit_action.triggered.connect(self.request_quit)
        self.menu = QMenu(self)
        self.menu.addAction(self.show_action)
        self.menu.addAction(self.day_action)
        self.menu.addAction(self.month_action)
        self.menu.addAction(self.data_action)
        self.menu.addAction(self.panel_action)
        self.menu.addAction(self.end_action)
        self.menu.addSeparator()
        self.menu.addAction(self.settings_action)
        self.menu.addAction(self.password_action)
        self.menu.addAction(self.account_action)
        self.menu.addSeparator()
        self.menu.addAction(self.quit_action)
        self.menu.aboutToShow.connect(self._update_actions)

    def _update_actions(self) -> None:
        self.show_action.setText(
            self.tr("Hide the bar") if self.isVisible() else self.tr("Show the bar")
        )
        syncing = self.ready and self.desk.syncing
        self.end_action.setEnabled(self.ready and self.recorder.state.open)
        self.day_action.setEnabled(self.ready)
        self.account_action.setEnabled(self.ready)
        self.panel_action.setText(self.tr("Plateau panel"))
        self.panel_action.setVisible(self.is_lead())
        self.month_action.setText(self.tr("Export my month…"))
        self.month_action.setVisible(syncing)
        self.data_action.setText(self.tr("Download all my data…"))
        self.data_action.setVisible(syncing)
        self.password_action.setText(self.tr("Change my password…"))
        self.password_action.setVisible(syncing)
        if syncing:
            self.account_action.setText(self.tr("Sign out (%1)").replace("%1", self.recorder.agent))
        else:
            self.account_action.setText(self.tr("Sign in…"))

    def ask_month_export(self) -> None:
        """The agent's own figures this month, day by day, as CSV (their data, GDPR)."""
        from PySide6.QtWidgets import QFileDialog  # noqa: PLC0415

        first, _last = self.desk.month()
        suggested = Path.home() / f"bandeau-{self.recorder.agent}-{first:%Y-%m}.csv"
        path, _filter = QFileDialog.getSaveFileName(
            self, self.tr("Export my month"), str(suggested), self.tr("CSV files (*.csv)")
        )
        if path:
            self.export_month(Path(path))

    def change_password(self) -> None:
        self.accounts.show_change_password()

    def ask_my_data(self) -> None:
        """Everything the store holds about the agent, as JSON (their right of access)."""
        from PySide6.QtWidgets import QFileDialog  # noqa: PLC0415

        suggested = Path.home() / f"bandeau-{self.recorder.agent}-data.json"
        path, _filter = QFileDialog.getSaveFileName(
            self, self.tr("Download all my data"), str(suggested), self.tr("JSON files (*.json)")
        )
        if path:
            self.desk.save_my_data(Path(path))

    def export_month(self, path: Path) -> bool:
        """Write this month's report (by day) to `path` (the desk does it off this thread;
        `month_exported` says when it is written)."""
        return self.desk.export_month(path, lang=current_language())

    def is_lead(self) -> bool:
        """Signed in as a lead (or an admin): the panel is theirs to open."""
        return self.ready and self.desk.is_lead()

    def show_panel(self) -> Panel | None:
        """The live panel of the lead's plateaux, next to their own bar."""
        from app.ui.panel import Panel  # noqa: PLC0415

        session = self.desk.session if self.is_lead() else None
        if session is None:
            return None
        if self._panel is None or not self._panel.isVisible():
            if self._panel is not None:
                self._panel.stop()
            self._panel = Panel(self.recorder.clock)
            self._panel.connect_stream(*session)
        self._panel.show()
        self._panel.raise_()
        return self._panel

    # -- coverage: how many colleagues are in production on my activity -------------------

    def today(self) -> Totals:
        """Today's time per key, as the reports count it (corrections applied)."""
        return self.desk.today()

    def _show_coverage(self) -> None:
        activity = self.recorder.state.activity if self.ready else None
        here = self.desk.coverage.get(activity or "") if self.ready else None
        if not here or self.problem_label.isVisibleTo(self):  # a problem takes the room
            self.coverage_label.hide()
            self._fit_sync_text()
            return
        # Said on the chip itself, briefly: colleagues in production of those on shift.
        text = (
            self.tr("%1/%2 in prod.")
            .replace("%1", str(here["production"]))
            .replace("%2", str(here["present"]))
        )
        self.coverage_label.setText(text)
        tip = self.tr("%1 of the %2 colleagues on shift on %3 are in production right now")
        self.coverage_label.setToolTip(
            tip.replace("%1", str(here["production"]))
            .replace("%2", str(here["present"]))
            .replace("%3", activity or "")
        )
        self.coverage_label.setAccessibleName(self.coverage_label.toolTip())
        self.coverage_label.show()
        self._fit_sync_text()

    def _set_sync_text(self, text: str) -> None:
        self._sync_text = text
        self._fit_sync_text()

    def _fit_sync_text(self) -> None:
        """The sync state in words, or by its sign alone (✓, ⏳, ○, ⚠) when the coverage
        chip shares its row: the bar is narrow, and nothing on it is cut (the words stay in
        the tooltip and the accessible name)."""
        text = self._sync_text
        compact = self.coverage_label.isVisibleTo(self) and " " in text
        self.sync_label.setText(text.split(" ", 1)[0] if compact else text)
        self.sync_label.setAccessibleName(text)

    def _account_action(self) -> None:
        if self.desk.syncing:
            self.accounts.ask_sign_out()
        else:
            self.accounts.show_sign_in()

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        self._update_actions()
        self.menu.popup(event.globalPos())

    def _key_menu(self, key: Key, at: QPoint) -> None:
        menu = QMenu(self)
        note = menu.addAction(self.tr("%1 with a note…").replace("%1", self.key_label(key)))
        note.triggered.connect(lambda: self.ask_note(key))
        menu.addSeparator()
        self._update_actions()
        for action in self.menu.actions():
            menu.addAction(action)
        menu.popup(at)

    def toggle_visible(self) -> None:
        if self.isVisible():
            self.hide()
        else:
            self.bring_forward()

    def ask_note(self, key: Key) -> NoteDialog:
        from app.ui.dialogs import NoteDialog  # noqa: PLC0415 - not needed to paint the bar

        dialog = NoteDialog(self.key_label(key), self)
        dialog.note_given.connect(lambda text: self.press(key, text))
        self.open_beside(dialog)
        return dialog

    def show_day(self) -> DayDialog:
        """My day: the same view a lead opens from the panel, from this journal's events."""
        from app.ui.dayview import DayDialog, offer_corrections  # noqa: PLC0415

        dialog = DayDialog(self)
        now, day = self._show_day(dialog)
        if self.desk.session is not None:
            offer_corrections(
                dialog,
                agent=self.recorder.agent,
                send=self.desk.correct,
                now_ms=now,
                day=day,
                labels=self.key_labels(),
                zone=self.recorder.clock.zone(),
                on_done=lambda row: self._corrected_here(row, dialog),
            )
        self.open_beside(dialog)
        return dialog

    def _tell(self, icon: QMessageBox.Icon, text: str) -> None:
        """A message that does not block the bar (the agent reads it when they can)."""
        box = QMessageBox(icon, "Bandeau", text, QMessageBox.StandardButton.Ok, self)
        self.keep_dialog(box)
        box.open()

    def _corrected_here(self, row: dict[str, Any], dialog: DayDialog) -> None:
        """A correction the agent just made (the desk counts it already)."""
        if dialog.isVisible():
            self._show_day(dialog)
        self.corrected.emit(row)

    def _show_day(self, dialog: DayDialog) -> tuple[int, tuple[int, int]]:
        """Fill the day view from this journal, corrections applied, in the store's time (as
        the lead sees it); (now, the day)."""
        now, day, events, fixes = self.desk.day()
        dialog.show_day(
            events,
            day=day,
            now_ms=now,
            labels=self.key_labels(),
            colours={key: look.colour for key, look in self.desk.key_looks().items()},
            zone=self.recorder.clock.zone(),
            corrections=fixes,
        )
        return now, day

    def show_settings(self) -> SettingsDialog | None:
        if self.config_file is None:
            return None
        from app.ui.dialogs import SettingsDialog  # noqa: PLC0415

        dialog = SettingsDialog(self.config_file, self.settings.values, self)
        dialog.saved.connect(self.apply_settings)
        self.open_beside(dialog)
        return dialog

    def apply_settings(self, values: dict[str, object]) -> None:
        for name, value in values.items():
            self.settings.values[name] = value
        if "ui.always_on_top" in values:
            self._apply_window_flags(bool(values["ui.always_on_top"]))
        dock = values.get("bar.dock")
        if isinstance(dock, str) and dock != self.docker.edge:
            self.set_dock(dock)
        language = values.get("ui.language")
        if isinstance(language, str) and self.translations is not None:
            self.translations.apply(choose_language(language))
        self.refresh()
        self.settings_applied.emit(values)

    def keep_dialog(self, dialog: QWidget) -> None:
        self._dialogs = [d for d in self._dialogs if d.isVisible()]
        self._dialogs.append(dialog)

    def open_beside(self, dialog: QDialog) -> None:
        """Open a dialog of the bar next to it (below, or above when there is no room
        below), never over its keys: the agent still sees, and can press, them."""
        self.keep_dialog(dialog)
        dialog.adjustSize()
        size = (dialog.width(), dialog.height())
        screen = self.screen().availableGeometry()
        x, y = beside(
            Rect(self.x(), self.y(), self.width(), self.height()), size, self._rect(screen)
        )
        dialog.move(x, y)
        dialog.open()

    # -- what the agent does ---------------------------------------------------------------

    def press(self, key: Key, note: str | None = None) -> Outcome | None:
        """Press a key: the bar changes only once the event is on disk. None on failure
        (the desk's problem says why, and the bar shows it)."""
        return self.desk.press(key, note) if self.ready else None

    def switch_activity(self, activity: str) -> Outcome | None:
        return self.desk.switch_activity(activity) if self.ready else None

    def _on_activity_chosen(self, index: int) -> None:
        self.switch_activity(self.activity.itemText(index))

    def end_shift(self) -> Outcome | None:
        return self.desk.end_shift() if self.ready else None

    def request_quit(self) -> None:
        """Quit, asking first whether the shift ends."""
        if self.ready and self.recorder.state.open:
            choice = self.ask_end_shift()
            if choice == "cancel":
                return
            if choice == "end" and self.end_shift() is None:
                return  # the end could not be recorded: stay, the problem is shown
        self.quit_confirmed.emit()

    def ask_end_shift(self) -> str:
        """ "end", "keep" or "cancel" (a dialog; tests replace this method)."""
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(self.tr("Quit Bandeau"))
        box.setText(self.tr("Is your shift over?"))
        box.setInformativeText(
            self.tr(
                "Choose “End my shift” if you are leaving. Choose “Keep it open” if you "
                "only restart the computer."
            )
        )
        end = box.addButton(self.tr("End my shift"), QMessageBox.ButtonRole.YesRole)
        keep = box.addButton(self.tr("Keep it open"), QMessageBox.ButtonRole.NoRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(end)
        box.exec()
        clicked = box.clickedButton()
        return "end" if clicked is end else "keep" if clicked is keep else "cancel"

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._stopped:
            event.accept()
            return
        # Alt+F4 and the window manager's close go through the same question as "Quit".
        event.ignore()
        self.request_quit()

    # -- display ---------------------------------------------------------------------------

    def key_label(self, key: Key) -> str:
        return self.key_labels()[key]

    def key_labels(self) -> dict[Key, str]:
        """The plateau's own labels where it has changed them; ours (translated) else."""
        labels = {
            Key.PRODUCTION: self.tr("Production"),
            Key.PAUSE: self.tr("Pause"),
            Key.OFF: self.tr("Off production"),
        }
        if self.ready:
            labels.update(self.desk.custom_labels())
        return labels

    def _apply_key_looks(self) -> None:
        looks = self.desk.key_looks() if self.ready else {}
        for key, button in self.keys.items():
            button.set_colour(looks[key].colour if key in looks else KEY_STYLES[key].colour)
        self.retranslate()

    def retranslate(self) -> None:
        labels = self.key_labels()
        descriptions = {
            Key.PRODUCTION: self.tr("On the phones: available, in a call, wrap-up"),
            Key.PAUSE: self.tr("A break"),
            Key.OFF: self.tr("Off-phone work: training, debriefing, coaching, meeting, admin"),
        }
        for key, button in self.keys.items():
            button.set_label(labels[key])
            button.setAccessibleName(labels[key])
            button.setAccessibleDescription(descriptions[key])
            button.setToolTip(
                f"<b>{labels[key]}</b><br>{descriptions[key]}<br>"
                + self.tr("Shortcut: %1 — right-click to add a note").replace("%1", _SHORTCUTS[key])
            )
        self.setWindowTitle("Bandeau")
        self.grip.setToolTip(self.tr("Drag to move the bar"))
        self.grip.setAccessibleName(self.tr("Move the bar"))
        self.activity.setToolTip(self.tr("Activity you are working on"))
        self.activity.setAccessibleName(self.tr("Activity"))
        self.menu_button.setToolTip(self.tr("Menu"))
        self.menu_button.setAccessibleName(self.tr("Menu"))
        self.day_action.setText(self.tr("My day"))
        self.end_action.setText(self.tr("End of shift"))
        self.settings_action.setText(self.tr("Settings…"))
        self.quit_action.setText(self.tr("Quit"))
        self._show_sync()
        self._update_actions()
        self.refresh()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def refresh(self) -> None:
        """Show the recorder's state: keys, time in status, activity, totals."""
        if not self.ready:
            self.status_name = self.tr("Opening the journal…")
            self.status_label.setText(self.status_name)
            return
        state = self.recorder.state
        for key, button in self.keys.items():
            button.set_active(state.open and state.key is key)
        if not state.open:
            status = self.tr("Shift ended")
        elif state.key is None:
            status = self.tr("Unclassified")
        else:
            status = self.key_label(state.key)
        self.status_name = status
        # A current key says its own name (filled, bold, ticked): the label beside the time
        # names the states no key shows, and leaves the room to the time otherwise.
        shown = "" if state.open and state.key is not None else status
        self.status_label.setAccessibleName(status)
        if state.activity and self.activity.currentText() != state.activity:
            index = self.activity.findText(state.activity)
            if index < 0:
                self.activity.addItem(state.activity)
                index = self.activity.count() - 1
            self.activity.setCurrentIndex(index)
        self._update_times()
        if shown:
            # The time's room is settled now (none once the shift ended): the name gets the
            # rest. (A click on a key shows no name: no layout pass on the click path.)
            layout = self.layout()
            if layout is not None:
                layout.activate()
            room = max(self.status_label.width(), 40)
            shown = self.status_label.fontMetrics().elidedText(
                shown, Qt.TextElideMode.ElideRight, room
            )
        self.status_label.setText(shown)
        self._show_coverage()

    def _update_times(self) -> None:
        if not self.ready:
            return
        state = self.recorder.state
        text = duration_markup(self.recorder.elapsed_ms()) if state.open else "–"
        if self.time_label.text() != text:
            self.time_label.setText(text)
            self.time_label.setMinimumWidth(self._time_room if state.open else 0)
        today = self.today()
        show = self.settings.flag("ui.show_totals")
        for key, button in self.keys.items():
            button.set_total(format_duration(today.by_key[key]) if show else "")
        summary = " · ".join(f"{self.key_label(k)} {format_duration(today.by_key[k])}" for k in Key)
        tip = self.tr("Today: %1").replace("%1", summary)
        if self.time_label.toolTip() != tip:
            self.time_label.setToolTip(tip)
            self.status_label.setToolTip(tip)

    def tick(self) -> None:
        """Recompute what time shows (never counts ticks); the desk watches the wall clock."""
        if not self.ready:
            return
        self.desk.tick()
        self._update_times()

    # -- sync state -------------------------------------------------------------------------

    def _show_sync(self) -> None:
        status = self.desk.sync_to_show if self.ready else None
        if status is not None:
            self.set_sync_status(status)
        else:
            self.show_local_only()

    def show_local_only(self) -> None:
        self._set_sync_text(self.tr("● Local only"))
        self.sync_label.setToolTip(
            self.tr("No central server is configured: your events are kept on this computer.")
        )

    def set_sync_status(self, status: SyncStatus) -> None:
        """Show where the events stand: synced, waiting, offline since, problems."""
        if not (self.ready and self.desk.account is not None):
            return  # a report queued before a sign-out: the bar is local-only now
        if status.state == "signed_out":
            text = self.tr("⚠ Signed out")
            tip = self.tr(
                "The server no longer accepts this sign-in: sign in again. Your "
                "events are kept on this computer until then."
            )
        elif status.state == "refused":
            text = self.tr("⚠ Refused")
            tip = self.tr(
                "The server refuses what this bar sends (%1). Your events are kept on "
                "this computer; tell IT."
            ).replace("%1", status.detail)
        elif status.problems:
            text = self.tr("⚠ %n problem(s)", "", status.problems)
            tip = self.tr(
                "Some events were refused by the server; they are kept. See "
                "`bandeau journal problems`."
            )
        elif status.state == "offline":
            since = status.offline_since_ms or self.recorder.clock.now_ms()
            clock_time = QDateTime.fromMSecsSinceEpoch(since).toString("HH:mm")
            # Short on the bar (it is small), whole in the tooltip.
            text = self.tr("○ Offline since %1").replace("%1", clock_time)
            tip = (
                self.tr("Offline since %1.").replace("%1", clock_time)
                + " "
                + self.tr(
                    "The server cannot be reached; %n event(s) wait on this computer "
                    "and will be sent by themselves.",
                    "",
                    status.pending,
                )
            )
        elif status.pending:
            text = self.tr("⏳ %n waiting", "", status.pending)
            tip = text
        else:
            text = self.tr("✓ Synced")
            tip = self.tr("Every event is on the server.")
        self._set_sync_text(text)
        self.sync_label.setToolTip(tip)

    # -- problems --------------------------------------------------------------------------

    def _show_problem(self, problem: DeskProblem | None) -> None:
        """The desk's problem, in the agent's language."""
        if problem is None:
            self.clear_problem()
            return
        title, detail = self._problem_words(problem)
        self.show_problem(title, detail, alert=problem.alert, transient=problem.transient)

    def _problem_words(self, problem: DeskProblem) -> tuple[str, str]:
        """(the bar's few words, the whole explanation)."""
        error = problem.error
        params = problem.params
        journal = wording.journal_reason(error) if error is not None else problem.english
        if problem.code == "invalid":
            return self.tr("Not recorded"), problem.english
        if problem.code == "not_recorded":
            return self.tr("Not recorded!"), self.tr(
                "Your click was NOT recorded: the journal cannot be written (%1). "
                "The bar still shows your previous status. Tell your team lead or IT."
            ).replace("%1", journal)
        if problem.code == "not_switched":
            return self.tr("Not recorded!"), journal
        if problem.code == "journal_repaired":
            return self.tr("Journal repaired"), (
                self.tr(
                    "Your journal file was damaged (%1). It was kept aside as %2, %3 events "
                    "were recovered from it, and a new journal was started. Please tell IT."
                )
                .replace("%1", str(params.get("reason", "")))
                .replace("%2", str(params.get("moved_to", "")))
                .replace("%3", str(params.get("salvaged", "")))
            )
        if problem.code == "settings":
            found = params.get("problems", ())
            return self.tr("Settings"), "\n".join(wording.setting_problem(p) for p in found)
        if problem.code == "sign_in_again":
            return self.tr("Sign in again"), self.tr(
                "Your events stay on this computer until you sign in again (%1)."
            ).replace("%1", str(params.get("reason", "")))
        if problem.code == "sign_out":
            return self.tr("Sign-out"), journal
        return self.tr("Export"), wording.of(error) if error is not None else problem.english

    def show_problem(
        self, text: str, detail: str = "", *, alert: bool = False, transient: bool = True
    ) -> None:
        """Tell the agent plainly, on the bar itself (and in a dialog when `alert`).

        A transient problem (a click not recorded) clears at the next recorded click; a
        lasting one (a repaired journal, bad settings) stays until the agent reads it.
        """
        log.warning("%s %s", text, detail)
        self._problem_transient = transient
        self._problem_text = text
        self._problem_detail = detail
        self.problem_label.setText("⚠ " + text)
        self.problem_label.setToolTip(detail or text)
        self.sync_label.hide()  # the problem takes the sync state's place until it is cleared
        self.problem_label.show()
        self._show_coverage()
        self.setProperty("problem", True)
        self.style().unpolish(self)
        self.style().polish(self)
        self.problem_changed.emit(text)
        if alert:
            box = QMessageBox(
                QMessageBox.Icon.Warning,
                "Bandeau",
                detail or text,
                QMessageBox.StandardButton.Ok,
                self,
            )
            box.setWindowFlag(Qt.WindowType.WindowStaysOnTopHint, True)
            self.keep_dialog(box)
            box.open()

    def clear_problem(self) -> None:
        self._problem_text = ""
        self._problem_detail = ""
        self.problem_label.hide()
        self.sync_label.show()
        self._show_coverage()
        self.setProperty("problem", False)
        self.style().unpolish(self)
        self.style().polish(self)
        self.problem_changed.emit("")

    @property
    def problem(self) -> str:
        return self._problem_text

    def eventFilter(self, watched: Any, event: QEvent) -> bool:
        if watched is self.problem_label and event.type() == QEvent.Type.MouseButtonRelease:
            box = QMessageBox(
                QMessageBox.Icon.Warning,
                "Bandeau",
                self._problem_detail or self._problem_text,
                QMessageBox.StandardButton.Ok,
                self,
            )
            self.keep_dialog(box)
            box.open()
            if not self._problem_transient:  # read: a lasting notice has done its job
                if self.ready:
                    self.desk.clear_problem()  # the bar follows
                else:
                    self.clear_problem()
            return True
        return super().eventFilter(watched, event)

    def stop(self) -> None:
        """Stop the timers and the desk (its sync, stream and calls in flight), before the
        application quits or a test ends; closing is then plain closing."""
        self._stopped = True
        self._timer.stop()
        self.docker.stop()
        if self.ready:
            self.desk.stop()
            if self._panel is not None:
                self._panel.stop()
        if self._save_position.isActive():
            self._save_position.stop()
            self._store_position()


def load_place(path: Path) -> tuple[int, int] | None:
    """The bar's saved top-left corner, or None (missing or unreadable file: no fuss)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        x, y = data["x"], data["y"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if isinstance(x, int) and isinstance(y, int):
        return x, y
    return None


def save_place(path: Path, pos: tuple[int, int]) -> None:
    """Remember where the agent put the bar (replaced atomically; failures only logged)."""
    try:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps({"x": pos[0], "y": pos[1]}), encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        log.warning("could not save the bar position: %s", exc)
