"""`bandeau demo`: an embedded store, a simulated plateau, a real bar signed in as a demo
agent, and the lead's live panel — in one command.

Everything lives in a demo data dir (its own store, journal and settings), never in the
agent's real ones. The passwords are random for each run; they are printed on the terminal
of whoever runs the demo (so that a second bar can sign in as one of its people), and are
good only while it runs.
"""

from __future__ import annotations

import logging
import secrets
import socket
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.config import Places, load_settings, set_in_file, write_defaults_if_missing

if TYPE_CHECKING:
    from app.account import SignedIn
    from app.ui.bar import Bar

log = logging.getLogger(__name__)

PLATEAU = "Plateau Démo"
ACTIVITIES = ["Assurance Auto", "Banque Pro"]
FIRST_NAMES = [
    "Amandine",
    "Bilal",
    "Camille",
    "David",
    "Émilie",
    "Farid",
    "Gaëlle",
    "Hugo",
    "Inès",
    "Julien",
    "Karima",
    "Lucas",
    "Manon",
    "Nicolas",
    "Océane",
    "Pierre",
    "Quentin",
    "Rose",
    "Sébastien",
    "Thi Thu",
    "Ulysse",
    "Valérie",
    "Wassim",
    "Yasmine",
    "Zoé",
]
SURNAMES = [
    "Roux",
    "Haddad",
    "Lefèvre",
    "Nguyen",
    "Girard",
    "Benali",
    "Morel",
    "Petit",
    "Moreau",
    "Faure",
    "Saïdi",
    "Bernard",
    "Robert",
    "Dubois",
    "Laurent",
    "Simon",
    "Michel",
    "Garcia",
]


def agent_name(n: int) -> str:
    """The n-th simulated agent's name: no two alike among the first 450."""
    first, rank = n % len(FIRST_NAMES), n // len(FIRST_NAMES)
    return f"{FIRST_NAMES[first]} {SURNAMES[(first + rank) % len(SURNAMES)]}"


DEMO_AGENT = ("vous", "Vous (démo)")
LEAD = ("lea", "Léa Martin")


@dataclass(frozen=True, slots=True)
class DemoStore:
    url: str
    passwords: dict[str, str]  # login → password, for this process only


def prepare_store(data_dir: Path, agents: int) -> DemoStore:
    """Create (or migrate) the demo store and its people, with fresh random passwords."""
    from sqlalchemy import select  # noqa: PLC0415

    from app.server import migrate  # noqa: PLC0415
    from app.server import models as m  # noqa: PLC0415
    from app.server.db import default_url, make_engine  # noqa: PLC0415
    from app.server.directory import (  # noqa: PLC0415
        NewPerson,
        add_activity,
        add_person,
        add_plateau,
    )
    from app.server.security import hash_password  # noqa: PLC0415

    url = default_url(data_dir)
    engine = make_engine(url)
    migrate.upgrade(engine)
    people = [(f"agent{n:02d}", agent_name(n), "agent") for n in range(1, agents + 1)]
    people += [(DEMO_AGENT[0], DEMO_AGENT[1], "agent"), (LEAD[0], LEAD[1], "lead")]
    passwords = {login: secrets.token_urlsafe(18) for login, _name, _role in people}
    with engine.begin() as conn:
        if (
            conn.execute(select(m.plateaux.c.id).where(m.plateaux.c.name == PLATEAU)).first()
            is None
        ):
            add_plateau(conn, name=PLATEAU, pause_threshold_s=10 * 60)
            for activity in ACTIVITIES:
                add_activity(conn, name=activity, plateau=PLATEAU)
        known = set(conn.execute(select(m.people.c.login)).scalars())
        for login, name, role in people:
            digest = hash_password(passwords[login])
            if login in known:
                conn.execute(
                    m.people.update().where(m.people.c.login == login).values(password_hash=digest)
                )
            else:
                add_person(conn, NewPerson(login, name, role, (PLATEAU,)), password_hash=digest)
    engine.dispose()
    return DemoStore(url, passwords)


