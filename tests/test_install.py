"""What an agent's PC gets: the package with its base dependencies only, in a virtual
environment of its own (the test extras installed here would hide a missing one)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from app.instance import send_request
from tests.processes import BarProcess, child_env, run, wait_until
from tests.servers import PASSWORD, Served
from tests.test_signin import server_events

pytestmark = pytest.mark.slow
ROOT = Path(__file__).parent.parent
SERVER_PARTS = ("fastapi", "uvicorn", "orjson", "alembic", "psycopg", "starlette", "pydantic")


@pytest.fixture(scope="module")
def agent_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with `pip install <the project>` and nothing else: its python."""
    where = tmp_path_factory.mktemp("agent-pc")
    subprocess.run([sys.executable, "-m", "venv", str(where / "venv")], check=True, timeout=300)
    python = where / "venv" / "bin" / "python"
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-input", str(ROOT)],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=where,
        env={**child_env(), "PIP_CACHE_DIR": str(tmp_path_factory.getbasetemp() / "pip-cache")},
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return python


def test_the_base_install_has_no_server_parts(agent_venv: Path) -> None:
    installed = subprocess.run(
        [str(agent_venv), "-m", "pip", "list", "--format=freeze"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout.lower()
    names = {line.split("==")[0].replace("_", "-") for line in installed.splitlines()}
    assert not names & set(SERVER_PARTS), names & set(SERVER_PARTS)


def test_a_bar_from_the_base_install_signs_in_and_syncs(
    agent_venv: Path, tmp_path: Path, live_server: Served, seeded_url: str
) -> None:
    """The bar once crashed as its journal opened (its stream client imported orjson,
    which only the server extra brings): every key was refused."""
    data = tmp_path / "bar"
    python = str(agent_venv)
    env = child_env()
    # Away from the source tree: `python -m app` must find the installed package.
    bar = BarProcess(data, env=env, cwd=tmp_path, python=python)
    try:
        bar.wait_ready()
        assert (
            run("--data-dir", str(data), "key", "off", python=python, cwd=tmp_path).returncode == 0
        )
        done = run(
            "--data-dir",
            str(data),
            "signin",
            "--server",
            live_server.base_url,
            "--login",
            "marie",
            "--password-stdin",
            input_text=PASSWORD + "\n",
            python=python,
            cwd=tmp_path,
        )
        assert done.returncode == 0, done.stderr
        assert (
            run("--data-dir", str(data), "key", "pause", python=python, cwd=tmp_path).returncode
            == 0
        )
        wait_until(
            lambda: (
                (s := send_request(data, {"cmd": "status"})["state"])["sync"]
                and s["sync"]["state"] == "synced"
            )
        )
        assert ("marie", "pause") in server_events(seeded_url)
    finally:
        bar.stop()
    assert "Traceback" not in bar.stderr, bar.stderr


def test_a_local_bar_starts_without_the_heavy_modules(tmp_path: Path) -> None:
    """The light start: the journal is the standard library's sqlite3, the network and the
    keyring are loaded only once signed in (SQLAlchemy alone was +26 MB and 0.4 s)."""
    import json

    child = Path(__file__).parent / "children" / "modules_when_ready.py"
    done = subprocess.run(
        [sys.executable, str(child), str(tmp_path / "data")],
        capture_output=True,
        text=True,
        timeout=120,
        env=child_env(),
        check=False,
    )
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert loaded == []
