"""The site-scale scripts (tests/load/) run, small, so that they do not rot between the runs
that give the README its figures. Their timings are not checked (shared, noisy machines);
what they check of correctness is: every event in the store exactly once, the store's
figures those expected, the faults' outcomes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    return done.stdout


def line(out: str, start: str) -> str:
    found = [text for text in out.splitlines() if text.strip().startswith(start)]
    assert found, out
    return found[0]


def test_a_small_site_day_stores_every_event_once() -> None:
    out = run(
        "tests.load.site", "--store", "sqlite", "--agents", "80", "--bar-streams", "10",
        "--lead-streams", "2", "--wave-s", "3", "--minutes", "0.15", "--procs", "2",
    )  # fmt: skip
    # Two plateaux, one generator process each: the count is over both.
    assert "80 agents, 10 bar streams, 2 lead streams, 2 generator process(es)" in out, out
    assert line(out, "count check").endswith("ok"), out
    assert line(out, "errors").split()[1] == "0", out
    assert "stream lag, events" in out, out  # the streams did carry the clicks


def test_a_small_herd_is_taken_whole() -> None:
    out = run(
        "tests.load.site", "--store", "sqlite", "--herd", "--agents", "30", "--online", "50",
        "--herd-s", "2", "--calm-s", "2", "--herd-hours", "2", "--procs", "2",
    )  # fmt: skip
    # 2 hours queued each: the shift's start and a click every 2 minutes.
    assert "30 agents with 2 h queued (1830 events)" in out, out
    assert "50 others online meanwhile; 2 generator process(es)" in out, out
    assert line(out, "count check").endswith("ok"), out
    assert line(out, "other errors").split()[2] == "0", out


def test_the_fault_matrix_holds_in_a_short_pass() -> None:
    out = run("tests.load.faults", "--rounds", "2", "--partition-s", "4", "--seed", "5")
    rows = [text for text in out.splitlines() if text.startswith("| ") and "fault" not in text]
    assert len(rows) == 7, out
    assert all(text.rstrip(" |").endswith("ok") for text in rows), out
