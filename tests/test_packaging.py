"""The wheel carries its resources and runs from them, away from the source tree."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.processes import BarProcess, child_env, run

pytestmark = pytest.mark.slow
ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = out.glob("bandeau-*.whl")
    return built


def test_the_wheel_holds_every_resource(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in (ROOT / "resources").rglob("*"):
        rel = path.relative_to(ROOT / "resources")
        if path.is_file() and path.suffix in (".svg", ".qss", ".qm"):
            assert f"app/_resources/{rel.as_posix()}" in names
    assert not any("screenshots" in n for n in names)  # README pictures stay out


def test_the_wheel_holds_every_module(wheel: Path) -> None:
    """A package left out of pyproject's list would crash the installed bar at import."""
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in (ROOT / "app").rglob("*.py"):
        assert path.relative_to(ROOT).as_posix() in names


def test_the_installed_wheel_runs_on_its_own_resources(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    env = child_env(PYTHONPATH=str(target))
    where = subprocess.run(
        [
            sys.executable,
            "-c",
            "import app, app.resources; print(app.__file__); print(app.resources.resources_dir())",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        cwd=tmp_path,
    ).stdout.split()
    assert where[0].startswith(str(target))
    assert where[1] == str(target / "app" / "_resources")
    data_dir = tmp_path / "data"
    # Run away from the source tree: `python -m app` would otherwise find ./app first.
    bar = BarProcess(data_dir, env=env, cwd=tmp_path)
    try:
        bar.wait_ready()
        done = run("--data-dir", str(data_dir), "key", "pause", env=env, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    finally:
        bar.stop()
    assert "cannot load the fr translation" not in bar.stderr
