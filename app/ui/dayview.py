"""The day view: a strip of the day coloured by key, the totals per key and per activity,
and the day's events. The same dialog for the agent ("my day", from the bar) and for the
lead (from a panel row): same numbers, same code (app.domain.totals)."""

from __future__ import annotations

import uuid as uuidlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, QTime, Signal
from PySide6.QtGui import QBrush, QColor, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QTimeEdit,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from app.domain.durations import format_duration
from app.domain.events import Event, Key, Kind
from app.domain.indicators import Correction
from app.domain.totals import Interval, Totals, apply_corrections, intervals, totals_of
from app.ui.theme import KEY_STYLES, UNCLASSIFIED_COLOUR

HOUR_MS = 3_600_000
PROPOSED_MS = HOUR_MS  # a correction's dialog proposes the last hour of the worked day


def _local_hour(ms: int, zone: tzinfo) -> int:
    """The start of the local hour `ms` falls in."""
    local = datetime.fromtimestamp(ms / 1000, UTC).astimezone(zone)
    return int(local.replace(minute=0, second=0, microsecond=0).timestamp() * 1000)


def _qtime(ms: int, zone: tzinfo) -> QTime:
    """The local time to the nearest minute, for a time field."""
    local = datetime.fromtimestamp((ms + 30_000) // 60_000 * 60, UTC).astimezone(zone)
    return QTime(local.hour, local.minute)


def _clock(ms: int, zone: tzinfo) -> str:
    """The local time to the nearest minute (rounded, not truncated: 20:29:59.999 is 20:30)."""
    nearest = (ms + 30_000) // 60_000 * 60_000
    return datetime.fromtimestamp(nearest / 1000, UTC).astimezone(zone).strftime("%H:%M")


class TimelineStrip(QWidget):
    """The day's stretches, painted; hovering one tells its times, status, activity, note."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setMinimumHeight(56)
        self.stretches: list[Interval] = []
        self.labels: dict[Key, str] = {}
        self.colours: dict[Key, str] = {}
        self.zone: tzinfo = UTC
        self.view = (0, HOUR_MS)
        self.setAccessibleName(self.tr("Timeline of the day"))

    def sizeHint(self) -> QSize:
        return QSize(560, 56)

    def set_day(
        self,
        stretches: list[Interval],
        *,
        day: tuple[int, int],
        labels: dict[Key, str],
        colours: dict[Key, str],
        zone: tzinfo,
    ) -> None:
        self.stretches, self.labels, self.colours, self.zone = stretches, labels, colours, zone
        if stretches:
            first = stretches[0].start_ms - HOUR_MS // 2
            last = stretches[-1].end_ms + HOUR_MS // 2
        else:
            first, last = day[0] + 8 * HOUR_MS, day[0] + 18 * HOUR_MS
        # Whole local hours, at least four of them, within the day.
        start = max(day[0], _local_hour(first, zone))
        end = min(day[1], _local_hour(last + HOUR_MS - 1, zone))
        if end - start < 4 * HOUR_MS:
            end = min(day[1], start + 4 * HOUR_MS)
        self.view = (start, max(end, start + HOUR_MS))
        self.setToolTip("")
        self.update()

    def _x(self, ms: int, width: float) -> float:
        start, end = self.view
        return (ms - start) / (end - start) * width

    def _colour(self, key: Key | None) -> QColor:
        if key is None:
            return QColor(UNCLASSIFIED_COLOUR)
        return QColor(self.colours.get(key, KEY_STYLES[key].colour))

    def paintEvent(self, _event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        width = float(self.width())
        bar = QRectF(0, 4, width, self.height() - 22)
        p.fillRect(bar, QColor("#eceff1"))
        for stretch in self.stretches:
            x0, x1 = self._x(stretch.start_ms, width), self._x(stretch.end_ms, width)
            rect = QRectF(x0, bar.top(), max(x1 - x0, 1.0), bar.height())
            p.fillRect(rect, self._colour(stretch.key))
            if stretch.key is None:  # unclassified: hatched, not told by colour alone
                p.fillRect(rect, QBrush(QColor("#ffffff"), Qt.BrushStyle.BDiagPattern))
            elif stretch.key is Key.PAUSE:
                p.fillRect(rect, QBrush(QColor(0, 0, 0, 60), Qt.BrushStyle.Dense6Pattern))
            if stretch.corrected_by is not None:  # corrected: a dashed frame, and said on hover
                p.setPen(QPen(QColor("#263238"), 1.5, Qt.PenStyle.DashLine))
                p.drawRect(rect.adjusted(0.75, 0.75, -0.75, -0.75))
        p.setPen(QPen(QColor("#546e7a"), 1))
        start, end = self.view
        hour = start
        step = HOUR_MS if end - start <= 12 * HOUR_MS else 2 * HOUR_MS
        while hour <= end:
            x = self._x(hour, width)
            p.drawLine(QPointF(x, bar.bottom()), QPointF(x, bar.bottom() + 4))
            label = _clock(hour, self.zone)
            left = min(max(x - 20, 0.0), width - 40)  # the first and last labels stay whole
            p.drawText(QRectF(left, bar.bottom() + 4, 40, 14), Qt.AlignmentFlag.AlignCenter, label)
            hour += step
        p.end()

    def stretch_at(self, x: float) -> Interval | None:
        start, end = self.view
        at = start + x / max(self.width(), 1) * (end - start)
        return next((s for s in self.stretches if s.start_ms <= at < s.end_ms), None)

    def describe(self, stretch: Interval) -> str:
        what = (
            self.labels.get(stretch.key, stretch.key.value)
            if stretch.key is not None
            else self.tr("Unclassified")
        )
        text = (
            f"{_clock(stretch.start_ms, self.zone)}–{_clock(stretch.end_ms, self.zone)} "
            f"{what} ({format_duration(stretch.duration_ms)})"
        )
        if stretch.activity:
            text += f" — {stretch.activity}"
        if stretch.corrected_by is not None:
            text += "\n" + self.tr("Corrected: %1").replace("%1", stretch.note or "")
        elif stretch.note:
            text += f"\n“{stretch.note}”"
        return text

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        stretch = self.stretch_at(event.position().x())
        if stretch is None:
            QToolTip.hideText()
        else:
            QToolTip.showText(event.globalPosition().toPoint(), self.describe(stretch), self)
        super().mouseMoveEvent(event)


class DayDialog(QDialog):
    """A day: the strip, the totals per key and per activity, and the events."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("My day"))
        self.resize(640, 520)
        layout = QVBoxLayout(self)
        self.title = QLabel()
        self.title.setObjectName("DayTitle")
        self.strip = TimelineStrip()
        self.totals = QLabel()
        self.totals.setTextFormat(Qt.TextFormat.PlainText)
        self.fixes = QLabel()  # the corrections of this day: who, when, what, why
        self.fixes.setTextFormat(Qt.TextFormat.PlainText)
        self.fixes.setWordWrap(True)
        self.fixes.setObjectName("DayCorrections")
        self.activities = QTableWidget(0, 5)
        self.activities.verticalHeader().setVisible(False)
        self.activities.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(
            [self.tr("Time"), self.tr("Event"), self.tr("Activity"), self.tr("Note")]
        )
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        self.correct_button = buttons.addButton(
            self.tr("Correct…"), QDialogButtonBox.ButtonRole.ActionRole
        )
        self.correct_button.setToolTip(
            self.tr("Fix a forgotten click, with a reason: the correction is kept and visible")
        )
        self.correct_button.hide()  # shown where the store can take corrections
        self.correction: CorrectionDialog | None = None
        self.tasks: list[Any] = []  # corrections being sent (joined when the dialog closes)
        layout.addWidget(self.title)
        layout.addWidget(self.strip)
        layout.addWidget(self.totals)
        layout.addWidget(self.fixes)
        layout.addWidget(self.activities)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.figures = Totals()

    def show_day(
        self,
        events: Sequence[Event],
        *,
        day: tuple[int, int],
        now_ms: int,
        labels: dict[Key, str],
        colours: dict[Key, str] | None = None,
        zone: tzinfo,
        title: str = "",
        corrections: Sequence[Correction] = (),
        stretches: list[Interval] | None = None,
    ) -> None:
        """Show `events` (one agent's, oldest first) for the local day `day` as of now, with
        `corrections` applied as the reports apply them — or the day's `stretches` already
        worked out that way (the panel's, app.domain.live)."""
        self.title.setText(title)
        self.title.setVisible(bool(title))
        if stretches is None:
            stretches = apply_corrections(intervals(events, day[0], day[1], now_ms), corrections)
        self.figures = totals_of(stretches)
        self.strip.set_day(stretches, day=day, labels=labels, colours=colours or {}, zone=zone)
        self._show_fixes([c for c in corrections if c.end_ms > day[0] and c.start_ms < day[1]])
        figures = self.figures
        lines = [f"{labels[k]} : {format_duration(figures.by_key[k])}" for k in Key]
        lines.append(self.tr("Unclassified") + f" : {format_duration(figures.unclassified_ms)}")
        lines.append(self.tr("Presence") + f" : {format_duration(figures.presence_ms)}")
        self.totals.setText("\n".join(lines))
        self._per_activity(stretches, labels)
        shown = [e for e in events if day[0] <= e.occurred_at_ms < day[1]]
        self.table.setRowCount(len(shown))
        for row, ev in enumerate(shown):
            local = datetime.fromtimestamp(ev.occurred_at_ms / 1000, UTC).astimezone(zone)
            what = self._describe(ev, labels)
            for col, text in enumerate(
                (local.strftime("%H:%M:%S"), what, ev.activity or "", ev.note or "")
            ):
                self.table.setItem(row, col, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()

    def _show_fixes(self, fixes: list[Correction]) -> None:
        lines = []
        for fix in sorted(fixes, key=lambda c: (c.start_ms, c.made_at_ms)):
            if fix.off_shift:
                what = self.tr("not worked")
            elif fix.key is None:
                what = self.tr("Unclassified")
            else:
                what = self.strip.labels.get(fix.key, fix.key.value)
            line = self.tr("Corrected %1–%2 → %3 by %4: “%5”")
            for mark, value in (
                ("%1", _clock(fix.start_ms, self.strip.zone)),
                ("%2", _clock(fix.end_ms, self.strip.zone)),
                ("%3", what + (f" ({fix.activity})" if fix.activity else "")),
                ("%4", fix.author),
                ("%5", fix.reason),
            ):
                line = line.replace(mark, value)
            lines.append(line)
        self.fixes.setText("\n".join(lines))
        self.fixes.setVisible(bool(lines))

    def done(self, result: int) -> None:
        for task in self.tasks:
            task.join(30)
        super().done(result)

    def _per_activity(self, stretches: list[Interval], labels: dict[Key, str]) -> None:
        per: dict[str, dict[Key | None, int]] = {}
        for s in stretches:
            name = s.activity or self.tr("(no activity)")
            per.setdefault(name, {})
            per[name][s.key] = per[name].get(s.key, 0) + s.duration_ms
        self.activities.setHorizontalHeaderLabels(
            [self.tr("Activity"), *(labels[k] for k in Key), self.tr("Presence")]
        )
        self.activities.setRowCount(len(per))
        for row, (name, by_key) in enumerate(sorted(per.items())):
            cells = [name, *(format_duration(by_key.get(k, 0)) for k in Key)]
            cells.append(format_duration(sum(by_key.values())))
            for col, text in enumerate(cells):
                self.activities.setItem(row, col, QTableWidgetItem(text))
        self.activities.resizeColumnsToContents()
        self.activities.resizeRowsToContents()
        self.activities.setFixedHeight(
            self.activities.horizontalHeader().height()
            + self.activities.verticalHeader().length()
            + 2 * self.activities.frameWidth()
        )

    def _describe(self, ev: Event, labels: dict[Key, str]) -> str:
        if ev.kind is Kind.STATUS and ev.key is not None:
            return labels[ev.key]
        names = {
            Kind.SHIFT_START: self.tr("Shift start"),
            Kind.SHIFT_END: self.tr("End of shift"),
            Kind.ACTIVITY: self.tr("Activity change"),
            Kind.CORRECTION: self.tr("Correction"),
            Kind.CLOCK_JUMP: self.tr("PC clock changed"),
        }
        return names.get(ev.kind, ev.kind.value)


class CorrectionDialog(QDialog):
    """“I was on pause since 10:15”: a range of the day, what it really was, and why.

    Signals:
        submitted(dict): the correction's body for POST /v1/corrections.
    """

    submitted = Signal(dict)

    def __init__(
        self,
        agent: str,
        *,
        day: tuple[int, int],
        now_ms: int,
        labels: dict[Key, str],
        zone: tzinfo,
        span: tuple[int, int] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        """`span`: the day's worked time (its first and last counted moment); the range
        proposed lies within it, so nobody is offered to correct time before their shift."""
        super().__init__(parent)
        self.setWindowTitle(self.tr("Correct my time") if parent is None else self.tr("Correct"))
        self.agent, self.day, self.zone = agent, day, zone
        first, last = span if span is not None else (day[0], now_ms)
        end = max(min(now_ms, last), first)
        start = max(first, end - PROPOSED_MS)
        self.start = QTimeEdit(_qtime(start, zone))
        self.end = QTimeEdit(_qtime(end, zone))
        for edit in (self.start, self.end):
            edit.setDisplayFormat("HH:mm")
        self.what = QComboBox()
        for key in Key:
            self.what.addItem(labels[key], key.value)
        self.what.addItem(self.tr("Not working (shift had ended)"), "off_shift")
        self.reason = QLineEdit()
        self.reason.setMaxLength(200)
        self.reason.setPlaceholderText(self.tr("Why (required), e.g. forgot to click Pause"))
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setObjectName("SignInMessage")
        form = QFormLayout(self)
        form.addRow(self.tr("From"), self.start)
        form.addRow(self.tr("To"), self.end)
        form.addRow(self.tr("It was"), self.what)
        form.addRow(self.tr("Reason"), self.reason)
        form.addRow(self.message)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self._submit)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)

    def _at(self, value: QTime) -> int:
        local = datetime.fromtimestamp(self.day[0] / 1000, UTC).astimezone(self.zone)
        moment = local.replace(hour=value.hour(), minute=value.minute(), second=0, microsecond=0)
        return int(moment.timestamp() * 1000)

    def _submit(self) -> None:
        if not self.reason.text().strip():
            self.show_error(self.tr("A correction always says why."))
            return
        start, end = self._at(self.start.time()), self._at(self.end.time())
        if end <= start:
            self.show_error(self.tr("The end must come after the start."))
            return
        what = self.what.currentData()
        self.buttons.setEnabled(False)
        self.submitted.emit(
            {
                "uuid": str(uuidlib.uuid4()),
                "agent": self.agent,
                "from_ms": start,
                "to_ms": end,
                "key": None if what == "off_shift" else what,
                "off_shift": what == "off_shift",
                "reason": self.reason.text().strip(),
            }
        )

    def show_error(self, text: str) -> None:
        self.buttons.setEnabled(True)
        self.message.setText(text)
        self.message.setProperty("error", True)
        self.message.style().unpolish(self.message)
        self.message.style().polish(self.message)


Sender = Callable[[dict[str, Any], Callable[[Any, Any], None]], None]
"""`send(body, done)`: send a correction off the UI thread; `done(row, None)` once it is
taken (or kept to be sent later), `done(None, why)` if refused; on the UI thread."""


def offer_corrections(
    dialog: DayDialog,
    *,
    agent: str,
    send: Sender,
    now_ms: int,
    day: tuple[int, int],
    labels: dict[Key, str],
    zone: tzinfo,
    on_done: Callable[[dict[str, Any]], None] = lambda _row: None,
) -> None:
    """Show the day view's "Correct…" button: a correction dialog whose sending `send`
    does, and whose refusal (with the server's reason) stays in the dialog."""
    from app.ui import wording  # noqa: PLC0415

    def open_dialog() -> CorrectionDialog:
        stretches = dialog.strip.stretches
        span = (stretches[0].start_ms, stretches[-1].end_ms) if stretches else None
        fixing = CorrectionDialog(
            agent, day=day, now_ms=now_ms, labels=labels, zone=zone, span=span, parent=dialog
        )
        dialog.correction = fixing

        def submit(body: dict[str, Any]) -> None:
            def done(row: Any, error: Any) -> None:
                if error is not None:
                    fixing.show_error(wording.of(error))
                    return
                fixing.accept()
                on_done(row)

            send(body, done)

        fixing.submitted.connect(submit)
        fixing.open()
        return fixing

    dialog.correct_button.clicked.connect(open_dialog)
    dialog.correct_button.show()


def correction_sender(server: str, token: str, owner: DayDialog) -> Sender:
    """Send straight to the store (the lead's panel: no journal to keep one in)."""
    from app.exports import post_correction  # noqa: PLC0415 - loads httpx
    from app.ui.threads import Background  # noqa: PLC0415

    def send(body: dict[str, Any], done: Callable[[Any, Any], None]) -> None:
        task = Background(lambda: post_correction(server, token, body), owner, done=done)
        owner.tasks.append(task.start())

    return send
