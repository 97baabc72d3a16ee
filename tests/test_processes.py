"""Real processes: the bar in the background, `bandeau` commands, crashes and failures."""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from app.domain.events import SyncState
from app.instance import send_request
from app.journal import Journal
from tests.processes import (
    BarProcess,
    bandeau,
    child_env,
    recorded_uuids,
    run,
    spawn_key,
    without_root_powers,
)

pytestmark = pytest.mark.slow
JOURNAL = "journal.sqlite3"
CRASH_ROUNDS = int(os.environ.get("BANDEAU_TEST_CRASH_ROUNDS", "12"))


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def test_key_command_round_trip(data_dir: Path) -> None:
    bar = BarProcess(data_dir)
    try:
        bar.wait_ready()
        done = run("--data-dir", str(data_dir), "key", "pause", "--note", "café")
        assert done.returncode == 0, done.stderr
        (uuid,) = recorded_uuids(done.stdout)
        again = run("--data-dir", str(data_dir), "key", "pause")
        assert again.returncode == 0
        assert "unchanged" in again.stdout
        status = run("--data-dir", str(data_dir), "status", "--json")
        assert json.loads(status.stdout)["key"] == "pause"
        ended = run("--data-dir", str(data_dir), "end-shift")
        assert ended.returncode == 0, ended.stderr
        shown = run("--data-dir", str(data_dir), "journal", "show", "--json")
        assert shown.returncode == 0, shown.stderr
        records = [json.loads(line) for line in shown.stdout.splitlines()]
        assert [r["kind"] for r in records] == ["shift_start", "status", "shift_end"]
        pause = records[1]
        assert pause["uuid"] == uuid
        assert pause["note"] == "café"
        for field in (
            "uuid",
            "seq",
            "kind",
            "key",
            "activity",
            "occurred_at",
            "sync_state",
            "note",
        ):
            assert field in pause
        assert pause["occurred_at"].endswith("Z")
        assert pause["sync_state"] == "local"  # not signed in: kept on this PC
        today = run("--data-dir", str(data_dir), "journal", "show", "--today")
        assert today.returncode == 0
        assert "« café »" in today.stdout
        check = run("--data-dir", str(data_dir), "journal", "check")
        assert check.stdout.strip() == "ok"
        assert run("--data-dir", str(data_dir), "journal", "problems").stdout.strip() == "(nothing)"
    finally:
        assert bar.stop() == 0
    assert not (data_dir / "bandeau.lock").exists()  # released on a clean exit


def test_a_second_launch_brings_the_first_forward(data_dir: Path) -> None:
    bar = BarProcess(data_dir)
    try:
        bar.wait_ready()
        second = run("--data-dir", str(data_dir))
        assert second.returncode == 0
        assert "already running" in second.stderr
        assert bar.proc.poll() is None
        # Still exactly one shift start: the second launch recorded nothing.
        shown = run("--data-dir", str(data_dir), "journal", "show", "--json")
        assert [json.loads(x)["kind"] for x in shown.stdout.splitlines()] == ["shift_start"]
    finally:
        bar.stop()


def test_key_with_no_bar_running(data_dir: Path) -> None:
    done = run("--data-dir", str(data_dir), "key", "production")
    assert done.returncode == 3
    assert "no Bandeau bar is running" in done.stderr
    assert "Start the bar first" in done.stderr
    assert not (data_dir / JOURNAL).exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["key", "lunch"], "unknown key 'lunch'"),
        (["key", "pause", "--note", "x" * 201], "201 characters"),
    ],
)
def test_bad_command_input(data_dir: Path, args: list[str], message: str) -> None:
    done = run("--data-dir", str(data_dir), *args)
    assert done.returncode == 2
    assert message in done.stderr


def test_journal_show_without_a_journal(data_dir: Path) -> None:
    done = run("--data-dir", str(data_dir), "journal", "show")
    assert done.returncode == 1
    assert "there is no journal" in done.stderr


