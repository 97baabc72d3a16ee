"""The store's schema and the admin CLI, on SQLite and on PostgreSQL."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, UniqueConstraint, insert, inspect, select

from app.server import migrate
from app.server import models as m
from app.server.cli import main
from app.server.db import make_engine
from app.server.directory import describe_plateaux
from app.server.security import (
    hash_password,
    needs_rehash,
    new_token,
    token_hash,
    verify_password,
)


def cli(
    url: str,
    *args: str,
    stdin: str = "",
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(["--db", url, *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def run(store_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    def _run(*args: str, stdin: str = "") -> tuple[int, str, str]:
        return cli(store_url, *args, stdin=stdin, monkeypatch=monkeypatch, capsys=capsys)

    return _run


def test_migrations_build_exactly_the_models(store: Engine) -> None:
    """The hand-written migration and app.server.models describe the same tables."""
    assert migrate.current(store) == migrate.head()
    found = inspect(store)
    for table in m.metadata.sorted_tables:
        columns = {c["name"] for c in found.get_columns(table.name)}
        assert columns == {c.name for c in table.columns}, table.name
        indexes = {i["name"] for i in found.get_indexes(table.name)}
        assert {i.name for i in table.indexes} <= indexes, table.name
        uniques = {tuple(u["column_names"]) for u in found.get_unique_constraints(table.name)}
        wanted = {
            tuple(c.name for c in u.columns)
            for u in table.constraints
            if isinstance(u, UniqueConstraint) and len(u.columns) > 1
        }
        assert wanted <= uniques, (table.name, wanted, uniques)
    assert set(found.get_table_names()) == {t.name for t in m.metadata.sorted_tables} | {
        "alembic_version"
    }
    assert migrate.upgrade(store) == migrate.head()  # running again changes nothing


def test_an_id_is_never_given_twice_even_after_its_row_is_purged(store_url: str) -> None:
    """Events and corrections keep their ids through the migration that makes SQLite's
    AUTOINCREMENT them (0008); after it, deleting the newest row does not free its id for
    the next one (the live hub follows events by id)."""
    from alembic import command

    from app.server.directory import NewPerson, add_person, add_plateau

    engine = make_engine(store_url)
    config = migrate._config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0007")

    def add_event(conn, seq: int) -> int:  # type: ignore[no-untyped-def]
        row = dict(
            uuid=f"00000000-0000-4000-8000-{seq:012d}", device_id="d", seq=seq, person_id=person,
            plateau_id=plateau, kind="status", key="pause", client_at=seq, received_at=seq,
            corrected_at=seq, clock_offset_ms=0, tz_name="Europe/Paris", utc_offset_s=3600,
            monotonic_ms=seq,
        )  # fmt: skip
        return int(conn.execute(insert(m.events).values(**row)).inserted_primary_key[0])

    with engine.begin() as conn:
        plateau = add_plateau(conn, name="Nord")
        person = add_person(
            conn, NewPerson("marie", "Marie", "agent", ("Nord",)), password_hash=None
        )
        ids = [add_event(conn, seq) for seq in (1, 2, 3)]
    assert migrate.upgrade(engine) == migrate.head()
    with engine.begin() as conn:
        kept = conn.execute(select(m.events.c.id, m.events.c.seq).order_by(m.events.c.id)).all()
        assert [tuple(r) for r in kept] == list(zip(ids, (1, 2, 3), strict=True))
        conn.execute(m.events.delete().where(m.events.c.id == ids[-1]))
        assert add_event(conn, 4) > ids[-1]
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            for table in ("events", "corrections"):
                sql = conn.exec_driver_sql(
                    "SELECT sql FROM sqlite_master WHERE name = ?", (table,)
                ).scalar_one()
                assert "AUTOINCREMENT" in sql, table
    engine.dispose()


def test_init_with_an_admin(run, store_url: str) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run(
        "init", "--admin", "Alice", "--password-stdin", stdin="correct horse battery\n"
    )
    assert code == 0, err
    assert out == ""  # the password came from stdin: nothing to print
    engine = make_engine(store_url)
    with engine.connect() as conn:
        row = conn.execute(select(m.people).where(m.people.c.login == "alice")).mappings().one()
    engine.dispose()
    assert row["role"] == "admin"
    assert verify_password("correct horse battery", row["password_hash"])
    assert "correct horse" not in row["password_hash"]
    code, _, err = run("init", "--admin", "alice", "--password-stdin", stdin="another pass\n")
    assert code == 1
    assert "already exists" in err


def test_commands_need_an_initialised_store(run) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run("plateau", "list")
    assert code == 1
    assert "bandeau-server init" in err


def test_plateaux_and_activities(run) -> None:  # type: ignore[no-untyped-def]
    assert run("init")[0] == 0
    assert run("plateau", "add", "Plateau Nord", "--pause-threshold", "10")[0] == 0
    code, _, err = run("plateau", "add", "Plateau Nord")
    assert (code, "already exists" in err) == (1, True)
    assert run("plateau", "add", "   ")[0] == 1
    assert run("plateau", "add", "Sud", "--pause-threshold", "0")[0] == 1
    assert run("activity", "add", "Assurance Auto", "--plateau", "Plateau Nord")[0] == 0
    assert run("activity", "add", "Banque Pro", "--plateau", "Plateau Nord")[0] == 0
    code, _, err = run("activity", "add", "X", "--plateau", "Nowhere")
    assert (code, "no plateau named 'Nowhere'" in err) == (1, True)
    defaults = "production=Production #1e8e3e, pause=Pause #c77800, off=Hors production #1a73e8"
    code, out, _ = run("plateau", "list", "--json")
    assert [json.loads(x) for x in out.splitlines()] == [
        {"name": "Plateau Nord", "pause_threshold_s": 600, "people": 0, "keys": defaults}
    ]
    # The keys' labels and colours and the threshold are the plateau's; bad values change
    # nothing at all.
    for bad, why in (
        (["--label", "lunch=Repas"], "no key 'lunch'"),
        (["--colour", "pause=orange"], "not like #1e8e3e"),
        (["--label", "off=" + "x" * 25], "1 to 24 characters"),
        (["--label", "off"], "expected KEY=VALUE"),
        (["--pause-threshold", "0", "--label", "off=Formation"], "between 60 s and 4 h"),
    ):
        code, _, err = run("plateau", "set", "Plateau Nord", "--colour", "off=#000000", *bad)
        assert (code, why in err) == (1, True), err
    code, _, err = run("plateau", "set", "Nowhere", "--label", "off=Formation")
    assert (code, "no plateau named 'Nowhere'" in err) == (1, True)
    assert run("plateau", "list", "--json")[1] == out  # unchanged
    assert (
        run(
            "plateau",
            "set",
            "Plateau Nord",
            "--pause-threshold",
            "12",
            "--label",
            "off=Formation",
            "--colour",
            "pause=#FFD54F",
        )[0]
        == 0
    )
    code, out, _ = run("plateau", "list", "--json")
    assert json.loads(out) == {
        "name": "Plateau Nord",
        "pause_threshold_s": 720,
        "people": 0,
        "keys": "production=Production #1e8e3e, pause=Pause #ffd54f, off=Formation #1a73e8",
    }
    code, out, _ = run("activity", "list", "--plateau", "Plateau Nord")
    assert out.splitlines() == [
        "Plateau Nord\tAssurance Auto\tTrue",
        "Plateau Nord\tBanque Pro\tTrue",
    ]


def test_users(run, store_url: str) -> None:  # type: ignore[no-untyped-def]
    run("init")
    run("plateau", "add", "Nord")
    code, out, _ = run(
        "user", "add", "Marie", "--name", "Marie Durand", "--role", "agent", "--plateau", "Nord"
    )
    assert code == 0
    login, password = out.strip().split("\t")
    assert login == "marie"
    assert len(password) >= 12
    code, _, err = run("user", "add", "lea", "--name", "Léa", "--role", "agent")
    assert (code, "at least one plateau" in err) == (1, True)
    code, _, err = run(
        "user",
        "add",
        "bob",
        "--name",
        "Bob",
        "--role",
        "lead",
        "--plateau",
        "Nord",
        "--password-stdin",
        stdin="short\n",
    )
    assert (code, "at least 8 characters" in err) == (1, True)
    code, out, _ = run("user", "list", "--json")
    assert [json.loads(x)["login"] for x in out.splitlines()] == ["marie"]
    # A new password, then disabling revokes the person's tokens at once.
    assert (
        run("user", "reset-password", "marie", "--password-stdin", stdin="a much better one\n")[0]
        == 0
    )
    engine = make_engine(store_url)
    with engine.begin() as conn:
        pid = conn.execute(select(m.people.c.id).where(m.people.c.login == "marie")).scalar()
        stored = conn.execute(select(m.people.c.password_hash).where(m.people.c.id == pid)).scalar()
        assert verify_password("a much better one", stored)
        assert not verify_password(password, stored)
        conn.execute(
            insert(m.tokens).values(person_id=pid, token_hash=token_hash(new_token()), created_at=1)
        )
    code, _, err = run("user", "disable", "marie")
    assert (code, "1 token(s) revoked" in err) == (0, True)
    with engine.connect() as conn:
        assert conn.execute(select(m.tokens.c.revoked_at)).scalar() is not None
        assert conn.execute(select(m.people.c.disabled)).scalar() is True
    engine.dispose()
    assert run("user", "disable", "nobody")[0] == 1


def test_import_is_all_or_nothing(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("init")
    run("plateau", "add", "Nord")
    run("plateau", "add", "Sud")
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "login;name;role;plateaux\npaul;Paul;agent;Nord\nBAD LOGIN;X;agent;Nord\n"
        "zoe;Zoé;boss;Nord\npaul;Paul bis;agent;Sud\nann;Ann;agent;Est\n",
        encoding="utf-8",
    )
    code, out, err = run("user", "import", str(bad))
    assert code == 1
    assert out == ""
    # Every problem at once, with its line, in line order — the store's own (the plateau
    # that does not exist) among them.
    assert err.splitlines()[1:] == [
        "line 3: login 'BAD LOGIN' is not valid: 1 to 64 of a-z 0-9 . _ -, starting with a "
        "letter or digit",
        "line 4: role 'boss' is not one of agent, lead, admin",
        "line 5: login 'paul' appears twice",
        "line 6: no plateau named 'Est'",
    ], err
    assert "4 problem(s), nobody imported" in err
    code, out, err = run("user", "list")
    assert out == ""  # nothing was imported
    # A plateau that does not exist is found inside the transaction: still nothing imported.
    unknown = tmp_path / "unknown.csv"
    unknown.write_text(
        "login,name,role,plateaux\npaul,Paul,agent,Nord\nann,Ann,agent,Est\n", encoding="utf-8"
    )
    code, _, err = run("user", "import", str(unknown))
    assert (code, "no plateau named 'Est'" in err) == (1, True)
    assert run("user", "list")[1] == ""
    good = tmp_path / "good.csv"
    good.write_bytes(
        "\ufefflogin;name;role;plateaux\npaul;Paul;agent;Nord\n"
        "lea;Léa Martin;lead;Nord|Sud\n".encode()
    )  # Excel's BOM
    code, out, err = run("user", "import", str(good))
    assert code == 0, err
    assert [line.split("\t")[0] for line in out.splitlines()] == ["paul", "lea"]
    code, out, _ = run("user", "list")
    assert "lea\tLéa Martin\tlead\tNord|Sud\tFalse" in out.splitlines()
    assert run("user", "import", str(tmp_path / "missing.csv"))[0] == 1


def test_a_bad_database_url(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = cli(
        "mysql://u:topsecret@h/db", "plateau", "list", monkeypatch=monkeypatch, capsys=capsys
    )
    assert code == 2
    assert "unsupported database" in err
    assert "topsecret" not in err


def scrypt_hash(password: str) -> str:
    """A hash as the store kept them before argon2id (scrypt, n=2^14, r=8, p=1)."""
    salt = os.urandom(16)
    key = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    b64 = base64.b64encode
    return f"scrypt$16384$8$1${b64(salt).decode()}${b64(key).decode()}"


def test_password_hashing() -> None:
    stored = hash_password("correct horse")
    # argon2id at OWASP's setting: 19 MiB, 2 passes, 1 lane.
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert verify_password("correct horse", stored)
    assert not verify_password("correct horsE", stored)
    assert not verify_password("x", None)
    assert not verify_password("x", "scrypt$garbage")
    assert not verify_password("x", "$argon2id$garbage")
    assert hash_password("correct horse") != stored  # salted
    assert not needs_rehash(stored)
    old = scrypt_hash("correct horse")  # what an older store kept
    assert verify_password("correct horse", old) and not verify_password("correct horsE", old)
    assert needs_rehash(old)
    weaker = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash("correct horse")
    assert verify_password("correct horse", weaker) and needs_rehash(weaker)
    token = new_token()
    assert len(token) >= 43  # 256 bits, URL-safe base64
    assert token_hash(token) != token
    assert len(token_hash(token)) == 64


def test_events_export(run, store_url: str) -> None:  # type: ignore[no-untyped-def]
    import uuid as uuidlib
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from app.server import ingest
    from app.server.auth import sign_in
    from tests.servers import PASSWORD, seed

    seed(store_url)
    engine = make_engine(store_url)
    person = sign_in(engine, login="marie", password=PASSWORD, device_id=None).person
    paris = ZoneInfo("Europe/Paris")
    device = str(uuidlib.uuid4())
    # 23:30 and 00:30 local: two local days, one UTC day.
    times = [
        datetime(2026, 11, 26, 23, 30, tzinfo=paris),
        datetime(2026, 11, 27, 0, 30, tzinfo=paris),
    ]
    events = [
        {
            "uuid": str(uuidlib.uuid4()),
            "device_id": device,
            "seq": i + 1,
            "agent": "marie",
            "kind": "status",
            "key": "pause",
            "activity": "Assurance Auto",
            "occurred_at_ms": int(t.timestamp() * 1000),
            "tz": "Europe/Paris",
            "utc_offset_s": 3600,
            "monotonic_ms": i,
            "note": "é",
        }
        for i, t in enumerate(times)
    ]
    now = int(times[-1].timestamp() * 1000) + 60_000
    result = ingest.ingest(engine, person, events, now_ms=now, offset_ms=0)
    assert len(result.accepted) == 2
    engine.dispose()
    code, out, err = run("events", "export")
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["uuid"] for r in rows] == [e["uuid"] for e in events]
    assert rows[0]["occurred_at"] == "2026-11-26T22:30:00.000Z"
    assert (rows[0]["agent"], rows[0]["plateau"], rows[0]["activity"], rows[0]["note"]) == (
        "marie",
        "Nord",
        "Assurance Auto",
        "é",
    )
    assert "exported 2 events" in err
    code, out, _ = run("events", "export", "--from", "2026-11-27", "--to", "2026-11-27")
    assert [json.loads(x)["uuid"] for x in out.splitlines()] == [events[1]["uuid"]]
    code, out, _ = run("events", "export", "--agent", "paul")
    assert (code, out) == (0, "")
    assert run("events", "export", "--agent", "ghost")[0] == 1
    code, _, err = run("events", "export", "--from", "27/11/2026")
    assert (code, "not a date" in err) == (1, True)
    code, _, err = run("events", "export", "--tz", "Mars/Olympus")
    assert (code, "unknown time zone" in err) == (2, True)
    code, _, err = run("events", "export", "--from", "2026-11-28", "--to", "2026-11-27")
    assert code == 2


@pytest.mark.parametrize("instant", ["2026-11-27T09:00", "yesterday", "-5"])
def test_a_clock_start_without_its_offset_or_not_an_instant_is_refused(
    store: Engine,
    store_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    instant: str,
) -> None:
    code, _out, err = cli(
        store_url,
        "serve",
        "--port",
        "0",
        "--clock-start",
        instant,
        monkeypatch=monkeypatch,
        capsys=capsys,
    )
    assert code == 2
    assert "--clock-start: an instant with its offset" in err


def test_the_store_files_are_the_servers_user_s_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """They hold password and token hashes and every agent's day: 0600 in a 0700 folder, and
    an older store left readable by others is tightened (never loosened) at the next open."""
    import os
    import stat

    folder = tmp_path / "store"
    url = f"sqlite:///{folder / 'store.sqlite3'}"
    previous = os.umask(0o022)
    try:
        code, _out, err = cli(url, "init", monkeypatch=monkeypatch, capsys=capsys)
    finally:
        given_back = os.umask(previous)
    assert given_back == 0o022  # the command set its own, then gave this process's back
    assert code == 0, err
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()}
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert modes and all(mode & 0o077 == 0 for mode in modes.values()), modes
    store = folder / "store.sqlite3"
    store.chmod(0o644)
    assert cli(url, "plateau", "list", monkeypatch=monkeypatch, capsys=capsys)[0] == 0
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    store.chmod(0o400)  # made read-only on purpose: left so (and refused as such)
    cli(url, "plateau", "list", monkeypatch=monkeypatch, capsys=capsys)
    assert stat.S_IMODE(store.stat().st_mode) == 0o400
    store.chmod(0o600)


def test_an_import_lists_existing_logins_and_unknown_plateaux_with_their_lines(  # type: ignore[no-untyped-def]
    run, tmp_path: Path
) -> None:
    run("init")
    run("plateau", "add", "Nord")
    assert (
        run("user", "add", "paul", "--name", "Paul", "--role", "agent", "--plateau", "Nord")[0] == 0
    )
    csv_file = tmp_path / "people.csv"
    csv_file.write_text(
        "login;name;role;plateaux\nann;Ann;agent;Nord\npaul;Paul;agent;Nord\n"
        "zoe;Zoé;agent;Sud|Est\n",
        encoding="utf-8",
    )
    code, out, err = run("user", "import", str(csv_file))
    assert (code, out) == (1, "")
    assert err.splitlines()[1:] == [
        "line 3: login 'paul' already exists",
        "line 4: no plateau named 'Sud'",
        "line 4: no plateau named 'Est'",
    ], err
    assert [row.split("\t")[0] for row in run("user", "list")[1].splitlines()] == ["paul"]


def test_an_import_refuses_control_characters_by_line_and_imports_nothing(  # type: ignore[no-untyped-def]
    run, tmp_path: Path
) -> None:
    """A NUL (U+0000) in a name made PostgreSQL's insert fail mid-import ("the store failed",
    no line to fix); a tab or a line break in a name breaks every list and CSV it is in."""
    run("init")
    run("plateau", "add", "Nord")
    csv_file = tmp_path / "people.csv"
    csv_file.write_text(
        "login;name;role;plateaux\nann;Ann;agent;Nord\nbob;Bo\x00b;agent;Nord\n"
        "cy;Cy\trus;agent;Nord\ndan;Dan;agent;No\x00rd\n",
        encoding="utf-8",
    )
    code, out, err = run("user", "import", str(csv_file))
    assert (code, out) == (1, "")
    problems = err.splitlines()[1:]
    assert [p.split(":")[0] for p in problems] == ["line 3", "line 4", "line 5"], err
    assert all("control character" in p for p in problems), err
    assert run("user", "list")[1] == ""


def test_a_person_is_changed_re_enabled_and_plateaux_renamed(  # type: ignore[no-untyped-def]
    run, store_url: str
) -> None:
    run("init")
    for plateau in ("Nord", "Sud"):
        run("plateau", "add", plateau)
    run("activity", "add", "Assurance Auto", "--plateau", "Nord")
    run("activity", "add", "Banque Pro", "--plateau", "Nord")
    run("user", "add", "marie", "--name", "Marie", "--role", "agent", "--plateau", "Nord")
    engine = make_engine(store_url)
    with engine.begin() as conn:
        person_id = conn.execute(select(m.people.c.id)).scalar()
        conn.execute(
            insert(m.tokens).values(
                person_id=person_id, token_hash="a" * 64, created_at=1, last_used_at=1
            )
        )
    # A new role and plateaux: her tokens go (what she may see changes at once).
    code, _, err = run(
        "user", "set", "marie", "--role", "lead", "--plateau", "Nord", "--plateau", "Sud"
    )
    assert code == 0 and "1 token(s) revoked" in err, err
    rows = json.loads(run("user", "list", "--json")[1])
    assert (rows["role"], rows["plateaux"]) == ("lead", ["Nord", "Sud"])
    code, _, err = run("user", "set", "marie", "--role", "agent", "--plateau", "Nowhere")
    assert code == 1 and "no plateau named 'Nowhere'" in err
    assert json.loads(run("user", "list", "--json")[1])["role"] == "lead"  # nothing changed
    code, _, err = run("user", "set", "marie")
    assert code == 1 and "nothing to change" in err
    assert run("user", "set", "marie", "--name", "Marie Curie")[0] == 0
    assert json.loads(run("user", "list", "--json")[1])["name"] == "Marie Curie"
    # Disabled, then enabled again.
    run("user", "disable", "marie")
    assert json.loads(run("user", "list", "--json")[1])["disabled"] is True
    assert run("user", "enable", "marie")[0] == 0
    assert json.loads(run("user", "list", "--json")[1])["disabled"] is False
    assert run("user", "enable", "nobody")[0] == 1
    # A plateau renamed keeps its people and activities.
    assert run("plateau", "rename", "Nord", "Nord-Est")[0] == 0
    assert run("plateau", "rename", "Sud", "Nord-Est")[0] == 1  # taken
    assert json.loads(run("user", "list", "--json")[1])["plateaux"] == ["Nord-Est", "Sud"]
    activities = [json.loads(r) for r in run("activity", "list", "--json")[1].splitlines()]
    assert {a["plateau"] for a in activities} == {"Nord-Est"}
    engine.dispose()


def test_an_activity_renamed_or_retired_keeps_its_history(  # type: ignore[no-untyped-def]
    run, store_url: str
) -> None:
    run("init")
    run("plateau", "add", "Nord")
    run("activity", "add", "Assurance Auto", "--plateau", "Nord")
    run("activity", "add", "Banque Pro", "--plateau", "Nord")
    assert run("activity", "rename", "Assurance Auto", "Assurance", "--plateau", "Nord")[0] == 0
    code, _, err = run("activity", "rename", "Assurance", "Banque Pro", "--plateau", "Nord")
    assert code == 1 and "already exists" in err
    assert run("activity", "retire", "Banque Pro", "--plateau", "Nord")[0] == 0
    assert run("activity", "retire", "Nope", "--plateau", "Nord")[0] == 1
    listed = [json.loads(r) for r in run("activity", "list", "--json")[1].splitlines()]
    assert {(a["name"], a["active"]) for a in listed} == {
        ("Assurance", True),
        ("Banque Pro", False),
    }
    engine = make_engine(store_url)
    with engine.connect() as conn:
        (plateau,) = describe_plateaux(conn, None)
    assert plateau["activities"] == ["Assurance"]  # what the bars offer
    engine.dispose()
    assert run("activity", "restore", "Banque Pro", "--plateau", "Nord")[0] == 0
    listed = [json.loads(r) for r in run("activity", "list", "--json")[1].splitlines()]
    assert all(a["active"] for a in listed)


def test_a_printed_password_is_one_time(run, store_url: str) -> None:  # type: ignore[no-untyped-def]
    run("init")
    run("plateau", "add", "Nord")
    run("user", "add", "marie", "--name", "Marie", "--role", "agent", "--plateau", "Nord")
    run(
        "user",
        "add",
        "paul",
        "--name",
        "Paul",
        "--role",
        "agent",
        "--plateau",
        "Nord",
        "--password-stdin",
        stdin="chosen by the admin\n",
    )
    engine = make_engine(store_url)

    def must_change() -> dict[str, bool]:
        with engine.connect() as conn:
            return {
                str(login): bool(flag)
                for login, flag in conn.execute(
                    select(m.people.c.login, m.people.c.must_change_password)
                )
            }

    assert must_change() == {"marie": True, "paul": False}
    run("user", "reset-password", "paul")
    assert must_change()["paul"] is True
    run("user", "reset-password", "paul", "--password-stdin", stdin="another chosen one\n")
    assert must_change()["paul"] is False
    engine.dispose()


def test_purge_from_the_command_line(run) -> None:  # type: ignore[no-untyped-def]
    run("init")
    code, _, err = run("purge", "--retention-days", "0")
    assert code == 2 and "at least 1" in err
    code, _, err = run("purge", "--tz", "Mars/Olympus")
    assert code == 2 and "unknown time zone" in err
    code, _, err = run("purge", "--dry-run")
    assert code == 0 and err.startswith("would remove 0 event(s)"), err
    code, _, err = run("purge", "--retention-days", "30", "--forget-names")
    assert code == 0 and "removed 0 event(s)" in err and "0 person(s) erased" in err
