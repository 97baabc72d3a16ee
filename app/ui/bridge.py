"""The desk's thread is Qt's: calls posted from other threads (the sync worker, the stream,
sign-in) run on the UI thread's event loop."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal

if TYPE_CHECKING:
    from app.config import Settings
    from app.desk.desk import Desk
    from app.recording import Recorder

log = logging.getLogger(__name__)


class Poster(QObject):
    """`post(call)`: run `call` on this object's thread, soon (from any thread)."""

    _posted = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._posted.connect(self._run, Qt.ConnectionType.QueuedConnection)

    def post(self, call: Callable[[], None]) -> None:
        # RuntimeError: the poster is gone (the application quit meanwhile): nobody to tell.
        with contextlib.suppress(RuntimeError):
            self._posted.emit(call)

    @staticmethod
    def _run(call: object) -> None:
        if callable(call):
            try:
                call()
            except Exception:  # one call's failure must not reach Qt's event loop
                log.exception("a posted call failed")


def make_desk(recorder: Recorder, settings: Settings, parent: QObject | None = None) -> Desk:
    """A desk whose threads' answers run on the UI thread."""
    from app.desk.desk import Desk  # noqa: PLC0415 - the poster alone is needed at start

    poster = Poster(parent)
    # The bound method keeps the poster alive as long as the desk.
    return Desk(recorder, settings, post=poster.post)
