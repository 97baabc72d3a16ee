"""The `bandeau` command: run the bar, press a key in the running bar, read the journal.

Commands that talk to a running bar import only QtCore/QtNetwork, so a softphone hook's
`bandeau key pause` starts fast.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app import __version__

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_NO_BAR = 3


def _common(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument(
        "--data-dir",
        default=default,
        metavar="DIR",
        help="the bar's data folder (journal, lock, log); also BANDEAU_DATA_DIR",
    )
    parser.add_argument(
        "--config",
        default=default,
        metavar="FILE",
        help="the settings file (default: bandeau.toml in --data-dir if given, else the "
        "user's config folder); also BANDEAU_CONFIG",
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=default,
        metavar="NAME=VALUE",
        help="override a setting, e.g. --set ui.language=en (repeatable)",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=argparse.SUPPRESS if suppress else False,
        help="log more on stderr",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bandeau",
        description="Bandeau: the agent's three-key status bar. With no command, runs the bar.",
    )
    parser.add_argument("--version", action="version", version=f"bandeau {__version__}")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="check this installation (a journal in --data-dir or a temporary folder, the bar "
        "rendered offscreen, the keyring, the translations); exits 0 only if all held",
    )
    _common(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        _common(p, suppress=True)
        return p

    command("run", "run the bar (the default)")
    demo = command(
        "demo",
        "try Bandeau: an embedded store, a simulated plateau, a bar and the lead's panel",
    )
    demo.add_argument(
        "--agents", type=int, default=12, help="simulated agents (default 12, 1 to 200)"
    )
    demo.add_argument(
        "--speed",
        type=float,
        default=30.0,
        help="how much faster than real life the simulated agents click (default 30)",
    )
    key = command("key", "press a key in the running bar; exits 0 once the event is on disk")
    key.add_argument("key", help="production, pause or off (hors-production)")
    key.add_argument("--note", help="a short note (200 characters at most)")
    key.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="how long to wait for the bar (default 10)",
    )
    command("show", "bring the running bar forward")
    status = command("status", "print the running bar's state")
    status.add_argument("--json", action="store_true", help="one JSON object")
    command("end-shift", "record the end of the shift in the running bar")
    signin = command("signin", "sign in to a central store (the running bar syncs at once)")
    signin.add_argument(
        "--server",
        required=True,
        metavar="URL",
        help="the store's address, e.g. https://bandeau.example.fr",
    )
    signin.add_argument("--login", required=True)
    signin.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input (for scripts)",
    )
    signin.add_argument(
        "--send-local-events",
        action="store_true",
        help="also send, as yours, the events recorded on this computer before signing in "
        "(without it they stay on this computer only)",
    )
    command(
        "signout",
        "sign out: the token is revoked; unsent events are kept and sent at the next sign-in",
    )
    autostart = command(
        "autostart", "start Bandeau at login, or not (the setting and its entry together)"
    )
    autostart.add_argument("state", choices=("on", "off", "status"))
    setting = command(
        "setting", "print a setting, or set it in the settings file (for IT's install scripts)"
    )
    setting.add_argument("name", help="e.g. server.url")
    setting.add_argument("value", nargs="?", help="the new value (omitted: print the current)")
    journal = command("journal", "read the journal")
    jsub = journal.add_subparsers(dest="journal_command", metavar="WHAT", required=True)
    show = jsub.add_parser("show", help="print the journal's events, oldest first")
    _common(show, suppress=True)
    show.add_argument("--today", action="store_true", help="only today's events (local day)")
    show.add_argument("--json", action="store_true", help="one JSON object per line")
    problems = jsub.add_parser("problems", help="events the central store refused")
    _common(problems, suppress=True)
    problems.add_argument("--json", action="store_true", help="one JSON object per line")
    check = jsub.add_parser("check", help="check the journal file's integrity")
    _common(check, suppress=True)
    unsent = jsub.add_parser(
        "unsent", help="how many events are not yet in the central store (0: none; no journal: 0)"
    )
    _common(unsent, suppress=True)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from app.pipes import tolerate_closed_stdout

    # What the bar writes (journal and its -wal/-shm, settings, logs, place) is its user's
    # alone: other users of a shared host read none of it (given back after: a caller in
    # the same process keeps its own).
    previous = os.umask(0o077)
    try:
        return tolerate_closed_stdout(lambda: _main(argv))
    finally:
        os.umask(previous)


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.self_test:
        if args.command:
            parser.error("--self-test takes no command")
        from app.selftest import run_self_test

        return run_self_test(args.data_dir)
    from app.config import resolve_places

    places = resolve_places(args.data_dir, args.config)
    command = args.command or "run"
    if command == "run":
        return _run(args, places)
    if command == "demo":
        return _demo(args, places)
    if command in ("key", "show", "status", "end-shift"):
        return _talk(args, places, command)
    if command == "signin":
        return _signin(args, places)
    if command == "signout":
        return _signout(places)
    if command == "autostart":
        return _autostart(args, places)
    if command == "setting":
        return _setting(args, places)
    return _journal(args, places)


def _autostart(args: argparse.Namespace, places: Any) -> int:
    from app.autostart import AutostartError, is_enabled, set_enabled
    from app.config import set_in_file

    if args.state == "status":
        print("on" if is_enabled() else "off")
        return EXIT_OK
    wanted = args.state == "on"
    try:
        set_in_file(places.config_file, "startup.at_login", wanted)
        set_enabled(wanted)
    except (OSError, AutostartError) as exc:
        print(f"bandeau autostart: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"start at login: {args.state}")
    return EXIT_OK


def _setting(args: argparse.Namespace, places: Any) -> int:
    from app.config import BY_NAME, SettingError, convert, load_settings, set_in_file

    setting = BY_NAME.get(args.name)
    if setting is None:
        print(
            f"bandeau setting: unknown setting {args.name!r}; known: {', '.join(sorted(BY_NAME))}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if args.value is None:
        value = load_settings(places.config_file).values[args.name]
        print(json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value)
        return EXIT_OK
    try:
        value = convert(setting, args.value, from_text=True)
        set_in_file(places.config_file, args.name, value)
    except SettingError as exc:
        print(f"bandeau setting: {args.name}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(f"bandeau setting: cannot write {places.config_file}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"{args.name} set in {places.config_file}")
    return EXIT_OK


def _read_password(args: argparse.Namespace) -> str | None:
    if args.password_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n") or None
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass("Mot de passe / password: ") or None
    return None


def _signin(args: argparse.Namespace, places: Any) -> int:
    from app.account import SignInFailed, normalise_server, remember_sign_in, sign_in_and_keep
    from app.account import sign_out as revoke
    from app.instance import InstanceError, send_request
    from app.journal import Journal, JournalError

    password = _read_password(args)
    if password is None:
        print("bandeau signin: no password (use --password-stdin in scripts)", file=sys.stderr)
        return EXIT_USAGE
    try:
        normalise_server(args.server)
    except SignInFailed as exc:
        print(f"bandeau signin: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        journal = Journal(places.journal_file)
    except JournalError as exc:
        print(f"bandeau signin: {exc}", file=sys.stderr)
        return EXIT_FAILED
    send_local = bool(args.send_local_events)
    try:
        local_count = journal.local_backlog()[0]
        done = sign_in_and_keep(args.server, args.login, password, journal.device_id)
        server, login = done.account.server, done.account.login
        request = {
            "cmd": "signed_in",
            "server": server,
            "login": login,
            "token": done.token,
            "activities": done.activities,
            "profile": done.profile,
            "send_local": send_local,
        }
        try:
            # A running bar takes the sign-in itself, by the same completion as its dialog.
            answer = send_request(places.data_dir, request)
        except InstanceError:
            if done.keyring_problem:
                revoke(server, done.token)  # nobody could keep it: do not leave it valid
                print(
                    f"bandeau signin: {done.keyring_problem}, and no bar is running to keep "
                    "the token for this session. Start the bar (`bandeau`), then sign in again.",
                    file=sys.stderr,
                )
                return EXIT_FAILED
            remember_sign_in(journal, done, send_local=send_local)
        else:
            if not answer.get("ok"):
                revoke(server, done.token)
                print(
                    f"bandeau signin: the running bar refused: {answer.get('error')}",
                    file=sys.stderr,
                )
                return EXIT_FAILED
    except (SignInFailed, JournalError) as exc:
        print(f"bandeau signin: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        journal.close()
    note = ""
    if done.keyring_problem:
        note = f" (no keyring: {done.keyring_problem}; the token lives in the running bar only)"
    print(f"signed in as {login} on {server}{note}")
    if local_count and send_local:
        print(f"{local_count} event(s) recorded before sign-in will be sent as {login}'s")
    elif local_count:
        print(
            f"{local_count} event(s) recorded before sign-in stay on this computer; to send "
            "them as yours, sign in again with --send-local-events"
        )
    return EXIT_OK


def _signout(places: Any) -> int:
    from app.account import clear_account, load_account
    from app.account import sign_out as revoke
    from app.credentials import NoKeyring, delete_token, load_token
    from app.domain.events import SyncState
    from app.instance import InstanceError, send_request
    from app.journal import Journal, JournalError

    try:
        journal = Journal(places.journal_file)
    except JournalError as exc:
        print(f"bandeau signout: {exc}", file=sys.stderr)
        return EXIT_FAILED
    try:
        account = load_account(journal)
        if account is None:
            print("not signed in")
            return EXIT_OK
        tokens: set[str] = set()
        try:
            answer = send_request(places.data_dir, {"cmd": "sign_out"})
        except InstanceError:
            # No bar running: the journal forgets the account here.
            waiting = journal.counts(agent=account.login)[SyncState.PENDING]
            clear_account(journal)
        else:
            if isinstance(answer.get("token"), str):
                tokens.add(answer["token"])
            given = answer.get("waiting")
            waiting = given if isinstance(given, int) else 0
        try:
            stored = load_token(account.server, account.login)
            if stored:
                tokens.add(stored)
            delete_token(account.server, account.login)
        except NoKeyring:
            pass
        revoked = all(revoke(account.server, t) for t in tokens)
    except JournalError as exc:
        print(f"bandeau signout: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        journal.close()
    print(f"signed out of {account.server}")
    if not revoked:
        print(
            "bandeau signout: the server could not be reached to revoke the token; ask an "
            "admin to disable it if this computer is lost",
            file=sys.stderr,
        )
    if waiting:
        print(
            f"{waiting} event(s) not yet sent stay in the journal; they are sent at the next "
            f"sign-in as {account.login}"
        )
    return EXIT_OK


def _demo(args: argparse.Namespace, places: Any) -> int:
    if not 1 <= args.agents <= 200:
        print("bandeau demo: --agents must be from 1 to 200", file=sys.stderr)
        return EXIT_USAGE
    if not 0.1 <= args.speed <= 1000:
        print("bandeau demo: --speed must be from 0.1 to 1000", file=sys.stderr)
        return EXIT_USAGE
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        print(
            "bandeau demo: the embedded store needs the server's parts: "
            "pip install -e '.[server]' (or pip install 'bandeau[server]')",
            file=sys.stderr,
        )
        return EXIT_FAILED
    from app.demo import run_demo
    from app.logs import setup_logging
    from app.ui.app import EXIT_NO_DISPLAY, display_problem

    # Refused for want of a display before anything is written anywhere.
    problem = display_problem(command=f"{invoked_as()} demo")
    if problem:
        print(problem, file=sys.stderr)
        return EXIT_NO_DISPLAY
    # Its own store, journal and settings: in --data-dir itself when one is given, else in
    # a "demo" folder of Bandeau's data dir (never the agent's own journal).
    demo_dir = (
        Path(args.data_dir).expanduser().absolute() if args.data_dir else places.data_dir / "demo"
    )
    demo_dir.mkdir(parents=True, exist_ok=True)
    setup_logging(demo_dir / "demo.log", verbose=args.verbose)
    return run_demo(demo_dir, agents=args.agents, speed=args.speed)


def invoked_as() -> str:
    """How this command was run, to repeat it in a hint (.venv/bin/bandeau, bandeau, or
    python -m app)."""
    program = sys.argv[0] if sys.argv else "bandeau"
    if program.endswith("__main__.py"):
        return "python -m app"
    if "/" in program or "\\" in program:
        try:
            return os.path.relpath(program)
        except ValueError:  # another drive (Windows)
            return program
    return program


def _run(args: argparse.Namespace, places: Any) -> int:
    from app.config import load_settings, write_defaults_if_missing
    from app.logs import setup_logging

    setup_logging(places.log_file, verbose=args.verbose)
    write_defaults_if_missing(places.config_file)
    settings = load_settings(places.config_file, overrides=args.overrides or ())
    from app.ui.app import run_bar

    return run_bar(places, settings, autostart=True)


def _talk(args: argparse.Namespace, places: Any, command: str) -> int:
    from app.domain.events import InvalidEvent, clean_note, parse_key
    from app.instance import InstanceError, send_request

    request: dict[str, Any]
    timeout_ms = 10_000
    if command == "key":
        try:
            key = parse_key(args.key)
            note = clean_note(args.note)
        except InvalidEvent as exc:
            print(f"bandeau key: {exc}", file=sys.stderr)
            return EXIT_USAGE
        request = {"cmd": "key", "key": key.value, "note": note}
        timeout_ms = int(args.timeout * 1000)
    elif command == "end-shift":
        request = {"cmd": "end_shift"}
    else:
        request = {"cmd": command}
    try:
        answer = send_request(places.data_dir, request, timeout_ms=timeout_ms)
    except InstanceError as exc:
        print(f"bandeau {command}: {exc}. Start the bar first (`bandeau`).", file=sys.stderr)
        return EXIT_NO_BAR
    if not answer.get("ok"):
        print(f"bandeau {command}: {answer.get('error', 'failed')}", file=sys.stderr)
        return EXIT_FAILED
    if command == "status":
        state = answer.get("state", {})
        if args.json:
            print(json.dumps(state, ensure_ascii=False))
        else:
            for name, value in state.items():
                print(f"{name}: {value}")
    elif command in ("key", "end-shift"):
        events = answer.get("events", [])
        if not events:
            print("unchanged (already in that state)")
        for ev in events:
            print(f"recorded {ev['kind']} {ev.get('key') or ''} seq={ev['seq']} uuid={ev['uuid']}")
    return EXIT_OK


def _journal(args: argparse.Namespace, places: Any) -> int:
    from app.domain.clock import SystemClock
    from app.domain.events import SyncState
    from app.domain.totals import local_day, local_day_bounds
    from app.journal import Journal, JournalError

    if args.journal_command == "unsent" and not places.journal_file.exists():
        print(0)
        return EXIT_OK
    try:
        journal = Journal(places.journal_file, readonly=True)
    except JournalError as exc:
        print(f"bandeau journal: {exc}", file=sys.stderr)
        return EXIT_FAILED
    try:
        if args.journal_command == "unsent":
            # Waiting to be sent, and recorded before any sign-in (kept on this PC only).
            counts = journal.counts()
            print(counts[SyncState.PENDING] + counts.get(SyncState.LOCAL, 0))
            return EXIT_OK
        if args.journal_command == "check":
            rows = journal.integrity_check()
            print("\n".join(rows))
            return EXIT_OK if rows == ["ok"] else EXIT_FAILED
        since = None
        if getattr(args, "today", False):
            clock = SystemClock()
            since, _ = local_day_bounds(local_day(clock.now_ms(), clock.zone()), clock.zone())
        entries = journal.entries(since_ms=since)
        if args.journal_command == "problems":
            entries = [e for e in entries if e.sync_state is SyncState.QUARANTINED]
        for entry in entries:
            record = entry_json(entry)
            if args.json:
                print(json.dumps(record, ensure_ascii=False))
            else:
                print(_entry_line(record))
        if not entries and not args.json:
            print("(nothing)")
    except JournalError as exc:
        print(f"bandeau journal: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        journal.close()
    return EXIT_OK


def entry_json(entry: Any) -> dict[str, Any]:
    """One journal entry as the JSON line of `bandeau journal show --json`."""
    ev = entry.event
    utc = datetime.fromtimestamp(ev.occurred_at_ms / 1000, UTC)
    return {
        "uuid": ev.uuid,
        "seq": ev.seq,
        "device_id": ev.device_id,
        "agent": ev.agent,
        "kind": ev.kind.value,
        "key": ev.key.value if ev.key else None,
        "activity": ev.activity,
        "occurred_at": utc.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "occurred_at_ms": ev.occurred_at_ms,
        "tz": ev.tz_name,
        "utc_offset_s": ev.utc_offset_s,
        "clock_jump_ms": ev.clock_jump_ms,
        "note": ev.note,
        "sync_state": entry.sync_state.value,
        "sync_error": entry.sync_error,
    }


def _entry_line(record: dict[str, Any]) -> str:
    from datetime import timedelta, timezone

    local = datetime.fromtimestamp(
        record["occurred_at_ms"] / 1000, timezone(timedelta(seconds=record["utc_offset_s"]))
    )
    parts = [
        f"{record['seq']:>6}",
        local.strftime("%Y-%m-%d %H:%M:%S"),
        f"{record['kind']:<11}",
        f"{record['key'] or '-':<10}",
        f"{record['activity'] or '-':<16}",
        f"{record['sync_state']:<11}",
    ]
    if record["clock_jump_ms"] is not None:
        parts.append(f"clock jump {record['clock_jump_ms']:+d} ms")
    if record["note"]:
        parts.append(f"« {record['note']} »")
    return " ".join(parts)
