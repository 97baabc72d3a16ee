"""Drain a journal to a server and die by SIGKILL after a batch is stored but before the
journal records the acknowledgement (the window the brief worries about)."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from app.domain.clock import SystemClock
from app.journal import Journal
from app.sync.client import SyncClient
from app.sync.worker import SyncWorker


def main() -> None:
    journal_file, base_url, token = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    journal = Journal(journal_file)
    clock = SystemClock("Europe/Paris")

    def die(_uuids: object) -> int:
        os.kill(os.getpid(), signal.SIGKILL)  # the store has the batch; the journal never hears
        return 0

    journal.mark_acked = die  # type: ignore[method-assign,assignment]
    worker = SyncWorker(journal, SyncClient(base_url, token, clock), clock, agent="marie")
    worker.run()  # in this thread: it never returns


if __name__ == "__main__":
    main()
