"""The team lead's live panel: one row per agent of their plateaux, ticking live.

Thin: the rows come from app.domain.live.PlateauLive, fed by the stream (app.sync.stream);
this module shows them, filters and sorts them, and opens a row's day view.
"""

from __future__ import annotations

import html
import logging
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import (
    QAbstractTableModel,
    QDate,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QColor, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QToolButton,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from app.domain.clock import Clock
from app.domain.durations import format_duration
from app.domain.events import DEFAULT_KEY_LOOKS, Key
from app.domain.live import AgentRow, Freshness, Level, PlateauLive, counters
from app.exports import report_rows, save_csv
from app.ui import wording
from app.ui.chart import DailyChart
from app.ui.dayview import DayDialog, correction_sender, offer_corrections
from app.ui.i18n import current_language
from app.ui.theme import KEY_STYLES, UNCLASSIFIED_COLOUR
from app.ui.threads import Background, Done, StreamLink
from app.ui.wallboard import WIDEST_TIME, WallboardView

log = logging.getLogger(__name__)
SORT_ROLE = Qt.ItemDataRole.UserRole
ROW_ROLE = Qt.ItemDataRole.UserRole + 1
COALESCE_MS = 40  # messages arriving together make one refresh
TICK_MS = 1000
OVER_COLOUR = "#ffe0b2"  # amber: a pause over the plateau's threshold
WAY_OVER_COLOUR = "#ffcdd2"  # red: over twice the threshold
# The second cue of a pause over the plateau's threshold (colour-blind leads): one sign over,
# two signs over twice the threshold, before the time in status.
OVER_MARKS = {Level.OVER: "⚠\u00a0", Level.WAY_OVER: "⚠⚠\u00a0"}
_STATUS_ORDER = {"production": 0, "pause": 1, "off": 2, "unclassified": 3, "offline": 4, "ended": 5}

Index = QModelIndex | QPersistentModelIndex
_DISPLAY = Qt.ItemDataRole.DisplayRole
_ACCESSIBLE = Qt.ItemDataRole.AccessibleTextRole
_BACKGROUND = Qt.ItemDataRole.BackgroundRole
_FOREGROUND = Qt.ItemDataRole.ForegroundRole
_DECORATION = Qt.ItemDataRole.DecorationRole
_TOOLTIP = Qt.ItemDataRole.ToolTipRole
_GREY = QColor("#78909c")
_FADED = (Freshness.STALE, Freshness.OFFLINE, Freshness.ENDED)
_FRESH_ORDER = {f: n for n, f in enumerate(Freshness)}


@lru_cache(maxsize=4096)
def _sortable(text: str) -> str:
    """Émilie between Élodie and Farid, not after Zoé: accents do not move a name."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=64)
def _colour(name: str) -> QColor:
    return QColor(name)


_BACKGROUNDS = {Level.OVER: QColor(OVER_COLOUR), Level.WAY_OVER: QColor(WAY_OVER_COLOUR)}


@dataclass(frozen=True, slots=True)
class Prepared:
    """A snapshot read on the stream's thread: the new model, ready to show."""

    model: PlateauLive
    zone: str


@dataclass(slots=True)
class Cells:
    """One row's cells, worked out once per change."""

    texts: list[str]
    sort_keys: list[Any]
    decoration: QColor
    background: QColor | None
    foreground: QColor | None

    @property
    def looks(self) -> tuple[object, ...]:
        return (self.decoration.rgb(), self.background, self.foreground)


class AgentTable(QAbstractTableModel):
    """The rows, as the table shows them."""

    def __init__(self, panel: Panel) -> None:
        super().__init__(panel)
        self.panel = panel
        self.rows: list[AgentRow] = []
        self.cells: list[Cells] = []
        self.sort_column = 0
        self.sort_order = Qt.SortOrder.AscendingOrder
        self.headers = [
            self.tr("Agent"),
            self.tr("Status"),
            self.tr("For"),
            self.tr("Activity"),
            self.tr("Note"),
            self.tr("Link"),
            self.tr("Production"),
            self.tr("Pause"),
            self.tr("Off production"),
            self.tr("Production share"),
        ]

    def set_rows(self, rows: list[AgentRow]) -> None:
        """All the rows (each second). Rows keep their places; then the sort applies."""
        if {r.login for r in rows} != {r.login for r in self.rows}:
            self.beginResetModel()
            self.rows = list(rows)
            self.cells = [self._cells(r) for r in rows]
            self.endResetModel()
            self._reorder()
            return
        place = {r.login: i for i, r in enumerate(self.rows)}
        for row in rows:
            i = place[row.login]
            before, after = self.cells[i], self._cells(row)
            self.rows[i], self.cells[i] = row, after
            # Repaint only what changed: most seconds, that is the time in status alone.
            changed: list[int] = (
                list(range(len(self.headers)))
                if before.looks != after.looks
                else [
                    c
                    for c, (a, b) in enumerate(zip(before.texts, after.texts, strict=True))
                    if a != b
                ]
            )
            if changed:
                self.dataChanged.emit(self.index(i, min(changed)), self.index(i, max(changed)))
        self._reorder()

    def replace_rows(self, rows: list[AgentRow]) -> bool:
        """Update these agents' rows only; False if one of them is not in the table."""
        place = {r.login: i for i, r in enumerate(self.rows)}
        if any(r.login not in place for r in rows):
            return False
        for row in rows:
            i = place[row.login]
            self.rows[i] = row
            self.cells[i] = self._cells(row)
            self.dataChanged.emit(self.index(i, 0), self.index(i, len(self.headers) - 1))
        return True  # the row keeps its place until the next second's sort

    def _cells(self, row: AgentRow) -> Cells:
        # Every cell is worked out once per change, in one pass: the view and the filter ask
        # for them thousands of times a second, and each answer must be a lookup.
        by_key = row.today.by_key
        share = row.production_share
        status = self.panel.status_text(row)
        activity = row.state.activity or ""
        note = row.note or ""
        fresh = self.panel.freshness_text(row)
        since = format_duration(row.time_in_status_ms) if row.state.open else ""
        texts = [
            row.name,
            status,
            # A pause over the threshold says so by a sign too, not by the row's colour alone.
            OVER_MARKS.get(row.level, "") + since if since else "",
            activity,
            note,
            fresh,
            format_duration(by_key[Key.PRODUCTION]),
            format_duration(by_key[Key.PAUSE]),
            format_duration(by_key[Key.OFF]),
            "" if share is None else f"{share:.0%}",
        ]
        sort_keys = [
            _sortable(row.name),
            _STATUS_ORDER[row.status],
            row.time_in_status_ms,
            _sortable(activity),
            _sortable(note),
            _FRESH_ORDER[row.freshness],
            by_key[Key.PRODUCTION],
            by_key[Key.PAUSE],
            by_key[Key.OFF],
            -1.0 if share is None else share,
        ]
        return Cells(
            texts=texts,
            sort_keys=sort_keys,
            decoration=_colour(self.panel.colour(row)),
            background=_BACKGROUNDS.get(row.level),
            foreground=_GREY if row.freshness in _FADED else None,
        )

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.sort_column, self.sort_order = column, order
        self._reorder()

    def _reorder(self) -> None:
        """Put the rows in the sort's order, in Python (a few µs), telling the views only
        when the order changed; selections follow their rows."""
        col = self.sort_column
        if col < 0 or len(self.rows) < 2:
            return
        order = sorted(
            range(len(self.rows)),
            key=lambda i: (self.cells[i].sort_keys[col], self.cells[i].sort_keys[0]),
            reverse=self.sort_order is Qt.SortOrder.DescendingOrder,
        )
        if order == list(range(len(order))):
            return
        self.layoutAboutToBeChanged.emit()
        new_place = {old: new for new, old in enumerate(order)}
        before = self.persistentIndexList()
        after = [
            self.index(new_place[i.row()], i.column()) if i.isValid() else QModelIndex()
            for i in before
        ]
        self.rows = [self.rows[i] for i in order]
        self.cells = [self.cells[i] for i in order]
        self.changePersistentIndexList(before, after)
        self.layoutChanged.emit()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.headers)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation is Qt.Orientation.Horizontal:
            return self.headers[section]
        return None

    def data(self, index: Index, role: int = 0) -> Any:
        # The roles asked most often come first; anything else is answered at once.
        if role in (_DISPLAY, _ACCESSIBLE):
            return self.cells[index.row()].texts[index.column()]
        if role == ROW_ROLE:
            return self.rows[index.row()]
        if role == SORT_ROLE:
            return self.cells[index.row()].sort_keys[index.column()]
        if role == _BACKGROUND:
            return self.cells[index.row()].background
        if role == _FOREGROUND:
            return self.cells[index.row()].foreground
        if role == _DECORATION:
            return self.cells[index.row()].decoration if index.column() == 1 else None
        if role == _TOOLTIP:
            return self.panel.tooltip(self.rows[index.row()])
        return None


