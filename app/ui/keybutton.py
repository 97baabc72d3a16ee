"""One status key of the bar: icon, label and today's total, painted so that the current key
is unmistakable without colour (filled, bold, with a check mark) as well as with it."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QFocusEvent,
    QFont,
    QFontMetrics,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import QAbstractButton, QWidget

from app.domain.events import Key
from app.ui.theme import BAR_BACKGROUND, KEY_STYLES, readable_on, tinted_pixmap

KEY_WIDTH = 86
KEY_HEIGHT = 60
_RADIUS = 6.0
_ICON = 20
_MAX_LOOKS = 8
_LABEL_MARGIN = 5  # clear space each side of a label, so it never touches the key's edge
_LABEL_SIZES = (12, 11, 10)  # pixel sizes tried on one line, largest first
_TWO_LINE_SIZE = 10  # a label too long for one line goes on two, at this size


def fit_label(label: str, font: QFont, room: float) -> tuple[list[str], int]:
    """The label's lines and pixel size: one line at the largest size that fits `room`,
    else two lines split at the space that balances them best (never elided: the whole
    label stays readable)."""
    probe = QFont(font)
    for size in _LABEL_SIZES:
        probe.setPixelSize(size)
        if QFontMetrics(probe).horizontalAdvance(label) <= room:
            return [label], size
    words = label.split()
    if len(words) < 2:
        return [label], _LABEL_SIZES[-1]
    probe.setPixelSize(_TWO_LINE_SIZE)
    metrics = QFontMetrics(probe)
    n = min(
        range(1, len(words)),
        key=lambda n: max(
            metrics.horizontalAdvance(" ".join(words[:n])),
            metrics.horizontalAdvance(" ".join(words[n:])),
        ),
    )
    return [" ".join(words[:n]), " ".join(words[n:])], _TWO_LINE_SIZE


def _label_font(base: QFont, active: bool) -> QFont:
    font = QFont(base)
    font.setBold(active)
    return font


class KeyButton(QAbstractButton):
    """A status key. `active` marks the current key; `total` is today's time on it."""

    def __init__(self, key: Key, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.key = key
        self.colour = KEY_STYLES[key].colour
        self._active = False
        self._total = ""
        self._label = ""
        self._keyboard_focus = False
        self._looks: dict[tuple[object, ...], QPixmap] = {}
        self.setCheckable(False)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setFixedSize(KEY_WIDTH, KEY_HEIGHT)
        self.setObjectName(f"Key_{key.value}")
        # The key paints every pixel (its corners in the bar's colour), so a press repaints
        # the key alone, not the styled bar behind it: keeps a click well under a millisecond.
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)

    def sizeHint(self) -> QSize:
        return QSize(KEY_WIDTH, KEY_HEIGHT)

    @property
    def active(self) -> bool:
        return self._active

    def set_active(self, active: bool) -> None:
        if active != self._active:
            self._active = active
            self.update()

    def set_label(self, label: str) -> None:
        self._label = label
        self.setText(label)
        self.update()

    def set_colour(self, colour: str) -> None:
        """The plateau's colour for this key (the shape and icon never change)."""
        if colour != self.colour:
            self.colour = colour
            self._looks.clear()
            self.update()

    def set_total(self, total: str) -> None:
        if total != self._total:
            self._total = total
            self.update()

    @property
    def total(self) -> str:
        return self._total

    def focusInEvent(self, event: QFocusEvent) -> None:
        # The focus ring is for keyboard users; a mouse click or the window's first focus
        # must not make a key look selected.
        self._keyboard_focus = event.reason() in (
            Qt.FocusReason.TabFocusReason,
            Qt.FocusReason.BacktabFocusReason,
        )
        super().focusInEvent(event)

    def paintEvent(self, _event: QPaintEvent) -> None:
        # A key has few looks (active, pressed, hovered, focused × a label and a total that
        # change once a minute): each is drawn once, then a paint is a single pixmap copy.
        look = (
            self._label,
            self._total,
            self._active,
            self.isDown(),
            self.underMouse(),
            self.hasFocus() and self._keyboard_focus,
            self.isEnabled(),
            self.devicePixelRatioF(),
        )
        pixmap = self._looks.get(look)
        if pixmap is None:
            if len(self._looks) >= _MAX_LOOKS:
                self._looks.clear()
            pixmap = self._render()
            self._looks[look] = pixmap
        p = QPainter(self)
        p.drawPixmap(0, 0, pixmap)
        p.end()

    def _render(self) -> QPixmap:
        ratio = self.devicePixelRatioF()
        pixmap = QPixmap(int(self.width() * ratio), int(self.height() * ratio))
        pixmap.setDevicePixelRatio(ratio)
        p = QPainter(pixmap)
        p.fillRect(self.rect(), QColor(BAR_BACKGROUND))
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(self.rect()).adjusted(1.5, 1.5, -1.5, -1.5)
        colour = QColor(self.colour)
        if not self.isEnabled():
            colour = QColor("#90a4ae")
        pressed = self.isDown()
        on_colour = QColor(readable_on(colour.name()))
        if self._active:
            fill = colour.darker(115) if pressed else colour
            text_colour = on_colour
            border = QPen(on_colour, 2.5)
        else:
            fill = QColor("#cfd8dc") if pressed else QColor("#eceff1")
            if self.underMouse() and not pressed:
                fill = QColor("#ffffff")
            text_colour = QColor("#263238")
            border = QPen(colour, 1.5)
        path = QPainterPath()
        path.addRoundedRect(rect, _RADIUS, _RADIUS)
        p.fillPath(path, fill)
        p.setPen(border)
        p.drawPath(path)
        if not self._active:
            # A coloured stripe at the bottom ties the idle key to its colour.
            stripe = QRectF(rect.left() + 6, rect.bottom() - 4, rect.width() - 12, 3)
            p.fillRect(stripe, colour)

        lines, size = fit_label(
            self._label, _label_font(self.font(), self._active), rect.width() - 2 * _LABEL_MARGIN
        )
        two = len(lines) > 1
        # Two lines of label take room from the icon: it shrinks and moves up.
        icon = _ICON - 4 if two else _ICON
        icon_colour = on_colour.name() if self._active else colour.name()
        pix = tinted_pixmap(KEY_STYLES[self.key].icon, icon_colour, icon, self.devicePixelRatioF())
        p.drawPixmap(QPointF(rect.center().x() - icon / 2, rect.top() + (3 if two else 4)), pix)

        label_font = _label_font(self.font(), self._active)
        label_font.setPixelSize(size)
        p.setFont(label_font)
        p.setPen(text_colour)
        top, height = (rect.top() + 19, size + 1) if two else (rect.top() + 25, 16)
        for n, line in enumerate(lines):
            line_rect = QRectF(rect.left() + 2, top + n * height, rect.width() - 4, height)
            p.drawText(line_rect, Qt.AlignmentFlag.AlignCenter, line)

        if self._total:
            total_font = QFont(self.font())
            total_font.setPixelSize(10)
            p.setFont(total_font)
            total_rect = QRectF(
                rect.left() + 2, rect.top() + (41 if two else 40), rect.width() - 4, 11
            )
            p.drawText(total_rect, Qt.AlignmentFlag.AlignCenter, self._total)

        if self._active:
            # The check mark: the current key is told by shape, not only by colour.
            badge = QRectF(rect.right() - 17, rect.top() + 3, 14, 14)
            p.setBrush(on_colour)
            p.setPen(Qt.PenStyle.NoPen)
            p.drawEllipse(badge)
            tick = QPen(colour.darker(110) if on_colour.lightness() > 128 else colour, 2.2)
            tick.setCapStyle(Qt.PenCapStyle.RoundCap)
            p.setPen(tick)
            p.drawPolyline(
                [
                    QPointF(badge.left() + 3.5, badge.top() + 7.5),
                    QPointF(badge.left() + 6, badge.top() + 10),
                    QPointF(badge.left() + 10.5, badge.top() + 4.5),
                ]
            )
        if self.hasFocus() and self._keyboard_focus:
            focus = QPen(QColor("#ffd54f"), 2, Qt.PenStyle.DashLine)
            p.setPen(focus)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRoundedRect(rect.adjusted(2.5, 2.5, -2.5, -2.5), _RADIUS - 2, _RADIUS - 2)
        p.end()
        return pixmap
