"""One writer per process: the hot writes (batches of events, heartbeats, token touches) run
on one thread, in groups — one transaction and one commit for every job waiting when the
previous commit ended (a group commit).

- Each job is a function of the group's connection; its result (or its exception) is handed
  back only after the group's commit, so an acknowledgement never precedes durability.
- A job that raises has no effect: the group is rolled back and run again without it (its
  caller gets the exception). When the commit itself fails, every job is tried once more on
  its own, so that one job's fault is that job's only.
- A group of light jobs only (heartbeats: liveness, not records) commits without waiting for
  the disk (SQLite: `synchronous=NORMAL` in WAL mode; PostgreSQL: `synchronous_commit=off`):
  a crash may lose the last second of them, never an event. A group with one durable job is
  durable as a whole.
- No busy-handler sleeps between this process's own writers: there is one.
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)

T = TypeVar("T")
Job = Callable[[Connection], T]

MAX_GROUP = 200  # jobs in one transaction at most
# And rows, about: a group of a herd's backlogs (hundreds of events each) is cut here, so
# that a heartbeat or a click queued behind it waits for a short commit, not a long one.
MAX_GROUP_WEIGHT = 1_000
# While live writes flow (one waits, or came within LIVE_RECENT_S), a group takes no more
# backlog rows than this (a batch at least): a heartbeat that arrives just after a group
# began waits for a short commit (~10 ms of rows), at the cost of an fsync every few
# backlogs for the herd.
BULK_ROOM_WHILE_LIVE = 200
LIVE_RECENT_S = 1.0
# Load shedding: a write whose expected wait would pass these is refused at once with 503
# and a Retry-After (app.server.errors.store_busy), rather than queued until its client
# gives up.
SHED_AFTER_S = 2.0  # a batch of events
SHED_LIGHT_AFTER_S = 1.0  # a heartbeat: liveness, it can wait for the next one
MAX_BACKLOG = 20_000
LIVE_BATCH = 20  # a batch of more events than this is a backlog: the bulk lane
RETRY_AFTER_S = (2, 10)  # the delay a refused writer is told, drawn in this range
_JITTER = random.Random()  # noqa: S311 - spreading retries, not a secret


@dataclass(slots=True)
class _Queued:
    job: Job[Any]
    durable: bool
    future: Future[Any]
    weight: int = 1
    token: str | None = None
    queued_at: float = field(default_factory=time.monotonic)


def _lost(exc: BaseException) -> bool:
    """Whether `exc` is the connection's loss (SQLAlchemy invalidated it), not the job's."""
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def retry_after(rng: random.Random = _JITTER) -> int:
    """The Retry-After told to a refused writer: a different one each time, so that the
    clients refused together do not come back together."""
    return rng.randint(*RETRY_AFTER_S)


class WriterStopped(RuntimeError):
    """The process is stopping: no write is taken any more."""


class Writer:
    """The process's writer thread. `start()`, then `run()` (async) or `submit()`;
    `stop()` finishes the jobs already queued.

    Two lanes: live writes (heartbeats, a click's batch) go before bulk ones (a backlog sent
    after an outage), which fill each group's remaining room — a small room while live
    writes flow — so that the agents who stayed online keep their latency while a herd of
    backlogs drains."""

    def __init__(
        self,
        engine: Engine,
        *,
        max_group: int = MAX_GROUP,
        shed_after_s: float = SHED_AFTER_S,
        shed_light_after_s: float = SHED_LIGHT_AFTER_S,
        prelude: Callable[[Connection, list[str]], None] | None = None,
    ) -> None:
        """`prelude(conn, tokens)`: run first in each group's transaction with the tokens its
        jobs were submitted with (the store reads their owners there in one query, where
        each job read its own: a round trip a job, the writer's main cost on PostgreSQL)."""
        self.engine = engine
        self.prelude = prelude
        self.max_group = max_group
        self.shed_after_s = shed_after_s
        self.shed_light_after_s = shed_light_after_s
        self._ready = threading.Condition()
        self._lanes: tuple[deque[_Queued], deque[_Queued]] = (deque(), deque())  # live, bulk
        self._weights = [0, 0]  # rows waiting in each lane, about
        self._live_at = -LIVE_RECENT_S  # when a live write last came (monotonic)
        self._thread: threading.Thread | None = None
        self._stopped = False
        self._sqlite = engine.dialect.name == "sqlite"
        self.groups = 0  # commits made
        self._group_started: float | None = None  # the group being written, since when
        # What a group costs, learnt as groups go: a commit (an fsync), plus each row.
        self._per_group_s = 0.003
        self._per_row_s = 0.0001
        self._conn: Connection | None = None
        self._durable = True

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="bandeau-writer", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Finish what is queued, then end the thread."""
        with self._ready:
            self._stopped = True
            self._ready.notify()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def submit(
        self,
        job: Job[T],
        *,
        durable: bool = True,
        weight: int = 1,
        bulk: bool = False,
        token: str | None = None,
    ) -> Future[T]:
        """Queue `job` (`weight`: about how many rows it writes; `bulk`: it can wait for the
        live writes; `token`: the one it checks, for the prelude)."""
        future: Future[T] = Future()
        with self._ready:
            if self._stopped:
                future.set_exception(WriterStopped("the store is stopping"))
                return future
            self._lanes[bulk].append(_Queued(job, durable, future, max(1, weight), token))
            if not bulk:
                self._live_at = time.monotonic()
            self._weights[bulk] += max(1, weight)
            self._ready.notify()
        return future

    async def run(
        self,
        job: Job[T],
        *,
        durable: bool = True,
        weight: int = 1,
        bulk: bool = False,
        token: str | None = None,
    ) -> T:
        """`job`'s result once its group has committed."""
        return await asyncio.wrap_future(
            self.submit(job, durable=durable, weight=weight, bulk=bulk, token=token)
        )

    def expected_wait_s(self, *, bulk: bool = False) -> float:
        """About how long a write queued now would wait for its commit: what the group being
        written has left, then the rows ahead of it (a bulk write waits for both lanes)."""
        started = self._group_started
        live, backlog = self._weights[0], self._weights[1] if bulk else 0
        current = 0.0 if started is None else time.monotonic() - started
        room = BULK_ROOM_WHILE_LIVE if self._live_flowing() else MAX_GROUP_WEIGHT
        groups = -(-live // MAX_GROUP_WEIGHT) + -(-backlog // room)
        return current + groups * self._per_group_s + (live + backlog) * self._per_row_s

    def _live_flowing(self) -> bool:
        return bool(self._lanes[0]) or time.monotonic() - self._live_at < LIVE_RECENT_S

    def backlog(self) -> int:
        return len(self._lanes[0]) + len(self._lanes[1])

    def busy(self, *, durable: bool = True, bulk: bool = False) -> bool:
        """Whether a new write of this kind should be refused for now."""
        limit = self.shed_after_s if durable else self.shed_light_after_s
        return self.expected_wait_s(bulk=bulk) > limit or self.backlog() > MAX_BACKLOG

    def _take(self) -> list[_Queued] | None:
        """The next group, live writes first; None once stopped with nothing left."""
        with self._ready:
            while not (self._lanes[0] or self._lanes[1] or self._stopped):
                self._ready.wait()
            group: list[_Queued] = []
            weight = 0
            live = self._live_flowing()
            for bulk, lane in enumerate(self._lanes):
                room = MAX_GROUP_WEIGHT
                if bulk and live:
                    room = min(room, weight + BULK_ROOM_WHILE_LIVE)
                while lane and len(group) < self.max_group and weight < room:
                    item = lane.popleft()
                    self._weights[bulk] -= item.weight
                    group.append(item)
                    weight += item.weight
            if group:
                self._group_started = time.monotonic()
            return group or None

    def _loop(self) -> None:
        while (group := self._take()) is not None:
            try:
                self._commit(group)
            except BaseException:  # never lose the thread: every future is answered
                log.exception("the writer failed")
                for item in group:
                    if not item.future.done():
                        item.future.set_exception(RuntimeError("the store's writer failed"))
            started = self._group_started
            if started is not None:
                self._learn(sum(item.weight for item in group), time.monotonic() - started)
            self._group_started = None
        self._drop_connection()

    def _learn(self, rows: int, took_s: float) -> None:
        """A small group tells what a commit costs; a big one, what a row costs."""
        if rows <= 10:
            self._per_group_s = 0.8 * self._per_group_s + 0.2 * took_s
        elif rows >= 100:
            per_row = max(0.0, took_s - self._per_group_s) / rows
            self._per_row_s = 0.8 * self._per_row_s + 0.2 * per_row

    def _commit(self, group: list[_Queued]) -> None:
        reconnected = False
        while group:
            try:
                results, failed = self._transaction(group)
            except Exception as exc:  # the commit (or the connection) failed
                if len(group) == 1:
                    group[0].future.set_exception(exc)
                    return
                log.warning("a group of %d writes failed (%s): each again alone", len(group), exc)
                for item in group:
                    self._commit([item])
                return
            if failed is None:
                self.groups += 1
                for item, result in zip(group, results, strict=True):
                    item.future.set_result(result)
                return
            # One job raised: it is answered with its exception, the rest go again.
            index, raised = failed
            if _lost(raised) and not reconnected:
                # The writer's kept connection was gone (the database restarted since the
                # last group) before anything was committed: the whole group once more on a
                # new one, rather than a refusal for a write that never reached the store.
                reconnected = True
                self._drop_connection()
                continue
            group[index].future.set_exception(raised)
            group = group[:index] + group[index + 1 :]

    def _transaction(
        self, group: list[_Queued]
    ) -> tuple[list[Any], tuple[int, BaseException] | None]:
        durable = any(item.durable for item in group)
        results: list[Any] = []
        conn = self._connection()
        try:
            if self._sqlite and durable != self._durable:
                # Outside any transaction (the DB-API connection is in autocommit mode).
                raw = conn.connection.dbapi_connection
                assert raw is not None
                raw.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
                self._durable = durable
            with conn.begin() as tx:
                if not durable and not self._sqlite:
                    conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
                tokens = [item.token for item in group if item.token is not None]
                if len(tokens) > 1 and self.prelude is not None:  # one: no round trip saved
                    try:
                        self.prelude(conn, tokens)
                    except Exception as exc:
                        if not _lost(exc):
                            raise  # a store failure: the group's, each job alone next
                        tx.rollback()
                        return [], (0, exc)  # the connection's loss: see _commit
                for index, item in enumerate(group):
                    try:
                        results.append(item.job(conn))
                    except Exception as exc:
                        tx.rollback()
                        return [], (index, exc)
        except Exception:
            self._drop_connection()  # a new one next time (the database may have restarted)
            raise
        return results, None

    def _connection(self) -> Connection:
        """The writer's own connection, kept between groups (its durability setting is its
        own: never handed to another caller through the pool)."""
        if self._conn is None:
            self._conn = self.engine.connect()
            self._durable = True
        return self._conn

    def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.invalidate()
                conn.close()
            except Exception:  # already broken
                log.debug("the writer's connection could not be closed", exc_info=True)
