"""A throwaway PostgreSQL cluster from the machine's own binaries (initdb + pg_ctl).

Runs as the `postgres` user when the tests run as root (initdb refuses root). The cluster
listens on a free loopback port and lives in a temp dir that is removed afterwards.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

RUN_TIMEOUT_S = 120.0  # pg_ctl and initdb, each


class NoPostgres(RuntimeError):
    """The PostgreSQL server binaries are not installed."""


def find_bindir() -> Path:
    explicit = os.environ.get("BANDEAU_PG_BIN")
    candidates = [explicit] if explicit else []
    candidates += sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True
    )
    for candidate in candidates:
        if candidate and (Path(candidate) / "initdb").exists():
            return Path(candidate)
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise NoPostgres(
        "PostgreSQL's server binaries (initdb, pg_ctl) were not found: install the Debian "
        "package `postgresql` (the CI script does) or set BANDEAU_PG_BIN"
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PgCluster:
    bindir: Path
    base: Path
    port: int
    as_user: list[str]

    @property
    def data(self) -> Path:
        return self.base / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://bandeau@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> None:
        # The C locale: the tests' LANG may name a locale this machine does not have.
        env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
        # No `timeout=` for subprocess: its timed wait for a child that closed its pipes but
        # has not exited yet (pg_ctl, as its server starts) sleeps in a loop, and under
        # libfaketime (CI's run with the clock moved) that sleep fails with EINVAL. A watchdog
        # thread bounds the run instead (threading's timed waits are fine there).
        child = subprocess.Popen(
            [*self.as_user, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        watchdog = threading.Timer(RUN_TIMEOUT_S, child.kill)
        watchdog.start()
        try:
            stdout, stderr = child.communicate()
        finally:
            watchdog.cancel()
        if child.returncode != 0:
            raise RuntimeError(
                f"{Path(args[0]).name} failed ({child.returncode}): "
                f"{stderr.strip() or stdout.strip()}"
            )

    def start(self) -> None:
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-w",
            "-t",
            "60",
            "-l",
            str(self.base / "server.log"),
            "-o",
            f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-w", "-m", mode, "stop")

    def create_database(self) -> str:
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=bandeau dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=bandeau dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def start_cluster() -> PgCluster:
    bindir = find_bindir()
    base = Path(tempfile.mkdtemp(prefix="bandeau-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
        as_user = ["setpriv", "--reuid=postgres", "--regid=postgres", "--clear-groups", "--"]
    cluster = PgCluster(bindir, base, _free_port(), as_user)
    cluster._run(
        str(bindir / "initdb"),
        "-D",
        str(cluster.data),
        "-U",
        "bandeau",
        "-A",
        "trust",
        "-E",
        "UTF8",
        "--locale=C",
        "--no-sync",
    )
    cluster.start()
    return cluster


def remove_cluster(cluster: PgCluster) -> None:
    try:
        cluster.stop("immediate")
    finally:
        shutil.rmtree(cluster.base, ignore_errors=True)
