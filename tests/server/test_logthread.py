"""The store's log thread: the event loop only queues its lines, a bounded number."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest

from app.server.logthread import LogThread
from tests.processes import wait_until


class Stuck(logging.Handler):
    """A stderr nobody reads: each line waits until `free` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.free = threading.Event()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.free.wait(30)
        self.lines.append(record.getMessage())


@pytest.fixture
def stuck() -> Iterator[Stuck]:
    root = logging.getLogger()
    kept, level = list(root.handlers), root.level
    for handler in kept:
        root.removeHandler(handler)
    handler = Stuck()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield handler
    handler.free.set()
    root.removeHandler(handler)
    for old in kept:
        root.addHandler(old)
    root.setLevel(level)


def test_lines_past_the_queue_are_dropped_counted_and_told(stuck: Stuck) -> None:
    before = list(logging.getLogger().handlers)
    logs = LogThread(lines=5)
    logs.start()
    assert logging.getLogger().handlers != before
    try:
        log = logging.getLogger("bandeau.test")
        for n in range(20):
            log.info("line %d", n)  # never waits for the stuck handler
        # The queue holds five, the thread one in the stuck handler (if it took it yet).
        dropped = logs.dropped
        assert 14 <= dropped <= 15
        stuck.free.set()
        wait_until(lambda: len(stuck.lines) >= 5)
        log.info("after")
        wait_until(lambda: "after" in stuck.lines)
    finally:
        logs.stop()
    told = [line for line in stuck.lines if "dropped" in line]
    assert told == [f"{dropped} log lines dropped: the log's reader fell behind"]
    assert len(stuck.lines) == 20 - dropped + 2  # the lines kept, the count, "after"
    assert stuck.lines[-2:] == [told[0], "after"]
    assert logging.getLogger().handlers == before  # put back as they were
