"""The repository's promises: the README's commands, CI running exactly the test command."""

from __future__ import annotations

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
