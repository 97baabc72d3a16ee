"""Colours, tinted icons and the stylesheet of the bar."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QImage, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

from app.domain.events import DEFAULT_KEY_LOOKS, Key
from app.resources import read_text

_PLACEHOLDER = "#000000"


@dataclass(frozen=True, slots=True)
class KeyStyle:
    """How one key looks. Plateaux may change the colour (and label) later; never the shape."""

    colour: str
    icon: str


# Green, amber, blue as in the brief; each is also told apart by its icon's shape and by
# the label, so colour is never the only cue.
KEY_STYLES: dict[Key, KeyStyle] = {
    key: KeyStyle(colour, f"{key.value}.svg") for key, (_label, colour) in DEFAULT_KEY_LOOKS.items()
}
UNCLASSIFIED_COLOUR = "#5f6368"
PROBLEM_COLOUR = "#c5221f"
BAR_BACKGROUND = "#263238"


def readable_on(background: str) -> str:
    """White text on `background` while it keeps a WCAG contrast of 3:1 (enough for the
    key's bold label), dark text on the light colours a plateau may pick."""
    colour = QColor(background)

    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    lum = (
        0.2126 * channel(colour.redF())
        + 0.7152 * channel(colour.greenF())
        + 0.0722 * channel(colour.blueF())
    )
    return "#ffffff" if 1.05 / (lum + 0.05) >= 3.0 else "#263238"


@cache
def _svg(name: str) -> str:
    return read_text("icons", name)


@lru_cache(maxsize=128)
def tinted_pixmap(name: str, colour: str, size: int, ratio: float = 1.0) -> QPixmap:
    """Render a single-colour SVG icon in the given colour (cached: keys repaint often)."""
    data = _svg(name).replace(_PLACEHOLDER, colour)
    renderer = QSvgRenderer(QByteArray(data.encode("utf-8")))
    px = max(int(size * ratio), 1)
    image = QImage(px, px, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    renderer.render(painter, QRectF(0, 0, px, px))
    painter.end()
    pixmap = QPixmap.fromImage(image)
    pixmap.setDevicePixelRatio(ratio)
    return pixmap


def app_icon() -> QIcon:
    icon = QIcon()
    for size in (16, 24, 32, 48, 64, 128):
        icon.addPixmap(tinted_pixmap("bandeau.svg", _PLACEHOLDER, size))
    return icon


def status_icon(key: Key | None) -> QIcon:
    """A tray icon for the current key: the key's icon on its colour, grey when unclassified."""
    colour = KEY_STYLES[key].colour if key is not None else UNCLASSIFIED_COLOUR
    image = QImage(32, 32, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(QColor(colour))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawRoundedRect(0, 0, 32, 32, 7, 7)
    if key is not None:
        painter.drawPixmap(4, 4, tinted_pixmap(KEY_STYLES[key].icon, "#ffffff", 24))
    painter.end()
    return QIcon(QPixmap.fromImage(image))


def stylesheet() -> str:
    """The bar's stylesheet, with the colour names filled in."""
    sheet = read_text("style.qss")
    replacements = {
        "@background@": BAR_BACKGROUND,
        "@problem@": PROBLEM_COLOUR,
        "@unclassified@": UNCLASSIFIED_COLOUR,
    }
    for name, value in replacements.items():
        sheet = sheet.replace(name, value)
    return sheet
