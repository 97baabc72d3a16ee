"""The floor of Bandeau's own stack, for `bench_ingest`: uvicorn (httptools, as the store
runs it) and one endpoint that parses a batch with orjson and inserts it with plain sqlite3
in one transaction, committed durably (WAL, synchronous=FULL, as the store does) — no
checks, no token, no SQLAlchemy. What the store could reach if it did nothing else.

Run: .venv/bin/python -m tests.bench.floor --db FILE [--port N]   (prints its address)
"""

from __future__ import annotations

import argparse
import socket
import sqlite3
import sys
import threading
from typing import Any

import orjson
import uvicorn

COLUMNS = ("uuid", "device_id", "seq", "agent", "kind", "key", "occurred_at_ms")


def make_app(db: str) -> Any:
    con = sqlite3.connect(db, check_same_thread=False, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    con.execute(
        "CREATE TABLE IF NOT EXISTS events (uuid TEXT PRIMARY KEY, device_id TEXT, seq INTEGER,"
        " agent TEXT, kind TEXT, key TEXT, occurred_at_ms INTEGER)"
    )
    lock = threading.Lock()
    insert = f"INSERT OR IGNORE INTO events VALUES ({', '.join('?' * len(COLUMNS))})"

    def store(body: bytes) -> bytes:
        events = orjson.loads(body)["events"]
        rows = [tuple(e.get(c) for c in COLUMNS) for e in events]
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