class EmbeddedServer(threading.Thread):
    """The store's HTTP service on loopback, in a thread of this process."""

    def __init__(self, url: str) -> None:
        super().__init__(name="bandeau-demo-server", daemon=True)
        import uvicorn  # noqa: PLC0415

        from app.server.api import ServerConfig, create_app  # noqa: PLC0415
        from app.server.serving import StoreServer  # noqa: PLC0415

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(256)
        self.base_url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        app = create_app(ServerConfig(url, migrate_on_start=False))
        config = uvicorn.Config(
            app, log_level="warning", access_log=False, timeout_graceful_shutdown=2
        )
        self.server = StoreServer(config, app)

    def run(self) -> None:
        self.server.run(sockets=[self.sock])

    def wait_started(self, timeout_s: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout_s
        pause = threading.Event()
        while not self.server.started and self.is_alive() and time.monotonic() < deadline:
            pause.wait(0.02)
        return bool(self.server.started)

    def stop(self) -> None:
        self.server.stop_soon()
        self.join(15)
        self.sock.close()


def run_demo(data_dir: Path, *, agents: int = 12, speed: float = 30.0) -> int:
    """Run the demo until its bar is quit (or Ctrl+C); return the exit code. The caller
    has checked that there is a display (app.ui.app.display_problem)."""
    from app.sim import PlateauSimulator  # noqa: PLC0415
    from app.ui.app import run_bar  # noqa: PLC0415

    data_dir.mkdir(parents=True, exist_ok=True)
    print(f"bandeau demo: data in {data_dir}", file=sys.stderr)
    store = prepare_store(data_dir / "store", agents)
    server = EmbeddedServer(store.url)
    server.start()
    if not server.wait_started():
        print("bandeau demo: the embedded server did not start", file=sys.stderr)
        server.stop()
        return 2
    print(f"bandeau demo: store serving on {server.base_url}", file=sys.stderr)
    print(sign_in_sheet(server.base_url, store.passwords), file=sys.stderr)
    simulated = [(f"agent{n:02d}", store.passwords[f"agent{n:02d}"]) for n in range(1, agents + 1)]
    simulator = PlateauSimulator(server.base_url, simulated, ACTIVITIES, speed=speed)
    simulator.start()
    simulator.ready.wait(30)

    places = Places(data_dir=data_dir / "bar", config_file=data_dir / "bar" / "bandeau.toml")
    places.data_dir.mkdir(parents=True, exist_ok=True)
    write_defaults_if_missing(places.config_file)
    set_in_file(places.config_file, "agent.name", "poste-demo")
    set_in_file(places.config_file, "server.url", server.base_url)
    settings = load_settings(places.config_file)
    keep: dict[str, Any] = {}

    def on_ready(bar: Bar) -> None:
        from app.domain.clock import SystemClock  # noqa: PLC0415
        from app.ui.panel import Panel  # noqa: PLC0415

        # The demo's passwords are for this process only: the tokens stay in memory.
        agent = sign_in_in_memory(
            server.base_url, DEMO_AGENT[0], store.passwords[DEMO_AGENT[0]], bar
        )
        bar.desk.take_sign_in(agent, send_local=False)
        lead = sign_in_in_memory(server.base_url, LEAD[0], store.passwords[LEAD[0]], bar)
        panel = Panel(SystemClock(), title=f"Bandeau — {PLATEAU} ({LEAD[1]})")
        panel.connect_stream(server.base_url, lead.token)
        panel.show()
        keep["panel"] = panel

    try:
        return run_bar(places, settings, on_ready=on_ready)
    finally:
        panel = keep.get("panel")
        if panel is not None:
            panel.stop()
        simulator.stop()
        server.stop()
        print("bandeau demo: stopped", file=sys.stderr)


def sign_in_sheet(server: str, passwords: dict[str, str]) -> str:
    """Who a second bar (or a second panel) can sign in as, for this run of the demo."""
    roles = {LEAD[0]: f"lead — {LEAD[1]}", DEMO_AGENT[0]: f"agent — {DEMO_AGENT[1]} (this bar)"}
    lines = [
        f"bandeau demo: to sign in from another bar, server {server}, for this run only:",
    ]
    for login in [LEAD[0], DEMO_AGENT[0], *sorted(set(passwords) - {LEAD[0], DEMO_AGENT[0]})]:
        if login in passwords:
            lines.append(f"  {login:<10} {passwords[login]}  {roles.get(login, 'simulated agent')}")
    return "\n".join(lines)


def sign_in_in_memory(server: str, login: str, password: str, bar: Bar) -> SignedIn:
    """Sign in without the keyring: a demo token must not outlive the demo."""
    from app.account import Account, SignedIn, profile_activities, sign_in  # noqa: PLC0415

    token, me = sign_in(server, login, password, bar.desk.recorder.journal.device_id)
    return SignedIn(Account(server, login), token, me, profile_activities(me), "demo only")