def test_no_display_gives_a_clear_message(data_dir: Path) -> None:
    env = child_env()
    for name in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
        env.pop(name, None)
    done = subprocess.run(
        [sys.executable, "-m", "app", "--data-dir", str(data_dir)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 3
    assert "no display found" in done.stderr
    assert "QT_QPA_PLATFORM=offscreen" in done.stderr
    assert "Aborted" not in done.stderr


def test_bad_settings_file_still_starts_on_defaults(data_dir: Path) -> None:
    data_dir.mkdir()
    (data_dir / "bandeau.toml").write_text('[ui]\nlanguage = "klingon"\n', encoding="utf-8")
    bar = BarProcess(data_dir)
    try:
        bar.wait_ready()
        assert "ui.language = 'klingon' is not valid: expected one of" in bar.stderr
        state = send_request(data_dir, {"cmd": "status"})["state"]
        assert state["problem"] == "settings" and "klingon" in state["problem_detail"]
        assert state["shift_open"]
    finally:
        bar.stop()


def test_first_run_writes_the_settings_file(data_dir: Path) -> None:
    bar = BarProcess(data_dir)
    try:
        bar.wait_ready()
    finally:
        bar.stop()
    text = (data_dir / "bandeau.toml").read_text(encoding="utf-8")
    assert '# language = "auto"' in text


def test_a_damaged_journal_is_set_aside_and_the_agent_told(data_dir: Path) -> None:
    data_dir.mkdir()
    (data_dir / JOURNAL).write_bytes(b"\x00garbage, not a database" * 200)
    bar = BarProcess(data_dir)
    try:
        bar.wait_ready()
        state = send_request(data_dir, {"cmd": "status"})["state"]
        assert state["problem"] == "journal_repaired"
        assert run("--data-dir", str(data_dir), "key", "off").returncode == 0
    finally:
        bar.stop()
    aside = [p for p in data_dir.iterdir() if ".corrupt-" in p.name]
    assert len(aside) == 1
    assert aside[0].read_bytes().startswith(b"\x00garbage")


def test_a_malformed_request_on_the_socket(data_dir: Path) -> None:
    from PySide6.QtCore import QByteArray
    from PySide6.QtNetwork import QLocalSocket

    from app.instance import server_name

    bar = BarProcess(data_dir)
    try:
        bar.wait_ready()
        sock = QLocalSocket()
        sock.connectToServer(server_name(data_dir))
        assert sock.waitForConnected(5000)
        sock.write(QByteArray(b"{not json\n"))
        sock.waitForBytesWritten(5000)
        data = b""
        while b"\n" not in data and sock.waitForReadyRead(5000):
            data += bytes(sock.readAll().data())
        assert "malformed request" in json.loads(data)["error"]
        sock.abort()
        # The bar is still there and still records.
        assert run("--data-dir", str(data_dir), "key", "production").returncode == 0
    finally:
        bar.stop()


def test_a_read_only_data_dir(data_dir: Path) -> None:
    """The bar refuses to start, clearly, and writes nothing."""
    data_dir.mkdir()
    data_dir.chmod(0o555)
    done = run("--data-dir", str(data_dir), prefix=without_root_powers())
    assert done.returncode == 2
    assert "cannot be written" in done.stderr
    assert list(data_dir.iterdir()) == []


def test_a_read_only_journal_file(data_dir: Path) -> None:
    data_dir.mkdir()
    Journal(data_dir / JOURNAL).close()
    (data_dir / JOURNAL).chmod(0o444)  # the lock can be taken, the journal cannot be written
    done = run("--data-dir", str(data_dir), prefix=without_root_powers())
    assert done.returncode == 2
    assert "journal cannot be opened" in done.stderr
    assert "readonly" in done.stderr
    con = sqlite3.connect(data_dir / JOURNAL)
    assert con.execute("SELECT count(*) FROM events").fetchone() == (0,)
    con.close()


def test_a_full_disk_keeps_the_old_state_and_loses_nothing(data_dir: Path) -> None:
    data_dir.mkdir()
    script = Path(__file__).parent / "children" / "full_disk.py"
    done = subprocess.run(
        [sys.executable, str(script), str(data_dir), "65536"],
        env=child_env(PYTHONPATH=str(Path(__file__).parent.parent)),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    failure = report["failure"]
    assert failure is not None, "the size limit was never reached"
    assert report["recorded"], "not even one click fitted under the limit"
    # The bar kept the previous state and said so.
    assert failure["after"] == failure["before"]
    assert failure["active"] == ([failure["before"]] if failure["before"] else [])
    assert failure["problem"] == "Non enregistré\u202f!"
    assert "disk is full" in failure["detail"] or "disk I/O" in failure["detail"]
    # Every click the bar showed is on disk, and the file is sound.
    journal = Journal(data_dir / JOURNAL)
    assert journal.recovery is None
    assert journal.integrity_check() == ["ok"]
    stored = [e.event.uuid for e in journal.entries()]
    assert stored[1:] == report["recorded"]  # after the shift start, exactly those
    assert set(journal.counts()) == set(SyncState)
    journal.close()


def test_sigkill_never_loses_a_confirmed_click(data_dir: Path) -> None:
    """Kill the bar with SIGKILL at random moments while `bandeau key` commands are in flight:
    every event whose command returned 0 is in a sound journal, every time."""
    seed = int(os.environ.get("BANDEAU_TEST_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    confirmed: set[str] = set()
    cut_short = 0  # commands that the kill interrupted (they must not have returned 0)
    keys = ["production", "pause", "off"]
    for round_no in range(CRASH_ROUNDS):
        bar = BarProcess(data_dir)
        try:
            bar.wait_ready()
            n = rng.randint(1, 6)
            commands = [
                spawn_key(
                    data_dir, rng.choice(keys), note=rng.choice([None, f"round {round_no} #{i}"])
                )
                for i in range(n)
            ]
            # Kill once a random number of them (maybe none) has finished: the others are
            # queued, being written or waiting for their answer.
            for cmd in commands[: rng.randint(0, n)]:
                cmd.wait(timeout=60)
        finally:
            bar.kill()
        for cmd in commands:
            out, _err = cmd.communicate(timeout=60)
            if cmd.returncode == 0:
                confirmed.update(recorded_uuids(out))
            else:
                cut_short += 1
        journal = Journal(data_dir / JOURNAL)
        try:
            assert journal.recovery is None, f"seed {seed}, round {round_no}: damaged journal"
            assert journal.integrity_check() == ["ok"], f"seed {seed}, round {round_no}"
            stored = {e.event.uuid for e in journal.entries()}
            missing = confirmed - stored
            assert not missing, f"seed {seed}, round {round_no}: lost {missing}"
        finally:
            journal.close()
    assert confirmed, f"seed {seed}: no command ever succeeded"
    # The kills did land while commands were in flight (else this test proves little).
    assert cut_short, f"seed {seed}: no kill interrupted a command"
    print(f"seed {seed}: {len(confirmed)} confirmed clicks kept, {cut_short} commands cut short")


def test_a_lock_left_by_a_killed_bar_does_not_block_the_next(data_dir: Path) -> None:
    first = BarProcess(data_dir)
    first.wait_ready()
    assert run("--data-dir", str(data_dir), "key", "production").returncode == 0
    first.kill()
    assert (data_dir / "bandeau.lock").exists()  # SIGKILL left it behind
    second = BarProcess(data_dir)
    try:
        second.wait_ready()
        # Restarted within seconds: the open shift is picked up, still in production.
        state = send_request(data_dir, {"cmd": "status"})["state"]
        assert state["key"] == "production"
    finally:
        second.stop()


def test_output_into_a_closed_pipe_is_no_traceback(data_dir: Path, seeded_url: str) -> None:
    """`bandeau status | head`: the reader may stop before the writer. Here it has gone
    before the first line (its end of the pipe closed), which is the worst case."""
    bar = BarProcess(data_dir)
    try:
        bar.wait_ready()
        commands = [
            bandeau("--data-dir", str(data_dir), "status"),
            bandeau("--data-dir", str(data_dir), "journal", "show"),
            [sys.executable, "-m", "app.server.cli", "--db", seeded_url, "plateau", "list"],
        ]
        for command in commands:
            read, write = os.pipe()
            os.close(read)
            try:
                done = subprocess.run(
                    command,
                    stdout=write,
                    stderr=subprocess.PIPE,
                    stdin=subprocess.DEVNULL,
                    env=child_env(),
                    timeout=60,
                    check=False,
                )
            finally:
                os.close(write)
            stderr = done.stderr.decode()
            assert "Traceback" not in stderr and "BrokenPipe" not in stderr, (command, stderr)
            assert done.returncode == 0, (command, stderr)
    finally:
        bar.stop()


def _other_user() -> list[str]:
    """A prefix that runs a command as another local user (uid/gid 65534, "nobody")."""
    if os.geteuid() != 0:
        pytest.skip("needs root to run a child as another user")
    return ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", "--"]


def test_a_squatted_socket_folder_is_refused_clearly(data_dir: Path, tmp_path: Path) -> None:
    """Another local user made the folder of this user's sockets first (no XDG_RUNTIME_DIR:
    <tmp>/bandeau-<uid>). Neither the bar nor `bandeau key` / `bandeau signin` use it."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    squatted = temp / f"bandeau-{os.getuid()}"
    squatted.mkdir(mode=0o777)
    squatted.chmod(0o777)
    os.chown(squatted, 65534, 65534) if os.geteuid() == 0 else None
    env = {k: v for k, v in child_env(TMPDIR=str(temp)).items() if k != "XDG_RUNTIME_DIR"}
    bar = BarProcess(data_dir, env=env)
    try:
        bar.wait_ready()
        assert "is not private to you" in bar.stderr
        key = run("--data-dir", str(data_dir), "key", "pause", env=env)
        assert key.returncode != 0
        assert "is not private to you" in key.stderr and "Nothing was sent" in key.stderr
        assert list(squatted.iterdir()) == []  # no socket of ours in their folder
    finally:
        bar.stop()


def test_a_command_from_another_user_is_refused(data_dir: Path) -> None:
    """Even a peer that can reach the socket (here: another uid that kept the power to
    override file permissions) is refused by the bar: it checks who is on the other end."""
    prefix = _other_user()
    bar = BarProcess(data_dir)
    try:
        bar.wait_ready()
        mine = run("--data-dir", str(data_dir), "key", "pause")
        assert mine.returncode == 0, mine.stderr
        from app.instance import server_name

        path = server_name(data_dir)
        knock = (
            "import socket, sys\n"
            "s = socket.socket(socket.AF_UNIX)\n"
            f"s.connect({path!r})\n"
            "try:\n"
            '    s.sendall(b\'{"cmd": "status"}\\n\')\n'
            "except BrokenPipeError:\n"  # refused before it asked: the answer is still there
            "    pass\n"
            "print(s.recv(65536).decode())\n"
        )
        theirs = subprocess.run(
            [
                *prefix[:-1],
                "--inh-caps",
                "+dac_override,+dac_read_search",
                "--ambient-caps",
                "+dac_override,+dac_read_search",
                "--",
                sys.executable,
                "-c",
                knock,
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert theirs.returncode == 0, theirs.stderr  # it did reach the socket...
        assert "not your bar" in theirs.stdout, theirs.stdout  # ...and was told no
        assert '"state"' not in theirs.stdout
        assert run("--data-dir", str(data_dir), "status").returncode == 0  # still answers its own
    finally:
        bar.stop()


def test_a_client_hands_nothing_to_a_socket_held_by_another_user(data_dir: Path) -> None:
    """An impostor of another uid (with the power to override permissions) listens where
    this user's bar would: `bandeau signin` must not hand it the token, nor `bandeau key`
    talk to it."""
    from app.instance import server_name

    prefix = _other_user()
    path = server_name(data_dir, create=True)
    impostor_code = (
        "import socket, sys\n"
        "s = socket.socket(socket.AF_UNIX)\n"
        f"s.bind({path!r}); s.listen(5)\n"
        "print('listening', flush=True)\n"
        "while True:\n"
        "    c, _ = s.accept()\n"
        "    sys.stdout.write('GOT ' + c.recv(65536).decode() + '\\n'); sys.stdout.flush()\n"
        "    c.sendall(b'{\"ok\": true}\\n'); c.close()\n"
    )
    impostor = subprocess.Popen(
        [
            *prefix[:-1],
            "--inh-caps",
            "+dac_override",
            "--ambient-caps",
            "+dac_override",
            "--",
            sys.executable,
            "-c",
            impostor_code,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert impostor.stdout is not None
        assert impostor.stdout.readline().strip() == "listening"
        key = run("--data-dir", str(data_dir), "key", "pause")
        assert key.returncode != 0
        assert "held by another user" in key.stderr, key.stderr
    finally:
        impostor.kill()
        impostor.wait(timeout=30)
    assert impostor.stdout is not None
    heard = impostor.stdout.read()
    impostor.stdout.close()
    assert '"cmd"' not in heard, heard  # it was connected to, then cut: no request reached it


def test_the_data_dir_is_its_users_alone(data_dir: Path) -> None:
    """Data dir 0700; journal (and its -wal/-shm), settings, log, place 0600 — also when the
    folder was made open before (an older Bandeau, or by hand)."""
    data_dir.mkdir(mode=0o755)
    data_dir.chmod(0o755)
    old = data_dir / "bandeau.toml"
    old.write_text("[ui]\n", encoding="utf-8")
    old.chmod(0o644)
    bar = BarProcess(data_dir)
    try:
        bar.wait_ready()
        assert run("--data-dir", str(data_dir), "key", "pause").returncode == 0
        assert data_dir.stat().st_mode & 0o777 == 0o700
        files = [p for p in data_dir.iterdir() if p.is_file()]
        assert {p.name for p in files} >= {"journal.sqlite3", "journal.sqlite3-wal", "bandeau.toml"}
        for path in files:
            assert path.stat().st_mode & 0o077 == 0, (path.name, oct(path.stat().st_mode))
    finally:
        bar.stop()


def test_a_request_nested_thousands_deep_gets_an_answer(data_dir: Path) -> None:
    import socket as sockets

    from app.instance import server_name

    bar = BarProcess(data_dir)
    try:
        bar.wait_ready()
        with sockets.socket(sockets.AF_UNIX) as conn:
            conn.connect(server_name(data_dir))
            conn.sendall(b"[" * 5000 + b"]" * 5000 + b"\n")
            answer = json.loads(conn.recv(65536).split(b"\n")[0])
        assert answer["ok"] is False and "malformed" in answer["error"]
        assert run("--data-dir", str(data_dir), "key", "off").returncode == 0  # still there
    finally:
        bar.stop()
    assert "Traceback" not in bar.stderr


def test_a_journal_from_a_newer_bandeau_is_said_and_left_as_it_is(data_dir: Path) -> None:
    """An older bar (a PC not yet updated, a roaming profile) on a newer journal: it says so
    and stops, and the journal is neither migrated nor moved aside as damaged."""
    journal = Journal(data_dir / "journal.sqlite3")
    journal.close()
    con = sqlite3.connect(data_dir / "journal.sqlite3")
    con.execute("PRAGMA user_version = 99")
    con.close()
    before = (data_dir / "journal.sqlite3").read_bytes()
    bar = BarProcess(data_dir)
    with pytest.raises(RuntimeError, match="newer than this Bandeau") as raised:
        bar.wait_ready()
    assert "update Bandeau" in str(raised.value)
    assert bar.proc.wait(timeout=30) == 2
    bar.stop()
    assert (data_dir / "journal.sqlite3").read_bytes() == before
    assert sorted(p.name for p in data_dir.iterdir() if "journal" in p.name) == ["journal.sqlite3"]
