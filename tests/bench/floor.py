"""The floor of Bandeau's own stack, for `bench_ingest`: uvicorn (httptools, as the store
runs it) and one endpoint that parses a batch with orjson and inserts it with plain sqlite3
into the store's own `events` table (its columns and indexes, made by the store's
migrations) in one transaction, committed durably (WAL, synchronous=FULL, as the store
does) — no checks, no token, no SQLAlchemy, one commit per batch. What the store could
reach if it did nothing else.

Run: .venv/bin/python -m tests.bench.floor --db FILE [--port N]   (prints its address)
"""

from __future__ import annotations

import argparse
import socket
import sqlite3
import sys
import threading
import time
from typing import Any

import orjson
import uvicorn

from app.server.ingest import _COLUMNS as COLUMNS  # the store's own row, column for column


def make_app(db: str) -> Any:
    from tests.servers import seed

    seed(f"sqlite:///{db}")  # the store's schema, and a person and a plateau to point at
    con = sqlite3.connect(db, check_same_thread=False, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    lock = threading.Lock()
    insert = (
        f"INSERT INTO events ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
        " ON CONFLICT DO NOTHING"
    )

    def store(body: bytes) -> bytes:
        events = orjson.loads(body)["events"]
        now = time.time_ns() // 1_000_000
        fixed = {
            "person_id": 1,
            "plateau_id": 1,
            "activity_id": None,
            "received_at": now,
            "clock_offset_ms": 0,
        }
        rows = []
        for e in events:
            row = {**e, **fixed, "client_at": e["occurred_at_ms"], "tz_name": e["tz"]}
            row["corrected_at"] = e["occurred_at_ms"]
            rows.append(tuple(row[c] for c in COLUMNS))
        with lock:
            con.execute("BEGIN IMMEDIATE")
            con.executemany(insert, rows)
            con.execute("COMMIT")
        return orjson.dumps({"accepted": [e["uuid"] for e in events]})

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        from starlette.concurrency import run_in_threadpool

        answer = await run_in_threadpool(store, body)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": answer})

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", args.port))
    sock.listen(1024)
    print(f"serving on http://127.0.0.1:{sock.getsockname()[1]}", file=sys.stderr, flush=True)
    config = uvicorn.Config(make_app(args.db), log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
