"""For the children that run a bar on a real X display: read X properties, and wait —
without sleeping — until the window manager has acted, woken by what Qt hears of it (a
screen's work area or geometry changing, a screen going or coming, the bar moving)."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Callable

from PySide6.QtCore import QEvent, QEventLoop, QObject, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget


def prop(*args: str) -> list[int]:
    """An X property as numbers (`xprop -root _NET_WORKAREA`), [] if unset."""
    out = subprocess.run(["xprop", *args], capture_output=True, text=True, check=False).stdout
    return [int(v) for v in out.split("=", 1)[1].split(",")] if "=" in out else []


class _Moves(QObject):
    def __init__(self, on_move: Callable[[], None]) -> None:
        super().__init__()
        self._on_move = on_move

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.Move, QEvent.Type.Resize, QEvent.Type.Show):
            self._on_move()
        return False


def wait_for(widget: QWidget, done: Callable[[], bool], timeout_s: float = 10) -> bool:
    """Run Qt's loop until `done()` holds (checked whenever the screens or the widget
    change) or `timeout_s` has passed; whether it held."""
    if done():
        return True
    loop = QEventLoop()

    def check() -> None:
        if done():
            loop.quit()

    app = QGuiApplication.instance()
    assert isinstance(app, QGuiApplication)
    hooks = [app.screenAdded, app.screenRemoved]
    for screen in QGuiApplication.screens():
        hooks += [screen.availableGeometryChanged, screen.geometryChanged]
    for hook in hooks:
        hook.connect(check)
    moves = _Moves(check)
    widget.installEventFilter(moves)
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()
    widget.removeEventFilter(moves)
    for hook in hooks:
        with contextlib.suppress(RuntimeError):  # a screen that went took its signals
            hook.disconnect(check)
    return done()
