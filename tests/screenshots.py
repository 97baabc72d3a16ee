"""Render the bar in its main states to PNG files (for the README and for looking at it).

Run: .venv/bin/python -m tests.screenshots [OUTPUT_DIR]   (default: resources/screenshots)
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication

from app.config import Settings
from app.domain.clock import FakeClock
from app.domain.events import Key
from app.journal import Journal
from app.recording import Recorder
from app.ui import wording
from app.ui.bar import Bar
from app.ui.bridge import make_desk
from app.ui.dialogs import SettingsDialog
from app.ui.i18n import Translations
from app.ui.signin import SignInDialog, WelcomeDialog
from app.ui.theme import stylesheet

MORNING_MS = 1_795_766_400_000  # 2026-11-27 09:00 Europe/Paris
AGENTS = 60  # the plateau of the panel and wallboard shots (the 60 agents)


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("resources/screenshots")
    out.mkdir(parents=True, exist_ok=True)
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication([])
    app.setStyleSheet(stylesheet())
    translations = Translations()
    with tempfile.TemporaryDirectory() as tmp:
        for language in ("fr", "en"):
            translations.apply(language)
            clock = FakeClock(MORNING_MS, "Europe/Paris")
            journal = Journal(Path(tmp) / f"{language}.sqlite3")
            recorder = Recorder(
                journal, clock, agent="marie", activities=["Assurance Auto", "Banque Pro"]
            )
            recorder.start()
            bar = Bar(make_desk(recorder, Settings()), Settings())
            bar.show()
            app.processEvents()
            bar.grab().save(str(out / f"bar-unclassified-{language}.png"))
            clock.advance(4 * 60_000)
            bar.press(Key.PRODUCTION)
            clock.advance(2 * 3_600_000 + 13 * 60_000)
            bar.press(Key.OFF, "formation")
            clock.advance(35 * 60_000)
            bar.press(Key.PAUSE)
            clock.advance(7 * 60_000 + 42_000)
            bar.tick()
            app.processEvents()
            bar.grab().save(str(out / f"bar-pause-{language}.png"))
            bar.press(Key.OFF)
            clock.advance(59 * 60_000 + 59_000)  # the widest a time in status gets
            bar.tick()
            app.processEvents()
            bar.grab().save(str(out / f"bar-off-{language}.png"))
            bar.end_shift()
            bar.tick()
            app.processEvents()
            bar.grab().save(str(out / f"bar-ended-{language}.png"))
            bar.show_problem(bar.tr("Not recorded!"), "", transient=True)
            app.processEvents()
            bar.grab().save(str(out / f"bar-problem-{language}.png"))
            dialog = SignInDialog(server="https://bandeau.example.fr", local_events=3)
            dialog.show()
            app.processEvents()
            dialog.grab().save(str(out / f"signin-{language}.png"))
            for name, code, params in (
                ("wrong", "wrong_credentials", {}),
                (
                    "unreachable",
                    "unreachable",
                    {"address": "https://bandeau.site.fr:8750", "reason": "tls"},
                ),
                ("locked", "locked", {"seconds": 284}),
                ("address", "bad_address", {"address": "bandeau site"}),
            ):
                dialog.show_error(wording.problem(code, params))
                app.processEvents()
                dialog.grab().save(str(out / f"signin-error-{name}-{language}.png"))
            dialog.ask_keep_in_memory("no safe keyring backend (keyring.backends.fail)")
            app.processEvents()
            dialog.grab().save(str(out / f"signin-no-keyring-{language}.png"))
            dialog.close()
            welcome = WelcomeDialog(server="https://bandeau.example.fr", language=language)
            welcome.show()
            app.processEvents()
            welcome.grab().save(str(out / f"welcome-{language}.png"))
            welcome.show_error(wording.problem("locked", {"seconds": 284}))
            app.processEvents()
            welcome.grab().save(str(out / f"welcome-error-locked-{language}.png"))
            welcome.close()
            settings_dialog = SettingsDialog(Path(tmp) / "bandeau.toml", Settings().values)
            settings_dialog.show()
            app.processEvents()
            settings_dialog.grab().save(str(out / f"settings-{language}.png"))
            settings_dialog.close()
            bar.stop()
            journal.close()
        panel_shots(app, out, Path(tmp))
    print(f"screenshots written to {out}")


def panel_shots(app: QApplication, out: Path, tmp: Path) -> None:
    """The panel, a day view and the wallboard, from the demo's store and simulator."""
    import time
    import uuid as uuidlib

    from app.demo import ACTIVITIES, LEAD, EmbeddedServer, prepare_store
    from app.domain.clock import SystemClock
    from app.sim import PlateauSimulator
    from app.ui.panel import Panel

    translations = Translations()
    translations.apply("fr")
    store = prepare_store(tmp / "store", AGENTS)
    server = EmbeddedServer(store.url)
    server.start()
    server.wait_started()
    agents = [(f"agent{n:02d}", store.passwords[f"agent{n:02d}"]) for n in range(1, AGENTS + 1)]
    simulator = PlateauSimulator(server.base_url, agents, ACTIVITIES, speed=30, seed=7)
    simulator.start()
    simulator.ready.wait(30)
    import httpx

    token = httpx.post(
        f"{server.base_url}/v1/signin",
        json={"login": LEAD[0], "password": store.passwords[LEAD[0]]},
    ).json()["token"]
    from PySide6.QtCore import QEventLoop

    def open_panel() -> Panel:
        """The lead's panel, once its stream has brought every agent."""
        opened = Panel(SystemClock(), title="Bandeau — Plateau Démo")
        opened.resize(1180, 560)
        opened.show()
        opened.connect_stream(server.base_url, token)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len(opened.model.agents) < AGENTS + 2:
            app.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents, 50)
        return opened

    panel = open_panel()
    end = time.monotonic() + 3  # a few live seconds, so that the times tick
    while time.monotonic() < end:
        app.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents, 50)
    panel.refresh()
    app.processEvents()
    panel.grab().save(str(out / "panel-fr.png"))
    # A panel takes the interface's language when it opens: an English lead's, opened so.
    translations.apply("en")
    english = open_panel()
    english.refresh()
    app.processEvents()
    english.grab().save(str(out / "panel-en.png"))
    english.stop()
    english.close()
    translations.apply("fr")
    app.processEvents()
    busiest = max(panel.model.agents.values(), key=lambda a: len(a.events))
    # The lead re-labels 20 minutes of that agent's morning: the day view shows it corrected.
    middle = busiest.events[len(busiest.events) // 3].occurred_at_ms
    httpx.post(
        f"{server.base_url}/v1/corrections",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "uuid": str(uuidlib.uuid4()),
            "agent": busiest.login,
            "from_ms": middle,
            "to_ms": min(middle + 20 * 60_000, time.time_ns() // 1_000_000),
            "key": "off",
            "reason": "formation produit, clic oublié",
        },
    ).raise_for_status()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not busiest.corrections:
        app.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents, 50)
    day = panel.open_day(busiest.login)
    app.processEvents()
    day.grab().save(str(out / "day-fr.png"))
    day.close()
    panel.set_wallboard(True)
    for width, height in ((1920, 1080), (1366, 768)):  # a TV, and a small screen
        panel.showNormal()
        panel.resize(width, height)
        app.processEvents()
        panel.lay_out_wallboard()
        panel.refresh()
        app.processEvents()
        panel.grab().save(str(out / f"wallboard-{width}-fr.png"))
    panel.set_wallboard(False)
    panel.stop()
    panel.close()
    simulator.stop()
    server.stop()
    translations.apply("en")


if __name__ == "__main__":
    main()
