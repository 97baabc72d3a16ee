"""Reports from the store (SQLite and PostgreSQL): the CLI, JSON and Excel-ready CSV."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from app.server import auth, ingest
from app.server.db import make_engine
from tests.server.test_store_admin import cli
from tests.servers import PASSWORD, seed, wire_event

PARIS = ZoneInfo("Europe/Paris")


def at(day: str, clock: str) -> int:
    local = datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=PARIS)
    return int(local.astimezone(UTC).timestamp() * 1000)


def clicks(
    engine: Engine, login: str, device: str, steps: list[tuple[str, str, str, str | None]]
) -> None:
    person = auth.sign_in(engine, login=login, password=PASSWORD, device_id=None).person
    events = [
        wire_event(
            n,
            agent=login,
            device_id=device,
            kind=kind,
            key=key,
            occurred_at_ms=at(day, clock),
            activity="Assurance Auto",
        )
        for n, (day, clock, kind, key) in enumerate(steps, 1)
    ]
    result = ingest.ingest(engine, person, events, now_ms=at("2026-11-28", "12:00"), offset_ms=0)
    assert len(result.accepted) == len(events), result.rejected


@pytest.fixture
def stored(store_url: str) -> str:
    seed(store_url)
    engine = make_engine(store_url)
    clicks(
        engine,
        "marie",
        "00000000-0000-4000-8000-0000000000a1",
        [
            ("2026-11-26", "09:00", "shift_start", None),
            ("2026-11-26", "09:05", "status", "production"),
            ("2026-11-26", "10:30", "status", "pause"),
            ("2026-11-26", "10:50", "status", "production"),  # 20 min: 5 over Nord's 15
            ("2026-11-26", "17:00", "shift_end", None),
            ("2026-11-27", "09:00", "shift_start", None),
            ("2026-11-27", "09:00", "status", "off"),
            ("2026-11-27", "12:00", "shift_end", None),
        ],
    )
    clicks(
        engine,
        "paul",
        "00000000-0000-4000-8000-0000000000b1",
        [
            ("2026-11-26", "22:00", "shift_start", None),
            ("2026-11-26", "22:00", "status", "production"),
            ("2026-11-27", "02:00", "shift_end", None),  # a night shift across midnight
        ],
    )
    engine.dispose()
    return store_url


def report(
    store_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    return cli(
        store_url,
        "report",
        "--plateau",
        "Nord",
        "--from",
        "2026-11-26",
        "--to",
        "2026-11-27",
        *args,
        monkeypatch=monkeypatch,
        capsys=capsys,
    )


def test_a_report_per_agent_per_day_and_in_detail(
    stored: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = report(stored, monkeypatch, capsys, "--format", "json")
    assert code == 0, err
    rows = {r["agent"]: r for r in map(json.loads, out.splitlines())}
    marie = rows["marie"]
    assert marie["production_s"] == (85 + 370) * 60
    assert marie["pause_s"] == 20 * 60 and marie["pauses"] == 1
    assert marie["over_threshold_s"] == 5 * 60
    assert marie["off_s"] == 3 * 3600 and marie["unclassified_s"] == 5 * 60
    assert marie["presence_s"] == 8 * 3600 + 3 * 3600
    assert rows["paul"]["production_s"] == 4 * 3600
    assert rows["lea"]["presence_s"] == 0

    code, out, _ = report(stored, monkeypatch, capsys, "--format", "json", "--by", "day")
    days = {r["day"]: r for r in map(json.loads, out.splitlines())}
    # Paul's night is split at midnight: 2 h on each day.
    assert days["2026-11-26"]["production_s"] == (85 + 370) * 60 + 2 * 3600
    assert days["2026-11-27"]["production_s"] == 2 * 3600

    code, out, _ = report(
        stored, monkeypatch, capsys, "--format", "json", "--day-starts-at", "06:00", "--by", "day"
    )
    days = {r["day"]: r for r in map(json.loads, out.splitlines())}
    assert days["2026-11-26"]["production_s"] == (85 + 370) * 60 + 4 * 3600  # his whole night

    code, out, _ = report(stored, monkeypatch, capsys, "--format", "json", "--by", "detail")
    detail = [json.loads(line) for line in out.splitlines()]
    assert {(r["agent"], r["day"], r["activity"]) for r in detail} >= {
        ("marie", "2026-11-26", "Assurance Auto"),
        ("marie", "2026-11-27", "Assurance Auto"),
    }


def test_csv_for_excel_in_french(
    stored: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = report(stored, monkeypatch, capsys, "--separator", ";", "--decimal-comma")
    assert code == 0, err
    assert out.startswith("\ufeff")  # UTF-8 with a BOM: Excel reads the accents right
    table = list(csv.reader(io.StringIO(out.lstrip("\ufeff")), delimiter=";"))
    header, rows = table[0], {r[0]: dict(zip(table[0], r, strict=True)) for r in table[1:]}
    assert header[:2] == ["agent", "name"] and "production" in header
    assert rows["marie"]["production"] == "7:35:00" and rows["marie"]["production_s"] == "27300"
    assert rows["marie"]["production_share"] == "0,6894"
    assert out.count("\r\n") == len(table)


@pytest.mark.parametrize("by", ["agent", "activity", "day", "detail"])
def test_an_empty_period_still_gives_every_column(
    stored: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], by: str
) -> None:
    # Nobody worked in Nord in 2025: the CSV still names its columns, identity first.
    code, out, err = cli(
        stored,
        "report",
        "--plateau",
        "Nord",
        "--from",
        "2025-01-01",
        "--to",
        "2025-01-31",
        "--by",
        by,
        monkeypatch=monkeypatch,
        capsys=capsys,
    )
    assert code == 0, err
    table = list(csv.reader(io.StringIO(out.lstrip("\ufeff"))))
    ident = {
        "agent": ["agent", "name"],
        "activity": ["activity"],
        "day": ["day"],
        "detail": ["agent", "name", "day", "activity"],
    }[by]
    assert table[0][: len(ident)] == ident
    assert table[0][len(ident) :][:2] == ["production", "production_s"]
    assert table[0][-3:] == ["pauses", "corrections", "late_events"]
    # Per agent, everyone of the plateau has a row of zeros; otherwise no rows.
    assert len(table) == (4 if by == "agent" else 1)


def test_french_headers_for_the_french_csv(
    stored: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = report(
        stored, monkeypatch, capsys, "--separator", ";", "--decimal-comma", "--lang", "fr"
    )
    assert code == 0, err
    table = list(csv.reader(io.StringIO(out.lstrip("\ufeff")), delimiter=";"))
    header = table[0]
    assert header[:4] == ["Identifiant", "Nom", "Production", "Production (s)"]
    assert "Hors production" in header and "Part de production" in header
    assert all("_" not in name for name in header)  # no machine names left
    rows = {r[0]: dict(zip(header, r, strict=True)) for r in table[1:]}
    assert rows["marie"]["Production"] == "7:35:00"
    assert rows["marie"]["Part de production"] == "0,6894"


def test_bad_report_requests_say_why(
    stored: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for args, why in (
        (
            ["--plateau", "Nowhere", "--from", "2026-11-26", "--to", "2026-11-27"],
            "no plateau named",
        ),
        (["--plateau", "Nord", "--from", "2026-11-27", "--to", "2026-11-26"], "before --from"),
        (["--plateau", "Nord", "--from", "27/11/2026", "--to", "2026-11-27"], "like 2026-11-27"),
        (
            [
                "--plateau",
                "Nord",
                "--from",
                "2026-11-26",
                "--to",
                "2026-11-27",
                "--tz",
                "Mars/Olympus",
            ],
            "time zone",
        ),
    ):
        code, _, err = cli(stored, "report", *args, monkeypatch=monkeypatch, capsys=capsys)
        assert (code, why in err) == (1, True), err
