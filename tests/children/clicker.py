"""A bar without a window, for the fault matrix (tests/load/faults.py): it records clicks in
its journal, as fast as it can, while its sync worker sends them, and prints one line per
click once the click is durable ("clicked UUID"). Killed at random by the parent.

Args: JOURNAL BASE_URL TOKEN CLICKS START_MS SEED STEP_S [close]
The clicks happen on a simulated clock that starts at START_MS and moves from half to one
and a half STEP_S per click (a day's worth of clicks, so that the store's figures are worth
comparing); the sync worker runs
on the real clock. With `close`, the shift is ended after the clicks and the process waits
until the store has every event, then prints "drained".
"""

from __future__ import annotations

import random
import sys
import threading
from pathlib import Path

from app.domain.clock import FakeClock, SystemClock
from app.domain.events import Key, SyncState
from app.journal import Journal
from app.recording import Recorder
from app.sync.client import SyncClient
from app.sync.timing import Backoff
from app.sync.worker import SyncStatus, SyncWorker


def main() -> None:
    journal_file, base, token = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    clicks, start_ms, seed = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
    step_s = float(sys.argv[7])
    close = sys.argv[8:] == ["close"]
    rng = random.Random(seed)
    journal = Journal(journal_file)
    clock = FakeClock(start_ms, "Europe/Paris", monotonic_ms=start_ms)
    recorder = Recorder(journal, clock, agent="marie", activities=["Assurance Auto"])
    recorder.start()
    synced = threading.Event()

    def on_status(status: SyncStatus) -> None:
        if status.state == "synced":
            synced.set()

    real = SystemClock("Europe/Paris")
    worker = SyncWorker(
        journal,
        SyncClient(base, token, real, timeout_s=5),
        real,
        agent="marie",
        on_status=on_status,
        interval_s=0.2,
        backoff=Backoff(base_s=0.05, cap_s=0.5),
        probe_every_s=(0.1, 0.3),
    )
    worker.start()
    keys = list(Key)
    for _ in range(clicks):
        clock.advance(int(rng.uniform(0.5, 1.5) * step_s * 1000))
        key = rng.choice([k for k in keys if k is not recorder.state.key])
        for event in recorder.press(key).events:
            print(f"clicked {event.uuid}", flush=True)
        worker.kick()
    if close:
        clock.advance(60_000)
        for event in recorder.end_shift().events:
            print(f"clicked {event.uuid}", flush=True)
        while journal.counts()[SyncState.PENDING]:
            synced.clear()
            worker.kick()
            synced.wait(5)
        print("drained", flush=True)
    worker.stop()
    journal.close()


if __name__ == "__main__":
    main()
