"""Work kept off the UI thread, its results brought back as Qt signals: one blocking call
(`Background`), or the live stream (`StreamLink`)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.sync.stream import StreamClient

Done = Callable[[Any, Any], None]
"""Told (result, None) or (None, the exception) on the UI thread when a call ends."""


class Background(QObject):
    """One blocking call on a thread of its own.

    `done` is connected before the thread starts: a call that fails at once (a bad address,
    say) is told like any other, never lost.

    Signals:
        finished(object, object): (result, None) or (None, the exception), on the thread of
            this object's owner (the UI thread).
    """

    finished = Signal(object, object)

    def __init__(
        self, call: Callable[[], Any], parent: QObject | None = None, *, done: Done | None = None
    ) -> None:
        super().__init__(parent)
        self._call = call
        if done is not None:
            self.finished.connect(done)
        self._thread = threading.Thread(target=self._run, name="bandeau-background", daemon=True)

    def start(self) -> Background:
        self._thread.start()
        return self

    def join(self, timeout_s: float) -> None:
        if self._thread.ident is not None:
            self._thread.join(timeout_s)

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        try:
            result = self._call()
        except Exception as exc:  # handed to the UI thread, which says what went wrong
            self._emit(None, exc)
        else:
            self._emit(result, None)

    def _emit(self, result: object, error: object) -> None:
        # RuntimeError: the owner is gone (the bar quit meanwhile): nobody to tell.
        with contextlib.suppress(RuntimeError):
            self.finished.emit(result, error)


class StreamLink(QObject):
    """The stream's thread, its messages brought to the UI thread as signals."""

    message = Signal(str, object)
    state = Signal(str, str)

    def __init__(
        self,
        server: str,
        token: str,
        parent: QObject | None = None,
        *,
        prepare: Callable[[str, Any], Any] | None = None,
    ) -> None:
        """`prepare(kind, data)` runs on the stream's thread before a message is handed to
        the UI thread: the heavy work of a snapshot is done there."""
        super().__init__(parent)
        self._prepare = prepare
        self.client = StreamClient(
            server, token, on_message=self._on_message, on_state=self.state.emit
        )

    def _on_message(self, kind: str, data: Any) -> None:
        if self._prepare is not None:
            data = self._prepare(kind, data)
        self.message.emit(kind, data)

    def start(self) -> None:
        self.client.start()

    def stop(self) -> None:
        self.client.stop()
