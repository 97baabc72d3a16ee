"""The Qt binding itself: a bar calls Qt millions of times a day, so the binding must not leak.

PySide6 6.12.0 under Python 3.11 drops a reference to None on every call of a method that
returns nothing; None's count then reaches zero and the process aborts ("none_dealloc") after
a few thousand paints. pyproject.toml keeps that release out; this test keeps it out for good.
"""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QApplication, QLabel

CALLS = 500


@pytest.mark.gui
def test_void_qt_calls_keep_none_alive(qapp: QApplication) -> None:
    image = QImage(32, 32, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    path = QPainterPath()
    path.addRect(0, 0, 8, 8)
    label = QLabel()
    before = sys.getrefcount(None)
    for _ in range(CALLS):
        painter.setPen(QPen(QColor("#1e8e3e"), 1.5))
        painter.drawPath(path)
        painter.fillRect(QRectF(0, 0, 4, 4), QColor("#c77800"))
        label.setText("x")
    after = sys.getrefcount(None)
    painter.end()
    # A healthy binding leaves None's count where it was (give or take a few cached objects);
    # the broken one takes 4 references per loop turn.
    assert after - before > -CALLS, f"None lost {before - after} references in {CALLS * 4} calls"