class AgentFilter(QSortFilterProxyModel):
    """Activity, status and plateau filters, and a search on the name."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.activity = ""
        self.status = ""
        self.plateau = ""
        self.search = ""
        # Filtering again at every event of a busy plateau would cost more than all the
        # rest: the panel does it once a second, and at once when a filter changes.
        self.setDynamicSortFilter(False)

    def active(self) -> bool:
        return bool(self.activity or self.status or self.plateau or self.search)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sorting is the source's (in Python, cheaply); this proxy only filters."""
        source = self.sourceModel()
        if isinstance(source, AgentTable):
            source.sort(column, order)

    def set(self, **values: str) -> None:
        if hasattr(self, "endFilterChange"):  # Qt ≥ 6.10; invalidateFilter() is deprecated
            self.beginFilterChange()
            for name, value in values.items():
                setattr(self, name, value)
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            for name, value in values.items():
                setattr(self, name, value)
            self.invalidateRowsFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        model = self.sourceModel()
        row: AgentRow = model.data(model.index(source_row, 0, source_parent), ROW_ROLE)
        if self.activity and row.state.activity != self.activity:
            return False
        if self.status and row.status != self.status:
            return False
        if self.plateau and row.plateau != self.plateau:
            return False
        return not self.search or self.search.casefold() in row.name.casefold()


