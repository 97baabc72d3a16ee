"""`bandeau-server`: create and run the central store, and manage its directory.

Scriptable: no prompt ever (passwords come from standard input with --password-stdin), clear
messages on stderr, exit 0 on success, 1 when refused, 2 on bad usage.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import platformdirs

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        default=argparse.SUPPRESS,
        help="the server's data folder (default store, logs); also BANDEAU_SERVER_DATA_DIR",
    )
    parser.add_argument(
        "--db",
        metavar="URL",
        default=argparse.SUPPRESS,
        help="the store: sqlite:///FILE (default: store.sqlite3 in the data "
        "dir) or postgresql+psycopg://USER@HOST/DB; also BANDEAU_DB_URL",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bandeau-server", description="Bandeau's central store and its directory."
    )
    _common(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, help_text: str, parent: Any = sub) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = parent.add_parser(name, help=help_text, description=help_text)
        _common(p)
        return p

    init = command("init", "create (or migrate) the store, optionally with a first admin")
    init.add_argument("--admin", metavar="LOGIN", help="create this admin")
    init.add_argument("--name", help="the admin's name (default: the login)")
    init.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the admin's password from standard input",
    )
    command("migrate", "bring the store's schema up to date")
    serve = command("serve", "run the HTTP service (migrates the store first)")
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1; 0.0.0.0 for all)",
    )
    serve.add_argument("--port", type=int, default=8750)
    serve.add_argument(
        "--tz", default="Europe/Paris", help="the site's time zone: what 'today' is on panels"
    )
    serve.add_argument(
        "--stream-keepalive",
        type=float,
        default=15.0,
        metavar="SECONDS",
        help="how often an idle live stream says it is alive (and rechecks its token)",
    )
    serve.add_argument(
        "--keep-days",
        type=int,
        default=62,
        metavar="DAYS",
        help="work out this many past days' figures ahead of reports, every 10 minutes "
        "(0: only when a report asks)",
    )
    serve.add_argument(
        "--clock-start",
        metavar="INSTANT",
        help="for tests and rehearsals only: run the store's clock from this instant "
        "(2026-11-27T09:00:00+01:00, or milliseconds since 1970) instead of the system's",
    )

    serve.add_argument(
        "--retention-days",
        type=int,
        default=396,
        metavar="DAYS",
        help="keep this many days of events, corrections and heartbeats (default 396, 13 "
        "months; 0: keep everything); older ones are purged once a day, each day's figures "
        "kept",
    )
    serve.add_argument(
        "--forget-names",
        action="store_true",
        help="after each purge, erase to a pseudonym the disabled people nothing is left of",
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="serve from N processes sharing the port (POSIX; each is stateless, the store "
        "is shared); a worker that dies is replaced",
    )
    serve.add_argument(
        "--trusted-proxy",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="a reverse proxy whose X-Forwarded-For names the client (repeatable); without "
        "it the header is ignored",
    )
    purge = command(
        "purge", "remove events, corrections and heartbeats older than the retention period"
    )
    purge.add_argument("--retention-days", type=int, default=396, metavar="DAYS")
    purge.add_argument("--tz", default="Europe/Paris", help="the site's time zone (whole days)")
    purge.add_argument("--forget-names", action="store_true")
    purge.add_argument("--dry-run", action="store_true", help="count, remove nothing")

    backup = command(
        "backup", "copy an embedded store to FILE while it serves (PostgreSQL: pg_dump)"
    )
    backup.add_argument("file", type=Path)
    restore = command("restore", "put a backup in place of the embedded store (stop serve first)")
    restore.add_argument("file", type=Path)
    restore.add_argument("--yes", action="store_true", help="really (required: no prompt)")

    plateau = command("plateau", "plateaux")
    psub = plateau.add_subparsers(dest="action", metavar="ACTION", required=True)
    padd = command("add", "add a plateau", psub)
    padd.add_argument("name")
    padd.add_argument(
        "--pause-threshold",
        type=int,
        default=15,
        metavar="MINUTES",
        help="a pause longer than this shows amber on the panel (default 15)",
    )
    pset = command("set", "change a plateau's pause threshold and its keys' labels/colours", psub)
    pset.add_argument("name")
    pset.add_argument("--pause-threshold", type=int, metavar="MINUTES")
    pset.add_argument(
        "--label",
        action="append",
        default=[],
        metavar="KEY=TEXT",
        help="a key's label, e.g. off=Formation (keys: production, pause, off; repeatable)",
    )
    pset.add_argument(
        "--colour",
        action="append",
        default=[],
        metavar="KEY=#RRGGBB",
        help="a key's colour, e.g. pause=#c77800 (repeatable)",
    )
    prename = command("rename", "rename a plateau (its people, activities and history stay)", psub)
    prename.add_argument("name")
    prename.add_argument("new_name")
    plist = command("list", "list the plateaux", psub)
    plist.add_argument("--json", action="store_true")

    activity = command("activity", "activities (client campaigns) of a plateau")
    asub = activity.add_subparsers(dest="action", metavar="ACTION", required=True)
    aadd = command("add", "add an activity to a plateau", asub)
    aadd.add_argument("name")
    aadd.add_argument("--plateau", required=True)
    for verb, text in (
        ("rename", "rename an activity (its history follows it)"),
        ("retire", "retire an activity: no longer offered on the bars, still in every report"),
        ("restore", "offer a retired activity on the bars again"),
    ):
        changing = command(verb, text, asub)
        changing.add_argument("name")
        changing.add_argument("--plateau", required=True)
        if verb == "rename":
            changing.add_argument("new_name")
    alist = command("list", "list the activities", asub)
    alist.add_argument("--plateau")
    alist.add_argument("--json", action="store_true")

    report = command("report", "indicators per agent, activity or day over a period (CSV or JSON)")
    report.add_argument("--plateau", required=True)
    report.add_argument("--from", dest="first", required=True, metavar="DATE")
    report.add_argument("--to", dest="last", required=True, metavar="DATE", help="included")
    report.add_argument(
        "--by",
        choices=["agent", "activity", "day", "detail"],
        default="agent",
        help="one row per agent (default), activity, day, or agent × day × activity",
    )
    report.add_argument("--format", choices=["csv", "json"], default="csv")
    report.add_argument(
        "--separator",
        choices=[",", ";"],
        default=",",
        help="CSV separator (';' for Excel in French)",
    )
    report.add_argument(
        "--decimal-comma", action="store_true", help="0,75 rather than 0.75 (Excel in French)"
    )
    report.add_argument(
        "--lang",
        choices=["en", "fr"],
        default="en",
        help="the CSV's headers: machine names (en) or French ones (fr)",
    )
    report.add_argument("--tz", default="Europe/Paris", help="the site's time zone")
    report.add_argument(
        "--day-starts-at", default="00:00", metavar="HH:MM", help="for night shifts, e.g. 06:00"
    )
    report.add_argument("--output", type=Path, help="write to this file (default: stdout)")
    report.add_argument(
        "--original", action="store_true", help="as recorded, without the corrections"
    )
    events = command("events", "stored events")
    esub = events.add_subparsers(dest="action", metavar="ACTION", required=True)
    export = command("export", "print stored events as JSON lines (corrected times, UTC)", esub)
    export.add_argument("--agent", metavar="LOGIN")
    export.add_argument(
        "--from", dest="first", metavar="DATE", help="first local day, e.g. 2026-11-01"
    )
    export.add_argument("--to", dest="last", metavar="DATE", help="last local day (included)")
    export.add_argument("--tz", default="Europe/Paris", help="the site's time zone for days")

    user = command("user", "people")
    usub = user.add_subparsers(dest="action", metavar="ACTION", required=True)
    uadd = command("add", "add a person (prints a one-time password unless --password-stdin)", usub)
    uadd.add_argument("login")
    uadd.add_argument("--name", required=True)
    uadd.add_argument("--role", required=True, choices=["agent", "lead", "admin"])
    uadd.add_argument(
        "--plateau",
        action="append",
        default=[],
        help="a plateau the person belongs to (repeatable)",
    )
    uadd.add_argument("--password-stdin", action="store_true")
    uimport = command(
        "import", "add people from a CSV file (login;name;role;plateaux): all or nothing", usub
    )
    uimport.add_argument("csv_file", type=Path)
    ulist = command("list", "list people", usub)
    ulist.add_argument("--json", action="store_true")
    ureset = command(
        "reset-password", "set a new password (one-time unless --password-stdin)", usub
    )
    ureset.add_argument("login")
    ureset.add_argument("--password-stdin", action="store_true")
    udisable = command("disable", "disable a person and revoke their tokens at once", usub)
    udisable.add_argument("login")
    uenable = command("enable", "let a disabled person sign in again", usub)
    uenable.add_argument("login")
    uerase = command(
        "erase",
        "erase a person (GDPR): name, login, password, notes and reasons go; their counted "
        "time stays in the totals under a pseudonym. Cannot be undone",
        usub,
    )
    uerase.add_argument("login")
    uerase.add_argument("--yes", action="store_true", help="really (required: no prompt)")
    uset = command(
        "set",
        "change a person's name, role or plateaux (a new role or plateaux revokes their tokens)",
        usub,
    )
    uset.add_argument("login")
    uset.add_argument("--name")
    uset.add_argument("--role", choices=["agent", "lead", "admin"])
    uset.add_argument(
        "--plateau",
        action="append",
        default=None,
        help="the plateaux the person belongs to, replacing theirs (repeatable)",
    )
    return parser


def resolve_db_url(args: argparse.Namespace, environ: dict[str, str] | None = None) -> str:
    from app.server.db import default_url  # noqa: PLC0415

    env = os.environ if environ is None else environ
    url = getattr(args, "db", None) or env.get("BANDEAU_DB_URL")
    if url:
        return str(url)
    data_dir = getattr(args, "data_dir", None) or env.get("BANDEAU_SERVER_DATA_DIR")
    base = (
        Path(data_dir)
        if data_dir
        else Path(platformdirs.user_data_dir("bandeau-server", appauthor=False))
    )
    return default_url(base.expanduser().absolute())


def main(argv: Sequence[str] | None = None) -> int:
    from app.pipes import tolerate_closed_stdout  # noqa: PLC0415

    # What the store writes (its SQLite file and -wal/-shm) is the server's user's alone
    # (given back after: a caller in the same process keeps its own).
    previous = os.umask(0o077)
    try:
        return tolerate_closed_stdout(lambda: _main(argv))
    finally:
        os.umask(previous)


def _main(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    from sqlalchemy.exc import SQLAlchemyError  # noqa: PLC0415

    from app.server.db import make_engine  # noqa: PLC0415
    from app.server.directory import DirectoryError  # noqa: PLC0415
    from app.server.security import WeakPassword  # noqa: PLC0415

    url = resolve_db_url(args)
    try:
        engine = make_engine(url)
    except (ValueError, SQLAlchemyError) as exc:
        return _fail(f"cannot use the store {_safe(url)}: {exc}", EXIT_USAGE)
    try:
        return _dispatch(args, engine)
    except (DirectoryError, WeakPassword) as exc:
        return _fail(str(exc), EXIT_REFUSED)
    except StoreNotReady as exc:
        return _fail(str(exc), EXIT_REFUSED)
    except SQLAlchemyError as exc:
        reason = getattr(exc, "orig", None) or exc
        return _fail(f"the store {_safe(url)} failed: {reason}", EXIT_REFUSED)
    finally:
        engine.dispose()


class StoreNotReady(Exception):
    """The store has not been created or migrated."""


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    from sqlalchemy.engine import make_url  # noqa: PLC0415

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # a malformed URL: say so without echoing it
        return "(malformed database URL)"


def _fail(message: str, code: int) -> int:
    print(f"bandeau-server: {message}", file=sys.stderr)
    return code


def _read_password() -> str:
    line = sys.stdin.readline()
    if not line:
        raise StoreNotReady("--password-stdin: nothing on standard input")
    return line.rstrip("\r\n")


def _dispatch(args: argparse.Namespace, engine: Any) -> int:
    from app.server import directory as d  # noqa: PLC0415
    from app.server import migrate  # noqa: PLC0415
    from app.server import security as sec  # noqa: PLC0415

    if args.command == "serve":
        return _serve(args, engine)
    if args.command in ("backup", "restore"):
        return _backup(args, engine)
    if args.command in ("init", "migrate"):
        revision = migrate.upgrade(engine)
        if args.command == "init" and args.admin:
            password = _read_password() if args.password_stdin else sec.one_time_password()
            sec.check_password_rules(password)
            with engine.begin() as conn:
                d.add_person(
                    conn,
                    d.NewPerson(args.admin, args.name or args.admin, "admin", ()),
                    password_hash=sec.hash_password(password),
                )
            if not args.password_stdin:
                print(f"{args.admin.lower()}\t{password}")
        print(f"store ready at schema {revision}", file=sys.stderr)
        return EXIT_OK
    if migrate.current(engine) != migrate.head():
        raise StoreNotReady(
            "the store is not created or not up to date: run "
            "`bandeau-server init` (or `migrate`) first"
        )
    if args.command == "events":
        return _export(args, engine)
    if args.command == "report":
        return _report(args, engine)
    if args.command == "purge":
        return _purge(args, engine)
    with engine.begin() as conn:
        if args.command == "plateau":
            if args.action == "add":
                d.add_plateau(conn, name=args.name, pause_threshold_s=args.pause_threshold * 60)
                return EXIT_OK
            if args.action == "set":
                d.set_plateau(
                    conn,
                    args.name,
                    pause_threshold_s=None
                    if args.pause_threshold is None
                    else args.pause_threshold * 60,
                    labels=_pairs(args.label, "--label"),
                    colours=_pairs(args.colour, "--colour"),
                )
                return EXIT_OK
            if args.action == "rename":
                d.rename_plateau(conn, name=args.name, new_name=args.new_name)
                return EXIT_OK
            return _print_rows(
                d.list_plateaux(conn), args.json, ["name", "pause_threshold_s", "people", "keys"]
            )
        if args.command == "activity":
            if args.action == "add":
                d.add_activity(conn, name=args.name, plateau=args.plateau)
                return EXIT_OK
            if args.action == "rename":
                d.rename_activity(
                    conn, plateau=args.plateau, name=args.name, new_name=args.new_name
                )
                return EXIT_OK
            if args.action in ("retire", "restore"):
                d.set_activity_active(
                    conn, plateau=args.plateau, name=args.name, active=args.action == "restore"
                )
                return EXIT_OK
            return _print_rows(
                d.list_activities(conn, plateau=args.plateau),
                args.json,
                ["plateau", "name", "active"],
            )
        return _user(args, conn, d, sec)


def _serve(args: argparse.Namespace, engine: Any) -> int:
    import logging  # noqa: PLC0415
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError  # noqa: PLC0415

    import uvicorn  # noqa: PLC0415

    from app.server import migrate  # noqa: PLC0415
    from app.server.api import ServerConfig, create_app  # noqa: PLC0415
    from app.server.clock import running_from, system_now_ms  # noqa: PLC0415
    from app.server.serving import StoreServer, serve_workers  # noqa: PLC0415

    if not 0.1 <= args.stream_keepalive <= 300:
        return _fail("--stream-keepalive: from 0.1 to 300 seconds", EXIT_USAGE)
    if not 0 <= args.keep_days <= 400:
        return _fail("--keep-days: from 0 to 400", EXIT_USAGE)
    if not 1 <= args.workers <= 64:
        return _fail("--workers: from 1 to 64", EXIT_USAGE)
    if args.workers > 1 and not hasattr(os, "fork"):
        return _fail("--workers: more than one needs a POSIX system (fork)", EXIT_USAGE)
    try:
        ZoneInfo(args.tz)
    except (ZoneInfoNotFoundError, ValueError):
        return _fail(f"--tz: unknown time zone {args.tz!r} (e.g. Europe/Paris)", EXIT_USAGE)
    clock = system_now_ms
    if args.clock_start is not None:
        start_ms = _instant_ms(args.clock_start)
        if start_ms is None:
            return _fail(
                "--clock-start: an instant with its offset (2026-11-27T09:00:00+01:00) "
                "or milliseconds since 1970",
                EXIT_USAGE,
            )
        clock = running_from(start_ms)
    revision = migrate.upgrade(engine)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    url = engine.url.render_as_string(hide_password=False)
    # Bind first: once the line below is printed, connections queue until uvicorn takes them.
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY on accepted connections only then,
    # and without it every answer waits ~40 ms for a delayed ACK (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((args.host, args.port))
    except OSError as exc:
        sock.close()
        return _fail(f"cannot listen on {args.host}:{args.port}: {exc}", EXIT_REFUSED)
    sock.listen(1024)
    port = sock.getsockname()[1]
    if args.clock_start is not None:
        print(
            f"bandeau-server: the store's clock runs from {args.clock_start}, "
            "not the system's (--clock-start)",
            file=sys.stderr,
        )
    print(
        f"bandeau-server: store at schema {revision}, serving on http://{args.host}:{port}",
        file=sys.stderr,
        flush=True,
    )

    def make_server(slot: int) -> StoreServer:
        app = create_app(
            ServerConfig(
                url,
                migrate_on_start=False,
                zone=args.tz,
                keepalive_s=args.stream_keepalive,
                keep_days=args.keep_days,
                clock=clock,
                retention_days=max(0, args.retention_days),
                forget_names=args.forget_names,
                # The background jobs (kept days' figures, retention) run in one worker.
                background_jobs=slot == 0,
                worker=slot if args.workers > 1 else None,
                own_process=True,
            )
        )
        return StoreServer(uvicorn_config(app), app)

    def uvicorn_config(app: Any) -> uvicorn.Config:
        return uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            # A client's address (the sign-in lockout is per login and address) is the peer's,
            # unless the peer is a trusted reverse proxy: then its X-Forwarded-For. Never
            # trusted by default: a client could otherwise name a new address at every try.
            proxy_headers=bool(args.trusted_proxy),
            forwarded_allow_ips=",".join(args.trusted_proxy) if args.trusted_proxy else None,
            # The live streams are ended first (StoreServer); this bounds the requests in flight.
            timeout_graceful_shutdown=GRACEFUL_S,
            # An idle connection is kept longer than a client keeps it (httpx: 5 s), so that
            # the client always drops it first: a request never goes out on a connection the
            # server is closing at that very moment (a ReadError for the bar, seen under load).
            timeout_keep_alive=KEEP_ALIVE_S,
        )

    engine.dispose()  # each worker opens its own connections
    if args.workers == 1:
        make_server(0).run(sockets=[sock])
        return EXIT_OK
    return serve_workers(sock, make_server, args.workers, grace_s=GRACEFUL_S + 5)


GRACEFUL_S = 10  # how long a stopping server waits for the requests in flight
KEEP_ALIVE_S = 20


def _instant_ms(text: str) -> int | None:
    """An instant given on the command line: ISO 8601 with its UTC offset, or epoch ms."""
    from datetime import datetime  # noqa: PLC0415

    if text.isdigit():
        return int(text)
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        return None
    if instant.tzinfo is None:
        return None  # a local time without its offset is ambiguous
    return int(instant.timestamp() * 1000)


def _report(args: argparse.Namespace, engine: Any) -> int:
    from app.server import directory as d  # noqa: PLC0415
    from app.server import reports  # noqa: PLC0415
    from app.server.clock import system_now_ms  # noqa: PLC0415

    period = reports.parse_period(args.first, args.last, args.tz, args.day_starts_at)
    with engine.connect() as conn:
        plateau = d.plateau_id(conn, args.plateau)
    rows = reports.roll_up(
        reports.compute(
            engine,
            period=period,
            now_ms=system_now_ms(),
            plateau_ids=[plateau],
            original=args.original,
        ),
        args.by,
    )
    if args.format == "json":
        text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in reports.as_dicts(rows))
    else:
        text = reports.to_csv(
            rows,
            by=args.by,
            separator=args.separator,
            decimal_comma=args.decimal_comma,
            lang=args.lang,
        )
    if args.output is not None:
        try:
            args.output.write_text(text, encoding="utf-8", newline="")
        except OSError as exc:
            return _fail(f"cannot write {args.output}: {exc}", EXIT_REFUSED)
        print(f"{len(rows)} row(s) written to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _backup(args: argparse.Namespace, engine: Any) -> int:
    import sqlite3  # noqa: PLC0415

    from app.server import backup  # noqa: PLC0415

    url = engine.url.render_as_string(hide_password=False)
    engine.dispose()
    try:
        if args.command == "backup":
            events = backup.backup(url, args.file)
            print(f"backed up the store ({events} events) to {args.file}", file=sys.stderr)
            return EXIT_OK
        if not args.yes:
            return _fail("restore replaces the store: add --yes to restore", EXIT_REFUSED)
        events = backup.restore(url, args.file)
    except backup.BackupRefused as exc:
        return _fail(str(exc), EXIT_REFUSED)
    except (sqlite3.Error, OSError) as exc:
        return _fail(f"cannot copy: {exc}", EXIT_REFUSED)
    from app.server import migrate  # noqa: PLC0415
    from app.server.db import make_engine  # noqa: PLC0415

    restored = make_engine(url)
    try:
        revision = migrate.upgrade(restored)  # a backup from an older version moves forward
    finally:
        restored.dispose()
    print(
        f"restored {args.file} ({events} events), at schema {revision}; the store as it "
        "was is kept beside it (.before-restore)",
        file=sys.stderr,
    )
    return EXIT_OK


def _purge(args: argparse.Namespace, engine: Any) -> int:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError  # noqa: PLC0415

    from app.server import retention  # noqa: PLC0415
    from app.server.clock import system_now_ms  # noqa: PLC0415

    if args.retention_days < 1:
        return _fail("--retention-days: at least 1", EXIT_USAGE)
    try:
        zone = ZoneInfo(args.tz)
    except (ZoneInfoNotFoundError, ValueError):
        return _fail(f"--tz: unknown time zone {args.tz!r}", EXIT_USAGE)
    done = retention.purge(
        engine,
        days=args.retention_days,
        zone=zone,
        now_ms=system_now_ms(),
        forget_names=args.forget_names,
        dry_run=args.dry_run,
    )
    verb = "would remove" if args.dry_run else "removed"
    print(
        f"{verb} {done.events} event(s), {done.corrections} correction(s), "
        f"{done.heartbeats} heartbeat(s), {done.tokens} revoked token(s) from before "
        f"{_iso(done.before_ms)}; {done.erased} person(s) erased",
        file=sys.stderr,
    )
    return EXIT_OK


def _iso(ms: int) -> str:
    from datetime import UTC, datetime  # noqa: PLC0415

    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds")


def _export(args: argparse.Namespace, engine: Any) -> int:
    from zoneinfo import ZoneInfoNotFoundError  # noqa: PLC0415

    from app.server.export import export_events, parse_day  # noqa: PLC0415

    first = parse_day(args.first, "--from") if args.first else None
    last = parse_day(args.last, "--to") if args.last else None
    if first and last and last < first:
        return _fail("--to is before --from", EXIT_USAGE)
    try:
        rows = export_events(engine, agent=args.agent, first=first, last=last, zone=args.tz)
        count = 0
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
            count += 1
    except (ZoneInfoNotFoundError, ValueError) as exc:
        if isinstance(exc, ZoneInfoNotFoundError) or "time zone" in str(exc).lower():
            return _fail(f"--tz: unknown time zone {args.tz!r}", EXIT_USAGE)
        raise
    print(f"exported {count} events", file=sys.stderr)
    return EXIT_OK


def _user(args: argparse.Namespace, conn: Any, d: Any, sec: Any) -> int:
    if args.action == "add":
        password = _read_password() if args.password_stdin else sec.one_time_password()
        sec.check_password_rules(password)
        person = d.NewPerson(args.login, args.name, args.role, tuple(args.plateau))
        d.add_person(
            conn,
            person,
            password_hash=sec.hash_password(password),
            must_change_password=not args.password_stdin,
        )
        if not args.password_stdin:
            print(f"{args.login.lower()}\t{password}")
        return EXIT_OK
    if args.action == "import":
        try:
            lines = args.csv_file.read_text(encoding="utf-8-sig").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise d.DirectoryError(f"cannot read {args.csv_file}: {exc}") from exc
        numbered, problems = d.parse_people_csv(lines)
        problems += d.import_problems(conn, numbered)
        if problems:  # every one at once, in line order: the file is fixed in one go
            problems.sort(key=lambda text: int(text.split()[1].rstrip(":")))
            raise d.DirectoryError(
                f"{len(problems)} problem(s), nobody imported:\n" + "\n".join(problems)
            )
        people = [person for _n, person in numbered]
        passwords = [sec.one_time_password() for _ in people]
        d.add_people(
            conn, people, [sec.hash_password(p) for p in passwords], must_change_password=True
        )
        for person, password in zip(people, passwords, strict=True):
            print(f"{person.login}\t{password}")
        print(
            f"imported {len(people)} people (one-time passwords: changed at first sign-in)",
            file=sys.stderr,
        )
        return EXIT_OK
    if args.action == "list":
        return _print_rows(
            d.list_people(conn), args.json, ["login", "name", "role", "plateaux", "disabled"]
        )
    if args.action == "reset-password":
        password = _read_password() if args.password_stdin else sec.one_time_password()
        sec.check_password_rules(password)
        d.set_password(
            conn,
            login=args.login,
            password_hash=sec.hash_password(password),
            must_change_password=not args.password_stdin,
        )
        if not args.password_stdin:
            print(f"{args.login.lower()}\t{password}")
        return EXIT_OK
    if args.action == "erase":
        if not args.yes:
            raise d.DirectoryError("user erase cannot be undone: add --yes to erase")
        pseudonym = d.erase_person(conn, login=args.login)
        print(f"erased {args.login}: their time stays as {pseudonym}", file=sys.stderr)
        return EXIT_OK
    if args.action == "enable":
        d.enable_person(conn, login=args.login)
        print(f"enabled {args.login}: they may sign in again", file=sys.stderr)
        return EXIT_OK
    if args.action == "set":
        if args.name is None and args.role is None and args.plateau is None:
            raise d.DirectoryError("user set: nothing to change (--name, --role, --plateau)")
        revoked = d.set_person(
            conn, login=args.login, name=args.name, role=args.role, plateaux=args.plateau
        )
        if revoked:
            print(
                f"changed {args.login}; {revoked} token(s) revoked: they sign in again",
                file=sys.stderr,
            )
        return EXIT_OK
    revoked = d.disable_person(conn, login=args.login)
    print(f"disabled {args.login}; {revoked} token(s) revoked", file=sys.stderr)
    return EXIT_OK


def _pairs(given: list[str], option: str) -> dict[str, str]:
    from app.server.directory import DirectoryError  # noqa: PLC0415

    pairs: dict[str, str] = {}
    for item in given:
        key, sep, value = item.partition("=")
        if not sep:
            raise DirectoryError(f"{option} {item!r}: expected KEY=VALUE, e.g. off=Formation")
        pairs[key.strip()] = value
    return pairs


def _print_rows(rows: list[dict[str, Any]], as_json: bool, columns: list[str]) -> int:
    if as_json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
        return EXIT_OK
    for row in rows:
        cells = []
        for col in columns:
            value = row[col]
            cells.append("|".join(value) if isinstance(value, list) else str(value))
        print("\t".join(cells))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
