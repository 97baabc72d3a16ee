"""The bundle an agent's PC gets: built by installer/build.py from the base dependencies only,
smoke-tested by its own `--self-test`, and `bandeau --self-test` itself."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app import selftest
from tests.processes import child_env

ROOT = Path(__file__).parent.parent
sys.path.insert(0, str(ROOT / "installer"))
import layout  # noqa: E402


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """dist/bandeau/, built exactly as documented, in a fresh environment of its own."""
    where = tmp_path_factory.mktemp("bundle")
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "installer" / "build.py"),
            "--env",
            str(where / "env"),
            "--dist",
            str(where / "dist"),
        ],
        capture_output=True,
        text=True,
        timeout=1200,
        env={**child_env(), "PIP_CACHE_DIR": str(tmp_path_factory.getbasetemp() / "pip-cache")},
        check=False,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    assert "self-test passed (bundle): 6 checks" in done.stdout, done.stdout[-3000:]
    return Path(where / "dist" / layout.NAME)


@pytest.mark.slow
def test_the_bundle_holds_the_bar_and_nothing_of_the_store(bundle: Path) -> None:
    internal = bundle / layout.INTERNAL
    assert (bundle / layout.EXECUTABLE).is_file()
    for part in layout.SERVER_PARTS:
        assert not (internal / part).exists(), part
    assert (internal / "resources" / "translations" / "bandeau_fr.qm").is_file()
    assert not (internal / "resources" / "screenshots").exists()
    assert [p.name for p in (internal / "PySide6/Qt/translations").iterdir()] == ["qtbase_fr.qm"]
    # keyring's entry points travel with it (without them: "no keyring", silently).
    assert list(internal.glob("keyring-*.dist-info/entry_points.txt"))
    size = sum(p.lstat().st_size for p in bundle.rglob("*") if p.is_file())
    assert size < 400e6  # a sanity bound only (a forgotten exclusion doubles it)


@pytest.mark.slow
def test_the_bundles_demo_says_the_stores_parts_are_missing(bundle: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [str(bundle / layout.EXECUTABLE), "--data-dir", str(tmp_path), "demo"],
        capture_output=True,
        text=True,
        timeout=60,
        env=child_env(),
        check=False,
    )
    assert done.returncode == 1
    assert "the embedded store needs the server's parts" in done.stderr


@pytest.mark.slow
def test_the_bundles_self_test_leaves_an_agents_journal_alone(bundle: Path, tmp_path: Path) -> None:
    journal = tmp_path / "journal.sqlite3"
    journal.write_bytes(b"not touched")
    done = subprocess.run(
        [str(bundle / layout.EXECUTABLE), "--self-test", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        env=child_env(),
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert journal.read_bytes() == b"not touched"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["journal.sqlite3"]


@pytest.mark.gui
def test_the_self_test_passes_from_source_and_says_each_check(
    qapp: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QT_QPA_PLATFORM", os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    lines: list[str] = []
    assert selftest.run_self_test(str(tmp_path), out=lines.append) == selftest.EXIT_OK
    names = [line.split(":")[0].split()[-1] for line in lines[:-1]]
    assert names == ["journal", "resources", "bar", "translations", "keyring", "platforms"]
    assert all(line.startswith("ok") for line in lines[:-1]), lines
    assert lines[-1] == "self-test passed: 6 checks"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.gui
def test_a_frozen_app_without_keyrings_entry_points_fails_its_self_test(
    qapp: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a bundle built without keyring's metadata looks like from inside."""
    import importlib.metadata

    monkeypatch.setenv("QT_QPA_PLATFORM", os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    real = importlib.metadata.entry_points

    def no_backends(**selection: str) -> object:
        if selection.get("group") == "keyring.backends":
            return []
        return real(**selection)

    monkeypatch.setattr(importlib.metadata, "entry_points", no_backends)
    lines: list[str] = []
    assert selftest.run_self_test(str(tmp_path), out=lines.append) == selftest.EXIT_FAILED
    keyring_line = next(line for line in lines if "keyring:" in line)
    assert keyring_line.startswith("FAIL") and "no entry point" in keyring_line
    assert lines[-1] == "self-test FAILED: keyring"
