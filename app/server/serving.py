"""Running the store's HTTP service: uvicorn, with the live streams ended first on stop."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import time
from collections import deque
from collections.abc import Callable
from types import FrameType

import uvicorn
from fastapi import FastAPI

from app.server.api import end_streams

log = logging.getLogger("bandeau.server")

# A worker that dies is replaced; more than this many deaths within a minute is a crash loop:
# everything stops (exit 1), for the service manager to say so.
MAX_RESTARTS_PER_MINUTE = 5


class StoreServer(uvicorn.Server):
    """uvicorn's Server, ending the live streams as soon as it is asked to stop (Ctrl+C,
    SIGTERM, or `should_exit` through `stop_soon`): a stream never ends by itself, and would
    otherwise hold the shutdown for the whole graceful timeout, then be cancelled
    mid-write."""

    def __init__(self, config: uvicorn.Config, app: FastAPI) -> None:
        super().__init__(config)
        self.fastapi_app = app

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        end_streams(self.fastapi_app)
        super().handle_exit(sig, frame)

    def stop_soon(self) -> None:
        """Stop from another thread (the demo's)."""
        end_streams(self.fastapi_app)
        self.should_exit = True


def serve_workers(
    sock: socket.socket, make_server: Callable[[int], StoreServer], workers: int, *, grace_s: float
) -> int:
    """Serve the bound `sock` from `workers` processes (POSIX: forked, each with its own
    app, engine and live hub — the store is shared, nothing else). A worker that dies is
    replaced; SIGTERM or SIGINT stops them all (each ends its live streams first) and waits
    `grace_s` for them before killing what is left. 0 on a clean stop."""
    children: dict[int, int] = {}  # pid -> slot
    state = {"stopping": False, "failed": False}
    deaths: deque[float] = deque()

    def start(slot: int) -> None:
        pid = os.fork()
        if pid == 0:  # the worker
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            code = 0
            try:
                make_server(slot).run(sockets=[sock])  # uvicorn takes the signals from here
            except BaseException:
                log.exception("worker %d failed", slot)
                code = 1
            os._exit(code)
        children[pid] = slot

    def stop_all(signum: int = signal.SIGTERM, _frame: FrameType | None = None) -> None:
        del signum
        state["stopping"] = True
        for pid in list(children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    for slot in range(workers):
        start(slot)
    signal.signal(signal.SIGTERM, stop_all)
    signal.signal(signal.SIGINT, stop_all)
    deadline: float | None = None
    while children:
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid == 0:
            if state["stopping"]:
                deadline = deadline or time.monotonic() + grace_s
                if time.monotonic() > deadline:
                    for left in list(children):
                        log.warning("worker pid %d did not stop: killed", left)
                        os.kill(left, signal.SIGKILL)
                    deadline = time.monotonic() + grace_s
            time.sleep(0.1)
            continue
        if pid not in children:
            continue
        slot = children.pop(pid)
        if state["stopping"]:
            continue
        log.warning("worker %d (pid %d) ended (status %d): starting another", slot, pid, status)
        now = time.monotonic()
        deaths.append(now)
        while deaths and now - deaths[0] > 60:
            deaths.popleft()
        if len(deaths) > MAX_RESTARTS_PER_MINUTE:
            log.error("workers keep dying: stopping the store")
            state["failed"] = True
            stop_all()
            continue
        start(slot)
    sock.close()
    return 1 if state["failed"] else 0
