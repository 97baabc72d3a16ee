"""The repository's promises: the README's commands, CI running exactly the test command."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).parent.parent


def _commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```sh\n(.+?)\n```", readme)


def test_readme_opens_with_the_two_commands() -> None:
    run, test = _commands()[:2]
    assert run.startswith("python3 -m venv .venv") and run.endswith("bandeau demo")
    assert test.startswith("python3 -m venv .venv") and "pytest" in test
    for tool in ("ruff check", "ruff format --check", "mypy"):
        assert tool in test


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    lines = ci.splitlines()
    assert _commands()[1] in lines
    assert ci.startswith("#!/usr/bin/env bash")
    assert "set -euo pipefail" in ci
    # An && list does not stop `set -e` (a failed format check once let CI pass): the next
    # line checks the command's status.
    after = lines[lines.index(_commands()[1]) + 1]
    assert after.startswith("status=$?; if ((status)); then") and 'exit "$status"' in after


def test_ci_fails_when_the_test_command_fails(tmp_path: Path) -> None:
    """The same two lines as .ci/run, with a command that fails half-way: the script stops
    with its status instead of going on."""
    import subprocess

    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    at = ci.index(_commands()[1])
    script = tmp_path / "run"
    lines = ["#!/usr/bin/env bash", "set -euo pipefail", "true && false && true", ci[at + 1]]
    script.write_text("\n".join([*lines, "echo went-on"]) + "\n", encoding="utf-8")
    done = subprocess.run(["bash", str(script)], capture_output=True, text=True, check=False)
    assert done.returncode == 1 and "went-on" not in done.stdout


def test_no_plaintext_keyring_dependency() -> None:
    assert "keyrings.alt" not in (ROOT / "pyproject.toml").read_text(encoding="utf-8")


SERVER_ONLY = (
    "app.server",
    "app.demo",
    "app.sim",
    "fastapi",
    "uvicorn",
    "starlette",
    "orjson",
    "alembic",
    "psycopg",
    "pydantic",
)
QT_SQL_HTTP = ("PySide6", "sqlalchemy", "httpx", "sqlite3", "keyring", "fastapi")


def imports_of(path: Path) -> list[tuple[str, str]]:
    """(module imported, the function it is imported in or "") for every import of a file."""
    found: list[tuple[str, str]] = []

    def visit(node: ast.AST, function: str) -> None:
        for child in ast.iter_child_nodes(node):
            inside = (
                child.name
                if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
                else function
            )
            if isinstance(child, ast.Import):
                found.extend((alias.name, inside) for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and not child.level:
                found.append((child.module, inside))
            visit(child, inside)

    visit(ast.parse(path.read_text(encoding="utf-8")), "")
    return found


def test_the_bar_imports_nothing_of_the_server() -> None:
    """What an agent's PC runs never needs the server extra (tests/test_install.py runs it
    without it). The demo is the one door, and it checks for the extra first."""
    app_dir = ROOT / "app"
    bar_files = [
        p
        for p in app_dir.rglob("*.py")
        if "server" not in p.parts and p.name not in ("demo.py", "sim.py")
    ]
    wrong = [
        f"{p.relative_to(ROOT)}: {module}"
        for p in bar_files
        for module, function in imports_of(p)
        if module.startswith(SERVER_ONLY) and not (p.name == "cli.py" and function == "_demo")
    ]
    assert wrong == []


def test_the_domain_is_pure_python() -> None:
    wrong = [
        f"{p.relative_to(ROOT)}: {module}"
        for p in (ROOT / "app" / "domain").rglob("*.py")
        for module, _function in imports_of(p)
        if module.startswith(QT_SQL_HTTP)
    ]
    assert wrong == []


# What the bar's widgets must not reach themselves: the journal, the network, the keyring.
# They render the desk's state (app.desk) and forward what the person asks.
BAR_WIDGETS = ("bar.py", "signin.py", "dialogs.py", "keybutton.py", "tray.py", "dayview.py")
WIDGETS_NEVER = (
    "app.journal.store",
    "app.sync",
    "app.credentials",
    "app.exports",
    "app.instance",
    "app.startup",
    "httpx",
    "keyring",
    "sqlite3",
    "sqlalchemy",
)


def test_the_desk_runs_without_qt() -> None:
    wrong = [
        f"{p.relative_to(ROOT)}: {module}"
        for p in (ROOT / "app" / "desk").rglob("*.py")
        for module, _function in imports_of(p)
        if module.startswith(("PySide6", "app.ui", "sqlalchemy"))
    ]
    assert wrong == []


def test_the_bars_widgets_touch_no_journal_network_or_keyring() -> None:
    """The one exception is the lead's panel's correction sender in dayview (the panel is a
    view of the store, not of this PC's desk), named here so that it stays the only one."""
    wrong = [
        f"{name}: {module} (in {function or 'the module'})"
        for name in BAR_WIDGETS
        for module, function in imports_of(ROOT / "app" / "ui" / name)
        if module.startswith(WIDGETS_NEVER)
        and not (name == "dayview.py" and function == "correction_sender")
    ]
    assert wrong == []


def test_no_circle_between_the_bar_and_its_sign_in() -> None:
    """The sign-in dialog knows the desk, not the bar (even for type checking)."""
    assert not [m for m, _f in imports_of(ROOT / "app" / "ui" / "signin.py") if m == "app.ui.bar"]


def test_the_folders_say_where_a_click_goes() -> None:
    """A newcomer finds, from the names alone: the widgets (ui), the application logic
    (desk), the journal, the sync, the pure rules (domain), the store (server)."""
    folders = {p.name for p in (ROOT / "app").iterdir() if (p / "__init__.py").exists()}
    assert {"ui", "desk", "journal", "sync", "domain", "server"} <= folders
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "app/desk/" in text
