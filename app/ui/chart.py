"""The plateau's days at a glance: one stacked bar per day, production / pause / hors
production (and unclassified), painted with QPainter."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

from app.domain.events import Key
from app.ui.theme import KEY_STYLES, UNCLASSIFIED_COLOUR

LATE_COLOUR = "#6a1b9a"  # purple: apart from the keys' colours, AA on white
_PARTS = (
    (Key.PRODUCTION, "production_s"),
    (Key.PAUSE, "pause_s"),
    (Key.OFF, "off_s"),
    (None, "unclassified_s"),
)


class DailyChart(QWidget):
    """Stacked bars of hours per day for a plateau (rows from the report, by day)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bars: list[tuple[date, list[tuple[Key | None, int]]]] = []
        self.labels: dict[Key | None, str] = {}
        self.colours: dict[Key, str] = {}
        # Events that reached the store more than a day late, per day: counted in the bars,
        # and marked on them (a settled day changed after the fact).
        self.late: dict[date, int] = {}
        self.message = ""
        self.setMinimumHeight(220)
        self.setAccessibleName(self.tr("Hours per day and key"))

    def sizeHint(self) -> QSize:
        return QSize(800, 300)

    def set_rows(
        self,
        rows: list[dict[str, Any]],
        *,
        labels: dict[Key | None, str],
        colours: dict[Key, str] | None = None,
        days: tuple[date, date] | None = None,
    ) -> None:
        """`days` (first, last): every day gets its bar, empty ones too."""
        self.labels = labels
        self.colours = colours or {}
        found = {
            date.fromisoformat(row["day"]): [
                (key, int(row.get(field) or 0)) for key, field in _PARTS
            ]
            for row in rows
        }
        if days is not None and found:
            day = days[0]
            while day <= days[1]:
                found.setdefault(day, [(key, 0) for key, _f in _PARTS])
                day += timedelta(days=1)
        self.bars = sorted(found.items())
        self.late = {
            date.fromisoformat(row["day"]): int(row.get("late_events") or 0)
            for row in rows
            if row.get("late_events")
        }
        self.message = "" if self.bars else self.tr("No time recorded over these days.")
        self.setToolTip(self._summary())
        self.update()

    def show_message(self, text: str) -> None:
        self.bars, self.message, self.late = [], text, {}
        self.update()

    def _late_mark(self, p: QPainter, centre: QPointF, count: int) -> None:
        """A small clock face (drawn: no font has to hold a clock glyph) and the count."""
        text = str(count)
        advance = p.fontMetrics().horizontalAdvance(text)
        face = QPointF(centre.x() - (advance + 3) / 2, centre.y())
        p.setPen(QPen(QColor(LATE_COLOUR), 1.5))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawEllipse(face, 5.0, 5.0)
        p.drawLine(face, QPointF(face.x(), face.y() - 3.5))
        p.drawLine(face, QPointF(face.x() + 2.5, face.y()))
        p.drawText(QPointF(face.x() + 8, face.y() + p.fontMetrics().ascent() / 2 - 1), text)

    def late_text(self, count: int) -> str:
        return self.tr("%n event(s) arrived late, counted", "", count)

    def _colour(self, key: Key | None) -> QColor:
        if key is None:
            return QColor(UNCLASSIFIED_COLOUR)
        return QColor(self.colours.get(key, KEY_STYLES[key].colour))

    def _summary(self) -> str:
        lines = []
        for day, parts in self.bars:
            hours = ", ".join(f"{self.labels.get(k, '')} {s / 3600:.1f} h" for k, s in parts if s)
            line = f"{day.strftime('%d/%m')}: {hours}"
            if self.late.get(day):
                line += " — " + self.late_text(self.late[day])
            lines.append(line)
        return "\n".join(lines)

    def paintEvent(self, _event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor("#ffffff"))
        if not self.bars:
            p.setPen(QColor("#546e7a"))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.message)
            p.end()
            return
        legend_h, axis_w, bottom_h = 24.0, 44.0, 22.0
        plot = QRectF(
            axis_w,
            legend_h + 6,
            self.width() - axis_w - 10,
            self.height() - legend_h - bottom_h - 10,
        )
        top = max(sum(s for _k, s in parts) for _d, parts in self.bars) or 1
        if self.late:
            top = int(top * 1.12)  # headroom for the late marks over the tallest bar
        # Gridlines every hour or more for long days, every 15 minutes for short ones.
        step = max(3600, top // 4 // 3600 * 3600) if top >= 2 * 3600 else 900
        tick = 0
        while tick <= top:
            y = plot.bottom() - tick / top * plot.height()
            p.setPen(QPen(QColor("#cfd8dc"), 1))
            p.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            p.setPen(QColor("#546e7a"))
            p.drawText(
                QRectF(0, y - 8, axis_w - 6, 16),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                f"{tick // 3600} h" if step >= 3600 else f"{tick // 3600}:{tick % 3600 // 60:02d}",
            )
            tick += step
        slot = plot.width() / len(self.bars)
        width = min(slot * 0.7, 48.0)
        for n, (day, parts) in enumerate(self.bars):
            x = plot.left() + n * slot + (slot - width) / 2
            y = plot.bottom()
            for key, seconds in parts:
                h = seconds / top * plot.height()
                rect = QRectF(x, y - h, width, h)
                p.fillRect(rect, self._colour(key))
                if key is Key.PAUSE:  # told by pattern as well as by colour
                    p.fillRect(rect, QBrush(QColor(0, 0, 0, 50), Qt.BrushStyle.Dense6Pattern))
                y -= h
            if self.late.get(day):  # a clock over the bar: this day changed after the fact
                self._late_mark(p, QPointF(x + width / 2, y - 10), self.late[day])
            p.setPen(QColor("#546e7a"))
            p.drawText(
                QRectF(x - 10, plot.bottom() + 2, width + 20, bottom_h),
                Qt.AlignmentFlag.AlignCenter,
                day.strftime("%d/%m"),
            )
        x = axis_w
        for key, _field in _PARTS:
            p.fillRect(QRectF(x, 6, 12, 12), self._colour(key))
            p.setPen(QColor("#263238"))
            label = self.labels.get(key, "")
            p.drawText(QPointF(x + 16, 17), label)
            x += 24 + p.fontMetrics().horizontalAdvance(label)
        if self.late:
            p.setPen(QPen(QColor(LATE_COLOUR), 1.5))
            p.drawEllipse(QPointF(x + 6, 12), 5.0, 5.0)
            p.drawLine(QPointF(x + 6, 12), QPointF(x + 6, 8.5))
            p.drawLine(QPointF(x + 6, 12), QPointF(x + 8.5, 12))
            p.setPen(QColor("#263238"))
            p.drawText(QPointF(x + 16, 17), self.tr("events that arrived late (counted)"))
        p.end()