def _as_date(value: QDate) -> date:
    return date(value.year(), value.month(), value.day())


class ExportDialog(QDialog):
    """A period and a grain for the plateau's export.

    Signals:
        chosen(date, date, str): from, to (included), by.
    """

    chosen = Signal(object, object, str)

    def __init__(self, now_ms: int, zone: ZoneInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Export"))
        today = datetime.fromtimestamp(now_ms / 1000, UTC).astimezone(zone).date()
        self.first = QDateEdit(QDate(today.year, today.month, 1))
        self.last = QDateEdit(QDate(today.year, today.month, today.day))
        for edit in (self.first, self.last):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("dd/MM/yyyy")
        self.by = QComboBox()
        for text, value in (
            (self.tr("One line per agent"), "agent"),
            (self.tr("One line per activity"), "activity"),
            (self.tr("One line per day"), "day"),
            (self.tr("Agent × day × activity"), "detail"),
        ):
            self.by.addItem(text, value)
        form = QFormLayout(self)
        form.addRow(self.tr("From"), self.first)
        form.addRow(self.tr("To (included)"), self.last)
        form.addRow(self.tr("Lines"), self.by)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def accept(self) -> None:
        first = _as_date(self.first.date())
        last = _as_date(self.last.date())
        if last < first:
            first, last = last, first
        super().accept()
        self.chosen.emit(first, last, self.by.currentData())


class Panel(QWidget):
    """The live panel window.

    Signals:
        threshold_crossed(str): an agent's pause went over a threshold (the login).
    """

    threshold_crossed = Signal(str)
    exported = Signal(str)
    corrected = Signal(object)

    def __init__(self, clock: Clock, *, title: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.clock = clock
        self.model = PlateauLive()
        self.zone = ZoneInfo("Europe/Paris")
        self.link: StreamLink | None = None
        self.live_state = "connecting"
        self.offline_since_ms: int | None = None
        # "Live" is said once the connection is up *and* its snapshot is shown, not before.
        self._connected = False
        self._snapshot_in = False
        self._levels: dict[str, Level] = {}
        self._dirty: set[str] = set()
        self._label_cache: dict[str, dict[Key, str]] = {}
        self._dialogs: list[QWidget] = []
        self._columns_sized = False
        self._board_logins: set[str] = set()
        self.setObjectName("Panel")
        self.setWindowTitle(title or self.tr("Plateau panel"))
        self.resize(1000, 600)

        self.counter_labels: dict[str, QLabel] = {}
        counters_row = QHBoxLayout()
        for name in ("production", "pause", "off", "unclassified", "offline"):
            label = QLabel()
            label.setObjectName(f"Counter_{name}")
            label.setProperty("counter", True)
            colour = (
                KEY_STYLES[Key(name)].colour
                if name in ("production", "pause", "off")
                else UNCLASSIFIED_COLOUR
                if name == "unclassified"
                else "#37474f"
            )
            label.setStyleSheet(
                f"background: {colour}; color: white; border-radius: 6px; padding: 6px 12px;"
                "font-weight: bold;"
            )
            self.counter_labels[name] = label
            counters_row.addWidget(label, 1)
        self.link_label = QLabel()
        self.link_label.setObjectName("LinkState")
        counters_row.addWidget(self.link_label)

        self.search = QLineEdit()
        self.search.setPlaceholderText(self.tr("Search a name…"))
        self.search.setAccessibleName(self.tr("Search a name"))
        self.search.setClearButtonEnabled(True)
        self.activity_filter = QComboBox()
        self.activity_filter.setAccessibleName(self.tr("Activity filter"))
        self.status_filter = QComboBox()
        self.status_filter.setAccessibleName(self.tr("Status filter"))
        self.plateau_filter = QComboBox()
        self.plateau_filter.setAccessibleName(self.tr("Plateau filter"))
        self.alerts = QCheckBox(self.tr("Alert when a pause goes over the threshold"))
        self.alerts.setChecked(False)  # off by default: a panel must not nag
        self.wallboard_button = QToolButton()
        self.wallboard_button.setText(self.tr("Wallboard"))
        self.wallboard_button.setCheckable(True)
        self.wallboard_button.setToolTip(self.tr("Full screen, large type, for a TV (F11)"))
        self.wallboard_button.toggled.connect(self.set_wallboard)
        wallboard_key = QAction(self)
        wallboard_key.setShortcut(QKeySequence(Qt.Key.Key_F11))
        wallboard_key.triggered.connect(self.wallboard_button.toggle)
        self.addAction(wallboard_key)
        filters = QHBoxLayout()
        filters.addWidget(self.search, 2)
        filters.addWidget(self.activity_filter, 1)
        filters.addWidget(self.status_filter, 1)
        filters.addWidget(self.plateau_filter, 1)
        filters.addWidget(self.alerts)
        filters.addWidget(self.wallboard_button)
        self.export_button = QToolButton()
        self.export_button.setText(self.tr("Export…"))
        self.export_button.setToolTip(self.tr("The plateau's indicators over a period, as CSV"))
        self.export_button.clicked.connect(self.ask_export)
        filters.addWidget(self.export_button)
        self.filters_box = QWidget()
        self.filters_box.setLayout(filters)

        self.table_model = AgentTable(self)
        self.proxy = AgentFilter(self)
        self.proxy.setSourceModel(self.table_model)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        # By name: rows that stay put are easier to follow than rows that jump at each
        # click; a click on "For" sorts by time in status.
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setResizeContentsPrecision(40)  # sizing looks at 40 rows, not all of them
        # Sized to the contents at each snapshot, not at each change: measuring every cell
        # of every row at each tick would hold the UI thread.
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)  # the note
        self.table.setWordWrap(False)
        self.table.setAlternatingRowColors(True)
        self.table.activated.connect(self._open_day)  # Enter or double-click
        self.table.setAccessibleName(self.tr("Agents of the plateau"))

        self.chart = DailyChart()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.table, self.tr("Agents"))
        self.tabs.addTab(self.chart, self.tr("Last 14 days"))
        self.tabs.currentChanged.connect(lambda index: self.load_chart() if index == 1 else None)
        # The wallboard shows the same rows (filtered and sorted alike), laid out for a TV.
        self.wallboard = WallboardView(self.proxy)
        self.views = QStackedWidget()
        self.views.addWidget(self.tabs)
        self.views.addWidget(self.wallboard)
        layout = QVBoxLayout(self)
        layout.addLayout(counters_row)
        layout.addWidget(self.filters_box)
        layout.addWidget(self.views, 1)
        self.server: str | None = None
        self.token: str | None = None
        self._tasks: list[Background] = []

        self.search.textChanged.connect(lambda text: self.proxy.set(search=text))
        self.activity_filter.currentIndexChanged.connect(
            lambda _i: self.proxy.set(activity=self.activity_filter.currentData() or "")
        )
        self.status_filter.currentIndexChanged.connect(
            lambda _i: self.proxy.set(status=self.status_filter.currentData() or "")
        )
        self.plateau_filter.currentIndexChanged.connect(
            lambda _i: self.proxy.set(plateau=self.plateau_filter.currentData() or "")
        )
        self._fill_filters()

        self._tick = QTimer(self)
        self._tick.setInterval(TICK_MS)
        self._tick.timeout.connect(self.refresh)
        self._soon = QTimer(self)
        self._soon.setSingleShot(True)
        self._soon.setInterval(COALESCE_MS)
        self._soon.timeout.connect(self.refresh_changed)
        self.set_live_state("connecting", "")
        self.refresh()

    # -- the stream --------------------------------------------------------------------------

    def connect_stream(self, server: str, token: str) -> StreamLink:
        """Follow the live stream of `server` with this lead's token."""
        self.server, self.token = server, token
        self.link = StreamLink(server, token, self, prepare=self._prepare)
        self.link.message.connect(self.on_message)
        self.link.state.connect(self.set_live_state)
        self.link.start()
        self._tick.start()
        return self.link

    def _prepare(self, kind: str, data: Any) -> Any:
        """On the stream's thread: a snapshot of 200 agents is 12,000 events to read and
        replay — far too long for the UI thread. The model is built (and its rows worked out
        once) here, then handed over whole."""
        if kind != "snapshot":
            return data
        model = PlateauLive()
        model.load_snapshot(data, local_now_ms=self.clock.now_ms())
        model.rows(self.clock.now_ms() + model.server_offset_ms)  # warms the derived state
        return Prepared(model, str(data.get("zone") or "Europe/Paris"))

    def on_message(self, kind: str, data: Any) -> None:
        if kind == "snapshot":
            if isinstance(data, Prepared):
                self.model, zone = data.model, data.zone
            else:
                self.model.load_snapshot(data, local_now_ms=self.clock.now_ms())
                zone = str(data.get("zone") or "Europe/Paris")
            self.zone = ZoneInfo(zone)
            self._levels = {}
            self._show_anew()
            self._snapshot_in = True
            if self._connected:
                self.set_live_state("live", "")
            return
        if kind == "events":
            self._dirty |= self.model.add_events(data.get("events", []))
        elif kind == "presence":
            self._dirty |= self.model.add_presence(data.get("presence", []))
        elif kind == "corrections":
            self._dirty |= self.model.add_corrections(data.get("corrections", []))
        elif kind == "plateaux":  # an admin changed a plateau's keys, threshold or activities
            self.model.load_plateaux(data.get("plateaux", []))
            self._show_anew()
            return
        else:
            return
        if self._dirty and not self._soon.isActive():
            self._soon.start()

    def _show_anew(self) -> None:
        """The plateaux or the people changed (a snapshot, an admin's change): labels,
        filters, rows, column widths and the wallboard, worked out again."""
        self._label_cache = {}
        self._fill_filters()
        self.refresh()
        self._size_columns()
        self.lay_out_wallboard()

    def set_live_state(self, state: str, detail: str) -> None:
        self._connected = state == "live"
        if state != "live":
            self._snapshot_in = False  # the next connection starts with a snapshot of its own
        elif not self._snapshot_in:
            state = "connecting"  # connected: live once its snapshot is shown
        self.live_state = state
        if state == "live":
            self.offline_since_ms = None
            text, tip = self.tr("● Live"), ""
        elif state == "refused":
            text = self.tr("⚠ Signed out")
            tip = self.tr("The server no longer accepts this sign-in: sign in again.")
        else:
            if state == "offline" and self.offline_since_ms is None:
                self.offline_since_ms = self.clock.now_ms()
            if self.offline_since_ms is None:
                text = self.tr("○ Connecting…")
            else:
                since = datetime.fromtimestamp(self.offline_since_ms / 1000, UTC).astimezone()
                text = self.tr("○ Reconnecting (since %1)…").replace("%1", since.strftime("%H:%M"))
            # In words for the lead; the technical detail goes to the log.
            tip = self.tr("The server cannot be reached: the panel reconnects by itself.")
            if detail:
                log.info("panel stream: %s", detail)
        self.link_label.setText(text)
        self.link_label.setToolTip(
            tip or self.tr("The panel updates by itself; no need to refresh it.")
        )

    def stop(self) -> None:
        self._tick.stop()
        self._soon.stop()
        if self.link is not None:
            self.link.stop()
        for task in self._tasks:
            task.join(30)
        self._tasks = []

    def closeEvent(self, event: Any) -> None:
        self.stop()
        super().closeEvent(event)

    # -- what it shows ---------------------------------------------------------------------

    def now_ms(self) -> int:
        """The server's time, as well as this PC can tell it."""
        return self.clock.now_ms() + self.model.server_offset_ms

    def refresh(self) -> None:
        """Every row, as of now (each second: the times tick)."""
        self._dirty.clear()
        rows = self.model.rows(self.now_ms())
        self.table_model.set_rows(rows)
        logins = {r.login for r in rows}
        if logins != self._board_logins:  # someone new: the wallboard fits them in
            self._board_logins = logins
            self.lay_out_wallboard()
        if self.proxy.active():
            self.proxy.set()  # statuses and activities move: filter again
        self._show_counters(rows)

    def refresh_changed(self) -> None:
        """Only the rows whose agents sent something: a busy plateau's stream must not make
        the whole table work at each event."""
        changed, self._dirty = self._dirty, set()
        now = self.now_ms()
        if not self.table_model.replace_rows([self.model.row(login, now) for login in changed]):
            self.refresh()  # someone new: the table's rows change
            return
        self._show_counters(self.table_model.rows)

    def _show_counters(self, rows: list[AgentRow]) -> None:
        counts = counters(rows)
        names = {
            "production": self.tr("In production"),
            "pause": self.tr("On pause"),
            "off": self.tr("Off production"),
            "unclassified": self.tr("Unclassified"),
            "offline": self.tr("Offline"),
        }
        wallboard = bool(self.property("wallboard"))
        for name, label in self.counter_labels.items():
            # On the wallboard the number goes above its name, big enough to read across a room.
            if wallboard:
                label.setText(
                    f"<div style='font-size:32pt'>{counts[name]}</div>"
                    f"<div style='font-size:12pt'>{names[name]}</div>"
                )
            else:
                label.setText(f"{counts[name]}  {names[name]}")
            label.setAccessibleName(f"{names[name]}: {counts[name]}")
        self._watch_thresholds(rows)

    def _watch_thresholds(self, rows: list[AgentRow]) -> None:
        order = list(Level)
        for row in rows:
            before = self._levels.get(row.login, Level.NORMAL)
            self._levels[row.login] = row.level
            if order.index(row.level) > order.index(before):
                self.threshold_crossed.emit(row.login)
                if self.alerts.isChecked():
                    QApplication.beep()
                    QApplication.alert(self)

    def key_labels(self, plateau: str) -> dict[Key, str]:
        cached = self._label_cache.get(plateau)
        if cached is not None:
            return cached
        labels = {
            Key.PRODUCTION: self.tr("Production"),
            Key.PAUSE: self.tr("Pause"),
            Key.OFF: self.tr("Off production"),
        }
        info = self.model.plateaux.get(plateau)
        for key, label in (info.labels if info else {}).items():
            if label != DEFAULT_KEY_LOOKS[key][0]:
                labels[key] = label
        self._label_cache[plateau] = labels
        return labels

    def colour(self, row: AgentRow) -> str:
        if row.key is None:
            return UNCLASSIFIED_COLOUR if row.state.open else "#b0bec5"
        info = self.model.plateaux.get(row.plateau)
        return (info.colours.get(row.key) if info else None) or KEY_STYLES[row.key].colour

    def status_text(self, row: AgentRow) -> str:
        if not row.state.open:
            # No time counted today: they have not started (rather than "ended").
            return self.tr("Shift ended") if row.today.presence_ms else self.tr("Not started")
        if row.key is None:
            return self.tr("Unclassified")
        return self.key_labels(row.plateau)[row.key]

    def freshness_text(self, row: AgentRow) -> str:
        return self.freshness_text_of(row.freshness)

    def freshness_text_of(self, freshness: Freshness) -> str:
        return {
            Freshness.ONLINE: self.tr("online"),
            Freshness.STALE: self.tr("no news for 1 min"),
            Freshness.OFFLINE: self.tr("offline"),
            Freshness.ENDED: "",
        }[freshness]

    def tooltip(self, row: AgentRow) -> str:
        parts = [f"<b>{row.name}</b> — {self.status_text(row)}"]
        if row.note:  # whole here, however narrow its column
            parts.append(f"“{html.escape(row.note)}”")
        if row.level is not Level.NORMAL:
            parts.append(self.tr("Pause over the plateau's threshold"))
        if row.last_sign_ms is not None:
            seen = datetime.fromtimestamp(row.last_sign_ms / 1000, UTC).astimezone(self.zone)
            parts.append(self.tr("Last sign of life: %1").replace("%1", seen.strftime("%H:%M:%S")))
        parts.append(self.tr("Enter or double-click: the day"))
        return "<br>".join(parts)

    def _fill_filters(self) -> None:
        def refill(box: QComboBox, everything: str, items: list[tuple[str, str]]) -> None:
            current = box.currentData()
            box.blockSignals(True)
            box.clear()
            box.addItem(everything, "")
            for text, value in items:
                box.addItem(text, value)
            found = box.findData(current)
            box.setCurrentIndex(max(found, 0))
            box.blockSignals(False)

        activities = sorted({a for p in self.model.plateaux.values() for a in p.activities})
        refill(self.activity_filter, self.tr("All activities"), [(a, a) for a in activities])
        statuses = [
            (self.tr("In production"), "production"),
            (self.tr("On pause"), "pause"),
            (self.tr("Off production"), "off"),
            (self.tr("Unclassified"), "unclassified"),
            (self.tr("Offline"), "offline"),
            (self.tr("Shift ended"), "ended"),
        ]
        refill(self.status_filter, self.tr("All statuses"), statuses)
        plateaux = sorted(self.model.plateaux)
        refill(self.plateau_filter, self.tr("All plateaux"), [(p, p) for p in plateaux])
        self.plateau_filter.setVisible(len(plateaux) > 1)
        self.proxy.set(
            activity=self.activity_filter.currentData() or "",
            status=self.status_filter.currentData() or "",
            plateau=self.plateau_filter.currentData() or "",
        )

    # -- actions ---------------------------------------------------------------------------

    def set_wallboard(self, on: bool) -> None:
        """Full screen, large type, counters and agents: for a TV on the plateau."""
        self.setProperty("wallboard", on)
        self.filters_box.setVisible(not on)
        for label in self.counter_labels.values():
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        font = self.link_label.font()
        font.setPointSize(16 if on else QApplication.font().pointSize())
        self.link_label.setFont(font)
        self.views.setCurrentWidget(self.wallboard if on else self.tabs)
        self.refresh()
        if on:
            self.showFullScreen()
        else:
            self.showNormal()
        self.lay_out_wallboard()

    def status_texts(self) -> list[str]:
        """Every status text a row may show: the plateaux' key labels and the states no key
        shows."""
        labels = {
            label for plateau in self.model.plateaux for label in self.key_labels(plateau).values()
        }
        labels |= {label for label, _colour in DEFAULT_KEY_LOOKS.values()}
        labels |= {self.tr("Unclassified"), self.tr("Shift ended"), self.tr("Not started")}
        return sorted(labels)

    def may_hold(self) -> dict[int, list[str]]:
        """What the first columns may come to show, whatever they show now."""
        return {
            1: self.status_texts(),
            2: [WIDEST_TIME, OVER_MARKS[Level.WAY_OVER] + WIDEST_TIME],
            5: [self.freshness_text_of(f) for f in Freshness],
        }

    def _size_columns(self) -> None:
        """Columns wide enough for what they hold and for what they may come to hold (every
        status, every link state, the widest time), so nothing is cut when a row changes;
        a reconnection's snapshot only ever widens them, so they do not jump."""
        header = self.table.horizontalHeader()
        before = [header.sectionSize(c) for c in range(self.table_model.columnCount())]
        self.table.resizeColumnsToContents()
        metrics = self.table.fontMetrics()
        room = 24  # margins and the status's colour square
        may_hold = self.may_hold()
        for column, width in enumerate(before):
            if header.sectionResizeMode(column) is QHeaderView.ResizeMode.Stretch:
                continue
            widest = max(
                (metrics.horizontalAdvance(t) for t in may_hold.get(column, [])), default=0
            )
            wanted = max(header.sectionSize(column), widest + room)
            if self._columns_sized:
                wanted = max(wanted, width)
            header.resizeSection(column, wanted)
        self._columns_sized = True

    def lay_out_wallboard(self) -> None:
        """Fit the wallboard to the screen and to the agents shown (it does so by itself
        when its size changes; a snapshot or a new label calls this)."""
        if not self.property("wallboard"):
            return
        self.wallboard.may_hold = self.may_hold()
        self.wallboard.lay_out()

    # -- reports: the chart and the export -------------------------------------------------

    def _background(self, call: Callable[[], Any], done: Done) -> Background:
        self._tasks = [t for t in self._tasks if t.is_alive()]
        task = Background(call, self, done=done)
        self._tasks.append(task)
        return task.start()

    def load_chart(self, days: int = 14) -> Background | None:
        """The plateau's last `days` days, from the report (off the UI thread)."""
        if self.server is None or self.token is None:
            return None
        server, token = self.server, self.token
        last = datetime.fromtimestamp(self.now_ms() / 1000, UTC).astimezone(self.zone).date()
        first = last - timedelta(days=days - 1)
        plateau = self.plateau_filter.currentData() or None
        self.chart.show_message(self.tr("Loading…"))
        return self._background(
            lambda: report_rows(server, token, first=first, last=last, by="day", plateau=plateau),
            lambda rows, error: self._chart_loaded(rows, error, (first, last)),
        )

    def _chart_loaded(self, rows: Any, error: Any, days: tuple[date, date]) -> None:
        if error is not None:
            self.chart.show_message(wording.of(error))
            return
        plateau = self.plateau_filter.currentData() or next(iter(self.model.plateaux), "")
        labels: dict[Key | None, str] = {None: self.tr("Unclassified")}
        for key, label in self.key_labels(plateau).items():
            labels[key] = label
        info = self.model.plateaux.get(plateau)
        self.chart.set_rows(
            rows, labels=labels, colours=dict(info.colours) if info else {}, days=days
        )

    def ask_export(self) -> ExportDialog:
        dialog = ExportDialog(self.now_ms(), self.zone, self)
        dialog.chosen.connect(self._choose_file)
        self._dialogs = [d for d in self._dialogs if d.isVisible()]
        self._dialogs.append(dialog)
        dialog.open()
        return dialog

    def _choose_file(self, first: date, last: date, by: str) -> None:
        suggested = Path.home() / f"bandeau-{first.isoformat()}-{last.isoformat()}.csv"
        path, _filter = QFileDialog.getSaveFileName(
            self, self.tr("Export"), str(suggested), self.tr("CSV files (*.csv)")
        )
        if path:
            self.export_csv(Path(path), first, last, by)

    def export_csv(self, path: Path, first: date, last: date, by: str) -> Background | None:
        """Write the report to `path` (off the UI thread), then say how it went."""
        if self.server is None or self.token is None:
            return None
        server, token = self.server, self.token
        plateau = self.plateau_filter.currentData() or None
        lang = current_language()
        return self._background(
            lambda: save_csv(
                server, token, path, first=first, last=last, by=by, plateau=plateau, lang=lang
            ),
            self._exported,
        )

    def _exported(self, path: Any, error: Any) -> None:
        text = (
            self.tr("Export failed: %1").replace("%1", wording.of(error))
            if error is not None
            else self.tr("Exported to %1").replace("%1", str(path))
        )
        self.export_button.setToolTip(text)
        QToolTip.showText(self.export_button.mapToGlobal(self.export_button.rect().center()), text)
        self.exported.emit(text)

    def open_day(self, login: str) -> DayDialog:
        """The agent's day, as the agent sees it on their bar."""
        agent = self.model.agents[login]
        plateau = agent.plateaux[0] if agent.plateaux else ""
        dialog = DayDialog(self)
        dialog.setWindowTitle(self.tr("Day of %1").replace("%1", agent.name))
        self._show_day(dialog, login)
        if self.server is not None and self.token is not None:
            offer_corrections(
                dialog,
                agent=login,
                send=correction_sender(self.server, self.token, dialog),
                now_ms=self.now_ms(),
                day=(self.model.day_start_ms, self.model.day_end_ms),
                labels=self.key_labels(plateau),
                zone=self.zone,
                on_done=lambda row: self._corrected_here(login, row, dialog),
            )
        self._dialogs = [d for d in self._dialogs if d.isVisible()]
        self._dialogs.append(dialog)
        dialog.open()
        return dialog

    def _show_day(self, dialog: DayDialog, login: str) -> None:
        """The day's stretches as the row counts them (app.domain.live.day_stretches)."""
        agent = self.model.agents[login]
        plateau = agent.plateaux[0] if agent.plateaux else ""
        info = self.model.plateaux.get(plateau)
        dialog.show_day(
            agent.events,
            day=(self.model.day_start_ms, self.model.day_end_ms),
            now_ms=self.model.counted_until(login, self.now_ms()),
            labels=self.key_labels(plateau),
            colours=dict(info.colours) if info else {},
            zone=self.zone,
            title=agent.name,
            corrections=self.model.fixes_today(login),
            stretches=self.model.day_stretches(login, self.now_ms()),
        )

    def _corrected_here(self, login: str, row: dict[str, Any], dialog: DayDialog) -> None:
        """A correction just made from this panel: shown at once (the stream brings it too)."""
        self._dirty |= self.model.add_corrections([row])
        self.refresh()
        if dialog.isVisible() and login in self.model.agents:
            self._show_day(dialog, login)
        self.corrected.emit(row)

    def _open_day(self, index: QModelIndex) -> None:
        row: AgentRow = self.proxy.data(index, ROW_ROLE)
        if row is not None:
            self.open_day(row.login)

    def visible_logins(self) -> list[str]:
        """The logins in the order the table shows them (after filters and sort)."""
        return [
            self.proxy.data(self.proxy.index(r, 0), ROW_ROLE).login
            for r in range(self.proxy.rowCount())
        ]
