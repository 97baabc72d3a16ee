"""Run real `bandeau` processes from tests: the bar in the background, commands to completion."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from app.ui.app import READY_LINE

READY_TIMEOUT_S = 60.0


def wait_until(check: Callable[[], Any], timeout: float = 30) -> Any:
    """Poll a condition across processes (like qtbot.waitUntil), up to a deadline."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        pause.wait(0.05)


def bandeau(*args: str, python: str = sys.executable) -> list[str]:
    return [python, "-m", "app", *args]


def child_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)  # already isolated by the autouse fixture
    env["QT_QPA_PLATFORM"] = "offscreen"
    env.update(extra)
    return env


def run(
    *args: str,
    env: dict[str, str] | None = None,
    timeout: float = 60,
    prefix: Sequence[str] = (),
    cwd: Path | None = None,
    input_text: str | None = None,
    python: str = sys.executable,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*prefix, *bandeau(*args, python=python)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env or child_env(),
        input=input_text,
        stdin=subprocess.DEVNULL if input_text is None else None,
        check=False,
        cwd=cwd,
    )


def without_root_powers() -> list[str]:
    """A command prefix under which file permissions apply even to root.

    Tests (and CI) run as root, who may write anywhere: setpriv drops the capabilities that
    override permissions, so a read-only folder is read-only again.
    """
    if os.geteuid() != 0:
        return []
    return ["setpriv", "--bounding-set", "-dac_override,-dac_read_search,-fowner", "--"]


class BarProcess:
    """A real bar in a child process, on its own data dir."""

    def __init__(
        self,
        data_dir: Path | None,
        *args: str,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        python: str = sys.executable,
        program: Sequence[str] = (),
    ) -> None:
        """`program`: the command to run instead of this Python's `-m app` (a bundle's
        executable); `data_dir` None: the bar's own default (the environment's)."""
        self.data_dir = data_dir
        where = ("--data-dir", str(data_dir)) if data_dir is not None else ()
        command = [*program, *where, *args] if program else bandeau(*where, *args, python=python)
        self.proc = subprocess.Popen(
            command,
            env=env or child_env(),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self.stderr = ""

    def wait_ready(self, timeout: float = READY_TIMEOUT_S) -> None:
        """Read the bar's stderr until it says it is ready (or fail with what it said)."""
        assert self.proc.stderr is not None
        fd = self.proc.stderr.fileno()
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while READY_LINE not in self.stderr:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"the bar did not start: {self.stderr!r}")
                if not sel.select(left):
                    continue
                chunk = os.read(fd, 65536)
                if not chunk:
                    raise RuntimeError(
                        f"the bar exited ({self.proc.wait()}) before it was ready: {self.stderr!r}"
                    )
                self.stderr += chunk.decode("utf-8", "replace")

    def kill(self) -> None:
        """SIGKILL: no cleanup of any kind, as in a crash or a power cut."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        self._drain()

    def stop(self) -> int:
        """SIGTERM: the bar quits cleanly (the shift stays open)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()  # never leave a bar behind a failed test
            raise
        self._drain()
        return code

    def _drain(self) -> None:
        if self.proc.stderr is not None:
            self.stderr += self.proc.stderr.read().decode("utf-8", "replace")
            self.proc.stderr.close()


def spawn_key(
    data_dir: Path, key: str, note: str | None = None, extra: Sequence[str] = ()
) -> subprocess.Popen[str]:
    args = ["--data-dir", str(data_dir), "key", key, *extra]
    if note is not None:
        args += ["--note", note]
    return subprocess.Popen(
        bandeau(*args),
        env=child_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def recorded_uuids(stdout: str) -> list[str]:
    """The uuids a successful `bandeau key` printed."""
    return [
        part.split("=", 1)[1]
        for line in stdout.splitlines()
        if line.startswith("recorded")
        for part in line.split()
        if part.startswith("uuid=")
    ]
