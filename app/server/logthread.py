"""The store's log lines written by a thread of their own, never by the event loop.

Every request logs a line. Written on the event loop, each line was a write to stderr there:
a moment the loop gave the GIL up (a tenth of its samples in the herd, py-spy), and, worse,
a loop that stops dead when stderr is a pipe nobody reads any more (a stuck log collector,
a paused terminal): once the pipe's buffer is full, every request waits for the write. Here
the loop only queues the line; a thread writes it. When the writer falls behind, the queue
stays bounded: lines past QUEUE_LINES are dropped and counted, and a line says how many as
soon as there is room again. The store keeps answering either way.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
from logging.handlers import QueueHandler

QUEUE_LINES = 10_000


class _Bounded(QueueHandler):
    def __init__(self, lines: queue.Queue[logging.LogRecord]) -> None:
        super().__init__(lines)
        self.dropped = 0

    def enqueue(self, record: logging.LogRecord) -> None:
        if self.dropped and self._put(self._drops()):
            self.dropped = 0
        if not self._put(record):
            self.dropped += 1

    def _put(self, record: logging.LogRecord) -> bool:
        try:
            self.queue.put_nowait(record)
        except queue.Full:
            return False
        return True

    def _drops(self) -> logging.LogRecord:
        return logging.LogRecord(
            "bandeau.server",
            logging.WARNING,
            __file__,
            0,
            "%d log lines dropped: the log's reader fell behind",
            (self.dropped,),
            None,
        )


class LogThread:
    """`start()` moves the root logger's handlers behind a bounded queue and a thread;
    `stop()` writes what is queued (waiting `timeout_s` at most for a stuck stderr) and
    puts them back."""

    def __init__(self, lines: int = QUEUE_LINES) -> None:
        self._queue: queue.Queue[logging.LogRecord | None] = queue.Queue(lines)
        self._root = logging.getLogger()
        self._handlers: list[logging.Handler] = []
        self._front = _Bounded(self._queue)  # type: ignore[arg-type]
        self._thread: threading.Thread | None = None

    @property
    def dropped(self) -> int:
        return self._front.dropped

    def start(self) -> None:
        self._handlers = list(self._root.handlers)
        if not self._handlers:
            return  # nothing to write to: logging stays as it is
        for handler in self._handlers:
            self._root.removeHandler(handler)
        self._root.addHandler(self._front)
        self._thread = threading.Thread(target=self._write, name="bandeau-log", daemon=True)
        self._thread.start()

    def _write(self) -> None:
        while (record := self._queue.get()) is not None:
            for handler in self._handlers:
                if record.levelno >= handler.level:
                    handler.handle(record)

    def stop(self, timeout_s: float = 5.0) -> None:
        if self._thread is None:
            return
        self._root.removeHandler(self._front)
        for handler in self._handlers:
            self._root.addHandler(handler)
        with contextlib.suppress(queue.Full):  # stderr stuck for good: the rest is lost
            self._queue.put(None, timeout=timeout_s)
        self._thread.join(timeout_s)
        self._thread = None
