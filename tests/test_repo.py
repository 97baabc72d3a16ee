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
    assert _commands()[1] in ci.splitlines()
    assert ci.startswith("#!/usr/bin/env bash")
    assert "set -euo pipefail" in ci


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
