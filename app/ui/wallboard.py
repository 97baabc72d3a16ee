"""The wallboard: the panel's agents for a TV on the plateau, read from five metres.

Who, what, since when and on which activity, in type as large as the screen allows; when
the agents do not fit one under another, their rows fold into side-by-side blocks ("columns
of rows"), and only past the smallest readable type does the board scroll. Columns are sized
to their contents (the widest name, the longest key label, "59 min 59") so nothing is ever
elided, and the spare width goes to the blocks' activities so the board fills the screen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSize,
    Qt,
    QTimer,
)
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from app.domain.durations import format_duration

Index = QModelIndex | QPersistentModelIndex

COLUMNS = 4  # the panel's first four: agent, status, for, activity
FONT_SIZES = tuple(range(44, 13, -1))  # pixel sizes tried, largest first (14 px: the least)
MAX_BLOCKS = 4
TEXT_MARGIN = 6  # each side of a cell's text (Qt's delegate keeps 3 px; the rest is air)
ICON_SCALE = 0.7  # the status's colour square, in font sizes
ROW_SPACING = 1.4  # row height, in font heights
PAGE_EVERY_MS = 10_000  # a board that does not fit shows its next page this often
# The widest a time in status gets on a shift (see app.domain.durations).
WIDEST_TIME = format_duration(59 * 60_000 + 59_000)


class FoldedRows(QAbstractTableModel):
    """The source's rows folded into `blocks` side-by-side blocks of its first COLUMNS
    columns: row r of block b is the source's row b × rows_per_block + r."""

    def __init__(self, source: QAbstractItemModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.source = source
        self.blocks = 1
        self.following = False

    def follow(self, on: bool) -> None:
        """Follow the source's changes (while the board is shown) or not (while it is
        hidden: the panel's table must not pay for a board nobody sees)."""
        if on == self.following:
            return
        self.following = on
        source = self.source
        for signal, slot in (
            (source.modelReset, self._reset),
            (source.layoutChanged, self._reset),
            (source.rowsInserted, self._reset),
            (source.rowsRemoved, self._reset),
            (source.dataChanged, self._changed),
        ):
            if on:
                signal.connect(slot)
            else:
                signal.disconnect(slot)
        self._reset()

    def set_blocks(self, blocks: int) -> None:
        if blocks != self.blocks:
            self.beginResetModel()
            self.blocks = blocks
            self.endResetModel()

    @property
    def rows_per_block(self) -> int:
        return max(1, math.ceil(self.source.rowCount() / self.blocks))

    def _reset(self, *_args: object) -> None:
        self.beginResetModel()
        self.endResetModel()

    def _changed(self, *_args: object) -> None:
        # A tick changes every row's time: one signal for the whole board is cheapest.
        if self.rowCount() and self.columnCount():
            self.dataChanged.emit(
                self.index(0, 0), self.index(self.rowCount() - 1, self.columnCount() - 1)
            )

    def source_index(self, index: Index) -> QModelIndex:
        block, column = divmod(index.column(), COLUMNS)
        row = block * self.rows_per_block + index.row()
        if row >= self.source.rowCount():
            return QModelIndex()
        return self.source.index(row, column)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid() or not self.source.rowCount():
            return 0
        return self.rows_per_block

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else COLUMNS * self.blocks

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> object:
        if orientation is Qt.Orientation.Horizontal:
            return self.source.headerData(section % COLUMNS, orientation, role)
        return None

    def data(self, index: Index, role: int = 0) -> object:
        source = self.source_index(index)
        if not source.isValid():
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            return None  # nobody hovers a TV
        return source.data(role)


@dataclass(frozen=True, slots=True)
class Fit:
    """How the board is laid out: the type size, the blocks, and each column's width."""

    font_px: int
    blocks: int
    widths: tuple[int, ...]  # one per shown column, blocks included
    scrolls: bool  # even the smallest type does not fit: the board scrolls


def fit_board(
    texts: list[list[str]],
    extra: list[list[str]],
    *,
    width: int,
    height: int,
    base: QFont,
    scrollbar: int = 0,
) -> Fit:
    """The largest type (and the fewest blocks at that size) at which every agent fits
    `width` × `height` with every text whole. `texts` are the rows' first COLUMNS cells;
    `extra[c]` more texts column c must hold whatever row shows them (its header, every
    status a row may take, the widest time), so the board does not jump when one changes.
    `scrollbar`: the width a vertical scroll bar takes when the board must scroll."""
    rows = max(1, len(texts))
    for px in FONT_SIZES:
        metrics = _metrics(base, px)
        row_height = math.ceil(metrics.height() * ROW_SPACING)
        for blocks in range(1, MAX_BLOCKS + 1):
            per_block = math.ceil(rows / blocks)
            if (1 + per_block) * row_height > height:  # the header row, then the agents
                continue
            widths = _needed(texts, extra, metrics, blocks, per_block)
            if sum(widths) <= width:
                return Fit(px, blocks, _spread(widths, width), scrolls=False)
    # Past the smallest readable type: as many blocks as fit across, and scroll.
    metrics = _metrics(base, FONT_SIZES[-1])
    room = width - scrollbar
    for blocks in range(MAX_BLOCKS, 0, -1):
        widths = _needed(texts, extra, metrics, blocks, math.ceil(rows / blocks))
        if blocks == 1 or sum(widths) <= room:
            return Fit(FONT_SIZES[-1], blocks, _spread(widths, room), scrolls=True)
    raise AssertionError("the loop ends at one block")


def _metrics(base: QFont, px: int) -> QFontMetrics:
    font = QFont(base)
    font.setPixelSize(px)
    return QFontMetrics(font)


def _needed(
    texts: list[list[str]],
    extra: list[list[str]],
    metrics: QFontMetrics,
    blocks: int,
    per_block: int,
) -> list[int]:
    """Each shown column's width: its widest text in its block, plus padding."""
    widths: list[int] = []
    for block in range(blocks):
        mine = texts[block * per_block : (block + 1) * per_block]
        for column in range(COLUMNS):
            candidates = [row[column] for row in mine] + extra[column]
            widest = max((metrics.horizontalAdvance(t) for t in candidates), default=0)
            widths.append(widest + padding(column, metrics.height()))
    return widths


def padding(column: int, font_height: int) -> int:
    """Room a cell needs beyond its text: margins, and the status's colour square."""
    room = 2 * TEXT_MARGIN
    if column == 1:
        room += icon_size(font_height) + TEXT_MARGIN
    return room


def icon_size(font_height: int) -> int:
    return max(8, round(font_height * ICON_SCALE))


def _spread(widths: list[int], width: int) -> tuple[int, ...]:
    """Give the spare width to each block's activity column (the last of its four), so the
    board fills the screen."""
    spare = max(0, width - sum(widths))
    blocks = len(widths) // COLUMNS
    out = list(widths)
    for block in range(blocks):
        share = spare // blocks + (1 if block < spare % blocks else 0)
        out[block * COLUMNS + COLUMNS - 1] += share
    return tuple(out)


class WallboardView(QTableView):
    """The board itself: a table over FoldedRows, laid out by `fit_board`."""

    def __init__(self, source: QAbstractItemModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Wallboard")
        self.folded = FoldedRows(source, self)
        self.setModel(self.folded)
        self.fit: Fit | None = None
        # Texts a column may come to hold whatever the rows hold now (every status, the widest
        # time): the board is laid out for them, so it does not jump when a row changes.
        self.may_hold: dict[int, list[str]] = {2: [WIDEST_TIME]}
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.verticalHeader().setVisible(False)
        # A board too long for the screen turns its pages by itself: nobody scrolls a TV.
        self.pager = QTimer(self)
        self.pager.setInterval(PAGE_EVERY_MS)
        self.pager.timeout.connect(self.next_page)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header.setStretchLastSection(False)
        header.setHighlightSections(False)

    def lay_out(self) -> Fit:
        """Fit the board to its size and to the agents now shown."""
        source = self.folded.source
        texts = [
            [str(source.index(r, c).data() or "") for c in range(COLUMNS)]
            for r in range(source.rowCount())
        ]
        headers = [
            str(source.headerData(c, Qt.Orientation.Horizontal) or "") for c in range(COLUMNS)
        ]
        extra = [[h, *self.may_hold.get(c, [])] for c, h in enumerate(headers)]
        frame = 2 * self.frameWidth()
        fit = fit_board(
            texts,
            extra,
            width=self.width() - frame,
            height=self.height() - frame,
            base=self.font(),
            scrollbar=self.verticalScrollBar().sizeHint().width(),
        )
        self.fit = fit
        self.folded.set_blocks(fit.blocks)
        font = QFont(self.font())
        font.setPixelSize(fit.font_px)
        self.setFont(font)
        # The style sheet, not setFont: the style gives headers a font of their own.
        self.horizontalHeader().setStyleSheet(f"QHeaderView {{ font-size: {fit.font_px}px; }}")
        metrics = QFontMetrics(font)
        row_height = math.ceil(metrics.height() * ROW_SPACING)
        side = icon_size(metrics.height())
        self.setIconSize(QSize(side, side))
        self.verticalHeader().setDefaultSectionSize(row_height)
        self.horizontalHeader().setFixedHeight(row_height)
        for column, width in enumerate(fit.widths):
            self.setColumnWidth(column, width)
        if fit.scrolls and self.isVisible():
            self.pager.start()
        else:
            self.pager.stop()
            self.verticalScrollBar().setValue(0)
        self.setVerticalScrollBarPolicy(
            Qt.ScrollBarPolicy.ScrollBarAsNeeded
            if fit.scrolls
            else Qt.ScrollBarPolicy.ScrollBarAlwaysOff
        )
        return fit

    def showEvent(self, event: object) -> None:
        self.folded.follow(True)
        super().showEvent(event)  # type: ignore[arg-type]
        self.lay_out()

    def hideEvent(self, event: object) -> None:
        self.folded.follow(False)
        self.pager.stop()
        super().hideEvent(event)  # type: ignore[arg-type]

    def next_page(self) -> None:
        """The next screenful of rows, and back to the top after the last."""
        bar = self.verticalScrollBar()
        bar.setValue(0 if bar.value() >= bar.maximum() else bar.value() + bar.pageStep())

    def resizeEvent(self, event: object) -> None:
        super().resizeEvent(event)  # type: ignore[arg-type]
        if self.isVisible():  # a hidden board is laid out when it is shown
            self.lay_out()
