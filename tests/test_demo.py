"""`bandeau demo`, run as a user would: a real process, a click, Ctrl+C."""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path

import httpx
import pytest

from app.server.db import default_url
from tests.processes import BarProcess, run, wait_until
from tests.test_signin import server_events

pytestmark = pytest.mark.slow


def stored_keys(store_dir: Path) -> dict[str, list[str | None]]:
    found: dict[str, list[str | None]] = {}
    for login, key in server_events(default_url(store_dir)):
        found.setdefault(login, []).append(key)
    return found


def test_the_demo_runs_a_click_reaches_its_store_and_ctrl_c_stops_it(tmp_path: Path) -> None:
    demo = BarProcess(tmp_path, "demo", "--agents", "3", "--speed", "120")
    try:
        demo.wait_ready(timeout=90)
        # Its data is in --data-dir itself, as asked (not in a "demo" folder under it).
        assert f"data in {tmp_path}\n" in demo.stderr
        # The simulated agents have sent their morning to the embedded store.
        store = tmp_path / "store"
        assert {"agent01", "agent02", "agent03"} <= set(stored_keys(store))
        # The demo's bar is a real bar, signed in as the demo agent: a click reaches the store.
        click = run("--data-dir", str(tmp_path / "bar"), "key", "production")
        assert click.returncode == 0, click.stderr
        wait_until(lambda: "production" in stored_keys(store).get("vous", []))
        # Its people's logins and passwords are printed: a second bar can sign in as Léa.
        line = next(x for x in demo.stderr.splitlines() if x.strip().startswith("lea "))
        password = line.split()[1]
        server = re.search(r"serving on (http://\S+)", demo.stderr)
        assert server is not None
        signed = httpx.post(
            f"{server.group(1)}/v1/signin", json={"login": "lea", "password": password}
        )
        assert signed.status_code == 200, signed.text
    finally:
        if demo.proc.poll() is None:
            demo.proc.send_signal(signal.SIGINT)  # Ctrl+C
        code = demo.proc.wait(timeout=60)
        demo._drain()
    assert code == 0, demo.stderr
    assert "bandeau demo: stopped" in demo.stderr
    assert "Traceback" not in demo.stderr


def test_the_demo_without_a_display_says_how_and_writes_nothing(
    tmp_path: Path, isolated: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("QT_QPA_PLATFORM", None)
    data = tmp_path / "demo-data"
    done = run("--data-dir", str(data), "demo", env=env)
    assert done.returncode == 3
    assert "QT_QPA_PLATFORM=offscreen python -m app demo" in done.stderr  # as it was run
    assert not data.exists()
    # Without --data-dir either: nothing in the user's data dir (no log, no folder).
    done = run("demo", env=env)
    assert done.returncode == 3
    assert not (isolated / "bandeau-data").exists()
    assert run("--data-dir", str(data), "demo", "--agents", "0").returncode == 2
