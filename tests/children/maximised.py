"""A plain maximised window on the X display (the softphone, the CRM): prints its frame's
geometry as JSON each time the window manager changes it, until killed."""

from __future__ import annotations

import json
import os

os.environ["QT_QPA_PLATFORM"] = "xcb"

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QWidget


class Watch(QObject):
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.Move, QEvent.Type.Resize) and isinstance(watched, QWidget):
            frame = watched.frameGeometry()
            print(json.dumps([frame.x(), frame.y(), frame.width(), frame.height()]), flush=True)
        return False


app = QApplication([])
window = QWidget()
window.setWindowTitle("softphone")
watch = Watch()
window.installEventFilter(watch)
window.showMaximized()
app.exec()
